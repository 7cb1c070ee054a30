"""Telegram as other servers answer: what the bot does with answers python-telegram-bot cannot read.

In-process, the real app and python-telegram-bot against the stand-in, which answers the way the
issue found telegram-test-api (and a proxy) answering: a send accepted with its `date` in
milliseconds, an `ok` answer without a message, a 200 that is not JSON, a getMe without `is_bot`,
a getUpdates that returns at once. Both databases. tests/test_telegram_emulator.py runs the same
cases against telegram-test-api itself.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
from collections.abc import Callable
from typing import Any

import pytest
from telegram_standin import (
    ADMIN,
    FULL_REPORT,
    HONGXING,
    LEADERS,
    WANGXIAN,
    WUXING,
    WUXING_HEAD,
    TelegramStandIn,
    in_milliseconds,
)
from test_telegram_chat import free_port, running_bot, webhook_town
from test_telegram_sending import until_all_sent

from bot.app import App
from bot.platforms import telegram_adapter
from handlers.clock import ManualClock
from handlers.transport import PlatformError
from storage import Database
from townconfig import TownConfig

VILLAGES = (WUXING, WANGXIAN, HONGXING)


@pytest.fixture
def doubled_warnings(caplog: pytest.LogCaptureFixture) -> Callable[[], list[str]]:
    caplog.set_level(logging.WARNING)
    return lambda: [r.getMessage() for r in caplog.records if "may arrive twice" in r.getMessage()]


# --- a send the server accepted -----------------------------------------------------------------------


async def test_a_send_accepted_with_its_date_in_milliseconds_is_sent_once_with_its_id(
    database: Database, town: TownConfig, telegram: TelegramStandIn, clock: ManualClock,
    doubled_warnings: Callable[[], list[str]], caplog: pytest.LogCaptureFixture,
) -> None:
    telegram.answer_oddly(WUXING, in_milliseconds, times=None)
    async with running_bot(town, database, telegram, clock) as bot:
        report = bot.says(WUXING, WUXING_HEAD, FULL_REPORT)
        replies = await bot.replies(report)
        [row] = await bot.outbox(WUXING)
        assert bot.app.senders["telegram"].ambiguous == 0
    assert len(replies) == 1 and replies[0].startswith("✅ 已收到五星村")
    assert (row.status, row.attempts, row.failure) == ("sent", 1, None)
    assert row.platform_message_id == str(telegram.sent[0].message_id)  # read from the raw answer
    assert doubled_warnings() == []
    [accepted] = [r.getMessage() for r in caplog.records if "recorded as sent" in r.getMessage()]
    assert telegram.base_url in accepted and "year" in accepted  # what the library choked on


async def test_a_notice_accepted_with_unreadable_answers_goes_once_to_each_village_and_the_receipt_says_so(
    database: Database, town: TownConfig, telegram: TelegramStandIn, clock: ManualClock,
    doubled_warnings: Callable[[], list[str]],
) -> None:
    """The issue's five copies of a notice in each village and the leaders told it failed."""
    for chat in (*VILLAGES, LEADERS):
        telegram.answer_oddly(chat, in_milliseconds, times=None)
    async with running_bot(town, database, telegram, clock) as bot:
        bot.says(LEADERS, ADMIN, "通知：今晚8点各村开会。")
        await until_all_sent(bot)
        await telegram.until(lambda t: any("已送达" in m for m in t.sent_to(LEADERS)), what="the receipt")
        assert bot.app.senders["telegram"].ambiguous == 0
    for chat in VILLAGES:
        assert len([t for t in telegram.sent_to(chat) if "开会" in t]) == 1
    leaders = telegram.sent_to(LEADERS)
    assert len([t for t in leaders if "已发往" in t]) == 1
    assert [t for t in leaders if "已送达" in t] == ["📬 通知 #1 已送达 3/3 个群。"]  # not told it failed
    assert doubled_warnings() == []


@pytest.mark.parametrize(
    "shape",
    [
        pytest.param(lambda result: {"ok": True}, id="no-result"),
        pytest.param(lambda result: {"ok": True, "result": {"message_id": "x", "text": "?"}}, id="no-usable-id"),
    ],
)
async def test_an_ok_answer_without_a_readable_message_is_still_sent_once(
    database: Database, town: TownConfig, telegram: TelegramStandIn, clock: ManualClock,
    shape: Callable[[dict[str, Any]], dict[str, Any]],
) -> None:
    telegram.answer_oddly(WUXING, shape)
    async with running_bot(town, database, telegram, clock) as bot:
        report = bot.says(WUXING, WUXING_HEAD, FULL_REPORT)
        assert len(await bot.replies(report)) == 1
        [row] = await bot.outbox(WUXING)
    assert (row.status, row.attempts, row.platform_message_id) == ("sent", 1, None)


async def test_a_200_that_is_not_json_may_have_arrived_so_it_is_counted_and_logged_as_possibly_doubled(
    database: Database, town: TownConfig, telegram: TelegramStandIn, clock: ManualClock,
    doubled_warnings: Callable[[], list[str]],
) -> None:
    telegram.answer_oddly(WUXING, lambda result: "<html>upstream says ok</html>")
    async with running_bot(town, database, telegram, clock) as bot:
        report = bot.says(WUXING, WUXING_HEAD, FULL_REPORT)
        await until_all_sent(bot)
        [row] = await bot.outbox(WUXING)
        assert bot.app.senders["telegram"].ambiguous == 1
    assert row.status == "sent"
    assert len(telegram.replies_to(WUXING, report["message_id"])) == 2  # sent again, and said so
    [warning] = doubled_warnings()
    assert "cannot be read" in warning and "upstream says ok" in warning


