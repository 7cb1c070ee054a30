"""The console takes a pasted message of several lines whole, between two lines of \"\"\"."""

from __future__ import annotations

import io
from types import SimpleNamespace
from typing import Any

from chat_harness import Chat

from bot.console import ConsoleChat, ConsolePlatform
from handlers.messages import IncomingMessage

PASTED = '/as 五星村 resident\n"""\n#接龙 五星村体温\n例 张三 36.5\n1. 王建军 36.5\n2. 李四 38.2\n"""\n你好\n/quit\n'


async def test_a_pasted_list_between_triple_quotes_arrives_as_one_message(chat: Chat) -> None:
    received: list[IncomingMessage] = []

    async def receive(messages: Any) -> None:
        received.extend(messages)
        await chat.app.receive(messages)

    screen = io.StringIO()
    console = ConsoleChat(
        chat.app.town, receive, SimpleNamespace(drain=chat.app.drain),  # type: ignore[arg-type]
        ConsolePlatform(screen), io.StringIO(PASTED),
    )  # fmt: skip
    await console.run()
    assert [m.text for m in received] == ["#接龙 五星村体温\n例 张三 36.5\n1. 王建军 36.5\n2. 李四 38.2", "你好"]
    [reply] = chat.sent_to("console:五星村")
    assert "第2条 李* 38.2" in reply
    assert '"""' in screen.getvalue()  # the intro says how


async def test_an_unclosed_block_is_sent_at_the_end_of_input(chat: Chat) -> None:
    received: list[IncomingMessage] = []

    async def receive(messages: Any) -> None:
        received.extend(messages)

    console = ConsoleChat(
        chat.app.town, receive, SimpleNamespace(drain=chat.app.drain),  # type: ignore[arg-type]
        ConsolePlatform(io.StringIO()), io.StringIO('"""\n日报\n入户排查120户\n'),
    )  # fmt: skip
    await console.run()
    assert [m.text for m in received] == ["日报\n入户排查120户"]
