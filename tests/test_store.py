"""The store contract, run against every Store implementation."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from pathlib import Path

import pytest

from accord.errors import ConflictError, NotFoundError, StoreError
from accord.store import Change, SQLiteStore, Store
from tests import pg

StoreFactory = Callable[[Path], Store]


def _postgres(d: Path) -> Store:
    """A PostgresStore on the test server's database for this test (one per tmp_path).

    The contract tests are about the log and revisions, not roles (tests/test_postgres.py
    covers those): the annotators they write as are made admins of the store.
    """
    pytest.importorskip("psycopg", reason="the PostgreSQL store needs psycopg 3")
    from accord.store.postgres import PostgresStore

    st = PostgresStore(pg.dsn_for(d))
    for name in ("a", "b", "ana", "bob"):
        st.set_role(name, "admin", by="a")
    return st


FACTORIES: dict[str, StoreFactory] = {
    "sqlite": lambda d: SQLiteStore(d / "s.accord"),
    "postgres": _postgres,
}


@pytest.fixture(params=sorted(FACTORIES))
def make_store(request, tmp_path: Path):
    opened: list[Store] = []

    def make() -> Store:
        st = FACTORIES[request.param](tmp_path)
        opened.append(st)
        return st

    yield make
    for st in opened:
        st.close()


def _entity(id: str, revision: int = 1, name: str = "") -> dict:
    return {
        "id": id,
        "label": None,
        "name": name,
        "attributes": {"k": [1, 2]},
        "annotator": "ana",
        "revision": revision,
        "created_at": 1.0,
        "updated_at": 1.0,
    }


def test_create_update_delete_and_log(make_store) -> None:
    st = make_store()
    c1 = st.commit(
        annotator="ana",
        type="entity.add",
        kind="do",
        changes=[Change("entity", "e1", "create", None, _entity("e1"))],
    )
    assert st.get("entity", "e1")["attributes"] == {"k": [1, 2]}
    before = st.get("entity", "e1")
    c2 = st.commit(
        annotator="ana",
        type="entity.update",
        kind="do",
        changes=[Change("entity", "e1", "update", before, _entity("e1", 2, "bus"))],
    )
    assert st.get("entity", "e1")["name"] == "bus"
    st.commit(
        annotator="bob",
        type="entity.delete",
        kind="do",
        changes=[Change("entity", "e1", "delete", st.get("entity", "e1"), None)],
    )
    assert st.get("entity", "e1") is None
    log = st.events(id="e1")
    assert [e.op for e in log] == ["create", "update", "delete"]
    assert [e.command for e in log] == [c1.id, c2.id, c2.id + 1]
    assert log[1].before["name"] == "" and log[1].after["name"] == "bus"
    assert st.last_seq() == log[-1].seq
    assert [c.id for c in st.commands_of("ana")] == [c1.id, c2.id]
    assert st.command(c2.id).events[0].after["revision"] == 2


def test_stale_change_is_refused_and_nothing_is_written(make_store) -> None:
    st = make_store()
    st.commit(
        annotator="ana",
        type="t",
        kind="do",
        changes=[Change("entity", "e1", "create", None, _entity("e1"))],
    )
    stale = st.get("entity", "e1")
    st.commit(
        annotator="bob",
        type="t",
        kind="do",
        changes=[Change("entity", "e1", "update", stale, _entity("e1", 2, "bob's"))],
    )
    seq = st.last_seq()
    with pytest.raises(ConflictError) as info:
        st.commit(
            annotator="ana",
            type="t",
            kind="do",
            changes=[
                Change("entity", "e2", "create", None, _entity("e2")),  # would be fine on its own
                Change("entity", "e1", "update", stale, _entity("e1", 2, "ana's")),
            ],
        )
    assert "revision" in str(info.value)
    assert st.get("entity", "e1")["name"] == "bob's"
    assert st.get("entity", "e2") is None
    assert st.last_seq() == seq


def test_duplicate_create_and_missing_update(make_store) -> None:
    st = make_store()
    st.commit(
        annotator="a",
        type="t",
        kind="do",
        changes=[Change("entity", "e1", "create", None, _entity("e1"))],
    )
    with pytest.raises(ConflictError):
        st.commit(
            annotator="a",
            type="t",
            kind="do",
            changes=[Change("entity", "e1", "create", None, _entity("e1"))],
        )
    with pytest.raises(NotFoundError):
        st.commit(
            annotator="a",
            type="t",
            kind="do",
            changes=[Change("entity", "nope", "update", _entity("nope"), _entity("nope", 2))],
        )
    with pytest.raises(StoreError):
        st.get("bogus", "x")


def test_queries(make_store) -> None:
    st = make_store()
    st.commit(
        annotator="a",
        type="t",
        kind="do",
        changes=[
            Change("entity", f"e{i}", "create", None, _entity(f"e{i}", name=str(i % 2)))
            for i in range(2000)
        ],
    )
    assert st.count("entity") == 2000
    assert len(st.get_many("entity", [f"e{i}" for i in range(0, 2000, 2)] + ["zz"])) == 1000
    assert len(st.records("entity", name="1")) == 1000
    df = st.frame("entity", name="0")
    assert len(df) == 1000 and df["attributes"].iloc[0] == {"k": [1, 2]}
    assert len(st.events(limit=10)) == 10
    assert len(list(st.iter_events(batch=300))) == 2000


def test_two_connections_see_each_other(make_store) -> None:
    a, b = make_store(), make_store()
    a.commit(
        annotator="a",
        type="t",
        kind="do",
        changes=[Change("entity", "e1", "create", None, _entity("e1"))],
    )
    assert b.get("entity", "e1") is not None
    stale = b.get("entity", "e1")
    a.commit(
        annotator="a",
        type="t",
        kind="do",
        changes=[Change("entity", "e1", "update", stale, _entity("e1", 2))],
    )
    with pytest.raises(ConflictError):
        b.commit(
            annotator="b",
            type="t",
            kind="do",
            changes=[Change("entity", "e1", "update", stale, _entity("e1", 2))],
        )
    assert a.check_integrity() == []


def test_sqlite_file_settings(tmp_path: Path) -> None:
    st = SQLiteStore(tmp_path / "x.accord")
    st.close()
    db = sqlite3.connect(tmp_path / "x.accord")
    assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    tables = {r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    assert {"annotations", "links", "entities", "items", "streams", "events", "commands"} <= tables
    db.close()


def test_sqlite_refuses_non_store_files(tmp_path: Path) -> None:
    bad = tmp_path / "notes.accord"
    bad.write_bytes(b"this is not a database, just text" * 100)
    with pytest.raises(StoreError) as info:
        SQLiteStore(bad)
    assert "notes.accord" in str(info.value)
    with pytest.raises(StoreError):
        SQLiteStore(tmp_path / "missing-dir" / "x.accord")
