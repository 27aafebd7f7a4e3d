"""The Session: the single source of truth for one project.

Commands go in (:meth:`Session.apply`), are validated against the taxonomy
and the item, committed to the store as one transaction, and come out as
events to every observer (the widgets bound to that item). Pandas views
(:attr:`Session.annotations`, ...) always reflect the store.
"""

from __future__ import annotations

import logging
import os
import threading
import time
import uuid
from collections.abc import Callable, Iterable, Mapping
from contextlib import suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from accord import commands as cmds
from accord.errors import (
    AccordError,
    CommandError,
    ConflictError,
    NotFoundError,
    NothingToRedoError,
    NothingToUndoError,
    PermissionDeniedError,
    TaxonomyError,
    ValidationError,
)
from accord.model.annotation import Annotation, Entity, Link
from accord.model.calibration import Calibration
from accord.model.clock import Clock
from accord.model.geometry import Geometry
from accord.model.item import Item, Stream, check_id
from accord.model.taxonomy import Taxonomy
from accord.store import Change, CommandRecord, Event, Store, open_store

__all__ = ["ROLES", "Result", "Session"]

log = logging.getLogger(__name__)

#: Roles, from least to most privileged.
ROLES: tuple[str, ...] = ("annotator", "reviewer", "admin")

Observer = Callable[["Result"], None]


@dataclass(frozen=True)
class Result:
    """What a command did: its record in the log and the ids it touched."""

    command: CommandRecord
    ids: tuple[str, ...]
    uuid: str | None = None

    @property
    def events(self) -> tuple[Event, ...]:
        return self.command.events

    @property
    def id(self) -> str | None:
        """The first id the command created or touched (convenience)."""
        return self.ids[0] if self.ids else None

    @property
    def items(self) -> set[str]:
        return {i for e in self.events if (i := e.item) is not None}

    def to_dict(self) -> dict[str, Any]:
        return {
            "command": self.command.id,
            "type": self.command.type,
            "kind": self.command.kind,
            "ids": list(self.ids),
            "events": [e.to_dict() for e in self.events],
        }


@dataclass
class _Subscription:
    fn: Observer
    item: str | None
    active: bool = field(default=True)


