"""The leaders' 14-day trends: under observation, new returnees, fevers, checkpoint vehicles and
people, disinfection rounds, one small chart each.

`build_trend` reads the kept-up summaries (one row per day and field, one per day of checkpoint
figures: O(days) rows however long the campaign has run); `trend_png` draws the model. The
report's fields are the town's: a field the town's template does not have is left out, and each
chart is titled with the town's own label for it.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass

from storage import Store

from .. import texts
from ..town import Town
from .canvas import font, new_figure, png_bytes

TREND_DAYS = 14
#: The report fields the trend shows, by their ids in the town's template, in this order.
TREND_FIELDS = ("under_observation", "returnees", "fever", "disinfections")
CHECKPOINT_SERIES = (("checkpoint_vehicles", "vehicles", texts.TREND_VEHICLES),
                     ("checkpoint_people", "people", texts.TREND_PEOPLE))  # fmt: skip


@dataclass(frozen=True)
class TrendSeries:
    key: str  # the field's id, or checkpoint_vehicles / checkpoint_people
    label: str
    values: tuple[int | None, ...]  # one per day; None: before the campaign began


@dataclass(frozen=True)
class Trend:
    town: str
    days: tuple[dt.date, ...]
    series: tuple[TrendSeries, ...]

    @property
    def first(self) -> dt.date:
        return self.days[0]

    @property
    def last(self) -> dt.date:
        return self.days[-1]


async def build_trend(store: Store, town: Town, last: dt.date, days: int = TREND_DAYS) -> Trend:
    """The `days` days up to `last`, from the summaries. A day with no report counts 0 (nothing was
    reported), except days before the campaign began, which have no value."""
    first = last - dt.timedelta(days=days - 1)
    span = tuple(first + dt.timedelta(days=i) for i in range(days))
    start = town.config.town.campaign_start
    fields = await store.reports.totals_by_day(first, last, town.required)
    checkpoints = await store.checkpoints.totals_by_day(first, last)

    def counted(day: dt.date, value: int) -> int | None:
        return None if start is not None and day < start else value

    labels = {spec.id: spec.label for spec in town.fields}
    series = [
        TrendSeries(key, labels[key], tuple(counted(d, fields.get(d, {}).get(key, 0)) for d in span))
        for key in TREND_FIELDS
        if key in labels
    ]
    for key, name, label in CHECKPOINT_SERIES:
        values = tuple(counted(d, getattr(checkpoints[d], name) if d in checkpoints else 0) for d in span)
        series.append(TrendSeries(key, label, values))
    return Trend(town.name, span, tuple(series))


def trend_file_name(trend: Trend) -> str:
    return f"{trend.town}趋势_{trend.first.isoformat()}_{trend.last.isoformat()}.png"


# --- drawing ------------------------------------------------------------------------------------

COLOURS = ("#c0392b", "#2471a3", "#d35400", "#138d75", "#7d3c98", "#5d6d7e")
PANEL_WIDTH, PANEL_HEIGHT = 540.0, 250.0  # pixels
TITLE, LABEL, TICK = 24.0, 17.0, 13.0


def trend_png(trend: Trend) -> bytes:
    """The trends as a PNG: two charts a row, each with its last value written at its end."""
    from matplotlib.ticker import MaxNLocator

    columns = 2
    rows = max(1, math.ceil(len(trend.series) / columns))
    header = 70.0
    width, height = PANEL_WIDTH * columns, header + PANEL_HEIGHT * rows
    figure = new_figure(width, height)
    figure.text(0.02, 1 - 20 / height, texts.trend_title(trend.town, trend.first, trend.last),
                fontproperties=font(TITLE), va="top", color="#102a43")  # fmt: skip
    label_font, tick_font = font(LABEL), font(TICK)
    positions = list(range(len(trend.days)))
    ticks = positions[:: max(1, len(positions) // 7)]
    if positions[-1] not in ticks:
        ticks.append(positions[-1])
    for index, series in enumerate(trend.series):
        row, column = divmod(index, columns)
        left = (column * PANEL_WIDTH + 55) / width
        bottom = 1 - (header + (row + 1) * PANEL_HEIGHT - 35) / height
        axes = figure.add_axes((left, bottom, (PANEL_WIDTH - 85) / width, (PANEL_HEIGHT - 85) / height))
        colour = COLOURS[index % len(COLOURS)]
        values = [math.nan if v is None else v for v in series.values]
        axes.plot(positions, values, color=colour, linewidth=2.2, marker="o", markersize=4)
        axes.set_title(series.label, fontproperties=label_font, loc="left", color=colour)
        known = [(i, v) for i, v in enumerate(series.values) if v is not None]
        if known:
            at, value = known[-1]
            axes.annotate(texts.number(value), (at, value), xytext=(6, 4), textcoords="offset points",
                          fontproperties=label_font, color=colour)  # fmt: skip
        top = max((v for _, v in known), default=0)
        axes.set_ylim(0, max(1, top) * 1.25)
        axes.set_xlim(-0.5, len(positions) - 0.5)
        axes.yaxis.set_major_locator(MaxNLocator(nbins=4, integer=True))
        axes.set_xticks(ticks, [f"{trend.days[i].month}/{trend.days[i].day}" for i in ticks])
        for tick in (*axes.get_xticklabels(), *axes.get_yticklabels()):
            tick.set_fontproperties(tick_font)
        axes.grid(axis="y", color="#e3e8ee", linewidth=0.8)
        for side in ("top", "right"):
            axes.spines[side].set_visible(False)
    return png_bytes(figure)
