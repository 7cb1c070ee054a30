"""Every kind of message and every command the bot understands, each declared once, here.

An entry names its trigger (and, for a kind, the function that reads it), the action that answers
it, the permission that action checks (a row of handlers/permissions.py; HELP and STATUS are
everyone's), its line in 帮助 and its entry in the Telegram command menu. The parser, the command
matcher, the dispatcher, the help text and the menu are all built from these entries, so a new
kind is a parse module, an action module, its texts, its spec and its entry below.

The triggers and readers are plain data, declared at the top; the actions are bound in
`registry()`, which imports them when it is first called, so that `villagebot parse` reads
messages without loading the database layer.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from functools import cache
from typing import TYPE_CHECKING, Any

from . import texts
from .commands import Argument, Command
from .parsing import MessageParser, ParseResult, ParseSpec, Placement, Trigger, Vocabulary, claimed_elsewhere
from .parsing.checkpoint import read_checkpoint
from .parsing.daily_report import read_correction, read_report, read_untriggered
from .parsing.donation import read_donation
from .parsing.inspection import read_inspection
from .parsing.notice import TRIGGER as NOTICE_TRIGGER
from .parsing.notice import read_notice
from .parsing.temperature_list import TRIGGER_PATTERN as TEMPERATURE_LIST_TRIGGER
from .parsing.temperature_list import read_temperature_list
from .permissions import Action
from .registry_entries import CommandEntry, KindEntry, MenuEntry, P, Registry

if TYPE_CHECKING:
    from .turn import Turn


def _kind(
    name: str,
    spec: ParseSpec[P],
    action: Callable[[Turn, ParseResult[P]], Awaitable[None]],
    permission: Action,
    help: str | None = None,
    menu: MenuEntry | None = None,
) -> KindEntry[Any]:
    """A kind's entry; the payload its reader returns must be the one its action takes."""
    return KindEntry(name, spec, action, permission, help, menu)


def _at_start(*words: str, slash: str) -> Trigger:
    return Trigger(words, (slash,), hashtag=True)


REPORT = ParseSpec(
    "daily_report",
    Trigger(("疫情日报", "每日报告", "零报告", "日报"), ("report",), hashtag=True),
    Placement.AFTER_HEADING,
    read_report,
    untriggered=read_untriggered,
)
CORRECTION = ParseSpec(
    "daily_report", _at_start("更正", "修改", "订正", slash="fix"), Placement.AT_START, read_correction
)
CHECKPOINT = ParseSpec("checkpoint", _at_start("登记", slash="checkin"), Placement.AT_START, read_checkpoint)
DONATION = ParseSpec("donation", _at_start("捐赠", "捐款", slash="donate"), Placement.AT_START, read_donation)
INSPECTION = ParseSpec(
    "inspection", _at_start("督查", "检查发现", slash="inspect"), Placement.AT_START, read_inspection
)
NOTICE = ParseSpec("notice", Trigger(pattern=NOTICE_TRIGGER), Placement.ORIGINAL, read_notice)
#: Tried on every message with 接龙 or a numbered line in it (see its TRIGGER_PATTERN).
TEMPERATURE_LIST = ParseSpec(
    "temperature_list", Trigger(pattern=TEMPERATURE_LIST_TRIGGER), Placement.ORIGINAL, read_temperature_list
)
#: 返乡登记 is a command (people.register_person) whose trigger starts like 登记, a checkpoint's.
REGISTER_PERSON = Trigger(("返乡登记", "登记返乡"), ("register",), hashtag=True)

#: What the parser reads, in the order it tries them: the command it must leave alone, then every
#: kind. `registry()` binds the same specs to their actions (tests/test_registry.py holds them equal).
PARSE_SPECS: tuple[ParseSpec[Any], ...] = (
    claimed_elsewhere(REGISTER_PERSON),
    REPORT,
    CORRECTION,
    CHECKPOINT,
    DONATION,
    INSPECTION,
    NOTICE,
    TEMPERATURE_LIST,
)


def message_parser(vocab: Vocabulary) -> MessageParser:
    """The parser for a town, reading every kind in the registry."""
    return MessageParser(vocab, PARSE_SPECS)


