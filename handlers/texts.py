"""Every sentence the bot says, in one place, so that a town office can review the wording.

Functions rather than bare format strings: each takes exactly the values it shows, so a missing
value is a type error at the call, not a broken message in a village group.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence


def number(value: int | float) -> str:
    return f"{value:g}" if isinstance(value, float) else str(value)


def joined(names: Iterable[str]) -> str:
    return "、".join(names)


# --- the parser's findings ------------------------------------------------------------------


def out_of_range(label: str, value: int | float, low: int, high: int) -> str:
    return f"{label} {number(value)} 不在 {low}–{high} 之间，请核实后重报"


def exceeds(label: str, value: int | float, ceiling_label: str, ceiling: int | float) -> str:
    return f"{label} {number(value)} 大于{ceiling_label} {number(ceiling)}，请核实"


def below_minimum(label: str, value: int | float, minimum: int) -> str:
    return f"{label}仅 {number(value)} 次，要求每天不少于 {minimum} 次"


def field_list(labels: Sequence[str]) -> str:
    return joined(labels)
