"""A county in one process: one App per town, each on its own schema (or SQLite file), and the
incoming messages of every account routed to the town that owns the chat.

Each town's App is exactly a single town's (bot/app.py): its dispatcher, outbox, senders and clock
see only that town's records, so names that repeat across towns need nothing special. What is the
county's is only the routing, and which accounts this process runs.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace

from handlers.clock import Clock, SystemClock
from handlers.county import TownPart, county_notice_body, send_county_notice, send_county_summary
from handlers.messages import IncomingMessage
from handlers.transport import Platform, PlatformFault
from storage import Database
from townconfig import CountyConfig, CountyTown, TownConfig, county_account_of

from .app import App

log = logging.getLogger(__name__)


def town_config_in_county(county: CountyConfig, town: CountyTown) -> TownConfig:
    """The town's config as its App sees it: the county admins act in every town as its own admins."""
    return town.config.model_copy(update={"admins": [*town.config.admins, *county.admins]})


def town_people(config: TownConfig) -> set[str]:
    """Who the town's config names (heads, staff, admins): their private chats belong to this town."""
    return (
        {i for v in config.villages for i in v.heads}
        | {i for c in config.checkpoints for i in c.staff}
        | {i for a in config.admins for i in a.ids}
    )


def config_chats(config: TownConfig) -> set[str]:
    chats = {c for v in config.villages for c in v.chats} | {c for cp in config.checkpoints for c in cp.chats}
    if config.town.leaders_chat is not None:
        chats.add(config.town.leaders_chat)
    return chats


