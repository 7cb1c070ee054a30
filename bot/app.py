"""Wiring: the database, the town, the dispatcher, the outbox sender and the platforms, started once."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import sys
from collections.abc import Sequence
from dataclasses import dataclass

from handlers.clock import Clock, SystemClock
from handlers.delivery_reports import report_settled_notices
from handlers.dispatcher import Dispatcher
from handlers.messages import IncomingMessage
from handlers.personal_info import install_log_masking
from handlers.town import Town
from scheduler.leader import keep_the_clock
from storage import Database, DatabaseError
from storage.personal_data import DataKey, DataKeyError
from townconfig import TownConfig

from .console import ConsoleChat, ConsolePlatform, chat_names
from .delivery import OutboxSender, Platform, PlatformAdapter
from .platforms import PlatformError, build_adapters

log = logging.getLogger("villagebot")

#: Seconds a stopping bot lets each sender finish the sends under way and record them, so that a
#: restart does not send them again; well inside the 10 s a service manager waits after SIGTERM.
SENDER_GRACE = 5.0


@dataclass
class App:
    """The running bot's parts; tests build one the same way `villagebot run` does."""

    config: TownConfig
    database: Database
    town: Town
    dispatcher: Dispatcher
    senders: dict[str, OutboxSender]

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
        try:
            data_key = DataKey.from_environment()
        except DataKeyError:
            await database.close()
            raise
        town = Town.build(config, clock or SystemClock(), data_key)
        dispatcher = Dispatcher(town, database)
        app = cls(config, database, town, dispatcher, {})
        for platform in (platforms or {}).values():
            app.add_platform(platform)
        return app

    def add_platform(self, platform: Platform) -> OutboxSender:
        sender = OutboxSender(self.database, platform, self.town.clock, settled=self._notices_settled)
        self.senders[platform.name] = sender
        return sender

    async def _notices_settled(self, outbox_ids: list[int]) -> None:
        if await report_settled_notices(self.database, self.town, outbox_ids):
            self.wake_senders()  # a delivery report to send; not after every send of a broadcast

    async def drain(self) -> int:
        """Deliver what is due on every platform now; the number delivered."""
        return sum([await sender.drain() for sender in self.senders.values()])

    async def receive(self, message: IncomingMessage) -> None:
        """What every adapter calls: handle and store the message, then let the senders go."""
        await self.dispatcher.handle(message)
        self.wake_senders()

    async def receive_many(self, messages: Sequence[IncomingMessage]) -> None:
        """Messages that arrived together, in their order: handled and stored in one commit where
        they can be (see Dispatcher.handle_many), then the senders go."""
        if messages:
            await self.dispatcher.handle_many(messages)
            self.wake_senders()

    def wake_senders(self) -> None:
        """Tell every sender that the outbox has something new."""
        for sender in self.senders.values():
            sender.wake.set()

    async def close(self) -> None:
        await self.database.close()


def run_bot(config: TownConfig) -> int:
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    install_log_masking()
    try:
        return asyncio.run(_run(config))
    except (DatabaseError, DataKeyError, PlatformError) as exc:
        print(f"villagebot: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 0


def _stop_on_signals() -> asyncio.Event:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(sig, stop.set)
    return stop


async def _run(config: TownConfig) -> int:
    app = await App.start(config)
    adapters = build_adapters(app)
    if adapters:
        return await _run_platforms(app, adapters)
    await app.close()
    return await _run_console(config)


async def _run_platforms(app: App, adapters: list[PlatformAdapter]) -> int:
    """The bot in the town's real groups: every adapter receives, every platform's sender drains."""
    logging.getLogger().setLevel(logging.INFO)
    config = app.config
    for adapter in adapters:
        app.add_platform(adapter)
    stop = _stop_on_signals()
    log.info("villagebot for %s started on %s", config.town.name, ", ".join(a.name for a in adapters))
    tasks = [asyncio.create_task(a.run(stop), name=f"receive-{a.name}") for a in adapters]
    sending = [asyncio.create_task(s.run(), name=f"send-{n}") for n, s in app.senders.items()]
    tasks += sending
    tasks.append(asyncio.create_task(keep_the_clock(app.town, app.database, app.wake_senders, stop), name="clock"))
    stopper = asyncio.create_task(stop.wait())
    try:
        done, _ = await asyncio.wait({*tasks, stopper}, return_when=asyncio.FIRST_COMPLETED)
        for task in done:
            if task is not stopper and task.exception() is not None:
                log.error("%s stopped: %s", task.get_name(), task.exception())
                return 1
        return 0
    finally:
        stop.set()
        for sender in app.senders.values():
            sender.stop()
        await asyncio.wait(sending, timeout=SENDER_GRACE)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        await app.close()
        log.info("villagebot stopped")


async def _run_console(config: TownConfig) -> int:
    console = ConsolePlatform(sys.stdout, chat_names(config))
    app = await App.start(config, platforms={"console": console})
    stop = _stop_on_signals()
    try:
        await app.drain()  # what a previous run left queued goes out first
        chat = ConsoleChat(app.town, app.dispatcher, app.senders["console"], console, sys.stdin)
        chat_task = asyncio.create_task(chat.run())
        stop_task = asyncio.create_task(stop.wait())
        background = [
            asyncio.create_task(app.senders["console"].run()),
            asyncio.create_task(keep_the_clock(app.town, app.database, app.wake_senders, stop)),
        ]
        await asyncio.wait({chat_task, stop_task}, return_when=asyncio.FIRST_COMPLETED)
        stop.set()
        for task in (chat_task, stop_task, *background):
            task.cancel()
        await asyncio.gather(*background, return_exceptions=True)
    finally:
        await app.close()
    return 0
