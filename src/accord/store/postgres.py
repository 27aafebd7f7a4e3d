"""The team store: the same Session on PostgreSQL, for several annotators at once.

``Session("postgresql://user@host/db", ...)`` opens a :class:`PostgresStore`. It keeps
the tables of :mod:`accord.store.schema` (JSON columns as PostgreSQL ``json``, which
keeps the exact text written, so JSON values round-trip exactly; SQLite ``REAL`` as
``DOUBLE PRECISION``, ``INTEGER`` as ``BIGINT``) plus the same command/event log.

**One command, one statement, one transaction.** :meth:`PostgresStore.commit` is a
single call of the server-side function ``accord_commit`` (generated from the table
specs), run as its own transaction — one round trip:

1. every record the command touches is row-locked (``SELECT … ORDER BY id FOR
   UPDATE``, tables in a fixed order), always in one global order, so two commands
   cannot deadlock;
2. the revisions are checked exactly as the SQLite store does (``NotFoundError`` for
   a missing record, ``ConflictError`` for a stale revision or a duplicate create,
   same messages); a refused command writes nothing;
3. the changes are applied in order (a run of creates is one ``INSERT``); role rules
   are checked **by the database** (triggers, below) on the rows as stored, not as
   the client claims them;
4. the command and its events are appended under a transaction-level advisory lock;
   the ``COMMIT`` follows at once, on the server, with no client round trip.

**Why the advisory lock (log order = commit order).** ``BIGSERIAL`` values are handed
out when a row is inserted, not when its transaction commits. Without care, a
transaction could take event seq 41, stall, and commit after another took seq 42
and committed: a reader that saw 42 and then asks for ``events(since=42)`` would
never see 41. So the event (and command) ids are assigned while holding
``pg_advisory_xact_lock``, which is released only after the commit is visible: the
committed log is always a *prefix* in seq order (gaps only from aborted ids), and
``events(since=…)``/``last_seq()`` are plain reads. The lock covers only the append
and the commit (row locks, revision checks and record writes of concurrent commands
run in parallel). The price: commits are serialised through the WAL flush, so more
writers gain throughput from parallel work, not from group commit (see
``benchmarks/bench_postgres.py``). The alternative — recording writer transaction ids
and holding every reader back to the oldest running writer — allows group commit but
makes every read consult ``pg_locks`` or snapshot horizons; not worth it at
annotation rates (a human makes a few commands a second; the store takes hundreds).

**Roles, enforced by the store.** The ``members`` table (annotator → ``annotator`` /
``reviewer`` / ``admin``) is the authority; an annotator who is not listed has the
``annotator`` role. ``commit`` names its annotator in the transaction
(``set_config('accord.annotator', …, true)``) and ``BEFORE`` triggers on every record
table refuse, with :class:`~accord.errors.PermissionDeniedError` (SQLSTATE ``AC001``),
what the role may not do — the rules of ``Session.check_can_edit`` and
:mod:`accord.review`, checked against the stored rows:

* only an admin changes or deletes an *approved* annotation, or makes one approved
  (a reviewer may reject an approved annotation of someone else: status only);
* moving an annotation to ``peer_reviewed`` or ``rejected`` takes a reviewer or admin
  who is not its owner;
* an ``annotator`` writes only annotations, links and entities that are their own
  before and after the change — except predictions (anyone may fix or accept them),
  grouping annotations into entities (an ``entity``-only change) and deleting the
  links that touch their own annotations;
* a review record names its author and the author's role as in ``members``;
* only admins add a taxonomy version once one is stored; only reviewers and admins
  change or delete items; only admins write ``meta`` records;
* :meth:`PostgresStore.set_role` is an admin operation (the first admin of a store
  without one may be set by anyone); the last admin cannot be demoted.

The annotator's name is trusted, as in the Session: the store authorises, it does
not authenticate. To authenticate, give each annotator a PostgreSQL login whose
DSN only they hold, and name the annotator after the login.
"""

from __future__ import annotations

import hashlib
import json
import threading
import time
from collections.abc import Sequence
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import pandas as pd

from accord.errors import (
    ConflictError,
    NotFoundError,
    PermissionDeniedError,
    StoreError,
    ValidationError,
)
from accord.store.base import TARGETS, Change, CommandRecord, Event, Store, events_query
from accord.store.schema import TABLES, TableSpec

try:
    import psycopg
except ImportError as exc:  # pragma: no cover - exercised only without the extra
    raise ImportError(
        "the PostgreSQL store needs psycopg 3: pip install 'psycopg[binary]'"
    ) from exc

__all__ = ["ROLES", "PostgresStore", "redact_dsn"]

SCHEMA_VERSION = 1

#: Version of the role rules (trigger functions). A store keeps the newest rules any
#: accord that opened it had: an older accord does not put back older rules.
RULES_VERSION = 1

#: Roles, from least to most privileged (as in :data:`accord.session.ROLES`).
ROLES: tuple[str, ...] = ("annotator", "reviewer", "admin")

#: Advisory lock keys: (class, object) pairs, class = "accd".
_LOCK_CLASS = 0x61636364
_LOG_LOCK = 1
_INIT_LOCK = 2
_MEMBERS_LOCK = 3
_TAXONOMY_LOCK = 4

#: SQLSTATEs raised by the role triggers and by accord_commit's revision checks.
_DENIED = "AC001"
_MISSING = "AC404"
_STALE = "AC409"
_DUPLICATE = "AC410"

#: How long a commit waits for rows another client holds before giving up.
LOCK_TIMEOUT_S = 30

#: Channel notified by every commit (delivered at COMMIT); see wait_for_change.
CHANNEL = "accord_events"


def _dumps(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False, allow_nan=False)


def _pg_type(sql_type: str, is_json: bool) -> str:
    """schema.py's SQLite column type → PostgreSQL (keeping NOT NULL / PRIMARY KEY)."""
    base, _, rest = sql_type.partition(" ")
    base = {"REAL": "DOUBLE PRECISION", "INTEGER": "BIGINT"}.get(base, base)
    if is_json:
        base = "JSON"
    return f"{base} {rest}".strip()


