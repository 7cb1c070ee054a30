#!/usr/bin/env python3
"""A county's town and a year of its history: what a day's report, the deadline job and the bot cost.

    python bench/scale.py [--villages 1000] [--days 365] [--sqlite-only | --postgres-only] [POSTGRES_URL]

Builds a town of `--villages` villages (one Telegram group and one head each) and writes its
history day by day through the project's own repositories, one transaction per day: every
village's 日报 (3% missed, 5% late, 5% corrected later that day), the inbound rows and sent
confirmations they made, 20 checkpoint registrations and 2 donations a day, and a notice to
every group every 5 days (the measured days among them), acknowledged by most villages. On
SQLite (a temporary file) and on PostgreSQL (`POSTGRES_URL`, else VILLAGEBOT_TEST_POSTGRES, else postgresql://postgres@127.0.0.1:5432/test,
in a schema of its own that is dropped at the end).

After 1 month of history and again after `--days` (1 year), it prints:
- report text/json/xlsx: the day's report as `villagebot report` makes it (bot/report_command.py:
  build_town_report in one transaction, then rendered), each format built afresh;
- deadline job: scheduler/jobs.py send_deadline_summary for the last day, alone, and the longest
  the event loop was held meanwhile (a 5 ms ticker's worst lateness);
- the bot serving that town, in a child process (App.start as `villagebot run` does, a platform
  stand-in that records deliveries, the outbox sender running): the next day at its deadline, the
  deadline job starts and 1,000 reports (one per village; fewer with fewer villages) arrive at an
  even pace over `--arrival-seconds` (default 15 s: the minute of the issue *compressed* 4 times,
  so a harsher pace than life; the town's clock is a controlled one standing at the deadline, and
  the arrivals' pace is real time). Printed: p50/p99 of the time from a report's arrival to its
  confirmation reaching the stand-in (all of them, and the p99 of those that arrived while the job
  ran), the deadline job's time and the loop's longest hold while it ran, how the reports were
  batched (as an adapter hands over what arrived meanwhile), and the child's peak RSS (VmHWM from
  /proc/self/status);
- the ratio 1 year / 1 month of each figure.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime as dt
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
# This folder holds bench/telegram.py, which would hide the telegram package.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != HERE]
sys.path.insert(0, str(HERE.parent))

from bot.app import App  # noqa: E402
from bot.xlsx_export import write_xlsx  # noqa: E402
from handlers.clock import ManualClock, at_local  # noqa: E402
from handlers.messages import IncomingMessage, OutgoingMessage  # noqa: E402
from handlers.town import Town  # noqa: E402
from handlers.town_report import build_town_report, render_text  # noqa: E402
from scheduler.jobs import send_deadline_summary  # noqa: E402
from storage import Database, Store  # noqa: E402
from storage.database import async_url  # noqa: E402
from storage.repos.inbound import Key  # noqa: E402
from storage.repos.outbox import PRIORITY_REPLY  # noqa: E402
from townconfig import TownConfig, parse_config  # noqa: E402

DEFAULT_POSTGRES = "postgresql://postgres@127.0.0.1:5432/test"
FIRST_DAY = dt.date(2020, 1, 27)
MONTH = 30
LEADERS = -1009000000000
ADMIN = 900000
DEADLINE = dt.time(17, 0)
CONFIRMED = "已收到"


def group(i: int) -> str:
    return f"telegram:{-1004000000000 - i}"


def head(i: int) -> str:
    return f"telegram:{400000 + i}"


def village(i: int) -> str:
    return f"第{i + 1}村"


def town_toml(villages: int, database: str) -> str:
    lines = [
        "[town]", 'name = "县测镇"', 'timezone = "Asia/Shanghai"', f'database = "{database}"',
        f'leaders_chat = "telegram:{LEADERS}"', f"campaign_start = {FIRST_DAY.isoformat()}",
        "[schedule]", 'remind = "15:00"', 'chase = "16:00"', f'deadline = "{DEADLINE:%H:%M}"',
        "[[admin]]", 'name = "镇防控办"', f'ids = ["telegram:{ADMIN}"]', "[telegram]",
    ]
    for i in range(villages):
        lines += ["[[village]]", f'name = "{village(i)}"', f'chats = ["{group(i)}"]', f'heads = ["{head(i)}"]']
    return "\n".join(lines) + "\n"


# --- the history -------------------------------------------------------------------------------


class History:
    """Writes the town's days, one transaction each, through the repositories."""

    def __init__(self, town: Town, database: Database, villages: int, seed: int = 16) -> None:
        self.town, self.database, self.villages = town, database, villages
        self.rng = random.Random(seed)
        self.required = town.required
        self.field_ids = [f.id for f in town.fields]
        self.messages = 0

    def figures(self) -> dict[str, int]:
        return {f: self.rng.randint(0, 300) for f in self.field_ids if f in self.required or self.rng.random() < 0.5}

    async def write_day(self, day: dt.date) -> None:
        rng, zone = self.rng, self.town.zone
        morning = at_local(day, dt.time(9), zone)
        deadline = at_local(day, DEADLINE, zone)
        async with self.database.transaction() as store:
            await store.reports.prefetch([(village(i), day) for i in range(self.villages)])
            confirmed: list[str] = []
            missed: list[tuple[str, bool]] = []
            for i in range(self.villages):
                if rng.random() < 0.03:  # missed the day altogether
                    missed.append((village(i), False))
                    continue
                late = rng.random() < 0.05
                at = deadline + dt.timedelta(minutes=rng.randint(1, 300)) if late else morning + dt.timedelta(
                    minutes=rng.randint(0, 470)
                )
                await self._report(store, i, day, self.figures(), correction=False, late=late, at=at)
                confirmed.append(group(i))
                if late:
                    missed.append((village(i), False))
                if rng.random() < 0.05:  # a correction later that day
                    one = rng.choice(self.required)
                    await self._report(
                        store, i, day, {one: rng.randint(0, 300)}, correction=True, late=late,
                        at=at + dt.timedelta(minutes=5),
                    )
                    confirmed.append(group(i))
            await store.missed_reports.record_many(day, missed, at=deadline)
            sent = await store.outbox.enqueue_many(
                confirmed, text="✅ 已收到日报", purpose="reply", at=morning, priority=PRIORITY_REPLY
            )
            await store.outbox.record_sent(sent, morning)
            for n in range(20):
                temperatures = [rng.choice([36.4, 36.6, 36.8, 37.5]) for _ in range(rng.randint(0, 3))]
                await store.checkpoints.add(
                    checkpoint=f"卡点{n % 4 + 1}", day=day, plate=rng.choice([None, "甘D12345", "甘A00001"]),
                    persons=rng.randint(1, 5), temperatures=temperatures, origin="兰州", destination=None,
                    fever=any(t >= 37.3 for t in temperatures), key_area=rng.random() < 0.05,
                    registered_by="telegram:700001", registered_at=morning, chat="telegram:-1007000000001",
                )
            for n in range(2):
                await store.donations.add(
                    day=day, donor=f"捐赠人{rng.randint(1, 400)}", amount_yuan=Decimal(rng.randint(1, 50) * 100),
                    items=[{"name": "口罩", "quantity": rng.randint(10, 500), "unit": "个"}] if n else [],
                    by=f"telegram:{ADMIN}", at=morning, organisation=rng.random() < 0.3,
                )
            if (day - FIRST_DAY).days % 5 == 4:  # so both measured days (the 30th, the 365th) have one
                await self._notice(store, day, morning)

    async def _report(
        self, store: Store, i: int, day: dt.date, fields: dict[str, int], *, correction: bool, late: bool,
        at: dt.datetime,
    ) -> None:
        self.messages += 1
        key: Key = ("telegram", group(i), f"h{self.messages}", "")
        store.inbound.add(key, head(i), at, "daily_report")
        await store.reports.add_revision(
            village=village(i), day=day, fields=fields, correction=correction, late=late, by=head(i), at=at,
            chat=group(i), required=self.required,
        )

    async def _notice(self, store: Store, day: dt.date, at: dt.datetime) -> None:
        names = [village(i) for i in range(self.villages)]
        notice = await store.notices.create(
            day=day, body="即日起各村严禁举办聚餐、婚宴，请各村广泛宣传。", by=f"telegram:{ADMIN}", at=at,
            villages=names, chat=f"telegram:{LEADERS}",
        )
        chats = [group(i) for i in range(self.villages)]
        rows = await store.outbox.enqueue_many(chats, text="【通知】即日起各村严禁举办聚餐", purpose="notice", at=at,
                                               priority=PRIORITY_REPLY)
        await store.outbox.record_sent(rows, at)
        await store.notices.add_deliveries(notice, list(zip(names, chats, rows, strict=True)))
        acknowledged = [(village(i), head(i)) for i in range(self.villages) if self.rng.random() < 0.8]
        await store.notices.acknowledge_many(notice.id, acknowledged, at + dt.timedelta(minutes=30))


