"""What is the county's, done through each town's own machinery: a county notice (`县通知：…` from a
county admin) becomes one notice in every town, with that town's receipts and delivery report; the
county summary is every town's TownReport side by side, posted once after the last town's deadline.

The county keeps no tables of its own: what it sends rides in the outbox of a "host" town, the first
town on the county leaders' account, so the host's sender delivers it and the host's once-only
claims (scheduled_sends) make the summary go once whichever process's clock gets there first.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from storage import Database, Store
from storage.repos.outbox import PRIORITY_ALERT, PRIORITY_REPLY

from . import texts
from .actions.notices import queue_notice
from .county_report import CountyReport, render_county_text
from .messages import IncomingMessage
from .personal_info import has_id_number, shown
from .town import Town
from .town_report import build_town_report

COUNTY_NOTICE = re.compile(r"^\s*/?县通知\s*[:：]?\s*(?P<body>.*)$", re.DOTALL)
SUMMARY_KIND = "county_summary"


@dataclass(frozen=True)
class TownPart:
    """One town as the county's work sees it: its id, its Town and its own database."""

    id: str
    town: Town
    database: Database


def county_notice_body(text: str) -> str | None:
    """The body of a `县通知：…`, or None when the message is not one."""
    match = COUNTY_NOTICE.match(text)
    return match["body"].strip() if match else None


async def send_county_notice(
    towns: Sequence[TownPart], host: TownPart, message: IncomingMessage, body: str
) -> int:
    """Queue the notice in every town (once each: the message is claimed in each town's inbound
    with that town's notice), then answer the county admin from the host. The groups queued now."""
    if not body or has_id_number(body):
        async with host.database.transaction() as store:
            if await _claim(store, message):
                reply = texts.notice_has_id_number() if body else texts.county_notice_empty()
                await store.outbox.enqueue(chat=message.chat, text=reply, purpose="reply", at=host.town.clock.now())
        return 0
    groups, reached = 0, []
    for part in [t for t in towns if t.id != host.id] + [host]:
        async with part.database.transaction() as store:
            if not await _claim(store, message):
                continue
            queued = await queue_notice(
                store, part.town, body=body, villages=part.town.directory.village_names,
                by=message.sender, at=message.at, reply_chat=None,
            )  # fmt: skip
            if queued is not None:
                groups += queued.groups
                reached.append(part.town.name)
            if part is host:
                text = texts.county_notice_queued(reached, groups)
                await store.outbox.enqueue(
                    chat=message.chat, text=shown(text, "reply"), purpose="reply", at=part.town.clock.now(),
                    priority=PRIORITY_REPLY,
                )  # fmt: skip
    return groups


async def _claim(store: Store, message: IncomingMessage) -> bool:
    """Whether this town handles the message now (not a redelivery, nor done before a crash)."""
    claimed = await store.inbound.claim(message.platform, message.chat, message.message_id, message.sender, message.at)
    if claimed is None:
        return False
    await store.inbound.set_kind(claimed, "county_notice")
    return True


def last_deadline(towns: Sequence[TownPart], day: dt.date) -> dt.datetime:
    return max(part.town.deadline(day) for part in towns)


async def county_report(county: str, towns: Sequence[TownPart], day: dt.date) -> CountyReport:
    """Every town's report for `day`, each built in its own database."""
    reports = []
    for part in towns:
        async with part.database.transaction() as store:
            reports.append((part.id, await build_town_report(store, part.town, day)))
    return CountyReport(county, day, reports)


async def send_county_summary(
    county: str, zone: ZoneInfo, towns: Sequence[TownPart], host: TownPart, leaders_chat: str, now: dt.datetime
) -> int:
    """After the last town's deadline: the county summary to the county leaders, once per day
    (claimed in the host town's scheduled_sends). 1 when it was queued now."""
    day = now.astimezone(zone).date()
    if now < last_deadline(towns, day):
        return 0
    async with host.database.transaction() as store:
        if any(s.chat == leaders_chat for s in await store.scheduled_sends.on_day(day, SUMMARY_KIND)):
            return 0
    report = await county_report(county, towns, day)
    text = shown(texts.county_summary(render_county_text(report)), "summary")
    async with host.database.transaction() as store:
        claim = await store.scheduled_sends.claim(day, SUMMARY_KIND, leaders_chat, now)
        if claim is None:
            return 0
        row = await store.outbox.enqueue(
            chat=leaders_chat, text=text, purpose="summary", at=now, priority=PRIORITY_ALERT
        )
        await store.scheduled_sends.attach(claim, row.id)
    return 1
