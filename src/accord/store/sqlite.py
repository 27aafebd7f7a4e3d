"""The embedded store: one SQLite file per project (WAL, one transaction per command)."""

from __future__ import annotations

import json
import os
import sqlite3
import threading
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from accord.errors import ConflictError, NotFoundError, StoreError
from accord.store.base import TARGETS, Change, CommandRecord, Event, Store, events_query
from accord.store.schema import TABLES, TableSpec

__all__ = ["SQLiteStore"]

SCHEMA_VERSION = 1

_LOG_DDL = """
CREATE TABLE IF NOT EXISTS commands (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    ts REAL NOT NULL,
    annotator TEXT NOT NULL,
    type TEXT NOT NULL,
    kind TEXT NOT NULL,
    undoes INTEGER
);
CREATE INDEX IF NOT EXISTS commands_annotator ON commands(annotator, id);
CREATE TABLE IF NOT EXISTS events (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    command INTEGER NOT NULL REFERENCES commands(id),
    ts REAL NOT NULL,
    annotator TEXT NOT NULL,
    target TEXT NOT NULL,
    record_id TEXT NOT NULL,
    item TEXT,
    op TEXT NOT NULL,
    before TEXT,
    after TEXT
);
CREATE INDEX IF NOT EXISTS events_record ON events(target, record_id);
CREATE INDEX IF NOT EXISTS events_command ON events(command);
CREATE INDEX IF NOT EXISTS events_item ON events(item, seq);
"""


def _dumps(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False, allow_nan=False)