def redact_dsn(dsn: str) -> str:
    """The DSN without its password (URL or ``key=value`` form)."""
    if "://" in dsn:
        parts = urlsplit(dsn)
        netloc = parts.netloc
        if "@" in netloc:
            userinfo, _, hostport = netloc.rpartition("@")
            user = userinfo.split(":", 1)[0]
            netloc = f"{user}@{hostport}" if user else hostport
        query = urlencode([(k, v) for k, v in parse_qsl(parts.query) if k != "password"])
        return urlunsplit((parts.scheme, netloc, parts.path, query, parts.fragment))
    try:
        params = psycopg.conninfo.conninfo_to_dict(dsn)
    except psycopg.ProgrammingError:
        return "<unparsable DSN>"
    params.pop("password", None)
    return psycopg.conninfo.make_conninfo(**{k: str(v) for k, v in params.items()})


# -- schema ------------------------------------------------------------------------

_LOG_DDL = """
CREATE TABLE IF NOT EXISTS accord_schema (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS commands (
    id BIGSERIAL PRIMARY KEY,
    ts DOUBLE PRECISION NOT NULL,
    annotator TEXT NOT NULL,
    type TEXT NOT NULL,
    kind TEXT NOT NULL,
    undoes BIGINT
);
CREATE INDEX IF NOT EXISTS commands_annotator ON commands(annotator, id);
CREATE TABLE IF NOT EXISTS events (
    seq BIGSERIAL PRIMARY KEY,
    command BIGINT NOT NULL REFERENCES commands(id),
    ts DOUBLE PRECISION NOT NULL,
    annotator TEXT NOT NULL,
    target TEXT NOT NULL,
    record_id TEXT NOT NULL,
    item TEXT,
    op TEXT NOT NULL,
    before JSON,
    after JSON
);
CREATE INDEX IF NOT EXISTS events_record ON events(target, record_id, seq);
CREATE INDEX IF NOT EXISTS events_command ON events(command);
CREATE INDEX IF NOT EXISTS events_item ON events(item, seq);
CREATE TABLE IF NOT EXISTS members (
    annotator TEXT PRIMARY KEY,
    role TEXT NOT NULL CHECK (role IN ('annotator', 'reviewer', 'admin')),
    updated_by TEXT,
    updated_at DOUBLE PRECISION NOT NULL
)
"""

