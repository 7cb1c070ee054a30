"""`villagebot report --config county.toml --county` (or `--town ID_OR_NAME`): each town's report
built in that town's own schema, side by side for the county; text, json or xlsx (a sheet per town
plus the county's)."""

from __future__ import annotations

import asyncio
import json
import sys
from pathlib import Path

from openpyxl import Workbook

from handlers.clock import SystemClock
from handlers.county_report import CountyReport, render_county_text
from handlers.town import Town
from handlers.town_report import TownReport, build_town_report, render_text
from storage import Database, DatabaseError
from townconfig import CountyConfig, CountyTown

from .county_app import town_config_in_county
from .report_command import ReportError, parse_day
from .xlsx_export import add_sheet


async def load_town_report(county: CountyConfig, town: CountyTown, day_text: str | None) -> TownReport:
    config = town_config_in_county(county, town)
    built = Town.build(config, SystemClock())
    day = parse_day(day_text, built)
    url, schema = county.town_database(town.id)
    database = Database(url, schema=schema)
    try:
        await database.migrate()
        async with database.transaction() as store:
            return await build_town_report(store, built, day)
    finally:
        await database.close()


async def load_county_report(county: CountyConfig, day_text: str | None) -> CountyReport:
    reports = [(town.id, await load_town_report(county, town, day_text)) for town in county.towns]
    day = reports[0][1].day
    return CountyReport(county.county.name, day, reports)


def write_county_xlsx(report: CountyReport, path: Path) -> None:
    book = Workbook()
    default = book.active
    if default is not None:
        book.remove(default)
    labels = report.labels
    field_ids = list(labels)
    add_sheet(
        book,
        report.county,
        ["乡镇", "应报", "实报", "未报", *[labels[f] for f in field_ids]],
        [
            [town.town, len(town.villages), len(town.villages) - len(town.missing), "、".join(town.missing),
             *[town.totals.get(f, 0) for f in field_ids]]
            for _, town in report.towns
        ]
        + [["合计", report.expected, report.reported, "", *[report.totals.get(f, 0) for f in field_ids]]],
    )  # fmt: skip
    for _, town in report.towns:
        town_fields = list(town.labels)
        add_sheet(
            book,
            town.town,
            ["村/社区", "已报", "迟报", *[town.labels[f] for f in town_fields]],
            [
                [v.name, "是" if v.reported else "否", "是" if v.late else "", *[v.fields.get(f) for f in town_fields]]
                for v in town.villages
            ]
            + [["合计", "", "", *[town.totals.get(f, 0) for f in town_fields]]],
        )
    book.save(path)


def write_county_report(
    county: CountyConfig, *, town: str | None, date: str | None, fmt: str, output: str | None
) -> int:
    if fmt == "xlsx" and output is None:
        print("villagebot: --format xlsx needs --output FILE.xlsx", file=sys.stderr)
        return 2
    try:
        if town is not None:
            chosen = county.town(town)
            if chosen is None:
                known = ", ".join(f"{t.id} ({t.name})" for t in county.towns)
                raise ReportError(f"--town {town!r} is not a town of {county.source}; write one of {known}")
            one = asyncio.run(load_town_report(county, chosen, date))
            if fmt == "xlsx":
                from .xlsx_export import write_xlsx

                assert output is not None
                write_xlsx(one, Path(output))
                return 0
            text = json.dumps(one.to_json(), ensure_ascii=False, indent=2) + "\n" if fmt == "json" else render_text(one)
        else:
            report = asyncio.run(load_county_report(county, date))
            if fmt == "xlsx":
                assert output is not None
                write_county_xlsx(report, Path(output))
                return 0
            text = (
                json.dumps(report.to_json(), ensure_ascii=False, indent=2) + "\n"
                if fmt == "json"
                else render_county_text(report)
            )
    except (ReportError, DatabaseError) as exc:
        print(f"villagebot: {exc}", file=sys.stderr)
        return 2
    if output:
        Path(output).write_text(text, encoding="utf-8")
    else:
        sys.stdout.write(text)
    return 0
