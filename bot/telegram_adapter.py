"""The bot in Telegram groups, through python-telegram-bot's `Bot` (the Bot API client only).

Receiving is our own loop over getUpdates rather than PTB's Updater/Application: the Updater
confirms a batch (asks for the next offset) as soon as the updates are in its queue, before any
handler has run, and once more on shutdown for whatever is still queued, so a crash or a stop
loses messages. Here an update is confirmed only after `receive` has stored it: the next
getUpdates carries `offset = last stored update_id + 1`. If storing fails the loop backs off and
tries the same update again; a restart gets every unconfirmed update again from Telegram, and the
inbound table makes a redelivered message a no-op. With `[telegram] webhook_url` set, updates
come by webhook instead (bot/telegram_webhook.py), answered 200 only once stored.

Edited messages are asked for too, and handed on as an `IncomingMessage` with `edited_at` set
(its `at` stays the time it was first sent, as Telegram dates it): the handlers decide what an edit
means (an edited report updates that report; an edited 通知 is not sent again).

Answers python-telegram-bot cannot read are told apart from answers that never came: every Bot
API answer is kept, for the call that made it, by the request class (`_Request.do_request`, the
library's public extension point). A send the server accepted (`ok: true`) whose answer the
library then fails to read (a `date` in milliseconds, a field missing) is recorded as sent, with
the message id read from the raw answer where it has one, not sent again as failed; a 200 that
cannot be read at all is ambiguous. getMe and the other start-up calls whose answer cannot be
read stop the bot with one message naming the call, the server and what it answered. A
getUpdates answered at once with nothing is not called again before `poll_gap` seconds.

Sending goes through `deliver`, called by the outbox sender: within Telegram's limits
(bot/telegram_limits.py, with `[telegram] per_second` and `per_chat_per_minute`), split at 4096
characters, mentions as text_mention entities; a picture as sendPhoto, its text the caption.
A 429 becomes DeliveryError(retry_after=...); a
send that went out and got no answer (a read timeout, a dropped connection, a gateway's 504) becomes
DeliveryError(ambiguous=True), since the group may have it, but one that never left (no
connection) does not; a group upgraded to a supergroup gets the message under its new id, and a
group that removed the bot fails for good. Both are reported to the town's ChatEvents, which
rebinds the group or tells the leaders: this module keeps no town business.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import json
import logging
import os
import re
import warnings
from collections import OrderedDict
from collections.abc import Awaitable, Iterator, Sequence
from contextvars import ContextVar
from dataclasses import dataclass, replace
from http import HTTPStatus
from typing import Any, TypeVar
from urllib.parse import urlsplit

import httpx
from telegram import Bot, BotCommand, InputFile, Message, ReplyParameters, Update, User
from telegram.error import (
    BadRequest,
    ChatMigrated,
    Conflict,
    Forbidden,
    InvalidToken,
    NetworkError,
    RetryAfter,
    TelegramError,
    TimedOut,
)
from telegram.request import HTTPXRequest
from telegram.warnings import PTBDeprecationWarning

from handlers import texts
from handlers.messages import IncomingMessage, OutgoingMessage
from handlers.transport import ChatEvents, DeliveryError, DeliveryFailure, PlatformError, Receive, doubled_delay
from townconfig import TelegramSection

from .telegram_convert import KnownPeople, Part, chat_ref, render, telegram_chat_id, to_incoming
from .telegram_limits import FloodWait, SendLimiter, SendLimits
from .telegram_webhook import WebhookServer

log = logging.getLogger(__name__)

# --- settings -------------------------------------------------------------------------------------

DEFAULT_BASE_URL = "https://api.telegram.org/bot"
BASE_URL_ENV = "TELEGRAM_BASE_URL"
ALLOWED_UPDATES = ("message", "edited_message")  # reactions, callbacks, channel posts: not asked for
POLL_TIMEOUT = 50  # seconds Telegram may hold a getUpdates open
#: Seconds between two getUpdates at least, when the first came back at once with nothing: a
#: server that does not hold the poll open (an emulator, a proxy) is not asked many times a second.
POLL_GAP = 1.0
#: Characters of an unreadable answer quoted in a log line or an error.
SHOWN_ANSWER = 300
HTTP_TIMEOUT = 10.0
CONNECT_TIMEOUT = 5.0  # python-telegram-bot's own default
#: httpx errors raised before the request was (completely) sent: Telegram cannot have the message.
_NEVER_SENT = (
    httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout, httpx.WriteError, httpx.WriteTimeout,
    httpx.ProxyError, httpx.UnsupportedProtocol, httpx.LocalProtocolError,
)
MAX_RETRY_SECONDS = 60.0
WEBHOOK_CONNECTIONS = 1  # one update at a time, so that a chat's messages are handled in order
_SECRET = re.compile(r"[A-Za-z0-9_-]{1,256}")

PRIVACY_WARNING = (
    "Telegram privacy mode is on for @%s: in groups the bot sees only /commands and replies to it, "
    "so village heads' reports and registrations never reach it. Turn it off: in @BotFather send "
    "/setprivacy, choose @%s, choose Disable; then remove the bot from each group and add it again "
    "(Telegram applies the change only when the bot joins a group)."
)

T = TypeVar("T")


class _Stopped(Exception):
    """`stop` was set while waiting."""


class TelegramAdapter:
    """The Telegram platform: `run` receives until stopped, `deliver` sends one outbox message."""

    name = "telegram"
    #: Sends to different groups that the outbox sender may have under way at once (each group's
    #: own messages stay in order). Within the HTTP connection pool below.
    concurrency = 8
    #: Messages waiting for one group at once go as one (outbox/sender.py): a group that wrote ten
    #: reports while the bot caught up gets one answer, not ten against its 20 a minute.
    merges = True
    paced = False  # Telegram's limits are kept by `deliver` (bot/telegram_limits.py), not by pacing

    def __init__(
        self,
        token: str,
        *,
        receive: Receive,
        events: ChatEvents,
        settings: TelegramSection | None = None,
        config_source: str = "the town's config",
        commands: Sequence[tuple[str, str]],
        limits: SendLimits | None = None,
        poll_timeout: int = POLL_TIMEOUT,
        retry_seconds: float = 1.0,
        http_timeout: float = HTTP_TIMEOUT,
        poll_gap: float = POLL_GAP,
    ) -> None:
        """`receive` stores what people say; `events` hears of moved groups and removed bots.
        `limits`: Telegram's flood limits, by default those of `settings` (`[telegram]`).
        `http_timeout`: seconds a Bot API call (a send) may take before it counts as unanswered;
        `poll_gap`: seconds between getUpdates calls at least, when one came back at once empty.
        `config_source` names the config file in messages that ask for a change there; `commands`
        is the menu Telegram shows when someone types "/" (command, description)."""
        self.receive = receive
        self.events = events
        self.settings = settings or TelegramSection()
        self.config_source = config_source
        self.commands = tuple(commands)
        self.poll_timeout = poll_timeout
        self.retry_seconds = retry_seconds
        self.poll_gap = poll_gap
        self.answers = _Answers()
        self.base_url = os.environ.get(BASE_URL_ENV) or self.settings.base_url or DEFAULT_BASE_URL
        self.bot = Bot(
            token,
            base_url=self.base_url,
            request=_Request(
                self.answers, connection_pool_size=16, read_timeout=http_timeout, write_timeout=http_timeout,
                pool_timeout=http_timeout, connect_timeout=min(http_timeout, CONNECT_TIMEOUT),
            ),
            get_updates_request=_Request(self.answers, connection_pool_size=1, read_timeout=HTTP_TIMEOUT),
        )
        self.limiter = SendLimiter(limits or configured_limits(self.settings))
        self.people = KnownPeople()
        self.webhook: WebhookServer | None = None
        self._me: User | None = None
        self._starting = asyncio.Lock()
        self._moved: dict[str, str] = {}  # old chat → new chat, for rows queued before a group upgraded
        # chat → the leading parts of its long message that went out before a later part failed,
        # and the first one's id: see `deliver`
        self._partial: OrderedDict[str, tuple[tuple[str, ...], str | None]] = OrderedDict()
        _keep_token_out_of_logs(token)
        # RetryAfter warns at construction that retry_after will become a timedelta; _seconds reads both.
        warnings.filterwarnings("ignore", message=r".*attribute `retry_after`", category=PTBDeprecationWarning)

    # --- receiving --------------------------------------------------------------------------------

    async def run(self, stop: asyncio.Event) -> None:
        try:
            if not await self._until_started(stop):
                return
            await self._introduce()
            if self.settings.webhook_url:
                await self._serve_webhook(stop)
            else:
                await self._poll(stop)
        finally:
            if self.webhook is not None:
                await self.webhook.stop()
            await self.bot.shutdown()
            self._me = None

    async def _until_started(self, stop: asyncio.Event) -> bool:
        attempt = 0
        while not stop.is_set():
            try:
                await self._until_stopped(self._ready(), stop)
                return True
            except _Stopped:
                return False
            except DeliveryError as exc:
                attempt += 1
                log.warning("cannot reach the Telegram Bot API at %s yet: %s", self._api_host(), exc.reason)
                if not await self._pause(self._backoff(attempt), stop):
                    return False
        return False

    async def _ready(self) -> User:
        """The bot's own user (getMe), asked once; DeliveryError while Telegram cannot be reached."""
        if self._me is not None:
            return self._me
        async with self._starting:
            if self._me is None:
                with self.answers.watch() as answer:
                    try:
                        await self.bot.initialize()
                    except InvalidToken:  # 401, or 404: a wrong base_url gets that too
                        raise PlatformError(f"{self._token_refused()} ({self._heard('getMe', answer)})") from None
                    except TelegramError as exc:
                        if answer.status == HTTPStatus.OK:  # an answer, but not JSON: it will not pass
                            raise PlatformError(self._unreadable("getMe", answer, exc)) from None
                        raise DeliveryError(f"{exc.message}; {self._heard('getMe', answer)}") from None
                    except Exception as exc:  # the library could not read the answer: it will not pass
                        raise PlatformError(self._unreadable("getMe", answer, exc)) from exc
                self._me = self.bot.bot
            return self._me

    async def check(self) -> str:
        """For `villagebot check`: getMe, once; what it found. PlatformError for what will not pass,
        DeliveryError while the server cannot be reached."""
        try:
            me = await self._ready()
        finally:
            await self.bot.shutdown()
        return f"Telegram: the bot @{me.username} answers at {self._api_host()}"

    async def _introduce(self) -> None:
        """Say once if privacy mode hides group messages, and show our commands in Telegram's menu."""
        me = await self._ready()
        if not me.can_read_all_group_messages:
            log.warning(PRIVACY_WARNING, me.username, me.username)
        with self.answers.watch() as answer:
            try:
                await self.bot.set_my_commands([BotCommand(command, text) for command, text in self.commands])
            except TelegramError as exc:
                log.warning("could not register the bot's commands with Telegram: %s", exc.message)
            except Exception as exc:  # an answer the library could not read: the menu is a nicety
                log.warning("could not register the bot's commands: %s", self._unreadable("setMyCommands", answer, exc))

    async def _poll(self, stop: asyncio.Event) -> None:
        await self._until_done(
            "deleteWebhook", lambda: self.bot.delete_webhook(drop_pending_updates=False), stop,
            fix=f"check that {self._api_host()} ([telegram] base_url or ${BASE_URL_ENV}) is a Telegram Bot API server",
        )
        log.info("receiving Telegram updates by long polling as @%s", self._me.username if self._me else "?")
        offset: int | None = None
        failures = 0
        loop = asyncio.get_running_loop()
        while not stop.is_set():
            asked = loop.time()
            try:
                updates = await self._until_stopped(self._get_updates(offset), stop)
            except _Stopped:
                return
            except RetryAfter as exc:
                await self._pause(_seconds(exc), stop)
                continue
            except InvalidToken:
                raise PlatformError(f"Telegram no longer accepts the token in ${self.settings.token_env}") from None
            except Conflict as exc:
                failures += 1
                log.warning(
                    "Telegram refused getUpdates (%s): is another villagebot polling with this token, "
                    "or a webhook set? Trying again.", exc.message
                )
                await self._pause(self._backoff(failures), stop)
                continue
            except (TelegramError, DeliveryError) as exc:
                failures += 1
                log.warning("getUpdates failed (%s); trying again", _reason(exc))
                await self._pause(self._backoff(failures), stop)
                continue
            failures = 0
            if not await self._store(updates, stop):
                return  # stopped while retrying: these updates stay unconfirmed at Telegram
            if updates:
                offset = updates[-1].update_id + 1  # confirmed by the next getUpdates
            elif not await self._pause(self.poll_gap - (loop.time() - asked), stop):
                return  # came back at once with nothing: not asked again before poll_gap

    async def _get_updates(self, offset: int | None) -> Sequence[Update]:
        """The next updates. A batch the library cannot read (a field it chokes on in one update) is
        read update by update from the raw answer; one that still cannot be read is logged, naming
        its update_id and content, and skipped (confirmed), so that it does not hold up the rest."""
        with self.answers.watch() as answer:
            try:
                return await self.bot.get_updates(
                    offset=offset, timeout=self.poll_timeout, allowed_updates=ALLOWED_UPDATES
                )
            except TelegramError:
                raise
            except Exception as exc:
                raw = answer.result()
                if not isinstance(raw, list):
                    raise DeliveryError(self._unreadable("getUpdates", answer, exc)) from exc
        updates: list[Update] = []
        for item in raw:
            try:
                updates.append(Update.de_json(item, self.bot))
            except Exception as exc:
                if not isinstance(item, dict) or not isinstance(item.get("update_id"), int):
                    raise DeliveryError(self._unreadable("getUpdates", answer, exc)) from exc
                log.error(
                    "skipped Telegram update %s from %s, which python-telegram-bot cannot read (%s): %s",
                    item["update_id"], self.base_url, _reason(exc), _shown(json.dumps(item, ensure_ascii=False)),
                )
                updates.append(Update(update_id=item["update_id"]))  # nothing in it: confirmed, not handled
        return updates

    async def _store(self, updates: Sequence[Update], stop: asyncio.Event) -> bool:
        """Hand the updates to the app until they are stored; False if stopped first."""
        attempt = 0
        while True:
            try:
                await self.receive_updates(updates)
                return True
            except PlatformError:
                raise
            except Exception:
                attempt += 1
                first = updates[0].update_id if updates else None
                log.exception("updates from %s could not be stored (attempt %s); trying again", first, attempt)
                if not await self._pause(self._backoff(attempt), stop):
                    return False

    async def _hand_over(self, messages: list[IncomingMessage]) -> None:
        if messages:
            await self.receive(messages)

    async def _moved_to(self, old: str, new: str) -> None:
        """A group became a supergroup: the town rebinds it, then rows still queued for the old id go
        to the new one. In that order: were the redirect kept while the rebinding failed, no later
        send would meet the move and try the rebinding again."""
        await self.events.chat_moved(old, new)
        self._moved[old] = new

    async def receive_update(self, update: Update) -> None:
        """One update from Telegram, by webhook: stored (and answered) when this returns."""
        await self.receive_updates([update])

    async def receive_updates(self, updates: Sequence[Update]) -> None:
        """Updates from Telegram in their order: stored (and answered) when this returns.

        The messages between two migrations are received together, so that a backlog (a restart,
        a busy morning) is stored in a few commits rather than one per message."""
        me = await self._ready()
        messages: list[IncomingMessage] = []
        for update in updates:
            if update.edited_message is not None:
                edit = to_incoming(update.edited_message, me, self.people, edited=True)
                if edit is not None:
                    messages.append(edit)
                continue
            message = update.message
            if message is None:
                continue  # channel posts and the like: not asked for
            if message.migrate_to_chat_id or message.migrate_from_chat_id:
                await self._hand_over(messages)
                messages = []
                if message.migrate_to_chat_id:
                    await self._moved_to(chat_ref(message.chat.id), chat_ref(message.migrate_to_chat_id))
                if message.migrate_from_chat_id:
                    await self._moved_to(chat_ref(message.migrate_from_chat_id), chat_ref(message.chat.id))
                continue
            incoming = to_incoming(message, me, self.people)
            if incoming is not None:
                messages.append(incoming)
        await self._hand_over(messages)

    async def _serve_webhook(self, stop: asyncio.Event) -> None:
        url = self.settings.webhook_url or ""
        secret = os.environ.get(self.settings.webhook_secret_env, "")
        if not _SECRET.fullmatch(secret):  # not match: "$" lets "secret\n" (from an env file) through
            raise PlatformError(
                f"[telegram] webhook_url is set, so ${self.settings.webhook_secret_env} must hold the webhook's "
                "secret: 1 to 256 characters of A-Z, a-z, 0-9, _ and -"
            )
        self.webhook = WebhookServer(
            listen=self.settings.webhook_listen,
            port=self.settings.webhook_port,
            path=urlsplit(url).path or "/",
            secret=secret,
            handle=self._receive_json,
        )
        await self.webhook.start()
        await self._until_done(
            "setWebhook",
            lambda: self.bot.set_webhook(
                url,
                secret_token=secret,
                allowed_updates=ALLOWED_UPDATES,
                max_connections=WEBHOOK_CONNECTIONS,
                drop_pending_updates=False,
            ),
            stop,
            fix=(
                f"correct [telegram] webhook_url = \"{url}\" in {self.config_source}: Telegram takes only "
                "an https:// URL that it can reach, on port 443, 80, 88 or 8443"
            ),
        )
        log.info("receiving Telegram updates by webhook at %s", url)
        await stop.wait()

    async def _receive_json(self, data: dict[str, Any]) -> None:
        """An update by webhook. One the library cannot read is logged and answered 200 all the
        same (skipped): Telegram would send it again, unreadable again, forever."""
        try:
            update = Update.de_json(data, self.bot)
        except Exception as exc:
            log.error(
                "skipped Telegram update %s, which python-telegram-bot cannot read (%s): %s",
                data.get("update_id"), _reason(exc), _shown(json.dumps(data, ensure_ascii=False)),
            )
            return
        await self.receive_update(update)

    # --- sending ----------------------------------------------------------------------------------

    async def deliver(self, message: OutgoingMessage) -> str | None:
        """Send one outbox message (in several parts if long); the id of its first part.

        A long message whose later part failed is sent again from that part: the parts that went
        out are remembered by chat and skipped where the retry begins with the very same parts. By
        chat and text of the parts, not by the whole message, since the retry may differ from the
        try (the outbox sender merges what else is waiting for the group, and a merged message
        quotes nothing), and the group has those parts whatever follows them. Kept until a send to
        the chat begins with them, not lost to another message sent there meanwhile. In memory only:
        after a restart the whole message goes again."""
        await self._ready()  # getMe once, before the first send
        chat = self._moved.get(message.chat, message.chat)
        parts = render(message, lambda user_id: self.people.name(user_id) or texts.UNKNOWN_MENTION_NAME)
        went, first_id = self._partial.get(message.chat, ((), None))
        done = _leading_parts_sent(parts, went)
        if done:  # this send takes up where that one stopped: the memory is used up
            del self._partial[message.chat]
        else:  # another message to the chat (an alert while a long one waits): the memory is kept
            first_id = None
        for index, part in enumerate(parts):
            if index < done:
                continue
            reply_to = message.reply_to if index == 0 else None
            try:
                chat, sent_id = await self._send(chat, part, reply_to, message)
            except DeliveryError as exc:
                if index > 0 and not exc.permanent:  # a permanent failure is not tried again
                    self._partial[message.chat] = (tuple(p.key for p in parts[:index]), first_id)
                    while len(self._partial) > 1000:
                        self._partial.popitem(last=False)
                raise
            first_id = first_id or sent_id
        return first_id

    async def _send(
        self, chat: str, part: Part, reply_to: str | None, message: OutgoingMessage
    ) -> tuple[str, str | None]:
        """Send one part; the chat it went to (a migrated group's new id) and Telegram's message id
        (None when the server accepted the message but its answer does not say the id)."""
        for _ in range(3):  # a group may be upgraded once; more than twice is not a migration
            chat_id = telegram_chat_id(chat)
            try:
                counted_at = await self.limiter.acquire(chat_id)
            except FloodWait as wait:
                raise DeliveryError(
                    f"{chat} is at Telegram's limit of messages a minute; sending later", retry_after=wait.seconds
                ) from None
            try:
                with self.answers.watch() as answer:
                    try:
                        sent: Message = await self._send_part(chat_id, part, reply_to)
                    except TelegramError as exc:
                        if answer.status != HTTPStatus.OK:
                            raise
                        raise self._unread_send(chat, answer, exc) from None  # 200, but not JSON
                    except Exception as exc:  # answered, and the library could not read the answer
                        if answer.accepted():
                            self.limiter.arrived(chat_id, counted_at)
                            return chat, self._accepted_unread(chat, answer, exc)
                        raise self._unread_send(chat, answer, exc) from exc
                self.limiter.arrived(chat_id, counted_at)
                return chat, str(sent.message_id)
            except RetryAfter as exc:
                seconds = _seconds(exc)
                self.limiter.release(chat_id, counted_at)
                self.limiter.hold(chat_id, seconds)
                raise DeliveryError(f"Telegram asked to wait {seconds:g} s (429)", retry_after=seconds) from None
            except ChatMigrated as exc:
                self.limiter.release(chat_id, counted_at)
                new_chat = chat_ref(exc.new_chat_id)
                log.info("Telegram group %s became supergroup %s; following it", chat, new_chat)
                await self._moved_to(chat, new_chat)
                self._moved[message.chat] = new_chat
                chat = new_chat
            except Forbidden as exc:
                await self.events.bot_removed(chat)
                raise DeliveryError(
                    f"Telegram: {exc.message}", failure=DeliveryFailure.REMOVED, permanent=True
                ) from None
            except InvalidToken as exc:
                raise DeliveryError(f"Telegram refused the token: {exc.message}") from None
            except BadRequest as exc:
                raise DeliveryError(
                    f"Telegram refused the message: {exc.message}", failure=_refusal(exc.message), permanent=True
                ) from None
            except NetworkError as exc:  # TimedOut too
                raise _network_error(exc) from None
            except TelegramError as exc:
                raise DeliveryError(f"Telegram: {exc.message}") from None
        raise DeliveryError(f"{message.chat} keeps moving to another chat id", failure=DeliveryFailure.MOVED)

    async def _send_part(self, chat_id: int | str, part: Part, reply_to: str | None) -> Message:
        """sendMessage, or sendPhoto (multipart, the PNG's bytes and file name) for a part with a picture."""
        if part.picture is not None:
            return await self.bot.send_photo(
                chat_id,
                InputFile(part.picture.data, filename=part.picture.name),
                caption=part.text or None,
                caption_entities=part.entities or None,
                reply_parameters=_reply(reply_to),
            )
        return await self.bot.send_message(
            chat_id,
            part.text,
            entities=part.entities or None,
            reply_parameters=_reply(reply_to),
            link_preview_options=None,
        )

    def _accepted_unread(self, chat: str, answer: _Answer, exc: BaseException) -> str | None:
        """A send the server accepted (`ok: true`) though its answer could not be read: it is sent,
        and must not be sent again as failed. Its message id, where the raw answer has one."""
        message_id = answer.message_id()
        log.warning(
            "%s accepted the message to %s (message id %s) but python-telegram-bot cannot read its answer "
            "(%s): recorded as sent; the answer was %s",
            self.base_url, chat, message_id or "not given", _reason(exc), answer.shown(),
        )
        return message_id

    def _unread_send(self, chat: str, answer: _Answer, exc: BaseException) -> DeliveryError:
        """An answer that does not say whether the server took the message: it may have, so the send
        is ambiguous (sent again, counted and logged as possibly doubled), not a plain failure."""
        return DeliveryError(
            f"{self.base_url} gave an answer to the message to {chat} that cannot be read ({_reason(exc)}), "
            f"so it may have arrived: HTTP {answer.status}: {answer.shown()}",
            failure=DeliveryFailure.NO_ANSWER,
            ambiguous=True,
        )

    # --- helpers ----------------------------------------------------------------------------------

    async def _until_done(self, what: str, call: Any, stop: asyncio.Event, *, fix: str) -> None:
        """A start-up call that must succeed: retried with backoff until it does or `stop` is set,
        while the trouble may pass (the network, Telegram's 5xx, a 429). A refusal that trying again
        cannot change (a bad webhook URL or port, a revoked token) stops the bot with PlatformError
        saying what to fix (`fix`), rather than a warning repeated forever."""
        attempt = 0
        while not stop.is_set():
            with self.answers.watch() as answer:
                try:
                    await self._until_stopped(call(), stop)
                    return
                except _Stopped:
                    return
                except InvalidToken:
                    raise PlatformError(self._token_refused()) from None
                except BadRequest as exc:
                    raise PlatformError(f"Telegram refused {what}: {exc.message}; {fix}") from None
                except RetryAfter as exc:
                    await self._pause(_seconds(exc), stop)
                except TelegramError as exc:
                    if answer.status == HTTPStatus.OK:  # answered, but not in JSON: it will not pass
                        raise PlatformError(f"{self._unreadable(what, answer, exc)}; {fix}") from None
                    attempt += 1
                    log.warning("Telegram %s failed (%s); trying again", what, exc.message)
                    await self._pause(self._backoff(attempt), stop)
                except Exception as exc:  # an answer the library could not read: it will not pass
                    raise PlatformError(f"{self._unreadable(what, answer, exc)}; {fix}") from exc

    @staticmethod
    async def _until_stopped(call: Awaitable[T], stop: asyncio.Event) -> T:
        """Await `call`, or cancel it and raise _Stopped as soon as `stop` is set."""
        work = asyncio.ensure_future(call)
        stopper = asyncio.ensure_future(stop.wait())
        try:
            await asyncio.wait({work, stopper}, return_when=asyncio.FIRST_COMPLETED)
            if work.done():
                return work.result()
            raise _Stopped
        finally:
            for task in (work, stopper):
                task.cancel()

    @staticmethod
    async def _pause(seconds: float, stop: asyncio.Event) -> bool:
        """Sleep `seconds` unless stopped first; False if stopped."""
        try:
            async with asyncio.timeout(seconds):  # not wait_for: see OutboxSender.run
                await stop.wait()
        except TimeoutError:
            return True
        return False

    def _backoff(self, attempt: int) -> float:
        return doubled_delay(self.retry_seconds, MAX_RETRY_SECONDS, attempt - 1)

    def _token_refused(self) -> str:
        return (
            f"the Telegram Bot API at {self._api_host()} refused the token in "
            f"${self.settings.token_env}; put the token that @BotFather gave you there"
        )

    def _api_host(self) -> str:
        return urlsplit(self.base_url).netloc or self.base_url

    def _heard(self, what: str, answer: _Answer) -> str:
        """What the server answered to a call, for a log line or an error."""
        if answer.status is None:
            return f"{what} at {self.base_url} got no answer"
        return f"{what} at {self.base_url} answered HTTP {answer.status}: {answer.shown()}"

    def _unreadable(self, what: str, answer: _Answer, exc: BaseException) -> str:
        """One sentence for an answer the library could not read: the call, the server, the answer."""
        heard = f"HTTP {answer.status}: {answer.shown()}" if answer.status is not None else "nothing"
        return (
            f"the Telegram Bot API at {self.base_url} answered {what} with {heard}, which python-telegram-bot "
            f"cannot read ({_reason(exc)}); is that server a Telegram Bot API server "
            f"([telegram] base_url or ${BASE_URL_ENV})?"
        )


