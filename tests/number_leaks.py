"""The suite-wide watch for whole ID and mobile numbers where they must not be.

After every test that used the `database` fixture, what that test left is scanned: every outgoing
message (the outbox holds all of them, on every platform), the free text stored in records and the
audit log, and the town report, as text, JSON and xlsx, for every day the test wrote something on.
An ID number may appear nowhere; a mobile number only in a notice (a town hotline), which also
covers the notice's body quoted in its audit entry and in the report. Every log record the suite
makes goes through the masking filter the bot installs (`install_log_masking`) and is checked after
it, exceptions included.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import tempfile
from pathlib import Path
from typing import Any

from openpyxl import load_workbook
from sqlalchemy import select

from bot.xlsx_export import write_xlsx
from handlers.clock import ManualClock
from handlers.personal_info import ID_NUMBER, MOBILE, PHONES_SHOWN_IN, MaskingFilter
from handlers.town import Town
from handlers.town_report import build_town_report, render_text
from storage import Database
from storage.models import (
    AuditEntry,
    CheckpointEntry,
    Donation,
    DonationItem,
    InspectionItem,
    Notice,
    OutboxMessage,
    ReportRevision,
    ScheduledNotice,
)
from townconfig import TownConfig

#: Audit actions whose record quotes a notice's body, where a hotline may stand.
_NOTICE_ACTIONS = frozenset({"notice", "schedule_notice"})


def leaks(text: str, *, phones_allowed: bool) -> list[str]:
    found = [f"ID number {m[1]}" for m in ID_NUMBER.finditer(text)]
    if not phones_allowed:
        found += [f"mobile number {m[1]}" for m in MOBILE.finditer(text)]
    return found


async def scan_database(database: Database, config: TownConfig) -> list[str]:
    """Where, in what this test left in the database and its reports, a number shows whole."""
    problems: list[str] = []

    def check(where: str, text: str | None, *, phones_allowed: bool = False) -> None:
        if text:
            problems.extend(f"{where}: {leak} in {text[:120]!r}" for leak in leaks(text, phones_allowed=phones_allowed))

    async with database.session() as session:
        for row in (await session.execute(select(OutboxMessage.text, OutboxMessage.purpose))).all():
            check(f"outgoing {row.purpose}", row.text, phones_allowed=row.purpose in PHONES_SHOWN_IN)
        for item in (await session.scalars(select(InspectionItem))).all():
            check("inspection item", f"{item.place} {item.problem}")
        for donor in (await session.scalars(select(Donation.donor))).all():
            check("donor", donor)
        for name in (await session.scalars(select(DonationItem.name))).all():
            check("donated item", name)
        for entry in (await session.scalars(select(CheckpointEntry))).all():
            check("checkpoint entry", f"{entry.plate} {entry.origin} {entry.destination}")
        for notice in (await session.scalars(select(Notice.body))).all():
            check("notice", notice, phones_allowed=True)
        for scheduled in (await session.scalars(select(ScheduledNotice.body))).all():
            check("scheduled notice", scheduled, phones_allowed=True)
        for audit in (await session.scalars(select(AuditEntry))).all():
            shown = json.dumps([audit.subject, audit.before, audit.after], ensure_ascii=False, default=str)
            check(f"audit {audit.action}", shown, phones_allowed=audit.action in _NOTICE_ACTIONS)
        days: set[dt.date] = set()
        for model in (ReportRevision, Donation, InspectionItem, CheckpointEntry, Notice):
            days.update((await session.scalars(select(model.day).distinct())).all())
    if days:
        problems += await _scan_reports(database, config, sorted(days))
    return problems


async def _scan_reports(database: Database, config: TownConfig, days: list[dt.date]) -> list[str]:
    problems: list[str] = []
    town = Town.build(config, ManualClock(dt.datetime.combine(days[-1], dt.time(12), tzinfo=config.town.zone)))
    for day in days:
        async with database.transaction() as store:
            report = await build_town_report(store, town, day)
        bodies = [n["body"] for n in report.notices]
        outside_notices = _without(render_text(report), bodies)
        as_json = _without(json.dumps(report.to_json(), ensure_ascii=False), [json.dumps(b, ensure_ascii=False)[1:-1] for b in bodies])
        with tempfile.TemporaryDirectory() as folder:
            path = Path(folder) / "report.xlsx"
            write_xlsx(report, path)
            cells = [str(c.value) for sheet in load_workbook(path) for row in sheet.iter_rows() for c in row if c.value]
        for where, text in (
            ("report text", outside_notices),
            ("report json", as_json),
            ("report xlsx", _without("\n".join(cells), bodies)),
        ):
            problems += [f"{where} {day}: {leak}" for leak in leaks(text, phones_allowed=False)]
    return problems


def _without(text: str, quoted: list[str]) -> str:
    for body in quoted:
        if body:
            text = text.replace(body, "«notice»")
    return text


class LeakingRecords(logging.Handler):
    """Every record, after the bot's own masking filter, that still shows a whole number."""

    def __init__(self) -> None:
        super().__init__(level=logging.DEBUG)
        self.addFilter(MaskingFilter())
        self.found: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        shown = record.getMessage() + (record.exc_text or "")
        for leak in leaks(shown, phones_allowed=False):
            self.found.append(f"log {record.name} {record.levelname}: {leak} in {shown[:160]!r}")

    def take(self) -> list[str]:
        found, self.found = self.found, []
        return found


def describe(found: list[Any]) -> str:
    return "whole numbers where they must not be:\n  " + "\n  ".join(map(str, found))
