"""Commands: the only way state changes.

A command is a JSON-able mapping ``{"type": ..., "uuid": ..., **fields}`` —
the same whether it comes from a widget in the browser or from a Python call.
Each handler validates its fields against the taxonomy and the item, and
returns the changes (:class:`~accord.store.Change`) the store must commit atomically.
Handlers never write; a failed validation therefore changes nothing.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from accord.errors import (
    AccordError,
    CommandError,
    NotFoundError,
    OutOfBoundsError,
    UnknownLabelError,
    ValidationError,
)
from accord.model.annotation import REVIEW_STATUSES, SOURCES
from accord.model.clock import Clock
from accord.model.geometry import parse_geometry
from accord.store.base import Change

if TYPE_CHECKING:
    from accord.session import Session

__all__ = ["COMMANDS", "UNDOABLE", "new_id", "validate_annotation"]

Handler = Callable[["Session", Mapping[str, Any]], tuple[list[Change], list[str]]]
COMMANDS: dict[str, Handler] = {}

_ANNOTATION_FIELDS = {
    "id",
    "item",
    "stream",
    "label",
    "kind",
    "geometry",
    "attributes",
    "frame",
    "track",
    "entity",
    "status",
    "source",
    "score",
    "stage",
    "sources",
}
_UPDATABLE = {  # status moves only through annotation.review
    "label",
    "kind",
    "geometry",
    "attributes",
    "frame",
    "track",
    "entity",
    "score",
    "stage",
    "source",
}


def new_id(prefix: str) -> str:
    """A fresh random id such as ``a_3f9c0b6e1d2a4b5c``."""
    return f"{prefix}_{uuid.uuid4().hex[:16]}"


def command(name: str) -> Callable[[Handler], Handler]:
    def register(fn: Handler) -> Handler:
        COMMANDS[name] = fn
        return fn

    return register


def _field(payload: Mapping[str, Any], key: str, where: str, expected: str) -> Any:
    if key not in payload or payload[key] is None:
        raise CommandError(f"{where}.{key}", expected, None)
    return payload[key]


def _check_fields(payload: Mapping[str, Any], allowed: set[str], where: str) -> None:
    unknown = sorted(set(payload) - allowed - {"type", "uuid"})
    if unknown:
        raise CommandError(
            f"{where}.{unknown[0]}", f"only the fields {sorted(allowed)}", unknown[0]
        )


def _str_or_none(value: Any, where: str) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str) or not value:
        raise ValidationError(where, "a non-empty string or null", value)
    return value


# -- annotations -------------------------------------------------------------


def validate_annotation(
    s: Session, rec: dict[str, Any], where: str = "annotation"
) -> dict[str, Any]:
    """Check a whole annotation record against the taxonomy and its stream.

    Returns the normalised record (geometry canonicalised, attribute defaults
    filled). Raises a typed :class:`~accord.errors.AccordError` naming the field.
    """
    item = s.item(_field(rec, "item", where, "an item id"))
    stream = item.stream(_field(rec, "stream", where, "a stream name"))
    tax = s.taxonomy
    label = rec.get("label")
    if not isinstance(label, str):
        raise UnknownLabelError(f"{where}.label", "a class name (string)", label)
    tax.label(label, f"{where}.label")
    kind = _field(rec, "kind", where, "a geometry kind")
    geometry = parse_geometry(kind, rec.get("geometry"), f"{where}.geometry")
    tax.check_geometry(label, stream.modality, kind, f"{where}.geometry")
    attributes = tax.validate_attributes(label, rec.get("attributes"), f"{where}.attributes")

    frame = rec.get("frame")
    if frame is not None:
        stream.check_frame(frame, f"{where}.frame")
    elif geometry.spatial and stream.modality == "video":
        raise OutOfBoundsError(
            f"{where}.frame", f"a frame index for a {kind} on video {stream.name!r}", None
        )
    elif kind == "cuboid" and stream.timeline is not None and stream.timeline.count > 1:
        raise OutOfBoundsError(
            f"{where}.frame", f"a sweep index for a cuboid on {stream.name!r}", None
        )
    if geometry.spatial and stream.width and stream.height:
        geometry.check_bounds(stream.width, stream.height, f"{where}.geometry")
    if kind == "time_segment":
        if stream.duration is None:
            raise OutOfBoundsError(
                f"{where}.geometry",
                f"a timed stream for a time_segment ({stream.name!r} has no duration)",
                None,
            )
        stream.check_time(geometry.start, f"{where}.geometry.start")  # type: ignore[attr-defined]
        stream.check_time(geometry.end, f"{where}.geometry.end")  # type: ignore[attr-defined]
    if kind == "text_span":
        text = stream.text or ""
        if geometry.end > len(text):  # type: ignore[attr-defined]
            raise OutOfBoundsError(
                f"{where}.geometry.end",
                f"an offset ≤ {len(text)} (length of the text)",
                geometry.end,  # type: ignore[attr-defined]
            )
    status = rec.get("status", "draft")
    if status not in REVIEW_STATUSES:
        raise ValidationError(f"{where}.status", f"one of {list(REVIEW_STATUSES)}", status)
    source = rec.get("source", "human")
    if source not in SOURCES:
        raise ValidationError(f"{where}.source", f"one of {list(SOURCES)}", source)
    score = rec.get("score")
    if score is not None and (
        isinstance(score, bool) or not isinstance(score, int | float) or not 0 <= score <= 1
    ):
        raise ValidationError(f"{where}.score", "a confidence in [0, 1] or null", score)
    stage = rec.get("stage", 1)
    if stage not in (1, 2):
        raise ValidationError(f"{where}.stage", "1 (per modality) or 2 (cross-modal)", stage)
    sources = rec.get("sources") or []
    if not isinstance(sources, list) or not all(isinstance(x, str) for x in sources):
        raise ValidationError(f"{where}.sources", "a list of annotation ids", sources)
    entity = _str_or_none(rec.get("entity"), f"{where}.entity")
    if entity is not None and s.store.get("entity", entity) is None:
        raise NotFoundError(f"{where}.entity", "an existing entity id", entity)
    out = dict(rec)
    out.update(
        kind=kind,
        geometry=geometry.to_dict(),
        attributes=attributes,
        frame=frame,
        track=_str_or_none(rec.get("track"), f"{where}.track"),
        entity=entity,
        status=status,
        source=source,
        score=None if score is None else float(score),
        stage=stage,
        sources=list(sources),
    )
    return out


def _new_annotation(s: Session, p: Mapping[str, Any], where: str, now: float) -> dict[str, Any]:
    _check_fields(p, _ANNOTATION_FIELDS, where)
    ann_id = p.get("id") or new_id("a")
    if not isinstance(ann_id, str):
        raise ValidationError(f"{where}.id", "a string id", ann_id)
    rec = {
        **{k: p.get(k) for k in _ANNOTATION_FIELDS},
        "id": ann_id,
        "annotator": s.annotator,
        "taxonomy_version": s.taxonomy.version,
        "revision": 1,
        "created_at": now,
        "updated_at": now,
    }
    rec["status"] = p.get("status") or "draft"
    if rec["status"] not in ("draft", "submitted"):
        raise ValidationError(
            f"{where}.status", "'draft' or 'submitted' for a new annotation", rec["status"]
        )
    rec["source"] = p.get("source") or "human"
    rec["stage"] = p.get("stage") or s.stage
    return validate_annotation(s, rec, where)


@command("annotation.add")
def add_annotation(s: Session, p: Mapping[str, Any]) -> tuple[list[Change], list[str]]:
    rec = _new_annotation(s, p, "annotation", time.time())
    return [Change("annotation", rec["id"], "create", None, rec)], [rec["id"]]


@command("annotations.add")
def add_annotations(s: Session, p: Mapping[str, Any]) -> tuple[list[Change], list[str]]:
    _check_fields(p, {"annotations"}, "annotations")
    items = _field(p, "annotations", "annotations", "a list of annotations")
    if not isinstance(items, list):
        raise CommandError("annotations.annotations", "a list of annotations", type(items).__name__)
    now = time.time()
    changes, ids, seen = [], [], set()
    for i, a in enumerate(items):
        if not isinstance(a, Mapping):
            raise CommandError(f"annotations[{i}]", "a mapping", a)
        rec = _new_annotation(s, a, f"annotations[{i}]", now)
        if rec["id"] in seen:
            raise ValidationError(f"annotations[{i}].id", "ids unique within the batch", rec["id"])
        seen.add(rec["id"])
        changes.append(Change("annotation", rec["id"], "create", None, rec))
        ids.append(rec["id"])
    return changes, ids


def _current(s: Session, target: str, p: Mapping[str, Any], where: str) -> dict[str, Any]:
    rec_id = _field(p, "id", where, f"the id of a {target}")
    rec = s.store.get(target, rec_id)
    if rec is None:
        raise NotFoundError(f"{where}.id", f"an existing {target} id", rec_id)
    revision = p.get("revision")
    if revision is not None and revision != rec["revision"]:
        from accord.errors import ConflictError

        raise ConflictError(
            f"{where}.revision",
            f"revision {rec['revision']} (the latest)",
            revision,
            detail=f"{target} {rec_id} was changed since; reload and retry",
        )
    return rec


def _bump(before: dict[str, Any], now: float, **changes: Any) -> dict[str, Any]:
    return {**before, **changes, "revision": before["revision"] + 1, "updated_at": now}


@command("annotation.update")
def update_annotation(s: Session, p: Mapping[str, Any]) -> tuple[list[Change], list[str]]:
    _check_fields(p, _UPDATABLE | {"id", "revision", "status"}, "annotation")
    before = _current(s, "annotation", p, "annotation")
    s.check_can_edit(before, "annotation")
    if "status" in p:
        raise CommandError(
            "annotation.status",
            "a review command (annotation.review) to change the status",
            p["status"],
        )
    fields = {k: p[k] for k in _UPDATABLE if k in p}
    if not fields:
        raise CommandError("annotation", f"at least one of {sorted(_UPDATABLE)} to change", None)
    if "label" in fields and "attributes" not in fields:
        # keep only the attributes the new class still has
        specs = s.taxonomy.attributes_of(fields["label"]) if fields["label"] in s.taxonomy else {}
        fields["attributes"] = {k: v for k, v in before["attributes"].items() if k in specs}
    merged = {**before, **fields}
    after = validate_annotation(s, merged, "annotation")
    after = _bump(before, time.time(), **{k: after[k] for k in after if k in _UPDATABLE})
    after["taxonomy_version"] = s.taxonomy.version
    return [Change("annotation", before["id"], "update", before, after)], [before["id"]]


@command("annotation.delete")
def delete_annotation(s: Session, p: Mapping[str, Any]) -> tuple[list[Change], list[str]]:
    _check_fields(p, {"id", "revision"}, "annotation")
    before = _current(s, "annotation", p, "annotation")
    s.check_can_edit(before, "annotation")
    changes = [
        Change("link", link["id"], "delete", link, None) for link in s.links_touching(before["id"])
    ]
    changes.append(Change("annotation", before["id"], "delete", before, None))
    return changes, [before["id"]]


@command("annotations.accept")
def accept_predictions(s: Session, p: Mapping[str, Any]) -> tuple[list[Change], list[str]]:
    """Predictions become human labels owned by the accepting annotator."""
    _check_fields(p, {"ids"}, "accept")
    ids = _field(p, "ids", "accept", "a list of prediction ids")
    if not isinstance(ids, list) or not ids:
        raise ValidationError("accept.ids", "a non-empty list of annotation ids", ids)
    found = s.store.get_many("annotation", ids)
    now, changes = time.time(), []
    for i, ann_id in enumerate(ids):
        rec = found.get(ann_id)
        if rec is None:
            raise NotFoundError(f"accept.ids[{i}]", "an existing annotation id", ann_id)
        if rec["source"] != "prediction":
            raise ValidationError(f"accept.ids[{i}]", "a prediction", f"{ann_id} ({rec['source']})")
        after = _bump(rec, now, source="human", annotator=s.annotator, stage=s.stage)
        changes.append(Change("annotation", ann_id, "update", rec, after))
    return changes, list(ids)


@command("annotation.review")
def review_annotation(s: Session, p: Mapping[str, Any]) -> tuple[list[Change], list[str]]:
    """Move an annotation along the review tiers, with a comment (see accord.review)."""
    from accord.review import check_transition

    _check_fields(p, {"id", "revision", "status", "comment"}, "review")
    before = _current(s, "annotation", p, "review")
    to = _field(p, "status", "review", "the new review status")
    comment = p.get("comment") or ""
    if not isinstance(comment, str):
        raise ValidationError("review.comment", "text", comment)
    check_transition(
        before["status"],
        to,
        role=s.role,
        is_owner=before["annotator"] == s.annotator,
        where="review",
    )
    now = time.time()
    review_id = new_id("r")
    record = {
        "id": review_id,
        "item": before["item"],
        "annotation": before["id"],
        "from_status": before["status"],
        "status": to,
        "comment": comment,
        "annotator": s.annotator,
        "role": s.role,
        "revision": 1,
        "created_at": now,
        "updated_at": now,
    }
    return [
        Change("annotation", before["id"], "update", before, _bump(before, now, status=to)),
        Change("review", review_id, "create", None, record),
    ], [before["id"], review_id]


# -- links ---------------------------------------------------------------------


@command("link.add")
def add_link(s: Session, p: Mapping[str, Any]) -> tuple[list[Change], list[str]]:
    _check_fields(p, {"id", "source", "target", "link_type", "attributes", "stage"}, "link")
    link_type = s.taxonomy.link_type(
        _field(p, "link_type", "link", "a link type"), "link.link_type"
    )
    ends = {}
    for end in ("source", "target"):
        ann_id = _field(p, end, "link", "an annotation id")
        ann = s.store.get("annotation", ann_id)
        if ann is None:
            raise NotFoundError(f"link.{end}", "an existing annotation id", ann_id)
        ends[end] = ann
    src, dst = ends["source"], ends["target"]
    if src["id"] == dst["id"]:
        raise ValidationError("link.target", "an annotation other than the source", dst["id"])
    if src["item"] != dst["item"]:
        raise ValidationError(
            "link.target",
            f"an annotation of item {src['item']!r} (links stay within an item)",
            dst["item"],
        )
    if not link_type.allows(src["kind"], dst["kind"]):
        raise ValidationError(
            "link.link_type",
            f"a link type allowing {src['kind']} → {dst['kind']} "
            f"({link_type.name!r} allows {list(link_type.sources) or 'any'} → "
            f"{list(link_type.targets) or 'any'})",
            link_type.name,
        )
    for existing in s.links_touching(src["id"]):
        if (existing["source"], existing["target"], existing["type"]) == (
            src["id"],
            dst["id"],
            link_type.name,
        ):
            raise ValidationError("link", "a link not already present", existing["id"])
    attributes = p.get("attributes") or {}
    if not isinstance(attributes, Mapping):
        raise ValidationError("link.attributes", "a mapping", attributes)
    stage = p.get("stage") or s.stage
    if stage not in (1, 2):
        raise ValidationError("link.stage", "1 or 2", stage)
    now = time.time()
    link_id = p.get("id") or new_id("l")
    rec = {
        "id": link_id,
        "item": src["item"],
        "source": src["id"],
        "target": dst["id"],
        "type": link_type.name,
        "annotator": s.annotator,
        "attributes": dict(attributes),
        "stage": stage,
        "revision": 1,
        "created_at": now,
        "updated_at": now,
    }
    return [Change("link", link_id, "create", None, rec)], [link_id]


@command("links.add")
def add_links(s: Session, p: Mapping[str, Any]) -> tuple[list[Change], list[str]]:
    """Many links in one command (imports, pre-annotation): all valid or none stored."""
    _check_fields(p, {"links"}, "links")
    links = _field(p, "links", "links", "a list of links")
    if not isinstance(links, list):
        raise CommandError("links.links", "a list of links", type(links).__name__)
    changes: list[Change] = []
    ids: list[str] = []
    seen: set[tuple[str, str, str]] = set()
    for i, link in enumerate(links):
        if not isinstance(link, Mapping):
            raise CommandError(f"links[{i}]", "a mapping", link)
        try:
            (change,), (link_id,) = add_link(s, link)
        except AccordError as exc:
            raise type(exc)(f"links[{i}]: {exc.where}", exc.expected, exc.got) from exc
        key = (change.after["source"], change.after["target"], change.after["type"])  # type: ignore[index]
        if key in seen:
            raise ValidationError(f"links[{i}]", "a link not already in the batch", key)
        seen.add(key)
        changes.append(change)
        ids.append(link_id)
    return changes, ids


@command("link.delete")
def delete_link(s: Session, p: Mapping[str, Any]) -> tuple[list[Change], list[str]]:
    _check_fields(p, {"id", "revision"}, "link")
    before = _current(s, "link", p, "link")
    s.check_can_edit(before, "link")
    return [Change("link", before["id"], "delete", before, None)], [before["id"]]


# -- entities ------------------------------------------------------------------


def _member_changes(
    s: Session, members: Any, entity: str | None, now: float, where: str
) -> list[Change]:
    if members is None:
        return []
    if not isinstance(members, list):
        raise ValidationError(where, "a list of annotation ids", members)
    found = s.store.get_many("annotation", members)
    changes = []
    for i, ann_id in enumerate(members):
        if ann_id not in found:
            raise NotFoundError(f"{where}[{i}]", "an existing annotation id", ann_id)
        before = found[ann_id]
        if before["entity"] != entity:
            changes.append(
                Change("annotation", ann_id, "update", before, _bump(before, now, entity=entity))
            )
    return changes


def _entity_fields(s: Session, p: Mapping[str, Any], where: str) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if "label" in p:
        if p["label"] is not None:
            s.taxonomy.label(p["label"], f"{where}.label")
        out["label"] = p["label"]
    if "name" in p:
        if not isinstance(p["name"], str):
            raise ValidationError(f"{where}.name", "a string", p["name"])
        out["name"] = p["name"]
    if "attributes" in p:
        if not isinstance(p["attributes"], Mapping):
            raise ValidationError(f"{where}.attributes", "a mapping", p["attributes"])
        out["attributes"] = dict(p["attributes"])
    return out


@command("entity.add")
def add_entity(s: Session, p: Mapping[str, Any]) -> tuple[list[Change], list[str]]:
    _check_fields(p, {"id", "label", "name", "attributes", "members"}, "entity")
    now = time.time()
    ent_id = p.get("id") or new_id("e")
    rec = {
        "id": ent_id,
        "label": None,
        "name": "",
        "attributes": {},
        "annotator": s.annotator,
        "revision": 1,
        "created_at": now,
        "updated_at": now,
        **_entity_fields(s, p, "entity"),
    }
    changes = [Change("entity", ent_id, "create", None, rec)]
    changes += _member_changes(s, p.get("members"), ent_id, now, "entity.members")
    return changes, [ent_id]


@command("entity.update")
def update_entity(s: Session, p: Mapping[str, Any]) -> tuple[list[Change], list[str]]:
    _check_fields(p, {"id", "revision", "label", "name", "attributes", "members"}, "entity")
    before = _current(s, "entity", p, "entity")
    s.check_can_edit(before, "entity")
    now = time.time()
    fields = _entity_fields(s, p, "entity")
    changes = []
    if fields:
        changes.append(
            Change("entity", before["id"], "update", before, _bump(before, now, **fields))
        )
    if "members" in p:
        current = {a["id"] for a in s.store.records("annotation", entity=before["id"])}
        wanted = p["members"]
        changes += _member_changes(s, wanted, before["id"], now, "entity.members")
        gone = sorted(current - set(wanted or []))
        changes += _member_changes(s, gone, None, now, "entity.members")
    if not changes:
        raise CommandError("entity", "something to change (label, name, attributes, members)", None)
    return changes, [before["id"]]


@command("entity.delete")
def delete_entity(s: Session, p: Mapping[str, Any]) -> tuple[list[Change], list[str]]:
    _check_fields(p, {"id", "revision"}, "entity")
    before = _current(s, "entity", p, "entity")
    s.check_can_edit(before, "entity")
    now = time.time()
    members = [a["id"] for a in s.store.records("annotation", entity=before["id"])]
    changes = _member_changes(s, members, None, now, "entity.members")
    changes.append(Change("entity", before["id"], "delete", before, None))
    return changes, [before["id"]]


@command("entity.merge")
def merge_entities(s: Session, p: Mapping[str, Any]) -> tuple[list[Change], list[str]]:
    """Merge ``ids[1:]`` into ``ids[0]``: members move, the others are deleted."""
    _check_fields(p, {"ids"}, "entity.merge")
    ids = _field(p, "ids", "entity.merge", "a list of at least two entity ids")
    if not isinstance(ids, list) or len(ids) < 2 or len(set(ids)) != len(ids):
        raise ValidationError("entity.merge.ids", "a list of at least two distinct entity ids", ids)
    found = s.store.get_many("entity", ids)
    for i, ent_id in enumerate(ids):
        if ent_id not in found:
            raise NotFoundError(f"entity.merge.ids[{i}]", "an existing entity id", ent_id)
    for ent_id in ids:
        s.check_can_edit(found[ent_id], "entity")
    keep, now, changes = ids[0], time.time(), []
    for other in ids[1:]:
        members = [a["id"] for a in s.store.records("annotation", entity=other)]
        changes += _member_changes(s, members, keep, now, "entity.members")
        changes.append(Change("entity", other, "delete", found[other], None))
    return changes, [keep]


@command("entity.split")
def split_entity(s: Session, p: Mapping[str, Any]) -> tuple[list[Change], list[str]]:
    """Move ``members`` of entity ``id`` into a new entity (``ids``: new, old).

    The new entity takes ``label`` and ``name`` when given, else the old one's
    label and an empty name. ``members`` must be a non-empty proper subset of
    the entity's members: all of them or none is refused, as is any other id.
    """
    _check_fields(p, {"id", "revision", "members", "new_id", "label", "name"}, "entity.split")
    before = _current(s, "entity", p, "entity.split")
    s.check_can_edit(before, "entity")
    members = _field(p, "members", "entity.split", "a list of annotation ids of the entity")
    if not isinstance(members, list) or not members or len(set(members)) != len(members):
        raise ValidationError(
            "entity.split.members", "a non-empty list of distinct annotation ids", members
        )
    current = {a["id"] for a in s.store.records("annotation", entity=before["id"])}
    for i, ann_id in enumerate(members):
        if ann_id not in current:
            raise ValidationError(
                f"entity.split.members[{i}]", f"a member of entity {before['id']}", ann_id
            )
    if len(members) == len(current):
        raise ValidationError(
            "entity.split.members",
            f"some but not all of the {len(current)} members (at least one stays)",
            len(members),
        )
    new = {"id": p.get("new_id"), "members": members, "label": before["label"], "name": ""}
    for key in ("label", "name"):
        if key in p:
            new[key] = p[key]
    changes, ids = add_entity(s, new)
    return changes, [ids[0], before["id"]]


# -- items, streams, taxonomy ------------------------------------------------------


@command("item.add")
def add_item(s: Session, p: Mapping[str, Any]) -> tuple[list[Change], list[str]]:
    """Add an item with its streams and calibrations (records are fully validated)."""
    from accord.model.calibration import Calibration
    from accord.model.item import Stream, check_id

    _check_fields(p, {"item", "streams"}, "item")
    item = _field(p, "item", "item", "an item record")
    if not isinstance(item, Mapping):
        raise CommandError("item.item", "a mapping with id, meta and calibrations", item)
    _check_fields(item, {"id", "meta", "calibrations"}, "item.item")
    item_id = check_id(item.get("id"), "item.id")
    meta = item.get("meta") or {}
    if not isinstance(meta, Mapping):
        raise ValidationError("item.meta", "a mapping", meta)
    cals = item.get("calibrations") or {}
    if not isinstance(cals, Mapping):
        raise ValidationError("item.calibrations", "a mapping of sensor name → calibration", cals)
    for name, cal in cals.items():
        Calibration.from_dict(cal, f"item.calibrations.{name}")
    if s.store.get("item", item_id) is not None:
        raise ValidationError("item.id", "an id not used by another item", item_id)
    streams = p.get("streams") or []
    if not isinstance(streams, list):
        raise CommandError("item.streams", "a list of stream records", streams)
    now = time.time()
    rec = {
        "id": item_id,
        "meta": dict(meta),
        "calibrations": dict(cals),
        "revision": 1,
        "created_at": now,
        "updated_at": now,
    }
    changes = [Change("item", item_id, "create", None, rec)]
    names: set[str] = set()
    for i, st in enumerate(streams):
        where = f"item.streams[{i}]"
        if not isinstance(st, Mapping):
            raise CommandError(where, "a stream record (Stream.to_dict())", st)
        missing = [k for k in ("item", "name", "modality") if k not in st]
        if missing:
            raise CommandError(f"{where}.{missing[0]}", "a value", None)
        if st["item"] != item_id:
            raise ValidationError(f"{where}.item", f"the id of this item ({item_id!r})", st["item"])
        try:
            stream = Stream.from_dict(dict(st))
        except AccordError as exc:
            raise ValidationError(f"{where}: {exc.where}", exc.expected, exc.got) from exc
        except (KeyError, TypeError, ValueError) as exc:
            raise ValidationError(
                where, "a stream record (Stream.to_dict())", detail=str(exc)
            ) from exc
        if stream.sensor is not None and stream.sensor not in cals:
            raise ValidationError(
                f"{where}.sensor", f"a calibrated sensor {sorted(cals)}", stream.sensor
            )
        if stream.name in names:
            raise ValidationError(
                f"{where}.name", "a stream name unique within the item", stream.name
            )
        names.add(stream.name)
        sid = f"{item_id}/{stream.name}"
        srec = {
            "id": sid,
            "item": item_id,
            "name": stream.name,
            "modality": stream.modality,
            "data": stream.to_dict(),
            "revision": 1,
            "created_at": now,
            "updated_at": now,
        }
        changes.append(Change("stream", sid, "create", None, srec))
    return changes, [item_id]


@command("item.meta")
def set_item_meta(s: Session, p: Mapping[str, Any]) -> tuple[list[Change], list[str]]:
    """Replace some keys of an item's metadata (reviewers and admins; e.g. the gold flag)."""
    from accord.errors import PermissionDeniedError

    _check_fields(p, {"item", "meta", "revision"}, "item.meta")
    if s.role not in ("reviewer", "admin"):
        raise PermissionDeniedError("item.meta", "the reviewer or admin role", s.role)
    item_id = _field(p, "item", "item.meta", "an item id")
    meta = _field(p, "meta", "item.meta", "a mapping of keys to set (None removes a key)")
    if not isinstance(meta, Mapping):
        raise ValidationError("item.meta.meta", "a mapping", meta)
    before = _current(s, "item", {"id": item_id, "revision": p.get("revision")}, "item.meta")
    merged = {**before["meta"], **meta}
    merged = {k: v for k, v in merged.items() if v is not None}
    return [Change("item", item_id, "update", before, _bump(before, time.time(), meta=merged))], [
        item_id
    ]


