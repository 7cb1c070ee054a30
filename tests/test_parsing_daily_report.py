"""The daily report (日报): the shapes village heads type it in, and every path of the contract.

The contract is ../shared/spec/messages.md; the messages here are our own, not the corpus's.
"""

from __future__ import annotations

import pytest
from parsing_support import FULL_FIELDS, FULL_REPORT, REQUIRED, parse, problem_fields, warning_fields

# --- one complete report, many shapes ----------------------------------------------------------


def test_spec_example_is_read_exactly() -> None:
    assert parse(FULL_REPORT, village="五星村") == {
        "kind": "daily_report",
        "village": "五星村",
        "correction": False,
        "fields": FULL_FIELDS,
        "missing": [],
        "problems": [],
    }


# Every text below says: 排查 120 户, 返乡 3 人, 居家观察 12 人, 发热 0, 消毒 2 次.
SHAPES = {
    "commas": "日报 入户排查120户，返乡3人，居家观察12人，发热0人，消毒2次",
    "newlines and colons": "#日报\n入户排查：120户\n返乡人员：3人\n居家观察：12人\n发热：0人\n消毒：2次",
    "semicolons and spaces": "日报；排查 120 户；返乡 3 人；居家观察 12 人；发热 0 人；消毒 2 次。",
    "reversed order with 共/共计": "日报 消毒2次，发热0人，居家观察共12人，返乡人员共计3人，入户排查共计120户",
    "traditional": "日報：入戶排查120戶，返鄉人員3人，居家觀察12人，體溫異常0人，消毒2次",
    "full-width": "日报：入户排查１２０户，返乡人员３人，居家观察１２人，发热０人，消毒２次",
    "chinese numerals": "日报 排查一百二十户 返乡三人 居家观察十二人 发热零 消毒两次",
    "traditional numerals": "日報 排查壹佰貳拾戶 返鄉叁人 居家觀察拾貳人 發熱零人 消毒兩次",
    "名 and 遍 and 个": "日报 入户排查120户 返乡人员3名 居家观察12个 发烧0名 消毒2遍",
    "filler words": "今天日报：排查了120户，返乡的有3人，居家观察应为12人，没有发热的，消毒两次",
    "label words": "日报 排查了120户 返乡人员了3人 居家观察人数12 发热共0人 消毒计2次",
    "label words, careful": "日报 排查了 120户 返乡人员 3人 居家观察人数：12 发热共 0人 消毒计 2 次",
    "emoji bullets brackets signature": "【日报】👉排查:120户 ●返乡:3人 ★居家观察:12人 ✅发热:0人 ◆消毒:2次 —— 五星村 魏主任",
    "疫情日报": "疫情日报：排查120户，返乡3人，居家观察12人，发热0人，消毒2次",
    "每日报告": "每日报告 排查120户 返乡3人 居家观察12人 发热0人 消毒2次",
    "/report": "/report 排查120户 返乡3人 居家观察12人 发热0人 消毒2次",
    "date before the trigger": "2月17日日报 排查120户 返乡3人 居家观察12人 发热0人 消毒2次",
    "@mention of the bot": "@防控助手 日报 排查120户 返乡3人 居家观察12人 发热0人 消毒2次",
    "发热 as 无": "日报 排查120户 返乡3人 居家观察12人 发热：无 消毒2次",
    "无 before the field": "日报 排查120户 返乡3人 居家观察12人 无发热人员 消毒2次",
    "未发现": "日报 排查120户 返乡3人 居家观察12人 未发现发热 消毒2次",
    "发热人员：无": "日报 排查120户 返乡3人 居家观察12人 发热人员：无 消毒2次",
}


@pytest.mark.parametrize("text", SHAPES.values(), ids=SHAPES.keys())
def test_every_shape_gives_the_same_figures(text: str) -> None:
    result = parse(text, village="金山村")
    assert result["kind"] == "daily_report"
    assert result["fields"] == FULL_FIELDS
    assert result["missing"] == []
    assert result["problems"] == []
    assert result["village"] == "金山村"


