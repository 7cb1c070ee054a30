"""A stand-in wechaty puppet service on 127.0.0.1, in plain text, for what the official one cannot do.

wechaty_grpc (betterproto 1.x) ships client stubs only, so each `/wechaty.Puppet/<Method>` route the
client uses is mapped here by hand to its betterproto request and response classes, and grpclib
serves them. The stand-in behaves like a puppet service where it matters to the bot: it checks the
token the client sends as the gRPC metadata `authorization: Wechaty <token>`, answers every Event
stream with a login, serves message, contact and room payloads, and takes MessageSendText. The
official service in front of the mock puppet (tests/wechaty_service/) is what the bot is tested
against for the protocol as it is really spoken; this one can go quiet, break a room or answer late.

A test uses it like a WeChat account the bot is logged in as:

    standin.say(ROOM, "wxid_head1", "日报 ...")          # a person speaks in a room
    await standin.wait_for(lambda: standin.sent)          # the bot answered
    standin.sent[0].text, standin.sent[0].at              # what, and when it arrived

and can misbehave like a real one: `redeliver` old message ids, `stop` and `start` again (every
connection dropped), `go_quiet` (the stream stays open and says nothing, not even to Ding), a
room in `broken` (every send there broken off), `answer_late` (a send delivered, answered late).
Every call is recorded in `calls` with the time it arrived (time.monotonic()).
"""

from __future__ import annotations

import asyncio
import base64
import datetime as dt
import itertools
import json
import socket
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from grpclib.const import Cardinality, Handler, Status
from grpclib.exceptions import GRPCError
from grpclib.protocol import H2Protocol
from grpclib.server import Server, Stream
from waiting import eventually
from wechaty_grpc.wechaty import puppet as pb

SERVICE = "/wechaty.Puppet/"
UNAUTHENTICATED_ROUTE = "/standin.Unauthenticated/Reject"
TEXT_TYPE = 7  # wechaty-puppet's MessageType.Text, which is what puppet services put on the wire


@dataclass(frozen=True)
class Call:
    method: str
    request: Any
    at: float


@dataclass(frozen=True)
class Sent:
    """One MessageSendText the bot made, as the stand-in received it."""

    conversation: str
    text: str
    mention_ids: tuple[str, ...]
    at: float
    message_id: str


@dataclass(frozen=True)
class SentFile:
    """One MessageSendFile the bot made: the FileBox it sent, read back as the service reads it."""

    conversation: str
    name: str
    data: bytes
    at: float
    message_id: str


