"""Messages that arrive together (a backlog after an outage, a busy morning) are stored in one
commit: each still counts exactly as if it had come alone, and one bad message costs only itself."""

from __future__ import annotations

import asyncio
import datetime as dt
import itertools
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

import pytest
from chat_harness import Chat, FakePlatform
from sqlalchemy import func, select, text
from sqlalchemy.exc import DBAPIError, IntegrityError, OperationalError
from waiting import eventually

from handlers import texts
from handlers.dispatcher import is_transient
from handlers.messages import IncomingMessage, OutgoingMessage
from handlers.transport import DeliveryError, MessageNotStored
from outbox import sender as delivery
from outbox.presence import LOCK_CLASS
from outbox.sender import LEASE, OutboxSender
from storage.models import InboundMessage, OutboxMessage, ReportRevision
from storage.repos.inbound import InboundMessages
from storage.repos.outbox import Outbox, Outcome

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
    await chat.app.receive([first])
    await chat.app.receive([first, second, second])
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
    async def broken(turn: object, result: object) -> None:
        raise RuntimeError("a bug in donations")

    dispatcher = chat.app.dispatcher
    monkeypatch.setattr(dispatcher, "registry", dispatcher.registry.with_kind_action("donation", broken))
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


class SlowPlatform(FakePlatform):
    """Delivers like FakePlatform, but each send first waits at `gate` (once `hold_from` sends
    have gone), and `on_send` runs after each send: the test's hands inside a round."""

    def __init__(self, hold_from: int | None = None) -> None:
        super().__init__()
        self.hold_from = hold_from
        self.gate = asyncio.Event()
        self.waiting = asyncio.Event()
        self.on_send: Callable[[int], Awaitable[None]] | None = None

    async def deliver(self, message: OutgoingMessage) -> str | None:
        if self.hold_from is not None and len(self.sent) >= self.hold_from:
            self.waiting.set()
            await self.gate.wait()
        message_id = await super().deliver(message)
        if self.on_send is not None:
            await self.on_send(len(self.sent))
        return message_id


async def held_mid_round(
    chat: Chat, *, hold_from: int, concurrency: int | None = None, run: bool = False
) -> tuple[SlowPlatform, OutboxSender, asyncio.Task[Any]]:
    """A sender draining (or, with `run`, running) on a SlowPlatform, held at its send after
    `hold_from` have gone: the platform (to let it go on), the sender and its task."""
    platform = SlowPlatform(hold_from=hold_from)
    sender = OutboxSender(chat.app.database, platform, chat.app.town.clock)
    if concurrency is not None:
        sender.concurrency = concurrency
    task = asyncio.create_task(sender.run() if run else sender.drain())
    await asyncio.wait_for(platform.waiting.wait(), 10)
    return platform, sender, task


async def queue_bulk(chat: Chat, groups: int) -> list[int]:
    now = chat.app.town.clock.now()
    async with chat.app.database.transaction() as store:
        ids = await store.outbox.enqueue_many(
            chats=[f"console:群{n}" for n in range(groups)], text="通知", purpose="notice", at=now, priority=10
        )
    return list(ids)


async def statuses(chat: Chat, ids: list[int]) -> list[tuple[str, int]]:
    async with chat.app.database.transaction() as store:
        return [(row.status, row.attempts) for row in await store.outbox.by_ids(ids)]


def failing_writes(
    monkeypatch: pytest.MonkeyPatch,
    fails: Callable[[Sequence[Outcome]], bool],
    error: Callable[[], Exception] = lambda: OperationalError("UPDATE outbox …", {}, Exception("database is locked")),
) -> asyncio.Event:
    """Outbox.settle raises `error()` whenever `fails(outcomes)`; the event is set once it has."""
    real = Outbox.settle
    failed = asyncio.Event()

    async def settle(self: Outbox, outcomes: Sequence[Outcome], owner: int = 0) -> None:
        if fails(outcomes):
            failed.set()
            raise error()
        await real(self, outcomes, owner)

    monkeypatch.setattr(Outbox, "settle", settle)
    return failed


