"""The county's report for a day, made of each town's TownReport: what `villagebot report --county`
prints and what the county summary will post.

Nothing here reads the database: each town's report is built in its own schema (handlers/town_report.py)
and only put side by side here, so a town's figures mean in the county exactly what they mean in the town.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from . import texts
from .town_report import TownReport


@dataclass
class CountyReport:
    county: str
    day: dt.date
    towns: list[tuple[str, TownReport]]  # (town id, its report), in the county file's order

    @property
    def expected(self) -> int:
        return sum(len(r.villages) for _, r in self.towns)

    @property
    def reported(self) -> int:
        return sum(len(r.villages) - len(r.missing) for _, r in self.towns)

    @property
    def totals(self) -> dict[str, int]:
        """Each figure summed over the towns (a town lacking a field adds nothing to it)."""
        summed: dict[str, int] = {}
        for _, report in self.towns:
            for field_id, value in report.totals.items():
                summed[field_id] = summed.get(field_id, 0) + value
        return summed

    @property
    def labels(self) -> dict[str, str]:
        labels: dict[str, str] = {}
        for _, report in self.towns:
            for field_id, label in report.labels.items():
                labels.setdefault(field_id, label)
        return labels

    def to_json(self) -> dict[str, Any]:
        return {
            "date": self.day.isoformat(),
            "county": self.county,
            "expected": self.expected,
            "reported_count": self.reported,
            "totals": self.totals,
            "towns": [
                {
                    "id": town_id,
                    "town": report.town,
                    "expected": len(report.villages),
                    "reported_count": len(report.villages) - len(report.missing),
                    "missing": report.missing,
                    "totals": report.totals,
                    "checkpoint_alerts": report.checkpoint_alerts,
                    "notices": [
                        {"id": n["id"], "delivered": n["delivered"], "groups": n["groups"]} for n in report.notices
                    ],
                }
                for town_id, report in self.towns
            ],
        }


def render_county_text(report: CountyReport) -> str:
    """The county's day in a few lines a town by town: who is missing, the county's totals."""
    labels = report.labels
    lines = [texts.county_report_title(report.county, texts.day_label(report.day))]
    lines.append(texts.county_report_counts(report.expected, report.reported))
    for _, town in report.towns:
        expected, missing = len(town.villages), town.missing
        lines.append(texts.county_report_town(town.town, expected, expected - len(missing), missing))
        for alert in town.checkpoint_alerts:
            lines.append("  " + texts.county_report_alert(alert.get("checkpoint") or "", alert.get("persons") or 0))
        for notice in town.notices:
            lines.append("  " + texts.county_report_notice(notice["id"], notice["delivered"], notice["groups"]))
    lines.append(texts.county_report_totals(texts.figures([(labels[k], v) for k, v in report.totals.items()])))
    return "\n".join(lines) + "\n"
