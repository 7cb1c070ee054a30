"""The outbox: every message the bot sends is a row first, then a delivery."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from sqlalchemy import select
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

    async def due(self, now: dt.datetime, platform: str, limit: int = 100) -> list[OutboxMessage]:
        """Pending rows for one platform's chats whose time has come, most urgent first."""
        query = (
            select(OutboxMessage)
            .where(
                OutboxMessage.status == "pending",
                OutboxMessage.next_attempt_at <= now,
                OutboxMessage.chat.startswith(f"{platform}:", autoescape=True),
            )
            .order_by(OutboxMessage.priority, OutboxMessage.id)
            .limit(limit)
        )
        return list((await self.session.scalars(query)).all())

    async def get(self, row_id: int) -> OutboxMessage | None:
        return await self.session.get(OutboxMessage, row_id)

    async def mark_sent(self, row: OutboxMessage, at: dt.datetime, platform_message_id: str | None) -> None:
        row.status, row.sent_at, row.platform_message_id = "sent", at, platform_message_id
        row.attempts += 1
        await self.session.flush()

    async def retry_later(self, row: OutboxMessage, error: str, next_attempt_at: dt.datetime) -> None:
        row.attempts += 1
        row.error, row.next_attempt_at = error, next_attempt_at
        await self.session.flush()

    async def mark_failed(self, row: OutboxMessage, error: str) -> None:
        row.attempts += 1
        row.status, row.error = "failed", error
        await self.session.flush()

    async def by_ids(self, ids: Sequence[int]) -> list[OutboxMessage]:
        if not ids:
            return []
        query = select(OutboxMessage).where(OutboxMessage.id.in_(ids)).order_by(OutboxMessage.id)
        return list((await self.session.scalars(query)).all())
