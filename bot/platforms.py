"""Which chat platforms a town's config turns on. Each adapter module is imported only when used,
so a town on Telegram alone never imports wechaty, and the other way round."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

from townconfig import TownConfig

from .delivery import PlatformAdapter

if TYPE_CHECKING:
    from .app import App


class PlatformError(Exception):
    """A platform that is configured but cannot start; the message says what to set."""


def telegram_token(config: TownConfig) -> str | None:
    if config.telegram is None:
        return None
    return os.environ.get(config.telegram.token_env) or None


def wechat_enabled(config: TownConfig) -> bool:
    if config.wechat is None:
        return False
    return bool(
        config.wechat.endpoint
        or os.environ.get("WECHATY_PUPPET_SERVICE_ENDPOINT")
        or os.environ.get(config.wechat.token_env)
    )


def build_adapters(app: App) -> list[PlatformAdapter]:
    config = app.config
    adapters: list[PlatformAdapter] = []
    token = telegram_token(config)
    if token:
        from .telegram_adapter import TelegramAdapter

        adapters.append(TelegramAdapter(app, token))
    if wechat_enabled(config):
        from .wechat_adapter import WechatAdapter

        adapters.append(WechatAdapter(app))
    return adapters
