"""What people really write (spec: "What people really write"), rule by rule, in several phrasings:
a figure that cannot be read for sure is a problem and never something else."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest
from parsing_support import PARSER, parse, problem_fields, warning_fields

from handlers.parsing import MessageContext
from handlers.parsing.parser import MAX_PARSED_CHARS

REST = "返乡2人，居家观察6人，发热0人，消毒2次"


def report(text: str, **kwargs: Any) -> dict[str, Any]:
    result = parse(text, **kwargs)
    assert result["kind"] == "daily_report", result
    return result


# --- numbers -----------------------------------------------------------------------------------


@pytest.mark.parametrize("figure", ["1,200", "1，200", "1,200 ", "１，２００"])
def test_thousands_separators(figure: str) -> None:
    assert report(f"日报 入户排查{figure}户，{REST}")["fields"]["households_visited"] == 1200


def test_a_comma_before_fewer_than_three_digits_separates_figures() -> None:
    fields = report("日报 排查80户,返乡2,居家观察12人,发热0人,消毒2次")["fields"]
    assert fields["households_visited"] == 80 and fields["returnees"] == 2


@pytest.mark.parametrize(("text", "field", "value"), [
    ("日报 入户排查200多户，" + REST, "households_visited", 200),
    ("日报 宣传单400余份，入户排查90户，" + REST, "posters", 400),
    ("日报 排查100余户，" + REST, "households_visited", 100),
])  # fmt: skip
def test_about_so_many(text: str, field: str, value: int) -> None:
    assert report(text)["fields"][field] == value


@pytest.mark.parametrize("figure", [
    "1e3", "1E3", "0x10", "-5", "－5", "3.7.5", "120.5", "12345678", "1 200", "1\u200b200", "1\u2060200",
])  # fmt: skip
def test_an_unreadable_figure_is_a_problem_never_its_first_digits(figure: str) -> None:
    result = report(f"日报 入户排查{figure}户，{REST}")
    assert "households_visited" in problem_fields(result)
    assert "households_visited" not in result["fields"]
    assert "households_visited" in result["missing"]
    assert result["fields"]["returnees"] == 2


def test_the_problem_says_the_figure_cannot_be_read() -> None:
    result = report(f"日报 入户排查1e3户，{REST}")
    assert any("看不懂这个数字" in p["message"] for p in result["problems"])


@pytest.mark.parametrize(("text", "observed"), [
    ("日报 排查60户，返乡2人均已居家隔离14天，居家观察8人，发热0人，消毒2次", 8),
    ("日报 排查60户，返乡2人，均已落实居家隔离14天，目前居家观察共10人，发热0人，消毒2次", 10),
    ("日报 排查60户，返乡2人，居家观察满14日，居家观察5人，发热0人，消毒2次", 5),
    ("日报 排查60户，返乡2人，居家隔离2周，居家观察7人，发热0人，消毒2次", 7),
])  # fmt: skip
def test_a_duration_is_no_value_of_the_field_before_it(text: str, observed: int) -> None:
    assert report(text)["fields"]["under_observation"] == observed


@pytest.mark.parametrize("unit", ["天", "日", "周", "月", "小时", "分钟", "岁", "组", "号", "楼", "单元", "针"])
def test_units_of_no_field(unit: str) -> None:
    result = report(f"日报 排查60户，返乡2人，居家观察3{unit}，发热0人，消毒2次")
    assert "under_observation" not in result["fields"]
    assert "under_observation" in result["missing"]


@pytest.mark.parametrize("zero", [
    "返乡的没有", "返乡的一个都没有", "返乡一个也没有", "返乡人员一人都没有", "返乡暂无", "返乡0例", "返乡为零",
    "无返乡人员", "没有返乡人员", "未发现返乡人员", "返乡:无", "返乡人员都没有",
])  # fmt: skip
def test_zero_said_in_words(zero: str) -> None:
    result = report(f"日报 排查60户，{zero}，居家观察3人，发热0人，消毒2次")
    assert result["fields"]["returnees"] == 0, result


@pytest.mark.parametrize("fever", ["发烧的一个都没有", "发热的一个也没有", "发热一例都没有"])
def test_one_of_none_is_zero_never_one(fever: str) -> None:
    assert report(f"日报 排查60户，返乡2人，居家观察3人，{fever}，消毒2次")["fields"]["fever"] == 0


# --- corrections -------------------------------------------------------------------------------


@pytest.mark.parametrize("text", [
    "更正 居家观察由2人改为3人", "更正 居家观察从2改成3", "更正 居家观察2人改为3人", "修改：居家观察应为3人",
    "订正 居家观察改为3人", "更正 居家观察人数由2更正为3", "/fix 居家观察由 2 人调整为 3 人",
])  # fmt: skip
def test_a_change_gives_the_new_value(text: str) -> None:
    result = report(text)
    assert result["correction"] is True
    assert result["fields"] == {"under_observation": 3}


def test_several_changes_in_one_correction() -> None:
    fields = report("更正：居家观察由9人改为11人，消毒由1次改为2次，返乡2人")["fields"]
    assert fields == {"under_observation": 11, "disinfections": 2, "returnees": 2}


# --- not reports -------------------------------------------------------------------------------


@pytest.mark.parametrize("text", [
    "镇里要求各村每天消毒不少于2次，入户排查不漏一户",
    "各村务必排查100户，返乡人员居家观察14天",
    "返乡人员须居家观察，排查不低于100户",
    "返乡人员必须居家观察，每天消毒2次",
    "全镇一律排查200户，发热人员不得外出",
    "各村应当排查100户，返乡人员登记3人",
    "每天至少消毒3次，排查100户",
])  # fmt: skip
@pytest.mark.parametrize("role", ["head", "admin"])
def test_a_rule_is_not_a_report(text: str, role: Any) -> None:
    assert parse(text, role=role)["kind"] == "none"


@pytest.mark.parametrize("text", [
    "【转发】县指挥部：返乡人员一律居家观察14天，每天测体温2次",
    "转发：排查100户，返乡3人，居家观察2人",
    "转：排查100户，返乡3人，居家观察2人",
    "接县指挥部紧急通知，排查100户，返乡3人",
])  # fmt: skip
def test_a_passed_on_notice_is_not_a_report(text: str) -> None:
    assert parse(text)["kind"] == "none"


def test_with_a_trigger_the_figures_count() -> None:
    assert report("日报 排查100户，返乡3人，居家观察2人，发热0人，消毒2次 按要求每天消毒")["fields"]["returnees"] == 3


# --- quotes ------------------------------------------------------------------------------------

QUOTED = "「红星村李书记：日报 排查86户，返乡2人，居家观察9人，发热0人，消毒2次」\n- - - - - - - - - - - - - - -\n"


@pytest.mark.parametrize("reply", ["收到", "收到，我们也按这个格式报", "好的👌", "排查什么时候截止？"])
def test_a_quote_is_not_the_senders(reply: str) -> None:
    assert parse(QUOTED + reply, village="新华村")["kind"] == "none"


def test_the_reply_after_a_quote_is_read() -> None:
    result = report(QUOTED + "日报 排查50户，返乡1人，居家观察2人，发热0人，消毒2次", village="新华村")
    assert result["village"] == "新华村"
    assert result["fields"]["households_visited"] == 50


def test_a_quote_with_a_line_of_plain_dashes() -> None:
    assert parse("「五星村：日报 排查86户 返乡2人」\n------\n收到")["kind"] == "none"


# --- which day ---------------------------------------------------------------------------------

TODAY = dt.date(2020, 2, 17)
FIGURES = "入户排查70户，返乡1人，居家观察5人，发热0人，消毒2次"


@pytest.mark.parametrize(("head", "day"), [
    ("昨天的日报：", "2020-02-16"), ("昨日日报 ", "2020-02-16"), ("2月16日日报 ", "2020-02-16"),
    ("前天的日报 ", "2020-02-15"), ("【五星村2月10日日报】", "2020-02-10"), ("昨天 ", "2020-02-16"),
])  # fmt: skip
def test_a_day_within_the_last_week_is_that_days_report(head: str, day: str) -> None:
    assert report(head + FIGURES, today=TODAY)["date"] == day


@pytest.mark.parametrize("head", ["今天的日报：", "2月17日日报 ", "日报 ", "截至2月17日18时 日报 "])
def test_today_has_no_date(head: str) -> None:
    result = report(head + FIGURES, today=TODAY)
    assert "date" not in result and not warning_fields(result)


@pytest.mark.parametrize("head", ["2月1日日报 ", "截至2月16日18时 日报 ", "1月30日日报 ", "2月18日日报 "])
def test_a_day_not_taken_stays_today_with_a_warning(head: str) -> None:
    result = report(head + FIGURES, today=TODAY)
    assert "date" not in result
    assert "date" in warning_fields(result)


def test_a_date_across_new_year() -> None:
    assert report("12月30日日报 " + FIGURES, today=dt.date(2021, 1, 2))["date"] == "2020-12-30"


def test_without_today_no_day_is_taken() -> None:
    assert "date" not in report("昨天的日报：" + FIGURES)


# --- a bare 零报告 ------------------------------------------------------------------------------


@pytest.mark.parametrize("text", ["今日零报告", "五星村零报告", "零报告", "【五星村】零报告", "#零报告"])
def test_a_bare_zero_report(text: str) -> None:
    result = report(text)
    assert result["fields"] == {"returnees": 0, "high_risk_returnees": 0, "fever": 0}
    assert set(result["missing"]) == {"households_visited", "under_observation", "disinfections"}


def test_a_zero_report_with_figures_takes_the_figures() -> None:
    result = report("零报告 今日无新增返乡人员，无发热人员，居家观察8人，消毒2次")
    assert result["fields"] == {"returnees": 0, "fever": 0, "under_observation": 8, "disinfections": 2}


# --- triggers need their values ----------------------------------------------------------------


@pytest.mark.parametrize(("text", "role"), [
    ("捐款在哪里捐？", "resident"), ("捐款找谁登记？", "resident"), ("捐赠的物资放哪里", "admin"),
    ("督查组下午到五星村", "admin"), ("督查组明天上午到各村检查", "head"), ("督查的时候注意什么", "admin"),
    ("登记本用完了", "checkpoint"), ("登记在哪里办？", "checkpoint"), ("登记表放在卡点", "checkpoint"),
    ("督查 有没有人", "admin"),
])  # fmt: skip
def test_a_trigger_without_what_its_kind_needs_is_chat(text: str, role: Any) -> None:
    assert parse(text, village=None, role=role)["kind"] == "none"


@pytest.mark.parametrize(("text", "kind"), [
    ("督查五星村垃圾未清运", "inspection"), ("捐赠张三捐口罩100个", "donation"), ("登记甘D12345 1人 36.5", "checkpoint"),
])  # fmt: skip
def test_a_trigger_right_before_its_values_is_a_trigger(text: str, kind: str) -> None:
    assert parse(text, village=None, role="admin")["kind"] == kind


# --- long messages -----------------------------------------------------------------------------


def test_only_the_first_part_of_a_long_message_is_read() -> None:
    text = "日报 排查80户 " + "的" * MAX_PARSED_CHARS + " 返乡3人"
    result = report(text)
    assert "returnees" not in result["fields"]
    assert PARSER.parse_uncapped(text, MessageContext("五星村")).to_json()["fields"]["returnees"] == 3


def test_the_readme_states_the_cap() -> None:
    readme = (Path(__file__).parents[1] / "README.md").read_text(encoding="utf-8")
    assert f"{MAX_PARSED_CHARS:,} characters" in readme
