"""The town's configuration: one TOML file validated into typed models at start.

A bad config must stop the bot before anything starts, with one message that a town clerk can act
on: the file, the key (and its line where we can find it) and what to write instead. That is why
validation errors are re-worded here rather than shown as pydantic prints them.
"""

from __future__ import annotations

import datetime as dt
import os
import re
import tomllib
from collections.abc import Iterable
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Annotated, Any, Literal, TypeVar
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, ValidationError, model_validator

PLATFORMS = ("telegram", "wechat", "console")
EXAMPLE_TOWN = "example_town.toml"
DEFAULT_CONFIG_NAME = "town.toml"
DATABASE_URL_ENV = "VILLAGEBOT_DATABASE_URL"


class ConfigError(Exception):
    """A config that cannot be used; the message says where and what to write instead."""


def _parse_clock(value: Any) -> dt.time:
    if isinstance(value, dt.time):
        return value.replace(tzinfo=None)
    if isinstance(value, str):
        match = re.fullmatch(r"\s*(\d{1,2})[:：](\d{2})(?:[:：](\d{2}))?\s*", value)
        if match and int(match[1]) < 24 and int(match[2]) < 60 and int(match[3] or 0) < 60:
            return dt.time(int(match[1]), int(match[2]), int(match[3] or 0))
    raise ValueError(f'{value!r} is not a time of day; write it as "HH:MM", for example "08:00"')


def _parse_chat(value: Any) -> str:
    if isinstance(value, str):
        platform, sep, ident = value.partition(":")
        if sep and platform in PLATFORMS and ident.strip():
            return value
    raise ValueError(
        f"{value!r} is not a chat; write it as platform:id with platform one of "
        f'{", ".join(PLATFORMS)}, for example "telegram:-1001000000111"'
    )


ClockTime = Annotated[dt.time, BeforeValidator(_parse_clock)]
ChatRef = Annotated[str, BeforeValidator(_parse_chat)]


def check_timezone(name: str) -> None:
    """A town's or a county's clock runs in an IANA zone; a typo there would move every deadline."""
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(
            f'timezone {name!r} is not a known time zone; write an IANA name such as "Asia/Shanghai"'
        ) from None


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


class TownSection(_Section):
    name: str = Field(min_length=1)
    timezone: str = "Asia/Shanghai"
    database: str = "sqlite:///villagebot.db"
    leaders_chat: ChatRef | None = None
    campaign_start: dt.date | None = None
    key_areas: list[str] = Field(default_factory=lambda: ["湖北", "武汉", "重点地区", "疫区"])
    bot_names: list[str] = Field(default_factory=lambda: ["防控助手"])

    @model_validator(mode="after")
    def _known_timezone(self) -> TownSection:
        check_timezone(self.timezone)
        return self

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)


WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")


class ScheduleSection(_Section):
    remind: ClockTime = dt.time(8, 0)
    chase: ClockTime = dt.time(15, 0)
    deadline: ClockTime = dt.time(17, 0)
    #: The day of the week the leaders get the 14-day trend chart, with the deadline summary; "never": not at all.
    weekly_trend: Literal["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday", "never"] = (
        "monday"
    )

    def weekly_trend_on(self, day: dt.date) -> bool:
        return self.weekly_trend != "never" and WEEKDAYS[day.weekday()] == self.weekly_trend

    @model_validator(mode="after")
    def _in_order(self) -> ScheduleSection:
        if not self.remind < self.chase < self.deadline:
            raise ValueError("the times must come in the order remind < chase < deadline")
        return self


class FieldSpec(_Section):
    """One figure of the daily report. Ids are stable; labels and keywords are the town's words."""

    id: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    label: str = Field(min_length=1)
    keywords: list[str] = Field(min_length=1)
    units: list[str] = Field(default_factory=list)
    required: bool = False
    min: int = 0
    max: int = 100000
    warn_below: int | None = None
    at_most: str | None = None  # id of a field this one may not exceed (其中…)
    stock: bool = False  # a count of people now (居家观察), not of today's work: never summed over days
    bulletin: str | None = None  # how the town's bulletin words the running total, "设立宣传牌{n}处"
    zero_report: bool = False  # a bare 零报告 says this field is 0 (returnees, fever); the rest are asked for

    @model_validator(mode="after")
    def _range(self) -> FieldSpec:
        if self.min > self.max:
            raise ValueError(f"min {self.min} is larger than max {self.max}")
        if self.bulletin is not None and "{n}" not in self.bulletin:
            raise ValueError(
                f'bulletin {self.bulletin!r} must contain {{n}} where the number goes, e.g. "设立宣传牌{{n}}处"'
            )
        return self


