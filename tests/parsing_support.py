"""Shared helpers for the parser tests: one parser for the example town, and a short way to call it."""

from __future__ import annotations

import datetime as dt
from typing import Any

from handlers.parsing import MessageContext, Role, Vocabulary
from handlers.registry import message_parser
from townconfig import example_town

VILLAGES = ("五星村", "王岘村", "雒家滩村", "红星村", "新华村", "金山村", "柳树村", "东风社区")
REQUIRED = ("households_visited", "returnees", "under_observation", "fever", "disinfections")
# The spec's own example: a complete report with every required field.
FULL_REPORT = "日报 入户排查120户，返乡3人，居家观察12人，发热0人，消毒2次"
FULL_FIELDS = {"households_visited": 120, "returnees": 3, "under_observation": 12, "fever": 0, "disinfections": 2}

PARSER = message_parser(Vocabulary.from_config(example_town()))


def parse(
    text: str, village: str | None = "五星村", role: Role = "head", *, today: dt.date | None = None
) -> dict[str, Any]:
    """What `villagebot parse` would print for this message, as a dict."""
    return PARSER.parse(text, MessageContext(village=village, role=role, today=today)).to_json()


def problem_fields(result: dict[str, Any]) -> set[str]:
    return {p["field"] for p in result.get("problems", [])}


def warning_fields(result: dict[str, Any]) -> set[str]:
    return {w["field"] for w in result.get("warnings", [])}
