"""Personal data past its retention: deleted by the clock every night and by `villagebot purge`.

Names, phones and ID numbers of people closed more than `[privacy] retention_days` ago go; the
rows stay, masked and dated, so that counts in past reports do not change.
"""

from __future__ import annotations

import datetime as dt

from storage import Database

from .town import Town


async def purge_personal_data(town: Town, database: Database, now: dt.datetime, *, actor: str = "scheduler") -> int:
    """Delete the names, phones and ID numbers of people closed more than `retention_days` ago.
    The rows stay, masked and dated, so that counts in reports do not change."""
    cutoff = now - dt.timedelta(days=town.config.privacy.retention_days)
    async with database.transaction() as store:
        people = await store.people.closed_before(cutoff)
        for person in people:
            person.name_encrypted = person.phone_encrypted = person.id_number_encrypted = None
            person.id_number_index = None
            person.purged_at = now
        if people:
            await store.audit.record(
                actor=actor,
                action="purge",
                subject=f"{len(people)} people",
                at=now,
                after={"people": [p.id for p in people], "closed_before": cutoff.isoformat()},
            )
    return len(people)
