"""Commands for the personal data: make a key, list people (masked, or in full for an admin),
purge what is past its retention, and move everything to a new key."""

from __future__ import annotations

import asyncio
import csv
import io
import sys
from typing import TextIO

from handlers.clock import SystemClock
from handlers.personal_data_purge import purge_personal_data
from handlers.town import Town
from storage import Database
from storage.personal_data import DATA_KEY_ENV, DataKey, DataKeyError, new_key, wrong_key
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
        await write_people(database, out, village=village, admin=admin, key=key)
    finally:
        await database.close()


async def write_people(
    database: Database, out: TextIO, *, village: str | None, admin: str | None, key: DataKey | None
) -> None:
    """The people as CSV, in full when a key is given (audited either way). Every row is made
    before the first is written: a value that cannot be read stops it with nothing written."""
    async with database.transaction() as store:
        stored = await store.data_keys.stored()
        if key is not None and stored not in (None, key.fingerprint):
            raise wrong_key(stored)
        people = await store.people.all(village)
        rows = [["编号", "村", "姓名", "手机", "身份证号", "来自", "返回日期", "观察至", "状态"]]
        for p in people:
            if key is not None and p.name_encrypted:
                try:
                    name = key.decrypt(p.name_encrypted, "name")
                    phone = key.decrypt(p.phone_encrypted, "phone") if p.phone_encrypted else ""
                    id_number = key.decrypt(p.id_number_encrypted, "id_number") if p.id_number_encrypted else ""
                except DataKeyError as exc:
                    raise DataKeyError(f"person #{p.id}: {exc}; nothing was written") from None
            else:
                name, phone, id_number = p.name_masked, p.phone_masked or "", p.id_number_masked or ""
            rows.append(
                [
                    str(p.id),
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
            action="export_full" if key is not None else "export_masked",
            subject=village or "all villages",
            at=SystemClock().now(),
            after={"people": len(people)},
        )
    csv.writer(out).writerows(rows)


def export(config: TownConfig, *, village: str | None, full: bool, admin: str | None) -> int:
    """The CSV is made whole before a line of it is printed: a value that cannot be read stops the
    export with nothing on standard output, never with half a file."""
    made = io.StringIO()
    try:
        asyncio.run(_export(config, made, village=village, full=full, admin=admin))
    except (PeopleCommandError, DataKeyError) as exc:
        print(f"villagebot: {exc}", file=sys.stderr)
        return 2
    sys.stdout.write(made.getvalue())
    return 0


async def _rotate(config: TownConfig, old: DataKey, new: DataKey) -> tuple[int, int]:
    database = Database(config.database_url)
    try:
        await database.migrate()
        return await rotate_data_key(database, old, new)
    finally:
        await database.close()


async def rotate_data_key(database: Database, old: DataKey, new: DataKey) -> tuple[int, int]:
    """Every stored value under the new key, in one transaction; values already under it are left
    as they are, so a run that was cut off, or data a running bot wrote under both keys, is finished
    by running again. The fingerprint row is taken first: a running bot's registration waits for
    the rotation and then sees the new fingerprint."""
    fields = (("name_encrypted", "name"), ("phone_encrypted", "phone"), ("id_number_encrypted", "id_number"))
    moved = 0
    async with database.transaction() as store:
        stored = await store.data_keys.take_for_rotation()
        if stored not in (None, old.fingerprint, new.fingerprint):
            raise PeopleCommandError(
                f"{OLD_KEY_ENV} is not the key the data is stored with (fingerprint {stored}), "
                f"nor is {DATA_KEY_ENV}; set {OLD_KEY_ENV} to the key the bot was started with"
            )
        people = await store.people.with_personal_data()
        for person in people:
            id_number, changed = None, False
            for column, field in fields:
                value = getattr(person, column)
                if not value:
                    continue
                plain, under_new = _read_with_either(new, old, value, field, person.id)
                if not under_new:
                    setattr(person, column, new.encrypt(plain, field))
                    changed = True
                if field == "id_number":
                    id_number = plain
            person.id_number_index = new.blind_index(id_number) if id_number else None
            moved += changed
        now = SystemClock().now()
        await store.data_keys.set(new, now)
        await store.audit.record(
            actor="villagebot rotate-key",
            action="rotate_key",
            subject="observed_people",
            at=now,
            after={"people": len(people), "moved": moved, "fingerprint": new.fingerprint},
        )
        return len(people), moved


def _read_with_either(new: DataKey, old: DataKey, value: str, field: str, person_id: int) -> tuple[str, bool]:
    """The value's plaintext, and whether it is under the new key already."""
    for key, under_new in ((new, True), (old, False)):
        try:
            return key.decrypt(value, field), under_new
        except DataKeyError:
            continue
    raise PeopleCommandError(f"person #{person_id}: the {field} can be read with neither key; nothing was changed")


def rotate_key(config: TownConfig) -> int:
    """Re-encrypt everything from the key in VILLAGEBOT_DATA_KEY_OLD to the one in VILLAGEBOT_DATA_KEY,
    in one transaction: either every person moves to the new key or none does."""
    try:
        old, new = DataKey.from_environment(OLD_KEY_ENV), DataKey.from_environment()
        if old is None or new is None:
            raise PeopleCommandError(f"set {OLD_KEY_ENV} to the current key and {DATA_KEY_ENV} to the new one")
        people, moved = asyncio.run(_rotate(config, old, new))
    except (PeopleCommandError, DataKeyError) as exc:
        print(f"villagebot: {exc}", file=sys.stderr)
        return 2
    print(
        f"{moved} of {people} people re-encrypted with the new key (the others were under it already); "
        "restart the bot with the new key and keep only that one from now on"
    )
    return 0
