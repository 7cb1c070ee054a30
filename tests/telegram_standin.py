"""A stand-in for the Telegram Bot API on 127.0.0.1, for the tests and bench/telegram.py.

The real python-telegram-bot client talks to it over HTTP, exactly as it talks to Telegram:

    with TelegramStandIn(now=clock.now) as telegram:   # a thread of its own, any free port
        env["TELEGRAM_BASE_URL"] = telegram.base_url
        telegram.queue_message(-1001000000111, 2001, "日报 入户排查120户 ...")
        await telegram.until(lambda t: t.sent_to(-1001000000111))

Messages are dated by `now` (the test's clock; the wall clock by default), as Telegram dates
them by its own: the day a report counts for is the clock's, not the day the suite runs.

What it does as Telegram does: getMe (privacy mode configurable), deleteWebhook, setWebhook (and
409 for getUpdates while a webhook is set), setMyCommands, getUpdates with offsets (an offset
confirms, and so forgets, every update below it) and long polling (the request is held until an
update is queued or its timeout passes), sendMessage (recorded with its time of arrival), sendPhoto
(multipart: recorded with its bytes, file name and caption, in `photos`).
Failures as Telegram gives them: 429 with retry_after, 400 with migrate_to_chat_id, 403 for a
group that removed the bot, any error for another method (`refuse`: a setWebhook Telegram finds
wrong); and as the way to Telegram gives them: a message that arrives but whose answer comes too
late (`answer_late`: the bot's request times out, yet the group has the message), a request that
is never answered and never delivered (`hang`), 5xx (`fail`), a proxy's 504 page for a message
that arrived (`gateway_timeout`). And answers as other servers give them (telegram-test-api, a
proxy): a send accepted with an answer in another shape (`answer_oddly`: a `date` in milliseconds,
a field missing, a body that is not JSON), a getMe without some of its fields (`leave_out_of_get_me`),
a getUpdates that returns at once instead of holding the poll (`answer_polls_at_once`).
`push_to_webhook` posts a queued update to the webhook that was set, with its secret, as Telegram
does. Nothing here reaches the internet.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import itertools
import json
import re
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from aiohttp import ClientSession, ClientTimeout, web
from waiting import eventually

BOT_ID = 7000001
BOT_USERNAME = "villagebot_test_bot"
TOKEN = f"{BOT_ID}:AAStandInTokenForTestsOnly_0123456789"
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"

_STRING_PARAMS = {"text", "url", "secret_token", "parse_mode", "caption", "description"}
_COMMAND = re.compile(r"^/[A-Za-z0-9_]+(?:@[A-Za-z0-9_]+)?")
_MENTION = re.compile(r"@[A-Za-z0-9_]{5,32}")


@dataclass(frozen=True)
class SentMessage:
    chat_id: int
    text: str
    entities: list[dict[str, Any]]
    parse_mode: str | None
    reply_to: int | None
    message_id: int
    at: float  # time.monotonic() when the stand-in received it
    date: dt.datetime  # the stand-in's `now` then: the time Telegram gives the message


@dataclass(frozen=True)
class SentPhoto:
    chat_id: int
    caption: str
    caption_entities: list[dict[str, Any]]
    file_name: str
    data: bytes
    reply_to: int | None
    message_id: int
    at: float  # time.monotonic() when the stand-in received it


@dataclass(frozen=True)
class Refusal:
    chat_id: int
    status: int
    text: str
    at: float


@dataclass(frozen=True)
class ApiCall:
    method: str
    params: dict[str, Any]
    at: float


@dataclass
class _Failure:
    status: int
    description: str
    parameters: dict[str, Any] | None = None
    times: int | None = None  # None: every time
    delay: float = 0.0  # seconds before the answer
    delivered: bool = False  # the message arrives all the same (answered 200, late)
    after: int = 0  # sends that go through before this failure comes
    #: The answer's body made from the result Telegram would give: a dict (sent as JSON) or a str.
    shape: Callable[[dict[str, Any]], dict[str, Any] | str] | None = None


@dataclass
class _State:
    updates: list[dict[str, Any]] = field(default_factory=list)  # queued, not yet confirmed
    history: list[dict[str, Any]] = field(default_factory=list)  # every update ever queued
    sent: list[SentMessage] = field(default_factory=list)
    photos: list[SentPhoto] = field(default_factory=list)
    refused: list[Refusal] = field(default_factory=list)  # sends answered with an error
    calls: list[ApiCall] = field(default_factory=list)
    failures: dict[int, list[_Failure]] = field(default_factory=dict)
    refusals: dict[str, list[_Failure]] = field(default_factory=dict)  # by method, for calls other than sends
    confirmed: int = 0  # the highest offset any getUpdates gave
    held_polls: int = 0  # getUpdates calls being held open now (long polling)
    webhook_url: str = ""
    webhook_secret: str | None = None
    left_out_of_get_me: tuple[str, ...] = ()
    polls_at_once: bool = False


def utf16_len(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def chat_type(chat_id: int) -> str:
    if chat_id > 0:
        return "private"
    return "supergroup" if str(chat_id).startswith("-100") else "group"


class TelegramStandIn:
    def __init__(
        self,
        token: str = TOKEN,
        *,
        privacy_off: bool = True,
        username: str = BOT_USERNAME,
        now: Callable[[], dt.datetime] | None = None,
    ) -> None:
        self.token = token
        self.now = now or (lambda: dt.datetime.now(dt.UTC))
        self.privacy_off = privacy_off
        self.username = username
        self.port = 0
        self._lock = threading.Lock()
        self._state = _State()
        self._ids = itertools.count(1)  # update ids
        self._message_ids = itertools.count(1)
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._ready = threading.Event()
        self._stopping: asyncio.Event | None = None
        self._arrived: asyncio.Event | None = None
        self._error: BaseException | None = None
        self._closing = False

    # --- running ----------------------------------------------------------------------------------

    def start(self) -> TelegramStandIn:
        self._thread = threading.Thread(target=lambda: asyncio.run(self._main()), name="telegram-standin", daemon=True)
        self._thread.start()
        if not self._ready.wait(10) or self._error is not None:
            raise RuntimeError(f"the Telegram stand-in did not start: {self._error!r}")
        return self

    def stop(self) -> None:
        if self._loop is not None and self._stopping is not None:
            self._loop.call_soon_threadsafe(self._stopping.set)
        if self._thread is not None:
            self._thread.join(10)

    def __enter__(self) -> TelegramStandIn:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def base_url(self) -> str:
        """What python-telegram-bot takes as base_url: it appends the token."""
        return f"http://127.0.0.1:{self.port}/bot"

    async def _main(self) -> None:
        try:
            self._loop = asyncio.get_running_loop()
            self._stopping = asyncio.Event()
            self._arrived = asyncio.Event()
            app = web.Application()
            app.router.add_route("*", "/bot{token}/{method}", self._api)
            # A held getUpdates ends when its client goes away, and at stop; nothing waits for it.
            runner = web.AppRunner(
                app, access_log=None, handle_signals=False, handler_cancellation=True, shutdown_timeout=0.2
            )
            await runner.setup()
            site = web.TCPSite(runner, "127.0.0.1", 0)
            await site.start()
            self.port = int(runner.addresses[0][1])
        except BaseException as exc:
            self._error = exc
            self._ready.set()
            raise
        self._ready.set()
        await self._stopping.wait()
        self._closing = True
        self._wake()
        await runner.cleanup()

    # --- what a test makes happen -------------------------------------------------------------------

    def queue_message(
        self,
        chat_id: int,
        user_id: int,
        text: str,
        *,
        first_name: str | None = None,
        username: str | None = None,
        date: int | None = None,
        entities: Sequence[dict[str, Any]] = (),
        reply_to: dict[str, Any] | None = None,
        edited: bool = False,
    ) -> dict[str, Any]:
        """A person writes `text` in a chat; the update as queued (its "message" is the message).
        Commands and @username mentions get their entities as Telegram computes them."""
        message: dict[str, Any] = {
            "message_id": next(self._message_ids),
            "date": date if date is not None else self._date(),
            "chat": self._chat(chat_id),
            "from": {"id": user_id, "is_bot": False, "first_name": first_name or f"用户{user_id}"},
            "text": text,
        }
        if username:
            message["from"]["username"] = username
        found = [*self._auto_entities(text), *entities]
        if found:
            message["entities"] = sorted(found, key=lambda e: int(e["offset"]))
        if reply_to is not None:
            message["reply_to_message"] = reply_to
        if edited:
            message["edit_date"] = message["date"]
        return self.queue_update({"edited_message" if edited else "message": message})

    def edit(self, message: dict[str, Any], text: str, *, edit_date: int | None = None) -> dict[str, Any]:
        """The author edits `message` (as queued) to say `text`: an edited_message update, with the
        message's id and date and an edit_date (the stand-in's `now` by default); the update."""
        edited = {k: v for k, v in message.items() if k not in ("text", "entities")}
        edited["text"] = text
        found = self._auto_entities(text)
        if found:
            edited["entities"] = found
        edited["edit_date"] = edit_date if edit_date is not None else self._date()
        return self.queue_update({"edited_message": edited})

    def queue_update(self, update: dict[str, Any]) -> dict[str, Any]:
        with self._lock:
            update = {"update_id": next(self._ids), **update}
            self._state.updates.append(update)
            self._state.history.append(update)
        if self._loop is not None:
            self._loop.call_soon_threadsafe(self._wake)
        return update

    def bot_message(self, sent: SentMessage) -> dict[str, Any]:
        """A message the bot sent, as it appears in reply_to_message."""
        return {
            "message_id": sent.message_id,
            "date": int(sent.date.timestamp()),
            "chat": self._chat(sent.chat_id),
            "from": self._me(),
            "text": sent.text,
        }

    def flood(self, chat_id: int, retry_after: int, times: int = 1) -> None:
        """The next `times` sends to the chat get 429 Too Many Requests."""
        self._fail(chat_id, _Failure(429, f"Too Many Requests: retry after {retry_after}",
                                     {"retry_after": retry_after}, times))

    def migrate(self, chat_id: int, new_chat_id: int, *, announce: bool = False) -> None:
        """The group became a supergroup: every send to the old id gets 400 with the new id.
        `announce`: also the two service messages Telegram posts, in the old chat and the new."""
        self._fail(chat_id, _Failure(400, "Bad Request: group chat was upgraded to a supergroup chat",
                                     {"migrate_to_chat_id": new_chat_id}))
        if announce:
            admin = {"id": 10001, "is_bot": False, "first_name": "镇防控办"}
            for chat, key, value in ((chat_id, "migrate_to_chat_id", new_chat_id),
                                     (new_chat_id, "migrate_from_chat_id", chat_id)):
                self.queue_update({"message": {
                    "message_id": next(self._message_ids), "date": self._date(),
                    "chat": self._chat(chat), "from": admin, key: value,
                }})

    def answer_late(self, chat_id: int, seconds: float) -> None:
        """The next send to the chat arrives (it is in `sent`), but Telegram's answer comes only
        after `seconds`: longer than the bot waits, and the send is one that timed out and yet
        arrived."""
        self._fail(chat_id, _Failure(200, "", times=1, delay=seconds, delivered=True))

    def hang(self, chat_id: int, seconds: float) -> None:
        """The next send to the chat is lost on the way: no answer for `seconds` (then 504 from
        the gateway, if the bot still waits), and the group gets nothing."""
        self._fail(chat_id, _Failure(504, "Gateway Timeout", times=1, delay=seconds))

    def gateway_timeout(self, chat_id: int) -> None:
        """The next send to the chat arrives, but a proxy in front of the Bot API answers 504 with
        its own HTML page, as nginx does when Telegram is slow to answer it."""
        self._fail(chat_id, _Failure(504, "", times=1, delivered=True))

    def fail(
        self, chat_id: int, status: int = 502, description: str = "Bad Gateway", times: int = 1, *, after: int = 0
    ) -> None:
        """The next `times` sends to the chat (after `after` that go through: the second part of a
        long message, say) are answered `status` (a 5xx) and not delivered."""
        self._fail(chat_id, _Failure(status, description, times=times, after=after))

    def refuse(
        self, method: str, status: int, description: str, *, times: int | None = None,
        parameters: dict[str, Any] | None = None,
    ) -> None:
        """The next `times` calls of `method` (None: every one) are answered `status` with
        `description`, as Telegram refuses a setWebhook with a bad URL (400) or a revoked token (401)."""
        with self._lock:
            self._state.refusals.setdefault(method, []).append(_Failure(status, description, parameters, times))

    def answer_oddly(
        self, chat_id: int, shape: Callable[[dict[str, Any]], dict[str, Any] | str], times: int | None = 1
    ) -> None:
        """The next `times` sends to the chat (None: every one) arrive, and are answered 200 with the
        body `shape` makes of the result Telegram would give (see `in_milliseconds`)."""
        self._fail(chat_id, _Failure(200, "", times=times, delivered=True, shape=shape))

    def answer_unreadably(self, method: str, body: str, *, times: int | None = None) -> None:
        """The next `times` calls of `method` (None: every one) are answered 200 with `body` as it is."""
        with self._lock:
            self._state.refusals.setdefault(method, []).append(_Failure(200, body, None, times))

    def leave_out_of_get_me(self, *fields: str) -> None:
        """getMe answers without these fields of the bot's user (telegram-test-api gives no is_bot)."""
        with self._lock:
            self._state.left_out_of_get_me = fields

    def answer_polls_at_once(self) -> None:
        """getUpdates returns at once, with nothing if nothing is queued, whatever its timeout."""
        with self._lock:
            self._state.polls_at_once = True

    def remove_bot(self, chat_id: int) -> None:
        """The bot was removed from the group: every send there gets 403."""
        self._fail(chat_id, _Failure(403, "Forbidden: bot was kicked from the supergroup chat"))

    def forget_confirmations(self) -> None:
        """Telegram sends every update again, as after a bot that never confirmed them."""
        with self._lock:
            self._state.updates = list(self._state.history)
            self._state.confirmed = 0
        if self._loop is not None:
            self._loop.call_soon_threadsafe(self._wake)

    async def push_to_webhook(self, update: dict[str, Any], *, secret: str | None = "as set") -> int:
        """Post the update to the webhook that was set, as Telegram does; the HTTP status.
        `secret`: "as set" sends the one given in setWebhook, None sends no header."""
        assert self._loop is not None
        future = asyncio.run_coroutine_threadsafe(self._push(update, secret), self._loop)
        return await asyncio.wrap_future(future)

    async def _push(self, update: dict[str, Any], secret: str | None) -> int:
        with self._lock:
            url, set_secret = self._state.webhook_url, self._state.webhook_secret
        assert url, "no webhook was set"
        headers = {"Content-Type": "application/json"}
        chosen = set_secret if secret == "as set" else secret
        if chosen is not None:
            headers[SECRET_HEADER] = chosen
        async with ClientSession(timeout=ClientTimeout(total=30)) as session, session.post(
            url, data=json.dumps(update), headers=headers
        ) as response:
            await response.read()
            return response.status

    # --- what a test looks at ---------------------------------------------------------------------

    @property
    def sent(self) -> list[SentMessage]:
        with self._lock:
            return list(self._state.sent)

    @property
    def photos(self) -> list[SentPhoto]:
        with self._lock:
            return list(self._state.photos)

    def photos_to(self, chat_id: int) -> list[SentPhoto]:
        return [p for p in self.photos if p.chat_id == chat_id]

    def sent_to(self, chat_id: int) -> list[str]:
        return [m.text for m in self.sent if m.chat_id == chat_id]

    def replies_to(self, chat_id: int, message_id: int) -> list[str]:
        return [m.text for m in self.sent if m.chat_id == chat_id and m.reply_to == message_id]

    @property
    def refused(self) -> list[Refusal]:
        with self._lock:
            return list(self._state.refused)

    def calls(self, method: str) -> list[dict[str, Any]]:
        with self._lock:
            return [c.params for c in self._state.calls if c.method == method]

    def call_times(self, method: str) -> list[float]:
        """When each call of `method` arrived (time.monotonic())."""
        with self._lock:
            return [c.at for c in self._state.calls if c.method == method]

    @property
    def confirmed_offset(self) -> int:
        with self._lock:
            return self._state.confirmed

    @property
    def last_update_id(self) -> int:
        with self._lock:
            return self._state.history[-1]["update_id"] if self._state.history else 0

    def all_confirmed(self) -> bool:
        """Every update queued so far was confirmed by a later getUpdates."""
        last = self.last_update_id
        return last == 0 or self.confirmed_offset > last

    @property
    def webhook(self) -> tuple[str, str | None]:
        with self._lock:
            return self._state.webhook_url, self._state.webhook_secret

    @property
    def held_polls(self) -> int:
        """How many getUpdates calls the stand-in is holding open (waiting for an update) now."""
        with self._lock:
            return self._state.held_polls

    async def until(
        self, condition: Callable[[TelegramStandIn], object], timeout: float = 10.0, *, what: str = ""
    ) -> None:
        """Wait until `condition(self)` is true, letting the test's event loop run the bot meanwhile;
        a failure shows what was sent so far."""
        await eventually(
            lambda: condition(self), timeout=timeout, what=what or "the Telegram stand-in's condition",
            explain=lambda: f"sent so far: {[m.text[:40] for m in self.sent]}",
        )

    # --- the Bot API ------------------------------------------------------------------------------

    async def _api(self, request: web.Request) -> web.Response:
        if request.match_info["token"] != self.token:
            return _error(401, "Unauthorized")
        method = request.match_info["method"]
        params = await _params(request)
        with self._lock:
            self._state.calls.append(ApiCall(method, params, time.monotonic()))
            refusal = _take(self._state.refusals.get(method, []))
        if refusal is not None and refusal.status == 200:
            return web.Response(text=refusal.description, content_type="application/json")
        if refusal is not None:
            return _error(refusal.status, refusal.description, refusal.parameters)
        handler = {
            "getMe": self._get_me,
            "deleteWebhook": self._delete_webhook,
            "setWebhook": self._set_webhook,
            "setMyCommands": self._set_my_commands,
            "getUpdates": self._get_updates,
            "sendMessage": self._send_message,
            "sendPhoto": self._send_photo,
            "close": self._ok_true,
            "logOut": self._ok_true,
        }.get(method)
        if handler is None:
            return _error(404, "Not Found: method not found")
        return await handler(params)

    def _me(self) -> dict[str, Any]:
        return {
            "id": BOT_ID,
            "is_bot": True,
            "first_name": "防控助手",
            "username": self.username,
            "can_join_groups": True,
            "can_read_all_group_messages": self.privacy_off,
            "supports_inline_queries": False,
        }

    async def _get_me(self, params: dict[str, Any]) -> web.Response:
        with self._lock:
            left_out = self._state.left_out_of_get_me
        return _ok({k: v for k, v in self._me().items() if k not in left_out})

    async def _ok_true(self, params: dict[str, Any]) -> web.Response:
        return _ok(True)

    async def _delete_webhook(self, params: dict[str, Any]) -> web.Response:
        with self._lock:
            self._state.webhook_url, self._state.webhook_secret = "", None
            if params.get("drop_pending_updates"):
                self._state.updates.clear()
        return _ok(True)

    async def _set_webhook(self, params: dict[str, Any]) -> web.Response:
        with self._lock:
            self._state.webhook_url = str(params.get("url") or "")
            self._state.webhook_secret = params.get("secret_token")
        return _ok(True)

    async def _set_my_commands(self, params: dict[str, Any]) -> web.Response:
        commands = params.get("commands")
        if not isinstance(commands, list) or not all(
            isinstance(c, dict) and re.fullmatch(r"[a-z0-9_]{1,32}", str(c.get("command"))) for c in commands
        ):
            return _error(400, "Bad Request: BOT_COMMAND_INVALID")
        return _ok(True)

    async def _get_updates(self, params: dict[str, Any]) -> web.Response:
        assert self._loop is not None
        with self._lock:
            if self._state.webhook_url:
                return _error(409, "Conflict: can't use getUpdates method while webhook is active; "
                                   "use deleteWebhook to delete the webhook first")
        offset = int(params.get("offset") or 0)
        limit = max(1, min(100, int(params.get("limit") or 100)))
        timeout = float(params.get("timeout") or 0)
        with self._lock:
            if self._state.polls_at_once:
                timeout = 0
        deadline = self._loop.time() + timeout
        while True:
            arrived = self._arrived
            assert arrived is not None
            with self._lock:
                if offset > 0:
                    self._state.updates = [u for u in self._state.updates if u["update_id"] >= offset]
                    self._state.confirmed = max(self._state.confirmed, offset)
                ready = self._state.updates[:limit]
            remaining = deadline - self._loop.time()
            if ready or remaining <= 0 or self._closing:
                return _ok(ready)
            with self._lock:
                self._state.held_polls += 1
            try:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(arrived.wait(), remaining)
            finally:
                with self._lock:
                    self._state.held_polls -= 1

    async def _send_message(self, params: dict[str, Any]) -> web.Response:
        chat_id = int(params["chat_id"])
        text = str(params.get("text") or "")
        with self._lock:
            failure = _take(self._state.failures.get(chat_id, []))
            if failure is not None and not failure.delivered:
                self._state.refused.append(Refusal(chat_id, failure.status, text, time.monotonic()))
        if failure is not None and not failure.delivered:
            if failure.delay:
                await asyncio.sleep(failure.delay)  # cancelled when the bot gives up and hangs up
            return _error(failure.status, failure.description, failure.parameters)
        if not text.strip():
            return _error(400, "Bad Request: message text is empty")
        if utf16_len(text) > 4096:
            return _error(400, "Bad Request: message is too long")
        reply = params.get("reply_parameters")
        reply_to = int(reply["message_id"]) if isinstance(reply, dict) else params.get("reply_to_message_id")
        sent = SentMessage(
            chat_id=chat_id,
            text=text,
            entities=list(params.get("entities") or []),
            parse_mode=params.get("parse_mode"),
            reply_to=int(reply_to) if reply_to is not None else None,
            message_id=next(self._message_ids),
            at=time.monotonic(),
            date=self.now(),
        )
        with self._lock:
            self._state.sent.append(sent)
        result: dict[str, Any] = {
            "message_id": sent.message_id,
            "date": int(sent.date.timestamp()),
            "chat": self._chat(chat_id),
            "from": self._me(),
            "text": text,
        }
        if sent.entities:
            result["entities"] = sent.entities
        if failure is not None and failure.delay:
            await asyncio.sleep(failure.delay)  # delivered; the answer is late (or never read)
        if failure is not None and failure.status != 200:
            return web.Response(status=failure.status, text=GATEWAY_PAGE, content_type="text/html")
        if failure is not None and failure.shape is not None:
            body = failure.shape(result)
            if isinstance(body, str):
                return web.Response(text=body, content_type="application/json")
            return web.json_response(body)
        return _ok(result)

    async def _send_photo(self, params: dict[str, Any]) -> web.Response:
        """sendPhoto as Telegram takes it: multipart, the file in `photo`, a caption of at most 1024
        characters; failures queued for the chat (`flood`, `fail`, `remove_bot`...) as for sendMessage."""
        chat_id = int(params["chat_id"])
        caption = str(params.get("caption") or "")
        with self._lock:
            failure = _take(self._state.failures.get(chat_id, []))
            if failure is not None and not failure.delivered:
                self._state.refused.append(Refusal(chat_id, failure.status, caption, time.monotonic()))
        if failure is not None and not failure.delivered:
            if failure.delay:
                await asyncio.sleep(failure.delay)
            return _error(failure.status, failure.description, failure.parameters)
        photo = params.get("photo")
        if not isinstance(photo, UploadedFile) or not photo.data:
            return _error(400, "Bad Request: there is no photo in the request")
        if not photo.data.startswith(b"\x89PNG") and not photo.data.startswith(b"\xff\xd8"):
            return _error(400, "Bad Request: IMAGE_PROCESS_FAILED")
        if utf16_len(caption) > 1024:
            return _error(400, "Bad Request: message caption is too long")
        reply = params.get("reply_parameters")
        reply_to = int(reply["message_id"]) if isinstance(reply, dict) else None
        sent = SentPhoto(chat_id, caption, list(params.get("caption_entities") or []), photo.file_name, photo.data,
                         reply_to, next(self._message_ids), time.monotonic())  # fmt: skip
        with self._lock:
            self._state.photos.append(sent)
        result: dict[str, Any] = {
            "message_id": sent.message_id,
            "date": self._date(),
            "chat": self._chat(chat_id),
            "from": self._me(),
            "photo": [{"file_id": f"photo{sent.message_id}", "file_unique_id": f"p{sent.message_id}",
                       "width": 1000, "height": 800, "file_size": len(photo.data)}],
        }
        if caption:
            result["caption"] = caption
        if failure is not None and failure.delay:
            await asyncio.sleep(failure.delay)  # delivered; the answer is late (or never read)
        if failure is not None and failure.status != 200:
            return web.Response(status=failure.status, text=GATEWAY_PAGE, content_type="text/html")
        return _ok(result)

    # --- helpers ----------------------------------------------------------------------------------

    def _date(self) -> int:
        return int(self.now().timestamp())

    def _wake(self) -> None:
        if self._arrived is not None:
            self._arrived.set()
            self._arrived = asyncio.Event()

    def _fail(self, chat_id: int, failure: _Failure) -> None:
        with self._lock:
            self._state.failures.setdefault(chat_id, []).append(failure)

    @staticmethod
    def _chat(chat_id: int) -> dict[str, Any]:
        kind = chat_type(chat_id)
        chat: dict[str, Any] = {"id": chat_id, "type": kind}
        if kind == "private":
            chat["first_name"] = f"用户{chat_id}"
        else:
            chat["title"] = f"群{chat_id}"
        return chat

    @staticmethod
    def _auto_entities(text: str) -> list[dict[str, Any]]:
        entities: list[dict[str, Any]] = []
        command = _COMMAND.match(text)
        if command:
            entities.append({"type": "bot_command", "offset": 0, "length": utf16_len(command.group())})
        for mention in _MENTION.finditer(text):
            if command and mention.start() < command.end():
                continue
            entities.append(
                {"type": "mention", "offset": utf16_len(text[: mention.start()]), "length": utf16_len(mention.group())}
            )
        return entities


