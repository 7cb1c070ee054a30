"""A county on disk for the tests: three towns made from the example town, each its own file.

Every town keeps the example's villages (so 红星村 is in all three), with chats of its own.
"""

from __future__ import annotations

import re
from pathlib import Path

from townconfig import example_town_text

TOWNS = {"wangxian": "王岘镇", "hongqi": "红旗镇", "qingshui": "清水镇"}


def town_text(name: str, town_id: str, platform: str = "console", account: str | None = None) -> str:
    """The example town renamed, its chats on `platform` with ids of its own, without [town] database
    (the county's database holds every town)."""
    text = example_town_text()
    text = text.replace('name = "王岘镇"', f'name = "{name}"', 1)
    text = "\n".join(line for line in text.splitlines() if not line.startswith("database ="))
    text = text.replace('"console:', f'"{platform}:{town_id}-')
    if account is not None:
        text += f'\n[{platform}]\naccount = "{account}"\n'
    return text + "\n"


def write_county(
    folder: Path,
    *,
    database: str | None = None,
    platform: str = "console",
    accounts: dict[str, str] | None = None,
    extra: str = "",
    towns: dict[str, str] = TOWNS,
) -> Path:
    """county.toml and towns/<id>.toml in `folder`; `accounts` maps a town id to its account."""
    (folder / "towns").mkdir(parents=True, exist_ok=True)
    for town_id, name in towns.items():
        account = (accounts or {}).get(town_id)
        (folder / "towns" / f"{town_id}.toml").write_text(town_text(name, town_id, platform, account), "utf-8")
    database = database or f"sqlite:///{folder}/county.db"
    entries = "".join(f'[[town]]\nid = "{i}"\nfile = "towns/{i}.toml"\n\n' for i in towns)
    path = folder / "county.toml"
    path.write_text(
        f'[county]\nname = "黄河县"\ndatabase = "{database}"\nleaders_chat = "{platform}:county-leaders"\n\n'
        f'{entries}[[county_admin]]\nname = "县防控办"\nids = ["{platform}:county_office"]\n\n{extra}',
        encoding="utf-8",
    )
    return path


def telegram_ids(town_index: int) -> dict[str, int]:
    """The Telegram ids of one town of the county: its village groups, heads, leaders, admin."""
    config = example_town_text()
    names = re.findall(r'"console:([^"]+)"', config)
    ids: dict[str, int] = {}
    for n, name in enumerate(dict.fromkeys(names), start=1):
        is_person = name.endswith("村干部") or name == "town_office"
        ids[name] = (200000 if is_person else -1001000000000) + (town_index * 100 + n) * (1 if is_person else -1)
    return ids


def telegram_town_text(name: str, town_index: int, account: str) -> str:
    """The example town renamed, on Telegram (ids from telegram_ids), on `account`, without a database."""
    ids = telegram_ids(town_index)
    text = town_text(name, "x")
    text = re.sub(r'"console:x-([^"]+)"', lambda m: f'"telegram:{ids[m[1]]}"', text)
    return text + f'\n[telegram]\naccount = "{account}"\n'


def write_telegram_county(
    folder: Path, *, database: str, towns: dict[str, tuple[str, str]], accounts: dict[str, str],
    leaders: int, admin: int,
) -> Path:
    """A county on Telegram: `towns` maps a town id to (name, account); `accounts` an account to its
    base URL (a stand-in's); each account's token comes from ACCOUNT_TOKEN (upper case)."""
    (folder / "towns").mkdir(parents=True, exist_ok=True)
    for index, (town_id, (name, account)) in enumerate(towns.items(), start=1):
        (folder / "towns" / f"{town_id}.toml").write_text(telegram_town_text(name, index, account), "utf-8")
    entries = "".join(f'[[town]]\nid = "{i}"\nfile = "towns/{i}.toml"\n\n' for i in towns)
    declared = "".join(
        f'[[telegram_account]]\nname = "{a}"\ntoken_env = "{a.upper()}_TOKEN"\nbase_url = "{url}"\n\n'
        for a, url in accounts.items()
    )
    path = folder / "county.toml"
    path.write_text(
        f'[county]\nname = "黄河县"\ndatabase = "{database}"\nleaders_chat = "telegram:{leaders}"\n'
        f'telegram_account = "{next(iter(accounts))}"\n\n{entries}'
        f'[[county_admin]]\nname = "县防控办"\nids = ["telegram:{admin}"]\n\n{declared}',
        encoding="utf-8",
    )
    return path


def wechat_ids(town_index: int) -> dict[str, str]:
    """The WeChat ids of one town of the county: its rooms (…@chatroom) and people (wxid_…)."""
    names = dict.fromkeys(re.findall(r'"console:([^"]+)"', example_town_text()))
    return {
        name: (f"wxid_{town_index}_{n}" if name.endswith("村干部") or name == "town_office"
               else f"{town_index}{n:04d}@chatroom")
        for n, name in enumerate(names, start=1)
    }  # fmt: skip


def wechat_town_text(name: str, town_index: int, account: str) -> str:
    """The example town renamed, on WeChat (ids from wechat_ids), on `account`, without a database."""
    ids = wechat_ids(town_index)
    text = re.sub(r'"console:x-([^"]+)"', lambda m: f'"wechat:{ids[m[1]]}"', town_text(name, "x"))
    return text + f'\n[wechat]\naccount = "{account}"\n'
