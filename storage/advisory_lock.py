"""PostgreSQL session-level advisory locks: how processes sharing one database tell who is alive.

A lock is held by a connection of its own, so the server drops it when the process dies or its
connection goes, and another process can take it at once. Every call has a time limit: a
connection that died without a word must not hold anything up for the operating system's TCP
timeout. With SQLite there is one process by definition: every lock is held, every other holder
is gone.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Iterable

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from .database import Database

log = logging.getLogger(__name__)

#: Seconds any one call about a lock may take.
CALL_TIMEOUT = 5.0

#: A key is one 64-bit number or two 32-bit ones; the two spaces do not overlap.
LockKey = tuple[int] | tuple[int, int]


def _placeholders(key: LockKey) -> tuple[str, dict[str, int]]:
    names = [f"k{index}" for index in range(len(key))]
    return ", ".join(f":{name}" for name in names), dict(zip(names, key, strict=True))


class AdvisoryLock:
    """One lock, tried (never waited for) and held until `release` or until the process dies."""

    def __init__(self, database: Database, key: LockKey, call_timeout: float = CALL_TIMEOUT) -> None:
        self.database = database
        self.key = key
        self.call_timeout = call_timeout
        self._connection: AsyncConnection | None = None

    @property
    def shared(self) -> bool:
        """Whether other processes can share the database, and so the lock means anything."""
        return self.database.dialect == "postgresql"

    @property
    def held(self) -> bool:
        return not self.shared or self._connection is not None

    async def try_take(self) -> bool:
        """Take the lock if nobody holds it; whether this process holds it now."""
        if self.held:
            return True
        async with asyncio.timeout(self.call_timeout):
            connection = await self.database.engine.connect()
        args, values = _placeholders(self.key)
        try:
            async with asyncio.timeout(self.call_timeout):
                taken = bool((await connection.execute(text(f"SELECT pg_try_advisory_lock({args})"), values)).scalar())
                await connection.commit()
        except BaseException:
            with contextlib.suppress(Exception):
                await asyncio.shield(connection.close())  # the lock goes with the connection
            raise
        if not taken:
            await connection.close()
            return False
        self._connection = connection
        return True

    async def still_held(self) -> bool:
        """Whether the connection that holds the lock still answers; if not, the lock is let go."""
        if not self.shared:
            return True
        if self._connection is None:
            return False
        try:
            async with asyncio.timeout(self.call_timeout):
                await self._connection.execute(text("SELECT 1"))
                await self._connection.commit()
            return True
        except Exception:
            log.warning("the connection holding advisory lock %s went", self.key)
            await self.release()
            return False

    async def release(self) -> None:
        if self._connection is None:
            return
        connection, self._connection = self._connection, None
        args, values = _placeholders(self.key)
        with contextlib.suppress(Exception):
            async with asyncio.timeout(self.call_timeout):
                await connection.execute(text(f"SELECT pg_advisory_unlock({args})"), values)
                await connection.commit()
        with contextlib.suppress(Exception):
            async with asyncio.timeout(self.call_timeout):
                await connection.close()


async def held_elsewhere(
    database: Database, keys: Iterable[LockKey], call_timeout: float = CALL_TIMEOUT
) -> set[LockKey]:
    """The keys among these that some other process holds now: each is tried for a moment and let
    go at once. With SQLite, none."""
    wanted = sorted(set(keys))
    if database.dialect != "postgresql" or not wanted:
        return set()
    held: set[LockKey] = set()
    async with asyncio.timeout(call_timeout), database.engine.connect() as connection:
        for key in wanted:
            args, values = _placeholders(key)
            if (await connection.execute(text(f"SELECT pg_try_advisory_lock({args})"), values)).scalar():
                await connection.execute(text(f"SELECT pg_advisory_unlock({args})"), values)
            else:
                held.add(key)
        await connection.commit()
    return held