def text_mention(text: str, part: str, user_id: int, first_name: str = "某人") -> dict[str, Any]:
    """The entity Telegram gives when someone picks a person without a username from the list."""
    start = text.index(part)
    return {
        "type": "text_mention",
        "offset": utf16_len(text[:start]),
        "length": utf16_len(part),
        "user": {"id": user_id, "is_bot": False, "first_name": first_name},
    }


async def _params(request: web.Request) -> dict[str, Any]:
    raw: dict[str, Any] = dict(request.query)
    if request.method == "POST" and request.can_read_body:
        if request.content_type == "application/json":
            body = await request.json()
            if isinstance(body, dict):
                return {**raw, **body}
        else:
            for key, value in (await request.post()).items():
                if isinstance(value, str):
                    raw[key] = value
                elif isinstance(value, web.FileField):  # a multipart upload (sendPhoto)
                    raw[key] = UploadedFile(value.filename, value.file.read())
    params: dict[str, Any] = {}
    for key, value in raw.items():
        if key in _STRING_PARAMS or not isinstance(value, str):
            params[key] = value
            continue
        try:
            params[key] = json.loads(value)
        except ValueError:
            params[key] = value
    return params


@dataclass(frozen=True)
class UploadedFile:
    file_name: str
    data: bytes


def in_milliseconds(result: dict[str, Any]) -> dict[str, Any]:
    """An `ok` answer with the message's `date` in milliseconds, as telegram-test-api gives it."""
    return {"ok": True, "result": {**result, "date": int(result["date"]) * 1000}}


