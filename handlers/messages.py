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
class OutgoingMessage:
    chat: str
    text: str
    purpose: str = "reply"  # reply | alert | notice | remind | chase | summary | receipt
    mentions: tuple[str, ...] = ()  # ids to @mention, so that the person is notified
    reply_to: str | None = None
    priority: int = 0
