"""The real APScheduler under a controlled clock, and two real processes sharing one PostgreSQL."""

from __future__ import annotations

import asyncio
import datetime as dt
import os
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path

import pytest
import time_machine
from chat_harness import FakePlatform
from conftest import PG_URL, SHANGHAI, _admin, postgres_answers
from waiting import eventually

from bot.app import App
from handlers.clock import SystemClock
from scheduler.leader import ClockLock, lock_key
from scheduler.runner import TownClock
from storage import Database


def test_job_ids_are_stable_and_in_the_towns_time_zone(town_config) -> None:  # type: ignore[no-untyped-def]
    from handlers.town import Town

    clock = TownClock(Town.build(town_config, SystemClock()), Database("sqlite://"), lambda: None)
    assert clock.job_ids() == ["chase", "deadline", "observation_endings", "purge", "remind", "tick"]
    remind = clock.scheduler.get_job("remind")
    assert str(remind.trigger.timezone) == "Asia/Shanghai"
    assert "hour='8'" in str(remind.trigger) and "minute='0'" in str(remind.trigger)


async def test_the_real_scheduler_sends_the_reminder_at_eight_exactly_once(database: Database, town_config) -> None:  # type: ignore[no-untyped-def]
    platform = FakePlatform()
    start = dt.datetime(2020, 2, 17, 7, 59, 58, tzinfo=SHANGHAI)
    with time_machine.travel(start, tick=True):
        app = await App.start(town_config, clock=SystemClock(), platforms={"console": platform}, database=database)
        woken = asyncio.Event()
        clock = TownClock(app.town, database, woken.set)
        await clock.start()
        try:
            assert platform.sent == []  # 07:59:58: catch-up has nothing to send yet

            async def eight_sent() -> bool:
                await app.drain()
                return len(platform.sent) >= 8

            await eventually(eight_sent, what="a reminder for each village")
            # The job has run and waits for tomorrow, and nothing more is queued: no second reminder.
            next_run = clock.scheduler.get_job("remind").next_run_time
            assert next_run == dt.datetime(2020, 2, 18, 8, 0, tzinfo=SHANGHAI)
            assert await app.drain() == 0
        finally:
            clock.shutdown()
    villages = [v.name for v in town_config.villages]
    assert sorted(m.chat for m in platform.sent) == sorted(f"console:{v}" for v in villages)
    assert all(m.purpose == "remind" for m in platform.sent)


pytestmark_pg = pytest.mark.skipif(not postgres_answers(), reason="PostgreSQL does not answer at 127.0.0.1:5432")


class ClockProcess:
    """tests/clock_process.py running on the schema; what it has printed so far, line by line."""

    def __init__(self, schema: str) -> None:
        script = Path(__file__).with_name("clock_process.py")
        env = {**os.environ, "PYTHONPATH": str(Path(__file__).parent.parent)}
        self.process = subprocess.Popen([sys.executable, str(script), PG_URL, schema], stdout=subprocess.PIPE,
                                        text=True, env=env)
        self.lines: list[str] = []
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.lines.append(line.strip())

    async def said(self, word: str, times: int = 1, timeout: float = 30) -> None:
        await eventually(
            lambda: self.lines.count(word) >= times, timeout=timeout, what=f"the clock process to say {word}",
            explain=lambda: f"it said {self.lines[-5:]}, exit code {self.process.poll()}",
        )

    def kill(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait(10)


@pytestmark_pg
async def test_one_of_two_processes_keeps_the_clock_and_the_other_takes_over_when_it_dies() -> None:
    schema = f"t_{uuid.uuid4().hex[:12]}"
    await _admin(f'CREATE SCHEMA "{schema}"')
    database = Database(PG_URL, schema=schema)
    await database.migrate()
    await database.close()
    first = ClockProcess(schema)
    second = None
    try:
        await first.said("LEADING")
        second = ClockProcess(schema)
        await second.said("TRIED", times=3)  # three of its tries, refused
        assert "LEADING" not in second.lines
        lock = ClockLock(Database(PG_URL, schema=schema), "王岘镇")
        assert not await lock.try_acquire(), "the first process holds the lock"
        await lock.lock.database.close()
        first.kill()
        taken_over = time.monotonic()
        await second.said("LEADING", timeout=60)
        assert time.monotonic() - taken_over < 60
    finally:
        for process in (first, second):
            if process is not None:
                process.kill()
        await _admin(f'DROP SCHEMA "{schema}" CASCADE')


def test_lock_keys_differ_between_towns() -> None:
    assert lock_key("王岘镇") != lock_key("别的镇")
    assert 0 <= lock_key("王岘镇") < 2**32
