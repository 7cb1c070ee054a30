"""Which outbox senders are alive, so that a starting sender takes over only a dead one's rows.

A sender holds the rows it is sending with a lease. When a process starts, the rows its
predecessor was sending when it died should go again at once, not when their leases run out; but
the rows of a sender alive in another process (a second replica, the old process of a rolling
restart) must be left to it, or both would send them. Each running sender holds an advisory lock
on its own owner number (storage/advisory_lock.py): a sender whose lock can be taken is gone.
"""

from __future__ import annotations

import logging
import secrets
import time
import zlib
from collections.abc import Iterable

from storage import Database
from storage.advisory_lock import AdvisoryLock, held_elsewhere

log = logging.getLogger(__name__)

#: The first number of every sender's lock: the senders' locks apart from anything else's.
LOCK_CLASS = zlib.crc32(b"villagebot-outbox-sender") & 0x7FFFFFFF
#: Seconds between looks at the lock's connection while the sender runs.
KEEP_EVERY = 30.0


def new_owner() -> int:
    """A number for one sender's life: a positive int4, as the advisory lock's second key is."""
    return secrets.randbelow(0x7FFFFFFE) + 1


class SenderPresence:
    def __init__(self, database: Database, owner: int) -> None:
        self.database = database
        self.owner = owner
        self.lock = AdvisoryLock(database, (LOCK_CLASS, owner))
        self._wanted = False  # announced and not withdrawn: the lock should be held
        self._next_check = 0.0

    async def announce(self) -> bool:
        """Hold this sender's lock until `withdraw` (or until the process dies); whether it is held.
        The only other holder can be a starting sender looking for a moment whether this one is
        alive, or the server's memory of this sender's dropped connection: tried, never waited for."""
        self._wanted = True
        held = await self.lock.try_take()
        if not held:
            log.warning("this sender's presence lock is held elsewhere for now; trying again")
        return held

    async def keep(self) -> None:
        """Take the lock again if its connection went (a database restart dropped it), so that no
        starting sender takes this one for dead. Looks at most every KEEP_EVERY seconds, and every
        second until it holds the lock again."""
        if not self._wanted or not self.lock.shared or time.monotonic() < self._next_check:
            return
        self._next_check = time.monotonic() + KEEP_EVERY
        if self.lock.held and await self.lock.still_held():
            return
        held = False
        try:
            held = await self.announce()
        finally:
            if not held:  # soon again: until then other senders may take this one for dead
                self._next_check = time.monotonic() + 1.0

    async def alive(self, owners: Iterable[int]) -> set[int]:
        """The owners among these whose sender is running now (this one included)."""
        others = {o for o in owners if o != self.owner}
        held = await held_elsewhere(self.database, [(LOCK_CLASS, o) for o in others])
        return {self.owner} | {key[-1] for key in held}

    async def withdraw(self) -> None:
        self._wanted = False
        await self.lock.release()
