"""The migrations build the schema the models describe: a column added to a model without a
migration (or the other way round) fails here, not in a town's database after an upgrade."""

from __future__ import annotations

import datetime as dt

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, select, text

from storage import Database
from storage.database import alembic_config
from storage.models import Base, Donation, OutboxMessage


async def test_the_migrated_schema_is_the_models_schema(database: Database) -> None:
    def differences(connection: Connection) -> list[object]:
        return list(compare_metadata(MigrationContext.configure(connection), Base.metadata))

    async with database.engine.connect() as connection:
        assert await connection.run_sync(differences) == []


async def test_sends_that_failed_before_failures_were_typed_keep_their_reasons(database: Database) -> None:
    """0006 reads the reason of rows failed under 0005 from the platform's words, once."""
    rows = {
        "Telegram: Forbidden: bot was kicked from the supergroup chat": "removed",
        "the puppet service refused the message: NOT_FOUND room gone": "removed",
        "Telegram refused the message: Not enough rights to send text messages": "no_rights",
        "a gateway waited for Telegram in vain (504) after the message was sent": "no_answer",
        "telegram:-1001 keeps moving to another chat id": "moved",
        "sending to WeChat failed: ValueError: no room 25046731562@chatroom": "failed",
    }

    def downgrade_insert_upgrade(connection: Connection) -> None:
        command.downgrade(alembic_config(connection), "0005")
        for index, error in enumerate(rows):
            connection.execute(
                text(
                    "INSERT INTO outbox (chat, text, priority, purpose, mentions, status, attempts, created_at,"
                    " next_attempt_at, error, ambiguous) VALUES (:chat, 'x', 0, 'notice', '[]', 'failed', 5, :at, :at,"
                    " :error, false)"
                ),
                {"chat": f"console:{index}", "at": dt.datetime(2020, 2, 17, tzinfo=dt.UTC), "error": error},
            )
        command.upgrade(alembic_config(connection), "head")

    async with database.engine.begin() as connection:
        await connection.run_sync(downgrade_insert_upgrade)
        found = (await connection.execute(select(OutboxMessage.error, OutboxMessage.failure))).all()
    assert dict(found) == rows


async def test_donors_stored_before_0010_are_counted_by_their_names(database: Database) -> None:
    """0010 marks the organisations among donations stored before it by how their names end."""
    donors = {"白银某商贸公司": True, "王岘镇加油站": True, "张三": False, "爱心人士(匿名)": False, "兰州某药店": True}

    def downgrade_insert_upgrade(connection: Connection) -> None:
        command.downgrade(alembic_config(connection), "0010-1")
        for donor in donors:
            connection.execute(
                text(
                    "INSERT INTO donations (day, donor, amount_yuan, recorded_by, recorded_at)"
                    " VALUES (:day, :donor, 100, 'telegram:1', :at)"
                ),
                {"day": dt.date(2020, 2, 17), "donor": donor, "at": dt.datetime(2020, 2, 17, tzinfo=dt.UTC)},
            )
        command.upgrade(alembic_config(connection), "head")

    async with database.engine.begin() as connection:
        await connection.run_sync(downgrade_insert_upgrade)
        found = (await connection.execute(select(Donation.donor, Donation.organisation))).all()
    assert dict(found) == donors


async def test_rows_a_sender_held_before_in_flight_was_recorded_stay_possibly_doubled(database: Database) -> None:
    """0009: a row "sending" when the upgrade comes was held by a sender of the old version, which
    did not record whether it had begun to send: it is taken as in flight, and so as ambiguous
    when it goes again; a pending row is not."""
    at = dt.datetime(2020, 2, 17, 1, 0, tzinfo=dt.UTC)

    def downgrade_insert_upgrade(connection: Connection) -> None:
        config = alembic_config(connection)
        before = ScriptDirectory.from_config(config).get_revision("0009").down_revision
        assert isinstance(before, str)
        command.downgrade(config, before)
        for chat, status in (("console:held", "sending"), ("console:queued", "pending")):
            connection.execute(
                text(
                    "INSERT INTO outbox (chat, text, priority, purpose, mentions, status, attempts, created_at,"
                    " next_attempt_at, lease_until, lease_owner, ambiguous)"
                    " VALUES (:chat, 'x', 0, 'notice', '[]', :status, 0, :at, :at, :at, 7, false)"
                ),
                {"chat": chat, "status": status, "at": at},
            )
        command.upgrade(config, "head")

    async with database.engine.begin() as connection:
        await connection.run_sync(downgrade_insert_upgrade)
    async with database.transaction() as store:
        later = at + dt.timedelta(seconds=1)  # the old sender's lease has run out
        found = {row.chat: row for row in await store.outbox.due(later, "console")}
        assert {chat: row.in_flight_since for chat, row in found.items()} == {"console:held": at, "console:queued": None}
        taken = await store.outbox.claim_many([row.id for row in found.values()], later, dt.timedelta(minutes=2))
    assert {row.chat: row.ambiguous for row in taken} == {"console:held": True, "console:queued": False}