# Role rules, run by the database on every write (see the module docstring).
_RULES_DDL = f"""
CREATE OR REPLACE FUNCTION accord_deny(where_ TEXT, expected TEXT, got TEXT) RETURNS VOID
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION USING ERRCODE = '{_DENIED}', MESSAGE = where_, DETAIL = expected,
        HINT = coalesce(got, '');
END $$;

CREATE OR REPLACE FUNCTION accord_actor() RETURNS TEXT LANGUAGE plpgsql STABLE AS $$
DECLARE me TEXT := current_setting('accord.annotator', true);
BEGIN
    IF me IS NULL OR me = '' THEN
        PERFORM accord_deny('store write',
            'a write through the accord store (it names the annotator)', 'no annotator');
    END IF;
    RETURN me;
END $$;

CREATE OR REPLACE FUNCTION accord_role(who TEXT) RETURNS TEXT LANGUAGE sql STABLE AS $$
    SELECT coalesce((SELECT role FROM members WHERE annotator = who), 'annotator')
$$;

CREATE OR REPLACE FUNCTION accord_check_annotation() RETURNS TRIGGER LANGUAGE plpgsql AS $$
DECLARE
    me TEXT := accord_actor();
    r TEXT := accord_role(me);
    rid TEXT;
    status_only BOOLEAN := false;
    entity_only BOOLEAN := false;
    old_approved BOOLEAN := false;
    new_approved BOOLEAN := false;
BEGIN
    IF r = 'admin' THEN
        RETURN CASE WHEN TG_OP = 'DELETE' THEN OLD ELSE NEW END;
    END IF;
    IF TG_OP = 'DELETE' THEN rid := OLD.id; ELSE rid := NEW.id; END IF;
    IF TG_OP <> 'INSERT' THEN old_approved := OLD.status = 'approved'; END IF;
    IF TG_OP <> 'DELETE' THEN new_approved := NEW.status = 'approved'; END IF;
    IF TG_OP = 'UPDATE' THEN
        status_only := (to_jsonb(OLD) - '{{status,revision,updated_at}}'::TEXT[])
                     = (to_jsonb(NEW) - '{{status,revision,updated_at}}'::TEXT[]);
        entity_only := (to_jsonb(OLD) - '{{entity,revision,updated_at}}'::TEXT[])
                     = (to_jsonb(NEW) - '{{entity,revision,updated_at}}'::TEXT[]);
    END IF;
    IF old_approved OR new_approved THEN
        IF NOT (r = 'reviewer' AND TG_OP = 'UPDATE' AND old_approved
                AND NEW.status = 'rejected' AND status_only AND OLD.annotator <> me) THEN
            PERFORM accord_deny('annotation ' || rid,
                'the admin role to change an approved annotation', r);
        END IF;
    END IF;
    IF TG_OP = 'UPDATE' AND NEW.status IS DISTINCT FROM OLD.status
            AND NEW.status IN ('peer_reviewed', 'rejected') THEN
        IF r = 'annotator' THEN
            PERFORM accord_deny('annotation ' || rid || '.status',
                format('a role among [''admin'', ''reviewer''] to set %L', NEW.status), r);
        END IF;
        IF OLD.annotator = me THEN
            PERFORM accord_deny('annotation ' || rid || '.status',
                format('someone other than the owner to set %L (no self-review)', NEW.status),
                'the owner');
        END IF;
    END IF;
    IF r = 'annotator' AND NOT entity_only THEN
        IF TG_OP <> 'INSERT' AND OLD.annotator <> me AND OLD.source <> 'prediction' THEN
            PERFORM accord_deny('annotation ' || rid,
                format('your own annotation (it belongs to %L; a reviewer may change it)',
                       OLD.annotator), me);
        END IF;
        IF TG_OP <> 'DELETE' AND NEW.annotator <> me AND NEW.source <> 'prediction' THEN
            PERFORM accord_deny('annotation ' || rid,
                format('an annotation in your own name (this one names %L)', NEW.annotator),
                me);
        END IF;
    END IF;
    RETURN CASE WHEN TG_OP = 'DELETE' THEN OLD ELSE NEW END;
END $$;

CREATE OR REPLACE FUNCTION accord_may_write_link(owner TEXT, src TEXT, dst TEXT, me TEXT)
RETURNS BOOLEAN LANGUAGE sql STABLE AS $$
    SELECT owner = me OR EXISTS (
        SELECT 1 FROM annotations a
        WHERE a.id IN (src, dst) AND (a.annotator = me OR a.source = 'prediction'))
$$;

CREATE OR REPLACE FUNCTION accord_check_link() RETURNS TRIGGER LANGUAGE plpgsql AS $$
DECLARE
    me TEXT := accord_actor();
    r TEXT := accord_role(me);
BEGIN
    IF r = 'annotator' THEN
        IF TG_OP <> 'INSERT'
                AND NOT accord_may_write_link(OLD.annotator, OLD.source, OLD.target, me) THEN
            PERFORM accord_deny('link ' || OLD.id,
                format('your own link (it belongs to %L; a reviewer may change it)',
                       OLD.annotator), me);
        END IF;
        IF TG_OP <> 'DELETE'
                AND NOT accord_may_write_link(NEW.annotator, NEW.source, NEW.target, me) THEN
            PERFORM accord_deny('link ' || NEW.id,
                format('a link in your own name (this one names %L)', NEW.annotator), me);
        END IF;
    END IF;
    RETURN CASE WHEN TG_OP = 'DELETE' THEN OLD ELSE NEW END;
END $$;

CREATE OR REPLACE FUNCTION accord_check_entity() RETURNS TRIGGER LANGUAGE plpgsql AS $$
DECLARE
    me TEXT := accord_actor();
    r TEXT := accord_role(me);
BEGIN
    IF r = 'annotator' THEN
        IF TG_OP <> 'INSERT' AND OLD.annotator <> me THEN
            PERFORM accord_deny('entity ' || OLD.id,
                format('your own entity (it belongs to %L; a reviewer may change it)',
                       OLD.annotator), me);
        END IF;
        IF TG_OP <> 'DELETE' AND NEW.annotator <> me THEN
            PERFORM accord_deny('entity ' || NEW.id,
                format('an entity in your own name (this one names %L)', NEW.annotator), me);
        END IF;
    END IF;
    RETURN CASE WHEN TG_OP = 'DELETE' THEN OLD ELSE NEW END;
END $$;

CREATE OR REPLACE FUNCTION accord_check_item() RETURNS TRIGGER LANGUAGE plpgsql AS $$
DECLARE
    me TEXT := accord_actor();
    r TEXT := accord_role(me);
    what TEXT := CASE TG_TABLE_NAME WHEN 'items' THEN 'item' ELSE 'stream' END;
BEGIN
    -- anyone adds items and streams and sets stream clocks (as the Session allows);
    -- item metadata and deletions take a reviewer or an admin
    IF r = 'annotator' AND (TG_OP = 'DELETE' OR (TG_OP = 'UPDATE' AND what = 'item')) THEN
        PERFORM accord_deny(what || ' ' || CASE WHEN TG_OP = 'DELETE' THEN OLD.id ELSE NEW.id END,
            format('the reviewer or admin role to %s an %s', lower(TG_OP), what), r);
    END IF;
    RETURN CASE WHEN TG_OP = 'DELETE' THEN OLD ELSE NEW END;
END $$;

CREATE OR REPLACE FUNCTION accord_check_taxonomy() RETURNS TRIGGER LANGUAGE plpgsql AS $$
DECLARE
    me TEXT := accord_actor();
    r TEXT := accord_role(me);
    stored BIGINT;
BEGIN
    IF r <> 'admin' THEN
        IF TG_OP <> 'INSERT' THEN
            PERFORM accord_deny('taxonomy ' || OLD.id, 'the admin role to change a taxonomy', r);
        END IF;
        PERFORM pg_advisory_xact_lock({_LOCK_CLASS}, {_TAXONOMY_LOCK});
        SELECT max(version) INTO stored FROM taxonomies WHERE id <> NEW.id;
        IF stored IS NOT NULL THEN
            PERFORM accord_deny('taxonomy ' || NEW.id,
                format('the admin role to add a taxonomy version (v%s is stored)', stored), r);
        END IF;
    END IF;
    RETURN CASE WHEN TG_OP = 'DELETE' THEN OLD ELSE NEW END;
END $$;

CREATE OR REPLACE FUNCTION accord_check_review() RETURNS TRIGGER LANGUAGE plpgsql AS $$
DECLARE
    me TEXT := accord_actor();
    r TEXT := accord_role(me);
BEGIN
    IF r <> 'admin' THEN
        IF TG_OP <> 'INSERT' AND OLD.annotator <> me THEN
            PERFORM accord_deny('review ' || OLD.id,
                format('your own review (it is by %L)', OLD.annotator), me);
        END IF;
        IF TG_OP <> 'DELETE' AND NEW.annotator <> me THEN
            PERFORM accord_deny('review ' || NEW.id || '.annotator',
                format('your own name %L', me), NEW.annotator);
        END IF;
        IF TG_OP <> 'DELETE' AND NEW.role <> r THEN
            PERFORM accord_deny('review ' || NEW.id || '.role',
                format('%L (your role in the members table)', r), NEW.role);
        END IF;
    END IF;
    RETURN CASE WHEN TG_OP = 'DELETE' THEN OLD ELSE NEW END;
END $$;

CREATE OR REPLACE FUNCTION accord_check_meta() RETURNS TRIGGER LANGUAGE plpgsql AS $$
DECLARE
    me TEXT := accord_actor();
    r TEXT := accord_role(me);
BEGIN
    IF r <> 'admin' THEN
        PERFORM accord_deny('meta ' || CASE WHEN TG_OP = 'DELETE' THEN OLD.id ELSE NEW.id END,
            'the admin role to write store metadata', r);
    END IF;
    RETURN CASE WHEN TG_OP = 'DELETE' THEN OLD ELSE NEW END;
END $$;

CREATE OR REPLACE FUNCTION accord_check_member() RETURNS TRIGGER LANGUAGE plpgsql AS $$
DECLARE
    me TEXT := accord_actor();
    admins BIGINT;
BEGIN
    PERFORM pg_advisory_xact_lock({_LOCK_CLASS}, {_MEMBERS_LOCK});
    SELECT count(*) INTO admins FROM members WHERE role = 'admin';
    IF admins > 0 AND accord_role(me) <> 'admin' THEN
        PERFORM accord_deny('members', 'an admin to change roles', me);
    END IF;
    IF TG_OP <> 'INSERT' AND OLD.role = 'admin' AND admins = 1
            AND (TG_OP = 'DELETE' OR NEW.role <> 'admin') THEN
        PERFORM accord_deny('members ' || OLD.annotator,
            'another admin first (this is the last admin)', 'demoting the last admin');
    END IF;
    RETURN CASE WHEN TG_OP = 'DELETE' THEN OLD ELSE NEW END;
END $$
"""

