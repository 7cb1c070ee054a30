"""The bot in WeChat groups: the adapter, speaking the puppet-service protocol to a stand-in puppet service.

Each test runs the app and its WeChat adapter as `villagebot run` does (receiving, and a sender
draining the outbox), lets people say things in rooms of the stand-in, and reads what the bot
sent there. Intervals are scaled down so that pacing, heartbeats and outages take a fraction of
a second; the pacing test measures them at the stand-in. What the official service does (TLS, its
token check, its error events, its restarts) is in test_wechat_official_service.py.
"""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
import itertools
import random
import statistics
from collections.abc import AsyncIterator, Sequence

import pytest
from chat_harness import FakePlatform
from grpclib.exceptions import StreamTerminatedError
from sqlalchemy import select
from waiting import eventually
from wechat_standin import PuppetStandin

from bot.app import App
from bot.platforms import wechat_adapter
from bot.wechat_adapter import WechatAdapter, WechatSettings, _connection_lost
from handlers.clock import ManualClock
from handlers.messages import IncomingMessage
from handlers.transport import MessageNotStored, doubled_delay
from outbox.sender import MAX_ATTEMPTS
from storage import Database
from storage.models import OutboxMessage
from townconfig import TownConfig, parse_config

WUXING = "25046731562@chatroom"
HONGXING = "25046731563@chatroom"
CHECKPOINT = "20200217109@chatroom"
LEADERS = "10001000001@chatroom"
NEW_ROOM = "25046739999@chatroom"

TOWN = """
[town]
name = "王岘镇"
timezone = "Asia/Shanghai"
leaders_chat = "{leaders}"

[[village]]
name = "五星村"
aliases = ["五星"]
chats = ["wechat:25046731562@chatroom"]
heads = ["wechat:wxid_head1"]

[[village]]
name = "红星村"
chats = ["wechat:25046731563@chatroom"]
heads = ["wechat:wxid_head2"]

[[village]]
name = "雒家滩村"
heads = ["wechat:wxid_head3"]

[[checkpoint]]
name = "109国道雒家滩卡点"
village = "雒家滩村"
chats = ["wechat:20200217109@chatroom"]
staff = ["wechat:wxid_staff1"]

[[admin]]
name = "镇防控办"
ids = ["wechat:wxid_town_office"]

[wechat]
token_env = "VILLAGEBOT_TEST_WECHAT_TOKEN"
tls = false  # the stand-in serves plain text
"""

FULL_REPORT = "日报 入户排查120户，返乡3人，居家观察12人，发热0人，消毒2次"
FAST = WechatSettings().scaled(0.01)  # group gaps of 30-50 ms, dead after 1.2 s of silence
WECHATY_ENV = ("WECHATY_PUPPET_SERVICE_ENDPOINT", "WECHATY_PUPPET_SERVICE_TOKEN")


def town(leaders: str = f"wechat:{LEADERS}", villages: int = 0) -> TownConfig:
    """The test town; `villages` adds that many more villages, each with a room `room-<n>@chatroom`."""
    text = TOWN.format(leaders=leaders)
    for n in range(villages):
        text += f'\n[[village]]\nname = "第{n + 1}村"\nchats = ["wechat:room-{n + 1}@chatroom"]\n'
    return parse_config(text, "town.toml")


@pytest.fixture(autouse=True)
def no_wechaty_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """The machine's own puppet-service settings do not reach the tests."""
    for name in WECHATY_ENV:
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
async def standin(clock: ManualClock) -> AsyncIterator[PuppetStandin]:
    service = PuppetStandin(now=clock.now, self_name="王岘防疫小助手")  # a name the parser does not know
    for contact, name in [
        ("wxid_head1", "张村长"), ("wxid_head2", "李村长"), ("wxid_head3", "赵村长"), ("wxid_staff1", "卡点值班员"),
        ("wxid_town_office", "镇防控办"), ("wxid_resident", "王五"), ("wxid_newcomer", "新村长"),
    ]:  # fmt: skip
        service.add_contact(contact, name)
    service.add_room(WUXING, "五星村防控群", ["wxid_head1", "wxid_resident", "wxid_town_office"])
    service.add_room(HONGXING, "红星村防控群", ["wxid_head2"])
    service.add_room(CHECKPOINT, "109国道卡点", ["wxid_staff1"])
    service.add_room(LEADERS, "镇领导群", ["wxid_town_office"])
    service.add_room(NEW_ROOM, "雒家滩村防控群", ["wxid_head3", "wxid_town_office"])
    await service.start()
    yield service
    await service.stop()


