"""Chat bindings made in chat (/bind 五星村); config bindings live in the config, not here."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from ..models import ChatBinding


class ChatBindings:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session
        # Chats known (in this transaction) to have no binding: most chats, most of the time.
        self._unbound: set[str] = set()

    async def get(self, chat: str) -> ChatBinding | None:
        if chat in self._unbound:
            return None
        binding = await self.session.get(ChatBinding, chat)
        if binding is None:
            self._unbound.add(chat)
        return binding

    async def prefetch(self, chats: Iterable[str]) -> None:
        """Read the bindings of many chats in one query, for a batch of messages from them."""
        wanted = set(chats) - self._unbound
        if wanted:
            found = (await self.session.scalars(select(ChatBinding).where(ChatBinding.chat.in_(wanted)))).all()
            self._unbound |= wanted - {binding.chat for binding in found}

    async def bind(self, chat: str, target_kind: str, target: str, by: str, at: dt.datetime) -> ChatBinding | None:
        """Bind (or re-bind) the chat; returns the binding it replaced, if any."""
        previous = await self.get(chat)
        before = None
        if previous is not None:
            before = ChatBinding(
                chat=chat,
                target_kind=previous.target_kind,
                target=previous.target,
                bound_by=previous.bound_by,
                bound_at=previous.bound_at,
            )
            previous.target_kind, previous.target = target_kind, target
            previous.bound_by, previous.bound_at, previous.reachable = by, at, True
        else:
            self.session.add(ChatBinding(chat=chat, target_kind=target_kind, target=target, bound_by=by, bound_at=at))
        self._unbound.discard(chat)
        await self.session.flush()
        return before

    async def all(self) -> list[ChatBinding]:
        return list((await self.session.scalars(select(ChatBinding).order_by(ChatBinding.chat))).all())

    async def move(self, old_chat: str, new_chat: str) -> None:
        """A group that changed id (a Telegram supergroup upgrade) keeps its binding."""
        await self.session.execute(update(ChatBinding).where(ChatBinding.chat == old_chat).values(chat=new_chat))
        self._unbound.discard(new_chat)
        self._unbound.add(old_chat)

    async def mark_unreachable(self, chat: str) -> bool:
        """True the first time a chat is found unreachable, so the leaders are told once."""
        result = await self.session.execute(
            update(ChatBinding).where(ChatBinding.chat == chat, ChatBinding.reachable.is_(True)).values(reachable=False)
        )
        return bool(getattr(result, "rowcount", 0))