# --- the measurements --------------------------------------------------------------------------


class LoopLag:
    """The longest the event loop was held: how late a 5 ms ticker woke, worst case, while running."""

    TICK = 0.005

    def __init__(self) -> None:
        self.worst = 0.0
        self._task: asyncio.Task[None] | None = None

    async def _tick(self) -> None:
        while True:
            before = time.perf_counter()
            await asyncio.sleep(self.TICK)
            self.worst = max(self.worst, time.perf_counter() - before - self.TICK)

    @contextlib.asynccontextmanager
    async def watching(self) -> AsyncIterator[LoopLag]:
        self.worst = 0.0
        self._task = asyncio.create_task(self._tick())
        await asyncio.sleep(0)
        try:
            yield self
        finally:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task


async def timed(work: Callable[[], Awaitable[Any]]) -> float:
    started = time.perf_counter()
    await work()
    return time.perf_counter() - started


async def report_times(town: Town, database: Database, day: dt.date, folder: Path) -> dict[str, float]:
    """The day's report in each format as `villagebot report` makes it: one transaction, then rendered."""

    async def made(fmt: str) -> None:
        async with database.transaction() as store:
            report = await build_town_report(store, town, day)
        if fmt == "text":
            render_text(report)
        elif fmt == "json":
            json.dumps(report.to_json(), ensure_ascii=False, indent=2)
        else:
            write_xlsx(report, folder / "report.xlsx")

    return {f"report {fmt}": await timed(lambda fmt=fmt: made(fmt)) for fmt in ("text", "json", "xlsx")}  # type: ignore[misc]