class SQLiteStore(Store):
    """A :class:`Store` in one SQLite file.

    ``synchronous`` defaults to ``FULL``: a command acknowledged to the caller
    survives a killed process *and* a power cut.
    """

    def __init__(self, path: str | os.PathLike[str], *, synchronous: str = "FULL") -> None:
        self.path = Path(path)
        self.location = str(self.path)
        if self.path.exists() and self.path.is_dir():
            raise StoreError(str(self.path), "a file path for the SQLite store", "a directory")
        if not self.path.parent.exists():
            raise StoreError(str(self.path), "a path in an existing folder", str(self.path.parent))
        self._lock = threading.RLock()
        try:
            self._db = sqlite3.connect(
                str(self.path), isolation_level=None, check_same_thread=False, timeout=30.0
            )
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute(f"PRAGMA synchronous={synchronous}")
            self._db.execute("PRAGMA foreign_keys=ON")
            self._db.execute("PRAGMA busy_timeout=30000")
            self._init_schema()
        except sqlite3.DatabaseError as exc:
            raise StoreError(
                str(self.path), "an accord SQLite store (or a new file)", detail=str(exc)
            ) from exc

    # -- schema -------------------------------------------------------------
    def _init_schema(self) -> None:
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                for statement in _LOG_DDL.split(";"):
                    if statement.strip():
                        self._db.execute(statement)
                for spec in TABLES.values():
                    cols = ", ".join(f"{c} {t}" for c, t in spec.columns)
                    self._db.execute(f"CREATE TABLE IF NOT EXISTS {spec.name} ({cols})")
                    self._add_missing_columns(spec)
                    for idx in spec.indexes:
                        name = f"{spec.name}_{'_'.join(idx)}"
                        self._db.execute(
                            f"CREATE INDEX IF NOT EXISTS {name} ON {spec.name}({', '.join(idx)})"
                        )
                version = self._db.execute("PRAGMA user_version").fetchone()[0]
                if version == 0:
                    self._db.execute(f"PRAGMA user_version={SCHEMA_VERSION}")
                elif version > SCHEMA_VERSION:
                    raise StoreError(
                        str(self.path),
                        f"a store of schema version ≤ {SCHEMA_VERSION}",
                        version,
                        detail="written by a newer accord; upgrade accord",
                    )
                self._db.execute("COMMIT")
            except BaseException:
                if self._db.in_transaction:
                    self._db.execute("ROLLBACK")
                raise

    def _add_missing_columns(self, spec: TableSpec) -> None:
        """Columns added to the schema since a store was created (nullable, so old rows fit)."""
        have = {row[1] for row in self._db.execute(f"PRAGMA table_info({spec.name})")}
        for column, sql_type in spec.columns:
            if column not in have:
                nullable = sql_type.replace("NOT NULL", "").replace("PRIMARY KEY", "").strip()
                self._db.execute(f"ALTER TABLE {spec.name} ADD COLUMN {column} {nullable}")

    # -- helpers --------------------------------------------------------------
    @staticmethod
    def _spec(target: str) -> TableSpec:
        if target not in TABLES:
            raise StoreError("target", f"one of {list(TARGETS)}", target)
        return TABLES[target]

    @staticmethod
    def _to_row(spec: TableSpec, record: dict[str, Any]) -> tuple[Any, ...]:
        return tuple(
            _dumps(record.get(c)) if c in spec.json_columns else record.get(c)
            for c in spec.column_names
        )

    @staticmethod
    def _from_row(spec: TableSpec, row: Sequence[Any]) -> dict[str, Any]:
        return {
            c: (json.loads(v) if c in spec.json_columns and v is not None else v)
            for c, v in zip(spec.column_names, row, strict=True)
        }

    def _fetch(self, spec: TableSpec, id: str) -> dict[str, Any] | None:
        row = self._db.execute(
            f"SELECT {', '.join(spec.column_names)} FROM {spec.name} WHERE id = ?", (id,)
        ).fetchone()
        return self._from_row(spec, row) if row else None

    # -- writing --------------------------------------------------------------
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
        ts = time.time() if ts is None else ts
        with self._lock:
            db = self._db
            db.execute("BEGIN IMMEDIATE")
            try:
                cur = db.execute(
                    "INSERT INTO commands (ts, annotator, type, kind, undoes) "
                    "VALUES (?, ?, ?, ?, ?)",
                    (ts, annotator, type, kind, undoes),
                )
                command_id = int(cur.lastrowid or 0)
                event_rows = []
                for ch in changes:
                    spec = self._spec(ch.target)
                    self._apply_change(spec, ch)
                    rec = ch.after or ch.before or {}
                    item = ch.id if ch.target == "item" else rec.get("item")
                    event_rows.append(
                        (
                            command_id,
                            ts,
                            annotator,
                            ch.target,
                            ch.id,
                            item,
                            ch.op,
                            None if ch.before is None else _dumps(ch.before),
                            None if ch.after is None else _dumps(ch.after),
                        )
                    )
                db.executemany(
                    "INSERT INTO events (command, ts, annotator, target, record_id, item, op, "
                    "before, after) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    event_rows,
                )
                last = db.execute("SELECT last_insert_rowid()").fetchone()[0]
                db.execute("COMMIT")
            except BaseException:
                if db.in_transaction:
                    db.execute("ROLLBACK")
                raise
        first = last - len(event_rows) + 1
        events = tuple(
            Event(
                first + i, command_id, ts, annotator, ch.target, ch.id, ch.op, ch.before, ch.after
            )
            for i, ch in enumerate(changes)
        )
        return CommandRecord(command_id, ts, annotator, type, kind, undoes, events)

    def _apply_change(self, spec: TableSpec, ch: Change) -> None:
        db = self._db
        if ch.op == "create":
            if ch.after is None:
                raise StoreError(f"{ch.target} {ch.id}", "a record to create", None)
            try:
                db.execute(
                    f"INSERT INTO {spec.name} ({', '.join(spec.column_names)}) "
                    f"VALUES ({', '.join('?' * len(spec.columns))})",
                    self._to_row(spec, ch.after),
                )
            except sqlite3.IntegrityError as exc:
                raise ConflictError(
                    f"{ch.target} {ch.id}", "an id not used yet", ch.id, detail=str(exc)
                ) from exc
            return
        expected = (ch.before or {}).get("revision")
        row = db.execute(f"SELECT revision FROM {spec.name} WHERE id = ?", (ch.id,)).fetchone()
        if row is None:
            raise NotFoundError(f"{ch.target} {ch.id}", f"an existing {ch.target}", ch.id)
        if expected is None or row[0] != expected:
            raise ConflictError(
                f"{ch.target} {ch.id}.revision",
                f"revision {row[0]} (the latest)",
                expected,
                detail="it was changed since this edit was made; reload and retry",
            )
        if ch.op == "delete":
            db.execute(f"DELETE FROM {spec.name} WHERE id = ?", (ch.id,))
        elif ch.op == "update":
            if ch.after is None:
                raise StoreError(f"{ch.target} {ch.id}", "a new state to update to", None)
            cols = [c for c in spec.column_names if c != "id"]
            db.execute(
                f"UPDATE {spec.name} SET {', '.join(f'{c} = ?' for c in cols)} WHERE id = ?",
                (*self._to_row(spec, ch.after)[1:], ch.id),
            )
        else:
            raise StoreError("change.op", "create, update or delete", ch.op)

    # -- reading --------------------------------------------------------------
    def get(self, target: str, id: str) -> dict[str, Any] | None:
        with self._lock:
            return self._fetch(self._spec(target), id)

    def get_many(self, target: str, ids: Sequence[str]) -> dict[str, dict[str, Any]]:
        spec = self._spec(target)
        out: dict[str, dict[str, Any]] = {}
        ids = list(ids)
        with self._lock:
            for i in range(0, len(ids), 900):
                chunk = ids[i : i + 900]
                rows = self._db.execute(
                    f"SELECT {', '.join(spec.column_names)} FROM {spec.name} "
                    f"WHERE id IN ({', '.join('?' * len(chunk))})",
                    chunk,
                ).fetchall()
                for row in rows:
                    rec = self._from_row(spec, row)
                    out[rec["id"]] = rec
        return out

    def _where(self, spec: TableSpec, where: dict[str, Any]) -> tuple[str, list[Any]]:
        clauses, params = [], []
        for k, v in where.items():
            if k not in spec.column_names:
                raise StoreError("filter", f"a column of {spec.name} {list(spec.column_names)}", k)
            if v is None:
                clauses.append(f"{k} IS NULL")
            else:
                clauses.append(f"{k} = ?")
                params.append(v)
        return (" WHERE " + " AND ".join(clauses) if clauses else ""), params

    def records(self, target: str, /, **where: Any) -> list[dict[str, Any]]:
        spec = self._spec(target)
        clause, params = self._where(spec, where)
        with self._lock:
            rows = self._db.execute(
                f"SELECT {', '.join(spec.column_names)} FROM {spec.name}{clause} ORDER BY rowid",
                params,
            ).fetchall()
        return [self._from_row(spec, r) for r in rows]

    def frame(self, target: str, /, **where: Any) -> pd.DataFrame:
        spec = self._spec(target)
        clause, params = self._where(spec, where)
        with self._lock:
            rows = self._db.execute(
                f"SELECT {', '.join(spec.column_names)} FROM {spec.name}{clause} ORDER BY rowid",
                params,
            ).fetchall()
        df = pd.DataFrame.from_records(rows, columns=list(spec.column_names))
        loads = json.loads
        for c in spec.json_columns:
            df[c] = [loads(v) for v in df[c]] if len(df) else pd.Series([], dtype=object)
        return df

    def count(self, target: str) -> int:
        spec = self._spec(target)
        with self._lock:
            return int(self._db.execute(f"SELECT COUNT(*) FROM {spec.name}").fetchone()[0])

    def _events_from_rows(self, rows: list[Sequence[Any]]) -> list[Event]:
        return [
            Event(
                seq,
                command,
                ts,
                annotator,
                target,
                record_id,
                op,
                None if before is None else json.loads(before),
                None if after is None else json.loads(after),
            )
            for seq, command, ts, annotator, target, record_id, op, before, after in rows
        ]

    _EVENT_COLS = "seq, command, ts, annotator, target, record_id, op, before, after"

    def command(self, command_id: int) -> CommandRecord:
        with self._lock:
            row = self._db.execute(
                "SELECT id, ts, annotator, type, kind, undoes FROM commands WHERE id = ?",
                (command_id,),
            ).fetchone()
            if row is None:
                raise NotFoundError("command", "an existing command id", command_id)
            rows = self._db.execute(
                f"SELECT {self._EVENT_COLS} FROM events WHERE command = ? ORDER BY seq",
                (command_id,),
            ).fetchall()
        return CommandRecord(*row, events=tuple(self._events_from_rows(rows)))

    def commands_of(self, annotator: str) -> list[CommandRecord]:
        with self._lock:
            rows = self._db.execute(
                "SELECT id, ts, annotator, type, kind, undoes FROM commands "
                "WHERE annotator = ? ORDER BY id",
                (annotator,),
            ).fetchall()
        return [CommandRecord(*r) for r in rows]

    def events(
        self,
        *,
        target: str | None = None,
        id: str | None = None,
        since: int = 0,
        item: str | None = None,
        limit: int | None = None,
    ) -> list[Event]:
        sql, params = events_query(
            self._EVENT_COLS, "?", target=target, id=id, since=since, item=item, limit=limit
        )
        with self._lock:
            rows = self._db.execute(sql, params).fetchall()
        return self._events_from_rows(rows)

    def last_seq(self) -> int:
        with self._lock:
            row = self._db.execute("SELECT MAX(seq) FROM events").fetchone()
        return int(row[0] or 0)

    def data_version(self) -> int:
        """Changes whenever *another* connection commits (SQLite ``data_version``)."""
        with self._lock:
            return int(self._db.execute("PRAGMA data_version").fetchone()[0])

    def check_integrity(self) -> list[str]:
        with self._lock:
            rows = self._db.execute("PRAGMA integrity_check").fetchall()
        problems = [r[0] for r in rows if r[0] != "ok"]
        return problems

    def close(self) -> None:
        with self._lock:
            if self._db is not None:
                self._db.close()
                self._db = None  # type: ignore[assignment]
