"""The town office's page: an aiohttp application, read-only, server-rendered, behind the web token.

Each request reads the day in one transaction through the same `build_town_report` the CLI report
and the deadline summary use, so the page, the text and the spreadsheet show the same figures.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import tempfile
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import jinja2
from aiohttp import web

from handlers import texts
from handlers.pictures import build_trend, trend_png
from handlers.town import Town
from handlers.town_report import build_town_report
from storage import Database

from ..xlsx_export import write_xlsx
from .auth import COOKIE_NAME, SESSION_SECONDS, Sessions
from .page import page_context
from .trends import trend_days

DATABASE = web.AppKey("database", Database)
TOWN = web.AppKey("town", Town)
SESSIONS = web.AppKey("sessions", Sessions)
TEMPLATES = web.AppKey("templates", jinja2.Environment)
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
#: Inline styles only, no scripts, nothing from elsewhere; images from this server (the trend chart).
SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'none'; style-src 'unsafe-inline'; img-src 'self'; form-action 'self'; frame-ancestors 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",  # the figures are the town's, not a shared cache's
}
_OPEN = {("GET", "/login"), ("POST", "/login")}

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def _render(request: web.Request, template: str, *, status: int = 200, **context: Any) -> web.Response:
    html = request.app[TEMPLATES].get_template(template).render(t=texts.WEB_LABELS, **context)
    return web.Response(text=html, status=status, content_type="text/html", charset="utf-8")


def _local_path(value: str | None) -> str:
    """Where to go after logging in: a path on this server only (no //elsewhere)."""
    if value and value.startswith("/") and not value.startswith("//") and "\\" not in value:
        return value
    return "/"


def _see_other(path: str) -> web.Response:
    return web.Response(status=303, headers={"Location": path})


def _signed_in(request: web.Request) -> bool:
    sessions = request.app[SESSIONS]
    authorization = request.headers.get("Authorization", "")
    scheme, _, given = authorization.partition(" ")
    if scheme.lower() == "bearer" and given and sessions.is_token(given.strip()):
        return True
    cookie = request.cookies.get(COOKIE_NAME)
    return bool(cookie) and sessions.is_valid(cookie or "")


def _login_form(request: web.Request, *, status: int, wrong: bool = False, next_path: str = "/") -> web.Response:
    response = _render(request, "login.html", status=status, wrong=wrong, next_path=next_path)
    if status == 401:
        response.headers["WWW-Authenticate"] = 'Bearer realm="villagebot"'
    return response


@web.middleware
async def _guard(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Every route but the login form needs the token or a session: else 401, and a browser gets
    the form to log in with."""
    if (request.method, request.path) in _OPEN or _signed_in(request):
        response = await handler(request)
    else:
        response = _login_form(request, status=401, next_path=_local_path(request.path_qs))
    response.headers.update(SECURITY_HEADERS)
    return response


async def _login_page(request: web.Request) -> web.StreamResponse:
    next_path = _local_path(request.query.get("next"))
    if _signed_in(request):
        return _see_other(next_path)
    return _login_form(request, status=200, next_path=next_path)


async def _login(request: web.Request) -> web.StreamResponse:
    form = await request.post()
    given, next_path = form.get("token"), _local_path(str(form.get("next") or "/"))
    sessions = request.app[SESSIONS]
    if not isinstance(given, str) or not sessions.is_token(given.strip()):
        return _login_form(request, status=401, wrong=True, next_path=next_path)
    response = _see_other(next_path)
    response.set_cookie(
        COOKIE_NAME,
        sessions.issue(),
        max_age=SESSION_SECONDS,
        path="/",
        httponly=True,
        samesite="Strict",
        secure=_over_https(request),
    )
    return response


def _over_https(request: web.Request) -> bool:
    """Https here or at a proxy in front (X-Forwarded-Proto): then the cookie is Secure. Plain http
    on 127.0.0.1 gets none, or the browser would never send it back. A forged header only makes
    the cookie stricter, so it is safe to believe."""
    return request.secure or request.headers.get("X-Forwarded-Proto", "").lower() == "https"


async def _logout(request: web.Request) -> web.StreamResponse:
    cookie = request.cookies.get(COOKIE_NAME)
    if cookie:
        request.app[SESSIONS].end(cookie)
    response = _see_other("/login")
    response.del_cookie(COOKIE_NAME, path="/")
    return response


class _BadDay(Exception):
    pass


def _day(request: web.Request) -> dt.date:
    value = request.query.get("day")
    if not value:
        return request.app[TOWN].today()
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise _BadDay(value) from None


async def _page(request: web.Request) -> web.StreamResponse:
    try:
        day = _day(request)
    except _BadDay:
        return _render(request, "error.html", status=400, message=texts.WEB_LABELS["bad_day"])
    town = request.app[TOWN]
    async with request.app[DATABASE].transaction() as store:
        report = await build_town_report(store, town, day)
        trend = await trend_days(store, day)
    return _render(request, "page.html", **page_context(report, trend, town.fields, today=town.today()))


async def _xlsx(request: web.Request) -> web.StreamResponse:
    try:
        day = _day(request)
    except _BadDay:
        return _render(request, "error.html", status=400, message=texts.WEB_LABELS["bad_day"])
    async with request.app[DATABASE].transaction() as store:
        report = await build_town_report(store, request.app[TOWN], day)
    with tempfile.TemporaryDirectory(prefix="villagebot-web-") as folder:
        path = Path(folder) / "report.xlsx"
        await asyncio.to_thread(write_xlsx, report, path)
        body = path.read_bytes()
    return web.Response(
        body=body,
        content_type=XLSX_TYPE,
        headers={"Content-Disposition": f'attachment; filename="villagebot-{day.isoformat()}.xlsx"'},
    )


async def _trend_png(request: web.Request) -> web.StreamResponse:
    """The 14 days' chart the leaders get on Mondays, for the page's trends."""
    try:
        day = _day(request)
    except _BadDay:
        return _render(request, "error.html", status=400, message=texts.WEB_LABELS["bad_day"])
    async with request.app[DATABASE].transaction() as store:
        trend = await build_trend(store, request.app[TOWN], day)
    body = await asyncio.to_thread(trend_png, trend)  # a few hundred ms of drawing, off the loop
    return web.Response(body=body, content_type="image/png", headers={"Cache-Control": "no-store"})


def town_office_app(database: Database, town: Town, sessions: Sessions) -> web.Application:
    """The page's routes over an open, migrated database; the caller owns (and closes) the database."""
    app = web.Application(middlewares=[_guard])
    app[DATABASE] = database
    app[TOWN] = town
    app[SESSIONS] = sessions
    app[TEMPLATES] = jinja2.Environment(
        loader=jinja2.PackageLoader("bot.web", "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,  # a misspelt label fails the test, not the page silently
    )
    app.router.add_get("/", _page)
    app.router.add_get("/report.xlsx", _xlsx)
    app.router.add_get("/trend.png", _trend_png)
    app.router.add_get("/login", _login_page)
    app.router.add_post("/login", _login)
    app.router.add_post("/logout", _logout)
    return app
