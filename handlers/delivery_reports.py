"""What became of a notice: a delivery report for the admin who sent it, and who acknowledged it.

A notice counts as told only when it is known to have arrived; the admin hears "已送达 8/8" or the
list of groups that failed and why, once every group's send has settled.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from sqlalchemy import Select, func, select, update
from sqlalchemy.orm import aliased

from storage import Database, Store
from storage.models import Notice, NoticeAcknowledgement, NoticeDelivery, OutboxMessage
from storage.repos.outbox import PRIORITY_REPLY

from . import texts
from .chat_events import notify_leaders
from .parsing import normalize
from .personal_info import shown
from .town import Town
from .turn import Turn

_MENTION = re.compile(r"@\S+")  # @镇防控办 收到: whom it answers, not what it says
_NOT_WORDS = re.compile(r"[\W_]+")  # punctuation, blanks, emoji


async def report_settled_notices(database: Database, town: Town, outbox_ids: list[int]) -> int:
    """For each notice among these rows whose every send has settled, tell its sender how it went;
    the number of reports queued."""
    async with database.transaction() as store:
        query = settled_notices(outbox_ids)
        return sum([await report_notice(store, town, notice) for notice in (await store.session.scalars(query)).all()])


def settled_notices(outbox_ids: list[int]) -> Select[Notice]:
    """The notices among these sends' with no send still open and no report yet: one query, so that
    a broadcast to a thousand groups does not read a thousand rows after each of its sends. NOT EXISTS
    per notice, by the deliveries' indexes: a NOT IN over every open send scanned the outbox."""
    touched = select(NoticeDelivery.notice_id).where(NoticeDelivery.outbox_id.in_(outbox_ids))
    open_delivery = aliased(NoticeDelivery)
    still_open = (
        select(open_delivery.id)
        .join(OutboxMessage, OutboxMessage.id == open_delivery.outbox_id)
        .where(open_delivery.notice_id == Notice.id, OutboxMessage.status.not_in(("sent", "failed")))
    )
    return select(Notice).where(Notice.id.in_(touched), ~still_open.exists(), Notice.receipt_sent_at.is_(None))


async def report_notice(store: Store, town: Town, notice: Notice) -> bool:
    """Tell the notice's sender how it went (all its sends settled), once: compare-and-set, since
    two sends settling at once (concurrent senders) must not both report. Whether it was queued."""
    rows = {r.id: r for r in await store.outbox.by_ids([d.outbox_id for d in notice.deliveries])}
    failures = [
        (d.village, texts.failure_reason(rows[d.outbox_id].failure))
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
        return False
    if notice.chat:
        await store.outbox.enqueue(
            chat=notice.chat, text=shown(text, "receipt"), purpose="receipt", at=now, priority=PRIORITY_REPLY
        )
    else:  # a scheduled or config notice: nobody asked in a chat, so the leaders hear
        await notify_leaders(store, town, text, purpose="receipt")
    return True


def is_doubtful(text: str) -> bool:
    """A question or an objection (texts.DOUBT_WORDS): whoever wrote it has not acknowledged."""
    return _doubts(normalize(text).lower())


def _doubts(plain: str) -> bool:
    return any(word in plain for word in texts.DOUBT_WORDS)


def is_acknowledgement(text: str, names: Sequence[str] = ()) -> bool:
    """收到, 好的，谢谢, 五星村收到: the acknowledgement words with at most courtesy, punctuation and
    the group's own names (`names`) around them, short. Read word by word, longest first, so that
    any other word (a question, a but, a sentence about masks) makes it chat, not a receipt."""
    plain = normalize(text).lower()
    if _doubts(plain):
        return False
    words = _NOT_WORDS.sub("", _MENTION.sub("", plain))
    if not words or len(words) > texts.ACKNOWLEDGEMENT_LENGTH:
        return False
    known = sorted({*texts.ACKNOWLEDGEMENT_WORDS, *texts.COURTESY_WORDS, *names}, key=len, reverse=True)
    acknowledged, at = False, 0
    while at < len(words):
        word = next((w for w in known if words.startswith(w, at)), None)
        if word is None:
            return False
        acknowledged = acknowledged or word in texts.ACKNOWLEDGEMENT_WORDS
        at += len(word)
    return acknowledged


async def record_acknowledgement(turn: Turn) -> bool:
    """收到 in a village group (or a reply to a notice there): that person has read the latest
    notice the group received. Only one that reached the group counts (its send is 'sent'), the
    latest by when it arrived: a notice that failed there, or still waits for a retry, was not read."""
    village = turn.target.village if turn.target.kind == "village" else None
    if village is None:
        return False
    store, chat = turn.store, turn.message.chat
    query = (
        select(NoticeDelivery.notice_id)
        .join(OutboxMessage, OutboxMessage.id == NoticeDelivery.outbox_id)
        .where(NoticeDelivery.chat == chat, OutboxMessage.status == "sent")
    )
    replied = turn.message.reply_to_message_id
    if replied is not None:
        if is_doubtful(turn.message.text):
            return False
        query = query.where(OutboxMessage.platform_message_id == replied)
    elif not is_acknowledgement(turn.message.text, _names(turn.town, village)):
        return False
    latest = query.order_by(OutboxMessage.sent_at.desc(), NoticeDelivery.notice_id.desc()).limit(1)
    notice_id = (await store.session.execute(latest)).scalar()
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


def _names(town: Town, village: str) -> list[str]:
    """The village's name and aliases, as people put them before their 收到 (五星村收到)."""
    spec = town.config.village(village)
    return [village, *(spec.aliases if spec else ())]
