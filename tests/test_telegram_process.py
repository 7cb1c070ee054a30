"""`villagebot run` as the town runs it: a real process on Telegram (the stand-in), stopped, killed, restarted.

The stand-in plays Telegram and, like Telegram, outlives the bot: what it has queued and which
updates were confirmed carry over a restart. The database is an SQLite file in the test's folder.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import signal
import sqlite3
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any
from zoneinfo import ZoneInfo

import pytest
from controlled_process import TickingClock
from telegram_standin import (
    ADMIN,
    CHECKPOINT,
    FULL_REPORT,
    LEADERS,
    LUOJIATAN_HEAD,
    RESIDENT,
    WANGXIAN,
    WANGXIAN_HEAD,
    WUXING,
    WUXING_HEAD,
    TelegramStandIn,
    town_toml,
)

SHANGHAI = ZoneInfo("Asia/Shanghai")
NEW_GROUP = -1001000000777

class BotProcess:
    """`villagebot run --config town.toml` in a folder, with the token and the stand-in's URL, on
    the tests' clock."""

    def __init__(self, folder: Path, telegram: TelegramStandIn, clock: TickingClock) -> None:
        self.folder = folder
        self.telegram = telegram
        self.clock = clock
        self.process: subprocess.Popen[bytes] | None = None
        self.log: IO[bytes] | None = None
        self.runs = 0

    @property
    def env(self) -> dict[str, str]:
        keep = {k: v for k, v in os.environ.items() if not k.startswith(("TELEGRAM_", "WECHATY_"))}
        return {
            **keep,
            "TELEGRAM_BOT_TOKEN": self.telegram.token,
            "TELEGRAM_BASE_URL": self.telegram.base_url,
            "VILLAGEBOT_DATABASE_URL": f"sqlite:///{self.folder}/town.db",
            "PYTHONUNBUFFERED": "1",
        }

    async def start(self) -> None:
        polls = len(self.telegram.calls("getUpdates"))
        self.runs += 1
        self.log = open(self.folder / f"run{self.runs}.log", "wb")  # noqa: SIM115 - closed in stop/kill
        self.process = subprocess.Popen(
            self.clock.command("run", "--config", "town.toml"), cwd=self.folder, env=self.env,
            stdin=subprocess.DEVNULL, stdout=self.log, stderr=subprocess.STDOUT,
        )
        await self.telegram.until(lambda t: len(t.calls("getUpdates")) > polls or self.process_ended(), timeout=30,
                                  what="the process's first poll")
        assert not self.process_ended(), self.output()

    def process_ended(self) -> bool:
        return self.process is not None and self.process.poll() is not None

    def stop(self) -> tuple[int, float]:
        """SIGTERM; the exit code and how long the process took to end."""
        assert self.process is not None
        started = time.monotonic()
        self.process.send_signal(signal.SIGTERM)
        code = self.process.wait(timeout=20)
        took = time.monotonic() - started
        self._closed()
        return code, took

    def kill(self) -> None:
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=20)
        self._closed()

    def _closed(self) -> None:
        if self.log is not None:
            self.log.close()
        self.process = None

    def output(self) -> str:
        return "\n".join(p.read_text(encoding="utf-8", errors="replace") for p in sorted(self.folder.glob("run*.log")))

    def outbox_settled(self) -> bool:
        """Nothing in the outbox due (on the process's clock) and unsent, nor being sent."""
        now = self.clock.now().astimezone(dt.UTC).replace(tzinfo=None).isoformat(sep=" ")
        with sqlite3.connect(self.folder / "town.db") as db:
            left = db.execute(
                "SELECT count(*) FROM outbox WHERE status = 'sending' "
                "OR (status = 'pending' AND next_attempt_at <= ?)", (now,)
            ).fetchone()[0]
        return int(left) == 0

    def query(self, sql: str) -> list[tuple[Any, ...]]:
        with sqlite3.connect(self.folder / "town.db") as db:
            return list(db.execute(sql).fetchall())

    def report(self, day: dt.date) -> dict[str, Any]:
        result = subprocess.run(
            self.clock.command("report", "--config", "town.toml", "--format", "json", "--date", day.isoformat()),
            cwd=self.folder, env=self.env, capture_output=True, text=True, timeout=60, check=True, encoding="utf-8",
        )
        report: dict[str, Any] = json.loads(result.stdout)
        return report