def test_optional_fields_are_read_when_given() -> None:
    result = parse(FULL_REPORT + "，设立宣传牌3处，发放宣传单1.2万份，劝阻婚丧嫁娶2起")
    assert result["fields"] == {**FULL_FIELDS, "signs": 3, "posters": 12000, "cancelled_events": 2}


@pytest.mark.parametrize(
    "text",
    [
        "日报 排查120户 返乡3人(其中湖北返回1人) 居家观察12人 发热0人 消毒2次",
        "日报 排查120户 返乡3人，其中1人来自武汉，居家观察12人，发热0人，消毒2次",
        "日报 排查120户 新增返乡人员3人，重点地区1人，居家观察12人，发热0人，消毒2次",
    ],
)
def test_high_risk_returnees_are_read_from_their_words(text: str) -> None:
    result = parse(text)
    assert result["fields"] == {**FULL_FIELDS, "high_risk_returnees": 1}
    assert result["problems"] == []


# --- a trigger with nothing reported ------------------------------------------------------------


@pytest.mark.parametrize("text", ["今天的日报什么时候交？", "日报", "日报 今天天气很好", "#日报 还没统计完", "/report"])
def test_a_trigger_without_figures_is_not_a_report(text: str) -> None:
    assert parse(text) == {"kind": "none"}


# --- problems: a value that is not stored -------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "field"),
    [
        ("日报 排查120户 返乡3人 居家观察12人 发热0人 消毒200次", "disinfections"),
        ("日报 排查5001户 返乡3人 居家观察12人 发热0人 消毒2次", "households_visited"),
        ("日报 排查120户 返乡2001人 居家观察12人 发热0人 消毒2次", "returnees"),
        ("日报 排查120户 返乡3人 居家观察12人 发热501人 消毒2次", "fever"),
        ("日报 排查1.2万户 返乡3人 居家观察12人 发热0人 消毒2次", "households_visited"),
    ],
)
def test_a_value_out_of_range_is_a_problem_and_missing(text: str, field: str) -> None:
    result = parse(text)
    assert result["kind"] == "daily_report"
    assert problem_fields(result) == {field}
    assert field not in result["fields"]
    assert result["missing"] == [field]
    assert all(p["message"] for p in result["problems"])


def test_the_range_ends_are_valid() -> None:
    result = parse("日报 排查5000户 返乡2000人 居家观察5000人 发热500人 消毒20次")
    assert result["problems"] == []
    assert result["fields"] == {
        "households_visited": 5000,
        "returnees": 2000,
        "under_observation": 5000,
        "fever": 500,
        "disinfections": 20,
    }


def test_more_high_risk_returnees_than_returnees_is_a_problem() -> None:
    result = parse("日报 排查120户 返乡3人 其中武汉返回5人 居家观察12人 发热0人 消毒2次")
    assert problem_fields(result) == {"high_risk_returnees"}
    assert "high_risk_returnees" not in result["fields"]
    assert result["fields"] == FULL_FIELDS  # the ceiling itself is kept
    assert result["missing"] == []  # an optional field is never missing


def test_high_risk_returnees_equal_to_returnees_is_fine() -> None:
    result = parse("日报 排查120户 返乡3人(武汉返回3人) 居家观察12人 发热0人 消毒2次")
    assert result["problems"] == []
    assert result["fields"]["high_risk_returnees"] == 3


@pytest.mark.parametrize(
    ("text", "field"),
    [
        ("日报 排查120户 返乡2.5人 居家观察12人 发热0人 消毒2次", "returnees"),
        ("日报 排查120户 返乡3人 居家观察12人 发热0.5人 消毒2次", "fever"),
    ],
)
def test_a_decimal_count_is_a_problem(text: str, field: str) -> None:
    result = parse(text)
    assert problem_fields(result) == {field}
    assert field not in result["fields"]
    assert field in result["missing"]


