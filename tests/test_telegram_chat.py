"""The bot in Telegram groups, in-process: the real app and python-telegram-bot against the stand-in.

Each test is a scene in the town's groups: people write (the stand-in queues their messages as
Telegram would), the adapter polls and hands them to the app, the outbox sender delivers through
Telegram's sendMessage, and the test reads what the stand-in received. Both databases.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
import os
import socket
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import pytest
from sqlalchemy import and_, func, or_, select, text
from telegram_standin import (
    ADMIN,
    BOT_USERNAME,
    CHECKPOINT,
    FULL_REPORT,
    HONGXING,
    HONGXING_HEAD,
    LEADERS,
    RESIDENT,
    WANGXIAN,
    WANGXIAN_HEAD,
    WUXING,
    WUXING_HEAD,
    TelegramStandIn,
    text_mention,
    town_toml,
    utf16_len,
)
from waiting import eventually

from bot.app import App
from bot.platforms import telegram_adapter
from bot.telegram_adapter import HTTP_TIMEOUT, POLL_GAP, TelegramAdapter
from bot.telegram_limits import SendLimits
from bot.telegram_webhook import WebhookServer
from handlers.clock import ManualClock
from handlers.messages import OutgoingMessage
from handlers.registry import menu_commands
from handlers.texts import bot_removed
from handlers.transport import DeliveryError, PlatformError
from storage import Database
from storage.models import OutboxMessage
from townconfig import TownConfig, parse_config

NEW_WUXING = -1001000000999


@dataclass
class Running:
    app: App
    adapter: TelegramAdapter
    telegram: TelegramStandIn
    clock: ManualClock
    task: asyncio.Task[None]
    stop: asyncio.Event

    def says(self, chat: int, user: int, words: str, **kwargs: Any) -> dict[str, Any]:
        """Someone writes in a group; the message as Telegram has it."""
        message: dict[str, Any] = self.telegram.queue_message(chat, user, words, **kwargs)["message"]
        return message

    async def settle(self) -> None:
        """Every queued update stored (and confirmed), and every due outbox row delivered (the
        sender task may hold some mid-send while this drains)."""
        if not self.adapter.settings.webhook_url:
            await self.telegram.until(lambda t: t.all_confirmed(), what="every queued update confirmed")
        left = 0

        async def delivered() -> bool:
            nonlocal left
            await self.app.drain()
            async with self.app.database.transaction() as store:
                busy = or_(
                    OutboxMessage.status == "sending",
                    and_(OutboxMessage.status == "pending", OutboxMessage.next_attempt_at <= self.clock.now()),
                )
                left = await store.session.scalar(select(func.count()).select_from(OutboxMessage).where(busy)) or 0
            return not left

        await eventually(delivered, what="every due outbox row delivered", explain=lambda: f"{left} still not")

    async def replies(self, message: dict[str, Any]) -> list[str]:
        await self.settle()
        return self.telegram.replies_to(message["chat"]["id"], message["message_id"])

    async def outbox(self, chat: int) -> list[OutboxMessage]:
        async with self.app.database.transaction() as store:
            query = select(OutboxMessage).where(OutboxMessage.chat == f"telegram:{chat}").order_by(OutboxMessage.id)
            return list((await store.session.scalars(query)).all())


@contextlib.asynccontextmanager
async def running_bot(
    config: TownConfig,
    database: Database,
    telegram: TelegramStandIn,
    clock: ManualClock,
    *,
    limits: SendLimits | None = None,
    http_timeout: float = HTTP_TIMEOUT,
    merges: bool = True,
    poll_gap: float = POLL_GAP,
) -> AsyncIterator[Running]:
    """`merges=False`: each outbox row its own message, for tests of Telegram's limits themselves."""
    app = await App.start(config, clock=clock, database=database)
    adapter = telegram_adapter(
        app, telegram.token, limits=limits, poll_timeout=5, retry_seconds=0.05, http_timeout=http_timeout,
        poll_gap=poll_gap,
    )
    adapter.merges = merges
    sender = app.add_platform(adapter)
    stop = asyncio.Event()
    task = asyncio.create_task(adapter.run(stop))
    sending = asyncio.create_task(sender.run(idle_seconds=0.05))
    try:
        await telegram.until(lambda t: t.calls("getUpdates") or t.webhook[0] or task.done(), what="the bot's start")
        yield Running(app, adapter, telegram, clock, task, stop)
    finally:
        stop.set()
        sending.cancel()
        # The adapter stops by itself on `stop`; should it not within 10 s, it is cancelled, so a
        # stuck send can fail its own test but never hang the suite's teardown.
        await asyncio.wait({task, sending}, timeout=10)
        task.cancel()
        sending.cancel()
        _, stuck = await asyncio.wait({task, sending}, timeout=10)
        assert not stuck, f"tasks that would not stop: {stuck}"


