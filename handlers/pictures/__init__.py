"""The town's figures as pictures: the day's table and the 14-day trends, as PNG bytes.

Each picture is made in two steps: a plain model built from what the town's report holds (the
cells and their colours, the series and their days), then drawn. The numbers drawn are the
model's, and the model's are the report's, so a picture cannot disagree with the JSON or the
text. Drawing uses matplotlib, imported only when a picture is drawn (`villagebot parse` and the
bot's start-up never load it), with the CJK font that the `mplfonts` package ships, loaded by
its file path: a machine with no fonts of its own draws every glyph.

Drawing is CPU work of a few hundred milliseconds: callers in the event loop run it in a thread
(`asyncio.to_thread`); it uses no pyplot state, so two drawings at once do not meet.
"""

from .day_table import DayTable, Shade, TableCell, TableRow, day_table, day_table_png, table_file_name
from .fonts import PictureError, cjk_font_path
from .trend import TREND_DAYS, Trend, TrendSeries, build_trend, trend_file_name, trend_png

__all__ = [
    "TREND_DAYS",
    "DayTable",
    "PictureError",
    "Shade",
    "TableCell",
    "TableRow",
    "Trend",
    "TrendSeries",
    "build_trend",
    "cjk_font_path",
    "day_table",
    "day_table_png",
    "table_file_name",
    "trend_file_name",
    "trend_png",
]
