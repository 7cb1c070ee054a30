"""The console chat as a person uses it (a real subprocess), then `villagebot report` on what it stored."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from openpyxl import load_workbook

VILLAGEBOT = [sys.executable, "-m", "bot.cli"]

A_SHORT_DAY = """\
日报 入户排查120户，返乡3人，居家观察12人，发热0人，消毒2次
大家好，今天天气不错
/as 王岘村 head
日报：排查200户，返乡5人，居家观察20人，发热0人，消毒2次，设立宣传牌3处，发放宣传单200份
/as 红星村 head
日报 排查86户 返乡2人
/as leaders admin
通知：即日起各村严禁举办聚餐、婚宴，请各村广泛宣传。
捐赠 魏烈权 捐款500元
督查 五星村 垃圾台未及时清运
/as 109国道雒家滩卡点 checkpoint
登记 甘D66A88 1人 37.3℃ 来自白银 去柳树村
/as 五星村 head
收到
/as 五星村 resident
好的，谢谢
/as 王岘村 head
好的，但我们村口罩还没到，谁来送？
"""


def run(args: list[str], cwd: Path, stdin: str = "", env_extra: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "VILLAGEBOT_DATABASE_URL": f"sqlite:///{cwd}/town.db", **(env_extra or {})}
    return subprocess.run(VILLAGEBOT + args, input=stdin, capture_output=True, text=True, cwd=cwd, env=env,
                          timeout=60, encoding="utf-8")


@pytest.fixture(scope="module")
def a_day(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    folder = tmp_path_factory.mktemp("town")
    screen = run(["run"], folder, A_SHORT_DAY)
    assert screen.returncode == 0, screen.stderr
    return folder, screen.stdout


def test_the_console_shows_replies_in_the_group_and_sends_to_other_groups(a_day: tuple[Path, str]) -> None:
    _, screen = a_day
    assert "🤖 ✅ 已收到五星村" in screen
    assert "🤖 ✅ 已收到王岘村" in screen
    assert "还缺：居家观察、发热、消毒" in screen  # 红星村 was incomplete
    assert screen.count("→ [") >= 8  # the notice went to the other village groups
    assert "→ [柳树村群] 📢" in screen
    assert "→ [镇领导群] 🚨 卡点预警" in screen
    assert "大家好" not in screen.replace("[五星村村干部（五星村群）] > ", "")  # chat: no echo, no reply
    assert "Traceback" not in screen


def test_report_json_agrees_with_the_day(a_day: tuple[Path, str]) -> None:
    folder, _ = a_day
    date = json.loads(run(["report", "--format", "json"], folder).stdout)["date"]
    report = json.loads(run(["report", "--format", "json", "--date", date], folder).stdout)
    assert report["town"] == "王岘镇"
    by_name = {v["name"]: v for v in report["villages"]}
    assert len(by_name) == 8
    assert by_name["五星村"]["reported"] and by_name["五星村"]["fields"]["households_visited"] == 120
    assert by_name["王岘村"]["fields"]["signs"] == 3
    assert not by_name["红星村"]["reported"] and by_name["红星村"]["fields"] == {"households_visited": 86, "returnees": 2}
    assert report["totals"]["households_visited"] == 120 + 200 + 86
    assert set(report["missing"]) == {"红星村", "雒家滩村", "新华村", "金山村", "柳树村", "东风社区"}
    assert report["incomplete"] == ["红星村"]
    assert report["checkpoints"]["fevers"] == 1 and report["checkpoints"]["vehicles"] == 1
    assert report["donations"]["cumulative"]["money_yuan"] == 500
    assert [i["place"] for i in report["inspections"]["open"]] == ["五星村"]
    assert report["notices"][0]["groups"] == 8 and report["notices"][0]["delivered"] == 8
    assert report["notices"][0]["acknowledged"] == {"五星村": 2}
    assert "设立宣传牌3处" in report["bulletin"] and "共收到1位爱心人士的捐赠，捐赠金额500元" in report["bulletin"]


def test_report_text_reads_like_the_bulletin(a_day: tuple[Path, str]) -> None:
    folder, _ = a_day
    text = run(["report"], folder).stdout
    assert "应报 8 个，实报 2 个，未报 6 个" in text
    assert "未报全：红星村" in text
    assert "截至目前，累计" in text
    assert "  回执：五星村2人、王岘村0人、雒家滩村0人、红星村0人、新华村0人、金山村0人、柳树村0人、东风社区0人" in text.splitlines()


def test_report_xlsx_opens_and_holds_the_rows(a_day: tuple[Path, str]) -> None:
    folder, _ = a_day
    out = folder / "report.xlsx"
    result = run(["report", "--format", "xlsx", "--output", str(out)], folder)
    assert result.returncode == 0, result.stderr
    book = load_workbook(out)
    assert {"日报", "卡点预警", "捐赠", "督查整改", "通知", "汇总"} <= set(book.sheetnames)
    sheet = book["日报"]
    assert sheet.freeze_panes == "A2"
    assert all(cell.font.bold for cell in sheet[1])
    rows = {row[0]: row for row in sheet.iter_rows(min_row=2, values_only=True)}
    assert rows["五星村"][1] == "是" and rows["五星村"][3] == 120
    assert rows["合计"][3] == 406
    assert sheet.column_dimensions["A"].width >= 10  # 东风社区 is 8 columns wide on screen
    assert book["捐赠"]["A2"].value == "魏烈权"
    receipts = list(book["通知回执"].iter_rows(values_only=True))
    assert receipts[0] == ("通知编号", "村/社区", "回执（人）")
    assert receipts[1:3] == [(1, "五星村", 2), (1, "王岘村", 0)] and len(receipts) == 1 + 8


def test_a_bad_date_is_refused_with_what_to_write(tmp_path: Path) -> None:
    result = run(["report", "--date", "17/02/2020"], tmp_path)
    assert result.returncode == 2 and "YYYY-MM-DD" in result.stderr


def test_a_bad_config_stops_the_bot_naming_the_key(tmp_path: Path) -> None:
    (tmp_path / "town.toml").write_text('[town]\nname = "X镇"\nnmae = 1\n[[village]]\nname = "甲村"\n', encoding="utf-8")
    result = run(["run"], tmp_path)
    assert result.returncode == 2
    assert "town.toml" in result.stderr and "nmae" in result.stderr and "line 3" in result.stderr


def test_report_draws_the_days_table_and_the_trend_as_png(a_day: tuple[Path, str], tmp_path: Path) -> None:
    folder, _ = a_day
    table, trend = tmp_path / "day.png", tmp_path / "trend.png"
    drawn = run(["report", "--format", "png", "--output", str(table)], folder)
    assert drawn.returncode == 0, drawn.stderr
    assert table.read_bytes().startswith(b"\x89PNG\r\n\x1a\n") and 10_000 < table.stat().st_size < 300 * 1024
    drawn = run(["report", "--trend", "--format", "png", "--output", str(trend)], folder)
    assert drawn.returncode == 0, drawn.stderr
    assert trend.read_bytes().startswith(b"\x89PNG\r\n\x1a\n")
    refused = run(["report", "--format", "png"], folder)
    assert refused.returncode == 2 and "--output" in refused.stderr
