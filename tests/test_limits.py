"""Numbers a person could type but could not mean: answered with what is allowed, never the apology,
and never stored beyond what both databases hold."""

from __future__ import annotations

import pytest
from chat_harness import Chat
from sqlalchemy import select

from handlers import texts
from storage.models import CheckpointEntry, Donation

HUGE = "99999999999999999999"
APOLOGY = texts.internal_error()


@pytest.mark.parametrize(
    ("place", "role", "text", "answer"),
    [
        ("五星村", "head", f"#{HUGE} 36.5", None),  # not a registered number: on to the parser, silent
        ("五星村", "head", f"解除观察 #{HUGE}", "没有找到"),
        ("五星村", "head", f"送医 #{HUGE}", "没有找到"),
        ("五星村", "head", f"整改完成 #{HUGE}", "没有找到"),
        ("leaders", "admin", f"取消定时通知 #{HUGE}", "没有待发"),
        ("五星村", "head", "解除观察 #3000000000", "没有找到"),  # over 2³¹: PostgreSQL's integer
        ("leaders", "admin", "整改完成 #2147483648", "没有找到"),
    ],
)
async def test_a_number_that_names_no_record(keyed: Chat, place: str, role: str, text: str, answer: str | None) -> None:
    replies = await keyed.person(place, role).says(text)
    assert all(APOLOGY not in r for r in replies), replies
    if answer is None:
        assert replies == []
    else:
        assert replies and answer in replies[0], replies


@pytest.mark.parametrize("amount", ["99,999,999,999,999,999,999元", "1000000001元", "20亿元"])
async def test_a_donation_beyond_what_a_person_could_mean_is_not_stored(chat: Chat, amount: str) -> None:
    replies = await chat.person("leaders", "admin").says(f"捐赠 张三 {amount}")
    assert replies and "上限（10亿元）" in replies[0] and APOLOGY not in replies[0], replies
    async with chat.app.database.session() as session:
        assert (await session.scalars(select(Donation))).all() == []


async def test_the_largest_donation_allowed_is_stored_exactly(chat: Chat) -> None:
    replies = await chat.person("leaders", "admin").says("捐赠 某集团公司 1000000000元")
    assert "已记录捐赠" in replies[0]
    async with chat.app.database.session() as session:
        (donation,) = (await session.scalars(select(Donation))).all()
    assert donation.amount_yuan == 1_000_000_000


@pytest.mark.parametrize("persons", ["101人", "5000人", f"{HUGE}人"])
async def test_a_registration_of_more_people_than_one_party_is_asked_again(chat: Chat, persons: str) -> None:
    replies = await chat.person("109国道雒家滩卡点", "staff").says(f"登记 甘D66A88 {persons} 36.5 来自白银")
    assert replies and "100" in replies[0] and APOLOGY not in replies[0], replies
    async with chat.app.database.session() as session:
        assert (await session.scalars(select(CheckpointEntry))).all() == []


async def test_goods_beyond_what_a_gift_could_hold_are_not_stored(chat: Chat) -> None:
    replies = await chat.person("leaders", "admin").says(f"捐赠 某公司 口罩{HUGE}个")
    assert replies and "上限（1亿）" in replies[0], replies
    async with chat.app.database.session() as session:
        assert (await session.scalars(select(Donation))).all() == []
