"""APScheduler 3, owned here: the town's cron jobs with stable ids, in the town's time zone.

The jobs themselves live in `scheduler.jobs` and take the time as an argument; this module only
decides when to call them. A tick every half minute sends due scheduled notices and config
notices, so a notice scheduled in chat needs no job of its own.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Awaitable, Callable

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

from handlers.personal_data_purge import purge_personal_data
from handlers.town import Town
from storage import Database

from . import jobs

log = logging.getLogger(__name__)

DAILY_JOBS = {
    "remind": jobs.send_reminders,
    "observation_endings": jobs.send_observation_endings,
    "purge": purge_personal_data,
    "chase": jobs.send_chase,
    "deadline": jobs.send_deadline_summary,
}
TICK_SECONDS = 30
PURGE_AT = dt.time(3, 0)  # the quiet of the night


class TownClock:
    """Runs the day's routine for one town. `on_sent` is called after a job queued anything."""

    def __init__(self, town: Town, database: Database, on_sent: Callable[[], None]) -> None:
        self.town = town
        self.database = database
        self.on_sent = on_sent
        self.scheduler = AsyncIOScheduler(timezone=town.zone)
        schedule = town.config.schedule
        times = {"observation_endings": schedule.remind, "purge": PURGE_AT}
        for job_id, job in DAILY_JOBS.items():
            at = times.get(job_id) or getattr(schedule, job_id)
            self.scheduler.add_job(
                self._run,
                CronTrigger(hour=at.hour, minute=at.minute, second=at.second, timezone=town.zone),
                args=[job_id, job],
                id=job_id,
                name=job_id,
                replace_existing=True,
                misfire_grace_time=600,
                coalesce=True,
                max_instances=1,
            )
        self.scheduler.add_job(
            self._tick,
            IntervalTrigger(seconds=TICK_SECONDS, timezone=town.zone),
            id="tick",
            name="tick",
            replace_existing=True,
            coalesce=True,
            max_instances=1,
        )

    def job_ids(self) -> list[str]:
        return sorted(job.id for job in self.scheduler.get_jobs())

    async def start(self) -> None:
        """Catch up what today still needs, then keep time."""
        await self._guarded("catch-up", jobs.catch_up(self.town, self.database, self.town.clock.now()))
        self.scheduler.start()

    def shutdown(self) -> None:
        if self.scheduler.running:
            self.scheduler.shutdown(wait=False)

    async def _run(self, job_id: str, job: Callable[..., Awaitable[int]]) -> None:
        await self._guarded(job_id, job(self.town, self.database, self.town.clock.now()))

    async def _tick(self) -> None:
        now = self.town.clock.now()
        await self._guarded("notices", jobs.send_config_notices(self.town, self.database, now))
        await self._guarded("scheduled", jobs.send_due_scheduled_notices(self.town, self.database, now))

    async def _guarded(self, name: str, work: Awaitable[object]) -> None:
        try:
            result = await work
        except Exception:
            log.exception("scheduled job %s failed; it will run again at its next time", name)
            return
        log.info("scheduled job %s: %s", name, result)
        self.on_sent()