def configured_limits(settings: TelegramSection) -> SendLimits:
    """`[telegram] per_second` and `per_chat_per_minute` (into one group: private chats have only
    the overall limit), each where given, else Telegram's published limits."""
    defaults = SendLimits()
    return replace(
        defaults,
        per_second=settings.per_second if settings.per_second is not None else defaults.per_second,
        per_group_per_minute=(
            settings.per_chat_per_minute if settings.per_chat_per_minute is not None else defaults.per_group_per_minute
        ),
    )


def _leading_parts_sent(parts: Sequence[Part], went: Sequence[str]) -> int:
    """How many of `parts`, from the first, are the parts `went` that the group has already; never
    all of them (the split is greedy, so a text that only grew at its end begins with the same parts)."""
    count = 0
    while count < min(len(went), len(parts) - 1) and parts[count].key == went[count]:
        count += 1
    return count


#: Bad Requests that mean the group is out of the bot's reach rather than that this message is wrong.
_GONE_WORDS = ("chat not found", "bot was kicked", "group chat was deactivated", "not a member")
_NO_RIGHTS_WORDS = ("not enough rights", "have no rights")


def _refusal(description: str) -> DeliveryFailure:
    """What a Bad Request says of the group, read from the only thing the Bot API gives: its text."""
    lowered = description.lower()
    if any(word in lowered for word in _GONE_WORDS):
        return DeliveryFailure.REMOVED
    if any(word in lowered for word in _NO_RIGHTS_WORDS):
        return DeliveryFailure.NO_RIGHTS
    return DeliveryFailure.REFUSED


