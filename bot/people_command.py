"""Commands for the personal data: make a key, list people (masked, or in full for an admin),
purge what is past its retention, and move everything to a new key."""

from __future__ import annotations

import asyncio
import csv
import sys
from typing import TextIO

from handlers.clock import SystemClock
from handlers.personal_data_purge import purge_personal_data
from handlers.town import Town
from storage import Database
from storage.personal_data import DATA_KEY_ENV, DataKey, DataKeyError, new_key
from townconfig import TownConfig

OLD_KEY_ENV = "VILLAGEBOT_DATA_KEY_OLD"


class PeopleCommandError(Exception):
    """What the person at the terminal must change; printed without a stack trace."""


def keygen() -> int:
    print(new_key())
    return 0


async def _purge(config: TownConfig) -> int:
    database = Database(config.database_url)
    try:
        await database.migrate()
        town = Town.build(config, SystemClock())
        return await purge_personal_data(town, database, town.clock.now(), actor="villagebot purge")
    finally:
        await database.close()


def purge(config: TownConfig) -> int:
    count = asyncio.run(_purge(config))
    print(f"purged the personal data of {count} people closed more than {config.privacy.retention_days} days ago")
    return 0


async def _export(config: TownConfig, out: TextIO, *, village: str | None, full: bool, admin: str | None) -> None:
    if full:
        admins = {i for a in config.admins for i in a.ids}
        if admin is None or admin not in admins:
            raise PeopleCommandError("--full needs --admin ID, the id of a town admin in [[admin]] (it is audited)")
    key = DataKey.from_environment() if full else None
    if full and key is None:
        raise PeopleCommandError(f"--full needs {DATA_KEY_ENV}, the key the data was stored with")
    database = Database(config.database_url)
    try:
        await database.migrate()
        clock = SystemClock()
        async with database.transaction() as store:
            people = await store.people.all(village)
            writer = csv.writer(out)
            writer.writerow(["编号", "村", "姓名", "手机", "身份证号", "来自", "返回日期", "观察至", "状态"])
            for p in people:
                if key is not None and p.name_encrypted:
                    name = key.decrypt(p.name_encrypted, "name")
                    phone = key.decrypt(p.phone_encrypted, "phone") if p.phone_encrypted else ""
                    id_number = key.decrypt(p.id_number_encrypted, "id_number") if p.id_number_encrypted else ""
                else:
                    name, phone, id_number = p.name_masked, p.phone_masked or "", p.id_number_masked or ""
                writer.writerow(
                    [
                        p.id,
                        p.village,
                        name,
                        phone,
                        id_number,
                        p.origin or "",
                        p.returned_on.isoformat(),
                        p.observe_until.isoformat(),
                        p.status,
                    ]
                )
            await store.audit.record(
                actor=admin or "villagebot people",
                action="export_full" if full else "export_masked",
                subject=village or "all villages",
                at=clock.now(),
                after={"people": len(people)},
            )
    finally:
        await database.close()


def export(config: TownConfig, *, village: str | None, full: bool, admin: str | None) -> int:
    try:
        asyncio.run(_export(config, sys.stdout, village=village, full=full, admin=admin))
    except (PeopleCommandError, DataKeyError) as exc:
        print(f"villagebot: {exc}", file=sys.stderr)
        return 2
    return 0


async def _rotate(config: TownConfig, old: DataKey, new: DataKey) -> int:
    database = Database(config.database_url)
    fields = (("name_encrypted", "name"), ("phone_encrypted", "phone"), ("id_number_encrypted", "id_number"))
    try:
        await database.migrate()
        async with database.transaction() as store:
            people = await store.people.with_personal_data()
            for person in people:
                id_number = None
                for column, field in fields:
                    value = getattr(person, column)
                    if value:
                        plain = old.decrypt(value, field)
                        setattr(person, column, new.encrypt(plain, field))
                        if field == "id_number":
                            id_number = plain
                person.id_number_index = new.blind_index(id_number) if id_number else None
            await store.audit.record(
                actor="villagebot rotate-key",
                action="rotate_key",
                subject="observed_people",
                at=SystemClock().now(),
                after={"people": len(people)},
            )
            return len(people)
    finally:
        await database.close()


def rotate_key(config: TownConfig) -> int:
    """Re-encrypt everything from the key in VILLAGEBOT_DATA_KEY_OLD to the one in VILLAGEBOT_DATA_KEY,
    in one transaction: either every person moves to the new key or none does."""
    try:
        old, new = DataKey.from_environment(OLD_KEY_ENV), DataKey.from_environment()
        if old is None or new is None:
            raise PeopleCommandError(f"set {OLD_KEY_ENV} to the current key and {DATA_KEY_ENV} to the new one")
        count = asyncio.run(_rotate(config, old, new))
    except (PeopleCommandError, DataKeyError) as exc:
        print(f"villagebot: {exc}", file=sys.stderr)
        return 2
    print(f"re-encrypted the personal data of {count} people with the new key; keep only the new key from now on")
    return 0
