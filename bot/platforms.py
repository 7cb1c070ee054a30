"""Which chat platforms a town's config turns on, and each adapter wired to the app.

An adapter gets the app's `receive` and its chat events, never the app itself. Each adapter module
is imported only when used, so a town on Telegram alone never imports wechaty, and the other way
round.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from handlers.registry import menu_commands
from handlers.transport import PlatformAdapter, PlatformError
from townconfig import TownConfig

from .app import App

if TYPE_CHECKING:
    from .county_app import CountyApp
    from .telegram_adapter import TelegramAdapter
    from .wechat_adapter import WechatAdapter


def telegram_token(config: TownConfig) -> str | None:
    if config.telegram is None:
        return None
    return os.environ.get(config.telegram.token_env) or None


def wechat_enabled(config: TownConfig) -> bool:
    """A [wechat] section turns WeChat on; what it lacks (an endpoint, the token) stops the start."""
    return config.wechat is not None


def telegram_adapter(app: App, token: str, **options: Any) -> TelegramAdapter:
    """The Telegram adapter for this app; `options` as TelegramAdapter takes them."""
    from .telegram_adapter import TelegramAdapter

    return TelegramAdapter(
        token,
        receive=app.receive,
        events=app.events,
        settings=app.config.telegram,
        config_source=app.config.source,
        commands=menu_commands(),
        **options,
    )


def wechat_adapter(app: App, **options: Any) -> WechatAdapter:
    """The WeChat adapter for this app; `options` as WechatAdapter takes them."""
    from .wechat_adapter import WechatAdapter

    return WechatAdapter(
        receive=app.receive,
        events=app.events,
        clock=app.town.clock,
        section=app.config.wechat,
        config_source=app.config.source,
        **options,
    )


def build_adapters(app: App) -> list[PlatformAdapter]:
    """The adapters the config turns on. A platform configured without its secret stops the start:
    running the console instead (or exiting at once under a service manager) would look like a
    bot that works and hears nobody."""
    adapters: list[PlatformAdapter] = []
    config = app.config
    token = telegram_token(config)
    if config.telegram is not None and token is None:
        raise PlatformError(
            f"{config.source} has a [telegram] section but the environment variable {config.telegram.token_env} "
            "is not set: set it to the bot's token (from @BotFather), or remove [telegram] to run without Telegram"
        )
    if token:
        adapters.append(telegram_adapter(app, token))
    if wechat_enabled(app.config):
        adapters.append(wechat_adapter(app))
    return adapters


def county_adapters(county_app: CountyApp, accounts: Sequence[str] | None = None) -> list[tuple[str, PlatformAdapter]]:
    """(account key, adapter) for each account this process runs: `accounts` ("telegram:tg1",
    "wechat:wx1", or bare names), or every account of the county. A named account the county does
    not declare, or one without its secret, stops the start."""
    county = county_app.county
    keys = county.account_keys
    wanted = keys if not accounts else [_account_key(county.source, keys, name) for name in accounts]
    adapters: list[tuple[str, PlatformAdapter]] = []
    for key in wanted:
        platform, _, name = key.partition(":")
        receiver = county_app.receiver(key)
        if platform == "telegram":
            from .telegram_adapter import TelegramAdapter

            spec = county.telegram_account(name)
            token = os.environ.get(spec.token_env)
            if not token:
                raise PlatformError(
                    f"{county.source}: [[telegram_account]] {name!r} needs its bot's token in the environment "
                    f"variable {spec.token_env}; set it, or leave this account out of --accounts"
                )
            adapters.append((key, TelegramAdapter(
                token, receive=receiver, events=receiver, settings=spec, config_source=county.source,
                commands=menu_commands(),
            )))  # fmt: skip
        else:
            from .wechat_adapter import WechatAdapter

            clock = next(iter(county_app.towns.values())).town.clock
            account = county.wechat_account(name)
            # the account's own endpoint first: WECHATY_PUPPET_SERVICE_ENDPOINT would send every account to one
            adapters.append((key, WechatAdapter(
                receive=receiver, events=receiver, clock=clock, section=account, config_source=county.source,
                endpoint=account.endpoint,
            )))  # fmt: skip
    return adapters


def _account_key(source: str, keys: list[str], name: str) -> str:
    name = name.strip()
    matches = [k for k in keys if name in (k, k.partition(":")[2])]
    if len(matches) != 1:
        raise PlatformError(
            f"--accounts {name!r}: {source} declares "
            + ("no such account" if not matches else "it on several platforms; write platform:name")
            + f" (its accounts: {', '.join(keys) or 'none'})"
        )
    return matches[0]