@cache
def registry() -> Registry:
    """Every kind and command with its action, permission, help line and menu entry."""
    from .actions import (
        admin,
        checkpoints,
        donations,
        inspections,
        notices,
        people,
        pictures,
        progress,
        reports,
        scheduled_notices,
        temperature_lists,
    )

    async def send_help(turn: Turn, command: Command) -> None:
        """帮助: the report template, then the help line of every entry that has one."""
        await progress.send_help(turn, registry().help_lines())

    return Registry(
        kinds=(
            _kind(
                "daily_report",
                REPORT,
                reports.record_daily_report,
                Action.REPORT,
                menu=MenuEntry("report", texts.MENU_REPORT, 1),
            ),
            _kind(
                "correction",
                CORRECTION,
                reports.record_daily_report,
                Action.CORRECT,
                help=texts.HELP_CORRECTION,
                menu=MenuEntry("fix", texts.MENU_CORRECTION, 2),
            ),
            _kind(
                "checkpoint",
                CHECKPOINT,
                checkpoints.register_arrival,
                Action.CHECKIN,
                help=texts.HELP_CHECKPOINT,
            ),
            _kind(
                "donation",
                DONATION,
                donations.record_donation,
                Action.DONATE,
            ),
            _kind(
                "inspection",
                INSPECTION,
                inspections.open_item,
                Action.INSPECT,
            ),
            _kind(
                "notice",
                NOTICE,
                notices.broadcast_notice,
                Action.NOTIFY,
                menu=MenuEntry("broadcast", texts.MENU_NOTICE, 6),
            ),
            _kind(
                "temperature_list",
                TEMPERATURE_LIST,
                temperature_lists.record_temperature_list,
                Action.TEMPERATURE_LIST,
            ),
        ),
        commands=(
            CommandEntry(
                "help",
                Trigger(("帮助", "日报格式", "日报模板"), ("help", "start")),
                Argument.NONE,
                send_help,
                Action.HELP,
                menu=MenuEntry("help", texts.MENU_HELP, 4),
            ),
            CommandEntry(
                "status",
                Trigger(("今日进度", "日报进度", "今天进度"), ("status",)),
                Argument.NONE,
                progress.send_status,
                Action.STATUS,
                help=texts.HELP_STATUS,
                menu=MenuEntry("status", texts.MENU_STATUS, 3),
            ),
            CommandEntry(
                "table",
                Trigger(("今日报表", "报表图片", "日报表格"), ("table",)),
                Argument.NONE,
                pictures.send_table,
                Action.TOWN_PICTURES,
                help=texts.HELP_PICTURES,
                menu=MenuEntry("table", texts.MENU_TABLE, 7),
            ),
            CommandEntry(
                "trend",
                Trigger(("趋势图", "近期趋势"), ("trend",)),
                Argument.NONE,
                pictures.send_trend,
                Action.TOWN_PICTURES,
                menu=MenuEntry("trend", texts.MENU_TREND, 8),
            ),
            CommandEntry(
                "bind",
                Trigger(("绑定",), ("bind",)),
                Argument.LINE,
                admin.bind_chat,
                Action.BIND,
                menu=MenuEntry("bind", texts.MENU_BIND, 5),
            ),
            CommandEntry(
                "set_head",
                Trigger(("设置村长", "设置报告人"), ("sethead",)),
                Argument.LINE,
                admin.set_head,
                Action.SET_ROLE,
            ),
            CommandEntry(
                "rectify",
                Trigger(("整改完成", "已整改"), ("done",)),
                Argument.NUMBER_FIRST,
                inspections.rectify_item,
                Action.RECTIFY,
            ),
            CommandEntry(
                "list_scheduled",
                Trigger(("定时通知列表", "查看定时通知"), ("schedules",)),
                Argument.NONE,
                scheduled_notices.list_scheduled,
                Action.NOTIFY,
            ),
            CommandEntry(
                "cancel_scheduled",
                Trigger(("取消定时通知",), ("unschedule",)),
                Argument.NUMBER_FIRST,
                scheduled_notices.cancel_scheduled,
                Action.NOTIFY,
            ),
            CommandEntry(
                "register_person",
                REGISTER_PERSON,
                Argument.TEXT,
                people.register_person,
                Action.REGISTER_PERSON,
                claimed_from_parser=True,
            ),
            CommandEntry(
                "release",
                Trigger(("解除观察", "解除隔离"), ("release",)),
                Argument.NUMBER,
                people.release_person,
                Action.REGISTER_PERSON,
            ),
            CommandEntry(
                "hospital",
                Trigger(("送医", "转院", "送医院"), ("hospital",)),
                Argument.NUMBER,
                people.send_to_hospital,
                Action.REGISTER_PERSON,
            ),
            CommandEntry(
                "temperature",
                # 张三 36.5, #3 36.5℃: a person (by name or number) and a reading, nothing else.
                Trigger(
                    pattern=r"(?P<arg>(?:#[0-9]+|[\u4e00-\u9fff·]{2,6})\s*(?:体温)?[:]?\s*(?:3[4-9]|4[0-2])(?:\.[0-9])?)"
                    r"\s*(?:°C|℃|度)?"
                ),
                Argument.SHAPE,
                people.check_temperature,
                Action.REGISTER_PERSON,
            ),
            CommandEntry(
                "receipts",
                Trigger(("通知回执", "回执"), ("receipts",)),
                Argument.OPTIONAL_NUMBER,
                notices.send_receipts,
                Action.NOTIFY,
            ),
            CommandEntry(
                "schedule",
                Trigger(("定时通知",), ("schedule",)),
                Argument.TEXT,
                scheduled_notices.schedule_notice,
                Action.NOTIFY,
            ),
        ),
    )


def menu_commands() -> tuple[tuple[str, str], ...]:
    """The Telegram command menu, (command, description) in the menu's order."""
    return registry().menu_commands()
