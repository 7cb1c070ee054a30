"""Checkpoints, donations, inspections, notices and bindings, read as chats."""

from __future__ import annotations

import datetime as dt

from chat_harness import Chat
from sqlalchemy import select

from handlers.town_report import TownReport, build_town_report
from storage.models import CheckpointEntry, Donation, InspectionItem, Notice

LEADERS = "console:leaders"
CHECKPOINT = "109国道雒家滩卡点"


async def test_a_checkpoint_registration_is_confirmed_and_stored(chat: Chat) -> None:
    staff = chat.person(CHECKPOINT, "checkpoint")
    replies = await staff.says("登记 甘D12345 3人 体温36.5 36.8 36.6 来自兰州 去五星村")
    assert "甘D12345" in replies[0] and "3人" in replies[0]
    assert chat.sent_to(LEADERS) == []  # nothing alarming: the leaders are not disturbed
    async with chat.app.database.session() as session:
        entry = (await session.scalars(select(CheckpointEntry))).one()
    assert (entry.checkpoint, entry.plate, entry.persons, entry.temperatures) == (
        CHECKPOINT, "甘D12345", 3, [36.5, 36.8, 36.6],
    )
    assert (entry.origin, entry.destination, entry.fever) == ("兰州", "五星村", False)


async def test_a_fever_at_a_checkpoint_alerts_the_leaders_at_once_with_every_detail(chat: Chat) -> None:
    staff = chat.person(CHECKPOINT, "checkpoint")
    replies = await staff.says("登记 甘D66A88 1人 37.3℃ 来自白银 去柳树村")
    assert "已同时报告镇领导群" in replies[0]
    [alert] = chat.sent_to(LEADERS)
    for detail in ("发热", "甘D66A88", "37.3", "白银", "柳树村", CHECKPOINT, "人数：1"):
        assert detail in alert


async def test_a_key_area_origin_alerts_the_leaders_even_without_fever(chat: Chat) -> None:
    await chat.person(CHECKPOINT, "checkpoint").says("登记 鄂A·88K21 2人 36.5/36.6 武汉返回 到王岘村")
    [alert] = chat.sent_to(LEADERS)
    assert "来自重点地区" in alert and "武汉" in alert and "鄂A88K21" in alert


async def test_a_resident_cannot_register_at_a_checkpoint(chat: Chat) -> None:
    replies = await chat.person("五星村", "resident").says("登记 甘D12345 3人 36.5 来自兰州")
    assert "只有卡点值班人员" in replies[0]
    async with chat.app.database.session() as session:
        assert (await session.scalars(select(CheckpointEntry))).all() == []


async def test_donations_are_confirmed_with_running_totals(chat: Chat) -> None:
    admin = chat.person("leaders", "admin")
    first = await admin.says("捐赠 魏烈权 捐款500元")
    assert "魏烈权 500元" in first[0] and "共收到1位爱心人士的捐赠，捐赠金额500元。" in first[0]
    second = await admin.says("捐赠：白银某商贸公司 口罩700个、方便面21箱、矿泉水12箱")
    assert "白银某商贸公司（单位）" in second[0]
    assert "共收到1家爱心企业和1位爱心人士的捐赠，捐赠金额500元，捐赠物资口罩700个、方便面21箱、矿泉水12箱" in second[0]
    third = await admin.says("捐赠 爱心人士(匿名) 1.2万元")
    assert "共收到1家爱心企业和2位爱心人士的捐赠，捐赠金额12,500元" in third[0]
    fourth = await admin.says("捐赠 单位 红星小卖 口罩100个")
    assert "红星小卖（单位）" in fourth[0]
    assert "共收到2家爱心企业和2位爱心人士的捐赠，捐赠金额12,500元，捐赠物资口罩800个、方便面21箱" in fourth[0]


async def _town_report(chat: Chat) -> TownReport:
    async with chat.app.database.transaction() as store:
        return await build_town_report(store, chat.app.town, chat.app.town.today())


async def test_the_bulletin_counts_companies_and_people_apart_and_money_apart_from_goods(chat: Chat) -> None:
    """The town's own words: 已收到多家爱心企业和257位爱心人士的捐赠，捐赠金额74789元，捐赠医用一次性口罩700个."""
    admin = chat.person("leaders", "admin")
    for text in ("捐赠 张三 200元", "捐赠 李四 300元", "捐赠 张三 100元", "捐赠 兰州某药店 口罩700个", "捐赠 王五(单位) 1000元"):
        await admin.says(text)
    report = await _town_report(chat)
    assert report.donations_cumulative["organisations"] == 2
    assert report.donations_cumulative["people"] == 2  # 张三 gave twice: one person
    assert report.donations_cumulative["money_yuan"] == 1600
    assert "共收到2家爱心企业和2位爱心人士的捐赠，捐赠金额1600元，捐赠物资口罩700个。" in report.bulletin


async def test_before_any_donation_the_bulletin_says_none_came(chat: Chat) -> None:
    report = await _town_report(chat)
    assert "尚未收到捐赠" in report.bulletin and "0位" not in report.bulletin


async def test_a_donation_from_a_head_is_refused_and_not_stored(chat: Chat) -> None:
    replies = await chat.person("五星村", "head").says("捐款 五星村村民张某某 二百元")
    assert "镇防控办" in replies[0]
    async with chat.app.database.session() as session:
        assert (await session.scalars(select(Donation))).all() == []


