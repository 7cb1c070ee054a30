"""今日报表 / 趋势图 in a chat, and the pictures in the deadline summary: what the leaders get."""

from __future__ import annotations

import datetime as dt

from chat_harness import Chat
from conftest import SHANGHAI

from handlers.clock import ManualClock
from handlers.pictures import build_trend
from scheduler.jobs import send_deadline_summary

FULL = "日报 入户排查120户，返乡3人，居家观察12人，发热0人，消毒2次"
PNG = b"\x89PNG\r\n\x1a\n"


async def test_a_leader_asks_for_todays_table_and_gets_an_image_naming_who_is_missing(chat: Chat) -> None:
    await chat.person("五星村", "head").says(FULL)
    leader = chat.person("leaders", "admin")
    before = len(chat.platform.sent)
    await leader.says("今日报表")
    [sent] = [m for m in chat.platform.sent[before:] if m.chat == leader.where]
    assert sent.picture is not None and sent.picture.data.startswith(PNG)
    assert sent.picture.name == "王岘镇日报_2020-02-17.png"
    assert "2月17日" in sent.text and "未报：" in sent.text and "王岘村" in sent.text and "五星村" not in sent.text
    before = len(chat.platform.sent)
    await leader.says("/trend")
    [trend] = [m for m in chat.platform.sent[before:] if m.chat == leader.where]
    assert trend.picture is not None and trend.picture.data.startswith(PNG) and "趋势" in trend.text


async def test_a_village_head_is_told_the_pictures_are_for_the_leaders(chat: Chat) -> None:
    [reply] = await chat.person("五星村", "head").says("/table")
    assert "镇领导群" in reply
    assert all(m.picture is None for m in chat.platform.sent)


async def test_the_trend_reads_each_days_totals_from_the_summaries(chat: Chat, clock: ManualClock) -> None:
    head = chat.person("五星村", "head")
    await head.says("日报 入户排查120户，返乡3人，居家观察12人，发热1人，消毒2次",
                    at=dt.datetime(2020, 2, 16, 9, tzinfo=SHANGHAI))  # fmt: skip
    await head.says(FULL)
    await chat.person("王岘村", "head").says("日报 入户排查100户，返乡2人，居家观察8人，发热0人，消毒3次")
    await chat.person("109国道雒家滩卡点", "checkpoint").says("登记 甘D66A88 2人 36.5℃ 来自白银 去柳树村")
    async with chat.app.database.transaction() as store:
        trend = await build_trend(store, chat.app.town, dt.date(2020, 2, 17))
    assert len(trend.days) == 14 and trend.last == dt.date(2020, 2, 17)
    series = {s.key: s.values for s in trend.series}
    assert list(series) == ["under_observation", "returnees", "fever", "disinfections",
                            "checkpoint_vehicles", "checkpoint_people"]  # fmt: skip
    assert series["under_observation"][-2:] == (12, 20)
    assert series["fever"][-2:] == (1, 0)
    assert series["disinfections"][-1] == 5 and series["returnees"][0] == 0
    assert series["checkpoint_vehicles"][-1] == 1 and series["checkpoint_people"][-1] == 2


async def test_the_deadline_summary_sends_the_table_with_its_text_once(chat: Chat, clock: ManualClock) -> None:
    await chat.person("五星村", "head").says(FULL)
    clock.set(dt.datetime(2020, 2, 18, 17, 0, tzinfo=SHANGHAI))  # a Tuesday: no weekly trend
    leaders = chat.person("leaders", "admin").where
    await send_deadline_summary(chat.app.town, chat.app.database, clock.now())
    await send_deadline_summary(chat.app.town, chat.app.database, clock.now())  # a repeat sends nothing more
    await chat.app.drain()
    to_leaders = [m for m in chat.platform.sent if m.chat == leaders]
    pictures = [m for m in to_leaders if m.picture is not None]
    assert len(pictures) == 1 and pictures[0].picture is not None and pictures[0].picture.data.startswith(PNG)
    assert any("截止时间已到" in m.text for m in to_leaders if m.picture is None)
    assert not any("趋势" in m.text for m in pictures)  # the weekly trend is set to a Monday below


async def test_the_weekly_trend_goes_with_mondays_deadline_summary(chat: Chat, clock: ManualClock) -> None:
    leaders = chat.person("leaders", "admin").where
    for day in (17, 18):  # 17 Feb 2020 was a Monday
        clock.set(dt.datetime(2020, 2, day, 17, 0, tzinfo=SHANGHAI))
        await send_deadline_summary(chat.app.town, chat.app.database, clock.now())
    await chat.app.drain()
    trends = [m for m in chat.platform.sent if m.chat == leaders and m.picture is not None and "每周趋势" in m.text]
    assert len(trends) == 1 and "2月4日—2月17日" in trends[0].text
