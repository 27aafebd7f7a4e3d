"""PostgreSQL team store: 4 concurrent writer processes vs 1, on the same server.

Each writer is a separate process with its own Session (its own kernel, in real use),
applying commands as an annotator does: add a box, then edit one of its own boxes,
alternately. Measured on one throwaway server (tests/pg.py) started with durable
settings (fsync and synchronous_commit on), listening on 127.0.0.1:

* aggregate throughput (commands/s) of 1 writer, then of 4 writers at once;
* the same at the store level (``PostgresStore.commit`` of one update, no Session),
  which isolates the store's own ceiling (the log lock is held through each COMMIT);
* baseline: a bare ``INSERT`` + ``COMMIT`` of one row over psycopg, one writer.

Run alone with ``python -m benchmarks.bench_postgres [--quick]``.
"""

from __future__ import annotations

import multiprocessing as mp
import os
import sys
import time
from typing import Any

from tests.conftest import TAXONOMY_YAML, media_free_item

import accord as ac
from benchmarks.common import Report, assemble_results, median, ms, percentile


def _box(i: int) -> dict[str, Any]:
    return {
        "type": "annotation.add",
        "item": "clip",
        "stream": "video",
        "label": "car",
        "kind": "box",
        "geometry": {"x": float(i % 600), "y": 10.0, "w": 20.0, "h": 15.0},
        "frame": i % 300,
    }


def _session_writer(dsn: str, who: str, n: int, barrier: Any, out: Any) -> None:
    s = ac.Session(dsn, annotator=who)
    mine: list[str] = []
    lat = []
    barrier.wait(120)
    t_all = time.perf_counter()
    for k in range(n):
        t0 = time.perf_counter()
        if k % 2 == 0 or not mine:
            mine.append(s.apply(_box(k)).ids[0])
        else:
            s.apply(
                {
                    "type": "annotation.update",
                    "id": mine[k % len(mine)],
                    "geometry": {"x": float(k % 500), "y": 1.0, "w": 9.0, "h": 9.0},
                }
            )
        lat.append(time.perf_counter() - t0)
    out.put((time.perf_counter() - t_all, lat))
    s.close()


def _store_writer(dsn: str, who: str, n: int, barrier: Any, out: Any) -> None:
    from accord.store import Change
    from accord.store.postgres import PostgresStore

    st = PostgresStore(dsn)
    rec = {"id": f"e_{who}", "label": None, "name": "", "attributes": {"n": 0}}
    rec |= {"annotator": who, "revision": 1, "created_at": 0.0, "updated_at": 0.0}
    create = Change("entity", rec["id"], "create", None, rec)
    st.commit(annotator=who, type="entity.add", kind="do", changes=[create])
    lat = []
    barrier.wait(120)
    t_all = time.perf_counter()
    for k in range(n):
        t0 = time.perf_counter()
        after = {**rec, "attributes": {"n": k + 1}, "revision": rec["revision"] + 1}
        st.commit(
            annotator=who,
            type="entity.update",
            kind="do",
            changes=[Change("entity", rec["id"], "update", rec, after)],
        )
        rec = after
        lat.append(time.perf_counter() - t0)
    out.put((time.perf_counter() - t_all, lat))
    st.close()


def _run_writers(target: Any, dsn: str, writers: int, n: int) -> tuple[float, list[float]]:
    """Aggregate commands/s of ``writers`` processes making ``n`` commands each."""
    ctx = mp.get_context("spawn")
    barrier, out = ctx.Barrier(writers + 1), ctx.Queue()
    procs = [
        ctx.Process(target=target, args=(dsn, f"w{i}", n, barrier, out)) for i in range(writers)
    ]
    for p in procs:
        p.start()
    barrier.wait(120)
    results = [out.get(timeout=600) for _ in procs]
    for p in procs:
        p.join(60)
        if p.exitcode != 0:
            raise RuntimeError(f"writer exited with {p.exitcode}")
    wall = max(r[0] for r in results)
    lat = [x for r in results for x in r[1]]
    return writers * n / wall, lat


def _raw_baseline(dsn: str, n: int) -> float:
    import psycopg

    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute("CREATE TABLE raw (id TEXT PRIMARY KEY, geometry JSON, revision BIGINT)")
        t0 = time.perf_counter()
        for i in range(n):
            with conn.transaction():
                conn.execute("INSERT INTO raw VALUES (%s, %s, 1)", (f"a{i}", '{"x":1}'))
        return n / (time.perf_counter() - t0)


