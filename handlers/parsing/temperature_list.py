"""A 体温接龙: a title, then numbered lines of a name and that person's readings.

A 接龙 of anything else (vegetables, donations, 收到) is chat: a list is only a temperature list
when every numbered line's figures are readings, and at least one line has one.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from .. import texts
from .kinds import LEADING_MENTIONS, Triggered
from .normalize import normalize
from .result import Problem
from .temperature import FEVER_AT, read_temperatures

_NUMBERED = re.compile(r"^\s*(?P<number>[0-9]{1,3})\s*[.、,)]\s*(?P<rest>.*)$")
_NAME = re.compile(r"^(?P<name>[\u4e00-\u9fff·]{1,8}?|[A-Za-z][A-Za-z ]{0,20}?)\s*(?=[0-9]|[三四]十|体温|$)")
# A line's figure alone ("2. 王芳 36", "3. 赵强 3") is meant as a reading, however it reads.
_BARE_FIGURE = re.compile(r"^\s*[0-9][0-9.]*\s*$")
_DIGIT = re.compile(r"[0-9]")
#: Where a list may be: a message with 接龙 in it, or with a numbered line. Its reader decides; for
#: anything but names and readings it finds nothing, and the message goes on to the other kinds.
TRIGGER_PATTERN = r"(?=(?s:.)*?(?:接龙|接龍|\n\s*[0-9]{1,3}\s*[.、,:)．]))"


@dataclass(frozen=True)
class ListEntry:
    number: int  # the line's number in the list, as written
    name: str
    temperatures: tuple[float, ...]

    @property
    def fever(self) -> bool:
        return any(t >= FEVER_AT for t in self.temperatures)

    def to_json(self) -> dict[str, Any]:
        return {"name": self.name, "temperatures": list(self.temperatures)}


@dataclass(frozen=True)
class TemperatureList:
    """The entries of a 体温接龙 as posted (a repost holds the earlier lines again: the handler
    stores each line once), who has a fever, and the lines whose reading could not be read."""

    village: str | None  # the group's village
    title: str  # its first line that is not an entry: tells it from another list in the same group
    entries: tuple[ListEntry, ...]
    problems: tuple[Problem, ...]

    @property
    def fever_names(self) -> tuple[str, ...]:
        return tuple(e.name for e in self.entries if e.fever)

    @property
    def fever(self) -> bool:
        return bool(self.fever_names)

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "village": self.village,
            "fields": {
                "entries": [e.to_json() for e in self.entries],
                "fever": self.fever,
                "fever_names": list(self.fever_names),
            },
        }
        if self.problems:
            out["problems"] = [p.to_json() for p in self.problems]
        return out


def read_temperature_list(found: Triggered) -> TemperatureList | None:
    """接龙 …, or a title line then numbered lines: None unless the numbered lines hold names and
    readings, and nothing else."""
    entries: list[ListEntry] = []
    problems: list[Problem] = []
    title = ""
    lines = [line for line in LEADING_MENTIONS.sub("", normalize(found.body)).split("\n") if line.strip()]
    if not lines or _NUMBERED.match(lines[0]):
        return None  # a numbered message without a title is no list that people repost
    for line in lines:
        numbered = _NUMBERED.match(line)
        if numbered is None:
            title = title or line.strip()[:200]
            continue  # the title, the example line (例 张三 36.5), blank lines
        named = _NAME.match(numbered["rest"])
        if named is None or not named["name"].strip():
            return None
        name, rest = named["name"].strip(), numbered["rest"][named.end() :]
        readings = read_temperatures(f"体温{rest}" if _BARE_FIGURE.match(rest) else rest)
        if readings.unreadable:
            problems.append(Problem("temperatures", f"{name}：{texts.UNREADABLE_TEMPERATURE}"))
        elif not readings.values and _DIGIT.search(rest):
            return None  # 2份, 3斤: a list of something else
        entries.append(ListEntry(int(numbered["number"]), name, tuple(readings.values)))
    if not any(e.temperatures for e in entries):
        return None
    return TemperatureList(found.context.village, title, tuple(entries), tuple(problems))
