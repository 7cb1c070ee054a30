"""The clock: a whole day with a controlled clock, restarts at awkward times, exactly once, notices."""

from __future__ import annotations

import datetime as dt

import pytest
from chat_harness import Chat
from conftest import SHANGHAI

from handlers.clock import ManualClock
from handlers.town import Town
from scheduler import jobs
from townconfig import parse_config

DAY = dt.date(2020, 2, 17)
FULL = "日报 入户排查120户，返乡3人，居家观察12人，发热0人，消毒2次"
LEADERS = "console:leaders"


def at(hour: int, minute: int = 0, day: dt.date = DAY) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour, minute), tzinfo=SHANGHAI)


async def run_at(chat: Chat, clock: ManualClock, when: dt.datetime, job: str) -> int:
    clock.set(when)
    function = {"remind": jobs.send_reminders, "chase": jobs.send_chase, "deadline": jobs.send_deadline_summary}[job]
    sent = await function(chat.app.town, chat.app.database, when)
    await chat.app.drain()
    return sent


async def test_a_whole_day_two_on_time_one_late_one_silent(chat: Chat, clock: ManualClock) -> None:
    town = chat.app.town
    villages = town.directory.village_names
    assert await run_at(chat, clock, at(8), "remind") == len(villages)
    for village in villages:
        [reminder] = chat.sent_to(f"console:{village}")
        assert village in reminder and "17:00" in reminder and "入户排查：X户" in reminder

    clock.set(at(9, 30))
    await chat.person("五星村", "head").says(FULL)
    await chat.person("王岘村", "head").says(FULL)
    await chat.person("红星村", "head").says("日报 入户排查60户 返乡1人")

    chased = await run_at(chat, clock, at(15), "chase")
    assert chased == len(villages) - 2 + 1  # every village still out, and the leaders
    assert len(chat.sent_to("console:五星村")) == 2  # reminder and confirmation: no chase
    hongxing_chase = chat.sent_to("console:红星村")[-1]
    assert "还缺：居家观察、发热、消毒" in hongxing_chase
    chase_row = next(m for m in chat.platform.sent if m.chat == "console:红星村" and m.purpose == "chase")
    assert chase_row.mentions == ("console:红星村村干部",)
    assert "还没有报送" in chat.sent_to("console:新华村")[-1]
    [leaders_chase] = chat.sent_to(LEADERS)
    assert "未报全：红星村" in leaders_chase and "新华村" in leaders_chase and "五星村" not in leaders_chase

    clock.set(at(16, 10))
    await chat.person("红星村", "head").says("居家观察3人 发热0人 消毒2次")  # complete before the deadline

    await run_at(chat, clock, at(17), "deadline")
    summary = next(t for t in reversed(chat.sent_to(LEADERS)) if t.startswith("🗓"))  # the pictures come after it
    assert "应报 8 个，实报 3 个，未报 5 个" in summary
    assert "新华村" in summary.split("未报：")[1].splitlines()[0]
    assert "本月未按时报送 1 天，已连续 1 天" in summary

    clock.set(at(18, 5))
    late = await chat.person("新华村", "head").says(FULL)
    assert "迟报" in late[0]
    async with chat.app.database.transaction() as store:
        report = await store.reports.day("新华村", DAY, town.required)
        accountability = await store.missed_reports.accountability(DAY, villages)
    assert report.complete and report.late
    missed = {a.village for a in accountability if a.missed_this_month}
    assert missed == {"雒家滩村", "新华村", "金山村", "柳树村", "东风社区"}


async def test_accountability_counts_the_month_and_the_streak(chat: Chat, clock: ManualClock) -> None:
    for day in (dt.date(2020, 2, 14), dt.date(2020, 2, 16), DAY):
        await run_at(chat, clock, at(17, day=day), "deadline")
    await chat.person("五星村", "head").says(FULL, at=at(9, day=dt.date(2020, 2, 15)))
    await run_at(chat, clock, at(17, day=dt.date(2020, 2, 15)), "deadline")
    async with chat.app.database.transaction() as store:
        records = {a.village: a for a in await store.missed_reports.accountability(DAY, ["五星村", "王岘村"])}
    assert (records["五星村"].missed_this_month, records["五星村"].in_a_row) == (3, 2)
    assert (records["王岘村"].missed_this_month, records["王岘村"].in_a_row) == (4, 4)


