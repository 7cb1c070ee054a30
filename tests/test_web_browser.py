"""The town office's page in a real browser: Playwright driving Debian's Chromium (/usr/bin/chromium,
installed by .ci/run with apt; Playwright's own browser download is never used). It gets the login
form, logs in, finds every village and the red rows of those missing, downloads the spreadsheet and
opens it, at a desktop's and a phone's width, and keeps a screenshot of each in artifacts/.

VILLAGEBOT_WRITE_DOCS_IMAGES=1 also writes the phone's screenshot to docs/images/dashboard.png, the
picture in the README.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from aiohttp.test_utils import TestServer
from chat_harness import Chat
from openpyxl import load_workbook
from playwright.async_api import Browser, async_playwright
from web_day import DAY, INCOMPLETE, LATE, MISSING, REPORTED, seed_a_day

from bot.web import Sessions, town_office_app
from handlers.clock import ManualClock

CHROMIUM = Path("/usr/bin/chromium")
ROOT = Path(__file__).resolve().parent.parent
ARTIFACTS = ROOT / "artifacts"
DOCS_IMAGE = ROOT / "docs" / "images" / "dashboard.png"
TOKEN = "browser-test-token"
RED_ROW = "rgb(253, 224, 224)"  # --red-bg in bot/web/templates/base.html
ORANGE_ROW = "rgb(255, 233, 199)"  # --orange-bg
VIEWPORTS = {"desktop": {"width": 1280, "height": 800}, "phone": {"width": 390, "height": 844}}


@pytest.fixture
async def browser() -> AsyncIterator[Browser]:
    if not CHROMIUM.exists():
        pytest.fail(
            f"{CHROMIUM} is missing: install Debian's Chromium with "
            "`apt-get update && apt-get install -y --no-install-recommends chromium` (as root; .ci/run does it). "
            "Never `playwright install`: its download is not reachable here."
        )
    async with async_playwright() as playwright:
        launched = await playwright.chromium.launch(executable_path=str(CHROMIUM))
        try:
            yield launched
        finally:
            await launched.close()


@pytest.fixture
async def served(keyed: Chat, clock: ManualClock) -> AsyncIterator[str]:
    await seed_a_day(keyed, clock)
    server = TestServer(town_office_app(keyed.app.database, keyed.app.town, Sessions(TOKEN)), host="127.0.0.1")
    await server.start_server()
    try:
        yield str(server.make_url("/"))
    finally:
        await server.close()


async def test_the_town_office_logs_in_and_reads_the_day_at_desktop_and_phone_widths(
    browser: Browser, served: str, database: object, request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    backend = request.node.callspec.params["database"]
    for name, viewport in VIEWPORTS.items():
        context = await browser.new_context(
            viewport=viewport, device_scale_factor=2 if name == "phone" else 1, accept_downloads=True, locale="zh-CN"
        )
        page = await context.new_page()
        response = await page.goto(f"{served}?day={DAY}")
        assert response is not None and response.status == 401
        await page.fill("input[name=token]", "not the token")
        async with page.expect_navigation():
            await page.click("button[type=submit]")
        assert await page.locator("text=口令不对").is_visible()
        await page.fill("input[name=token]", TOKEN)
        async with page.expect_navigation() as navigation:
            await page.click("button[type=submit]")
        landed = await navigation.value
        assert landed is not None and landed.status == 200
        assert page.url.endswith(f"/?day={DAY}")
        assert await page.locator("h1").inner_text() == "王岘镇疫情防控日报（2月17日）"

        for village in [*REPORTED, *INCOMPLETE, *LATE, *MISSING]:
            assert await page.locator(f'#day-table tr[data-village="{village}"] th').inner_text() == village
        backgrounds = await page.eval_on_selector_all(
            "#day-table tbody tr",
            "rows => rows.map(r => [r.dataset.village, getComputedStyle(r.querySelector('td')).backgroundColor])",
        )
        red = sorted(v for v, colour in backgrounds if colour == RED_ROW)
        assert red == sorted([*MISSING, *INCOMPLETE]), backgrounds
        assert [v for v, colour in backgrounds if colour == ORANGE_ROW] == LATE
        assert await page.locator('#day-table tr[data-village="五星村"] .flag').inner_text() == "⚠ 登记在册 1 人"
        assert await page.locator("#day-table .flag-mark").count() == 1  # on 五星村's status, seen on a phone

        # The page itself never scrolls sideways; the wide table scrolls in its own box on a phone.
        widths = await page.evaluate(
            "() => { const box = document.querySelector('#day-table .scroll');"
            " return [document.documentElement.scrollWidth, window.innerWidth, box.scrollWidth, box.clientWidth]; }"
        )
        page_width, window_width, table_width, box_width = widths
        assert page_width <= window_width, widths
        if name == "phone":
            assert table_width > box_width, widths

        async with page.expect_download() as download_info:
            await page.click("#download-xlsx")
        download = await download_info.value
        assert download.suggested_filename == f"villagebot-{DAY}.xlsx"
        saved = tmp_path / f"{name}.xlsx"
        await download.save_as(saved)
        rows = list(load_workbook(saved)["日报"].iter_rows(values_only=True))
        assert {r[0] for r in rows[1:-1]} == {*REPORTED, *INCOMPLETE, *LATE, *MISSING}
        assert {r[0] for r in rows if r[1] == "否"} == {*MISSING, *INCOMPLETE}

        ARTIFACTS.mkdir(exist_ok=True)
        shot = ARTIFACTS / f"web-{backend}-{name}.png"
        await page.screenshot(path=str(shot), full_page=True)
        print(f"screenshot: {shot}")
        if name == "phone" and backend == "sqlite" and os.environ.get("VILLAGEBOT_WRITE_DOCS_IMAGES"):
            DOCS_IMAGE.parent.mkdir(parents=True, exist_ok=True)
            await page.screenshot(path=str(DOCS_IMAGE), full_page=True)
            print(f"README picture: {DOCS_IMAGE}")

        async with page.expect_navigation():
            await page.click("text=退出登录")
        assert await page.locator("input[name=token]").is_visible()
        after = await page.goto(served)
        assert after is not None and after.status == 401  # the old session is gone
        await context.close()
