"""The day's routine: remind, chase, sum up at the deadline; scheduled notices.

Each job is a plain async function of (town, database, now). Every message it sends is first
claimed in `scheduled_sends` (day, kind, chat) in the same transaction as its outbox row, so a
job that runs twice, a restart that catches up, or two processes that both think they hold the
clock, still send each message once.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging

from handlers import texts
from handlers.actions.notices import queue_notice
from handlers.actions.progress import template_and_example
from handlers.personal_info import shown
from handlers.town import Town
from handlers.town_report import build_town_report, render_text
from storage import Database, Store
from storage.repos.outbox import PRIORITY_ALERT, PRIORITY_SCHEDULED
from storage.repos.reports import DayReport

from .pictures import send_deadline_pictures

log = logging.getLogger(__name__)


async def _send_once(
    store: Store,
    day: dt.date,
    kind: str,
    chat: str,
    text: str,
    now: dt.datetime,
    *,
    mentions: tuple[str, ...] = (),
    priority: int = PRIORITY_SCHEDULED,
) -> bool:
    claim = await store.scheduled_sends.claim(day, kind, chat, now)
    if claim is None:
        return False
    text = shown(text, kind)
    row = await store.outbox.enqueue(chat=chat, text=text, purpose=kind, at=now, priority=priority, mentions=mentions)
    await store.scheduled_sends.attach(claim, row.id)
    return True


def _deadline_text(town: Town) -> str:
    return town.config.schedule.deadline.strftime("%H:%M")


async def send_reminders(town: Town, database: Database, now: dt.datetime) -> int:
    """Ask every village that has not yet reported today for its report; the number of messages queued."""
    day = town.day_of(now)
    template, _ = template_and_example(town)
    sent = 0
    async with database.transaction() as store:
        reports = await store.reports.all_for_day(day, town.required)
        for village, chats in (await town.directory.village_chats(store)).items():
            if village in reports and reports[village].complete:
                continue
            text = texts.reminder(village, day, template, _deadline_text(town))
            for chat in chats:
                sent += await _send_once(store, day, "remind", chat, text, now)
    return sent


def _missing_labels(town: Town, report: DayReport | None) -> list[str] | None:
    if report is None or not report.revisions:
        return None
    return [town.label(f) for f in town.required if f not in report.fields]


async def send_chase(town: Town, database: Database, now: dt.datetime) -> int:
    """Chase the villages still out, naming what is missing and mentioning their heads; tell the leaders."""
    day = town.day_of(now)
    sent = 0
    async with database.transaction() as store:
        reports = await store.reports.all_for_day(day, town.required)
        missing: list[str] = []
        incomplete: list[str] = []
        for village, chats in (await town.directory.village_chats(store)).items():
            report = reports.get(village)
            if report is not None and report.complete:
                continue
            (incomplete if report is not None else missing).append(village)
            text = texts.chase(village, _missing_labels(town, report), _deadline_text(town))
            heads = tuple(await town.directory.heads_of_village(store, village))
            for chat in chats:
                platform = chat.partition(":")[0]
                mentions = tuple(h for h in heads if h.startswith(f"{platform}:"))
                sent += await _send_once(store, day, "chase", chat, text, now, mentions=mentions)
        leaders_text = (
            texts.chase_leaders(day, missing, incomplete) if missing or incomplete else texts.all_reported(day)
        )
        for chat in await town.directory.leaders_chats(store):
            sent += await _send_once(store, day, "chase", chat, leaders_text, now)
    return sent


async def send_deadline_summary(town: Town, database: Database, now: dt.datetime) -> int:
    """The day's summary to the leaders, and an accountability record for every village still out.

    Three short transactions, not one long one: on SQLite a transaction that has written holds the
    database's only write lock until it commits, and reports arriving at the deadline must not wait
    for the whole report to be built. The records go first and the report is read after them (so it
    shows today's accountability); a crash between the steps is made good by the next run, which
    records nothing twice (the records' key) and sends nothing twice (the claims)."""
    day = town.day_of(now)
    async with database.transaction() as store:
        # Who is still out comes from the day's reports alone.
        reports = await store.reports.all_for_day(day, town.required)
        out = []
        for village in town.directory.village_names:
            report_day = reports.get(village)
            if report_day is None or not report_day.complete:
                out.append((village, report_day is not None and report_day.revisions > 0))
        await store.missed_reports.record_many(day, out, at=now)
    async with database.transaction() as store:  # read only: built once, no lock held meanwhile
        report = await build_town_report(store, town, day)
        leaders = await town.directory.leaders_chats(store)
    text = texts.deadline_summary(render_text(report))
    sent = 0
    async with database.transaction() as store:
        for chat in leaders:
            sent += await _send_once(store, day, "deadline", chat, text, now, priority=PRIORITY_ALERT)
    await send_deadline_pictures(town, database, now, report)  # drawn after the commit; not counted here
    return sent


async def send_config_notices(town: Town, database: Database, now: dt.datetime) -> int:
    """The config's daily [[notice]] entries whose time has come today and that have not gone yet."""
    day = town.day_of(now)
    local = now.astimezone(town.zone).time()
    sent = 0
    for spec in town.config.notices:
        if local < spec.at:
            continue
        async with database.transaction() as store:
            # Keyed by the words, not the time: moving a notice to later today does not send it again.
            key = "notice:" + hashlib.sha1(spec.text.encode("utf-8")).hexdigest()[:12]
            if await store.scheduled_sends.claim(day, key, "*", now) is None:
                continue
            villages = spec.villages or town.directory.village_names
            queued = await queue_notice(store, town, body=spec.text, villages=villages, by="config", at=now)
            sent += queued.groups if queued else 0
    return sent


async def send_due_scheduled_notices(town: Town, database: Database, now: dt.datetime) -> int:
    """Notices that admins scheduled (定时通知) and whose time has come."""
    sent = 0
    async with database.transaction() as store:
        for scheduled in await store.scheduled_notices.due(now):
            villages = scheduled.villages or town.directory.village_names
            queued = await queue_notice(
                store,
                town,
                body=scheduled.body,
                villages=villages,
                by=scheduled.created_by,
                at=now,
                reply_chat=scheduled.chat,
            )
            scheduled.status = "sent"
            scheduled.notice_id = queued.notice_id if queued else None
            groups = queued.groups if queued else 0
            if queued is None:
                reply = texts.notice_no_groups()
            elif groups:
                reply = texts.scheduled_notice_sent(scheduled.id, groups)
            else:
                reply = None  # every village's group removed the bot: the 0/N delivery report, written already, says so
            if reply is not None:
                await store.outbox.enqueue(chat=scheduled.chat, text=shown(reply, "receipt"), purpose="receipt", at=now)
            sent += groups
    return sent


async def catch_up(town: Town, database: Database, now: dt.datetime) -> dict[str, int]:
    """At start: what today still needs. A reminder until the chase time, a chase until the deadline,
    the deadline summary from the deadline on; the claims make a repeat harmless."""
    schedule = town.config.schedule
    local = now.astimezone(town.zone).time()
    done: dict[str, int] = {}
    if schedule.remind <= local < schedule.chase:
        done["remind"] = await send_reminders(town, database, now)
    if local >= schedule.remind:
        done["observation_endings"] = await send_observation_endings(town, database, now)
    if schedule.chase <= local < schedule.deadline:
        done["chase"] = await send_chase(town, database, now)
    if local >= schedule.deadline:
        done["deadline"] = await send_deadline_summary(town, database, now)
    done["notices"] = await send_config_notices(town, database, now)
    done["scheduled"] = await send_due_scheduled_notices(town, database, now)
    return done


async def send_observation_endings(town: Town, database: Database, now: dt.datetime) -> int:
    """Tell each village whose people's observation ends tomorrow, once a day per group."""
    day = town.day_of(now)
    sent = 0
    async with database.transaction() as store:
        ending = await store.people.ending_on(day + dt.timedelta(days=1))
        by_village: dict[str, list[str]] = {}
        for person in ending:
            by_village.setdefault(person.village, []).append(f"#{person.id} {person.name_masked}")
        chats = await town.directory.village_chats(store)
        for village, people in by_village.items():
            text = texts.observation_ending(village, day + dt.timedelta(days=1), people)
            for chat in chats.get(village, []):
                sent += await _send_once(store, day, "observation_ending", chat, text, now)
    return sent
