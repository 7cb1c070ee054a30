"""ID and mobile numbers in free text: stored and shown masked; a notice keeps phone numbers but is
refused with an ID number in it. The whole suite is watched for leaks too (tests/number_leaks.py)."""

from __future__ import annotations

import datetime as dt
import logging

import pytest
from chat_harness import Chat
from number_leaks import LeakingRecords, scan_database
from sqlalchemy import select

from handlers import texts
from storage import Database
from storage.models import Donation, InspectionItem, Notice, OutboxMessage, ScheduledNotice
from townconfig import TownConfig

PHONE, ID = "13912345678", "62040219900101123X"
PHONE_MASKED, ID_MASKED = "139****5678", "620402********123X"


async def test_an_inspection_finding_is_stored_and_shown_masked(chat: Chat) -> None:
    replies = await chat.person("leaders", "admin").says(f"督查 五星村 张三丰 电话{PHONE} 身份证{ID} 未落实居家隔离")
    assert PHONE_MASKED in replies[0] and ID_MASKED in replies[0]
    assert all(PHONE not in t and ID not in t for t in chat.sent_to("console:五星村"))
    async with chat.app.database.session() as session:
        (item,) = (await session.scalars(select(InspectionItem))).all()
    assert item.problem == f"张三丰 电话{PHONE_MASKED} 身份证{ID_MASKED} 未落实居家隔离"


async def test_a_donor_is_stored_and_thanked_masked(chat: Chat) -> None:
    replies = await chat.person("leaders", "admin").says(f"捐赠 {PHONE} 捐款500元")
    assert PHONE_MASKED in replies[0] and PHONE not in replies[0]
    async with chat.app.database.session() as session:
        assert (await session.scalars(select(Donation.donor))).all() == [PHONE_MASKED]


async def test_a_notice_keeps_the_hotline(chat: Chat) -> None:
    await chat.person("leaders", "admin").says(f"通知：发热请拨打镇卫生院电话{PHONE}")
    assert any(PHONE in t for t in chat.sent_to("console:五星村"))


@pytest.mark.parametrize("text", [f"通知：请{ID}本人到镇上登记", f"定时通知 明天08:00 请{ID}本人到镇上登记"])
async def test_a_notice_with_an_id_number_is_refused_and_nothing_sent(chat: Chat, text: str) -> None:
    replies = await chat.person("leaders", "admin").says(text)
    assert replies == [texts.notice_has_id_number()]
    assert chat.sent_to("console:五星村") == []
    async with chat.app.database.session() as session:
        assert (await session.scalars(select(Notice))).all() == []
        assert (await session.scalars(select(ScheduledNotice))).all() == []


async def test_a_reply_that_quotes_what_was_written_masks_it(chat: Chat) -> None:
    replies = await chat.person("109国道雒家滩卡点", "staff").says(f"登记 甘D66A88 1人 体温{PHONE}")
    assert replies and PHONE not in replies[0]


async def test_the_watch_finds_a_whole_number_where_it_must_not_be(database: Database, town_config: TownConfig) -> None:
    """The suite-wide scan can fail: an outgoing reply, a donor and a log line that show numbers whole."""
    async with database.transaction() as store:
        await store.outbox.enqueue(chat="console:x", text=f"电话{PHONE}", purpose="reply", at=dt.datetime.now(dt.UTC))
        await store.outbox.enqueue(chat="console:x", text=f"热线{PHONE}", purpose="notice", at=dt.datetime.now(dt.UTC))
        await store.donations.add(
            day=dt.date(2020, 2, 17), donor=ID, amount_yuan=1, items=[], by="x", at=dt.datetime.now(dt.UTC)
        )
    found = await scan_database(database, town_config)
    assert any("outgoing reply" in f and PHONE in f for f in found)
    assert not any("outgoing notice" in f for f in found)
    assert any(f.startswith("donor") for f in found)
    assert any("report json 2020-02-17" in f for f in found) and any("report xlsx" in f for f in found)
    async with database.transaction() as store:  # leave the database clean for the fixture's own scan
        await store.session.execute(OutboxMessage.__table__.delete())
        await store.session.execute(Donation.__table__.delete())
    records = LeakingRecords()
    logger = logging.getLogger("test.leaks")
    logger.addHandler(records)
    try:
        logger.warning("registered %s", ID)
    finally:
        logger.removeHandler(records)
    assert records.take() == []  # masked by the bot's filter before it is checked
