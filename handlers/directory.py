"""Who is who and which group is which: the config, plus what admins changed in chat.

A binding made in chat (/bind) or a head appointed in chat (设置村长) is stored and wins over the
config for that chat, because it is the town's latest word on it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from sqlalchemy import select

from storage import Store
from storage.models import ChatBinding
from townconfig import TownConfig

from .parsing import Role

TargetKind = Literal["village", "checkpoint", "leaders", "none"]


@dataclass(frozen=True)
class ChatTarget:
    kind: TargetKind
    name: str | None = None  # the village, checkpoint or "leaders"
    village: str | None = None  # the village the chat speaks for (a checkpoint's village too)


@dataclass(frozen=True)
class Speaker:
    id: str
    role: Role
    is_admin: bool
    heads_of: frozenset[str]


class Directory:
    def __init__(self, config: TownConfig) -> None:
        self.config = config
        self._config_chats: dict[str, ChatTarget] = {}
        for village in config.villages:
            for chat in village.chats:
                self._config_chats[chat] = ChatTarget("village", village.name, village.name)
        for checkpoint in config.checkpoints:
            for chat in checkpoint.chats:
                self._config_chats[chat] = ChatTarget("checkpoint", checkpoint.name, checkpoint.village)
        if config.town.leaders_chat:
            self._config_chats.setdefault(config.town.leaders_chat, ChatTarget("leaders", "leaders"))
        self.admins = frozenset(i for admin in config.admins for i in admin.ids)
        self._config_heads: dict[str, set[str]] = {}
        for village in config.villages:
            for head in village.heads:
                self._config_heads.setdefault(head, set()).add(village.name)
        self._staff = frozenset(s for cp in config.checkpoints for s in cp.staff)
        self.village_names = [v.name for v in config.villages]

    async def chat_target(self, store: Store, chat: str) -> ChatTarget:
        binding = await store.bindings.get(chat)
        if binding is not None:
            return _target_of(binding, self.config)
        return self.config_target(chat) or ChatTarget("none")

    def config_target(self, chat: str) -> ChatTarget | None:
        """What the town's config names `chat` as (a village's, a checkpoint's or the leaders'
        group), whatever the bindings made in chat say."""
        return self._config_chats.get(chat)

    async def speaker(self, store: Store, person: str, target: ChatTarget) -> Speaker:
        heads_of = frozenset(await self.villages_headed_by(store, person))
        is_admin = person in self.admins
        role: Role
        if is_admin:
            role = "admin"
        elif heads_of:
            role = "head"
        elif person in self._staff or target.kind == "checkpoint":
            role = "checkpoint"
        else:
            role = "resident"
        return Speaker(person, role, is_admin, heads_of)

    async def villages_headed_by(self, store: Store, person: str) -> set[str]:
        return self._config_heads.get(person, set()) | await store.roles.villages_headed_by(person)

    async def heads_of_village(self, store: Store, village: str) -> list[str]:
        spec = self.config.village(village)
        heads = list(spec.heads) if spec else []
        heads += [p for p in await store.roles.heads_of_village(village) if p not in heads]
        return heads

    async def village_chats(self, store: Store) -> dict[str, list[str]]:
        """Every village's groups: from the config, then as bound or re-bound in chat."""
        chats: dict[str, list[str]] = {name: [] for name in self.village_names}
        bindings = {b.chat: b for b in await store.bindings.all()}
        for chat, target in self._config_chats.items():
            if target.kind == "village" and chat not in bindings and target.name:
                chats[target.name].append(chat)
        for binding in bindings.values():
            if binding.target_kind == "village" and binding.target in chats and binding.reachable:
                chats[binding.target].append(binding.chat)
        return chats

    async def unreachable_village_chats(self, store: Store) -> dict[str, list[str]]:
        """Each village's groups the bot was removed from (marked unreachable when a send was
        refused): nothing goes there any more, but a notice must say so rather than leave them out."""
        query = (
            select(ChatBinding.target, ChatBinding.chat)
            .where(ChatBinding.target_kind == "village", ChatBinding.reachable.is_(False))
            .order_by(ChatBinding.chat)
        )
        chats: dict[str, list[str]] = {}
        for village, chat in (await store.session.execute(query)).all():
            chats.setdefault(village, []).append(chat)
        return chats

    async def leaders_chats(self, store: Store) -> list[str]:
        chats = [self.config.town.leaders_chat] if self.config.town.leaders_chat else []
        query = select(ChatBinding.chat).where(ChatBinding.target_kind == "leaders", ChatBinding.reachable.is_(True))
        chats += [c for c in (await store.session.scalars(query)).all() if c not in chats]
        unreachable = select(ChatBinding.chat).where(ChatBinding.reachable.is_(False))
        gone = set((await store.session.scalars(unreachable)).all())
        return [c for c in chats if c not in gone]

    def resolve_place(self, name: str) -> ChatTarget | None:
        """A village or checkpoint by its name or alias, for /bind and for inspection findings."""
        for village in self.config.villages:
            if name == village.name or name in village.aliases:
                return ChatTarget("village", village.name, village.name)
        for checkpoint in self.config.checkpoints:
            if name == checkpoint.name:
                return ChatTarget("checkpoint", checkpoint.name, checkpoint.village)
        return None


def _target_of(binding: ChatBinding, config: TownConfig) -> ChatTarget:
    if binding.target_kind == "village":
        return ChatTarget("village", binding.target, binding.target)
    if binding.target_kind == "checkpoint":
        checkpoint = next((c for c in config.checkpoints if c.name == binding.target), None)
        return ChatTarget("checkpoint", binding.target, checkpoint.village if checkpoint else None)
    if binding.target_kind == "leaders":
        return ChatTarget("leaders", "leaders")
    return ChatTarget("none")
