"""Messages that arrive together (a backlog after an outage, a busy morning) are stored in one
commit: each still counts exactly as if it had come alone, and one bad message costs only itself."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import func, select

from bot.delivery import DeliveryError, OutboxSender
from handlers import texts
from handlers.messages import IncomingMessage
from storage.models import InboundMessage, OutboxMessage, ReportRevision
from tests.chat_harness import Chat

FULL = "日报 入户排查120户，返乡3人，居家观察12人，发热0人，消毒2次"
WUXING, WANGXIAN = "console:五星村", "console:王岘村"
WUXING_HEAD, WANGXIAN_HEAD = "console:五星村村干部", "console:王岘村村干部"


async def count(chat: Chat, model: type, *where: object) -> int:
    async with chat.app.database.transaction() as store:
        return int((await store.session.execute(select(func.count()).select_from(model).where(*where))).scalar_one())


async def test_a_batch_of_reports_is_stored_and_answered_like_single_ones(
    chat: Chat, caplog: pytest.LogCaptureFixture
) -> None:
    await chat.say_together([
        (WUXING, WUXING_HEAD, "日报 入户排查60户 返乡1人"),  # incomplete: asks for the rest
        (WANGXIAN, WANGXIAN_HEAD, FULL),
        (WUXING, WUXING_HEAD, "居家观察3人 发热0人 消毒2次"),  # completes 五星村's report in the same batch
        (WUXING, "console:五星村-resident", "今天天气不错"),  # chat: no answer
    ])
    wuxing = chat.sent_to(WUXING)
    assert len(wuxing) == 2
    assert "还缺" in wuxing[0] and "居家观察" in wuxing[0] and "消毒" in wuxing[0]
    assert "五星村" in wuxing[1] and "60" in wuxing[1] and "居家观察3" in wuxing[1]
    assert len(chat.sent_to(WANGXIAN)) == 1 and "王岘村" in chat.sent_to(WANGXIAN)[0]
    assert await count(chat, InboundMessage) == 4
    assert "one by one" not in caplog.text  # stored together, not by the fallback
    assert await count(chat, ReportRevision) == 3
    async with chat.app.database.transaction() as store:
        day = chat.app.town.day_of(chat.app.town.clock.now())
        assert (await store.reports.day("五星村", day, chat.app.town.required)).complete


async def test_a_message_delivered_again_in_a_later_batch_is_not_handled_twice(chat: Chat) -> None:
    now = chat.app.town.clock.now()
    first = IncomingMessage("console", WUXING, WUXING_HEAD, FULL, "t-1", now)
    second = IncomingMessage("console", WANGXIAN, WANGXIAN_HEAD, FULL, "t-2", now)
    await chat.app.receive_many([first])
    await chat.app.receive_many([first, second, second])
    await chat.app.drain()
    assert len(chat.sent_to(WUXING)) == 1 and len(chat.sent_to(WANGXIAN)) == 1
    assert await count(chat, InboundMessage) == 2
    assert await count(chat, ReportRevision) == 2


async def test_a_binding_and_a_new_head_made_in_a_batch_count_for_the_messages_after_them(chat: Chat) -> None:
    new_group = "console:雒家滩村二群"
    await chat.say_together([
        (new_group, "console:town_office", "/bind 雒家滩村"),
        (new_group, "console:雒家滩村村干部", "日报 排查88户 返乡4人 居家观察14人 发热0 消毒2次"),
        (WUXING, "console:town_office", "设置村长 五星村 console:new-head"),
        (WUXING, "console:new-head", FULL),
    ])
    assert "雒家滩村" in chat.sent_to(new_group)[1]
    assert "五星村" in chat.sent_to(WUXING)[-1] and "120" in chat.sent_to(WUXING)[-1]
    assert await count(chat, ReportRevision) == 2


async def test_one_message_that_fails_costs_only_itself(
    chat: Chat, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    from handlers import dispatcher
    from handlers.actions import donations

    async def broken(turn: object, result: object) -> None:
        raise RuntimeError("a bug in donations")

    monkeypatch.setitem(dispatcher.KIND_ACTIONS, "donation", broken)
    monkeypatch.setattr(donations, "record_donation", broken)
    await chat.say_together([
        (WUXING, WUXING_HEAD, FULL),
        ("console:leaders", "console:town_office", "捐赠 王岘超市捐口罩500个"),
        (WANGXIAN, WANGXIAN_HEAD, FULL),
    ])
    assert len(chat.sent_to(WUXING)) == 1 and len(chat.sent_to(WANGXIAN)) == 1
    assert chat.sent_to("console:leaders") == [texts.internal_error()]
    assert await count(chat, ReportRevision) == 2
    assert await count(chat, InboundMessage) == 3
    assert await count(chat, InboundMessage, InboundMessage.kind == "error") == 1
    assert "3 messages could not be stored together; handling them one by one" in caplog.text


async def test_a_round_skips_rows_another_sender_holds_and_keeps_a_groups_order(chat: Chat) -> None:
    """Two rows for one group and one for another: the first group's first send fails, so its second
    waits (untried, its tries not used up) rather than overtaking it; a row held by another sender
    is not sent at all."""
    clock = chat.app.town.clock
    now = clock.now()
    async with chat.app.database.transaction() as store:
        a1 = await store.outbox.enqueue(chat=WUXING, text="一", purpose="notice", at=now)
        a2 = await store.outbox.enqueue(chat=WUXING, text="二", purpose="notice", at=now)
        b1 = await store.outbox.enqueue(chat=WANGXIAN, text="三", purpose="notice", at=now)
        held = await store.outbox.enqueue(chat=WANGXIAN, text="四", purpose="notice", at=now)
        assert await store.outbox.claim(held.id, now, dt.timedelta(minutes=2)) is not None
    chat.platform.refusing[WUXING] = DeliveryError("network down")
    sender = OutboxSender(chat.app.database, chat.platform, clock)
    sender.concurrency = 4
    assert await sender.drain() == 1
    assert chat.sent_to(WANGXIAN) == ["三"]
    async with chat.app.database.transaction() as store:
        rows = {row.id: row for row in await store.outbox.by_ids([a1.id, a2.id, b1.id, held.id])}
    assert (rows[a1.id].status, rows[a1.id].attempts) == ("pending", 1)
    assert (rows[a2.id].status, rows[a2.id].attempts) == ("pending", 0)
    assert now < rows[a1.id].next_attempt_at == rows[a2.id].next_attempt_at
    assert rows[held.id].status == "sending"
    del chat.platform.refusing[WUXING]
    clock.advance(dt.timedelta(seconds=5))  # type: ignore[attr-defined]
    assert await sender.drain() == 2
    assert chat.sent_to(WUXING) == ["一", "二"]
    assert await count(chat, OutboxMessage, OutboxMessage.status == "sent") == 3
