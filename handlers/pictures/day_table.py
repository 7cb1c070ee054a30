"""The day's table as an image: a row per village, a column per field, totals at the bottom.

`day_table` builds the plain model (texts, numbers, shades) from the TownReport that the JSON
and the text are rendered from; `day_table_png` draws it. Missing villages are red, late ones
orange, and a 居家观察 figure that differs from the registry of people under observation is
flagged with the registered number beside it, as the text report words it.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from .. import texts
from ..town_report import TownReport
from .canvas import font, new_figure, png_bytes, text_width

#: The most village rows a picture lists: beyond it (a county-sized town) the picture keeps the
#: villages that need looking at, and the spreadsheet has every one; a thousand rows would take
#: seconds and hundreds of MB to draw and could not be read on a phone.
MAX_ROWS = 60

#: The field the registry of people under observation is compared with (as the text report does).
REGISTRY_FIELD = "under_observation"


class Shade(enum.StrEnum):
    PLAIN = "plain"
    MISSING = "missing"  # not reported, or not complete
    LATE = "late"
    MISMATCH = "mismatch"  # differs from the registry
    TOTAL = "total"


@dataclass(frozen=True)
class TableCell:
    text: str
    value: int | float | None = None  # the figure shown, as in the report; None for an empty cell
    shade: Shade = Shade.PLAIN


@dataclass(frozen=True)
class TableRow:
    name: str
    status: str
    shade: Shade  # the row's colour
    cells: tuple[TableCell, ...]  # one per field, in the table's order


@dataclass(frozen=True)
class DayTable:
    title: str
    subtitle: str
    field_ids: tuple[str, ...]
    headers: tuple[str, ...]  # the fields' labels, in the same order
    rows: tuple[TableRow, ...]
    totals: TableRow


def day_table(report: TownReport) -> DayTable:
    """The table's model: every number in it is the report's own."""
    field_ids = tuple(report.labels) or tuple(report.totals)
    rows = []
    for village in report.villages:
        if not village.reported:
            status, shade = (texts.TABLE_INCOMPLETE if village.revisions else texts.TABLE_MISSING), Shade.MISSING
        elif village.late:
            status, shade = texts.TABLE_LATE, Shade.LATE
        else:
            status, shade = texts.TABLE_REPORTED, Shade.PLAIN
        cells = []
        for field in field_ids:
            value = village.fields.get(field)
            if value is None:
                missing = village.revisions and field in village.missing_fields
                cells.append(TableCell(texts.TABLE_FIELD_MISSING if missing else "", None, shade))
                continue
            registered = report.registry.get(village.name)
            if field == REGISTRY_FIELD and registered is not None and registered != value:
                cells.append(TableCell(texts.table_registry_cell(value, registered), value, Shade.MISMATCH))
            else:
                cells.append(TableCell(texts.number(value), value, shade))
        rows.append(TableRow(village.name, status, shade, tuple(cells)))
    subtitle = texts.table_counts(len(report.villages), len(report.villages) - len(report.missing), len(report.late))
    if len(rows) > MAX_ROWS:
        attention = [r for r in rows if r.shade is not Shade.PLAIN or any(c.shade is Shade.MISMATCH for c in r.cells)]
        on_time = len(rows) - len(attention)
        rows = attention[:MAX_ROWS]
        subtitle += texts.table_rows_left_out(on_time, len(attention) - len(rows))
    totals = TableRow(
        texts.TABLE_TOTAL_ROW,
        f"{len(report.villages) - len(report.missing)}/{len(report.villages)}",
        Shade.TOTAL,
        tuple(
            TableCell(texts.number(report.totals.get(f, 0)), report.totals.get(f, 0), Shade.TOTAL) for f in field_ids
        ),
    )
    return DayTable(
        title=texts.table_title(report.town, report.day),
        subtitle=subtitle,
        field_ids=field_ids,
        headers=tuple(report.labels.get(f, f) for f in field_ids),
        rows=tuple(rows),
        totals=totals,
    )


def table_file_name(report: TownReport) -> str:
    return f"{report.town}日报_{report.day.isoformat()}.png"


# --- drawing ------------------------------------------------------------------------------------

FILLS = {
    Shade.PLAIN: "#ffffff",
    Shade.MISSING: "#f8d3cf",
    Shade.LATE: "#fde0b6",
    Shade.MISMATCH: "#e2d3f2",
    Shade.TOTAL: "#dde6ee",
}
INKS = {
    Shade.PLAIN: "#1f2328",
    Shade.MISSING: "#b3261e",
    Shade.LATE: "#9a4a00",
    Shade.MISMATCH: "#4a148c",
    Shade.TOTAL: "#102a43",
}
HEADER_FILL, HEADER_INK, GRID = "#34495e", "#ffffff", "#b8c2cc"
TEXT, SMALL, TITLE = 17.0, 14.0, 24.0  # pixels
ROW, PAD, MARGIN = 38.0, 14.0, 20.0
HEADER_CHARS = 4  # a label longer than this is written on two lines


def _header_lines(label: str) -> str:
    if len(label) <= HEADER_CHARS:
        return label
    half = (len(label) + 1) // 2
    return f"{label[:half]}\n{label[half:]}"


def day_table_png(report: TownReport) -> bytes:
    """The day's table as a PNG (a phone-width picture: about 1100 pixels wide for nine fields)."""
    return draw_table(day_table(report))


