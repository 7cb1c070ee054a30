"""A donation (捐赠): who gave, how much money, which goods."""

from __future__ import annotations

import re
from typing import Any

from .normalize import NUMBER, to_number
from .result import ParseResult

ITEM_UNITS = (
    "公斤|千克|个|只|箱|盒|袋|件|桶|瓶|吨|斤|包|支|副|套|双|台|把|卷|提|份|顶|块|张|车|辆|条|片|壶|罐|升|瓶|kg|L"
)
_DONOR = re.compile(rf"^(?P<donor>[^\s:,]+?)(?=\s|:|,|捐|$|[0-9.]+\s*万?元|[0-9.]+\s*(?:{ITEM_UNITS}))")
_MONEY = re.compile(rf"(?P<num>{NUMBER})\s*(?P<wan>万)?\s*元")
_ITEM = re.compile(rf"(?P<name>[^\s,、;:0-9]+?)\s*(?P<num>{NUMBER})\s*(?P<unit>{ITEM_UNITS})")
_GIVING_WORDS = re.compile(r"^(?:捐赠|捐款|捐助|捐献|捐了|捐|共计|共|价值|物资)+")


def parse_donation(body: str) -> ParseResult | None:
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
    items: list[dict[str, Any]] = []
    for match in _ITEM.finditer(goods_text):
        name = _GIVING_WORDS.sub("", match["name"])
        quantity = to_number(match["num"])
        if name and quantity is not None:
            items.append({"name": name, "quantity": quantity, "unit": match["unit"]})
    if isinstance(amount, float) and amount.is_integer():
        amount = int(amount)
    return ParseResult(kind="donation", fields={"donor": donor, "amount_yuan": amount, "items": items})
