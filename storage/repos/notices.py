"""Notices and their delivery: one row per chat, tied to the outbox row that carries it."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from ..models import Notice, NoticeDelivery


class Notices:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def create(self, *, day: dt.date, body: str, by: str, at: dt.datetime, villages: Sequence[str]) -> Notice:
        notice = Notice(day=day, body=body, sent_by=by, sent_at=at, villages=list(villages), deliveries=[])
        self.session.add(notice)
        await self.session.flush()
        return notice

    async def add_delivery(self, notice: Notice, *, village: str, chat: str, outbox_id: int) -> None:
        notice.deliveries.append(NoticeDelivery(village=village, chat=chat, outbox_id=outbox_id))
        await self.session.flush()

    async def on_day(self, day: dt.date) -> list[Notice]:
        query = select(Notice).where(Notice.day == day).order_by(Notice.id)
        return list((await self.session.scalars(query)).all())
