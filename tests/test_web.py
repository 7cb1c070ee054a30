"""`villagebot serve`'s routes on a real server on 127.0.0.1: what the page shows of a real day (on
both databases), the spreadsheet it hands out, and who gets in (the token, the session cookie)."""

from __future__ import annotations

import datetime as dt
import io
import os
import re
import socket
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest
from aiohttp.test_utils import TestClient, TestServer
from chat_harness import Chat
from openpyxl import load_workbook
from waiting import eventually
from web_day import DAY, INCOMPLETE, LATE, MISSING, REPORTED, seed_a_day

from bot.web import COOKIE_NAME, TOKEN_VARIABLE, Sessions, town_office_app
from handlers.clock import ManualClock, SystemClock
from handlers.town import Town
from handlers.town_report import build_town_report
from storage import Database
from townconfig import TownConfig

TOKEN = "s3cret-token-for-the-town-office"
BEARER = {"Authorization": f"Bearer {TOKEN}"}
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _row(html: str, village: str) -> str:
    found = re.search(rf'<tr class="(\w+)" data-village="{village}">(.*?)</tr>', html, re.S)
    assert found, f"no row for {village}"
    return found.group(1) + "|" + found.group(2)


@pytest.fixture
async def seeded(keyed: Chat, clock: ManualClock) -> AsyncIterator[tuple[TestClient, Chat]]:
    await seed_a_day(keyed, clock)
    app = town_office_app(keyed.app.database, keyed.app.town, Sessions(TOKEN))
    async with TestClient(TestServer(app, host="127.0.0.1")) as client:
        yield client, keyed


async def test_the_page_shows_every_village_in_its_state_and_the_reports_figures(seeded: tuple[TestClient, Chat]) -> None:
    client, chat = seeded
    response = await client.get(f"/?day={DAY}", headers=BEARER)
    assert response.status == 200 and response.content_type == "text/html"
    html = await response.text()
    async with chat.app.database.transaction() as store:
        report = await build_town_report(store, chat.app.town, DAY)
    assert "王岘镇疫情防控日报（2月17日）" in html
    assert "应报 8 个，实报 3 个，未报 5 个，迟报 1 个" in html
    for village in MISSING:
        assert _row(html, village).startswith("missing|") and "未报" in _row(html, village)
    for village in INCOMPLETE:
        assert _row(html, village).startswith("incomplete|") and "未报全" in _row(html, village)
    for village in LATE:
        assert _row(html, village).startswith("late|") and "迟报" in _row(html, village)
    for village in REPORTED:
        assert _row(html, village).startswith("reported|")
    assert "⚠ 登记在册 1 人" in _row(html, "五星村") and "已报 <span class=\"flag-mark\">⚠</span>" in _row(html, "五星村")  # 12 reported, 1 registered
    assert "登记在册" not in _row(html, "王岘村")  # no registry there: nothing to differ from
    # The totals row is the report's totals, in the template's field order.
    footer = re.search(r"<tfoot>(.*?)</tfoot>", html, re.S)
    assert footer is not None
    cells = re.findall(r"<td>(\d+)</td>", footer.group(1))
    assert cells == [str(report.totals[f]) for f in report.labels]
    assert report.totals["households_visited"] == 120 + 200 + 86 + 66
    # Trends: fourteen days from the summaries, newest first; the 16th has 雒家滩村's and 王岘村's reports.
    trend = re.search(r'<section id="trends">(.*?)</section>', html, re.S)
    assert trend is not None
    days = re.findall(r'<tr><th scope="row">([^<]+)</th>((?:<td>[^<]*</td>)+)</tr>', trend.group(1))
    assert [d for d, _ in days] == [f"{(DAY - dt.timedelta(days=n)).month}月{(DAY - dt.timedelta(days=n)).day}日" for n in range(14)]
    by_day = {d: re.findall(r"<td>([^<]*)</td>", values) for d, values in days}
    assert by_day["2月16日"][:2] == ["240", "6"]  # 排查 90 + 150, 返乡 2 + 4
    assert by_day["2月17日"][0] == str(report.totals["households_visited"])
    assert by_day["2月17日"][-3:] == ["1", "2", "1"]  # checkpoint vehicles, people, fevers
    assert set(by_day["2月4日"]) == {"0"}  # the oldest of the fourteen
    # Donations, the open inspection item, the notice with its delivery and receipts.
    assert "魏烈权" in html and "白银某商贸公司" in html and "口罩700个" in html
    assert "垃圾台未及时清运" in html
    assert "即日起各村严禁举办聚餐" in html and "已送达 8/8 个群" in html
    assert "<li>五星村 1</li>" in html and '<li class="silent">王岘村 0</li>' in html
    assert "甘D66A88" in html


