"""People under observation: registration, checks, release, masking everywhere, encryption at rest, purge."""

from __future__ import annotations

import datetime as dt
import logging
import os
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from chat_harness import Chat, FakePlatform
from conftest import SHANGHAI

from bot.app import App
from handlers.clock import ManualClock
from handlers.personal_data_purge import purge_personal_data
from handlers.personal_info import ID_NUMBER, MOBILE, id_number_problem, mask_text, phone_problem
from scheduler import jobs
from storage import Database
from storage.personal_data import DataKey, DataKeyError, new_key
from townconfig import TownConfig

KEY = new_key()
NAME, PHONE, ID = "欧阳娜娜", "13912345678", "62040219900101123X"
REGISTER = f"返乡登记 {NAME} {PHONE} {ID} 武汉 2月10日返回"


@pytest.fixture
async def keyed(
    database: Database, town_config: TownConfig, clock: ManualClock, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[Chat]:
    monkeypatch.setenv("VILLAGEBOT_DATA_KEY", KEY)
    platform = FakePlatform()
    app = await App.start(town_config, clock=clock, platforms={"console": platform}, database=database)
    yield Chat(app, platform)


@pytest.mark.parametrize("good", ["62040219900101123X", "620402198511200044", "620421197803155622", "62040219900101123x"])
def test_valid_id_numbers_pass_the_gb11643_check(good: str) -> None:
    assert id_number_problem(good) is None


def test_a_wrong_check_digit_is_refused_with_the_right_one() -> None:
    assert "应为X" in (id_number_problem("620402199001011234") or "")
    assert "18位" in (id_number_problem("6204021990010112") or "")


@pytest.mark.parametrize(("phone", "ok"), [("13912345678", True), ("19912345678", True), ("12912345678", False),
                                           ("1391234567", False), ("139123456789", False)])
def test_mainland_mobile_numbers(phone: str, ok: bool) -> None:
    assert (phone_problem(phone) is None) is ok


def test_masks() -> None:
    assert mask_text(f"张三 {PHONE} {ID}") == "张三 139****5678 620402********123X"
    assert mask_text("订单号 123456789012") == "订单号 123456789012"  # 12 digits: neither shape


def test_the_data_key_must_be_32_bytes() -> None:
    with pytest.raises(DataKeyError, match="villagebot keygen"):
        DataKey("too-short")
    key = DataKey(new_key())
    sealed = key.encrypt("张三", "name")
    assert "张三" not in sealed and key.decrypt(sealed, "name") == "张三"
    with pytest.raises(DataKeyError):
        key.decrypt(sealed, "phone")  # bound to its field
    with pytest.raises(DataKeyError):
        DataKey(new_key()).decrypt(sealed, "name")


async def test_a_head_registers_a_person_and_sees_only_masked_data(keyed: Chat) -> None:
    replies = await keyed.person("五星村", "head").says(REGISTER)
    assert replies == ["已登记 #1 欧*** 139****5678 620402********123X 武汉 2月10日返回，居家观察至2月24日"]


async def test_an_invalid_id_number_is_refused_with_the_reason(keyed: Chat) -> None:
    replies = await keyed.person("五星村", "head").says("返乡登记 张三 13912345678 620402199001011234 武汉 2月10日返回")
    assert "校验位" in replies[0] and "应为X" in replies[0]
    assert "620402199001011234" not in replies[0]
    async with keyed.app.database.transaction() as store:
        assert await store.people.all() == []


async def test_without_a_key_the_bot_runs_but_refuses_to_register(chat: Chat, caplog: pytest.LogCaptureFixture) -> None:
    assert chat.app.town.data_key is None
    replies = await chat.person("五星村", "head").says(REGISTER)
    assert "villagebot keygen" in replies[0] and "VILLAGEBOT_DATA_KEY" in replies[0]
    assert "villagebot keygen" in caplog.text
    async with chat.app.database.transaction() as store:
        assert await store.people.all() == []


async def test_the_same_id_number_is_found_by_its_blind_index(keyed: Chat) -> None:
    head = keyed.person("五星村", "head")
    await head.says(REGISTER)
    again = await head.says(f"登记返乡 {ID} 欧阳娜娜 2020-02-11 13800000000")
    assert "已在居家观察名单中（#1）" in again[0]


async def test_daily_temperatures_by_name_and_number_and_a_fever_alerts_the_leaders(keyed: Chat) -> None:
    head = keyed.person("五星村", "head")
    await head.says(REGISTER)
    assert "已记录 #1 欧*** 体温 36.5℃（第 1 次测温）" in (await head.says(f"{NAME} 36.5"))[0]
    assert "第 2 次" in (await head.says("#1 37.6℃"))[0]
    [alert] = keyed.sent_to("console:leaders")
    assert "体温异常" in alert and "37.6" in alert and NAME not in alert
    assert await keyed.person("五星村", "resident").says("#1 36.6") == []  # residents: chat
    assert await head.says("今天 36.5") == []  # not a registered name: chat


async def test_a_head_of_another_village_cannot_touch_the_person(keyed: Chat) -> None:
    await keyed.person("五星村", "head").says(REGISTER)
    other = keyed.person("红星村", "head")
    assert "只有本村村干部" in (await other.says("#1 36.5"))[0]
    assert "只有本村村干部" in (await other.says("解除观察 #1"))[0]


async def test_the_village_is_reminded_the_day_before_and_the_head_releases(keyed: Chat, clock: ManualClock) -> None:
    head = keyed.person("五星村", "head")
    await head.says(REGISTER)  # observed until 24 Feb
    clock.set(dt.datetime(2020, 2, 23, 8, 0, tzinfo=SHANGHAI))
    assert await jobs.send_observation_endings(keyed.app.town, keyed.app.database, clock.now()) == 1
    assert await jobs.send_observation_endings(keyed.app.town, keyed.app.database, clock.now()) == 0
    await keyed.app.drain()
    reminder = keyed.sent_to("console:五星村")[-1]
    assert "2月24日期满" in reminder and "#1 欧***" in reminder
    assert "已解除居家观察" in (await head.says("解除观察 #1"))[0]
    async with keyed.app.database.transaction() as store:
        assert (await store.people.get(1)).status == "released"  # type: ignore[union-attr]
    assert "没有找到" in (await head.says("解除观察 #1"))[0]


async def test_a_report_that_disagrees_with_the_registry_is_flagged(keyed: Chat) -> None:
    head = keyed.person("五星村", "head")
    await head.says(REGISTER)
    replies = await head.says("日报 入户排查120户，返乡3人，居家观察12人，发热0人，消毒2次")
    assert "居家观察填报 12 人，登记在册 1 人" in replies[0]
    ok = await head.says("更正 居家观察1人")
    assert "登记在册" not in ok[0]


async def test_the_purge_deletes_personal_data_but_keeps_the_count(keyed: Chat, clock: ManualClock) -> None:
    head = keyed.person("五星村", "head")
    await head.says(REGISTER)
    await head.says("解除观察 #1")
    town, database = keyed.app.town, keyed.app.database
    assert await purge_personal_data(town, database, clock.now() + dt.timedelta(days=29)) == 0
    assert await purge_personal_data(town, database, clock.now() + dt.timedelta(days=31)) == 1
    async with database.transaction() as store:
        [person] = await store.people.all()
        assert person.name_encrypted is None and person.id_number_index is None
        assert person.name_masked == "欧***" and person.status == "released"
        assert [e.action for e in await store.audit.between(clock.now(), clock.now() + dt.timedelta(days=40))][-1] == "purge"


async def test_nothing_unmasked_reaches_a_chat_or_a_log_line(keyed: Chat, caplog: pytest.LogCaptureFixture) -> None:
    from handlers.personal_info import install_log_masking

    caplog.set_level(logging.DEBUG)
    install_log_masking(logging.getLogger())
    caplog.handler.addFilter(__import__("handlers.personal_info").personal_info.MaskingFilter())
    head = keyed.person("五星村", "head")
    for text in (REGISTER, f"{NAME} 37.5", "返乡登记 张三 13912345678 620402199001011234 武汉", "解除观察 #1",
                 f"日报 排查120户 返乡3人 居家观察1人 发热0人 消毒2次 —— 联系电话 {PHONE}"):
        await head.says(text)
    logging.getLogger("villagebot.test").warning("a log line that quotes a message: %s", REGISTER)
    everything = [m.text for m in keyed.platform.sent] + [caplog.text]
    for text in everything:
        assert not ID_NUMBER.search(text), text
        assert not MOBILE.search(text), text


async def test_the_raw_database_holds_no_plaintext(keyed: Chat, database: Database) -> None:
    if database.dialect != "sqlite":
        pytest.skip("the file-level check reads the SQLite file")
    await keyed.person("五星村", "head").says(REGISTER)
    await database.close()  # checkpoint the WAL into the file
    path = Path(database.engine.url.database or "")
    raw = b"".join(p.read_bytes() for p in path.parent.glob(path.name + "*"))
    for secret in (NAME, PHONE, ID):
        assert secret.encode() not in raw
    assert "欧***".encode() in raw  # the masked name is there, so the file was really read


def _cli(args: list[str], folder: Path, **env: str) -> subprocess.CompletedProcess[str]:
    environment = {**os.environ, "VILLAGEBOT_DATABASE_URL": f"sqlite:///{folder}/town.db", **env}
    return subprocess.run([sys.executable, "-m", "bot.cli", *args], capture_output=True, text=True, cwd=folder,
                          env=environment, timeout=60)


def test_keygen_export_and_key_rotation_from_the_command_line(tmp_path: Path) -> None:
    key = _cli(["keygen"], tmp_path).stdout.strip()
    assert len(key) == 44 and DataKey(key)
    screen = subprocess.run(
        [sys.executable, "-m", "bot.cli", "run"], input=REGISTER + "\n", capture_output=True, text=True, cwd=tmp_path,
        env={**os.environ, "VILLAGEBOT_DATABASE_URL": f"sqlite:///{tmp_path}/town.db", "VILLAGEBOT_DATA_KEY": key},
        timeout=60,
    )
    assert "已登记 #1" in screen.stdout, screen.stderr
    masked = _cli(["people"], tmp_path)
    assert "欧***" in masked.stdout and NAME not in masked.stdout and PHONE not in masked.stdout
    refused = _cli(["people", "--full"], tmp_path, VILLAGEBOT_DATA_KEY=key)
    assert refused.returncode == 2 and "--admin" in refused.stderr
    full = _cli(["people", "--full", "--admin", "console:town_office"], tmp_path, VILLAGEBOT_DATA_KEY=key)
    assert NAME in full.stdout and ID in full.stdout
    new = _cli(["keygen"], tmp_path).stdout.strip()
    rotated = _cli(["rotate-key"], tmp_path, VILLAGEBOT_DATA_KEY_OLD=key, VILLAGEBOT_DATA_KEY=new)
    assert rotated.returncode == 0, rotated.stderr
    assert NAME in _cli(["people", "--full", "--admin", "console:town_office"], tmp_path, VILLAGEBOT_DATA_KEY=new).stdout
    stale = _cli(["people", "--full", "--admin", "console:town_office"], tmp_path, VILLAGEBOT_DATA_KEY=key)
    assert stale.returncode == 2 and "is not the key the personal data in this database is stored with" in stale.stderr
    audit = _cli(["report", "--format", "json", "--audit"], tmp_path).stdout
    assert "export_full" in audit and "register_person" in audit and "rotate_key" in audit
    assert NAME not in audit and PHONE not in audit and ID not in audit