async def deadline_time(town: Town, database: Database, day: dt.date) -> dict[str, float]:
    lag = LoopLag()
    async with lag.watching():
        seconds = await timed(lambda: send_deadline_summary(town, database, town.deadline(day)))
    return {"deadline job": seconds, "deadline job: longest loop hold": lag.worst}


@dataclass
class Recorder:
    """A platform stand-in for the outbox sender: records when each group's confirmation arrived."""

    name: str = "telegram"
    concurrency: int = 8  # as the Telegram adapter sends: 8 groups at once, what waits for one merged
    merges: bool = True
    paced: bool = False
    confirmed: dict[str, float] = field(default_factory=dict)
    delivered: int = 0

    async def deliver(self, message: OutgoingMessage) -> str | None:
        self.delivered += 1
        if os.environ.get("BENCH_DEBUG"):
            print(message.chat, message.text[:80].replace("\n", " "), file=sys.stderr)
        if CONFIRMED in message.text and message.chat not in self.confirmed:
            self.confirmed[message.chat] = time.perf_counter()
        return str(self.delivered)


async def serve(config: TownConfig, url: str, schema: str | None, day: dt.date, spread: float) -> dict[str, float]:
    """The child: the bot serving the town at `day`'s deadline, reports arriving while the job runs."""
    deadline = at_local(day, DEADLINE, config.town.zone)
    clock = ManualClock(deadline)
    recorder = Recorder()
    app = await App.start(config, clock=clock, platforms={"telegram": recorder},
                          database=Database(url, schema=schema))
    sender = asyncio.create_task(app.senders["telegram"].run())
    count = min(1000, len(config.villages))
    arrived: dict[str, float] = {}
    waiting: list[IncomingMessage] = []
    more = asyncio.Event()
    batches: list[tuple[int, float]] = []  # (messages, seconds to handle and store them)

    async def arrive() -> None:
        started = time.perf_counter()
        for n in range(count):
            await asyncio.sleep(max(0.0, started + n * spread / count - time.perf_counter()))
            text = f"日报 入户排查{100 + n % 90}户，返乡{n % 7}人，居家观察{10 + n % 50}人，发热0人，消毒2次"
            chat = group(n)
            waiting.append(IncomingMessage("telegram", chat, head(n), text, f"b{day:%Y%m%d}-{n}", clock.now()))
            arrived[chat] = time.perf_counter()
            more.set()

    async def receive() -> None:  # as an adapter does: what arrived meanwhile goes in as one batch
        while len(recorder.confirmed) < count:
            await more.wait()
            more.clear()
            batch, waiting[:] = list(waiting), []
            handled = await timed(lambda batch=batch: app.receive(batch))  # type: ignore[misc]
            batches.append((len(batch), handled))

    lag = LoopLag()
    receiving = asyncio.create_task(receive())
    async with lag.watching():
        job_started = time.perf_counter()
        job = asyncio.create_task(timed(lambda: send_deadline_summary(app.town, app.database, deadline)))
        arriving = asyncio.create_task(arrive())
        job_seconds = await job
        job_ended = time.perf_counter()
        job_lag = lag.worst
    await arriving
    started = time.perf_counter()
    while len(recorder.confirmed) < count and time.perf_counter() - started < 300:
        await asyncio.sleep(0.01)
    receiving.cancel()
    sender.cancel()
    await asyncio.gather(receiving, sender, return_exceptions=True)
    await app.close()
    waits = sorted(recorder.confirmed[chat] - arrived[chat] for chat in recorder.confirmed if chat in arrived)
    if len(waits) < count:
        raise SystemExit(f"only {len(waits)} of {count} reports were confirmed")
    during = sorted(
        recorder.confirmed[chat] - arrived[chat] for chat in arrived if job_started <= arrived[chat] <= job_ended
    ) or [0.0]
    return {
        "confirmation p50": statistics.median(waits),
        "confirmation p99": percentile(waits, 0.99),
        "confirmation p99, arrived while the job ran": percentile(during, 0.99),
        "reports arrived while the job ran": len(during),
        "deadline job, while serving": job_seconds,
        "deadline job, while serving: longest loop hold": job_lag,
        "bot peak RSS (MB)": peak_rss_mb(),
        "receive: batches": len(batches),
        "receive: largest batch": max(n for n, _ in batches),
        "receive: longest batch (s)": max(t for _, t in batches),
    }