# --- missing ------------------------------------------------------------------------------------


def test_an_incomplete_report_lists_exactly_the_absent_required_fields() -> None:
    result = parse("日报 入户排查60户 返乡1人")
    assert result["kind"] == "daily_report"
    assert result["fields"] == {"households_visited": 60, "returnees": 1}
    assert set(result["missing"]) == {"under_observation", "fever", "disinfections"}


def test_optional_fields_are_never_missing() -> None:
    result = parse(FULL_REPORT)
    assert result["missing"] == []
    assert "signs" not in result["fields"]


def test_a_rejected_value_is_counted_as_missing() -> None:
    result = parse("日报 排查120户 返乡3人 居家观察12人 发热0人 消毒99次 宣传牌5000处")
    assert problem_fields(result) == {"disinfections", "signs"}
    assert result["missing"] == ["disinfections"]  # signs is optional: a problem, but not missing


@pytest.mark.parametrize(
    "text", ["更正：消毒200次", "更正：发热1人", "修改 返乡人员改为4人", "订正：居家观察13人", "/fix 排查99户"]
)
def test_corrections_do_not_check_missing(text: str) -> None:
    result = parse(text)
    assert result["kind"] == "daily_report"
    assert result["correction"] is True
    assert result["missing"] == []


# --- warnings -----------------------------------------------------------------------------------


@pytest.mark.parametrize(("count", "warned"), [(0, True), (1, True), (2, False), (5, False)])
def test_fewer_than_two_disinfections_is_a_warning_not_a_problem(count: int, warned: bool) -> None:
    result = parse(f"日报 排查120户 返乡3人 居家观察12人 发热0人 消毒{count}次")
    assert result["fields"]["disinfections"] == count
    assert result["problems"] == []
    assert result["missing"] == []
    assert (warning_fields(result) == {"disinfections"}) is warned
    if warned:
        assert result["warnings"][0]["message"]
    else:
        assert "warnings" not in result


# --- a report without a trigger, by role -------------------------------------------------------


IMPLICIT = "今天排查了80户，返乡3人，居家观察10人，没有发热的，消毒两次"


def test_a_heads_figures_without_a_trigger_are_a_report() -> None:
    result = parse(IMPLICIT, village="红星村", role="head")
    assert result["kind"] == "daily_report"
    assert result["village"] == "红星村"
    assert result["correction"] is False
    assert result["fields"] == {
        "households_visited": 80,
        "returnees": 3,
        "under_observation": 10,
        "fever": 0,
        "disinfections": 2,
    }


def test_two_fields_are_enough_for_a_head() -> None:
    result = parse("排查120户，返乡3人", role="head")
    assert result["kind"] == "daily_report"
    assert set(result["missing"]) == {"under_observation", "fever", "disinfections"}


@pytest.mark.parametrize("role", ["resident", "checkpoint", "admin"])
def test_the_same_figures_from_anyone_else_are_chat(role: str) -> None:
    assert parse(IMPLICIT, village="红星村", role=role) == {"kind": "none"}  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "text",
    [
        "明天排查100户，消毒2次",
        "明日计划排查100户，消毒2次",
        "后天再排查100户，返乡人员登记5人",
        "计划排查100户，消毒2次",
        "准备排查100户，消毒2次",
        "我们将排查100户，消毒2次",
    ],
)
def test_a_plan_from_a_head_is_chat(text: str) -> None:
    assert parse(text, role="head") == {"kind": "none"}


def test_a_plan_word_after_the_figures_does_not_undo_a_report() -> None:
    result = parse("排查120户，返乡3人，明天继续", role="head")
    assert result["kind"] == "daily_report"
    assert result["fields"] == {"households_visited": 120, "returnees": 3}


@pytest.mark.parametrize("text", ["我家今天消毒两次了", "消毒2次", "今天排查了80户", "发热0人", "2月17日 排查120户"])
def test_a_single_field_from_a_head_is_chat(text: str) -> None:
    assert parse(text, role="head") == {"kind": "none"}


