"""Checkpoint registrations: confirm to the staff, alert the leaders at once on a fever or key area."""

from __future__ import annotations

from .. import texts
from ..parsing import ParseResult
from ..parsing.checkpoint import CheckpointArrival
from ..permissions import Action, allowed
from ..turn import Turn


async def register_arrival(turn: Turn, result: ParseResult[CheckpointArrival]) -> None:
    if not allowed(Action.CHECKIN, turn.speaker.role):
        await turn.reply(texts.checkpoint_not_allowed())
        return
    arrival = result.payload
    checkpoint = turn.target.name if turn.target.kind == "checkpoint" else None
    entry = await turn.store.checkpoints.add(
        checkpoint=checkpoint,
        day=turn.day,
        plate=arrival.plate,
        persons=arrival.persons,
        temperatures=list(arrival.temperatures),
        origin=arrival.origin,
        destination=arrival.destination,
        fever=arrival.fever,
        key_area=arrival.key_area,
        registered_by=turn.speaker.id,
        registered_at=turn.message.at,
        chat=turn.message.chat,
    )
    reply = texts.checkpoint_registered(
        entry.id, arrival.plate, arrival.persons, arrival.temperatures, arrival.origin, arrival.destination
    )
    if arrival.fever or arrival.key_area:
        alert = texts.checkpoint_alert(
            checkpoint or turn.message.chat,
            arrival.plate,
            arrival.persons,
            arrival.temperatures,
            arrival.origin,
            arrival.destination,
            fever=arrival.fever,
            key_area=arrival.key_area,
        )
        if await turn.tell_leaders(alert):
            reply += texts.checkpoint_alert_sent()
    await turn.reply(reply)