class Bot:
    """The app with its WeChat adapter (and a console stand-in when the leaders are there), running."""

    def __init__(self, app: App, adapter: WechatAdapter, console: FakePlatform) -> None:
        self.app, self.adapter, self.console = app, adapter, console
        self._stop = asyncio.Event()
        self._tasks: list[asyncio.Task[None]] = []

    @classmethod
    async def start(
        cls,
        config: TownConfig,
        database: Database,
        clock: ManualClock,
        standin: PuppetStandin,
        settings: WechatSettings = FAST,
    ) -> Bot:
        app = await App.start(config, clock=clock, database=database)
        adapter = wechat_adapter(
            app, endpoint=standin.endpoint, token=standin.token, settings=settings, rng=random.Random(7)
        )
        console = FakePlatform()
        app.add_platform(adapter)
        app.add_platform(console)
        bot = cls(app, adapter, console)
        bot._tasks = [asyncio.create_task(adapter.run(bot._stop))]
        bot._tasks += [asyncio.create_task(s.run(idle_seconds=0.05)) for s in app.senders.values()]
        await standin.wait_for(lambda: adapter.online)
        return bot

    async def stop(self) -> None:
        self._stop.set()
        await asyncio.wait_for(self._tasks[0], 5)  # the adapter stops by itself
        for task in self._tasks[1:]:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        assert not [t for t in asyncio.all_tasks() if t.get_name().startswith("wechat")]


@pytest.fixture
async def bot(database: Database, clock: ManualClock, standin: PuppetStandin) -> AsyncIterator[Bot]:
    running = await Bot.start(town(), database, clock, standin)
    yield running
    await running.stop()


async def settled(standin: PuppetStandin, room: str = WUXING) -> list[str]:
    """Ask for help in `room` and wait for the answer: everything said before it has been handled,
    and its replies sent before this one (messages are handled in order, replies sent in order).
    The texts sent before that answer."""
    before = len(standin.sent)
    standin.say(room, "wxid_resident", "帮助")

    def answer() -> int | None:
        return next(
            (
                i
                for i in range(before, len(standin.sent))
                if standin.sent[i].conversation == room and "日报格式" in standin.sent[i].text
            ),
            None,
        )

    await standin.wait_for(lambda: answer() is not None)
    return [s.text for s in standin.sent[: answer()]]


async def test_a_report_in_a_bound_room_is_confirmed_naming_the_village(bot: Bot, standin: PuppetStandin) -> None:
    await standin.wait_for(lambda: standin.calls_to("Start"))
    assert [c.method for c in standin.calls] == ["Event", "Start"]  # the stream, then Start: never Stop
    assert set(standin.authorizations) == {f"Wechaty {standin.token}"}  # the token as the official clients send it
    calls = len(standin.calls)

    standin.say(WUXING, "wxid_head1", FULL_REPORT)
    await standin.wait_for(lambda: standin.sent)

    [reply] = standin.sent
    assert reply.conversation == WUXING
    assert "✅ 已收到五星村2月17日日报" in reply.text and "入户排查120户" in reply.text
    # what one room text costs, and what a reply costs: no more (a heartbeat's Ding, on a slow
    # machine, is the connection's, not the message's)
    assert [c.method for c in standin.calls[calls:] if c.method != "Ding"] == [
        "MessagePayload",
        "ContactPayload",
        "MessageSendText",
    ]
    async with bot.app.database.transaction() as store:
        report = await store.reports.day("五星村", bot.app.town.day_of(bot.app.town.clock.now()), bot.app.town.required)
    assert report.fields["households_visited"] == 120


async def test_ordinary_chat_is_ignored(bot: Bot, standin: PuppetStandin) -> None:
    standin.say(WUXING, "wxid_resident", "大家注意出门戴口罩，不要聚餐")
    standin.say(WUXING, "wxid_head1", "好的，收到")
    standin.say(WUXING, "wxid_head1", "明天排查100户，消毒2次")
    assert await settled(standin) == []


