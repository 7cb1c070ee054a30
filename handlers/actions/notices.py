"""Notices: from an admin, one outbox row per village group; from anyone else, nothing is sent."""

from __future__ import annotations

from storage.repos.outbox import PRIORITY_BULK

from .. import texts
from ..messages import OutgoingMessage
from ..parsing import ParseResult
from ..permissions import Action, allowed
from ..turn import Turn


async def broadcast_notice(turn: Turn, result: ParseResult) -> None:
    if not allowed(Action.NOTIFY, turn.speaker.role):
        # A head's plain 通知 is village chat; only an explicit command or @bot earns a refusal.
        if turn.message.text.lstrip().startswith("/") or turn.message.mentions_bot:
            await turn.reply(texts.notice_refused())
        return
    directory = turn.town.directory
    unknown = result.fields.get("unknown_villages")
    if unknown:
        await turn.reply(texts.notice_unknown_villages(unknown, directory.village_names))
        return
    villages = result.fields.get("villages") or directory.village_names
    chats = await directory.village_chats(turn.store)
    targets = [(village, chat) for village in villages for chat in chats.get(village, [])]
    if not targets:
        await turn.reply(texts.notice_no_groups())
        return
    body = result.fields["body"]
    notice = await turn.store.notices.create(
        day=turn.day, body=body, by=turn.speaker.id, at=turn.message.at, villages=villages
    )
    text = texts.notice_text(turn.town.name, body)
    for village, chat in targets:
        outbox_id = await turn.send(OutgoingMessage(chat=chat, text=text, purpose="notice", priority=PRIORITY_BULK))
        await turn.store.notices.add_delivery(notice, village=village, chat=chat, outbox_id=outbox_id)
    await turn.reply(texts.notice_queued(notice.id, len(targets), [v for v in villages if chats.get(v)]))
