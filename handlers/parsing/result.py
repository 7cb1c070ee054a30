"""What the parser returns: one plain, JSON-ready value per message."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

Kind = Literal["daily_report", "checkpoint", "donation", "inspection", "notice", "none"]
Role = Literal["head", "checkpoint", "admin", "resident"]
ROLES: tuple[Role, ...] = ("head", "checkpoint", "admin", "resident")


@dataclass(frozen=True)
class MessageContext:
    """Where a message was said and by whom, as far as the parser needs to know."""

    village: str | None = None
    role: Role = "head"
    # The village's report for today is started but incomplete: one field is then enough to count.
    awaiting_report: bool = False


@dataclass(frozen=True)
class Problem:
    field: str
    message: str

    def to_json(self) -> dict[str, str]:
        return {"field": self.field, "message": self.message}


@dataclass
class ParseResult:
    kind: Kind
    village: str | None = None
    fields: dict[str, Any] = field(default_factory=dict)
    correction: bool = False
    missing: list[str] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    warnings: list[Problem] = field(default_factory=list)

    @property
    def is_none(self) -> bool:
        return self.kind == "none"

    def to_json(self) -> dict[str, Any]:
        if self.kind == "none":
            return {"kind": "none"}
        out: dict[str, Any] = {"kind": self.kind, "village": self.village}
        if self.kind == "daily_report":
            out["correction"] = self.correction
        out["fields"] = self.fields
        if self.kind == "daily_report":
            out["missing"] = self.missing
            out["problems"] = [p.to_json() for p in self.problems]
            if self.warnings:
                out["warnings"] = [w.to_json() for w in self.warnings]
        return out