async def test_an_incomplete_report_gets_one_reply_asking_for_exactly_the_missing_fields(
    bot: Bot, standin: PuppetStandin
) -> None:
    standin.say(WUXING, "wxid_head1", "日报 入户排查60户 返乡1人")
    await standin.wait_for(lambda: standin.sent)
    assert await settled(standin) == [standin.sent[0].text]
    assert "还缺：居家观察、发热、消毒" in standin.sent[0].text


async def test_a_fever_at_the_checkpoint_alerts_the_leaders_room(bot: Bot, standin: PuppetStandin) -> None:
    standin.say(CHECKPOINT, "wxid_staff1", "登记 甘D66A88 1人 37.3℃ 来自白银 去柳树村")
    await standin.wait_for(lambda: standin.texts_to(LEADERS) and standin.texts_to(CHECKPOINT))

    [confirmation] = standin.texts_to(CHECKPOINT)
    assert "甘D66A88" in confirmation and "已同时报告镇领导群" in confirmation
    [alert] = standin.texts_to(LEADERS)
    for detail in ("发热", "甘D66A88", "37.3", "白银", "柳树村", "109国道雒家滩卡点"):
        assert detail in alert


async def test_an_admins_notice_reaches_every_village_room_and_a_non_admins_none(
    bot: Bot, standin: PuppetStandin
) -> None:
    standin.say(WUXING, "wxid_head1", "通知：今晚八点村委会开会")  # a head telling the village: chat
    assert await settled(standin) == []

    standin.say(LEADERS, "wxid_town_office", "通知：即日起各村严禁举办聚餐、婚宴，请各村广泛宣传。")
    await standin.wait_for(lambda: standin.texts_to(HONGXING) and standin.texts_to(LEADERS))

    for room in (WUXING, HONGXING):
        assert sum("即日起各村严禁举办聚餐" in text for text in standin.texts_to(room)) == 1
    assert "今晚八点" not in " ".join(s.text for s in standin.sent)
    assert standin.texts_to(CHECKPOINT) == [] and standin.texts_to(NEW_ROOM) == []


async def test_a_room_the_service_does_not_know_is_reported_as_the_bot_removed(
    database: Database, clock: ManualClock, standin: PuppetStandin
) -> None:
    running = await Bot.start(town(villages=1), database, clock, standin)  # room-1 is in no account's rooms
    standin.say(LEADERS, "wxid_town_office", "通知：今晚各村组织巡查")
    await standin.wait_for(lambda: any("已送达" in text for text in standin.texts_to(LEADERS)))
    await running.stop()
    [report] = [text for text in standin.texts_to(LEADERS) if "已送达" in text]
    assert "已送达 2/3 个群" in report and "  第1村：机器人已被移出该群" in report.splitlines()
    async with database.session() as session:
        row = (await session.scalars(select(OutboxMessage).where(OutboxMessage.chat == "wechat:room-1@chatroom"))).one()
    assert (row.status, row.failure) == ("failed", "removed") and "NOT_FOUND" in (row.error or "")


async def test_bind_by_an_admin_binds_a_new_room_and_survives_a_restart(
    database: Database, clock: ManualClock, standin: PuppetStandin
) -> None:
    first = await Bot.start(town(), database, clock, standin)
    standin.say(NEW_ROOM, "wxid_town_office", "/bind 雒家滩村")
    await standin.wait_for(lambda: standin.texts_to(NEW_ROOM))
    assert "雒家滩村" in standin.texts_to(NEW_ROOM)[0]
    await first.stop()

    again = await Bot.start(town(), database, clock, standin)
    standin.say(NEW_ROOM, "wxid_head3", "日报 排查88户 返乡4人 居家观察14人 发热0 消毒2次")
    await standin.wait_for(lambda: len(standin.texts_to(NEW_ROOM)) == 2)
    assert "✅ 已收到雒家滩村" in standin.texts_to(NEW_ROOM)[1]
    await again.stop()


async def test_a_restart_answers_nothing_twice(database: Database, clock: ManualClock, standin: PuppetStandin) -> None:
    first = await Bot.start(town(), database, clock, standin)
    said = [
        standin.say(WUXING, "wxid_head1", FULL_REPORT),
        standin.say(CHECKPOINT, "wxid_staff1", "登记 甘D12345 3人 体温36.5 36.8 36.6 来自兰州 去五星村"),
        standin.say(LEADERS, "wxid_town_office", "通知：下午三点开会"),
    ]
    await settled(standin)
    # The notice's delivery report follows its sends, not the order of the chat: wait for it too.
    await standin.wait_for(lambda: any("已送达" in text for text in standin.texts_to(LEADERS)))
    await first.stop()
    answered = [s.text for s in standin.sent]

    again = await Bot.start(town(), database, clock, standin)
    standin.redeliver(*said)  # what a puppet service does after a restart
    assert await settled(standin) == answered
    await again.stop()


