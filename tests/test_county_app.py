"""Several towns in one process: each town on its own schema (or SQLite file), every message routed
to the town that owns its chat, each account's sends drained over its own towns' outboxes."""

from __future__ import annotations

import asyncio
import datetime as dt
import uuid
from collections.abc import AsyncIterator
from itertools import count
from pathlib import Path

import pytest
from chat_harness import FakePlatform
from conftest import PG_URL, _admin, postgres_answers
from county_files import TOWNS, write_county
from sqlalchemy import text as sqltext

from bot.county_app import CountyApp
from handlers import texts
from handlers.clock import ManualClock
from handlers.county import county_report
from handlers.county_report import render_county_text
from handlers.messages import IncomingMessage
from scheduler.leader import ClockLock
from storage import Database
from townconfig import CountyConfig, load_county

ACCOUNTS = (
    '[[telegram_account]]\nname = "tg1"\ntoken_env = "TG1_TOKEN"\n\n'
    '[[telegram_account]]\nname = "tg2"\ntoken_env = "TG2_TOKEN"\n'
)
SPLIT = {"wangxian": "tg1", "hongqi": "tg2", "qingshui": "tg2"}
FULL = "日报 入户排查{n}户，返乡3人，居家观察12人，发热0人，消毒2次"
_ids = count(1)


class TelegramStandIn(FakePlatform):
    name = "telegram"


@pytest.fixture
def county(tmp_path: Path) -> CountyConfig:
    path = write_county(tmp_path, platform="telegram", accounts=SPLIT, extra=ACCOUNTS)
    text = path.read_text("utf-8").replace("[[town]]", 'telegram_account = "tg1"\n\n[[town]]', 1)
    path.write_text(text, "utf-8")
    return load_county(path)


