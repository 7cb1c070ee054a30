#!/usr/bin/env python3
"""One notice to 1,000 Telegram groups, through the real bot and a stand-in that holds it to Telegram's limits.

    python bench/broadcast.py [--groups 1000] [--refuse 0.05] [--seed 7]

The stand-in (tests/telegram_standin.py) answers as Telegram does, and here also as Telegram
*enforces*: more than 30 sends in any second over all chats, or more than 20 in any minute to one
group, get 429 with retry_after; and 5% of all sends get 429 anyway, at random. The bot runs as
`villagebot run` does (the app, the Telegram adapter, the outbox sender, SQLite on disk); an
admin's 通知 in the leaders' group starts the broadcast. Printed: the time from the admin's message
to the last group's copy, the ideal time (groups / 30 s), their ratio (target ≤ 1.1), and how many
groups got the notice no time or more than once (target 0 and 0).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import sys
import tempfile
import time
from collections import Counter, deque
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
# This folder holds bench/telegram.py, which would hide the telegram package: look in tests/ instead.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != HERE]
sys.path.insert(0, str(HERE.parent / "tests"))

from aiohttp import web  # noqa: E402
from telegram_standin import ADMIN, LEADERS, TOKEN, TelegramStandIn, _error  # noqa: E402

from bot.app import App  # noqa: E402
from bot.platforms import telegram_adapter  # noqa: E402
from townconfig import parse_config  # noqa: E402

PER_SECOND = 30
PER_GROUP_PER_MINUTE = 20
FIRST_GROUP = -1002000000000


class EnforcingStandIn(TelegramStandIn):
    """Telegram as it enforces its flood limits, plus a share of 429s for no reason at all.
    A send it refuses is not delivered, so it counts against neither window."""

    def __init__(self, refuse: float, seed: int) -> None:
        super().__init__()
        self.refuse = refuse
        self.random = random.Random(seed)
        self.window: deque[float] = deque()
        self.per_group: dict[int, deque[float]] = {}
        self.flooded = Counter[str]()

    async def _send_message(self, params: dict[str, Any]) -> web.Response:
        chat_id, now = int(params["chat_id"]), time.monotonic()
        while self.window and self.window[0] <= now - 1.0:
            self.window.popleft()
        group = self.per_group.setdefault(chat_id, deque())
        while group and group[0] <= now - 60.0:
            group.popleft()
        if len(self.window) >= PER_SECOND:
            self.flooded["over 30/s"] += 1
            return _error(429, "Too Many Requests: retry after 1", {"retry_after": 1})
        if chat_id < 0 and len(group) >= PER_GROUP_PER_MINUTE:
            self.flooded["over 20/min in a group"] += 1
            return _error(429, "Too Many Requests: retry after 30", {"retry_after": 30})
        if chat_id != LEADERS and self.random.random() < self.refuse:
            self.flooded["at random"] += 1
            return _error(429, "Too Many Requests: retry after 1", {"retry_after": 1})
        self.window.append(now)
        group.append(now)
        return await super()._send_message(params)


def town(groups: int, database: str) -> str:
    villages = 10
    lines = [
        "[town]", 'name = "王岘镇"', 'timezone = "Asia/Shanghai"', f'database = "{database}"',
        f'leaders_chat = "telegram:{LEADERS}"',
        "[schedule]", 'remind = "23:57"', 'chase = "23:58"', 'deadline = "23:59"',
        "[[admin]]", 'name = "镇防控办"', f'ids = ["telegram:{ADMIN}"]',
        "[telegram]", 'token_env = "TELEGRAM_BOT_TOKEN"',
    ]
    for v in range(villages):
        chats = ", ".join(f'"telegram:{FIRST_GROUP - g}"' for g in range(v, groups, villages))
        lines += ["[[village]]", f'name = "第{v + 1}村"', f"chats = [{chats}]"]
    return "\n".join(lines) + "\n"


async def broadcast(groups: int, refuse: float, seed: int) -> dict[str, Any]:
    folder = Path(tempfile.mkdtemp(prefix="villagebot-broadcast-"))
    with EnforcingStandIn(refuse, seed) as telegram:
        os.environ["TELEGRAM_BASE_URL"] = telegram.base_url
        config = parse_config(town(groups, f"sqlite:///{folder}/town.db"), "bench-town.toml")
        app = await App.start(config)
        adapter = telegram_adapter(app, TOKEN)
        app.add_platform(adapter)
        stop = asyncio.Event()
        tasks = [asyncio.create_task(adapter.run(stop)), asyncio.create_task(app.senders["telegram"].run())]
        try:
            started = time.monotonic()
            telegram.queue_message(LEADERS, ADMIN, "通知：即日起各村严禁举办聚餐、婚宴，请各村广泛宣传。")
            wanted = {FIRST_GROUP - g for g in range(groups)}
            await telegram.until(lambda t: wanted <= {m.chat_id for m in t.sent}, timeout=groups / PER_SECOND * 3)
            elapsed = time.monotonic() - started
            await asyncio.sleep(1.0)  # anything doubled late would show now
        finally:
            stop.set()
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            await app.close()
        copies = Counter(m.chat_id for m in telegram.sent if m.chat_id in wanted)
        times = sorted(m.at for m in telegram.sent if m.chat_id in wanted)
        if os.environ.get("BROADCAST_DEBUG"):
            print("per 100:", [round(times[i + 99] - times[i], 2) for i in range(0, len(times) - 99, 100)])
        return {
            "elapsed": elapsed,
            "first": times[0] - started,
            "lost": sum(1 for chat in wanted if copies[chat] == 0),
            "doubled": sum(1 for chat in wanted if copies[chat] > 1),
            "flooded": dict(telegram.flooded),
            "ambiguous": app.senders["telegram"].ambiguous,
        }


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--groups", type=int, default=1000)
    ap.add_argument("--refuse", type=float, default=0.05, help="share of sends answered 429 at random")
    ap.add_argument("--seed", type=int, default=7)
    args = ap.parse_args()
    result = asyncio.run(broadcast(args.groups, args.refuse, args.seed))
    ideal = args.groups / PER_SECOND
    ratio = result["elapsed"] / ideal
    print(f"groups {args.groups}, 429 at random {args.refuse:.0%}")
    print(f"time taken  {result['elapsed']:8.2f} s")
    print(f"            first group's copy after {result['first']:.2f} s (the notice stored and queued)")
    print(f"ideal time  {ideal:8.2f} s   ({args.groups} / {PER_SECOND} per second)")
    print(f"ratio       {ratio:8.3f}     (target <= 1.1)")
    print(f"lost {result['lost']}, doubled {result['doubled']} (target 0 and 0); ambiguous sends {result['ambiguous']}")
    print(f"429 answers: {result['flooded']}")
    ok = ratio <= 1.1 and result["lost"] == 0 and result["doubled"] == 0
    print("PASS" if ok else "FAIL")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
