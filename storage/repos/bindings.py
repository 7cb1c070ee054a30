"""Chat bindings made in chat (/bind 五星村); config bindings live in the config, not here."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from ..models import ChatBinding


class ChatBindings:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def get(self, chat: str) -> ChatBinding | None:
        return await self.session.get(ChatBinding, chat)

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
        await self.session.flush()
        return before

    async def all(self) -> list[ChatBinding]:
        return list((await self.session.scalars(select(ChatBinding).order_by(ChatBinding.chat))).all())

    async def move(self, old_chat: str, new_chat: str) -> None:
        """A group that changed id (a Telegram supergroup upgrade) keeps its binding."""
        await self.session.execute(update(ChatBinding).where(ChatBinding.chat == old_chat).values(chat=new_chat))

    async def mark_unreachable(self, chat: str) -> bool:
        """True the first time a chat is found unreachable, so the leaders are told once."""
        result = await self.session.execute(
            update(ChatBinding).where(ChatBinding.chat == chat, ChatBinding.reachable.is_(True)).values(reachable=False)
        )
        return bool(getattr(result, "rowcount", 0))