class PuppetStandin:
    def __init__(
        self,
        *,
        token: str | None = "standin-token",
        self_id: str = "wxid_bot",
        self_name: str = "防控助手",
        heartbeat_interval: float | None = None,
        now: Callable[[], dt.datetime] | None = None,
    ) -> None:
        self.token = token
        self.self_id = self_id
        self.heartbeat_interval = heartbeat_interval
        self.now = now or (lambda: dt.datetime.now(dt.UTC))
        self.contacts: dict[str, str] = {self_id: self_name}
        self.rooms: dict[str, tuple[str, list[str]]] = {}
        self.messages: dict[str, pb.MessagePayloadResponse] = {}
        self.calls: list[Call] = []
        self.sent: list[Sent] = []
        self.files: list[SentFile] = []
        # room or contact → seconds: the next message sent there is delivered, but answered that late
        self.answer_late: dict[str, float] = {}
        # rooms or contacts whose every MessageSendText the service breaks off (RST_STREAM) and does
        # not deliver, as a puppet that fails on one room does: the client gets no gRPC status
        self.broken: set[str] = set()
        self.authorizations: list[str | None] = []
        self.streams_opened = 0
        self.port = 0
        self._streams: set[asyncio.Queue[pb.EventResponse | None]] = set()
        self._quiet: set[asyncio.Queue[pb.EventResponse | None]] = set()
        self._undelivered: list[pb.EventResponse] = []
        self._server: Server | None = None
        self._transports: set[asyncio.BaseTransport] = set()
        self._ids = itertools.count(1)

    # -- the account's world ---------------------------------------------------------------

    def add_contact(self, contact_id: str, name: str) -> None:
        self.contacts[contact_id] = name

    def add_room(self, room_id: str, topic: str, members: Sequence[str] = ()) -> None:
        self.rooms[room_id] = (topic, [self.self_id, *members])

    def say(
        self,
        room_id: str,
        talker: str,
        text: str,
        *,
        message_id: str | None = None,
        mention_ids: Sequence[str] = (),
        at: dt.datetime | None = None,
    ) -> str:
        """Someone says `text` in a room (room_id "" for a private message to the bot); its message id."""
        message_id = message_id or f"standin-msg-{next(self._ids)}"
        self.messages[message_id] = pb.MessagePayloadResponse(
            id=message_id,
            text=text,
            timestamp=int((at or self.now()).timestamp() * 1000),
            type=TEXT_TYPE,  # type: ignore[arg-type]
            from_id=talker,
            room_id=room_id,
            to_id="" if room_id else self.self_id,
            mention_ids=list(mention_ids),
        )
        self.redeliver(message_id)
        return message_id

    def redeliver(self, *message_ids: str) -> None:
        """Emit message events for ids already said, as puppet services do after a restart."""
        for message_id in message_ids:
            self._emit(pb.EventType.EVENT_TYPE_MESSAGE, {"messageId": message_id})

    def end_streams(self) -> None:
        """End every open Event stream normally (the connection stays)."""
        for queue in list(self._streams):
            queue.put_nowait(None)

    def go_quiet(self) -> None:
        """The open streams stay open and say nothing more, not even dong or heartbeat."""
        self._quiet.update(self._streams)

    @property
    def connected(self) -> int:
        """How many Event streams are open and not quiet."""
        return len(self._streams - self._quiet)

    def calls_to(self, method: str) -> list[Call]:
        return [c for c in self.calls if c.method == method]

    def texts_to(self, room_id: str) -> list[str]:
        return [s.text for s in self.sent if s.conversation == room_id]

    async def wait_for(self, condition: Callable[[], object], timeout: float = 10.0, *, what: str = "") -> None:
        """Until condition() is true; fails the test after `timeout` seconds, showing what was sent."""
        await eventually(condition, timeout=timeout, what=what or "the WeChat stand-in's condition",
                         explain=lambda: f"sent so far: {self.sent}")

    # -- the server --------------------------------------------------------------------------

    async def start(self) -> None:
        """Listen on 127.0.0.1 (the same port again after a stop)."""
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(("127.0.0.1", self.port))
        self.port = sock.getsockname()[1]
        self._server = _RecordingServer(self)
        await self._server.start(sock=sock)

    async def stop(self) -> None:
        """Stop listening and drop every connection, the way a puppet service that restarts does."""
        if self._server is not None:
            self._server.close()
            for transport in list(self._transports):
                transport.abort()  # type: ignore[attr-defined]
            self._transports.clear()
            await self._server.wait_closed()
            self._server = None

    @property
    def endpoint(self) -> str:
        return f"127.0.0.1:{self.port}"

    def mapping(self) -> dict[str, Handler]:
        unary = Cardinality.UNARY_UNARY
        routes: dict[str, tuple[Callable[[Any], Any], type[Any], type[Any]]] = {
            "Start": (lambda _: pb.StartResponse(), pb.StartRequest, pb.StartResponse),
            "Stop": (lambda _: pb.StopResponse(), pb.StopRequest, pb.StopResponse),
            "Ding": (self._ding, pb.DingRequest, pb.DingResponse),
            "Logout": (lambda _: pb.LogoutResponse(), pb.LogoutRequest, pb.LogoutResponse),
            "DirtyPayload": (lambda _: pb.DirtyPayloadResponse(), pb.DirtyPayloadRequest, pb.DirtyPayloadResponse),
            "MessagePayload": (self._message_payload, pb.MessagePayloadRequest, pb.MessagePayloadResponse),
            "ContactPayload": (self._contact_payload, pb.ContactPayloadRequest, pb.ContactPayloadResponse),
            "RoomPayload": (self._room_payload, pb.RoomPayloadRequest, pb.RoomPayloadResponse),
            "RoomMemberList": (self._room_members, pb.RoomMemberListRequest, pb.RoomMemberListResponse),
            "MessageSendText": (self._send_text, pb.MessageSendTextRequest, pb.MessageSendTextResponse),
            "MessageSendFile": (self._send_file, pb.MessageSendFileRequest, pb.MessageSendFileResponse),
        }
        mapping = {
            SERVICE + name: Handler(self._unary(name, answer), unary, request, reply)
            for name, (answer, request, reply) in routes.items()
        }
        mapping[SERVICE + "Event"] = Handler(self._event, Cardinality.UNARY_STREAM, pb.EventRequest, pb.EventResponse)
        mapping[UNAUTHENTICATED_ROUTE] = Handler(self._reject, unary, pb.StartRequest, pb.StartResponse)
        return mapping

    def __mapping__(self) -> dict[str, Handler]:
        return self.mapping()

    def _unary(self, name: str, answer: Callable[[Any], Any]) -> Callable[[Stream[Any, Any]], Any]:
        async def handle(stream: Stream[Any, Any]) -> None:
            request = await stream.recv_message()
            self.calls.append(Call(name, request, time.monotonic()))
            if name in ("MessageSendText", "MessageSendFile") and request.conversation_id in self.broken:
                await stream.cancel()
                return
            reply = answer(request)
            if name == "MessageSendText" and request.conversation_id in self.answer_late:
                await asyncio.sleep(self.answer_late.pop(request.conversation_id))
            await stream.send_message(reply)

        return handle

    async def _reject(self, stream: Stream[Any, Any]) -> None:
        raise GRPCError(Status.UNAUTHENTICATED, "invalid token")

    async def _event(self, stream: Stream[Any, Any]) -> None:
        request = await stream.recv_message()
        self.calls.append(Call("Event", request, time.monotonic()))
        self.streams_opened += 1
        queue: asyncio.Queue[pb.EventResponse | None] = asyncio.Queue()
        self._streams.add(queue)
        try:
            await stream.send_message(_event(pb.EventType.EVENT_TYPE_LOGIN, {"contactId": self.self_id}))
            await stream.send_message(_event(pb.EventType.EVENT_TYPE_READY, {"data": "ready"}))
            backlog, self._undelivered = self._undelivered, []
            for event in backlog:
                await stream.send_message(event)
            while True:
                try:
                    item = await asyncio.wait_for(queue.get(), self.heartbeat_interval)
                except TimeoutError:
                    item = _event(pb.EventType.EVENT_TYPE_HEARTBEAT, {"data": "heartbeat"})
                if item is None:
                    return
                if queue not in self._quiet:
                    await stream.send_message(item)
        finally:
            self._streams.discard(queue)
            self._quiet.discard(queue)

    def _emit(self, kind: pb.EventType, payload: dict[str, Any]) -> None:
        event = _event(kind, payload)
        listening = self._streams - self._quiet
        if not listening:
            self._undelivered.append(event)
        for queue in listening:
            queue.put_nowait(event)

    def _ding(self, request: pb.DingRequest) -> pb.DingResponse:
        self._emit(pb.EventType.EVENT_TYPE_DONG, {"data": request.data})
        return pb.DingResponse()

    def _message_payload(self, request: pb.MessagePayloadRequest) -> pb.MessagePayloadResponse:
        payload = self.messages.get(request.id)
        if payload is None:
            raise GRPCError(Status.NOT_FOUND, f"no message {request.id}")
        return payload

    def _contact_payload(self, request: pb.ContactPayloadRequest) -> pb.ContactPayloadResponse:
        name = self.contacts.get(request.id)
        if name is None:
            raise GRPCError(Status.NOT_FOUND, f"no contact {request.id}")
        return pb.ContactPayloadResponse(id=request.id, name=name, friend=True)

    def _room_payload(self, request: pb.RoomPayloadRequest) -> pb.RoomPayloadResponse:
        room = self.rooms.get(request.id)
        if room is None:
            raise GRPCError(Status.NOT_FOUND, f"no room {request.id}")
        topic, members = room
        return pb.RoomPayloadResponse(id=request.id, topic=topic, owner_id=members[0], member_ids=members)

    def _room_members(self, request: pb.RoomMemberListRequest) -> pb.RoomMemberListResponse:
        return pb.RoomMemberListResponse(member_ids=self.rooms.get(request.id, ("", []))[1])

    def _send_file(self, request: pb.MessageSendFileRequest) -> pb.MessageSendFileResponse:
        """A FileBox as JSON, as file-box 1.x's FileBox.fromJSON takes it: only the base64 type is
        accepted here (a url or a path would make the service fetch something)."""
        if request.conversation_id not in self.rooms and request.conversation_id not in self.contacts:
            raise GRPCError(Status.NOT_FOUND, f"no conversation {request.conversation_id}")
        try:
            box = json.loads(request.filebox)
            data = base64.b64decode(box["base64"], validate=True)
        except (ValueError, KeyError, TypeError) as exc:
            raise GRPCError(Status.INVALID_ARGUMENT, f"not a FileBox: {exc}") from exc
        if box.get("type") != 1 or not box.get("name"):
            raise GRPCError(Status.INVALID_ARGUMENT, f"FileBox of type {box.get('type')!r}, name {box.get('name')!r}")
        message_id = f"standin-sent-{next(self._ids)}"
        self.files.append(SentFile(request.conversation_id, box["name"], data, time.monotonic(), message_id))
        return pb.MessageSendFileResponse(id=message_id)

    def files_to(self, room_id: str) -> list[SentFile]:
        return [f for f in self.files if f.conversation == room_id]

    def _send_text(self, request: pb.MessageSendTextRequest) -> pb.MessageSendTextResponse:
        if request.conversation_id not in self.rooms and request.conversation_id not in self.contacts:
            raise GRPCError(Status.NOT_FOUND, f"no conversation {request.conversation_id}")
        message_id = f"standin-sent-{next(self._ids)}"
        self.sent.append(
            Sent(request.conversation_id, request.text, tuple(request.mentonal_ids), time.monotonic(), message_id)
        )
        self.messages[message_id] = pb.MessagePayloadResponse(
            id=message_id,
            text=request.text,
            timestamp=int(self.now().timestamp() * 1000),
            type=TEXT_TYPE,  # type: ignore[arg-type]
            from_id=self.self_id,
            room_id=request.conversation_id if request.conversation_id in self.rooms else "",
            to_id="" if request.conversation_id in self.rooms else request.conversation_id,
            mention_ids=list(request.mentonal_ids),
        )
        return pb.MessageSendTextResponse(id=message_id)


