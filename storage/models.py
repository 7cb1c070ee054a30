"""The tables. Every record says who and when; nothing is updated in place that an audit needs.

Daily reports are kept as revisions (each submission or correction a row) so that "who changed
what when" is a query, not a guess; the day's figures are the merge of the revisions.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any, ClassVar

import sqlalchemy as sa
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship
from sqlalchemy.types import TypeDecorator


class UTCDateTime(TypeDecorator[dt.datetime]):
    """Aware UTC datetimes on every backend (SQLite forgets the zone; we put it back)."""

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: dt.datetime | None, dialect: sa.Dialect) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to the database; use an aware UTC time")
        return value.astimezone(dt.UTC)

    def process_result_value(self, value: dt.datetime | None, dialect: sa.Dialect) -> dt.datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value.astimezone(dt.UTC)


#: The largest id an integer primary key holds (PostgreSQL's INTEGER); a bigger one names no row.
MAX_ROW_ID = 2**31 - 1


def is_row_id(number: int) -> bool:
    """Whether a number someone typed (#3000000000) can be a row's id at all, before asking for it."""
    return 0 < number <= MAX_ROW_ID


class Base(DeclarativeBase):
    type_annotation_map: ClassVar[dict[Any, Any]] = {
        dt.datetime: UTCDateTime,
        dict[str, Any]: sa.JSON,
        list[Any]: sa.JSON,
    }


class ChatBinding(Base):
    """A group bound to a village, a checkpoint or the leaders by an admin in the chat itself."""

    __tablename__ = "chat_bindings"
    chat: Mapped[str] = mapped_column(sa.String(200), primary_key=True)
    target_kind: Mapped[str] = mapped_column(sa.String(20))  # village | checkpoint | leaders
    target: Mapped[str] = mapped_column(sa.String(100))
    bound_by: Mapped[str] = mapped_column(sa.String(200))
    bound_at: Mapped[dt.datetime]
    reachable: Mapped[bool] = mapped_column(default=True)


class PersonRole(Base):
    """A role given in chat (设置村长) on top of those in the config."""

    __tablename__ = "person_roles"
    person: Mapped[str] = mapped_column(sa.String(200), primary_key=True)
    role: Mapped[str] = mapped_column(sa.String(20), primary_key=True)
    village: Mapped[str] = mapped_column(sa.String(100), primary_key=True, default="")
    display_name: Mapped[str | None] = mapped_column(sa.String(200))
    granted_by: Mapped[str] = mapped_column(sa.String(200))
    granted_at: Mapped[dt.datetime]


class ReportRevision(Base):
    __tablename__ = "report_revisions"
    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    village: Mapped[str] = mapped_column(sa.String(100), index=True)
    day: Mapped[dt.date] = mapped_column(index=True)
    fields: Mapped[dict[str, Any]]
    correction: Mapped[bool]
    late: Mapped[bool]
    reported_by: Mapped[str] = mapped_column(sa.String(200))
    reported_at: Mapped[dt.datetime]
    chat: Mapped[str] = mapped_column(sa.String(200))
    __table_args__ = (sa.Index("ix_report_revisions_village_day", "village", "day"),)


class ReportDaySummary(Base):
    """A village's day, merged from its revisions, kept up to date in the transaction that adds one:
    the day's report reads one row per village, not the revisions."""

    __tablename__ = "report_days"
    village: Mapped[str] = mapped_column(sa.String(100), primary_key=True)
    day: Mapped[dt.date] = mapped_column(primary_key=True, index=True)
    fields: Mapped[dict[str, Any]]
    complete: Mapped[bool]
    late: Mapped[bool]
    first_at: Mapped[dt.datetime | None]
    last_at: Mapped[dt.datetime | None]
    revisions: Mapped[int]


class ReportFieldTotal(Base):
    """One field's sum over every village's merged figures for one day: totals since the campaign
    start add up one row per day and field, however many revisions there were."""

    __tablename__ = "report_field_totals"
    day: Mapped[dt.date] = mapped_column(primary_key=True)
    field: Mapped[str] = mapped_column(sa.String(60), primary_key=True)
    value: Mapped[int] = mapped_column(sa.BigInteger)


class CheckpointDayTotal(Base):
    """A day's checkpoint figures, added to as each registration is stored."""

    __tablename__ = "checkpoint_day_totals"
    day: Mapped[dt.date] = mapped_column(primary_key=True)
    entries: Mapped[int]
    vehicles: Mapped[int]
    people: Mapped[int]
    fevers: Mapped[int]
    key_area_arrivals: Mapped[int]


class SummaryState(Base):
    """What the kept-up summaries were built for (the template's required fields, for the reports):
    when that changes, they are built again from the records at start."""

    __tablename__ = "summary_state"
    name: Mapped[str] = mapped_column(sa.String(40), primary_key=True)
    built_for: Mapped[str] = mapped_column(sa.Text)


class CheckpointEntry(Base):
    __tablename__ = "checkpoint_entries"
    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    checkpoint: Mapped[str | None] = mapped_column(sa.String(100))
    day: Mapped[dt.date] = mapped_column(index=True)
    plate: Mapped[str | None] = mapped_column(sa.String(20))
    persons: Mapped[int | None]
    temperatures: Mapped[list[Any]]
    origin: Mapped[str | None] = mapped_column(sa.String(100))
    destination: Mapped[str | None] = mapped_column(sa.String(100))
    fever: Mapped[bool]
    key_area: Mapped[bool]
    registered_by: Mapped[str] = mapped_column(sa.String(200))
    registered_at: Mapped[dt.datetime]
    chat: Mapped[str] = mapped_column(sa.String(200))


class Donation(Base):
    __tablename__ = "donations"
    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    day: Mapped[dt.date] = mapped_column(index=True)
    donor: Mapped[str] = mapped_column(sa.String(200))
    amount_yuan: Mapped[Decimal] = mapped_column(sa.Numeric(14, 2))
    # A company, a shop, an association: the bulletin counts them apart from people.
    organisation: Mapped[bool] = mapped_column(default=False, server_default=sa.false())
    recorded_by: Mapped[str] = mapped_column(sa.String(200))
    recorded_at: Mapped[dt.datetime]
    items: Mapped[list[DonationItem]] = relationship(
        back_populates="donation", cascade="all, delete-orphan", lazy="selectin", order_by="DonationItem.id"
    )


class DonationItem(Base):
    __tablename__ = "donation_items"
    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    donation_id: Mapped[int] = mapped_column(sa.ForeignKey("donations.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(sa.String(100))
    quantity: Mapped[Decimal] = mapped_column(sa.Numeric(14, 2))
    unit: Mapped[str] = mapped_column(sa.String(20))
    donation: Mapped[Donation] = relationship(back_populates="items")


class InspectionItem(Base):
    """A finding to rectify: open until someone reports 整改完成 #N."""

    __tablename__ = "inspection_items"
    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    day: Mapped[dt.date] = mapped_column(index=True)
    place: Mapped[str] = mapped_column(sa.String(100))
    village: Mapped[str | None] = mapped_column(sa.String(100))
    problem: Mapped[str] = mapped_column(sa.Text)
    opened_by: Mapped[str] = mapped_column(sa.String(200))
    opened_at: Mapped[dt.datetime]
    rectified_by: Mapped[str | None] = mapped_column(sa.String(200))
    rectified_at: Mapped[dt.datetime | None]


class Notice(Base):
    __tablename__ = "notices"
    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    day: Mapped[dt.date] = mapped_column(index=True)
    body: Mapped[str] = mapped_column(sa.Text)
    sent_by: Mapped[str] = mapped_column(sa.String(200))
    sent_at: Mapped[dt.datetime]
    villages: Mapped[list[Any]]  # the villages it was addressed to
    chat: Mapped[str | None] = mapped_column(sa.String(200))  # where it was sent from: the receipt goes there
    receipt_sent_at: Mapped[dt.datetime | None]
    deliveries: Mapped[list[NoticeDelivery]] = relationship(
        back_populates="notice", lazy="selectin", order_by="NoticeDelivery.id"
    )


class NoticeDelivery(Base):
    __tablename__ = "notice_deliveries"
    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    notice_id: Mapped[int] = mapped_column(sa.ForeignKey("notices.id", ondelete="CASCADE"), index=True)
    village: Mapped[str] = mapped_column(sa.String(100))
    chat: Mapped[str] = mapped_column(sa.String(200))
    outbox_id: Mapped[int] = mapped_column(sa.ForeignKey("outbox.id"), index=True)  # the settled-notices check
    notice: Mapped[Notice] = relationship(back_populates="deliveries")
    # by chat: a 收到 looks up the notices its group received
    __table_args__ = (sa.UniqueConstraint("notice_id", "chat"), sa.Index("ix_notice_deliveries_chat", "chat"))


class InboundMessage(Base):
    """Every message handled, unique per platform message, so a redelivery is handled once."""

    __tablename__ = "inbound_messages"
    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    platform: Mapped[str] = mapped_column(sa.String(20))
    chat: Mapped[str] = mapped_column(sa.String(200))
    message_id: Mapped[str] = mapped_column(sa.String(100))
    sender: Mapped[str] = mapped_column(sa.String(200))
    received_at: Mapped[dt.datetime]
    kind: Mapped[str] = mapped_column(sa.String(30))
    # "" for the message as first sent; for an edit of it, when it was edited (storage.repos.inbound
    # edit_key): each edit is handled once, and is no redelivery of the message.
    edit: Mapped[str] = mapped_column(sa.String(40), default="")
    __table_args__ = (sa.UniqueConstraint("platform", "chat", "message_id", "edit", name="uq_inbound_message"),)


class OutboxMessage(Base):
    """Everything the bot sends, written in the same transaction as what caused it."""

    __tablename__ = "outbox"
    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    chat: Mapped[str] = mapped_column(sa.String(200), index=True)
    text: Mapped[str] = mapped_column(sa.Text)
    priority: Mapped[int] = mapped_column(default=0)  # lower goes first: replies and alerts before bulk
    purpose: Mapped[str] = mapped_column(sa.String(30))
    mentions: Mapped[list[Any]]
    reply_to: Mapped[str | None] = mapped_column(sa.String(100))
    status: Mapped[str] = mapped_column(sa.String(10), default="pending", index=True)
    attempts: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[dt.datetime]
    next_attempt_at: Mapped[dt.datetime]
    sent_at: Mapped[dt.datetime | None]
    platform_message_id: Mapped[str | None] = mapped_column(sa.String(100))
    error: Mapped[str | None] = mapped_column(sa.Text)  # the platform's own words, for whoever debugs
    # Why it failed, a handlers.transport.DeliveryFailure value: what the delivery report reads.
    failure: Mapped[str | None] = mapped_column(sa.String(20))
    # While a sender holds the row ("sending"), until this time; a lease that ran out means the
    # process died holding it, and the row is due again.
    lease_until: Mapped[dt.datetime | None]
    # Which sender holds the lease (outbox/presence.py): a live sender's rows are its own.
    lease_owner: Mapped[int | None]
    # When the row was handed to the platform, committed just before the send: a "sending" row
    # with it may have arrived when its sender died (taken over as ambiguous); one without it was
    # claimed but never sent, and goes again as if it had never been claimed.
    in_flight_since: Mapped[dt.datetime | None]
    ambiguous: Mapped[bool] = mapped_column(default=False)
    # Sent as part of that row (several queued messages for one group, merged into one).
    merged_into: Mapped[int | None] = mapped_column(sa.ForeignKey("outbox.id", name="fk_outbox_merged_into"))
    # An image the message carries (a PNG the bot drew) and its file name; the text is its caption.
    picture: Mapped[bytes | None] = mapped_column(sa.LargeBinary)
    picture_name: Mapped[str | None] = mapped_column(sa.String(200))


class ScheduledSend(Base):
    """One scheduled message to one chat on one day, recorded before it goes out: never twice."""

    __tablename__ = "scheduled_sends"
    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    day: Mapped[dt.date]
    kind: Mapped[str] = mapped_column(sa.String(40))  # remind | chase | deadline | notice:<key>
    chat: Mapped[str] = mapped_column(sa.String(200))
    outbox_id: Mapped[int | None] = mapped_column(sa.ForeignKey("outbox.id"))
    created_at: Mapped[dt.datetime]
    __table_args__ = (sa.UniqueConstraint("day", "kind", "chat", name="uq_scheduled_send"),)


class ScheduledNotice(Base):
    """A notice an admin asked to send later (定时通知)."""

    __tablename__ = "scheduled_notices"
    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    run_at: Mapped[dt.datetime] = mapped_column(index=True)
    body: Mapped[str] = mapped_column(sa.Text)
    villages: Mapped[list[Any]]
    created_by: Mapped[str] = mapped_column(sa.String(200))
    created_at: Mapped[dt.datetime]
    chat: Mapped[str] = mapped_column(sa.String(200))  # where it was asked for: the confirmation goes there
    status: Mapped[str] = mapped_column(sa.String(10), default="pending")  # pending | sent | cancelled
    notice_id: Mapped[int | None] = mapped_column(sa.ForeignKey("notices.id"))


class MissedReport(Base):
    """A village without a complete report at the deadline: the record that holds it to account."""

    __tablename__ = "missed_reports"
    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    day: Mapped[dt.date] = mapped_column(index=True)
    village: Mapped[str] = mapped_column(sa.String(100))
    incomplete: Mapped[bool]  # something came in, but not everything
    recorded_at: Mapped[dt.datetime]
    __table_args__ = (sa.UniqueConstraint("day", "village", name="uq_missed_report"),)


class ObservedPerson(Base):
    """Someone back from outside, followed until released. Personal fields are stored encrypted only;
    the masked forms are what any chat or default report shows."""

    __tablename__ = "observed_people"
    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    village: Mapped[str] = mapped_column(sa.String(100), index=True)
    name_encrypted: Mapped[str | None] = mapped_column(sa.Text)
    phone_encrypted: Mapped[str | None] = mapped_column(sa.Text)
    id_number_encrypted: Mapped[str | None] = mapped_column(sa.Text)
    id_number_index: Mapped[str | None] = mapped_column(sa.String(64), index=True)
    name_masked: Mapped[str] = mapped_column(sa.String(40))
    phone_masked: Mapped[str | None] = mapped_column(sa.String(20))
    id_number_masked: Mapped[str | None] = mapped_column(sa.String(24))
    origin: Mapped[str | None] = mapped_column(sa.String(100))
    returned_on: Mapped[dt.date]
    observe_until: Mapped[dt.date]
    status: Mapped[str] = mapped_column(sa.String(12), default="observing")  # observing | released | hospital
    registered_by: Mapped[str] = mapped_column(sa.String(200))
    registered_at: Mapped[dt.datetime]
    closed_by: Mapped[str | None] = mapped_column(sa.String(200))
    closed_at: Mapped[dt.datetime | None]
    purged_at: Mapped[dt.datetime | None]


class DataKeyFingerprint(Base):
    """The fingerprint of the key the personal data is stored with: one row, or none before any key."""

    __tablename__ = "data_key"
    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)  # always 1
    fingerprint: Mapped[str] = mapped_column(sa.String(64))
    set_at: Mapped[dt.datetime]


class TemperatureCheck(Base):
    __tablename__ = "temperature_checks"
    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    person_id: Mapped[int] = mapped_column(sa.ForeignKey("observed_people.id", ondelete="CASCADE"), index=True)
    day: Mapped[dt.date]
    celsius: Mapped[float]
    checked_by: Mapped[str] = mapped_column(sa.String(200))
    checked_at: Mapped[dt.datetime]


class TemperatureListLine(Base):
    """A line of a 体温接龙 already seen in a group that day, so that a repost of the list counts
    only its new lines. It holds a keyed hash of the list's title, the name and the readings: the
    names in a list are not kept."""

    __tablename__ = "temperature_list_lines"
    __table_args__ = (sa.UniqueConstraint("chat", "day", "line_hash", name="uq_temperature_list_line"),)
    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    chat: Mapped[str] = mapped_column(sa.String(200))
    day: Mapped[dt.date]
    line_hash: Mapped[str] = mapped_column(sa.String(64))
    seen_at: Mapped[dt.datetime]


class AuditEntry(Base):
    """Who changed what, when: records, bindings, roles, notices, exports. Never holds plaintext
    personal data: people appear masked."""

    __tablename__ = "audit_log"
    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    at: Mapped[dt.datetime] = mapped_column(index=True)
    actor: Mapped[str] = mapped_column(sa.String(200))
    action: Mapped[str] = mapped_column(sa.String(40))
    subject: Mapped[str] = mapped_column(sa.String(200))
    before: Mapped[dict[str, Any] | None] = mapped_column(sa.JSON)
    after: Mapped[dict[str, Any] | None] = mapped_column(sa.JSON)
    __table_args__ = (sa.Index("ix_audit_log_action_subject", "action", "subject"),)  # what was told once


class NoticeAcknowledgement(Base):
    """收到 / 已阅 / 好的 in a village group, or a reply to the notice: that person has read it."""

    __tablename__ = "notice_acknowledgements"
    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    notice_id: Mapped[int] = mapped_column(sa.ForeignKey("notices.id", ondelete="CASCADE"), index=True)
    village: Mapped[str] = mapped_column(sa.String(100))
    person: Mapped[str] = mapped_column(sa.String(200))
    at: Mapped[dt.datetime]
    __table_args__ = (sa.UniqueConstraint("notice_id", "person", name="uq_notice_ack"),)
