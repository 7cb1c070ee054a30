"""Body temperatures as people write them: 36.5, 36,5, 36。5, 36点5, 36度5, 三十六度五, 36.5℃, 99.5°F.

A reading is only taken when it is sure: a figure next to a temperature word or unit that cannot
be read, or that lies outside what a thermometer on a person shows, is reported as unreadable so
that the bot asks again, and never counts as a normal reading.
"""

from __future__ import annotations

import re
from typing import NamedTuple

from .normalize import to_number

LOWEST, HIGHEST = 34.0, 43.0
FEVER_AT = 37.3
_CN_DEGREES = re.compile(r"([三四]十[一二三四五六七八九]?)\s*(?:(?:度|点)\s*([零〇一二三四五六七八九])|度)")
# 36,5 / 36。5 / 36点5 / 36度5: a whole degree, a separator and one digit of tenths.
_SPLIT_DECIMAL = re.compile(r"(?<![0-9.])(3[0-9]|4[0-9])\s*(?:,|。|点|度)\s*([0-9])(?![0-9.])")
_FAHRENHEIT = re.compile(
    r"华氏\s*(?P<a>[0-9]{2,3}(?:\.[0-9]+)?)\s*(?:度|°F|°)?|(?P<b>[0-9]{2,3}(?:\.[0-9]+)?)\s*(?:°F|华氏度)"
)
_FIGURE = re.compile(r"(?<![0-9.A-Za-z])(?P<num>[0-9]+(?:\.[0-9]*)*)\s*(?P<unit>°C|°|度)?(?![0-9A-Za-z])")
_WORD_BEFORE = re.compile(r"(?:体温|测温|复测|温度|体温为|体温是)[\s:=为是]*\Z")
_WORD_REACH = 8
# 测温2次, 复测3人: a count after a temperature word, not a reading.
_COUNT_AFTER = re.compile(r"\s*(?:次|遍|回|人|名|位|个|户|辆|天|日|小时|分钟)")
_CN_TENTHS = {c: str(i) for i, c in enumerate("零一二三四五六七八九")} | {"〇": "0"}


class Readings(NamedTuple):
    values: list[float]
    unreadable: bool  # a figure by a temperature word or unit could not be read for sure


def _fahrenheit(match: re.Match[str]) -> str:
    value = float(match["a"] or match["b"])
    return f"{(value - 32) * 5 / 9:.1f}°C"


def _cn_degrees(match: re.Match[str]) -> str:
    whole = to_number(match[1])
    tenths = _CN_TENTHS[match[2]] if match[2] else "0"
    return f"{whole}.{tenths}°C" if whole is not None else match[0]


def spelled_out(text: str) -> str:
    """The text with every way of writing a temperature rewritten as 36.5°C."""
    if "华氏" in text or "°F" in text:
        text = _FAHRENHEIT.sub(_fahrenheit, text)
    if "十" in text:
        text = _CN_DEGREES.sub(_cn_degrees, text)
    if "," in text or "。" in text or "点" in text or "度" in text:
        text = _SPLIT_DECIMAL.sub(r"\1.\2°C", text)
    return text


def read_temperatures(text: str) -> Readings:
    """The readings in order; a bare 36 or 40 without a temperature word is a count, not a reading."""
    text = spelled_out(text)
    values: list[float] = []
    unreadable = False
    words = "温" in text or "测" in text
    for match in _FIGURE.finditer(text):
        token, unit = match["num"], match["unit"]
        by_word = words and _WORD_BEFORE.search(text, max(0, match.start() - _WORD_REACH), match.start()) is not None
        if not (unit or by_word or "." in token) or (not unit and _COUNT_AFTER.match(text, match.end())):
            continue
        if token.count(".") > 1 or token.endswith("."):
            unreadable = True
            continue
        value = float(token)
        if LOWEST <= value <= HIGHEST:
            values.append(value)
        elif unit or by_word or 30 <= value < 50:
            unreadable = True  # 体温 3, 3.65, 47.2℃: a reading, but not one a person can have
    return Readings(values, unreadable)
