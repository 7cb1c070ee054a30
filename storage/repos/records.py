"""Checkpoint registrations, donations and inspection items: records the town counts and follows up."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from sqlalchemy import delete, distinct, func, insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from ..models import (
    CheckpointDayTotal,
    CheckpointEntry,
    Donation,
    DonationItem,
    InspectionItem,
    SummaryState,
    is_row_id,
)
from ..upsert import insert_or_ignore

CHECKPOINT_SUMMARY = "checkpoints"
CHECKPOINT_SUMMARY_VERSION = "1"  # raised when what a day total counts changes: they are built again
FEVER_AT = 37.3  # °C; the same threshold the parser flags a registration with


@dataclass
class CheckpointTotals:
    entries: int = 0
    vehicles: int = 0
    people: int = 0
    fevers: int = 0
    key_area_arrivals: int = 0


@dataclass
class DonationTotals:
    organisations: int = 0  # distinct donors that are companies, shops, associations
    people: int = 0  # distinct donors that are people
    money_yuan: Decimal = Decimal(0)
    goods: dict[tuple[str, str], Decimal] = field(default_factory=dict)  # (item, unit) → quantity

    @property
    def donors(self) -> int:
        return self.organisations + self.people


def _counted(entry: CheckpointEntry) -> CheckpointTotals:
    """What one registration adds to its day: a vehicle when it has a plate, a fever per reading."""
    return CheckpointTotals(
        entries=1,
        vehicles=int(entry.plate is not None),
        people=entry.persons or 0,
        fevers=sum(t >= FEVER_AT for t in entry.temperatures) or int(entry.fever),
        key_area_arrivals=int(entry.key_area),
    )


class CheckpointEntries:
    """Registrations, and each day's totals added to as they are stored (checkpoint_day_totals):
    the totals since the campaign start read one row per day. Built from the registrations at the
    first start that finds them missing (summary_state)."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session
        self._day_totals_built: bool | None = None

    async def _day_totals_hold(self) -> bool:
        if self._day_totals_built is None:
            query = select(SummaryState.built_for).where(SummaryState.name == CHECKPOINT_SUMMARY)
            self._day_totals_built = (await self.session.scalars(query)).first() == CHECKPOINT_SUMMARY_VERSION
        return self._day_totals_built

    async def add(self, **values: Any) -> CheckpointEntry:
        entry = CheckpointEntry(**values)
        self.session.add(entry)
        await self.session.flush()
        if await self._day_totals_hold():
            await self._add_to_day(entry.day, _counted(entry))
        return entry

    async def _add_to_day(self, day: dt.date, counted: CheckpointTotals) -> None:
        added = vars(counted)
        statement = insert_or_ignore(self.session, CheckpointDayTotal).values(day=day, **added)
        table = CheckpointDayTotal.__table__.c
        statement = statement.on_conflict_do_update(
            index_elements=["day"], set_={name: table[name] + statement.excluded[name] for name in added}
        )
        await self.session.execute(statement)

    async def rebuild_day_totals(self) -> bool:
        """At start, once: the day totals from every registration. True when they were built now."""
        state = await self.session.get(SummaryState, CHECKPOINT_SUMMARY, with_for_update=True)
        if state is not None and state.built_for == CHECKPOINT_SUMMARY_VERSION:
            return False
        await self.session.execute(delete(CheckpointDayTotal))
        by_day: dict[dt.date, CheckpointTotals] = {}
        query = select(CheckpointEntry).execution_options(yield_per=2000)
        async for entry in await self.session.stream_scalars(query):
            day = by_day.setdefault(entry.day, CheckpointTotals())
            for name, value in vars(_counted(entry)).items():
                setattr(day, name, getattr(day, name) + value)
        if by_day:
            await self.session.execute(insert(CheckpointDayTotal), [{"day": d, **vars(t)} for d, t in by_day.items()])
        if state is None:
            self.session.add(SummaryState(name=CHECKPOINT_SUMMARY, built_for=CHECKPOINT_SUMMARY_VERSION))
        else:
            state.built_for = CHECKPOINT_SUMMARY_VERSION
        await self.session.flush()
        self._day_totals_built = True
        return True

    async def totals(self, first: dt.date, last: dt.date) -> CheckpointTotals:
        if not await self._day_totals_hold():
            return await self.counted_totals(first, last)
        names = list(vars(CheckpointTotals()))
        columns = [func.coalesce(func.sum(getattr(CheckpointDayTotal, n)), 0) for n in names]
        query = select(*columns).where(CheckpointDayTotal.day >= first, CheckpointDayTotal.day <= last)
        row = (await self.session.execute(query)).one()
        return CheckpointTotals(**{n: int(v) for n, v in zip(names, row, strict=True)})

    async def totals_by_day(self, first: dt.date, last: dt.date) -> dict[dt.date, CheckpointTotals]:
        """Each day's figures from first to last (a trend): one row per day; days without a
        registration are left out."""
        if not await self._day_totals_hold():
            by_day: dict[dt.date, CheckpointTotals] = {}
            query = select(CheckpointEntry).where(CheckpointEntry.day >= first, CheckpointEntry.day <= last)
            for entry in (await self.session.scalars(query)).all():
                day = by_day.setdefault(entry.day, CheckpointTotals())
                for name, value in vars(_counted(entry)).items():
                    setattr(day, name, getattr(day, name) + value)
            return by_day
        names = list(vars(CheckpointTotals()))
        rows = await self.session.scalars(
            select(CheckpointDayTotal).where(CheckpointDayTotal.day >= first, CheckpointDayTotal.day <= last)
        )
        return {row.day: CheckpointTotals(**{n: int(getattr(row, n)) for n in names}) for row in rows.all()}

    async def counted_totals(self, first: dt.date, last: dt.date) -> CheckpointTotals:
        """`totals` from the registrations themselves (and what the day totals are checked against)."""
        query = select(CheckpointEntry).where(CheckpointEntry.day >= first, CheckpointEntry.day <= last)
        totals = CheckpointTotals()
        for entry in (await self.session.scalars(query)).all():
            for name, value in vars(_counted(entry)).items():
                setattr(totals, name, getattr(totals, name) + value)
        return totals

    async def alerts(self, day: dt.date) -> list[CheckpointEntry]:
        query = (
            select(CheckpointEntry)
            .where(CheckpointEntry.day == day, CheckpointEntry.fever | CheckpointEntry.key_area)
            .order_by(CheckpointEntry.id)
        )
        return list((await self.session.scalars(query)).all())


