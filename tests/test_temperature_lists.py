"""体温接龙: read from what people post, stored and alerted once per new line, silent otherwise."""

from __future__ import annotations

import pytest
from chat_harness import Chat
from parsing_support import PARSER

from handlers.parsing import MessageContext, Role

TITLE = "#接龙 2月17日五星村体温\n例 张三 36.5\n"
FIRST = TITLE + "1. 王建军 36.5"
SECOND = FIRST + "\n2. 欧阳娜娜 37.8℃"
THIRD = SECOND + "\n3. 李秀英 36,6"


def parse(text: str, role: Role = "resident") -> dict[str, object]:
    return PARSER.parse(text, MessageContext("五星村", role)).to_json()


def test_a_list_gives_its_entries_and_who_has_a_fever() -> None:
    result = parse(THIRD)
    assert result["kind"] == "temperature_list"
    assert result["fields"] == {
        "entries": [
            {"name": "王建军", "temperatures": [36.5]},
            {"name": "欧阳娜娜", "temperatures": [37.8]},
            {"name": "李秀英", "temperatures": [36.6]},
        ],
        "fever": True,
        "fever_names": ["欧阳娜娜"],
    }


@pytest.mark.parametrize(
    ("text", "entries"),
    [
        ("接龙\n1. 王建军 36.5 36.8", [{"name": "王建军", "temperatures": [36.5, 36.8]}]),
        ("五星村居家人员体温\n1、王建军36点5\n2．李四 三十六度五", [{"name": "王建军", "temperatures": [36.5]},
                                                      {"name": "李四", "temperatures": [36.5]}]),
        ("體溫接龍\n1. 王建軍 97.7°F", [{"name": "王建军", "temperatures": [36.5]}]),
    ],
)
def test_the_ways_a_list_is_written(text: str, entries: list[dict[str, object]]) -> None:
    result = parse(text)
    assert result["kind"] == "temperature_list"
    assert result["fields"]["entries"] == entries  # type: ignore[index]


@pytest.mark.parametrize(
    "text",
    [
        "接龙 买菜\n1. 王建军 白菜2斤\n2. 李四 土豆5斤",
        "接龙 捐款\n1. 王建军 200元\n2. 李四 100元",
        "接龙\n1. 王建军 收到\n2. 李四 收到",
        "#接龙 体温\n例 张三 36.5",
        "1. 王建军 36.5\n2. 李四 36.6",
    ],
)
def test_a_list_of_anything_else_is_chat(text: str) -> None:
    assert parse(text)["kind"] == "none"


def test_a_numbered_daily_report_is_still_a_report() -> None:
    text = "五星村日报\n1. 入户排查120户\n2. 返乡3人\n3. 居家观察12人\n4. 发热0人\n5. 消毒2次"
    assert parse(text, "head")["kind"] == "daily_report"



async def test_a_growing_list_alerts_once_for_its_new_fever_and_is_silent_otherwise(keyed: Chat) -> None:
    resident = keyed.person("五星村", "resident")
    assert await resident.says(FIRST) == []
    [reply] = await resident.says(SECOND)
    assert "第2条" in reply and "欧***" in reply and "37.8" in reply and "欧阳娜娜" not in reply
    assert await resident.says(THIRD) == []  # reposted with a normal line added: nothing new to say
    assert await resident.says(THIRD) == []
    [alert] = keyed.sent_to("console:leaders")
    assert "五星村" in alert and "第2条" in alert and "37.8" in alert and "欧***" in alert
    assert "欧阳娜娜" not in alert


async def test_readings_are_stored_for_registered_people_of_the_village(keyed: Chat) -> None:
    head = keyed.person("五星村", "head")
    await head.says("返乡登记 王建军 13912345678 62040219900101123X 武汉 2月10日返回")
    await keyed.person("五星村", "resident").says(FIRST)
    await keyed.person("五星村", "resident").says(SECOND)
    async with keyed.app.database.transaction() as store:
        [check] = await store.people.temperatures(1)
    assert check.celsius == 36.5
    assert "第 2 次" in (await head.says("王建军 36.6"))[0]


async def test_a_list_outside_a_village_group_is_chat(keyed: Chat) -> None:
    assert await keyed.person("leaders", "admin").says(SECOND) == []
    assert keyed.sent_to("console:leaders") == []


async def test_the_same_list_in_another_village_is_its_own(keyed: Chat) -> None:
    await keyed.person("五星村", "resident").says(SECOND)
    [reply] = await keyed.person("红星村", "resident").says(SECOND)
    assert "第2条" in reply
    assert len(keyed.sent_to("console:leaders")) == 2
