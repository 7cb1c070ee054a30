"""The lines of 体温接龙 already seen, per group and day, by their hash."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from ..models import TemperatureListLine


class TemperatureListLines:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def unseen(self, chat: str, day: dt.date, hashes: Iterable[str]) -> set[str]:
        """Which of these lines the group has not posted that day."""
        wanted = set(hashes)
        if not wanted:
            return set()
        query = select(TemperatureListLine.line_hash).where(
            TemperatureListLine.chat == chat, TemperatureListLine.day == day, TemperatureListLine.line_hash.in_(wanted)
        )
        return wanted - set((await self.session.scalars(query)).all())

    async def add(self, chat: str, day: dt.date, line_hash: str, at: dt.datetime) -> None:
        self.session.add(TemperatureListLine(chat=chat, day=day, line_hash=line_hash, seen_at=at))
        await self.session.flush()
