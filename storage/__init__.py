"""Storage: SQLAlchemy models, repositories and migrations (SQLite by default, PostgreSQL in production)."""

from .database import Database, DatabaseError, async_url
from .store import Store

__all__ = ["Database", "DatabaseError", "Store", "async_url"]
