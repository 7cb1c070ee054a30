"""A county as it runs: two `villagebot run` processes on one PostgreSQL, each with its own Telegram
account (a stand-in each), three towns, a county admin and a county notice.

Process A runs account tg1 (王岘镇 and the county's leaders group), process B account tg2 (红旗镇
and 清水镇). Every report is stored once, every send goes once, each town's deadline summary once,
the county summary once and the same as `villagebot report --county`; B killed before it sent its
towns' share of the county notice sends all of it, once, when it is back. The same county on WeChat
(a puppet stand-in per account): B killed mid-broadcast loses nothing once it is back, and sends
again at most the one message it had in flight.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import os
import signal
import subprocess
import uuid
from collections import Counter
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import IO, Any
from zoneinfo import ZoneInfo

import pytest
from conftest import PG_URL, _admin, postgres_answers
from controlled_process import TickingClock
from county_files import telegram_ids, wechat_ids, wechat_town_text, write_telegram_county
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine
from telegram_standin import TOKEN, TelegramStandIn
from waiting import eventually
from wechat_standin import PuppetStandin

from storage import async_url

SHANGHAI = ZoneInfo("Asia/Shanghai")
TOKEN2 = TOKEN.replace("7000001", "7000002")
COUNTY_LEADERS, COUNTY_ADMIN = -1009000000001, 900001
FULL = "日报 入户排查{n}户，返乡3人，居家观察12人，发热0人，消毒2次"
NOTICE_BODY = "明天起各村卡点每日消毒两次"


class CountyProcess:
    """`villagebot run --config county.toml --accounts ACCOUNT` on the tests' clock."""

    def __init__(self, folder: Path, account: str, standin: TelegramStandIn, clock: TickingClock) -> None:
        self.folder, self.account, self.standin, self.clock = folder, account, standin, clock
        self.process: subprocess.Popen[bytes] | None = None
        self.log: IO[bytes] | None = None
        self.runs = 0

    @staticmethod
    def env() -> dict[str, str]:
        keep = {k: v for k, v in os.environ.items() if not k.startswith(("TELEGRAM_", "WECHATY_", "VILLAGEBOT_"))}
        return {**keep, "TG1_TOKEN": TOKEN, "TG2_TOKEN": TOKEN2, "PYTHONUNBUFFERED": "1"}

    async def start(self) -> None:
        polls = len(self.standin.calls("getUpdates"))
        self.runs += 1
        self.log = open(self.folder / f"{self.account}-run{self.runs}.log", "wb")  # noqa: SIM115 - closed in kill
        self.process = subprocess.Popen(
            self.clock.command("run", "--config", "county.toml", "--accounts", self.account),
            cwd=self.folder, env=self.env(), stdin=subprocess.DEVNULL, stdout=self.log, stderr=subprocess.STDOUT,
        )  # fmt: skip
        await self.standin.until(
            lambda t: len(t.calls("getUpdates")) > polls or self.ended(),
            timeout=60,
            what=f"{self.account}'s first poll",
        )
        assert not self.ended(), self.output()

    def ended(self) -> bool:
        return self.process is not None and self.process.poll() is not None

    def kill(self) -> None:
        if self.process is not None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(timeout=20)
            self.process = None
        if self.log is not None:
            self.log.close()
            self.log = None

    def output(self) -> str:
        return "\n".join(p.read_text("utf-8", errors="replace") for p in sorted(self.folder.glob("*-run*.log")))