async def test_the_bot_reconnects_when_the_service_drops_and_comes_back(
    bot: Bot, standin: PuppetStandin, clock: ManualClock
) -> None:
    await standin.stop()
    await standin.wait_for(lambda: not bot.adapter.online)
    while_down = standin.say(WUXING, "wxid_head1", FULL_REPORT)  # this one keeps it until the bot is back
    clock.advance(dt.timedelta(minutes=7))
    await standin.start()
    await standin.wait_for(lambda: bot.adapter.logins == 2)
    # A real service keeps nothing: the leaders hear, once, which span to have resent.
    await standin.wait_for(lambda: standin.texts_to(LEADERS))
    [gap] = standin.texts_to(LEADERS)
    assert "2月17日09:00至09:07" in gap and "重新发送" in gap

    await standin.wait_for(lambda: standin.texts_to(WUXING))
    assert "✅ 已收到五星村" in standin.texts_to(WUXING)[0]
    standin.say(HONGXING, "wxid_head2", FULL_REPORT)
    await standin.wait_for(lambda: standin.texts_to(HONGXING))
    assert "✅ 已收到红星村" in standin.texts_to(HONGXING)[0]
    standin.redeliver(while_down)
    assert len(await settled(standin)) == 3  # the gap, and the two reports: the redelivered one not again


async def test_a_connection_gone_quiet_is_noticed_and_made_again(
    database: Database, clock: ManualClock, standin: PuppetStandin
) -> None:
    settings = WechatSettings(heartbeat_timeout=0.4, reconnect_delay=(0.01, 0.1), group_gap=(0.0, 0.0))
    running = await Bot.start(town(), database, clock, standin, settings)
    # Three Dings, one each half timeout: longer than the timeout, and the healthy stream is kept alive.
    await standin.wait_for(lambda: len(standin.calls_to("Ding")) >= 3, what="three Dings")
    assert running.adapter.logins == 1

    standin.go_quiet()  # the stream stays open, and nothing comes through it, not even a dong
    standin.say(WUXING, "wxid_head1", FULL_REPORT)  # the service keeps it for the next stream
    await standin.wait_for(lambda: running.adapter.logins == 2, timeout=5)
    standin.say(HONGXING, "wxid_head2", FULL_REPORT)
    await standin.wait_for(lambda: standin.texts_to(HONGXING) and standin.texts_to(WUXING))
    await running.stop()


async def test_redelivered_message_ids_are_handled_once(bot: Bot, standin: PuppetStandin) -> None:
    report = standin.say(WUXING, "wxid_head1", "日报 入户排查60户 返乡1人")
    await standin.wait_for(lambda: standin.sent)
    standin.redeliver(report, report)
    completion = standin.say(WUXING, "wxid_head1", "居家观察3人 发热0人 消毒2次")
    standin.redeliver(report, completion)

    earlier = await settled(standin)
    assert len(earlier) == 2
    assert "还缺" in earlier[0] and "✅ 已收到五星村" in earlier[1]


async def test_the_chase_mentions_the_village_heads(bot: Bot, standin: PuppetStandin) -> None:
    from scheduler.jobs import send_chase

    await send_chase(bot.app.town, bot.app.database, bot.app.town.clock.now())
    bot.app.wake_senders()
    await standin.wait_for(lambda: standin.texts_to(WUXING) and standin.texts_to(HONGXING))

    [chase] = [s for s in standin.sent if s.conversation == WUXING]
    assert chase.mention_ids == ("wxid_head1",)
    assert chase.text.startswith("@张村长\u2005") and "五星村" in chase.text
    [other] = [s for s in standin.sent if s.conversation == HONGXING]
    assert other.mention_ids == ("wxid_head2",) and other.text.startswith("@李村长\u2005")


