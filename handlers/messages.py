"""The two shapes every platform adapter speaks: a message in, a message out.

Adapters translate to and from these and know nothing about villages; handlers know nothing
about platforms (handlers/transport.py has the rest of the contract). Chats and people are
written `platform:id` everywhere.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass


@dataclass(frozen=True)
class IncomingMessage:
    platform: str
    chat: str  # "telegram:-100…", "wechat:…@chatroom", "console:五星村"
    sender: str  # "telegram:10001"
    text: str
    message_id: str
    at: dt.datetime  # aware; when the person sent it
    sender_name: str = ""
    is_private: bool = False
    mentions_bot: bool = False
    mentioned: tuple[str, ...] = ()  # ids of the people @mentioned, where the platform tells us
    reply_to_message_id: str | None = None
    reply_to_sender: str | None = None  # who wrote the message this one replies to
    #: Set when this is an edit of message `message_id` (`at` stays when it was first sent): when it was
    #: edited. An edit is handled once, like a message; what it means is the dispatcher's to say.
    edited_at: dt.datetime | None = None


@dataclass(frozen=True)
class Picture:
    """An image a message carries (a PNG the bot drew): its bytes and the file name people see."""

    data: bytes
    name: str  # "王岘镇日报_2020-02-17.png"

    @property
    def kilobytes(self) -> int:
        return max(1, round(len(self.data) / 1024))

    def __repr__(self) -> str:  # never the bytes in a log line
        return f"Picture({self.name!r}, {len(self.data)} bytes)"


@dataclass(frozen=True)
class OutgoingMessage:
    chat: str
    text: str  # with a picture: its caption (may be empty)
    purpose: str = "reply"  # reply | alert | notice | remind | chase | summary | receipt
    mentions: tuple[str, ...] = ()  # ids to @mention, so that the person is notified
    reply_to: str | None = None
    priority: int = 0
    picture: Picture | None = None  # sent as an image (Telegram photo, WeChat file) with `text` under it
