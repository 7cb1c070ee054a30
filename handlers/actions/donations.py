"""Donations: record them and answer with the running totals the town's bulletin quotes."""

from __future__ import annotations

from decimal import Decimal

from .. import texts
from ..parsing import ParseResult
from ..parsing.donation import DonationGift
from ..permissions import Action, allowed
from ..personal_info import mask_text
from ..turn import Turn


def money(value: Decimal) -> str:
    return f"{value:,.2f}".rstrip("0").rstrip(".")


def goods_list(goods: dict[tuple[str, str], Decimal]) -> list[str]:
    return [f"{name}{money(quantity)}{unit}" for (name, unit), quantity in goods.items()]


# What one gift could be: more is a slip of the keyboard, and would not fit the database's columns.
MAX_DONATION_YUAN = 1_000_000_000
MAX_ITEM_QUANTITY = 100_000_000


async def record_donation(turn: Turn, result: ParseResult[DonationGift]) -> None:
    if not allowed(Action.DONATE, turn.speaker.role):
        await turn.reply(texts.admins_only("捐赠记录"))
        return
    gift = result.payload
    donor = mask_text(gift.donor)  # 张三丰 电话139…: the donor is stored, and thanked, masked
    amount = Decimal(str(gift.amount_yuan))
    if amount > MAX_DONATION_YUAN:
        await turn.reply(texts.donation_too_large(money(amount), "10亿元"))
        return
    too_many = [item for item in gift.items if item.quantity > MAX_ITEM_QUANTITY]
    if too_many:
        written = "、".join(f"{i.name}{texts.number(i.quantity)}{i.unit}" for i in too_many)
        await turn.reply(texts.donation_too_large(written, "1亿"))
        return
    items = [{**item.to_json(), "name": mask_text(item.name)} for item in gift.items]
    await turn.store.donations.add(
        day=turn.day,
        donor=donor,
        amount_yuan=amount,
        items=items,
        by=turn.speaker.id,
        at=turn.message.at,
        organisation=gift.organisation,
    )
    totals = await turn.store.donations.totals(None, turn.day)
    this_goods = "、".join(f"{i.name}{texts.number(i.quantity)}{i.unit}" for i in gift.items)
    await turn.reply(
        texts.donation_recorded(
            donor,
            gift.organisation,
            f"{money(amount)}元" if amount else "",
            this_goods,
            texts.donation_totals(
                organisations=totals.organisations,
                people=totals.people,
                money=money(totals.money_yuan),
                goods=goods_list(totals.goods),
            ),
        )
    )
