"""`villagebot check`, the command to run before `run`: the README's set-up, done as written, and
each problem it names with what to do."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from telegram_standin import TOKEN, TelegramStandIn, town_toml

from bot.check_command import PROBLEM, _check
from townconfig import parse_config


def villagebot(folder: Path, *args: str, stdin: str = "", **env: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("VILLAGEBOT_", "TELEGRAM_", "WECHATY_"))}
    return subprocess.run(
        [sys.executable, "-m", "bot.cli", *args],
        cwd=folder,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=120,
        env={**clean, **env},
        check=False,
    )


def test_the_readme_set_up_works_as_written(tmp_path: Path) -> None:
    """In an empty folder: example-config > town.toml, check, then run (the console, the example
    town having no platform) answering a village head's report."""
    with (tmp_path / "town.toml").open("w", encoding="utf-8") as out:
        made = subprocess.run(
            [sys.executable, "-m", "bot.cli", "example-config"], cwd=tmp_path, stdout=out, check=False
        )
    assert made.returncode == 0
    checked = villagebot(tmp_path, "check", "--config", "town.toml")
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert "✓ config town.toml: 王岘镇, 8 villages" in checked.stdout
    assert "✓ database sqlite+aiosqlite:///villagebot.db: reached" in checked.stdout
    assert "VILLAGEBOT_DATA_KEY is not set" in checked.stdout and "console chat" in checked.stdout
    ran = villagebot(
        tmp_path, "run", "--config", "town.toml", stdin="日报 排查120户 返乡3人 居家观察12人 发热0人 消毒2次\n"
    )
    assert ran.returncode == 0, ran.stderr
    assert "五星村" in ran.stdout and "120" in ran.stdout


def test_a_database_folder_that_does_not_exist_is_a_problem_with_what_to_do(tmp_path: Path) -> None:
    (tmp_path / "town.toml").write_text(
        villagebot(tmp_path, "example-config").stdout.replace("sqlite:///villagebot.db", "sqlite:///data/town.db"),
        encoding="utf-8",
    )
    checked = villagebot(tmp_path, "check", "--config", "town.toml")
    assert checked.returncode == 1
    assert "✗" in checked.stdout and "mkdir -p" in checked.stdout


@pytest.fixture
def telegram() -> Iterator[TelegramStandIn]:
    with TelegramStandIn() as standin:
        yield standin


async def test_telegram_is_reached_with_its_token(
    tmp_path: Path, telegram: TelegramStandIn, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TELEGRAM_BASE_URL", telegram.base_url)
    config = parse_config(town_toml(f"sqlite:///{tmp_path}/town.db"), "town.toml")
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", TOKEN)
    found = await _check(config)
    assert any(line.startswith("Telegram: the bot @") for _, line in found), found
    assert not [line for mark, line in found if mark == PROBLEM]

    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", "123:wrong")
    problems = [line for mark, line in await _check(config) if mark == PROBLEM]
    assert len(problems) == 1 and "getMe" in problems[0], problems

    monkeypatch.delenv("TELEGRAM_BOT_TOKEN")
    problems = [line for mark, line in await _check(config) if mark == PROBLEM]
    assert problems and "TELEGRAM_BOT_TOKEN is not set" in problems[0]
