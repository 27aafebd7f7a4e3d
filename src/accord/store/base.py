"""The store interface: an append-only event log plus current-state tables.

The Session turns a validated command into changes (:class:`Change`); a store commits
them **atomically** as one command (one transaction): it checks each change
against the current revision of its record, appends one event per change to
the log and updates the current state. A stale change raises
:class:`~accord.errors.ConflictError` and nothing is written.

Every store (SQLite now, PostgreSQL for teams) implements :class:`Store`; the
shared test suite in ``tests/test_store.py`` runs against each.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

__all__ = ["TARGETS", "Change", "CommandRecord", "Event", "Store", "events_query"]

#: Kinds of record a change can touch.
TARGETS: tuple[str, ...] = (
    "annotation",
    "link",
    "entity",
    "item",
    "stream",
    "taxonomy",
    "review",
    "meta",
)


@dataclass(frozen=True)
class Change:
    """One record change proposed by the Session.

    ``before`` is the state the change was computed from (``None`` for a
    create); the store refuses the change unless the record's current
    revision still equals ``before["revision"]``.
    """

    target: str
    id: str
    op: str  # "create" | "update" | "delete"
    before: dict[str, Any] | None
    after: dict[str, Any] | None


@dataclass(frozen=True)
class Event:
    """A committed change, as kept in the log."""

    seq: int
    command: int
    ts: float
    annotator: str
    target: str
    id: str
    op: str
    before: dict[str, Any] | None
    after: dict[str, Any] | None

    @property
    def item(self) -> str | None:
        rec = self.after or self.before or {}
        return rec.get("item") if self.target != "item" else self.id

    def to_dict(self) -> dict[str, Any]:
        return {
            "seq": self.seq,
            "command": self.command,
            "ts": self.ts,
            "annotator": self.annotator,
            "target": self.target,
            "id": self.id,
            "op": self.op,
            "before": self.before,
            "after": self.after,
        }


@dataclass(frozen=True)
class CommandRecord:
    """A committed command and its events."""

    id: int
    ts: float
    annotator: str
    type: str
    kind: str  # "do" | "undo" | "redo" | "admin"
    undoes: int | None
    events: tuple[Event, ...] = field(default_factory=tuple)


def events_query(
    columns: str,
    placeholder: str,
    *,
    target: str | None,
    id: str | None,
    since: int,
    item: str | None,
    limit: int | None,
) -> tuple[str, list[Any]]:
    """The SQL and parameters of :meth:`Store.events` (``placeholder``: ``?`` or ``%s``)."""
    clauses, params = [f"seq > {placeholder}"], [since]
    for column, value in (("target", target), ("record_id", id), ("item", item)):
        if value is not None:
            clauses.append(f"{column} = {placeholder}")
            params.append(value)
    sql = f"SELECT {columns} FROM events WHERE {' AND '.join(clauses)} ORDER BY seq"
    if limit is not None:
        sql += f" LIMIT {int(limit)}"
    return sql, params


class Store(ABC):
    """Persistence of the label model; see the module docstring."""

    #: A URL-ish description (path or DSN without password).
    location: str

    @abstractmethod
    def commit(
        self,
        *,
        annotator: str,
        type: str,
        kind: str,
        changes: Sequence[Change],
        undoes: int | None = None,
        ts: float | None = None,
    ) -> CommandRecord:
        """Apply ``changes`` atomically as one command; raise ``ConflictError`` if stale."""

    @abstractmethod
    def get(self, target: str, id: str) -> dict[str, Any] | None:
        """The current record, or ``None``."""

    @abstractmethod
    def get_many(self, target: str, ids: Sequence[str]) -> dict[str, dict[str, Any]]:
        """Current records by id (missing ids are absent)."""

    @abstractmethod
    def records(self, target: str, /, **where: Any) -> list[dict[str, Any]]:
        """Current records of ``target``, filtered by equality on columns."""

    @abstractmethod
    def frame(self, target: str, /, **where: Any) -> pd.DataFrame:
        """Current records of ``target`` as a DataFrame (fast path for views)."""

    @abstractmethod
    def count(self, target: str) -> int:
        """How many current records ``target`` has."""

    @abstractmethod
    def command(self, command_id: int) -> CommandRecord:
        """A committed command with its events."""

    @abstractmethod
    def commands_of(self, annotator: str) -> list[CommandRecord]:
        """An annotator's commands in order (without events)."""

    @abstractmethod
    def events(
        self,
        *,
        target: str | None = None,
        id: str | None = None,
        since: int = 0,
        item: str | None = None,
        limit: int | None = None,
    ) -> list[Event]:
        """Events after ``since`` in log order, optionally filtered."""

    @abstractmethod
    def last_seq(self) -> int:
        """Sequence number of the newest event (0 when empty)."""

    @abstractmethod
    def close(self) -> None:
        """Release the connection."""

    def check_integrity(self) -> list[str]:
        """Problems found by the database's own integrity check (empty = fine)."""
        return []

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def iter_events(self, since: int = 0, batch: int = 10_000) -> Iterator[Event]:
        """Stream the log without loading it whole."""
        while True:
            chunk = self.events(since=since, limit=batch)
            if not chunk:
                return
            yield from chunk
            since = chunk[-1].seq
