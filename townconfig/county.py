"""A county: several towns in one deployment, their platform accounts declared once, one database.

Each town keeps its own file in exactly today's format (townconfig/model.py); the county file
lists them and adds what is the county's: its leaders' chat, its admins and the accounts. A chat,
village, checkpoint or admin belongs to one town, so names may repeat across towns (two 红星村):
each town's records live in a schema (or SQLite file) of its own, named from its stable `id`.
"""

from __future__ import annotations

import os
import re
import tomllib
from pathlib import Path
from typing import Literal
from zoneinfo import ZoneInfo

from pydantic import Field, model_validator

from .model import (
    DATABASE_URL_ENV,
    AdminSpec,
    ChatRef,
    ConfigError,
    TelegramSection,
    TownConfig,
    WechatSection,
    _load_file,
    _Section,
    check_timezone,
    validated_toml,
)

#: A town's id names its schema (PostgreSQL) or file (SQLite): ASCII, short, never renamed.
TOWN_ID_PATTERN = r"^[a-z][a-z0-9_]{0,30}$"
#: The schema (or SQLite file suffix) of what is the county's own: its notices, its summary's
#: once-only record and its leaders' outbox.
COUNTY_SCHEMA = "county"
AccountPlatform = Literal["telegram", "wechat"]


class CountySection(_Section):
    name: str = Field(min_length=1)
    timezone: str = "Asia/Shanghai"
    database: str = "sqlite:///county.db"
    leaders_chat: ChatRef | None = None
    # the accounts the county's own chat is on, when the county has more than one of that platform
    telegram_account: str | None = None
    wechat_account: str | None = None

    @model_validator(mode="after")
    def _known_timezone(self) -> CountySection:
        check_timezone(self.timezone)
        return self


class TownEntry(_Section):
    """One town of the county: its id and its file (relative to the county file)."""

    id: str = Field(pattern=TOWN_ID_PATTERN)
    file: str = Field(min_length=1)


class TelegramAccountSpec(TelegramSection):
    """A Telegram bot the county runs; towns name it in `[telegram] account`."""

    name: str = Field(pattern=r"^[A-Za-z0-9_-]{1,40}$")


class WechatAccountSpec(WechatSection):
    """A WeChat account behind its own puppet service; towns name it in `[wechat] account`."""

    name: str = Field(pattern=r"^[A-Za-z0-9_-]{1,40}$")


class CountyFile(_Section):
    """The county file as written, before its towns are read."""

    county: CountySection
    towns: list[TownEntry] = Field(alias="town", default_factory=list)
    town_dir: str | None = None
    admins: list[AdminSpec] = Field(alias="county_admin", default_factory=list)
    telegram_accounts: list[TelegramAccountSpec] = Field(alias="telegram_account", default_factory=list)
    wechat_accounts: list[WechatAccountSpec] = Field(alias="wechat_account", default_factory=list)

    @model_validator(mode="after")
    def _consistent(self) -> CountyFile:
        if not self.towns and self.town_dir is None:
            raise ValueError(
                'a county lists its towns: [[town]] id = "…", file = "towns/….toml", or town_dir = "towns"'
            )
        for what, names in (
            ("[[telegram_account]]", [a.name for a in self.telegram_accounts]),
            ("[[wechat_account]]", [a.name for a in self.wechat_accounts]),
            ("[[town]] id", [t.id for t in self.towns]),
        ):
            seen: set[str] = set()
            for name in names:
                if name in seen:
                    raise ValueError(f"{what} {name!r} is named twice; each name may appear once")
                seen.add(name)
        return self


class CountyTown(_Section):
    """A town of the county, read from its own file, with the accounts its chats are on."""

    id: str
    config: TownConfig
    telegram_account: str | None = None
    wechat_account: str | None = None

    @property
    def name(self) -> str:
        return self.config.town.name

    def account_of(self, platform: str) -> str | None:
        """The account this town's chats of `platform` are on (None: console, or not configured)."""
        if platform == "telegram":
            return self.telegram_account
        if platform == "wechat":
            return self.wechat_account
        return None

    @property
    def accounts(self) -> list[str]:
        """Account keys ("wechat:acc1") this town's chats are on."""
        return [f"{p}:{a}" for p in ("telegram", "wechat") if (a := self.account_of(p)) is not None]


