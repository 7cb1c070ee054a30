"""Crash accounting as the town would see it: `villagebot run` killed (SIGKILL) mid-broadcast, restarted.

The process sends a notice to 300 Telegram groups. The stand-in answers the first sends, then
takes every further one (the group has it) without answering, so that the sender has exactly its
concurrency's worth in flight and the rest of its round claimed and unsent. The process is killed
then; the restarted one finishes the outbox. Only what the stand-in had received and not answered
may be flagged "possibly doubled", and only that arrives twice: nothing lost, nothing else doubled.
The process runs on the tests' clock (tests/controlled_process.py); the database is an SQLite file.
"""

from __future__ import annotations

import asyncio
import os
import signal
import sqlite3
import subprocess
from collections import Counter
from pathlib import Path
from typing import IO, Any

import httpx
from aiohttp import web
from controlled_process import TickingClock
from telegram_standin import ADMIN, LEADERS, TelegramStandIn
from waiting import eventually

from bot.telegram_adapter import TelegramAdapter

FIRST_GROUP = -1004000000000
GROUPS = 300
ANSWERED = 100  # sends the stand-in answers before it holds the rest


class HoldingStandIn(TelegramStandIn):
    """Telegram whose answers stop coming after the first `answer_first` sends: each later send
    arrives (it is in `sent`, the group has it) and its answer is held until `release`."""

    def __init__(self, answer_first: int, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.answer_first = answer_first
        self.requests = 0  # sendMessage calls received
        self.answered = 0  # sendMessage calls answered
        self.held: list[int] = []  # the chats of the sends received and not answered, now
        self._released = False
        self._release: asyncio.Event | None = None

    def release(self) -> None:
        """Answer every send from now on, and the ones held (if their bot still waits)."""
        self._released = True
        if self._loop is not None:
            self._loop.call_soon_threadsafe(lambda: self._release.set() if self._release else None)

    async def _send_message(self, params: dict[str, Any]) -> web.Response:
        if self._release is None:
            self._release = asyncio.Event()
        with self._lock:
            self.requests += 1
            hold = not self._released and self.requests > self.answer_first
            chat = int(params["chat_id"])
            if hold:
                self.held.append(chat)
        try:
            response = await super()._send_message(params)  # delivered
            if hold:
                await self._release.wait()  # cancelled when the bot's connection goes
            with self._lock:
                self.answered += 1
            return response
        finally:
            if hold:
                with self._lock:
                    self.held.remove(chat)

    def in_flight(self) -> list[int]:
        with self._lock:
            return list(self.held)


def town(folder: Path) -> None:
    """300 groups in ten villages; Telegram's overall limit at its highest (30 a second); the
    day's routine far from the tests' 9:00."""
    lines = [
        "[town]", 'name = "王岘镇"', 'timezone = "Asia/Shanghai"', f'database = "sqlite:///{folder}/town.db"',
        f'leaders_chat = "telegram:{LEADERS}"',
        "[schedule]", 'remind = "23:57"', 'chase = "23:58"', 'deadline = "23:59"',
        "[[admin]]", 'name = "镇防控办"', f'ids = ["telegram:{ADMIN}"]',
        "[telegram]", 'token_env = "TELEGRAM_BOT_TOKEN"', "per_second = 30",
    ]
    for v in range(10):
        chats = ", ".join(f'"telegram:{FIRST_GROUP - g}"' for g in range(v, GROUPS, 10))
        lines += ["[[village]]", f'name = "第{v + 1}村"', f"chats = [{chats}]", f'heads = ["telegram:{5000 + v}"]']
    (folder / "town.toml").write_text("\n".join(lines) + "\n", encoding="utf-8")


GROUP_IDS = {FIRST_GROUP - g for g in range(GROUPS)}


class Run:
    """One `villagebot run` of the town in `folder`, its output in a log of its own."""

    def __init__(self, folder: Path, telegram: TelegramStandIn, clock: TickingClock, name: str) -> None:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("TELEGRAM_", "WECHATY_", "VILLAGEBOT_"))}
        env.update(TELEGRAM_BOT_TOKEN=telegram.token, TELEGRAM_BASE_URL=telegram.base_url, PYTHONUNBUFFERED="1")
        self.log_path = folder / f"{name}.log"
        self._log: IO[bytes] = open(self.log_path, "wb")  # noqa: SIM115 - closed in end()
        self.process = subprocess.Popen(clock.command("run", "--config", "town.toml"), cwd=folder, env=env,
                                        stdin=subprocess.DEVNULL, stdout=self._log, stderr=subprocess.STDOUT)

    def end(self, sig: int = signal.SIGTERM) -> int:
        if self.process.poll() is None:
            self.process.send_signal(sig)
        code = self.process.wait(20)
        self._log.close()
        return code

    def output(self) -> str:
        return self.log_path.read_text(encoding="utf-8", errors="replace")


