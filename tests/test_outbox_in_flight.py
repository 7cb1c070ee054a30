"""Crash accounting in the outbox: only a send handed to the platform is in doubt when its sender dies.

A sender claims a round of rows, then marks the ones it is about to send in flight, in a commit
before the sends start. When the sender dies, a row it held that was in flight may have reached
the group: it is sent again and counted as ambiguous (a lost alert is worse than a doubled one).
A row it had only claimed never left: it goes again as if it had never been claimed, unflagged.
These run on SQLite and on PostgreSQL (conftest's `database`), on a clock that moves when told.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from handlers.clock import ManualClock
from outbox.sender import LEASE
from storage import Database
from storage.models import OutboxMessage
from storage.repos.outbox import Outcome, Stranded

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
