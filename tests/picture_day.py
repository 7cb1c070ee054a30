"""A known day for the pictures: the example town's template, `villages` villages, some missing,
some late, one whose 居家观察 differs from the registry. Built as a TownReport, as the database
would give it, so that the pictures are tested on exactly what the deadline summary draws."""

from __future__ import annotations

import datetime as dt

from handlers.town_report import TownReport, VillageLine
from townconfig import example_town

DAY = dt.date(2020, 2, 17)
NAMES = ["五星村", "王岘村", "雒家滩村", "红星村", "新华村", "金山村", "柳树村", "东风社区", "西沟村", "石门村",
         "杨家庄村", "马家湾村", "白土岘村", "黄河社区", "上川村", "下川村", "南山村", "北山村", "大庄村", "小庄村"]  # fmt: skip


def known_day(villages: int = 8) -> TownReport:
    config = example_town()
    labels = {spec.id: spec.label for spec in config.fields}
    required = [spec.id for spec in config.fields if spec.required]
    lines = []
    for index, name in enumerate(NAMES[:villages]):
        fields = {
            "households_visited": 80 + 13 * index, "returnees": index % 4, "high_risk_returnees": index % 2 and 1,
            "under_observation": 10 + index, "fever": int(index == 4), "disinfections": 2 + index % 2,
        }  # fmt: skip
        if index % 5 == 0:
            fields["signs"] = 3
        if index % 7 == 3:  # missing
            lines.append(VillageLine(name, False, False, {}, 0, list(required)))
        elif index % 7 == 5:  # started, not complete
            partial = {"households_visited": fields["households_visited"], "returnees": fields["returnees"]}
            lines.append(VillageLine(name, False, False, partial, 1, [f for f in required if f not in partial]))
        else:
            lines.append(VillageLine(name, True, index % 6 == 2, fields, 1, []))
    totals = {spec_id: 0 for spec_id in labels}
    for line in lines:
        for key, value in line.fields.items():
            totals[key] += value
    return TownReport(
        town=config.town.name, day=DAY, campaign_start=config.town.campaign_start, villages=lines, totals=totals,
        checkpoints={"entries": 0, "vehicles": 0, "people": 0, "fevers": 0, "key_area_arrivals": 0},
        checkpoint_alerts=[], donations_today=[], donations_cumulative={}, open_inspections=[],
        inspections_opened_today=0, notices=[], cumulative={}, bulletin="",
        registry={NAMES[0]: 12, NAMES[1]: 11}, labels=labels,
    )  # fmt: skip
