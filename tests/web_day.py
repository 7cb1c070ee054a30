"""A day in the example town, said through the real dispatcher, for the page's tests: villages that
reported, one incomplete, one late, four missing, one whose report disagrees with the registry, a
notice with a receipt, donations, an open inspection item, a fever at a checkpoint and a day before."""

from __future__ import annotations

import datetime as dt

from chat_harness import Chat
from conftest import SHANGHAI

from handlers.clock import ManualClock

DAY = dt.date(2020, 2, 17)
FULL = "日报 入户排查120户，返乡3人，居家观察12人，发热0人，消毒2次"
REGISTER = "返乡登记 欧阳娜娜 13912345678 62040219900101123X 武汉 2月10日返回"
REPORTED = ["五星村", "王岘村"]
INCOMPLETE = ["红星村"]
LATE = ["新华村"]
MISSING = ["雒家滩村", "金山村", "柳树村", "东风社区"]  # 雒家滩村 reported only the day before


async def seed_a_day(chat: Chat, clock: ManualClock) -> None:
    """Needs the `keyed` app (a data key): 五星村 registers one person and reports 12 under observation."""
    clock.set(dt.datetime(2020, 2, 17, 9, 0, tzinfo=SHANGHAI))
    wuxing = chat.person("五星村", "head")
    assert "登记" in (await wuxing.says(REGISTER))[0]
    assert "已收到五星村" in (await wuxing.says(FULL))[0]
    await chat.person("王岘村", "head").says("日报：排查200户，返乡5人，居家观察20人，发热0人，消毒2次，设立宣传牌3处")
    await chat.person("雒家滩村", "head").says("昨天日报 排查90户 返乡2人 居家观察3人 发热0人 消毒2次")
    await chat.person("王岘村", "head").says("昨天日报 排查150户 返乡4人 居家观察18人 发热1人 消毒2次")
    await chat.person("红星村", "head").says("日报 排查86户 返乡2人")
    admin = chat.person("leaders", "admin")
    await admin.says("通知：即日起各村严禁举办聚餐、婚宴，请各村广泛宣传。")
    await wuxing.says("收到")
    await admin.says("捐赠 魏烈权 捐款500元")
    await admin.says("捐赠：白银某商贸公司 口罩700个、方便面21箱")
    await admin.says("督查 五星村 垃圾台未及时清运")
    await chat.person("109国道雒家滩卡点", "checkpoint").says("登记 甘D66A88 2人 37.5℃ 36.4℃ 来自白银 去柳树村")
    clock.set(dt.datetime(2020, 2, 17, 18, 30, tzinfo=SHANGHAI))
    assert "迟报" in (await chat.person("新华村", "head").says(FULL.replace("120户", "66户")))[0]
