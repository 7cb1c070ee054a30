"""The official wechaty puppet service in front of the mock puppet, as a process the tests drive.

tests/wechaty_service/service.mjs runs npm `wechaty-puppet-service` and `wechaty-puppet-mock`
(pinned by its package-lock.json; `.ci/run` installs them with `npm ci`). This module starts it,
speaks its line protocol, and keeps what it reports: every message the bot sent (with its mention
ids), and every Start and Stop the puppet was given.

    service = OfficialService.start()
    service.contact("wxid_head1", "张村长"); service.room(ROOM, "五星村防控群", ["wxid_bot", "wxid_head1"])
    service.login("wxid_bot"); port = service.serve(token="t", tls=True)
    service.say("wxid_head1", ROOM, "日报 ...")          # a person speaks in a room
    await service.wait_for(lambda: service.texts_to(ROOM))

Commands block only for as long as the node process takes to answer (it never waits for the bot),
so a test calls them directly; what the bot does is waited for with `wait_for`.
"""

from __future__ import annotations

import base64
import datetime as dt
import itertools
import json
import os
import subprocess
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from waiting import eventually

FOLDER = Path(__file__).parent / "wechaty_service"
INSTALLED = (FOLDER / "node_modules" / "wechaty-puppet-service").is_dir()
NOT_INSTALLED = f"the official wechaty service is not installed: run `npm ci` in {FOLDER} (.ci/run does)"
MARK = "@@"
ANSWER_SECONDS = 30.0


@dataclass(frozen=True)
class Sent:
    """One MessageSendText the bot made, as the mock puppet received it."""

    conversation: str
    text: str
    mentions: tuple[str, ...]


@dataclass(frozen=True)
class SentFile:
    """One MessageSendFile the bot made, as the mock puppet received it (the FileBox rebuilt by the service)."""

    conversation: str
    name: str
    data: bytes


class OfficialService:
    def __init__(self, process: subprocess.Popen[str]) -> None:
        self.process = process
        self.sent: list[Sent] = []
        self.files: list[SentFile] = []
        self.puppet_calls: list[str] = []  # "start" and "stop", as the puppet was given them
        self.stderr: list[str] = []
        self._ids = itertools.count(1)
        self._answers: dict[int, dict[str, Any]] = {}
        self._answered = threading.Condition()
        self._ready = threading.Event()
        self._threads = [
            threading.Thread(target=self._read_answers, daemon=True),
            threading.Thread(target=self._read_stderr, daemon=True),
        ]
        for thread in self._threads:
            thread.start()

    @classmethod
    def start(cls) -> OfficialService:
        env = {**os.environ, "WECHATY_LOG": os.environ.get("WECHATY_LOG", "warn")}
        env = {k: v for k, v in env.items() if not k.startswith("WECHATY_PUPPET_SERVICE_")}  # the test says
        process = subprocess.Popen(
            ["node", "service.mjs"], cwd=FOLDER, env=env, text=True, encoding="utf-8",
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        )  # fmt: skip
        service = cls(process)
        if not service._ready.wait(ANSWER_SECONDS):
            service.close()
            raise AssertionError(f"the official service did not start: {service.explain()}")
        return service

    def close(self) -> None:
        if self.process.stdin is not None and not self.process.stdin.closed:
            self.process.stdin.close()  # the script stops its service and exits
        try:
            self.process.wait(10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()

    # -- the protocol ------------------------------------------------------------------------

    def command(self, op: str, **arguments: Any) -> dict[str, Any]:
        """Send one command and return its answer; a failed command fails the test with the service's words."""
        number = next(self._ids)
        assert self.process.stdin is not None
        self.process.stdin.write(json.dumps({"id": number, "op": op, **arguments}, ensure_ascii=False) + "\n")
        self.process.stdin.flush()
        with self._answered:
            if not self._answered.wait_for(lambda: number in self._answers, ANSWER_SECONDS):
                raise AssertionError(f"the official service did not answer {op}: {self.explain()}")
            answer = self._answers.pop(number)
        if not answer.get("ok"):
            raise AssertionError(f"the official service failed {op}: {answer.get('error')}")
        return answer

    def _read_answers(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            if not line.startswith(MARK):
                continue
            message = json.loads(line[len(MARK) :])
            event = message.get("event")
            if event == "ready":
                self._ready.set()
            elif event == "sent-file":
                self.files.append(SentFile(message["conversation"], message["name"], base64.b64decode(message["base64"])))
            elif event == "sent":
                self.sent.append(Sent(message["conversation"], message["text"], tuple(message["mentions"])))
            elif event in ("puppet-start", "puppet-stop"):
                self.puppet_calls.append(event.removeprefix("puppet-"))
            else:
                with self._answered:
                    self._answers[message["id"]] = message
                    self._answered.notify_all()

    def _read_stderr(self) -> None:
        assert self.process.stderr is not None
        for line in self.process.stderr:
            self.stderr.append(line.rstrip())

    def explain(self) -> str:
        return f"sent so far: {self.sent}; the service's stderr: {self.stderr[-20:]}"

    # -- the account's world -----------------------------------------------------------------

    def contact(self, contact: str, name: str) -> None:
        self.command("contact", contact=contact, name=name)

    def room(self, room: str, topic: str, members: Sequence[str]) -> None:
        self.command("room", room=room, topic=topic, members=list(members))

    def login(self, contact: str) -> None:
        """The puppet is started and logged in as `contact`, before any bot connects."""
        self.command("login", contact=contact)

    def serve(self, *, token: str, tls: bool) -> int:
        """The service listens (on the same port each time); the port."""
        return int(self.command("serve", token=token, tls=tls)["port"])

    def unserve(self) -> None:
        """The service stops; the puppet goes on, and what is said meanwhile reaches no one."""
        self.command("unserve")

    def say(self, talker: str, room: str, text: str, *, mentions: Sequence[str] = (), at: dt.datetime) -> str:
        """`talker` says `text` in `room` at `at` (the test's clock); the message id."""
        answer = self.command(
            "say", talker=talker, room=room, text=text, mentions=list(mentions), at=int(at.timestamp() * 1000)
        )
        return str(answer["message"])

    def error(self, message: str) -> None:
        """The puppet emits an error event, which the service passes on as `{"gerror": "..."}`."""
        self.command("error", message=message)

    def ca(self) -> str:
        """The CA (PEM) that signed the service's built-in certificate, named `insecure`."""
        return str(self.command("ca")["pem"])

    # -- what the bot did ----------------------------------------------------------------------

    def texts_to(self, room: str) -> list[str]:
        return [s.text for s in self.sent if s.conversation == room]

    async def wait_for(self, condition: Callable[[], object], timeout: float = 15.0, *, what: str = "") -> None:
        await eventually(condition, timeout=timeout, what=what or "the official service's condition",
                         explain=self.explain)  # fmt: skip
