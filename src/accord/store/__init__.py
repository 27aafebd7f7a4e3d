"""Persistence: the store interface and its SQLite implementation."""

from __future__ import annotations

import os

from accord.store.base import Change, CommandRecord, Event, Store
from accord.store.sqlite import SQLiteStore

__all__ = ["Change", "CommandRecord", "Event", "SQLiteStore", "Store", "open_store"]


def open_store(location: str | os.PathLike[str] | Store) -> Store:
    """Open a store from a path (SQLite) or return an already open one."""
    if isinstance(location, Store):
        return location
    text = os.fspath(location)
    if text.startswith(("postgresql://", "postgres://")):
        from accord.errors import StoreError

        raise StoreError(
            "location", "a SQLite file path (the PostgreSQL team store is not built yet)", text
        )
    return SQLiteStore(text)
