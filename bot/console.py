"""The console platform: the whole bot in a terminal, for trying it out and for local use.

You choose who you are and where you speak (`/as 五星村 head`), type what people type in the
groups, and see what the bot answers there and what it sends to other groups. It goes through
the same dispatcher, outbox and database as Telegram and WeChat. A message of several lines (a 接龙,
a numbered report) goes between two lines of three double quotes, so that a paste arrives whole, as
it does in a group.
"""

from __future__ import annotations

import asyncio
import itertools
import threading
import time
from dataclasses import dataclass
from typing import TextIO

from handlers import texts
from handlers.messages import IncomingMessage, OutgoingMessage
from handlers.town import Town
from handlers.transport import Receive
from outbox.sender import OutboxSender
from townconfig import TownConfig

ROLE_WORDS = {
    "head": "head",
    "村长": "head",
    "admin": "admin",
    "领导": "admin",
    "checkpoint": "checkpoint",
    "卡点": "checkpoint",
    "resident": "resident",
    "村民": "resident",
}

INTRO = """villagebot 控制台 · {town}
你现在的身份：{who}
  /as 村名 head        以村干部身份在该村群发言（例：/as 五星村 head）
  /as leaders admin    以镇防控办身份在镇领导群发言
  /as 卡点名 checkpoint 以卡点值班员身份在卡点群发言
  /as 村名 resident    以村民身份在该村群发言
  /who  当前身份    /quit  退出
{multiline}
"""


@dataclass(frozen=True)
class Identity:
    chat: str
    sender: str
    label: str


class ConsolePlatform:
    """Delivers by printing: replies in the current group plainly, others with their group's name."""

    name = "console"

    def __init__(self, output: TextIO, names: dict[str, str] | None = None) -> None:
        self.output = output
        self.names = names or {}
        self.current_chat = ""
        self._ids = itertools.count(1)

    async def deliver(self, message: OutgoingMessage) -> str | None:
        text = message.text
        if message.picture is not None:  # a terminal shows no image: what it is and how big
            shown = texts.console_picture(message.picture.name, message.picture.kilobytes)
            text = f"{shown}\n{text}" if text else shown
        text = text.replace("\n", "\n   ")
        if message.chat == self.current_chat:
            self.output.write(f"🤖 {text}\n")
        else:
            self.output.write(f"→ [{self.names.get(message.chat) or chat_label(message.chat)}] {text}\n")
        self.output.flush()
        return str(next(self._ids))


def chat_label(chat: str) -> str:
    return chat.partition(":")[2] or chat


def chat_names(config: TownConfig) -> dict[str, str]:
    """What to call each group on screen."""
    names = {chat: f"{v.name}群" for v in config.villages for chat in v.chats}
    names.update({chat: f"{c.name}群" for c in config.checkpoints for chat in c.chats})
    if config.town.leaders_chat:
        names[config.town.leaders_chat] = "镇领导群"
    return names


