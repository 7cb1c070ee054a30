"""Roles given in chat (设置村长), on top of those in the config."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from ..models import PersonRole


class PersonRoles:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session
        # person → villages they head, as read in this transaction (asked for every message)
        self._heads: dict[str, set[str]] = {}

    async def villages_headed_by(self, person: str) -> set[str]:
        if person not in self._heads:
            await self.prefetch([person])
        return set(self._heads[person])

    async def prefetch(self, people: Iterable[str]) -> None:
        """Read the villages many people head in one query, for a batch of messages from them."""
        wanted = set(people) - self._heads.keys()
        if not wanted:
            return
        query = select(PersonRole.person, PersonRole.village).where(
            PersonRole.person.in_(wanted), PersonRole.role == "head"
        )
        for person in wanted:
            self._heads[person] = set()
        for person, village in (await self.session.execute(query)).all():
            self._heads[person].add(village)

    async def heads_of_village(self, village: str) -> list[str]:
        query = select(PersonRole.person).where(PersonRole.role == "head", PersonRole.village == village)
        return list((await self.session.scalars(query)).all())

    async def appoint_head(self, person: str, village: str, *, by: str, at: dt.datetime) -> bool:
        """Make the person a head of the village; False if they were one already."""
        if await self.session.get(PersonRole, (person, "head", village)) is not None:
            return False
        self.session.add(
            PersonRole(person=person, role="head", village=village, display_name=None, granted_by=by, granted_at=at)
        )
        self._heads.pop(person, None)
        await self.session.flush()
        return True