def _event(kind: pb.EventType, payload: dict[str, Any]) -> pb.EventResponse:
    return pb.EventResponse(type=kind, payload=json.dumps(payload))


class _RecordingServer(Server):
    """grpclib's server, plus what a test needs to see and to break: the `authorization` of every
    request (checked against the token) and every connection (so that `stop` can drop them)."""

    def __init__(self, standin: PuppetStandin) -> None:
        super().__init__([standin])
        self._standin = standin

    def _protocol_factory(self) -> H2Protocol:
        protocol = super()._protocol_factory()
        standin = self._standin
        accept = protocol.handler.accept
        made = protocol.connection_made

        def checked_accept(stream: Any, headers: Any, release_stream: Any) -> None:
            authorization = dict(headers).get("authorization")
            standin.authorizations.append(authorization)
            if standin.token is not None and authorization != f"Wechaty {standin.token}":
                headers = [(k, UNAUTHENTICATED_ROUTE if k == ":path" else v) for k, v in headers]
            accept(stream, headers, release_stream)

        def tracked(transport: asyncio.BaseTransport) -> None:
            standin._transports.add(transport)
            made(transport)

        protocol.handler.accept = checked_accept  # type: ignore[method-assign]
        protocol.connection_made = tracked  # type: ignore[method-assign]
        return protocol