class ConsoleChat:
    """The terminal's side: reads what you type and hands it to `receive` as the groups' adapters do."""

    def __init__(
        self, town: Town, receive: Receive, sender: OutboxSender, platform: ConsolePlatform, source: TextIO
    ) -> None:
        self.town = town
        self.receive = receive
        self.sender = sender
        self.platform = platform
        self.source = source
        self.output = platform.output
        self.identity = self.identity_for(town.config.villages[0].name, "head") or Identity(
            "console:town", "console:someone", "访客"
        )
        self._run_id = time.time_ns()
        self._counter = itertools.count(1)

    def identity_for(self, place: str, role: str) -> Identity | None:
        """Who you are when you say `/as place role`: the config's people and groups for it."""
        config = self.town.config
        if role == "admin":
            chat = config.town.leaders_chat or "console:leaders"
            admin_id = config.admins[0].ids[0] if config.admins else "console:admin"
            return Identity(chat, admin_id, "镇防控办（镇领导群）")
        village = next((v for v in config.villages if place in (v.name, *v.aliases)), None)
        if village is not None:
            chat = next((c for c in village.chats if c.startswith("console:")), f"console:{village.name}")
            if role == "head":
                sender = next((h for h in village.heads), None)
                if sender is None:
                    return None
                return Identity(chat, sender, f"{village.name}村干部（{village.name}群）")
            return Identity(chat, f"console:{village.name}村民", f"{village.name}村民（{village.name}群）")
        checkpoint = next((c for c in config.checkpoints if c.name == place), None)
        if checkpoint is not None:
            chat = next((c for c in checkpoint.chats if c.startswith("console:")), f"console:{checkpoint.name}")
            staff = next((s for s in checkpoint.staff), f"console:{checkpoint.name}值班员")
            return Identity(chat, staff, f"{checkpoint.name}值班员")
        return None

    def say(self, text: str) -> None:
        self.output.write(text + "\n")
        self.output.flush()

    async def run(self) -> None:
        self._lines = read_lines_in_background(self.source)
        self.platform.current_chat = self.identity.chat
        self.say(INTRO.format(town=self.town.name, who=self.identity.label, multiline=texts.CONSOLE_MULTILINE_HINT))
        while True:
            self.output.write(f"[{self.identity.label}] > ")
            self.output.flush()
            line = await self._lines.get()
            if not line:
                self.say("")
                return
            text = line.strip()
            if not text:
                continue
            if text in ("/quit", "/exit", "退出"):
                return
            if text == texts.CONSOLE_MULTILINE:
                text, ended = await self._block()
                if text:
                    await self.send(text)
                if ended:
                    self.say("")
                    return
                continue
            if self._console_command(text):
                continue
            await self.send(text)

    async def _block(self) -> tuple[str, bool]:
        """The lines up to the closing quotes, as one message; and whether the input ended first."""
        lines: list[str] = []
        while (line := await self._lines.get()) and line.strip() != texts.CONSOLE_MULTILINE:
            lines.append(line.rstrip("\r\n"))
        return "\n".join(lines).strip(), not line

    def _console_command(self, text: str) -> bool:
        if text == "/who":
            self.say(f"你现在的身份：{self.identity.label}（{self.identity.sender} 在 {self.identity.chat}）")
            return True
        if not text.startswith("/as"):
            return False
        words = text.split()
        role = ROLE_WORDS.get(words[2] if len(words) > 2 else "head")
        identity = self.identity_for(words[1], role) if len(words) > 1 and role else None
        if identity is None:
            self.say("用法：/as 村名 head|resident，/as leaders admin，/as 卡点名 checkpoint。" + _no_head_hint(words))
            return True
        self.identity = identity
        self.platform.current_chat = identity.chat
        self.say(f"你现在的身份：{identity.label}")
        return True

    async def send(self, text: str) -> None:
        message = IncomingMessage(
            platform="console",
            chat=self.identity.chat,
            sender=self.identity.sender,
            sender_name=self.identity.label,
            text=text,
            message_id=f"{self._run_id}-{next(self._counter)}",
            at=self.town.clock.now(),
            mentions_bot=any(f"@{name}" in text for name in self.town.config.town.bot_names),
        )
        await self.receive([message])
        await self.sender.drain()


def read_lines_in_background(source: TextIO) -> asyncio.Queue[str]:
    """Lines of `source` as they come, read by a daemon thread so that a blocked read never holds up
    shutdown (asyncio's own executor would wait for it). An empty string means end of input."""
    loop = asyncio.get_running_loop()
    queue: asyncio.Queue[str] = asyncio.Queue()

    def pump() -> None:
        while True:
            line = source.readline()
            try:
                loop.call_soon_threadsafe(queue.put_nowait, line)
            except RuntimeError:  # the loop has closed: the bot is shutting down
                return
            if not line:
                return

    threading.Thread(target=pump, name="console-input", daemon=True).start()
    return queue


def _no_head_hint(words: list[str]) -> str:
    if len(words) > 2 and ROLE_WORDS.get(words[2]) == "head":
        return '（该村在配置中没有 heads，请在 [[village]] 中加上 heads = ["console:…"]）'
    return ""