class CountyConfig(_Section):
    """A county and its towns, validated together: what `villagebot --config county.toml` runs."""

    source: str = Field(default="<memory>", exclude=True)
    county: CountySection
    towns: list[CountyTown]
    admins: list[AdminSpec] = Field(default_factory=list)
    telegram_accounts: list[TelegramAccountSpec] = Field(default_factory=list)
    wechat_accounts: list[WechatAccountSpec] = Field(default_factory=list)

    @property
    def database_url(self) -> str:
        return os.environ.get(DATABASE_URL_ENV) or self.county.database

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.county.timezone)

    def town(self, id_or_name: str) -> CountyTown | None:
        """The town by its id or its name (`villagebot report --town`)."""
        return next((t for t in self.towns if id_or_name in (t.id, t.name)), None)

    @property
    def account_keys(self) -> list[str]:
        """Every account of the county as "platform:name", the unit of `villagebot run --accounts`."""
        return [f"telegram:{a.name}" for a in self.telegram_accounts] + [
            f"wechat:{a.name}" for a in self.wechat_accounts
        ]

    def telegram_account(self, name: str) -> TelegramAccountSpec:
        return next(a for a in self.telegram_accounts if a.name == name)

    def wechat_account(self, name: str) -> WechatAccountSpec:
        return next(a for a in self.wechat_accounts if a.name == name)

    def towns_on(self, account_key: str) -> list[CountyTown]:
        return [t for t in self.towns if account_key in t.accounts]

    def is_county_admin(self, user: str) -> bool:
        return any(user in admin.ids for admin in self.admins)

    def town_database(self, town_id: str) -> tuple[str, str | None]:
        """(URL, schema) of a town's records: a schema of its own on PostgreSQL, a file of its own
        next to the county's on SQLite. `town_id` COUNTY_SCHEMA gives the county's own."""
        return split_database(self.database_url, town_id)


def split_database(url: str, part: str) -> tuple[str, str | None]:
    """One town's (or the county's) share of the county database: (url, schema)."""
    if url.startswith("sqlite"):
        head, sep, path = url.partition(":///")
        if not sep or not path or path == ":memory:":
            raise ConfigError(f"{url!r}: a county on SQLite needs a file, sqlite:///county.db")
        stem, dot, suffix = path.rpartition(".")
        file = f"{stem}.{part}.{suffix}" if dot and "/" not in suffix else f"{path}.{part}"
        return f"{head}:///{file}", None
    schema = part if part == COUNTY_SCHEMA else f"town_{part}"
    return url, schema


def is_county_text(text: str) -> bool:
    """Whether a config file is a county's (it has a [county] table) rather than a town's."""
    try:
        data = tomllib.loads(text.removeprefix("\ufeff"))
    except tomllib.TOMLDecodeError:
        return False
    return isinstance(data.get("county"), dict)


