"""Edited Telegram messages: a head who fixes a report or a registration by editing it is heard.

The real app and python-telegram-bot against the stand-in, both databases. An edited report
replaces what that message stored for its day, and the reply says so; an edited registration
updates the person; an edit that now is a report is a new report; edited chat (and an edited
通知) stays silent; an edit delivered twice is handled once, and is not taken for a redelivery of
the message itself.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator
from typing import Any

import pytest
from telegram_standin import (
    ADMIN,
    FULL_REPORT,
    LEADERS,
    RESIDENT,
    WANGXIAN,
    WUXING,
    WUXING_HEAD,
    TelegramStandIn,
)
from test_telegram_chat import Running, running_bot

from handlers.clock import ManualClock
from storage import Database
from storage.models import AuditEntry
from storage.personal_data import new_key
from storage.repos.reports import DayReport
from townconfig import TownConfig

REGISTER = "返乡登记 欧阳娜娜 13912345678 62040219900101123X 武汉 2月10日返回"


@pytest.fixture(autouse=True)
def data_key(monkeypatch: pytest.MonkeyPatch) -> None:
    """Edited registrations need a key to store people with."""
    monkeypatch.setenv("VILLAGEBOT_DATA_KEY", new_key())


@pytest.fixture
async def bot(
    database: Database, town: TownConfig, telegram: TelegramStandIn, clock: ManualClock
) -> AsyncIterator[Running]:
    async with running_bot(town, database, telegram, clock) as running:
        yield running


async def edited(bot: Running, message: dict[str, Any], text: str, minutes: int = 2) -> dict[str, Any]:
    """The author edits the message a few minutes on; the edit, once handled."""
    bot.clock.advance(dt.timedelta(minutes=minutes))
    update = bot.telegram.edit(message, text)
    await bot.settle()
    return dict(update["edited_message"])


async def wuxing_today(bot: Running) -> DayReport:
    async with bot.app.database.transaction() as store:
        return await store.reports.day("五星村", dt.date(2020, 2, 17), bot.app.town.required)


async def audit(bot: Running, action: str) -> list[AuditEntry]:
    async with bot.app.database.transaction() as store:
        entries = await store.audit.between(bot.clock.now() - dt.timedelta(days=1), bot.clock.now() + dt.timedelta(days=1))
    return [entry for entry in entries if entry.action == action]


async def test_an_edited_report_replaces_what_it_stored_and_the_reply_says_so(bot: Running) -> None:
    report = bot.says(WUXING, WUXING_HEAD, FULL_REPORT)
    assert len(await bot.replies(report)) == 1
    await edited(bot, report, FULL_REPORT.replace("居家观察12人", "居家观察13人"))
    first, second = await bot.replies(report)  # the answer to the edit replies to the message too
    assert first.startswith("✅ 已收到五星村")
    assert second.startswith("✏️ 已按修改后的消息更新五星村2月17日日报")
    assert "居家观察：12 → 13" in second and "入户排查" not in second.splitlines()[1]
    day = await wuxing_today(bot)
    assert day.fields["under_observation"] == 13 and day.complete
    assert day.revisions == 1  # replaced, not a second report of the day
    [entry] = await audit(bot, "edit_report")
    assert (entry.before, entry.after) == (
        {"households_visited": 120, "returnees": 3, "under_observation": 12, "fever": 0, "disinfections": 2},
        {"households_visited": 120, "returnees": 3, "under_observation": 13, "fever": 0, "disinfections": 2},
    )


async def test_an_edit_replaces_only_that_messages_figures_and_a_later_correction_still_holds(bot: Running) -> None:
    report = bot.says(WUXING, WUXING_HEAD, FULL_REPORT)
    await bot.settle()
    bot.clock.advance(dt.timedelta(minutes=1))
    bot.says(WUXING, WUXING_HEAD, "更正 发热1人")
    await bot.settle()
    await edited(bot, report, FULL_REPORT.replace("入户排查120户", "入户排查130户"))
    day = await wuxing_today(bot)
    assert (day.fields["households_visited"], day.fields["fever"]) == (130, 1)


async def test_an_edit_that_leaves_a_figure_out_says_what_is_missing_now(bot: Running) -> None:
    partial = bot.says(WUXING, WUXING_HEAD, "日报 入户排查120户 返乡3人")
    await bot.settle()
    await edited(bot, partial, "日报 入户排查120户")
    answer = (await bot.replies(partial))[-1]
    assert "返乡人员：3 → —" in answer and "还缺：返乡人员、居家观察、发热、消毒" in answer
    assert "returnees" not in (await wuxing_today(bot)).fields


async def test_the_same_edit_delivered_twice_is_handled_once_and_a_second_edit_again(bot: Running) -> None:
    report = bot.says(WUXING, WUXING_HEAD, FULL_REPORT)
    assert len(await bot.replies(report)) == 1  # answered before the edit comes: two answers, not one merged
    await edited(bot, report, FULL_REPORT.replace("居家观察12人", "居家观察13人"))
    bot.telegram.forget_confirmations()  # Telegram sends the message and the edit again
    await bot.settle()
    assert len(await bot.replies(report)) == 2
    await edited(bot, report, FULL_REPORT.replace("居家观察12人", "居家观察14人"))
    replies = await bot.replies(report)
    assert len(replies) == 3 and "居家观察：13 → 14" in replies[2]
    assert (await wuxing_today(bot)).fields["under_observation"] == 14


async def test_a_message_edited_into_a_report_is_a_new_report(bot: Running) -> None:
    chat = bot.says(WUXING, WUXING_HEAD, "收到，马上安排")
    await bot.settle()
    await edited(bot, chat, FULL_REPORT)
    [reply] = await bot.replies(chat)
    assert reply.startswith("✅ 已收到五星村2月17日日报")
    assert (await wuxing_today(bot)).complete


async def test_an_edit_of_a_message_the_bot_never_saw_counts_as_it_now_reads(bot: Running) -> None:
    bot.telegram.queue_message(WUXING, WUXING_HEAD, FULL_REPORT, edited=True)
    await bot.settle()
    [reply] = bot.telegram.sent_to(WUXING)
    assert reply.startswith("✅ 已收到五星村")


async def test_edited_chat_and_an_edited_notice_stay_silent(bot: Running) -> None:
    chat = bot.says(WUXING, RESIDENT, "大家好，今天天气不错")
    notice = bot.says(LEADERS, ADMIN, "通知：今晚8点各村开会。")
    await bot.settle()
    await bot.telegram.until(lambda t: any("已送达" in m for m in t.sent_to(LEADERS)), what="the notice's receipt")
    sent = len(bot.telegram.sent)
    await edited(bot, chat, "大家好，今天下雨了，记得戴口罩")
    await edited(bot, notice, "通知：今晚9点各村开会。")
    await edited(bot, bot.says(WANGXIAN, RESIDENT, "好的"), "收到")  # a head's word, not a head's report
    assert len(bot.telegram.sent) == sent
    assert not [t for t in bot.telegram.sent_to(WUXING) if "9点" in t]


async def test_an_edited_registration_updates_that_person_and_says_so(bot: Running) -> None:
    registration = bot.says(WUXING, WUXING_HEAD, REGISTER)
    [registered] = await bot.replies(registration)
    assert registered.startswith("已登记 #1")
    await edited(bot, registration, REGISTER.replace("2月10日返回", "2月12日返回"))
    replies = await bot.replies(registration)
    assert len(replies) == 2
    assert replies[1].startswith("✏️ 已按修改后的消息更新登记 #1") and "2月12日返回" in replies[1]
    async with bot.app.database.transaction() as store:
        [person] = await store.people.observing("五星村")
    assert person.returned_on == dt.date(2020, 2, 12)
    assert person.observe_until == dt.date(2020, 2, 26)
    [entry] = await audit(bot, "edit_person")
    assert entry.subject == "五星村 #1"
    assert "62040219900101123X" not in str(entry.before) + str(entry.after)  # masked, as at registration


async def test_a_report_and_its_edit_that_arrive_together_count_as_edited(
    database: Database, town: TownConfig, telegram: TelegramStandIn, clock: ManualClock,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Sent and edited while the bot was away: one batch, one transaction (Dispatcher.handle_many)."""
    report = telegram.queue_message(WUXING, WUXING_HEAD, FULL_REPORT)["message"]
    telegram.edit(report, FULL_REPORT.replace("消毒2次", "消毒3次"), edit_date=report["date"] + 60)
    async with running_bot(town, database, telegram, clock) as bot:
        await bot.settle()
        [answer] = telegram.sent_to(WUXING)  # both answers, merged into one message for the group
        assert "✅ 已收到五星村" in answer and "✏️ 已按修改后的消息更新" in answer and "消毒：2 → 3" in answer
        day = await wuxing_today(bot)
    assert (day.fields["disinfections"], day.revisions) == (3, 1)
    assert not [r for r in caplog.records if "one by one" in r.getMessage()]  # stored together