class Session:
    """A labeling session over one store, for one annotator.

    >>> s = Session("pilot.accord", taxonomy=tax, annotator="ana")  # doctest: +SKIP

    ``path`` is a SQLite file (created if missing) or an open :class:`Store`.
    ``taxonomy`` may be a :class:`Taxonomy`, a path to YAML/JSON, or ``None``
    to use the newest version stored. ``stage`` 1 labels each modality on its
    own; stage 2 reconciles across modalities.
    """

    def __init__(
        self,
        path: str | os.PathLike[str] | Store,
        taxonomy: Taxonomy | str | os.PathLike[str] | None = None,
        annotator: str | None = None,
        *,
        role: str | None = None,
        stage: int = 1,
    ) -> None:
        annotator = (
            annotator or os.environ.get("ACCORD_ANNOTATOR") or os.environ.get("USER") or "anonymous"
        )
        if not isinstance(annotator, str) or not annotator.strip():
            raise ValidationError("annotator", "a non-empty name", annotator)
        if role is not None and role not in ROLES:
            raise ValidationError("role", f"one of {list(ROLES)}", role)
        if stage not in (1, 2):
            raise ValidationError("stage", "1 (per modality) or 2 (cross-modal)", stage)
        if isinstance(taxonomy, str | os.PathLike):
            taxonomy = Taxonomy.load(taxonomy)
        self.annotator = annotator
        self.stage = stage
        self.store = open_store(path)
        self.role = self._role_for(annotator, role)
        self._lock = threading.RLock()
        self._subs: list[_Subscription] = []
        self._items: dict[str, Item] | None = None
        self._cache: dict[str, tuple[Any, pd.DataFrame]] = {}
        self._commits = 0
        self._seen_seq = self.store.last_seq()
        self._own_commands: set[int] = set()
        self._follower: threading.Thread | None = None
        self._follow_stop = threading.Event()
        self._fresh = False
        self._stacks: tuple[list[int], list[int]] | None = None
        self._view_seq = -1
        self._items_seq = -1
        self.taxonomy = self._resolve_taxonomy(taxonomy)

    def _role_for(self, annotator: str, role: str | None) -> str:
        """The role: from the store when it keeps members (PostgreSQL), else as given."""
        role_of = getattr(self.store, "role_of", None)
        if role_of is None:
            return role or "annotator"
        stored = role_of(annotator)
        if role is not None and role != stored:
            raise PermissionDeniedError(
                "Session(role=...)",
                f"the role the store gives {annotator!r} ({stored!r}); an admin changes it",
                role,
            )
        return stored

    # -- lifecycle -------------------------------------------------------------
    def close(self) -> None:
        """Close the store; the Session cannot be used afterwards."""
        self.unfollow()
        self.store.close()

    def __enter__(self) -> Session:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return (
            f"Session({self.store.location!r}, annotator={self.annotator!r}, role={self.role!r}, "
            f"taxonomy={self.taxonomy.name!r} v{self.taxonomy.version}, "
            f"items={len(self.items_by_id)}, annotations={self.store.count('annotation')})"
        )

    # -- taxonomy ----------------------------------------------------------------
    def _stored_taxonomies(self) -> dict[int, Taxonomy]:
        return {
            int(r["version"]): Taxonomy.from_dict(r["data"], f"stored taxonomy v{r['version']}")
            for r in self.store.records("taxonomy")
        }

    def _resolve_taxonomy(self, taxonomy: Taxonomy | None) -> Taxonomy:
        stored = self._stored_taxonomies()
        latest = stored[max(stored)] if stored else None
        if taxonomy is None:
            if latest is None:
                raise TaxonomyError(
                    "Session(taxonomy=...)",
                    f"a taxonomy: the store {self.store.location!r} has none yet",
                    None,
                )
            return latest
        if taxonomy.version in stored:
            if stored[taxonomy.version].to_dict() != taxonomy.to_dict():
                raise TaxonomyError(
                    "taxonomy.version",
                    f"a new version number: v{taxonomy.version} is stored with different content "
                    f"(use taxonomy.with_version() to bump it)",
                    taxonomy.version,
                )
            return taxonomy
        if latest is not None and taxonomy.version < latest.version:
            raise TaxonomyError(
                "taxonomy.version", f"a version ≥ the stored v{latest.version}", taxonomy.version
            )
        self._commit(
            "taxonomy.set", "admin", *cmds.set_taxonomy(self, {"taxonomy": taxonomy.to_dict()})
        )
        return taxonomy

    def set_taxonomy(self, taxonomy: Taxonomy) -> Taxonomy:
        """Adopt a newer taxonomy version (stored; old annotations keep theirs)."""
        self.taxonomy = self._resolve_taxonomy(taxonomy)
        self._invalidate()
        return self.taxonomy

    def taxonomy_versions(self) -> dict[int, Taxonomy]:
        """Every taxonomy version stored, by version number."""
        return self._stored_taxonomies()

    # -- items and streams ---------------------------------------------------------
    @property
    def items_by_id(self) -> dict[str, Item]:
        """Items (with their streams and calibrations), by id."""
        with self._lock:
            if not self._fresh:  # within a command, items were refreshed when it began
                self._refresh_items()
            if self._items is None:
                self._items = self._load_items()
            return self._items

    def _load_items(self) -> dict[str, Item]:
        streams: dict[str, dict[str, Stream]] = {}
        for r in self.store.records("stream"):
            st = Stream.from_dict(r["data"])
            streams.setdefault(st.item, {})[st.name] = st
        out = {}
        for r in self.store.records("item"):
            cals = {
                name: Calibration.from_dict(c, f"item {r['id']}.calibrations.{name}")
                for name, c in (r["calibrations"] or {}).items()
            }
            out[r["id"]] = Item(r["id"], streams.get(r["id"], {}), cals, r["meta"] or {})
        return out

    def item(self, item_id: str) -> Item:
        """The item ``item_id`` or :class:`NotFoundError`."""
        items = self.items_by_id
        if item_id not in items:
            shown = sorted(items)[:10]
            raise NotFoundError(
                "item", f"an item id of this session ({shown or 'none yet'})", item_id
            )
        return items[item_id]

    def stream(self, item_id: str, stream: str) -> Stream:
        return self.item(item_id).stream(stream)

    def add_item(
        self,
        item_id: str,
        *,
        video: Any = None,
        audio: Any = None,
        transcript: Any = None,
        text: Any = None,
        image: Any = None,
        lidar: Any = None,
        calibration: Any = None,
        clocks: Mapping[str, Clock | Mapping[str, float]] | None = None,
        meta: Mapping[str, Any] | None = None,
        **unknown: Any,
    ) -> Item:
        """Add an item from media paths, probing each file.

        Each media keyword takes a path, or a ``{stream_name: path}`` mapping
        for several streams of one modality; a path may also be a mapping
        with ``path`` and options (``timestamps`` for LiDAR sweeps, ``sensor``).
        ``calibration`` is a KITTI ``calib.txt``, accord calibration JSON, or
        sensors as ``{name: Calibration or dict}`` (see ``docs/calibration.md``).
        ``clocks`` sets per-stream clocks (``{"audio": Clock(0.2, 1.0001)}``).
        """
        from accord.media.ingest import build_streams

        check_id(item_id, "add_item(item_id)")
        if item_id in self.items_by_id:
            raise ValidationError("add_item(item_id)", "an id not used by another item", item_id)
        streams, calibrations = build_streams(
            item_id,
            video=video,
            audio=audio,
            transcript=transcript,
            text=text,
            image=image,
            lidar=lidar,
            calibration=calibration,
            clocks=clocks or {},
            **unknown,  # refused by name in build_streams
        )
        item_rec = {
            "id": item_id,
            "meta": dict(meta or {}),
            "calibrations": {k: c.to_dict() for k, c in calibrations.items()},
        }
        self.apply(
            {"type": "item.add", "item": item_rec, "streams": [s.to_dict() for s in streams]}
        )
        return self.item(item_id)

    def set_clock(
        self,
        item: str,
        stream: str,
        offset: float | None = None,
        rate: float | None = None,
        *,
        drift_ppm: float | None = None,
    ) -> Clock:
        """Change a stream's clock (versioned through the event log; undoable)."""
        payload: dict[str, Any] = {"type": "stream.clock", "item": item, "stream": stream}
        if offset is not None:
            payload["offset"] = offset
        if rate is not None:
            payload["rate"] = rate
        if drift_ppm is not None:
            payload["drift_ppm"] = drift_ppm
        self.apply(payload)
        return self.stream(item, stream).clock

    def estimate_sync(self, item: str | None = None, **options: Any) -> pd.DataFrame:
        """Each audio/video stream's clock as its signals suggest, next to the stored one.

        One row per stream that is not its item's reference: stored and
        estimated offset and rate, the correction, errors and confidence. See
        :func:`accord.qa.sync.estimate_sync` (``reference=``, tolerances).
        """
        from accord.qa.sync import estimate_sync

        return estimate_sync(self, item, **options)

    def apply_sync(
        self,
        item: str,
        stream: str,
        reference: str | None = None,
        *,
        min_confidence: float = 0.5,
    ) -> Clock:
        """Set ``stream``'s clock to its estimate: one ``set_clock`` (undoable).

        Refuses (``ValidationError``, nothing stored) when the estimate's
        confidence is below ``min_confidence``.
        """
        from accord.qa.sync import estimate_clock

        est = estimate_clock(self, item, stream, reference)
        if not est.confidence >= min_confidence:
            raise ValidationError(
                f"apply_sync({item!r}, {stream!r})",
                f"an estimate with confidence >= {min_confidence}",
                round(est.confidence, 3),
            )
        return self.set_clock(item, stream, est.offset, est.rate)

    # -- commands ----------------------------------------------------------------
    def apply(self, command: Mapping[str, Any]) -> Result:
        """Validate and commit one command; notify observers; return what it did.

        Raises an :class:`~accord.errors.AccordError` (and changes nothing)
        when the command is refused.
        """
        if not isinstance(command, Mapping):
            raise CommandError("command", "a mapping with a 'type'", command)
        ctype = command.get("type")
        with self._lock:
            if ctype == "undo":
                return self.undo()
            if ctype == "redo":
                return self.redo()
            handler = cmds.COMMANDS.get(ctype) if isinstance(ctype, str) else None
            if handler is None:
                raise CommandError(
                    "command.type", f"one of {sorted([*cmds.COMMANDS, 'undo', 'redo'])}", ctype
                )
            self._refresh_items()
            self._check_role(ctype)
            self._fresh = True
            try:
                changes, ids = handler(self, command)
            finally:
                self._fresh = False
            kind = "do" if ctype in cmds.UNDOABLE else "admin"
            return self._commit(ctype, kind, changes, ids, uuid=command.get("uuid"))

    def _commit(
        self,
        ctype: str,
        kind: str,
        changes: list[Change],
        ids: list[str],
        *,
        undoes: int | None = None,
        uuid: str | None = None,
    ) -> Result:
        record = self.store.commit(
            annotator=self.annotator, type=ctype, kind=kind, changes=changes, undoes=undoes
        )
        self._commits += 1
        self._own_commands.add(record.id)  # poll() skips them; others' before them still count
        stacks = self._stacks
        if stacks is not None:
            undo, redo = stacks
            if kind == "do":
                undo.append(record.id)
                redo.clear()
            elif kind == "undo":
                undo.pop()
                redo.append(record.id)
            elif kind == "redo":
                redo.pop()
                undo.append(record.id)
        result = Result(record, tuple(ids), uuid)
        self._notify(result)
        return result

    def handle_message(self, message: Mapping[str, Any]) -> dict[str, Any]:
        """Apply a command message from a widget and build its reply.

        The reply carries the same ``uuid``; a refused command yields
        ``{"ok": False, "error": {...}}`` instead of raising.
        """
        reply: dict[str, Any] = {"type": "reply", "uuid": message.get("uuid")}
        try:
            result = self.apply(message)
        except AccordError as exc:
            reply.update(ok=False, error=exc.to_dict())
        except Exception as exc:  # a bug: report it to the page rather than hang it
            log.exception("command %r failed", message.get("type"))
            reply.update(
                ok=False,
                error={
                    "error": type(exc).__name__,
                    "message": str(exc),
                    "where": "command",
                    "expected": None,
                },
            )
        else:
            reply.update(ok=True, result={"command": result.command.id, "ids": list(result.ids)})
        return reply

    # -- roles ---------------------------------------------------------------------
    def _check_role(self, ctype: str) -> None:
        """Hook for role rules per command type (record ownership is checked in handlers)."""

    def check_can_edit(self, record: Mapping[str, Any], what: str) -> None:
        """Annotators edit their own records; reviewers and admins anyone's.

        Approved annotations are changed by admins only (see :mod:`accord.review`).
        """
        owner = record.get("annotator")
        if what == "annotation" and record.get("status") == "approved" and self.role != "admin":
            raise PermissionDeniedError(
                f"{what} {record.get('id')}",
                "the admin role to change an approved annotation",
                self.role,
            )
        if what == "annotation" and record.get("source") == "prediction":
            return  # predictions are suggestions: anyone may fix, accept or delete them
        if self.role == "annotator" and owner not in (None, self.annotator):
            raise PermissionDeniedError(
                f"{what} {record.get('id')}",
                f"your own {what} (it belongs to {owner!r}; a reviewer may change it)",
                self.annotator,
            )

    # -- undo / redo ---------------------------------------------------------------
    def _undo_stacks(self) -> tuple[list[int], list[int]]:
        if self._stacks is None:
            undo: list[int] = []
            redo: list[int] = []
            for c in self.store.commands_of(self.annotator):
                if c.kind == "do":
                    undo.append(c.id)
                    redo.clear()
                elif c.kind == "undo":
                    if undo and undo[-1] == c.undoes:
                        undo.pop()
                    redo.append(c.id)
                elif c.kind == "redo":
                    if redo and redo[-1] == c.undoes:
                        redo.pop()
                    undo.append(c.id)
                elif c.kind == "skip":  # an undo/redo refused by a conflict
                    for stack in (undo, redo):
                        if stack and stack[-1] == c.undoes:
                            stack.pop()
            self._stacks = (undo, redo)
        return self._stacks

    def _inverse(self, command_id: int) -> list[Change]:
        record = self.store.command(command_id)
        now = time.time()
        changes: list[Change] = []
        for e in reversed(record.events):
            current = self.store.get(e.target, e.id)
            if e.op == "create":
                assert e.after is not None
                self._check_unchanged(e, current)
                changes.append(Change(e.target, e.id, "delete", current, None))
            elif e.op == "update":
                assert e.after is not None and e.before is not None
                self._check_unchanged(e, current)
                assert current is not None
                after = {**e.before, "revision": current["revision"] + 1, "updated_at": now}
                changes.append(Change(e.target, e.id, "update", current, after))
            else:  # delete → re-create
                assert e.before is not None
                if current is not None:
                    raise ConflictError(
                        f"{e.target} {e.id}", "no record with this id", "it exists again"
                    )
                last = self.store.events(target=e.target, id=e.id)[-1]
                revision = int((last.before or {}).get("revision", e.before["revision"]))
                after = {**e.before, "revision": revision + 1, "updated_at": now}
                changes.append(Change(e.target, e.id, "create", None, after))
        return changes

    def _check_unchanged(self, e: Event, current: dict[str, Any] | None) -> None:
        """Refuse to undo ``e`` unless its record still holds what ``e`` left."""
        if current is None:
            raise ConflictError(f"{e.target} {e.id}", "the record to still exist", "deleted since")
        volatile = ("revision", "updated_at")
        left = {k: v for k, v in (e.after or {}).items() if k not in volatile}
        now = {k: v for k, v in current.items() if k not in volatile}
        if left != now:
            last = self.store.events(target=e.target, id=e.id)[-1]
            raise ConflictError(
                f"{e.target} {e.id}",
                "the state this command left",
                f"revision {current['revision']}",
                detail=f"changed since by {last.annotator}; cannot undo",
            )

    def undo(self) -> Result:
        """Undo this annotator's last command.

        If someone changed its records since, the undo is refused with a
        :class:`ConflictError` and that command is dropped from the undo
        history (recorded in the log), so the next ``undo()`` reaches the
        command before it.
        """
        return self._undo_or_redo("undo")

    def redo(self) -> Result:
        """Redo the command most recently undone by this annotator."""
        return self._undo_or_redo("redo")

    def _undo_or_redo(self, kind: str) -> Result:
        with self._lock:
            self._refresh_items()
            undo, redo = self._undo_stacks()
            stack = undo if kind == "undo" else redo
            if not stack:
                error = NothingToUndoError if kind == "undo" else NothingToRedoError
                raise error(kind, f"a command by {self.annotator!r} to {kind}", None)
            target = stack[-1]
            try:
                changes = self._inverse(target)
            except ConflictError:
                self.store.commit(
                    annotator=self.annotator,
                    type=f"{kind}.skip",
                    kind="skip",
                    changes=[],
                    undoes=target,
                )
                stack.pop()
                raise
            ids = list(dict.fromkeys(c.id for c in changes))
            return self._commit(kind, kind, changes, ids, undoes=target)

    @property
    def can_undo(self) -> bool:
        return bool(self._undo_stacks()[0])

    @property
    def can_redo(self) -> bool:
        return bool(self._undo_stacks()[1])

    # -- observers -----------------------------------------------------------------
    def observe(self, fn: Observer, item: str | None = None) -> Callable[[], None]:
        """Call ``fn(result)`` after every command (touching ``item``, if given).

        Returns a function that unsubscribes. An observer that raises is logged
        and does not undo the command.
        """
        sub = _Subscription(fn, item)
        self._subs.append(sub)

        def unsubscribe() -> None:
            sub.active = False
            with suppress(ValueError):
                self._subs.remove(sub)

        return unsubscribe

    def _notify(self, result: Result) -> None:
        items = result.items
        for sub in list(self._subs):
            if not sub.active or (sub.item is not None and sub.item not in items):
                continue
            try:
                sub.fn(result)
            except Exception:
                log.exception("observer %r failed", sub.fn)

    def follow(self, interval: float = 0.5) -> None:
        """Deliver other sessions' commits to this session's observers automatically.

        A background thread watches the store's newest event every ``interval``
        seconds and runs :meth:`poll` when it moved — on the kernel's event loop
        when there is one (so widgets update like after a local edit), else in
        the thread. Widgets call this when they are created. Idempotent;
        :meth:`unfollow` (or :meth:`close`) stops it.
        """
        if self._follower is not None and self._follower.is_alive():
            return
        loop = _kernel_loop()
        stop = threading.Event()

        def watch() -> None:
            while not stop.wait(interval):
                try:
                    moved = self.store.last_seq() > self._seen_seq
                except Exception:  # the store was closed or the server went away
                    return
                if not moved:
                    continue
                if loop is not None and loop.is_running():
                    loop.call_soon_threadsafe(self._poll_quietly)
                else:
                    self._poll_quietly()

        self._follow_stop = stop
        self._follower = threading.Thread(target=watch, name="accord-follow", daemon=True)
        self._follower.start()

    def unfollow(self) -> None:
        """Stop delivering other sessions' commits automatically."""
        if self._follower is not None:
            self._follow_stop.set()
            self._follower.join(timeout=5)
            self._follower = None

    def _poll_quietly(self) -> None:
        try:
            self.poll()
        except Exception:
            log.exception("accord: delivering other sessions' changes failed")

    def poll(self) -> list[Event]:
        """Pick up commits made by other sessions on the same store and notify observers."""
        with self._lock:
            new = self.store.events(since=self._seen_seq)
            if not new:
                return []
            self._seen_seq = new[-1].seq
            mine = self._own_commands
            passed = {e.command for e in new}
            new = [e for e in new if e.command not in mine]
            mine.difference_update(passed)  # own commands already read past: forget them
            by_command: dict[int, list[Event]] = {}
            for e in new:
                by_command.setdefault(e.command, []).append(e)
            for cid, events in by_command.items():
                rec = self.store.command(cid)  # the real type and kind, with its events
                self._notify(Result(rec, tuple(dict.fromkeys(e.id for e in events))))
            return new

    # -- convenience commands ------------------------------------------------------------
    def annotate(
        self,
        item: str,
        stream: str,
        label: str,
        geometry: Geometry | Mapping[str, Any] | Iterable[Any] | None = None,
        *,
        kind: str | None = None,
        frame: int | None = None,
        attributes: Mapping[str, Any] | None = None,
        track: str | None = None,
        entity: str | None = None,
        **extra: Any,
    ) -> str:
        """Add one annotation and return its id.

        Pass a geometry object (``Box(10, 20, 50, 40)``) or a value with
        ``kind=`` (``kind="box", geometry=[10, 20, 50, 40]``).
        """
        if isinstance(geometry, Geometry):
            kind = kind or geometry.kind
            geometry = geometry.to_dict()
        if kind is None:
            kind = "tag" if geometry is None else None
        if kind is None:
            raise CommandError("annotate(kind=...)", "a geometry kind for a plain value", geometry)
        payload = {
            "type": "annotation.add",
            "item": item,
            "stream": stream,
            "label": label,
            "kind": kind,
            "geometry": geometry,
            "frame": frame,
            "attributes": dict(attributes or {}),
            "track": track,
            "entity": entity,
            **extra,
        }
        result = self.apply(payload)
        assert result.id is not None
        return result.id

    def update(self, annotation_id: str, *, revision: int | None = None, **fields: Any) -> int:
        """Change fields of an annotation; returns its new revision."""
        if isinstance(fields.get("geometry"), Geometry):
            g = fields["geometry"]
            fields["kind"], fields["geometry"] = g.kind, g.to_dict()
        self.apply(
            {"type": "annotation.update", "id": annotation_id, "revision": revision, **fields}
        )
        rec = self.store.get("annotation", annotation_id)
        assert rec is not None
        return int(rec["revision"])

    def delete(self, annotation_id: str, *, revision: int | None = None) -> None:
        """Delete an annotation (and the links touching it)."""
        self.apply({"type": "annotation.delete", "id": annotation_id, "revision": revision})

    def link(self, source: str, target: str, type: str, **attributes: Any) -> str:
        """Link two annotations with a typed, directed link; returns its id."""
        r = self.apply(
            {
                "type": "link.add",
                "source": source,
                "target": target,
                "link_type": type,
                "attributes": attributes,
            }
        )
        assert r.id is not None
        return r.id

    def unlink(self, link_id: str) -> None:
        self.apply({"type": "link.delete", "id": link_id})

    def new_entity(
        self, members: Iterable[str] = (), *, label: str | None = None, name: str = ""
    ) -> str:
        """Create an entity grouping ``members`` (annotation ids); returns its id."""
        r = self.apply(
            {"type": "entity.add", "members": list(members), "label": label, "name": name}
        )
        assert r.id is not None
        return r.id

    def merge_entities(self, *entity_ids: str) -> str:
        """Merge entities into the first one; returns its id."""
        self.apply({"type": "entity.merge", "ids": list(entity_ids)})
        return entity_ids[0]

    def split_entity(
        self,
        entity_id: str,
        members: Iterable[str],
        *,
        label: str | None = None,
        name: str | None = None,
    ) -> str:
        """Move ``members`` of an entity into a new entity (one undoable command); its id.

        The new entity keeps the old one's label unless ``label`` is given.
        """
        cmd: dict[str, Any] = {"type": "entity.split", "id": entity_id, "members": list(members)}
        if label is not None:
            cmd["label"] = label
        if name is not None:
            cmd["name"] = name
        r = self.apply(cmd)
        assert r.id is not None
        return r.id

    def prelabel(
        self,
        fn: Callable[[Session, str], Iterable[Mapping[str, Any]]],
        items: Iterable[str] | None = None,
        *,
        model: str = "model",
    ) -> list[str]:
        """Store a model's suggestions as predictions, in one command.

        ``fn(session, item)`` returns annotation payloads for an item: mappings
        with ``stream``, ``label``, ``kind``, ``geometry`` (or a geometry object
        under ``geometry`` without ``kind``) and optionally ``frame``,
        ``attributes``, ``track`` and ``score`` (confidence in [0, 1]). They are
        stored with ``source="prediction"`` under the annotator ``model:<model>``
        and count for nobody's agreement until :meth:`accept` ed.
        """
        payloads: list[dict[str, Any]] = []
        for item_id in list(items) if items is not None else list(self.items_by_id):
            self.item(item_id)
            for k, raw in enumerate(fn(self, item_id)):
                if not isinstance(raw, Mapping):
                    raise ValidationError(f"prelabel({item_id!r})[{k}]", "a mapping", raw)
                p = dict(raw)
                if isinstance(p.get("geometry"), Geometry):
                    p["kind"], p["geometry"] = p["geometry"].kind, p["geometry"].to_dict()
                payloads.append({**p, "item": item_id, "source": "prediction"})
        if not payloads:
            return []
        with self._lock:  # the batch is stored under the model's name
            previous, self.annotator = self.annotator, f"model:{model}"
            try:
                result = self.apply({"type": "annotations.add", "annotations": payloads})
            finally:
                self.annotator = previous
        return list(result.ids)

    def accept(self, annotation_ids: Iterable[str]) -> None:
        """Accept predictions: they become this annotator's own human labels (one command)."""
        self.apply({"type": "annotations.accept", "ids": list(annotation_ids)})

    # -- LiDAR ↔ camera (accord.crossmodal) ----------------------------------------
    def match_sweeps(
        self, item: str, pointcloud_stream: str | None = None, camera_stream: str = "video"
    ) -> pd.DataFrame:
        """Each sweep and its nearest camera frame through both clocks, with the skew."""
        from accord.crossmodal import match_sweeps_to_frames

        return match_sweeps_to_frames(self, item, pointcloud_stream, camera_stream)

    def project_cuboids(
        self, item: str, camera_stream: str = "video", **options: Any
    ) -> pd.DataFrame:
        """Cuboid annotations projected into a camera at their matched frames (one row each)."""
        from accord.crossmodal import project_cuboids

        return project_cuboids(self, item, camera_stream, **options)

    def prelabel_boxes_from_cuboids(
        self, item: str, camera_stream: str = "video", **options: Any
    ) -> pd.DataFrame:
        """2-D boxes from cuboids at the matched frames, linked and in the cuboid's entity.

        One command; predictions of ``model:projection`` unless ``source="human"``.
        See :func:`accord.crossmodal.prelabel_boxes_from_cuboids`.
        """
        from accord.crossmodal import prelabel_boxes_from_cuboids

        return prelabel_boxes_from_cuboids(self, item, camera_stream, **options)

    def queue(
        self,
        by: str = "uncertainty",
        *,
        items: Iterable[str] | None = None,
        gold_every: int | None = None,
    ) -> pd.DataFrame:
        """Items in the order to label or review next.

        ``by="uncertainty"``: items whose predictions are least certain first
        (mean of ``1 - |2·score − 1|``; items without scored predictions last);
        ``by="disagreement"``: items where annotators agree least first
        (``1 −`` mean F1 over annotator pairs and kinds; unlabeled pairs last).
        ``gold_every=n`` slips one gold item in after every ``n`` others,
        unannounced (nothing in the queue tells them apart).
        """
        wanted = list(items) if items is not None else list(self.items_by_id)
        gold = {i for i, it in self.items_by_id.items() if isinstance(it.meta.get("gold"), dict)}
        if gold_every is not None:
            if not isinstance(gold_every, int) or gold_every < 1:
                raise ValidationError("queue(gold_every=...)", "an integer ≥ 1", gold_every)
            wanted = [i for i in wanted if i not in gold]
        ann = self.annotations
        ann = ann[ann["item"].isin(wanted)]
        if by == "uncertainty":
            pred = ann[(ann["source"] == "prediction") & ann["score"].notna()]
            u = 1 - (2 * pred["score"].astype(float) - 1).abs()
            score = u.groupby(pred["item"]).mean()
            col = "uncertainty"
        elif by == "disagreement":
            from accord.qa.tables import agreement_table

            vals = {}
            for item_id in wanted:
                t = agreement_table(self, items=[item_id])
                f1 = t["f1"].dropna()
                if len(f1):
                    vals[item_id] = 1 - float(f1.mean())
            score = pd.Series(vals, dtype=float)
            col = "disagreement"
        else:
            raise ValidationError("queue(by=...)", "'uncertainty' or 'disagreement'", by)
        out = pd.DataFrame({"item": wanted})
        out[col] = out["item"].map(score)
        out = out.sort_values(col, ascending=False, na_position="last").reset_index(drop=True)
        if gold_every is not None and gold:
            order, golds = list(out["item"]), sorted(gold)
            mixed: list[str] = []
            for k, item_id in enumerate(order, 1):
                mixed.append(item_id)
                if k % gold_every == 0 and golds:
                    mixed.append(golds.pop(0))
            mixed += golds
            values = dict(zip(out["item"], out[col], strict=True))
            out = pd.DataFrame({"item": mixed, col: [values.get(i, np.nan) for i in mixed]})
        return out

    def set_gold(self, item: str, reference: str | None) -> None:
        """Make ``item`` a gold item whose reference labels are ``reference``'s (None: not gold).

        Reviewers and admins only. Annotators are not told which items are gold:
        the flag is hidden from their ``items`` view and :meth:`queue` mixes gold
        items in unannounced.
        """
        self.item(item)
        gold = None if reference is None else {"reference": reference}
        self.apply({"type": "item.meta", "item": item, "meta": {"gold": gold}})

    @property
    def gold_items(self) -> dict[str, str]:
        """Gold items and their reference annotator (reviewers and admins)."""
        if self.role == "annotator":
            raise PermissionDeniedError("gold_items", "the reviewer or admin role", self.role)
        return {
            i: it.meta["gold"]["reference"]
            for i, it in self.items_by_id.items()
            if isinstance(it.meta.get("gold"), dict)
        }

    def gold_scores(self, *, iou_threshold: float = 0.5) -> pd.DataFrame:
        """Each annotator scored against the reference labels of the gold items.

        One row per (annotator, modality, kind): precision, recall and F1 of
        their shapes against the reference's, label agreement on matches,
        kappa for segments and tags. Reviewers and admins only.
        """
        from accord.qa.tables import COLUMNS, agreement_table

        rows = []
        for item, reference in self.gold_items.items():
            t = agreement_table(self, items=[item], iou_threshold=iou_threshold)
            for _, r in t.iterrows():
                if reference not in (r["annotator_a"], r["annotator_b"]):
                    continue
                other = r["annotator_b"] if r["annotator_a"] == reference else r["annotator_a"]
                flip = r["annotator_a"] != reference  # reference must be the "a" side
                rec = r.to_dict()
                if flip:
                    rec["n_a"], rec["n_b"] = r["n_b"], r["n_a"]
                    rec["precision"], rec["recall"] = r["recall"], r["precision"]
                rec.update(annotator_a=reference, annotator_b=other, item=item)
                rows.append(rec)
        cols = ["annotator_b", "modality", "kind"]
        if not rows:
            return pd.DataFrame(
                columns=[
                    "annotator",
                    "modality",
                    "kind",
                    "items",
                    "n_reference",
                    "n",
                    "matched",
                    "precision",
                    "recall",
                    "f1",
                ]
            )
        df = pd.DataFrame(rows, columns=[*COLUMNS, "item"])
        out = df.groupby(cols, as_index=False).agg(
            items=("item", "nunique"),
            n_reference=("n_a", "sum"),
            n=("n_b", "sum"),
            matched=("matched", "sum"),
            label_agreement=("label_agreement", "mean"),
            kappa=("kappa", "mean"),
        )
        out["precision"] = out["matched"] / out["n"].replace(0, np.nan)
        out["recall"] = out["matched"] / out["n_reference"].replace(0, np.nan)
        out["f1"] = 2 * out["matched"] / (out["n"] + out["n_reference"]).replace(0, np.nan)
        return out.rename(columns={"annotator_b": "annotator"})

    def review(self, annotation_id: str, status: str, comment: str = "") -> None:
        """Move an annotation along the review tiers (self-check, peer review, audit).

        Who may do what depends on this session's role and on who owns the
        annotation; see :mod:`accord.review`.
        """
        self.apply(
            {"type": "annotation.review", "id": annotation_id, "status": status, "comment": comment}
        )

    def get(self, annotation_id: str) -> Annotation:
        """One annotation as a model object."""
        rec = self.store.get("annotation", annotation_id)
        if rec is None:
            raise NotFoundError("annotation", "an existing annotation id", annotation_id)
        return Annotation.from_dict(rec)

    def get_link(self, link_id: str) -> Link:
        rec = self.store.get("link", link_id)
        if rec is None:
            raise NotFoundError("link", "an existing link id", link_id)
        return Link.from_dict(rec)

    def get_entity(self, entity_id: str) -> Entity:
        rec = self.store.get("entity", entity_id)
        if rec is None:
            raise NotFoundError("entity", "an existing entity id", entity_id)
        return Entity.from_dict(rec)

    def links_touching(self, annotation_id: str) -> list[dict[str, Any]]:
        """Current link records with ``annotation_id`` at either end."""
        return [
            *self.store.records("link", source=annotation_id),
            *self.store.records("link", target=annotation_id),
        ]

    # -- views ---------------------------------------------------------------------
    #: Above this many new events a view is rebuilt rather than patched.
    _PATCH_LIMIT = 5_000

    _STRUCTURAL = frozenset({"item", "stream", "taxonomy"})

    def _refresh_items(self) -> None:
        """Forget cached items if any item, stream or taxonomy changed since (cheap).

        Commands call this; the DataFrame views are patched only when read.
        """
        seq = self.store.last_seq()
        if seq == self._items_seq:
            return
        if self._items_seq >= 0:
            new = self.store.events(since=self._items_seq, limit=self._PATCH_LIMIT + 1)
            if len(new) > self._PATCH_LIMIT or any(e.target in self._STRUCTURAL for e in new):
                self._items = None
        else:
            self._items = None
        self._items_seq = seq

    def _refresh_if_changed(self) -> None:
        """Bring cached views up to the newest event in the store.

        Annotation changes (by this session or any other on the same store)
        are patched into the cached ``annotations`` frame, so an edit costs
        time proportional to the edit, not to the size of the project.
        """
        self._refresh_items()
        seq = self.store.last_seq()
        if seq == self._view_seq:
            return
        if self._view_seq < 0:
            self._view_seq = seq
            self._cache.clear()
            return
        new = self.store.events(since=self._view_seq, limit=self._PATCH_LIMIT + 1)
        if len(new) > self._PATCH_LIMIT or any(e.target in self._STRUCTURAL for e in new):
            self._view_seq = seq
            self._items = None
            self._cache.clear()
            return
        self._view_seq = new[-1].seq if new else seq
        patched = self._cache.get("annotations")
        self._cache.clear()
        annotation_events = [e for e in new if e.target == "annotation"]
        if patched is not None:
            self._cache["annotations"] = self._patch_annotations(patched, annotation_events)

    def _invalidate(self) -> None:
        self._cache.clear()
        self._view_seq = -1

    def _cached(self, name: str, build: Callable[[], pd.DataFrame]) -> pd.DataFrame:
        with self._lock:
            self._refresh_if_changed()
            df = self._cache.get(name)
            if df is None:
                seq = self.store.last_seq()  # events after this are re-applied (idempotent)
                df = build()
                self._cache[name] = df
                if self._view_seq < 0:
                    self._view_seq = seq
            return df.copy(deep=False)

    @property
    def annotations(self) -> pd.DataFrame:
        """Every current annotation, one row each, with stream and item times.

        ``t_start``/``t_end`` are in stream seconds (a frame's span, or a
        segment's bounds); ``item_start``/``item_end`` map them through the
        stream's clock.
        """
        return self._cached("annotations", lambda: self._decorate(self.store.frame("annotation")))

    def _patch_annotations(self, df: pd.DataFrame, events: list[Event]) -> pd.DataFrame:
        upserts: dict[str, dict[str, Any]] = {}
        deletes: set[str] = set()
        for e in events:
            if e.op == "delete":
                deletes.add(e.id)
                upserts.pop(e.id, None)
            else:
                assert e.after is not None
                upserts[e.id] = e.after
                deletes.discard(e.id)
        if deletes:
            df = df.drop(index=[i for i in deletes if i in df.index])
        if upserts:
            cols = [c for c in df.columns if c not in _DERIVED]
            raw = pd.DataFrame.from_records(list(upserts.values()), columns=cols)
            rows = self._decorate(raw)
            pos = df.index.get_indexer(rows.index)
            known = pos >= 0
            if known.any():
                df = df.copy(deep=False)
                at, new_rows = pos[known], rows[known]
                few = len(at) <= 64
                for j, c in enumerate(df.columns):
                    new_col = new_rows[c]
                    if few and _same_values([df.iat[p, j] for p in at], list(new_col)):
                        continue  # only columns that changed are copied and patched
                    col = df[c].copy()
                    col.iloc[at] = new_col.to_numpy()
                    df.isetitem(j, col)
            if (~known).any():
                df = pd.concat([df, rows[~known]]) if len(df) else rows[~known]
        return df

    def _decorate(self, df: pd.DataFrame) -> pd.DataFrame:
        """Add modality and stream/item times to raw annotation rows."""
        n = len(df)
        t_start = np.full(n, np.nan)
        t_end = np.full(n, np.nan)
        i_start = np.full(n, np.nan)
        i_end = np.full(n, np.nan)
        modality = np.empty(n, dtype=object)
        if n:
            kinds = df["kind"].to_numpy()
            geoms = df["geometry"].to_numpy()
            frames = pd.to_numeric(df["frame"]).to_numpy(dtype=float, na_value=np.nan)
            seg = kinds == "time_segment"
            if seg.any():
                t_start[seg] = [g["start"] for g in geoms[seg]]
                t_end[seg] = [g["end"] for g in geoms[seg]]
            items = self.items_by_id
            for (item_id, stream_name), idx in df.groupby(
                ["item", "stream"], sort=False
            ).indices.items():
                it = items.get(item_id)
                st = it.streams.get(stream_name) if it is not None else None
                if st is None:
                    continue
                modality[idx] = st.modality
                if st.timeline is not None:
                    fr = frames[idx]
                    # frames past a (since shortened) timeline get no times: checks flag them
                    has = ~np.isnan(fr) & ~seg[idx] & (fr >= 0) & (fr < st.timeline.count)
                    if has.any():
                        f = fr[has].astype(np.int64)
                        ts = st.timeline.timestamps
                        ends = np.append(ts[1:], st.timeline.end)
                        sub = idx[has]
                        t_start[sub] = ts[f]
                        t_end[sub] = ends[f]
                i_start[idx] = st.clock.to_item(t_start[idx])
                i_end[idx] = st.clock.to_item(t_end[idx])
        df = df.copy(deep=False)
        df.insert(3, "modality", modality)
        df["frame"] = df["frame"].astype("Int64")
        pos = df.columns.get_loc("frame") + 1
        for k, (name, values) in enumerate(
            [("t_start", t_start), ("t_end", t_end), ("item_start", i_start), ("item_end", i_end)]
        ):
            df.insert(pos + k, name, values)
        return df.set_index("id", drop=False).rename_axis(None)

    @property
    def links(self) -> pd.DataFrame:
        """Every current link with the kinds and labels at both ends."""
        return self._cached("links", self._links_frame)

    def _links_frame(self) -> pd.DataFrame:
        df = self.store.frame("link")
        ann = self.annotations[["kind", "label", "stream"]]  # the cached view, not a re-read
        for end in ("source", "target"):
            joined = ann.reindex(df[end])
            df[f"{end}_kind"] = joined["kind"].to_numpy()
            df[f"{end}_label"] = joined["label"].to_numpy()
            df[f"{end}_stream"] = joined["stream"].to_numpy()
        return df.set_index("id", drop=False).rename_axis(None)

    @property
    def entities(self) -> pd.DataFrame:
        """Every entity with its member annotations and the modalities they span."""
        return self._cached("entities", self._entities_frame)

    def _entities_frame(self) -> pd.DataFrame:
        df = self.store.frame("entity")
        ann = self.annotations
        grouped = ann[ann["entity"].notna()].groupby("entity")
        members = grouped["id"].agg(list)
        modalities = grouped["modality"].agg(lambda m: sorted(set(x for x in m if x)))
        df["members"] = [members.get(e, []) for e in df["id"]]
        df["modalities"] = [modalities.get(e, []) for e in df["id"]]
        df["size"] = [len(m) for m in df["members"]]
        return df.set_index("id", drop=False).rename_axis(None)

    @property
    def items(self) -> pd.DataFrame:
        """One row per item: streams, duration on the item timeline, annotation count."""
        return self._cached("items", self._items_frame)

    def _items_frame(self) -> pd.DataFrame:
        counts = (
            self.store.frame("annotation")["item"].value_counts()
            if self.store.count("annotation")
            else {}
        )
        rows = [
            {
                "item": it.id,
                "streams": sorted(it.streams),
                "modalities": sorted({s.modality for s in it.streams.values()}),
                "duration": it.duration,
                "sensors": sorted(it.calibrations),
                "annotations": int(counts.get(it.id, 0)) if len(counts) else 0,
                "meta": (
                    {k: v for k, v in it.meta.items() if k != "gold"}
                    if self.role == "annotator"
                    else it.meta
                ),
            }
            for it in self.items_by_id.values()
        ]
        cols = ["item", "streams", "modalities", "duration", "sensors", "annotations", "meta"]
        return pd.DataFrame(rows, columns=cols)

    @property
    def streams(self) -> pd.DataFrame:
        """One row per stream: modality, media, clock, duration, frames, size."""
        return self._cached("streams", self._streams_frame)

    def _streams_frame(self) -> pd.DataFrame:
        rows = [s.to_record() for it in self.items_by_id.values() for s in it.streams.values()]
        cols = [
            "item",
            "stream",
            "modality",
            "uri",
            "offset",
            "rate",
            "duration",
            "frames",
            "width",
            "height",
            "sample_rate",
            "sensor",
        ]
        df = pd.DataFrame(rows, columns=cols)
        for c in ("frames", "width", "height", "sample_rate"):
            df[c] = df[c].astype("Int64")
        return df

    def check(
        self,
        *,
        items: list[str] | None = None,
        rules: list[Any] | None = None,
        builtins: bool = True,
        options: dict[str, dict[str, Any]] | None = None,
    ) -> pd.DataFrame:
        """Cross-modal consistency findings: one row per problem, worst first per item.

        Evaluates the taxonomy's rules (``requires_link``, ``same_class``,
        ``same_attribute``, ``no_overlap``, ``projection_iou``) and the built-in
        checks (annotations outside their stream, track gaps, unlinked speech,
        suspected sync issues from registered estimators). Columns: rule, kind,
        severity, item, stream, annotation_ids, frame, item_time, message. See
        :mod:`accord.qa.checks`.
        """
        from accord.qa.checks import run_checks

        return run_checks(self, items=items, rules=rules, builtins=builtins, options=options)

    def agreement(
        self,
        by: str = "pair",
        *,
        items: list[str] | None = None,
        iou_threshold: float = 0.5,
        min_overlap: float = 0.6,
    ) -> pd.DataFrame:
        """Inter-annotator agreement per modality and geometry kind.

        ``by`` is ``"pair"`` (each annotator pair), ``"class"`` (also per class),
        ``"modality"`` (pairs pooled) or ``"links"`` (agreement on the link graph:
        did two annotators link the same segment to the same track?). Boxes and cuboids: IoU-matched
        precision/recall/F1 and label agreement; time segments: F1 and the
        overlap-linked kappa; text spans: span F1; tags: Cohen's kappa and
        Krippendorff's alpha. See :mod:`accord.qa.tables`.
        """
        from accord.qa.tables import agreement_table, link_agreement

        if by == "links":
            return link_agreement(self, items=items, iou_threshold=iou_threshold)
        return agreement_table(
            self,
            by=by,
            items=items,
            iou_threshold=iou_threshold,
            min_overlap=min_overlap,  # type: ignore[arg-type]
        )

    def resolve(
        self,
        method: str = "majority",
        *,
        k: int | None = None,
        items: list[str] | None = None,
        iou_threshold: float = 0.5,
        priority: dict[str, str] | None = None,
    ) -> tuple[list[str], pd.DataFrame]:
        """Store consensus annotations made from several annotators' labels.

        ``method`` is ``"majority"`` or ``"k_of_n"`` (with ``k``);
        ``priority={"label": "pointcloud"}`` lets 3-D decide the class of
        linked 2-D shapes. Returns the new ids and a report of every cluster.
        See :mod:`accord.qa.resolve`.
        """
        from accord.qa.resolve import resolve

        return resolve(
            self,
            method=method,
            k=k,
            items=items,
            iou_threshold=iou_threshold,  # type: ignore[arg-type]
            priority=priority,
        )

    #: Formats :meth:`export` and :meth:`import_file` know (modules of :mod:`accord.io`).
    FORMATS = (
        "coco",
        "kitti",
        "cvat",
        "labelstudio",
        "eaf",
        "textgrid",
        "webvtt",
        "srt",
        "parquet",
    )

    def export(
        self, format: str, path: str | os.PathLike[str], *, progress: Any = None, **options: Any
    ) -> Any:
        """Write this project's labels in ``format`` (see :mod:`accord.io`); returns the report.

        ``progress``: ``None`` shows a bar in a notebook for 1,000 annotations or more,
        ``False`` never, ``True`` always, a callable ``sink(done, total, description, final)``
        receives the updates (:func:`accord.progress.open_progress`).

        >>> s.export("coco", "out/coco.json")  # doctest: +SKIP
        """
        import importlib

        if format not in self.FORMATS:
            raise ValidationError("export(format)", f"one of {list(self.FORMATS)}", format)
        module = importlib.import_module(f"accord.io.{format}")
        return getattr(module, f"export_{format}")(self, path, progress=progress, **options)

    def import_file(
        self, format: str, path: str | os.PathLike[str], *, progress: Any = None, **options: Any
    ) -> Any:
        """Read labels in ``format`` into existing items, as one command; returns the report.

        ``progress`` as for :meth:`export`; a failed import shows its bar stopped.
        """
        import importlib

        if format not in self.FORMATS or format == "parquet":
            allowed = [f for f in self.FORMATS if f != "parquet"]
            raise ValidationError(
                "import_file(format)",
                f"one of {allowed} (a Parquet dump restores a whole store: "
                "accord.io.parquet.import_parquet)",
                format,
            )
        module = importlib.import_module(f"accord.io.{format}")
        return getattr(module, f"import_{format}")(self, path, progress=progress, **options)

    @property
    def reviews(self) -> pd.DataFrame:
        """Every review step: annotation, from → to status, comment, by whom, when."""
        return self._cached("reviews", lambda: self.store.frame("review"))

    @property
    def history(self) -> pd.DataFrame:
        """The whole event log: who changed what, when, from what to what."""
        return self._cached("history", lambda: _events_frame(self.store.events()))

    def history_of(self, record_id: str) -> pd.DataFrame:
        """Every event of one annotation, link or entity, oldest first."""
        return _events_frame(self.store.events(id=record_id))

    def check_integrity(self) -> list[str]:
        return self.store.check_integrity()

    def new_uuid(self) -> str:
        return uuid.uuid4().hex


