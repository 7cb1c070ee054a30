"""`villagebot report`: the town's report for a day, as text, JSON, a spreadsheet or a picture
(the day's table; with --trend the 14 days up to it)."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import sys
from pathlib import Path

from handlers.clock import SystemClock, at_local
from handlers.pictures import PictureError, Trend, build_trend, day_table_png, trend_png
from handlers.town import Town
from handlers.town_report import TownReport, build_town_report, render_text
from storage import Database, DatabaseError
from townconfig import TownConfig

from .xlsx_export import write_xlsx


class ReportError(Exception):
    """A report that cannot be made as asked; the message says what to change."""


def parse_day(value: str | None, town: Town) -> dt.date:
    if value is None:
        return town.today()
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise ReportError(f"--date {value!r} is not a date; write it as YYYY-MM-DD, e.g. 2020-02-17") from None


async def load_report(config: TownConfig, day_text: str | None, *, audit: bool = False) -> TownReport:
    town = Town.build(config, SystemClock())
    day = parse_day(day_text, town)
    database = Database(config.database_url)
    try:
        await database.migrate()
        async with database.transaction() as store:
            report = await build_town_report(store, town, day)
            if audit:
                start = at_local(day, dt.time(0), town.zone)
                report.audit = [
                    {
                        "at": e.at.astimezone(town.zone).isoformat(timespec="seconds"),
                        "actor": e.actor,
                        "action": e.action,
                        "subject": e.subject,
                        "before": e.before,
                        "after": e.after,
                    }
                    for e in await store.audit.between(start, start + dt.timedelta(days=1))
                ]
            return report
    finally:
        await database.close()


async def load_trend(config: TownConfig, day_text: str | None) -> Trend:
    town = Town.build(config, SystemClock())
    day = parse_day(day_text, town)
    database = Database(config.database_url)
    try:
        await database.migrate()
        async with database.transaction() as store:
            return await build_trend(store, town, day)
    finally:
        await database.close()


def write_report(
    config: TownConfig, *, date: str | None, fmt: str, output: str | None, audit: bool = False, trend: bool = False
) -> int:
    if fmt in ("xlsx", "png") and output is None:
        print(f"villagebot: --format {fmt} needs --output FILE.{fmt}", file=sys.stderr)
        return 2
    if trend and fmt != "png":
        print("villagebot: --trend is a chart: write --trend --format png --output FILE.png", file=sys.stderr)
        return 2
    try:
        if trend:
            assert output is not None
            Path(output).write_bytes(trend_png(asyncio.run(load_trend(config, date))))
            return 0
        report = asyncio.run(load_report(config, date, audit=audit))
        if fmt == "png":
            assert output is not None
            Path(output).write_bytes(day_table_png(report))
            return 0
    except (ReportError, DatabaseError, PictureError) as exc:
        print(f"villagebot: {exc}", file=sys.stderr)
        return 2
    if fmt == "xlsx":
        assert output is not None
        write_xlsx(report, Path(output))
        return 0
    text = json.dumps(report.to_json(), ensure_ascii=False, indent=2) + "\n" if fmt == "json" else render_text(report)
    if output:
        Path(output).write_text(text, encoding="utf-8")
    else:
        sys.stdout.write(text)
    return 0