def _ok(result: object) -> web.Response:
    return web.json_response({"ok": True, "result": result})


GATEWAY_PAGE = "<html><head><title>504 Gateway Time-out</title></head><body><center><h1>504 Gateway Time-out</h1></center><hr><center>nginx</center></body></html>"


def _take(queue: list[_Failure]) -> _Failure | None:
    """The failure this call gets, if any: the first queued, once its `after` calls have gone
    through, counted down and dropped when its `times` are used up. Under the state's lock."""
    failure = queue[0] if queue else None
    if failure is None:
        return None
    if failure.after > 0:
        failure.after -= 1
        return None
    if failure.times is not None:
        failure.times -= 1
        if failure.times <= 0:
            queue.pop(0)
    return failure


def _error(status: int, description: str, parameters: dict[str, Any] | None = None) -> web.Response:
    body: dict[str, Any] = {"ok": False, "error_code": status, "description": description}
    if parameters:
        body["parameters"] = parameters
    return web.json_response(body, status=status)


# --- the test town on Telegram ------------------------------------------------------------------------

LEADERS = -1001000000001
WUXING, WANGXIAN, HONGXING = -1001000000111, -1001000000112, -1001000000114
CHECKPOINT = -1001000000901
WUXING_HEAD, WANGXIAN_HEAD, LUOJIATAN_HEAD, HONGXING_HEAD = 2001, 2002, 2003, 2004
ADMIN = 10001
RESIDENT = 3001
CHECKPOINT_STAFF = 4001