async def test_another_day_and_a_day_that_is_not_one(seeded: tuple[TestClient, Chat]) -> None:
    client, _ = seeded
    yesterday = await (await client.get("/?day=2020-02-16", headers=BEARER)).text()
    assert "（2月16日）" in yesterday and _row(yesterday, "雒家滩村").startswith("late|")
    assert _row(yesterday, "五星村").startswith("missing|")
    bad = await client.get("/?day=17.2.2020", headers=BEARER)
    assert bad.status == 400 and "YYYY-MM-DD" in await bad.text()


async def test_the_spreadsheet_is_the_reports_and_opens(seeded: tuple[TestClient, Chat]) -> None:
    client, chat = seeded
    response = await client.get(f"/report.xlsx?day={DAY}", headers=BEARER)
    assert response.status == 200 and response.content_type == XLSX_TYPE
    assert f'filename="villagebot-{DAY}.xlsx"' in response.headers["Content-Disposition"]
    book = load_workbook(io.BytesIO(await response.read()))
    rows = list(book["日报"].iter_rows(values_only=True))
    assert [r[0] for r in rows[1:-1]] == chat.app.town.directory.village_names
    by_village = {r[0]: r for r in rows}
    assert by_village["金山村"][1] == "否" and by_village["新华村"][2] == "是"
    assert by_village["合计"][3] == 120 + 200 + 86 + 66
    assert [r[1] for r in book["捐赠"].iter_rows(min_row=2, values_only=True)] == ["个人", "单位"]


async def test_the_page_shows_the_trend_chart_of_its_day(seeded: tuple[TestClient, Chat]) -> None:
    client, _ = seeded
    html = await (await client.get(f"/?day={DAY}", headers=BEARER)).text()
    assert f'src="trend.png?day={DAY}"' in html
    response = await client.get(f"/trend.png?day={DAY}", headers=BEARER)
    assert response.status == 200 and response.content_type == "image/png"
    body = await response.read()
    assert body.startswith(b"\x89PNG\r\n\x1a\n") and len(body) > 10_000
    assert (await client.get("/trend.png?day=2月17日", headers=BEARER)).status == 400


# --- who gets in: no data needed, so one database -------------------------------------------------


@pytest.fixture
async def client(tmp_path: Path, town_config: TownConfig) -> AsyncIterator[TestClient]:
    database = Database(f"sqlite:///{tmp_path}/web.db")
    await database.migrate()
    app = town_office_app(database, Town.build(town_config, SystemClock()), Sessions(TOKEN))
    try:
        async with TestClient(TestServer(app, host="127.0.0.1")) as test_client:
            yield test_client
    finally:
        await database.close()


