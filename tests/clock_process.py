"""A bot process that only keeps the clock: for the test that kills the leader (tests/test_clock_processes.py).

Usage: python clock_process.py DATABASE_URL SCHEMA. Prints LEADING / FOLLOWING when that changes.
"""

from __future__ import annotations

import asyncio
import sys

from bot.app import App
from scheduler.leader import keep_the_clock
from storage import Database
from townconfig import example_town


async def main(url: str, schema: str) -> None:
    app = await App.start(example_town(), database=Database(url, schema=schema))

    def report(leading: bool) -> None:
        print("LEADING" if leading else "FOLLOWING", flush=True)

    print("STARTED", flush=True)
    await keep_the_clock(app.town, app.database, lambda: None, asyncio.Event(), retry_seconds=0.3, on_leading=report)


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], sys.argv[2]))
