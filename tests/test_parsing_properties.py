"""Properties of the parser over arbitrary text: it never raises, and it never finds figures in text
that has no number in it."""

from __future__ import annotations

import re

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from parsing_support import PARSER

from handlers.parsing import ROLES, MessageContext, Role, normalize
from handlers.parsing.normalize import CN_DIGITS

# Arbitrary Unicode, with the words the parser looks for mixed in, so that the interesting paths are
# reached and not only the "nothing matched" one.
WORDS = [
    "日报", "日報", "#日报", "/report", "零报告", "更正", "/fix", "登记", "/checkin", "捐赠", "督查", "通知",
    "排查", "入户排查", "返乡", "返乡人员", "湖北", "其中", "居家观察", "发热", "无", "没有", "消毒",
    "宣传单", "户", "人", "名", "次", "万", "元", "个", "性", "五星村", "【", "】", "@防控助手", "——",
    "：", ":", "，", "、", "。", "\n", " ", "(", ")", "甘D", "°C", "℃", "明天", "1.", "2、", "月", "日",
]  # fmt: skip
FRAGMENTS = st.one_of(
    st.text(max_size=40),
    st.sampled_from(WORDS),
    st.from_regex(r"[0-9]{1,12}(\.[0-9]{1,3})?", fullmatch=True),
    st.sampled_from(list(CN_DIGITS)),
)
LONG = st.text(min_size=2_000, max_size=10_000)
TEXTS = st.one_of(
    st.text(max_size=10_000),
    LONG,
    st.lists(FRAGMENTS, max_size=400).map("".join).map(lambda s: s[:10_000]),
)
SETTINGS = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
VILLAGES = st.sampled_from([None, "五星村", "东风社区"])
NUMERALS = re.compile(f"[0-9{CN_DIGITS}]")


def without_numerals(text: str) -> bool:
    """No ASCII, full-width or Chinese digit (traditional forms included: they are normalised first)."""
    return NUMERALS.search(normalize(text)) is None


# The same mix without numbers; the filter then only has to drop the rare random digit.
TEXTS_WITHOUT_NUMERALS = st.one_of(
    st.text(max_size=10_000),
    LONG,
    st.lists(
        st.one_of(st.text(max_size=40), st.sampled_from([w for w in WORDS if without_numerals(w)])), max_size=400
    ).map("".join),
).filter(without_numerals)


@SETTINGS
@given(text=TEXTS, role=st.sampled_from(ROLES), village=VILLAGES)
@example(text="日报" + "排查1户" * 2000, role="head", village="五星村")
@example(text="\x00\ud7ff\U0010ffff日报\u200b", role="head", village=None)
def test_the_parser_never_raises(text: str, role: Role, village: str | None) -> None:
    result = PARSER.parse(text, MessageContext(village=village, role=role))
    out = result.to_json()
    assert out["kind"] in {"daily_report", "checkpoint", "donation", "inspection", "notice", "none"}
    if out["kind"] == "daily_report":
        assert set(out["missing"]).isdisjoint(out["fields"])
        assert {p["field"] for p in out["problems"]}.isdisjoint(out["fields"])


@SETTINGS
@given(text=TEXTS_WITHOUT_NUMERALS, role=st.sampled_from(ROLES), village=VILLAGES)
@example(text="日报 排查户 返乡人员 居家观察 发热:无 消毒", role="head", village="五星村")
@example(text="登记 步行 体温正常 来自兰州 去红星村", role="checkpoint", village=None)
@example(text="日報：排查戶，返鄉人員，發熱：無", role="head", village="五星村")
def test_text_without_a_number_is_never_a_report_or_a_registration(text: str, role: Role, village: str | None) -> None:
    assert without_numerals(text)  # holds for the explicit examples too
    kind = PARSER.parse(text, MessageContext(village=village, role=role)).kind
    assert kind not in ("daily_report", "checkpoint")