@pytest.mark.parametrize("path", ["/", "/report.xlsx", "/?day=2020-02-17", "/trend.png"])
@pytest.mark.parametrize(
    "headers",
    [{}, {"Authorization": "Bearer wrong"}, {"Authorization": f"Bearer {TOKEN}x"}, {"Authorization": f"Basic {TOKEN}"},
     {"Authorization": "Bearer "}, {"Cookie": f"{COOKIE_NAME}=forged.1.abc"}],
)
async def test_without_the_token_every_route_is_401_with_the_login_form(
    client: TestClient, path: str, headers: dict[str, str]
) -> None:
    response = await client.get(path, headers=headers, allow_redirects=False)
    assert response.status == 401
    assert response.headers["WWW-Authenticate"].startswith("Bearer")
    html = await response.text()
    assert 'name="token"' in html and 'method="post" action="/login"' in html
    assert "王岘镇" not in html  # nothing of the town's figures
    assert response.headers["Cache-Control"] == "no-store"


async def test_the_bearer_token_opens_every_route(client: TestClient) -> None:
    assert (await client.get("/", headers=BEARER)).status == 200
    assert (await client.get("/", headers={"Authorization": f"bearer  {TOKEN}"})).status == 200
    xlsx = await client.get("/report.xlsx", headers=BEARER)
    assert xlsx.status == 200 and xlsx.content_type == XLSX_TYPE
    assert "Content-Security-Policy" in xlsx.headers


async def test_logging_in_sets_a_strict_http_only_cookie_that_opens_the_page_until_logout(
    client: TestClient,
) -> None:
    wrong = await client.post("/login", data={"token": "guess", "next": "/"}, allow_redirects=False)
    assert wrong.status == 401 and "口令不对" in await wrong.text()
    assert COOKIE_NAME not in wrong.cookies
    right = await client.post("/login", data={"token": TOKEN, "next": "/?day=2020-02-16"}, allow_redirects=False)
    assert right.status == 303 and right.headers["Location"] == "/?day=2020-02-16"
    set_cookie = right.headers["Set-Cookie"]
    assert set_cookie.startswith(f"{COOKIE_NAME}=")
    flags = {part.strip().split("=")[0].lower(): part.strip() for part in set_cookie.split(";")[1:]}
    assert "httponly" in flags and flags["samesite"] == "SameSite=Strict" and flags["path"] == "Path=/"
    assert "secure" not in flags  # plain http on 127.0.0.1: a Secure cookie would never come back
    cookie = right.cookies[COOKIE_NAME].value
    assert TOKEN not in cookie
    client.session.cookie_jar.clear()  # each request below sends only the cookie it names
    page = await client.get("/", headers={"Cookie": f"{COOKIE_NAME}={cookie}"})
    assert page.status == 200 and "王岘镇" in await page.text()
    tampered = cookie[:-1] + ("0" if cookie[-1] != "0" else "1")
    assert (await client.get("/", headers={"Cookie": f"{COOKIE_NAME}={tampered}"})).status == 401
    logged_in = await client.get("/login", headers={"Cookie": f"{COOKIE_NAME}={cookie}"}, allow_redirects=False)
    assert logged_in.status == 303
    out = await client.post("/logout", headers={"Cookie": f"{COOKIE_NAME}={cookie}"}, allow_redirects=False)
    assert out.status == 303 and out.headers["Location"] == "/login"
    assert out.cookies[COOKIE_NAME].value == ""
    assert (await client.get("/", headers={"Cookie": f"{COOKIE_NAME}={cookie}"})).status == 401


async def test_behind_an_https_proxy_the_cookie_is_also_secure(client: TestClient) -> None:
    response = await client.post("/login", data={"token": TOKEN}, headers={"X-Forwarded-Proto": "https"},
                                 allow_redirects=False)
    assert response.status == 303
    assert "secure" in [part.strip().lower() for part in response.headers["Set-Cookie"].split(";")]


async def test_after_login_it_goes_only_to_a_path_on_this_server(client: TestClient) -> None:
    for elsewhere in ("//evil.example/", "https://evil.example/", "/\\evil.example"):
        response = await client.post("/login", data={"token": TOKEN, "next": elsewhere}, allow_redirects=False)
        assert response.headers["Location"] == "/"


