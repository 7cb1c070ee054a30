"""Checkpoint registrations: confirm to the staff, alert the leaders at once on a fever or key area.

A registration with a reading that cannot be read is not stored: the staff are asked for it again,
and it is never answered as 体温正常.
"""

from __future__ import annotations

import re

from .. import texts
from ..parsing import ParseResult, normalize
from ..parsing.checkpoint import CheckpointArrival
from ..permissions import Action, allowed
from ..turn import Turn

#: What was written as a reading: a figure after a temperature word (not a count: 测温2次), or
#: before a unit.
_WRITTEN = re.compile(
    r"(?:体温|测温|复测)\s*:?\s*(?P<after>[0-9][0-9.,。点度]*+)(?!\s*[次人遍个名位])"
    r"|(?P<before>[0-9][0-9.,。点]*)\s*(?:°C|℃|度)"
)


def unreadable_readings(text: str, arrival: CheckpointArrival) -> list[str]:
    """The readings written in the message that the registration does not hold (45, 3.7.5, 36.5.1):
    each would otherwise vanish, and an empty list reads as 正常."""
    flagged = [p.message for p in getattr(arrival, "problems", ()) if getattr(p, "field", None) == "temperatures"]
    read = {round(t, 1) for t in arrival.temperatures}
    for found in _WRITTEN.finditer(normalize(text)):
        written = (found["after"] or found["before"]).rstrip(".,。点度")
        try:
            value = round(float(re.sub("[,。点度]", ".", written)), 1)
        except ValueError:
            value = None
        if value not in read and written not in flagged:
            flagged.append(written)
    return flagged


async def register_arrival(turn: Turn, result: ParseResult[CheckpointArrival]) -> None:
    if not allowed(Action.CHECKIN, turn.speaker.role):
        await turn.reply(texts.checkpoint_not_allowed())
        return
    arrival = result.payload
    unreadable = unreadable_readings(turn.message.text, arrival)
    if unreadable:
        await turn.reply(texts.checkpoint_temperature_unreadable(unreadable))
        return
    if arrival.problems:  # a plate or a count that cannot be right: stored as nothing else
        await turn.reply(texts.checkpoint_not_registered([p.message for p in arrival.problems]))
        return
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
        entry.id,
        arrival.plate,
        arrival.persons,
        arrival.temperatures,
        arrival.origin,
        arrival.destination,
        written_normal="正常" in normalize(turn.message.text),
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