async def test_an_alert_queued_during_a_broadcast_goes_after_the_round_under_way(chat: Chat) -> None:
    await queue_bulk(chat, 40)
    platform = SlowPlatform()
    sender = OutboxSender(chat.app.database, platform, chat.app.town.clock)
    sender.concurrency = 2  # rounds of 8

    async def alert_after_the_third(sent: int) -> None:
        if sent == 3:
            async with chat.app.database.transaction() as store:
                now = chat.app.town.clock.now()
                await store.outbox.enqueue(chat="console:leaders", text="发热", purpose="alert", at=now, priority=0)
            sender.wake.set()  # as App.receive does once a handler has queued something

    platform.on_send = alert_after_the_third
    assert await sender.drain() == 41
    assert [m.text for m in platform.sent].index("发热") == 8  # first in the second round, not 41st


async def test_a_stopped_sender_finishes_and_records_its_round_and_gives_back_the_rest(chat: Chat) -> None:
    ids = await queue_bulk(chat, 6)
    platform, sender, running = await held_mid_round(chat, hold_from=2, run=True)  # the third send under way
    sender.stop()
    platform.gate.set()
    await asyncio.wait_for(running, 10)  # run returns on its own
    assert await statuses(chat, ids) == [("sent", 1)] * 3 + [("pending", 0)] * 3  # nothing left in doubt


async def test_a_sender_cancelled_mid_round_records_what_went_and_leaves_only_the_send_under_way(
    chat: Chat,
) -> None:
    ids = await queue_bulk(chat, 6)
    *_, running = await held_mid_round(chat, hold_from=2, run=True)
    running.cancel()
    with pytest.raises(asyncio.CancelledError):
        await running
    # Two went out and are recorded; the third was on its way (the platform may have it: it will be
    # sent again, counted as ambiguous); the other three never started and are free, untried.
    assert await statuses(chat, ids) == [("sent", 1)] * 2 + [("sending", 0)] + [("pending", 0)] * 3