def percentile(ordered: list[float], share: float) -> float:
    return ordered[min(len(ordered) - 1, int(len(ordered) * share))]


def peak_rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def serve_in_child(config_file: Path, url: str, schema: str | None, day: dt.date, spread: float) -> dict[str, float]:
    command = [sys.executable, str(Path(__file__).resolve()), "--serve", str(config_file), "--url", url,
               "--day", day.isoformat(), "--arrival-seconds", str(spread)]
    if schema:
        command += ["--schema", schema]
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise SystemExit(f"the serving child failed:\n{done.stderr[-4000:]}")
    result: dict[str, float] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


# --- one database ------------------------------------------------------------------------------


@contextlib.asynccontextmanager
async def postgres_schema(url: str) -> AsyncIterator[str]:
    from sqlalchemy import text
    from sqlalchemy.ext.asyncio import create_async_engine

    schema = f"bench_{uuid.uuid4().hex[:10]}"

    async def admin(statement: str) -> None:
        engine = create_async_engine(async_url(url), isolation_level="AUTOCOMMIT")
        try:
            async with engine.connect() as connection:
                await connection.execute(text(statement))
        finally:
            await engine.dispose()

    await admin(f'CREATE SCHEMA "{schema}"')
    try:
        yield schema
    finally:
        await admin(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            f"WHERE application_name = 'villagebot-{schema}' AND pid <> pg_backend_pid()"
        )
        await admin(f'DROP SCHEMA "{schema}" CASCADE')


Points = list[tuple[int, dict[str, float]]]  # (days of history, figures)


