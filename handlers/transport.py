"""The contract between the town and a chat platform's adapter, and nothing more.

An adapter is transport: it hands what people say to a `Receive` callable, reports what happens to
chats through `ChatEvents`, and delivers outgoing messages, raising a `DeliveryError` that says by
a `DeliveryFailure` what went wrong. What any of that means for the town (a rebinding, an alert to
the leaders, a Chinese reason in a delivery report) is decided in handlers, never in an adapter.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import enum
from collections.abc import Awaitable, Callable, Sequence
from typing import Protocol

from .delivery_failure import DeliveryFailure as DeliveryFailure  # part of the contract
from .messages import IncomingMessage, OutgoingMessage
from .messages import Picture as Picture  # what a message may carry besides text: part of the contract


class DeliveryError(Exception):
    """A send that failed. `permanent`: retrying cannot help (the bot was removed, say).
    `ambiguous`: the platform may have the message all the same (the request went out and no
    answer came back); it is sent again, since a lost alert is worse than a doubled one, and the
    sender counts and logs it. `reason` is the platform's own words, for logs and the database."""

    def __init__(
        self,
        reason: str,
        *,
        failure: DeliveryFailure = DeliveryFailure.FAILED,
        permanent: bool = False,
        retry_after: float | None = None,
        ambiguous: bool = False,
    ) -> None:
        super().__init__(reason)
        self.reason = reason
        self.failure = failure
        self.permanent = permanent
        self.retry_after = retry_after
        self.ambiguous = ambiguous


class MessageNotStored(Exception):
    """Neither the message nor its failure could be recorded: the platform must not confirm it."""


class PlatformError(Exception):
    """A platform that is configured but cannot start; the message says what to set."""


class PlatformFault(enum.StrEnum):
    """Why a platform refuses the bot in a way that will not pass by itself: someone must change a setting."""

    CREDENTIALS = "credentials"  # the token (or key) is refused
    TLS = "tls"  # the service's certificate, or whether it speaks TLS at all, does not match the bot's settings


#: What an adapter hands messages to, in the order they arrived: returns once they are handled and
#: stored (only then may the platform be told they arrived); raises MessageNotStored otherwise.
Receive = Callable[[Sequence[IncomingMessage]], Awaitable[None]]


class ChatEvents(Protocol):
    """What happens to chats that only the platform sees; the town decides what it means."""

    async def chat_moved(self, old: str, new: str) -> None:
        """The group `old` now lives under the id `new` (a Telegram group upgraded to a supergroup)."""
        ...

    async def bot_removed(self, chat: str) -> None:
        """The bot was removed from `chat` (or blocked there): nothing more can go there."""
        ...

    async def platform_down(self, platform: str, seconds: float) -> None:
        """The platform has been unreachable for `seconds`."""
        ...

    async def platform_up(self, platform: str, seconds: float) -> None:
        """The platform is back after an outage of `seconds`."""
        ...

    async def platform_gap(self, platform: str, since: dt.datetime, until: dt.datetime) -> None:
        """The platform keeps no queue: what was said there between `since` and `until` never reached the bot."""
        ...

    async def platform_refused(self, platform: str, fault: PlatformFault) -> None:
        """A platform that had been working now refuses the bot (`fault`) until someone fixes a setting."""
        ...


class Platform(Protocol):
    """What the outbox sender needs of a platform: its name and one delivery at a time. A platform
    may also set `merges` (what waits for one group goes as one message), `paced` (it paces itself,
    so the sender looks for urgent rows after every send) and `concurrency` (sends to different
    groups that may be under way at once); see outbox/sender.py."""

    name: str

    async def deliver(self, message: OutgoingMessage) -> str | None:
        """Send one message; the platform's id for it. Raise DeliveryError on failure. A message
        with a `picture` goes as an image with its text under it (a platform that cannot put that
        much under an image sends the text after it)."""
        ...


class PlatformAdapter(Platform, Protocol):
    """A chat platform that also receives: `run` feeds what people say to its `Receive`."""

    async def run(self, stop: asyncio.Event) -> None:
        """Receive messages until `stop` is set."""
        ...

    async def check(self) -> str:
        """Reach the platform once, as `run` would, and say what answered (`villagebot check`);
        PlatformError for what will not pass by itself, DeliveryError while it cannot be reached."""
        ...


def doubled_delay(first: float, longest: float, tries: int) -> float:
    """`first` doubled for each of `tries`, up to `longest`: every backoff in the bot. The exponent
    is capped: an outage of days makes thousands of tries, and 2**1024 times a float is an
    OverflowError, not `longest`."""
    return float(min(longest, first * 2 ** min(max(0, tries), 64)))
