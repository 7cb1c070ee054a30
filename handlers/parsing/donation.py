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
_ITEM = re.compile(rf"(?P<name>[^\s,、;:0-9]+?)\s*(?P<num>{NUMBER})\s*(?P<unit>{ITEM_UNITS})")
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
    goods_text = _MONEY.sub(" ", rest)
    items: list[DonatedItem] = []
    for match in _ITEM.finditer(goods_text):
        name = _GIVING_WORDS.sub("", match["name"])
        quantity = to_number(match["num"])
        if name and quantity is not None:
            items.append(DonatedItem(name, quantity, match["unit"]))
    if isinstance(amount, float) and amount.is_integer():
        amount = int(amount)
    return DonationGift(donor, amount, tuple(items))