def _reply(reply_to: str | None) -> ReplyParameters | None:
    if reply_to is None or not reply_to.isdigit():
        return None
    return ReplyParameters(message_id=int(reply_to), allow_sending_without_reply=True)


class _GatewayTimedOut(Exception):
    """A proxy in front of the Bot API answered 504: it waited for Telegram in vain, and Telegram
    may have taken the message meanwhile."""


@dataclass
class _Answer:
    """What the Bot API answered to one call, as it came: its HTTP status and body (None and b""
    until an answer comes)."""

    status: int | None = None
    payload: bytes = b""

    def body(self) -> Any:
        """The answer's JSON, or None when it is not JSON."""
        try:
            return json.loads(self.payload.decode("utf-8"))
        except ValueError:
            return None

    def accepted(self) -> bool:
        """The server said it did what was asked: 200 and `"ok": true`."""
        body = self.body()
        return self.status == HTTPStatus.OK and isinstance(body, dict) and body.get("ok") is True

    def result(self) -> Any:
        body = self.body()
        return body.get("result") if isinstance(body, dict) else None

    def message_id(self) -> str | None:
        """The sent message's id in the raw answer, where it is a whole number."""
        result = self.result()
        found = result.get("message_id") if isinstance(result, dict) else None
        if isinstance(found, bool) or not isinstance(found, int | str) or not str(found).isdigit():
            return None
        return str(found)

    def shown(self) -> str:
        return _shown(self.payload.decode("utf-8", errors="replace")) if self.payload else "an empty body"


