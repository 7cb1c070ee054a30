"""The bot against the official wechaty puppet service (npm wechaty-puppet-service 1.19, in front of
wechaty-puppet-mock), not a stand-in written here: TLS with the service's built-in certificate,
plain text, its token check, its error events and its restarts, through the real app.

The node process starts once for the module (tests/official_wechaty.py); each test serves it
anew with the TLS and token it needs, runs the app with its WeChat adapter as `villagebot run`
does, lets people speak in the mock's rooms and reads what the bot sent there.
"""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
import os
import random
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from chat_harness import FakePlatform
from controlled_process import TickingClock
from official_wechaty import INSTALLED, NOT_INSTALLED, OfficialService

from bot.app import App
from bot.platforms import wechat_adapter
from bot.wechat_adapter import WechatAdapter, WechatSettings
from handlers.clock import ManualClock
from handlers.transport import PlatformError
from storage import Database
from townconfig import TownConfig, parse_config

if not INSTALLED:
    pytest.skip(NOT_INSTALLED, allow_module_level=True)


BOT = "wxid_bot"
WUXING = "25046731562@chatroom"
HONGXING = "25046731563@chatroom"
LEADERS = "10001000001@chatroom"
TOKEN = "villagebot-test-token"
FULL_REPORT = "日报 入户排查120户，返乡3人，居家观察12人，发热0人，消毒2次"
# The mock answers a Ding a second later: a heartbeat timeout of seconds, not the stand-in tests' 1.2 s.
FAST = dataclasses.replace(WechatSettings().scaled(0.01), heartbeat_timeout=10.0, reconnect_delay=(0.05, 0.2))
TOWN = """
[town]
name = "王岘镇"
timezone = "Asia/Shanghai"
leaders_chat = "{leaders}"

[[village]]
name = "五星村"
chats = ["wechat:25046731562@chatroom"]
heads = ["wechat:wxid_head1"]

[[village]]
name = "红星村"
chats = ["wechat:25046731563@chatroom"]
heads = ["wechat:wxid_head2"]

[[admin]]
name = "镇防控办"
ids = ["wechat:wxid_town_office"]

[wechat]
endpoint = "127.0.0.1:{port}"
token_env = "VILLAGEBOT_TEST_OFFICIAL_TOKEN"
{tls}
"""


@pytest.fixture
async def database(tmp_path: Path) -> AsyncIterator[Database]:
    """SQLite only: these tests are about the protocol, and conftest's PostgreSQL half would double them."""
    db = Database(f"sqlite:///{tmp_path}/villagebot.db")
    await db.migrate()
    yield db
    await db.close()


@pytest.fixture(autouse=True)
def no_wechaty_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """The machine's own puppet-service settings do not reach the tests."""
    for name in ("WECHATY_PUPPET_SERVICE_ENDPOINT", "WECHATY_PUPPET_SERVICE_TOKEN"):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture(scope="module")
def service() -> Iterator[OfficialService]:
    """One node process for the module: the mock account logged in, its rooms and people made."""
    running = OfficialService.start()
    try:
        for contact, name in [
            (BOT, "王岘防疫小助手"), ("wxid_head1", "张村长"), ("wxid_head2", "李村长"),
            ("wxid_resident", "王五"), ("wxid_town_office", "镇防控办"),
        ]:  # fmt: skip
            running.contact(contact, name)
        running.room(WUXING, "五星村防控群", [BOT, "wxid_head1", "wxid_resident", "wxid_town_office"])
        running.room(HONGXING, "红星村防控群", [BOT, "wxid_head2"])
        running.room(LEADERS, "镇领导群", [BOT, "wxid_town_office"])
        running.login(BOT)
        yield running
    finally:
        running.close()