@command("stream.clock")
def set_clock(s: Session, p: Mapping[str, Any]) -> tuple[list[Change], list[str]]:
    _check_fields(p, {"item", "stream", "offset", "rate", "drift_ppm", "revision"}, "clock")
    item = s.item(_field(p, "item", "clock", "an item id"))
    stream = item.stream(_field(p, "stream", "clock", "a stream name"))
    fields = {k: p[k] for k in ("offset", "rate", "drift_ppm") if k in p}
    if "drift_ppm" in fields:  # rate and drift_ppm together are refused by Clock.from_dict
        clock = Clock.from_dict({"offset": stream.clock.offset, **fields}, "clock")
    else:
        clock = Clock.from_dict({**stream.clock.to_dict(), **fields}, "clock")
    sid = f"{item.id}/{stream.name}"
    before = _current(s, "stream", {"id": sid, "revision": p.get("revision")}, "clock")
    data = {**before["data"], "clock": clock.to_dict()}
    after = _bump(before, time.time(), data=data)
    return [Change("stream", sid, "update", before, after)], [sid]


@command("taxonomy.set")
def set_taxonomy(s: Session, p: Mapping[str, Any]) -> tuple[list[Change], list[str]]:
    from accord.model.taxonomy import Taxonomy

    _check_fields(p, {"taxonomy"}, "taxonomy")
    tax = Taxonomy.from_dict(_field(p, "taxonomy", "taxonomy", "a taxonomy mapping"))
    tid = str(tax.version)
    if s.store.get("taxonomy", tid) is not None:
        raise ValidationError("taxonomy.version", "a version not stored yet", tax.version)
    now = time.time()
    rec = {
        "id": tid,
        "version": tax.version,
        "name": tax.name,
        "data": tax.to_dict(),
        "revision": 1,
        "created_at": now,
        "updated_at": now,
    }
    return [Change("taxonomy", tid, "create", None, rec)], [tid]


#: Commands that are part of an annotator's undo history.
UNDOABLE: frozenset[str] = frozenset(
    {
        "annotation.add",
        "annotations.add",
        "annotation.update",
        "annotation.delete",
        "annotation.review",
        "annotations.accept",
        "link.add",
        "links.add",
        "link.delete",
        "entity.add",
        "entity.update",
        "entity.delete",
        "entity.merge",
        "entity.split",
        "stream.clock",
    }
)
