"""The county file: several towns in today's format, accounts declared once, and the mistakes that
must stop the bot with the file and what to write."""

from __future__ import annotations

from pathlib import Path

import pytest
from county_files import TOWNS, town_text, write_county

from townconfig import (
    ConfigError,
    CountyConfig,
    TownConfig,
    example_town_text,
    load_county,
    load_deployment,
    split_database,
)

ACCOUNTS = '[[telegram_account]]\nname = "tg1"\ntoken_env = "TG1_TOKEN"\n\n[[telegram_account]]\nname = "tg2"\ntoken_env = "TG2_TOKEN"\n'


def county_error(path: Path) -> str:
    with pytest.raises(ConfigError) as caught:
        load_county(path)
    return str(caught.value)


def test_a_county_of_three_towns_each_with_a_red_star_village(tmp_path: Path) -> None:
    county = load_county(write_county(tmp_path))
    assert county.county.name == "黄河县"
    assert [t.id for t in county.towns] == list(TOWNS)
    assert [t.name for t in county.towns] == list(TOWNS.values())
    for town in county.towns:
        assert "红星村" in [v.name for v in town.config.villages]  # names repeat across towns
        assert town.config.source.endswith(f"towns/{town.id}.toml")
    assert county.town("hongqi") is county.town("红旗镇") is county.towns[1]
    assert county.town("nowhere") is None
    assert county.is_county_admin("console:county_office")
    assert not county.is_county_admin("console:wangxian-town_office")


def test_a_town_dir_lists_its_files_by_id(tmp_path: Path) -> None:
    path = write_county(tmp_path)
    text = path.read_text("utf-8")
    text = "\n".join(line for line in text.splitlines() if not line.startswith(("[[town]]", "id =", "file =")))
    path.write_text('town_dir = "towns"  # a top-level key: before the first table\n' + text, "utf-8")
    assert sorted(t.id for t in load_county(path).towns) == sorted(TOWNS)


def test_accounts_each_town_on_its_own(tmp_path: Path) -> None:
    path = write_county(
        tmp_path,
        platform="telegram",
        accounts={"wangxian": "tg1", "hongqi": "tg2", "qingshui": "tg2"},
        extra=ACCOUNTS + "\n",
    )
    text = path.read_text("utf-8").replace(
        'leaders_chat = "telegram:county-leaders"', 'leaders_chat = "telegram:county-leaders"\ntelegram_account = "tg1"'
    )
    path.write_text(text, "utf-8")
    county = load_county(path)
    assert county.account_keys == ["telegram:tg1", "telegram:tg2"]
    assert [t.id for t in county.towns_on("telegram:tg2")] == ["hongqi", "qingshui"]
    assert county.towns[0].accounts == ["telegram:tg1"]
    assert county.telegram_account("tg2").token_env == "TG2_TOKEN"


def test_the_only_account_of_a_platform_needs_no_naming(tmp_path: Path) -> None:
    path = write_county(
        tmp_path, platform="wechat", extra='[[wechat_account]]\nname = "wx1"\nendpoint = "127.0.0.1:1"\n'
    )
    county = load_county(path)
    assert [t.wechat_account for t in county.towns] == ["wx1", "wx1", "wx1"]


def test_an_unknown_account_names_the_town_file_and_the_declared_ones(tmp_path: Path) -> None:
    path = write_county(
        tmp_path, platform="telegram", accounts={"wangxian": "tg1", "hongqi": "tg9", "qingshui": "tg1"}, extra=ACCOUNTS
    )
    message = county_error(path)
    assert "hongqi.toml" in message and "'tg9'" in message and "tg1, tg2" in message


def test_several_accounts_and_a_town_that_names_none(tmp_path: Path) -> None:
    path = write_county(tmp_path, platform="telegram", accounts={"wangxian": "tg1", "hongqi": "tg2"}, extra=ACCOUNTS)
    message = county_error(path)
    assert "qingshui.toml" in message and 'account = "tg1"' in message


def test_chats_of_a_platform_without_an_account(tmp_path: Path) -> None:
    message = county_error(write_county(tmp_path, platform="telegram"))
    assert "wangxian.toml" in message and "[[telegram_account]]" in message


def test_a_chat_in_two_towns(tmp_path: Path) -> None:
    path = write_county(tmp_path)
    town = tmp_path / "towns" / "hongqi.toml"
    town.write_text(town.read_text("utf-8").replace('"console:hongqi-五星村"', '"console:wangxian-五星村"'), "utf-8")
    message = county_error(path)
    assert "console:wangxian-五星村" in message and "wangxian.toml" in message and "hongqi.toml" in message
    assert "one town" in message