@pytest.fixture
def telegram(ticking_clock: TickingClock) -> Iterator[TelegramStandIn]:
    with TelegramStandIn(now=ticking_clock.now) as standin:
        yield standin


@pytest.fixture
def bot(tmp_path: Path, telegram: TelegramStandIn, ticking_clock: TickingClock) -> Iterator[BotProcess]:
    (tmp_path / "town.toml").write_text(town_toml(), encoding="utf-8")
    process = BotProcess(tmp_path, telegram, ticking_clock)
    yield process
    if process.process is not None:
        process.kill()


def replied(telegram: TelegramStandIn, message: dict[str, Any]) -> list[str]:
    return telegram.replies_to(message["chat"]["id"], message["message_id"])


def says(telegram: TelegramStandIn, chat: int, user: int, words: str, **kwargs: Any) -> dict[str, Any]:
    message: dict[str, Any] = telegram.queue_message(chat, user, words, **kwargs)["message"]
    return message


async def test_run_polls_answers_and_stops_cleanly_on_sigterm(bot: BotProcess, telegram: TelegramStandIn) -> None:
    await bot.start()
    report = says(telegram, WUXING, WUXING_HEAD, FULL_REPORT)
    await telegram.until(lambda t: replied(t, report), what="the reply")
    assert replied(telegram, report)[0].startswith("✅ 已收到五星村2月17日日报")
    await telegram.until(lambda t: t.all_confirmed() and t.held_polls == 1, what="back in a held long poll")

    code, took = bot.stop()
    assert code == 0, bot.output()
    assert took < 10
    output = bot.output()
    assert "Traceback" not in output
    assert telegram.token not in output and telegram.token.split(":")[1] not in output
    assert "villagebot stopped" in output


async def test_a_group_bound_in_chat_counts_for_its_village_after_a_restart(
    bot: BotProcess, telegram: TelegramStandIn
) -> None:
    await bot.start()
    bind = says(telegram, NEW_GROUP, ADMIN, "/bind 雒家滩村")
    await telegram.until(lambda t: replied(t, bind), what="the binding's answer")
    assert replied(telegram, bind)[0].startswith("✅ 本群已绑定为：雒家滩村")
    assert bot.stop()[0] == 0

    await bot.start()
    report = says(telegram, NEW_GROUP, LUOJIATAN_HEAD, FULL_REPORT)
    await telegram.until(lambda t: replied(t, report), what="the reply")
    assert replied(telegram, report)[0].startswith("✅ 已收到雒家滩村")
    assert bot.stop()[0] == 0
    day = dt.datetime.fromtimestamp(report["date"], SHANGHAI).date()
    assert day == dt.date(2020, 2, 17)  # the tests' day, whenever they run
    villages = {v["name"]: v for v in bot.report(day)["villages"]}
    assert villages["雒家滩村"]["reported"] and villages["雒家滩村"]["fields"]["households_visited"] == 120


async def test_a_restart_answers_nothing_twice_and_posts_nothing_unprompted(
    bot: BotProcess, telegram: TelegramStandIn
) -> None:
    await bot.start()
    asked = [
        says(telegram, WUXING, WUXING_HEAD, FULL_REPORT),
        says(telegram, WANGXIAN, WANGXIAN_HEAD, "日报 入户排查60户 返乡1人"),
        says(telegram, CHECKPOINT, 4001, "登记 甘D66A88 1人 37.3℃ 来自白银 去柳树村"),
        says(telegram, LEADERS, ADMIN, "通知：今晚8点各村召开防控会议。"),
    ]
    says(telegram, WUXING, RESIDENT, "大家好，今天天气不错")
    await telegram.until(lambda t: all(replied(t, m) for m in asked) and t.all_confirmed(), what="four replies")
    # The notice's delivery report is queued once its sends are recorded: wait for it too, or it is
    # (rightly) sent after the restart.
    await telegram.until(lambda t: any("已送达" in text for text in t.sent_to(LEADERS)) and bot.outbox_settled(),
                         what="the delivery report, and the outbox settled")
    assert bot.stop()[0] == 0
    before = telegram.sent
    assert len(telegram.sent_to(WUXING)) == 2  # the confirmation and the notice; no answer to the chat

    telegram.forget_confirmations()  # Telegram sends all five again, as if they had never been confirmed
    await bot.start()
    # A message after the five, answered, with the outbox settled: whatever the five would have
    # caused was queued before its answer (a backlog is handled in order) and has gone.
    help_ = says(telegram, WANGXIAN, WANGXIAN_HEAD, "帮助")
    await telegram.until(lambda t: replied(t, help_) and t.all_confirmed() and bot.outbox_settled(),
                         what="the answer to 帮助, and the outbox settled")
    assert bot.stop()[0] == 0
    assert telegram.sent[: len(before)] == before
    [answer] = telegram.sent[len(before) :]  # the answer to 帮助 and nothing else
    assert (answer.chat_id, answer.reply_to) == (WANGXIAN, help_["message_id"])
    assert answer.text.startswith("📋 每日日报格式") and not any(m.text in answer.text for m in before)  # none merged in
    assert bot.query("SELECT count(*) FROM inbound_messages") == [(6,)]


