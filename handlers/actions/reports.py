"""Daily reports: store what is valid, echo it back, ask for exactly what is missing or wrong."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .. import texts
from ..parsing import ParseResult
from ..parsing.daily_report import ReportFigures
from ..permissions import Action, allowed
from ..town import Town
from ..turn import Turn


def shown_figures(town: Town, fields: Mapping[str, Any]) -> str:
    """The figures in the template's order, with the town's labels and units."""
    parts = []
    for spec in town.fields:
        if spec.id in fields:
            unit = spec.units[0] if spec.units else ""
            parts.append(f"{spec.label}{texts.number(fields[spec.id])}{unit}")
    return "，".join(parts)


async def record_daily_report(turn: Turn, result: ParseResult[ReportFigures]) -> None:
    store = turn.store
    report = result.payload
    village = report.village
    if village is None:
        await turn.reply(texts.no_village_for_report())
        return
    action = Action.CORRECT if report.correction else Action.REPORT
    if not allowed(action, turn.speaker.role, for_village=village, heads_of=turn.speaker.heads_of):
        await turn.reply(texts.not_your_village(village) if turn.speaker.role == "head" else texts.not_a_reporter())
        return
    turn.named_day = report.date
    before = await turn.report_day(village)
    after = (
        await turn.add_report_revision(village, dict(report.figures), correction=report.correction, before=before)
        if report.figures
        else before
    )
    lines = [_summary(turn, report, before.fields, after.fields, replaced=before.complete, complete=after.complete)]
    if report.problems:
        lines.append(texts.report_problems([p.message for p in report.problems]))
    if report.warnings:
        lines.append(texts.report_warnings([w.message for w in report.warnings]))
    if "under_observation" in report.figures and village in await store.people.villages_with_registry():
        registered = (await store.people.counts_observing()).get(village, 0)
        if registered != after.fields.get("under_observation"):
            lines.append(texts.registry_mismatch(after.fields["under_observation"], registered))
    await turn.reply("\n".join(line for line in lines if line))


def _summary(
    turn: Turn, report: ReportFigures, old: dict[str, Any], new: dict[str, Any], *, replaced: bool, complete: bool
) -> str:
    town, village, day = turn.town, report.village or "", turn.day
    shown = shown_figures(town, new)
    if not report.figures:
        return ""  # every value was rejected: the problems say why
    if report.correction:
        changes = [
            (town.label(key), texts.number(old[key]) if key in old else "—", texts.number(value))
            for key, value in report.figures.items()
        ]
        return texts.correction_done(village, day, changes, shown)
    if complete:
        whole = not report.missing  # this message alone was a full report
        return texts.report_received(village, day, shown, late=turn.late, replaced=replaced and whole)
    missing = [town.label(f) for f in town.required if f not in new]
    return texts.report_incomplete(village, day, shown, missing)
