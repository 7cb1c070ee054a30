"""A bot process that only keeps the clock: for the test that kills the leader (tests/test_clock_processes.py).

Usage: python clock_process.py DATABASE_URL SCHEMA. Prints LEADING / FOLLOWING when that changes,
and TRIED after each try for the lock that did not get it, for the test to know it is trying.
"""

from __future__ import annotations

import asyncio
import sys

from offline import NetworkGuard

from bot.app import App
from scheduler.leader import ClockLock, keep_the_clock
from storage import Database
from townconfig import example_town


async def main(url: str, schema: str) -> None:
    try_acquire = ClockLock.try_acquire

    async def tried(lock: ClockLock) -> bool:
        got = await try_acquire(lock)
        if not got:
            print("TRIED", flush=True)
        return got

    ClockLock.try_acquire = tried  # type: ignore[method-assign]
    app = await App.start(example_town(), database=Database(url, schema=schema))

    def report(leading: bool) -> None:
        print("LEADING" if leading else "FOLLOWING", flush=True)

    print("STARTED", flush=True)
    await keep_the_clock(app.town, app.database, lambda: None, asyncio.Event(), retry_seconds=0.3, on_leading=report)


if __name__ == "__main__":
    NetworkGuard().install()  # a process of the tests stays on this machine too
    asyncio.run(main(sys.argv[1], sys.argv[2]))
