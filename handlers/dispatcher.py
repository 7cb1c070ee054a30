"""The one entry point for every platform: an IncomingMessage in, the messages it causes out.

Order of business for a message: claim it (a redelivery stops here), work out where it was said and
by whom, try the commands (one may decline, handing the message on), then the parser, then the
action for the kind. All of it runs in one transaction. If an action fails, nothing of it is kept
and the sender gets a plain apology instead of silence or a stack trace. A database that fails for a
moment (SQLite's "database is locked", a PostgreSQL connection dropped) is not the message's fault:
the message is handled again a few times; if it keeps failing the message is not stored at all
(MessageNotStored), so that the platform does not confirm it and Telegram sends it again later.

An edited message (`edited_at` set) is handled once per edit, and only as what can be edited: a
report (daily report or 更正) replaces what that message stored, a registration (登记) updates the
person it registered; either is a new one if the message had stored none. Anything else edited (chat,
a 通知, a command) is silent: it was carried out as first sent, and is not carried out twice.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import exc as sa_exc

from storage import Database, Store
from storage.repos.inbound import Key, edit_key

from . import texts
from .commands import Verdict
from .delivery_reports import record_acknowledgement
from .messages import IncomingMessage
from .parsing import MessageContext
from .registry import registry as town_registry
from .registry_entries import Registry
from .town import Town
from .transport import MessageNotStored
from .turn import Turn

log = logging.getLogger(__name__)

#: PostgreSQL failures that are the server's or the connection's for a moment, not the message's:
#: the classes 08 connection exception, 40 transaction rollback (a deadlock or serialization
#: failure between two processes) and 57 operator intervention (a restart); and out of memory or
#: of connections. Not 53100 disk full, which stays until someone frees the disk.
TRANSIENT_SQLSTATE_CLASSES = ("08", "40", "57")
TRANSIENT_SQLSTATES = ("53200", "53300")


def is_transient(exc: BaseException) -> bool:
    """A failure of the database itself, worth handling the message again: a dropped or refused
    connection, a deadlock, SQLite's busy lock. Not a broken schema, a full disk or a bug, which
    would fail again every time and hold up every message behind this one."""
    if isinstance(exc, (sa_exc.DisconnectionError, sa_exc.TimeoutError, ConnectionError)):
        return True
    if not isinstance(exc, sa_exc.DBAPIError):
        return False
    if exc.connection_invalidated:
        return True
    sqlstate = getattr(exc.orig, "sqlstate", None) or getattr(exc.orig, "pgcode", None)
    if isinstance(sqlstate, str) and (sqlstate[:2] in TRANSIENT_SQLSTATE_CLASSES or sqlstate in TRANSIENT_SQLSTATES):
        return True
    text = str(exc.orig).lower()
    return isinstance(exc, sa_exc.OperationalError) and ("database is locked" in text or "busy" in text)


#: Seconds before each new try of a message the database failed: a lock or a reconnect takes
#: moments; after a longer outage the message is not stored (MessageNotStored) and the platform
#: keeps it: Telegram sends it again, the WeChat adapter holds it and tries again.
RETRY_DELAYS = (0.2, 1.0, 3.0)

#: What an edited message may still do (see the module's docstring): the kinds and the commands.
EDITABLE_KINDS = frozenset({"daily_report", "correction"})
EDITABLE_COMMANDS = frozenset({"register_person"})


def inbound_key(message: IncomingMessage) -> Key:
    return (message.platform, message.chat, message.message_id, edit_key(message.edited_at))

@dataclass
class _Attempt:
    """Whether the message turned out to be meant for the bot, known even if handling then fails."""

    addressed: bool = False


class Dispatcher:
    def __init__(
        self,
        town: Town,
        database: Database,
        retry_delays: Sequence[float] = RETRY_DELAYS,
        registry: Registry | None = None,
    ) -> None:
        self.town = town
        self.database = database
        self.retry_delays = retry_delays
        self.registry = registry or town_registry()
        self.commands = self.registry.command_matcher()
        self.parser = self.registry.parser(town.vocab)

    async def handle(self, message: IncomingMessage) -> None:
        """Handle and store one message, with what it causes to be sent (in the outbox)."""
        delays = iter(self.retry_delays)
        while True:
            attempt = _Attempt()
            try:
                await self._handle(message, attempt)
                return
            except Exception as exc:
                if not is_transient(exc):
                    log.exception("handling message %s in %s failed", message.message_id, message.chat)
                    await self._give_up(message, apologise=attempt.addressed)
                    return
                delay = next(delays, None)
                if delay is not None:
                    log.warning("the database failed while handling message %s in %s (%s); trying again in %.1f s",
                                message.message_id, message.chat, type(exc).__name__, delay)  # fmt: skip
                    await asyncio.sleep(delay)
                    continue
                # Not the message's fault, and nothing of it is stored: the platform must not
                # confirm it, and sends it again (Telegram) once the database is back.
                raise MessageNotStored(
                    f"message {message.message_id} in {message.chat}: the database kept failing ({exc})"
                ) from exc

    async def handle_many(self, messages: Sequence[IncomingMessage]) -> None:
        """Handle and store messages that arrived together, in order, in one transaction: one commit
        for a backlog instead of one per message. If any of them fails, none of that transaction is
        kept and each is handled again on its own, so one bad message costs only itself."""
        if len(messages) <= 1:
            for message in messages:
                await self.handle(message)
            return
        try:
            async with self.database.transaction() as store:
                keys = [inbound_key(m) for m in messages]
                unseen = await store.inbound.unseen(keys)
                await self._prefetch(store, messages)
                for key, message in zip(keys, messages, strict=True):
                    if key not in unseen:
                        continue  # delivered before (or twice in this batch): handled once
                    unseen.discard(key)
                    turn = await self._turn(store, message)
                    kind = await self._act(turn, _Attempt())
                    store.inbound.add(key, message.sender, message.at, kind)
            return
        except Exception:
            log.warning(
                "%d messages could not be stored together; handling them one by one", len(messages), exc_info=True
            )
        for message in messages:
            await self.handle(message)

    async def _prefetch(self, store: Store, messages: Sequence[IncomingMessage]) -> None:
        """Read what a batch will ask for (its chats' bindings, its senders' roles, the day's reports
        of the villages involved) in a few queries, instead of a few queries for each message."""
        directory = self.town.directory
        await store.bindings.prefetch(m.chat for m in messages)
        await store.roles.prefetch(m.sender for m in messages)
        days: set[tuple[str, dt.date]] = set()
        for message in messages:
            villages = await directory.villages_headed_by(store, message.sender)
            target = await directory.chat_target(store, message.chat)
            if target.village is not None:
                villages.add(target.village)
            days.update((village, self.town.day_of(message.at)) for village in villages)
        await store.reports.prefetch(days)

    async def _handle(self, message: IncomingMessage, attempt: _Attempt) -> None:
        async with self.database.transaction() as store:
            inbound_id = await store.inbound.claim(
                message.platform, message.chat, message.message_id, message.sender, message.at,
                edit_key(message.edited_at),
            )
            if inbound_id is None:
                return  # delivered before: handled then, not again
            turn = await self._turn(store, message)
            kind = await self._act(turn, attempt)
            await store.inbound.set_kind(inbound_id, kind)

    async def _turn(self, store: Store, message: IncomingMessage) -> Turn:
        target = await self.town.directory.chat_target(store, message.chat)
        speaker = await self.town.directory.speaker(store, message.sender, target)
        return Turn(message, store, self.town, target, speaker)

    async def _act(self, turn: Turn, attempt: _Attempt) -> str:
        if turn.message.edited_at is not None:
            return f"edit:{await self._act_on_edit(turn, attempt)}"
        command = self.commands.match(turn.message.text)
        if command is not None:
            attempt.addressed = True
            if await self.registry.command_action(command.name)(turn, command) is not Verdict.DECLINED:
                return f"command:{command.name}"
            attempt.addressed = False  # not the command's after all: the parser decides
        result = self.parser.parse(turn.message.text, await self._context(turn))
        action = self.registry.kind_action(result.kind)
        if action is not None:
            attempt.addressed = True
            await action(turn, result)
        elif await record_acknowledgement(turn):
            return "acknowledgement"  # silently: 收到 is chat to everyone but the admin's receipts
        return result.kind

    async def _act_on_edit(self, turn: Turn, attempt: _Attempt) -> str:
        """An edited message: a report or a registration is acted on (the actions see `edited_at`
        and update what the message stored); anything else is left as it was, silently."""
        command = self.commands.match(turn.message.text)
        if command is not None and command.name in EDITABLE_COMMANDS:
            attempt.addressed = True
            await self.registry.command_action(command.name)(turn, command)
            return f"command:{command.name}"
        result = self.parser.parse(turn.message.text, await self._context(turn))
        action = self.registry.kind_action(result.kind)
        if action is not None and result.kind in EDITABLE_KINDS:
            attempt.addressed = True
            await action(turn, result)
        return result.kind

    async def _context(self, turn: Turn) -> MessageContext:
        """Where the message was said, for the parser: the village, and whether its report is open."""
        village = turn.target.village if turn.target.kind == "village" else None
        if village is None and turn.message.is_private and len(turn.speaker.heads_of) == 1:
            village = next(iter(turn.speaker.heads_of))  # a head writing to the bot privately
        awaiting = village is not None and village in turn.speaker.heads_of and await self._report_open(turn, village)
        return MessageContext(
            village=village, role=turn.speaker.role, awaiting_report=awaiting, today=turn.town.day_of(turn.message.at)
        )

    async def _report_open(self, turn: Turn, village: str) -> bool:
        """Today's report is started but incomplete, so one more figure from the head completes it."""
        report = await turn.report_day(village)
        return report.revisions > 0 and not report.complete

    async def _give_up(self, message: IncomingMessage, *, apologise: bool) -> None:
        """Record the message as handled (so it is not retried forever); say sorry if it was for us."""
        try:
            async with self.database.transaction() as store:
                inbound_id = await store.inbound.claim(
                    message.platform, message.chat, message.message_id, message.sender, message.at,
                    edit_key(message.edited_at),
                )
                if inbound_id is None:
                    return
                await store.inbound.set_kind(inbound_id, "error")
                if not apologise:
                    return  # ordinary chat that tripped a bug: silence, as for any chat
                turn = await self._turn(store, message)
                await turn.reply(texts.internal_error())
        except Exception as exc:
            log.exception("could not record the failure of message %s", message.message_id)
            raise MessageNotStored(f"message {message.message_id} in {message.chat} was not stored") from exc
