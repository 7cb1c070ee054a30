"""What the parser returns: the kind of a message and, per kind, a typed payload that is JSON-ready."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any, Generic, Literal, Protocol, TypeVar

Role = Literal["head", "checkpoint", "admin", "resident"]
ROLES: tuple[Role, ...] = ("head", "checkpoint", "admin", "resident")
NONE = "none"  # the kind of chat: a message that is not for the bot


@dataclass(frozen=True)
class MessageContext:
    """Where a message was said and by whom, as far as the parser needs to know."""

    village: str | None = None
    role: Role = "head"
    # The village's report for today is started but incomplete: one field is then enough to count.
    awaiting_report: bool = False
    # The town's today, against which 昨天 or 2月16日 are read; None reads every report as today's.
    today: dt.date | None = None


@dataclass(frozen=True)
class Problem:
    field: str
    message: str

    def to_json(self) -> dict[str, str]:
        return {"field": self.field, "message": self.message}


class Payload(Protocol):
    """What one kind of message says, as the actions read it."""

    def to_json(self) -> dict[str, Any]:
        """The payload's part of `villagebot parse`'s JSON: everything after "kind"."""
        ...


def plain_json(fields: dict[str, Any]) -> dict[str, Any]:
    """The JSON of a kind that has only fields (every kind but the daily report)."""
    return {"village": None, "fields": fields}


@dataclass(frozen=True)
class Chat:
    """The payload of `none`: nothing."""

    def to_json(self) -> dict[str, Any]:
        return {}


P = TypeVar("P", bound=Payload)


@dataclass(frozen=True)
class ParseResult(Generic[P]):
    kind: str
    payload: P

    def to_json(self) -> dict[str, Any]:
        return {"kind": self.kind, **self.payload.to_json()}


NOTHING: ParseResult[Chat] = ParseResult(NONE, Chat())
