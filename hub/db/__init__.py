"""The hub's store: tables, tenant scoping, sessions and migrations."""

from hub.db.engine import Database

__all__ = ["Database"]
