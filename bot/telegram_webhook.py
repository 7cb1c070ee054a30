"""The webhook: a small HTTP server that Telegram posts updates to.

Telegram sends each update as a JSON POST with the secret we gave it in setWebhook in the
`X-Telegram-Bot-Api-Secret-Token` header. A request without the right secret is refused (403)
before its body is read. An update is answered 200 only after the app has stored it; if storing
fails the answer is 500 and Telegram sends the update again later. (python-telegram-bot's own
webhook server answers 200 as soon as the update is queued, before any handler has run.)
"""

from __future__ import annotations

import hmac
import json
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web

log = logging.getLogger(__name__)

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
MAX_BODY = 1 << 20  # an update is a few kB; a megabyte is more than any

UpdateHandler = Callable[[dict[str, Any]], Awaitable[None]]


class WebhookServer:
    def __init__(self, *, listen: str, port: int, path: str, secret: str, handle: UpdateHandler) -> None:
        self.listen = listen
        self.port = port
        self.path = path or "/"
        self._secret = secret.encode()
        self._handle = handle
        app = web.Application(client_max_size=MAX_BODY)
        app.router.add_post(self.path, self._post)
        self._runner = web.AppRunner(app, access_log=None, handle_signals=False, shutdown_timeout=2.0)
        self._site: web.TCPSite | None = None

    async def start(self) -> None:
        await self._runner.setup()
        self._site = web.TCPSite(self._runner, self.listen, self.port)
        await self._site.start()
        addresses = self._runner.addresses  # the bound port, when 0 asked for any free one
        if addresses:
            self.port = int(addresses[0][1])
        log.info("Telegram webhook listening on %s:%s%s", self.listen, self.port, self.path)

    async def stop(self) -> None:
        await self._runner.cleanup()

    async def _post(self, request: web.Request) -> web.Response:
        # aiohttp decodes header bytes that are not UTF-8 to lone surrogates, which a plain encode()
        # refuses (a 500 with a traceback); surrogateescape gives the bytes back, and they get 403.
        given = request.headers.get(SECRET_HEADER, "").encode("utf-8", "surrogateescape")
        if not hmac.compare_digest(given, self._secret):
            log.warning("webhook request from %s refused: wrong or missing secret token", request.remote)
            return web.Response(status=403, text="forbidden")
        try:
            update = json.loads(await request.read())
        except ValueError:
            return web.Response(status=400, text="not JSON")
        if not isinstance(update, dict):
            return web.Response(status=400, text="not an update")
        try:
            await self._handle(update)
        except Exception:
            log.exception("update %s could not be stored; Telegram will send it again", update.get("update_id"))
            return web.Response(status=500, text="not stored, send again")
        return web.Response(status=200, text="ok")
