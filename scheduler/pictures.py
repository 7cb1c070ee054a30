"""The pictures the clock sends the leaders: the day's table with the deadline summary, and once a
week (`[schedule] weekly_trend`, Monday by default) the 14-day trends.

Drawn outside any transaction (a few hundred milliseconds of CPU, in a thread), then each claimed
in `scheduled_sends` like every scheduled message, so a job that runs twice sends each once. A
picture that cannot be drawn is logged and left out: the summary's text has gone already.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging

from handlers import texts
from handlers.messages import Picture
from handlers.pictures import PictureError, build_trend, day_table_png, table_file_name, trend_file_name, trend_png
from handlers.town import Town
from handlers.town_report import TownReport
from storage import Database
from storage.repos.outbox import PRIORITY_SCHEDULED

log = logging.getLogger(__name__)


async def send_deadline_pictures(town: Town, database: Database, now: dt.datetime, report: TownReport) -> int:
    """The day's table (and on the weekly day the trends) to every leaders' chat; the number queued."""
    wanted: list[tuple[str, Picture, str]] = []
    try:
        png = await asyncio.to_thread(day_table_png, report)
        wanted.append(("deadline_table", Picture(png, table_file_name(report)),
                       texts.table_caption(report.town, report.day, report.missing)))  # fmt: skip
        if town.config.schedule.weekly_trend_on(report.day):
            async with database.transaction() as store:
                trend = await build_trend(store, town, report.day)
            png = await asyncio.to_thread(trend_png, trend)
            wanted.append(("weekly_trend", Picture(png, trend_file_name(trend)),
                           texts.weekly_trend_caption(trend.town, trend.first, trend.last)))  # fmt: skip
    except PictureError:
        log.exception("the deadline pictures could not be drawn; the summary went as text only")
    sent = 0
    async with database.transaction() as store:
        for chat in await town.directory.leaders_chats(store):
            for kind, picture, caption in wanted:
                claim = await store.scheduled_sends.claim(report.day, kind, chat, now)
                if claim is None:
                    continue
                row = await store.outbox.enqueue(
                    chat=chat, text=caption, purpose="deadline", at=now, priority=PRIORITY_SCHEDULED,
                    picture=picture.data, picture_name=picture.name,
                )  # fmt: skip
                await store.scheduled_sends.attach(claim, row.id)
                sent += 1
    return sent
