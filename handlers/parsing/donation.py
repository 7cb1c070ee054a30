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
_MONEY = re.compile(rf"(?P<num>{NUMBER})\s*(?P<wan>万|亿)?\s*元")
# An item's name keeps its digits and signs (N95口罩, 84消毒液, 75%酒精) but is not only digits.
_NAME = r"[^\s,、;:]*?[^\s,、;:0-9.%][^\s,、;:]*?"
_ITEM = re.compile(rf"(?P<name>{_NAME})(?P<each>各)?\s*(?P<num>{NUMBER})\s*(?P<unit>{ITEM_UNITS})")
# 4套防护服: the quantity first, then the name.
_ITEM_AFTER = re.compile(
    rf"(?P<num>[0-9]+(?:\.[0-9]+)?|[一二两三四五六七八九十百千万]+)\s*(?P<unit>{ITEM_UNITS})(?P<name>[^\s,、;:0-9]{{1,12}})"
)
_TIMES = {"万": 10_000, "亿": 100_000_000}
_SEPARATOR = re.compile(r"[\s,、;]+")
_BARE_NAME = re.compile(r"[^\s,、;:0-9]{1,12}")
_GIVING_WORDS = re.compile(r"^(?:捐赠|捐款|捐助|捐献|捐了|捐|共计|共|价值|物资)+")
# The town's bulletin counts companies and people apart ("多家爱心企业和257位爱心人士"). A donor is an
# organisation when its name ends like one, or when the admin writes 单位 before or after the name
# (捐赠 单位 红星小卖 …, 捐赠 红星小卖(单位) …).
ORGANISATION_ENDINGS = (
    "公司", "企业", "集团", "超市", "商店", "商行", "商贸", "药店", "药房", "诊所", "医院", "卫生院", "卫生所",
    "厂", "合作社", "信用社", "协会", "商会", "基金会", "联合会", "委员会", "村委会", "居委会", "红十字会",
    "银行", "支行", "分行", "加油站", "酒店", "宾馆", "饭店", "餐厅", "门市部", "小卖部", "农场", "养殖场",
    "学校", "中学", "小学", "幼儿园", "工作室", "中心", "单位", "车队", "施工队", "党支部", "营业部",
)  # fmt: skip
_MARKED_BEFORE = re.compile(r"^单位\s*[:\s]\s*")
_MARKED_AFTER = re.compile(r"^\s*(?:\(单位\)|单位(?=[\s:,]|$))")


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
    organisation: bool = False  # a company, a shop, an association: counted apart from people

    def to_json(self) -> dict[str, Any]:
        return plain_json(
            {
                "donor": self.donor,
                "amount_yuan": self.amount_yuan,
                "items": [i.to_json() for i in self.items],
                "organisation": self.organisation,
            }
        )


def read_donation(found: Triggered) -> DonationGift | None:
    return parse_donation(found.body)


def parse_donation(body: str) -> DonationGift | None:
    body = body.lstrip(" :,")
    marked = _MARKED_BEFORE.match(body)
    if marked is not None:
        body = body[marked.end() :]
    donor_match = _DONOR.match(body)
    if donor_match is None:
        return None
    donor = donor_match["donor"]
    rest = body[donor_match.end() :]
    if donor.endswith("(单位)"):
        donor, marked_after = donor.removesuffix("(单位)"), True
    elif (after := _MARKED_AFTER.match(rest)) is not None:
        rest, marked_after = rest[after.end() :], True
    else:
        marked_after = False
    amount: int | float = 0
    for match in _MONEY.finditer(rest):
        value = to_number(match["num"])
        if value is not None:
            amount += value * _TIMES.get(match["wan"], 1)
    items = _items(_MONEY.sub(" ", rest))
    if isinstance(amount, float) and amount.is_integer():
        amount = int(amount)
    if not amount and not items:
        return None  # 捐款在哪里捐？: the trigger, but no money and no goods
    organisation = marked is not None or marked_after or donor.endswith(ORGANISATION_ENDINGS)
    return DonationGift(donor, amount, tuple(items), organisation)


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