@pytest.fixture
async def bot(
    database: Database, town: TownConfig, telegram: TelegramStandIn, clock: ManualClock
) -> AsyncIterator[Running]:
    async with running_bot(town, database, telegram, clock) as running:
        yield running


async def test_a_full_report_is_confirmed_in_its_group_naming_the_village(bot: Running) -> None:
    report = bot.says(WUXING, WUXING_HEAD, FULL_REPORT)
    replies = await bot.replies(report)
    assert len(replies) == 1
    assert replies[0].startswith("✅ 已收到五星村")
    assert "入户排查120户" in replies[0]
    assert bot.telegram.sent_to(LEADERS) == []


async def test_chat_gets_no_reply_and_an_incomplete_report_one_asking_for_what_is_missing(bot: Running) -> None:
    chat = bot.says(WUXING, RESIDENT, "大家好，今天天气不错，记得戴口罩")
    head_chat = bot.says(WUXING, WUXING_HEAD, "收到，马上安排")
    partial = bot.says(WANGXIAN, 2002, "日报 入户排查60户 返乡1人")
    assert await bot.replies(chat) == []
    assert await bot.replies(head_chat) == []
    replies = await bot.replies(partial)
    assert len(replies) == 1
    assert "还缺：居家观察、发热、消毒" in replies[0]
    assert bot.telegram.sent_to(WUXING) == []
    assert len(bot.telegram.sent) == 1


async def test_a_fever_at_the_checkpoint_alerts_the_leaders_at_once(bot: Running) -> None:
    registration = bot.says(CHECKPOINT, 4001, "登记 甘D66A88 1人 37.3℃ 来自白银 去柳树村")
    replies = await bot.replies(registration)
    assert len(replies) == 1 and "甘D66A88" in replies[0]
    alerts = bot.telegram.sent_to(LEADERS)
    assert len(alerts) == 1
    assert "🚨 卡点预警" in alerts[0] and "37.3℃" in alerts[0] and "109国道雒家滩卡点" in alerts[0]


async def test_an_admins_notice_reaches_every_village_group_and_a_non_admins_none(bot: Running) -> None:
    bot.says(WUXING, WUXING_HEAD, "通知：今晚8点各组长到村委会开会")
    bot.says(WUXING, RESIDENT, "通知：明天停水")
    await bot.settle()
    assert bot.telegram.sent == []

    notice = bot.says(LEADERS, ADMIN, "通知：即日起各村严禁举办聚餐、婚宴，请各村广泛宣传。")
    receipt = await bot.replies(notice)
    assert len(receipt) == 1 and "已发往 3 个群" in receipt[0]
    for group in (WUXING, WANGXIAN, HONGXING):
        texts = bot.telegram.sent_to(group)
        assert len(texts) == 1 and "严禁举办聚餐" in texts[0] and texts[0].startswith("📢")
    assert bot.telegram.sent_to(CHECKPOINT) == []


async def test_a_command_or_mention_for_the_bot_is_answered_and_one_for_another_bot_is_not(bot: Running) -> None:
    other = bot.says(WUXING, WUXING_HEAD, "/status@some_other_bot")
    ours = bot.says(WUXING, WUXING_HEAD, f"/status@{BOT_USERNAME}")
    assert await bot.replies(other) == []
    assert len(await bot.replies(ours)) == 1
    # A resident's 通知 is village chat, unless addressed to the bot: then it is refused, politely.
    addressed = bot.says(WUXING, RESIDENT, f"@{BOT_USERNAME} 通知：明天停水")
    refusal = await bot.replies(addressed)
    assert len(refusal) == 1 and "只有镇防控办" in refusal[0]


