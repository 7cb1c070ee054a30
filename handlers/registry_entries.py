"""The shapes of the registry (handlers/registry.py): a kind's entry, a command's, and the lookups
the parser, the dispatcher, 帮助 and the menu make in them."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, replace
from functools import cached_property
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from .commands import Argument, Command, CommandMatcher, Verdict
from .parsing import MessageParser, ParseResult, ParseSpec, Payload, Trigger, Vocabulary, claimed_elsewhere
from .permissions import Action

if TYPE_CHECKING:
    from .turn import Turn

P = TypeVar("P", bound=Payload)
KindAction = Callable[["Turn", ParseResult[Any]], Awaitable[None]]
CommandAction = Callable[["Turn", Command], Awaitable[Verdict | None]]


@dataclass(frozen=True)
class MenuEntry:
    """One line of the Telegram command menu: `/command` and what it does, in Chinese."""

    command: str
    description: str
    position: int  # the menu lists its entries by this, lowest first


@dataclass(frozen=True)
class KindEntry(Generic[P]):
    name: str
    spec: ParseSpec[P]
    action: Callable[[Turn, ParseResult[P]], Awaitable[None]]
    permission: Action
    help: str | None = None
    menu: MenuEntry | None = None


@dataclass(frozen=True)
class CommandEntry:
    name: str
    trigger: Trigger
    argument: Argument
    action: CommandAction
    permission: Action
    help: str | None = None
    menu: MenuEntry | None = None
    # Its trigger starts like a kind's (登记返乡 like 登记): the parser must answer none, not that kind.
    claimed_from_parser: bool = False


@dataclass(frozen=True)
class Registry:
    # Kinds in the order the parser tries them; commands in the order they are matched (first wins).
    kinds: tuple[KindEntry[Any], ...]
    commands: tuple[CommandEntry, ...]

    def entries(self) -> Iterator[KindEntry[Any] | CommandEntry]:
        yield from self.kinds
        yield from self.commands

    def parse_specs(self) -> tuple[ParseSpec[Any], ...]:
        """What the parser reads: the commands it must leave alone first, then every kind."""
        claimed = [claimed_elsewhere(c.trigger) for c in self.commands if c.claimed_from_parser]
        return (*claimed, *(kind.spec for kind in self.kinds))

    def parser(self, vocab: Vocabulary) -> MessageParser:
        return MessageParser(vocab, self.parse_specs())

    def command_matcher(self) -> CommandMatcher:
        return CommandMatcher((c.name, c.trigger, c.argument) for c in self.commands)

    @cached_property
    def _kind_actions(self) -> dict[str, KindAction]:
        actions: dict[str, KindAction] = {}
        for entry in self.kinds:
            actions.setdefault(entry.spec.kind, entry.action)
        return actions

    @cached_property
    def _command_actions(self) -> dict[str, CommandAction]:
        return {entry.name: entry.action for entry in self.commands}

    def kind_action(self, kind: str) -> KindAction | None:
        """The action for a parsed kind; None for chat. Entries that share a kind (日报 and 更正)
        share its action."""
        return self._kind_actions.get(kind)

    def command_action(self, name: str) -> CommandAction:
        return self._command_actions[name]

    def help_lines(self) -> list[str]:
        return [entry.help for entry in self.entries() if entry.help is not None]

    def menu_commands(self) -> tuple[tuple[str, str], ...]:
        menu = sorted((e.menu for e in self.entries() if e.menu is not None), key=lambda m: m.position)
        return tuple((m.command, m.description) for m in menu)

    def with_kind_action(self, name: str, action: KindAction) -> Registry:
        """This registry with one kind's action replaced (a test's stand-in for a failing action)."""
        kinds = tuple(replace(k, action=action) if k.name == name else k for k in self.kinds)
        return replace(self, kinds=kinds)