def town_toml(database: str = "sqlite:///villagebot.db", *, telegram: str = "") -> str:
    """Four villages (雒家滩村 without a group), a checkpoint, the leaders' group, one admin.
    The day's routine is set to the last minutes of the day, so that a bot on the tests' clock
    (9:00, conftest's `clock`) posts nothing of its own while a test runs."""
    return f"""
[town]
name = "王岘镇"
timezone = "Asia/Shanghai"
database = "{database}"
leaders_chat = "telegram:{LEADERS}"
bot_names = ["防控助手"]

[schedule]
remind = "23:57"
chase = "23:58"
deadline = "23:59"

[[village]]
name = "五星村"
aliases = ["五星"]
chats = ["telegram:{WUXING}"]
heads = ["telegram:{WUXING_HEAD}"]

[[village]]
name = "王岘村"
chats = ["telegram:{WANGXIAN}"]
heads = ["telegram:{WANGXIAN_HEAD}"]

[[village]]
name = "雒家滩村"
heads = ["telegram:{LUOJIATAN_HEAD}"]

[[village]]
name = "红星村"
chats = ["telegram:{HONGXING}"]
heads = ["telegram:{HONGXING_HEAD}"]

[[checkpoint]]
name = "109国道雒家滩卡点"
village = "雒家滩村"
chats = ["telegram:{CHECKPOINT}"]
staff = ["telegram:{CHECKPOINT_STAFF}"]

[[admin]]
name = "镇防控办"
ids = ["telegram:{ADMIN}"]

[telegram]
token_env = "TELEGRAM_BOT_TOKEN"
{telegram}
"""


FULL_REPORT = "日报 入户排查120户，返乡3人，居家观察12人，发热0人，消毒2次"
