"""What the platforms' chat events mean for the town, and the one way to tell the leaders.

An adapter only reports what happened (handlers/transport.py ChatEvents): a group moved to a new
id, the bot was removed from a group, the platform went down or came back. Here that becomes a
rebinding, a group marked unreachable, and an alert to the leaders, told once.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable, Container

from storage import Database, Store
from storage.repos.outbox import PRIORITY_ALERT

from . import texts
from .personal_info import shown
from .town import Town
from .transport import PlatformFault

log = logging.getLogger(__name__)


async def notify_leaders(
    store: Store,
    town: Town,
    text: str,
    *,
    purpose: str = "alert",
    besides: Container[str] = (),
    off_platform: str | None = None,
) -> list[str]:
    """Queue `text` for every leaders' chat but those in `besides` (where the news came from) and,
    with `off_platform`, those on that platform (it is the one that is down); the chats told."""
    chats = [
        chat
        for chat in await town.directory.leaders_chats(store)
        if chat not in besides and (off_platform is None or not chat.startswith(f"{off_platform}:"))
    ]
    now = town.clock.now()
    for chat in chats:
        await store.outbox.enqueue(
            chat=chat, text=shown(text, purpose), purpose=purpose, at=now, priority=PRIORITY_ALERT, flush=False
        )
    return chats


class TownChatEvents:
    """The town's answer to the adapters' chat events. `wake` tells the senders something is queued."""

    def __init__(self, town: Town, database: Database, wake: Callable[[], None]) -> None:
        self.town = town
        self.database = database
        self.wake = wake

    async def chat_moved(self, old: str, new: str) -> None:
        """A group upgraded to a supergroup: its binding (from chat or from the config) goes with it,
        and the old id stops counting as one of the village's groups.

        One transaction, and idempotent: Telegram tells both chats and a send can meet the move
        first, so this runs more than once, and each run finishes what an earlier one left undone
        rather than seeing the new id bound and stopping while the old id still counts."""
        directory = self.town.directory
        now = self.town.clock.now()
        by = f"{_platform(new)}:migration"
        configured = directory.config_target(old)  # the config still names the old id
        async with self.database.transaction() as store:
            if await store.bindings.get(new) is None:
                target = await directory.chat_target(store, old)
                if target.kind == "none" or target.name is None:
                    return
                previous = await store.bindings.get(old)
                if target.kind == "leaders" and previous is None:
                    log.warning(
                        "the leaders' group %s is now %s: messages are redirected while this runs; "
                        'write leaders_chat = "%s" in %s', old, new, new, self.town.config.source
                    )  # fmt: skip
                    return
                if previous is not None and configured is None:
                    await store.bindings.move(old, new)
                    return  # nothing names the old id any more
                # Bound anew, keeping who bound it: a moved row could not be bound again under the
                # old id in the same session (its identity stays the old id's).
                await store.bindings.bind(
                    new, target.kind, target.name,
                    previous.bound_by if previous else by, previous.bound_at if previous else now,
                )  # fmt: skip
            if configured is None or configured.name is None:
                return
            if await store.bindings.get(old) is None:  # the config's chat: a binding to mark
                await store.bindings.bind(old, configured.kind, configured.name, by, now)
            await store.bindings.mark_unreachable(old)

    async def bot_removed(self, chat: str) -> None:
        """Stop sending to `chat` and tell the leaders, once."""
        directory = self.town.directory
        async with self.database.transaction() as store:
            target = await directory.chat_target(store, chat)
            if target.kind == "none" or target.name is None:
                log.warning("chat %s refused a message (the bot was removed or blocked there)", chat)
                return
            if await store.bindings.get(chat) is None:
                await store.bindings.bind(
                    chat, target.kind, target.name, f"{_platform(chat)}:bot", self.town.clock.now()
                )
            if not await store.bindings.mark_unreachable(chat):
                return  # the leaders were told already
            place = texts.LEADERS_PLACE if target.kind == "leaders" else target.name
            await notify_leaders(store, self.town, texts.bot_removed(place, chat), besides={chat})
        log.warning("the bot was removed from group %s (%s); the leaders are told", chat, target.name)
        self.wake()

    async def platform_down(self, platform: str, seconds: float) -> None:
        await self._platform_news(platform, texts.platform_down(platform, seconds), "down")

    async def platform_up(self, platform: str, seconds: float) -> None:
        await self._platform_news(platform, texts.platform_back(platform, seconds), "back")

    async def platform_gap(self, platform: str, since: dt.datetime, until: dt.datetime) -> None:
        """The platform is back (so its own leaders' chat is told too), and what was said meanwhile is lost."""
        zone = self.town.zone
        text = texts.platform_gap(platform, since.astimezone(zone), until.astimezone(zone))
        await self._platform_news(platform, text, "back after a gap", everywhere=True)

    async def platform_refused(self, platform: str, fault: PlatformFault) -> None:
        await self._platform_news(platform, texts.platform_refused(platform, fault), f"refusing the bot ({fault})")

    async def _platform_news(self, platform: str, text: str, state: str, *, everywhere: bool = False) -> None:
        """Tell the leaders on every other platform (`everywhere`: on this one too, which works
        again); a database that fails now is only logged."""
        try:
            async with self.database.transaction() as store:
                off = None if everywhere else platform
                chats = await notify_leaders(store, self.town, text, off_platform=off)
        except Exception:
            log.exception("%s is %s, and the leaders could not be told", platform, state)
            return
        if chats:
            self.wake()
        log.warning("%s is %s; told %s", platform, state, ", ".join(chats) or "no one (no leaders' chat elsewhere)")


def _platform(chat: str) -> str:
    return chat.partition(":")[0]