async def test_a_head_is_appointed_by_replying_to_them_or_by_picking_them_from_the_list(bot: Running) -> None:
    newcomer = bot.says(WUXING, 5001, "我是新来的村文书", first_name="李文书")
    appoint = bot.says(WUXING, ADMIN, "设置村长 五星村", reply_to=newcomer)
    assert "telegram:5001" in (await bot.replies(appoint))[0]
    report = bot.says(WUXING, 5001, FULL_REPORT)
    assert (await bot.replies(report))[0].startswith("✅ 已收到五星村")

    words = "设置村长 王岘村 小王"
    picked = bot.says(WANGXIAN, ADMIN, words, entities=[text_mention(words, "小王", 5002)])
    assert "telegram:5002" in (await bot.replies(picked))[0]
    report = bot.says(WANGXIAN, 5002, FULL_REPORT)
    assert (await bot.replies(report))[0].startswith("✅ 已收到王岘村")


async def test_mentions_notify_the_person_by_name_with_a_text_mention(bot: Running) -> None:
    bot.says(WUXING, WUXING_HEAD, "好的", first_name="张村长")
    await bot.settle()
    async with bot.app.database.transaction() as store:
        await store.outbox.enqueue(
            chat=f"telegram:{WUXING}", text="❗五星村今天（截至目前）还没有报送日报，请村干部在17:00前报送。",
            purpose="chase", at=bot.clock.now(), mentions=[f"telegram:{WUXING_HEAD}"],
        )
    bot.app.wake_senders()
    await bot.settle()
    [sent] = bot.telegram.sent
    assert sent.parse_mode is None  # plain text with entities: nothing to escape
    [entity] = sent.entities
    assert entity["type"] == "text_mention" and entity["user"]["id"] == WUXING_HEAD
    units = sent.text.encode("utf-16-le")
    shown = units[2 * entity["offset"] : 2 * (entity["offset"] + entity["length"])].decode("utf-16-le")
    assert shown == "@张村长"  # the offset counts the emoji ❗ as Telegram does


LONG_LINES = [f"第{n}行：五星村、王岘村、红星村 🚨 数据核对完毕，请各村继续做好防控工作。" for n in range(300)]


async def test_a_long_message_is_split_at_line_breaks(bot: Running) -> None:
    long_text = "\n".join(LONG_LINES)
    assert utf16_len(long_text) > 2 * 4096
    async with bot.app.database.transaction() as store:
        await store.outbox.enqueue(chat=f"telegram:{LEADERS}", text=long_text, purpose="summary", at=bot.clock.now())
    await bot.settle()
    parts = bot.telegram.sent_to(LEADERS)
    assert len(parts) == 3
    assert all(utf16_len(p) <= 4096 for p in parts)
    assert "\n".join(parts) == long_text  # cut only where a line ends


async def first_part_only(bot: Running, text: str) -> None:
    """Send `text` (three parts) to the leaders: part 1 arrives, part 2 is refused (502)."""
    bot.telegram.fail(LEADERS, after=1)
    with pytest.raises(DeliveryError):
        await bot.adapter.deliver(OutgoingMessage(chat=f"telegram:{LEADERS}", text=text, purpose="summary"))


async def test_a_long_message_whose_second_part_failed_goes_again_from_that_part(bot: Running) -> None:
    long_text = "\n".join(LONG_LINES)
    leaders = f"telegram:{LEADERS}"
    await first_part_only(bot, long_text)
    [first] = bot.telegram.sent
    # The retry is not the same message: what else waited for the group was merged into it.
    merged = f"{long_text}\n\n📢【王岘镇通知】\n明早8点核酸检测。"
    first_id = await bot.adapter.deliver(OutgoingMessage(chat=leaders, text=merged, purpose="summary"))
    parts = bot.telegram.sent_to(LEADERS)
    assert parts.count(first.text) == 1 and "\n".join(parts) == merged  # each part once, in order
    assert first_id == str(first.message_id)  # the message's id is still its first part's

    # A message that does not begin with the parts that went is sent whole.
    await first_part_only(bot, long_text)
    other = "\n".join(line.replace("数据", "名单") for line in LONG_LINES)
    before = len(bot.telegram.sent_to(LEADERS))
    await bot.adapter.deliver(OutgoingMessage(chat=leaders, text=other, purpose="summary"))
    assert "\n".join(bot.telegram.sent_to(LEADERS)[before:]) == other