@pytest.mark.parametrize("text", ["大家注意出门戴口罩，不要聚餐", "好的，收到", "村里今天有人发烧吗", "辛苦了👍"])
def test_chat_from_a_head_is_none(text: str) -> None:
    assert parse(text, role="head") == {"kind": "none"}


# --- which village reports ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("王岘村日报：排查200户，返乡5人，居家观察20人，发热0人，消毒2次", "王岘村"),
        ("【红星村日报】排查200户 返乡5人", "红星村"),
        ("【新华村】日报 排查200户 返乡5人", "新华村"),
        ("金山日报 排查200户 返乡5人", "金山村"),  # an alias gives the config's name
        ("東風社區日報 排查200戶 返鄉5人", "东风社区"),  # so does a traditional spelling
        ("柳树村 排查200户，返乡5人", "柳树村"),  # a head without a trigger, too
    ],
)
def test_a_village_named_before_the_first_field_reports(text: str, expected: str) -> None:
    result = parse(text, village="五星村")
    assert result["kind"] == "daily_report"
    assert result["village"] == expected


@pytest.mark.parametrize(
    "text",
    [
        "日报 排查120户 返乡2人(从红星村返回) 居家观察1人 发热0人 消毒2次",
        "日报 排查120户 返乡2人，均为红星村人员 居家观察1人 发热0人 消毒2次",
        "排查120户，返乡2人(从红星村返回)",
    ],
)
def test_a_village_named_inside_a_field_is_where_people_came_from(text: str) -> None:
    result = parse(text, village="新华村")
    assert result["kind"] == "daily_report"
    assert result["village"] == "新华村"
    assert result["fields"]["returnees"] == 2


def test_the_village_named_first_wins_over_one_inside_a_field() -> None:
    result = parse("五星村日报 排查120户 返乡2人(从红星村返回) 居家观察1人 发热0人 消毒2次", village="红星村")
    assert result["village"] == "五星村"


def test_an_unbound_group_with_no_village_named_reports_no_village() -> None:
    result = parse("/report 排查101户 返乡1人 居家观察2人 发热0人 消毒2次", village=None)
    assert result["kind"] == "daily_report"
    assert result["village"] is None


# --- corrections ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "fields"),
    [
        ("更正：今日居家观察应为13人", {"under_observation": 13}),
        ("修改：返乡人员改为4人，发热1人", {"returnees": 4, "fever": 1}),
        ("订正 消毒3次", {"disinfections": 3}),
        ("/fix 排查99户", {"households_visited": 99}),
        ("#更正 發熱一人", {"fever": 1}),
        ("@防控助手 更正：居家观察13人", {"under_observation": 13}),
    ],
)
def test_a_correction_changes_only_the_named_fields(text: str, fields: dict[str, int]) -> None:
    result = parse(text, village="金山村")
    assert result["kind"] == "daily_report"
    assert result["correction"] is True
    assert result["village"] == "金山村"
    assert result["fields"] == fields


def test_a_correction_with_a_bad_value_still_reports_the_problem() -> None:
    result = parse("更正：消毒200次")
    assert result["correction"] is True
    assert problem_fields(result) == {"disinfections"}
    assert result["fields"] == {}


def test_a_correction_word_in_the_middle_is_not_a_correction() -> None:
    result = parse("排查120户，返乡3人，需要修改吗", role="head")
    assert result["kind"] == "daily_report"
    assert result["correction"] is False


def test_an_ordinary_report_is_not_a_correction() -> None:
    assert parse(FULL_REPORT)["correction"] is False


# --- the longer word and the unit settle the field -----------------------------------------------


