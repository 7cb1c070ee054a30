"""The deployment files of docs/deploy.md: compose.yaml (read, not run: no container runtime is
needed), the example county it mounts, and the systemd unit, checked against each other."""

from __future__ import annotations

import re
import shlex
from pathlib import Path
from typing import Any

import pytest
import yaml

from bot.platforms import _account_key
from townconfig import CountyConfig, load_county

ROOT = Path(__file__).resolve().parent.parent
BOTS = ("bot-a", "bot-b")


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load((ROOT / "compose.yaml").read_text("utf-8"))
    return loaded


@pytest.fixture(scope="module")
def county() -> CountyConfig:
    return load_county(ROOT / "deploy" / "county" / "county.toml")


def variable_of(value: str) -> str:
    """The variable a compose value is made from: ${X}, ${X:?message} -> X."""
    found = re.fullmatch(r"\$\{(\w+)(?::\?[^}]*)?\}", value)
    assert found, value
    return found[1]


def accounts_of(service: dict[str, Any], county: CountyConfig) -> list[str]:
    command = service["command"]
    assert command[:2] == ["villagebot", "run"] and "--config" in command
    assert command[command.index("--config") + 1] == "/etc/villagebot/county.toml"
    names = command[command.index("--accounts") + 1].split(",")
    return [_account_key(county.source, county.account_keys, name) for name in names]


def test_the_services_are_the_database_a_puppet_per_wechat_account_and_two_bots(
    compose: dict[str, Any], county: CountyConfig
) -> None:
    services = compose["services"]
    assert services["postgres"]["image"].startswith("postgres:")
    puppets = {f"wechaty-{a.name}" for a in county.wechat_accounts}
    assert puppets == {name for name in services if name.startswith("wechaty-")} == {"wechaty-wx1", "wechaty-wx2"}
    assert set(BOTS) <= set(services)
    for account in county.wechat_accounts:  # the account's endpoint is its own puppet service
        host, _, port = (account.endpoint or "").partition(":")
        assert host == f"wechaty-{account.name}"
        assert services[host]["environment"]["WECHATY_PUPPET_SERVER_PORT"] == port


def test_the_two_bots_split_the_accounts_between_them(compose: dict[str, Any], county: CountyConfig) -> None:
    split = {bot: accounts_of(compose["services"][bot], county) for bot in BOTS}
    assert split == {"bot-a": ["wechat:wx1", "telegram:tg1"], "bot-b": ["wechat:wx2", "telegram:tg2"]}
    every = [key for keys in split.values() for key in keys]
    assert sorted(every) == sorted(county.account_keys) and len(set(every)) == len(every)  # each once


def test_each_bot_has_the_database_the_data_key_and_its_accounts_secrets(
    compose: dict[str, Any], county: CountyConfig
) -> None:
    services = compose["services"]
    for bot in BOTS:
        service = services[bot]
        env = service["environment"]
        assert re.fullmatch(r"postgresql://villagebot:\$\{POSTGRES_PASSWORD\}@postgres:5432/villagebot",
                            env["VILLAGEBOT_DATABASE_URL"])  # fmt: skip
        assert "VILLAGEBOT_DATA_KEY" in env
        assert service["depends_on"]["postgres"]["condition"] == "service_healthy"
        assert "./deploy/county:/etc/villagebot:ro" in service["volumes"]
        for key in accounts_of(service, county):
            platform, _, name = key.partition(":")
            spec = county.wechat_account(name) if platform == "wechat" else county.telegram_account(name)
            assert spec.token_env in env, (bot, spec.token_env)
            other = next(b for b in BOTS if b != bot)
            assert spec.token_env not in services[other]["environment"]  # a token only where it is used
            if platform == "wechat":
                puppet = services[f"wechaty-{name}"]
                assert variable_of(puppet["environment"]["WECHATY_TOKEN"]) == variable_of(env[spec.token_env])
                assert f"wechaty-{name}" in service["depends_on"]
    for variable in re.findall(r"\$\{(\w+)", (ROOT / "compose.yaml").read_text("utf-8")):
        assert re.search(rf"^{variable}=", (ROOT / "deploy" / "env.example").read_text("utf-8"), re.MULTILINE)


def test_the_example_county_has_two_towns_each_on_its_own_accounts(county: CountyConfig) -> None:
    assert [(t.id, t.accounts) for t in county.towns] == [
        ("wangxian", ["telegram:tg1", "wechat:wx1"]),
        ("hongqi", ["telegram:tg2", "wechat:wx2"]),
    ]
    assert all("红星村" in [v.name for v in t.config.villages] for t in county.towns)


def test_the_systemd_unit_runs_the_accounts_its_instance_names() -> None:
    unit = (ROOT / "deploy" / "systemd" / "villagebot@.service").read_text("utf-8")
    start = shlex.split(re.search(r"^ExecStart=(.*)$", unit, re.MULTILINE)[1])  # type: ignore[index]
    assert start[1:] == ["run", "--config", "/etc/villagebot/county.toml", "--accounts", "${VILLAGEBOT_ACCOUNTS}"]
    assert "EnvironmentFile=/etc/villagebot/process-%i.env" in unit
    assert re.search(r"^TimeoutStopSec=(\d+)$", unit, re.MULTILINE)[1] == "10"  # type: ignore[index]
    assert "villagebot@a" in (ROOT / "docs" / "deploy.md").read_text("utf-8")
