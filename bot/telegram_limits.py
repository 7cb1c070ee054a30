"""Sending within Telegram's flood limits (30 a second overall, 20 a minute into one group), so
that Telegram rarely has to answer 429.

Both limits are sliding windows. A send waits for room in the overall window; a group whose
minute is full is not waited for (that would hold up every other chat) but deferred: `FloodWait`
says how long, and the outbox sends it then. A send Telegram refused gives its place back
(`release`); one that got no answer keeps it, since Telegram may have it. Sends count from
Telegram's answer (`arrived`), are spread out by half the average gap, and each window is
`jitter` longer than Telegram's, because Telegram counts a send when it arrives, not when it
was let go. Monotonic time: these limits are Telegram's, not the town's.
"""

from __future__ import annotations

import asyncio
import bisect
import contextlib
import time
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class SendLimits:
    per_second: float = 30.0  # over all chats; 0 turns the overall limit off
    per_group_per_minute: int = 20  # into one group (a negative chat id); 0 turns it off
    longest_wait: float = 3.0  # seconds a send may wait here before it is deferred instead
    jitter: float = 0.01  # seconds added to each window: see the module's docstring

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
    """At most `count` events in any `seconds`, and no two closer than `spacing`: the times of the
    last `count` events."""

    def __init__(self, count: int, seconds: float, spacing: float = 0.0) -> None:
        self.count = count
        self.seconds = seconds
        self.spacing = spacing
        self.times: deque[float] = deque(maxlen=count)

    def wait(self, now: float) -> float:
        if not self.times:
            return 0.0
        wait = self.times[-1] + self.spacing - now
        if len(self.times) >= self.count:
            wait = max(wait, self.times[0] + self.seconds - now)
        return max(0.0, wait)

    def stale(self, now: float) -> bool:
        return not self.times or self.times[-1] <= now - self.seconds


def _overall_window(per_second: float, jitter: float) -> _Window | None:
    """`per_second` as a window of whole sends: 30 → 30 in 1 s; 2.5 → 2 in 0.8 s; 0.5 → 1 in 2 s
    (a fractional rate must not round down to 0, which would turn the limit off). Spread out as
    the module's docstring says."""
    if per_second <= 0:
        return None
    count = max(1, int(per_second))
    return _Window(count, count / per_second + jitter, spacing=0.5 / per_second)


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
        self._overall = _overall_window(limits.per_second, limits.jitter)
        self._overall_lock = asyncio.Lock()  # one waiter at a time, so sends go out in order
        self._groups: dict[int | str, _Window] = {}  # in the order the groups last sent
        self._held: dict[int | str, float] = {}

    async def acquire(self, chat_id: int | str) -> float:
        """Return when a message may go to `chat_id` (and count it), or raise FloodWait if that is
        further off than `longest_wait`. What it returns is the send's place in the windows, for
        `release`."""
        wait = self._chat_wait(chat_id)
        if wait > self.limits.longest_wait:
            raise FloodWait(wait)
        if wait > 0:
            await self._sleep(wait)
        if self._overall is not None:
            async with self._overall_lock:
                while (overall := self._overall.wait(self._now())) > 0:
                    await self._sleep(overall)
                at = self._now()
                self._overall.times.append(at)
        else:
            at = self._now()
        group = self._group(chat_id)
        if group is not None:
            group.times.append(at)
            self._groups[chat_id] = self._groups.pop(chat_id)  # the last to send goes last
        return at

    def release(self, chat_id: int | str, at: float) -> None:
        """Telegram refused the send counted at `at` (see the module's docstring): it no longer
        counts against either window. A place that has left its window already is ignored."""
        for window in (self._overall, self._groups.get(chat_id)):
            if window is not None:
                with contextlib.suppress(ValueError):
                    window.times.remove(at)

    def arrived(self, chat_id: int | str, at: float) -> None:
        """Telegram answered the send counted at `at`. It counts the message from when it arrived,
        somewhere between `at` and now; a request slowed on its way (a new connection, a busy
        process) would let the 31st send arrive less than a second after the 1st. So the send
        counts from now from here on: the limits can only err on the slow side, by a request's
        time, which is far cheaper than a 429."""
        now = self._now()
        for window in (self._overall, self._groups.get(chat_id)):
            if window is None:
                continue
            try:
                window.times.remove(at)
            except ValueError:
                continue  # out of the window already
            window.times.insert(bisect.bisect_right(window.times, now), now)

    def hold(self, chat_id: int | str, seconds: float) -> None:
        """Telegram said 429 for this chat: send nothing more to it for `seconds`."""
        self._held[chat_id] = max(self._held.get(chat_id, 0.0), self._now() + seconds)

    def _group(self, chat_id: int | str) -> _Window | None:
        per_minute = self.limits.per_group_per_minute
        if per_minute <= 0 or not isinstance(chat_id, int) or chat_id >= 0:
            return None  # private chats and channels: only the overall limit
        window = self._groups.get(chat_id)
        if window is None:
            window = self._groups[chat_id] = _Window(per_minute, 60.0 + self.limits.jitter)
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
        """Drop the windows of groups that sent nothing within the last minute: they hold nothing
        a send must wait for. `_groups` is in the order groups last sent, so those are at the
        front, and this looks at one group more than it drops."""
        while self._groups:
            chat_id, window = next(iter(self._groups.items()))
            if not window.stale(now):
                return
            del self._groups[chat_id]
