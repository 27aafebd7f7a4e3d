"""A lossless Parquet dump of a whole store, and its restore into a new store.

:func:`export_parquet` writes one Parquet file per table of the SQLite store — ``annotations``,
``links``, ``entities``, ``items`` (meta, calibrations), ``streams`` (clocks, timelines, text,
meta), ``taxonomies`` (every version), ``meta``, ``commands`` and ``events`` (the log, with the
before/after of every change) — plus ``manifest.json``. :func:`import_parquet` writes those rows
back into a fresh store file, so ids, revisions, timestamps, the event log and undo history
are identical: every view of the restored session equals the original's.

Layout of each file: one column per SQLite column under its own name, typed by the declared
type (``INTEGER`` → int64, ``REAL`` → float64, ``TEXT`` → string), JSON columns (geometry,
attributes, before/after, ...) as the exact JSON text the store holds; plus ``_rowid``, the
SQLite row id, which fixes row order. A column whose values do not all fit its declared type
is stored as JSON text of each value and marked ``"encoding": "json"`` in the manifest.

``manifest.json``::

    {"format": "accord-parquet", "schema_version": 1, "store_schema_version": 1,
     "accord_version": "0.1.0", "created_at": "...", "annotator": "ana",
     "sequences": {"commands": 12, "events": 40},
     "tables": {"annotations": {"file": "annotations.parquet", "rows": 9, "sha256": "...",
                                "columns": [{"name": "id", "sqlite_type": "TEXT"}, ...]}, ...}}

The restore refuses (:class:`~accord.errors.FormatError`) a manifest of another format or a
newer schema version, a dump from another store schema version, a file whose checksum, row
count or columns differ from the manifest; it never overwrites an existing file and removes
its half-written store when anything fails. Nothing is lossy: media files are referenced by
path in the streams, as in the store itself.
"""

from __future__ import annotations

import hashlib
import json
import os
import sqlite3
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from accord.errors import FormatError, MissingMediaError, StoreError, ValidationError
from accord.io.base import ExportReport
from accord.progress import ProgressOption, open_progress

if TYPE_CHECKING:
    import pyarrow as pa

    from accord.session import Session

__all__ = ["FORMAT", "SCHEMA_VERSION", "export_parquet", "import_parquet", "read_manifest"]

FORMAT = "accord-parquet"
#: Version of this dump layout (bumped when the layout changes, not the store's schema).
SCHEMA_VERSION = 1
MANIFEST = "manifest.json"
ROWID = "_rowid"


def _pyarrow() -> Any:
    try:
        import pyarrow as pa
        import pyarrow.parquet as pq
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise ImportError("Parquet export needs pyarrow: pip install pyarrow") from exc
    return pa, pq


def _store_path(session: Session) -> Path:
    path = getattr(session.store, "path", None)
    if not isinstance(path, Path):
        raise StoreError(
            "export_parquet(session)", "a session on a SQLite store", session.store.location
        )
    return path


def _kind(declared: str) -> str:
    d = declared.upper()
    if "INT" in d:
        return "int"
    if "REAL" in d or "FLOA" in d or "DOUB" in d:
        return "float"
    return "text"


def _fits(kind: str, values: list[Any]) -> bool:
    if kind == "int":
        return all(v is None or (isinstance(v, int) and not isinstance(v, bool)) for v in values)
    if kind == "float":
        return all(v is None or isinstance(v, float) for v in values)
    return all(v is None or isinstance(v, str) for v in values)


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def _snapshot(db_path: Path) -> tuple[int, dict[str, int], dict[str, tuple[list, list]]]:
    """``(user_version, sequences, {table: (column info, rows)})`` in one read transaction."""
    con = sqlite3.connect(f"{db_path.resolve().as_uri()}?mode=ro", uri=True)
    try:
        con.execute("BEGIN")
        version = int(con.execute("PRAGMA user_version").fetchone()[0])
        names = [
            r[0]
            for r in con.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table' "
                "AND name NOT LIKE 'sqlite_%' ORDER BY name"
            )
        ]
        sequences = {
            name: int(seq) for name, seq in con.execute("SELECT name, seq FROM sqlite_sequence")
        }
        tables = {}
        for name in names:
            info = [(r[1], r[2] or "") for r in con.execute(f'PRAGMA table_info("{name}")')]
            cols = ", ".join(f'"{c}"' for c, _ in info)
            rows = con.execute(f'SELECT rowid, {cols} FROM "{name}" ORDER BY rowid').fetchall()
            tables[name] = (info, rows)
        con.execute("COMMIT")
    finally:
        con.close()
    return version, sequences, tables


