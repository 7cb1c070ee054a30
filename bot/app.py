"""Wiring: the database, the town, the dispatcher, the chat events and the outbox senders, started once.

The App knows no platform: bot/platforms.py builds the adapters from it, bot/run.py runs them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from handlers.chat_events import TownChatEvents
from handlers.clock import Clock, SystemClock
from handlers.delivery_reports import report_settled_notices
from handlers.dispatcher import Dispatcher
from handlers.messages import IncomingMessage
from handlers.town import Town
from handlers.transport import Platform
from outbox.sender import OutboxSender
from storage import Database
from storage.personal_data import DataKey, DataKeyError
from townconfig import TownConfig


@dataclass
class App:
    """The running bot's parts; tests build one the same way `villagebot run` does."""

    config: TownConfig
    database: Database
    town: Town
    dispatcher: Dispatcher
    senders: dict[str, OutboxSender]
    events: TownChatEvents

    @classmethod
    async def start(
        cls,
        config: TownConfig,
        *,
        clock: Clock | None = None,
        platforms: dict[str, Platform] | None = None,
        database: Database | None = None,
    ) -> App:
        database = database or Database(config.database_url)
        try:
            await database.migrate()
        except Exception:
            await database.close()
            raise
        clock = clock or SystemClock()
        try:
            data_key = DataKey.from_environment()
            if data_key is not None:
                async with database.transaction() as store:
                    await store.data_keys.adopt(data_key, clock.now())
        except DataKeyError:
            await database.close()
            raise
        town = Town.build(config, clock, data_key)
        async with database.transaction() as store:  # once after an upgrade or a template change
            await store.reports.rebuild_summaries(town.required)
            await store.checkpoints.rebuild_day_totals()
        dispatcher = Dispatcher(town, database)
        senders: dict[str, OutboxSender] = {}
        events = TownChatEvents(town, database, wake=lambda: _wake(senders))
        app = cls(config, database, town, dispatcher, senders, events)
        for platform in (platforms or {}).values():
            app.add_platform(platform)
        return app

    def add_platform(self, platform: Platform) -> OutboxSender:
        sender = OutboxSender(self.database, platform, self.town.clock, settled=self._notices_settled)
        self.senders[platform.name] = sender
        return sender

    async def _notices_settled(self, outbox_ids: list[int]) -> None:
        if await report_settled_notices(self.database, self.town, outbox_ids):
            self.wake_senders()  # a delivery report to send; not after every send of a broadcast

    async def drain(self) -> int:
        """Deliver what is due on every platform now; the number delivered."""
        return sum([await sender.drain() for sender in self.senders.values()])

    async def receive(self, messages: Sequence[IncomingMessage]) -> None:
        """What every adapter hands messages to (handlers.transport.Receive): those that arrived
        together, in their order, handled and stored in one commit where they can be (see
        Dispatcher.handle_many); then the senders go."""
        if messages:
            await self.dispatcher.handle_many(messages)
            self.wake_senders()

    def wake_senders(self) -> None:
        """Tell every sender that the outbox has something new."""
        _wake(self.senders)

    async def close(self) -> None:
        await self.database.close()


def _wake(senders: dict[str, OutboxSender]) -> None:
    for sender in senders.values():
        sender.wake.set()
