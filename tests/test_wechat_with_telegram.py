"""WeChat and Telegram in one process: village rooms on WeChat, the town leaders on Telegram.

Both real clients run in one event loop, as `villagebot run` runs them, each against its stand-in:
what happens in a WeChat room reaches the leaders on Telegram, a notice from Telegram reaches the
WeChat rooms, and when WeChat is down for long the leaders hear it on Telegram.
"""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest
from wechat_standin import PuppetStandin

from bot.app import App
from bot.platforms import telegram_adapter, wechat_adapter
from bot.wechat_adapter import WechatSettings
from handlers.clock import ManualClock
from storage import Database
from townconfig import parse_config

telegram_standin = pytest.importorskip("telegram_standin")
pytest.importorskip("bot.telegram_adapter")

LEADERS = -1001000000001  # the leaders' Telegram group
TOWN_OFFICE = 10001  # the town office's Telegram user
WUXING = "25046731562@chatroom"
HONGXING = "25046731563@chatroom"
CHECKPOINT = "20200217109@chatroom"
TOWN = f"""
[town]
name = "王岘镇"
leaders_chat = "telegram:{LEADERS}"

[[village]]
name = "五星村"
chats = ["wechat:{WUXING}"]
heads = ["wechat:wxid_head1"]

[[village]]
name = "红星村"
chats = ["wechat:{HONGXING}"]

[[checkpoint]]
name = "109国道雒家滩卡点"
village = "五星村"
chats = ["wechat:{CHECKPOINT}"]
staff = ["wechat:wxid_staff1"]

[[admin]]
name = "镇防控办"
ids = ["telegram:{TOWN_OFFICE}", "wechat:wxid_town_office"]

[telegram]
token_env = "VILLAGEBOT_TEST_TELEGRAM_TOKEN"

[wechat]
token_env = "VILLAGEBOT_TEST_WECHAT_TOKEN"
tls = false  # the stand-in serves plain text
"""


@pytest.fixture
def telegram(clock: ManualClock, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    with telegram_standin.TelegramStandIn(now=clock.now) as standin:
        monkeypatch.setenv("TELEGRAM_BASE_URL", standin.base_url)
        yield standin


@pytest.fixture
async def wechat(clock: ManualClock) -> AsyncIterator[PuppetStandin]:
    standin = PuppetStandin(now=clock.now)
    standin.add_contact("wxid_staff1", "卡点值班员")
    for room in (WUXING, HONGXING, CHECKPOINT):
        standin.add_room(room, room, ["wxid_staff1"])
    await standin.start()
    yield standin
    await standin.stop()


@pytest.mark.parametrize("database", ["sqlite"], indirect=True)
async def test_wechat_rooms_and_telegram_leaders_in_one_process(
    database: Database, clock: ManualClock, telegram: Any, wechat: PuppetStandin
) -> None:
    app = await App.start(parse_config(TOWN, "town.toml"), clock=clock, database=database)
    settings = dataclasses.replace(WechatSettings().scaled(0.01), down_alert_after=0.3, reconnect_delay=(0.02, 0.1))
    adapters = [
        telegram_adapter(app, telegram.token, poll_timeout=5, retry_seconds=0.05),
        wechat_adapter(app, endpoint=wechat.endpoint, token=wechat.token, settings=settings),
    ]
    stop = asyncio.Event()
    tasks = [asyncio.create_task(a.run(stop)) for a in adapters]
    tasks += [asyncio.create_task(app.add_platform(a).run(idle_seconds=0.05)) for a in adapters]
    try:
        await wechat.wait_for(lambda: adapters[1].online)

        wechat.say(CHECKPOINT, "wxid_staff1", "登记 甘D66A88 1人 37.3℃ 来自白银 去柳树村")
        await telegram.until(lambda t: t.sent_to(LEADERS))
        assert "甘D66A88" in telegram.sent_to(LEADERS)[0]

        telegram.queue_message(LEADERS, TOWN_OFFICE, "通知：即日起各村严禁举办聚餐、婚宴")
        await wechat.wait_for(lambda: wechat.texts_to(WUXING) and wechat.texts_to(HONGXING))
        assert "严禁举办聚餐" in wechat.texts_to(WUXING)[0]

        await wechat.stop()
        await telegram.until(lambda t: any("微信机器人已断线" in m for m in t.sent_to(LEADERS)))
        await wechat.start()
        await telegram.until(lambda t: any("微信机器人已恢复" in m for m in t.sent_to(LEADERS)))
        await telegram.until(lambda t: any("重新发送" in m for m in t.sent_to(LEADERS)))  # and what to resend
    finally:
        stop.set()
        await asyncio.wait_for(asyncio.gather(*tasks[:2], return_exceptions=True), 10)
        for task in tasks[2:]:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
