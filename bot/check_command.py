"""`villagebot check`: what to run before `run`. The config, the database (and the data key against
it), and each configured platform, each reached once; every problem with what to do about it."""

from __future__ import annotations

import asyncio

from handlers.transport import DeliveryError, PlatformError
from storage import DatabaseError
from storage.personal_data import DATA_KEY_ENV, DataKey, DataKeyError
from townconfig import CountyConfig, TownConfig

from .app import App
from .platforms import build_adapters

OK, PROBLEM, WARNING = "✓", "✗", "!"


async def _check(config: TownConfig) -> list[tuple[str, str]]:
    found = [
        (
            OK,
            f"config {config.source}: {config.town.name}, {len(config.villages)} villages, "
            f"{len(config.checkpoints)} checkpoints, {len(config.admins)} admins",
        )
    ]
    if not config.admins:
        found.append((WARNING, "no [[admin]]: nobody can send notices, bind groups or appoint heads; add one"))
    try:
        app = await App.start(config)
    except (DatabaseError, DataKeyError) as exc:
        return [*found, (PROBLEM, str(exc))]
    try:
        found.append((OK, f"database {app.database.safe_url}: reached, schema up to date"))
        if DataKey.from_environment() is None:
            found.append((WARNING, f"{DATA_KEY_ENV} is not set: the bot will register nobody under observation"))
        else:
            found.append((OK, f"{DATA_KEY_ENV}: the key the personal data is stored with"))
        try:
            adapters = build_adapters(app)
        except PlatformError as exc:
            return [*found, (PROBLEM, str(exc))]
        if not adapters:
            found.append((WARNING, "no [telegram] or [wechat]: `villagebot run` will run the console chat"))
        for adapter in adapters:
            try:
                found.append((OK, await adapter.check()))
            except (PlatformError, DeliveryError) as exc:
                found.append((PROBLEM, str(exc)))
    finally:
        await app.close()
    return found


def check(config: TownConfig) -> int:
    """Print what was found; 1 when anything must be fixed before `villagebot run`."""
    found = asyncio.run(_check(config))
    for mark, line in found:
        print(f"{mark} {line}")
    return 1 if any(mark == PROBLEM for mark, _ in found) else 0


async def _check_county(county: CountyConfig, accounts: list[str] | None = None) -> list[tuple[str, str]]:
    """The county file and its towns, every town's share of the database, and each account once."""
    from .county_app import CountyApp
    from .platforms import county_adapters

    found = [
        (
            OK,
            f"county {county.source}: {county.county.name}, {len(county.towns)} towns "
            f"({', '.join(f'{t.id} {t.name}' for t in county.towns)}), {len(county.admins)} county admins, "
            f"accounts: {', '.join(county.account_keys) or 'none'}",
        )
    ]
    for town in county.towns:
        found.append(
            (OK, f"  {town.id}: {town.config.source}, {len(town.config.villages)} villages, "
                 f"on {', '.join(town.accounts) or 'the console'}")
        )  # fmt: skip
    try:
        app = await CountyApp.start(county)
    except (DatabaseError, DataKeyError) as exc:
        return [*found, (PROBLEM, str(exc))]
    try:
        for town_id, town_app in app.towns.items():
            found.append((OK, f"database {town_app.database.safe_url} ({town_id}): reached, schema up to date"))
        try:
            adapters = county_adapters(app, accounts)
        except PlatformError as exc:
            return [*found, (PROBLEM, str(exc))]
        for key, adapter in adapters:
            try:
                found.append((OK, f"{key}: {await adapter.check()}"))
            except (PlatformError, DeliveryError) as exc:
                found.append((PROBLEM, f"{key}: {exc}"))
    finally:
        await app.close()
    return found


def check_county(county: CountyConfig, accounts: list[str] | None = None) -> int:
    found = asyncio.run(_check_county(county, accounts))
    for mark, line in found:
        print(f"{mark} {line}")
    return 1 if any(mark == PROBLEM for mark, _ in found) else 0
