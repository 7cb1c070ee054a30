"""Crash accounting in the outbox: only a send handed to the platform is in doubt when its sender dies.

A sender claims a round of rows, then marks the ones it is about to send in flight, in a commit
before the sends start. When the sender dies, a row it held that was in flight may have reached
the group: it is sent again and counted as ambiguous (a lost alert is worse than a doubled one).
A row it had only claimed never left: it goes again as if it had never been claimed, unflagged.
These run on SQLite and on PostgreSQL (conftest's `database`), on a clock that moves when told.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Sequence

import pytest
from chat_harness import FakePlatform
from sqlalchemy.exc import OperationalError
from waiting import eventually

from handlers.clock import ManualClock
from handlers.messages import OutgoingMessage
from outbox.sender import LEASE, OutboxSender
from storage import Database
from storage.models import OutboxMessage
from storage.repos.outbox import Outbox, Outcome, Stranded

A, B, C = 101, 202, 303  # three senders' owner numbers


async def queue(database: Database, clock: ManualClock, count: int) -> list[int]:
    async with database.transaction() as store:
        return await store.outbox.enqueue_many(
            [f"console:群{n}" for n in range(count)], text="通知", purpose="notice", at=clock.now(), priority=10
        )


async def rows(database: Database, ids: Sequence[int]) -> list[OutboxMessage]:
    async with database.transaction() as store:
        return await store.outbox.by_ids(ids)


async def claim(database: Database, clock: ManualClock, ids: Sequence[int], owner: int) -> list[OutboxMessage]:
    async with database.transaction() as store:
        return await store.outbox.claim_many(ids, clock.now(), LEASE, owner)


async def mark(database: Database, clock: ManualClock, ids: Sequence[int], owner: int) -> set[int]:
    async with database.transaction() as store:
        return await store.outbox.mark_in_flight(ids, clock.now(), owner)


async def test_a_dead_senders_rows_are_ambiguous_only_where_they_were_in_flight(
    database: Database, clock: ManualClock
) -> None:
    ids = await queue(database, clock, 5)
    assert len(await claim(database, clock, ids, A)) == 5
    assert await mark(database, clock, ids[1:3], A) == set(ids[1:3])  # two sends started, then A died
    clock.advance(LEASE + dt.timedelta(seconds=1))
    taken = await claim(database, clock, ids, B)
    assert [row.id for row in taken if row.ambiguous] == ids[1:3]
    assert [row.id for row in taken if not row.ambiguous] == [ids[0], *ids[3:]]
    assert all(row.in_flight_since is None and row.lease_owner == B for row in await rows(database, ids))


async def test_a_row_only_claimed_again_after_a_send_that_failed_is_not_ambiguous(
    database: Database, clock: ManualClock
) -> None:
    """The mark is the send's, not the row's: once its outcome is written (here, tried again
    later) a sender that then claims the row and dies before sending leaves nothing in doubt."""
    [row_id] = await queue(database, clock, 1)
    [row] = await claim(database, clock, [row_id], A)
    await mark(database, clock, [row_id], A)
    async with database.transaction() as store:
        await store.outbox.settle([Outcome(row, "pending", 1, error="timeout", next_attempt_at=clock.now())], A)
    [settled] = await rows(database, [row_id])
    assert (settled.status, settled.in_flight_since) == ("pending", None)
    assert not (await claim(database, clock, [row_id], B))[0].ambiguous  # B claims it, and dies unsent
    clock.advance(LEASE + dt.timedelta(seconds=1))
    assert not (await claim(database, clock, [row_id], C))[0].ambiguous


async def test_ambiguity_stays_with_the_row_until_it_is_sent(database: Database, clock: ManualClock) -> None:
    """A row once in doubt stays counted as such, even if the sender that took it over dies too
    before sending it."""
    [row_id] = await queue(database, clock, 1)
    await claim(database, clock, [row_id], A)
    await mark(database, clock, [row_id], A)
    clock.advance(LEASE + dt.timedelta(seconds=1))
    assert (await claim(database, clock, [row_id], B))[0].ambiguous
    clock.advance(LEASE + dt.timedelta(seconds=1))
    assert (await claim(database, clock, [row_id], C))[0].ambiguous


async def test_a_sender_marks_only_rows_it_still_holds(database: Database, clock: ManualClock) -> None:
    ids = await queue(database, clock, 3)
    await claim(database, clock, ids[:2], A)
    clock.advance(LEASE + dt.timedelta(seconds=1))
    await claim(database, clock, ids[:1], B)  # A's lease ran out, and B took the first row over
    # The first is B's, the third nobody's: A may send only the second.
    assert await mark(database, clock, ids, A) == {ids[1]}
    assert [row.in_flight_since is not None for row in await rows(database, ids)] == [False, True, False]
    assert await mark(database, clock, [], A) == set()


async def test_a_starting_sender_frees_a_dead_senders_rows_and_tells_which_were_in_flight(
    database: Database, clock: ManualClock
) -> None:
    ids = await queue(database, clock, 6)
    await claim(database, clock, ids[:4], A)
    await claim(database, clock, ids[4:], B)
    await mark(database, clock, ids[:1], A)
    await mark(database, clock, ids[4:], B)
    async with database.transaction() as store:
        assert await store.outbox.lease_owners("console", clock.now()) == {A, B}
        assert await store.outbox.expire_leases("console", clock.now(), {A}) == Stranded(in_flight=1, untried=3)
        assert await store.outbox.expire_leases("console", clock.now(), set()) == Stranded(0, 0)
        due = {row.id for row in await store.outbox.due(clock.now(), "console")}
    assert due == set(ids[:4])  # at once, not when the leases run out; B's (alive) are left to it
    taken = await claim(database, clock, ids, C)
    assert {row.id: row.ambiguous for row in taken} == {ids[0]: True, ids[1]: False, ids[2]: False, ids[3]: False}


class HeldPlatform(FakePlatform):
    """Delivers like FakePlatform, but each send waits at `gate` once `hold_from` have gone;
    `started` counts the sends that reached it (delivered or waiting)."""

    def __init__(self, hold_from: int) -> None:
        super().__init__()
        self.hold_from = hold_from
        self.gate = asyncio.Event()
        self.started = 0

    async def deliver(self, message: OutgoingMessage) -> str | None:
        self.started += 1
        if self.started > self.hold_from:
            await self.gate.wait()
        return await super().deliver(message)


async def in_flight(database: Database, ids: Sequence[int]) -> list[int]:
    return [row.id for row in await rows(database, ids) if row.in_flight_since is not None]


async def test_a_sender_that_dies_mid_round_leaves_in_doubt_exactly_the_sends_it_had_started(
    database: Database, clock: ManualClock
) -> None:
    ids = await queue(database, clock, 20)
    dying = HeldPlatform(hold_from=5)
    sender = OutboxSender(database, dying, clock)
    sender.concurrency = 3  # rounds of 12; five sent, then three held at the platform
    draining = asyncio.create_task(sender.drain())
    try:
        async def held() -> bool:
            return dying.started == 8 and len(await in_flight(database, ids)) == 3

        await eventually(held, what="three sends held at the platform, and marked in flight")
        # The process dies here: nothing more of it runs (its task is left waiting, then dropped).
        held_chats = {f"console:群{n}" for n in range(5, 8)}
        marked = [row for row in await rows(database, ids) if row.in_flight_since is not None]
        assert {row.chat for row in marked} == held_chats
        assert [row.status for row in await rows(database, ids)].count("sending") == 7  # the round's other four

        restarted = OutboxSender(database, FakePlatform(), clock)
        restarted.stop()
        await restarted.run()  # what a starting sender does first: take over the dead one's rows
        platform = FakePlatform()
        taking_over = OutboxSender(database, platform, clock)
        assert await taking_over.drain() == 15
    finally:
        draining.cancel()
        await asyncio.gather(draining, return_exceptions=True)
    assert taking_over.ambiguous == 3
    after = await rows(database, ids)
    assert {row.chat for row in after if row.ambiguous} == held_chats
    assert all(row.status == "sent" for row in after)
    assert sorted(m.chat for m in platform.sent) == sorted(f"console:群{n}" for n in range(5, 20))


async def test_the_sends_that_start_together_are_marked_in_one_write(
    database: Database, clock: ManualClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    ids = await queue(database, clock, 8)
    marks: list[list[int]] = []
    real = Outbox.mark_in_flight

    async def recording(self: Outbox, row_ids: Sequence[int], now: dt.datetime, owner: int = 0) -> set[int]:
        if row_ids:
            marks.append(list(row_ids))
        return await real(self, row_ids, now, owner)

    monkeypatch.setattr(Outbox, "mark_in_flight", recording)
    sender = OutboxSender(database, FakePlatform(), clock)
    sender.concurrency = 4
    assert await sender.drain() == 8
    assert sorted(marks[0]) == ids[:4]  # the round's first four, in one UPDATE
    assert sorted(i for m in marks for i in m) == ids  # every send marked before it went, once
    assert len(marks) < len(ids)


async def test_a_send_whose_mark_could_not_be_written_does_not_go_and_is_given_back_untried(
    database: Database, clock: ManualClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Unmarked, a send that then went and died with its process would look never sent, and go
    again without a word of doubt: it waits instead for a write that works."""
    ids = await queue(database, clock, 2)
    real = Outbox.mark_in_flight
    failing = [True]

    async def locked(self: Outbox, row_ids: Sequence[int], now: dt.datetime, owner: int = 0) -> set[int]:
        if failing and row_ids:
            raise OperationalError("UPDATE outbox …", {}, Exception("database is locked"))
        return await real(self, row_ids, now, owner)

    monkeypatch.setattr(Outbox, "mark_in_flight", locked)
    platform = FakePlatform()
    sender = OutboxSender(database, platform, clock)
    sender.concurrency = 2
    assert await sender.drain() == 0
    assert platform.sent == []
    untried = await rows(database, ids)
    assert [(row.status, row.attempts, row.in_flight_since) for row in untried] == [("pending", 0, None)] * 2
    failing.clear()  # the database is back
    assert await sender.drain() == 2
    assert sorted(m.chat for m in platform.sent) == ["console:群0", "console:群1"]
    after = await rows(database, ids)
    assert [(row.status, row.attempts, row.ambiguous) for row in after] == [("sent", 1, False)] * 2
