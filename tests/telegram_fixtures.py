"""The Telegram stand-in and its town, for every test that talks to Telegram (a pytest plugin,
loaded by conftest): one definition instead of one per test file."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from telegram_standin import TelegramStandIn, town_toml

from handlers.clock import ManualClock
from townconfig import TownConfig, parse_config


@pytest.fixture
def telegram(clock: ManualClock) -> Iterator[TelegramStandIn]:
    """Telegram, dating its messages by the test's clock (conftest's: 9:00 on 17 Feb 2020)."""
    with TelegramStandIn(now=clock.now) as standin:
        yield standin


@pytest.fixture
def town(monkeypatch: pytest.MonkeyPatch, telegram: TelegramStandIn) -> TownConfig:
    """telegram_standin's town, its Bot API at the stand-in."""
    monkeypatch.setenv("TELEGRAM_BASE_URL", telegram.base_url)
    return parse_config(town_toml(), "town.toml")