class VillageSpec(_Section):
    name: str = Field(min_length=1)
    aliases: list[str] = Field(default_factory=list)
    chats: list[ChatRef] = Field(default_factory=list)
    heads: list[ChatRef] = Field(default_factory=list)  # platform:user ids of the village heads


class CheckpointSpec(_Section):
    name: str = Field(min_length=1)
    village: str | None = None
    chats: list[ChatRef] = Field(default_factory=list)
    staff: list[ChatRef] = Field(default_factory=list)


class AdminSpec(_Section):
    name: str = Field(min_length=1)
    ids: list[ChatRef] = Field(min_length=1)


# Telegram's own limits for a bot: faster sends are refused with 429s, and a bot that keeps
# trying is slowed down for longer (core.telegram.org/bots/faq, "My bot is hitting limits").
TELEGRAM_PER_SECOND = 30
TELEGRAM_PER_CHAT_PER_MINUTE = 20


class TelegramSection(_Section):
    # In a county: the [[telegram_account]] this town's Telegram chats are on (townconfig/county.py);
    # a single town leaves it out.
    account: str | None = None
    token_env: str = "TELEGRAM_BOT_TOKEN"
    # sends a second over all chats, and a minute to one group: at most Telegram's own limits
    per_second: float | None = Field(default=None, gt=0, le=TELEGRAM_PER_SECOND)
    per_chat_per_minute: int | None = Field(default=None, ge=1, le=TELEGRAM_PER_CHAT_PER_MINUTE)
    base_url: str | None = None
    webhook_url: str | None = None
    webhook_listen: str = "127.0.0.1"
    webhook_port: int = 8443
    webhook_secret_env: str = "TELEGRAM_WEBHOOK_SECRET"


class WechatSection(_Section):
    """A personal WeChat account is restricted when it sends fast: these keep it slow and steady."""

    # In a county: the [[wechat_account]] this town's WeChat groups are on (townconfig/county.py);
    # a single town leaves it out.
    account: str | None = None
    endpoint: str | None = None
    token_env: str = "WECHATY_PUPPET_SERVICE_TOKEN"
    tls: bool = True  # false only for a service that serves plain text (on this machine or a private network)
    tls_ca: str | None = None  # PEM file of the CA that signed the service's certificate; else the system's
    tls_server_name: str | None = None  # the name in that certificate ("insecure": the service's built-in one)
    group_interval: float | None = Field(default=None, gt=0)  # seconds between two messages to one group (1)
    group_gap: tuple[float, float] | None = None  # seconds between different groups, at random (3–5)
    per_minute: int | None = Field(default=None, ge=1)  # messages a minute, all groups together (40)
    heartbeat_timeout: float | None = Field(default=None, gt=0)  # silence before the link counts as dead (120)
    reconnect_delay: tuple[float, float] | None = None  # first and longest wait between reconnects (1, 60)
    down_alert_after: float | None = Field(default=None, gt=0)  # outage before the leaders are told (300)
    rpc_timeout: float | None = Field(default=None, gt=0)  # seconds one call may take (30)


class ScheduledNoticeSpec(_Section):
    at: ClockTime
    text: str = Field(min_length=1)
    villages: list[str] = Field(default_factory=list)


class PrivacySection(_Section):
    observation_days: int = Field(default=14, ge=1, le=60)
    retention_days: int = Field(default=30, ge=0, le=3650)


