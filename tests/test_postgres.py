"""The PostgreSQL team store on a real server (tests/pg.py): Sessions, roles, concurrency.

The shared store contract runs on PostgreSQL in tests/test_store.py; this module covers
what only a team store has: several annotators in several processes, roles enforced by
the database, and changes by others reaching an open Session.
"""

from __future__ import annotations

import itertools
import multiprocessing as mp
import threading
import time
from collections import Counter, defaultdict
from typing import Any

import pytest

import accord as ac
from accord.errors import ConflictError, PermissionDeniedError, StoreError
from accord.store import Change, open_store
from tests import pg
from tests.conftest import media_free_item
from tests.pg import PgServer

pg_server, pg_dsn = pg.pg_server, pg.pg_dsn  # the fixtures

psycopg = pytest.importorskip("psycopg", reason="the PostgreSQL store needs psycopg 3")
from accord.store.postgres import PostgresStore, redact_dsn  # noqa: E402


@pytest.fixture
def team(pg_dsn: str, taxonomy: ac.Taxonomy):
    """A store with an admin (boss), a reviewer (rita) and annotators ana and bob,
    and ana's Session with the media-free item ``clip``."""
    st = PostgresStore(pg_dsn)
    st.set_role("boss", "admin")
    st.set_role("rita", "reviewer", by="boss")
    st.set_role("ana", "annotator", by="boss")
    st.close()
    s = ac.Session(pg_dsn, taxonomy=taxonomy, annotator="ana")
    s.apply(media_free_item("clip"))
    yield pg_dsn, s
    s.close()


def _box(s: ac.Session, x: float = 10.0, label: str = "car", **extra: Any) -> str:
    return s.annotate("clip", "cam", label, ac.Box(x, 10, 20, 20), **extra)


# -- opening -------------------------------------------------------------------------------


def test_open_store_dispatches_and_hides_the_password(pg_server: PgServer) -> None:
    dsn = pg_server.create_database()
    with_password = dsn.replace("accord@", "accord:s3cret@")  # trust auth ignores it
    st = open_store(with_password)
    assert isinstance(st, PostgresStore)
    assert "s3cret" not in st.location and st.location.startswith("postgresql://accord@")
    st.close()
    st = open_store(with_password.replace("postgresql://", "postgres://"))
    assert isinstance(st, PostgresStore)
    st.close()
    assert set(redact_dsn("host=h user=u password=p dbname=d").split()) == {
        "host=h",
        "user=u",
        "dbname=d",
    }
    assert "p%40ss" not in redact_dsn("postgresql://u:p%40ss@h/d?password=x&sslmode=require")


def test_unreachable_server_and_foreign_database_are_refused(pg_server: PgServer) -> None:
    with pytest.raises(StoreError) as info:
        PostgresStore("postgresql://accord:pw@127.0.0.1:1/nowhere", connect_timeout=2)
    assert "pw" not in str(info.value) and "reachable" in str(info.value)
    dsn = pg_server.create_database()
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute("CREATE TABLE items (name TEXT)")
    with pytest.raises(StoreError) as info:
        PostgresStore(dsn)
    assert "items" in str(info.value)


# -- a Session on PostgreSQL -------------------------------------------------------------


def test_session_end_to_end(team, taxonomy: ac.Taxonomy) -> None:
    dsn, s = team
    assert isinstance(s.store, PostgresStore)
    a = _box(s, attributes={"colour": "red"})
    b = s.annotate("clip", "video", "person", ac.Box(5, 5, 30, 30), frame=12)
    t = s.annotate("clip", "transcript", "speech", kind="text_span", geometry=[0, 5])
    assert s.update(a, label="person") == 2
    s.update(b, geometry=ac.Box(6, 6, 30, 30))
    link = s.link(t, b, "speaks")
    ent = s.new_entity([a, b], name="someone")
    view = s.annotations
    assert set(view.index) == {a, b, t}
    assert view.at[b, "geometry"] == {"x": 6.0, "y": 6.0, "w": 30.0, "h": 30.0}
    assert view.at[a, "entity"] == ent and view.at[a, "label"] == "person"
    assert list(s.links.index) == [link] and s.links.at[link, "target_kind"] == "box"
    assert s.entities.at[ent, "name"] == "someone"
    assert s.items.set_index("item").at["clip", "annotations"] == 3
    s.undo()  # the entity
    assert s.get(a).entity is None and s.entities.empty
    s.undo()  # the link
    assert s.links.empty
    s.redo()
    assert list(s.links.index) == [link]
    assert list(s.history_of(a)["op"]) == ["create", "update", "update", "update"]
    # a second kernel opens the same store: stored taxonomy, same views
    other = ac.Session(dsn, annotator="bob")
    assert other.taxonomy.to_dict() == taxonomy.to_dict()
    assert other.annotations.shape == s.annotations.shape
    assert other.store.check_integrity() == []
    other.close()


