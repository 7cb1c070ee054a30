"""What the clock has done: scheduled sends (once per day, kind and chat), scheduled notices, missed reports."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from ..models import MissedReport, ScheduledNotice, ScheduledSend, is_row_id
from ..upsert import insert_or_ignore


class ScheduledSends:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def claim(self, day: dt.date, kind: str, chat: str, at: dt.datetime) -> int | None:
        """Record that `kind` goes to `chat` on `day`; None when it already went (or is going)."""
        statement = (
            insert_or_ignore(self.session, ScheduledSend)
            .values(day=day, kind=kind, chat=chat, created_at=at)
            .on_conflict_do_nothing(index_elements=["day", "kind", "chat"])
            .returning(ScheduledSend.id)
        )
        return (await self.session.execute(statement)).scalar_one_or_none()

    async def attach(self, send_id: int, outbox_id: int) -> None:
        await self.session.execute(update(ScheduledSend).where(ScheduledSend.id == send_id).values(outbox_id=outbox_id))

    async def on_day(self, day: dt.date, kind: str | None = None) -> list[ScheduledSend]:
        query = select(ScheduledSend).where(ScheduledSend.day == day).order_by(ScheduledSend.id)
        if kind is not None:
            query = query.where(ScheduledSend.kind == kind)
        return list((await self.session.scalars(query)).all())


class ScheduledNotices:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def add(
        self, *, run_at: dt.datetime, body: str, villages: Sequence[str], by: str, at: dt.datetime, chat: str
    ) -> ScheduledNotice:
        notice = ScheduledNotice(
            run_at=run_at, body=body, villages=list(villages), created_by=by, created_at=at, chat=chat, status="pending"
        )
        self.session.add(notice)
        await self.session.flush()
        return notice

    async def pending(self) -> list[ScheduledNotice]:
        query = select(ScheduledNotice).where(ScheduledNotice.status == "pending").order_by(ScheduledNotice.run_at)
        return list((await self.session.scalars(query)).all())

    async def due(self, now: dt.datetime) -> list[ScheduledNotice]:
        """Due notices, locked so that two processes cannot both send one (PostgreSQL)."""
        query = (
            select(ScheduledNotice)
            .where(ScheduledNotice.status == "pending", ScheduledNotice.run_at <= now)
            .order_by(ScheduledNotice.run_at)
            .with_for_update(skip_locked=True)
        )
        return list((await self.session.scalars(query)).all())

    async def get(self, notice_id: int) -> ScheduledNotice | None:
        return await self.session.get(ScheduledNotice, notice_id) if is_row_id(notice_id) else None


@dataclass(frozen=True)
class Accountability:
    village: str
    missed_this_month: int
    in_a_row: int  # consecutive days missed, ending with the day asked about


class MissedReports:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def record(self, day: dt.date, village: str, *, incomplete: bool, at: dt.datetime) -> None:
        statement = (
            insert_or_ignore(self.session, MissedReport)
            .values(day=day, village=village, incomplete=incomplete, recorded_at=at)
            .on_conflict_do_nothing(index_elements=["day", "village"])
        )
        await self.session.execute(statement)

    async def record_many(self, day: dt.date, villages: Sequence[tuple[str, bool]], *, at: dt.datetime) -> None:
        """(village, incomplete) for every village out at the deadline, in one statement: a county's
        thousand villages are not a thousand round trips while reports keep arriving."""
        if villages:
            rows = [{"day": day, "village": v, "incomplete": gap, "recorded_at": at} for v, gap in villages]
            statement = insert_or_ignore(self.session, MissedReport).on_conflict_do_nothing(
                index_elements=["day", "village"]
            )
            await self.session.execute(statement, rows)

    async def accountability(self, day: dt.date, villages: Sequence[str]) -> list[Accountability]:
        """For each village: days missed this month up to `day`, and how many in a row up to `day`
        (looking back at most 62 days before it). The month's counts are one grouped query; the
        days in a row are read only for the villages out on `day`, the only ones that have any."""
        first = day.replace(day=1)
        lookback = min(first, day - dt.timedelta(days=62))
        this_month = (
            select(MissedReport.village, func.count())
            .where(MissedReport.day >= first, MissedReport.day <= day)
            .group_by(MissedReport.village)
        )
        counts = {village: int(n) for village, n in (await self.session.execute(this_month)).all()}
        out_today = select(MissedReport.village).where(MissedReport.day == day)
        streaks = select(MissedReport.village, MissedReport.day).where(
            MissedReport.village.in_(out_today), MissedReport.day >= lookback, MissedReport.day <= day
        )
        missed: dict[str, set[dt.date]] = {}
        for village, missed_day in (await self.session.execute(streaks)).all():
            missed.setdefault(village, set()).add(missed_day)
        result = []
        for village in villages:
            days = missed.get(village, set())
            streak, cursor = 0, day
            while cursor in days:
                streak += 1
                cursor -= dt.timedelta(days=1)
            result.append(Accountability(village, counts.get(village, 0), streak))
        return result
