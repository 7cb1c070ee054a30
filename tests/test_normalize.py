"""Text normalisation, one rule at a time: on `normalize`/`to_number` directly and through the parser."""

from __future__ import annotations

import subprocess
import sys

import pytest
from parsing_support import FULL_FIELDS, FULL_REPORT, parse

from handlers.parsing import normalize, to_number
from handlers.parsing.normalize import CN_DIGITS

# --- traditional → simplified -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [("陝", "陕"), ("體溫", "体温"), ("東風社區", "东风社区"), ("日報：入戶排查", "日报:入户排查"), ("兩", "两")],
)
def test_traditional_is_read_as_simplified(text: str, expected: str) -> None:
    assert normalize(text) == expected


def test_a_traditional_report_comes_back_in_the_configs_spelling() -> None:
    result = parse("東風社區日報：入戶排查120戶，返鄉人員3人，居家觀察12人，體溫異常0人，消毒2次", village=None)
    assert result["village"] == "东风社区"
    assert result["fields"] == FULL_FIELDS


# --- full-width → ASCII -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("１５０", "150"),
        ("：", ":"),
        ("；", ";"),
        ("，", ","),
        ("（１）", "(1)"),
        ("ＡＢＣ", "ABC"),
        ("a\u3000b", "a b"),
    ],
)
def test_full_width_is_read_as_ascii(text: str, expected: str) -> None:
    assert normalize(text) == expected


def test_a_full_width_report() -> None:
    result = parse("日报：入户排查１２０户；返乡人员３人；居家观察１２人；发热０人；消毒２次")
    assert result["fields"] == FULL_FIELDS


# --- numbers ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("token", "value"),
    [
        ("120", 120),
        ("36.5", 36.5),
        ("两", 2),
        ("十二", 12),
        ("一百零五", 105),
        ("一百二十", 120),
        ("零", 0),
        ("〇", 0),
        ("1.2万", 12000),
        ("1.2 万", 12000),
        ("3万", 30000),
        ("伍佰", 500),
        ("贰拾", 20),
        ("壹万", 10000),
    ],
)
def test_to_number(token: str, value: float) -> None:
    got = to_number(token)
    assert got == value
    assert isinstance(got, int) is isinstance(value, int)  # counts stay integers


@pytest.mark.parametrize("token", ["", "统一", "一次性", "万", "abc"])
def test_to_number_refuses_what_is_not_a_number(token: str) -> None:
    assert to_number(token) is None


@pytest.mark.parametrize(
    ("written", "value"),
    [
        ("两", 2),
        ("兩", 2),
        ("十二", 12),
        ("一百零五", 105),
        ("伍佰", 500),
        ("零", 0),
        ("1.2万", 12000),
        ("１２", 12),
        ("壹佰", 100),
    ],
)
def test_numbers_in_a_report(written: str, value: int) -> None:
    result = parse(f"日报 宣传单{written}份 排查120户")
    assert result["fields"]["posters"] == value


@pytest.mark.parametrize(
    ("text", "fields"),
    [
        ("日报 统一排查120户 返乡3人", {"households_visited": 120, "returnees": 3}),
        ("日报 排查120户 返乡3人 一次性消毒2次", {"households_visited": 120, "returnees": 3, "disinfections": 2}),
        ("日报 消毒：一次性全面消毒2次 发热0人", {"disinfections": 2, "fever": 0}),
        ("日报 居家观察一共12人 发热0人", {"under_observation": 12, "fever": 0}),
        ("日报 排查统一120户 发热0人", {"households_visited": 120, "fever": 0}),
    ],
)
def test_一_inside_a_word_is_never_a_number(text: str, fields: dict[str, int]) -> None:
    result = parse(text)
    assert result["fields"] == fields
    assert "warnings" not in result  # 一次性 must not become one disinfection round


def test_a_lone_一_is_a_number() -> None:
    assert parse("日报 发热一人 返乡一个")["fields"] == {"fever": 1, "returnees": 1}


# --- 无 / 没有 / 未发现 = 0 ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "日报 排查120户 无发热人员",
        "日报 排查120户 发热:无",
        "日报 排查120户 发热：无",
        "日报 排查120户 没有发热的",
        "日报 排查120户 发热没有",
        "日报 排查120户 未发现发热",
        "日报 排查120户 暂无发热",
        "日报 排查120户 发热人员：无",
    ],
)
def test_zero_words_mean_zero(text: str) -> None:
    result = parse(text)
    assert result["fields"] == {"households_visited": 120, "fever": 0}


