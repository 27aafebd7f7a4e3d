"""Persistence: the store interface, the SQLite store and the PostgreSQL team store."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any

from accord.store.base import Change, CommandRecord, Event, Store
from accord.store.sqlite import SQLiteStore

if TYPE_CHECKING:
    from accord.store.postgres import PostgresStore

__all__ = [
    "Change",
    "CommandRecord",
    "Event",
    "PostgresStore",
    "SQLiteStore",
    "Store",
    "open_store",
]

_PG_SCHEMES = ("postgresql://", "postgres://")


def __getattr__(name: str) -> Any:
    # PostgresStore needs psycopg (an optional dependency): import it on first use
    if name == "PostgresStore":
        from accord.store.postgres import PostgresStore

        return PostgresStore
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def open_store(location: str | os.PathLike[str] | Store) -> Store:
    """Open a store: ``postgresql://…`` (team store), a SQLite file path, or an open Store."""
    if isinstance(location, Store):
        return location
    text = os.fspath(location)
    if text.startswith(_PG_SCHEMES):
        try:
            from accord.store.postgres import PostgresStore
        except ImportError as exc:
            from accord.errors import StoreError

            raise StoreError(
                "location",
                "psycopg 3 installed for a PostgreSQL store (pip install 'psycopg[binary]')",
                text.split("@")[-1],
            ) from exc
        return PostgresStore(text)
    return SQLiteStore(text)
