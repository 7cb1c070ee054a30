"""The day's table and the trends as images: the numbers drawn are the report's, every glyph is
in the font, and the pictures are small enough for a phone."""

from __future__ import annotations

import dataclasses
import datetime as dt
import os
import subprocess
import sys
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from picture_day import DAY, known_day

from handlers.pictures import Shade, Trend, TrendSeries, cjk_font_path, day_table, day_table_png, trend_png
from handlers.pictures.day_table import MAX_ROWS

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
README_PICTURE = Path(__file__).parent.parent / "docs" / "images" / "day_table.png"


@contextmanager
def missing_glyphs_fail() -> Iterator[None]:
    """matplotlib warns `Glyph N (...) missing from font(s) ...` and draws a box: here that fails."""
    with warnings.catch_warnings():
        warnings.filterwarnings("error", message=r".*[Gg]lyph .* missing from")
        yield


def png_size(data: bytes) -> tuple[int, int]:
    assert data[:8] == PNG_SIGNATURE
    return int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")


def test_the_tables_numbers_are_the_reports_json() -> None:
    report = known_day(20)
    table = day_table(report)
    data = report.to_json()
    assert [row.name for row in table.rows] == [v["name"] for v in data["villages"]]
    for row, village in zip(table.rows, data["villages"], strict=True):
        for field, cell in zip(table.field_ids, row.cells, strict=True):
            assert cell.value == village["fields"].get(field), (village["name"], field)
    assert {f: c.value for f, c in zip(table.field_ids, table.totals.cells, strict=True)} == data["totals"]
    assert table.headers == tuple(report.labels[f] for f in table.field_ids)


def test_a_county_sized_town_lists_the_villages_to_look_at_and_the_whole_towns_totals() -> None:
    """A thousand rows cannot be read on a phone (nor drawn in a second): the picture keeps the
    villages that are missing, late or differ from the registry, and says how many it left out."""
    small = known_day(20)
    lines = [
        dataclasses.replace(line, name=f"{line.name}{copy}") for copy in range(50) for line in small.villages
    ]
    report = dataclasses.replace(small, villages=lines, registry={lines[0].name: 12})
    table = day_table(report)
    attention = [v for v in lines if not v.reported or v.late]
    assert len(lines) == 1000 and len(attention) > MAX_ROWS
    assert len(table.rows) == MAX_ROWS
    assert [row.name for row in table.rows] == [lines[0].name, *(v.name for v in attention)][:MAX_ROWS]
    on_time = 1000 - len(attention) - 1  # the first village is listed for its registry difference
    assert f"按时报齐的 {on_time} 个村未列出" in table.subtitle
    assert f"另有 {len(attention) + 1 - MAX_ROWS} 个村未列出" in table.subtitle
    assert {f: c.value for f, c in zip(table.field_ids, table.totals.cells, strict=True)} == report.totals
    few = dataclasses.replace(small, villages=lines[:MAX_ROWS])
    assert len(day_table(few).rows) == MAX_ROWS and "未列出" not in day_table(few).subtitle


def test_missing_villages_are_red_late_ones_orange_and_a_registry_difference_flagged() -> None:
    report = known_day(8)
    table = day_table(report)
    shades = {row.name: row.shade for row in table.rows}
    assert {n for n, s in shades.items() if s is Shade.MISSING} == set(report.missing) == {"红星村", "金山村"}
    assert {n for n, s in shades.items() if s is Shade.LATE} == set(report.late) == {"雒家滩村"}
    observed = table.field_ids.index("under_observation")
    by_name = {row.name: row for row in table.rows}
    # 五星村 reported 10 with 12 registered; 王岘村 reported 11 with 11 registered.
    assert by_name["五星村"].cells[observed].shade is Shade.MISMATCH
    assert by_name["五星村"].cells[observed].text == "10（登记12）"
    assert by_name["王岘村"].cells[observed].shade is not Shade.MISMATCH
    assert by_name["金山村"].status == "未报全" and by_name["红星村"].status == "未报"
    assert by_name["金山村"].cells[observed].text == "缺"  # a required figure the village has not sent
    assert "王岘镇" in table.title and "2月17日" in table.title
    assert table.totals.cells[table.field_ids.index("households_visited")].value == report.totals["households_visited"]