@pytest.mark.parametrize(
    ("hour", "minute", "expected"),
    [
        (7, 59, {}),
        (8, 1, {"remind": 8}),
        (15, 30, {"chase": 9}),
        (17, 30, {"deadline": 1}),
        (23, 0, {"deadline": 1}),
    ],
)
async def test_a_restart_catches_up_what_today_still_needs(
    chat: Chat, clock: ManualClock, hour: int, minute: int, expected: dict[str, int]
) -> None:
    now = at(hour, minute)
    done = await jobs.catch_up(chat.app.town, chat.app.database, now)
    assert {k: v for k, v in done.items() if v} == expected
    again = await jobs.catch_up(chat.app.town, chat.app.database, now + dt.timedelta(seconds=30))
    assert not any(again.values()), "a second start the same day sends nothing again"


async def test_a_restart_after_the_reminder_went_does_not_remind_again(chat: Chat, clock: ManualClock) -> None:
    await run_at(chat, clock, at(8), "remind")
    done = await jobs.catch_up(chat.app.town, chat.app.database, at(8, 20))
    assert done["remind"] == 0
    assert all(len(chat.sent_to(f"console:{v}")) == 1 for v in chat.app.town.directory.village_names)


async def test_a_config_change_of_the_times_sends_nothing_twice(chat: Chat, clock: ManualClock) -> None:
    await run_at(chat, clock, at(8), "remind")
    text = chat.app.config.model_dump(by_alias=True, exclude={"source"})
    text["schedule"] = {"remind": "09:00", "chase": "14:00", "deadline": "16:00"}
    moved = Town.build(type(chat.app.config).model_validate(text), clock)
    done = await jobs.catch_up(moved, chat.app.database, at(9, 10))
    assert done["remind"] == 0
    await chat.app.drain()
    assert all(len(chat.sent_to(f"console:{v}")) == 1 for v in moved.directory.village_names)


async def test_two_reminder_runs_at_once_send_one_reminder_per_group(chat: Chat, clock: ManualClock) -> None:
    import asyncio

    town, database = chat.app.town, chat.app.database
    results = await asyncio.gather(
        jobs.send_reminders(town, database, at(8)), jobs.send_reminders(town, database, at(8)),
        return_exceptions=True,
    )
    sent = sum(r for r in results if isinstance(r, int))
    assert sent == len(town.directory.village_names)
    await chat.app.drain()
    assert all(len(chat.sent_to(f"console:{v}")) == 1 for v in town.directory.village_names)


async def test_the_day_is_the_towns_day(chat: Chat, clock: ManualClock) -> None:
    # 01:00 UTC on the 17th is 09:00 in Shanghai: the reminder for the 17th is due, not the 16th's summary.
    utc_moment = dt.datetime(2020, 2, 17, 1, 0, tzinfo=dt.UTC)
    done = await jobs.catch_up(chat.app.town, chat.app.database, utc_moment)
    assert done["remind"] == 8 and "deadline" not in done
    async with chat.app.database.transaction() as store:
        assert {s.day for s in await store.scheduled_sends.on_day(DAY)} == {DAY}