async def test_mentions_in_a_room_reach_the_bot_as_people(bot: Bot, standin: PuppetStandin) -> None:
    standin.say(WUXING, "wxid_newcomer", FULL_REPORT)
    await standin.wait_for(lambda: standin.sent)
    assert "还没有登记" in standin.sent[0].text  # not a head yet

    standin.say(
        WUXING, "wxid_town_office", "@王岘防疫小助手\u2005设置村长 五星村 @新村长\u2005",
        mention_ids=["wxid_bot", "wxid_newcomer"],
    )  # fmt: skip
    await standin.wait_for(lambda: len(standin.sent) == 2)
    standin.say(WUXING, "wxid_newcomer", FULL_REPORT)
    await standin.wait_for(lambda: len(standin.sent) == 3)
    assert "✅ 已收到五星村" in standin.sent[2].text


async def test_pending_messages_for_one_room_go_out_as_one(bot: Bot, standin: PuppetStandin) -> None:
    now = bot.app.town.clock.now()
    async with bot.app.database.transaction() as store:
        for text in ("第一条通知", "第二条通知", "第三条通知"):
            await store.outbox.enqueue(chat=f"wechat:{WUXING}", text=text, purpose="notice", at=now, priority=10)
        await store.outbox.enqueue(chat=f"wechat:{HONGXING}", text="红星村通知", purpose="notice", at=now, priority=10)
    bot.app.wake_senders()
    await standin.wait_for(lambda: standin.texts_to(WUXING) and standin.texts_to(HONGXING))

    assert standin.texts_to(WUXING) == ["第一条通知\n\n第二条通知\n\n第三条通知"]
    assert standin.texts_to(HONGXING) == ["红星村通知"]


async def test_a_send_that_timed_out_but_arrived_is_sent_again_counted_and_logged(
    database: Database, clock: ManualClock, standin: PuppetStandin, caplog: pytest.LogCaptureFixture
) -> None:
    settings = dataclasses.replace(FAST, rpc_timeout=0.3)
    bot = await Bot.start(town(), database, clock, standin, settings)
    try:
        standin.answer_late[WUXING] = 1.0  # delivered, but answered after the adapter gave up
        async with bot.app.database.transaction() as store:
            row = await store.outbox.enqueue(chat=f"wechat:{WUXING}", text="通知", purpose="notice", at=clock.now())
        bot.app.wake_senders()
        sender = bot.app.senders["wechat"]
        await standin.wait_for(lambda: sender.ambiguous == 1)  # in doubt: to be sent again
        assert standin.texts_to(WUXING) == ["通知"]
        clock.advance(dt.timedelta(seconds=settings.reconnect_delay[0] + 1))
        bot.app.wake_senders()
        await standin.wait_for(lambda: len(standin.texts_to(WUXING)) == 2)
        sent = row

        async def recorded() -> bool:  # the sender records the send a moment after the service has it
            nonlocal sent
            async with bot.app.database.transaction() as store:
                [sent] = await store.outbox.by_ids([row.id])
            return sent.status != "sending"

        await eventually(recorded, what="the second send recorded")
        assert sent.status == "sent" and sender.ambiguous == 1
        assert standin.texts_to(WUXING) == ["通知", "通知"]  # twice at most: the price of not losing it
        assert "may arrive twice" in caplog.text
    finally:
        await bot.stop()


async def test_a_room_whose_every_send_fails_ends_failed_after_bounded_tries_and_the_notice_settles(
    bot: Bot, standin: PuppetStandin, clock: ManualClock
) -> None:
    standin.broken.add(WUXING)  # the service breaks off every send there (no gRPC status, no message)
    standin.say(LEADERS, "wxid_town_office", "通知：今晚八点各村开会")
    await standin.wait_for(lambda: standin.texts_to(HONGXING))

    async def wuxing_row() -> OutboxMessage:
        async with bot.app.database.transaction() as store:
            query = select(OutboxMessage).where(OutboxMessage.chat == f"wechat:{WUXING}")
            return (await store.session.scalars(query)).one()

    row = await wuxing_row()
    for tries in range(1, MAX_ATTEMPTS + 1):

        # Each failure is one try used up, recorded once its round is settled.
        async def tried(tries: int = tries) -> bool:
            nonlocal row
            row = await wuxing_row()
            return row.status != "sending" and row.attempts == tries

        await eventually(tried, what=f"try {tries} recorded", explain=lambda: f"the row: {row.status}, {row.attempts}")
        assert (row.status, row.attempts) == ("failed" if tries == MAX_ATTEMPTS else "pending", tries), row.error
        clock.advance(dt.timedelta(minutes=5))  # past the backoff (at most 300 s): due again
        bot.app.wake_senders()

    assert "StreamTerminatedError" in (row.error or "")
    assert len([c for c in standin.calls_to("MessageSendText") if c.request.conversation_id == WUXING]) == MAX_ATTEMPTS
    assert standin.texts_to(WUXING) == []
    await standin.wait_for(lambda: any("未送达" in text for text in standin.texts_to(LEADERS)))
    [report] = [text for text in standin.texts_to(LEADERS) if "未送达" in text]
    assert "已送达 1/2 个群" in report and "五星村" in report