def test_json_values_round_trip_exactly(pg_dsn: str) -> None:
    st = PostgresStore(pg_dsn)
    st.set_role("ana", "admin")
    meta = {"z": 1.0, "a": [1, 2.5, None, True], "big": 1e300, "tiny": 5e-324, "neg": -0.0}
    meta |= {"s": 'ünïcode \u2028 "quoted"', "n": 2**62, "nested": {"b": {}, "a": []}}
    rec = {"id": "i1", "meta": meta, "calibrations": {}, "revision": 1}
    rec |= {"created_at": 0.1, "updated_at": 1 / 3}
    st.commit(
        annotator="ana", type="t", kind="do", changes=[Change("item", "i1", "create", None, rec)]
    )
    got = st.get("item", "i1")
    assert got == rec and list(got["meta"]) == list(meta)  # key order kept
    assert repr(got["meta"]["neg"]) == "-0.0" and type(got["meta"]["z"]) is float
    assert st.events()[0].after == rec and st.records("item")[0] == rec
    assert st.frame("item").at[0, "meta"] == meta
    st.close()


def test_changes_by_others_reach_an_open_session(team) -> None:
    dsn, ana = team
    bob = ac.Session(dsn, annotator="bob")
    seen: list[ac.Result] = []
    bob.observe(seen.append, item="clip")
    woke: list[int] = []
    since = bob.store.last_seq()
    waiter = threading.Thread(target=lambda: woke.append(bob.store.wait_for_change(since, 20)))
    waiter.start()
    time.sleep(0.2)
    t0 = time.perf_counter()
    a = _box(ana)
    waiter.join(20)
    assert woke and woke[0] > since and time.perf_counter() - t0 < 5  # woken by NOTIFY
    new = bob.poll()
    assert [e.id for e in new] == [a]
    assert len(seen) == 1 and seen[0].command.type == "annotation.add" and seen[0].ids == (a,)
    assert a in bob.annotations.index  # the view is patched from the log
    ana.update(a, label="person")
    assert bob.poll()[0].after["label"] == "person"
    assert bob.annotations.at[a, "label"] == "person"
    assert bob.store.wait_for_change(bob.store.last_seq(), timeout=0.2) == bob.store.last_seq()
    bob.close()


def test_poll_after_own_commit_still_sees_earlier_commits_by_others(team) -> None:
    dsn, ana = team
    bob = ac.Session(dsn, annotator="bob")
    a = _box(ana)
    _box(bob, x=40)
    assert a in {e.id for e in bob.poll()}
    bob.close()


# -- stale edits ------------------------------------------------------------------------------


def test_a_stale_edit_is_rejected(team) -> None:
    dsn, ana = team
    rita = ac.Session(dsn, annotator="rita", role="reviewer")
    a = _box(ana)
    stale = ana.store.get("annotation", a)
    assert rita.update(a, label="person") == 2
    seq = ana.store.last_seq()
    # through the Session: the revision the page showed
    with pytest.raises(ConflictError):
        ana.update(a, revision=1, geometry=ac.Box(1, 1, 5, 5))
    # straight to the store, as a racing kernel would: the revision check in the transaction
    after = {**stale, "label": "car", "revision": 2}
    with pytest.raises(ConflictError) as info:
        ana.store.commit(
            annotator="ana",
            type="annotation.update",
            kind="do",
            changes=[Change("annotation", a, "update", stale, after)],
        )
    assert str(info.value).startswith(f"annotation {a}.revision: expected revision 2")
    assert ana.get(a).label == "person" and ana.store.last_seq() == seq
    rita.close()


# -- roles --------------------------------------------------------------------------------------


def _raw_update(store: Any, who: str, ann_id: str, **fields: Any) -> None:
    """An edit straight to the store, bypassing every Session check."""
    before = store.get("annotation", ann_id)
    after = {**before, **fields, "revision": before["revision"] + 1}
    store.commit(
        annotator=who,
        type="annotation.update",
        kind="do",
        changes=[Change("annotation", ann_id, "update", before, after)],
    )


