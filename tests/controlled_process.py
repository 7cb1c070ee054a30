"""`villagebot` as a process on the tests' clock, for the tests that run it as the town does.

A process keeps time by itself, so its clock ticks: `TickingClock` is the town's time in the test,
starting where the test sets it (say 9:00 on 17 Feb 2020) and moving with the wall clock; the bot
process started with `villagebot(clock, ...)` runs on the same time (time-machine, from its
start), so which day it is and when the day's routine comes does not depend on when the suite runs.

Usage (what `villagebot()` builds): python controlled_process.py TOWN_TIME WALL_TIME ARGS...:
`villagebot ARGS` with the town's time TOWN_TIME at the wall clock's WALL_TIME (time.time()).
The process also stays on this machine (tests/offline.py), as the tests do.
"""

from __future__ import annotations

import datetime as dt
import sys
import time
from pathlib import Path


class TickingClock:
    """The town's time for a bot in another process: set where a test needs it, then it moves on
    with the wall clock (in the process too). `handlers.clock.Clock`."""

    def __init__(self, start: dt.datetime) -> None:
        if start.tzinfo is None:
            raise ValueError("TickingClock needs an aware datetime")
        self.set(start)

    def set(self, when: dt.datetime) -> None:
        """Now is `when`; a process started after this runs on the new time."""
        self._start, self._wall = when, time.time()

    def now(self) -> dt.datetime:
        return self._start + dt.timedelta(seconds=time.time() - self._wall)

    def command(self, *args: str) -> list[str]:
        """`villagebot ARGS` on this clock."""
        return [sys.executable, str(Path(__file__).resolve()), self._start.isoformat(), repr(self._wall), *args]


def main(town_time: str, wall_time: str, args: list[str]) -> int:
    import time_machine
    from offline import NetworkGuard

    NetworkGuard().install()
    start = dt.datetime.fromisoformat(town_time) + dt.timedelta(seconds=time.time() - float(wall_time))
    time_machine.travel(start, tick=True).start()
    from bot.cli import main as villagebot

    return villagebot(args)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], sys.argv[2], sys.argv[3:]))
