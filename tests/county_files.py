"""A county on disk for the tests: three towns made from the example town, each its own file.

Every town keeps the example's villages (so 红星村 is in all three), with chats of its own.
"""

from __future__ import annotations

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
