"""体温接龙: a village group's list of readings, reposted by each person who adds a line.

Only the lines a group has not posted before that day count: their readings are stored for the
people under observation they name, and a fever among them alerts the leaders once, by masked
name. Everything else about a list is chat, and gets silence.
"""

from __future__ import annotations

import hashlib

from .. import texts
from ..parsing import ParseResult
from ..parsing.temperature_list import ListEntry, TemperatureList
from ..personal_info import mask_name
from ..turn import Turn
from .people import observed_by_name


def _line_hash(turn: Turn, title: str, entry: ListEntry) -> str:
    """A line's identity within its list, keyed by the data key when there is one (names are not kept)."""
    line = "\x1f".join((title, entry.name, *(f"{t:.1f}" for t in entry.temperatures)))
    key = turn.town.data_key
    return key.blind_index(line) if key is not None else hashlib.sha256(line.encode()).hexdigest()


async def record_temperature_list(turn: Turn, result: ParseResult[TemperatureList]) -> None:
    if turn.target.kind != "village" or turn.target.village is None:
        return  # a list anywhere but a village group is chat
    village, listing, lines = turn.target.village, result.payload, turn.store.temperature_lists
    hashes = [(entry, _line_hash(turn, listing.title, entry)) for entry in listing.entries]
    new = await lines.unseen(turn.message.chat, turn.day, (line_hash for _, line_hash in hashes))
    fevers: list[tuple[int, str, float]] = []
    for entry, line_hash in hashes:
        if line_hash not in new:
            continue
        new.discard(line_hash)  # the same line twice in one message counts once
        await lines.add(turn.message.chat, turn.day, line_hash, turn.message.at)
        person = await observed_by_name(turn, entry.name, village)
        if person is not None:
            for celsius in entry.temperatures:
                await turn.store.people.record_temperature(
                    person, day=turn.day, celsius=celsius, by=turn.speaker.id, at=turn.message.at
                )
        if entry.fever:
            fever = (entry.number, mask_name(entry.name), max(entry.temperatures))
            fevers.append(fever)
            await turn.tell_leaders(texts.temperature_list_alert(village, *fever))
    if fevers:
        await turn.reply(texts.temperature_list_fever_noted(fevers))
