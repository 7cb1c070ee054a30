"""`villagebot run` on the Telegram stand-in: the morning reminder comes on time, exactly once per
group; a broadcast to 300 groups survives SIGKILL halfway; 429s and 5xx lose and double nothing."""

from __future__ import annotations

import datetime as dt
import os
import signal
import sqlite3
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from telegram_standin import ADMIN, LEADERS, TelegramStandIn

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


def start_bot(folder: Path, telegram: TelegramStandIn) -> subprocess.Popen[bytes]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TELEGRAM_", "WECHATY_", "VILLAGEBOT_"))}
    env.update(TELEGRAM_BOT_TOKEN=telegram.token, TELEGRAM_BASE_URL=telegram.base_url, PYTHONUNBUFFERED="1")
    log = open(folder / f"run-{time.monotonic_ns()}.log", "wb")  # noqa: SIM115 - the process owns it
    return subprocess.Popen([sys.executable, "-m", "bot.cli", "run", "--config", "town.toml"], cwd=folder, env=env,
                            stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT)


def stop(process: subprocess.Popen[bytes], sig: int = signal.SIGTERM) -> None:
    if process.poll() is None:
        process.send_signal(sig)
        process.wait(15)


def groups_of(groups: int) -> set[int]:
    return {FIRST_GROUP - g for g in range(groups)}


def later_today(seconds: float) -> dt.datetime:
    moment = dt.datetime.now(SHANGHAI) + dt.timedelta(seconds=seconds)
    if moment.date() != (moment + dt.timedelta(hours=3)).date():
        pytest.skip("too close to midnight in Shanghai for a day's schedule")
    return moment


def test_the_morning_reminder_arrives_on_time_in_every_group_exactly_once(tmp_path: Path) -> None:
    remind = later_today(8)
    town(tmp_path, 20, remind.time().replace(microsecond=0), (remind + dt.timedelta(hours=1)).time(),
         (remind + dt.timedelta(hours=2)).time())
    with TelegramStandIn() as telegram:
        bot = start_bot(tmp_path, telegram)
        try:
            telegram.wait_until(lambda t: groups_of(20) <= {m.chat_id for m in t.sent}, timeout=40)
            arrived = time.time()
            time.sleep(2)  # a second reminder would come now, if it came at all
        finally:
            stop(bot)
        assert bot.returncode == 0
    reminders = Counter(m.chat_id for m in telegram.sent if "请于今天" in m.text)
    assert set(reminders) == groups_of(20) and set(reminders.values()) == {1}
    assert arrived >= remind.timestamp() - 1, "not before its time"


def test_a_broadcast_killed_halfway_reaches_every_group_after_a_restart(tmp_path: Path) -> None:
    now = dt.datetime.now(SHANGHAI)
    quiet = (now + dt.timedelta(hours=3)).time()
    if now.time() > dt.time(20, 0):
        quiet = dt.time(23, 59, 50)
    town(tmp_path, 300, quiet, dt.time(23, 59, 55), dt.time(23, 59, 58))
    with TelegramStandIn() as telegram:
        bot = start_bot(tmp_path, telegram)
        try:
            telegram.wait_until(lambda t: len(t.calls("getUpdates")) > 0, timeout=30)
            telegram.queue_message(LEADERS, ADMIN, "通知：今晚八点各村召开防控会议。")
            telegram.wait_until(lambda t: len({m.chat_id for m in t.sent} & groups_of(300)) >= 100, timeout=60)
            bot.kill()
            bot.wait(10)
            first_run = len({m.chat_id for m in telegram.sent} & groups_of(300))
            assert first_run < 300, "the kill came too late to test anything"
            bot = start_bot(tmp_path, telegram)
            telegram.wait_until(lambda t: groups_of(300) <= {m.chat_id for m in t.sent}, timeout=90)
            time.sleep(1.5)
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


def test_429s_and_server_errors_lose_nothing_and_double_nothing(tmp_path: Path) -> None:
    town(tmp_path, 30, dt.time(23, 59, 50), dt.time(23, 59, 55), dt.time(23, 59, 58))
    if dt.datetime.now(SHANGHAI).time() > dt.time(23, 58):
        pytest.skip("too close to the test town's schedule")
    with TelegramStandIn() as telegram:
        for g in range(0, 30, 3):
            telegram.flood(FIRST_GROUP - g, retry_after=1, times=2)
        for g in range(1, 30, 5):
            telegram.fail(FIRST_GROUP - g, 502, times=2)
        bot = start_bot(tmp_path, telegram)
        try:
            telegram.wait_until(lambda t: len(t.calls("getUpdates")) > 0, timeout=30)
            telegram.queue_message(LEADERS, ADMIN, "通知：今晚八点各村召开防控会议。")
            telegram.wait_until(lambda t: groups_of(30) <= {m.chat_id for m in t.sent}, timeout=60)
            telegram.wait_until(lambda t: any("已送达" in m.text for m in t.sent if m.chat_id == LEADERS), timeout=30)
        finally:
            stop(bot)
    copies = Counter(m.chat_id for m in telegram.sent if m.chat_id in groups_of(30))
    assert set(copies.values()) == {1}
    assert len(telegram.refused) >= 10 * 2 + 6 * 2 - 4  # the failures were really served
    assert "已送达 30/30 个群" in [m.text for m in telegram.sent if m.chat_id == LEADERS][-1]
