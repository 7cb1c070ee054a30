"""The town config: the example town, configs that must stop the bot, and a town's own report fields."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from bot import cli
from handlers.parsing import MessageContext, MessageParser, Vocabulary
from handlers.registry import message_parser
from townconfig import ConfigError, example_town, example_town_text, load_config, parse_config

VILLAGES = ["五星村", "王岘村", "雒家滩村", "红星村", "新华村", "金山村", "柳树村", "东风社区"]


# --- the example town ---------------------------------------------------------------------------


def test_the_example_town_has_eight_villages_and_fourteen_checkpoints() -> None:
    town = example_town()
    assert town.town.name == "王岘镇"
    assert town.town.timezone == "Asia/Shanghai"
    assert [v.name for v in town.villages] == VILLAGES
    assert len(town.checkpoints) == 14
    assert "109国道雒家滩卡点" in [c.name for c in town.checkpoints]
    assert {c.village for c in town.checkpoints} <= set(VILLAGES)


def test_the_example_town_has_the_default_template() -> None:
    fields = {f.id: f for f in example_town().report_fields}
    assert list(fields) == [
        "households_visited",
        "returnees",
        "high_risk_returnees",
        "under_observation",
        "fever",
        "disinfections",
        "signs",
        "posters",
        "cancelled_events",
    ]
    required = {i for i, f in fields.items() if f.required}
    assert required == {"households_visited", "returnees", "under_observation", "fever", "disinfections"}
    assert (fields["households_visited"].min, fields["households_visited"].max) == (0, 5000)
    assert fields["disinfections"].max == 20
    assert fields["disinfections"].warn_below == 2
    assert fields["high_risk_returnees"].at_most == "returnees"


def test_the_example_file_loads_from_disk_the_same(tmp_path: Path) -> None:
    path = tmp_path / "town.toml"
    path.write_text(example_town_text(), encoding="utf-8")
    town = load_config(path)
    assert town.source == str(path)
    assert [v.name for v in town.villages] == VILLAGES
    assert len(town.checkpoints) == 14


def test_without_a_config_the_example_town_is_used(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    assert load_config(None).town.name == "王岘镇"


def test_a_town_toml_in_the_current_folder_is_used(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "town.toml").write_text(example_town_text().replace('name = "王岘镇"', 'name = "测试镇"'), "utf-8")
    monkeypatch.chdir(tmp_path)
    assert load_config(None).town.name == "测试镇"


# --- configs that must stop the bot --------------------------------------------------------------


def changed(old: str, new: str) -> str:
    """The example town with one change; the change must apply, or the test is testing nothing."""
    text = example_town_text()
    assert old in text, old
    return text.replace(old, new, 1)


def line_of(text: str, needle: str) -> int:
    return text[: text.index(needle)].count("\n") + 1


def load_error(tmp_path: Path, text: str) -> tuple[str, Path]:
    path = tmp_path / "town.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    return str(caught.value), path


def test_an_unknown_key_is_named_with_its_line_and_the_allowed_keys(tmp_path: Path) -> None:
    text = changed('timezone = "Asia/Shanghai"', 'timezone = "Asia/Shanghai"\ncolour = "red"')
    message, path = load_error(tmp_path, text)
    assert str(path) in message
    assert "colour" in message
    assert f"line {line_of(text, 'colour')}" in message
    assert "timezone" in message and "leaders_chat" in message  # what may be written there instead


def test_an_unknown_key_in_a_village(tmp_path: Path) -> None:
    text = changed('aliases = ["五星"]', 'aliases = ["五星"]\nalias = "五星"')
    message, path = load_error(tmp_path, text)
    assert str(path) in message
    assert "alias" in message and "village" in message
    assert "aliases" in message  # the key that was meant


def test_a_village_named_twice(tmp_path: Path) -> None:
    text = changed('name = "王岘村"', 'name = "五星村"')
    message, path = load_error(tmp_path, text)
    assert str(path) in message
    assert "village" in message
    assert "五星村" in message
    assert "twice" in message and "once" in message
    second = [n for n, line in enumerate(text.splitlines(), start=1) if line == 'name = "五星村"'][1]
    assert f"(line {second})" in message  # where the name comes again


def test_an_alias_that_repeats_a_village(tmp_path: Path) -> None:
    message, path = load_error(tmp_path, changed('aliases = ["王岘"]', 'aliases = ["五星"]'))
    assert str(path) in message
    assert "五星" in message and "twice" in message


@pytest.mark.parametrize("bad", ["8点", "25:00", "8:60", "noon", "0800"])
def test_a_time_that_is_not_a_time(tmp_path: Path, bad: str) -> None:
    text = changed('remind = "08:00"', f'remind = "{bad}"')
    message, path = load_error(tmp_path, text)
    assert str(path) in message
    assert "remind" in message
    assert f"line {line_of(text, 'remind =')}" in message
    assert "HH:MM" in message


def test_times_out_of_order(tmp_path: Path) -> None:
    message, path = load_error(tmp_path, changed('deadline = "17:00"', 'deadline = "09:00"'))
    assert str(path) in message
    assert "remind < chase < deadline" in message


def test_a_chat_bound_to_two_villages(tmp_path: Path) -> None:
    message, path = load_error(tmp_path, changed('chats = ["console:王岘村"]', 'chats = ["console:五星村"]'))
    assert str(path) in message
    assert "console:五星村" in message
    assert "五星村" in message and "王岘村" in message
    assert "one village" in message


def test_a_chat_that_is_not_platform_id(tmp_path: Path) -> None:
    message, path = load_error(tmp_path, changed('chats = ["console:王岘村"]', 'chats = ["王岘村群"]'))
    assert str(path) in message
    assert "chats" in message
    assert "platform:id" in message


def test_a_missing_file(tmp_path: Path) -> None:
    path = tmp_path / "nowhere" / "town.toml"
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    message = str(caught.value)
    assert str(path) in message
    assert "no such config file" in message
    assert "example-config" in message  # how to make one


def test_a_toml_syntax_error_names_the_line(tmp_path: Path) -> None:
    text = changed('name = "王岘镇"', 'name = "王岘镇')
    message, path = load_error(tmp_path, text)
    assert str(path) in message
    assert "not valid TOML" in message
    assert f"line {line_of(text, 'name = ')}" in message


@pytest.mark.parametrize(
    ("old", "new", "words"),
    [
        ('timezone = "Asia/Shanghai"', 'timezone = "Mars/Olympus"', ["timezone", "IANA"]),
        ('village = "雒家滩村"', 'village = "不存在村"', ["不存在村", "[[village]]"]),
        ('at_most = "returnees"', 'at_most = "nobody"', ["at_most", "nobody"]),
        ("max = 5000", "max = -1", ["min", "max"]),
        (
            'leaders_chat = "console:leaders"',
            'leaders_chat = "console:五星村"',
            ["leaders_chat", "console:五星村", "五星村", "a group of their own"],
        ),
        (
            'keywords = ["新增返乡人员", "返乡人员", "返乡",',
            'keywords = ["新增返乡人员", "返乡人员", "排查", "返乡",',
            ["排查", "households_visited", "returnees", "keep it in one"],
        ),
        ("[[admin]]", "[telegram]\nper_second = 1000\n\n[[admin]]", ["per_second", "less than or equal to 30"]),
        ("[[admin]]", "[telegram]\nper_chat_per_minute = 60\n\n[[admin]]", ["per_chat_per_minute", "equal to 20"]),
    ],
)
def test_other_inconsistencies_are_named(tmp_path: Path, old: str, new: str, words: list[str]) -> None:
    message, path = load_error(tmp_path, changed(old, new))
    assert str(path) in message
    for word in words:
        assert word in message


def test_the_cli_stops_with_the_message_and_prints_nothing(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "town.toml"
    path.write_text(changed('remind = "08:00"', 'remind = "8点"'), encoding="utf-8")
    code = cli.main(["parse", "--config", str(path)])
    out, err = capsys.readouterr()
    assert code == 2
    assert out == ""
    assert str(path) in err and "remind" in err and "HH:MM" in err


# --- a town's own fields ------------------------------------------------------------------------

NUCLEIC_FIELD = """
[[field]]
id = "nucleic_tests"
label = "核酸检测"
keywords = ["核酸检测", "核酸采样", "核酸"]
units = ["人", "人次", "份"]
required = true
min = 0
max = 3000
"""


def parser_for(text: str) -> MessageParser:
    return message_parser(Vocabulary.from_config(parse_config(text, "town.toml")))


def test_a_town_can_add_a_field_without_code() -> None:
    parser = parser_for(example_town_text() + NUCLEIC_FIELD)
    result = parser.parse(
        "日报 排查120户 返乡3人 居家观察12人 发热0人 消毒2次 核酸检测30人", MessageContext(village="五星村")
    ).to_json()
    assert result["kind"] == "daily_report"
    assert result["fields"]["nucleic_tests"] == 30
    assert result["missing"] == []
    assert result["problems"] == []


def test_an_added_field_is_validated_and_required_like_the_others() -> None:
    parser = parser_for(example_town_text() + NUCLEIC_FIELD)
    ctx = MessageContext(village="五星村")
    absent = parser.parse("日报 排查120户 返乡3人 居家观察12人 发热0人 消毒2次", ctx).to_json()
    assert absent["missing"] == ["nucleic_tests"]
    too_many = parser.parse("日报 排查120户 核酸采样9999份", ctx).to_json()
    assert {p["field"] for p in too_many["problems"]} == {"nucleic_tests"}
    assert any("核酸检测" in p["message"] for p in too_many["problems"])
    traditional = parser.parse("日報 排查120戶 核酸檢測三十人", ctx).to_json()
    assert traditional["fields"] == {"households_visited": 120, "nucleic_tests": 30}


def test_the_example_town_knows_nothing_of_the_added_field() -> None:
    parser = message_parser(Vocabulary.from_config(example_town()))
    result = parser.parse("日报 排查120户 核酸检测30人", MessageContext(village="五星村")).to_json()
    assert "nucleic_tests" not in result["fields"]
    assert "nucleic_tests" not in result["missing"]


def test_a_town_with_its_own_smaller_template() -> None:
    text = re.sub(r"^\[\[field\]\].*", "", example_town_text(), flags=re.DOTALL | re.MULTILINE)
    assert not re.search(r"^\[\[field\]\]", text, re.MULTILINE)
    assert "[[village]]" in text
    text += """