async def test_a_long_messages_sent_parts_are_remembered_across_another_send_to_the_group(bot: Running) -> None:
    long_text = "\n".join(LONG_LINES)
    leaders = f"telegram:{LEADERS}"
    await first_part_only(bot, long_text)
    [first] = bot.telegram.sent
    # While the summary waits for its retry, an alert goes to the same group on its own.
    await bot.adapter.deliver(OutgoingMessage(chat=leaders, text="🚨 卡口发现发热人员", purpose="alert"))
    first_id = await bot.adapter.deliver(OutgoingMessage(chat=leaders, text=long_text, purpose="summary"))
    parts = bot.telegram.sent_to(LEADERS)
    assert parts.count(first.text) == 1  # part 1 is not sent again
    assert "\n".join(p for p in parts if p != "🚨 卡口发现发热人员") == long_text
    assert first_id == str(first.message_id)

    # Used once, the memory is gone: the same long message sent again goes whole.
    before = len(bot.telegram.sent_to(LEADERS))
    await bot.adapter.deliver(OutgoingMessage(chat=leaders, text=long_text, purpose="summary"))
    assert "\n".join(bot.telegram.sent_to(LEADERS)[before:]) == long_text


async def test_429_is_retried_after_the_time_telegram_asks(bot: Running) -> None:
    bot.telegram.flood(WUXING, retry_after=1)
    report = bot.says(WUXING, WUXING_HEAD, FULL_REPORT)
    assert await bot.replies(report) == []
    [row] = await bot.outbox(WUXING)
    # A deferral Telegram asked for is not a failed attempt: it does not use up the row's tries.
    assert row.status == "pending" and row.attempts == 0 and "429" in (row.error or "")
    assert abs(row.next_attempt_at - (bot.clock.now() + dt.timedelta(seconds=1))) < dt.timedelta(seconds=0.5)
    # Another group's message answered: the sender has had its rounds since, and left the row alone.
    later = bot.says(WANGXIAN, WANGXIAN_HEAD, "帮助")
    assert len(await bot.replies(later)) == 1
    assert bot.telegram.sent_to(WUXING) == [] and len(bot.telegram.refused) == 1  # not tried again before its time

    bot.clock.advance(dt.timedelta(seconds=1))
    await bot.settle()
    [sent] = [m for m in bot.telegram.sent if m.chat_id == WUXING]
    assert sent.text.startswith("✅ 已收到五星村") and sent.reply_to == report["message_id"]
    assert sent.at - bot.telegram.refused[0].at >= 0.95  # Telegram's wait, on the wall clock too


async def test_a_migrated_group_keeps_its_village_and_gets_each_message_once(bot: Running) -> None:
    bot.telegram.migrate(WUXING, NEW_WUXING)
    bot.says(LEADERS, ADMIN, "通知：今晚8点各村开会。")
    await bot.settle()
    assert [r.status for r in bot.telegram.refused] == [400]
    assert len(bot.telegram.sent_to(NEW_WUXING)) == 1 and "开会" in bot.telegram.sent_to(NEW_WUXING)[0]
    async with bot.app.database.transaction() as store:
        binding = await store.bindings.get(f"telegram:{NEW_WUXING}")
        assert binding is not None and binding.target == "五星村"

    report = bot.says(NEW_WUXING, WUXING_HEAD, FULL_REPORT)
    assert (await bot.replies(report))[0].startswith("✅ 已收到五星村")
    bot.says(LEADERS, ADMIN, "通知：明早8点核酸检测。")
    await bot.settle()
    assert [t for t in bot.telegram.sent_to(NEW_WUXING) if "核酸" in t] == [
        "📢【王岘镇通知】\n明早8点核酸检测。"
    ]
    assert len(bot.telegram.refused) == 1  # the old id is not tried again


async def test_a_group_upgrade_announced_by_telegram_moves_the_binding_before_any_send(bot: Running) -> None:
    bot.telegram.migrate(WANGXIAN, NEW_WUXING, announce=True)
    await bot.settle()
    async with bot.app.database.transaction() as store:
        binding = await store.bindings.get(f"telegram:{NEW_WUXING}")
        assert binding is not None and binding.target == "王岘村"
        assert (await bot.app.town.directory.village_chats(store))["王岘村"] == [f"telegram:{NEW_WUXING}"]
    bot.says(LEADERS, ADMIN, "通知：今晚8点各村开会。")
    await bot.settle()
    assert bot.telegram.refused == [] and len(bot.telegram.sent_to(NEW_WUXING)) == 1


