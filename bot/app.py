"""Wiring: the database, the town, the dispatcher, the outbox sender and the platforms, started once."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import sys
from dataclasses import dataclass

from handlers.clock import Clock, SystemClock
from handlers.dispatcher import Dispatcher
from handlers.town import Town
from storage import Database, DatabaseError

from .config import TownConfig
from .console import ConsoleChat, ConsolePlatform, chat_names
from .delivery import OutboxSender, Platform

log = logging.getLogger("villagebot")


@dataclass
class App:
    """The running bot's parts; tests build one the same way `villagebot run` does."""

    config: TownConfig
    database: Database
    town: Town
    dispatcher: Dispatcher
    sender: OutboxSender

    @classmethod
    async def start(
        cls,
        config: TownConfig,
        *,
        clock: Clock | None = None,
        platforms: dict[str, Platform] | None = None,
        database: Database | None = None,
    ) -> App:
        database = database or Database(config.database_url)
        try:
            await database.migrate()
        except Exception:
            await database.close()
            raise
        town = Town.build(config, clock or SystemClock())
        dispatcher = Dispatcher(town, database)
        sender = OutboxSender(database, platforms or {}, town.clock)
        return cls(config, database, town, dispatcher, sender)

    async def close(self) -> None:
        await self.database.close()


def run_bot(config: TownConfig) -> int:
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    try:
        return asyncio.run(_run(config))
    except DatabaseError as exc:
        print(f"villagebot: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 0


async def _run(config: TownConfig) -> int:
    console = ConsolePlatform(sys.stdout, chat_names(config))
    app = await App.start(config, platforms={"console": console})
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(sig, stop.set)
    try:
        await app.sender.drain()  # what a previous run left queued goes out first
        chat = ConsoleChat(app.town, app.dispatcher, app.sender, console, sys.stdin)
        chat_task = asyncio.create_task(chat.run())
        stop_task = asyncio.create_task(stop.wait())
        await asyncio.wait({chat_task, stop_task}, return_when=asyncio.FIRST_COMPLETED)
        for task in (chat_task, stop_task):
            task.cancel()
    finally:
        await app.close()
    return 0
