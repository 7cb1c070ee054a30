"""The bot against a Telegram Bot API emulator nobody here wrote: npm telegram-test-api 4.2.1.

It answers as the issue found: a getMe without `is_bot`, every sent message dated in milliseconds,
a getUpdates that returns at once. Installed by `.ci/run` (`npm ci` in tests/telegram_emulator, from
its lockfile); these tests skip, saying so, only where that folder has no node_modules. The
emulator runs as a node process on 127.0.0.1; messages are said through its client API
(/sendMessage) and what the bot sent is read back from its history (/getUpdatesHistory).
tests/test_telegram_answers.py has the same cases against the stand-in, which can also count calls.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import shutil
import socket
import subprocess
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import select
from telegram import User
from telegram_standin import ADMIN, FULL_REPORT, HONGXING, LEADERS, TOKEN, WANGXIAN, WUXING, WUXING_HEAD, town_toml
from waiting import eventually

from bot.app import App
from bot.platforms import telegram_adapter
from bot.telegram_adapter import TelegramAdapter
from handlers.clock import ManualClock
from handlers.transport import PlatformError
from storage import Database
from storage.models import OutboxMessage
from townconfig import TownConfig, parse_config

FOLDER = Path(__file__).parent / "telegram_emulator"
INSTALLED = (FOLDER / "node_modules" / "telegram-test-api").is_dir() and shutil.which("node") is not None

pytestmark = pytest.mark.skipif(
    not INSTALLED, reason="telegram-test-api is not installed: run `npm ci` in tests/telegram_emulator (.ci/run does)"
)


class Emulator:
    """telegram-test-api in a node process of its own, at `port`."""

    def __init__(self, port: int, process: subprocess.Popen[bytes]) -> None:
        self.port = port
        self.process = process
        self.client = httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=10)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/bot"

    async def says(self, chat_id: int, user_id: int, text: str, *, date: int, chat_type: str = "supergroup") -> None:
        """A person writes in a group, through the emulator's client API."""
        message = {
            "botToken": TOKEN,
            "from": {"id": user_id, "is_bot": False, "first_name": f"用户{user_id}"},
            "chat": {"id": chat_id, "type": chat_type, "title": f"群{chat_id}"},
            "text": text,
            "date": date,
        }
        answer = await self.client.post("/sendMessage", json=message)
        answer.raise_for_status()

    async def sent(self) -> list[dict[str, Any]]:
        """What the bot sent (as it sent it: chat_id, text, …), oldest first."""
        answer = await self.client.post("/getUpdatesHistory", json={"token": TOKEN})
        answer.raise_for_status()
        return [item["message"] for item in answer.json()["result"] if "chat_id" in item["message"]]

    async def sent_to(self, chat_id: int) -> list[str]:
        return [str(m["text"]) for m in await self.sent() if str(m["chat_id"]) == str(chat_id)]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def emulator_process() -> Iterator[tuple[int, subprocess.Popen[bytes]]]:
    port = free_port()
    process = subprocess.Popen(
        ["node", "serve.js", str(port)], cwd=FOLDER, stdin=subprocess.PIPE, stdout=subprocess.PIPE
    )
    try:
        assert process.stdout is not None
        line = process.stdout.readline().decode()  # the emulator is up when it says so
        assert line.strip() == f"listening {port}", f"telegram-test-api did not start: {line!r}"
        yield port, process
    finally:
        process.terminate()
        process.wait(10)


@pytest.fixture
async def emulator(emulator_process: tuple[int, subprocess.Popen[bytes]]) -> AsyncIterator[Emulator]:
    found = Emulator(*emulator_process)
    try:
        yield found
    finally:
        await found.client.aclose()


@pytest.fixture
def town(monkeypatch: pytest.MonkeyPatch, emulator: Emulator) -> TownConfig:
    monkeypatch.setenv("TELEGRAM_BASE_URL", emulator.base_url)
    return parse_config(town_toml(), "town.toml")