@pytest.mark.parametrize(
    ("text", "fields"),
    [
        ("日报 排查返乡人员3人", {"returnees": 3}),
        ("日报 入户排查120户", {"households_visited": 120}),
        ("日报 走访返乡人员5人", {"returnees": 5}),
        ("日报 排查户数120户 发热人员0人", {"households_visited": 120, "fever": 0}),
        ("日报 排查返乡人员3人 居家观察120户", {"returnees": 3, "households_visited": 120}),
        ("日报 返乡120户", {"households_visited": 120}),
    ],
)
def test_the_specific_word_and_the_unit_decide_the_field(text: str, fields: dict[str, int]) -> None:
    result = parse(text)
    assert result["fields"] == fields


# --- numbers that belong to no field ----------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "日报\n1. 排查120户\n2. 返乡3人\n3. 居家观察12人\n4. 发热0人\n5. 消毒2次",
        "日报 1.排查120户 2.返乡3人 3.居家观察12人 4.发热:无 5.消毒2次",
        "日报 1、排查120户 2、返乡3人 3、居家观察12人 4、发热无 5、消毒2次",
        "日报 1.排查120户 2.返乡3人 3.居家观察12人 4.无发热 5.消毒2次",
        "日报 (1)排查120户 (2)返乡3人 (3)居家观察12人 (4)发热0人 (5)消毒2次",
    ],
)
def test_list_numbers_are_not_values(text: str) -> None:
    result = parse(text)
    assert result["fields"] == FULL_FIELDS


def test_a_list_number_after_an_empty_field_leaves_it_missing() -> None:
    result = parse("日报 1.排查120户 2.返乡3人 3.居家观察12人 4.发热 5.消毒2次")
    assert "fever" not in result["fields"]
    assert result["missing"] == ["fever"]


@pytest.mark.parametrize(
    "text",
    [
        "2月17日日报 排查120户 返乡3人 居家观察12人 发热0人 消毒2次",
        "日报 2020年2月17日 排查120户 返乡3人 居家观察12人 发热0人 消毒2次",
        "日报 排查120户 返乡人员2月15日返回3人 居家观察12人 发热0人 消毒2次",
        "日报 排查120户 返乡3人 居家观察12人 发热0人 消毒(上午8点)2次",
    ],
)
def test_dates_and_times_are_not_values(text: str) -> None:
    assert parse(text)["fields"] == FULL_FIELDS


@pytest.mark.parametrize(
    "text",
    [
        FULL_REPORT + " —— 五星村 王主任 13912345678",
        FULL_REPORT + "\n王主任 13912345678",
        FULL_REPORT + " 联系电话:13912345678",
    ],
)
def test_a_phone_number_in_a_signature_is_not_a_value(text: str) -> None:
    result = parse(text)
    assert result["fields"] == FULL_FIELDS
    assert result["problems"] == []


def test_a_phone_number_after_fields_left_empty_is_not_their_value() -> None:
    result = parse("日报 排查120户 返乡3人 居家观察12人 发热 消毒 王主任 13912345678")
    assert result["fields"] == {"households_visited": 120, "returnees": 3, "under_observation": 12}
    assert result["problems"] == []
    assert set(result["missing"]) == {"fever", "disinfections"}


def test_every_required_field_is_known() -> None:
    result = parse("日报 发热0人")
    assert set(result["missing"]) == set(REQUIRED) - {"fever"}


def test_a_negative_count_is_out_of_range_not_a_positive_one() -> None:
    result = parse("日报 排查80户 返乡2人 居家观察-1人 发热0 消毒2次")
    assert "under_observation" in problem_fields(result)
    assert "under_observation" not in result["fields"] and "under_observation" in result["missing"]


@pytest.mark.parametrize("text", ["日报 返乡人员-2人", "日报 返乡人员 -2人", "日报 返乡了1 200人", "日报 返乡人员2月3日到"])
def test_a_label_word_before_the_digits_changes_no_rule(text: str) -> None:
    """返乡人员-2人 is as unreadable as 返乡-2人, and 返乡人员2月3日到 is a date, not 2 returnees."""
    result = parse(text, village="金山村")
    assert result.get("fields", {}).get("returnees") is None, result
