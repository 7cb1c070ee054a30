"""One message being handled: what was said, where, by whom, and what the bot says back.

Sending goes through the outbox inside the same transaction as the records, so a reply or an
alert exists exactly when the report or registration that caused it exists.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from storage import Store
from storage.repos.outbox import PRIORITY_REPLY
from storage.repos.reports import DayReport

from .chat_events import notify_leaders
from .directory import ChatTarget, Speaker
from .messages import IncomingMessage, OutgoingMessage, Picture
from .personal_info import shown
from .town import Town


@dataclass
class Turn:
    message: IncomingMessage
    store: Store
    town: Town
    target: ChatTarget
    speaker: Speaker
    # A report that names a past day (昨天, 2月16日日报) counts for that day, and late.
    named_day: dt.date | None = None

    async def report_day(self, village: str) -> DayReport:
        """The village's report for the message's day (read once per transaction: see DailyReports)."""
        return await self.store.reports.day(village, self.day, self.town.required)

    async def add_report_revision(
        self, village: str, fields: dict[str, Any], *, correction: bool, before: DayReport
    ) -> DayReport:
        """Store the figures this message gives (`before`: the village's day without them, for the
        audit trail); the village's day report with them."""
        await self.store.reports.add_revision(
            village=village,
            day=self.day,
            fields=fields,
            correction=correction,
            late=self.late,
            by=self.speaker.id,
            at=self.message.at,
            chat=self.message.chat,
            required=self.town.required,
        )
        await self.store.audit.record(
            actor=self.speaker.id,
            action="correct_report" if correction else "report",
            subject=f"{village} {self.day.isoformat()}",
            at=self.message.at,
            before={k: before.fields[k] for k in fields if k in before.fields} or None,
            after=fields,
        )
        return await self.report_day(village)

    @property
    def day(self) -> dt.date:
        return self.named_day or self.town.day_of(self.message.at)

    @property
    def late(self) -> bool:
        return self.named_day is not None or self.town.is_late(self.message.at)

    async def reply(self, text: str, *, mentions: Sequence[str] = ()) -> None:
        await self.send(
            OutgoingMessage(
                chat=self.message.chat,
                text=text,
                purpose="reply",
                mentions=tuple(mentions),
                reply_to=self.message.message_id,
                priority=PRIORITY_REPLY,
            )
        )

    async def reply_with_picture(self, picture: Picture, caption: str) -> None:
        """An image in answer to the message, with `caption` under it."""
        await self.send(
            OutgoingMessage(
                chat=self.message.chat,
                text=caption,
                purpose="reply",
                reply_to=self.message.message_id,
                priority=PRIORITY_REPLY,
                picture=picture,
            )
        )

    async def send(self, message: OutgoingMessage) -> None:
        await self.store.outbox.enqueue(
            chat=message.chat,
            text=shown(message.text, message.purpose),
            purpose=message.purpose,
            at=self.town.clock.now(),
            priority=message.priority,
            mentions=message.mentions,
            reply_to=message.reply_to,
            flush=False,
            picture=message.picture.data if message.picture else None,
            picture_name=message.picture.name if message.picture else None,
        )

    async def tell_leaders(self, text: str, purpose: str = "alert") -> list[str]:
        """Send to every leaders' group except the one the message came from; the chats reached."""
        return await notify_leaders(self.store, self.town, text, purpose=purpose, besides={self.message.chat})
