"""Notices and their delivery: one row per chat, tied to the outbox row that carries it."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import func, insert, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import lazyload

from ..models import Notice, NoticeAcknowledgement, NoticeDelivery, OutboxMessage, is_row_id


@dataclass
class DeliveryCounts:
    groups: int = 0
    delivered: int = 0
    failed: int = 0
    pending: int = 0
    ambiguous: int = 0


class Notices:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def create(
        self, *, day: dt.date, body: str, by: str, at: dt.datetime, villages: Sequence[str], chat: str | None = None
    ) -> Notice:
        notice = Notice(day=day, body=body, sent_by=by, sent_at=at, villages=list(villages), deliveries=[], chat=chat)
        self.session.add(notice)
        await self.session.flush()
        return notice

    async def add_deliveries(self, notice: Notice, deliveries: Sequence[tuple[str, str, int]]) -> None:
        """(village, chat, outbox id) for each group the notice goes to, in one bulk INSERT."""
        if deliveries:
            values = [
                {"notice_id": notice.id, "village": village, "chat": chat, "outbox_id": outbox_id}
                for village, chat, outbox_id in deliveries
            ]
            await self.session.execute(insert(NoticeDelivery), values)
            # The notice's list as the database now has it, for whatever reads it in this transaction.
            await self.session.refresh(notice, ["deliveries"])

    async def acknowledge_many(self, notice_id: int, people: Sequence[tuple[str, str]], at: dt.datetime) -> None:
        """(village, person) who acknowledged the notice, in one bulk INSERT: an imported or
        generated history (bench/scale.py); a message's 收到 is recorded by its handler."""
        if people:
            values = [{"notice_id": notice_id, "village": v, "person": p, "at": at} for v, p in people]
            await self.session.execute(insert(NoticeAcknowledgement), values)

    async def acknowledgements(self, notice_id: int) -> dict[str, int]:
        """How many people acknowledged the notice, per village."""
        query = (
            select(NoticeAcknowledgement.village, func.count())
            .where(NoticeAcknowledgement.notice_id == notice_id)
            .group_by(NoticeAcknowledgement.village)
        )
        return {village: int(count) for village, count in (await self.session.execute(query)).all()}

    async def latest(self) -> Notice | None:
        return (await self.session.scalars(select(Notice).order_by(Notice.id.desc()).limit(1))).first()

    async def get(self, notice_id: int) -> Notice | None:
        return await self.session.get(Notice, notice_id) if is_row_id(notice_id) else None

    async def on_day(self, day: dt.date) -> list[Notice]:
        """The day's notices, without their deliveries (a county's notice has a thousand):
        `delivery_counts` and `delivered_villages` answer what the town report asks of them."""
        query = select(Notice).where(Notice.day == day).order_by(Notice.id).options(lazyload(Notice.deliveries))
        return list((await self.session.scalars(query)).all())

    async def delivery_counts(self, notice_id: int) -> DeliveryCounts:
        """How the notice's sends stand, counted by the database: one grouped query."""
        query = (
            select(OutboxMessage.status, OutboxMessage.ambiguous, func.count())
            .join(NoticeDelivery, NoticeDelivery.outbox_id == OutboxMessage.id)
            .where(NoticeDelivery.notice_id == notice_id)
            .group_by(OutboxMessage.status, OutboxMessage.ambiguous)
        )
        counts = DeliveryCounts()
        for status, ambiguous, n in (await self.session.execute(query)).all():
            counts.groups += n
            counts.delivered += n if status == "sent" else 0
            counts.failed += n if status == "failed" else 0
            counts.pending += n if status in ("pending", "sending") else 0
            counts.ambiguous += n if ambiguous else 0
        return counts

    async def delivered_villages(self, notice_id: int) -> list[str]:
        """The villages the notice went to, in the order its deliveries were made, each once."""
        query = select(NoticeDelivery.village).where(NoticeDelivery.notice_id == notice_id).order_by(NoticeDelivery.id)
        return list(dict.fromkeys((await self.session.scalars(query)).all()))