#: Which trigger function guards which table.
_GUARDS: dict[str, str] = {
    "annotations": "accord_check_annotation",
    "links": "accord_check_link",
    "entities": "accord_check_entity",
    "items": "accord_check_item",
    "streams": "accord_check_item",
    "taxonomies": "accord_check_taxonomy",
    "reviews": "accord_check_review",
    "meta": "accord_check_meta",
    "members": "accord_check_member",
}
assert set(_GUARDS) - {"members"} == {spec.name for spec in TABLES.values()}


def _table_ddl(spec: TableSpec) -> list[str]:
    cols = ", ".join(f"{c} {_pg_type(t, c in spec.json_columns)}" for c, t in spec.columns)
    # _ord keeps insertion order (SQLite's rowid): records() and frame() sort on it
    out = [f"CREATE TABLE IF NOT EXISTS {spec.name} ({cols}, _ord BIGSERIAL)"]
    for idx in spec.indexes:
        name = f"{spec.name}_{'_'.join(idx)}"
        out.append(f"CREATE INDEX IF NOT EXISTS {name} ON {spec.name}({', '.join(idx)})")
    return out


def _trigger_ddl() -> list[str]:
    out = []
    for table, fn in _GUARDS.items():
        out.append(f"DROP TRIGGER IF EXISTS accord_guard ON {table}")
        out.append(
            f"CREATE TRIGGER accord_guard BEFORE INSERT OR UPDATE OR DELETE ON {table} "
            f"FOR EACH ROW EXECUTE FUNCTION {fn}()"
        )
    return out


def _statements(script: str) -> list[str]:
    """Split a script on ';' at line ends outside $$ bodies."""
    out, buf, in_body = [], [], False
    for line in script.splitlines():
        if line.count("$$") % 2:
            in_body = not in_body
        buf.append(line)
        if not in_body and line.rstrip().endswith(";"):
            out.append("\n".join(buf).strip().rstrip(";"))
            buf = []
    tail = "\n".join(buf).strip()
    if tail:
        out.append(tail)
    return [s for s in out if s]


