"""The town's configuration, validated into typed models: the bottom layer, importable by every other.

Nothing here imports the bot, the handlers or the database, so the parser, the storage and the
clock read the same models the CLI loads.
"""

from .model import (
    DATABASE_URL_ENV,
    DEFAULT_CONFIG_NAME,
    EXAMPLE_TOWN,
    PLATFORMS,
    AdminSpec,
    CheckpointSpec,
    ConfigError,
    FieldSpec,
    PrivacySection,
    ScheduledNoticeSpec,
    ScheduleSection,
    TelegramSection,
    TownConfig,
    TownSection,
    VillageSpec,
    WechatSection,
    default_fields,
    example_town,
    example_town_text,
    load_config,
    parse_config,
)

__all__ = [
    "DATABASE_URL_ENV",
    "DEFAULT_CONFIG_NAME",
    "EXAMPLE_TOWN",
    "PLATFORMS",
    "AdminSpec",
    "CheckpointSpec",
    "ConfigError",
    "FieldSpec",
    "PrivacySection",
    "ScheduleSection",
    "ScheduledNoticeSpec",
    "TelegramSection",
    "TownConfig",
    "TownSection",
    "VillageSpec",
    "WechatSection",
    "default_fields",
    "example_town",
    "example_town_text",
    "load_config",
    "parse_config",
]
