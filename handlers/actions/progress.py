"""Help and today's progress: the two things anyone in a group may ask the bot for."""

from __future__ import annotations

from collections.abc import Sequence

from .. import texts
from ..commands import Command
from ..town import Town
from ..turn import Turn


def template_and_example(town: Town) -> tuple[str, str]:
    """The report template and a filled-in example, both from the town's own field list."""
    template, example = [], []
    for index, spec in enumerate(town.fields):
        unit = spec.units[0] if spec.units else ""
        flag = "" if spec.required else "（选填）"
        template.append(f"{spec.label}：X{unit}{flag}")
        sample = min(spec.max, max(spec.min, (spec.warn_below or 0), [120, 3, 1, 12, 0, 2, 3, 200, 1][index % 9]))
        example.append(f"{spec.label}{sample}{unit}")
    return "\n".join(template), "日报 " + "，".join(example)


async def send_help(turn: Turn, lines: Sequence[str]) -> None:
    """The template and an example, then `lines`: one for each thing the bot understands."""
    template, example = template_and_example(turn.town)
    deadline = turn.town.config.schedule.deadline.strftime("%H:%M")
    await turn.reply(texts.help_text(template, example, deadline, lines))


async def send_status(turn: Turn, command: Command) -> None:
    town = turn.town
    reports = await turn.store.reports.all_for_day(turn.day, town.required)
    reported, incomplete, missing, late = [], [], [], []
    for village in town.directory.village_names:
        day_report = reports.get(village)
        if day_report is None:
            missing.append(village)
        elif day_report.complete:
            reported.append(village)
            if day_report.late:
                late.append(village)
        else:
            incomplete.append(village)
    await turn.reply(texts.status_text(turn.day, reported, incomplete, missing, late))