[[field]]
id = "households_visited"
label = "走访"
keywords = ["走访", "入户"]
units = ["户"]
required = true
max = 800

[[field]]
id = "fever"
label = "发热"
keywords = ["发热", "发烧"]
required = true
max = 50
"""
    parser = parser_for(text)
    ctx = MessageContext(village="五星村")
    result = parser.parse("日报 走访120户", ctx).to_json()
    assert result["fields"] == {"households_visited": 120}
    assert result["missing"] == ["fever"]
    result = parser.parse("日报 走访900户 发烧0人", ctx).to_json()
    assert {p["field"] for p in result["problems"]} == {"households_visited"}  # the town's own max
    assert result["fields"] == {"fever": 0}


def test_example_config_into_town_toml_works_as_the_readme_writes_it(tmp_path: Path) -> None:
    """The shell empties town.toml before the command runs: the command must not read it."""
    import subprocess
    import sys

    target = tmp_path / "town.toml"
    target.write_text("[town\nbroken", encoding="utf-8")  # what an earlier, failed edit left
    command = [sys.executable, "-m", "bot.cli", "example-config"]
    with target.open("w", encoding="utf-8") as out:
        done = subprocess.run(command, cwd=tmp_path, stdout=out, stderr=subprocess.PIPE, text=True, check=False)
    assert done.returncode == 0, done.stderr
    assert target.read_text(encoding="utf-8") == example_town_text()
    assert load_config(target).town.name == example_town().town.name


def test_keygen_needs_no_config(tmp_path: Path) -> None:
    import subprocess
    import sys

    (tmp_path / "town.toml").write_text("not toml at all [", encoding="utf-8")
    done = subprocess.run(
        [sys.executable, "-m", "bot.cli", "keygen"], cwd=tmp_path, capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip()


def test_a_byte_order_mark_from_windows_notepad_is_accepted(tmp_path: Path) -> None:
    path = tmp_path / "town.toml"
    path.write_bytes(b"\xef\xbb\xbf" + example_town_text().encode("utf-8"))
    assert load_config(path).town.name == example_town().town.name


def test_an_sqlite_file_in_a_folder_that_does_not_exist_is_named(tmp_path: Path) -> None:
    """Not a traceback: the folder, and what to do."""
    import subprocess
    import sys

    path = tmp_path / "town.toml"
    path.write_text(changed('database = "sqlite:///villagebot.db"', 'database = "sqlite:///data/town.db"'), "utf-8")
    done = subprocess.run(
        [sys.executable, "-m", "bot.cli", "report", "--config", str(path)],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=False,
        env={k: v for k, v in os.environ.items() if k != "VILLAGEBOT_DATABASE_URL"},
    )
    assert done.returncode != 0
    assert "Traceback" not in done.stderr
    assert f"the folder {tmp_path / 'data'} does not exist" in done.stderr and "mkdir -p" in done.stderr


def _run_bot(tmp_path: Path, text: str, **env: str) -> subprocess.CompletedProcess[str]:
    path = tmp_path / "town.toml"
    path.write_text(text, encoding="utf-8")
    clean = {k: v for k, v in os.environ.items() if k not in ("TELEGRAM_BOT_TOKEN", "VILLAGEBOT_DATABASE_URL")}
    return subprocess.run(
        [sys.executable, "-m", "bot.cli", "run", "--config", str(path)],
        cwd=tmp_path,
        input="",
        capture_output=True,
        text=True,
        timeout=60,
        env={**clean, "VILLAGEBOT_DATABASE_URL": f"sqlite:///{tmp_path}/town.db", **env},
        check=False,
    )


def test_telegram_configured_without_its_token_stops_the_start_saying_what_to_set(tmp_path: Path) -> None:
    """Not the console in its place, and not exit 0 under a service manager."""
    done = _run_bot(tmp_path, changed("[[admin]]", "[telegram]\nper_second = 20\n\n[[admin]]"))
    assert done.returncode == 2
    assert "TELEGRAM_BOT_TOKEN is not set" in done.stderr and "[telegram]" in done.stderr
    assert "Traceback" not in done.stderr and done.stdout == ""


def test_a_town_without_an_admin_is_warned_of_at_start(tmp_path: Path) -> None:
    text = example_town_text()
    start = text.index("[[admin]]")
    end = text.index("\n\n", start)
    done = _run_bot(tmp_path, text[:start] + text[end:])
    assert "has no [[admin]]" in done.stderr, done.stderr