@pytest.mark.filterwarnings("error")  # SQLAlchemy's warning of one row under two identities
async def test_a_group_bound_in_chat_and_in_the_config_keeps_who_bound_it_when_upgraded(bot: Running) -> None:
    bind = bot.says(WUXING, ADMIN, "/bind 五星村")
    assert len(await bot.replies(bind)) == 1
    bot.telegram.migrate(WUXING, NEW_WUXING, announce=True)
    await bot.settle()
    async with bot.app.database.transaction() as store:
        moved = await store.bindings.get(f"telegram:{NEW_WUXING}")
        assert moved is not None and (moved.target, moved.bound_by) == ("五星村", f"telegram:{ADMIN}")
        left = await store.bindings.get(f"telegram:{WUXING}")
        assert left is not None and not left.reachable
        assert (await bot.app.town.directory.village_chats(store))["五星村"] == [f"telegram:{NEW_WUXING}"]


async def test_a_migration_cut_short_after_the_new_id_was_bound_is_completed_when_telegram_tells_again(
    bot: Running,
) -> None:
    # What a process that died half-way through following the upgrade left: the new id bound to
    # the village, the old id (named in the config) still one of its live groups.
    async with bot.app.database.transaction() as store:
        await store.bindings.bind(f"telegram:{NEW_WUXING}", "village", "五星村", "telegram:migration", bot.clock.now())
        assert (await bot.app.town.directory.village_chats(store))["五星村"] == [
            f"telegram:{WUXING}", f"telegram:{NEW_WUXING}"
        ]
    bot.telegram.migrate(WUXING, NEW_WUXING, announce=True)  # Telegram's service messages, after the restart
    await bot.settle()
    async with bot.app.database.transaction() as store:
        assert (await bot.app.town.directory.village_chats(store))["五星村"] == [f"telegram:{NEW_WUXING}"]
    bot.says(LEADERS, ADMIN, "通知：今晚8点各村开会。")
    await bot.settle()
    assert bot.telegram.sent_to(NEW_WUXING) == ["📢【王岘镇通知】\n今晚8点各村开会。"]  # once, not once per id
    assert bot.telegram.refused == []


async def test_a_group_that_removed_the_bot_is_reported_to_the_leaders_once(bot: Running) -> None:
    bot.telegram.remove_bot(HONGXING)
    bot.says(LEADERS, ADMIN, "通知：今晚8点各村开会。")
    await bot.settle()
    # The group refuses the bot a second time: a report said there (before the bot was removed,
    # or by a head who cannot see it is gone) is answered into it.
    report = bot.says(HONGXING, HONGXING_HEAD, FULL_REPORT)
    assert await bot.replies(report) == []
    bot.says(LEADERS, ADMIN, "通知：明早8点核酸检测。")
    await bot.settle()
    assert [r.chat_id for r in bot.telegram.refused] == [HONGXING, HONGXING]  # the notice, the reply; no more
    # Told once (possibly in one message with the notice's delivery report: both wait for the leaders).
    warning = bot_removed("红星村", f"telegram:{HONGXING}")
    to_leaders = "\n\n".join(bot.telegram.sent_to(LEADERS))
    assert to_leaders.count(warning) == 1 and to_leaders.count("机器人已被移出「") == 1
    rows = await bot.outbox(HONGXING)
    assert all(row.status == "failed" for row in rows)  # (the second notice's row too, never sent)
    assert [(r.purpose, r.failure, "kicked" in (r.error or "")) for r in rows[:2]] == [
        ("notice", "removed", True),
        ("reply", "removed", True),
    ]
    assert len(bot.telegram.sent_to(WUXING)) == 2 and len(bot.telegram.sent_to(WANGXIAN)) == 2


