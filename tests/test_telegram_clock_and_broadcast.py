"""`villagebot run` on the Telegram stand-in: the morning reminder comes on time, exactly once per
group; a broadcast to 300 groups survives SIGKILL halfway; 429s and 5xx lose and double nothing.
The process runs on the tests' clock, ticking from where each test sets it (tests/controlled_process.py)."""

from __future__ import annotations

import datetime as dt
import os
import signal
import sqlite3
import subprocess
import time
from collections import Counter
from pathlib import Path
from zoneinfo import ZoneInfo

from controlled_process import TickingClock
from telegram_standin import ADMIN, LEADERS, TelegramStandIn
from waiting import eventually

SHANGHAI = ZoneInfo("Asia/Shanghai")
FIRST_GROUP = -1003000000000


def town(folder: Path, groups: int, remind: dt.time, chase: dt.time, deadline: dt.time) -> Path:
    lines = [
        "[town]", 'name = "王岘镇"', 'timezone = "Asia/Shanghai"', f'database = "sqlite:///{folder}/town.db"',
        f'leaders_chat = "telegram:{LEADERS}"', "[schedule]",
        f'remind = "{remind:%H:%M:%S}"', f'chase = "{chase:%H:%M:%S}"', f'deadline = "{deadline:%H:%M:%S}"',
        "[[admin]]", 'name = "镇防控办"', f'ids = ["telegram:{ADMIN}"]',
        "[telegram]", 'token_env = "TELEGRAM_BOT_TOKEN"',
    ]
    for v in range(10):
        chats = ", ".join(f'"telegram:{FIRST_GROUP - g}"' for g in range(v, groups, 10))
        lines += ["[[village]]", f'name = "第{v + 1}村"', f"chats = [{chats}]", f'heads = ["telegram:{5000 + v}"]']
    path = folder / "town.toml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def start_bot(folder: Path, telegram: TelegramStandIn, clock: TickingClock) -> subprocess.Popen[bytes]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TELEGRAM_", "WECHATY_", "VILLAGEBOT_"))}
    env.update(TELEGRAM_BOT_TOKEN=telegram.token, TELEGRAM_BASE_URL=telegram.base_url, PYTHONUNBUFFERED="1")
    log = open(folder / f"run-{time.monotonic_ns()}.log", "wb")  # noqa: SIM115 - the process owns it
    return subprocess.Popen(clock.command("run", "--config", "town.toml"), cwd=folder, env=env,
                            stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT)


def stop(process: subprocess.Popen[bytes], sig: int = signal.SIGTERM) -> None:
    if process.poll() is None:
        process.send_signal(sig)
        process.wait(15)


def groups_of(groups: int) -> set[int]:
    return {FIRST_GROUP - g for g in range(groups)}


def notice_settled(folder: Path) -> bool:
    """Every row of the notice sent, and the delivery report to the leaders too."""
    with sqlite3.connect(folder / "town.db") as db:
        [(left,)] = db.execute("SELECT count(*) FROM outbox WHERE status IN ('pending', 'sending')").fetchall()
        [(reports,)] = db.execute("SELECT count(*) FROM outbox WHERE text LIKE '%已送达%'").fetchall()
    return left == 0 and reports > 0


QUIET = (dt.time(23, 57), dt.time(23, 58), dt.time(23, 59))  # the day's routine, far from 9:00


async def test_the_morning_reminder_arrives_on_time_in_every_group_exactly_once(
    tmp_path: Path, ticking_clock: TickingClock
) -> None:
    remind = dt.datetime(2020, 2, 17, 8, 0, tzinfo=SHANGHAI)
    chase = remind + dt.timedelta(seconds=3)
    town(tmp_path, 20, remind.time(), chase.time(), dt.time(17, 0))
    ticking_clock.set(remind - dt.timedelta(seconds=4))  # time for the process to start
    with TelegramStandIn(now=ticking_clock.now) as telegram:
        bot = start_bot(tmp_path, telegram, ticking_clock)
        try:
            await telegram.until(lambda t: groups_of(20) <= {m.chat_id for m in t.sent if "❗" in m.text},
                                 timeout=40, what="the chase, after the reminder, in every group")
        finally:
            stop(bot)
        assert bot.returncode == 0
    reminders = [m for m in telegram.sent if "请于今天（2月17日）" in m.text]
    counted = Counter(m.chat_id for m in reminders)
    assert set(counted) == groups_of(20) and set(counted.values()) == {1}  # no second one, up to the chase
    assert min(m.date for m in reminders) >= remind - dt.timedelta(seconds=0.05), "not before its time"


