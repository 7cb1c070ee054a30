"""今日报表 / /table and 趋势图 / /trend: the day's table and the 14-day trends, as images, for
the leaders (in a leaders' group, or an admin anywhere)."""

from __future__ import annotations

import asyncio
import logging

from .. import texts
from ..commands import Command
from ..messages import Picture
from ..permissions import Action, allowed
from ..pictures import PictureError, build_trend, day_table_png, table_file_name, trend_file_name, trend_png
from ..town_report import build_town_report
from ..turn import Turn

log = logging.getLogger(__name__)


def _for_leaders(turn: Turn) -> bool:
    return turn.target.kind == "leaders" or allowed(Action.TOWN_PICTURES, turn.speaker.role)


async def send_table(turn: Turn, command: Command) -> None:
    """Today's table as an image, with who is missing under it."""
    if not _for_leaders(turn):
        await turn.reply(texts.pictures_for_leaders_only("今日报表"))
        return
    report = await build_town_report(turn.store, turn.town, turn.day)
    try:
        # Drawing is CPU work of a few hundred milliseconds: not on the event loop.
        png = await asyncio.to_thread(day_table_png, report)
    except PictureError:
        log.exception("the day's table could not be drawn")
        await turn.reply(texts.picture_failed("今日报表"))
        return
    caption = texts.table_caption(report.town, report.day, report.missing)
    await turn.reply_with_picture(Picture(png, table_file_name(report)), caption)


async def send_trend(turn: Turn, command: Command) -> None:
    """The last 14 days' trends as an image."""
    if not _for_leaders(turn):
        await turn.reply(texts.pictures_for_leaders_only("趋势图"))
        return
    trend = await build_trend(turn.store, turn.town, turn.day)
    try:
        png = await asyncio.to_thread(trend_png, trend)
    except PictureError:
        log.exception("the trend chart could not be drawn")
        await turn.reply(texts.picture_failed("趋势图"))
        return
    await turn.reply_with_picture(
        Picture(png, trend_file_name(trend)), texts.trend_caption(trend.town, trend.first, trend.last)
    )
