"""A 体温接龙: a title, then numbered lines of a name and its readings, reposted by each person who adds one.

It is read from the text as written (Placement.ORIGINAL, tried before the other kinds), normalised
here, so that a list the reader finds nothing in falls through to every other kind unchanged.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from .kinds import LEADING_MENTIONS, Triggered
from .normalize import normalize
from .result import plain_json

FEVER_AT = 37.3
LOWEST, HIGHEST = 34.0, 43.0
#: The parser's cheap first look: a 接龙 or a numbered line somewhere (the reader decides the rest).
TRIGGER_PATTERN = r"(?=(?s:.)*?(?:接龙|\n\s*[0-9]{1,3}\s*[.、,:)]))"

_STARTS_AS_LIST = re.compile(r"^\s*#?\s*接龙")
_LINE = re.compile(r"^\s*(?P<number>[0-9]{1,3})\s*[.、,:)]\s*(?P<name>[\u4e00-\u9fff·]{2,8})\s*(?P<rest>.*)$")
_CN_DIGIT = "零一二三四五六七八九"
_READING = re.compile(
    r"(?P<fahrenheit>华氏\s*)?(?<![0-9.])(?P<whole>[0-9]{2,3})"
    r"(?:(?:[.,。点]|度(?=[0-9]))(?P<tenth>[0-9]))?(?![0-9])\s*(?P<unit>°C|℃|°F|℉|度)?"
    r"|(?P<cn_tens>[三四])十(?P<cn_ones>[一二三四五六七八九])?(?:度|点)(?P<cn_tenth>[零一二三四五六七八九])?"
)
_NAME_TAIL = re.compile(r"(?:体温|测温|上午|下午|早|晚)+$")


@dataclass(frozen=True)
class ListEntry:
    number: int  # as written; a repost may number differently
    name: str
    temperatures: tuple[float, ...]

    @property
    def fever(self) -> bool:
        return any(t >= FEVER_AT for t in self.temperatures)


@dataclass(frozen=True)
class TemperatureList:
    """The entries of one version of a list; its title tells it from another list in the same group."""

    title: str
    entries: tuple[ListEntry, ...]

    @property
    def fever(self) -> bool:
        return any(entry.fever for entry in self.entries)

    @property
    def fever_names(self) -> tuple[str, ...]:
        return tuple(entry.name for entry in self.entries if entry.fever)

    def to_json(self) -> dict[str, Any]:
        entries = [{"name": e.name, "temperatures": list(e.temperatures)} for e in self.entries]
        return plain_json({"entries": entries, "fever": self.fever, "fever_names": list(self.fever_names)})


def read_temperature_list(found: Triggered) -> TemperatureList | None:
    """The list in a message that starts with 接龙, or a title line then numbered lines; None when no
    numbered line holds a name and a reading (a 接龙 of vegetables, of donations, of 收到)."""
    return parse_temperature_list(found.text)


def parse_temperature_list(text: str) -> TemperatureList | None:
    lines = [line.strip() for line in LEADING_MENTIONS.sub("", normalize(text)).split("\n")]
    lines = [line for line in lines if line]
    if len(lines) < 2 and not (lines and _STARTS_AS_LIST.match(lines[0])):
        return None
    if _LINE.match(lines[0]) and not _STARTS_AS_LIST.match(lines[0]):
        return None  # a numbered message without a title is not a list someone reposts
    entries = tuple(entry for line in lines[1:] if (entry := _entry(line)) is not None)
    return TemperatureList(lines[0][:200], entries) if entries else None


def _entry(line: str) -> ListEntry | None:
    if line.startswith("例"):
        return None  # the example line the list's author writes first
    found = _LINE.match(line)
    if found is None:
        return None
    name = _NAME_TAIL.sub("", found["name"])
    readings = tuple(r for match in _READING.finditer(found["rest"]) if (r := _celsius(match)) is not None)
    if len(name) < 2 or not readings:
        return None
    return ListEntry(int(found["number"]), name, readings)


def _celsius(match: re.Match[str]) -> float | None:
    """A reading in °C with one decimal, or None for a number that is not one (a count, a price)."""
    if match["cn_tens"]:
        whole = 10 * _CN_DIGIT.index(match["cn_tens"]) + (_CN_DIGIT.index(match["cn_ones"]) if match["cn_ones"] else 0)
        tenth = _CN_DIGIT.index(match["cn_tenth"]) if match["cn_tenth"] else 0
        value = whole + tenth / 10
    else:
        if match["tenth"] is None and match["unit"] is None:
            return None  # a bare 36 may be an age or a count; a reading has a decimal or a unit
        value = float(match["whole"] + "." + (match["tenth"] or "0"))
        if match["fahrenheit"] or match["unit"] in ("°F", "℉"):
            value = round((value - 32) * 5 / 9, 1)
    return value if LOWEST <= value <= HIGHEST else None
