"""Makes the `wechaty` package (0.10.x) importable on Python 3.11 with today's dependencies.

`import wechaty` fails three ways there, and this module, used by the WeChat adapter alone, fixes
all three before it imports wechaty:

1. pyee 12 and later export `AsyncIOEventEmitter` from `pyee.asyncio` only, and wechaty does
   `from pyee import AsyncIOEventEmitter`: the class is made reachable under the old name too.
2. urllib3 2 removed `get_host`, which `wechaty.user.url_link` imports: it is put back, written
   as urllib3 1.26 wrote it.
3. Python 3.11's dataclasses refuse a default whose class is unhashable, and `WechatyOptions`
   has `puppet_options: PuppetOptions = PuppetOptions()` (python-wechaty issues #385 and #422).
   No pin can fix this one. `PuppetOptions` is made hashable only while wechaty's modules are
   imported; that shared default instance must then never be used, because wechaty writes the
   token and endpoint into it: the adapter always passes a `PuppetOptions()` of its own.

Two more things happen at import that a long-running service does not want:

- wechaty's `get_logger` gives each of its loggers a stderr handler of its own at INFO and stops
  propagation, so it prints every message it receives; and `PuppetService` logs the service token
  in a warning whenever an endpoint and a token are both set. Its loggers are routed through the
  application's logging instead, at WARNING, and `PuppetService`'s at ERROR.
- wechaty creates its cache directory (`CACHE_DIR`, else `./.wechaty` in the working directory)
  while importing. Unless `CACHE_DIR` is set, the import is pointed at a temporary directory that is
  removed again: nothing the adapter uses reads that directory later.
"""

from __future__ import annotations

import contextlib
import importlib
import logging
import os
import shutil
import sys
import tempfile
import warnings
from collections.abc import Iterator
from types import ModuleType
from typing import Any

_QUIET_LEVEL = logging.WARNING
_SECRET_LOGGERS = {"PuppetService": logging.ERROR}  # logs the token in a warning


def load_wechaty() -> ModuleType:
    """The `wechaty` package, imported once with the fixes above."""
    loaded = sys.modules.get("wechaty")
    if loaded is not None and hasattr(loaded, "Wechaty"):
        return loaded
    _export_pyee_asyncio_emitter()
    _restore_urllib3_get_host()
    before = set(logging.Logger.manager.loggerDict)
    with _cache_dir_for_import(), _hashable_puppet_options(), warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # telnetlib, deprecated in 3.11
        module = importlib.import_module("wechaty")
        importlib.import_module("wechaty_puppet_service")  # wechaty imports it only when a bot is made
    _route_new_loggers(before)
    return module


def _export_pyee_asyncio_emitter() -> None:
    import pyee

    if not hasattr(pyee, "AsyncIOEventEmitter"):
        from pyee.asyncio import AsyncIOEventEmitter

        pyee.AsyncIOEventEmitter = AsyncIOEventEmitter  # type: ignore[attr-defined]


def _get_host(url: str) -> tuple[str, str | None, int | None]:
    """urllib3 1.26's `get_host`: (scheme, host, port) of a URL, the scheme defaulting to http."""
    from urllib3.util import parse_url

    parsed = parse_url(url)
    return parsed.scheme or "http", parsed.hostname, parsed.port


def _restore_urllib3_get_host() -> None:
    import urllib3

    if not hasattr(urllib3, "get_host"):
        urllib3.get_host = _get_host  # type: ignore[attr-defined]


@contextlib.contextmanager
def _hashable_puppet_options() -> Iterator[None]:
    from wechaty_puppet.schemas.puppet import PuppetOptions  # type: ignore[import-untyped]

    options_class: Any = PuppetOptions
    had_own_hash = "__hash__" in options_class.__dict__
    original = options_class.__dict__.get("__hash__")
    options_class.__hash__ = object.__hash__
    try:
        yield
    finally:
        if had_own_hash:
            options_class.__hash__ = original
        else:
            del options_class.__hash__


@contextlib.contextmanager
def _cache_dir_for_import() -> Iterator[None]:
    if os.environ.get("CACHE_DIR"):
        yield
        return
    scratch = tempfile.mkdtemp(prefix="villagebot-wechaty-")
    os.environ["CACHE_DIR"] = scratch
    try:
        yield
    finally:
        os.environ.pop("CACHE_DIR", None)
        shutil.rmtree(scratch, ignore_errors=True)


def _route_new_loggers(before: set[str]) -> None:
    for name in set(logging.Logger.manager.loggerDict) - before:
        logger = logging.Logger.manager.loggerDict[name]
        if isinstance(logger, logging.Logger) and not logger.propagate:
            logger.handlers.clear()
            logger.propagate = True
            logger.setLevel(_SECRET_LOGGERS.get(name, _QUIET_LEVEL))