def test_what_counts_as_a_lost_connection_not_a_failed_send() -> None:
    for lost in (ConnectionResetError(), OSError("No route to host"), StreamTerminatedError("Connection lost"),
                 StreamTerminatedError("Received GOAWAY frame, closing connection; error_code: 0")):  # fmt: skip
        assert _connection_lost(lost), lost
    for failed in (StreamTerminatedError("Stream reset by remote party, error_code: 0"), ValueError("bad payload")):
        assert not _connection_lost(failed), failed


def test_backoff_doubles_to_its_longest_and_stays_there_however_long_the_outage() -> None:
    first, longest = WechatSettings().reconnect_delay
    assert [doubled_delay(first, longest, tries) for tries in range(8)] == [1, 2, 4, 8, 16, 32, 60, 60]
    # Days of a database or WeChat outage: thousands of tries, and no OverflowError (2**1024 is no float).
    for tries in (1023, 1024, 5000, 10**6):
        assert doubled_delay(first, longest, tries) == longest
        assert doubled_delay(1e-9, 1e9, tries) == 1e9  # a longest far beyond the first is still reached
    adapter = WechatAdapter.__new__(WechatAdapter)  # only its settings and random numbers: nothing runs
    adapter.settings, adapter._rng = WechatSettings(), random.Random(7)
    assert 0.75 * longest <= adapter._backoff(5000) <= longest


async def test_wechat_being_down_for_long_tells_the_leaders_on_another_platform(
    database: Database, clock: ManualClock, standin: PuppetStandin, caplog: pytest.LogCaptureFixture
) -> None:
    settings = dataclasses.replace(FAST, down_alert_after=0.3, reconnect_delay=(0.02, 0.1))
    running = await Bot.start(town(leaders="console:leaders"), database, clock, standin, settings)
    await standin.stop()
    await standin.wait_for(lambda: running.console.texts_in("console:leaders"), timeout=5)
    [alert] = running.console.texts_in("console:leaders")
    assert "微信机器人已断线" in alert
    assert "wechat is down; told console:leaders" in caplog.text

    await standin.start()
    await standin.wait_for(lambda: len(running.console.texts_in("console:leaders")) == 3, timeout=5)
    back = running.console.texts_in("console:leaders")[1:]
    assert sorted("已恢复" in text for text in back) == [False, True]  # back, and the span to have resent
    assert any("重新发送" in text for text in back)
    await running.stop()


@pytest.mark.parametrize("database", ["sqlite"], indirect=True)
async def test_thirty_notices_to_thirty_rooms_are_paced(
    database: Database, clock: ManualClock, standin: PuppetStandin
) -> None:
    scale = 0.03  # 1 s -> 30 ms, 3-5 s -> 90-150 ms, a minute -> 1.8 s
    settings = WechatSettings(per_minute=10).scaled(scale)  # 10 a "minute", so that the cap bites too
    config = town(villages=30)
    for n in range(30):
        standin.add_room(f"room-{n + 1}@chatroom", f"第{n + 1}村群")
    running = await Bot.start(config, database, clock, standin, settings)

    standin.say(LEADERS, "wxid_town_office", "通知：今晚各村组织巡查")
    rooms = [f"room-{n + 1}@chatroom" for n in range(30)]
    await standin.wait_for(lambda: all(standin.texts_to(r) for r in rooms), timeout=30)
    await running.stop()

    sent = standin.sent
    assert sent[0].conversation == LEADERS  # the admin's answer goes before the bulk
    notices = [s.conversation for s in sent if s.conversation != LEADERS]  # (the admin also hears how it went)
    assert notices == [WUXING, HONGXING, *rooms]  # one each, in the town's order
    times = [s.at for s in sent]
    gaps = [b - a for a, b in itertools.pairwise(times)]
    low, high = settings.group_gap
    assert min(gaps) >= low * 0.999  # never two groups closer than the smallest gap
    assert low <= statistics.median(gaps) <= high * 1.5  # mostly the 3-5 s of the settings, scaled
    window = [b - a for a, b in zip(times, times[settings.per_minute :], strict=False)]
    assert min(window) >= settings.minute * 0.999  # never more than per_minute in any minute
    assert times[-1] - times[0] >= 3 * settings.minute * 0.999  # 33 messages at 10 a minute: over 3 minutes


