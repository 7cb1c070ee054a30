"""The migrations build the schema the models describe: a column added to a model without a
migration (or the other way round) fails here, not in a town's database after an upgrade."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Connection

from storage import Database
from storage.models import Base


async def test_the_migrated_schema_is_the_models_schema(database: Database) -> None:
    def differences(connection: Connection) -> list[object]:
        return list(compare_metadata(MigrationContext.configure(connection), Base.metadata))

    async with database.engine.connect() as connection:
        assert await connection.run_sync(differences) == []
