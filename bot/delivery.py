"""Draining the outbox: each platform's sender takes due rows and reports what became of them.

A platform adapter only has to `deliver` one message and say, by the exception it raises,
whether trying again could help. Retries, backoff and bookkeeping are done here, once.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
from collections.abc import Awaitable, Callable
from typing import Protocol

from handlers.clock import Clock
from handlers.messages import OutgoingMessage
from storage import Database
from storage.models import OutboxMessage

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 5


class DeliveryError(Exception):
    """A send that failed. `permanent` means retrying cannot help (the bot was removed, say)."""

    def __init__(self, reason: str, *, permanent: bool = False, retry_after: float | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.permanent = permanent
        self.retry_after = retry_after


class Platform(Protocol):
    name: str

    async def deliver(self, message: OutgoingMessage) -> str | None:
        """Send one message; return the platform's id for it. Raise DeliveryError on failure."""
        ...


class PlatformAdapter(Platform, Protocol):
    """A chat platform: delivers what the outbox holds and feeds what people say to the app.

    An adapter is built with the running `App` (see bot/platforms.py) and hands each message to
    `await app.receive(message)`, which returns once the message is handled and stored; only then
    may the adapter tell its platform that the message was received.
    """

    async def run(self, stop: asyncio.Event) -> None:
        """Receive messages until `stop` is set."""
        ...


def outgoing(row: OutboxMessage) -> OutgoingMessage:
    return OutgoingMessage(
        chat=row.chat,
        text=row.text,
        purpose=row.purpose,
        mentions=tuple(row.mentions or ()),
        reply_to=row.reply_to,
        priority=row.priority,
    )


def backoff(attempts: int) -> dt.timedelta:
    return dt.timedelta(seconds=min(300, 2 ** max(0, attempts)))


Settled = Callable[[list[int]], Awaitable[None]]
LEASE = dt.timedelta(seconds=120)
MERGE_LIMIT = 3500  # characters: under every platform's limit, with room for mentions


class OutboxSender:
    """Drains one platform's share of the outbox, so a slow platform never holds up another.

    Each row is claimed (status "sending", with a lease) before it is sent and marked sent after,
    so two senders never send one row, and a row whose sender died mid-send is sent again and
    counted as ambiguous. Platforms that set `merges = True` get the pending messages for one
    group merged into one message, which is what keeps a personal WeChat account from being
    restricted for bursts.
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

    async def drain(self, limit: int = 200) -> int:
        """Send every due message of this platform; the number of rows delivered."""
        async with self._draining:
            return await self._drain(limit)

    async def _drain(self, limit: int) -> int:
        delivered = 0
        while True:
            async with self.database.transaction() as store:
                rows = await store.outbox.due(self.clock.now(), self.platform.name, limit=limit)
            if not rows:
                return delivered
            sent = await self._send_all(self._batches(rows))
            delivered += sent
            if not sent:
                return delivered

    async def _send_all(self, batches: list[list[OutboxMessage]]) -> int:
        if self.concurrency == 1:
            sent = 0
            for batch in batches:
                sent += await self._send(batch)
                if self.paced and sent:
                    break
            return sent
        by_chat: dict[str, list[list[OutboxMessage]]] = {}
        for batch in batches:
            by_chat.setdefault(batch[0].chat, []).append(batch)
        gate = asyncio.Semaphore(self.concurrency)

        async def one_chat(chat_batches: list[list[OutboxMessage]]) -> int:
            async with gate:
                return sum([await self._send(batch) for batch in chat_batches])

        return sum(await asyncio.gather(*(one_chat(b) for b in by_chat.values())))

    def _batches(self, rows: list[OutboxMessage]) -> list[list[OutboxMessage]]:
        if not self.merges:
            return [[row] for row in rows]
        batches: dict[str, list[OutboxMessage]] = {}
        for row in rows:
            batch = batches.setdefault(row.chat, [])
            length = sum(len(r.text) + 2 for r in batch)
            if batch and (length + len(row.text) > MERGE_LIMIT or row.reply_to or batch[0].reply_to):
                batches[f"{row.chat}#{row.id}"] = [row]  # too long to merge, or a reply: its own message
            else:
                batch.append(row)
        return list(batches.values())

    async def _claim(self, batch: list[OutboxMessage]) -> list[OutboxMessage]:
        claimed = []
        async with self.database.transaction() as store:
            for row in batch:
                mine = await store.outbox.claim(row.id, self.clock.now(), LEASE)
                if mine is not None:
                    claimed.append(mine)
                    if mine.ambiguous:
                        self.ambiguous += 1
                        log.warning(
                            "outbox row %s to %s: the last sender stopped mid-send; sending again, it may arrive twice",
                            mine.id,
                            mine.chat,
                        )
        return claimed

    async def _send(self, batch: list[OutboxMessage]) -> int:
        rows = await self._claim(batch)
        if not rows:
            return 0
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
            await self._failed([r.id for r in rows], exc)
            return 0
        except Exception as exc:  # a bug or an unexpected library error: retry, and log it
            log.exception("delivering outbox rows %s to %s failed", [r.id for r in rows], message.chat)
            await self._failed([r.id for r in rows], DeliveryError(f"{type(exc).__name__}: {exc}"))
            return 0
        async with self.database.transaction() as store:
            for index, row in enumerate(rows):
                fresh = await store.outbox.get(row.id)
                if fresh is not None:
                    await store.outbox.mark_sent(
                        fresh, self.clock.now(), message_id, merged_into=rows[0].id if index else None
                    )
        await self._settle(rows)
        return len(rows)

    async def _failed(self, row_ids: list[int], error: DeliveryError) -> None:
        settled = []
        async with self.database.transaction() as store:
            for row_id in row_ids:
                row = await store.outbox.get(row_id)
                if row is None:
                    continue
                if error.permanent or row.attempts + 1 >= MAX_ATTEMPTS:
                    log.warning("outbox row %s to %s failed for good: %s", row.id, row.chat, error.reason)
                    await store.outbox.mark_failed(row, error.reason)
                    settled.append(row)
                elif error.retry_after is not None:
                    # The platform said when (429, a full minute for a group): a deferral, not a failure.
                    wait = dt.timedelta(seconds=error.retry_after)
                    await store.outbox.retry_later(row, error.reason, self.clock.now() + wait, counts=False)
                else:
                    await store.outbox.retry_later(row, error.reason, self.clock.now() + backoff(row.attempts))
        await self._settle(settled)

    async def _settle(self, rows: list[OutboxMessage]) -> None:
        """Tell whoever waits on notices that some of their rows are done (sent or failed for good)."""
        ids = [r.id for r in rows if r.purpose == "notice"]
        if ids and self.settled is not None:
            try:
                await self.settled(ids)
            except Exception:
                log.exception("could not report on the delivery of outbox rows %s", ids)

    async def run(self, idle_seconds: float = 1.0) -> None:
        """Drain whenever woken (a handler queued something) or every `idle_seconds`."""
        async with self.database.transaction() as store:
            stranded = await store.outbox.expire_leases(self.platform.name, self.clock.now())
        if stranded:
            log.warning(
                "%d %s messages were being sent when the bot last stopped: sending them again, they may arrive twice",
                stranded,
                self.platform.name,
            )
        while True:
            try:
                await self.drain()
            except Exception:
                log.exception("outbox drain failed; will try again")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.wake.wait(), timeout=idle_seconds)
            self.wake.clear()