def villagebot(folder: Path, clock: TickingClock, *args: str) -> str:
    done = subprocess.run(
        clock.command(*args), cwd=folder, env=CountyProcess.env(), capture_output=True, text=True, timeout=60,
        check=False, encoding="utf-8",
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    return done.stdout


@pytest.fixture
def ticking_clock() -> TickingClock:
    """Ninety seconds before every town's deadline (17:00) on 17 Feb 2020."""
    return TickingClock(dt.datetime(2020, 2, 17, 16, 58, 30, tzinfo=SHANGHAI))


@pytest.fixture
def standins(ticking_clock: TickingClock) -> Iterator[tuple[TelegramStandIn, TelegramStandIn]]:
    with TelegramStandIn(TOKEN, now=ticking_clock.now) as one, TelegramStandIn(TOKEN2, now=ticking_clock.now) as two:
        yield one, two


@pytest.fixture
async def town_ids() -> AsyncIterator[dict[str, str]]:
    """Town ids of this test's own (so its schemas are its own), dropped with their schemas after."""
    if not postgres_answers():
        pytest.skip("PostgreSQL does not answer at 127.0.0.1:5432")
    suffix = uuid.uuid4().hex[:6]
    ids = {"wangxian": f"wangxian_{suffix}", "hongqi": f"hongqi_{suffix}", "qingshui": f"qingshui_{suffix}"}
    yield ids
    for town_id in ids.values():
        schema = f"town_{town_id}"
        await _admin(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            f"WHERE application_name = 'villagebot-{schema}' AND pid <> pg_backend_pid()"
        )
        await _admin(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')


async def counted(schema: str, sql: str) -> int:
    engine = create_async_engine(async_url(PG_URL))
    try:
        async with engine.connect() as connection:
            return int((await connection.execute(text(sql.replace("{s}", f'"{schema}"')))).scalar_one())
    finally:
        await engine.dispose()


async def settled(*town_ids: str) -> None:
    """Until these towns' outboxes hold nothing queued or being sent: a process killed after that loses no
    send's record (one killed mid-send may send again what it had in flight: test_outbox_crash_process)."""

    async def idle() -> bool:
        for town_id in town_ids:
            if await counted(
                f"town_{town_id}", "SELECT count(*) FROM {s}.outbox WHERE status IN ('sending', 'pending')"
            ):
                return False
        return True

    await eventually(idle, timeout=60, what=f"nothing being sent in {town_ids}")


async def test_two_processes_three_towns_one_county(
    tmp_path: Path, standins: tuple[TelegramStandIn, TelegramStandIn], ticking_clock: TickingClock,
    town_ids: dict[str, str],
) -> None:  # fmt: skip
    tg1, tg2 = standins
    wangxian, hongqi, qingshui = town_ids.values()
    write_telegram_county(
        tmp_path, database=PG_URL,
        towns={wangxian: ("王岘镇", "tg1"), hongqi: ("红旗镇", "tg2"), qingshui: ("清水镇", "tg2")},
        accounts={"tg1": tg1.base_url, "tg2": tg2.base_url}, leaders=COUNTY_LEADERS, admin=COUNTY_ADMIN,
    )  # fmt: skip
    ids = {town_id: telegram_ids(n) for n, town_id in enumerate(town_ids.values(), start=1)}
    villages = ["五星村", "王岘村", "雒家滩村", "红星村", "新华村", "金山村", "柳树村", "东风社区"]
    a = CountyProcess(tmp_path, "tg1", tg1, ticking_clock)
    b = CountyProcess(tmp_path, "tg2", tg2, ticking_clock)
    try:
        await a.start()
        await b.start()
        # a report in each town, each on its town's account
        reports: list[tuple[TelegramStandIn, str, str, int]] = [
            (tg1, wangxian, "红星村", 101), (tg2, hongqi, "五星村", 202), (tg2, qingshui, "红星村", 303),
        ]  # fmt: skip
        for standin, town_id, village, n in reports:
            standin.queue_message(ids[town_id][village], ids[town_id][f"{village}村干部"], FULL.format(n=n))
        for standin, town_id, village, n in reports:
            await standin.until(lambda t, c=ids[town_id][village], n=n: any(str(n) in s for s in t.sent_to(c)),
                                timeout=30, what=f"the reply in {village} of {town_id}")  # fmt: skip

        await settled(hongqi, qingshui)
        b.kill()  # B is down: its towns' share of the notice waits in their outboxes
        tg1.queue_message(COUNTY_LEADERS, COUNTY_ADMIN, f"县通知：{NOTICE_BODY}")
        await tg1.until(lambda t: sum(NOTICE_BODY in m.text for m in t.sent) == 8, timeout=30, what="王岘镇's notices")
        await tg1.until(lambda t: any("3 个镇" in s for s in t.sent_to(COUNTY_LEADERS)), timeout=30, what="the answer")
        assert not [m for m in tg2.sent if NOTICE_BODY in m.text]
        await b.start()  # back: it sends what its towns queued while it was down
        await tg2.until(lambda t: sum(NOTICE_BODY in m.text for m in t.sent) >= 16, timeout=60, what="B's notices")

        # the deadline: each town's summary once, then the county's once
        for standin, town_id in ((tg1, wangxian), (tg2, hongqi), (tg2, qingshui)):
            await standin.until(lambda t, c=ids[town_id]["leaders"]: any("截止时间已到" in s for s in t.sent_to(c)),
                                timeout=90, what=f"{town_id}'s deadline summary")  # fmt: skip
        await tg1.until(lambda t: any("各镇截止时间已到" in s for s in t.sent_to(COUNTY_LEADERS)), timeout=90,
                        what="the county summary")  # fmt: skip
    finally:
        a.kill()
        b.kill()
    output = a.output()
    # every send once: no group got any text twice, on either account
    for standin in (tg1, tg2):
        doubled = [k for k, n in Counter((m.chat_id, m.text) for m in standin.sent).items() if n > 1]
        assert not doubled, doubled
    notices = Counter(m.chat_id for s in (tg1, tg2) for m in s.sent if NOTICE_BODY in m.text)
    every_group = {ids[t][v] for t in town_ids.values() for v in villages}
    assert set(notices) == every_group and set(notices.values()) == {1}, notices
    for standin, town_id in ((tg1, wangxian), (tg2, hongqi), (tg2, qingshui)):
        leaders = standin.sent_to(ids[town_id]["leaders"])
        assert sum("截止时间已到" in s for s in leaders) == 1, (town_id, leaders)
        assert not [m for m in (tg2 if standin is tg1 else tg1).sent if m.chat_id == ids[town_id]["leaders"]]
    summaries = [s for s in tg1.sent_to(COUNTY_LEADERS) if "各镇截止时间已到" in s]
    assert len(summaries) == 1, output
    assert not tg2.sent_to(COUNTY_LEADERS)
    # the summary is `villagebot report --county`, and the json agrees with what was reported
    shown = villagebot(tmp_path, ticking_clock, "report", "--config", "county.toml", "--county", "--date", "2020-02-17")
    assert summaries[0].rstrip("\n") == "🗓 各镇截止时间已到，全县汇总如下：\n" + shown.rstrip("\n")
    report: dict[str, Any] = json.loads(
        villagebot(tmp_path, ticking_clock, "report", "--config", "county.toml", "--county", "--format", "json",
                   "--date", "2020-02-17")
    )  # fmt: skip
    assert [t["reported_count"] for t in report["towns"]] == [1, 1, 1]
    assert report["totals"]["households_visited"] == 606
    # every report stored once, in its own town's schema; the county notice once in every town
    for town_id in town_ids.values():
        schema = f"town_{town_id}"
        assert await counted(schema, "SELECT count(*) FROM {s}.report_revisions") == 1
        assert await counted(schema, "SELECT count(*) FROM {s}.notices") == 1
        assert await counted(schema, "SELECT count(*) FROM {s}.outbox WHERE purpose = 'notice'") == 8
        assert await counted(schema, "SELECT count(*) FROM {s}.scheduled_sends WHERE kind = 'deadline'") == 1
    assert (
        await counted(f"town_{wangxian}", "SELECT count(*) FROM {s}.scheduled_sends WHERE kind = 'county_summary'") == 1
    )


# --- the same county on WeChat: an account each, behind a puppet service each ----------------------

COUNTY_ROOM, COUNTY_WXID = "90001@chatroom", "wxid_county_office"
PACED = "group_interval = 0.05\ngroup_gap = [0.2, 0.3]\nper_minute = 1000\ntls = false\n"


class WechatCountyProcess:
    """`villagebot run --accounts ACCOUNT` on the tests' clock, for a WeChat account."""

    def __init__(self, folder: Path, account: str, standin: PuppetStandin, clock: TickingClock) -> None:
        self.folder, self.account, self.standin, self.clock = folder, account, standin, clock
        self.process: asyncio.subprocess.Process | None = None
        self.runs = 0

    async def start(self) -> None:
        connected = self.standin.streams_opened
        self.runs += 1
        env = {k: v for k, v in os.environ.items() if not k.startswith(("WECHATY_", "VILLAGEBOT_", "TELEGRAM_"))}
        env.update(WX1_TOKEN="token-wx1", WX2_TOKEN="token-wx2", PYTHONUNBUFFERED="1")
        with open(self.folder / f"{self.account}-run{self.runs}.log", "wb") as log:
            self.process = await asyncio.create_subprocess_exec(
                *self.clock.command("run", "--config", "county.toml", "--accounts", self.account),
                cwd=self.folder, env=env, stdin=asyncio.subprocess.DEVNULL, stdout=log, stderr=log,
            )  # fmt: skip
        await self.standin.wait_for(lambda: self.standin.streams_opened > connected, timeout=60,
                                    what=f"{self.account} connected")  # fmt: skip

    async def kill(self) -> None:
        if self.process is not None and self.process.returncode is None:
            self.process.kill()
            await self.process.wait()
        self.process = None


async def test_two_processes_on_two_wechat_accounts(
    tmp_path: Path, ticking_clock: TickingClock, town_ids: dict[str, str]
) -> None:
    ticking_clock.set(dt.datetime(2020, 2, 17, 9, 0, tzinfo=SHANGHAI))
    wangxian, hongqi, qingshui = town_ids.values()
    wx1 = PuppetStandin(token="token-wx1", now=ticking_clock.now)
    wx2 = PuppetStandin(token="token-wx2", now=ticking_clock.now)
    towns = {wangxian: ("王岘镇", "wx1", wx1), hongqi: ("红旗镇", "wx2", wx2), qingshui: ("清水镇", "wx2", wx2)}
    ids = {town_id: wechat_ids(n) for n, town_id in enumerate(towns, start=1)}
    (tmp_path / "towns").mkdir()
    for n, (town_id, (name, account, standin)) in enumerate(towns.items(), start=1):
        (tmp_path / "towns" / f"{town_id}.toml").write_text(wechat_town_text(name, n, account), "utf-8")
        for key, value in ids[town_id].items():
            if value.endswith("@chatroom"):
                standin.add_room(value, key)
            else:
                standin.add_contact(value, key)
    wx1.add_room(COUNTY_ROOM, "县防控指挥部")
    wx1.add_contact(COUNTY_WXID, "县防控办")
    await wx1.start()
    await wx2.start()
    entries = "".join(f'[[town]]\nid = "{i}"\nfile = "towns/{i}.toml"\n\n' for i in towns)
    (tmp_path / "county.toml").write_text(
        f'[county]\nname = "黄河县"\ndatabase = "{PG_URL}"\nleaders_chat = "wechat:{COUNTY_ROOM}"\n'
        f'wechat_account = "wx1"\n\n{entries}[[county_admin]]\nname = "县防控办"\nids = ["wechat:{COUNTY_WXID}"]\n\n'
        f'[[wechat_account]]\nname = "wx1"\nendpoint = "{wx1.endpoint}"\ntoken_env = "WX1_TOKEN"\n{PACED}\n'
        f'[[wechat_account]]\nname = "wx2"\nendpoint = "{wx2.endpoint}"\ntoken_env = "WX2_TOKEN"\n{PACED}',
        encoding="utf-8",
    )
    villages = ["五星村", "王岘村", "雒家滩村", "红星村", "新华村", "金山村", "柳树村", "东风社区"]
    a = WechatCountyProcess(tmp_path, "wx1", wx1, ticking_clock)
    b = WechatCountyProcess(tmp_path, "wx2", wx2, ticking_clock)
    try:
        await a.start()
        await b.start()
        reports = [(wx1, wangxian, "红星村", 101), (wx2, hongqi, "五星村", 202), (wx2, qingshui, "红星村", 303)]
        for standin, town_id, village, n in reports:
            standin.say(ids[town_id][village], ids[town_id][f"{village}村干部"], FULL.format(n=n))
        for standin, town_id, village, _ in reports:
            await standin.wait_for(lambda s=standin, r=ids[town_id][village]: any("已收到" in t for t in s.texts_to(r)),
                                   timeout=60, what=f"the answer in {village} of {town_id}")  # fmt: skip
        wx1.say(COUNTY_ROOM, COUNTY_WXID, f"县通知：{NOTICE_BODY}")
        await wx2.wait_for(lambda: sum(NOTICE_BODY in s.text for s in wx2.sent) >= 3, timeout=60, what="B under way")
        await b.kill()  # mid-broadcast: some of its towns' groups have the notice, the rest wait
        at_kill = sum(NOTICE_BODY in s.text for s in wx2.sent)
        assert at_kill < 16
        await wx1.wait_for(lambda: sum(NOTICE_BODY in s.text for s in wx1.sent) >= 8, timeout=60, what="wx1's notices")
        await wx1.wait_for(lambda: any("3 个镇" in t for t in wx1.texts_to(COUNTY_ROOM)), timeout=30, what="answer")
        await b.start()
        await wx2.wait_for(lambda: len({s.conversation for s in wx2.sent if NOTICE_BODY in s.text}) == 16,
                           timeout=90, what="wx2's share")  # fmt: skip
        await settled(*towns)
    finally:
        await a.kill()
        await b.kill()
        await wx1.stop()
        await wx2.stop()
    # nothing lost; doubled at most the one send B had in flight (a WeChat sender sends one at a time)
    doubled = [k for st in (wx1, wx2) for k, n in Counter((s.conversation, s.text) for s in st.sent).items() if n > 1]
    assert len(doubled) <= 1 and all(NOTICE_BODY in text for _, text in doubled), doubled
    notices = Counter(s.conversation for st in (wx1, wx2) for s in st.sent if NOTICE_BODY in s.text)
    assert set(notices) == {ids[t][v] for t in towns for v in villages} and set(notices.values()) <= {1, 2}, notices
    assert {s.conversation for s in wx1.sent} <= {*ids[wangxian].values(), COUNTY_ROOM}  # each account its own towns
    assert {s.conversation for s in wx2.sent} <= {*ids[hongqi].values(), *ids[qingshui].values()}
    for town_id in towns:
        schema = f"town_{town_id}"
        assert await counted(schema, "SELECT count(*) FROM {s}.report_revisions") == 1
        assert await counted(schema, "SELECT count(*) FROM {s}.notices") == 1
