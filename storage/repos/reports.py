"""Daily reports, kept as revisions; the day's figures are their merge.

The merge of each village's day, and each day's sum of every field, are kept up to date in the
transaction that adds a revision (report_days, report_field_totals), so the day's report and the
totals since the campaign start read O(villages + days) rows however long the campaign has run.
Merging depends on the template's required fields: the summaries say which set they were built
for (summary_state), are built again from the revisions at start when that set changed, and until
then every question is answered from the revisions themselves.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import delete, func, insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from ..models import ReportDaySummary, ReportFieldTotal, ReportRevision, SummaryState
from ..upsert import insert_or_ignore

SUMMARY = "reports"
_REBUILD_BATCH = 2000


def built_for(required: Sequence[str]) -> str:
    """What a set of required fields is called in summary_state."""
    return ",".join(sorted(required))


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
        self._summaries_built_for: str | None = None  # read once per transaction
        # The villages' days whose summaries this transaction must write (and for which template).
        self._dirty: dict[tuple[str, dt.date], tuple[str, ...]] = {}

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
        required: Sequence[str],
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
        if await self._summaries_hold(required):
            self._dirty[(village, day)] = tuple(required)
        return revision

    async def replace_fields(self, revision: ReportRevision, fields: dict[str, Any], required: Sequence[str]) -> None:
        """An edited message's figures in place of what it stored; the summaries follow."""
        revision.fields = dict(fields)
        if await self._summaries_hold(required):
            self._dirty[(revision.village, revision.day)] = tuple(required)

    async def _summaries_hold(self, required: Sequence[str]) -> bool:
        if self._summaries_built_for is None:
            query = select(SummaryState.built_for).where(SummaryState.name == SUMMARY)
            self._summaries_built_for = (await self.session.scalars(query)).first() or ""
        return self._summaries_built_for == built_for(required)

    async def write_summaries(self) -> None:
        """The summaries of every village's day this transaction added to, merged anew, and the
        differences added to the day totals: once per transaction (Database.transaction calls it
        before the commit), in a few statements however many messages the transaction handled.
        The summary rows are locked first and the revisions read after: two processes reporting for
        one village at once are merged one after the other, each seeing the other's revision."""
        if not self._dirty:
            return
        dirty, self._dirty = self._dirty, {}
        await self.session.flush()
        placeholders = [
            {"village": v, "day": d, "fields": {}, "complete": False, "late": False, "revisions": 0} for v, d in dirty
        ]
        await self.session.execute(
            insert_or_ignore(self.session, ReportDaySummary).on_conflict_do_nothing(index_elements=["village", "day"]),
            placeholders,
        )
        villages, days = {v for v, _ in dirty}, {d for _, d in dirty}
        locked = (
            select(ReportDaySummary)
            .where(ReportDaySummary.village.in_(villages), ReportDaySummary.day.in_(days))
            .with_for_update()
            .execution_options(populate_existing=True)
        )
        summaries = {(s.village, s.day): s for s in (await self.session.scalars(locked)).all()}
        fresh = select(ReportRevision).where(ReportRevision.village.in_(villages), ReportRevision.day.in_(days))
        revisions: dict[tuple[str, dt.date], list[ReportRevision]] = {key: [] for key in dirty}
        for revision in (await self.session.scalars(fresh.order_by(ReportRevision.id))).all():
            if (revision.village, revision.day) in revisions:
                revisions[(revision.village, revision.day)].append(revision)
        deltas: dict[tuple[dt.date, str], int] = {}
        for key, required in dirty.items():
            self._revisions[key] = revisions[key]
            merged = merge_revisions(key[0], key[1], revisions[key], required)
            summary = summaries[key]
            old = dict(summary.fields)
            summary.fields = dict(merged.fields)
            summary.complete, summary.late, summary.revisions = merged.complete, merged.late, merged.revisions
            summary.first_at, summary.last_at = merged.first_at, merged.last_at
            for field_id in set(old) | set(merged.fields):
                delta = int(merged.fields.get(field_id, 0)) - int(old.get(field_id, 0))
                if delta:
                    deltas[(key[1], field_id)] = deltas.get((key[1], field_id), 0) + delta
        await self.session.flush()
        if deltas:
            statement = insert_or_ignore(self.session, ReportFieldTotal)
            statement = statement.on_conflict_do_update(
                index_elements=["day", "field"], set_={"value": ReportFieldTotal.value + statement.excluded.value}
            )
            rows = [{"day": d, "field": f, "value": delta} for (d, f), delta in sorted(deltas.items())]
            await self.session.execute(statement, rows)

    async def rebuild_summaries(self, required: Sequence[str]) -> bool:
        """At start: the summaries for this template, built from every revision when they were built
        for another (or never). True when they were built now."""
        state = await self.session.get(SummaryState, SUMMARY, with_for_update=True)
        wanted = built_for(required)
        if state is not None and state.built_for == wanted:
            return False
        await self.session.execute(delete(ReportDaySummary))
        await self.session.execute(delete(ReportFieldTotal))
        totals: dict[tuple[dt.date, str], int] = {}
        days: list[dict[str, Any]] = []

        async def merged(key: tuple[str, dt.date], revisions: list[ReportRevision]) -> None:
            day_report = merge_revisions(key[0], key[1], revisions, required)
            days.append(
                {
                    "village": key[0],
                    "day": key[1],
                    "fields": day_report.fields,
                    "complete": day_report.complete,
                    "late": day_report.late,
                    "first_at": day_report.first_at,
                    "last_at": day_report.last_at,
                    "revisions": day_report.revisions,
                }
            )
            for field_id, value in day_report.fields.items():
                totals[(key[1], field_id)] = totals.get((key[1], field_id), 0) + int(value)
            if len(days) >= _REBUILD_BATCH:
                await self.session.execute(insert(ReportDaySummary), days)
                days.clear()

        # In (village, day) order and in batches: a year of a county's revisions is never in memory at once.
        query = (
            select(ReportRevision)
            .order_by(ReportRevision.village, ReportRevision.day, ReportRevision.id)
            .execution_options(yield_per=_REBUILD_BATCH)
        )
        key: tuple[str, dt.date] | None = None
        group: list[ReportRevision] = []
        async for revision in await self.session.stream_scalars(query):
            if (revision.village, revision.day) != key:
                if key is not None:
                    await merged(key, group)
                key, group = (revision.village, revision.day), []
            group.append(revision)
        if key is not None:
            await merged(key, group)
        if days:
            await self.session.execute(insert(ReportDaySummary), days)
        if totals:
            rows = [{"day": day, "field": field_id, "value": value} for (day, field_id), value in totals.items()]
            await self.session.execute(insert(ReportFieldTotal), rows)
        if state is None:
            self.session.add(SummaryState(name=SUMMARY, built_for=wanted))
        else:
            state.built_for = wanted
        await self.session.flush()
        self._summaries_built_for = wanted
        return True

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
        if not await self._summaries_hold(required):
            return await self.merged_for_day(day, required)
        await self.write_summaries()
        query = select(ReportDaySummary).where(ReportDaySummary.day == day, ReportDaySummary.revisions > 0)
        return {
            s.village: DayReport(
                village=s.village,
                day=s.day,
                fields=dict(s.fields),
                complete=s.complete,
                late=s.late,
                first_at=s.first_at,
                last_at=s.last_at,
                revisions=s.revisions,
            )
            for s in (await self.session.scalars(query)).all()
        }

    async def merged_for_day(self, day: dt.date, required: Sequence[str]) -> dict[str, DayReport]:
        """`all_for_day` from the revisions themselves (and what the summary is checked against)."""
        query = select(ReportRevision).where(ReportRevision.day == day).order_by(ReportRevision.id)
        by_village: dict[str, list[ReportRevision]] = {}
        for revision in (await self.session.scalars(query)).all():
            by_village.setdefault(revision.village, []).append(revision)
        return {v: merge_revisions(v, day, revs, required) for v, revs in by_village.items()}

    async def totals_between(self, first: dt.date, last: dt.date, required: Sequence[str]) -> dict[str, int]:
        """Sum of each village's merged figures over the days from first to last, inclusive."""
        if not await self._summaries_hold(required):
            return await self.merged_totals_between(first, last, required)
        await self.write_summaries()
        query = (
            select(ReportFieldTotal.field, func.sum(ReportFieldTotal.value))
            .where(ReportFieldTotal.day >= first, ReportFieldTotal.day <= last)
            .group_by(ReportFieldTotal.field)
        )
        return {key: int(value) for key, value in (await self.session.execute(query)).all() if value}

    async def totals_by_day(
        self, first: dt.date, last: dt.date, required: Sequence[str]
    ) -> dict[dt.date, dict[str, int]]:
        """Each day's sum of every field from first to last (a trend): one summary row per day and
        field; days with no report are left out."""
        if not await self._summaries_hold(required):
            groups = await self._grouped_revisions(first, last)
            by_day: dict[dt.date, dict[str, int]] = {}
            for (village, day), revisions in groups.items():
                totals = by_day.setdefault(day, {})
                for key, value in merge_revisions(village, day, revisions, required).fields.items():
                    totals[key] = totals.get(key, 0) + int(value)
            return by_day
        await self.write_summaries()
        query = select(ReportFieldTotal).where(ReportFieldTotal.day >= first, ReportFieldTotal.day <= last)
        found: dict[dt.date, dict[str, int]] = {}
        for row in (await self.session.scalars(query)).all():
            found.setdefault(row.day, {})[row.field] = int(row.value)
        return found

    async def _grouped_revisions(
        self, first: dt.date | None, last: dt.date | None
    ) -> dict[tuple[str, dt.date], list[ReportRevision]]:
        query = select(ReportRevision).order_by(ReportRevision.id)
        if first is not None and last is not None:
            query = query.where(ReportRevision.day >= first, ReportRevision.day <= last)
        groups: dict[tuple[str, dt.date], list[ReportRevision]] = {}
        for revision in (await self.session.scalars(query)).all():
            groups.setdefault((revision.village, revision.day), []).append(revision)
        return groups

    async def merged_totals_between(self, first: dt.date, last: dt.date, required: Sequence[str]) -> dict[str, int]:
        """`totals_between` from every revision in the days (and what the summary is checked against)."""
        groups = await self._grouped_revisions(first, last)
        totals: dict[str, int] = {}
        for (village, day), revisions in groups.items():
            for key, value in merge_revisions(village, day, revisions, required).fields.items():
                totals[key] = totals.get(key, 0) + int(value)
        return totals