def _commit_function() -> str:
    """``accord_commit(...)``: one whole command, run by the server as one statement.

    Generated from the table specs: lock the touched rows (tables in target order, ids
    in order), check the first touch of each record against its locked revision (the
    client checked later touches of the same record), apply the changes in order (the
    role triggers check each row), then append the log under the log lock.
    """
    lock, create, update, delete = [], [], [], []
    for target, spec in sorted(TABLES.items()):
        t = spec.name
        cols = ", ".join(spec.column_names)
        exprs = [
            f"coalesce(r.{c}, 'null'::json)" if c in spec.json_columns else f"r.{c}"
            for c in spec.column_names
        ]
        lock.append(
            f"WHEN '{target}' THEN SELECT coalesce(jsonb_object_agg(s.id, s.revision), '{{}}') "
            f"INTO m FROM (SELECT id, revision FROM {t} WHERE id = ANY(ids) ORDER BY id "
            f"FOR UPDATE) s;"
        )
        create.append(
            f"WHEN '{target}' THEN INSERT INTO {t} ({cols}) SELECT {', '.join(exprs)} "
            f"FROM unnest(p_afters[i:j]) WITH ORDINALITY a(doc, k) "
            f"CROSS JOIN LATERAL json_populate_record(NULL::{t}, a.doc::json) r ORDER BY a.k;"
        )
        update.append(
            f"WHEN '{target}' THEN UPDATE {t} SET ({', '.join(spec.column_names[1:])}) = "
            f"(SELECT {', '.join(exprs[1:])} "
            f"FROM json_populate_record(NULL::{t}, p_afters[i]::json) r) WHERE id = p_ids[i];"
        )
        delete.append(f"WHEN '{target}' THEN DELETE FROM {t} WHERE id = p_ids[i];")
    nl = "\n            "
    return f"""
CREATE OR REPLACE FUNCTION accord_commit(
    p_annotator TEXT, p_type TEXT, p_kind TEXT, p_undoes BIGINT, p_ts DOUBLE PRECISION,
    p_targets TEXT[], p_ids TEXT[], p_ops TEXT[], p_first BOOLEAN[], p_expected BIGINT[],
    p_items TEXT[], p_befores TEXT[], p_afters TEXT[],
    OUT command_id BIGINT, OUT first_seq BIGINT
) LANGUAGE plpgsql AS $$
DECLARE
    n INT := coalesce(array_length(p_ids, 1), 0);
    locked JSONB := '{{}}';
    m JSONB;
    ids TEXT[];
    tgt TEXT;
    cur JSONB;
    i INT;
    j INT;
BEGIN
    PERFORM set_config('accord.annotator', p_annotator, true);
    -- 1. lock every record the command touches, in one global order: no deadlocks
    FOR tgt IN SELECT DISTINCT x FROM unnest(p_targets) x ORDER BY 1 LOOP
        ids := ARRAY(SELECT p_ids[k] FROM generate_subscripts(p_ids, 1) k
                     WHERE p_targets[k] = tgt);
        CASE tgt
            {nl.join(lock)}
        END CASE;
        locked := locked || jsonb_build_object(tgt, m);
    END LOOP;
    -- 2. revisions, in change order (the errors name the change: DETAIL = its index)
    FOR i IN 1..n LOOP
        CONTINUE WHEN NOT p_first[i];
        cur := locked -> p_targets[i] -> p_ids[i];
        IF p_ops[i] = 'create' THEN
            IF cur IS NOT NULL THEN
                RAISE EXCEPTION USING ERRCODE = '{_DUPLICATE}', MESSAGE = 'duplicate id',
                    DETAIL = i::TEXT;
            END IF;
        ELSIF cur IS NULL THEN
            RAISE EXCEPTION USING ERRCODE = '{_MISSING}', MESSAGE = 'no such record',
                DETAIL = i::TEXT;
        ELSIF p_expected[i] IS NULL OR cur::TEXT::BIGINT <> p_expected[i] THEN
            RAISE EXCEPTION USING ERRCODE = '{_STALE}', MESSAGE = 'stale revision',
                DETAIL = i::TEXT, HINT = cur::TEXT;
        END IF;
    END LOOP;
    -- 3. the changes, in order; a run of creates on one table is one INSERT
    i := 1;
    WHILE i <= n LOOP
        IF p_ops[i] = 'create' THEN
            j := i;
            WHILE j < n AND p_ops[j + 1] = 'create' AND p_targets[j + 1] = p_targets[i] LOOP
                j := j + 1;
            END LOOP;
            CASE p_targets[i]
                {nl.join(create)}
            END CASE;
            i := j + 1;
            CONTINUE;
        ELSIF p_ops[i] = 'update' THEN
            CASE p_targets[i]
                {nl.join(update)}
            END CASE;
        ELSE
            CASE p_targets[i]
                {nl.join(delete)}
            END CASE;
        END IF;
        i := i + 1;
    END LOOP;
    -- 4. the log, under the log lock: ids follow commit order (released after COMMIT)
    PERFORM pg_advisory_xact_lock({_LOCK_CLASS}, {_LOG_LOCK});
    INSERT INTO commands (ts, annotator, type, kind, undoes)
    VALUES (p_ts, p_annotator, p_type, p_kind, p_undoes) RETURNING id INTO command_id;
    WITH e AS (
        INSERT INTO events (command, ts, annotator, target, record_id, item, op, before, after)
        SELECT command_id, p_ts, p_annotator, u.t, u.r, u.it, u.o, u.b::json, u.a::json
        FROM unnest(p_targets, p_ids, p_items, p_ops, p_befores, p_afters)
            WITH ORDINALITY AS u(t, r, it, o, b, a, k)
        ORDER BY u.k
        RETURNING seq
    )
    SELECT min(seq) INTO first_seq FROM e;
    PERFORM pg_notify('{CHANNEL}', '');
END $$"""


_LOG_STATEMENTS = _statements(_LOG_DDL)
_RULE_STATEMENTS = [*_statements(_RULES_DDL), *_trigger_ddl(), _commit_function()]
_DDL_HASH = hashlib.sha256(
    "\n;\n".join(
        [
            *_LOG_STATEMENTS,
            *(st for spec in TABLES.values() for st in _table_ddl(spec)),
            *_RULE_STATEMENTS,
        ]
    ).encode()
).hexdigest()[:16]

_SELECT_SQL = {s.name: f"SELECT {', '.join(s.column_names)} FROM {s.name}" for s in TABLES.values()}
_COMMIT_SQL = (
    "SELECT command_id, first_seq FROM accord_commit(%s, %s, %s, %s, %s, "
    "%b::text[], %b::text[], %b::text[], %b::boolean[], %b::bigint[], "
    "%b::text[], %b::text[], %b::text[])"
)


def _as_revision(value: Any) -> int | None:
    """A revision as accord_commit takes it (None never matches, as in SQLite)."""
    if isinstance(value, int):  # bool too: True == 1, as SQLite compares
        return value if -(2**63) <= value < 2**63 else None
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return None


def _stale(ch: Change, current: Any) -> ConflictError:
    return ConflictError(
        f"{ch.target} {ch.id}.revision",
        f"revision {current} (the latest)",
        (ch.before or {}).get("revision"),
        detail="it was changed since this edit was made; reload and retry",
    )


_EVENT_COLS = "seq, command, ts, annotator, target, record_id, op, before, after"
_COMMAND_COLS = "id, ts, annotator, type, kind, undoes"
_ABSENT = object()


