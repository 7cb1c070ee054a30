"""A donation (捐赠): who gave, how much money, which goods."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from .kinds import Triggered
from .normalize import NUMBER, to_number
from .result import plain_json

ITEM_UNITS = (
    "公斤|千克|个|只|箱|盒|袋|件|桶|瓶|吨|斤|包|支|副|套|双|台|把|卷|提|份|顶|块|张|车|辆|条|片|壶|罐|升|瓶|kg|L"
)
_DONOR = re.compile(rf"^(?P<donor>[^\s:,]+?)(?=\s|:|,|捐|$|[0-9.]+\s*万?元|[0-9.]+\s*(?:{ITEM_UNITS}))")
_MONEY = re.compile(rf"(?P<num>{NUMBER})\s*(?P<wan>万)?\s*元")
# An item's name keeps its digits and signs (N95口罩, 84消毒液, 75%酒精) but is not only digits.
_NAME = r"[^\s,、;:]*?[^\s,、;:0-9.%][^\s,、;:]*?"
_ITEM = re.compile(rf"(?P<name>{_NAME})(?P<each>各)?\s*(?P<num>{NUMBER})\s*(?P<unit>{ITEM_UNITS})")
# 4套防护服: the quantity first, then the name.
_ITEM_AFTER = re.compile(
    rf"(?P<num>[0-9]+(?:\.[0-9]+)?|[一二两三四五六七八九十百千万]+)\s*(?P<unit>{ITEM_UNITS})(?P<name>[^\s,、;:0-9]{{1,12}})"
)
_SEPARATOR = re.compile(r"[\s,、;]+")
_BARE_NAME = re.compile(r"[^\s,、;:0-9]{1,12}")
_GIVING_WORDS = re.compile(r"^(?:捐赠|捐款|捐助|捐献|捐了|捐|共计|共|价值|物资)+")


@dataclass(frozen=True)
class DonatedItem:
    name: str  # as written: N95口罩, 84消毒液
    quantity: int | float
    unit: str

    def to_json(self) -> dict[str, Any]:
        return {"name": self.name, "quantity": self.quantity, "unit": self.unit}


@dataclass(frozen=True)
class DonationGift:
    """Who gave, how much money (0 when only goods), and which goods."""

    donor: str
    amount_yuan: int | float
    items: tuple[DonatedItem, ...]

    def to_json(self) -> dict[str, Any]:
        return plain_json(
            {"donor": self.donor, "amount_yuan": self.amount_yuan, "items": [i.to_json() for i in self.items]}
        )


def read_donation(found: Triggered) -> DonationGift | None:
    return parse_donation(found.body)


def parse_donation(body: str) -> DonationGift | None:
    body = body.lstrip(" :,")
    donor_match = _DONOR.match(body)
    if donor_match is None:
        return None
    donor = donor_match["donor"]
    rest = body[donor_match.end() :]
    amount: int | float = 0
    for match in _MONEY.finditer(rest):
        value = to_number(match["num"])
        if value is not None:
            amount += value * (10000 if match["wan"] else 1)
    items = _items(_MONEY.sub(" ", rest))
    if isinstance(amount, float) and amount.is_integer():
        amount = int(amount)
    if not amount and not items:
        return None  # 捐款在哪里捐？: the trigger, but no money and no goods
    return DonationGift(donor, amount, tuple(items))


def _items(goods_text: str) -> list[DonatedItem]:
    """口罩700个, 4套防护服, and 牛奶、饼干各15箱 (names without a quantity take the next 各's)."""
    items: list[DonatedItem] = []
    waiting: list[str] = []  # names written without a quantity, before a 各
    for token in filter(None, _SEPARATOR.split(goods_text)):
        found = list(_ITEM.finditer(token))
        if not found and (after := _ITEM_AFTER.fullmatch(token)) is not None:
            quantity = to_number(after["num"])
            if quantity is not None:
                items.append(DonatedItem(_GIVING_WORDS.sub("", after["name"]), quantity, after["unit"]))
            waiting.clear()
            continue
        if not found:
            if _BARE_NAME.fullmatch(token):
                waiting.append(_GIVING_WORDS.sub("", token))
            continue
        for match in found:
            name = _GIVING_WORDS.sub("", match["name"])
            quantity = to_number(match["num"])
            if not name or quantity is None:
                continue
            names = [*waiting, name] if match["each"] else [name]
            items.extend(DonatedItem(n, quantity, match["unit"]) for n in names if n)
            waiting.clear()
    return items