def _kernel_loop() -> Any:
    """The running event loop of an IPython kernel, if this is one (else None).

    Only a kernel's loop is used: other running loops (a test harness, a web
    server) may never run the callbacks scheduled on them.
    """
    import asyncio

    try:
        from IPython import get_ipython
    except ImportError:
        return None
    shell = get_ipython()
    if shell is None or getattr(shell, "kernel", None) is None:
        return None
    try:
        return asyncio.get_running_loop()
    except RuntimeError:
        return None


_DERIVED = frozenset({"modality", "t_start", "t_end", "item_start", "item_end"})


def _same_values(a: list[Any], b: list[Any]) -> bool:
    """Element-wise equality that treats NaN/NA in the same place as equal."""
    if len(a) != len(b):
        return False
    for x, y in zip(a, b, strict=True):
        if x is y:
            continue
        x_na, y_na = (
            pd.isna(x) if not isinstance(x, dict | list) else False,
            (pd.isna(y) if not isinstance(y, dict | list) else False),
        )
        if x_na or y_na:
            if not (x_na and y_na):
                return False
            continue
        if x != y:
            return False
    return True


def _events_frame(events: list[Event]) -> pd.DataFrame:
    cols = [
        "seq",
        "command",
        "time",
        "annotator",
        "target",
        "id",
        "op",
        "revision",
        "before",
        "after",
    ]
    rows = [
        (
            e.seq,
            e.command,
            pd.Timestamp(e.ts, unit="s", tz="UTC"),
            e.annotator,
            e.target,
            e.id,
            e.op,
            (e.after or e.before or {}).get("revision"),
            e.before,
            e.after,
        )
        for e in events
    ]
    return pd.DataFrame(rows, columns=cols)


def _path_str(p: Any) -> str:
    return str(Path(p))
