"""`villagebot parse --jsonl`: many messages, one result line each, in order, as fast as the machine allows.

Lines are parsed in chunks by worker processes (one per core), each of which builds the parser
once, so there is no start-up cost per line. Input is read with `os.read`, which returns what has
arrived so far: a program that writes one line and waits for its answer gets it at once, and a
file of twenty thousand lines is cut into chunks that keep every core busy.
"""

from __future__ import annotations

import datetime as dt
import json
import multiprocessing
import os
from collections import deque
from collections.abc import Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from typing import Any, BinaryIO

from handlers.parsing import ROLES, MessageContext, MessageParser, Role, Vocabulary
from handlers.registry import message_parser
from townconfig import TownConfig

CHUNK_LINES = 1000

# The worker process's own parser, built once by `_start_worker`. Module state, but each worker
# process has its own copy and sets it exactly once; the main process never touches it.
_worker_parser: MessageParser | None = None


def parse_lines(parser: MessageParser, lines: list[bytes], first_number: int, today: dt.date) -> bytes:
    """The result lines for these input lines; a bad line gets an error object, not a crash.
    A line's "today" (YYYY-MM-DD) overrides `today` for that line."""
    dumps, loads, parse = json.dumps, json.loads, parser.parse
    contexts: dict[tuple[Any, Any, Any], MessageContext] = {}  # a few (village, role, today), made once each
    out: list[str] = []
    for number, line in enumerate(lines, start=first_number):
        if not line.strip():
            continue
        try:
            item = loads(line)
            key = (item.get("village"), item.get("role") or "head", item.get("today"))
            context = contexts.get(key)
            if context is None:
                day = dt.date.fromisoformat(key[2]) if key[2] else today
                context = contexts[key] = MessageContext(village=key[0], role=_role(key[1]), today=day)
            result = parse(str(item["text"]), context).to_json()
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            result = {"kind": "none", "error": f"line {number}: {exc}"}
        out.append(dumps(result, ensure_ascii=False))
    return ("\n".join(out) + "\n").encode("utf-8") if out else b""


def _role(value: Any) -> Role:
    for role in ROLES:
        if role == value:
            return role
    raise ValueError(f"role must be one of {', '.join(ROLES)}")


def _start_worker(config: TownConfig) -> None:
    global _worker_parser
    _worker_parser = message_parser(Vocabulary.from_config(config))


def _parse_in_worker(lines: list[bytes], first_number: int, today: dt.date) -> bytes:
    assert _worker_parser is not None, "the worker was started without its parser"
    return parse_lines(_worker_parser, lines, first_number, today)


def arriving_lines(source: BinaryIO) -> Iterator[list[bytes]]:
    """Complete lines in the order they come, in groups of what has arrived (at most CHUNK_LINES)."""
    fd = source.fileno()
    rest = b""
    while True:
        data = os.read(fd, 1 << 20)
        if not data:
            break
        lines = (rest + data).split(b"\n")
        rest = lines.pop()
        for start in range(0, len(lines), CHUNK_LINES):
            yield lines[start : start + CHUNK_LINES]
    if rest:
        yield [rest]


def run_batch(config: TownConfig, source: BinaryIO, sink: BinaryIO, workers: int, today: dt.date) -> None:
    if workers <= 1:
        parser = message_parser(Vocabulary.from_config(config))
        number = 1
        for lines in arriving_lines(source):
            sink.write(parse_lines(parser, lines, number, today))
            sink.flush()
            number += len(lines)
        return
    context = multiprocessing.get_context("fork")
    with ProcessPoolExecutor(workers, mp_context=context, initializer=_start_worker, initargs=(config,)) as pool:
        pending: deque[Future[bytes]] = deque()
        number = 1
        for lines in arriving_lines(source):
            pending.append(pool.submit(_parse_in_worker, lines, number, today))
            number += len(lines)
            # Write what is done, in order; wait only when enough is queued to keep every worker busy.
            while pending and (pending[0].done() or len(pending) > 2 * workers):
                sink.write(pending.popleft().result())
                sink.flush()
        while pending:
            sink.write(pending.popleft().result())
        sink.flush()


def default_workers() -> int:
    return max(1, min(4, os.cpu_count() or 1))
