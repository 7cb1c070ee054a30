"""The last fourteen days' figures for the page, read from the kept-up day summaries.

report_field_totals holds one row per day and field, checkpoint_day_totals one row per day: the
fortnight costs two queries over O(days) rows however many reports and registrations there were.
They hold once the summaries are built for the town's template, which `villagebot serve` makes
sure of at start (bot/web/serve.py), as `villagebot run` does.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from sqlalchemy import select

from storage import Store
from storage.models import CheckpointDayTotal, ReportFieldTotal
from storage.repos.records import CheckpointTotals

TREND_DAYS = 14


@dataclass
class TrendDay:
    day: dt.date
    fields: dict[str, int] = field(default_factory=dict)  # each field summed over the villages
    checkpoints: CheckpointTotals = field(default_factory=CheckpointTotals)


async def trend_days(store: Store, last: dt.date, days: int = TREND_DAYS) -> list[TrendDay]:
    """One TrendDay for each of the `days` days up to `last`, oldest first; a day nobody reported is zeros."""
    first = last - dt.timedelta(days=days - 1)
    by_day = {first + dt.timedelta(days=n): TrendDay(first + dt.timedelta(days=n)) for n in range(days)}
    field_rows = select(ReportFieldTotal).where(ReportFieldTotal.day >= first, ReportFieldTotal.day <= last)
    for row in (await store.session.scalars(field_rows)).all():
        by_day[row.day].fields[row.field] = row.value
    checkpoint_rows = select(CheckpointDayTotal).where(CheckpointDayTotal.day >= first, CheckpointDayTotal.day <= last)
    for total in (await store.session.scalars(checkpoint_rows)).all():
        by_day[total.day].checkpoints = CheckpointTotals(
            entries=total.entries,
            vehicles=total.vehicles,
            people=total.people,
            fevers=total.fevers,
            key_area_arrivals=total.key_area_arrivals,
        )
    return list(by_day.values())