def test_roles_are_enforced_by_the_store(team) -> None:
    dsn, ana = team
    raw = PostgresStore(dsn)  # a client that skips the Session's checks
    a = _box(ana)
    # an annotator cannot change or delete someone else's annotation...
    with pytest.raises(PermissionDeniedError) as info:
        _raw_update(raw, "bob", a, label="person")
    assert f"annotation {a}" in str(info.value) and "'ana'" in str(info.value)
    with pytest.raises(PermissionDeniedError):
        raw.commit(
            annotator="bob",
            type="annotation.delete",
            kind="do",
            changes=[Change("annotation", a, "delete", raw.get("annotation", a), None)],
        )
    # ...nor create one in someone else's name, nor review
    rec = {**raw.get("annotation", a), "id": "a_forged", "revision": 1}
    with pytest.raises(PermissionDeniedError):
        raw.commit(
            annotator="bob",
            type="t",
            kind="do",
            changes=[Change("annotation", "a_forged", "create", None, rec)],
        )
    with pytest.raises(PermissionDeniedError):
        _raw_update(raw, "bob", a, status="rejected")
    assert ana.get(a).revision == 1 and raw.get("annotation", "a_forged") is None
    # the owner and a reviewer can
    _raw_update(raw, "ana", a, label="person")
    _raw_update(raw, "rita", a, geometry={"x": 1.0, "y": 1.0, "w": 5.0, "h": 5.0})
    assert ana.get(a).revision == 3
    # the Session of a reviewer does the same through commands
    rita = ac.Session(dsn, annotator="rita", role="reviewer")
    assert rita.update(a, label="car") == 4
    # a Session claiming a role its annotator does not have is refused: the store decides
    with pytest.raises(PermissionDeniedError, match="role the store gives"):
        ac.Session(dsn, annotator="bob", role="reviewer")
    plain = ac.Session(dsn, annotator="bob")
    assert plain.role == "annotator"
    with pytest.raises(PermissionDeniedError):
        plain.update(a, label="person")
    assert raw.role_of("bob") == "annotator" and raw.members()["rita"] == "reviewer"
    # only admins change roles; the last admin stays
    with pytest.raises(PermissionDeniedError):
        raw.set_role("bob", "admin", by="rita")
    with pytest.raises(PermissionDeniedError):
        raw.set_role("boss", "reviewer", by="boss")
    raw.set_role("bob", "reviewer", by="boss")
    fake = ac.Session(dsn, annotator="bob")  # a new Session takes the new role
    assert fake.role == "reviewer"
    assert fake.update(a, label="person") == 5
    for s in (rita, fake, plain):
        s.close()
    raw.close()


def test_review_tiers_are_enforced_by_the_store(team) -> None:
    dsn, ana = team
    raw = PostgresStore(dsn)
    rita = ac.Session(dsn, annotator="rita", role="reviewer")
    boss = ac.Session(dsn, annotator="boss", role="admin")
    a = _box(ana)
    ana.review(a, "submitted")
    with pytest.raises(PermissionDeniedError):  # no self-review, even bypassing the Session
        _raw_update(raw, "ana", a, status="peer_reviewed")
    # a reviewer whose Session claims admin still cannot approve: the review record's role
    # and the approval are both checked against the members table
    with pytest.raises(PermissionDeniedError):
        ac.Session(dsn, annotator="rita", role="admin")  # the Session asks the store
    rita_as_admin = ac.Session(dsn, annotator="rita")
    rita_as_admin.role = "admin"  # a client that lies about its role
    rita.review(a, "peer_reviewed", "looks right")
    with pytest.raises(PermissionDeniedError):
        rita_as_admin.review(a, "approved")
    boss.review(a, "approved")
    # approved: only an admin changes it, whoever asks and however
    for who in ("ana", "rita"):
        with pytest.raises(PermissionDeniedError) as info:
            _raw_update(raw, who, a, label="person")
        assert "approved" in str(info.value)
    rita.review(a, "rejected", "wrong class after all")  # reviewers may reject
    assert ana.get(a).status == "rejected"
    assert list(ana.reviews["role"]) == ["annotator", "reviewer", "admin", "reviewer"]
    for s in (rita, boss, rita_as_admin):
        s.close()
    raw.close()


