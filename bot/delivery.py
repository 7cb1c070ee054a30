"""Draining the outbox: each platform's sender takes due rows and reports what became of them.

A platform adapter only has to `deliver` one message and say, by the exception it raises,
whether trying again could help. Retries, backoff and bookkeeping are done here, once.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
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


class OutboxSender:
    """Drains one platform's share of the outbox, so a slow platform never holds up another."""

    def __init__(self, database: Database, platform: Platform, clock: Clock) -> None:
        self.database = database
        self.platform = platform
        self.clock = clock
        self.wake = asyncio.Event()
        self._draining = asyncio.Lock()  # one drain at a time, or two could take the same row

    async def drain(self, limit: int = 200) -> int:
        """Send every due message of this platform; the number delivered."""
        async with self._draining:
            return await self._drain(limit)

    async def _drain(self, limit: int) -> int:
        delivered = 0
        while True:
            async with self.database.transaction() as store:
                rows = await store.outbox.due(self.clock.now(), self.platform.name, limit=limit)
            if not rows:
                return delivered
            progress = False
            for row in rows:
                if await self._send(row):
                    delivered += 1
                    progress = True
            if not progress:
                return delivered

    async def _send(self, row: OutboxMessage) -> bool:
        try:
            message_id = await self.platform.deliver(outgoing(row))
        except DeliveryError as exc:
            await self._failed(row.id, exc)
            return False
        except Exception as exc:  # a bug or an unexpected library error: retry, and log it
            log.exception("delivering outbox row %s to %s failed", row.id, row.chat)
            await self._failed(row.id, DeliveryError(f"{type(exc).__name__}: {exc}"))
            return False
        async with self.database.transaction() as store:
            fresh = await store.outbox.get(row.id)
            if fresh is not None:
                await store.outbox.mark_sent(fresh, self.clock.now(), message_id)
        return True

    async def _failed(self, row_id: int, error: DeliveryError) -> None:
        async with self.database.transaction() as store:
            row = await store.outbox.get(row_id)
            if row is None:
                return
            if error.permanent or row.attempts + 1 >= MAX_ATTEMPTS:
                log.warning("outbox row %s to %s failed for good: %s", row.id, row.chat, error.reason)
                await store.outbox.mark_failed(row, error.reason)
            else:
                wait = (
                    dt.timedelta(seconds=error.retry_after) if error.retry_after is not None else backoff(row.attempts)
                )
                await store.outbox.retry_later(row, error.reason, self.clock.now() + wait)

    async def run(self, idle_seconds: float = 1.0) -> None:
        """Drain whenever woken (a handler queued something) or every `idle_seconds`."""
        while True:
            try:
                await self.drain()
            except Exception:
                log.exception("outbox drain failed; will try again")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.wake.wait(), timeout=idle_seconds)
            self.wake.clear()
