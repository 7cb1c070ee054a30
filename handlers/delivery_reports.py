"""What became of a notice: a delivery report for the admin who sent it, and who acknowledged it.

A notice counts as told only when it is known to have arrived; the admin hears "已送达 8/8" or the
list of groups that failed and why, once every group's send has settled.
"""

from __future__ import annotations

import re

from sqlalchemy import func, select, update

from storage import Database, Store
from storage.models import Notice, NoticeAcknowledgement, NoticeDelivery, OutboxMessage
from storage.repos.outbox import PRIORITY_REPLY

from . import texts
from .parsing import normalize
from .town import Town
from .turn import Turn

ACKNOWLEDGEMENT = re.compile(
    r"^(?:收到|已收到|收到了|已阅|已读|好的|好|知道了|明白|明白了|遵照执行|坚决执行)(?:[,!.~。 ]|$)"
)


async def report_settled_notices(database: Database, town: Town, outbox_ids: list[int]) -> None:
    """For each notice among these rows whose every send has settled, tell its sender how it went."""
    async with database.transaction() as store:
        touched = select(NoticeDelivery.notice_id).where(NoticeDelivery.outbox_id.in_(outbox_ids))
        # Only notices with no send still open: one counting query, so that a broadcast to a
        # thousand groups does not read a thousand rows after each of its thousand sends.
        still_open = (
            select(NoticeDelivery.notice_id)
            .join(OutboxMessage, OutboxMessage.id == NoticeDelivery.outbox_id)
            .where(NoticeDelivery.notice_id.in_(touched), OutboxMessage.status.not_in(("sent", "failed")))
        )
        query = select(Notice).where(
            Notice.id.in_(touched), Notice.id.not_in(still_open), Notice.receipt_sent_at.is_(None)
        )
        for notice in (await store.session.scalars(query)).all():
            await report_notice(store, town, notice)


async def report_notice(store: Store, town: Town, notice: Notice) -> None:
    """Tell the notice's sender how it went (all its sends settled), once: compare-and-set, since
    two sends settling at once (concurrent senders) must not both report."""
    rows = {r.id: r for r in await store.outbox.by_ids([d.outbox_id for d in notice.deliveries])}
    failures = [
        (d.village, texts.failure_reason(rows[d.outbox_id].error))
        for d in notice.deliveries
        if rows[d.outbox_id].status == "failed"
    ]
    delivered = len(notice.deliveries) - len(failures)
    text = texts.notice_delivered(notice.id, delivered, len(notice.deliveries), failures)
    now = town.clock.now()
    claimed = await store.session.execute(
        update(Notice)
        .where(Notice.id == notice.id, Notice.receipt_sent_at.is_(None))
        .values(receipt_sent_at=now)
        .execution_options(synchronize_session=False)
    )
    if getattr(claimed, "rowcount", 0) != 1:
        return
    targets = [notice.chat] if notice.chat else await town.directory.leaders_chats(store)
    for chat in targets:
        await store.outbox.enqueue(chat=chat, text=text, purpose="receipt", at=now, priority=PRIORITY_REPLY)


def is_acknowledgement(text: str) -> bool:
    return len(text) <= 30 and ACKNOWLEDGEMENT.match(normalize(text)) is not None


async def record_acknowledgement(turn: Turn) -> bool:
    """收到 in a village group (or a reply to a notice there): that person has read the latest notice."""
    village = turn.target.village if turn.target.kind == "village" else None
    if village is None:
        return False
    store, chat = turn.store, turn.message.chat
    query = select(NoticeDelivery.notice_id).where(NoticeDelivery.chat == chat)
    replied = turn.message.reply_to_message_id
    if replied is not None:
        query = query.join(OutboxMessage, OutboxMessage.id == NoticeDelivery.outbox_id).where(
            OutboxMessage.platform_message_id == replied
        )
    elif not is_acknowledgement(turn.message.text):
        return False
    notice_id = (await store.session.execute(query.order_by(NoticeDelivery.notice_id.desc()).limit(1))).scalar()
    if notice_id is None:
        return False
    exists = await store.session.execute(
        select(func.count()).where(
            NoticeAcknowledgement.notice_id == notice_id, NoticeAcknowledgement.person == turn.speaker.id
        )
    )
    if not exists.scalar():
        store.session.add(
            NoticeAcknowledgement(notice_id=notice_id, village=village, person=turn.speaker.id, at=turn.message.at)
        )
        await store.session.flush()
    return True
