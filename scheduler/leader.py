"""Exactly one process keeps the clock: the one holding a PostgreSQL advisory lock.

The lock belongs to a database session, so when its process dies (or its connection drops) the
server releases it and another process takes over at its next try. With SQLite there is one
process by definition, and it always leads.

APScheduler 4 solves this differently: a shared data store where every scheduler acquires
schedules and jobs with row locks and leases. We stay on APScheduler 3 (the chosen package) with
an in-memory job store, and make the lock decide who runs it; the unique claims in
`scheduled_sends` are the second line of defence, so even two leaders for a moment send once.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import zlib
from collections.abc import Awaitable, Callable

from handlers.town import Town
from storage import Database
from storage.advisory_lock import AdvisoryLock

from .runner import TownClock

log = logging.getLogger(__name__)

RETRY_SECONDS = 15.0


def lock_key(town_name: str) -> int:
    """A stable 32-bit key per town, so two towns on one server do not block each other."""
    return zlib.crc32(f"villagebot-clock:{town_name}".encode())


class ClockLock:
    """The clock's advisory lock for one town (storage/advisory_lock.py)."""

    def __init__(self, database: Database, town_name: str) -> None:
        # A town in a schema of its own (a county's, a test's) locks within it: two counties on one
        # server may each have a 王岘镇; a single town in the default schema keeps its key as before.
        scope = town_name if database.schema is None else f"{database.schema}/{town_name}"
        self.lock = AdvisoryLock(database, (lock_key(scope),))

    async def try_acquire(self) -> bool:
        """Whether this process keeps the clock now: the lock taken, or still held."""
        if self.lock.held:
            return await self.lock.still_held()
        return await self.lock.try_take()

    async def release(self) -> None:
        await self.lock.release()


async def keep_the_clock(
    town: Town,
    database: Database,
    on_sent: Callable[[], None],
    stop: asyncio.Event,
    retry_seconds: float = RETRY_SECONDS,
    on_leading: Callable[[bool], None] | None = None,
) -> None:
    """Run the town's clock while this process holds the lock; try again every `retry_seconds`."""
    lock = ClockLock(database, town.name)
    clock: TownClock | None = None
    try:
        while not stop.is_set():
            try:
                leading = await lock.try_acquire()
            except Exception:
                log.exception("could not ask for the clock lock")
                leading = False
            if leading and clock is None:
                log.info("this process keeps the clock for %s", town.name)
                clock = TownClock(town, database, on_sent)
                await clock.start()
                if on_leading:
                    on_leading(True)
            elif not leading and clock is not None:
                log.warning("this process no longer keeps the clock")
                clock.shutdown()
                clock = None
                if on_leading:
                    on_leading(False)
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(retry_seconds):  # not wait_for: see OutboxSender.run
                    await stop.wait()
    finally:
        if clock is not None:
            clock.shutdown()
        await lock.release()


#: Seconds between the county clock's looks at whether the county summary is due.
COUNTY_SECONDS = 30.0


async def keep_the_county_clock(
    database: Database,
    county_name: str,
    duty: Callable[[], Awaitable[int]],
    stop: asyncio.Event,
    every_seconds: float = COUNTY_SECONDS,
) -> None:
    """Run the county's `duty` (the summary once its time has come) every `every_seconds`, in the one
    process holding the county's lock on the host town's database; the duty's own once-only claim
    is the second line of defence."""
    lock = ClockLock(database, f"county:{county_name}")
    try:
        while not stop.is_set():
            try:
                if await lock.try_acquire():
                    await duty()
            except Exception:
                log.exception("the county clock's round failed; it tries again")
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(every_seconds):
                    await stop.wait()
    finally:
        await lock.release()