class TownConfig(_Section):
    source: str = Field(default="<memory>", exclude=True)
    town: TownSection
    schedule: ScheduleSection = Field(default_factory=ScheduleSection)
    villages: list[VillageSpec] = Field(alias="village", min_length=1)
    checkpoints: list[CheckpointSpec] = Field(alias="checkpoint", default_factory=list)
    admins: list[AdminSpec] = Field(alias="admin", default_factory=list)
    fields: list[FieldSpec] = Field(alias="field", default_factory=list)
    notices: list[ScheduledNoticeSpec] = Field(alias="notice", default_factory=list)
    telegram: TelegramSection | None = None
    wechat: WechatSection | None = None
    privacy: PrivacySection = Field(default_factory=PrivacySection)

    @model_validator(mode="after")
    def _consistent(self) -> TownConfig:
        _no_repeats("village", (n for v in self.villages for n in (v.name, *v.aliases)))
        _no_repeats("checkpoint", (c.name for c in self.checkpoints))
        _no_repeats("field id", (f.id for f in self.fields))
        village_names = {v.name for v in self.villages}
        for cp in self.checkpoints:
            if cp.village is not None and cp.village not in village_names:
                raise ValueError(
                    f"checkpoint {cp.name!r} names village {cp.village!r}, which is not a [[village]]; "
                    f"write one of {', '.join(sorted(village_names))}"
                )
        owners: dict[str, str] = {}
        for owner, chats in [(v.name, v.chats) for v in self.villages] + [(c.name, c.chats) for c in self.checkpoints]:
            for chat in chats:
                if chat in owners and owners[chat] != owner:
                    raise ValueError(
                        f"chat {chat!r} is bound to both {owners[chat]!r} and {owner!r}; "
                        "a group belongs to one village or checkpoint"
                    )
                owners[chat] = owner
        leaders = self.town.leaders_chat
        if leaders is not None and leaders in owners:
            raise ValueError(
                f"[town] leaders_chat {leaders!r} is also the chat of {owners[leaders]!r}: alerts and the "
                "daily summary would go to that group; give the leaders a group of their own"
            )
        keyword_owner: dict[str, str] = {}
        for spec in self.fields:
            for keyword in spec.keywords:
                if keyword_owner.setdefault(keyword, spec.id) != spec.id:
                    raise ValueError(
                        f"keyword {keyword!r} belongs to both field {keyword_owner[keyword]!r} and field "
                        f"{spec.id!r}; a figure can only be read for one of them: keep it in one"
                    )
        field_ids = {f.id for f in self.fields}
        for spec in self.fields:
            if spec.at_most is not None and spec.at_most not in field_ids:
                raise ValueError(f"field {spec.id!r} has at_most = {spec.at_most!r}, which is not a field id")
        for notice in self.notices:
            unknown = [name for name in notice.villages if name not in village_names]
            if unknown:
                raise ValueError(f"[[notice]] names unknown villages {unknown}; write names of [[village]]")
        return self

    @property
    def report_fields(self) -> list[FieldSpec]:
        """The daily template: the town's own fields, or the example town's when it has none."""
        return self.fields or list(default_fields())

    @property
    def database_url(self) -> str:
        return os.environ.get(DATABASE_URL_ENV) or self.town.database

    def village(self, name: str) -> VillageSpec | None:
        return next((v for v in self.villages if v.name == name), None)


def _no_repeats(what: str, names: Iterable[str]) -> None:
    seen: set[str] = set()
    for name in names:
        if name in seen:
            raise ValueError(f"{what} {name!r} is named twice; each name may appear once")
        seen.add(name)


def load_config(path: str | Path | None = None) -> TownConfig:
    """Load the config named on the command line, else ./town.toml, else the shipped example town."""
    if path is None:
        local = Path(DEFAULT_CONFIG_NAME)
        if local.is_file():
            return _load_file(local)
        return example_town()
    path = Path(path)
    if not path.is_file():
        raise ConfigError(
            f"{path}: no such config file. Create it (copy the example with `villagebot example-config "
            f"> {path}`) or leave out --config to use the example town."
        )
    return _load_file(path)


@cache
def example_town() -> TownConfig:
    return parse_config(example_town_text(), EXAMPLE_TOWN)


def example_town_text() -> str:
    return resources.files("townconfig").joinpath(EXAMPLE_TOWN).read_text(encoding="utf-8")