async def test_an_update_that_cannot_be_stored_is_not_confirmed_until_it_is(
    bot: Running, caplog: pytest.LogCaptureFixture
) -> None:
    engine = bot.app.database.engine
    async with engine.begin() as connection:
        await connection.execute(text("ALTER TABLE inbound_messages RENAME TO inbound_away"))
    try:
        report = bot.says(WUXING, WUXING_HEAD, FULL_REPORT)
        await eventually(  # a few tries, at 0.05 s, 0.1 s, 0.2 s
            lambda: sum("could not be stored" in r.getMessage() for r in caplog.records) >= 3,
            what="three failed tries to store the update",
        )
        assert bot.telegram.confirmed_offset <= bot.telegram.last_update_id
        assert bot.telegram.sent == []
    finally:
        async with engine.begin() as connection:
            await connection.execute(text("ALTER TABLE inbound_away RENAME TO inbound_messages"))
    replies = await bot.replies(report)
    assert len(replies) == 1 and replies[0].startswith("✅ 已收到五星村")


async def test_on_start_it_registers_its_commands_in_chinese_and_leaves_no_webhook(bot: Running) -> None:
    [commands] = bot.telegram.calls("setMyCommands")
    assert [(c["command"], c["description"]) for c in commands["commands"]] == list(menu_commands())
    assert [c.split("：")[0] for _, c in menu_commands()] == ["日报", "更正", "今日进度", "帮助", "绑定", "通知", "今日报表", "趋势图"]
    assert len(bot.telegram.calls("deleteWebhook")) == 1
    assert bot.telegram.calls("getMe")