def query(folder: Path, sql: str) -> list[tuple[Any, ...]]:
    with sqlite3.connect(folder / "town.db") as db:
        return list(db.execute(sql).fetchall())


def count(folder: Path, where: str) -> int:
    [(found,)] = query(folder, f"SELECT count(*) FROM outbox WHERE {where}")
    return int(found)


async def test_after_a_sigkill_only_the_sends_in_flight_are_counted_as_possibly_doubled(
    tmp_path: Path, ticking_clock: TickingClock
) -> None:
    town(tmp_path)
    concurrency = TelegramAdapter.concurrency
    with HoldingStandIn(ANSWERED, now=ticking_clock.now) as telegram:
        first = Run(tmp_path, telegram, ticking_clock, "first")
        try:
            await telegram.until(lambda t: len(t.calls("getUpdates")) > 0, timeout=30, what="the first poll")
            telegram.queue_message(LEADERS, ADMIN, "通知：今晚八点各村召开防控会议。")

            def stuck() -> bool:
                """Every slot held at the stand-in, and the database caught up with it: what was
                answered recorded as sent, what was not marked in flight (and nothing else)."""
                return (
                    len(telegram.in_flight()) == concurrency
                    and count(tmp_path, "status = 'sent'") == telegram.answered
                    and count(tmp_path, "in_flight_since IS NOT NULL") == concurrency
                )

            await eventually(stuck, timeout=60, what="the sender stuck with every slot in flight",
                             explain=lambda: (telegram.in_flight(), telegram.answered, first.output()[-2000:]))
            in_flight = telegram.in_flight()
            claimed = count(tmp_path, "status = 'sending'")
            first.end(signal.SIGKILL)
        finally:
            first.end(signal.SIGKILL)
        assert telegram.answered == ANSWERED
        assert claimed > len(in_flight), "the kill should find rows claimed and never sent"
        assert count(tmp_path, "status = 'pending'") > 0, "and rows not even claimed"

        telegram.release()
        second = Run(tmp_path, telegram, ticking_clock, "second")
        try:
            def settled() -> bool:
                return count(tmp_path, "status IN ('pending', 'sending')") == 0 and any(
                    "已送达" in text for text in telegram.sent_to(LEADERS)
                )

            await eventually(settled, timeout=60, what="the outbox finished and the delivery report sent",
                             explain=lambda: second.output()[-2000:])
        finally:
            code = second.end()
    assert code == 0, second.output()

    ambiguous = [chat for (chat,) in query(tmp_path, "SELECT chat FROM outbox WHERE ambiguous")]
    assert len(ambiguous) == len(in_flight) <= concurrency
    assert sorted(ambiguous) == sorted(f"telegram:{chat}" for chat in in_flight)
    assert f"{len(in_flight)} telegram messages were being sent by a sender that stopped" in second.output()

    copies = Counter(m.chat_id for m in telegram.sent if m.chat_id in GROUP_IDS)
    assert set(copies) == GROUP_IDS, "every group has the notice"
    assert {chat for chat, n in copies.items() if n > 1} == set(in_flight)  # only those went twice
    assert max(copies.values()) == 2
    assert query(tmp_path, "SELECT status, count(*) FROM outbox WHERE purpose = 'notice' GROUP BY status") == [
        ("sent", GROUPS)
    ]
    assert [t for t in telegram.sent_to(LEADERS) if "已送达" in t] == [f"📬 通知 #1 已送达 {GROUPS}/{GROUPS} 个群。"]
    assert "Traceback" not in second.output()


async def test_the_stand_in_holds_what_it_is_told_to() -> None:
    """The stand-in's holding, on its own: the sends after the first are received, kept
    unanswered, and answered once released; so what the test above counts is what it held."""
    with HoldingStandIn(1) as telegram:
        url = f"{telegram.base_url}{telegram.token}/sendMessage"
        async with httpx.AsyncClient(timeout=10) as client:
            answered = await client.post(url, json={"chat_id": 1, "text": "一"})
            held = asyncio.create_task(client.post(url, json={"chat_id": 2, "text": "二"}))
            await eventually(lambda: telegram.in_flight() == [2], what="the second send held")
            assert not held.done() and telegram.sent_to(2) == ["二"]  # delivered, unanswered
            assert (telegram.requests, telegram.answered) == (2, 1)
            telegram.release()
            assert [answered.status_code, (await held).status_code] == [200, 200]
        assert telegram.in_flight() == [] and telegram.answered == 2
