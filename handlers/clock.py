"""Time, injected: handlers and jobs ask a clock, so tests can run a whole day without waiting."""

from __future__ import annotations

import datetime as dt
from typing import Protocol
from zoneinfo import ZoneInfo


class Clock(Protocol):
    def now(self) -> dt.datetime:
        """The current time, timezone-aware."""
        ...


class SystemClock:
    def now(self) -> dt.datetime:
        return dt.datetime.now(dt.UTC)


class ManualClock:
    """A clock that moves only when told to."""

    def __init__(self, start: dt.datetime) -> None:
        if start.tzinfo is None:
            raise ValueError("ManualClock needs an aware datetime")
        self._now = start

    def now(self) -> dt.datetime:
        return self._now

    def set(self, when: dt.datetime) -> None:
        if when.tzinfo is None:
            raise ValueError("ManualClock needs an aware datetime")
        self._now = when

    def advance(self, delta: dt.timedelta) -> None:
        self._now += delta


def local_day(moment: dt.datetime, zone: ZoneInfo) -> dt.date:
    """The town's calendar day at that moment: days start and end in the town's time zone."""
    return moment.astimezone(zone).date()


def at_local(day: dt.date, time: dt.time, zone: ZoneInfo) -> dt.datetime:
    """That local time of that day, as an aware datetime."""
    return dt.datetime.combine(day, time, tzinfo=zone)