# --- start-up -----------------------------------------------------------------------------------------


async def test_a_getme_without_is_bot_stops_the_bot_naming_getme_the_server_and_its_answer(
    database: Database, town: TownConfig, telegram: TelegramStandIn, clock: ManualClock
) -> None:
    telegram.leave_out_of_get_me("is_bot")
    app = await App.start(town, clock=clock, database=database)
    adapter = telegram_adapter(app, telegram.token, retry_seconds=0.05)
    with pytest.raises(PlatformError) as stopped:
        await asyncio.wait_for(adapter.run(asyncio.Event()), 10)
    message = str(stopped.value)
    assert "getMe" in message and telegram.base_url in message
    assert '"username": "villagebot_test_bot"' in message  # what it answered
    assert "is_bot" in message  # and what the library missed in it
    assert telegram.token not in message
    assert len(telegram.calls("getMe")) == 1  # not retried: it will not pass by itself


async def test_an_unreadable_answer_to_a_start_up_call_names_the_call_and_the_server(
    database: Database, town: TownConfig, telegram: TelegramStandIn, clock: ManualClock
) -> None:
    telegram.answer_unreadably("deleteWebhook", "Webhook was deleted")
    app = await App.start(town, clock=clock, database=database)
    adapter = telegram_adapter(app, telegram.token, retry_seconds=0.05)
    with pytest.raises(PlatformError) as stopped:
        await asyncio.wait_for(adapter.run(asyncio.Event()), 10)
    message = str(stopped.value)
    assert "deleteWebhook" in message and telegram.base_url in message and "Webhook was deleted" in message
    assert len(telegram.calls("deleteWebhook")) == 1


async def test_a_getme_that_fails_for_a_moment_is_retried_and_the_log_names_the_server_and_its_answer(
    database: Database, town: TownConfig, telegram: TelegramStandIn, clock: ManualClock,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.WARNING)
    telegram.refuse("getMe", 502, "Bad Gateway", times=2)
    async with running_bot(town, database, telegram, clock) as bot:
        report = bot.says(WUXING, WUXING_HEAD, FULL_REPORT)
        assert len(await bot.replies(report)) == 1
    warnings = [r.getMessage() for r in caplog.records if "cannot reach the Telegram Bot API" in r.getMessage()]
    assert len(warnings) == 2
    assert f"getMe at {telegram.base_url} answered HTTP 502" in warnings[0] and '"Bad Gateway"' in warnings[0]


# --- polling ------------------------------------------------------------------------------------------


async def test_a_getupdates_answered_at_once_is_not_called_again_before_the_gap(
    database: Database, town: TownConfig, telegram: TelegramStandIn, clock: ManualClock
) -> None:
    telegram.answer_polls_at_once()
    gap = 0.15
    async with running_bot(town, database, telegram, clock, poll_gap=gap) as bot:
        await telegram.until(lambda t: len(t.calls("getUpdates")) >= 5, what="five polls")
        report = bot.says(WUXING, WUXING_HEAD, FULL_REPORT)
        assert len(await bot.replies(report)) == 1  # and what comes is still received
    times = telegram.call_times("getUpdates")
    gaps = [b - a for a, b in itertools.pairwise(times[:5])]
    assert min(gaps) >= gap * 0.9, gaps  # not 18 a second, as before


async def test_an_update_the_library_cannot_read_is_logged_and_skipped_and_the_rest_are_handled(
    database: Database, town: TownConfig, telegram: TelegramStandIn, clock: ManualClock,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.ERROR)
    async with running_bot(town, database, telegram, clock) as bot:
        odd = telegram.queue_update({"message": {"message_id": 90, "date": 1_700_000_000_000, "text": "日报",
                                                  "chat": {"id": WUXING, "type": "supergroup"}}})
        report = bot.says(WUXING, WUXING_HEAD, FULL_REPORT)
        assert len(await bot.replies(report)) == 1
    [logged] = [r.getMessage() for r in caplog.records if "skipped Telegram update" in r.getMessage()]
    assert str(odd["update_id"]) in logged and "1700000000000" in logged


async def test_by_webhook_an_unreadable_update_is_answered_200_and_skipped_and_an_edit_is_heard(
    database: Database, telegram: TelegramStandIn, clock: ManualClock, monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.ERROR)
    config = webhook_town(telegram, monkeypatch, free_port())
    async with running_bot(config, database, telegram, clock) as bot:
        odd = {"update_id": 77, "message": {"message_id": 90, "date": 1_700_000_000_000, "text": "日报",
                                            "chat": {"id": WUXING, "type": "supergroup"}}}
        assert await telegram.push_to_webhook(odd) == 200  # not 500: Telegram would send it forever
        report = telegram.queue_message(WUXING, WUXING_HEAD, FULL_REPORT)
        assert await telegram.push_to_webhook(report) == 200
        edit = telegram.edit(report["message"], FULL_REPORT.replace("发热0人", "发热1人"))
        assert await telegram.push_to_webhook(edit) == 200
        await bot.settle()
    first, second = telegram.replies_to(WUXING, report["message"]["message_id"])
    assert first.startswith("✅ 已收到") and second.startswith("✏️ 已按修改后的消息更新")
    assert [r for r in caplog.records if "skipped Telegram update 77" in r.getMessage()]