def test_the_missing_glyph_check_catches_a_font_without_chinese() -> None:
    """The check the pictures pass must be able to fail: matplotlib's own font has no Chinese."""
    from matplotlib.figure import Figure

    figure = Figure()
    figure.text(0.5, 0.5, "王岘镇", family="DejaVu Sans")
    with missing_glyphs_fail(), pytest.raises(UserWarning, match="missing from"):
        figure.savefig(os.devnull, format="png")


def test_a_twenty_village_table_draws_every_glyph_and_is_small() -> None:
    with missing_glyphs_fail():
        png = day_table_png(known_day(20))
    width, height = png_size(png)
    assert len(png) < 300 * 1024
    assert 600 < width < 2000 and 500 < height < 2000  # a phone screen's worth, readable when zoomed
    if os.environ.get("VILLAGEBOT_WRITE_PICTURES"):
        README_PICTURE.parent.mkdir(parents=True, exist_ok=True)
        README_PICTURE.write_bytes(day_table_png(known_day(8)))


def test_the_font_is_the_packages_noto_sans_cjk() -> None:
    from matplotlib.font_manager import FontProperties

    path = cjk_font_path()
    assert "mplfonts" in path.parts and path.is_file()
    assert FontProperties(fname=path).get_name() == "Noto Sans CJK SC"


def known_trend(days: int = 14) -> Trend:
    span = tuple(DAY - dt.timedelta(days=days - 1 - i) for i in range(days))
    series = [("under_observation", "居家观察"), ("returnees", "返乡人员"), ("fever", "发热"),
              ("disinfections", "消毒"), ("checkpoint_vehicles", "卡点车辆"), ("checkpoint_people", "卡点人员")]  # fmt: skip
    return Trend("王岘镇", span, tuple(
        TrendSeries(key, label, tuple(None if i < 2 else (i * (n + 3)) % 40 for i in range(days)))
        for n, (key, label) in enumerate(series)
    ))  # fmt: skip


def test_the_trend_chart_draws_every_glyph_and_is_small() -> None:
    with missing_glyphs_fail():
        png = trend_png(known_trend())
    png_size(png)
    assert 10_000 < len(png) < 300 * 1024


def test_parse_and_the_handlers_do_not_load_matplotlib() -> None:
    """Pictures are drawn now and then; the bot's start-up and `villagebot parse` must not pay for matplotlib."""
    code = "import sys, handlers.pictures, handlers.registry, handlers.dispatcher; print('matplotlib' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_the_weekly_trend_day_is_the_configs() -> None:
    from townconfig import example_town

    schedule = example_town().schedule
    assert schedule.weekly_trend == "monday"
    assert schedule.weekly_trend_on(dt.date(2020, 2, 17)) and not schedule.weekly_trend_on(dt.date(2020, 2, 18))
    never = schedule.model_copy(update={"weekly_trend": "never"})
    assert not any(never.weekly_trend_on(dt.date(2020, 2, d)) for d in range(17, 24))


def test_telegram_puts_a_short_text_under_the_photo_and_a_long_one_after_it() -> None:
    from bot.telegram_convert import render
    from handlers.messages import OutgoingMessage, Picture

    picture = Picture(PNG_SIGNATURE + b"x", "表.png")
    [photo] = render(OutgoingMessage("telegram:-1", "📊 日报", picture=picture), str)
    assert (photo.picture, photo.text) == (picture, "📊 日报")
    long = "\n".join(["各村数字"] * 300)  # 1,499 characters: more than a caption's 1,024
    photo, *rest = render(OutgoingMessage("telegram:-1", long, picture=picture), str)
    assert photo.picture == picture and photo.text == "" and "\n".join(p.text for p in rest) == long
    assert all(p.picture is None for p in rest)


async def test_the_console_names_the_picture_and_its_size() -> None:
    import io

    from bot.console import ConsolePlatform
    from handlers.messages import OutgoingMessage, Picture

    screen = io.StringIO()
    console = ConsolePlatform(screen, names={})
    await console.deliver(OutgoingMessage("console:leaders", "📊 日报", picture=Picture(b"x" * 150_000, "表.png")))
    assert "[图片: 表.png, 146 KB]" in screen.getvalue() and "📊 日报" in screen.getvalue()
