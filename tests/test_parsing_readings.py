"""Temperatures, plates, donation items and the 体温接龙, as people write them: a reading or a
plate that cannot be read for sure is a problem, never a normal reading or a walk-in."""

from __future__ import annotations

from typing import Any

import pytest
from parsing_support import parse, problem_fields

from handlers.parsing.temperature import read_temperatures


def checkin(text: str) -> dict[str, Any]:
    result = parse(text, village=None, role="checkpoint")
    assert result["kind"] == "checkpoint", result
    return result


@pytest.mark.parametrize("reading", [
    "36.5", "36,5", "36。5", "36点5", "36度5", "三十六度五", "三十六点五", "36.5度", "36.5℃", "36.5°C", "36.5 ℃",
    "３６．５", "体温:36.5",
])  # fmt: skip
def test_a_reading_however_written(reading: str) -> None:
    result = checkin(f"登记 甘D12345 1人 体温{reading} 来自兰州")
    assert result["fields"]["temperatures"] == [36.5]
    assert not problem_fields(result)


@pytest.mark.parametrize(("reading", "celsius"), [
    ("99.5°F", 37.5), ("华氏99.5度", 37.5), ("98.6℉", 37.0), ("华氏 100.4", 38.0),
])  # fmt: skip
def test_fahrenheit_is_converted(reading: str, celsius: float) -> None:
    assert checkin(f"登记 甘D12345 1人 体温{reading}")["fields"]["temperatures"] == [celsius]


def test_several_readings_in_order() -> None:
    fields = checkin("登记 步行2人 体温三十六度八 三十七度五 来自白银 去五星村")["fields"]
    assert fields["temperatures"] == [36.8, 37.5]
    assert fields["fever"] is True


@pytest.mark.parametrize("reading", ["体温 3", "体温365", "体温47.2℃", "体温3.6.5", "测温 30", "复测 12度", "体温 33.9"])
def test_an_unreadable_reading_is_a_problem_and_never_normal(reading: str) -> None:
    result = checkin(f"登记 甘D55555 1人 {reading} 来自白银")
    assert "temperatures" in problem_fields(result)
    assert "temperatures" not in result["fields"]
    assert "fever" not in result["fields"]
    assert result["fields"]["plate"] == "甘D55555"


def test_a_bare_count_or_age_is_no_reading() -> None:
    result = checkin("登记 甘D12345 1人 体温36.5 40岁 来自兰州")
    assert result["fields"]["temperatures"] == [36.5] and not problem_fields(result)


def test_the_readings_reader_alone() -> None:
    assert read_temperatures("36,5、36.8/37度1").values == [36.5, 36.8, 37.1]
    assert read_temperatures("体温 3").unreadable


@pytest.mark.parametrize("plate", ["甘D1234", "甘D1234567", "鄂A 88", "京12345"])
def test_a_plate_like_token_that_is_no_plate_is_a_problem(plate: str) -> None:
    result = checkin(f"登记 {plate} 1人 36.5")
    assert "plate" in problem_fields(result)
    assert "plate" not in result["fields"]


@pytest.mark.parametrize("text", [
    "登记 步行1人 36.5 来自四川 13912345678", "登记 步行2人 来自新疆 36.5 36.6", "登记 甘D 12345 1人 36.5",
])  # fmt: skip
def test_no_plate_problem_for_what_is_no_plate(text: str) -> None:
    assert "plate" not in problem_fields(checkin(text))


@pytest.mark.parametrize("text", ["登记 体温 3", "登记 甘D1234"])
def test_a_problem_alone_is_still_a_registration_to_ask_about(text: str) -> None:
    assert problem_fields(checkin(text))


# --- donation items ----------------------------------------------------------------------------


def donation(text: str) -> dict[str, Any]:
    result = parse(text, village=None, role="admin")
    assert result["kind"] == "donation", result
    fields: dict[str, Any] = result["fields"]
    return fields


def items(text: str) -> list[tuple[str, int | float, str]]:
    return [(i["name"], i["quantity"], i["unit"]) for i in donation(text)["items"]]


@pytest.mark.parametrize(("text", "expected"), [
    ("捐赠 某药店 N95口罩200个 75%酒精20瓶", [("N95口罩", 200, "个"), ("75%酒精", 20, "瓶")]),
    ("捐赠 张三 84消毒液10桶", [("84消毒液", 10, "桶")]),
    ("捐赠 李四 4套防护服", [("防护服", 4, "套")]),
    ("捐赠 王五超市 牛奶、饼干各15箱", [("牛奶", 15, "箱"), ("饼干", 15, "箱")]),
    ("捐赠 县医院 口罩700个消毒液20瓶", [("口罩", 700, "个"), ("消毒液", 20, "瓶")]),
    ("捐赠 张三捐口罩100个", [("口罩", 100, "个")]),
    ("捐赠 爱心人士 方便面、矿泉水、火腿肠各10箱 口罩500个", [
        ("方便面", 10, "箱"), ("矿泉水", 10, "箱"), ("火腿肠", 10, "箱"), ("口罩", 500, "个"),
    ]),
])  # fmt: skip
def test_items_keep_their_names(text: str, expected: list[tuple[str, int, str]]) -> None:
    assert items(text) == expected


def test_money_only() -> None:
    fields = donation("捐款 魏烈权 500元")
    assert fields["amount_yuan"] == 500 and fields["items"] == []


@pytest.mark.parametrize("text", ["捐款在哪里捐？", "捐赠 张三", "捐款 请大家踊跃"])
def test_no_money_and_no_goods_is_chat(text: str) -> None:
    assert parse(text, village=None, role="admin")["kind"] == "none"


# --- 体温接龙 ----------------------------------------------------------------------------------


def test_a_temperature_list() -> None:
    result = parse("#接龙\n三组居家人员体温\n例 张三 36.5\n\n1. 李明 36.4\n2. 王芳 36.6\n3. 赵强 37.4", "红星村", "resident")
    assert result["kind"] == "temperature_list"
    assert result["village"] == "红星村"
    assert result["fields"]["entries"] == [
        {"name": "李明", "temperatures": [36.4]},
        {"name": "王芳", "temperatures": [36.6]},
        {"name": "赵强", "temperatures": [37.4]},
    ]
    assert result["fields"]["fever"] is True and result["fields"]["fever_names"] == ["赵强"]


@pytest.mark.parametrize("text", [
    "接龙\n1、李明 36.4 36.5\n2、王芳36,6", "#接龙 二组体温\n1. 李明 三十六度四\n2. 王芳 36.6℃\n3. 赵强",
])  # fmt: skip
def test_temperature_lists_however_written(text: str) -> None:
    result = parse(text, "红星村", "head")
    assert result["kind"] == "temperature_list"
    assert result["fields"]["entries"][0]["name"] == "李明"
    assert result["fields"]["fever"] is False


@pytest.mark.parametrize("text", [
    "#接龙\n周六团购西红柿 每份10元\n例 姓名 份数\n\n1. 李明 2份\n2. 王芳 1份",
    "#接龙\n收到请回复\n1. 李明 收到\n2. 王芳 收到",
    "#接龙\n1. 李明 36.4\n2. 王芳 3斤",
])  # fmt: skip
def test_a_list_of_anything_else_is_chat(text: str) -> None:
    assert parse(text, "红星村", "resident")["kind"] == "none"


def test_an_unreadable_reading_in_a_list_is_a_problem() -> None:
    result = parse("#接龙\n1. 李明 36.4\n2. 王芳 3", "红星村", "resident")
    assert result["kind"] == "temperature_list"
    assert "temperatures" in problem_fields(result)
