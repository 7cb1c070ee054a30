"""The temperature command (张三 36.5, #3 36.5) is for registered people only; the rest is the parser's."""

from __future__ import annotations

import pytest
from chat_harness import Chat

from handlers import texts

REGISTER = "返乡登记 欧阳娜娜 13912345678 62040219900101123X 武汉 2月10日返回"
APOLOGY = texts.internal_error()



async def test_a_name_glued_to_its_reading_is_recorded(keyed: Chat) -> None:
    head = keyed.person("五星村", "head")
    await head.says(REGISTER)
    assert "已记录 #1 欧*** 体温 36.5℃" in (await head.says("欧阳娜娜36.5"))[0]
    assert "第 2 次" in (await head.says("欧阳娜娜体温:36.6℃"))[0]


@pytest.mark.parametrize("text", ["张三36.5", "#136.7", "#99 36.5", "#99999999999999999999 36.5", "入户排查40"])
async def test_what_is_no_registered_person_gets_no_apology_from_a_head(keyed: Chat, text: str) -> None:
    head = keyed.person("五星村", "head")
    await head.says(REGISTER)
    assert APOLOGY not in await head.says(text)


@pytest.mark.parametrize("text", ["大家好36", "今天降温了36", "#1 36.6", "欧阳娜娜 36.5"])
async def test_a_resident_is_chat(keyed: Chat, text: str) -> None:
    await keyed.person("五星村", "head").says(REGISTER)
    assert await keyed.person("五星村", "resident").says(text) == []


async def test_a_report_figure_that_looks_like_a_reading_goes_to_the_report(chat: Chat) -> None:
    head = chat.person("五星村", "head")
    [asked] = await head.says("日报 入户排查120户，返乡3人，发热0人，消毒2次")
    assert "居家观察" in asked
    [done] = await head.says("居家观察 38")
    assert "38" in done and APOLOGY not in done


async def test_a_number_too_big_for_any_row_is_not_found(chat: Chat) -> None:
    head, admin = chat.person("五星村", "head"), chat.person("leaders", "admin")
    assert "没有找到" in (await head.says("解除观察 #3000000000"))[0]
    assert APOLOGY not in await admin.says("取消定时通知 3000000000")
    assert APOLOGY not in await admin.says("整改完成 #3000000000")
