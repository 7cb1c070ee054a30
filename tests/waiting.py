"""The one way the tests wait for something to happen: poll a condition until it holds.

A test that waits a fixed time is slow when the machine is fast and wrong when it is slow; this
returns as soon as the condition holds, and fails naming what it waited for when it never does.
"""

from __future__ import annotations

import asyncio
import inspect
import time
from collections.abc import Awaitable, Callable

POLL_SECONDS = 0.01


async def eventually(
    condition: Callable[[], object | Awaitable[object]],
    *,
    timeout: float = 10.0,
    what: str = "",
    explain: Callable[[], object] | None = None,
) -> None:
    """Until `condition()` (which may be a coroutine function) is true; the event loop runs the
    code under test meanwhile. `explain()` adds what the failure should show, as of then."""
    deadline = time.monotonic() + timeout
    while True:
        result = condition()
        if inspect.isawaitable(result):
            result = await result
        if result:
            return
        if time.monotonic() > deadline:
            message = f"waited {timeout} s in vain for {what or getattr(condition, '__name__', 'a condition')}"
            if explain is not None:
                message += f"; {explain()}"
            raise AssertionError(message)
        await asyncio.sleep(POLL_SECONDS)
