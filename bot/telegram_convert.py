"""Translation between Telegram and the app's two message shapes: no network, no database.

In: a Telegram `Message` becomes an `IncomingMessage` (chats and people written `telegram:<id>`).
Out: an `OutgoingMessage` becomes one or more `Part`s that fit Telegram's 4096-character limit,
with the people to notify rendered as `text_mention` entities; a message with a picture becomes a
photo with the text as its caption (or, past a caption's 1024 characters, the photo, then the text).
Entity offsets are counted in UTF-16 code units, as the Bot API counts them (an emoji such as 🚨 is two).
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import TypeVar

from telegram import Message, MessageEntity, User
from telegram.constants import ChatType, MessageLimit

from handlers.messages import IncomingMessage, OutgoingMessage, Picture

PLATFORM = "telegram"
MAX_TEXT = int(MessageLimit.MAX_TEXT_LENGTH)  # 4096
MAX_MENTIONS = 50  # people notified in one message; more would be a wall of names

K = TypeVar("K")
V = TypeVar("V")


def chat_ref(chat_id: int) -> str:
    return f"{PLATFORM}:{chat_id}"


def person_ref(user_id: int) -> str:
    return f"{PLATFORM}:{user_id}"


def telegram_chat_id(chat: str) -> int | str:
    """`telegram:-1001000000111` → -1001000000111; `telegram:@channel` → "@channel"."""
    platform, _, ident = chat.partition(":")
    if platform != PLATFORM or not ident:
        raise ValueError(f"{chat!r} is not a Telegram chat")
    return int(ident) if ident.lstrip("-").isdigit() else ident


def user_id_of(person: str) -> int | None:
    platform, _, ident = person.partition(":")
    return int(ident) if platform == PLATFORM and ident.isdigit() else None


class KnownPeople:
    """Names and @usernames of the people the bot has seen write, newest kept.

    Used to show a name on a mention (the Bot API has no "look up user" call) and to turn a plain
    `@username` in a message into the person's id. Kept in memory only: after a restart the bot
    learns them again from the next messages; a mention shows a generic label until then."""

    def __init__(self, capacity: int = 20_000) -> None:
        self.capacity = capacity
        self._names: OrderedDict[int, str] = OrderedDict()
        self._usernames: OrderedDict[str, int] = OrderedDict()

    def saw(self, user: User) -> None:
        _remember(self._names, user.id, user.full_name, self.capacity)
        if user.username:
            _remember(self._usernames, user.username.lower(), user.id, self.capacity)

    def name(self, user_id: int) -> str | None:
        return self._names.get(user_id)

    def by_username(self, username: str) -> int | None:
        return self._usernames.get(username.lstrip("@").lower())


def _remember(table: OrderedDict[K, V], key: K, value: V, capacity: int) -> None:
    table[key] = value
    table.move_to_end(key)
    while len(table) > capacity:
        table.popitem(last=False)


# --- in ------------------------------------------------------------------------------------------


def to_incoming(message: Message, me: User, people: KnownPeople, *, edited: bool = False) -> IncomingMessage | None:
    """The app's view of a message, or None for what is not for the app: no text (a sticker, a
    photo without caption, a service message) or a /command addressed to another bot. `edited`: the
    message came as an edited_message, now with `edited_at` (its edit_date; its date if none given)."""
    text = message.text if message.text is not None else message.caption
    if not text:
        return None
    entities = message.parse_entities() if message.text is not None else message.parse_caption_entities()
    my_name = (me.username or "").lower()
    if _command_for_another_bot(entities, my_name):
        return None
    author = message.from_user
    if author is not None:
        people.saw(author)
        sender, sender_name = person_ref(author.id), author.full_name
    elif message.sender_chat is not None:  # a channel or an anonymous group admin
        sender, sender_name = person_ref(message.sender_chat.id), message.sender_chat.title or ""
    else:
        return None
    replied = message.reply_to_message
    replied_author = replied.from_user if replied is not None else None
    if replied_author is not None:
        people.saw(replied_author)
    return IncomingMessage(
        platform=PLATFORM,
        chat=chat_ref(message.chat.id),
        sender=sender,
        text=text,
        message_id=str(message.message_id),
        at=message.date,
        sender_name=sender_name,
        is_private=message.chat.type == ChatType.PRIVATE,
        mentions_bot=_mentions_me(entities, my_name) or (replied_author is not None and replied_author.id == me.id),
        mentioned=_mentioned(entities, my_name, people),
        reply_to_message_id=str(replied.message_id) if replied is not None else None,
        reply_to_sender=person_ref(replied_author.id) if replied_author is not None else None,
        edited_at=(message.edit_date or message.date) if edited else None,
    )


def _command_for_another_bot(entities: dict[MessageEntity, str], my_name: str) -> bool:
    """`/status@otherbot` at the start of a message is meant for that bot, not for us."""
    for entity, value in entities.items():
        if entity.type == MessageEntity.BOT_COMMAND and entity.offset == 0:
            _, at, name = value.partition("@")
            return bool(at) and name.lower() != my_name
    return False


def _mentions_me(entities: dict[MessageEntity, str], my_name: str) -> bool:
    if not my_name:
        return False
    for entity, value in entities.items():
        if entity.type == MessageEntity.MENTION and value.lstrip("@").lower() == my_name:
            return True
        if entity.type == MessageEntity.BOT_COMMAND and value.partition("@")[2].lower() == my_name:
            return True
    return False


def _mentioned(entities: dict[MessageEntity, str], my_name: str, people: KnownPeople) -> tuple[str, ...]:
    found: list[str] = []
    for entity, value in sorted(entities.items(), key=lambda item: item[0].offset):
        if entity.type == MessageEntity.TEXT_MENTION and entity.user is not None:
            found.append(person_ref(entity.user.id))
        elif entity.type == MessageEntity.MENTION and value.lstrip("@").lower() != my_name:
            user_id = people.by_username(value)
            if user_id is not None:
                found.append(person_ref(user_id))
    return tuple(dict.fromkeys(found))


# --- out -----------------------------------------------------------------------------------------


MAX_CAPTION = int(MessageLimit.CAPTION_LENGTH)  # 1024: what fits under a photo


@dataclass(frozen=True)
class Part:
    """One sendMessage: plain text (no parse mode, so nothing needs escaping) and its entities; or,
    with a `picture`, one sendPhoto with the text as its caption."""

    text: str
    entities: tuple[MessageEntity, ...] = ()
    picture: Picture | None = None

    @property
    def key(self) -> str:
        """What tells this part from another when a long message is sent again from a later part."""
        if self.picture is None:
            return self.text
        return f"\x00picture:{self.picture.name}:{len(self.picture.data)}\x00{self.text}"


def utf16_len(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def render(message: OutgoingMessage, name_of: Callable[[int], str], limit: int = MAX_TEXT) -> list[Part]:
    """The message as Telegram sends it: split at line breaks into parts of at most `limit`
    (UTF-16) characters, with a last line that notifies each mentioned person by name."""
    if message.picture is not None:
        return _with_picture(message, message.picture, name_of, limit)
    user_ids = [u for u in dict.fromkeys(user_id_of(m) for m in message.mentions) if u is not None][:MAX_MENTIONS]
    texts = split_text(message.text, limit)
    if not user_ids:
        return [Part(t) for t in texts]
    line, entities = _mention_line(user_ids, name_of)
    last = texts[-1]
    joined = f"{last}\n{line}" if last else line
    if utf16_len(joined) <= limit:
        shift = utf16_len(joined) - utf16_len(line)
        moved = tuple(_shifted(e, shift) for e in entities)
        return [Part(t) for t in texts[:-1]] + [Part(joined, moved)]
    return [Part(t) for t in texts] + [Part(line, entities)]


def _with_picture(
    message: OutgoingMessage, picture: Picture, name_of: Callable[[int], str], limit: int
) -> list[Part]:
    """A photo with the message's text as its caption when it fits under it (1024 characters), else
    the photo alone and then the text as usual: nothing of the text is cut."""
    text_parts = render(replace(message, picture=None), name_of, limit) if message.text or message.mentions else []
    if not text_parts:
        return [Part("", (), picture)]
    if len(text_parts) == 1 and utf16_len(text_parts[0].text) <= MAX_CAPTION:
        return [Part(text_parts[0].text, text_parts[0].entities, picture)]
    return [Part("", (), picture), *text_parts]


def _mention_line(user_ids: list[int], name_of: Callable[[int], str]) -> tuple[str, tuple[MessageEntity, ...]]:
    line = ""
    entities: list[MessageEntity] = []
    for user_id in user_ids:
        label = f"@{name_of(user_id)}"
        if line:
            line += " "
        entities.append(
            MessageEntity(
                type=MessageEntity.TEXT_MENTION,
                offset=utf16_len(line),
                length=utf16_len(label),
                user=User(id=user_id, first_name=label[1:], is_bot=False),
            )
        )
        line += label
    return line, tuple(entities)


def _shifted(entity: MessageEntity, by: int) -> MessageEntity:
    return MessageEntity(type=entity.type, offset=entity.offset + by, length=entity.length, user=entity.user)


def split_text(text: str, limit: int = MAX_TEXT) -> list[str]:
    """Parts of at most `limit` UTF-16 units, cut at line breaks; a line longer than that is cut
    where it must be (never inside a character). Only the line breaks at the cuts are lost, and
parts that would be blank (Telegram refuses those)."""
    if utf16_len(text) <= limit:
        return [text]
    parts: list[str] = []
    current: list[str] = []
    size = 0
    for line in text.split("\n"):
        for piece in _hard_split(line, limit):
            extra = utf16_len(piece) + (1 if current else 0)
            if current and size + extra > limit:
                parts.append("\n".join(current))
                current, size = [], 0
                extra = utf16_len(piece)
            current.append(piece)
            size += extra
    if current:
        parts.append("\n".join(current))
    return [p for p in parts if p.strip()] or [text[:limit]]


def _hard_split(line: str, limit: int) -> list[str]:
    if utf16_len(line) <= limit:
        return [line]
    pieces: list[str] = []
    current = ""
    size = 0
    for char in line:
        width = utf16_len(char)
        if size + width > limit:
            pieces.append(current)
            current, size = "", 0
        current += char
        size += width
    pieces.append(current)
    return pieces
