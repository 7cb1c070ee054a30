"""Commands: short, fixed phrases (帮助, 今日进度, 绑定 五星村, 整改完成 #3) and their /slash forms.

They are matched before the parser, on the normalised text, and only as the whole message (or
its start, for those that take an argument), so that chat that mentions 进度 stays chat. Which
commands there are comes from the registry (handlers/registry.py).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from enum import Enum

from .parsing import LEADING_MENTIONS, Trigger, normalize


class Argument(Enum):
    """What may follow a command's trigger; the part named `arg` is what the action gets."""

    NONE = r"(?:@\w+)?$"  # 帮助, 帮助@our_bot: nothing
    LINE = r"(?:\s+|$|:)(?P<arg>.*)$"  # 绑定 五星村: the rest of the line
    TEXT = r"(?:\s|$|:)(?P<arg>(?s:.*))$"  # 定时通知 …: the rest, over any number of lines
    NUMBER = r"\s*[:]?\s*#?\s*(?P<arg>[0-9]+)$"  # 解除观察 #3: a number and nothing after it
    NUMBER_FIRST = r"\s*[:]?\s*#?\s*(?P<arg>[0-9]+)"  # 整改完成 #3 已清运: a number, then anything
    OPTIONAL_NUMBER = r"\s*#?\s*(?P<arg>[0-9]*)$"  # 通知回执, 通知回执 #2
    SHAPE = r"$"  # the trigger's pattern is the whole message and names its own `arg` (张三 36.5)


class Verdict(Enum):
    """What a command's action may return instead of None: the message was not its after all."""

    DECLINED = "declined"  # the dispatcher hands the message to the parser, as if no command matched


@dataclass(frozen=True)
class Command:
    name: str
    argument: str = ""


class CommandMatcher:
    """The commands' patterns, tried in the order given: the first that matches the message wins."""

    def __init__(self, commands: Iterable[tuple[str, Trigger, Argument]]) -> None:
        self.patterns = tuple(
            (name, re.compile(rf"^(?:{trigger.regex()}){argument.value}")) for name, trigger, argument in commands
        )

    def match(self, text: str) -> Command | None:
        clean = LEADING_MENTIONS.sub("", normalize(text))
        for name, pattern in self.patterns:
            found = pattern.match(clean)
            if found:
                argument = found.groupdict().get("arg") or ""
                return Command(name, argument.strip())
        return None
