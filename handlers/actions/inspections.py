"""Inspection findings: opened in the leaders' group and the village's, closed by 整改完成 #N."""

from __future__ import annotations

from .. import texts
from ..commands import Command
from ..messages import OutgoingMessage
from ..parsing import ParseResult
from ..parsing.inspection import InspectionFinding
from ..permissions import Action, allowed
from ..personal_info import mask_text
from ..turn import Turn


async def open_item(turn: Turn, result: ParseResult[InspectionFinding]) -> None:
    if not allowed(Action.INSPECT, turn.speaker.role):
        await turn.reply(texts.admins_only("督查问题"))
        return
    # A phone or ID number written into a finding is stored, and shown, masked.
    place, problem = mask_text(result.payload.place), mask_text(result.payload.problem)
    known = turn.town.directory.resolve_place(place)
    village = known.village if known else None
    item = await turn.store.inspections.open(
        day=turn.day,
        place=place,
        village=village,
        problem=problem,
        opened_by=turn.speaker.id,
        opened_at=turn.message.at,
    )
    announcement = texts.inspection_opened(item.id, place, problem)
    await turn.reply(announcement)
    await turn.tell_leaders(announcement, purpose="inspection")
    if village is not None:
        chats = (await turn.town.directory.village_chats(turn.store)).get(village, [])
        for chat in chats:
            if chat != turn.message.chat:
                await turn.send(OutgoingMessage(chat=chat, text=announcement, purpose="inspection"))


async def rectify_item(turn: Turn, command: Command) -> None:
    item_id = int(command.argument)
    item = await turn.store.inspections.get(item_id)
    if item is None:
        await turn.reply(texts.inspection_unknown(item_id))
        return
    if item.rectified_at is not None:
        await turn.reply(texts.inspection_already_closed(item_id))
        return
    if not allowed(Action.RECTIFY, turn.speaker.role, for_village=item.village, heads_of=turn.speaker.heads_of):
        await turn.reply(texts.rectify_not_allowed(item_id))
        return
    await turn.store.inspections.rectify(item, turn.speaker.id, turn.message.at)
    done = texts.inspection_rectified(item_id, item.place, turn.message.sender_name or turn.speaker.id)
    await turn.reply(done)
    await turn.tell_leaders(done, purpose="inspection")
