"""A chat in a test: people say things in groups, the real dispatcher answers, we read what it sent.

    wuxing = chat.person("五星村", "head")
    replies = await wuxing.says("日报 排查120户 ...")
    assert "五星村" in replies[0]
"""

from __future__ import annotations

import datetime as dt
import itertools
from dataclasses import dataclass

from bot.app import App
from handlers.messages import IncomingMessage, OutgoingMessage
from handlers.transport import DeliveryError

_ids = itertools.count(1)


class FakePlatform:
    """Records every delivery; can be told to fail the next sends."""

    name = "console"

    def __init__(self) -> None:
        self.sent: list[OutgoingMessage] = []
        self.failures: list[DeliveryError] = []
        self.refusing: dict[str, DeliveryError] = {}  # chats whose every send fails this way

    async def deliver(self, message: OutgoingMessage) -> str | None:
        if message.chat in self.refusing:
            raise self.refusing[message.chat]
        if self.failures:
            raise self.failures.pop(0)
        self.sent.append(message)
        return str(len(self.sent))

    def texts_in(self, chat: str) -> list[str]:
        return [m.text for m in self.sent if m.chat == chat]


@dataclass
class Person:
    chat: Chat
    where: str  # the group's chat id
    who: str  # the person's id

    async def says(self, text: str, *, message_id: str | None = None, at: dt.datetime | None = None,
                   mentioned: tuple[str, ...] = (), mentions_bot: bool = False) -> list[str]:
        """Say something in the group; the texts the bot then sent to this same group."""
        return await self.chat.say(self.where, self.who, text, message_id=message_id, at=at,
                                   mentioned=mentioned, mentions_bot=mentions_bot)


class Chat:
    def __init__(self, app: App, platform: FakePlatform) -> None:
        self.app = app
        self.platform = platform

    def person(self, place: str, role: str) -> Person:
        config = self.app.config
        if role == "admin":
            return Person(self, config.town.leaders_chat or "console:leaders", config.admins[0].ids[0])
        village = config.village(place)
        if village is not None:
            chat = village.chats[0] if village.chats else f"console:{place}"
            who = village.heads[0] if role == "head" else f"console:{place}-resident"
            return Person(self, chat, who)
        checkpoint = next(c for c in config.checkpoints if c.name == place)
        return Person(self, checkpoint.chats[0] if checkpoint.chats else f"console:{place}", f"console:{place}-staff")

    def in_group(self, where: str, who: str) -> Person:
        return Person(self, where, who)

    async def say(self, where: str, who: str, text: str, *, message_id: str | None = None,
                  at: dt.datetime | None = None, mentioned: tuple[str, ...] = (),
                  mentions_bot: bool = False) -> list[str]:
        before = len(self.platform.sent)
        message = IncomingMessage(
            platform=where.partition(":")[0], chat=where, sender=who, text=text,
            message_id=message_id or f"m{next(_ids)}", at=at or self.app.town.clock.now(),
            sender_name=who, mentioned=mentioned, mentions_bot=mentions_bot,
        )
        await self.app.dispatcher.handle(message)
        await self.app.drain()
        return [m.text for m in self.platform.sent[before:] if m.chat == where]

    async def say_together(self, lines: list[tuple[str, str, str]]) -> None:
        """Several messages (group, person, text) that arrive in one batch, as after an outage."""
        now = self.app.town.clock.now()
        messages = [
            IncomingMessage(platform=where.partition(":")[0], chat=where, sender=who, text=text,
                            message_id=f"m{next(_ids)}", at=now, sender_name=who)
            for where, who, text in lines
        ]
        await self.app.receive(messages)
        await self.app.drain()

    def sent_to(self, chat: str) -> list[str]:
        return self.platform.texts_in(chat)
