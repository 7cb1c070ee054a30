"""A registration's temperatures: one that cannot be read is asked for again, and 正常 is never guessed."""

from __future__ import annotations

import pytest
from chat_harness import Chat
from sqlalchemy import func, select

from storage.models import CheckpointEntry

CHECKPOINT = "109国道雒家滩卡点"


@pytest.mark.parametrize(("text", "written"), [
    ("登记 甘D56789 2人 体温45", "45"),
    ("登记 甘D56789 2人 体温3.7.5", "3.7.5"),
    ("登记 甘D56789 1人 体温 99.5°F", "99.5"),
])  # fmt: skip
async def test_an_unreadable_reading_is_not_stored_and_is_asked_for_again(chat: Chat, text: str, written: str) -> None:
    staff = chat.person(CHECKPOINT, "checkpoint")
    [reply] = await staff.says(text)
    assert f"「{written}」" in reply and "未登记" in reply and "正常" not in reply
    async with chat.app.database.transaction() as store:
        assert await store.session.scalar(select(func.count()).select_from(CheckpointEntry)) == 0


async def test_no_reading_is_not_called_normal(chat: Chat) -> None:
    [reply] = await chat.person(CHECKPOINT, "checkpoint").says("登记 甘D56789 2人 来自兰州")
    assert "体温 未测" in reply and "正常" not in reply


async def test_normal_is_said_when_it_was_written(chat: Chat) -> None:
    [reply] = await chat.person(CHECKPOINT, "checkpoint").says("登记 甘D56789 2人 体温正常")
    assert "体温 正常" in reply


async def test_readings_that_were_read_are_listed(chat: Chat) -> None:
    [reply] = await chat.person(CHECKPOINT, "checkpoint").says("登记 甘D56789 2人 体温36.5 36.8 测温2次")
    assert "体温 36.5、36.8" in reply and "#1" in reply
