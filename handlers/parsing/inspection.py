"""An inspection finding (督查): the place and the problem to rectify."""

from __future__ import annotations

import re

from .result import ParseResult
from .vocabulary import Vocabulary

_PLACE = re.compile(r"^[\s:,]*(?P<place>[^\s:,]+)[\s:,]*(?P<problem>.*)$", re.DOTALL)


def parse_inspection(body: str, vocab: Vocabulary) -> ParseResult | None:
    match = _PLACE.match(body)
    if match is None:
        return None
    place, problem = match["place"], match["problem"].strip()
    known = vocab.place_re.match(place)
    if known and known.end() < len(place):  # "五星村垃圾未清运": the place is the known name
        place, problem = known.group(), f"{place[known.end() :]} {problem}".strip()
    if not problem:
        return None  # "督查" alone, or a place with nothing found there
    return ParseResult(kind="inspection", fields={"place": vocab.canonical_place(place), "problem": problem})
