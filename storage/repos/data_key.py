"""Which data key the personal data is stored with, so that it is never stored under two.

A bot starting with another key is refused; a bot that keeps running while `villagebot rotate-key`
moves the data to a new key sees the fingerprint change in the transaction that would write
personal data, and writes nothing.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from ..models import DataKeyFingerprint, ObservedPerson
from ..personal_data import DataKey, wrong_key

_ROW = 1


class DataKeys:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def stored(self, *, hold: bool = False) -> str | None:
        """The stored fingerprint. `hold`: until this transaction ends, a rotation (which takes the
        row for update) waits, so what is written now is written under this key (PostgreSQL; SQLite
        serialises every write anyway)."""
        query = select(DataKeyFingerprint.fingerprint).where(DataKeyFingerprint.id == _ROW)
        if hold:
            query = query.with_for_update(read=True)
        return (await self.session.scalars(query)).first()

    async def take_for_rotation(self) -> str | None:
        query = select(DataKeyFingerprint.fingerprint).where(DataKeyFingerprint.id == _ROW).with_for_update()
        return (await self.session.scalars(query)).first()

    async def set(self, key: DataKey, at: dt.datetime) -> None:
        row = await self.session.get(DataKeyFingerprint, _ROW)
        if row is None:
            self.session.add(DataKeyFingerprint(id=_ROW, fingerprint=key.fingerprint, set_at=at))
        else:
            row.fingerprint, row.set_at = key.fingerprint, at
        await self.session.flush()

    async def adopt(self, key: DataKey, at: dt.datetime) -> None:
        """At start: the key must be the stored one. A database from before fingerprints (or with no
        personal data yet) takes this key's, once one stored value has been read with it."""
        stored = await self.stored()
        if stored == key.fingerprint:
            return
        if stored is not None:
            raise wrong_key(stored)
        query = select(ObservedPerson.name_encrypted).where(ObservedPerson.name_encrypted.is_not(None)).limit(1)
        sample = (await self.session.scalars(query)).first()
        if sample is not None:
            key.decrypt(sample, "name")  # raises DataKeyError when it is another key's
        await self.set(key, at)