def many_villages_toml(count: int) -> str:
    """A town of `count` villages, each with a group -1002000000000-i and a head 30000+i."""
    first, second = "东西南北中新上下前后", "山河林田湾沟坪岭庄营"
    villages = "".join(
        f'\n[[village]]\nname = "{first[i // 10]}{second[i % 10]}村"\n'
        f'chats = ["telegram:{-1002000000000 - i}"]\nheads = ["telegram:{30000 + i}"]\n'
        for i in range(count)
    )
    town = town_toml().split("[[village]]")[0]
    return town + villages + f'\n[[admin]]\nname = "镇防控办"\nids = ["telegram:{ADMIN}"]\n\n[telegram]\n'


async def test_killed_while_200_reports_arrive_every_report_is_stored_exactly_once(
    tmp_path: Path, telegram: TelegramStandIn, ticking_clock: TickingClock
) -> None:
    (tmp_path / "town.toml").write_text(many_villages_toml(50), encoding="utf-8")
    bot = BotProcess(tmp_path, telegram, ticking_clock)
    await bot.start()
    now = int(ticking_clock.now().timestamp())
    queued: list[dict[str, Any]] = []

    first = telegram.last_update_id + 1

    def arrive() -> None:  # four rounds of reports from fifty groups, over two seconds or so
        for round_ in range(4):
            for i in range(50):
                words = f"日报 入户排查{100 + round_}户，返乡{round_}人，居家观察{10 + i}人，发热0人，消毒2次"
                queued.append(telegram.queue_message(-1002000000000 - i, 30000 + i, words, date=now)["message"])
                time.sleep(0.01)

    feeder = threading.Thread(target=arrive)
    feeder.start()
    try:
        await telegram.until(lambda t: t.confirmed_offset >= first + 50, timeout=30, what="a quarter stored")
        bot.kill()
    finally:
        feeder.join()
    assert not telegram.all_confirmed()  # it was killed with reports still coming

    await bot.start()
    await telegram.until(lambda t: t.all_confirmed(), timeout=60, what="every report confirmed")
    await telegram.until(lambda t: bot.outbox_settled(), what="the outbox settled")
    assert bot.stop()[0] == 0

    assert bot.query("SELECT count(*), count(DISTINCT chat || '/' || message_id) FROM inbound_messages") == [(200, 200)]
    assert bot.query("SELECT count(*) FROM report_revisions") == [(200,)]
    # Each report's confirmation names its figures; confirmations that waited for one group
    # together went as one message, so they are counted in the groups' texts, not as replies.
    answered = [
        sum(text.count(f"日报：入户排查{100 + round_}户") for text in telegram.sent_to(-1002000000000 - i))
        for round_ in range(4)
        for i in range(50)
    ]
    assert len(answered) == len(queued) and min(answered) == 1  # every report confirmed
    # A reply under way when the process was killed is sent again (at least once); the outbox
    # marks such a send ambiguous. Nothing else is answered twice.
    [(in_doubt,)] = bot.query("SELECT count(*) FROM outbox WHERE ambiguous")
    assert answered.count(2) <= in_doubt and max(answered) <= 2

    day = dt.datetime.fromtimestamp(now, SHANGHAI).date()
    assert day == dt.date(2020, 2, 17)
    report = bot.report(day)
    assert report["date"] == day.isoformat() and report["missing"] == []
    for i, village in enumerate(report["villages"]):
        assert village["revisions"] == 4, village
        assert village["fields"]["households_visited"] == 103  # the last of the day's four
        assert village["fields"]["under_observation"] == 10 + i
    assert report["totals"]["households_visited"] == 50 * 103
