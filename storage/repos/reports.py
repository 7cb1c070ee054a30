"""Daily reports, kept as revisions; the day's figures are their merge."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from ..models import ReportRevision


@dataclass
class DayReport:
    """One village's figures for one day, after every submission and correction."""

    village: str
    day: dt.date
    fields: dict[str, Any] = field(default_factory=dict)
    complete: bool = False
    late: bool = False  # completed (or first submitted) only after the deadline
    first_at: dt.datetime | None = None
    last_at: dt.datetime | None = None
    revisions: int = 0


def merge_revisions(
    village: str, day: dt.date, revisions: Iterable[ReportRevision], required: Sequence[str]
) -> DayReport:
    """Corrections and partial reports update the named fields; a new complete report replaces all."""
    merged = DayReport(village=village, day=day)
    for revision in revisions:
        complete_on_its_own = not revision.correction and all(f in revision.fields for f in required)
        if complete_on_its_own:
            merged.fields = dict(revision.fields)
        else:
            merged.fields.update(revision.fields)
        was_complete = merged.complete
        merged.complete = all(f in merged.fields for f in required)
        if merged.complete and not was_complete:
            merged.late = revision.late
        merged.first_at = merged.first_at or revision.reported_at
        merged.last_at = revision.reported_at
        merged.revisions += 1
    return merged


class DailyReports:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session
        # (village, day) → its revisions, as read and added in this transaction: a message asks
        # for its village's day before and after it adds, and a batch asks for many villages.
        self._revisions: dict[tuple[str, dt.date], list[ReportRevision]] = {}

    async def add_revision(
        self,
        *,
        village: str,
        day: dt.date,
        fields: dict[str, Any],
        correction: bool,
        late: bool,
        by: str,
        at: dt.datetime,
        chat: str,
    ) -> ReportRevision:
        revision = ReportRevision(
            village=village,
            day=day,
            fields=dict(fields),
            correction=correction,
            late=late,
            reported_by=by,
            reported_at=at,
            chat=chat,
        )
        revisions = await self.revisions(village, day)
        self.session.add(revision)  # inserted at the next flush, with the message's other rows
        self._revisions[(village, day)] = [*revisions, revision]
        return revision

    async def revisions(self, village: str, day: dt.date) -> list[ReportRevision]:
        """The village's revisions for the day, oldest first."""
        if (village, day) not in self._revisions:
            await self.prefetch([(village, day)])
        return list(self._revisions[(village, day)])

    async def prefetch(self, wanted: Iterable[tuple[str, dt.date]]) -> None:
        """Read the revisions of many villages' days in one query, for a batch of messages."""
        missing = set(wanted) - self._revisions.keys()
        if not missing:
            return
        query = (
            select(ReportRevision)
            .where(
                ReportRevision.village.in_({village for village, _ in missing}),
                ReportRevision.day.in_({day for _, day in missing}),
            )
            .order_by(ReportRevision.id)
        )
        found: dict[tuple[str, dt.date], list[ReportRevision]] = {key: [] for key in missing}
        for revision in (await self.session.scalars(query)).all():
            key = (revision.village, revision.day)
            if key in found:
                found[key].append(revision)
        self._revisions.update(found)

    async def day(self, village: str, day: dt.date, required: Sequence[str]) -> DayReport:
        return merge_revisions(village, day, await self.revisions(village, day), required)

    async def all_for_day(self, day: dt.date, required: Sequence[str]) -> dict[str, DayReport]:
        query = select(ReportRevision).where(ReportRevision.day == day).order_by(ReportRevision.id)
        by_village: dict[str, list[ReportRevision]] = {}
        for revision in (await self.session.scalars(query)).all():
            by_village.setdefault(revision.village, []).append(revision)
        return {v: merge_revisions(v, day, revs, required) for v, revs in by_village.items()}

    async def totals_between(self, first: dt.date, last: dt.date, required: Sequence[str]) -> dict[str, int]:
        """Sum of each village's merged figures over the days from first to last, inclusive."""
        query = (
            select(ReportRevision)
            .where(ReportRevision.day >= first, ReportRevision.day <= last)
            .order_by(ReportRevision.id)
        )
        groups: dict[tuple[str, dt.date], list[ReportRevision]] = {}
        for revision in (await self.session.scalars(query)).all():
            groups.setdefault((revision.village, revision.day), []).append(revision)
        totals: dict[str, int] = {}
        for (village, day), revisions in groups.items():
            for key, value in merge_revisions(village, day, revisions, required).fields.items():
                totals[key] = totals.get(key, 0) + int(value)
        return totals
