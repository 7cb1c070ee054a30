"""`villagebot run`: the bot on every configured platform with the clock, or the console chat."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import sys
from typing import Any

from handlers.personal_info import install_log_masking
from handlers.transport import PlatformAdapter, PlatformError
from outbox.sender import OutboxSender
from scheduler.leader import keep_the_clock, keep_the_county_clock
from storage import DatabaseError
from storage.personal_data import DataKeyError
from townconfig import CountyConfig, TownConfig

from .app import App
from .console import ConsoleChat, ConsolePlatform, chat_names
from .county_app import CountyApp
from .platforms import build_adapters, county_adapters

log = logging.getLogger("villagebot")

#: Seconds a stopping bot lets each sender finish the sends under way and record them, so that a
#: restart does not send them again; well inside the 10 s a service manager waits after SIGTERM.
SENDER_GRACE = 5.0


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


def run_county(county: CountyConfig, accounts: list[str] | None = None) -> int:
    """`villagebot run --config county.toml [--accounts A,B]`: the chosen accounts' adapters, their
    towns' senders, and a bid for every town's clock (one process in the county keeps each)."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    install_log_masking()
    try:
        return asyncio.run(_run_county(county, accounts))
    except (DatabaseError, DataKeyError, PlatformError) as exc:
        print(f"villagebot: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 0


async def _run_county(county: CountyConfig, accounts: list[str] | None) -> int:
    county_app = await CountyApp.start(county)
    try:
        adapters = county_adapters(county_app, accounts)
    except PlatformError:
        await county_app.close()
        raise
    for key, adapter in adapters:
        county_app.add_platform(key, adapter)
    stop = _stop_on_signals()
    log.info("villagebot for %s started on %s", county.county.name, ", ".join(k for k, _ in adapters) or "no account")
    tasks = [asyncio.create_task(a.run(stop), name=f"receive-{k}") for k, a in adapters]
    sending = [
        asyncio.create_task(sender.run(), name=f"send-{town_id}-{name}")
        for town_id, app in county_app.towns.items()
        for name, sender in app.senders.items()
    ]
    tasks += sending
    for town_id, app in county_app.towns.items():
        tasks.append(
            asyncio.create_task(keep_the_clock(app.town, app.database, app.wake_senders, stop), name=f"clock-{town_id}")
        )
    host = county_app.host
    tasks.append(
        asyncio.create_task(
            keep_the_county_clock(host.database, county.county.name, county_app.send_summary, stop), name="county-clock"
        )
    )
    senders = [sender for app in county_app.towns.values() for sender in app.senders.values()]
    try:
        return await _until_stopped(tasks, sending, senders, stop)
    finally:
        await county_app.close()
        log.info("villagebot stopped")


async def _until_stopped(
    tasks: list[asyncio.Task[Any]], sending: list[asyncio.Task[Any]], senders: list[OutboxSender], stop: asyncio.Event
) -> int:
    """Run until a signal or the first task to end; then let the sends under way finish (up to
    SENDER_GRACE) and cancel the rest. 0 on a signal, 1 when a task failed; a PlatformError (a
    setting to fix, a refused token say) is raised for run_bot to print what to set."""
    stopper = asyncio.create_task(stop.wait())
    try:
        done, _ = await asyncio.wait({*tasks, stopper}, return_when=asyncio.FIRST_COMPLETED)
        for task in done:
            error = None if task is stopper else task.exception()
            if isinstance(error, PlatformError):
                raise error
            if error is not None:
                log.error("%s stopped: %s", task.get_name(), error)
                return 1
        return 0
    finally:
        stop.set()
        stopper.cancel()
        for sender in senders:
            sender.stop()
        if sending:
            await asyncio.wait(sending, timeout=SENDER_GRACE)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)


def _stop_on_signals() -> asyncio.Event:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(sig, stop.set)
    return stop


async def _run(config: TownConfig) -> int:
    if not config.admins:
        log.warning(
            "%s has no [[admin]]: nobody can send notices, bind groups or appoint heads; add one with the "
            "town leader's id (name = \"镇防控办\", ids = [\"telegram:…\"])",
            config.source,
        )
    app = await App.start(config)
    try:
        adapters = build_adapters(app)
    except PlatformError:
        await app.close()
        raise
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
    try:
        return await _until_stopped(tasks, sending, list(app.senders.values()), stop)
    finally:
        await app.close()
        log.info("villagebot stopped")


async def _run_console(config: TownConfig) -> int:
    console = ConsolePlatform(sys.stdout, chat_names(config))
    app = await App.start(config, platforms={"console": console})
    stop = _stop_on_signals()
    try:
        await app.drain()  # what a previous run left queued goes out first
        chat = ConsoleChat(app.town, app.receive, app.senders["console"], console, sys.stdin)
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
