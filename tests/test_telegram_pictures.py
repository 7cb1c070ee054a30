"""Pictures on Telegram: the real python-telegram-bot sends sendPhoto (multipart) to the stand-in,
and a refused photo fails the way a refused message does."""

from __future__ import annotations

import datetime as dt

import pytest
from telegram_standin import ADMIN, FULL_REPORT, LEADERS, WUXING, WUXING_HEAD, TelegramStandIn, town_toml
from test_telegram_chat import Running, running_bot

from handlers.clock import ManualClock
from handlers.transport import DeliveryFailure
from storage import Database
from townconfig import TownConfig, parse_config

PNG = b"\x89PNG\r\n\x1a\n"


def configured(monkeypatch: pytest.MonkeyPatch, telegram: TelegramStandIn) -> TownConfig:
    monkeypatch.setenv("TELEGRAM_BASE_URL", telegram.base_url)
    return parse_config(town_toml(), "town.toml")


async def queue_picture(bot: Running, chat: int, text: str, data: bytes = PNG + b"rest of a png") -> None:
    async with bot.app.database.transaction() as store:
        await store.outbox.enqueue(chat=f"telegram:{chat}", text=text, purpose="deadline", at=bot.clock.now(),
                                   picture=data, picture_name="王岘镇日报_2020-02-17.png")  # fmt: skip
    bot.app.wake_senders()


async def test_a_leader_asks_for_the_table_and_gets_a_photo_in_reply(
    database: Database, telegram: TelegramStandIn, clock: ManualClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with running_bot(configured(monkeypatch, telegram), database, telegram, clock) as bot:
        bot.says(WUXING, WUXING_HEAD, FULL_REPORT)
        await bot.settle()
        asked = bot.says(LEADERS, ADMIN, "/table")
        await bot.settle()
    [photo] = telegram.photos_to(LEADERS)
    assert photo.data.startswith(PNG) and len(photo.data) > 10_000
    assert photo.file_name == "王岘镇日报_2020-02-17.png"
    assert "2月17日" in photo.caption and "未报：" in photo.caption and "五星村" not in photo.caption.split("未报：")[1]
    assert photo.reply_to == asked["message_id"]


async def test_a_text_too_long_for_a_caption_follows_the_photo(
    database: Database, telegram: TelegramStandIn, clock: ManualClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    long_text = "\n".join(f"第{i}行：各村数字" for i in range(200))
    async with running_bot(configured(monkeypatch, telegram), database, telegram, clock) as bot:
        await queue_picture(bot, LEADERS, long_text)
        await bot.settle()
        [row] = await bot.outbox(LEADERS)
        assert row.status == "sent"
    [photo] = telegram.photos_to(LEADERS)
    assert photo.caption == ""
    assert "\n".join(telegram.sent_to(LEADERS)) == long_text


async def test_a_photo_to_a_group_that_removed_the_bot_fails_for_good_and_a_429_waits(
    database: Database, telegram: TelegramStandIn, clock: ManualClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    telegram.flood(LEADERS, retry_after=1)
    telegram.remove_bot(WUXING)
    async with running_bot(configured(monkeypatch, telegram), database, telegram, clock) as bot:
        await queue_picture(bot, WUXING, "表")
        await queue_picture(bot, LEADERS, "表")
        await bot.settle()
        [gone] = await bot.outbox(WUXING)
        assert gone.status == "failed" and gone.failure == DeliveryFailure.REMOVED
        [waiting] = [row for row in await bot.outbox(LEADERS) if row.picture is not None]  # and the alert
        assert waiting.status == "pending" and waiting.attempts == 0 and "429" in (waiting.error or "")
        clock.advance(dt.timedelta(seconds=2))  # the outbox's clock; the adapter's hold is a second of its own
        await telegram.until(lambda t: t.photos_to(LEADERS), what="the photo sent after the 429")
        await bot.settle()
        [waiting] = [row for row in await bot.outbox(LEADERS) if row.picture is not None]
        assert waiting.status == "sent"
    assert len(telegram.photos_to(LEADERS)) == 1 and telegram.photos_to(WUXING) == []
