"""Sending within Telegram's flood limits, so that Telegram rarely has to answer 429.

Telegram's published limits for a bot: about 30 messages a second over all chats, and at most
20 messages a minute into one group. Both are sliding windows (at most N sends in any such
span). A send waits for room in the overall window (a few tens of milliseconds at worst). A
group whose minute is full would make the send wait up to a minute, holding up every other chat
behind it in the outbox, so instead of waiting longer than `longest_wait` the limiter says how
long until the group has room (`FloodWait`), and the adapter hands that to the outbox as
`retry_after`. A 429 that Telegram sends anyway holds the
chat for the time it asks (`hold`), so the rows queued behind it do not each earn another 429.

Wall-clock time (monotonic) with asyncio.sleep: these limits are Telegram's, not the town's.
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class SendLimits:
    per_second: float = 30.0  # over all chats; 0 turns the overall limit off
    per_group_per_minute: int = 20  # into one group (a negative chat id); 0 turns it off
    longest_wait: float = 3.0  # seconds a send may wait here before it is deferred instead

    @classmethod
    def off(cls) -> SendLimits:
        """No limits: for a stand-in server that has none (the benchmark)."""
        return cls(per_second=0, per_group_per_minute=0)


class FloodWait(Exception):
    """The chat has no room now; try again in `seconds`."""

    def __init__(self, seconds: float) -> None:
        super().__init__(f"wait {seconds:.1f} s")
        self.seconds = seconds


class _Window:
    """At most `count` events in any `seconds`: the times of the last `count` events."""

    def __init__(self, count: int, seconds: float) -> None:
        self.count = count
        self.seconds = seconds
        self.times: deque[float] = deque(maxlen=count)

    def wait(self, now: float) -> float:
        if len(self.times) < self.count:
            return 0.0
        return max(0.0, self.times[0] + self.seconds - now)

    def stale(self, now: float) -> bool:
        return not self.times or self.times[-1] <= now - self.seconds


class SendLimiter:
    def __init__(
        self,
        limits: SendLimits,
        *,
        monotonic: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self.limits = limits
        self._now = monotonic
        self._sleep = sleep
        per_second = int(limits.per_second)
        self._overall = _Window(per_second, 1.0) if per_second > 0 else None
        self._overall_lock = asyncio.Lock()  # one waiter at a time, so sends go out in order
        self._groups: dict[int | str, _Window] = {}
        self._held: dict[int | str, float] = {}

    async def acquire(self, chat_id: int | str) -> None:
        """Return when a message may go to `chat_id` (and count it), or raise FloodWait if that is
        further off than `longest_wait`."""
        wait = self._chat_wait(chat_id)
        if wait > self.limits.longest_wait:
            raise FloodWait(wait)
        if wait > 0:
            await self._sleep(wait)
        if self._overall is not None:
            async with self._overall_lock:
                while (overall := self._overall.wait(self._now())) > 0:
                    await self._sleep(overall)
                self._overall.times.append(self._now())
        group = self._group(chat_id)
        if group is not None:
            group.times.append(self._now())

    def hold(self, chat_id: int | str, seconds: float) -> None:
        """Telegram said 429 for this chat: send nothing more to it for `seconds`."""
        self._held[chat_id] = max(self._held.get(chat_id, 0.0), self._now() + seconds)

    def _group(self, chat_id: int | str) -> _Window | None:
        per_minute = self.limits.per_group_per_minute
        if per_minute <= 0 or not isinstance(chat_id, int) or chat_id >= 0:
            return None  # private chats and channels: only the overall limit
        window = self._groups.get(chat_id)
        if window is None:
            window = self._groups[chat_id] = _Window(per_minute, 60.0)
        return window

    def _chat_wait(self, chat_id: int | str) -> float:
        now = self._now()
        held = self._held.get(chat_id)
        wait = 0.0
        if held is not None:
            wait = held - now
            if wait <= 0:
                del self._held[chat_id]
        group = self._group(chat_id)
        if group is not None:
            wait = max(wait, group.wait(now))
        self._forget_quiet_groups(now)
        return max(0.0, wait)

    def _forget_quiet_groups(self, now: float) -> None:
        if len(self._groups) > 1000:
            for chat_id in [c for c, w in self._groups.items() if w.stale(now)]:
                del self._groups[chat_id]