def test_a_town_id_twice(tmp_path: Path) -> None:
    path = write_county(tmp_path)
    path.write_text(path.read_text("utf-8").replace('id = "hongqi"', 'id = "wangxian"'), "utf-8")
    message = county_error(path)
    assert "wangxian" in message and "twice" in message


def test_a_town_id_that_cannot_name_a_schema(tmp_path: Path) -> None:
    path = write_county(tmp_path)
    path.write_text(path.read_text("utf-8").replace('id = "hongqi"', 'id = "红旗"'), "utf-8")
    message = county_error(path)
    assert "id" in message and "红旗" in message


def test_two_towns_with_one_name(tmp_path: Path) -> None:
    message = county_error(write_county(tmp_path, towns={"a": "王岘镇", "b": "王岘镇"}))
    assert "王岘镇" in message and "[town] name" in message


def test_a_town_that_keeps_its_own_database(tmp_path: Path) -> None:
    path = write_county(tmp_path)
    town = tmp_path / "towns" / "qingshui.toml"
    town.write_text(town.read_text("utf-8").replace("[town]\n", '[town]\ndatabase = "sqlite:///x.db"\n'), "utf-8")
    message = county_error(path)
    assert "qingshui.toml" in message and "[county] database" in message and "remove" in message


def test_account_settings_belong_to_the_account_not_the_town(tmp_path: Path) -> None:
    path = write_county(tmp_path, platform="wechat", extra='[[wechat_account]]\nname = "wx1"\n')
    town = tmp_path / "towns" / "wangxian.toml"
    town.write_text(town.read_text("utf-8") + '\n[wechat]\nendpoint = "127.0.0.1:9"\n', "utf-8")
    message = county_error(path)
    assert "wangxian.toml" in message and "endpoint" in message and "[[wechat_account]]" in message


def test_a_county_admin_also_listed_as_a_town_admin(tmp_path: Path) -> None:
    path = write_county(tmp_path)
    path.write_text(
        path.read_text("utf-8").replace('"console:county_office"', '"console:wangxian-town_office"'), "utf-8"
    )
    message = county_error(path)
    assert "wangxian.toml" in message and "[[county_admin]]" in message


def test_a_missing_town_file(tmp_path: Path) -> None:
    path = write_county(tmp_path)
    (tmp_path / "towns" / "hongqi.toml").unlink()
    message = county_error(path)
    assert "hongqi" in message and "does not exist" in message


def test_an_unknown_key_in_the_county_shows_the_county_keys(tmp_path: Path) -> None:
    path = write_county(tmp_path)
    path.write_text(path.read_text("utf-8").replace('name = "黄河县"', 'name = "黄河县"\ncolour = "red"'), "utf-8")
    message = county_error(path)
    assert "colour" in message and "leaders_chat" in message and "wechat_account" in message


def test_a_bad_town_file_is_named(tmp_path: Path) -> None:
    path = write_county(tmp_path)
    town = tmp_path / "towns" / "hongqi.toml"
    town.write_text(town.read_text("utf-8").replace('remind = "08:00"', 'remind = "8点"'), "utf-8")
    message = county_error(path)
    assert "hongqi.toml" in message and "HH:MM" in message


def test_each_town_has_its_share_of_the_database() -> None:
    assert split_database("postgresql://u@h/db", "wangxian") == ("postgresql://u@h/db", "town_wangxian")
    assert split_database("postgresql://u@h/db", "county") == ("postgresql://u@h/db", "county")
    assert split_database("sqlite:///data/county.db", "wangxian") == ("sqlite:///data/county.wangxian.db", None)
    assert split_database("sqlite:////abs/county", "hongqi") == ("sqlite:////abs/county.hongqi", None)
    with pytest.raises(ConfigError):
        split_database("sqlite:///:memory:", "x")


def test_a_town_file_is_still_a_town_and_a_county_file_a_county(tmp_path: Path) -> None:
    town = tmp_path / "town.toml"
    town.write_text(example_town_text(), "utf-8")
    assert isinstance(load_deployment(town), TownConfig)
    assert isinstance(load_deployment(write_county(tmp_path / "c")), CountyConfig)


def test_the_town_text_helper_changes_what_it_says() -> None:
    text = town_text("红旗镇", "hongqi")
    assert 'name = "红旗镇"' in text and '"console:hongqi-五星村"' in text and "database =" not in text