def test_a_session_signed_for_another_token_or_expired_is_refused() -> None:
    now = [1_000_000.0]
    sessions = Sessions(TOKEN, clock=lambda: now[0])
    cookie = sessions.issue()
    assert sessions.is_valid(cookie)
    assert not Sessions("another token", clock=lambda: now[0]).is_valid(cookie)
    now[0] += 7 * 24 * 3600 + 1
    assert not sessions.is_valid(cookie)
    assert not sessions.is_valid("") and not sessions.is_valid("a.b") and not sessions.is_valid("..")


def test_a_restarted_server_accepts_no_cookie_of_before() -> None:
    """A logged-out or copied cookie must not come back to life when the server restarts."""
    cookie = Sessions(TOKEN).issue()
    assert Sessions(TOKEN).is_valid(cookie) is False


# --- the command ------------------------------------------------------------------------------------


def _serve(folder: Path, *args: str, token: str | None) -> subprocess.Popen[str]:
    env = {k: v for k, v in os.environ.items() if k != TOKEN_VARIABLE}
    env["VILLAGEBOT_DATABASE_URL"] = f"sqlite:///{folder}/town.db"
    if token is not None:
        env[TOKEN_VARIABLE] = token
    return subprocess.Popen([sys.executable, "-m", "bot.cli", "serve", *args], cwd=folder, env=env, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)


@pytest.mark.parametrize("token", [None, "", "   "])
def test_serve_refuses_to_start_without_a_token_and_says_what_to_set(tmp_path: Path, token: str | None) -> None:
    process = _serve(tmp_path, token=token)
    _, err = process.communicate(timeout=60)
    assert process.returncode == 2
    assert "VILLAGEBOT_WEB_TOKEN is not set" in err and "export VILLAGEBOT_WEB_TOKEN=" in err


def test_serve_refuses_a_listen_address_that_is_not_host_port(tmp_path: Path) -> None:
    process = _serve(tmp_path, "--listen", "8017", token=TOKEN)
    _, err = process.communicate(timeout=60)
    assert process.returncode == 2 and "HOST:PORT" in err


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


async def test_serve_listens_where_told_and_wants_the_token(tmp_path: Path) -> None:
    port = _free_port()
    process = _serve(tmp_path, "--listen", f"127.0.0.1:{port}", token=TOKEN)
    try:
        async with aiohttp.ClientSession() as session:

            async def answers() -> bool:
                try:
                    async with session.get(f"http://127.0.0.1:{port}/"):
                        return True
                except aiohttp.ClientConnectionError:
                    assert process.poll() is None, process.communicate()[1]
                    return False

            await eventually(answers, timeout=30, what="villagebot serve to answer")
            async with session.get(f"http://127.0.0.1:{port}/") as response:
                assert response.status == 401
            async with session.get(f"http://127.0.0.1:{port}/", headers=BEARER) as response:
                assert response.status == 200 and "王岘镇" in await response.text()
    finally:
        process.send_signal(2)  # Ctrl-C
        _, err = process.communicate(timeout=30)
    assert process.returncode == 0, err
    assert f"http://127.0.0.1:{port}/" in err


async def test_what_people_wrote_is_shown_as_text_never_as_markup(chat: Chat) -> None:
    await chat.person("leaders", "admin").says('通知：<script>alert("x")</script><img src=x onerror=alert(1)> 请各村落实')
    await chat.person("leaders", "admin").says("督查 五星村 <b>垃圾台</b>未清运")
    app = town_office_app(chat.app.database, chat.app.town, Sessions(TOKEN))
    async with TestClient(TestServer(app, host="127.0.0.1")) as client:
        html = await (await client.get("/", headers=BEARER)).text()
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;&lt;img src=x onerror=alert(1)&gt;" in html
    assert "&lt;b&gt;垃圾台&lt;/b&gt;" in html
    assert "<script" not in html and "<img src=x" not in html and "<b>" not in html
