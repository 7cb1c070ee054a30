"""Inbound messages: the table that makes "delivered twice, handled once" a database guarantee.

A message is known by (platform, chat, message_id, edit): `edit` is "" for the message as first
sent and `edit_key(edited_at)` for an edit of it, so that an edit is handled (it is no redelivery of
the message) and the same edit delivered twice is handled once.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from sqlalchemy import and_, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from ..models import InboundMessage
from ..upsert import insert_or_ignore

#: (platform, chat, message_id, edit)
Key = tuple[str, str, str, str]


def edit_key(edited_at: dt.datetime | None) -> str:
    """The `edit` column for a message edited at `edited_at` ("" when it is not an edit)."""
    return "" if edited_at is None else edited_at.astimezone(dt.UTC).isoformat()


class InboundMessages:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def claim(
        self, platform: str, chat: str, message_id: str, sender: str, at: dt.datetime, edit: str = ""
    ) -> int | None:
        """Record a message (or one edit of it) as being handled; None when it was handled before
        (a redelivery)."""
        values = {
            "platform": platform,
            "chat": chat,
            "message_id": message_id,
            "edit": edit,
            "sender": sender,
            "received_at": at,
            "kind": "pending",
        }
        statement = (
            insert_or_ignore(self.session, InboundMessage)
            .values(**values)
            .on_conflict_do_nothing(index_elements=["platform", "chat", "message_id", "edit"])
            .returning(InboundMessage.id)
        )
        return (await self.session.execute(statement)).scalar_one_or_none()

    async def unseen(self, keys: Sequence[Key]) -> set[Key]:
        """Which of these keys were never handled: one query for a batch. Written as one equality
        per key, which both databases answer from the unique index: SQLite plans a row-value IN
        (`tuple_(…).in_`) as a scan of the whole table."""
        table = InboundMessage
        if not keys:
            return set()
        query = select(table.platform, table.chat, table.message_id, table.edit).where(
            or_(
                *(
                    and_(table.platform == p, table.chat == c, table.message_id == m, table.edit == e)
                    for p, c, m, e in keys
                )
            )
        )
        seen = {(row.platform, row.chat, row.message_id, row.edit) for row in (await self.session.execute(query)).all()}
        return set(keys) - seen

    def add(self, key: Key, sender: str, at: dt.datetime, kind: str) -> None:
        """Record a message found unseen by `unseen`, inserted with the transaction's other rows. A
        copy that another process stored meanwhile breaks the unique key and fails the commit."""
        platform, chat, message_id, edit = key
        self.session.add(
            InboundMessage(
                platform=platform, chat=chat, message_id=message_id, edit=edit, sender=sender, received_at=at,
                kind=kind,
            )
        )

    async def set_kind(self, inbound_id: int, kind: str) -> None:
        await self.session.execute(update(InboundMessage).where(InboundMessage.id == inbound_id).values(kind=kind))

    async def seen(self, platform: str, chat: str, message_id: str, edit: str = "") -> bool:
        query = select(InboundMessage.id).where(
            InboundMessage.platform == platform,
            InboundMessage.chat == chat,
            InboundMessage.message_id == message_id,
            InboundMessage.edit == edit,
        )
        return (await self.session.execute(query)).first() is not None