@pytest.fixture(scope="module")
def ca_file(service: OfficialService, tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("wechaty-ca") / "wechaty-ca.pem"
    path.write_text(service.ca(), encoding="utf-8")
    return path


@pytest.fixture
def fresh(service: OfficialService) -> Iterator[OfficialService]:
    """The service as each test begins it: not serving, nothing sent; stopped again afterwards."""
    service.unserve()
    service.sent.clear()
    service.files.clear()
    service.puppet_calls.clear()
    yield service
    service.unserve()


def town(port: int, *, tls: str = "", leaders: str = f"wechat:{LEADERS}") -> TownConfig:
    return parse_config(TOWN.format(port=port, tls=tls, leaders=leaders), "town.toml")


def tls_with(ca_file: Path) -> str:
    return f'tls_ca = "{ca_file}"\ntls_server_name = "insecure"'


class Bot:
    """The app with its WeChat adapter and a console stand-in, running as `villagebot run` runs them."""

    def __init__(self, app: App, adapter: WechatAdapter, console: FakePlatform) -> None:
        self.app, self.adapter, self.console = app, adapter, console
        self.stopping = asyncio.Event()
        self.tasks: list[asyncio.Task[None]] = []

    @classmethod
    async def start(cls, config: TownConfig, database: Database, clock: ManualClock, token: str = TOKEN,
                    settings: WechatSettings = FAST) -> Bot:  # fmt: skip
        app = await App.start(config, clock=clock, database=database)
        adapter = wechat_adapter(app, token=token, settings=settings, rng=random.Random(7))
        console = FakePlatform()
        app.add_platform(adapter)
        app.add_platform(console)
        bot = cls(app, adapter, console)
        bot.tasks = [asyncio.create_task(adapter.run(bot.stopping))]
        bot.tasks += [asyncio.create_task(s.run(idle_seconds=0.05)) for s in app.senders.values()]
        return bot

    async def online(self, service: OfficialService) -> Bot:
        await service.wait_for(lambda: self.adapter.online or self.tasks[0].done(), what="the bot online")
        if self.tasks[0].done():
            self.tasks[0].result()  # the adapter's own failure, as it said it
        return self

    async def stop(self) -> None:
        self.stopping.set()
        await asyncio.wait_for(asyncio.gather(self.tasks[0], return_exceptions=True), 5)
        for task in self.tasks[1:]:
            task.cancel()
        await asyncio.gather(*self.tasks, return_exceptions=True)


@pytest.fixture
async def tls_bot(
    fresh: OfficialService, ca_file: Path, database: Database, clock: ManualClock
) -> AsyncIterator[Bot]:
    port = fresh.serve(token=TOKEN, tls=True)  # the service's default: TLS, with its built-in certificate
    bot = await Bot.start(town(port, tls=tls_with(ca_file)), database, clock)
    await bot.online(fresh)
    yield bot
    await bot.stop()


async def answered(service: OfficialService, clock: ManualClock, room: str = WUXING) -> list[str]:
    """Ask for help in `room` and wait for the answer: the texts the bot sent before it (messages are
    handled in order, and replies sent in order)."""
    before = len(service.sent)
    service.say("wxid_resident", room, "帮助", at=clock.now())

    def answer() -> int | None:
        sent = service.sent
        return next((i for i in range(before, len(sent)) if sent[i].conversation == room and "日报格式" in sent[i].text),
                    None)  # fmt: skip

    await service.wait_for(lambda: answer() is not None, what="the answer to 帮助")
    return [s.text for s in service.sent[before : answer()]]


async def test_a_daily_report_over_tls_gets_its_reply(
    tls_bot: Bot, fresh: OfficialService, clock: ManualClock
) -> None:
    fresh.say("wxid_head1", WUXING, FULL_REPORT, at=clock.now())
    await fresh.wait_for(lambda: fresh.texts_to(WUXING))
    [reply] = fresh.texts_to(WUXING)
    assert "✅ 已收到五星村2月17日日报" in reply and "入户排查120户" in reply
    assert fresh.puppet_calls == ["start"]  # Start, as the official client sends it; never Stop


async def test_ordinary_chat_is_left_alone(tls_bot: Bot, fresh: OfficialService, clock: ManualClock) -> None:
    for talker, text in [("wxid_resident", "大家注意出门戴口罩，不要聚餐"), ("wxid_head1", "好的，收到"),
                         ("wxid_head1", "明天排查100户，消毒2次")]:  # fmt: skip
        fresh.say(talker, WUXING, text, at=clock.now())
    assert await answered(fresh, clock) == []


async def test_an_admins_notice_reaches_every_village_room(
    tls_bot: Bot, fresh: OfficialService, clock: ManualClock
) -> None:
    fresh.say("wxid_town_office", LEADERS, "通知：即日起各村严禁举办聚餐、婚宴，请各村广泛宣传。", at=clock.now())
    await fresh.wait_for(lambda: any("已送达" in text for text in fresh.texts_to(LEADERS)))
    for room in (WUXING, HONGXING):
        assert sum("即日起各村严禁举办聚餐" in text for text in fresh.texts_to(room)) == 1
    assert any("已送达 2/2 个群" in text for text in fresh.texts_to(LEADERS))


async def test_plain_text_when_tls_is_turned_off_on_both_sides(
    fresh: OfficialService, database: Database, clock: ManualClock
) -> None:
    port = fresh.serve(token=TOKEN, tls=False)
    bot = await (await Bot.start(town(port, tls="tls = false"), database, clock)).online(fresh)
    try:
        fresh.say("wxid_head2", HONGXING, FULL_REPORT, at=clock.now())
        await fresh.wait_for(lambda: fresh.texts_to(HONGXING))
        assert "✅ 已收到红星村" in fresh.texts_to(HONGXING)[0]
    finally:
        await bot.stop()


async def test_an_error_event_mid_conversation_is_logged_and_the_next_message_handled(
    tls_bot: Bot, fresh: OfficialService, clock: ManualClock, caplog: pytest.LogCaptureFixture
) -> None:
    fresh.say("wxid_head1", WUXING, FULL_REPORT, at=clock.now())
    await fresh.wait_for(lambda: fresh.texts_to(WUXING))
    fresh.error("MessagePayload failed to load")  # what wechaty-puppet 1.x emits: {"gerror": "..."}
    fresh.say("wxid_head1", WUXING, "更正 居家观察13人", at=clock.now())
    await fresh.wait_for(lambda: len(fresh.texts_to(WUXING)) == 2)
    assert "居家观察：12 → 13" in fresh.texts_to(WUXING)[1]
    assert tls_bot.adapter.errors_seen == 1 and "MessagePayload failed to load" in caplog.text
    assert tls_bot.adapter.logins == 1  # the same connection all along
    assert fresh.puppet_calls == ["start"]


async def test_a_service_restart_is_reconnected_without_stop_and_the_leaders_told_of_the_gap(
    tls_bot: Bot, fresh: OfficialService, clock: ManualClock
) -> None:
    fresh.unserve()
    await fresh.wait_for(lambda: not tls_bot.adapter.online, what="the bot offline")
    fresh.say("wxid_head2", HONGXING, FULL_REPORT, at=clock.now())  # the service keeps no queue: lost
    clock.advance(dt.timedelta(minutes=12))
    fresh.serve(token=TOKEN, tls=True)
    await fresh.wait_for(lambda: tls_bot.adapter.logins == 2, what="the bot back")

    await fresh.wait_for(lambda: fresh.texts_to(LEADERS))
    [gap] = fresh.texts_to(LEADERS)
    assert "2月17日09:00至09:12" in gap and "重新发送" in gap
    fresh.say("wxid_head2", HONGXING, FULL_REPORT, at=clock.now())  # resent, as asked
    await fresh.wait_for(lambda: fresh.texts_to(HONGXING))
    assert "✅ 已收到红星村" in fresh.texts_to(HONGXING)[0]
    assert fresh.puppet_calls == ["start", "start"]  # each connection Starts; nothing ever Stops
    assert fresh.texts_to(LEADERS) == [gap]  # told once


async def test_the_chase_mentions_the_village_heads(tls_bot: Bot, fresh: OfficialService) -> None:
    from scheduler.jobs import send_chase

    await send_chase(tls_bot.app.town, tls_bot.app.database, tls_bot.app.town.clock.now())
    tls_bot.app.wake_senders()
    await fresh.wait_for(lambda: fresh.texts_to(WUXING) and fresh.texts_to(HONGXING))
    [chase] = [s for s in fresh.sent if s.conversation == WUXING]
    assert chase.mentions == ("wxid_head1",) and chase.text.startswith("@张村长\u2005") and "五星村" in chase.text
    [other] = [s for s in fresh.sent if s.conversation == HONGXING]
    assert other.mentions == ("wxid_head2",) and other.text.startswith("@李村长\u2005")


async def test_a_wrong_token_stops_the_bot_at_start_saying_what_to_set(
    fresh: OfficialService, ca_file: Path, database: Database, clock: ManualClock
) -> None:
    port = fresh.serve(token=TOKEN, tls=True)
    bot = await Bot.start(town(port, tls=tls_with(ca_file)), database, clock, token="not-the-token")
    with pytest.raises(PlatformError) as refused:
        await asyncio.wait_for(bot.tasks[0], 10)  # at once: no retrying for ever
    await bot.stop()
    message = str(refused.value)
    assert "refused the token" in message and "Invalid Wechaty TOKEN" in message
    assert "VILLAGEBOT_TEST_OFFICIAL_TOKEN" in message  # what to set
    assert fresh.puppet_calls == []


@pytest.mark.parametrize(
    ("service_tls", "bot_tls", "says"),
    [
        (True, "", "certificate is not accepted"),  # the system's CAs do not know the wechaty CA
        (True, 'tls_server_name = "villagebot.example"', "certificate is not accepted"),
        (True, "tls = false", "speaks TLS"),
        (False, "", "does not answer TLS"),
    ],
    ids=["unknown-ca", "wrong-name", "plain-to-tls", "tls-to-plain"],
)
async def test_a_tls_mismatch_stops_the_bot_at_start_saying_what_to_fix(
    fresh: OfficialService, ca_file: Path, database: Database, clock: ManualClock,
    service_tls: bool, bot_tls: str, says: str,
) -> None:  # fmt: skip
    port = fresh.serve(token=TOKEN, tls=service_tls)
    if "server_name" in bot_tls:
        bot_tls = f'tls_ca = "{ca_file}"\n{bot_tls}'
    bot = await Bot.start(town(port, tls=bot_tls), database, clock)
    with pytest.raises(PlatformError, match=says):
        await asyncio.wait_for(bot.tasks[0], 10)
    await bot.stop()


async def test_a_token_refused_after_running_tells_the_leaders_once_and_the_bot_comes_back(
    fresh: OfficialService, ca_file: Path, database: Database, clock: ManualClock
) -> None:
    port = fresh.serve(token=TOKEN, tls=True)
    config = town(port, tls=tls_with(ca_file), leaders="console:leaders")
    bot = await (await Bot.start(config, database, clock)).online(fresh)
    try:
        fresh.unserve()
        fresh.serve(token="a-new-token", tls=True)  # the service restarted with another token
        await fresh.wait_for(lambda: bot.console.texts_in("console:leaders"), what="the leaders told")
        [told] = bot.console.texts_in("console:leaders")
        assert "令牌" in told and "🚫" in told
        assert not bot.tasks[0].done()  # it had worked: the bot keeps trying, it does not stop

        fresh.unserve()
        fresh.serve(token=TOKEN, tls=True)  # put right
        await fresh.wait_for(lambda: bot.adapter.logins == 2, what="the bot back")
        await fresh.wait_for(lambda: len(bot.console.texts_in("console:leaders")) == 2)
        assert "重新发送" in bot.console.texts_in("console:leaders")[1]  # the span it could not see
        assert sum("令牌" in text for text in bot.console.texts_in("console:leaders")) == 1  # once
    finally:
        await bot.stop()


async def test_villagebot_run_with_a_wrong_token_stops_at_once_with_one_message(
    fresh: OfficialService, ca_file: Path, tmp_path: Path, ticking_clock: TickingClock
) -> None:
    port = fresh.serve(token=TOKEN, tls=True)
    (tmp_path / "town.toml").write_text(TOWN.format(port=port, tls=tls_with(ca_file), leaders=f"wechat:{LEADERS}"))
    env = {k: v for k, v in os.environ.items() if not k.startswith("WECHATY_")}
    env.update(VILLAGEBOT_DATABASE_URL=f"sqlite:///{tmp_path}/town.db", PYTHONPATH=str(Path.cwd()),
               VILLAGEBOT_TEST_OFFICIAL_TOKEN="not-the-token")  # fmt: skip
    process = await asyncio.create_subprocess_exec(
        *ticking_clock.command("run", "--config", "town.toml"), cwd=tmp_path, env=env,
        stdin=asyncio.subprocess.DEVNULL, stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    _, stderr = await asyncio.wait_for(process.communicate(), 30)
    lines = stderr.decode("utf-8").splitlines()
    assert process.returncode == 2, lines
    assert lines[-1].startswith("villagebot: WeChat at 127.0.0.1:") and "refused the token" in lines[-1]
    assert "set VILLAGEBOT_TEST_OFFICIAL_TOKEN to the token the service was started with" in lines[-1]
    assert not [line for line in lines if " WARNING " in line or " ERROR " in line or "Traceback" in line]


async def test_villagebot_check_reaches_the_service_and_names_what_to_fix(
    fresh: OfficialService, ca_file: Path, database: Database, clock: ManualClock
) -> None:
    """`villagebot check`'s one call, with the token and the TLS the bot would use."""
    port = fresh.serve(token=TOKEN, tls=True)
    app = await App.start(town(port, tls=tls_with(ca_file)), clock=clock, database=database)
    answered = await wechat_adapter(app, token=TOKEN, settings=FAST).check()
    assert f"127.0.0.1:{port} answers" in answered
    with pytest.raises(PlatformError, match="refused the token"):
        await wechat_adapter(app, token="not-the-token", settings=FAST).check()
    await app.close()
    without_ca = await App.start(town(port), clock=clock, database=database)
    with pytest.raises(PlatformError, match="certificate is not accepted"):
        await wechat_adapter(without_ca, token=TOKEN, settings=FAST).check()
    await without_ca.close()
    assert fresh.puppet_calls == []  # nothing started, nothing stopped


async def test_the_table_goes_through_the_official_service_as_a_file_it_can_read(
    tls_bot: Bot, fresh: OfficialService, clock: ManualClock
) -> None:
    fresh.say("wxid_head1", WUXING, FULL_REPORT, at=clock.now())
    fresh.say("wxid_town_office", LEADERS, "/table", at=clock.now())
    await fresh.wait_for(lambda: fresh.files and fresh.texts_to(LEADERS), what="the table and its words")
    [image] = fresh.files
    assert image.conversation == LEADERS and image.name == "王岘镇日报_2020-02-17.png"
    assert image.data.startswith(b"\x89PNG\r\n\x1a\n") and len(image.data) > 10_000  # rebuilt from the base64 FileBox
    assert any("2月17日" in text for text in fresh.texts_to(LEADERS))
