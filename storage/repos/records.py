"""Checkpoint registrations, donations and inspection items: records the town counts and follows up."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from sqlalchemy import distinct, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from ..models import CheckpointEntry, Donation, DonationItem, InspectionItem, is_row_id

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


class CheckpointEntries:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def add(self, **values: Any) -> CheckpointEntry:
        entry = CheckpointEntry(**values)
        self.session.add(entry)
        await self.session.flush()
        return entry

    async def totals(self, first: dt.date, last: dt.date) -> CheckpointTotals:
        query = select(CheckpointEntry).where(CheckpointEntry.day >= first, CheckpointEntry.day <= last)
        totals = CheckpointTotals()
        for entry in (await self.session.scalars(query)).all():
            totals.entries += 1
            totals.vehicles += entry.plate is not None
            totals.people += entry.persons or 0
            totals.fevers += sum(t >= FEVER_AT for t in entry.temperatures) or int(entry.fever)
            totals.key_area_arrivals += entry.key_area
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
