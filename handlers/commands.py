"""Commands: short, fixed phrases (帮助, 今日进度, 绑定 五星村, 整改完成 #3) and their /slash forms.

They are matched before the parser, on the normalised text, and only as the whole message (or
its start, for those that take an argument), so that chat that mentions 进度 stays chat.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from .parsing import normalize

_COMMANDS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("help", re.compile(r"^(?:/help|/start|帮助|日报格式|日报模板)(?:@\w+)?$")),
    ("status", re.compile(r"^(?:/status|今日进度|日报进度|今天进度)(?:@\w+)?$")),
    ("bind", re.compile(r"^(?:/bind(?:@\w+)?|绑定)(?:\s+|$|:)(?P<arg>.*)$")),
    ("set_head", re.compile(r"^(?:/sethead(?:@\w+)?|设置村长|设置报告人)(?:\s+|$|:)(?P<arg>.*)$")),
    ("rectify", re.compile(r"^(?:/done(?:@\w+)?|整改完成|已整改)\s*[:]?\s*#?\s*(?P<arg>[0-9]+)")),
    ("list_scheduled", re.compile(r"^(?:/schedules(?:@\w+)?|定时通知列表|查看定时通知)$")),
    ("cancel_scheduled", re.compile(r"^(?:/unschedule(?:@\w+)?|取消定时通知)\s*[:]?\s*#?\s*(?P<arg>[0-9]+)")),
    ("register_person", re.compile(r"^(?:#?返乡登记|#?登记返乡|/register(?:@\w+)?)(?:\s|$|:)(?P<arg>.*)$", re.DOTALL)),
    ("release", re.compile(r"^(?:解除观察|解除隔离|/release(?:@\w+)?)\s*[:]?\s*#?\s*(?P<arg>[0-9]+)$")),
    ("hospital", re.compile(r"^(?:送医|转院|送医院|/hospital(?:@\w+)?)\s*[:]?\s*#?\s*(?P<arg>[0-9]+)$")),
    (
        "temperature",
        re.compile(
            r"^(?P<arg>(?:#[0-9]+|[\u4e00-\u9fff·]{2,6})\s*(?:体温)?[:]?\s*(?:3[4-9]|4[0-2])(?:\.[0-9])?)\s*(?:°C|℃|度)?$"
        ),
    ),
    ("receipts", re.compile(r"^(?:/receipts(?:@\w+)?|通知回执|回执)\s*#?\s*(?P<arg>[0-9]*)$")),
    ("schedule", re.compile(r"^(?:/schedule(?:@\w+)?|定时通知)(?:\s+|$|:)(?P<arg>.*)$", re.DOTALL)),
)
_LEADING_MENTIONS = re.compile(r"^(?:@\S+\s+)+")


@dataclass(frozen=True)
class Command:
    name: str
    argument: str = ""


def match_command(text: str) -> Command | None:
    clean = _LEADING_MENTIONS.sub("", normalize(text))
    for name, pattern in _COMMANDS:
        match = pattern.match(clean)
        if match:
            argument = match.groupdict().get("arg") or ""
            return Command(name, argument.strip())
    return None