class Donations:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def add(
        self,
        *,
        day: dt.date,
        donor: str,
        amount_yuan: Decimal,
        items: Sequence[dict[str, Any]],
        by: str,
        at: dt.datetime,
        organisation: bool = False,
    ) -> Donation:
        donation = Donation(
            day=day,
            donor=donor,
            amount_yuan=amount_yuan,
            organisation=organisation,
            recorded_by=by,
            recorded_at=at,
            items=[DonationItem(name=i["name"], quantity=Decimal(str(i["quantity"])), unit=i["unit"]) for i in items],
        )
        self.session.add(donation)
        await self.session.flush()
        return donation

    async def totals(self, first: dt.date | None, last: dt.date) -> DonationTotals:
        """Donors, money and goods between the days, summed by the database: two grouped queries,
        however many donations there were."""
        in_range = [Donation.day <= last] + ([Donation.day >= first] if first is not None else [])
        by_kind = (
            select(Donation.organisation, func.count(distinct(Donation.donor)), func.sum(Donation.amount_yuan))
            .where(*in_range)
            .group_by(Donation.organisation)
        )
        totals = DonationTotals()
        for organisation, donors, money in (await self.session.execute(by_kind)).all():
            if organisation:
                totals.organisations += donors
            else:
                totals.people += donors
            totals.money_yuan += Decimal(money or 0)
        goods = (
            select(DonationItem.name, DonationItem.unit, func.sum(DonationItem.quantity))
            .join(Donation, DonationItem.donation_id == Donation.id)
            .where(*in_range)
            .group_by(DonationItem.name, DonationItem.unit)
            .order_by(func.min(DonationItem.id))  # in the order they were first given
        )
        for name, unit, quantity in (await self.session.execute(goods)).all():
            totals.goods[(name, unit)] = Decimal(quantity)
        return totals

    async def on_day(self, day: dt.date) -> list[Donation]:
        query = select(Donation).where(Donation.day == day).order_by(Donation.id)
        return list((await self.session.scalars(query)).all())


class InspectionItems:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def open(self, **values: Any) -> InspectionItem:
        item = InspectionItem(**values)
        self.session.add(item)
        await self.session.flush()
        return item

    async def get(self, item_id: int) -> InspectionItem | None:
        return await self.session.get(InspectionItem, item_id) if is_row_id(item_id) else None

    async def rectify(self, item: InspectionItem, by: str, at: dt.datetime) -> None:
        item.rectified_by, item.rectified_at = by, at
        await self.session.flush()

    async def still_open(self) -> list[InspectionItem]:
        query = select(InspectionItem).where(InspectionItem.rectified_at.is_(None)).order_by(InspectionItem.id)
        return list((await self.session.scalars(query)).all())

    async def count_opened(self, first: dt.date, last: dt.date) -> int:
        query = (
            select(func.count())
            .select_from(InspectionItem)
            .where(InspectionItem.day >= first, InspectionItem.day <= last)
        )
        return int((await self.session.execute(query)).scalar_one())