async def test_the_emulators_getme_stops_the_bot_naming_getme_the_server_and_its_answer(
    database: Database, town: TownConfig, emulator: Emulator, clock: ManualClock
) -> None:
    app = await App.start(town, clock=clock, database=database)
    adapter = telegram_adapter(app, TOKEN, retry_seconds=0.05)
    with pytest.raises(PlatformError) as stopped:
        await asyncio.wait_for(adapter.run(asyncio.Event()), 10)
    message = str(stopped.value)
    assert "getMe" in message and emulator.base_url in message
    assert '"username":"TestNameBot"' in message and "is_bot" in message


@contextlib.asynccontextmanager
async def running(app: App, adapter: TelegramAdapter) -> AsyncIterator[None]:
    """The adapter receiving and the outbox sender sending, until the block ends."""
    sender = app.add_platform(adapter)
    stop = asyncio.Event()
    receiving = asyncio.create_task(adapter.run(stop))
    sending = asyncio.create_task(sender.run(idle_seconds=0.05))
    try:
        yield
    finally:
        stop.set()
        sending.cancel()  # the sender runs until cancelled, as in test_telegram_chat.running_bot
        await asyncio.wait({receiving, sending}, timeout=10)
        receiving.cancel()
    assert receiving.done() and receiving.exception() is None


async def outbox_rows(app: App) -> list[OutboxMessage]:
    async with app.database.transaction() as store:
        return list((await store.session.scalars(select(OutboxMessage).order_by(OutboxMessage.id))).all())


async def test_through_the_emulator_a_report_is_answered_once_and_a_notice_reaches_each_group_once(
    database: Database, town: TownConfig, emulator: Emulator, clock: ManualClock, caplog: pytest.LogCaptureFixture
) -> None:
    """The emulator dates every sent message in milliseconds, which python-telegram-bot cannot read:
    each send is still recorded as sent, once, with the emulator's message id. Its getMe cannot be
    read at all (the test above), so the bot's user is given here as Telegram would answer it."""
    caplog.set_level(logging.INFO, logger="httpx")  # each request, to count the polls
    app = await App.start(town, clock=clock, database=database)
    adapter = telegram_adapter(app, TOKEN, retry_seconds=0.05, poll_gap=0.2)
    adapter._me = User(  # the getMe the emulator cannot answer readably
        id=666, first_name="Test First name", is_bot=True, username="TestNameBot", can_read_all_group_messages=True
    )
    date = int(clock.now().timestamp())
    started = time.monotonic()
    async with running(app, adapter):
        await emulator.says(WUXING, WUXING_HEAD, FULL_REPORT, date=date)
        await emulator.says(LEADERS, ADMIN, "通知：今晚8点各村开会。", date=date)

        async def all_sent() -> bool:
            rows = await outbox_rows(app)
            delivered = [row for row in rows if "已送达" in row.text]  # the receipt, once all went
            return bool(delivered) and all(row.status == "sent" for row in rows)

        await eventually(all_sent, what="every outbox row sent", explain=lambda: caplog.text[-2000:])
        polls = len([r for r in caplog.records if "getUpdates" in r.getMessage()])
        elapsed = time.monotonic() - started
    replies = await emulator.sent_to(WUXING)
    assert len([t for t in replies if t.startswith("✅ 已收到五星村")]) == 1
    for chat in (WUXING, WANGXIAN, HONGXING):
        assert len([t for t in await emulator.sent_to(chat) if "开会" in t]) == 1
    receipts = await emulator.sent_to(LEADERS)
    assert len([t for t in receipts if "已发往" in t]) == 1
    assert [t for t in receipts if "已送达" in t] == ["📬 通知 #1 已送达 3/3 个群。"]  # not told it failed
    rows = await outbox_rows(app)
    assert all(row.attempts == 1 and row.platform_message_id for row in rows if row.merged_into is None)
    assert app.senders["telegram"].ambiguous == 0
    assert polls <= elapsed / 0.2 + 2, (polls, elapsed)  # not 18 a second
