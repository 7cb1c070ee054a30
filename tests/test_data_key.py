"""Keys that cannot split: the database knows its key's fingerprint; a bot on another key does not
start, a running bot does not go on writing under a key that was rotated away, and rotation can be
run again until everything is under the new key."""

from __future__ import annotations

import io

import pytest
from chat_harness import Chat, FakePlatform
from sqlalchemy import delete, select

from bot.app import App
from bot.people_command import PeopleCommandError, rotate_data_key, write_people
from handlers import texts
from handlers.clock import ManualClock
from storage import Database
from storage.models import DataKeyFingerprint, ObservedPerson
from storage.personal_data import DataKey, DataKeyError, new_key
from townconfig import TownConfig

REGISTER = "返乡登记 欧阳娜娜 13912345678 62040219900101123X 武汉 2月10日返回"
OTHER = "返乡登记 李秀英 13812345678 620402198511200044 武汉 2月11日返回"


async def start(database: Database, config: TownConfig, clock: ManualClock, key: str, mp: pytest.MonkeyPatch) -> Chat:
    mp.setenv("VILLAGEBOT_DATA_KEY", key)
    platform = FakePlatform()
    app = await App.start(config, clock=clock, platforms={"console": platform}, database=database)
    return Chat(app, platform)


async def people(database: Database) -> list[ObservedPerson]:
    async with database.session() as session:
        return list((await session.scalars(select(ObservedPerson).order_by(ObservedPerson.id))).all())


async def test_a_bot_on_another_key_does_not_start(
    database: Database, town_config: TownConfig, clock: ManualClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    first, other = new_key(), new_key()
    chat = await start(database, town_config, clock, first, monkeypatch)
    assert "已登记 #1" in (await chat.person("五星村", "head").says(REGISTER))[0]
    monkeypatch.setenv("VILLAGEBOT_DATA_KEY", other)
    with pytest.raises(DataKeyError, match="is not the key the personal data in this database is stored with"):
        await App.start(town_config, clock=clock, database=database)


async def test_a_database_from_before_fingerprints_takes_the_key_it_can_be_read_with(
    database: Database, town_config: TownConfig, clock: ManualClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    key = new_key()
    chat = await start(database, town_config, clock, key, monkeypatch)
    await chat.person("五星村", "head").says(REGISTER)
    async with database.transaction() as store:
        await store.session.execute(delete(DataKeyFingerprint))  # as a database of last week was
    monkeypatch.setenv("VILLAGEBOT_DATA_KEY", new_key())
    with pytest.raises(DataKeyError, match="cannot decrypt"):
        await App.start(town_config, clock=clock, database=database)
    monkeypatch.setenv("VILLAGEBOT_DATA_KEY", key)
    await App.start(town_config, clock=clock, database=database)
    async with database.transaction() as store:
        assert await store.data_keys.stored() == DataKey(key).fingerprint


async def test_rotation_under_a_running_bot_splits_nothing_and_a_second_run_finishes(
    database: Database, town_config: TownConfig, clock: ManualClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    old, new = new_key(), new_key()
    running = await start(database, town_config, clock, old, monkeypatch)
    head = running.person("五星村", "head")
    assert "已登记 #1" in (await head.says(REGISTER))[0]

    assert await rotate_data_key(database, DataKey(old), DataKey(new)) == (1, 1)
    # The bot still runs on the old key: it registers nobody under it from now on.
    refused = await head.says(OTHER)
    assert refused == [texts.data_key_changed()]
    assert len(await people(database)) == 1

    restarted = await start(database, town_config, clock, new, monkeypatch)
    again = await restarted.person("五星村", "head").says(REGISTER)  # the same person again
    assert "#1" in again[0] and "已登记 #" not in again[0]  # the repeat is caught: the index moved too
    assert "已登记 #2" in (await restarted.person("五星村", "head").says(OTHER))[0]
    assert await rotate_data_key(database, DataKey(old), DataKey(new)) == (2, 0)  # nothing left to move
    key = DataKey(new)
    assert [key.decrypt(p.name_encrypted or "", "name") for p in await people(database)] == ["欧阳娜娜", "李秀英"]


async def test_rotation_heals_data_written_under_both_keys(
    database: Database, town_config: TownConfig, clock: ManualClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    """What a bot of before this check left behind: some people under the old key, some under the new."""
    old, new = DataKey(new_key()), DataKey(new_key())
    chat = await start(database, town_config, clock, new_key(), monkeypatch)
    await chat.person("五星村", "head").says(REGISTER)
    await chat.person("五星村", "head").says(OTHER)
    async with database.transaction() as store:
        first, second = await store.people.all()
        for person, key in ((first, old), (second, new)):
            person.name_encrypted = key.encrypt("名字", "name")
            person.phone_encrypted = key.encrypt("13912345678", "phone")
            person.id_number_encrypted = key.encrypt("620402198511200044", "id_number")
        await store.data_keys.set(old, clock.now())
    assert await rotate_data_key(database, old, new) == (2, 1)
    assert all(new.can_read(p.name_encrypted or "", "name") for p in await people(database))


async def test_rotation_refuses_keys_that_are_not_the_stored_one(
    database: Database, town_config: TownConfig, clock: ManualClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    chat = await start(database, town_config, clock, new_key(), monkeypatch)
    await chat.person("五星村", "head").says(REGISTER)
    before = [p.name_encrypted for p in await people(database)]
    with pytest.raises(PeopleCommandError, match="is not the key the data is stored with"):
        await rotate_data_key(database, DataKey(new_key()), DataKey(new_key()))
    assert [p.name_encrypted for p in await people(database)] == before


async def test_a_full_export_that_cannot_read_a_value_prints_nothing(
    database: Database, town_config: TownConfig, clock: ManualClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    key = new_key()
    chat = await start(database, town_config, clock, key, monkeypatch)
    await chat.person("五星村", "head").says(REGISTER)
    await chat.person("五星村", "head").says(OTHER)
    async with database.transaction() as store:
        (await store.people.all())[1].name_encrypted = DataKey(new_key()).encrypt("别人", "name")
    out = io.StringIO()
    with pytest.raises(DataKeyError):
        await write_people(database, out, village=None, admin="console:town_office", key=DataKey(key))
    assert out.getvalue() == ""
