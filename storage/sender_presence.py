"""Which outbox senders are alive, so that a starting sender takes over only a dead one's rows.

A sender that is sending holds its rows with a lease. When a process starts, the rows its
predecessor was sending when it died should be sent again at once, not two minutes later when
their leases run out; but the rows of a sender that is alive in another process (a second
replica, the old process of a rolling restart) must be left to it, or both would send them.

On PostgreSQL each running sender holds a session-level advisory lock on its own owner number
for as long as it runs: the server drops the lock when the process dies or its connection goes.
A sender whose lock can be taken is therefore gone. SQLite is used by one process, so there every
other owner is gone. (The clock's lock in scheduler/leader.py uses the one-number key space;
these use the two-number space, which does not overlap it.)
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
import time
import zlib
from collections.abc import Iterable

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from .database import Database

log = logging.getLogger(__name__)

#: The first number of every sender's lock: one town's senders apart from anything else's locks.
LOCK_CLASS = zlib.crc32(b"villagebot-outbox-sender") & 0x7FFFFFFF


#: Seconds between looks at the lock's connection while the sender runs.
KEEP_EVERY = 30.0
#: Seconds any one call about the lock may take: a connection that died without a word must not
#: hold up sending for the operating system's TCP timeout.
CALL_TIMEOUT = 5.0


def new_owner() -> int:
    """A number for one sender's life: a positive int4, as the advisory lock's second key is."""
    return secrets.randbelow(0x7FFFFFFE) + 1


class SenderPresence:
    def __init__(self, database: Database, owner: int) -> None:
        self.database = database
        self.owner = owner
        self._connection: AsyncConnection | None = None
        self._wanted = False  # announced and not withdrawn: the lock should be held
        self._next_check = 0.0

    async def announce(self) -> bool:
        """Hold this sender's lock until `withdraw` (or until the process dies); whether it is held.
        A try, never a wait: the only other holder can be a starting sender looking for a moment
        whether this one is alive, or the server's memory of this sender's dropped connection."""
        self._wanted = True
        if self.database.dialect != "postgresql" or self._connection is not None:
            return True
        async with asyncio.timeout(CALL_TIMEOUT):
            connection = await self.database.engine.connect()
        try:
            parameters = {"c": LOCK_CLASS, "o": self.owner}
            async with asyncio.timeout(CALL_TIMEOUT):
                held = bool(
                    (await connection.execute(text("SELECT pg_try_advisory_lock(:c, :o)"), parameters)).scalar()
                )
                await connection.commit()
        except BaseException:
            with contextlib.suppress(Exception):
                await asyncio.shield(connection.close())  # the lock goes with the connection
            raise
        if not held:
            await connection.close()
            log.warning("this sender's presence lock is held elsewhere for now; trying again")
            return False
        self._connection = connection
        return True

    async def keep(self) -> None:
        """Take the lock again if its connection went (a database restart dropped it), so that no
        starting sender takes this one for dead. Looks at most every KEEP_EVERY seconds, and
        until it holds the lock again."""
        if not self._wanted or self.database.dialect != "postgresql" or time.monotonic() < self._next_check:
            return
        self._next_check = time.monotonic() + KEEP_EVERY
        if self._connection is not None:
            try:
                async with asyncio.timeout(CALL_TIMEOUT):
                    await self._connection.execute(text("SELECT 1"))
                    await self._connection.commit()
                return
            except Exception:
                log.warning("the connection holding this sender's presence lock went; taking the lock again")
                await self._drop()
        held = False
        try:
            held = await self.announce()
        finally:
            if not held:  # soon again: until then other senders may take this one for dead
                self._next_check = time.monotonic() + 1.0

    async def alive(self, owners: Iterable[int]) -> set[int]:
        """The owners among these whose sender is running now (this one included)."""
        others = {o for o in owners if o != self.owner}
        alive = {self.owner}
        if self.database.dialect != "postgresql" or not others:
            return alive
        async with asyncio.timeout(CALL_TIMEOUT), self.database.engine.connect() as connection:
            for owner in sorted(others):
                parameters = {"c": LOCK_CLASS, "o": owner}
                taken = (await connection.execute(text("SELECT pg_try_advisory_lock(:c, :o)"), parameters)).scalar()
                if taken:
                    await connection.execute(text("SELECT pg_advisory_unlock(:c, :o)"), parameters)
                else:
                    alive.add(owner)
            await connection.commit()
        return alive

    async def withdraw(self) -> None:
        self._wanted = False
        await self._drop()

    async def _drop(self) -> None:
        if self._connection is None:
            return
        connection, self._connection = self._connection, None
        with contextlib.suppress(Exception):
            async with asyncio.timeout(CALL_TIMEOUT):
                await connection.execute(text("SELECT pg_advisory_unlock(:c, :o)"), {"c": LOCK_CLASS, "o": self.owner})
                await connection.commit()
        with contextlib.suppress(Exception):
            async with asyncio.timeout(CALL_TIMEOUT):
                await connection.close()
