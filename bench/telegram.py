#!/usr/bin/env python3
"""Benchmark villagebot on Telegram against a plain python-telegram-bot echo bot, on one stand-in.

    python bench/telegram.py [--groups 200] [--reports 2000] [--repeat 1]

Both bots run in this process on the real python-telegram-bot library and talk HTTP to the
Bot API stand-in of the tests (tests/telegram_standin.py, in a thread of its own):

- ours: the whole villagebot (TelegramAdapter's getUpdates loop, the dispatcher, the parser,
  every report stored in an SQLite file with durable commits, the outbox, the sender) on
  `--reports` daily reports from `--groups` village groups, each answered with its confirmation;
- echo: PTB's Application + Updater + MessageHandler that replies each text with itself, on the
  same messages.

The updates are queued all at once after the bot is polling; "handled" is the rate at which they
were confirmed to the stand-in (ours: stored), "replied" the rate at which each report's answer
reached its group (ours: its "✅ 已收到" confirmation; where several wait for one group, the
outbox sends them as one message, as it does in production, so they are counted inside it; the
echo bot: its echo). Telegram's flood limits are off for ours (the stand-in has none, and the echo
bot has none), so both are measured at what the machinery can do. Target: ours >= 0.5 x echo,
replied.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import sys
import tempfile
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

# This file is bench/telegram.py: its own folder must not shadow the `telegram` package.
_HERE = Path(__file__).resolve().parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != _HERE]
sys.path.insert(0, str(_HERE.parent / "tests"))
sys.path.insert(0, str(_HERE.parent))

from telegram import Update  # noqa: E402
from telegram.ext import Application, ContextTypes, MessageHandler, filters  # noqa: E402
from telegram_standin import ADMIN, TelegramStandIn  # noqa: E402

from bot.app import App  # noqa: E402
from bot.platforms import telegram_adapter  # noqa: E402
from bot.telegram_adapter import TelegramAdapter  # noqa: E402
from bot.telegram_limits import SendLimits  # noqa: E402
from handlers.messages import OutgoingMessage  # noqa: E402
from storage import Database  # noqa: E402
from townconfig import parse_config  # noqa: E402

TARGET_RATIO = 0.5
CONFIRMED = "✅ 已收到"
FIRST = "东西南北中新上下前后左右沙石松柏杨槐梨桃"
SECOND = "山河林田湾沟坪岭庄营"


@dataclass
class Rates:
    handled: float  # messages a second, confirmed to Telegram
    replied: float  # messages a second, their reply received by Telegram
    seconds: float


def town(groups: int, database: str) -> str:
    villages = "".join(
        f'\n[[village]]\nname = "{FIRST[i // len(SECOND)]}{SECOND[i % len(SECOND)]}村"\n'
        f'chats = ["telegram:{group(i)}"]\nheads = ["telegram:{head(i)}"]\n'
        for i in range(groups)
    )
    return (
        f'[town]\nname = "测试镇"\ntimezone = "Asia/Shanghai"\ndatabase = "{database}"\n'
        '[schedule]\nremind = "23:57"\nchase = "23:58"\ndeadline = "23:59"\n'
        f'{villages}\n[[admin]]\nname = "镇防控办"\nids = ["telegram:{ADMIN}"]\n\n[telegram]\n'
    )


def group(i: int) -> int:
    return -1003000000000 - i


def head(i: int) -> int:
    return 50000 + i


def messages(groups: int, reports: int) -> list[tuple[int, int, str]]:
    out = []
    for n in range(reports):
        i = n % groups
        words = f"日报 入户排查{100 + n // groups}户，返乡{n % 7}人，居家观察{10 + i % 50}人，发热0人，消毒2次"
        out.append((group(i), head(i), words))
    return out


def queue(telegram: TelegramStandIn, work: list[tuple[int, int, str]]) -> int:
    now = int(time.time())
    for chat, user, text in work:
        telegram.queue_message(chat, user, text, date=now)
    return telegram.last_update_id


async def wait(condition: object, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while not condition():  # type: ignore[operator]
        if time.monotonic() > deadline:
            raise TimeoutError("the bot did not finish in time")
        await asyncio.sleep(0.005)


@contextlib.asynccontextmanager
async def ours_running(
    groups: int, folder: Path, *, sending: bool
) -> AsyncIterator[tuple[TelegramStandIn, TelegramAdapter]]:
    """The whole villagebot on a fresh SQLite file and stand-in, polling (and, if `sending`, its
    outbox sender running) until the block ends."""
    database_file = folder / f"bench-{time.monotonic_ns()}.db"
    with TelegramStandIn() as telegram:
        os.environ["TELEGRAM_BASE_URL"] = telegram.base_url
        config = parse_config(town(groups, f"sqlite:///{database_file}"), "bench-town.toml")
        app = await App.start(config, database=Database(f"sqlite:///{database_file}"))
        adapter = telegram_adapter(app, telegram.token, limits=SendLimits.off())
        stop = asyncio.Event()
        receiving = asyncio.create_task(adapter.run(stop))
        senders = [asyncio.create_task(app.add_platform(adapter).run())] if sending else []
        try:
            await wait(lambda: telegram.calls("getUpdates"), 30)
            yield telegram, adapter
        finally:
            stop.set()
            for task in senders:
                task.cancel()
            await asyncio.gather(receiving, *senders, return_exceptions=True)
            await app.close()


async def run_ours(work: list[tuple[int, int, str]], groups: int, folder: Path) -> Rates:
    async with ours_running(groups, folder, sending=True) as (telegram, _):
        started = time.monotonic()
        queue(telegram, work)
        await wait(telegram.all_confirmed, 600)
        handled = time.monotonic() - started
        counted = Confirmations(telegram)
        await wait(lambda: counted() >= len(work), 600)
        replied = time.monotonic() - started
    if counted() != len(work):
        raise SystemExit(f"ours: {counted()} confirmations for {len(work)} reports")
    print(f"villagebot sent {len(telegram.sent)} messages for {len(work)} confirmations")
    return Rates(len(work) / handled, len(work) / replied, replied)


class Confirmations:
    """Reports confirmed so far (a merged answer holds several), counted as messages arrive: the
    wait asks every few ms."""

    def __init__(self, telegram: TelegramStandIn) -> None:
        self.telegram = telegram
        self.seen = 0
        self.count = 0

    def __call__(self) -> int:
        sent = self.telegram.sent
        arrived = len(sent)  # the stand-in's thread may append meanwhile
        for message in sent[self.seen : arrived]:
            self.count += message.text.count(CONFIRMED)
        self.seen = arrived
        return self.count


async def run_breakdown(work: list[tuple[int, int, str]], groups: int, folder: Path) -> tuple[float, float]:
    """Ours in halves: receiving alone (no sender running), then TelegramAdapter.deliver alone."""
    async with ours_running(groups, folder, sending=False) as (telegram, adapter):
        started = time.monotonic()
        queue(telegram, work)
        await wait(telegram.all_confirmed, 600)
        received = len(work) / (time.monotonic() - started)
        started = time.monotonic()
        for n, (chat, _, _) in enumerate(work):
            reply = OutgoingMessage(f"telegram:{chat}", "✅ 已收到日报：入户排查120户", reply_to=str(n + 1))
            await adapter.deliver(reply)
        delivered = len(work) / (time.monotonic() - started)
    return received, delivered


async def echo(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    if update.message is not None and update.message.text is not None:
        await update.message.reply_text(update.message.text)


async def run_echo(work: list[tuple[int, int, str]]) -> Rates:
    with TelegramStandIn() as telegram:
        application = Application.builder().token(telegram.token).base_url(telegram.base_url).build()
        application.add_handler(MessageHandler(filters.TEXT & ~filters.COMMAND, echo))
        async with application:
            await application.start()
            assert application.updater is not None
            await application.updater.start_polling(poll_interval=0.0, timeout=10)
            try:
                await wait(lambda: telegram.calls("getUpdates"), 30)
                started = time.monotonic()
                queue(telegram, work)
                await wait(lambda: len(telegram.sent) >= len(work), 600)
                replied = time.monotonic() - started
            finally:
                await application.updater.stop()
                await application.stop()
    # The Updater confirms a batch as soon as it is queued, so "handled" is "replied" for it.
    return Rates(len(work) / replied, len(work) / replied, replied)


async def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--groups", type=int, default=200)
    parser.add_argument("--reports", type=int, default=2000)
    parser.add_argument("--repeat", type=int, default=1, help="runs of each; the best is kept")
    parser.add_argument("--breakdown", action="store_true", help="also time ours receiving alone and sending alone")
    args = parser.parse_args()
    if args.groups > len(FIRST) * len(SECOND):
        parser.error(f"at most {len(FIRST) * len(SECOND)} groups")
    work = messages(args.groups, args.reports)
    ours: list[Rates] = []
    plain: list[Rates] = []
    with tempfile.TemporaryDirectory() as folder:
        for _ in range(args.repeat):
            ours.append(await run_ours(work, args.groups, Path(folder)))
            plain.append(await run_echo(work))
        breakdown = await run_breakdown(work, args.groups, Path(folder)) if args.breakdown else None
    best_ours = max(ours, key=lambda r: r.replied)
    best_echo = max(plain, key=lambda r: r.replied)
    ratio = best_ours.replied / best_echo.replied
    print(f"{args.reports} reports from {args.groups} groups, python-telegram-bot against the stand-in")
    print(f"villagebot: handled (stored) {best_ours.handled:8.1f} msg/s, replied {best_ours.replied:8.1f} msg/s"
          f"  ({best_ours.seconds:.2f} s; SQLite file, durable commits)")
    print(f"PTB echo:   handled          {best_echo.handled:8.1f} msg/s, replied {best_echo.replied:8.1f} msg/s"
          f"  ({best_echo.seconds:.2f} s)")
    if breakdown is not None:
        print(f"villagebot in halves: receiving and storing alone {breakdown[0]:8.1f} msg/s; "
              f"TelegramAdapter.deliver alone {breakdown[1]:8.1f} msg/s")
    verdict = "met" if ratio >= TARGET_RATIO else "NOT met"
    print(f"ratio (replied, ours / echo): {ratio:.2f}  target >= {TARGET_RATIO}: {verdict}")
    return 0 if ratio >= TARGET_RATIO else 1


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