async def test_an_edited_correction_replaces_that_correction(bot: Running) -> None:
    bot.says(WUXING, WUXING_HEAD, FULL_REPORT)
    await bot.settle()
    bot.clock.advance(dt.timedelta(minutes=1))
    correction = bot.says(WUXING, WUXING_HEAD, "更正 发热1人")
    await bot.settle()
    await edited(bot, correction, "更正 发热2人")
    assert "发热：1 → 2" in (await bot.replies(correction))[-1]
    day = await wuxing_today(bot)
    assert (day.fields["fever"], day.revisions) == (2, 2)


async def test_an_edited_temperature_reading_is_not_recorded_again(bot: Running) -> None:
    bot.says(WUXING, WUXING_HEAD, REGISTER)
    await bot.settle()
    reading = bot.says(WUXING, WUXING_HEAD, "欧阳娜娜 36.5")
    assert len(await bot.replies(reading)) == 1
    await edited(bot, reading, "欧阳娜娜 38.5")
    assert len(await bot.replies(reading)) == 1  # a command other than 登记: as first sent, once
    assert bot.telegram.sent_to(LEADERS) == []  # and no fever alert from the edit
    async with bot.app.database.transaction() as store:
        [person] = await store.people.observing("五星村")
        assert [check.celsius for check in await store.people.temperatures(person.id)] == [36.5]
