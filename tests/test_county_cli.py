"""`villagebot report --county/--town` and `villagebot check` on a county file; a town file as today."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
from pathlib import Path

import pytest
from county_files import TOWNS, write_county
from openpyxl import load_workbook

from bot import cli
from bot.county_app import CountyApp
from handlers.clock import SystemClock
from handlers.messages import IncomingMessage
from townconfig import example_town_text, load_county

FULL = "日报 入户排查{n}户，返乡3人，居家观察12人，发热0人，消毒2次"


async def reports_in(folder: Path) -> Path:
    """A county on SQLite where 红星村 of wangxian and 五星村 of hongqi reported today."""
    path = write_county(folder)
    app = await CountyApp.start(load_county(path), clock=SystemClock())
    now = dt.datetime.now(dt.UTC)
    try:
        for n, (town_id, village) in enumerate([("wangxian", "红星村"), ("hongqi", "五星村")], start=1):
            chat, head = f"console:{town_id}-{village}", f"console:{town_id}-{village}村干部"
            await app.receive([IncomingMessage("console", chat, head, FULL.format(n=100 * n), f"m{n}", now)])
    finally:
        await app.close()
    return path


def test_the_county_report_as_json_puts_each_town_side_by_side(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = asyncio.run(reports_in(tmp_path))
    assert cli.main(["report", "--config", str(path), "--county", "--format", "json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["county"] == "黄河县"
    assert [t["id"] for t in report["towns"]] == list(TOWNS)
    assert [t["reported_count"] for t in report["towns"]] == [1, 1, 0]
    assert (report["expected"], report["reported_count"]) == (24, 2)
    assert report["totals"]["households_visited"] == 300
    wangxian = report["towns"][0]
    assert "红星村" not in wangxian["missing"] and "五星村" in wangxian["missing"]
    assert "红星村" in report["towns"][1]["missing"]  # hongqi's own 红星村 did not report


def test_the_county_report_as_text_and_xlsx(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = asyncio.run(reports_in(tmp_path))
    assert cli.main(["report", "--config", str(path)]) == 0
    text = capsys.readouterr().out
    assert "黄河县疫情防控日报" in text and "全县应报 24 个，实报 2 个" in text
    assert "清水镇：应报 8 个，实报 0 个" in text and "全县合计：" in text and "300" in text
    out = tmp_path / "county.xlsx"
    assert cli.main(["report", "--config", str(path), "--county", "--format", "xlsx", "--output", str(out)]) == 0
    book = load_workbook(out)
    assert book.sheetnames == ["黄河县", *TOWNS.values()]
    rows = list(book["黄河县"].iter_rows(values_only=True))
    assert rows[-1][:3] == ("合计", 24, 2)


def test_one_town_of_the_county_by_id_or_name(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = asyncio.run(reports_in(tmp_path))
    for town in ("hongqi", "红旗镇"):
        assert cli.main(["report", "--config", str(path), "--town", town, "--format", "json"]) == 0
        report = json.loads(capsys.readouterr().out)
        assert report["town"] == "红旗镇" and report["reported_count"] == 1
        assert report["totals"]["households_visited"] == 200
    assert cli.main(["report", "--config", str(path), "--town", "nowhere"]) == 2
    error = capsys.readouterr().err
    assert "nowhere" in error and "hongqi (红旗镇)" in error


def test_county_options_on_a_town_file_say_so(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    town = tmp_path / "town.toml"
    town.write_text(example_town_text().replace("sqlite:///villagebot.db", f"sqlite:///{tmp_path}/v.db"), "utf-8")
    assert cli.main(["report", "--config", str(town), "--county"]) == 2
    assert "county file" in capsys.readouterr().err


def test_check_reads_a_county(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = write_county(tmp_path)
    assert cli.main(["check", "--config", str(path)]) == 0
    out = capsys.readouterr().out
    assert "county " in out and "3 towns" in out and "wangxian 王岘镇" in out
    assert out.count("schema up to date") == 3 and "county.hongqi.db" in out


def test_a_bad_county_stops_every_command_with_the_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = write_county(tmp_path)
    path.write_text(path.read_text("utf-8").replace('id = "hongqi"', 'id = "wangxian"'), "utf-8")
    assert cli.main(["check", "--config", str(path)]) == 2
    assert "config error" in capsys.readouterr().err


def test_accounts_that_the_county_does_not_declare_stop_the_start(tmp_path: Path) -> None:
    from bot.platforms import _account_key
    from handlers.transport import PlatformError

    keys = ["telegram:tg1", "wechat:tg1", "wechat:wx2"]
    assert _account_key("c.toml", keys, "wx2") == "wechat:wx2"
    assert _account_key("c.toml", keys, " telegram:tg1") == "telegram:tg1"
    with pytest.raises(PlatformError, match=r"no such account.*wechat:wx2"):
        _account_key("c.toml", keys, "wx9")
    with pytest.raises(PlatformError, match="several platforms; write platform:name"):
        _account_key("c.toml", keys, "tg1")


def test_run_with_an_account_without_its_token_says_which_variable(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("TG1_TOKEN", raising=False)
    path = write_county(tmp_path, extra='[[telegram_account]]\nname = "tg1"\ntoken_env = "TG1_TOKEN"\n')
    assert cli.main(["run", "--config", str(path), "--accounts", "tg1"]) == 2
    error = capsys.readouterr().err
    assert "TG1_TOKEN" in error and "tg1" in error
    assert cli.main(["run", "--config", str(path), "--accounts", "nope"]) == 2
    assert "no such account" in capsys.readouterr().err