def load_county(path: str | Path) -> CountyConfig:
    """Read the county file and every town it lists; every problem says which file and what to write."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: cannot be read ({exc}); save it as UTF-8 text") from None
    return parse_county(text, str(path), base=path.parent)


def parse_county(text: str, source: str, *, base: Path) -> CountyConfig:
    written = validated_toml(text, source, CountyFile)
    entries = list(written.towns)
    if written.town_dir is not None:
        folder = base / written.town_dir
        if not folder.is_dir():
            raise ConfigError(
                f"{source}: town_dir = {written.town_dir!r}: no such folder {folder}; create it or fix the path"
            )
        listed = {(base / e.file).resolve() for e in entries}
        for file in sorted(folder.glob("*.toml")):
            if file.resolve() in listed:
                continue
            if not _is_town_id(file.stem):
                raise ConfigError(
                    f"{file}: a town file in town_dir is named by the town's id, which must be lower-case ASCII "
                    f"letters, digits and _ (for example wangxian.toml); rename it"
                )
            entries.append(TownEntry(id=file.stem, file=str(file.relative_to(base))))
    towns = [_read_town(entry, written, source, base) for entry in entries]
    _check_across_towns(towns, written, source)
    county = CountyConfig(
        source=source,
        county=written.county,
        towns=towns,
        admins=written.admins,
        telegram_accounts=written.telegram_accounts,
        wechat_accounts=written.wechat_accounts,
    )
    _check_county_chat(county, source)
    return county


def _is_town_id(name: str) -> bool:
    return re.fullmatch(TOWN_ID_PATTERN, name) is not None


def _read_town(entry: TownEntry, written: CountyFile, source: str, base: Path) -> CountyTown:
    path = base / entry.file
    if not path.is_file():
        raise ConfigError(f"{source}: [[town]] {entry.id!r} names {entry.file}, but {path} does not exist")
    config = _load_file(path)
    if "database" in config.town.model_fields_set:
        raise ConfigError(
            f"{path}: [town] database is set, but in a county every town is kept in the county's database "
            f"([county] database in {source}); remove it from the town's file"
        )
    telegram = _account_of(config, "telegram", [a.name for a in written.telegram_accounts], path, source)
    wechat = _account_of(config, "wechat", [a.name for a in written.wechat_accounts], path, source)
    return CountyTown(id=entry.id, config=config, telegram_account=telegram, wechat_account=wechat)


def _account_of(
    config: TownConfig, platform: AccountPlatform, declared: list[str], path: Path, source: str
) -> str | None:
    """The account a town's chats of one platform are on: the one it names, or the county's only one."""
    section: TelegramSection | WechatSection | None = getattr(config, platform)
    uses = section is not None or any(c.startswith(f"{platform}:") for c in _town_chats(config))
    if not uses:
        return None
    if section is not None:
        extra = sorted(section.model_fields_set - {"account"})
        if extra:
            raise ConfigError(
                f"{path}: [{platform}] {', '.join(extra)}: in a county these belong to the account "
                f'([[{platform}_account]] in {source}); leave only account = "…" here'
            )
    named = section.account if section is not None else None
    if named is None:
        if len(declared) == 1:
            return declared[0]
        if not declared:
            raise ConfigError(
                f"{path} has {platform} chats, but {source} declares no [[{platform}_account]]; "
                "declare the account there"
            )
        raise ConfigError(
            f"{path}: the county has several {platform} accounts ({', '.join(declared)}); "
            f'say which this town is on: [{platform}] account = "{declared[0]}"'
        )
    if named not in declared:
        known = ", ".join(declared) or "none"
        raise ConfigError(
            f"{path}: [{platform}] account = {named!r} is not a [[{platform}_account]] of {source} (declared: {known})"
        )
    return named


def _town_chats(config: TownConfig) -> list[str]:
    chats = [c for v in config.villages for c in v.chats] + [c for cp in config.checkpoints for c in cp.chats]
    if config.town.leaders_chat is not None:
        chats.append(config.town.leaders_chat)
    return chats


def _check_across_towns(towns: list[CountyTown], written: CountyFile, source: str) -> None:
    ids: dict[str, str] = {}
    names: dict[str, str] = {}
    owner: dict[str, str] = {}
    for town in towns:
        if town.id in ids:
            raise ConfigError(f"{source}: town id {town.id!r} is used by both {ids[town.id]} and {town.config.source}")
        ids[town.id] = town.config.source
        if town.name in names:
            raise ConfigError(
                f"{source}: two towns are both named {town.name!r} ({names[town.name]} and {town.config.source}); "
                "give each town its own [town] name"
            )
        names[town.name] = town.config.source
        for chat in dict.fromkeys(_town_chats(town.config)):
            if chat in owner:
                raise ConfigError(
                    f"{source}: chat {chat!r} is in both {owner[chat]} and {town.config.source}; "
                    "a group belongs to one town"
                )
            owner[chat] = town.config.source
    county_ids = {i for admin in written.admins for i in admin.ids}
    for town in towns:
        both = county_ids & {i for admin in town.config.admins for i in admin.ids}
        if both:
            raise ConfigError(
                f"{town.config.source}: {sorted(both)[0]!r} is a [[county_admin]] of {source} and an [[admin]] of "
                "this town; a county admin already acts in every town: remove the town's entry"
            )
    leaders = written.county.leaders_chat
    if leaders is not None and leaders in owner:
        raise ConfigError(
            f"{source}: [county] leaders_chat {leaders!r} is also a chat of {owner[leaders]}; "
            "give the county leaders a group of their own"
        )


def _check_county_chat(county: CountyConfig, source: str) -> None:
    leaders = county.county.leaders_chat
    for platform, named, declared in (
        ("telegram", county.county.telegram_account, [a.name for a in county.telegram_accounts]),
        ("wechat", county.county.wechat_account, [a.name for a in county.wechat_accounts]),
    ):
        if named is not None and named not in declared:
            raise ConfigError(f"{source}: [county] {platform}_account = {named!r} is not a [[{platform}_account]]")
        if leaders is not None and leaders.startswith(f"{platform}:") and named is None and len(declared) != 1:
            raise ConfigError(
                f"{source}: [county] leaders_chat is on {platform}, and the county has "
                f'{len(declared) or "no"} {platform} accounts; say which: [county] {platform}_account = "…"'
            )


def county_account_of(county: CountyConfig, platform: str) -> str | None:
    """The account the county's own leaders' chat of `platform` is on."""
    if platform == "telegram":
        return county.county.telegram_account or (
            county.telegram_accounts[0].name if county.telegram_accounts else None
        )
    if platform == "wechat":
        return county.county.wechat_account or (county.wechat_accounts[0].name if county.wechat_accounts else None)
    return None


def load_deployment(path: str | Path | None) -> TownConfig | CountyConfig:
    """A town (today's town.toml) or a county file, told apart by its [county] table."""
    from .model import load_config

    if path is not None and Path(path).is_file():
        try:
            text = Path(path).read_text(encoding="utf-8-sig")
        except (OSError, UnicodeDecodeError):
            text = ""
        if is_county_text(text):
            return load_county(path)
    return load_config(path)
