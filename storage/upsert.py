"""INSERT … ON CONFLICT DO NOTHING on either backend: the primitive behind every "exactly once"."""

from __future__ import annotations

from typing import Any

from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession


def insert_or_ignore(session: AsyncSession, model: Any) -> postgresql.Insert | sqlite.Insert:
    """An INSERT for the session's backend that can be told `.on_conflict_do_nothing(...)`."""
    if session.get_bind().dialect.name == "postgresql":
        return postgresql.insert(model)
    return sqlite.insert(model)