async def bench_one(name: str, url: str, schema: str | None, args: argparse.Namespace, folder: Path) -> Points:
    config_file = folder / f"{name}-town.toml"
    config_file.write_text(town_toml(args.villages, url), encoding="utf-8")
    config = parse_config(config_file.read_text(encoding="utf-8"), str(config_file))
    database = Database(url, schema=schema)
    points = sorted({min(args.month, args.days), args.days})
    results: Points = []
    try:
        await database.migrate()
        town = Town.build(config, ManualClock(at_local(FIRST_DAY, DEADLINE, config.town.zone)))
        async with database.transaction() as store:
            await store.reports.rebuild_summaries(town.required)
            await store.checkpoints.rebuild_day_totals()
        history = History(town, database, args.villages)
        written = 0
        for point in points:
            started = time.perf_counter()
            while written < point:
                await history.write_day(FIRST_DAY + dt.timedelta(days=written))
                written += 1
            print(f"{name}: {written} days of {args.villages} villages written ({time.perf_counter() - started:.1f} s)",
                  flush=True)
            last = FIRST_DAY + dt.timedelta(days=written - 1)
            figures = await report_times(town, database, last, folder)
            figures |= await deadline_time(town, database, last)
            figures |= serve_in_child(config_file, url, schema, last + dt.timedelta(days=1), args.arrival_seconds)
            results.append((written, figures))
            for key, value in figures.items():
                print(f"  {key:48s} {value:9.3f}", flush=True)
    finally:
        await database.close()
    return results


def print_table(name: str, results: Points) -> None:
    print(f"\n== {name}: " + ", ".join(f"{days} days" for days, _ in results)
          + (" (ratio = last / first)" if len(results) > 1 else ""))
    for key in results[0][1]:
        values = [figures[key] for _, figures in results]
        unit = " s" if key.startswith(("report ", "deadline", "confirmation")) or "(s)" in key else ""
        cells = "  ".join(f"{v:9.3f}{unit}" for v in values)
        ratio = f"  ratio {values[-1] / values[0]:5.2f}" if len(values) > 1 and values[0] > 0 else ""
        print(f"  {key:48s} {cells}{ratio}")


async def main(args: argparse.Namespace) -> int:
    with tempfile.TemporaryDirectory(prefix="villagebot-scale-") as name:
        folder = Path(name)
        tables: list[tuple[str, Points]] = []
        if not args.postgres_only:
            url = f"sqlite:///{folder}/town.db"
            tables.append(("SQLite", await bench_one("sqlite", url, None, args, folder)))
        if not args.sqlite_only:
            url = args.postgres or os.environ.get("VILLAGEBOT_TEST_POSTGRES") or DEFAULT_POSTGRES
            async with postgres_schema(url) as schema:
                tables.append(("PostgreSQL", await bench_one("postgresql", url, schema, args, folder)))
    print(f"\n{args.villages} villages; {min(1000, args.villages)} reports arriving over {args.arrival_seconds} s "
          "while the deadline job runs (compressed; see the docstring)")
    for table_name, results in tables:
        print_table(table_name, results)
    return 0


def parse_arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("postgres", nargs="?", help="PostgreSQL URL (default: $VILLAGEBOT_TEST_POSTGRES or "
                        f"{DEFAULT_POSTGRES})")
    parser.add_argument("--villages", type=int, default=1000)
    parser.add_argument("--days", type=int, default=365)
    parser.add_argument("--month", type=int, default=MONTH, help="days of history at the first point (default 30)")
    parser.add_argument("--arrival-seconds", type=float, default=15.0,
                        help="the reports arrive at an even pace over this long (default 15: 4x the issue's minute)")
    only = parser.add_mutually_exclusive_group()
    only.add_argument("--sqlite-only", action="store_true")
    only.add_argument("--postgres-only", action="store_true")
    parser.add_argument("--serve", help=argparse.SUPPRESS)  # the child: a config file
    parser.add_argument("--url", help=argparse.SUPPRESS)
    parser.add_argument("--schema", help=argparse.SUPPRESS)
    parser.add_argument("--day", type=dt.date.fromisoformat, help=argparse.SUPPRESS)
    return parser.parse_args()


if __name__ == "__main__":
    arguments = parse_arguments()
    if arguments.serve:
        config = parse_config(Path(arguments.serve).read_text(encoding="utf-8"), arguments.serve)
        served = asyncio.run(serve(config, arguments.url, arguments.schema, arguments.day, arguments.arrival_seconds))
        print(json.dumps(served))
        sys.exit(0)
    sys.exit(asyncio.run(main(arguments)))