async def test_an_inspection_opens_item_n_in_the_leaders_chat_and_the_village_closes_it(chat: Chat) -> None:
    admin = chat.person("leaders", "admin")
    opened = await admin.says("督查 五星村 垃圾台未及时清运，要求今日整改")
    assert "督查问题 #1" in opened[0] and "垃圾台未及时清运" in opened[0]
    assert any("#1" in text for text in chat.sent_to("console:五星村"))

    closed = await chat.person("五星村", "head").says("整改完成 #1")
    assert "#1" in closed[0] and "已整改完成" in closed[0]
    assert any("已整改完成" in text for text in chat.sent_to(LEADERS))
    async with chat.app.database.session() as session:
        item = (await session.scalars(select(InspectionItem))).one()
    assert item.rectified_by == "console:五星村村干部" and item.rectified_at is not None

    again = await chat.person("五星村", "head").says("整改完成 #1")
    assert "已经整改完成" in again[0]


async def test_another_villages_head_cannot_close_an_item(chat: Chat) -> None:
    await chat.person("leaders", "admin").says("督查：五星村 值班人员未测体温即放行")
    replies = await chat.person("红星村", "head").says("整改完成 #1")
    assert "需由所在村的村干部" in replies[0]
    missing = await chat.person("红星村", "head").says("整改完成 #99")
    assert "没有找到督查问题 #99" in missing[0]


async def test_an_admins_notice_reaches_every_village_group(chat: Chat) -> None:
    replies = await chat.person("leaders", "admin").says("通知：即日起各村严禁举办聚餐、婚宴，请各村广泛宣传。")
    assert "已发往 8 个群" in replies[0]
    for village in chat.app.config.villages:
        [notice] = chat.sent_to(village.chats[0])
        assert "即日起各村严禁举办聚餐、婚宴，请各村广泛宣传。" in notice
    async with chat.app.database.session() as session:
        notice_row = (await session.scalars(select(Notice))).one()
        assert len(notice_row.deliveries) == 8


async def test_a_notice_to_named_villages_goes_only_there(chat: Chat) -> None:
    await chat.person("leaders", "admin").says("通知@五星村@王岘村：下午三点开会")
    assert len(chat.sent_to("console:五星村")) == 1 and len(chat.sent_to("console:王岘村")) == 1
    assert chat.sent_to("console:红星村") == []


async def test_a_notice_naming_an_unknown_village_is_refused_before_anything_is_sent(chat: Chat) -> None:
    replies = await chat.person("leaders", "admin").says("通知@五星村@石头村：下午三点开会")
    assert "石头村" in replies[0] and "五星村、王岘村" in replies[0]
    assert chat.sent_to("console:五星村") == []


async def test_the_same_notice_from_a_head_reaches_no_one(chat: Chat) -> None:
    head = chat.person("五星村", "head")
    assert await head.says("通知：今晚八点村委会开会") == []  # a head telling the village: chat
    refused = await head.says("/broadcast 出门请佩戴口罩")
    assert "只有镇防控办" in refused[0]
    assert all(m.chat == "console:五星村" for m in chat.platform.sent)
    assert len(chat.platform.sent) == 1


async def test_bind_by_an_admin_makes_a_new_group_count_for_the_village(chat: Chat) -> None:
    new_group = "console:雒家滩村二群"
    admin = chat.in_group(new_group, "console:town_office")
    replies = await admin.says("/bind 雒家滩村")
    assert "雒家滩村" in replies[0]
    head = chat.in_group(new_group, "console:雒家滩村村干部")
    confirm = await head.says("日报 排查88户 返乡4人 居家观察14人 发热0 消毒2次")
    assert "雒家滩村" in confirm[0]
    async with chat.app.database.transaction() as store:
        assert (await store.bindings.get(new_group)) is not None


async def test_bind_survives_a_restart(chat: Chat) -> None:
    await chat.in_group("console:新群", "console:town_office").says("绑定 红星")
    from bot.app import App

    again = await App.start(chat.app.config, clock=chat.app.town.clock, platforms={"console": chat.platform},
                            database=chat.app.database)
    async with again.database.transaction() as store:
        target = await again.town.directory.chat_target(store, "console:新群")
    assert (target.kind, target.village) == ("village", "红星村")


async def test_bind_by_someone_else_is_refused_and_changes_nothing(chat: Chat) -> None:
    replies = await chat.in_group("console:新群", "console:somebody").says("/bind 五星村")
    assert "只有镇防控办" in replies[0]
    async with chat.app.database.transaction() as store:
        assert await store.bindings.get("console:新群") is None


async def test_an_admin_appoints_a_head_who_can_then_report(chat: Chat) -> None:
    newcomer = chat.in_group("console:五星村", "console:new-head")
    before = await newcomer.says("日报 排查60户 返乡1人 居家观察3人 发热0 消毒2次")
    assert "还没有登记" in before[0]
    admin = chat.in_group("console:五星村", "console:town_office")
    await admin.says("设置村长 五星村", mentioned=("console:new-head",))
    after = await newcomer.says("日报 排查60户 返乡1人 居家观察3人 发热0 消毒2次")
    assert "✅ 已收到五星村" in after[0]


async def test_a_failed_send_is_retried_and_then_delivered(chat: Chat) -> None:
    from handlers.transport import DeliveryError

    chat.platform.failures.append(DeliveryError("network down"))
    replies = await chat.person("五星村", "resident").says("帮助")
    assert replies == []  # the first try failed; the row waits for its retry
    chat.app.town.clock.advance(dt.timedelta(seconds=5))  # type: ignore[attr-defined]
    await chat.app.drain()
    assert len(chat.sent_to("console:五星村")) == 1
