"""The outbox: every message the bot sends is a row first, then a delivery."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from sqlalchemy import and_, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from ..models import OutboxMessage

# Lower goes first: a reply or an alert must not wait behind a broadcast to every village.
PRIORITY_REPLY = 0
PRIORITY_ALERT = 0
PRIORITY_SCHEDULED = 5
PRIORITY_BULK = 10


class Outbox:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def enqueue(
        self,
        *,
        chat: str,
        text: str,
        purpose: str,
        at: dt.datetime,
        priority: int = PRIORITY_REPLY,
        mentions: Sequence[str] = (),
        reply_to: str | None = None,
    ) -> OutboxMessage:
        row = OutboxMessage(
            chat=chat,
            text=text,
            purpose=purpose,
            priority=priority,
            mentions=list(mentions),
            reply_to=reply_to,
            status="pending",
            attempts=0,
            created_at=at,
            next_attempt_at=at,
        )
        self.session.add(row)
        await self.session.flush()
        return row

    async def enqueue_many(
        self, chats: Sequence[str], *, text: str, purpose: str, at: dt.datetime, priority: int
    ) -> list[OutboxMessage]:
        """The same message to many chats, in one flush: a broadcast to a thousand groups is one
        round of inserts, not a thousand."""
        rows = [
            OutboxMessage(
                chat=chat,
                text=text,
                purpose=purpose,
                priority=priority,
                mentions=[],
                reply_to=None,
                status="pending",
                attempts=0,
                created_at=at,
                next_attempt_at=at,
            )
            for chat in chats
        ]
        self.session.add_all(rows)
        await self.session.flush()
        return rows

    async def due(self, now: dt.datetime, platform: str, limit: int = 100) -> list[OutboxMessage]:
        """Rows for one platform's chats whose time has come, most urgent first: pending ones, and
        ones whose sender's lease ran out (its process died mid-send)."""
        query = (
            select(OutboxMessage)
            .where(
                or_(
                    and_(OutboxMessage.status == "pending", OutboxMessage.next_attempt_at <= now),
                    and_(OutboxMessage.status == "sending", OutboxMessage.lease_until < now),
                ),
                OutboxMessage.chat.startswith(f"{platform}:", autoescape=True),
            )
            .order_by(OutboxMessage.priority, OutboxMessage.id)
            .limit(limit)
        )
        return list((await self.session.scalars(query)).all())

    async def claim(self, row_id: int, now: dt.datetime, lease: dt.timedelta) -> OutboxMessage | None:
        """Take the row for sending, so that no other sender (in any process) sends it too.
        None when someone else has it or it went already. A row taken over from a dead sender is
        marked ambiguous: the platform may already have it.

        A compare-and-set on (status, lease): the UPDATE succeeds for one sender only, on SQLite
        (which takes no row locks) as on PostgreSQL."""
        row = await self.session.get(OutboxMessage, row_id, populate_existing=True)
        if row is None:
            return None
        taken_over = row.status == "sending" and row.lease_until is not None and row.lease_until < now
        if not taken_over and (row.status != "pending" or row.next_attempt_at > now):
            return None
        same_lease = (
            OutboxMessage.lease_until.is_(None)
            if row.lease_until is None
            else OutboxMessage.lease_until == row.lease_until
        )
        result = await self.session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.id == row_id, OutboxMessage.status == row.status, same_lease)
            .values(status="sending", lease_until=now + lease, ambiguous=OutboxMessage.ambiguous | taken_over)
            .execution_options(synchronize_session=False)
        )
        if getattr(result, "rowcount", 0) != 1:
            return None
        return await self.session.get(OutboxMessage, row_id, populate_existing=True)

    async def expire_leases(self, platform: str, now: dt.datetime) -> int:
        """At a sender's start: rows this platform's previous sender was sending when it stopped are
        free again at once (one process sends for a platform), to be sent again as ambiguous."""
        result = await self.session.execute(
            update(OutboxMessage)
            .where(
                OutboxMessage.status == "sending",
                OutboxMessage.chat.startswith(f"{platform}:", autoescape=True),
                OutboxMessage.lease_until >= now,
            )
            .values(lease_until=now - dt.timedelta(microseconds=1))
            .execution_options(synchronize_session=False)
        )
        return int(getattr(result, "rowcount", 0) or 0)

    async def get(self, row_id: int) -> OutboxMessage | None:
        return await self.session.get(OutboxMessage, row_id)

    async def mark_sent(
        self, row: OutboxMessage, at: dt.datetime, platform_message_id: str | None, merged_into: int | None = None
    ) -> None:
        row.status, row.sent_at, row.platform_message_id = "sent", at, platform_message_id
        row.attempts += 1
        row.lease_until, row.merged_into = None, merged_into
        await self.session.flush()

    async def retry_later(
        self, row: OutboxMessage, error: str, next_attempt_at: dt.datetime, *, counts: bool = True
    ) -> None:
        """Back to pending until `next_attempt_at`; `counts=False` for a deferral the platform asked for."""
        row.attempts += counts
        row.status, row.lease_until = "pending", None
        row.error, row.next_attempt_at = error, next_attempt_at
        await self.session.flush()

    async def mark_failed(self, row: OutboxMessage, error: str) -> None:
        row.attempts += 1
        row.status, row.error, row.lease_until = "failed", error, None
        await self.session.flush()

    async def by_ids(self, ids: Sequence[int]) -> list[OutboxMessage]:
        if not ids:
            return []
        query = select(OutboxMessage).where(OutboxMessage.id.in_(ids)).order_by(OutboxMessage.id)
        return list((await self.session.scalars(query)).all())