async def test_an_admin_schedules_lists_and_cancels_notices(chat: Chat, clock: ManualClock) -> None:
    admin = chat.person("leaders", "admin")
    confirm = await admin.says("定时通知 明天08:00 请各村于上午九点前完成消杀。")
    assert "定时通知 #1" in confirm[0] and "02月18日 08:00" in confirm[0]
    await admin.says("定时通知 2月18日 10:30 第二条")
    listed = await admin.says("定时通知列表")
    assert "#1" in listed[0] and "#2" in listed[0]
    assert "已取消定时通知 #2" in (await admin.says("取消定时通知 #2"))[0]
    assert "#2" not in (await admin.says("/schedules"))[0]
    assert "用法" in (await admin.says("定时通知 昨天 内容"))[0]
    assert "镇防控办" in (await chat.person("五星村", "head").says("定时通知 明天08:00 内容"))[0]

    assert await jobs.send_due_scheduled_notices(chat.app.town, chat.app.database, at(7, 59, DAY + dt.timedelta(1))) == 0
    clock.set(at(8, 0, DAY + dt.timedelta(1)))
    sent = await jobs.send_due_scheduled_notices(chat.app.town, chat.app.database, clock.now())
    assert sent == 8
    await chat.app.drain()
    assert chat.sent_to("console:五星村")[-1].endswith("请各村于上午九点前完成消杀。")
    assert any("定时通知 #1 已发出，共 8 个群" in text for text in chat.sent_to(LEADERS))
    assert "已送达 8/8 个群" in chat.sent_to(LEADERS)[-1]  # the delivery report, once all eight arrived
    assert await jobs.send_due_scheduled_notices(chat.app.town, chat.app.database, at(9, 0, DAY + dt.timedelta(1))) == 0


async def test_config_notices_repeat_daily_once_a_day(database, clock: ManualClock) -> None:  # type: ignore[no-untyped-def]
    from chat_harness import FakePlatform

    from bot.app import App
    from townconfig import example_town_text

    config = parse_config(
        example_town_text() + '\n[[notice]]\nat = "09:00"\ntext = "每日提醒：出门戴口罩"\nvillages = ["五星村"]\n',
        "town.toml",
    )
    platform = FakePlatform()
    app = await App.start(config, clock=clock, platforms={"console": platform}, database=database)
    assert await jobs.send_config_notices(app.town, database, at(8, 59)) == 0
    assert await jobs.send_config_notices(app.town, database, at(9, 0)) == 1
    assert await jobs.send_config_notices(app.town, database, at(9, 30)) == 0
    assert await jobs.send_config_notices(app.town, database, at(9, 0, DAY + dt.timedelta(1))) == 1
    clock.set(at(9, 0, DAY + dt.timedelta(1)))
    await app.drain()
    assert platform.texts_in("console:五星村") == ["📢【王岘镇通知】\n每日提醒：出门戴口罩"] * 2
    assert platform.texts_in("console:王岘村") == []


async def test_a_scheduled_notice_to_only_unreachable_villages_gets_only_the_delivery_report(
    chat: Chat, clock: ManualClock
) -> None:
    town = chat.app.town
    async with chat.app.database.transaction() as store:
        for village in town.directory.village_names:
            await store.bindings.bind(f"console:{village}", "village", village, "console:bot", town.clock.now())
            await store.bindings.mark_unreachable(f"console:{village}")
    await chat.person("leaders", "admin").says("定时通知 明天08:00 请各村于上午九点前完成消杀。")
    before = len(chat.sent_to(LEADERS))
    clock.set(clock.now() + dt.timedelta(days=2))
    assert await jobs.send_due_scheduled_notices(town, chat.app.database, clock.now()) == 0
    await chat.app.drain()
    told = chat.sent_to(LEADERS)[before:]
    assert len(told) == 1 and "已送达 0/8 个群" in told[0]


async def test_the_deadline_job_builds_the_report_once(
    chat: Chat, clock: ManualClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Who is out comes from the day's reports; the summary, with today's accountability, is built once."""
    built: list[dt.date] = []
    build = jobs.build_town_report

    async def counted(store: object, town: Town, day: dt.date) -> object:
        built.append(day)
        return await build(store, town, day)  # type: ignore[arg-type]

    monkeypatch.setattr(jobs, "build_town_report", counted)
    clock.set(at(9, 30))
    await chat.person("五星村", "head").says(FULL)
    await chat.person("红星村", "head").says("日报 入户排查60户 返乡1人")
    await run_at(chat, clock, at(17), "deadline")
    assert built == [DAY]
    summary = next(t for t in reversed(chat.sent_to(LEADERS)) if t.startswith("🗓"))  # the pictures come after it
    assert "实报 1 个" in summary and "本月未按时报送 1 天" in summary  # today's record is in it
    async with chat.app.database.transaction() as store:
        records = {a.village: a for a in await store.missed_reports.accountability(DAY, ["五星村", "红星村"])}
    assert not records["五星村"].missed_this_month and records["红星村"].missed_this_month == 1
