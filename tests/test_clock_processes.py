"""The real APScheduler under a controlled clock, and two real processes sharing one PostgreSQL."""

from __future__ import annotations

import asyncio
import datetime as dt
import os
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
import time_machine
from chat_harness import FakePlatform
from conftest import PG_URL, SHANGHAI, _admin, postgres_answers

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
            for _ in range(100):
                await app.drain()
                if len(platform.sent) >= 8:
                    break
                await asyncio.sleep(0.05)
            await asyncio.sleep(0.2)
            await app.drain()
        finally:
            clock.shutdown()
    villages = [v.name for v in town_config.villages]
    assert sorted(m.chat for m in platform.sent) == sorted(f"console:{v}" for v in villages)
    assert all(m.purpose == "remind" for m in platform.sent)


pytestmark_pg = pytest.mark.skipif(not postgres_answers(), reason="PostgreSQL does not answer at 127.0.0.1:5432")


def _wait_for(process: subprocess.Popen[str], word: str, seconds: float) -> bool:
    assert process.stdout is not None
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        line = process.stdout.readline()
        if line.strip() == word:
            return True
        if not line and process.poll() is not None:
            return False
    return False


@pytestmark_pg
async def test_one_of_two_processes_keeps_the_clock_and_the_other_takes_over_when_it_dies() -> None:
    schema = f"t_{uuid.uuid4().hex[:12]}"
    await _admin(f'CREATE SCHEMA "{schema}"')
    database = Database(PG_URL, schema=schema)
    await database.migrate()
    await database.close()
    script = Path(__file__).with_name("clock_process.py")
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).parent.parent)}

    def start() -> subprocess.Popen[str]:
        return subprocess.Popen([sys.executable, str(script), PG_URL, schema], stdout=subprocess.PIPE, text=True,
                                env=env)

    first = start()
    second = None
    try:
        assert await asyncio.to_thread(_wait_for, first, "LEADING", 30)
        second = start()
        assert await asyncio.to_thread(_wait_for, second, "STARTED", 30)
        await asyncio.sleep(1.5)  # five of its tries
        lock = ClockLock(Database(PG_URL, schema=schema), "王岘镇")
        assert not await lock.try_acquire(), "the first process holds the lock"
        await lock.lock.database.close()
        first.kill()
        first.wait(10)
        taken_over = time.monotonic()
        assert await asyncio.to_thread(_wait_for, second, "LEADING", 60)
        assert time.monotonic() - taken_over < 60
    finally:
        for process in (first, second):
            if process is not None and process.poll() is None:
                process.kill()
                process.wait(10)
        await _admin(f'DROP SCHEMA "{schema}" CASCADE')


def test_lock_keys_differ_between_towns() -> None:
    assert lock_key("王岘镇") != lock_key("别的镇")
    assert 0 <= lock_key("王岘镇") < 2**32
