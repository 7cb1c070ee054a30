"""Binding groups and appointing village heads, done by an admin inside the chat itself."""

from __future__ import annotations

import re

from .. import texts
from ..commands import Command
from ..directory import ChatTarget
from ..parsing.normalize import to_simplified
from ..permissions import Action, allowed
from ..turn import Turn

LEADERS_WORDS = {"镇领导群", "领导群", "镇领导", "leaders", "防控办"}
_PERSON_ID = re.compile(r"\b(?:telegram|wechat|console):\S+")


async def bind_chat(turn: Turn, command: Command) -> None:
    if not allowed(Action.BIND, turn.speaker.role):
        await turn.reply(texts.bind_not_allowed())
        return
    directory = turn.town.directory
    name = to_simplified(command.argument.strip())
    target: ChatTarget | None = (
        ChatTarget("leaders", "leaders") if name in LEADERS_WORDS else directory.resolve_place(name)
    )
    if target is None or target.name is None:
        valid = directory.village_names + [c.name for c in turn.town.config.checkpoints]
        await turn.reply(texts.bind_usage(valid))
        return
    previous = await turn.store.bindings.bind(
        turn.message.chat, target.kind, target.name, turn.speaker.id, turn.message.at
    )
    await turn.store.audit.record(
        actor=turn.speaker.id,
        action="bind",
        subject=turn.message.chat,
        at=turn.message.at,
        before={"kind": previous.target_kind, "target": previous.target} if previous else None,
        after={"kind": target.kind, "target": target.name},
    )
    shown = "镇领导群" if target.kind == "leaders" else target.name
    was = previous.target if previous is not None and previous.target != target.name else None
    await turn.reply(texts.bound(shown, was))


async def set_head(turn: Turn, command: Command) -> None:
    directory = turn.town.directory
    if not allowed(Action.SET_ROLE, turn.speaker.role):
        await turn.reply(texts.admins_only("设置村长"))
        return
    words = command.argument.split()
    village = directory.resolve_place(to_simplified(words[0])) if words else None
    people = list(turn.message.mentioned) + _PERSON_ID.findall(command.argument)
    if turn.message.reply_to_sender:
        people.append(turn.message.reply_to_sender)
    if village is None or village.kind != "village" or village.name is None or not people:
        await turn.reply(texts.head_usage(directory.village_names))
        return
    for person in dict.fromkeys(people):
        if await turn.store.roles.appoint_head(person, village.name, by=turn.speaker.id, at=turn.message.at):
            await turn.store.audit.record(
                actor=turn.speaker.id,
                action="set_head",
                subject=person,
                at=turn.message.at,
                after={"role": "head", "village": village.name},
            )
    await turn.store.session.flush()
    await turn.reply(texts.head_set(village.name, list(dict.fromkeys(people))))
