"""The database: one async engine per process, migrations applied at start, one transaction per message.

Handlers work inside `Database.transaction()`: the inbound row, the records and the outbox rows a
message causes commit together or not at all, so a crash leaves nothing half-written.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import event, text
from sqlalchemy.engine import Connection, make_url
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine

from .store import Store

if TYPE_CHECKING:
    from alembic.config import Config as AlembicConfig

MIGRATIONS = Path(__file__).with_name("migrations")

#: The advisory lock (transaction-scoped) that lets one process migrate a PostgreSQL database while
#: the others starting with it wait, then find nothing to do. One key for the whole database: a
#: migration of one town's schema is quick, and a county upgrades all towns in one go.
MIGRATION_LOCK_KEY = 0x76626D67  # "vbmg"


class DatabaseError(Exception):
    """The database cannot be reached or used; the message says which URL and what to check."""


def async_url(url: str) -> str:
    """The async driver's URL for what a town writes: sqlite:///x.db, postgresql://…"""
    parsed = make_url(url)
    backend = parsed.get_backend_name()
    if backend == "sqlite":
        parsed = parsed.set(drivername="sqlite+aiosqlite")
    elif backend == "postgresql":
        parsed = parsed.set(drivername="postgresql+asyncpg")
    else:
        raise DatabaseError(f"{url!r}: use sqlite:///FILE or postgresql+asyncpg://USER@HOST/DB")
    return parsed.render_as_string(hide_password=False)


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.close()


class Database:
    def __init__(self, url: str, *, schema: str | None = None) -> None:
        """`schema` (PostgreSQL only) keeps several towns, or several tests, apart in one database."""
        self.url = async_url(url)
        self.schema = schema
        connect_args: dict[str, Any] = {}
        if schema is not None:
            # application_name names the connections, so a test can end any it left behind.
            connect_args["server_settings"] = {"search_path": schema, "application_name": f"villagebot-{schema}"}
        # A server restart drops PostgreSQL connections, so each is checked before use; an SQLite
        # file cannot go away under an open connection, and the check would cost every transaction.
        pre_ping = make_url(self.url).get_backend_name() != "sqlite"
        self.engine: AsyncEngine = create_async_engine(self.url, pool_pre_ping=pre_ping, connect_args=connect_args)
        if self.engine.dialect.name == "sqlite":
            event.listen(self.engine.sync_engine, "connect", _sqlite_pragmas)
        self._sessions = async_sessionmaker(self.engine, expire_on_commit=False)

    @property
    def safe_url(self) -> str:
        """The URL without its password, for messages and logs."""
        return make_url(self.url).render_as_string(hide_password=True)

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    async def migrate(self) -> None:
        """Bring the schema up to the newest migration; safe to call at every start. On PostgreSQL
        the processes starting together take turns (one migrates, the others wait for it and find
        nothing left to do), and a town's schema of its own is made when it is first needed."""
        self._check_sqlite_folder()
        try:
            async with self.engine.begin() as connection:
                if self.dialect == "postgresql":
                    await connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATION_LOCK_KEY})
                    if self.schema is not None:
                        await connection.execute(text(f'CREATE SCHEMA IF NOT EXISTS "{self.schema}"'))
                await connection.run_sync(_upgrade)
        except OSError as exc:
            safe = make_url(self.url).render_as_string(hide_password=True)
            raise DatabaseError(f"cannot reach the database {safe}: {exc}") from None

    def _check_sqlite_folder(self) -> None:
        """SQLite makes the file but not its folder, and says only "unable to open database file"."""
        url = make_url(self.url)
        if url.get_backend_name() != "sqlite" or not url.database or url.database == ":memory:":
            return
        folder = Path(url.database).absolute().parent
        if not folder.is_dir():
            raise DatabaseError(
                f"the SQLite database {url.database} cannot be made: the folder {folder} does not exist. "
                f"Create it (mkdir -p {folder}) or change [town] database (or VILLAGEBOT_DATABASE_URL)."
            )

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[Store]:
        async with self._sessions() as session, session.begin():
            store = Store(session)
            yield store
            await store.reports.write_summaries()  # what the transaction's reports change, once

    @asynccontextmanager
    async def session(self) -> AsyncIterator[AsyncSession]:
        async with self._sessions() as session:
            yield session

    async def close(self) -> None:
        await self.engine.dispose()


def alembic_config(connection: Connection | None = None) -> AlembicConfig:
    # Alembic is imported when a schema is migrated, not by every command that merely imports storage.
    from alembic.config import Config as AlembicConfig

    config = AlembicConfig()
    config.set_main_option("script_location", str(MIGRATIONS))
    if connection is not None:
        config.attributes["connection"] = connection
    return config


def _upgrade(connection: Connection) -> None:
    from alembic import command

    command.upgrade(alembic_config(connection), "head")