@dataclass
class CountyApp:
    """Every town's App, and the routing of what arrives to the town that owns the chat."""

    county: CountyConfig
    towns: dict[str, App]  # by town id, in the county file's order
    _chat_town: dict[str, str] = field(default_factory=dict)
    _person_town: dict[str, str] = field(default_factory=dict)

    @classmethod
    async def start(
        cls,
        county: CountyConfig,
        *,
        clock: Clock | None = None,
        databases: dict[str, Database] | None = None,
    ) -> CountyApp:
        """Start (and migrate) every town; `databases` lets tests give each town its own."""
        clock = clock or SystemClock()
        towns: dict[str, App] = {}
        try:
            for town in county.towns:
                database = (databases or {}).get(town.id)
                if database is None:
                    url, schema = county.town_database(town.id)
                    database = Database(url, schema=schema)
                towns[town.id] = await App.start(town_config_in_county(county, town), clock=clock, database=database)
        except Exception:
            for app in towns.values():
                await app.close()
            raise
        started = cls(county, towns)
        for town in county.towns:
            for chat in config_chats(town.config):
                started._chat_town[chat] = town.id
            for person in town_people(town.config):
                started._person_town.setdefault(person, town.id)
        return started

    @property
    def parts(self) -> list[TownPart]:
        return [TownPart(town_id, app.town, app.database) for town_id, app in self.towns.items()]

    @property
    def host(self) -> TownPart:
        """The town whose outbox carries what the county sends: the first town on the account the
        county leaders' chat is on (else the first town), so that account's process delivers it."""
        parts = self.parts
        leaders = self.county.county.leaders_chat
        if leaders is not None:
            platform = leaders.partition(":")[0]
            account = county_account_of(self.county, platform)
            for town in self.county.towns:
                if account is not None and town.account_of(platform) == account:
                    return next(p for p in parts if p.id == town.id)
        return parts[0]

    async def send_summary(self) -> int:
        """The county summary, once, if every town's deadline has passed (handlers/county.py)."""
        leaders = self.county.county.leaders_chat
        if leaders is None:
            return 0
        host = self.host
        sent = await send_county_summary(
            self.county.county.name, self.county.zone, self.parts, host, leaders, host.town.clock.now()
        )
        if sent:
            self.towns[host.id].wake_senders()
        return sent

    def town_ids_on(self, account_key: str) -> list[str]:
        return [t.id for t in self.county.towns_on(account_key)]

    def add_platform(self, account_key: str, platform: Platform) -> None:
        """The account's adapter delivers for every town on it: one sender per town, each over its own
        outbox, so the towns' leases and in-flight marks stay apart."""
        for town_id in self.town_ids_on(account_key):
            self.towns[town_id].add_platform(platform)

    async def town_of(self, message: IncomingMessage, among: Iterable[str] | None = None) -> str | None:
        """The town a message belongs to: the one whose config names the chat, else the one that
        bound it in chat, else (a private chat, a chat not bound yet) the town of the sender."""
        candidates = list(among) if among is not None else list(self.towns)
        owner = self._chat_town.get(message.chat)
        if owner is not None:
            return owner if owner in candidates else None
        for town_id in candidates:
            async with self.towns[town_id].database.transaction() as store:
                if await store.bindings.get(message.chat) is not None:
                    return town_id
        person = self._person_town.get(message.sender)
        if person is not None and person in candidates:
            return person
        for town_id in candidates:
            async with self.towns[town_id].database.transaction() as store:
                if await store.roles.villages_headed_by(message.sender):
                    return town_id
        return None

    def town_named(self, text: str, among: Iterable[str] | None = None) -> CountyTown | None:
        """The one town (of `among`) whose name the text says; a county admin's message in a chat no
        town owns yet goes there (town names are unique in a county, townconfig/county.py)."""
        found = [t for t in self.county.towns if t.name in text and (among is None or t.id in among)]
        return found[0] if len(found) == 1 else None

    def receiver(self, account_key: str) -> AccountReceiver:
        return AccountReceiver(self, account_key)

    async def receive(self, messages: Sequence[IncomingMessage], account_key: str | None = None) -> None:
        """Messages that arrived together, each handed to its town's App in their order."""
        among = self.town_ids_on(account_key) if account_key is not None else None
        batches: dict[str, list[IncomingMessage]] = {}
        for message in messages:
            body = county_notice_body(message.text)
            if body is not None and self.county.is_county_admin(message.sender):
                await send_county_notice(self.parts, self.host, message, body)
                self.wake_senders()
                continue
            town_id = await self.town_of(message, among)
            if town_id is None and self.county.is_county_admin(message.sender):
                named = self.town_named(message.text, among)
                if named is not None:  # "绑定 红旗镇 红星村": the county admin names the town
                    town_id, message = named.id, replace(message, text=_without(message.text, named.name))
            if town_id is None:
                town_id = (among or list(self.towns))[0] if (among or self.towns) else None
                if town_id is None:
                    continue
                log.info("a message in %s, a chat no town knows yet, goes to %s", message.chat, town_id)
            batches.setdefault(town_id, []).append(message)
        for town_id, batch in batches.items():
            await self.towns[town_id].receive(batch)

    async def drain(self) -> int:
        return sum([await app.drain() for app in self.towns.values()])

    def wake_senders(self) -> None:
        for app in self.towns.values():
            app.wake_senders()

    async def close(self) -> None:
        for app in self.towns.values():
            await app.close()


def _without(text: str, name: str) -> str:
    """The text with the town's name taken out, so the town's own parser reads what it knows."""
    return re.sub(r"[ \t]{2,}", " ", text.replace(name, " ", 1)).replace(" \n", "\n").strip()


@dataclass
class AccountReceiver:
    """One account's `receive` and chat events: what an adapter of that account is given."""

    county: CountyApp
    account_key: str

    async def __call__(self, messages: Sequence[IncomingMessage]) -> None:
        await self.county.receive(messages, self.account_key)

    def _apps(self) -> list[App]:
        return [self.county.towns[t] for t in self.county.town_ids_on(self.account_key)]

    async def chat_moved(self, old: str, new: str) -> None:
        for app in self._apps():
            await app.events.chat_moved(old, new)

    async def bot_removed(self, chat: str) -> None:
        for app in self._apps():
            await app.events.bot_removed(chat)

    async def platform_down(self, platform: str, seconds: float) -> None:
        for app in self._apps():
            await app.events.platform_down(platform, seconds)

    async def platform_up(self, platform: str, seconds: float) -> None:
        for app in self._apps():
            await app.events.platform_up(platform, seconds)

    async def platform_gap(self, platform: str, since: dt.datetime, until: dt.datetime) -> None:
        for app in self._apps():
            await app.events.platform_gap(platform, since, until)

    async def platform_refused(self, platform: str, fault: PlatformFault) -> None:
        for app in self._apps():
            await app.events.platform_refused(platform, fault)