def run(quick: bool = False) -> Report:
    import psycopg
    from tests.pg import PgServer, find_bin_dir

    from accord.store.postgres import _LOCK_CLASS, _LOG_LOCK, PostgresStore, _commit_function

    n = 400 if quick else 2_000
    report = Report(
        "postgres",
        "PostgreSQL team store: 4 concurrent writers vs 1 (issue 8)",
        "python -m benchmarks.bench_postgres" + (" --quick" if quick else ""),
    )
    if find_bin_dir() is None:
        report.notes.append("skipped: PostgreSQL is not installed (./dev.sh setup installs it)")
        return report
    server = PgServer(durable=True).start()
    try:
        rows: dict[str, dict[int, tuple[float, list[float]]]] = {}
        for level, target in (("Session", _session_writer), ("store", _store_writer)):
            rows[level] = {}
            for writers in (1, 4):
                dsn = server.create_database()
                setup = ac.Session(
                    dsn, taxonomy=ac.Taxonomy.from_yaml(TAXONOMY_YAML), annotator="setup"
                )
                setup.apply(media_free_item("clip"))
                setup.close()
                rows[level][writers] = _run_writers(target, dsn, writers, n)
                st = PostgresStore(dsn)
                logged = sum(1 for e in st.iter_events() if e.annotator.startswith("w"))
                assert logged == writers * n + (writers if level == "store" else 0), logged
                st.close()
        # for scale only: the store without its log lock (unsafe: a follower could skip
        # a late commit) — what commit-order ids cost on this machine
        unlocked = server.create_database()
        PostgresStore(unlocked).close()
        lock = f"PERFORM pg_advisory_xact_lock({_LOCK_CLASS}, {_LOG_LOCK});"
        with psycopg.connect(unlocked, autocommit=True) as conn:
            conn.execute(_commit_function().replace(lock, "PERFORM 1;"))
        no_lock = _run_writers(_store_writer, unlocked, 4, n)[0]
        raw = _raw_baseline(server.create_database(), n)
    finally:
        server.stop()

    for level, what in (
        ("Session", "commands through a Session (add a box / edit one of one's own)"),
        ("store", "PostgresStore.commit of one update, no Session"),
    ):
        one, four = rows[level][1], rows[level][4]
        report.add(
            f"1 writer, {what}: throughput",
            f"{one[0]:,.0f} commands/s",
            f"{raw:,.0f} /s (bare insert+commit)",
            f"{one[0] / raw:.2f}×",
            "",
            "",
        )
        report.add(
            f"4 concurrent writer processes, {n:,} commands each: aggregate throughput",
            f"{four[0]:,.0f} commands/s",
            f"{one[0]:,.0f} /s (1 writer)",
            f"{four[0] / one[0]:.2f}×",
            "> 1× (writers do not block each other)",
            "yes" if four[0] > one[0] else "NO",
        )
        report.add(
            "… latency per command, 1 writer → 4 writers: median",
            f"{ms(median(one[1]))} → {ms(median(four[1]))}",
            "",
            "",
            "",
            "",
        )
        report.add(
            "… p95",
            f"{ms(percentile(one[1], 95))} → {ms(percentile(four[1], 95))}",
            "",
            "",
            "",
            "",
        )
    report.add(
        "… the same 4 writers without the log lock (unsafe, for scale only)",
        f"{no_lock:,.0f} commands/s",
        f"{rows['store'][4][0]:,.0f} /s (with the lock)",
        f"{rows['store'][4][0] / no_lock:.2f}×",
        "",
        "",
    )
    report.notes.append(
        f"One PostgreSQL {server.bin_dir.parent.name} server on 127.0.0.1 with fsync and "
        f"synchronous_commit on; writers are separate processes (spawn); this machine has "
        f"{os.cpu_count()} CPU cores, shared by the writers and the server."
    )
    report.notes.append(
        "Every command is one transaction: row locks on the touched records, the revision "
        "check, the writes (checked by the role triggers), then the log append under an "
        "advisory lock held until COMMIT, so event ids follow commit order and "
        "events(since=...) never skips a late commit. Only that append+COMMIT is serial; "
        "validation, reads and row writes of different writers overlap."
    )
    report.notes.append("Every acknowledged command is checked to be in the log after each run.")
    return report


if __name__ == "__main__":
    result = run(quick="--quick" in sys.argv[1:])
    path = result.save()
    print(result.markdown())
    print(f"saved {path}; wrote {assemble_results()}")