def test_a_zero_word_does_not_reach_past_its_field() -> None:
    result = parse("日报 无发热人员，返乡3人，排查120户")
    assert result["fields"] == {"fever": 0, "returnees": 3, "households_visited": 120}


@pytest.mark.parametrize("gap", [" ", "\n", "，"])
def test_a_fields_无_is_not_a_negation_of_the_next_field(gap: str) -> None:
    result = parse(f"日报 排查120户 发热:无{gap}劝阻聚餐4场{gap}返乡人员{gap}消毒2次")
    assert result["fields"] == {"households_visited": 120, "fever": 0, "cancelled_events": 4, "disinfections": 2}
    assert "returnees" in result["missing"]


def test_无_inside_another_word_is_not_zero() -> None:
    result = parse("日报 排查120户 居家观察:无症状3人")
    assert result["fields"] == {"households_visited": 120, "under_observation": 3}


# --- noise --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("👉排查:130户", "排查:130户"),
        ("✅返乡0人🙏", "返乡0人"),
        ("【五星村日报】", "五星村日报"),
        ("• 排查 ● 返乡 ★ 发热 ■ 消毒", "排查 返乡 发热 消毒"),
        ("日报 消毒2次 —— 五星村 王主任", "日报 消毒2次"),
        ("日报 消毒2次 -- 王主任", "日报 消毒2次"),
        ("日报 消毒2次\n—— 魏主任 13912345678", "日报 消毒2次"),
        ("  日报  ", "日报"),
    ],
)
def test_decoration_and_signatures_are_removed(text: str, expected: str) -> None:
    assert normalize(text) == expected


@pytest.mark.parametrize(
    "decorated",
    [
        "👉" + FULL_REPORT + " 💪",
        "【" + FULL_REPORT + "】",
        "• " + FULL_REPORT.replace("，", " • "),
        "@防控助手 " + FULL_REPORT,
        "@villagebot " + FULL_REPORT,
        FULL_REPORT + " —— 五星村 王主任",
        FULL_REPORT + "\n—— 五星村村委会 13912345678",
    ],
)
def test_noise_changes_nothing_in_a_report(decorated: str) -> None:
    assert parse(decorated) == parse(FULL_REPORT)


def test_a_mention_of_the_bot_does_not_hide_a_trigger() -> None:
    assert parse("@防控助手 更正：发热1人")["correction"] is True
    assert parse("@防控助手 登记 甘A12345 1人 36.5", role="checkpoint")["kind"] == "checkpoint"


# --- Chinese numerals: read as cn2an reads them, with cn2an imported only when one is met -----


def cn2an_value(token: str) -> int | float | None:
    import cn2an

    try:
        value = cn2an.cn2an(token, "smart")
    except (ValueError, TypeError, KeyError, IndexError):
        return None
    return int(value) if isinstance(value, float) and value.is_integer() else value


@pytest.mark.parametrize("style", ["low", "up", "两"])
def test_numbers_written_out_read_as_cn2an_reads_them(style: str) -> None:
    import cn2an

    for n in [*range(0, 1200), *range(1200, 100_000, 97), 100_000, 990_000, 9_999_999]:
        written = cn2an.an2cn(n, "up" if style == "up" else "low")
        if style == "两":
            written = written.replace("二", "两", 1)
        assert to_number(written) == n, written


def test_every_short_numeral_token_reads_as_cn2an_reads_it() -> None:
    tokens = [a + b for a in CN_DIGITS for b in CN_DIGITS] + list(CN_DIGITS)
    tokens += [
        "一百零五",
        "一千零五十",
        "一万零二百",
        "一万二",
        "一百二",
        "三千五",
        "一百十",
        "二〇二〇",
        "一亿",
        "十亿",
    ]
    for token in tokens:
        assert to_number(token) == cn2an_value(token), token


def test_cn2an_is_not_imported_to_start_the_parser() -> None:
    code = "import sys, handlers.parsing; print('cn2an' in sys.modules)"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "False"


def test_the_parse_command_imports_neither_cn2an_nor_asyncio() -> None:
    """`villagebot parse` is a filter in shell pipelines: what it imports is its start-up time."""
    code = "import sys, bot.cli; print(sorted({'cn2an', 'asyncio'} & set(sys.modules)))"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"
