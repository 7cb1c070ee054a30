"""How one kind of message is recognised and read: its trigger, where the trigger stands, its reader.

A spec is plain data. The registry (handlers/registry.py) declares one per kind, next to the kind's
action, and hands them to MessageParser; so parsing knows no actions and stays a pure function.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from enum import Enum
from typing import Generic, TypeVar

from .result import MessageContext, Payload
from .vocabulary import Vocabulary

P = TypeVar("P", bound=Payload)

#: @-mentions at the start of a message (the bot, or the people it is addressed to): not its words.
LEADING_MENTIONS = re.compile(r"^(?:@\S+\s*)+")


def without_leading_mentions(text: str) -> str:
    return LEADING_MENTIONS.sub("", text)


@dataclass(frozen=True)
class Trigger:
    """What starts a message of one kind or command: its words (tried in order) and its /slash forms
    (`/report` or `/report@our_bot`), or, for a trigger no list of words can say, a regex."""

    words: tuple[str, ...] = ()
    slashes: tuple[str, ...] = ()
    hashtag: bool = False  # "#日报" is 日报 too
    pattern: str | None = None

    def regex(self) -> str:
        """The trigger as a regex fragment, to be anchored by whoever matches it."""
        if self.pattern is not None:
            return self.pattern
        parts = [f"{'#?' if self.hashtag else ''}(?:{'|'.join(map(re.escape, self.words))})"] if self.words else []
        parts += [rf"/{slash}(?:@\w+)?" for slash in self.slashes]
        return "|".join(parts)


class Placement(Enum):
    """Where a kind's trigger stands, which decides the text it is matched against."""

    AT_START = "at_start"  # the normalised message's first word, after any @mentions: 登记 …
    AFTER_HEADING = "after_heading"  # may follow a village's name, a date, brackets: 【五星村2月17日日报】
    ORIGINAL = "original"  # the text as written, before normalisation: a notice is forwarded as written


@dataclass(frozen=True)
class Triggered:
    """A message whose trigger matched: what a kind's reader gets."""

    text: str  # the whole message: normalised, or as written for Placement.ORIGINAL
    trigger: str  # the text the trigger matched, with what stood before it
    body: str  # what follows the trigger
    context: MessageContext
    vocab: Vocabulary


@dataclass(frozen=True)
class ParseSpec(Generic[P]):
    """One kind's trigger and reader. A reader returns None for a message it finds nothing in, which
    is then chat. `untriggered` reads a village head's message that no trigger claimed."""

    kind: str
    trigger: Trigger
    placement: Placement
    read: Callable[[Triggered], P | None]
    untriggered: Callable[[Triggered], P | None] | None = None


def _nothing(found: Triggered) -> None:
    return None


def claimed_elsewhere(trigger: Trigger) -> ParseSpec[Payload]:
    """A spec that reads nothing: for a command whose trigger starts like a kind's (登记返乡 like 登记),
    so that the parser answers `none` rather than misreading it as that kind."""
    return ParseSpec("none", trigger, Placement.AT_START, _nothing)
