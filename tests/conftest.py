"""Fixtures shared by the storage and handler tests: the database on both backends, the town, a clock."""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import os
import signal
import socket
import tempfile
import uuid
from collections.abc import AsyncIterator, Iterator
from functools import cache
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from chat_harness import Chat, FakePlatform
from controlled_process import TickingClock
from number_leaks import LeakingRecords, describe, scan_database
from offline import NetworkGuard
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from bot.app import App
from handlers.clock import ManualClock
from storage import Database, async_url
from storage.personal_data import new_key
from townconfig import TownConfig, example_town

pytest_plugins = ["telegram_fixtures"]  # the Telegram stand-in and its town, for every Telegram test

PG_URL = os.environ.get("VILLAGEBOT_TEST_POSTGRES", "postgresql://postgres@127.0.0.1:5432/test")
SHANGHAI = ZoneInfo("Asia/Shanghai")


def _print_asyncio_tasks(signum: int, frame: object) -> None:
    """`kill -USR1 <pytest pid>`: the stacks of the running loop's tasks, written to
    $TMPDIR/villagebot-tasks-<pid>.txt (pytest captures stderr), for a test that hangs: thread
    dumps show only the loop waiting in select."""
    loop = asyncio._get_running_loop()
    tasks = asyncio.all_tasks(loop) if loop is not None else set()
    with open(Path(tempfile.gettempdir()) / f"villagebot-tasks-{os.getpid()}.txt", "w") as out:
        print(f"--- {len(tasks)} asyncio tasks ---", file=out)
        for task in tasks:
            task.print_stack(file=out)


signal.signal(signal.SIGUSR1, _print_asyncio_tasks)

NETWORK_GUARD = NetworkGuard()
LEAKING_RECORDS = LeakingRecords()


def pytest_configure(config: pytest.Config) -> None:
    NETWORK_GUARD.install()
    logging.getLogger().addHandler(LEAKING_RECORDS)


def pytest_unconfigure(config: pytest.Config) -> None:
    NETWORK_GUARD.uninstall()
    logging.getLogger().removeHandler(LEAKING_RECORDS)


@pytest.fixture(autouse=True)
def logs_show_no_whole_number() -> Iterator[None]:
    """Every log line of the test, after the masking filter the bot installs (tests/number_leaks.py)."""
    LEAKING_RECORDS.take()
    yield
    found = LEAKING_RECORDS.take()
    assert not found, describe(found)


@pytest.fixture(autouse=True)
def stays_on_this_machine() -> Iterator[NetworkGuard]:
    """Fails a test that tried to reach beyond loopback, even if the library it used swallowed the error."""
    NETWORK_GUARD.refused.clear()
    yield NETWORK_GUARD
    refused, NETWORK_GUARD.refused[:] = list(NETWORK_GUARD.refused), []
    assert not refused, f"the test tried to leave this machine: {refused}"


@cache
def postgres_answers() -> bool:
    try:
        with socket.create_connection(("127.0.0.1", 5432), timeout=2):
            return True
    except OSError:
        return False


async def _admin(statement: str) -> None:
    engine = create_async_engine(async_url(PG_URL), isolation_level="AUTOCOMMIT")
    try:
        async with engine.connect() as connection:
            await connection.execute(text(statement))
    finally:
        await engine.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
async def database(request: pytest.FixtureRequest, tmp_path: os.PathLike[str]) -> AsyncIterator[Database]:
    """A fresh, migrated database: an SQLite file, or a PostgreSQL schema of its own. What the test
    left in it is scanned for whole ID and mobile numbers (tests/number_leaks.py) before it goes."""
    config: TownConfig = request.getfixturevalue("town_config")
    if request.param == "sqlite":
        db = Database(f"sqlite:///{tmp_path}/villagebot.db")
        await db.migrate()
        yield db
        found = await scan_database(db, config)
        await db.close()
        assert not found, describe(found)
        return
    if not postgres_answers():
        pytest.skip("PostgreSQL does not answer at 127.0.0.1:5432 (start it to run the PostgreSQL half)")
    schema = f"t_{uuid.uuid4().hex[:12]}"
    await _admin(f'CREATE SCHEMA "{schema}"')
    db = Database(PG_URL, schema=schema)
    found: list[str] = []
    try:
        await db.migrate()
        yield db
        found = await scan_database(db, config)
    finally:
        await db.close()
        # A connection a cancelled task left checked out (idle in a transaction) would block the
        # DROP for ever: end the schema's own connections first.
        await _admin(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            f"WHERE application_name = 'villagebot-{schema}' AND pid <> pg_backend_pid()"
        )
        await _admin(f'DROP SCHEMA "{schema}" CASCADE')
    assert not found, describe(found)


@pytest.fixture
def town_config() -> TownConfig:
    return example_town()


@pytest.fixture
def clock() -> ManualClock:
    """9 o'clock on a weekday morning in the town, 17 Feb 2020."""
    return ManualClock(dt.datetime(2020, 2, 17, 9, 0, tzinfo=SHANGHAI))


@pytest.fixture
def ticking_clock(clock: ManualClock) -> TickingClock:
    """The same moment as `clock`, moving with the wall clock: for a bot in a process of its own,
    which keeps time by itself (tests/controlled_process.py)."""
    return TickingClock(clock.now())


@pytest.fixture
async def chat(database: Database, town_config: TownConfig, clock: ManualClock) -> AsyncIterator[Chat]:
    """The real app (dispatcher, outbox, sender) on the test database, delivering to a FakePlatform."""
    platform = FakePlatform()
    app = await App.start(town_config, clock=clock, platforms={"console": platform}, database=database)
    yield Chat(app, platform)


@pytest.fixture
async def keyed(
    database: Database, town_config: TownConfig, clock: ManualClock, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[Chat]:
    """The real app with a data key, so that people under observation can be registered."""
    monkeypatch.setenv("VILLAGEBOT_DATA_KEY", new_key())
    platform = FakePlatform()
    app = await App.start(town_config, clock=clock, platforms={"console": platform}, database=database)
    yield Chat(app, platform)