@pytest.fixture(params=["sqlite", "postgresql"])
async def town_databases(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[dict[str, Database]]:
    """A database per town: SQLite files, or PostgreSQL schemas (made by `migrate`, dropped after)."""
    if request.param == "sqlite":
        databases = {t: Database(f"sqlite:///{tmp_path}/county.{t}.db") for t in TOWNS}
        yield databases
        for db in databases.values():
            await db.close()
        return
    if not postgres_answers():
        pytest.skip("PostgreSQL does not answer at 127.0.0.1:5432")
    prefix = f"t_{uuid.uuid4().hex[:8]}"
    databases = {t: Database(PG_URL, schema=f"{prefix}_{t}") for t in TOWNS}
    try:
        yield databases
    finally:
        for town_id, db in databases.items():
            await db.close()
            schema = f"{prefix}_{town_id}"
            await _admin(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                f"WHERE application_name = 'villagebot-{schema}' AND pid <> pg_backend_pid()"
            )
            await _admin(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(dt.datetime(2020, 2, 17, 9, 0, tzinfo=dt.timezone(dt.timedelta(hours=8))))


def said(chat: str, who: str, text: str, clock: ManualClock, *, private: bool = False) -> IncomingMessage:
    return IncomingMessage(
        platform="telegram", chat=chat, sender=who, text=text, message_id=f"m{next(_ids)}",
        at=clock.now(), sender_name=who, is_private=private,
    )  # fmt: skip


async def households(app: CountyApp, town_id: str, village: str, day: dt.date) -> object:
    town = app.towns[town_id]
    async with town.database.transaction() as store:
        return (await store.reports.day(village, day, town.town.required)).fields.get("households_visited")


async def test_each_towns_red_star_village_reports_into_its_own_town(
    county: CountyConfig, town_databases: dict[str, Database], clock: ManualClock
) -> None:
    app = await CountyApp.start(county, clock=clock, databases=town_databases)
    tg1, tg2 = TelegramStandIn(), TelegramStandIn()
    app.add_platform("telegram:tg1", tg1)
    app.add_platform("telegram:tg2", tg2)
    try:
        figures = {"wangxian": 101, "hongqi": 202, "qingshui": 303}
        for town_id, n in figures.items():
            chat, head = f"telegram:{town_id}-红星村", f"telegram:{town_id}-红星村村干部"
            receiver = app.receiver(f"telegram:{SPLIT[town_id]}")
            await receiver([said(chat, head, FULL.format(n=n), clock)])
        await app.drain()
        day = clock.now().date()
        for town_id, n in figures.items():
            assert await households(app, town_id, "红星村", day) == n
            other = next(t for t in figures if t != town_id)
            assert await households(app, other, "红星村", day) == figures[other]
        # each account sent only to its own towns' groups, each reply once
        assert {m.chat for m in tg1.sent} == {"telegram:wangxian-红星村"}
        assert {m.chat for m in tg2.sent} == {"telegram:hongqi-红星村", "telegram:qingshui-红星村"}
        assert len(tg1.sent) == 1 and len(tg2.sent) == 2
        assert "101" in tg1.sent[0].text
    finally:
        await app.close()


async def test_a_private_chat_goes_to_the_senders_town(
    county: CountyConfig, town_databases: dict[str, Database], clock: ManualClock
) -> None:
    app = await CountyApp.start(county, clock=clock, databases=town_databases)
    try:
        head = "telegram:qingshui-五星村村干部"
        private = said(head, head, "你好", clock, private=True)
        assert await app.town_of(private) == "qingshui"
        assert await app.town_of(private, app.town_ids_on("telegram:tg1")) is None  # not a town of tg1
        stranger = said("telegram:-999", "telegram:777", "你好", clock)
        assert await app.town_of(stranger) is None
        async with app.towns["hongqi"].database.transaction() as store:
            await store.bindings.bind("telegram:-999", "village", "红星村", "telegram:hongqi-town_office", clock.now())
        assert await app.town_of(stranger) == "hongqi"  # bound in chat by hongqi's admin
    finally:
        await app.close()


async def test_county_admins_act_as_admins_in_every_town(
    county: CountyConfig, town_databases: dict[str, Database], clock: ManualClock
) -> None:
    app = await CountyApp.start(county, clock=clock, databases=town_databases)
    try:
        for town in app.towns.values():
            assert "telegram:county_office" in {i for a in town.config.admins for i in a.ids}
            assert town.config.town.name in TOWNS.values()
    finally:
        await app.close()


async def test_without_given_databases_each_town_gets_a_file_next_to_the_county(
    tmp_path: Path, clock: ManualClock
) -> None:
    county = load_county(write_county(tmp_path))
    app = await CountyApp.start(county, clock=clock)
    try:
        assert sorted(p.name for p in tmp_path.glob("county.*.db")) == sorted(f"county.{t}.db" for t in TOWNS)
    finally:
        await app.close()


NOTICE = "县通知：明天起各村卡点每日消毒两次"


async def started(
    county: CountyConfig, databases: dict[str, Database], clock: ManualClock
) -> tuple[CountyApp, TelegramStandIn, TelegramStandIn]:
    app = await CountyApp.start(county, clock=clock, databases=databases)
    tg1, tg2 = TelegramStandIn(), TelegramStandIn()
    app.add_platform("telegram:tg1", tg1)
    app.add_platform("telegram:tg2", tg2)
    return app, tg1, tg2


async def test_a_county_notice_reaches_every_village_of_every_town_once(
    county: CountyConfig, town_databases: dict[str, Database], clock: ManualClock
) -> None:
    app, tg1, tg2 = await started(county, town_databases, clock)
    try:
        message = said("telegram:county-leaders", "telegram:county_office", NOTICE, clock)
        await app.receiver("telegram:tg1")([message])
        await app.receiver("telegram:tg1")([message])  # delivered again: handled once
        await app.drain()
        await app.drain()  # the delivery reports the settled sends queued
        notices = [m for m in tg1.sent + tg2.sent if m.purpose == "notice"]
        villages = {f"telegram:{t}-{v.name}" for t in TOWNS for v in county.town(t).config.villages}  # type: ignore[union-attr]
        assert sorted(m.chat for m in notices) == sorted(villages)  # 24 groups, each once
        assert all("明天起各村卡点每日消毒两次" in m.text for m in notices)
        assert {m.chat for m in tg1.sent if m.purpose == "notice"} == {c for c in villages if "wangxian" in c}
        answers = [m.text for m in tg1.sent if m.chat == "telegram:county-leaders"]
        assert len(answers) == 1 and "3 个镇" in answers[0] and "24 个村群" in answers[0]
        for town_id in TOWNS:  # each town's own delivery report, to its own leaders, on its own account
            platform = tg1 if SPLIT[town_id] == "tg1" else tg2
            receipts = [m for m in platform.sent if m.chat == f"telegram:{town_id}-leaders" and m.purpose == "receipt"]
            assert len(receipts) == 1 and "8/8" in receipts[0].text
    finally:
        await app.close()


async def test_a_county_notice_from_a_town_admin_is_not_a_county_notice(
    county: CountyConfig, town_databases: dict[str, Database], clock: ManualClock
) -> None:
    app, tg1, tg2 = await started(county, town_databases, clock)
    try:
        message = said("telegram:hongqi-leaders", "telegram:hongqi-town_office", NOTICE, clock)
        await app.receiver("telegram:tg2")([message])
        await app.drain()
        assert not [m for m in tg1.sent if m.purpose == "notice"]
        assert all("hongqi" in m.chat for m in tg2.sent)
    finally:
        await app.close()


async def test_the_county_summary_goes_once_after_the_last_deadline(
    county: CountyConfig, town_databases: dict[str, Database], clock: ManualClock
) -> None:
    app, tg1, _tg2 = await started(county, town_databases, clock)
    try:
        head = "telegram:qingshui-红星村村干部"
        await app.receiver("telegram:tg2")([said("telegram:qingshui-红星村", head, FULL.format(n=77), clock)])
        assert await app.send_summary() == 0  # 09:00: no town's deadline yet
        clock.set(clock.now().replace(hour=17, minute=0, second=1))
        assert await app.send_summary() == 1
        assert await app.send_summary() == 0  # once
        await app.drain()
        summaries = [m for m in tg1.sent if m.chat == "telegram:county-leaders"]
        assert len(summaries) == 1 and summaries[0].purpose == "summary"
        report = await county_report("黄河县", app.parts, clock.now().date())
        assert summaries[0].text == texts.county_summary(render_county_text(report))
        assert report.reported == 1 and report.totals["households_visited"] == 77
        assert "清水镇：应报 8 个，实报 1 个" in summaries[0].text
    finally:
        await app.close()


async def test_a_county_admin_binds_a_new_group_in_the_town_it_names(
    county: CountyConfig, town_databases: dict[str, Database], clock: ManualClock
) -> None:
    app, _tg1, tg2 = await started(county, town_databases, clock)
    try:
        group = "telegram:-5555"
        await app.receiver("telegram:tg2")([said(group, "telegram:county_office", "绑定 红旗镇 红星村", clock)])
        await app.drain()
        async with app.towns["hongqi"].database.transaction() as store:
            binding = await store.bindings.get(group)
        assert binding is not None and binding.target == "红星村"
        for other in ("wangxian", "qingshui"):
            async with app.towns[other].database.transaction() as store:
                assert await store.bindings.get(group) is None
        assert tg2.texts_in(group)  # the town's own answer to the binding
        report = said(group, "telegram:7777", FULL.format(n=55), clock)
        assert await app.town_of(report) == "hongqi"
    finally:
        await app.close()


async def test_a_town_name_of_another_account_does_not_route_there(
    county: CountyConfig, town_databases: dict[str, Database], clock: ManualClock
) -> None:
    app = await CountyApp.start(county, clock=clock, databases=town_databases)
    try:
        assert app.town_named("绑定 红旗镇 红星村", app.town_ids_on("telegram:tg1")) is None
        assert app.town_named("绑定 红旗镇 红星村") is county.town("hongqi")
        assert app.town_named("绑定 红星村") is None
    finally:
        await app.close()


async def test_processes_starting_together_migrate_a_new_schema_once() -> None:
    """On PostgreSQL the migration takes an advisory lock: several processes starting at once on a
    schema nobody made yet all start, one migrating, the others finding it done."""
    if not postgres_answers():
        pytest.skip("PostgreSQL does not answer at 127.0.0.1:5432")
    schema = f"t_{uuid.uuid4().hex[:10]}"
    databases = [Database(PG_URL, schema=schema) for _ in range(4)]
    try:
        await asyncio.gather(*(db.migrate() for db in databases))
        async with databases[0].session() as session:
            versions = (await session.execute(sqltext("SELECT count(*) FROM alembic_version"))).scalar_one()
        assert versions == 1
    finally:
        for db in databases:
            await db.close()
        await _admin(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')


async def test_one_town_name_in_two_schemas_has_two_clock_locks() -> None:
    """Two counties on one server may each have a 王岘镇: each keeps its own clock."""
    if not postgres_answers():
        pytest.skip("PostgreSQL does not answer at 127.0.0.1:5432")
    one, two = (Database(PG_URL, schema=f"t_{uuid.uuid4().hex[:10]}") for _ in range(2))
    same = Database(PG_URL, schema=one.schema)
    locks = [ClockLock(one, "王岘镇"), ClockLock(two, "王岘镇"), ClockLock(same, "王岘镇")]
    try:
        assert await locks[0].try_acquire()
        assert await locks[1].try_acquire()  # the other schema's town
        assert not await locks[2].try_acquire()  # the same schema's town: held
    finally:
        for lock in locks:
            await lock.release()
        for db in (one, two, same):
            await db.close()
