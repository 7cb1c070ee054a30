"""Checkpoint registrations: confirm to the staff, alert the leaders at once on a fever or key area."""

from __future__ import annotations

from .. import texts
from ..parsing import ParseResult
from ..permissions import Action, allowed
from ..turn import Turn


async def register_arrival(turn: Turn, result: ParseResult) -> None:
    if not allowed(Action.CHECKIN, turn.speaker.role):
        await turn.reply(texts.checkpoint_not_allowed())
        return
    f = result.fields
    checkpoint = turn.target.name if turn.target.kind == "checkpoint" else None
    entry = await turn.store.checkpoints.add(
        checkpoint=checkpoint,
        day=turn.day,
        plate=f["plate"],
        persons=f["persons"],
        temperatures=f["temperatures"],
        origin=f["origin"],
        destination=f["destination"],
        fever=f["fever"],
        key_area=f["key_area"],
        registered_by=turn.speaker.id,
        registered_at=turn.message.at,
        chat=turn.message.chat,
    )
    reply = texts.checkpoint_registered(
        entry.id, f["plate"], f["persons"], f["temperatures"], f["origin"], f["destination"]
    )
    if f["fever"] or f["key_area"]:
        alert = texts.checkpoint_alert(
            checkpoint or turn.message.chat,
            f["plate"],
            f["persons"],
            f["temperatures"],
            f["origin"],
            f["destination"],
            fever=f["fever"],
            key_area=f["key_area"],
        )
        if await turn.tell_leaders(alert):
            reply += texts.checkpoint_alert_sent()
    await turn.reply(reply)
