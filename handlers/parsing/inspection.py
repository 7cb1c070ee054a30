"""An inspection finding (督查): the place and the problem to rectify."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from .kinds import Triggered
from .result import plain_json

_PLACE = re.compile(r"^[\s:,]*(?P<place>[^\s:,]+)[\s:,]*(?P<problem>.*)$", re.DOTALL)


@dataclass(frozen=True)
class InspectionFinding:
    place: str  # a village's or checkpoint's canonical name when it is one of the town's
    problem: str

    def to_json(self) -> dict[str, Any]:
        return plain_json({"place": self.place, "problem": self.problem})


def read_inspection(found: Triggered) -> InspectionFinding | None:
    vocab = found.vocab
    match = _PLACE.match(found.body)
    if match is None:
        return None
    place, problem = match["place"], match["problem"].strip()
    known = vocab.place_re.match(place)
    if known and known.end() < len(place):  # "五星村垃圾未清运": the place is the known name
        place, problem = known.group(), f"{place[known.end() :]} {problem}".strip()
    if not problem:
        return None  # "督查" alone, or a place with nothing found there
    return InspectionFinding(vocab.canonical_place(place), problem)
