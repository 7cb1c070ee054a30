"""Notices: from an admin, one outbox row per village group; from anyone else, nothing is sent."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from storage import Store
from storage.repos.outbox import PRIORITY_BULK

from .. import texts
from ..commands import Command
from ..delivery_reports import report_notice
from ..parsing import ParseResult
from ..parsing.notice import NoticeRequest
from ..permissions import Action, allowed
from ..personal_info import has_id_number, shown
from ..town import Town
from ..transport import DeliveryFailure
from ..turn import Turn

# What is stored for a group the bot was removed from, where a notice is not even tried.
NOT_SENT_UNREACHABLE = "not sent: the bot was removed from this group (marked unreachable)"


@dataclass(frozen=True)
class QueuedNotice:
    notice_id: int
    groups: int  # the groups it is sent to (not those the bot was removed from)
    villages: list[str]  # the villages that had a group to send to


async def queue_notice(
    store: Store,
    town: Town,
    *,
    body: str,
    villages: Sequence[str],
    by: str,
    at: dt.datetime,
    reply_chat: str | None = None,
) -> QueuedNotice | None:
    """Write the notice and one outbox row per village group, in the caller's transaction.
    None when no named village has a group.

    A village the bot can no longer reach at all (its groups removed the bot) is not left out
    unseen: each of its groups gets a row that has failed already, never sent, so the delivery
    report counts it (7/8, and why). When nothing is left to send, that report is written now,
    since no send will settle to trigger it."""
    directory = town.directory
    chats = await directory.village_chats(store)
    removed = await directory.unreachable_village_chats(store)
    targets: list[tuple[str, str, bool]] = []  # (village, chat, reachable)
    for village in villages:
        live = [(village, chat, True) for chat in chats.get(village, [])]
        targets += live or [(village, chat, False) for chat in removed.get(village, [])]
    if not targets:
        return None
    sending = sum(reachable for _, _, reachable in targets)
    notice = await store.notices.create(
        day=town.day_of(at), body=body, by=by, at=at, villages=list(villages), chat=reply_chat
    )
    await store.audit.record(
        actor=by,
        action="notice",
        subject=f"notice #{notice.id}",
        at=at,
        after={"body": body, "villages": list(villages), "groups": sending, "unreachable": len(targets) - sending},
    )
    text = shown(texts.notice_text(town.name, body), "notice")  # the admin's phone numbers stay
    now = town.clock.now()  # due now by our clock, whatever the sender's phone said the time was
    row_ids = await store.outbox.enqueue_many(
        [chat for _, chat, _ in targets], text=text, purpose="notice", at=now, priority=PRIORITY_BULK
    )
    gone = [row_id for (_, _, reachable), row_id in zip(targets, row_ids, strict=True) if not reachable]
    await store.outbox.mark_unsent(gone, NOT_SENT_UNREACHABLE, DeliveryFailure.REMOVED)
    await store.notices.add_deliveries(notice, [(v, c, i) for (v, c, _), i in zip(targets, row_ids, strict=True)])
    if not sending:
        await report_notice(store, town, notice)
    return QueuedNotice(notice.id, sending, [v for v in villages if chats.get(v)])


async def broadcast_notice(turn: Turn, result: ParseResult[NoticeRequest]) -> None:
    if not allowed(Action.NOTIFY, turn.speaker.role):
        # A head's plain 通知 is village chat; only an explicit command or @bot earns a refusal.
        if turn.message.text.lstrip().startswith("/") or turn.message.mentions_bot:
            await turn.reply(texts.notice_refused())
        return
    directory = turn.town.directory
    request = result.payload
    unknown = request.unknown_villages
    if unknown:
        await turn.reply(texts.notice_unknown_villages(unknown, directory.village_names))
        return
    if has_id_number(request.body):
        await turn.reply(texts.notice_has_id_number())
        return
    queued = await queue_notice(
        turn.store,
        turn.town,
        body=request.body,
        villages=request.villages or directory.village_names,
        by=turn.speaker.id,
        at=turn.message.at,
        reply_chat=turn.message.chat,
    )
    if queued is None:
        await turn.reply(texts.notice_no_groups())
        return
    if queued.groups:  # else the delivery report (0/N, and why) is the answer, written already
        await turn.reply(texts.notice_queued(queued.notice_id, queued.groups, queued.villages))


async def send_receipts(turn: Turn, command: Command) -> None:
    """通知回执: which villages have acknowledged the latest notice (or #N), and which have not."""
    if not allowed(Action.NOTIFY, turn.speaker.role):
        await turn.reply(texts.admins_only("通知回执"))
        return
    notices = turn.store.notices
    notice = await notices.get(int(command.argument)) if command.argument else await notices.latest()
    if notice is None:
        await turn.reply(texts.no_notice_yet())
        return
    counts = await notices.acknowledgements(notice.id)
    addressed = list(dict.fromkeys(d.village for d in notice.deliveries))
    await turn.reply(
        texts.receipts(
            notice.id, [(v, counts[v]) for v in addressed if v in counts], [v for v in addressed if v not in counts]
        )
    )
