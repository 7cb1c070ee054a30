"""What the page shows, worked out from the TownReport: the template only lays it out.

A village's row says its state in words as well as in colour (未报, 未报全, 迟报), so the table reads
the same printed in black and white or to someone who cannot tell red from orange.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from handlers import texts
from handlers.town_report import TownReport, acknowledgements
from townconfig import FieldSpec

from .trends import TrendDay

LABELS = texts.WEB_LABELS


@dataclass
class Cell:
    value: str
    flag: str = ""  # a difference from the registry, said in words


@dataclass
class Row:
    village: str
    state: str  # the CSS class: reported, late, incomplete, missing
    status: str
    cells: list[Cell]

    @property
    def flagged(self) -> bool:
        """A figure differs from the registry: the status says so too, for a phone that shows only
        the first columns."""
        return any(cell.flag for cell in self.cells)


def _shown(value: Any) -> str:
    return "" if value is None else texts.number(value)


def _row(report: TownReport, index: int, field_ids: list[str]) -> Row:
    village = report.villages[index]
    if village.reported:
        state = "late" if village.late else "reported"
    else:
        state = "incomplete" if village.revisions else "missing"
    cells = []
    for field_id in field_ids:
        cell = Cell(_shown(village.fields.get(field_id)))
        registered = report.registry.get(village.name)
        reported = village.fields.get(field_id)
        differs = registered is not None and reported is not None and registered != reported
        if field_id == "under_observation" and registered is not None and differs:
            cell.flag = texts.web_registry_mismatch(registered)
        cells.append(cell)
    return Row(village.name, state, LABELS[f"status_{state}"], cells)


def page_context(
    report: TownReport, trend: list[TrendDay], fields: list[FieldSpec], *, today: dt.date
) -> dict[str, Any]:
    field_ids = [spec.id for spec in fields]
    cp = report.checkpoints
    day = report.day
    cumulative = report.donations_cumulative
    return {
        "report": report,
        "title": f"{report.town}{LABELS['page_title']}（{texts.day_label(day)}）",
        "day": day.isoformat(),
        "previous_day": (day - dt.timedelta(days=1)).isoformat(),
        "next_day": (day + dt.timedelta(days=1)).isoformat() if day < today else None,
        "counts": texts.web_counts(
            len(report.villages), len(report.villages) - len(report.missing), len(report.missing), len(report.late)
        ),
        "field_labels": [report.labels[f] for f in field_ids],
        "rows": [_row(report, i, field_ids) for i in range(len(report.villages))],
        "totals": [texts.number(report.totals.get(f, 0)) for f in field_ids],
        "checkpoints": texts.web_checkpoints(
            cp["entries"], cp["vehicles"], cp["people"], cp["fevers"], cp["key_area_arrivals"]
        ),
        "alerts": report.checkpoint_alerts,
        "trend": [
            {
                "day": texts.day_label(d.day),
                "figures": [texts.number(d.fields.get(f, 0)) for f in field_ids]
                + [str(d.checkpoints.vehicles), str(d.checkpoints.people), str(d.checkpoints.fevers)],
            }
            for d in reversed(trend)  # the newest first: a phone shows the top without scrolling
        ],
        "trend_labels": [report.labels[f] for f in field_ids]
        + [LABELS["checkpoint_vehicles"], LABELS["checkpoint_people"], LABELS["checkpoint_fevers"]],
        "donations_today": [
            {
                "donor": d["donor"],
                "kind": LABELS["organisation"] if d["organisation"] else LABELS["person"],
                "money": texts.number(d["amount_yuan"]),
                "goods": texts.joined(f"{i['name']}{texts.number(i['quantity'])}{i['unit']}" for i in d["items"]),
            }
            for d in report.donations_today
        ],
        "donations_cumulative": texts.web_donations_cumulative(
            cumulative["donors"],
            texts.number(cumulative["money_yuan"]),
            [f"{g['name']}{texts.number(g['quantity'])}{g['unit']}" for g in cumulative["goods"]],
        ),
        "inspections": report.open_inspections,
        "notices": [
            {
                "id": n["id"],
                "body": n["body"],
                "delivery": texts.web_delivery(n["delivered"], n["groups"], n["failed"], n["pending"]),
                "receipts": acknowledgements(n),
            }
            for n in report.notices
        ],
        "accountability": [
            line.strip()
            for line in texts.accountability_lines(
                [(a["village"], a["missed_this_month"], a["missed_in_a_row"]) for a in report.accountability]
            ).splitlines()
        ],
    }
