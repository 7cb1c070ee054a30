"""WeChat through a wechaty puppet service (gRPC): village groups are WeChat rooms, `wechat:<id>@chatroom`.

The protocol is spoken directly, with the `wechaty-grpc` stubs (bot/wechat_connection.py): the
python `wechaty` client (0.10, last released in 2022) could not be kept without patching its
internals, its event loop died on the `{"gerror": ...}` error events wechaty-puppet 1.x emits, it
sent the token only as the HTTP/2 `:authority`, and it began every connection with `Stop`, which
stops the real puppet and logs the account out.

Receiving. Each connection opens the Event stream, then calls Start as the official client does
(a no-op for a puppet that runs); it never calls Stop, not even when the bot stops. Message ids
are queued and handled one at a time, in order: MessagePayload, then the talker's ContactPayload
for the name. A message said twice (a puppet service redelivers old ones after a restart) is
recognised by the inbound table, which is unique on (platform, chat, message id). An error event
is logged and the stream goes on.

Connection. No event, heartbeat or dong for `heartbeat_timeout` seconds means the connection is
dead (a Ding goes out at half that time); then it is closed and made again with exponential
backoff. The service keeps no queue, so when a connection that had been up comes back the
town's ChatEvents hear which span the bot could not see (`platform_gap`); when WeChat has been
down for `down_alert_after` seconds they hear of it, and hear again when it is back. A refused
token or a TLS mismatch at start stops the bot with what to fix (PlatformError); the same after
a running connection is told once (`platform_refused`) and retried.

Sending. The outbox is the queue, and the outbox sender merges what is pending for one group
into one message (the adapter sets `merges`). Personal WeChat accounts get restricted for fast
mass messages, so `deliver` paces: at most one message a second to a group, 3-5 s between
different groups, 40 a minute in all. While WeChat is down it waits instead of failing, so an
outage does not use up the outbox rows' attempts. The village heads named in a message's mentions
are @-mentioned through MessageSendText's mention ids, their names written before the text. A
picture goes as a file message (MessageSendFile with a base64 FileBox), its text after it.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import dataclasses
import datetime as dt
import itertools
import json
import logging
import os
import random
import re
import ssl
import time
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from grpclib.const import Status
from grpclib.exceptions import GRPCError, StreamTerminatedError
from wechaty_grpc.wechaty import puppet as pb

from handlers.clock import Clock
from handlers.messages import IncomingMessage, OutgoingMessage, Picture
from handlers.transport import (
    ChatEvents,
    DeliveryError,
    DeliveryFailure,
    MessageNotStored,
    PlatformError,
    PlatformFault,
    Receive,
    doubled_delay,
)
from townconfig import WechatSection

from .wechat_connection import (
    Connection,
    Refused,
    TlsSettings,
    plain_text_refused,
    refusal,
    speaks_tls,
    split_endpoint,
)

log = logging.getLogger(__name__)

PLATFORM = "wechat"
ENDPOINT_ENV = "WECHATY_PUPPET_SERVICE_ENDPOINT"
MENTION_END = "\u2005"  # what WeChat puts after an @name
#: What the puppet service's refusals say of the room; any other status may pass.
PERMANENT_STATUSES: dict[Status, DeliveryFailure] = {
    Status.NOT_FOUND: DeliveryFailure.REMOVED,
    Status.PERMISSION_DENIED: DeliveryFailure.REMOVED,
    Status.INVALID_ARGUMENT: DeliveryFailure.REFUSED,
}
#: wechaty-puppet's MessageType.Text, the number puppet services put on the wire (wechaty-grpc's
#: python enum numbers it differently).
TEXT_MESSAGE = 7
#: file-box's FileBoxType.Base64 in its JSON form (`type`), which the puppet service's FileBox.fromJSON reads.
FILEBOX_BASE64 = 1
EVENTS = pb.EventType


@dataclass(frozen=True)
class WechatSettings:
    """How the adapter paces, watches and reconnects. Each field may also be set in `[wechat]` under
    the same name once the config has that key; the defaults are safe for a personal account."""

    group_interval: float = 1.0  # seconds between two messages to one group
    group_gap: tuple[float, float] = (3.0, 5.0)  # seconds between messages to different groups, at random
    per_minute: int = 40  # messages in any one minute, all groups together
    minute: float = 60.0  # the length of that minute: only tests shorten it
    heartbeat_timeout: float = 120.0  # seconds without any event before the connection counts as dead
    reconnect_delay: tuple[float, float] = (1.0, 60.0)  # first and longest wait between reconnects
    down_alert_after: float = 300.0  # seconds of outage before the leaders are told
    rpc_timeout: float = 30.0  # seconds one call to the puppet service may take

    def __post_init__(self) -> None:
        low, high = self.group_gap
        first, longest = self.reconnect_delay
        if not (0 <= low <= high and 0 < first <= longest and self.per_minute >= 1 and self.minute > 0):
            raise ValueError(f"inconsistent WeChat settings: {self}")
        if min(self.group_interval, self.heartbeat_timeout, self.rpc_timeout, self.down_alert_after) <= 0:
            raise ValueError(f"WeChat intervals must be positive: {self}")

    @classmethod
    def from_config(cls, section: WechatSection | None) -> WechatSettings:
        values: dict[str, Any] = {}
        for field in dataclasses.fields(cls):
            value = getattr(section, field.name, None)
            if value is not None:
                values[field.name] = tuple(value) if isinstance(value, list) else value
        return cls(**values)

    def scaled(self, factor: float) -> WechatSettings:
        """Every interval multiplied by `factor` (the counts unchanged): the same behaviour, faster."""
        return dataclasses.replace(
            self,
            group_interval=self.group_interval * factor,
            group_gap=(self.group_gap[0] * factor, self.group_gap[1] * factor),
            minute=self.minute * factor,
            heartbeat_timeout=self.heartbeat_timeout * factor,
            reconnect_delay=(self.reconnect_delay[0] * factor, self.reconnect_delay[1] * factor),
            down_alert_after=self.down_alert_after * factor,
        )


class Pacer:
    """When the next message may go to a group. Times are taken when a send has completed, so the
    gaps hold as the service sees them, not only as we meant them."""

    def __init__(self, settings: WechatSettings, rng: random.Random, clock: Callable[[], float]) -> None:
        self.settings = settings
        self.rng = rng
        self.clock = clock
        self._last: tuple[str, float] | None = None
        self._by_group: dict[str, float] = {}
        self._recent: deque[float] = deque(maxlen=settings.per_minute)
        self._gap = rng.uniform(*settings.group_gap)

    def delay(self, chat: str) -> float:
        """Seconds to wait before a message may go to `chat`; 0 when it may go now."""
        s, now = self.settings, self.clock()
        earliest = now
        if chat in self._by_group:
            earliest = max(earliest, self._by_group[chat] + s.group_interval)
        if self._last is not None and self._last[0] != chat:
            earliest = max(earliest, self._last[1] + self._gap)
        if len(self._recent) == s.per_minute:
            earliest = max(earliest, self._recent[0] + s.minute)
        return max(0.0, earliest - now)

    def sent(self, chat: str) -> None:
        now = self.clock()
        self._last = (chat, now)
        self._by_group[chat] = now
        self._recent.append(now)
        self._gap = self.rng.uniform(*self.settings.group_gap)
        stale = now - self.settings.group_interval
        self._by_group = {c: t for c, t in self._by_group.items() if t > stale}


def _describe(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__


def _json_object(payload: str) -> dict[str, Any]:
    """An event's JSON payload as a dict; anything else (a service's own shape) as an empty one."""
    try:
        data = json.loads(payload or "{}")
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}


def _error_text(data: dict[str, Any], payload: str) -> str:
    """What an error event says: wechaty-puppet 1.x sends `{"gerror": "<GError as JSON>"}`, older
    puppets `{"data": "..."}`; the message when it can be found, else the payload as it came."""
    gerror = data.get("gerror")
    if isinstance(gerror, str):
        inner = _json_object(gerror)
        return str(inner.get("message") or gerror)
    return str(data.get("data") or payload)


def _still_not_cancelled() -> None:
    """Raise the cancellation of this task if something under it swallowed it (a call cut short as
    its channel closes can end in an error instead, which the helper logs): a helper told to stop
    then stops, rather than wait for the next message while `run` waits for it."""
    task = asyncio.current_task()
    if task is not None and task.cancelling():
        raise asyncio.CancelledError


def _connection_lost(exc: BaseException) -> bool:
    """The connection to the puppet service failed (a socket error, the connection closed under the
    call), as opposed to this one call failing: grpclib says "Stream reset by remote party" when
    the service broke off only this call."""
    if isinstance(exc, OSError):
        return True
    return isinstance(exc, StreamTerminatedError) and not str(exc).startswith("Stream reset")


class WechatAdapter:
    """The WeChat platform: receives through one puppet-service connection at a time, delivers paced."""

    name = PLATFORM
    merges = True  # the outbox sender merges what is pending for one group into one message

    def __init__(
        self,
        *,
        receive: Receive,
        events: ChatEvents,
        clock: Clock,
        section: WechatSection | None = None,
        config_source: str = "the town's config",
        endpoint: str | None = None,
        token: str | None = None,
        settings: WechatSettings | None = None,
        rng: random.Random | None = None,
    ) -> None:
        """`receive` stores what people say, `events` hears of outages; `section` is `[wechat]`."""
        self.receive = receive
        self.events = events
        self.clock = clock
        self.config_source = config_source
        self.token_env = section.token_env if section is not None else "WECHATY_PUPPET_SERVICE_TOKEN"
        self.endpoint = endpoint or os.environ.get(ENDPOINT_ENV) or (section.endpoint if section else None)
        self.token = token or os.environ.get(self.token_env) or None
        self.tls = TlsSettings(
            enabled=section.tls if section is not None else True,
            ca_file=section.tls_ca if section is not None else None,
            server_name=section.tls_server_name if section is not None else None,
        )
        self.settings = settings or WechatSettings.from_config(section)
        self._problem = self._config_problem()
        self._rng = rng or random.Random()
        self._pacer = Pacer(self.settings, self._rng, time.monotonic)
        self._connection: Connection | None = None
        self._self_id: str | None = None
        self._self_name: str | None = None
        self._names: dict[str, str] = {}  # contact id -> name, for this connection
        self._online = asyncio.Event()
        self._last_event = time.monotonic()
        self._last_seen: dt.datetime | None = None  # when the last event of a live connection came
        self._gap_since: dt.datetime | None = None  # the bot has seen nothing from then on
        self._events: asyncio.Queue[str] = asyncio.Queue()
        self._news: asyncio.Queue[Callable[[], Awaitable[None]]] = asyncio.Queue()  # for the town's ChatEvents
        self._unloaded: deque[str] = deque(maxlen=1000)  # ids whose payload the last connection did not give
        self._send_lock = asyncio.Lock()
        self._down_since: float | None = time.monotonic()
        self._alerted_since: float | None = None
        self._refused: PlatformFault | None = None  # told to the leaders, until a connection works again
        self._ding: asyncio.Task[None] | None = None
        self.logins = 0  # how many times the account came online: tests wait on it
        self.errors_seen = 0  # error events the service sent: logged, and the stream went on

    def _config_problem(self) -> str | None:
        if not self.endpoint:
            return (
                f"WeChat is configured but has no puppet-service endpoint: write [wechat] endpoint = "
                f'"host:port" in {self.config_source} or set {ENDPOINT_ENV}'
            )
        if not self.token:
            return (
                f"WeChat needs the puppet-service token (it is sent even with an endpoint): "
                f"set the environment variable {self.token_env}"
            )
        return None

    async def check(self) -> str:
        """For `villagebot check`: one call to the puppet service, with the token and TLS the bot
        would use; what it found. PlatformError for what will not pass by itself."""
        if self._problem:
            raise PlatformError(self._problem)
        assert self.endpoint is not None and self.token is not None
        connection = Connection(self.endpoint, self.token, self.tls, self.tls.context(), self.settings.rpc_timeout)
        try:
            version = await connection.calls.version()
        except Exception as exc:
            plain_to_tls = not self.tls.enabled and isinstance(exc, StreamTerminatedError)
            if plain_to_tls and await speaks_tls(connection.host, connection.port, self.settings.rpc_timeout):
                raise PlatformError(f"WeChat at {self.endpoint}: {plain_text_refused()}") from None
            refused = self._refusal(exc)
            if refused is not None:
                raise PlatformError(f"WeChat at {self.endpoint}: {refused}") from None
            raise PlatformError(f"WeChat at {self.endpoint} does not answer: {_describe(exc)}") from None
        finally:
            connection.close()
        return f"WeChat: the puppet service at {self.endpoint} answers (version {version.version or '?'})"

    @property
    def online(self) -> bool:
        return self._online.is_set()

    # -- receiving ---------------------------------------------------------------------------

    async def run(self, stop: asyncio.Event) -> None:
        if self._problem:
            raise PlatformError(self._problem)
        split_endpoint(self.endpoint or "")  # a settings mistake stops the start, as below
        context = self.tls.context()
        helpers = [
            asyncio.create_task(self._handle_messages(), name="wechat-messages"),
            asyncio.create_task(self._watch_outage(), name="wechat-outage"),
            asyncio.create_task(self._tell_news(), name="wechat-news"),
        ]
        attempt = 0
        try:
            while not stop.is_set():
                logins = self.logins
                try:
                    await self._connect_and_listen(stop, context)
                except Refused as refused:
                    if self.logins == 0:  # never worked: a setting to fix, not a thing to wait out
                        raise PlatformError(f"WeChat at {self.endpoint}: {refused}") from None
                    self._was_refused(refused)
                except Exception as exc:
                    log.warning("WeChat connection to %s failed: %s", self.endpoint, _describe(exc))
                finally:
                    self._disconnect()
                if stop.is_set():
                    break
                attempt = 0 if self.logins > logins else attempt + 1
                delay = self._backoff(attempt)
                log.info("reconnecting to WeChat in %.2fs", delay)
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(delay):  # not wait_for: see OutboxSender.run
                        await stop.wait()
        finally:
            for helper in helpers:
                helper.cancel()
            await asyncio.gather(*helpers, return_exceptions=True)
            self._disconnect()

    def _backoff(self, attempt: int) -> float:
        first, longest = self.settings.reconnect_delay
        return doubled_delay(first, longest, attempt - 1) * (0.75 + 0.25 * self._rng.random())

    async def _connect_and_listen(self, stop: asyncio.Event, context: ssl.SSLContext | None) -> None:
        assert self.endpoint is not None and self.token is not None
        connection = Connection(self.endpoint, self.token, self.tls, context, self.settings.rpc_timeout)
        self._connection = connection
        self._names = {}
        self._last_event = time.monotonic()
        first_event = asyncio.Event()
        listening = asyncio.create_task(self._listen(connection, first_event), name="wechat-events")
        starting = asyncio.create_task(self._start(connection, first_event), name="wechat-start")
        stopping = asyncio.create_task(stop.wait())
        timeout = self.settings.heartbeat_timeout
        try:
            while True:
                watched = {listening, stopping} | ({starting} if not starting.done() else set())
                done, _ = await asyncio.wait(
                    watched, timeout=min(1.0, timeout / 4), return_when=asyncio.FIRST_COMPLETED
                )
                if stopping in done:
                    return
                if listening in done:
                    raise await self._why_it_ended(connection, listening)
                if starting in done:
                    starting.result()  # a Start the service refused ends this connection
                idle = time.monotonic() - self._last_event
                if idle > timeout:
                    raise TimeoutError(f"no event or heartbeat from the puppet service for {idle:.1f}s")
                if idle > timeout / 2 and (self._ding is None or self._ding.done()):
                    self._ding = asyncio.create_task(self._send_ding(connection))
        except Exception as exc:
            refused = self._refusal(exc)
            if refused is None or refused is exc:
                raise
            raise refused from exc
        finally:
            for task in (listening, starting, stopping):
                task.cancel()
            await asyncio.gather(listening, starting, stopping, return_exceptions=True)

    async def _start(self, connection: Connection, first_event: asyncio.Event) -> None:
        """Start, once the stream is up, as the official client does: a puppet that runs already
        takes it as a no-op, and one that does not is started (never stopped)."""
        await first_event.wait()
        await connection.calls.start()

    async def _why_it_ended(self, connection: Connection, listening: asyncio.Task[None]) -> BaseException:
        error = listening.exception() or ConnectionError("the puppet service ended the event stream")
        if (
            not self.tls.enabled
            and self.logins == 0
            and isinstance(error, StreamTerminatedError)
            and await speaks_tls(connection.host, connection.port, self.settings.rpc_timeout)
        ):
            return plain_text_refused()
        return error

    def _refusal(self, exc: BaseException) -> Refused | None:
        if isinstance(exc, Refused):
            return exc
        return refusal(exc, self.tls, self.token_env)

    def _was_refused(self, refused: Refused) -> None:
        log.error("WeChat at %s refuses the bot: %s", self.endpoint, refused)
        if self._refused is None:
            self._refused = refused.fault
            self._news.put_nowait(lambda: self.events.platform_refused(PLATFORM, refused.fault))

    async def _listen(self, connection: Connection, first_event: asyncio.Event) -> None:
        async for event in connection.events.event():
            self._last_event = time.monotonic()
            if self._online.is_set():
                self._last_seen = self.clock.now()
            first_event.set()
            self._on_event(int(event.type), event.payload)

    def _on_event(self, kind: int, payload: str) -> None:
        data = _json_object(payload)
        if kind == EVENTS.EVENT_TYPE_MESSAGE:
            self._events.put_nowait(str(data.get("messageId", "")))
        elif kind == EVENTS.EVENT_TYPE_LOGIN:
            self._came_online(str(data.get("contactId", "")))
        elif kind == EVENTS.EVENT_TYPE_ERROR:
            self.errors_seen += 1
            log.warning("the puppet service reports an error (the connection goes on): %s", _error_text(data, payload))
        elif kind in (EVENTS.EVENT_TYPE_LOGOUT, EVENTS.EVENT_TYPE_SCAN):
            log.warning("WeChat account is logged out: it needs logging in again on the puppet service")
            self._went_offline()

    async def _send_ding(self, connection: Connection) -> None:
        with contextlib.suppress(Exception):
            await connection.calls.ding(data="villagebot")

    def _came_online(self, self_id: str) -> None:
        self._self_id = self_id
        self._self_name = None
        self.logins += 1
        self._down_since = None
        self._refused = None
        now = self.clock.now()
        if self._gap_since is not None:
            since, self._gap_since = self._gap_since, None
            self._news.put_nowait(lambda: self.events.platform_gap(PLATFORM, since, now))
        self._last_seen = now
        self._online.set()
        while self._unloaded:
            self._events.put_nowait(self._unloaded.popleft())
        log.info("WeChat online as %s", self_id)

    def _went_offline(self) -> None:
        if self._online.is_set() and self._gap_since is None:
            self._gap_since = self._last_seen or self.clock.now()
        self._online.clear()
        if self._down_since is None:
            self._down_since = time.monotonic()

    def _disconnect(self) -> None:
        """Close the connection, never Stop: Stop would stop the service's puppet and log the account out."""
        connection, self._connection = self._connection, None
        self._went_offline()
        if self._ding is not None:
            self._ding.cancel()
            self._ding = None
        if connection is not None:
            connection.close()

    async def _tell_news(self) -> None:
        """What the town's ChatEvents should hear, one piece at a time, outside the event stream."""
        while True:
            tell = await self._news.get()
            try:
                await tell()
            except Exception:
                log.exception("the town could not be told of WeChat's state")
            _still_not_cancelled()

    async def _handle_messages(self) -> None:
        while True:
            message_id = await self._events.get()
            try:
                await self._handle(message_id)
            except Exception:
                log.exception("WeChat message %s could not be handled", message_id)
            _still_not_cancelled()

    async def _handle(self, message_id: str) -> None:
        connection = self._connection
        if connection is None or not message_id:
            if message_id:
                self._unloaded.append(message_id)
            return
        try:
            incoming = await self._incoming(connection, message_id)
        except Exception as exc:
            if self._connection is not connection or not self.online:  # the connection went: try again on the next one
                self._unloaded.append(message_id)
            else:
                log.warning("WeChat message %s could not be loaded: %s", message_id, _describe(exc))
            return
        if incoming is not None:
            await self._receive(incoming)

    async def _receive(self, incoming: IncomingMessage) -> None:
        """Hand the message over until it is stored. WeChat will not send it again, so while
        the database cannot take it (MessageNotStored) it is held, and the messages behind it
        with it, to keep their order."""
        first, longest = self.settings.reconnect_delay
        for tries in itertools.count():
            try:
                await self.receive([incoming])
                return
            except MessageNotStored as exc:
                delay = doubled_delay(first, longest, tries)
                log.warning("WeChat message %s not stored (%s); again in %.1f s", incoming.message_id, exc, delay)
                await asyncio.sleep(delay)

    async def _incoming(self, connection: Connection, message_id: str) -> IncomingMessage | None:
        payload = await connection.calls.message_payload(id=message_id)
        if int(payload.type) != TEXT_MESSAGE:
            return None
        talker_id = str(payload.from_id or "")
        if not talker_id or talker_id == self._self_id:
            return None  # the bot's own messages come back as events too
        room_id = str(payload.room_id or "")
        mention_ids = [str(m) for m in payload.mention_ids or ()]
        mentions_bot = self._self_id is not None and self._self_id in mention_ids
        text = str(payload.text or "")
        if mentions_bot:
            text = await self._without_own_mention(connection, text)
        return IncomingMessage(
            platform=PLATFORM,
            chat=f"{PLATFORM}:{room_id or talker_id}",
            sender=f"{PLATFORM}:{talker_id}",
            text=text,
            message_id=message_id,
            at=self._sent_at(int(payload.timestamp or 0)),
            sender_name=await self._name(connection, talker_id),
            is_private=not room_id,
            mentions_bot=mentions_bot,
            mentioned=tuple(f"{PLATFORM}:{m}" for m in mention_ids if m != self._self_id),
        )

    async def _name(self, connection: Connection, contact_id: str) -> str:
        """The contact's name, asked once per connection; "" when the service does not give it."""
        if contact_id not in self._names:
            try:
                self._names[contact_id] = str((await connection.calls.contact_payload(id=contact_id)).name or "")
            except Exception as exc:
                if self._connection is not connection:
                    raise  # the connection went: the message is tried again on the next one
                log.info("no name for WeChat contact %s (%s)", contact_id, _describe(exc))
                return ""
        return self._names[contact_id]

    async def _without_own_mention(self, connection: Connection, text: str) -> str:
        if self._self_name is None and self._self_id is not None:
            self._self_name = await self._name(connection, self._self_id)
        if not self._self_name:
            return text
        return re.sub(rf"@{re.escape(self._self_name)}(?:{MENTION_END}|\s|$)", "", text).strip()

    def _sent_at(self, timestamp: int) -> dt.datetime:
        if timestamp <= 0:
            return self.clock.now()
        seconds = timestamp / 1000 if timestamp > 10**11 else timestamp
        return dt.datetime.fromtimestamp(seconds, dt.UTC)

    # -- the outage --------------------------------------------------------------------------

    async def _watch_outage(self) -> None:
        every = min(5.0, self.settings.down_alert_after / 4)
        while True:
            await asyncio.sleep(every)
            now = time.monotonic()
            if self._down_since is not None and self._alerted_since is None:
                if now - self._down_since >= self.settings.down_alert_after:
                    self._alerted_since = self._down_since
                    await self.events.platform_down(PLATFORM, now - self._down_since)
            elif self._down_since is None and self._alerted_since is not None:
                began, self._alerted_since = self._alerted_since, None
                await self.events.platform_up(PLATFORM, now - began)

    # -- sending -----------------------------------------------------------------------------

    async def deliver(self, message: OutgoingMessage) -> str | None:
        """Send one message (the outbox sender has merged what was pending for the group) once the
        pacing allows. While WeChat is down this waits, rather than use up the row's attempts."""
        platform, _, conversation = message.chat.partition(":")
        if platform != PLATFORM or not conversation:
            raise DeliveryError(f"{message.chat} is not a WeChat chat", failure=DeliveryFailure.REFUSED, permanent=True)
        mentions = list(
            dict.fromkeys(m.removeprefix(f"{PLATFORM}:") for m in message.mentions if m.startswith(f"{PLATFORM}:"))
        )
        async with self._send_lock:
            while True:
                await self._online.wait()
                while (wait := self._pacer.delay(message.chat)) > 0:
                    await asyncio.sleep(wait)
                if self.online:  # still: the connection may have gone while we waited our turn
                    break
            try:
                if message.picture is not None:
                    return await self._send_picture(conversation, message.picture, message.text, mentions)
                return await self._send_text(conversation, message.text, mentions)
            finally:
                self._pacer.sent(message.chat)  # a send that failed may still have arrived: it counts

    async def _send_picture(self, conversation: str, picture: Picture, text: str, mentions: list[str]) -> str | None:
        """The image as a file message (MessageSendFile, a FileBox of base64 type: the PNG travels in
        the request, nothing is fetched), then its text, if any, as a message of its own (WeChat has
        no captions). Should the text fail after the image went, the whole goes again: the group may
        see the image twice, which is better than a summary without its words."""
        filebox = json.dumps(
            {"type": FILEBOX_BASE64, "name": picture.name, "base64": base64.b64encode(picture.data).decode("ascii")},
            ensure_ascii=False,
        )
        sent_id = await self._call_send(
            conversation,
            lambda connection: connection.calls.message_send_file(conversation_id=conversation, filebox=filebox),
        )
        if text or mentions:
            await self._send_text(conversation, text, mentions)
        return sent_id

    async def _send_text(self, conversation: str, text: str, mentions: list[str]) -> str | None:
        connection = self._connection
        if connection is None:
            raise DeliveryError("WeChat is not connected", retry_after=self.settings.reconnect_delay[0])
        if mentions:
            names = [await self._contact_name(connection, contact) for contact in mentions]
            text = "".join(f"@{name}{MENTION_END}" for name in names if name) + text
        return await self._call_send(
            conversation,
            lambda connection: connection.calls.message_send_text(
                conversation_id=conversation, text=text, mentonal_ids=mentions
            ),
            connection,
        )

    async def _call_send(
        self, conversation: str, call: Callable[[Connection], Awaitable[Any]], connection: Connection | None = None
    ) -> str | None:
        """One send call to the service, its failure said as a DeliveryError; the message's id."""
        connection = connection or self._connection
        if connection is None:
            raise DeliveryError("WeChat is not connected", retry_after=self.settings.reconnect_delay[0])
        try:
            async with asyncio.timeout(self.settings.rpc_timeout):
                sent = await call(connection)
        except GRPCError as exc:
            raise DeliveryError(
                f"the puppet service refused the message: {exc.status.name} {exc.message or ''}".strip(),
                failure=PERMANENT_STATUSES.get(exc.status, DeliveryFailure.FAILED),
                permanent=exc.status in PERMANENT_STATUSES,
            ) from exc
        except TimeoutError as exc:
            # The request went out and no answer came: the room may have the message already.
            raise DeliveryError(
                "the puppet service did not answer in time; the message may have gone",
                failure=DeliveryFailure.NO_ANSWER,
                retry_after=self.settings.reconnect_delay[0],
                ambiguous=True,
            ) from exc
        except Exception as exc:
            if self._connection is not connection or not self.online or _connection_lost(exc):
                # Not this message's fault: the next try waits for the next connection in `deliver`,
                # and a deferral keeps the row's tries for when WeChat is back. The request may have
                # reached the service before the connection went: sent again, counted as ambiguous.
                raise DeliveryError(
                    f"the connection to WeChat went while sending: {_describe(exc)}",
                    retry_after=self.settings.reconnect_delay[0],
                    ambiguous=True,
                ) from exc
            # Anything else may fail every time (a broken room): it uses up a try, so the row is
            # tried again with backoff and ends `failed`, and the notice's delivery report settles.
            raise DeliveryError(f"sending to WeChat failed: {_describe(exc)}") from exc
        return str(sent.id) if sent.id else None

    async def _contact_name(self, connection: Connection, contact_id: str) -> str:
        try:
            return await self._name(connection, contact_id)
        except Exception as exc:
            log.info("no name for WeChat contact %s (%s); mentioning by id only", contact_id, _describe(exc))
            return ""
