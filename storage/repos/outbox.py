"""The outbox: every message the bot sends is a row first, then a delivery."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple, cast

import sqlalchemy as sa
from sqlalchemy import and_, bindparam, insert, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from ..models import Notice, NoticeDelivery, OutboxMessage

# Lower goes first: a reply or an alert must not wait behind a broadcast to every village.
PRIORITY_REPLY = 0
PRIORITY_ALERT = 0
PRIORITY_SCHEDULED = 5
PRIORITY_BULK = 10


@dataclass(frozen=True)
class Outcome:
    """A claimed row's new state after a send: sent, back to pending until a time, or failed."""

    row: OutboxMessage
    status: str  # "sent", "pending", "failed"
    attempts: int
    sent_at: dt.datetime | None = None
    platform_message_id: str | None = None
    error: str | None = None  # the platform's own words
    failure: str | None = None  # why, as a handlers.transport.DeliveryFailure value
    next_attempt_at: dt.datetime | None = None  # for "pending": when to try again
    merged_into: int | None = None

    def parameters(self) -> dict[str, Any]:
        row = self.row
        return {
            "row_id": row.id,
            "new_status": self.status,
            "new_attempts": self.attempts,
            "new_sent_at": self.sent_at if self.status == "sent" else row.sent_at,
            "new_platform_message_id": self.platform_message_id if self.status == "sent" else row.platform_message_id,
            "new_error": self.error if self.error is not None else row.error,
            "new_failure": self.failure if self.failure is not None else row.failure,
            "new_next_attempt_at": self.next_attempt_at or row.next_attempt_at,
            "new_merged_into": self.merged_into,
        }


class Stranded(NamedTuple):
    """The rows a dead sender held, freed at a sender's start: handed to the platform (to go again,
    possibly doubled), and only claimed (to go as usual)."""

    in_flight: int
    untried: int


def _due(now: dt.datetime) -> sa.ColumnElement[bool]:
    """A row whose time has come: pending and due, or held by a sender whose lease ran out."""
    return or_(
        and_(OutboxMessage.status == "pending", OutboxMessage.next_attempt_at <= now),
        and_(OutboxMessage.status == "sending", OutboxMessage.lease_until < now),
    )


def _held(platform: str, now: dt.datetime) -> tuple[sa.ColumnElement[bool], ...]:
    """A row of this platform's that a sender holds under a lease that has not run out."""
    return (_on(platform), OutboxMessage.status == "sending", OutboxMessage.lease_until >= now)


def _on(platform: str) -> sa.ColumnElement[bool]:
    return OutboxMessage.chat.startswith(f"{platform}:", autoescape=True)