def draw_table(table: DayTable) -> bytes:
    from matplotlib.collections import PatchCollection
    from matplotlib.patches import Rectangle

    headers = [texts.TABLE_VILLAGE_HEADER, *(_header_lines(h) for h in table.headers), texts.TABLE_STATUS_HEADER]
    lines = [[row.name, *(c.text for c in row.cells), row.status] for row in (*table.rows, table.totals)]
    widths = [
        max(
            max(text_width(part, SMALL) for part in header.split("\n")),
            *(text_width(line[index], TEXT) for line in lines),
        )
        + 2 * PAD
        for index, header in enumerate(headers)
    ]
    header_height = ROW * (1.6 if any("\n" in h for h in headers) else 1.0)
    table_width = sum(widths)
    top = MARGIN + TITLE * 1.5 + SMALL * 1.8
    height = top + header_height + ROW * len(lines) + MARGIN + SMALL * 2.2
    width = max(table_width + 2 * MARGIN, text_width(table.title, TITLE) + 2 * MARGIN)
    figure = new_figure(width, height)
    axes = figure.add_axes((0.0, 0.0, 1.0, 1.0))
    axes.set_xlim(0, width)
    axes.set_ylim(height, 0)
    axes.axis("off")
    regular, small, big = font(TEXT), font(SMALL), font(TITLE)
    axes.text(MARGIN, MARGIN, table.title, fontproperties=big, va="top", color="#102a43")
    axes.text(MARGIN, MARGIN + TITLE * 1.45, table.subtitle, fontproperties=small, va="top", color="#486581")

    lefts = [MARGIN + sum(widths[:i]) for i in range(len(widths))]
    patches, fills = [], []
    for left, column_width, header in zip(lefts, widths, headers, strict=True):
        patches.append(Rectangle((left, top), column_width, header_height))
        fills.append(HEADER_FILL)
        axes.text(left + column_width / 2, top + header_height / 2, header, fontproperties=small,
                  ha="center", va="center", color=HEADER_INK, linespacing=1.15)  # fmt: skip
    for index, row in enumerate((*table.rows, table.totals)):
        y = top + header_height + ROW * index
        shades = [row.shade, *(c.shade for c in row.cells), row.shade]
        for column, (left, column_width, shade) in enumerate(zip(lefts, widths, shades, strict=True)):
            patches.append(Rectangle((left, y), column_width, ROW))
            fills.append(FILLS[shade] if shade is not Shade.PLAIN or index % 2 == 0 else "#f4f6f8")
            text = lines[index][column]
            if not text:
                continue
            first = column == 0
            axes.text(left + (PAD if first else column_width / 2), y + ROW / 2, text, fontproperties=regular,
                      ha="left" if first else "center", va="center", color=INKS[shade])  # fmt: skip
    axes.add_collection(PatchCollection(patches, facecolors=fills, edgecolors=GRID, linewidths=0.8))

    legend_y = top + header_height + ROW * len(lines) + SMALL
    x = MARGIN
    for shade, words in ((Shade.MISSING, texts.LEGEND_MISSING), (Shade.LATE, texts.LEGEND_LATE),
                         (Shade.MISMATCH, texts.LEGEND_MISMATCH)):  # fmt: skip
        axes.add_patch(Rectangle((x, legend_y - SMALL * 0.45), SMALL, SMALL, facecolor=FILLS[shade],
                                 edgecolor=INKS[shade], linewidth=0.8))  # fmt: skip
        axes.text(x + SMALL * 1.4, legend_y + SMALL * 0.05, words, fontproperties=small, va="center",
                  color=INKS[shade])  # fmt: skip
        x += SMALL * 1.4 + text_width(words, SMALL) + SMALL * 2
    return png_bytes(figure)