def test_only_admins_add_taxonomy_versions(team, taxonomy: ac.Taxonomy) -> None:
    dsn, ana = team
    v2 = taxonomy.with_version(2)
    with pytest.raises(PermissionDeniedError):
        ana.set_taxonomy(v2)
    with pytest.raises(PermissionDeniedError):
        ac.Session(dsn, taxonomy=v2, annotator="rita", role="reviewer")
    boss = ac.Session(dsn, taxonomy=v2, annotator="boss", role="admin")
    assert sorted(boss.taxonomy_versions()) == [1, 2]
    boss.close()


def test_annotators_may_fix_predictions_and_group_others_work(team) -> None:
    dsn, ana = team
    bob = ac.Session(dsn, annotator="bob")
    [p] = ana.prelabel(
        lambda s, item: [{"stream": "cam", "label": "car", "geometry": ac.Box(1, 1, 9, 9)}],
        model="det",
    )
    mine = _box(bob)
    theirs = _box(ana, x=50)
    bob.update(p, label="person")  # predictions are anyone's to fix
    ent = bob.new_entity([mine, theirs], name="pair")  # grouping touches only `entity`
    assert ana.get(theirs).entity == ent
    bob.accept([p])
    assert ana.get(p).annotator == "bob"
    bob.undo()  # gives the prediction back
    assert ana.get(p).source == "prediction"
    bob.close()


# -- two annotators, two processes -----------------------------------------------------------


def _edit_worker(
    dsn: str,
    annotator: str,
    own: list[str],
    shared: list[str],
    n: int,
    barrier: Any,
    out: Any,
) -> None:
    """Make ``n`` edits through a Session: even ones on ``own``, odd ones on ``shared``."""
    import accord as ac
    from accord.errors import ConflictError

    s = ac.Session(dsn, annotator=annotator)
    acks, conflicts = [], 0
    barrier.wait(60)
    start = time.time()
    for k in range(n):
        ann = shared[k % len(shared)] if k % 2 else own[k % len(own)]
        command = {
            "type": "annotation.update",
            "id": ann,
            "geometry": {"x": float(k % 500), "y": 1.0, "w": 9.0, "h": 9.0},
        }
        while True:
            try:
                result = s.apply(command)
            except ConflictError:  # someone edited it between our read and our commit
                conflicts += 1
                continue
            break
        event = result.events[0]
        acks.append((ann, event.after["revision"], result.command.id, event.seq))
    out.put((annotator, acks, conflicts, start, time.time()))
    s.close()


def test_two_annotators_in_two_processes_lose_no_edit(team) -> None:
    dsn, ana = team
    n = 5_000
    bob = ac.Session(dsn, annotator="bob")
    own = {"ana": [_box(ana, x=i) for i in range(8)], "bob": [_box(bob, x=i) for i in range(8)]}
    shared = ana.prelabel(  # predictions: both annotators may edit them
        lambda s, item: [
            {"stream": "cam", "label": "car", "geometry": ac.Box(i, 1, 9, 9)} for i in range(3)
        ],
        model="det",
    )
    bob.close()
    start_seq = ana.store.last_seq()
    ctx = mp.get_context("spawn")
    barrier, out = ctx.Barrier(3), ctx.Queue()
    procs = [
        ctx.Process(target=_edit_worker, args=(dsn, who, own[who], shared, n, barrier, out))
        for who in ("ana", "bob")
    ]
    for p in procs:
        p.start()
    barrier.wait(120)
    # meanwhile, a reader follows the log with events(since=...) as poll() does
    followed: list[int] = []
    done = 0
    results = []
    reader = PostgresStore(dsn)
    while done < 2:
        new = reader.events(since=followed[-1] if followed else start_seq)
        followed += [e.seq for e in new]
        while not out.empty():
            results.append(out.get())
            done += 1
        time.sleep(0.02)
    for p in procs:
        p.join(60)
        assert p.exitcode == 0
    followed += [e.seq for e in reader.events(since=followed[-1])]

    acks = [a for _, worker_acks, *_ in results for a in worker_acks]
    conflicts = sum(r[2] for r in results)
    assert len(acks) == 2 * n
    assert conflicts > 0, "the shared annotations were never edited concurrently"
    (_, _, _, s1, e1), (_, _, _, s2, e2) = results
    assert max(s1, s2) < min(e1, e2), "the two processes did not overlap"

    log = reader.events(since=start_seq)
    assert followed == [e.seq for e in log]  # the follower missed nothing, saw nothing twice
    by_id: dict[str, list[Any]] = defaultdict(list)
    for e in log:
        by_id[e.id].append(e)
    assert len(log) == 2 * n and all(e.op == "update" for e in log)
    assert {a[3] for a in acks} == {e.seq for e in log}  # every acknowledged edit is logged
    assert {a[2] for a in acks} == {e.command for e in log}
    acked = Counter(a[0] for a in acks)
    for ann, count in acked.items():
        revisions = sorted(a[1] for a in acks if a[0] == ann)
        assert revisions == list(range(2, count + 2))  # no two edits from the same base
        assert reader.get("annotation", ann)["revision"] == count + 1  # none lost
        chain = by_id[ann]
        for prev, nxt in itertools.pairwise(chain):
            assert nxt.before == prev.after  # each edit was based on the one before
    assert sum(acked[s] for s in shared) == n  # half the edits hit the shared records
    reader.close()