def export_parquet(
    session: Session,
    path: str | os.PathLike[str],
    *,
    items: Any = None,
    overwrite: bool = False,
    progress: ProgressOption = None,
) -> ExportReport:
    """Dump the whole store of ``session`` into the folder ``path`` (see the module docstring).

    ``items`` must stay ``None``: a lossless dump holds every item (the event log spans them).
    The folder is created; an existing dump in it is replaced only with ``overwrite=True``.
    ``progress`` counts the rows of every table (see :func:`accord.progress.open_progress`).
    """
    if items is not None:
        raise ValidationError(
            "export_parquet(items=...)", "None: a lossless dump holds every item", items
        )
    pa, pq = _pyarrow()
    out = Path(path)
    if out.exists() and not out.is_dir():
        raise ValidationError("export_parquet(path)", "a folder", str(out))
    if out.is_dir() and any(out.iterdir()) and not overwrite:
        raise ValidationError(
            "export_parquet(path)", "an empty or new folder (or overwrite=True)", str(out)
        )
    out.mkdir(parents=True, exist_ok=True)
    version, sequences, tables = _snapshot(_store_path(session))
    report = ExportReport("parquet")
    manifest: dict[str, Any] = {
        "format": FORMAT,
        "schema_version": SCHEMA_VERSION,
        "store_schema_version": version,
        "accord_version": _accord_version(),
        "created_at": datetime.now(UTC).isoformat(),
        "annotator": session.annotator,
        "sequences": sequences,
        "tables": {},
    }
    total = sum(len(rows) for _, rows in tables.values())
    with open_progress(progress, total, f"Exporting Parquet dump {out.name}") as bar:
        for name, (info, rows) in tables.items():
            bar.stage(f"table {name}")
            arrays: dict[str, pa.Array] = {ROWID: pa.array([r[0] for r in rows], type=pa.int64())}
            columns = []
            for j, (col, declared) in enumerate(info, start=1):
                values = [r[j] for r in rows]
                kind = _kind(declared)
                entry = {"name": col, "sqlite_type": declared}
                if _fits(kind, values):
                    typ = {"int": pa.int64(), "float": pa.float64(), "text": pa.string()}[kind]
                    arrays[col] = pa.array(values, type=typ)
                else:
                    try:
                        text = [json.dumps(v, allow_nan=False) for v in values]
                    except (TypeError, ValueError) as exc:
                        raise StoreError(
                            f"table {name}.{col}", "numbers, text or null", detail=str(exc)
                        ) from exc
                    arrays[col] = pa.array(text, type=pa.string())
                    entry["encoding"] = "json"
                columns.append(entry)
            file = out / f"{name}.parquet"
            pq.write_table(pa.table(arrays), file, compression="zstd")
            manifest["tables"][name] = {
                "file": file.name,
                "rows": len(rows),
                "sha256": _sha256(file),
                "columns": columns,
            }
            report.paths.append(file)
            report.counts[name] = len(rows)
            bar.advance(len(rows))
        (out / MANIFEST).write_text(json.dumps(manifest, indent=2), encoding="utf-8")
    report.paths.append(out / MANIFEST)
    return report


def _accord_version() -> str:
    import accord

    return str(getattr(accord, "__version__", "unknown"))


def read_manifest(path: str | os.PathLike[str]) -> dict[str, Any]:
    """The manifest of a dump folder, checked for format and version."""
    folder = Path(path)
    file = folder / MANIFEST
    if not file.is_file():
        raise MissingMediaError(str(file), "the manifest.json of an accord Parquet dump", "missing")
    try:
        manifest = json.loads(file.read_text(encoding="utf-8"))
    except (ValueError, UnicodeDecodeError) as exc:
        raise FormatError(str(file), "JSON", detail=str(exc)) from None
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        got = manifest.get("format") if isinstance(manifest, dict) else manifest
        raise FormatError(f"{file}.format", repr(FORMAT), got)
    sv = manifest.get("schema_version")
    if not isinstance(sv, int) or sv > SCHEMA_VERSION:
        raise FormatError(
            f"{file}.schema_version",
            f"a version ≤ {SCHEMA_VERSION} (written by a newer accord: upgrade)",
            sv,
        )
    for key in ("tables", "sequences", "store_schema_version"):
        if key not in manifest:
            raise FormatError(f"{file}.{key}", "a value", None)
    return manifest


