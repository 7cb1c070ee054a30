"""The registry against itself and against what the bot does: nothing declared is left unanswered."""

from __future__ import annotations

import inspect
import json
import re
import subprocess
import sys
from pathlib import Path

from chat_harness import Chat
from parsing_support import PARSER

from handlers.commands import Argument
from handlers.parsing import NONE, ROLES, MessageContext
from handlers.permissions import PERMISSIONS
from handlers.registry import PARSE_SPECS, menu_commands, registry
from handlers.registry_entries import CommandEntry

CORPUS = Path(__file__).parent / "data" / "messages.jsonl"
EVERYONE = frozenset(ROLES)


def test_names_are_unique() -> None:
    names = [entry.name for entry in registry().entries()]
    assert len(names) == len(set(names)), names


def test_the_parser_reads_exactly_the_kinds_the_registry_binds_to_actions() -> None:
    """`villagebot parse` reads PARSE_SPECS without loading the actions: they must be the registry's."""
    assert registry().parse_specs() == PARSE_SPECS


def test_every_kind_the_parser_can_return_has_an_action() -> None:
    kinds = {spec.kind for spec in registry().parse_specs()} - {NONE}
    assert kinds == {"daily_report", "checkpoint", "donation", "inspection", "temperature_list", "notice"}
    for kind in kinds:
        assert registry().kind_action(kind) is not None, kind
    assert registry().kind_action(NONE) is None


def test_every_kind_parsed_from_the_corpus_is_a_declared_kind() -> None:
    declared = {spec.kind for spec in registry().parse_specs()}
    for line in CORPUS.read_text(encoding="utf-8").splitlines():
        text = json.loads(line)["text"]
        for role in ROLES:
            assert PARSER.parse(text, MessageContext("五星村", role)).kind in declared


def test_entries_of_one_kind_share_its_action() -> None:
    for entry in registry().kinds:
        assert entry.action is registry().kind_action(entry.spec.kind), entry.name


def test_every_entry_has_an_action_that_checks_its_permission() -> None:
    """A permission open to every role needs no check; any other must be checked by the action."""
    for entry in registry().entries():
        assert inspect.iscoroutinefunction(entry.action), entry.name
        assert entry.permission in PERMISSIONS, entry.name
        if PERMISSIONS[entry.permission] != EVERYONE:
            source = inspect.getsource(inspect.getmodule(entry.action))  # type: ignore[arg-type]
            assert f"Action.{entry.permission.name}" in source, entry.name


def test_every_command_is_matched_by_each_of_its_words_and_slashes() -> None:
    matcher = registry().command_matcher()
    examples = {"temperature": ["张三 36.5", "#3 36.5℃"]}
    for entry in registry().commands:
        if entry.argument is Argument.SHAPE:
            texts = examples[entry.name]
        else:
            starts = [*entry.trigger.words, *(f"/{slash}" for slash in entry.trigger.slashes)]
            bare = entry.argument in (Argument.NONE, Argument.OPTIONAL_NUMBER)
            texts = [start if bare else f"{start} 3" for start in starts]
        assert texts, entry.name
        for text in texts:
            command = matcher.match(text)
            assert command is not None and command.name == entry.name, (entry.name, text)


def test_the_parser_leaves_alone_what_a_command_claims() -> None:
    claimed = [c for c in registry().commands if c.claimed_from_parser]
    assert [c.name for c in claimed] == ["register_person"]
    for command in claimed:
        for word in command.trigger.words:
            assert PARSER.parse(f"{word} 张三 13912345678 武汉", MessageContext("五星村")).kind == NONE


def test_every_menu_command_is_an_entrys_slash_form() -> None:
    matcher = registry().command_matcher()
    for entry in registry().entries():
        if entry.menu is None:
            continue
        slash = f"/{entry.menu.command}"
        if isinstance(entry, CommandEntry):
            found = matcher.match(slash if entry.argument is Argument.NONE else f"{slash} 五星村")
            assert found is not None and found.name == entry.name, entry.name
        else:
            assert re.match(rf"(?:{entry.spec.trigger.regex()})$", slash), entry.name


def test_the_menu_is_the_telegram_menu_in_its_order() -> None:
    assert menu_commands() == (
        ("report", "日报：报送今日防控数字"),
        ("fix", "更正：更正今日日报中的数字"),
        ("status", "今日进度：各村日报报送情况"),
        ("help", "帮助：日报格式和可用命令"),
        ("bind", "绑定：把本群绑定到村或卡点（镇防控办）"),
        ("broadcast", "通知：向各村群发通知（镇防控办）"),
        ("table", "今日报表：各村数字的表格图片"),
        ("trend", "趋势图：近14天主要数字的变化"),
    )
    assert len({command for command, _ in menu_commands()}) == len(menu_commands())


async def test_help_shows_every_entrys_help_line(chat: Chat) -> None:
    [reply] = await chat.person("五星村", "resident").says("帮助")
    lines = registry().help_lines()
    assert lines and reply.endswith("\n\n" + "\n".join(lines))
    assert {e.name for e in registry().entries() if e.help} == {"correction", "checkpoint", "status", "table"}


def test_reading_messages_loads_no_database_layer() -> None:
    """`villagebot parse` must start fast (bench/parse.py counts its start-up): no SQLAlchemy, no actions."""
    check = (
        "import sys; from bot import cli, parse_batch; from handlers.registry import message_parser; "
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('sqlalchemy', 'alembic', 'storage') "
        "or m.startswith('handlers.actions')))"
    )
    loaded = subprocess.run([sys.executable, "-c", check], capture_output=True, text=True, check=True).stdout
    assert loaded.strip() == "[]"
