"""今日报表 / /table and 趋势图 / /trend: the day's table and the 14-day trends, as images, for
the leaders (in a leaders' group, or an admin anywhere)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable

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


async def _reply_drawn(turn: Turn, what: str, draw: Callable[[], bytes], name: str, caption: str) -> None:
    """Draw off the event loop (a few hundred milliseconds of CPU) and reply with the picture, or
    say it could not be drawn; `what` is the command's name in the reply."""
    try:
        png = await asyncio.to_thread(draw)
    except PictureError:
        log.exception("%s could not be drawn", what)
        await turn.reply(texts.picture_failed(what))
        return
    await turn.reply_with_picture(Picture(png, name), caption)


async def send_table(turn: Turn, command: Command) -> None:
    """Today's table as an image, with who is missing under it."""
    if not _for_leaders(turn):
        await turn.reply(texts.pictures_for_leaders_only("今日报表"))
        return
    report = await build_town_report(turn.store, turn.town, turn.day)
    caption = texts.table_caption(report.town, report.day, report.missing)
    await _reply_drawn(turn, "今日报表", lambda: day_table_png(report), table_file_name(report), caption)


async def send_trend(turn: Turn, command: Command) -> None:
    """The last 14 days' trends as an image."""
    if not _for_leaders(turn):
        await turn.reply(texts.pictures_for_leaders_only("趋势图"))
        return
    trend = await build_trend(turn.store, turn.town, turn.day)
    caption = texts.trend_caption(trend.town, trend.first, trend.last)
    await _reply_drawn(turn, "趋势图", lambda: trend_png(trend), trend_file_name(trend), caption)