class _Answers:
    """The answer to the Bot API call under way in this task, kept by the request class for the
    caller: python-telegram-bot raises on an answer it cannot read and the raw answer is gone by
    then. A context variable, so that concurrent sends (one task each) do not see each other's."""

    def __init__(self) -> None:
        self._current: ContextVar[_Answer | None] = ContextVar("telegram_answer", default=None)

    @contextlib.contextmanager
    def watch(self) -> Iterator[_Answer]:
        """The answer to the calls made inside the block (the last one, if several)."""
        answer = _Answer()
        token = self._current.set(answer)
        try:
            yield answer
        finally:
            self._current.reset(token)

    def heard(self, status: int, payload: bytes) -> None:
        answer = self._current.get()
        if answer is not None:
            answer.status, answer.payload = status, payload


class _Request(HTTPXRequest):
    """HTTPXRequest that keeps each answer for its caller (`_Answers`) and tells a gateway's 504 from
    Telegram's own answers. The library turns every status it does not know into the same
    NetworkError, and a 504's body (a proxy's HTML page) has no description to tell it by."""

    def __init__(self, answers: _Answers, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.answers = answers

    async def do_request(self, *args: Any, **kwargs: Any) -> tuple[int, bytes]:
        code, payload = await super().do_request(*args, **kwargs)
        self.answers.heard(code, payload)
        if code == HTTPStatus.GATEWAY_TIMEOUT:
            raise NetworkError("Gateway Timeout (504)") from _GatewayTimedOut()
        return code, payload


def _network_error(exc: NetworkError) -> DeliveryError:
    """A send that got no usable answer, as a DeliveryError that says whether Telegram may have the
    message: `ambiguous` when the request went out and no answer came back (it is sent again, and
    may arrive twice), or when a gateway's 504 says it waited for Telegram in vain; not when it never
    left (no connection, no free connection, not all of it written) nor when Telegram did answer
    (another 5xx: it says it did not take the message)."""
    cause = exc.__cause__
    if isinstance(cause, _NEVER_SENT):
        return DeliveryError(
            f"the request never reached Telegram ({type(cause).__name__}); nothing was sent",
            failure=DeliveryFailure.NO_ANSWER if isinstance(cause, httpx.TimeoutException) else DeliveryFailure.FAILED,
        )
    if isinstance(cause, _GatewayTimedOut):
        return DeliveryError(
            "a gateway waited for Telegram in vain (504) after the message was sent",
            failure=DeliveryFailure.NO_ANSWER,
            ambiguous=True,
        )
    if isinstance(cause, httpx.HTTPError) or (isinstance(exc, TimedOut) and cause is None):
        what = "did not answer in time" if isinstance(exc, TimedOut) else f"dropped the connection ({exc.message})"
        return DeliveryError(
            f"Telegram {what} after the message was sent", failure=DeliveryFailure.NO_ANSWER, ambiguous=True
        )
    return DeliveryError(f"Telegram: {exc.message}")


def _reason(exc: BaseException) -> str:
    """An exception in a few words: a TelegramError's message, else its type and text."""
    if isinstance(exc, TelegramError):
        return exc.message
    if isinstance(exc, DeliveryError):
        return exc.reason
    return f"{type(exc).__name__}: {exc}"


def _shown(text: str) -> str:
    return text if len(text) <= SHOWN_ANSWER else f"{text[:SHOWN_ANSWER]}…"


def _seconds(exc: RetryAfter) -> float:
    """RetryAfter.retry_after is an int or a timedelta, depending on PTB_TIMEDELTA."""
    value: int | float | dt.timedelta = exc.retry_after
    return value.total_seconds() if isinstance(value, dt.timedelta) else float(value)


class _RedactToken(logging.Filter):
    """The token is in every Bot API URL; keep it out of whatever a library logs."""

    def __init__(self, token: str) -> None:
        super().__init__()
        self.token = token

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if self.token in message:
            record.msg, record.args = message.replace(self.token, "<token>"), None
        return True


def _keep_token_out_of_logs(token: str, handlers: Sequence[logging.Handler] | None = None) -> None:
    # httpx logs every request URL (token included) at INFO, the level `villagebot run` logs at.
    for name in ("httpx", "httpcore"):
        library = logging.getLogger(name)
        if library.level == logging.NOTSET:
            library.setLevel(logging.WARNING)
    for handler in handlers if handlers is not None else logging.getLogger().handlers:
        if not any(isinstance(f, _RedactToken) and f.token == token for f in handler.filters):
            handler.addFilter(_RedactToken(token))
