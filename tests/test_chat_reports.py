"""Daily reports in the village groups, read as chats: what was said, what the bot answered, what was stored."""

from __future__ import annotations

import datetime as dt

from chat_harness import Chat
from conftest import SHANGHAI

from handlers.clock import ManualClock

FULL = "日报 入户排查120户，返乡3人，居家观察12人，发热0人，消毒2次"
DAY = dt.date(2020, 2, 17)


async def day_figures(chat: Chat, village: str) -> dict[str, int]:
    async with chat.app.database.transaction() as store:
        report = await store.reports.day(village, DAY, chat.app.town.required)
    return report.fields


async def test_a_complete_report_is_confirmed_with_village_date_and_figures(chat: Chat) -> None:
    replies = await chat.person("五星村", "head").says(FULL)

    assert len(replies) == 1
    assert "五星村" in replies[0] and "2月17日" in replies[0]
    for shown in ("入户排查120户", "返乡人员3人", "居家观察12人", "发热0人", "消毒2次"):
        assert shown in replies[0]
    assert await day_figures(chat, "五星村") == {
        "households_visited": 120, "returnees": 3, "under_observation": 12, "fever": 0, "disinfections": 2,
    }


async def test_ordinary_chat_gets_silence_and_stores_nothing(chat: Chat) -> None:
    head, resident = chat.person("五星村", "head"), chat.person("五星村", "resident")
    assert await resident.says("大家注意出门戴口罩，不要聚餐") == []
    assert await resident.says("我家今天消毒两次了") == []
    assert await head.says("好的，收到") == []
    assert await head.says("明天排查100户，消毒2次") == []
    assert chat.platform.sent == []
    assert await day_figures(chat, "五星村") == {}


async def test_an_incomplete_report_asks_for_exactly_the_missing_fields_and_is_completed_later(chat: Chat) -> None:
    head = chat.person("五星村", "head")
    first = await head.says("日报 入户排查60户 返乡1人")
    assert len(first) == 1
    assert "还缺：居家观察、发热、消毒" in first[0]
    assert await day_figures(chat, "五星村") == {"households_visited": 60, "returnees": 1}

    second = await head.says("居家观察3人 发热0人 消毒2次")
    assert "✅ 已收到五星村2月17日日报" in second[0]
    assert await day_figures(chat, "五星村") == {
        "households_visited": 60, "returnees": 1, "under_observation": 3, "fever": 0, "disinfections": 2,
    }


async def test_one_missing_field_completes_an_open_report_without_a_trigger(chat: Chat) -> None:
    head = chat.person("红星村", "head")
    await head.says("日报 排查60户 返乡1人 居家观察3人 消毒2次")
    replies = await head.says("发热0人")
    assert "✅ 已收到红星村" in replies[0]
    assert (await day_figures(chat, "红星村"))["fever"] == 0


async def test_a_single_field_from_a_head_with_no_open_report_is_chat(chat: Chat) -> None:
    assert await chat.person("红星村", "head").says("今天消毒2次") == []


async def test_a_value_out_of_range_is_named_with_its_range_and_not_stored(chat: Chat) -> None:
    replies = await chat.person("金山村", "head").says("日报 排查90户 返乡2人 居家观察3人 发热0人 消毒200次")
    assert "消毒 200 不在 0–20 之间" in replies[0]
    assert "还缺：消毒" in replies[0]
    assert "disinfections" not in await day_figures(chat, "金山村")


async def test_a_correction_shows_old_and_new_and_changes_only_that_field(chat: Chat) -> None:
    head = chat.person("五星村", "head")
    await head.says(FULL)
    replies = await head.says("更正：今日居家观察应为13人")
    assert "居家观察：12 → 13" in replies[0]
    figures = await day_figures(chat, "五星村")
    assert figures["under_observation"] == 13 and figures["households_visited"] == 120


async def test_a_second_full_report_replaces_the_figures_and_says_so(chat: Chat) -> None:
    head = chat.person("五星村", "head")
    await head.says("日报 入户排查120户，返乡3人，居家观察12人，发热0人，消毒2次，宣传牌3处")
    replies = await head.says("日报 入户排查130户，返乡4人，居家观察12人，发热0人，消毒3次")
    assert "替换" in replies[0]
    figures = await day_figures(chat, "五星村")
    assert figures == {"households_visited": 130, "returnees": 4, "under_observation": 12, "fever": 0, "disinfections": 3}


