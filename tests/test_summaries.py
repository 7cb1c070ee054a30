"""The kept-up summaries give exactly the numbers the records give: the day's reports, the totals
since the campaign start and the checkpoint totals, on generated histories with corrections, partial
and late reports, complete reports that replace, and edits; and after a rebuild from the records."""

from __future__ import annotations

import datetime as dt
import random

from storage import Database
from storage.repos.reports import DailyReports

FIELDS = ("households_visited", "returnees", "under_observation", "fever", "disinfections", "posters")
REQUIRED = FIELDS[:5]
VILLAGES = [f"村{n}" for n in range(7)]
FIRST = dt.date(2020, 1, 27)
AT = dt.datetime(2020, 1, 27, 9, tzinfo=dt.UTC)


def random_fields(rng: random.Random, complete: bool) -> dict[str, int]:
    names = FIELDS if complete else rng.sample(FIELDS, rng.randint(1, 3))
    return {name: rng.randint(0, 300) for name in names if complete or rng.random() < 0.9} or {"fever": 1}


async def write_history(database: Database, seed: int, *, days: int = 12, edits: bool = True) -> None:
    rng = random.Random(seed)
    for offset in range(days):
        day = FIRST + dt.timedelta(days=offset)
        for _ in range(rng.randint(0, 25)):
            async with database.transaction() as store:
                village = rng.choice(VILLAGES)
                revision = await store.reports.add_revision(
                    village=village,
                    day=day,
                    fields=random_fields(rng, complete=rng.random() < 0.5),
                    correction=rng.random() < 0.3,
                    late=rng.random() < 0.2,
                    by="console:x",
                    at=AT + dt.timedelta(days=offset, minutes=rng.randint(0, 600)),
                    chat="console:x",
                    required=REQUIRED,
                )
                if edits and rng.random() < 0.1:  # the message is edited in the same breath
                    await store.reports.replace_fields(revision, random_fields(rng, complete=False), REQUIRED)
            if rng.random() < 0.3:
                async with database.transaction() as store:
                    await store.checkpoints.add(
                        checkpoint="卡点",
                        day=day,
                        plate=rng.choice([None, "甘D12345"]),
                        persons=rng.randint(1, 5),
                        temperatures=[rng.choice([36.5, 37.5, 38.2]) for _ in range(rng.randint(0, 3))],
                        origin="兰州",
                        destination=None,
                        fever=rng.random() < 0.2,
                        key_area=rng.random() < 0.1,
                        registered_by="console:y",
                        registered_at=AT + dt.timedelta(days=offset),
                        chat="console:卡点",
                    )


async def assert_summaries_agree(database: Database, rng: random.Random, days: int) -> None:
    async with database.transaction() as store:
        reports: DailyReports = store.reports
        for offset in range(days):
            day = FIRST + dt.timedelta(days=offset)
            assert await reports.all_for_day(day, REQUIRED) == await reports.merged_for_day(day, REQUIRED), day
        for _ in range(15):
            first = FIRST + dt.timedelta(days=rng.randint(0, days - 1))
            last = first + dt.timedelta(days=rng.randint(0, days))
            summed, merged = (
                await reports.totals_between(first, last, REQUIRED),
                await reports.merged_totals_between(first, last, REQUIRED),
            )
            assert summed == {k: v for k, v in merged.items() if v}, (first, last)
            assert await store.checkpoints.totals(first, last) == await store.checkpoints.counted_totals(first, last)


async def test_kept_up_summaries_agree_with_the_records(database: Database) -> None:
    async with database.transaction() as store:
        assert await store.reports.rebuild_summaries(REQUIRED)  # a fresh database: built, empty
        assert await store.checkpoints.rebuild_day_totals()
    for seed in (1, 2):
        await write_history(database, seed)
        await assert_summaries_agree(database, random.Random(seed), 12)
    async with database.transaction() as store:
        assert not await store.reports.rebuild_summaries(REQUIRED)  # already built for this template


async def test_summaries_built_from_the_records_agree_and_follow_a_template_change(database: Database) -> None:
    await write_history(database, 3)  # no summaries yet: every answer comes from the records
    await assert_summaries_agree(database, random.Random(3), 12)
    async with database.transaction() as store:
        assert await store.reports.rebuild_summaries(REQUIRED)
        assert await store.checkpoints.rebuild_day_totals()
    await assert_summaries_agree(database, random.Random(4), 12)
    changed = (*REQUIRED, "posters")  # the town made 宣传单 required: complete reports merge otherwise
    async with database.transaction() as store:
        assert await store.reports.rebuild_summaries(changed)
    async with database.transaction() as store:
        for offset in range(12):
            day = FIRST + dt.timedelta(days=offset)
            assert await store.reports.all_for_day(day, changed) == await store.reports.merged_for_day(day, changed)
        # asked with the old template, the summaries (built for the new one) are not used
        day = FIRST + dt.timedelta(days=5)
        assert await store.reports.all_for_day(day, REQUIRED) == await store.reports.merged_for_day(day, REQUIRED)


async def test_the_accountability_record_counts_as_the_days_missed_say(database: Database) -> None:
    """Missed this month and days in a row (looking back at most 62 days), from grouped queries,
    against the days themselves, on a generated quarter with streaks longer than the look-back."""
    rng = random.Random(16)
    missed: dict[str, set[dt.date]] = {village: set() for village in VILLAGES}
    async with database.transaction() as store:
        for offset in range(100):
            day = FIRST + dt.timedelta(days=offset)
            out = [(v, rng.random() < 0.3) for v in VILLAGES if v == VILLAGES[0] or rng.random() < 0.4]
            await store.missed_reports.record_many(day, out, at=AT + dt.timedelta(days=offset))
            for village, _ in out:
                missed[village].add(day)
    async with database.transaction() as store:
        for offset in (0, 5, 31, 40, 63, 70, 99):
            day = FIRST + dt.timedelta(days=offset)
            lookback = min(day.replace(day=1), day - dt.timedelta(days=62))
            expected = []
            for village in VILLAGES:
                days = {d for d in missed[village] if lookback <= d <= day}
                streak = 0
                while day - dt.timedelta(days=streak) in days:
                    streak += 1
                expected.append((village, sum(d.month == day.month and d.year == day.year for d in days), streak))
            found = await store.missed_reports.accountability(day, VILLAGES)
            assert [(a.village, a.missed_this_month, a.in_a_row) for a in found] == expected, day
            assert found[0].in_a_row == min(offset + 1, 63)  # 村0 misses every day: capped by the look-back