async def test_a_broadcast_killed_halfway_reaches_every_group_after_a_restart(
    tmp_path: Path, ticking_clock: TickingClock
) -> None:
    town(tmp_path, 300, *QUIET)
    with TelegramStandIn(now=ticking_clock.now) as telegram:
        bot = start_bot(tmp_path, telegram, ticking_clock)
        try:
            await telegram.until(lambda t: len(t.calls("getUpdates")) > 0, timeout=30, what="the first poll")
            telegram.queue_message(LEADERS, ADMIN, "通知：今晚八点各村召开防控会议。")
            await telegram.until(lambda t: len({m.chat_id for m in t.sent} & groups_of(300)) >= 100, timeout=60,
                                 what="a third of the groups")
            bot.kill()
            bot.wait(10)
            first_run = len({m.chat_id for m in telegram.sent} & groups_of(300))
            assert first_run < 300, "the kill came too late to test anything"
            bot = start_bot(tmp_path, telegram, ticking_clock)
            await telegram.until(lambda t: groups_of(300) <= {m.chat_id for m in t.sent}, timeout=90,
                                 what="every group")
            await eventually(lambda: notice_settled(tmp_path), what="the outbox settled, the delivery report sent")
        finally:
            stop(bot)
    copies = Counter(m.chat_id for m in telegram.sent if m.chat_id in groups_of(300))
    doubled = sum(1 for count in copies.values() if count > 1)
    with sqlite3.connect(tmp_path / "town.db") as db:
        ambiguous = db.execute("SELECT count(*) FROM outbox WHERE ambiguous").fetchone()[0]
        statuses = dict(db.execute("SELECT status, count(*) FROM outbox WHERE purpose = 'notice' GROUP BY status"))
    assert set(copies) == groups_of(300), "every group has the notice"
    assert doubled <= ambiguous, f"{doubled} groups got it twice, only {ambiguous} sends were in doubt"
    assert statuses == {"sent": 300}
    admin_report = [m.text for m in telegram.sent if m.chat_id == LEADERS and "已送达" in m.text]
    assert admin_report == ["📬 通知 #1 已送达 300/300 个群。"]


async def test_429s_and_server_errors_lose_nothing_and_double_nothing(
    tmp_path: Path, ticking_clock: TickingClock
) -> None:
    town(tmp_path, 30, *QUIET)
    with TelegramStandIn(now=ticking_clock.now) as telegram:
        for g in range(0, 30, 3):
            telegram.flood(FIRST_GROUP - g, retry_after=1, times=2)
        for g in range(1, 30, 5):
            telegram.fail(FIRST_GROUP - g, 502, times=2)
        bot = start_bot(tmp_path, telegram, ticking_clock)
        try:
            await telegram.until(lambda t: len(t.calls("getUpdates")) > 0, timeout=30, what="the first poll")
            telegram.queue_message(LEADERS, ADMIN, "通知：今晚八点各村召开防控会议。")
            await telegram.until(lambda t: groups_of(30) <= {m.chat_id for m in t.sent}, timeout=60,
                                 what="every group")
            await telegram.until(lambda t: any("已送达" in m.text for m in t.sent if m.chat_id == LEADERS),
                                 timeout=30, what="the delivery report")
        finally:
            stop(bot)
    copies = Counter(m.chat_id for m in telegram.sent if m.chat_id in groups_of(30))
    assert set(copies.values()) == {1}
    assert len(telegram.refused) >= 10 * 2 + 6 * 2 - 4  # the failures were really served
    assert "已送达 30/30 个群" in [m.text for m in telegram.sent if m.chat_id == LEADERS][-1]
