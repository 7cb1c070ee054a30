"""A donor or a problem text that starts with = must stay text in the spreadsheet."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from chat_harness import Chat
from openpyxl import load_workbook

from bot.xlsx_export import CELL_MAX_CHARS, cell_text, write_xlsx
from handlers.town_report import build_town_report


async def test_no_cell_is_a_formula(chat: Chat, tmp_path: Path) -> None:
    admin = chat.person("leaders", "admin")
    await admin.says('捐赠 =HYPERLINK("http://x") 捐款100元')
    await admin.says("督查 五星村 =1+1 @SUM(A1)")
    async with chat.app.database.transaction() as store:
        report = await build_town_report(store, chat.app.town, dt.date(2020, 2, 17))
    out = tmp_path / "r.xlsx"
    write_xlsx(report, out)
    book = load_workbook(out)
    values = [c for sheet in book for row in sheet.iter_rows() for c in row if c.value is not None]
    assert any(str(c.value).startswith("=HYPERLINK") for c in values)
    assert all(c.data_type != "f" for c in values)


async def test_control_characters_still_make_the_spreadsheet(chat: Chat, tmp_path: Path) -> None:
    """\\x01, \\x0b, \\x1b in a donor, a notice or an inspection made `report --format xlsx` crash."""
    admin = chat.person("leaders", "admin")
    await admin.says("捐赠 张\x01三 捐款100元")
    await admin.says("督查 五星村 垃圾\x0b台未清运\x1b[0m")
    await admin.says("通知：明天\x1b上午开会")
    async with chat.app.database.transaction() as store:
        report = await build_town_report(store, chat.app.town, dt.date(2020, 2, 17))
    out = tmp_path / "r.xlsx"
    write_xlsx(report, out)
    book = load_workbook(out)
    assert book["捐赠"]["A2"].value == "张三" and book["捐赠"]["B2"].value == "个人"
    assert book["督查整改"]["C2"].value == "垃圾台未清运[0m"
    assert book["通知"]["B2"].value == "明天上午开会"
    assert report.to_json()["donations"]["today"][0]["donor"] == "张\x01三"  # JSON holds it as stored


def test_a_text_longer_than_a_cell_is_cut_saying_so() -> None:
    text = "请各村做好防控。" * 5000  # 40,000 characters
    cut = cell_text(text)
    assert len(cut) == CELL_MAX_CHARS and cut.endswith("原文共40000字）") and cut.startswith("请各村做好防控。")
    assert cell_text("短的") == "短的"
