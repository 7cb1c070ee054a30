"""The town's report for a day: what `villagebot report` prints and the deadline summary posts.

Built once as plain data (`TownReport`), then rendered as JSON, as Chinese text written the way the
town's own bulletin reads, or as a spreadsheet; so the three can never disagree.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from storage import Store

from . import texts
from .town import Town


@dataclass
class VillageLine:
    name: str
    reported: bool  # a complete report for the day
    late: bool
    fields: dict[str, Any]
    revisions: int
    missing_fields: list[str]


@dataclass
class TownReport:
    town: str
    day: dt.date
    campaign_start: dt.date | None
    villages: list[VillageLine]
    totals: dict[str, int]
    checkpoints: dict[str, int]
    checkpoint_alerts: list[dict[str, Any]]
    donations_today: list[dict[str, Any]]
    donations_cumulative: dict[str, Any]
    open_inspections: list[dict[str, Any]]
    inspections_opened_today: int
    notices: list[dict[str, Any]]
    cumulative: dict[str, Any]
    bulletin: str
    accountability: list[dict[str, Any]] = field(default_factory=list)
    audit: list[dict[str, Any]] | None = None  # only when asked for (villagebot report --audit)
    registry: dict[str, int] = field(default_factory=dict)  # people now under observation, per village
    labels: dict[str, str] = field(default_factory=dict)

    @property
    def missing(self) -> list[str]:
        return [v.name for v in self.villages if not v.reported]

    @property
    def incomplete(self) -> list[str]:
        return [v.name for v in self.villages if not v.reported and v.revisions]

    @property
    def late(self) -> list[str]:
        return [v.name for v in self.villages if v.late]

    def to_json(self) -> dict[str, Any]:
        return {
            "date": self.day.isoformat(),
            "town": self.town,
            "expected": len(self.villages),
            "reported_count": len(self.villages) - len(self.missing),
            "villages": [
                {
                    "name": v.name,
                    "reported": v.reported,
                    "late": v.late,
                    "fields": v.fields,
                    "missing_fields": v.missing_fields,
                    "revisions": v.revisions,
                }
                for v in self.villages
            ],
            "totals": self.totals,
            "missing": self.missing,
            "incomplete": self.incomplete,
            "late": self.late,
            "checkpoints": {**self.checkpoints, "alerts": self.checkpoint_alerts},
            "donations": {"today": self.donations_today, "cumulative": self.donations_cumulative},
            "inspections": {"opened_today": self.inspections_opened_today, "open": self.open_inspections},
            "notices": self.notices,
            "cumulative": self.cumulative,
            "bulletin": self.bulletin,
            "accountability": self.accountability,
            "people_under_observation": self.registry,
            **({"audit": self.audit} if self.audit is not None else {}),
        }


def _number(value: Decimal) -> int | float:
    return int(value) if value == value.to_integral_value() else float(value)


async def build_town_report(store: Store, town: Town, day: dt.date) -> TownReport:
    required = town.required
    reports = await store.reports.all_for_day(day, required)
    villages = []
    totals = {spec.id: 0 for spec in town.fields}
    for name in town.directory.village_names:
        report = reports.get(name)
        fields = dict(report.fields) if report else {}
        for key, value in fields.items():
            totals[key] = totals.get(key, 0) + int(value)
        villages.append(
            VillageLine(
                name=name,
                reported=bool(report and report.complete),
                late=bool(report and report.complete and report.late),
                fields=fields,
                revisions=report.revisions if report else 0,
                missing_fields=[f for f in required if f not in fields],
            )
        )
    checkpoint_totals = await store.checkpoints.totals(day, day)
    alerts = [
        {
            "id": e.id,
            "checkpoint": e.checkpoint,
            "plate": e.plate,
            "persons": e.persons,
            "temperatures": e.temperatures,
            "origin": e.origin,
            "destination": e.destination,
            "fever": e.fever,
            "key_area": e.key_area,
        }
        for e in await store.checkpoints.alerts(day)
    ]
    donations_today = [
        {
            "donor": d.donor,
            "organisation": d.organisation,
            "amount_yuan": _number(d.amount_yuan),
            "items": [{"name": i.name, "quantity": _number(i.quantity), "unit": i.unit} for i in d.items],
        }
        for d in await store.donations.on_day(day)
    ]
    start = town.config.town.campaign_start
    donation_totals = await store.donations.totals(start, day)
    goods = [
        {"name": name, "unit": unit, "quantity": _number(quantity)}
        for (name, unit), quantity in donation_totals.goods.items()
    ]
    donations_cumulative = {
        "donors": donation_totals.donors,
        "organisations": donation_totals.organisations,
        "people": donation_totals.people,
        "money_yuan": _number(donation_totals.money_yuan),
        "goods": goods,
    }
    open_items = [
        {"id": i.id, "place": i.place, "problem": i.problem, "opened": i.day.isoformat()}
        for i in await store.inspections.still_open()
        if i.day <= day
    ]
    notices = []
    for notice in await store.notices.on_day(day):
        counts = await store.notices.delivery_counts(notice.id)  # counted by the database: no row per group
        notices.append(
            {
                "id": notice.id,
                "body": notice.body,
                "groups": counts.groups,
                "delivered": counts.delivered,
                "failed": counts.failed,
                "pending": counts.pending,
                "ambiguous": counts.ambiguous,
                "acknowledged": await store.notices.acknowledgements(notice.id),
                # The villages it went to, in the town's order: those that did not acknowledge show as 0.
                "villages": await store.notices.delivered_villages(notice.id),
            }
        )
    first = start or day
    flows = [spec for spec in town.fields if not spec.stock]
    summed = await store.reports.totals_between(first, day, required)
    cumulative_checkpoints = await store.checkpoints.totals(first, day)
    cumulative = {
        "since": first.isoformat(),
        "fields": {spec.id: summed.get(spec.id, 0) for spec in flows},
        "checkpoints": vars(cumulative_checkpoints),
        "inspections_opened": await store.inspections.count_opened(first, day),
    }
    bulletin_parts = [
        spec.bulletin.format(n=summed.get(spec.id, 0)) for spec in town.fields if spec.bulletin and not spec.stock
    ]
    bulletin = texts.bulletin(
        bulletin_parts,
        vehicles=cumulative_checkpoints.vehicles,
        people=cumulative_checkpoints.people,
        donations=texts.donation_totals(
            organisations=donation_totals.organisations,
            people=donation_totals.people,
            money=texts.number(_number(donation_totals.money_yuan)),
            goods=[
                f"{name}{texts.number(_number(quantity))}{unit}"
                for (name, unit), quantity in donation_totals.goods.items()
            ],
        ),
    )
    accountability = [
        {"village": r.village, "missed_this_month": r.missed_this_month, "missed_in_a_row": r.in_a_row}
        for r in await store.missed_reports.accountability(day, town.directory.village_names)
        if r.missed_this_month
    ]
    registry_villages = await store.people.villages_with_registry()
    observing = await store.people.counts_observing()
    registry = {v: observing.get(v, 0) for v in town.directory.village_names if v in registry_villages}
    return TownReport(
        town=town.name,
        registry=registry,
        day=day,
        campaign_start=start,
        villages=villages,
        totals=totals,
        checkpoints=vars(checkpoint_totals),
        checkpoint_alerts=alerts,
        donations_today=donations_today,
        donations_cumulative=donations_cumulative,
        open_inspections=open_items,
        inspections_opened_today=await store.inspections.count_opened(day, day),
        notices=notices,
        cumulative=cumulative,
        bulletin=bulletin,
        accountability=accountability,
        labels={spec.id: spec.label for spec in town.fields},
    )


def acknowledgements(notice: dict[str, Any]) -> list[tuple[str, int]]:
    """(village, people who acknowledged) for every village the notice went to, silent ones as 0:
    a leader reading the report must see who has not answered, not only who has."""
    counts: dict[str, int] = notice["acknowledged"]
    return [(village, counts.get(village, 0)) for village in notice["villages"]]


def render_text(report: TownReport) -> str:
    """The report as the town office reads it aloud: figures per village, who is missing, totals."""
    lines = [f"{report.town}疫情防控日报（{texts.day_label(report.day)}）"]
    expected, missing = len(report.villages), report.missing
    lines.append(f"应报 {expected} 个，实报 {expected - len(missing)} 个，未报 {len(missing)} 个")
    if missing:
        lines.append("未报：" + texts.joined(missing))
    if report.incomplete:
        lines.append("未报全：" + texts.joined(report.incomplete))
    if report.late:
        lines.append("迟报：" + texts.joined(report.late))
    lines.append("")
    for village in report.villages:
        if village.fields:
            lines.append(f"{village.name}：{texts.figures([(report.labels[k], v) for k, v in village.fields.items()])}")
        else:
            lines.append(f"{village.name}：未报")
        registered = report.registry.get(village.name)
        reported = village.fields.get("under_observation")
        if registered is not None and reported is not None and registered != reported:
            lines.append("  " + texts.registry_mismatch(reported, registered))
    lines.append("")
    lines.append("合计：" + texts.figures([(report.labels[k], v) for k, v in report.totals.items()]))
    cp = report.checkpoints
    lines.append(
        f"卡点：登记 {cp['entries']} 次，车辆 {cp['vehicles']} 辆，人员 {cp['people']} 人，"
        f"发热 {cp['fevers']} 人，重点地区来人 {cp['key_area_arrivals']} 次"
    )
    if report.open_inspections:
        lines.append("未整改督查问题：")
        lines += [f"  #{i['id']} {i['place']}：{i['problem']}" for i in report.open_inspections]
    for notice in report.notices:
        lines.append(f"通知 #{notice['id']}：已送达 {notice['delivered']}/{notice['groups']} 个群")
        lines.append("  " + texts.acknowledgement_counts(acknowledgements(notice)))
    if report.accountability:
        lines.append("问责记录（截至当日）：")
        lines.append(
            texts.accountability_lines(
                [(a["village"], a["missed_this_month"], a["missed_in_a_row"]) for a in report.accountability]
            )
        )
    lines.append("")
    lines.append(report.bulletin)
    if report.audit:
        lines.append("")
        lines.append("操作记录：")
        lines += [f"  {a['at']} {a['actor']} {a['action']} {a['subject']}" for a in report.audit]
    return "\n".join(lines) + "\n"