async def test_a_report_after_the_deadline_is_stored_and_marked_late(chat: Chat, clock: ManualClock) -> None:
    clock.set(dt.datetime(2020, 2, 17, 18, 30, tzinfo=SHANGHAI))
    replies = await chat.person("新华村", "head").says(FULL)
    assert "迟报" in replies[0]
    async with chat.app.database.transaction() as store:
        report = await store.reports.day("新华村", DAY, chat.app.town.required)
    assert report.complete and report.late


async def test_the_day_is_the_towns_day_not_utc(chat: Chat, clock: ManualClock) -> None:
    # 00:30 in Shanghai on the 18th is still the 17th in UTC: the report belongs to the 18th.
    clock.set(dt.datetime(2020, 2, 18, 0, 30, tzinfo=SHANGHAI))
    replies = await chat.person("新华村", "head").says(FULL)
    assert "2月18日" in replies[0]
    async with chat.app.database.transaction() as store:
        assert (await store.reports.day("新华村", dt.date(2020, 2, 18), chat.app.town.required)).complete
        assert not (await store.reports.revisions("新华村", DAY))


async def test_a_report_for_another_village_from_a_head_is_refused(chat: Chat) -> None:
    replies = await chat.person("五星村", "head").says("王岘村日报：排查200户，返乡5人，居家观察20人，发热0人，消毒2次")
    assert "不是王岘村的报告人" in replies[0]
    assert await day_figures(chat, "王岘村") == {}


async def test_a_report_for_another_village_from_an_admin_is_stored(chat: Chat) -> None:
    admin = chat.person("leaders", "admin")
    replies = await admin.says("王岘村日报：排查200户，返乡5人，居家观察20人，发热0人，消毒2次")
    assert "王岘村" in replies[0]
    assert (await day_figures(chat, "王岘村"))["households_visited"] == 200


async def test_a_resident_who_types_a_report_is_told_how_to_become_a_reporter(chat: Chat) -> None:
    replies = await chat.person("五星村", "resident").says(FULL)
    assert "还没有登记为村里的报告人" in replies[0]
    assert await day_figures(chat, "五星村") == {}


async def test_a_report_in_an_unbound_group_without_a_village_name_asks_for_one(chat: Chat) -> None:
    head = chat.in_group("console:somewhere", "console:五星村村干部")
    replies = await head.says("/report 排查101户 返乡1人 居家观察2人 发热0人 消毒2次")
    assert "还没有绑定到村" in replies[0]


async def test_a_message_delivered_twice_is_stored_once_and_answered_once(chat: Chat) -> None:
    head = chat.person("五星村", "head")
    first = await head.says(FULL, message_id="dup-1")
    again = await head.says(FULL, message_id="dup-1")
    assert len(first) == 1 and again == []
    async with chat.app.database.transaction() as store:
        assert len(await store.reports.revisions("五星村", DAY)) == 1


async def test_help_shows_the_template_with_a_filled_in_example_that_parses(chat: Chat) -> None:
    replies = await chat.person("五星村", "resident").says("帮助")
    assert "入户排查：X户" in replies[0]
    example = next(line for line in replies[0].splitlines() if line.startswith("例："))[2:]
    parsed = chat.app.dispatcher.parser.parse(example, __import__("handlers.parsing").parsing.MessageContext("五星村"))
    assert parsed.kind == "daily_report" and parsed.to_json()["missing"] == []


async def test_progress_names_who_has_reported_and_who_has_not(chat: Chat) -> None:
    await chat.person("五星村", "head").says(FULL)
    await chat.person("王岘村", "head").says("日报 排查60户 返乡1人")
    replies = await chat.person("leaders", "admin").says("今日进度")
    assert "应报 8，实报 1，未报 7" in replies[0]
    assert "已报：五星村" in replies[0]
    assert "未报全：王岘村" in replies[0]
    assert "雒家滩村" in replies[0].split("未报：")[1]


async def test_a_report_for_yesterday_is_stored_for_yesterday_marked_late_and_the_reply_names_the_day(
    chat: Chat,
) -> None:
    [reply] = await chat.person("五星村", "head").says("昨天" + FULL)
    assert "已收到五星村2月16日日报" in reply and "迟报" in reply
    async with chat.app.database.transaction() as store:
        yesterday = await store.reports.day("五星村", dt.date(2020, 2, 16), chat.app.town.required)
        today = await store.reports.day("五星村", dt.date(2020, 2, 17), chat.app.town.required)
    assert yesterday.complete and yesterday.late and yesterday.fields["households_visited"] == 120
    assert today.revisions == 0