@pytest.mark.parametrize("database", ["sqlite"], indirect=True)
async def test_one_room_gets_at_most_one_message_per_interval(
    database: Database, clock: ManualClock, standin: PuppetStandin
) -> None:
    settings = WechatSettings(group_interval=0.25, group_gap=(0.0, 0.0))
    running = await Bot.start(town(), database, clock, standin, settings)
    # Each question is asked once the previous answer went out, so that nothing is pending to merge
    # with it: three sends to one room, each due as soon as the room allows.
    for count in range(1, 4):
        standin.say(WUXING, "wxid_resident", "帮助")
        await standin.wait_for(lambda count=count: len(standin.texts_to(WUXING)) == count)
    await running.stop()
    times = [s.at for s in standin.sent]
    assert min(b - a for a, b in itertools.pairwise(times)) >= 0.25 * 0.999


async def test_a_message_the_database_could_not_take_is_held_until_it_can(
    bot: Bot, standin: PuppetStandin, monkeypatch: pytest.MonkeyPatch
) -> None:
    failures = [MessageNotStored("the database is down"), MessageNotStored("the database is down")]
    receive = bot.adapter.receive

    async def down_for_a_while(messages: Sequence[IncomingMessage]) -> None:
        if failures:
            raise failures.pop(0)
        await receive(messages)

    monkeypatch.setattr(bot.adapter, "receive", down_for_a_while)
    standin.say(WUXING, "wxid_head1", FULL_REPORT)  # WeChat gives it once: the bot must not drop it
    await standin.wait_for(lambda: standin.texts_to(WUXING))
    assert not failures and standin.texts_to(WUXING)[0].startswith("✅ 已收到五星村")


# --- pictures -------------------------------------------------------------------------------------


async def test_the_table_asked_for_in_the_leaders_room_goes_as_a_file_then_its_text(
    bot: Bot, standin: PuppetStandin
) -> None:
    standin.say(WUXING, "wxid_head1", FULL_REPORT)
    standin.say(LEADERS, "wxid_town_office", "今日报表")
    await standin.wait_for(lambda: standin.files_to(LEADERS) and standin.texts_to(LEADERS))
    [image] = standin.files_to(LEADERS)
    assert image.name == "王岘镇日报_2020-02-17.png" and image.data.startswith(b"\x89PNG\r\n\x1a\n")
    [caption] = standin.texts_to(LEADERS)
    assert "2月17日" in caption and "未报：红星村" in caption
    file_call = next(c for c in standin.calls_to("MessageSendFile"))
    text_call = next(c for c in standin.calls_to("MessageSendText") if c.request.conversation_id == LEADERS)
    assert file_call.at <= text_call.at  # the image first, its words under it


async def test_a_picture_to_a_room_the_service_does_not_know_fails_as_removed(
    database: Database, clock: ManualClock, standin: PuppetStandin
) -> None:
    running = await Bot.start(town(), database, clock, standin)
    async with database.transaction() as store:
        await store.outbox.enqueue(chat="wechat:room-9@chatroom", text="表", purpose="deadline", at=clock.now(),
                                   picture=b"\x89PNG\r\n\x1a\nrest", picture_name="t.png")  # fmt: skip
    running.app.wake_senders()

    async def failed() -> bool:
        async with database.session() as session:
            row = (await session.scalars(select(OutboxMessage).where(OutboxMessage.chat == "wechat:room-9@chatroom"))).one()
        return row.status == "failed" and row.failure == "removed"

    await standin.wait_for(failed)
    await running.stop()
    assert standin.files == []