@pytest.mark.parametrize("privacy_off", [False, True])
async def test_privacy_mode_is_warned_about_once(
    privacy_off: bool,
    database: Database,
    town: TownConfig,
    clock: ManualClock,
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    caplog.set_level(logging.WARNING, logger="bot.telegram_adapter")
    with TelegramStandIn(privacy_off=privacy_off, now=clock.now) as telegram:
        monkeypatch.setenv("TELEGRAM_BASE_URL", telegram.base_url)
        async with running_bot(town, database, telegram, clock) as running:
            running.says(WUXING, WUXING_HEAD, "你好")
            await running.settle()
    warnings = [r.getMessage() for r in caplog.records if "/setprivacy" in r.getMessage()]
    if privacy_off:
        assert warnings == []
    else:
        assert len(warnings) == 1
        assert f"@{BOT_USERNAME}" in warnings[0] and "remove the bot from each group and add it again" in warnings[0]


async def test_it_stops_at_once_even_in_the_middle_of_a_long_poll(bot: Running) -> None:
    await bot.telegram.until(lambda t: t.held_polls == 1, what="a poll held by the server (5 s timeout)")
    started = time.monotonic()
    bot.stop.set()
    await asyncio.wait_for(bot.task, timeout=2)
    assert time.monotonic() - started < 0.5
    assert bot.task.exception() is None


async def test_sends_keep_to_twenty_a_minute_in_a_group(
    database: Database, town: TownConfig, telegram: TelegramStandIn, clock: ManualClock
) -> None:
    async with running_bot(town, database, telegram, clock, merges=False) as bot:
        async with bot.app.database.transaction() as store:
            for n in range(25):
                await store.outbox.enqueue(chat=f"telegram:{WUXING}", text=f"第{n}条", purpose="notice", at=clock.now())
        await bot.settle()
        assert bot.telegram.sent_to(WUXING) == [f"第{n}条" for n in range(20)]
        waiting = [row for row in await bot.outbox(WUXING) if row.status == "pending"]
        assert len(waiting) == 5 and bot.telegram.refused == []  # held back here, not refused by Telegram
        for row in waiting:
            assert row.next_attempt_at - bot.clock.now() > dt.timedelta(seconds=55)


async def test_notices_waiting_for_one_group_go_as_one_message(bot: Running) -> None:
    async with bot.app.database.transaction() as store:
        for n in range(25):
            await store.outbox.enqueue(chat=f"telegram:{WUXING}", text=f"第{n}条", purpose="notice", at=bot.clock.now())
    await bot.settle()
    assert bot.telegram.sent_to(WUXING) == ["\n\n".join(f"第{n}条" for n in range(25))]
    assert all(row.status == "sent" for row in await bot.outbox(WUXING))


async def test_sends_keep_to_thirty_a_second_overall(bot: Running) -> None:
    groups = [-1005000000000 - n for n in range(45)]
    async with bot.app.database.transaction() as store:
        for group in groups:
            await store.outbox.enqueue(chat=f"telegram:{group}", text="测试", purpose="notice", at=bot.clock.now())
    await bot.settle()
    times = sorted(m.at for m in bot.telegram.sent)
    assert len(times) == 45
    assert times[30] - times[0] >= 0.95  # the 31st waited for the first second to pass
    assert all(times[k + 30] - times[k] >= 0.95 for k in range(len(times) - 30))  # never 31 in a second


async def test_a_refused_token_stops_the_adapter_with_a_message_that_does_not_show_it(
    database: Database, town: TownConfig, telegram: TelegramStandIn, clock: ManualClock
) -> None:
    app = await App.start(town, clock=clock, database=database)
    wrong = "123456:NotTheRightTokenAtAll"
    adapter = telegram_adapter(app, wrong, retry_seconds=0.05)
    with pytest.raises(PlatformError) as refused:
        await asyncio.wait_for(adapter.run(asyncio.Event()), timeout=5)
    assert "TELEGRAM_BOT_TOKEN" in str(refused.value) and wrong not in str(refused.value)
    assert "NotTheRightToken" not in str(refused.value)


@pytest.mark.parametrize("secret", [None, "s3cret-For_tests\n"])  # unset; as an env file may leave it
async def test_webhook_mode_will_not_start_without_a_secret_telegram_takes(
    secret: str | None, database: Database, telegram: TelegramStandIn, clock: ManualClock,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("TELEGRAM_BASE_URL", telegram.base_url)
    if secret is None:
        monkeypatch.delenv("TELEGRAM_WEBHOOK_SECRET", raising=False)
    else:
        monkeypatch.setenv("TELEGRAM_WEBHOOK_SECRET", secret)
    config = parse_config(town_toml(telegram='webhook_url = "https://bot.example.org/hook"'), "town.toml")
    app = await App.start(config, clock=clock, database=database)
    with pytest.raises(PlatformError, match="TELEGRAM_WEBHOOK_SECRET"):
        await asyncio.wait_for(telegram_adapter(app, telegram.token).run(asyncio.Event()), timeout=5)
    assert telegram.webhook == ("", None)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def webhook_town(telegram: TelegramStandIn, monkeypatch: pytest.MonkeyPatch, port: int) -> TownConfig:
    """The test town in webhook mode, on `port` of 127.0.0.1, with its secret in the environment."""
    monkeypatch.setenv("TELEGRAM_BASE_URL", telegram.base_url)
    monkeypatch.setenv("TELEGRAM_WEBHOOK_SECRET", "s3cret-For_tests")
    section = f'webhook_url = "http://127.0.0.1:{port}/telegram/hook"\nwebhook_port = {port}\n'
    return parse_config(town_toml(telegram=section), "town.toml")


@pytest.mark.parametrize(
    ("method", "status", "description", "told"),
    [
        ("setWebhook", 400, "Bad Request: bad webhook: Webhook can be set up only on ports 80, 88, 443 or 8443",
         "correct [telegram] webhook_url"),
        ("setWebhook", 401, "Unauthorized", "refused the token in $TELEGRAM_BOT_TOKEN"),
        ("deleteWebhook", 401, "Unauthorized", "refused the token in $TELEGRAM_BOT_TOKEN"),
    ],
)
async def test_a_start_up_call_telegram_refuses_for_good_stops_the_bot_saying_what_to_fix(
    method: str, status: int, description: str, told: str,
    database: Database, telegram: TelegramStandIn, clock: ManualClock, monkeypatch: pytest.MonkeyPatch,
) -> None:
    config = webhook_town(telegram, monkeypatch, free_port()) if method == "setWebhook" else parse_config(
        town_toml(), "town.toml"
    )
    monkeypatch.setenv("TELEGRAM_BASE_URL", telegram.base_url)
    telegram.refuse(method, status, description)
    app = await App.start(config, clock=clock, database=database)
    adapter = telegram_adapter(app, telegram.token, retry_seconds=0.05)
    with pytest.raises(PlatformError) as refused:
        await asyncio.wait_for(adapter.run(asyncio.Event()), timeout=5)
    assert told in str(refused.value)
    if status == 400:  # the key, the file, and Telegram's own words for the details
        assert "town.toml" in str(refused.value) and "only on ports 80, 88, 443 or 8443" in str(refused.value)
    assert len(telegram.calls(method)) == 1  # not tried again: trying cannot change the answer
    assert telegram.calls("getUpdates") == []


async def test_a_setwebhook_that_may_pass_is_tried_again_until_it_does(
    database: Database, telegram: TelegramStandIn, clock: ManualClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = webhook_town(telegram, monkeypatch, free_port())
    telegram.refuse("setWebhook", 502, "Bad Gateway", times=2)
    telegram.refuse("setWebhook", 429, "Too Many Requests: retry after 1", times=1, parameters={"retry_after": 1})
    async with running_bot(config, database, telegram, clock) as bot:
        assert not bot.task.done() and telegram.webhook[0].endswith("/telegram/hook")
        calls = telegram.call_times("setWebhook")
        assert len(calls) == 4 and calls[3] - calls[2] >= 0.95  # the 429's second waited for


async def test_a_secret_header_that_is_not_utf8_gets_403_not_an_error(caplog: pytest.LogCaptureFixture) -> None:
    handled: list[dict[str, Any]] = []

    async def handle(update: dict[str, Any]) -> None:
        handled.append(update)

    server = WebhookServer(listen="127.0.0.1", port=0, path="/hook", secret="s3cret", handle=handle)
    await server.start()
    try:
        for header in (b"\xff\xfe", b"s3cret\xff", b"s3cre\xc3\xa9"):
            reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
            writer.write(
                b"POST /hook HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
                b"X-Telegram-Bot-Api-Secret-Token: " + header + b"\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{}"
            )
            status_line = await asyncio.wait_for(reader.readline(), timeout=5)
            writer.close()
            assert status_line.split()[1] == b"403", status_line
    finally:
        await server.stop()
    assert handled == [] and "Traceback" not in caplog.text and not [r for r in caplog.records if r.exc_info]


async def test_webhook_refuses_a_wrong_secret_and_stores_before_answering(
    database: Database, telegram: TelegramStandIn, clock: ManualClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    port = free_port()
    config = webhook_town(telegram, monkeypatch, port)
    secret = os.environ["TELEGRAM_WEBHOOK_SECRET"]
    async with running_bot(config, database, telegram, clock) as bot:
        assert telegram.webhook == (f"http://127.0.0.1:{port}/telegram/hook", secret)
        assert telegram.calls("getUpdates") == [] and telegram.calls("deleteWebhook") == []
        report = telegram.queue_message(WUXING, WUXING_HEAD, FULL_REPORT)

        assert await telegram.push_to_webhook(report, secret="wrong") == 403
        assert await telegram.push_to_webhook(report, secret=None) == 403
        assert await telegram.push_to_webhook(report, secret=secret[:-1]) == 403
        async with database.transaction() as store:
            assert not await store.inbound.seen("telegram", f"telegram:{WUXING}", str(report["message"]["message_id"]))

        engine = database.engine
        async with engine.begin() as connection:
            await connection.execute(text("ALTER TABLE inbound_messages RENAME TO inbound_away"))
        try:
            assert await telegram.push_to_webhook(report) == 500  # not stored: Telegram will send it again
        finally:
            async with engine.begin() as connection:
                await connection.execute(text("ALTER TABLE inbound_away RENAME TO inbound_messages"))

        assert await telegram.push_to_webhook(report) == 200
        async with database.transaction() as store:
            assert await store.inbound.seen("telegram", f"telegram:{WUXING}", str(report["message"]["message_id"]))
        assert await telegram.push_to_webhook(report) == 200  # Telegram's retry of one we had: no second answer
        await bot.settle()
        replies = telegram.replies_to(WUXING, report["message"]["message_id"])
        assert len(replies) == 1 and replies[0].startswith("✅ 已收到五星村")


async def test_the_bot_is_told_apart_from_people_in_replies(bot: Running) -> None:
    report = bot.says(WUXING, WUXING_HEAD, FULL_REPORT)
    await bot.replies(report)
    [confirmation] = bot.telegram.sent
    # A resident answering the bot's message with 通知… addresses the bot: refused, not broadcast.
    answer = bot.says(WUXING, RESIDENT, "通知：明天停水", reply_to=bot.telegram.bot_message(confirmation))
    refusal = await bot.replies(answer)
    assert len(refusal) == 1 and "只有镇防控办" in refusal[0]
    assert bot.telegram.sent_to(WANGXIAN) == []