class Outbox:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def enqueue(
        self,
        *,
        chat: str,
        text: str,
        purpose: str,
        at: dt.datetime,
        priority: int = PRIORITY_REPLY,
        mentions: Sequence[str] = (),
        reply_to: str | None = None,
        flush: bool = True,
        picture: bytes | None = None,
        picture_name: str | None = None,
    ) -> OutboxMessage:
        """Queue one message. `flush=False` leaves the INSERT to the next flush or the commit, so
        that the rows of many messages handled in one transaction go in together; the row has
        no id until then. `picture` (named `picture_name`): an image sent with `text` as its caption."""
        if (picture is None) != (picture_name is None):
            raise ValueError("a picture needs its file name, and a file name its picture")
        row = OutboxMessage(
            chat=chat,
            text=text,
            purpose=purpose,
            priority=priority,
            mentions=list(mentions),
            reply_to=reply_to,
            status="pending",
            attempts=0,
            created_at=at,
            next_attempt_at=at,
            picture=picture,
            picture_name=picture_name,
        )
        self.session.add(row)
        if flush:
            await self.session.flush()
        return row

    async def enqueue_many(
        self, chats: Sequence[str], *, text: str, purpose: str, at: dt.datetime, priority: int
    ) -> list[int]:
        """The same message to many chats; the rows' ids, in the chats' order. One bulk INSERT
        without an object per row: a broadcast to a thousand groups is stored in a moment."""
        if not chats:
            return []
        await self.session.flush()  # whatever the transaction added before goes in first
        values: list[dict[str, Any]] = [
            {
                "chat": chat,
                "text": text,
                "purpose": purpose,
                "priority": priority,
                "mentions": [],
                "reply_to": None,
                "status": "pending",
                "attempts": 0,
                "created_at": at,
                "next_attempt_at": at,
            }
            for chat in chats
        ]
        statement = insert(OutboxMessage).returning(OutboxMessage.id, sort_by_parameter_order=True)
        return list((await self.session.scalars(statement, values)).all())

    async def record_sent(self, row_ids: Sequence[int], at: dt.datetime) -> None:
        """Rows delivered outside a sender, in one UPDATE: an imported or generated history
        (bench/scale.py), whose messages went long ago."""
        if row_ids:
            statement = (
                update(OutboxMessage)
                .where(OutboxMessage.id.in_(row_ids))
                .values(status="sent", attempts=1, sent_at=at)
                .execution_options(synchronize_session=False)
            )
            await self.session.execute(statement)

    async def mark_unsent(self, row_ids: Sequence[int], error: str, failure: str) -> None:
        """Queued rows that are not to be sent (their group is known to be gone): failed at once,
        with why, so that a notice's delivery report counts them."""
        if row_ids:
            await self.session.execute(
                update(OutboxMessage)
                .where(OutboxMessage.id.in_(row_ids))
                .values(status="failed", error=error, failure=failure)
                .execution_options(synchronize_session=False)
            )

    async def due(self, now: dt.datetime, platform: str, limit: int = 100) -> list[OutboxMessage]:
        """Rows for one platform's chats whose time has come, most urgent first: pending ones, and
        ones whose sender's lease ran out (its process died mid-send)."""
        query = (
            select(OutboxMessage)
            .where(_due(now), _on(platform))
            .order_by(OutboxMessage.priority, OutboxMessage.id)
            .limit(limit)
        )
        return list((await self.session.scalars(query)).all())

    async def claim(self, row_id: int, now: dt.datetime, lease: dt.timedelta, owner: int = 0) -> OutboxMessage | None:
        """Take one row for sending; see `claim_many`."""
        rows = await self.claim_many([row_id], now, lease, owner)
        return rows[0] if rows else None

    async def claim_many(
        self, row_ids: Sequence[int], now: dt.datetime, lease: dt.timedelta, owner: int = 0
    ) -> list[OutboxMessage]:
        """Take the rows for sending, so that no other sender (in any process) sends them too; the
        ones taken, in id order. A row someone else has, or that went already, is left out. A row
        taken over from a dead sender is marked ambiguous if that sender had handed it to the
        platform (`mark_in_flight`), which may have it already; one it had only claimed is not.

        One UPDATE whose WHERE is the compare-and-set: on PostgreSQL a concurrent sender's UPDATE
        waits for this one and then finds the row no longer due; SQLite has one writer at a time."""
        if not row_ids:
            return []
        statement = (
            update(OutboxMessage)
            .where(OutboxMessage.id.in_(row_ids), _due(now))
            .values(
                status="sending",
                lease_until=now + lease,
                lease_owner=owner,
                # SET sees the row as it was: a row still "sending" is one whose sender's lease ran
                # out, and it was on its way to the platform if it was marked in flight.
                ambiguous=or_(
                    OutboxMessage.ambiguous,
                    and_(OutboxMessage.status == "sending", OutboxMessage.in_flight_since.is_not(None)),
                ),
                in_flight_since=None,
            )
            .returning(OutboxMessage)
            .execution_options(synchronize_session=False, populate_existing=True)
        )
        rows = list((await self.session.scalars(statement)).all())
        return sorted(rows, key=lambda row: row.id)

    async def mark_in_flight(self, row_ids: Sequence[int], now: dt.datetime, owner: int = 0) -> set[int]:
        """Rows this sender (`owner`) holds are about to be handed to the platform: once this is
        committed, a crash leaves them ambiguous (the platform may have them), and only them. The
        ids marked; a row no longer this sender's (another took it over) is not, and must not go.
        One UPDATE for all the sends about to start together."""
        if not row_ids:
            return set()
        statement = (
            update(OutboxMessage)
            .where(OutboxMessage.id.in_(row_ids), OutboxMessage.status == "sending", OutboxMessage.lease_owner == owner)
            .values(in_flight_since=now)
            .returning(OutboxMessage.id)
            .execution_options(synchronize_session=False)
        )
        return set((await self.session.scalars(statement)).all())

    async def settle(self, outcomes: Sequence[Outcome], owner: int = 0) -> None:
        """What became of rows this sender (`owner`) claimed, written in one statement (an
        executemany): each row gets its new status and bookkeeping; a row another sender took over
        meanwhile (no longer this one's) is left to it."""
        if not outcomes:
            return
        table = cast(sa.Table, OutboxMessage.__table__)
        statement = (
            update(table)
            .where(table.c.id == bindparam("row_id"), table.c.status == "sending", table.c.lease_owner == owner)
            .values(
                status=bindparam("new_status"),
                attempts=bindparam("new_attempts"),
                sent_at=bindparam("new_sent_at"),
                platform_message_id=bindparam("new_platform_message_id"),
                error=bindparam("new_error"),
                failure=bindparam("new_failure"),
                next_attempt_at=bindparam("new_next_attempt_at"),
                merged_into=bindparam("new_merged_into"),
                lease_until=None,
                lease_owner=None,
                in_flight_since=None,
            )
        )
        await self.session.execute(statement, [outcome.parameters() for outcome in outcomes])

    async def lease_owners(self, platform: str, now: dt.datetime) -> set[int]:
        """The senders holding this platform's rows under leases that have not run out."""
        query = select(OutboxMessage.lease_owner).where(*_held(platform, now)).distinct()
        return {owner or 0 for owner in (await self.session.scalars(query)).all()}

    async def expire_leases(self, platform: str, now: dt.datetime, dead: set[int]) -> Stranded:
        """At a sender's start: rows that senders known to be `dead` (see outbox/presence.py)
        held when they stopped are free again at once: those in flight to be sent again as
        ambiguous, the rest as if never claimed. Only those: a row a live sender claims meanwhile
        is its own."""
        if not dead:
            return Stranded(0, 0)
        statement = (
            update(OutboxMessage)
            .where(*_held(platform, now), sa.func.coalesce(OutboxMessage.lease_owner, 0).in_(dead))
            .values(lease_until=now - dt.timedelta(microseconds=1))
            .returning(OutboxMessage.in_flight_since)
            .execution_options(synchronize_session=False)
        )
        found = list((await self.session.scalars(statement)).all())
        in_flight = sum(1 for since in found if since is not None)
        return Stranded(in_flight, len(found) - in_flight)

    async def unreported_notice_rows(self, platform: str, since: dt.datetime) -> list[int]:
        """This platform's settled rows (sent, or failed for good) of notices whose delivery report
        was never sent: the process stopped between recording a notice's last send and reporting
        on it. Handed to the report at a sender's start, so that the admin still hears."""
        query = (
            select(NoticeDelivery.outbox_id)
            .join(Notice, Notice.id == NoticeDelivery.notice_id)
            .join(OutboxMessage, OutboxMessage.id == NoticeDelivery.outbox_id)
            .where(
                Notice.receipt_sent_at.is_(None),
                Notice.sent_at >= since,
                OutboxMessage.status.in_(("sent", "failed")),
                _on(platform),
            )
        )
        return list((await self.session.scalars(query)).all())

    async def by_ids(self, ids: Sequence[int]) -> list[OutboxMessage]:
        if not ids:
            return []
        query = select(OutboxMessage).where(OutboxMessage.id.in_(ids)).order_by(OutboxMessage.id)
        return list((await self.session.scalars(query)).all())
