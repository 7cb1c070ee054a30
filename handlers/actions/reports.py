"""Daily reports: store what is valid, echo it back, ask for exactly what is missing or wrong.

An edited report (the head fixed a typo by editing the message) replaces the figures that message
stored, in place, for the day it counted for: corrections sent after it still apply, and the audit
log has the edit (`edit_report`, before and after), as it has a 更正.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from storage.models import ReportRevision

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
    report = result.payload
    village = report.village
    if village is None:
        await turn.reply(texts.no_village_for_report())
        return
    action = Action.CORRECT if report.correction else Action.REPORT
    reporter = ""  # named in the reply when the village has no registered head to answer for it
    if not allowed(action, turn.speaker.role, for_village=village, heads_of=turn.speaker.heads_of):
        if not await _may_report_for_a_village_without_heads(turn, village):
            await turn.reply(texts.not_your_village(village) if turn.speaker.role == "head" else texts.not_a_reporter())
            return
        reporter = turn.message.sender_name or turn.speaker.id
    turn.named_day = report.date
    if turn.message.edited_at is not None and report.figures:
        earlier = await _stored_by_this_message(turn, village)
        if earlier is not None:
            await _replace_edited(turn, report, earlier)
            return
    before = await turn.report_day(village)
    after = (
        await turn.add_report_revision(village, dict(report.figures), correction=report.correction, before=before)
        if report.figures
        else before
    )
    summary = _summary(turn, report, before.fields, after.fields, replaced=before.complete, complete=after.complete)
    if reporter and summary:
        summary += texts.reported_by(reporter)
    await _answer(turn, report, summary, after.fields)


async def _may_report_for_a_village_without_heads(turn: Turn, village: str) -> bool:
    """A town set up from its village list alone has no heads yet: until it has, a member of the
    village's own group may send its 日报 (the parser reads a report without 日报 only from a head).
    The leaders are told once per village that it reports without a registered head."""
    target = turn.target
    if turn.speaker.role != "resident" or target.kind != "village" or target.village != village:
        return False
    if await turn.town.directory.heads_of_village(turn.store, village):
        return False
    if not await turn.store.audit.any_of("report_without_head", village):
        await turn.store.audit.record(
            actor=turn.speaker.id, action="report_without_head", subject=village, at=turn.message.at
        )
        await turn.tell_leaders(texts.village_without_head(village), purpose="alert")
    return True


async def _answer(turn: Turn, report: ReportFigures, summary: str, fields: Mapping[str, Any]) -> None:
    """The reply: the summary, then what was refused or looks odd, then a registry that disagrees."""
    store, village = turn.store, report.village or ""
    lines = [summary]
    if report.problems:
        lines.append(texts.report_problems([p.message for p in report.problems]))
    if report.warnings:
        lines.append(texts.report_warnings([w.message for w in report.warnings]))
    if "under_observation" in report.figures and village in await store.people.villages_with_registry():
        registered = (await store.people.counts_observing()).get(village, 0)
        if registered != fields.get("under_observation"):
            lines.append(texts.registry_mismatch(fields["under_observation"], registered))
    await turn.reply("\n".join(line for line in lines if line))


async def _stored_by_this_message(turn: Turn, village: str) -> ReportRevision | None:
    """The figures the edited message stored when it was sent (or last edited) for the village's
    day: the revision from its chat, by its sender, dated when it was sent (an edit keeps that date)."""
    message = turn.message
    mine = [
        revision
        for revision in await turn.store.reports.revisions(village, turn.day)
        if (revision.chat, revision.reported_by, revision.reported_at) == (message.chat, turn.speaker.id, message.at)
    ]
    return mine[-1] if mine else None


async def _replace_edited(turn: Turn, report: ReportFigures, earlier: ReportRevision) -> None:
    """The edit's figures in place of what the message stored; the reply says what changed."""
    town, village = turn.town, report.village or ""
    old, new = dict(earlier.fields), dict(report.figures)
    await turn.store.reports.replace_fields(earlier, new, turn.town.required)  # the summaries follow
    after = await turn.report_day(village)
    await turn.store.audit.record(
        actor=turn.speaker.id,
        action="edit_report",
        subject=f"{village} {turn.day.isoformat()}",
        at=turn.message.edited_at or turn.message.at,
        before=old,
        after=new,
    )
    changes = [
        (spec.label, _shown_value(old, spec.id), _shown_value(new, spec.id))
        for spec in town.fields
        if old.get(spec.id) != new.get(spec.id)
    ]
    missing = [town.label(f) for f in town.required if f not in after.fields]
    summary = texts.report_edited(village, turn.day, changes, shown_figures(town, after.fields), missing)
    await _answer(turn, report, summary, after.fields)


def _shown_value(fields: Mapping[str, Any], key: str) -> str:
    return texts.number(fields[key]) if key in fields else "—"


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