# -- the log as a cursor ----------------------------------------------------------------------


def _entity(id: str, who: str) -> dict[str, Any]:
    return {"id": id, "label": None, "name": "", "attributes": {}, "annotator": who}


def test_events_since_never_skips_a_commit_that_was_still_in_flight(pg_dsn: str) -> None:
    """A command that took its event id first but commits last must not be skipped.

    A test-only trigger makes ``slow``'s commit stall after its events are inserted.
    ``fast`` commits meanwhile; a follower reading ``events(since=...)`` must still
    see ``slow``'s event (ids are handed out in commit order under the log lock).
    """
    st = PostgresStore(pg_dsn)
    with psycopg.connect(pg_dsn, autocommit=True) as conn:
        conn.execute(
            "CREATE FUNCTION stall() RETURNS trigger LANGUAGE plpgsql AS $$ "
            "BEGIN PERFORM pg_sleep(0.6); RETURN NEW; END $$"
        )
        conn.execute(
            "CREATE TRIGGER stall AFTER INSERT ON events FOR EACH ROW "
            "WHEN (NEW.annotator = 'slow') EXECUTE FUNCTION stall()"
        )

    def create(store: PostgresStore, who: str) -> None:
        rec = {**_entity(f"e_{who}", who), "revision": 1, "created_at": 0.0, "updated_at": 0.0}
        store.commit(
            annotator=who,
            type="entity.add",
            kind="do",
            changes=[Change("entity", rec["id"], "create", None, rec)],
        )

    slow_store, fast_store = PostgresStore(pg_dsn), PostgresStore(pg_dsn)
    slow = threading.Thread(target=create, args=(slow_store, "slow"))
    slow.start()
    time.sleep(0.2)  # slow holds its event id and stalls before COMMIT
    create(fast_store, "fast")
    followed = [e.seq for e in st.events(since=0)]  # what a poll() right now sees
    slow.join(10)
    followed += [e.seq for e in st.events(since=followed[-1])]
    assert followed == [e.seq for e in st.events()]
    assert [e.annotator for e in st.events()] == ["slow", "fast"]  # commit order
    for s in (st, slow_store, fast_store):
        s.close()


def test_a_lost_connection_is_reopened(pg_server: PgServer, pg_dsn: str) -> None:
    st = PostgresStore(pg_dsn)
    st.set_role("ana", "admin")
    rec = {**_entity("e1", "ana"), "revision": 1, "created_at": 0.0, "updated_at": 0.0}
    with psycopg.connect(pg_server.dsn("postgres", "postgres"), autocommit=True) as admin:
        admin.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE application_name = 'accord' AND datname = %s",
            (pg_dsn.rsplit("/", 1)[1],),
        )
    # the first write after the loss fails before writing anything: it is retried
    st.commit(
        annotator="ana", type="t", kind="do", changes=[Change("entity", "e1", "create", None, rec)]
    )
    assert st.get("entity", "e1") == rec
    st.close()
    with pytest.raises(StoreError):
        st.get("entity", "e1")


def test_a_refused_undo_is_logged_as_a_skip(team) -> None:
    dsn, ana = team
    rita = ac.Session(dsn, annotator="rita", role="reviewer")
    first = _box(ana)
    second = _box(ana, x=50)
    rita.update(second, label="person")
    with pytest.raises(ConflictError):
        ana.undo()
    skips = [c for c in ana.store.commands_of("ana") if c.kind == "skip"]
    assert len(skips) == 1 and ana.store.command(skips[0].id).events == ()
    ana.undo()  # reaches the command before
    assert ana.store.get("annotation", first) is None
    rita.close()
