"""The town's words compiled once: village names, field keywords and units, key areas.

The parser is a pure function of (text, context, vocabulary); building the vocabulary is the only
place the config is read, so a town that adds a field or a village changes no code.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from townconfig import FieldSpec, TownConfig

from .normalize import NUMBER, to_simplified

# Words between a keyword and its digits that change nothing: 返乡人员24人, 排查了229户, 发热共0人.
_LABEL_FILLER = "人员|人数|了|共|计"


def alternation(words: Iterable[str]) -> str:
    """A regex alternation that tries longer words first, so the most specific word wins."""
    unique = sorted({w for w in words if w}, key=lambda w: (-len(w), w))
    return "|".join(re.escape(w) for w in unique) or "(?!)"


@dataclass(frozen=True)
class Vocabulary:
    town: str
    fields: tuple[FieldSpec, ...]
    field_by_id: dict[str, FieldSpec]
    # Kept apart so that checking a report walks only what can apply to it.
    checked_fields: tuple[FieldSpec, ...]  # the fields with a ceiling (at_most) or a warn_below
    required_ids: tuple[str, ...]
    zero_report_ids: tuple[str, ...]  # the fields a bare 零报告 sets to 0
    keyword_field: dict[str, str]  # keyword → field id
    unit_fields: dict[str, frozenset[str]]  # unit word → ids of the fields it belongs to
    unit_re: str  # alternation of every unit word
    value_re: re.Pattern[str]  # a number and, where written, its unit
    value_before_re: re.Pattern[str]  # a counted number that ends just before a keyword
    # Every keyword and, in the common case, the digits right after it ("排查：86户"), in one pass.
    keyword_value_re: re.Pattern[str]
    village_names: dict[str, str]  # name or alias (simplified) → canonical name
    village_re: re.Pattern[str]
    checkpoint_names: dict[str, str]
    place_re: re.Pattern[str]  # villages and checkpoints
    key_areas: tuple[str, ...]
    bot_names: tuple[str, ...]

    @classmethod
    def from_config(cls, config: TownConfig) -> Vocabulary:
        fields = tuple(config.report_fields)
        keyword_field: dict[str, str] = {}
        unit_fields: dict[str, set[str]] = {}
        for spec in fields:
            for keyword in spec.keywords:
                keyword_field.setdefault(to_simplified(keyword), spec.id)
            for unit in spec.units:
                unit_fields.setdefault(unit, set()).add(spec.id)
        villages: dict[str, str] = {}
        for village in config.villages:
            for name in (village.name, *village.aliases):
                villages[to_simplified(name)] = village.name
        checkpoints = {to_simplified(cp.name): cp.name for cp in config.checkpoints}
        units = set(unit_fields) | {"人", "名", "个", "位"}
        unit_re = alternation(units)
        return cls(
            town=config.town.name,
            fields=fields,
            field_by_id={f.id: f for f in fields},
            checked_fields=tuple(f for f in fields if f.at_most or f.warn_below is not None),
            required_ids=tuple(f.id for f in fields if f.required),
            zero_report_ids=tuple(f.id for f in fields if f.zero_report),
            keyword_field=keyword_field,
            unit_fields={u: frozenset(ids) for u, ids in unit_fields.items()},
            unit_re=unit_re,
            value_re=re.compile(rf"(?P<num>{NUMBER})\s*(?P<unit>{unit_re})?"),
            keyword_value_re=re.compile(
                rf"(?P<kw>{alternation(keyword_field)})"
                rf"(?:[ :=]*(?:{_LABEL_FILLER})?[ :=]*(?P<neg>-)?(?P<num>[0-9]{{1,6}})(?![0-9.])"
                rf"[ ]*(?P<unit>{unit_re})?(?=(?P<after>.?)))?",
                re.DOTALL,
            ),
            value_before_re=re.compile(rf"(?P<num>{NUMBER})\s*(?P<unit>{unit_re})\s*(?:来自|从|是|为|自)?\s*$"),
            village_names=villages,
            village_re=re.compile(alternation(villages)),
            checkpoint_names=checkpoints,
            place_re=re.compile(alternation([*villages, *checkpoints])),
            key_areas=tuple(to_simplified(a) for a in config.town.key_areas),
            bot_names=tuple(to_simplified(b) for b in config.town.bot_names),
        )

    def canonical_place(self, name: str) -> str:
        """The config's spelling of a village or checkpoint; anything else as written."""
        return self.village_names.get(name) or self.checkpoint_names.get(name) or name

    def is_key_area(self, place: str | None) -> bool:
        return bool(place) and any(area in place for area in self.key_areas if place)
