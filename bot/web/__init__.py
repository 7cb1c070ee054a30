"""The town office's read-only page (`villagebot serve`): the day's table, trends, donations,
inspections and notices, behind VILLAGEBOT_WEB_TOKEN."""

from .app import town_office_app
from .auth import COOKIE_NAME, TOKEN_VARIABLE, Sessions

__all__ = ["COOKIE_NAME", "TOKEN_VARIABLE", "Sessions", "town_office_app"]
