"""Draining the outbox: each platform's sender takes due rows and reports what became of them.

A platform adapter only has to `deliver` one message and say, by the DeliveryError it raises,
what went wrong and whether trying again could help (handlers/transport.py). Retries, backoff and
bookkeeping are done here, once.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import heapq
import logging
import time
from collections.abc import Awaitable, Callable, Sequence

from handlers.clock import Clock
from handlers.messages import OutgoingMessage, Picture
from handlers.transport import DeliveryError, DeliveryFailure, Platform, doubled_delay
from storage import Database
from storage.models import OutboxMessage
from storage.repos.outbox import PRIORITY_REPLY, Outcome

from .presence import SenderPresence, new_owner

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 5


class _RoundRecord:
    """A round's bookkeeping, written to the outbox while the round goes on. The rows about to be
    handed to the platform are marked in flight, committed before their sends start: a process
    killed mid-round leaves only those in doubt (sent again, counted as ambiguous, at the next
    start), not the rest of what it claimed. Outcomes go in the same writes, and on their own
    whenever `every` have come. One write at a time: the marks and outcomes that come while one is
    under way go together in the next, so that sends starting together cost one commit, and no
    send waits for the commit of an outcome."""

    def __init__(self, sender: OutboxSender, every: int) -> None:
        self.sender = sender
        self.every = max(1, every)
        self.outcomes: list[Outcome] = []
        self._written = 0
        self._marking: list[int] = []  # rows whose sends wait for the next write to mark them in flight
        self._marked: asyncio.Future[set[int]] | None = None  # what that write marked
        self._writer: asyncio.Task[None] | None = None

    def add(self, outcomes: list[Outcome]) -> None:
        self.outcomes += outcomes
        if len(self.outcomes) - self._written >= self.every:
            self._start_writing()

    async def in_flight(self, rows: list[OutboxMessage]) -> list[OutboxMessage]:
        """Mark the rows in flight, once committed the ones that may be sent now: still this
        sender's. Raises if the write failed: then none may go, for a crash would leave them
        looking never sent, and they would go again without a word of doubt."""
        ids = [row.id for row in rows]
        self._marking += ids
        if self._marked is None:
            self._marked = asyncio.get_running_loop().create_future()
        marked = self._marked
        self._start_writing()
        # Shielded: one send cancelled while it waits must not cancel the others' answer.
        mine = await asyncio.shield(marked)
        return [row for row in rows if row.id in mine]

    def _start_writing(self) -> None:
        if self._writer is None or self._writer.done():
            self._writer = asyncio.create_task(self._write_while_due())

    async def _write_while_due(self) -> None:
        failed = False  # once a write has failed, marks go alone: an outcome may be what it refuses
        while self._marking or (not failed and len(self.outcomes) - self._written >= self.every):
            marking, self._marking = self._marking, []
            marked, self._marked = self._marked, None
            try:
                try:
                    found = await self._write(in_flight=marking, outcomes=not failed)
                except Exception:
                    if failed or not marking:
                        raise
                    failed = True
                    log.warning("could not record sends mid-round; marking the next ones alone", exc_info=True)
                    found = await self._write(in_flight=marking, outcomes=False)
            except BaseException as exc:
                # Outcomes are kept, not lost: a later write, or the round's last, tries them again.
                # Sends that waited for their mark do not go: they are given back at the round's end.
                if marked is not None and not marked.done():
                    marked.set_exception(exc if isinstance(exc, Exception) else RuntimeError("cancelled"))
                    marked.exception()  # retrieved here: a send cancelled meanwhile never asks
                if not isinstance(exc, Exception):
                    raise
                log.warning("could not record sends mid-round; trying again at the round's end", exc_info=True)
                failed = True
                continue  # marks that came meanwhile still get their try
            if marked is not None and not marked.done():
                marked.set_result(found)

    async def _write(
        self,
        extra: Sequence[Outcome] = (),
        *,
        in_flight: Sequence[int] = (),
        outcomes: bool = True,
        report: bool = True,
    ) -> set[int]:
        end = len(self.outcomes) if outcomes else self._written
        pending = [*self.outcomes[self._written : end], *extra]
        found: set[int] = set()
        if pending or in_flight:
            found = await self.sender.write_outcomes(pending, report=report, in_flight=in_flight)
        self._written = end
        return found

    async def flush(self, extra: Sequence[Outcome] = (), *, report: bool = True) -> None:
        """Once the round's sends are over: after the write under way, what is not written yet,
        and `extra` (rows given back untried). What still cannot be written (the database keeps
        failing, or the sender is cancelled meanwhile) goes to the sender, which writes it before
        it claims anything more and at its stop, so that these sends are not taken for lost, and
        sent again, when their leases run out."""
        written = False
        try:
            if self._writer is not None:
                # Shielded: a sender cancelled meanwhile lets the write under way end, rather than
                # cutting it (and its connection) off halfway.
                await asyncio.shield(self._writer)
            for delay in (*WRITE_RETRY_DELAYS, None):
                try:
                    await self._write(extra, report=report)
                    written = True
                    return
                except Exception as exc:
                    if delay is None:
                        log.error("could not record a round's sends (%s); kept to be recorded before the next", exc)
                        return
                    log.warning("could not record a round's sends; trying again in %.1f s", delay, exc_info=True)
                    await asyncio.sleep(delay)
        finally:
            if not written:
                self.sender.keep_unwritten([*self.outcomes[self._written :], *extra])
                self._written = len(self.outcomes)


def _overtakable(batches: list[list[OutboxMessage]]) -> bool:
    """Whether something queued since these were read could have to go before them: not if they
    are all as urgent as anything can be (replies and alerts)."""
    return any(row.priority > PRIORITY_REPLY for batch in batches for row in batch)


def outgoing(row: OutboxMessage) -> OutgoingMessage:
    return OutgoingMessage(
        chat=row.chat,
        text=row.text,
        purpose=row.purpose,
        mentions=tuple(row.mentions or ()),
        reply_to=row.reply_to,
        priority=row.priority,
        picture=Picture(row.picture, row.picture_name or "picture.png") if row.picture is not None else None,
    )


def backoff(attempts: int) -> dt.timedelta:
    return dt.timedelta(seconds=doubled_delay(1.0, 300.0, attempts))


Settled = Callable[[list[int]], Awaitable[None]]
LEASE = dt.timedelta(seconds=120)
# Messages claimed together, as a multiple of the platform's concurrency: more makes a send's
# share of the claim's commit smaller. Outcomes are written `concurrency` at a time (_RoundRecord).
ROUND = 4
MERGE_LIMIT = 3500  # characters: under every platform's limit, with room for mentions
# How far back a starting sender looks for notices whose delivery report was never sent: a report
# about a week-old notice would only confuse, and a database upgraded from before reports has many.
UNREPORTED_LOOKBACK = dt.timedelta(days=1)
# Seconds between tries of a round's last write (SQLite busy, a connection dropped): sends that
# went out but were not recorded would go again, as ambiguous, once their leases ran out.
WRITE_RETRY_DELAYS = (0.2, 1.0, 3.0)
# Due rows read at a time: wide enough that the messages waiting for one group are seen, and
# merged, together even when hundreds of groups are waiting too.
WINDOW = 1000


class OutboxSender:
    """Drains one platform's share of the outbox, so a slow platform never holds up another.

    Each row is claimed (status "sending", with a lease) before it is sent and marked sent after,
    so two senders never send one row; just before its send it is marked in flight, so that a row
    whose sender died mid-send is sent again and counted as ambiguous, and a row it had only
    claimed is sent again as if it had never been claimed. Platforms that set `merges = True` get
    the pending messages for one group merged into one message, which is what keeps a personal
    WeChat account from being restricted for bursts and a busy Telegram group under its 20
    messages a minute.
    """

    def __init__(self, database: Database, platform: Platform, clock: Clock, settled: Settled | None = None) -> None:
        self.database = database
        self.platform = platform
        self.clock = clock
        self.settled = settled
        self.merges = bool(getattr(platform, "merges", False))
        # A paced platform (WeChat) takes seconds a message: look again for due rows after each one,
        # so that a reply does not wait behind a broadcast fetched before it was written.
        self.paced = bool(getattr(platform, "paced", self.merges))
        # Sends to different groups that may be under way at once (Telegram: while one waits for
        # its HTTP answer and its commit, others go). Each group's own messages stay in order.
        self.concurrency = 1 if self.paced else max(1, int(getattr(platform, "concurrency", 1)))
        self.wake = asyncio.Event()
        self.ambiguous = 0  # sends that may have arrived twice: counted, logged, reported
        self._draining = asyncio.Lock()  # one drain at a time in this process
        self._stopping = False
        # Whose leases are this sender's: a sender in another process leaves them alone while this
        # one runs, and takes them over at once when it has died (outbox/presence.py).
        self.presence = SenderPresence(database, new_owner())
        self.unwritten: list[Outcome] = []  # outcomes a round could not record: see _RoundRecord.flush
        self._unwritten_since = 0.0  # when the oldest of them could not be recorded (monotonic)
        self._deferred_until: list[dt.datetime] = []  # a heap: when the rows this sender deferred fall due

    async def drain(self, limit: int = WINDOW) -> int:
        """Send every due message of this platform; the number of rows delivered."""
        async with self._draining:
            return await self._drain(limit)

    def stop(self) -> None:
        """Start no more sends: the round under way finishes and is recorded, then `run` returns.
        Cancelling the sender instead would leave that round's sends unrecorded, to be sent again
        (as possibly doubled) at the next start."""
        self._stopping = True
        self.wake.set()

    async def _drain(self, limit: int) -> int:
        await self._write_unwritten()
        delivered = 0
        while not self._stopping:
            self.wake.clear()  # what is queued from here on is in the rows read next, or wakes us
            async with self.database.transaction() as store:
                rows = await store.outbox.due(self.clock.now(), self.platform.name, limit=limit)
            if not rows:
                return delivered
            sent = await self._send_all(self._batches(rows))
            delivered += sent
            if not sent:
                return delivered
        return delivered

    async def _send_all(self, batches: list[list[OutboxMessage]]) -> int:
        """Send in rounds: each round's rows are claimed in one commit and their outcomes written
        a few at a time, so a send costs a fraction of a commit, and a process that dies leaves
        only the sends since the last write in doubt. After a round, anything queued meanwhile
        (an alert, a reply) sends the sender back for the due rows, most urgent first, so that it
        does not wait behind the rest of a broadcast read before it was written."""
        sent = 0
        size = 1 if self.paced else self.concurrency * ROUND
        for start in range(0, len(batches), size):
            sent += await self._round(batches[start : start + size])
            if self._stopping or (
                sent and (self.paced or (self.wake.is_set() and _overtakable(batches[start + size :])))
            ):
                break
        return sent

    def _batches(self, rows: list[OutboxMessage]) -> list[list[OutboxMessage]]:
        """The rows as messages to send, in order. Where the platform merges, the rows waiting for
        one group become one message (replies with replies, the rest with the rest), up to
        MERGE_LIMIT characters: a group that wrote ten reports while the bot was catching up gets
        one answer, not ten that would each count against the group's limit. A message with a
        picture goes alone (its text is the picture's caption), and what comes after it stays after it."""
        if not self.merges:
            return [[row] for row in rows]
        batches: list[list[OutboxMessage]] = []
        filling: dict[tuple[str, bool], list[OutboxMessage]] = {}
        for row in rows:
            if row.picture is not None:
                batches.append([row])
                filling.pop((row.chat, row.reply_to is not None), None)
                continue
            key = (row.chat, row.reply_to is not None)
            batch = filling.get(key)
            if batch is None or sum(len(r.text) + 2 for r in batch) + len(row.text) > MERGE_LIMIT:
                batch = filling[key] = []
                batches.append(batch)
            batch.append(row)
        return batches

    async def _round(self, batches: list[list[OutboxMessage]]) -> int:
        try:
            await self.presence.keep()
        except Exception:
            log.warning("could not renew this sender's presence lock; sending on, trying again later", exc_info=True)
        await self._write_unwritten()
        claimed = await self._claim(batches)
        if not claimed:
            return 0
        by_chat: dict[str, list[list[OutboxMessage]]] = {}
        for batch in claimed:
            by_chat.setdefault(batch[0].chat, []).append(batch)
        # Different groups at once; one group's messages in order, and none after one that failed.
        gate = asyncio.Semaphore(self.concurrency)
        record = _RoundRecord(self, every=self.concurrency)
        started: set[int] = set()  # rows whose send began: the platform may have them

        async def one_chat(chat_batches: list[list[OutboxMessage]]) -> None:
            async with gate:
                await self._send_in_order(chat_batches, record, started)

        try:
            await asyncio.gather(*(one_chat(chat_batches) for chat_batches in by_chat.values()))
        except BaseException:
            # Cancelled mid-round (the process is stopping), or worse: what went out is recorded
            # and what never started is given back. A send cut off on its way stays "sending", to
            # be sent again as ambiguous at the next start: the platform may have it.
            await record.flush(self._untried(claimed, record.outcomes, started), report=False)
            raise
        await record.flush(self._untried(claimed, record.outcomes, started))
        return sum(1 for o in record.outcomes if o.status == "sent")

    def _untried(self, batches: list[list[OutboxMessage]], outcomes: list[Outcome], started: set[int]) -> list[Outcome]:
        """Claimed rows whose send never began (the sender was stopped first): free again, untried."""
        settled = {o.row.id for o in outcomes}
        now = self.clock.now()
        return [
            Outcome(row, "pending", row.attempts, next_attempt_at=now)
            for batch in batches
            for row in batch
            if row.id not in settled and row.id not in started
        ]

    def keep_unwritten(self, outcomes: list[Outcome]) -> None:
        """Outcomes a round could not record, to be recorded before anything more is claimed.
        Recording one twice is harmless: the second finds the row no longer this sender's."""
        if not self.unwritten:
            self._unwritten_since = time.monotonic()
        self.unwritten += outcomes

    async def _write_unwritten(self) -> None:
        """Outcomes a round could not record (the database failed): recorded now, or this fails
        and no more is claimed until they are."""
        if not self.unwritten:
            return
        outcomes, self.unwritten = self.unwritten, []
        written = False
        try:
            await self.write_outcomes(outcomes)
            written = True
        except Exception:
            if time.monotonic() - self._unwritten_since > LEASE.total_seconds():
                # Failing for longer than a lease: something other than a passing outage. Sending
                # must not stop for it (a fever alert may be waiting); these rows go again, as
                # ambiguous, now that their leases have run out.
                log.error("gave up recording %d sends: they will go again, and may arrive twice", len(outcomes))
                written = True
                return
            raise
        finally:
            if not written:  # failed, or cancelled on the way: kept for the next try
                self.unwritten = outcomes + self.unwritten

    async def write_outcomes(
        self, outcomes: list[Outcome], *, report: bool = True, in_flight: Sequence[int] = ()
    ) -> set[int]:
        """Record what became of claimed rows and, unless told not to, report on settled notices;
        in the same commit, mark the rows `in_flight` (about to be sent) and give the ones marked."""
        async with self.database.transaction() as store:
            if outcomes:
                await store.outbox.settle(outcomes, self.presence.owner)
            marked = await store.outbox.mark_in_flight(in_flight, self.clock.now(), self.presence.owner)
        if report:
            await self._settle(
                [o.row.id for o in outcomes if o.status in ("sent", "failed") and o.row.purpose == "notice"]
            )
        return marked

    async def _claim(self, batches: list[list[OutboxMessage]]) -> list[list[OutboxMessage]]:
        """The batches with the rows this sender now holds; a row someone else took is dropped."""
        now = self.clock.now()
        async with self.database.transaction() as store:
            rows = await store.outbox.claim_many([r.id for b in batches for r in b], now, LEASE, self.presence.owner)
        mine = {row.id: row for row in rows}
        for row in mine.values():
            if row.ambiguous:
                self.ambiguous += 1
                log.warning(
                    "outbox row %s to %s: the last sender stopped mid-send; sending again, it may arrive twice",
                    row.id,
                    row.chat,
                )
        claimed = [[mine[r.id] for r in batch if r.id in mine] for batch in batches]
        return [batch for batch in claimed if batch]

    async def _send_in_order(self, batches: list[list[OutboxMessage]], record: _RoundRecord, started: set[int]) -> None:
        """One group's batches, in order, each outcome recorded as soon as it is known."""
        for index, batch in enumerate(batches):
            if self._stopping:
                return
            try:
                batch = await record.in_flight(batch)
            except Exception:
                return  # not marked, not sent: given back at the round's end (logged by the write)
            if self._stopping:
                return  # marked, not sent: given back at the round's end, its mark cleared
            if not batch:
                continue  # another sender took these over: theirs to send
            started.update(row.id for row in batch)
            result = await self._send(batch)
            waiting = [o for o in result if o.status == "pending"]
            if waiting:
                # Released untried (their tries not used up) until the one that failed is tried
                # again, so that they do not overtake it.
                again = waiting[0].next_attempt_at
                result += [
                    Outcome(row, "pending", row.attempts, next_attempt_at=again)
                    for later in batches[index + 1 :]
                    for row in later
                ]
            record.add(result)
            if waiting:
                return

    async def _send(self, rows: list[OutboxMessage]) -> list[Outcome]:
        message = outgoing(rows[0])
        if len(rows) > 1:
            mentions = tuple(dict.fromkeys(m for r in rows for m in (r.mentions or ())))
            message = OutgoingMessage(
                chat=message.chat,
                text="\n\n".join(r.text for r in rows),
                purpose=message.purpose,
                mentions=mentions,
                priority=min(r.priority for r in rows),
            )
        try:
            message_id = await self.platform.deliver(message)
        except DeliveryError as exc:
            return self._failed(rows, exc)
        except Exception as exc:  # a bug or an unexpected library error: retry, and log it
            log.exception("delivering outbox rows %s to %s failed", [r.id for r in rows], message.chat)
            failure = DeliveryFailure.NO_ANSWER if isinstance(exc, TimeoutError) else DeliveryFailure.FAILED
            return self._failed(rows, DeliveryError(f"{type(exc).__name__}: {exc}", failure=failure))
        now = self.clock.now()
        return [
            Outcome(
                row,
                "sent",
                row.attempts + 1,
                sent_at=now,
                platform_message_id=message_id,
                merged_into=rows[0].id if index else None,
            )
            for index, row in enumerate(rows)
        ]

    def _failed(self, rows: list[OutboxMessage], error: DeliveryError) -> list[Outcome]:
        if error.ambiguous:
            self.ambiguous += len(rows)
            log.warning(
                "outbox rows %s: %s; the platform may have them already, sending again (they may arrive twice)",
                [r.id for r in rows],
                error.reason,
            )
        now = self.clock.now()
        outcomes = []
        for row in rows:
            if error.permanent or row.attempts + 1 >= MAX_ATTEMPTS:
                log.warning("outbox row %s to %s failed for good: %s", row.id, row.chat, error.reason)
                outcomes.append(Outcome(row, "failed", row.attempts + 1, error=error.reason, failure=error.failure))
                continue
            if error.retry_after is not None:
                # The platform said when (429, a full minute for a group): a deferral, not a failure.
                later, tries = now + dt.timedelta(seconds=error.retry_after), row.attempts
            else:
                later, tries = now + backoff(row.attempts), row.attempts + 1
            outcomes.append(
                Outcome(row, "pending", tries, error=error.reason, failure=error.failure, next_attempt_at=later)
            )
            heapq.heappush(self._deferred_until, later)
        return outcomes

    async def _settle(self, ids: list[int]) -> None:
        """Tell whoever waits on notices that some of their rows are done (sent or failed for good)."""
        if ids and self.settled is not None:
            try:
                await self.settled(ids)
            except Exception:
                log.exception("could not report on the delivery of outbox rows %s", ids)

    async def run(self, idle_seconds: float = 1.0) -> None:
        """Drain whenever woken (a handler queued something) or every `idle_seconds`."""
        try:
            await self.presence.announce()
        except Exception:
            log.warning("could not take this sender's presence lock; sending on, trying again later", exc_info=True)
        try:
            await self._run(idle_seconds)
        finally:
            try:
                await self._write_unwritten()
            except Exception:
                log.error("%d sends could not be recorded before stopping: they may go again at the next start",
                          len(self.unwritten), exc_info=True)  # fmt: skip
            await self.presence.withdraw()

    async def _run(self, idle_seconds: float) -> None:
        async with self.database.transaction() as store:
            now = self.clock.now()
            owners = await store.outbox.lease_owners(self.platform.name, now)
            dead = owners - await self.presence.alive(owners)
            stranded = await store.outbox.expire_leases(self.platform.name, now, dead)
        if stranded.in_flight:
            log.warning(
                "%d %s messages were being sent by a sender that stopped: sending them again, they may arrive twice",
                stranded.in_flight,
                self.platform.name,
            )
        if stranded.untried:
            log.info(
                "%d %s messages a sender that stopped had taken and not sent yet: sending them as usual",
                stranded.untried,
                self.platform.name,
            )
        if self.settled is not None:
            async with self.database.transaction() as store:
                unreported = await store.outbox.unreported_notice_rows(self.platform.name, now - UNREPORTED_LOOKBACK)
            await self._settle(unreported)
        while not self._stopping:
            try:
                await self.drain()
            except Exception:
                log.exception("outbox drain failed; will try again")
            if self._stopping:
                return
            try:
                await self.presence.keep()  # also while idle: no round looks at it then
            except Exception:
                log.warning("could not renew this sender's presence lock; trying again", exc_info=True)
            # asyncio.timeout, not wait_for: on Python 3.11 wait_for can swallow a cancellation that
            # comes as the event is set, and the sender would then never stop.
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(self._idle_wait(idle_seconds)):
                    await self.wake.wait()
            self.wake.clear()

    def _idle_wait(self, idle_seconds: float) -> float:
        """Seconds to wait for something new: at most until the first row this sender deferred
        falls due, so that the last groups of a broadcast that got a 429 get it as soon as Telegram
        allows, not at the next idle round."""
        now = self.clock.now()
        if self._deferred_until and self._deferred_until[0] <= now:
            while self._deferred_until and self._deferred_until[0] <= now:
                heapq.heappop(self._deferred_until)
            return 0.0  # one fell due while the sender was busy: look now
        if not self._deferred_until:
            return idle_seconds
        return min(idle_seconds, (self._deferred_until[0] - now).total_seconds())
