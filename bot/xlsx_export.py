"""The town report as a spreadsheet: one sheet per kind, readable as printed, safe to open.

A donor or a problem text that starts with "=" must stay text: a cell that a spreadsheet would
run as a formula is an injection hole, so every text cell is written as an explicit string. A
control character (which xlsx cannot hold) is dropped, and a text longer than a cell can hold is
cut with a note saying so: the day's spreadsheet can always be made.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from openpyxl import Workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE, Cell
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from handlers import texts
from handlers.town_report import TownReport, acknowledgements

CELL_MAX_CHARS = 32_767  # what Excel holds in one cell


def display_width(value: Any) -> int:
    """Columns a value takes on screen: Chinese characters are two wide."""
    text = "" if value is None else str(value)
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def cell_text(text: str) -> str:
    """The text as a cell can hold it: without control characters, and cut (saying so) at Excel's limit."""
    text = ILLEGAL_CHARACTERS_RE.sub("", text)
    if len(text) <= CELL_MAX_CHARS:
        return text
    note = texts.cell_cut(len(text))
    return text[: CELL_MAX_CHARS - len(note)] + note


def _cell(sheet: Worksheet, value: Any) -> Cell:
    cell = Cell(sheet)
    if isinstance(value, str):
        cell.value = cell_text(value)
        cell.data_type = "s"  # "=…" stays text: openpyxl would otherwise store a formula
    else:
        cell.value = value
    return cell


def add_sheet(book: Workbook, title: str, header: Sequence[str], rows: Sequence[Sequence[Any]]) -> Worksheet:
    sheet = book.create_sheet(title)
    for row in [list(header), *[list(r) for r in rows]]:
        # Whole rows of cells appended at once: asking the sheet for its max_row per cell costs a
        # pass over every cell so far, seconds for a county's thousand villages.
        sheet.append([_cell(sheet, value) for value in row])
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    sheet.freeze_panes = "A2"
    for column, values in enumerate(zip(*([header, *rows]), strict=False), start=1):
        width = max((display_width(v) for v in values), default=8)
        sheet.column_dimensions[get_column_letter(column)].width = min(60, max(8, width + 2))
    return sheet


def write_xlsx(report: TownReport, path: Path) -> None:
    book = Workbook()
    default = book.active
    if default is not None:
        book.remove(default)
    field_ids = list(report.labels)
    add_sheet(
        book,
        "日报",
        ["村/社区", "已报", "迟报", *[report.labels[f] for f in field_ids]],
        [
            [v.name, "是" if v.reported else "否", "是" if v.late else "", *[v.fields.get(f) for f in field_ids]]
            for v in report.villages
        ]
        + [["合计", "", "", *[report.totals.get(f, 0) for f in field_ids]]],
    )
    add_sheet(
        book,
        "卡点预警",
        ["编号", "卡点", "车牌", "人数", "体温", "来自", "去往", "发热", "重点地区"],
        [
            [
                a["id"],
                a["checkpoint"] or "",
                a["plate"] or "步行",
                a["persons"],
                "、".join(f"{t:.1f}" for t in a["temperatures"]),
                a["origin"] or "",
                a["destination"] or "",
                "是" if a["fever"] else "",
                "是" if a["key_area"] else "",
            ]
            for a in report.checkpoint_alerts
        ],
    )
    add_sheet(
        book,
        "捐赠",
        ["捐赠人", "类别", "金额（元）", "物资"],
        [
            [
                d["donor"],
                "单位" if d["organisation"] else "个人",
                d["amount_yuan"],
                "、".join(f"{i['name']}{i['quantity']}{i['unit']}" for i in d["items"]),
            ]
            for d in report.donations_today
        ],
    )
    add_sheet(
        book,
        "督查整改",
        ["编号", "地点", "问题", "发现日期"],
        [[i["id"], i["place"], i["problem"], i["opened"]] for i in report.open_inspections],
    )
    add_sheet(
        book,
        "通知",
        ["编号", "内容", "群数", "已送达", "失败", "待发"],
        [[n["id"], n["body"], n["groups"], n["delivered"], n["failed"], n["pending"]] for n in report.notices],
    )
    add_sheet(
        book,
        "通知回执",
        ["通知编号", "村/社区", "回执（人）"],
        [[n["id"], village, count] for n in report.notices for village, count in acknowledgements(n)],
    )
    cp = report.checkpoints
    add_sheet(
        book,
        "汇总",
        ["项目", "数值"],
        [
            ["日期", report.day.isoformat()],
            ["应报", len(report.villages)],
            ["实报", len(report.villages) - len(report.missing)],
            ["未报", "、".join(report.missing)],
            ["迟报", "、".join(report.late)],
            ["卡点登记（次）", cp["entries"]],
            ["车辆（辆）", cp["vehicles"]],
            ["人员（人）", cp["people"]],
            ["发热（人）", cp["fevers"]],
            ["累计", report.bulletin],
        ],
    )
    book.save(path)