def locked_at_first(monkeypatch: pytest.MonkeyPatch, times: int) -> list[int]:
    """The database says "locked" at the first `times` claims of a message, as SQLite does when
    another process holds the write lock too long."""
    calls: list[int] = []
    real = InboundMessages.claim

    async def claim(self: InboundMessages, *args: object, **kwargs: object) -> int | None:
        calls.append(1)
        if len(calls) <= times:
            raise OperationalError("INSERT INTO inbound_messages ...", {}, Exception("database is locked"))
        return await real(self, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(InboundMessages, "claim", claim)
    return calls


async def test_a_report_the_database_failed_for_a_moment_is_handled_again_not_lost(
    chat: Chat, monkeypatch: pytest.MonkeyPatch
) -> None:
    chat.app.dispatcher.retry_delays = (0, 0, 0)
    calls = locked_at_first(monkeypatch, times=2)
    await chat.app.receive([IncomingMessage("console", WUXING, WUXING_HEAD, FULL, "t-1", chat.app.town.clock.now())])
    await chat.app.drain()
    assert len(calls) == 3
    [reply] = chat.sent_to(WUXING)
    assert reply.startswith("✅ 已收到五星村")  # not the apology that asks for the report again
    assert await count(chat, ReportRevision) == 1


async def test_a_message_the_database_kept_failing_is_not_confirmed_and_is_handled_when_sent_again(
    chat: Chat, monkeypatch: pytest.MonkeyPatch
) -> None:
    chat.app.dispatcher.retry_delays = (0, 0)
    locked_at_first(monkeypatch, times=3)  # every try
    report = IncomingMessage("console", WUXING, WUXING_HEAD, FULL, "t-1", chat.app.town.clock.now())
    with pytest.raises(MessageNotStored):
        await chat.app.receive([report])  # the adapter does not confirm it: Telegram sends it again
    assert await count(chat, InboundMessage) == 0
    await chat.app.receive([report])  # the database is back
    await chat.app.drain()
    [reply] = chat.sent_to(WUXING)
    assert reply.startswith("✅ 已收到五星村")
    assert await count(chat, ReportRevision) == 1


async def test_a_delivery_report_due_when_the_bot_stopped_is_sent_at_the_next_start(chat: Chat) -> None:
    now = chat.app.town.clock.now()
    notice = IncomingMessage("console", "console:leaders", "console:town_office", "通知：今晚8点开会", "n-1", now)
    await chat.app.receive([notice])
    # Sent by a sender that stopped before reporting (a process killed between the two commits).
    assert await OutboxSender(chat.app.database, chat.platform, chat.app.town.clock).drain() > 1
    assert not [t for t in chat.sent_to("console:leaders") if "送达" in t]
    sender = chat.app.senders["console"]
    running = asyncio.create_task(sender.run())
    await eventually(lambda: [t for t in chat.sent_to("console:leaders") if "送达" in t], what="the delivery report")
    sender.stop()
    await asyncio.wait_for(running, 10)
    [report] = [t for t in chat.sent_to("console:leaders") if "送达" in t]
    assert "已送达" in report


async def start_only(chat: Chat) -> OutboxSender:
    """A sender that does what a starting sender does (take over a dead sender's rows), no more."""
    sender = OutboxSender(chat.app.database, chat.platform, chat.app.town.clock)
    sender.stop()
    await sender.run()
    return sender


@pytest.mark.parametrize("database", ["postgresql"], indirect=True)
async def test_a_starting_sender_leaves_a_live_senders_rows_and_takes_a_dead_ones_at_once(chat: Chat) -> None:
    ids = await queue_bulk(chat, 2)
    clock = chat.app.town.clock
    other = OutboxSender(chat.app.database, chat.platform, clock)  # running in another process
    await other.presence.announce()
    async with chat.app.database.transaction() as store:
        assert len(await store.outbox.claim_many(ids, clock.now(), LEASE, other.presence.owner)) == 2
    async with chat.app.database.transaction() as store:  # and began to send the first
        assert await store.outbox.mark_in_flight(ids[:1], clock.now(), other.presence.owner) == {ids[0]}
    await start_only(chat)  # a second process starts while the first is sending
    assert await OutboxSender(chat.app.database, chat.platform, clock).drain() == 0
    assert await statuses(chat, ids) == [("sending", 0)] * 2  # still the first one's: not sent twice

    await other.presence.withdraw()  # the first process dies (its connection, and so its lock, goes)
    await start_only(chat)
    taking_over = OutboxSender(chat.app.database, chat.platform, clock)
    assert await taking_over.drain() == 2  # at once, not when the leases run out
    assert taking_over.ambiguous == 1  # the one it had begun to send; the other never left


async def test_a_rounds_sends_are_written_as_they_go_so_that_a_killed_process_leaves_few_in_doubt(
    chat: Chat,
) -> None:
    ids = await queue_bulk(chat, 8)
    # One round of 8, written 2 at a time; held mid-round: four sent, the fifth under way.
    platform, _, draining = await held_mid_round(chat, hold_from=4, concurrency=2)

    async def four_sent() -> bool:
        return [s for s, _ in await statuses(chat, ids)].count("sent") == 4

    await eventually(four_sent, what="the second pair's write")  # it may still be on its way
    assert [s for s, _ in await statuses(chat, ids)] == ["sent"] * 4 + ["sending"] * 4
    platform.gate.set()
    assert await asyncio.wait_for(draining, 10) == 8


@pytest.mark.parametrize("database", ["postgresql"], indirect=True)
async def test_a_postgresql_connection_dropped_mid_message_costs_a_retry_not_the_message(
    chat: Chat, monkeypatch: pytest.MonkeyPatch
) -> None:
    chat.app.dispatcher.retry_delays = (0, 0)
    real = InboundMessages.claim
    dropped: list[int] = []

    async def claim(self: InboundMessages, *args: object, **kwargs: object) -> int | None:
        if not dropped:
            dropped.append(1)  # the server ends this session, as a restart or a failover does
            await self.session.execute(text("SELECT pg_terminate_backend(pg_backend_pid())"))
        return await real(self, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(InboundMessages, "claim", claim)
    await chat.app.receive([IncomingMessage("console", WUXING, WUXING_HEAD, FULL, "t-1", chat.app.town.clock.now())])
    await chat.app.drain()
    assert dropped and chat.sent_to(WUXING)[0].startswith("✅ 已收到五星村")
    assert await count(chat, ReportRevision) == 1


@pytest.mark.parametrize(
    ("error", "transient"),
    [
        (OperationalError("INSERT …", {}, Exception("database is locked")), True),
        (OperationalError("SELECT …", {}, Exception("no such column: outbox.lease_owner")), False),
        (OperationalError("INSERT …", {}, Exception("database or disk is full")), False),
        (IntegrityError("INSERT …", {}, Exception("UNIQUE constraint failed")), False),
        (DBAPIError("SELECT 1", {}, Exception("gone"), connection_invalidated=True), True),
        (RuntimeError("a bug"), False),
    ],
)
def test_what_counts_as_the_databases_failure_not_the_messages(error: Exception, transient: bool) -> None:
    assert is_transient(error) is transient


async def test_a_round_whose_first_write_fails_records_everything_at_its_end_and_sends_nothing_twice(
    chat: Chat, monkeypatch: pytest.MonkeyPatch
) -> None:
    ids = await queue_bulk(chat, 8)
    writes = itertools.count()
    failed = failing_writes(monkeypatch, lambda _: next(writes) == 0)  # the first write only
    sender = OutboxSender(chat.app.database, chat.platform, chat.app.town.clock)
    sender.concurrency = 2
    assert await sender.drain() == 8
    assert failed.is_set() and await statuses(chat, ids) == [("sent", 1)] * 8
    assert len(chat.platform.sent) == 8


async def test_senders_are_woken_for_a_delivery_report_not_for_every_send_of_a_broadcast(chat: Chat) -> None:
    now = chat.app.town.clock.now()
    await chat.app.receive([IncomingMessage("console", "console:leaders", "console:town_office", "通知：开会", "n", now)])
    sender = chat.app.senders["console"]
    async with chat.app.database.transaction() as store:
        rows = await store.outbox.due(now, "console", limit=100)
    notice_rows = [r.id for r in rows if r.purpose == "notice"]
    assert len(notice_rows) > 1
    sender.wake.clear()
    await chat.app._notices_settled(notice_rows[:1])  # one send of several recorded: nothing to report yet
    assert not sender.wake.is_set()
    await OutboxSender(chat.app.database, chat.platform, chat.app.town.clock).drain()  # all sent, unreported
    await chat.app._notices_settled(notice_rows)  # the last one: the report is queued
    assert sender.wake.is_set()


@pytest.mark.parametrize("database", ["postgresql"], indirect=True)
async def test_a_sender_whose_presence_connection_dropped_takes_its_lock_again(chat: Chat) -> None:
    clock = chat.app.town.clock
    sender = OutboxSender(chat.app.database, chat.platform, clock)
    await sender.presence.announce()
    connection = sender.presence.lock._connection
    assert connection is not None
    pid = (await connection.execute(text("SELECT pg_backend_pid()"))).scalar()
    await connection.commit()
    async with chat.app.database.engine.connect() as other:
        await other.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
        await other.commit()

        async def backend_gone() -> bool:  # pg_terminate_backend only signals: the backend ends soon after
            found = await other.execute(text("SELECT count(*) FROM pg_stat_activity WHERE pid = :pid"), {"pid": pid})
            await other.commit()
            return found.scalar() == 0

        await eventually(backend_gone, what="the terminated backend to end")
    watcher = OutboxSender(chat.app.database, chat.platform, clock).presence
    assert sender.presence.owner not in await watcher.alive({sender.presence.owner})  # looks dead now
    sender.presence._next_check = 0.0
    await sender.presence.keep()
    assert sender.presence.owner in await watcher.alive({sender.presence.owner})
    await sender.presence.withdraw()


async def test_sends_a_round_could_not_record_are_recorded_before_the_next_round_not_sent_again(
    chat: Chat, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(delivery, "WRITE_RETRY_DELAYS", (0, 0))
    first = await queue_bulk(chat, 4)
    failing = [True]
    failing_writes(monkeypatch, lambda _: failing[0])
    sender = OutboxSender(chat.app.database, chat.platform, chat.app.town.clock)
    sender.concurrency = 2
    await sender.drain()
    assert await statuses(chat, first) == [("sending", 0)] * 4 and len(sender.unwritten) == 4
    failing[0] = False  # the database is back
    second = await queue_bulk(chat, 2)
    assert await sender.drain() == 2
    assert await statuses(chat, first + second) == [("sent", 1)] * 6
    assert len(chat.platform.sent) == 6  # the first four once each


@pytest.mark.parametrize("database", ["postgresql"], indirect=True)
async def test_a_sender_that_could_not_take_its_presence_lock_keeps_trying(chat: Chat) -> None:
    presence = OutboxSender(chat.app.database, chat.platform, chat.app.town.clock).presence
    lock = {"c": LOCK_CLASS, "o": presence.owner}
    async with chat.app.database.engine.connect() as other:  # e.g. the server's memory of a dropped connection
        await other.execute(text("SELECT pg_advisory_lock(:c, :o)"), lock)
        assert not await presence.announce()
        await other.execute(text("SELECT pg_advisory_unlock(:c, :o)"), lock)
        await other.commit()
    presence._next_check = 0.0
    await presence.keep()
    watcher = OutboxSender(chat.app.database, chat.platform, chat.app.town.clock).presence
    assert presence.owner in await watcher.alive({presence.owner})
    await presence.withdraw()


async def test_sends_of_a_round_cancelled_while_its_write_waits_to_be_tried_again_are_kept(
    chat: Chat, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(delivery, "WRITE_RETRY_DELAYS", (30.0,))
    ids = await queue_bulk(chat, 2)
    failing = [True]
    tried = failing_writes(monkeypatch, lambda _: failing[0])
    sender = OutboxSender(chat.app.database, chat.platform, chat.app.town.clock)
    # Both sends start together (one mark for both): the first write that fails is the round's
    # outcomes', and the cancel finds the round at its end, not a send waiting for its mark.
    sender.concurrency = 2
    draining = asyncio.create_task(sender.drain())
    await asyncio.wait_for(tried.wait(), 10)  # the write failed; the round waits to try it again
    draining.cancel()  # the process stops meanwhile
    with pytest.raises(asyncio.CancelledError):
        await draining
    assert len(sender.unwritten) == 2
    failing[0] = False
    await sender.drain()  # written before anything more is claimed
    assert await statuses(chat, ids) == [("sent", 1)] * 2 and len(chat.platform.sent) == 2


async def test_sends_that_cannot_be_recorded_for_longer_than_a_lease_do_not_stop_sending(
    chat: Chat, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(delivery, "WRITE_RETRY_DELAYS", ())
    first = await queue_bulk(chat, 2)
    broken = set(first)  # rows whose outcome the database will not take, whatever happens
    failing_writes(
        monkeypatch,
        lambda outcomes: any(o.row.id in broken for o in outcomes),
        lambda: IntegrityError("UPDATE outbox …", {}, Exception("a constraint")),
    )
    sender = OutboxSender(chat.app.database, chat.platform, chat.app.town.clock)
    await sender.drain()
    assert len(sender.unwritten) == 2
    with pytest.raises(IntegrityError):
        await sender.drain()  # within a lease: nothing more is claimed until they are recorded
    sender._unwritten_since -= LEASE.total_seconds() + 1
    alert = await queue_bulk(chat, 1)
    async with chat.app.database.transaction() as store:
        [row] = await store.outbox.by_ids(alert)
        row.priority = 0
    assert await sender.drain() == 1  # given up on: the alert goes
    assert sender.unwritten == []


async def test_an_idle_sender_looks_again_when_the_first_row_it_deferred_falls_due(chat: Chat) -> None:
    await queue_bulk(chat, 2)
    clock = chat.app.town.clock
    chat.platform.failures = [DeliveryError("429", retry_after=5), DeliveryError("429", retry_after=8)]
    sender = OutboxSender(chat.app.database, chat.platform, clock)
    await sender.drain()
    assert sender._idle_wait(60) == 5  # not a whole idle round
    clock.advance(dt.timedelta(seconds=5))  # type: ignore[attr-defined]
    assert sender._idle_wait(60) == 0  # due now: look at once
    assert sender._idle_wait(60) == 3  # then the next one
    clock.advance(dt.timedelta(seconds=3))  # type: ignore[attr-defined]
    assert sender._idle_wait(60) == 0 and sender._idle_wait(60) == 60
