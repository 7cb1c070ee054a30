"""People under home observation, their daily temperatures, and the audit log."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from ..models import AuditEntry, ObservedPerson, TemperatureCheck, is_row_id


class ObservedPeople:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session
        self._registry_villages: set[str] | None = None

    async def add(self, person: ObservedPerson) -> ObservedPerson:
        self._registry_villages = None
        self.session.add(person)
        await self.session.flush()
        return person

    async def get(self, person_id: int) -> ObservedPerson | None:
        return await self.session.get(ObservedPerson, person_id) if is_row_id(person_id) else None

    async def by_id_number(self, index: str) -> ObservedPerson | None:
        query = select(ObservedPerson).where(
            ObservedPerson.id_number_index == index, ObservedPerson.status == "observing"
        )
        return (await self.session.scalars(query)).first()

    async def observing(self, village: str | None = None) -> list[ObservedPerson]:
        query = select(ObservedPerson).where(ObservedPerson.status == "observing").order_by(ObservedPerson.id)
        if village is not None:
            query = query.where(ObservedPerson.village == village)
        return list((await self.session.scalars(query)).all())

    async def all(self, village: str | None = None) -> list[ObservedPerson]:
        query = select(ObservedPerson).order_by(ObservedPerson.id)
        if village is not None:
            query = query.where(ObservedPerson.village == village)
        return list((await self.session.scalars(query)).all())

    async def counts_observing(self) -> dict[str, int]:
        query = (
            select(ObservedPerson.village, func.count())
            .where(ObservedPerson.status == "observing")
            .group_by(ObservedPerson.village)
        )
        return {village: int(count) for village, count in (await self.session.execute(query)).all()}

    async def villages_with_registry(self) -> set[str]:
        """Read once per transaction (a batch of reports asks for each): `add` is the only way in."""
        if self._registry_villages is None:
            query = select(ObservedPerson.village).distinct()
            self._registry_villages = set((await self.session.scalars(query)).all())
        return set(self._registry_villages)

    async def ending_on(self, day: dt.date) -> list[ObservedPerson]:
        query = (
            select(ObservedPerson)
            .where(ObservedPerson.status == "observing", ObservedPerson.observe_until == day)
            .order_by(ObservedPerson.village, ObservedPerson.id)
        )
        return list((await self.session.scalars(query)).all())

    async def closed_before(self, moment: dt.datetime) -> list[ObservedPerson]:
        """Released or hospitalised before `moment` and still holding personal data."""
        query = select(ObservedPerson).where(
            ObservedPerson.status != "observing",
            ObservedPerson.closed_at < moment,
            ObservedPerson.purged_at.is_(None),
        )
        return list((await self.session.scalars(query)).all())

    async def with_personal_data(self) -> list[ObservedPerson]:
        query = select(ObservedPerson).where(ObservedPerson.purged_at.is_(None))
        return list((await self.session.scalars(query)).all())

    async def record_temperature(
        self, person: ObservedPerson, *, day: dt.date, celsius: float, by: str, at: dt.datetime
    ) -> None:
        self.session.add(TemperatureCheck(person_id=person.id, day=day, celsius=celsius, checked_by=by, checked_at=at))
        await self.session.flush()

    async def temperatures(self, person_id: int) -> list[TemperatureCheck]:
        query = select(TemperatureCheck).where(TemperatureCheck.person_id == person_id).order_by(TemperatureCheck.id)
        return list((await self.session.scalars(query)).all())


class AuditLog:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def record(
        self,
        *,
        actor: str,
        action: str,
        subject: str,
        at: dt.datetime,
        before: dict[str, Any] | None = None,
        after: dict[str, Any] | None = None,
    ) -> None:
        # Inserted at the next flush, with the rest of what the message did.
        self.session.add(AuditEntry(at=at, actor=actor, action=action, subject=subject, before=before, after=after))

    async def any_of(self, action: str, subject: str) -> bool:
        """Whether this was ever recorded: for what the town is told once."""
        query = select(AuditEntry.id).where(AuditEntry.action == action, AuditEntry.subject == subject).limit(1)
        return (await self.session.scalars(query)).first() is not None

    async def between(self, first: dt.datetime, last: dt.datetime) -> list[AuditEntry]:
        query = select(AuditEntry).where(AuditEntry.at >= first, AuditEntry.at < last).order_by(AuditEntry.id)
        return list((await self.session.scalars(query)).all())