class PostgresStore(Store):
    """A :class:`Store` in a PostgreSQL database, shared by a team (see the module docs).

    >>> st = PostgresStore("postgresql://ana@db.lab/pilot")  # doctest: +SKIP

    One connection per store, used under a lock (a Session and its widgets may call
    from several threads); it is re-opened if it was lost. Reads are autocommit
    statements; each commit is one transaction.
    """

    def __init__(self, dsn: str, *, connect_timeout: float = 10.0) -> None:
        self.dsn = dsn
        self.location = redact_dsn(dsn)
        self._connect_timeout = connect_timeout
        self._lock = threading.RLock()
        self._wait_lock = threading.Lock()
        self._listener: psycopg.Connection[Any] | None = None
        self._db: psycopg.Connection[Any] | None = None
        self._db = self._connect()
        try:
            self._init_schema()
        except BaseException:
            self.close()
            raise

    def __repr__(self) -> str:
        return f"PostgresStore({self.location!r})"

    # -- connection ---------------------------------------------------------------------
    def _connect(self) -> psycopg.Connection[Any]:
        try:
            conn = psycopg.connect(
                self.dsn,
                autocommit=True,
                connect_timeout=max(1, round(self._connect_timeout)),
                application_name="accord",
            )
            # never wait forever on a row another client holds, and never let a client
            # that died inside a transaction keep its locks
            conn.execute(
                f"SET lock_timeout = '{LOCK_TIMEOUT_S}s'; "
                "SET idle_in_transaction_session_timeout = '60s'"
            )
            return conn
        except psycopg.Error as exc:
            raise StoreError(
                self.location, "a reachable PostgreSQL database", detail=str(exc).strip()
            ) from exc

    def _conn(self) -> psycopg.Connection[Any]:
        db = self._db
        if db is None:
            raise StoreError(self.location, "an open store", "a closed one")
        if db.closed or db.broken:  # the server restarted or the network dropped
            db = self._db = self._connect()
        return db

    def _query(self, sql: str, params: Sequence[Any] | None = None) -> list[tuple[Any, ...]]:
        """A read (autocommit); retried once on a fresh connection if the old one was lost."""
        with self._lock:
            for attempt in (1, 2):
                db = self._conn()
                try:
                    return db.execute(sql, params).fetchall()
                except psycopg.OperationalError as exc:
                    if attempt == 2 or not db.broken:
                        raise self._translate(exc) from exc
                except psycopg.Error as exc:
                    raise self._translate(exc) from exc
        raise AssertionError("unreachable")

    # -- schema -------------------------------------------------------------------------
    def _init_schema(self) -> None:
        with self._lock:
            db = self._conn()
            try:
                if self._schema_current(db):
                    self._check_version(db)
                    return
                with db.transaction():
                    db.execute("SELECT pg_advisory_xact_lock(%s, %s)", (_LOCK_CLASS, _INIT_LOCK))
                    self._check_version(db)
                    if self._schema_current(db):
                        return  # another process set it up meanwhile
                    self._check_not_foreign(db)
                    for statement in _LOG_STATEMENTS:
                        db.execute(statement)
                    for spec in TABLES.values():
                        for statement in _table_ddl(spec):
                            db.execute(statement)
                        self._add_missing_columns(db, spec)
                    for statement in _RULE_STATEMENTS:
                        db.execute(statement)
                    db.execute(
                        "INSERT INTO accord_schema VALUES ('version', %s), ('rules', %s), "
                        "('ddl', %s) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                        (str(SCHEMA_VERSION), str(RULES_VERSION), _DDL_HASH),
                    )
            except psycopg.Error as exc:
                raise StoreError(
                    self.location, "an accord store (or an empty database)", detail=str(exc)
                ) from exc

    def _schema_current(self, db: psycopg.Connection[Any]) -> bool:
        """Tables and rules are in place (ours, or newer rules from a newer accord)."""
        if self._schema_value(db, "ddl") == _DDL_HASH:
            return True
        return int(self._schema_value(db, "rules") or 0) > RULES_VERSION

    @staticmethod
    def _schema_value(db: psycopg.Connection[Any], key: str) -> str | None:
        row = db.execute("SELECT to_regclass('accord_schema')").fetchone()
        if row is None or row[0] is None:
            return None
        row = db.execute("SELECT value FROM accord_schema WHERE key = %s", (key,)).fetchone()
        return None if row is None else str(row[0])

    def _check_version(self, db: psycopg.Connection[Any]) -> None:
        version = self._schema_value(db, "version")
        if version is not None and int(version) > SCHEMA_VERSION:
            raise StoreError(
                self.location,
                f"a store of schema version ≤ {SCHEMA_VERSION}",
                int(version),
                detail="written by a newer accord; upgrade accord",
            )

    def _check_not_foreign(self, db: psycopg.Connection[Any]) -> None:
        """Refuse a database whose tables of our names belong to another application."""
        row = db.execute("SELECT to_regclass('accord_schema')").fetchone()
        if row is not None and row[0] is not None:
            return
        ours = ["commands", "events", "members", *(spec.name for spec in TABLES.values())]
        clash = db.execute(
            "SELECT relname FROM pg_class WHERE relkind IN ('r', 'p', 'v', 'm') "
            "AND relname = ANY(%s) AND pg_table_is_visible(oid) ORDER BY relname",
            (ours,),
        ).fetchall()
        if clash:
            raise StoreError(
                self.location,
                "an accord store or a database without tables of its names",
                [r[0] for r in clash],
                detail="these belong to another application; use another database or "
                "schema (e.g. ?options=-csearch_path%3Dmyschema)",
            )

    @staticmethod
    def _add_missing_columns(db: psycopg.Connection[Any], spec: TableSpec) -> None:
        """Columns added to the schema since a store was created (nullable, so old rows fit)."""
        have = {
            r[0]
            for r in db.execute(
                "SELECT column_name FROM information_schema.columns "
                "WHERE table_name = %s AND table_schema = current_schema()",
                (spec.name,),
            )
        }
        for column, sql_type in spec.columns:
            if column not in have:
                pg = _pg_type(sql_type, column in spec.json_columns)
                nullable = pg.replace("NOT NULL", "").replace("PRIMARY KEY", "").strip()
                db.execute(f"ALTER TABLE {spec.name} ADD COLUMN {column} {nullable}")

    # -- helpers ------------------------------------------------------------------------
    @staticmethod
    def _spec(target: str) -> TableSpec:
        if target not in TABLES:
            raise StoreError("target", f"one of {list(TARGETS)}", target)
        return TABLES[target]

    @staticmethod
    def _from_row(spec: TableSpec, row: Sequence[Any]) -> dict[str, Any]:
        # psycopg decodes json columns with json.loads, as the SQLite store does
        return dict(zip(spec.column_names, row, strict=True))

    def _translate(self, exc: psycopg.Error, changes: Sequence[Change] = ()) -> Exception:
        """A psycopg error as the AccordError the SQLite store would raise."""
        diag = exc.diag
        if exc.sqlstate in (_MISSING, _STALE, _DUPLICATE) and changes:
            ch = changes[int(diag.message_detail or 1) - 1]
            if exc.sqlstate == _MISSING:
                return NotFoundError(f"{ch.target} {ch.id}", f"an existing {ch.target}", ch.id)
            if exc.sqlstate == _STALE:
                return _stale(ch, int(diag.message_hint or 0))
            return ConflictError(
                f"{ch.target} {ch.id}",
                "an id not used yet",
                ch.id,
                detail="a record with this id exists",
            )
        if exc.sqlstate == _DENIED:
            return PermissionDeniedError(
                diag.message_primary or "store", diag.message_detail, diag.message_hint
            )
        if isinstance(exc, psycopg.errors.UniqueViolation):
            target = next(
                (t for t, s in TABLES.items() if s.name == diag.table_name), diag.table_name
            )
            rec_id = (diag.message_detail or "").partition("=(")[2].rpartition(") already")[0]
            return ConflictError(
                f"{target} {rec_id}",
                "an id not used yet",
                rec_id,
                detail="created concurrently by someone else",
            )
        if isinstance(exc, psycopg.errors.LockNotAvailable):
            return StoreError(
                self.location,
                f"the records this command touches free within {LOCK_TIMEOUT_S} s",
                detail="another client holds them; nothing was written, retry",
            )
        if isinstance(exc, psycopg.errors.DeadlockDetected | psycopg.errors.SerializationFailure):
            return ConflictError(
                "commit", "no concurrent conflicting command", exc.sqlstate, detail=str(exc)
            )
        if isinstance(exc, psycopg.OperationalError):
            return StoreError(
                self.location,
                "a working connection to PostgreSQL",
                detail=f"{str(exc).strip()} (if this was a commit, check whether it landed)",
            )
        return StoreError(self.location, "a command the database accepts", detail=str(exc).strip())

    # -- writing ------------------------------------------------------------------------
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
        changes = list(changes)
        arrays = self._prepare(changes)
        params = (annotator, type, kind, undoes, ts, *arrays)
        with self._lock:
            for attempt in (1, 2):
                db = self._conn()
                try:
                    row = db.execute(_COMMIT_SQL, params).fetchone()
                    break
                except psycopg.OperationalError as exc:
                    # the connection was lost (e.g. the server restarted while the kernel
                    # sat idle): retry once on a new one. No edit is applied twice: had
                    # the first attempt committed, the revision checks refuse the retry
                    # (only a command without changes, an undo "skip", could repeat).
                    if attempt == 2 or not db.broken:
                        raise self._translate(exc, changes) from exc
                except psycopg.Error as exc:
                    raise self._translate(exc, changes) from exc
        assert row is not None
        command_id, first = int(row[0]), int(row[1] or 0)
        events = tuple(
            Event(
                first + i, command_id, ts, annotator, ch.target, ch.id, ch.op, ch.before, ch.after
            )
            for i, ch in enumerate(changes)
        )
        return CommandRecord(command_id, ts, annotator, type, kind, undoes, events)

    @classmethod
    def _prepare(cls, changes: list[Change]) -> tuple[list[Any], ...]:
        """The arrays accord_commit takes; checks what needs no database.

        Malformed changes raise ``StoreError``; a record touched twice in one command
        is checked here against the state its earlier change leaves, exactly as the
        SQLite store does, so the server only checks first touches.
        """
        targets, ids, ops, first, expected, items, befores, afters = ([] for _ in range(8))
        state: dict[tuple[str, str], Any] = {}  # records touched earlier in this command
        for ch in changes:
            cls._spec(ch.target)
            if ch.op not in ("create", "update", "delete"):
                raise StoreError("change.op", "create, update or delete", ch.op)
            if ch.op != "delete" and ch.after is None:
                what = "a record to create" if ch.op == "create" else "a new state to update to"
                raise StoreError(f"{ch.target} {ch.id}", what, None)
            key = (ch.target, ch.id)
            rev = (ch.before or {}).get("revision")
            is_first = key not in state
            if not is_first:
                cls._check_again(ch, state[key], rev)
            state[key] = _ABSENT if ch.op == "delete" else (ch.after or {}).get("revision")
            rec = ch.after or ch.before or {}
            item = ch.id if ch.target == "item" else rec.get("item")
            targets.append(ch.target)
            ids.append(ch.id)
            ops.append(ch.op)
            first.append(is_first)
            expected.append(_as_revision(rev))
            items.append(None if item is None else str(item))
            befores.append(None if ch.before is None else _dumps(ch.before))
            afters.append(None if ch.after is None else _dumps(ch.after))
        return targets, ids, ops, first, expected, items, befores, afters

    @staticmethod
    def _check_again(ch: Change, current: Any, expected: Any) -> None:
        """The SQLite store's check of a record this command already changed."""
        if ch.op == "create":
            if current is not _ABSENT:
                raise ConflictError(
                    f"{ch.target} {ch.id}",
                    "an id not used yet",
                    ch.id,
                    detail="a record with this id exists",
                )
            return
        if current is _ABSENT:
            raise NotFoundError(f"{ch.target} {ch.id}", f"an existing {ch.target}", ch.id)
        if expected is None or current != expected:
            raise _stale(ch, current)

    # -- reading ------------------------------------------------------------------------
    def get(self, target: str, id: str) -> dict[str, Any] | None:
        spec = self._spec(target)
        rows = self._query(f"{_SELECT_SQL[spec.name]} WHERE id = %s", (id,))
        return self._from_row(spec, rows[0]) if rows else None

    def get_many(self, target: str, ids: Sequence[str]) -> dict[str, dict[str, Any]]:
        spec = self._spec(target)
        ids = list(ids)
        if not ids:
            return {}
        rows = self._query(f"{_SELECT_SQL[spec.name]} WHERE id = ANY(%s)", (ids,))
        return {row[0]: self._from_row(spec, row) for row in rows}

    def _where(self, spec: TableSpec, where: dict[str, Any]) -> tuple[str, list[Any]]:
        clauses, params = [], []
        for k, v in where.items():
            if k not in spec.column_names:
                raise StoreError("filter", f"a column of {spec.name} {list(spec.column_names)}", k)
            if v is None:
                clauses.append(f"{k} IS NULL")
            elif k in spec.json_columns:  # as in SQLite: compared as stored text
                clauses.append(f"{k}::text = %s")
                params.append(v)
            else:
                clauses.append(f"{k} = %s")
                params.append(v)
        return (" WHERE " + " AND ".join(clauses) if clauses else ""), params

    def records(self, target: str, /, **where: Any) -> list[dict[str, Any]]:
        spec = self._spec(target)
        clause, params = self._where(spec, where)
        rows = self._query(f"{_SELECT_SQL[spec.name]}{clause} ORDER BY _ord", params)
        return [self._from_row(spec, r) for r in rows]

    def frame(self, target: str, /, **where: Any) -> pd.DataFrame:
        spec = self._spec(target)
        clause, params = self._where(spec, where)
        rows = self._query(f"{_SELECT_SQL[spec.name]}{clause} ORDER BY _ord", params)
        df = pd.DataFrame.from_records(rows, columns=list(spec.column_names))
        for c in spec.json_columns:  # decoded already; keep the SQLite store's dtype
            df[c] = list(df[c]) if len(df) else pd.Series([], dtype=object)
        return df

    def count(self, target: str) -> int:
        spec = self._spec(target)
        return int(self._query(f"SELECT count(*) FROM {spec.name}")[0][0])

    @staticmethod
    def _events_from_rows(rows: list[tuple[Any, ...]]) -> list[Event]:
        return [Event(*row) for row in rows]

    def command(self, command_id: int) -> CommandRecord:
        with self._lock:
            head = self._query(f"SELECT {_COMMAND_COLS} FROM commands WHERE id = %s", (command_id,))
            if not head:
                raise NotFoundError("command", "an existing command id", command_id)
            rows = self._query(
                f"SELECT {_EVENT_COLS} FROM events WHERE command = %s ORDER BY seq", (command_id,)
            )
        return CommandRecord(*head[0], events=tuple(self._events_from_rows(rows)))

    def commands_of(self, annotator: str) -> list[CommandRecord]:
        rows = self._query(
            f"SELECT {_COMMAND_COLS} FROM commands WHERE annotator = %s ORDER BY id",
            (annotator,),
        )
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
            _EVENT_COLS, "%s", target=target, id=id, since=since, item=item, limit=limit
        )
        return self._events_from_rows(self._query(sql, params))

    def last_seq(self) -> int:
        """The newest event's seq. Safe as a cursor: no event with a lower seq can still
        become visible (ids are assigned in commit order; see the module docstring)."""
        return int(self._query("SELECT coalesce(max(seq), 0) FROM events")[0][0])

    def wait_for_change(self, since: int, timeout: float = 30.0) -> int:
        """Block until the log has an event after ``since`` (or ``timeout`` s); return last_seq.

        Uses LISTEN/NOTIFY on a second connection, so a background thread can wake a
        Session (``poll()``) as soon as someone else commits, without busy polling. The
        store's main lock is not held while waiting.
        """
        deadline = time.monotonic() + timeout
        with self._wait_lock:
            listener = self._listener
            if listener is None or listener.closed or listener.broken:
                listener = self._listener = self._connect()
            try:
                listener.execute(f"LISTEN {CHANNEL}")
                try:
                    while True:
                        seq = self.last_seq()  # after LISTEN: later commits also notify
                        left = deadline - time.monotonic()
                        if seq > since or left <= 0:
                            return seq
                        for _ in listener.notifies(timeout=left, stop_after=1):
                            pass
                finally:
                    if not listener.broken:
                        listener.execute(f"UNLISTEN {CHANNEL}")
            except psycopg.Error as exc:
                raise self._translate(exc) from exc

    # -- members and roles -------------------------------------------------------------
    def role_of(self, annotator: str) -> str:
        """The annotator's role in ``members`` (``annotator`` if not listed)."""
        return str(self._query("SELECT accord_role(%s)", (annotator,))[0][0])

    def members(self) -> dict[str, str]:
        """Listed annotators and their roles."""
        return dict(self._query("SELECT annotator, role FROM members ORDER BY annotator"))

    def set_role(self, annotator: str, role: str, *, by: str | None = None) -> None:
        """Give ``annotator`` a role; ``by`` must be an admin (checked by the database).

        On a store without an admin the first admin may be set by anyone (``by``
        defaults to ``annotator`` itself). The last admin cannot be demoted.
        """
        if role not in ROLES:
            raise ValidationError("role", f"one of {list(ROLES)}", role)
        if not isinstance(annotator, str) or not annotator.strip():
            raise ValidationError("annotator", "a non-empty name", annotator)
        actor = by or annotator
        with self._lock:
            db = self._conn()
            try:
                with db.transaction():
                    db.execute("SELECT set_config('accord.annotator', %s, true)", (actor,))
                    db.execute(
                        "INSERT INTO members (annotator, role, updated_by, updated_at) "
                        "VALUES (%s, %s, %s, %s) ON CONFLICT (annotator) DO UPDATE SET "
                        "role = excluded.role, updated_by = excluded.updated_by, "
                        "updated_at = excluded.updated_at",
                        (annotator, role, actor, time.time()),
                    )
            except psycopg.Error as exc:
                raise self._translate(exc) from exc

    # -- upkeep -------------------------------------------------------------------------
    def check_integrity(self) -> list[str]:
        """Problems that would weaken the store's guarantees (empty = fine)."""
        problems = []
        guarded = dict(
            self._query(
                "SELECT c.relname, p.proname FROM pg_trigger t "
                "JOIN pg_class c ON c.oid = t.tgrelid JOIN pg_proc p ON p.oid = t.tgfoid "
                "WHERE t.tgname = 'accord_guard' AND t.tgenabled <> 'D' "
                "AND pg_table_is_visible(c.oid)"
            )
        )
        for table, fn in _GUARDS.items():
            if guarded.get(table) != fn:
                problems.append(f"{table}: role trigger {fn} missing or disabled")
        orphans = self._query(
            "SELECT count(*) FROM events e LEFT JOIN commands c ON c.id = e.command "
            "WHERE c.id IS NULL"
        )[0][0]
        if orphans:
            problems.append(f"events: {orphans} without their command")
        return problems

    def close(self) -> None:
        with self._lock:
            for conn in (self._listener, self._db):
                if conn is not None and not conn.closed:
                    conn.close()
            self._listener = None
            self._db = None
