"""`villagebot serve`: the town office's page on 127.0.0.1 (or --listen HOST:PORT) until interrupted."""

from __future__ import annotations

import asyncio
import sys

from aiohttp import web

from handlers.clock import SystemClock
from handlers.town import Town
from storage import Database, DatabaseError
from townconfig import TownConfig

from .app import town_office_app
from .auth import Sessions, TokenMissing, token_from_environment

DEFAULT_LISTEN = "127.0.0.1:8017"


class ListenError(ValueError):
    pass


def parse_listen(value: str) -> tuple[str, int]:
    """HOST:PORT (an IPv6 host in brackets, [::1]:8017) → (host, port)."""
    host, colon, port = value.rpartition(":")
    host = host.strip("[]")
    if not colon or not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise ListenError(f"--listen {value!r} is not HOST:PORT; write it as e.g. 127.0.0.1:8017 or 0.0.0.0:8017")
    return host, int(port)


async def prepare(config: TownConfig, database: Database) -> Town:
    """The database migrated and its kept-up summaries built for the town's template, as `villagebot
    run` does at start: the trends read them."""
    await database.migrate()
    town = Town.build(config, SystemClock())
    async with database.transaction() as store:
        await store.reports.rebuild_summaries(town.required)
        await store.checkpoints.rebuild_day_totals()
    return town


async def _serve(config: TownConfig, token: str, host: str, port: int) -> None:
    database = Database(config.database_url)
    try:
        town = await prepare(config, database)
        runner = web.AppRunner(town_office_app(database, town, Sessions(token)), access_log=None)
        await runner.setup()
        try:
            await web.TCPSite(runner, host, port).start()
            print(f"villagebot: the town office's page is at http://{host}:{port}/ (Ctrl-C to stop)", file=sys.stderr)
            await asyncio.Event().wait()
        finally:
            await runner.cleanup()
    finally:
        await database.close()


def serve(config: TownConfig, listen: str | None) -> int:
    try:
        token = token_from_environment()
        host, port = parse_listen(listen or DEFAULT_LISTEN)
    except (TokenMissing, ListenError) as exc:
        print(f"villagebot: {exc}", file=sys.stderr)
        return 2
    try:
        asyncio.run(_serve(config, token, host, port))
    except KeyboardInterrupt:
        return 0
    except (DatabaseError, OSError) as exc:
        print(f"villagebot: {exc}", file=sys.stderr)
        return 2
    return 0
