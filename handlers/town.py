"""Everything a handler needs to know about the town, built once at start from the config."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from storage.personal_data import DataKey
from townconfig import FieldSpec, TownConfig

from .clock import Clock, at_local, local_day
from .directory import Directory
from .parsing import Vocabulary


@dataclass(frozen=True)
class Town:
    config: TownConfig
    clock: Clock
    directory: Directory
    vocab: Vocabulary  # the town's words: villages, places, report fields
    data_key: DataKey | None = None  # without one, the bot refuses to store personal data

    @classmethod
    def build(cls, config: TownConfig, clock: Clock, data_key: DataKey | None = None) -> Town:
        return cls(config, clock, Directory(config), Vocabulary.from_config(config), data_key)

    @property
    def name(self) -> str:
        return self.config.town.name

    @property
    def zone(self) -> ZoneInfo:
        return self.config.town.zone

    @property
    def fields(self) -> list[FieldSpec]:
        return self.config.report_fields

    @property
    def required(self) -> list[str]:
        return [f.id for f in self.fields if f.required]

    def label(self, field_id: str) -> str:
        spec = next((f for f in self.fields if f.id == field_id), None)
        return spec.label if spec else field_id

    def day_of(self, moment: dt.datetime) -> dt.date:
        return local_day(moment, self.zone)

    def today(self) -> dt.date:
        return self.day_of(self.clock.now())

    def deadline(self, day: dt.date) -> dt.datetime:
        return at_local(day, self.config.schedule.deadline, self.zone)

    def is_late(self, moment: dt.datetime) -> bool:
        return moment > self.deadline(self.day_of(moment))
