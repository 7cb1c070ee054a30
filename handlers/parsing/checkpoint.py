"""A checkpoint registration (登记): one vehicle or walk-in party, its people and their readings."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from .. import texts
from .kinds import Triggered
from .normalize import NUMBER, to_number
from .result import Problem, plain_json
from .temperature import FEVER_AT, read_temperatures
from .vocabulary import Vocabulary

_PROVINCES = "京津沪渝冀豫云辽黑湘皖鲁新苏浙赣鄂桂甘晋蒙陕吉闽贵粤青藏川宁琼"
PLATE = re.compile(rf"([{_PROVINCES}])\s*([A-Za-z])\s*[·.\-]?\s*([A-Za-z0-9]{{5,6}})(?![A-Za-z0-9])")
_PERSONS = re.compile(rf"(其中)?\s*(?<![0-9.])({NUMBER})\s*(?:人|名|位)(?!员)")
# A province and then letters or digits, but not a plate: 甘D1234, 甘D1234567.
# (A province's name then a phone number, 来自四川 13912345678, is not one.)
_PLATE_LIKE = re.compile(rf"[{_PROVINCES}](?:\s*[A-Za-z]\s*[·.\-]?\s*[A-Za-z0-9]{{2,}}|[0-9]{{4,}})")
_PLACE = r"[\u4e00-\u9fffA-Za-z0-9()]{1,20}?"
_PLACE_END = r"(?=\s|$|[,;。、/]|去|到|前往|回|返回|返乡|来)"
_ORIGINS = (
    re.compile(rf"来自\s*({_PLACE}){_PLACE_END}"),
    re.compile(rf"从\s*({_PLACE}){_PLACE_END}"),
    re.compile(r"(?:^|\s)([\u4e00-\u9fff]{1,12}?)(?:返回|返乡|回来|来)(?=\s|$|[,;。])"),
)
_DESTINATIONS = (
    re.compile(rf"(?:去|到|前往|往)\s*({_PLACE})(?=\s|$|[,;。、/])"),
    re.compile(rf"(?<!返)回(?!来)\s*({_PLACE})(?=\s|$|[,;。、/])"),
)


@dataclass(frozen=True)
class CheckpointArrival:
    """One vehicle or walk-in party at a checkpoint: who, how many, their readings, from where to where."""

    plate: str | None  # None for a walk-in
    persons: int | None
    temperatures: tuple[float, ...]
    origin: str | None
    destination: str | None  # a known village's canonical name when one is named
    fever: bool
    key_area: bool  # the origin is one of the town's key areas
    # What could not be read for sure (field "temperatures" or "plate"): ask again; with a
    # temperatures problem, the readings are not all known, so they are never "体温正常".
    problems: tuple[Problem, ...] = ()

    def problem_fields(self) -> frozenset[str]:
        return frozenset(p.field for p in self.problems)

    def to_json(self) -> dict[str, Any]:
        fields: dict[str, Any] = {
            "plate": self.plate,
            "persons": self.persons,
            "temperatures": list(self.temperatures),
            "origin": self.origin,
            "destination": self.destination,
            "fever": self.fever,
            "key_area": self.key_area,
        }
        for field in self.problem_fields():
            fields.pop(field, None)
        if "temperatures" in self.problem_fields() and not self.fever:
            del fields["fever"]  # a reading is unknown: "no fever" would be a claim
        out = plain_json(fields)
        if self.problems:
            out["problems"] = [p.to_json() for p in self.problems]
        return out


# More people than this in one vehicle or walk-in party is a typing slip (or a phone number), not a party.
MAX_PARTY = 100


def normalise_plate(match: re.Match[str]) -> str:
    return f"{match[1]}{match[2]}{match[3]}".upper()


def read_checkpoint(found: Triggered) -> CheckpointArrival | None:
    """What follows 登记; None when the message has no plate, no count and no reading."""
    return parse_checkpoint(found.body, found.vocab)


def parse_checkpoint(body: str, vocab: Vocabulary) -> CheckpointArrival | None:
    plate_match = PLATE.search(body)
    plate = normalise_plate(plate_match) if plate_match else None
    rest = body[: plate_match.start()] + " " + body[plate_match.end() :] if plate_match else body
    problems: list[Problem] = []
    if plate is None and _PLATE_LIKE.search(body):
        problems.append(Problem("plate", texts.UNREADABLE_PLATE))
    readings = read_temperatures(rest)
    temperatures = readings.values
    if readings.unreadable:
        problems.append(Problem("temperatures", texts.UNREADABLE_TEMPERATURE))
    counts = [to_number(m[2]) for m in _PERSONS.finditer(rest) if not m[1]]
    persons_given = [int(c) for c in counts if isinstance(c, int | float)]
    if plate is None and not persons_given and not temperatures and not problems:
        return None
    persons = sum(persons_given) if persons_given else (len(temperatures) or None)
    if persons is not None and persons > MAX_PARTY:
        problems.append(Problem("persons", texts.too_many_persons(persons, MAX_PARTY)))
    origin = _first_place(_ORIGINS, rest)
    destination = _first_place(_DESTINATIONS, rest)
    if destination is not None:
        named = vocab.village_re.search(destination)
        if named:
            destination = vocab.village_names[named.group()]
    return CheckpointArrival(
        plate=plate,
        persons=persons,
        temperatures=tuple(temperatures),
        origin=origin,
        destination=destination,
        fever=any(t >= FEVER_AT for t in temperatures),
        key_area=vocab.is_key_area(origin),
        problems=tuple(problems),
    )


def _first_place(patterns: tuple[re.Pattern[str], ...], text: str) -> str | None:
    for pattern in patterns:
        match = pattern.search(text)
        if match:
            return match[1]
    return None