def import_parquet(
    path: str | os.PathLike[str],
    new_store_path: str | os.PathLike[str],
    *,
    annotator: str | None = None,
    progress: ProgressOption = None,
) -> Session:
    """Rebuild a store from a dump folder into the new file ``new_store_path``; open it.

    The session's annotator is ``annotator`` or the one who made the dump. ``progress``
    counts the rows of every table (see :func:`accord.progress.open_progress`).
    """
    from accord.session import Session
    from accord.store.sqlite import SQLiteStore

    _, pq = _pyarrow()
    folder = Path(path)
    manifest = read_manifest(folder)
    target = Path(new_store_path)
    if target.exists():
        raise ValidationError(
            "import_parquet(new_store_path)", "a file that does not exist", str(target)
        )
    total = sum(
        spec["rows"]
        for spec in manifest["tables"].values()
        if isinstance(spec, dict) and isinstance(spec.get("rows"), int)
    )
    SQLiteStore(target).close()  # creates the schema of this accord version
    con = sqlite3.connect(str(target), isolation_level=None)
    bar = open_progress(progress, total, f"Importing Parquet dump {folder.name}").__enter__()
    try:
        version = int(con.execute("PRAGMA user_version").fetchone()[0])
        if version != manifest["store_schema_version"]:
            raise FormatError(
                f"{folder / MANIFEST}.store_schema_version",
                f"store schema {version} (this accord); migrate the source store first",
                manifest["store_schema_version"],
            )
        con.execute("BEGIN IMMEDIATE")
        for name, spec in manifest["tables"].items():
            bar.stage(f"table {name}")
            _restore_table(con, pq, folder, name, spec)
            bar.advance(spec["rows"])
        for name, seq in manifest["sequences"].items():
            cur = con.execute("UPDATE sqlite_sequence SET seq = ? WHERE name = ?", (int(seq), name))
            if cur.rowcount == 0:
                con.execute(
                    "INSERT INTO sqlite_sequence (name, seq) VALUES (?, ?)", (name, int(seq))
                )
        con.execute("COMMIT")
        con.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    except BaseException:
        if con.in_transaction:
            con.execute("ROLLBACK")
        con.close()
        for suffix in ("", "-wal", "-shm"):
            Path(f"{target}{suffix}").unlink(missing_ok=True)
        bar.close(ok=False)
        raise
    con.close()
    bar.close()
    return Session(target, annotator=annotator or manifest.get("annotator"))


def _restore_table(con: sqlite3.Connection, pq: Any, folder: Path, name: str, spec: Any) -> None:
    where = f"{folder / MANIFEST}: tables.{name}"
    if not isinstance(spec, dict) or not isinstance(spec.get("file"), str):
        raise FormatError(where, "a table entry with 'file', 'rows' and 'columns'", spec)
    file = folder / spec["file"]
    if file.parent.resolve() != folder.resolve():
        raise FormatError(f"{where}.file", "a file name inside the dump folder", spec["file"])
    if not file.is_file():
        raise MissingMediaError(str(file), f"the Parquet file of table {name!r}", "missing")
    if spec.get("sha256") and _sha256(file) != spec["sha256"]:
        raise FormatError(str(file), f"sha256 {spec['sha256']} (as in the manifest)", "another")
    live = [r[1] for r in con.execute(f'PRAGMA table_info("{name}")')]
    if not live:
        raise FormatError(where, "a table of this accord's store", name)
    declared = {c["name"]: c for c in spec.get("columns", [])}
    if set(declared) != set(live):
        raise FormatError(f"{where}.columns", f"the store's columns {live}", sorted(declared))
    try:
        table = pq.read_table(file)
    except Exception as exc:  # pyarrow raises several types for a damaged file
        raise FormatError(str(file), "a readable Parquet file", detail=str(exc)) from None
    if set(table.column_names) != {ROWID, *live}:
        raise FormatError(str(file), f"the columns {[ROWID, *live]}", table.column_names)
    if table.num_rows != spec.get("rows"):
        raise FormatError(
            str(file), f"{spec.get('rows')} rows (as in the manifest)", table.num_rows
        )
    columns = [table.column(ROWID).to_pylist()]
    for col in live:
        values = table.column(col).to_pylist()
        if declared[col].get("encoding") == "json":
            values = [json.loads(v) for v in values]
        columns.append(values)
    names = ", ".join(f'"{c}"' for c in live)
    marks = ", ".join("?" * (len(live) + 1))
    con.executemany(
        f'INSERT INTO "{name}" (rowid, {names}) VALUES ({marks})', list(zip(*columns, strict=True))
    )