def default_fields() -> tuple[FieldSpec, ...]:
    return tuple(example_town().fields)


def _load_file(path: Path) -> TownConfig:
    try:
        text = path.read_text(encoding="utf-8-sig")  # Windows Notepad starts a UTF-8 file with a BOM
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: cannot be read ({exc}); save it as UTF-8 text") from None
    return parse_config(text, str(path))


ModelT = TypeVar("ModelT", bound=BaseModel)


def validated_toml(text: str, source: str, model: type[ModelT]) -> ModelT:
    """A TOML file read into `model`, or a ConfigError naming the file, the line and what to write."""
    text = text.removeprefix("\ufeff")
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{source}: not valid TOML: {exc}. Check the quotes and brackets on that line.") from None
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        lines = [_describe(error, text, data, model) for error in exc.errors()]
        raise ConfigError(f"{source}: " + "\n  ".join(lines)) from None


def parse_config(text: str, source: str) -> TownConfig:
    config = validated_toml(text, source, TownConfig)
    return config.model_copy(update={"source": source})


_SECTION_NAMES = {"village", "checkpoint", "admin", "field", "notice"}


def _describe(error: Any, text: str, data: dict[str, Any], model: type[BaseModel] | None = None) -> str:
    loc = tuple(error["loc"])
    where = _location(loc)
    key = next((str(part) for part in reversed(loc) if isinstance(part, str)), None)
    line = _line_of(text, key) if key else None
    at = f" (line {line})" if line else ""
    kind = error["type"]
    if kind == "extra_forbidden":
        allowed = _allowed_keys(loc[:-1], model or TownConfig)
        hint = f"; allowed keys here: {', '.join(allowed)}" if allowed else ""
        return f"unknown key {where}{at}{hint}"
    if kind == "missing":
        return f"missing key {where}: add it"
    message = str(error["msg"]).removeprefix("Value error, ")
    if not line:
        line = _line_of_repeated_name(text, message)
        at = f" (line {line})" if line else ""
    value = error.get("input")
    shown = f" = {value!r}" if not isinstance(value, dict | list) else ""
    return f"{where}{shown}{at}: {message}" if where else f"{message}{at}"


def _location(loc: tuple[Any, ...]) -> str:
    parts: list[str] = []
    for part in loc:
        if isinstance(part, int):
            parts[-1] = f"{parts[-1]}[{part + 1}]" if parts else f"[{part + 1}]"
        elif part in _SECTION_NAMES and not parts:
            parts.append(f"[[{part}]]")
        else:
            parts.append(str(part))
    return ".".join(parts)


def _allowed_keys(loc: tuple[Any, ...], model: type[BaseModel]) -> list[str]:
    for part in loc:
        if isinstance(part, int):
            continue
        field = next(
            (f for name, f in model.model_fields.items() if part in (name, f.alias)),
            None,
        )
        if field is None:
            return []
        annotation = field.annotation
        inner = getattr(annotation, "__args__", (annotation,))
        nested = next((a for a in inner if isinstance(a, type) and issubclass(a, BaseModel)), None)
        if nested is None:
            return []
        model = nested
    return sorted((f.alias or name) for name, f in model.model_fields.items() if not f.exclude)


def _line_of_repeated_name(text: str, message: str) -> int | None:
    """For "village '五星村' is named twice" and the like: the line where the name comes again."""
    quoted = re.search(r"'([^']+)'", message)
    if quoted is None:
        return None
    name = re.escape(f'"{quoted[1]}"')
    naming = re.compile(rf"^\s*(?:name|id)\s*=\s*{name}|^\s*aliases\s*=.*{name}", re.MULTILINE)
    places = [m.start() for m in naming.finditer(text)]
    return text.count("\n", 0, places[1]) + 1 if len(places) > 1 else None


def _line_of(text: str, key: str) -> int | None:
    pattern = re.compile(rf"^\s*(?:\[\[?\s*)?{re.escape(key)}\s*(?:=|\]\]?)", re.MULTILINE)
    match = pattern.search(text)
    return text.count("\n", 0, match.start()) + 1 if match else None
