"""Bad input gets a typed error and leaves the store unchanged.

Every case checks four things:

* the **exact** error class (not just a parent), which is an ``AccordError``;
* the message names the field (``annotation.geometry.w``, ``frame``, a file and line...);
* the message says what was expected (``expected ...``);
* nothing changed: events, commands, records and the pandas views are as before.

Cases that accord gets wrong today are marked ``xfail(strict=True)`` with the
behaviour they *should* have, so fixing the code flips them to errors.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from accord import Calibration, Clock, Session, Stream, Taxonomy
from accord.errors import (
    AccordError,
    CalibrationError,
    ClockError,
    CommandError,
    ConflictError,
    CorruptMediaError,
    FormatError,
    GeometryError,
    GeometryNotAllowedError,
    MissingMediaError,
    NotFoundError,
    OutOfBoundsError,
    TaxonomyError,
    UnknownLabelError,
    ValidationError,
)
from accord.model.timeline import FrameTimeline

NAN = math.nan
INF = math.inf
TEXT = "hello world, this is a transcript"

TAXONOMY: dict[str, Any] = {
    "name": "bad-input",
    "version": 1,
    "classes": [
        {
            "name": "vehicle",
            "color": "#1f77b4",
            "hotkey": "v",
            "attributes": [
                {"name": "occluded", "type": "bool", "default": False},
                {"name": "colour", "type": "choice", "choices": ["red", "blue"]},
                {"name": "passengers", "type": "int", "minimum": 0, "maximum": 9},
            ],
        },
        {"name": "car", "parent": "vehicle", "hotkey": "c"},
        {"name": "sign", "geometries": {"image": ["box"], "video": ["box"]}},
        {
            "name": "speech",
            "geometries": {
                "audio": ["time_segment"],
                "text": ["text_span", "time_segment"],
                "video": ["time_segment"],
            },
        },
    ],
    "link_types": [
        {"name": "same_as", "sources": ["box", "cuboid"], "targets": ["box", "cuboid"]},
        {"name": "speaks", "sources": ["time_segment"], "targets": ["box"]},
        {"name": "refers_to"},
    ],
}


def _item_command(item: str, streams: list[Stream]) -> dict[str, Any]:
    return {
        "type": "item.add",
        "item": {"id": item, "meta": {}, "calibrations": {}},
        "streams": [st.to_dict() for st in streams],
    }


def _add(s: Session, ann_id: str, **fields: Any) -> None:
    s.apply({"type": "annotation.add", "id": ann_id, **fields})


@pytest.fixture
def world(tmp_path: Path) -> Session:
    """A session with one multimodal item (no media files) and a few records."""
    s = Session(tmp_path / "bad.accord", taxonomy=Taxonomy.from_dict(TAXONOMY), annotator="ana")
    s.apply(
        _item_command(
            "clip",
            [
                Stream("clip", "cam", "image", width=640, height=480),
                Stream(
                    "clip",
                    "video",
                    "video",
                    timeline=FrameTimeline.constant("30000/1001", 300),
                    width=640,
                    height=480,
                ),
                Stream("clip", "audio", "audio", duration=10.0, sample_rate=16000),
                Stream("clip", "text", "text", text=TEXT),
                Stream("clip", "lidar", "pointcloud", timeline=FrameTimeline.constant(10, 100)),
            ],
        )
    )
    s.apply(_item_command("other", [Stream("other", "cam", "image", width=320, height=240)]))
    _add(s, "a_box", **DEFAULTS["cam"])
    _add(s, "a_vid", **DEFAULTS["video"])
    _add(s, "a_cub", **DEFAULTS["lidar"])
    _add(s, "a_seg", **DEFAULTS["audio"])
    _add(s, "o_box", **{**DEFAULTS["cam"], "item": "other"})
    s.apply(
        {
            "type": "link.add",
            "id": "l1",
            "source": "a_cub",
            "target": "a_box",
            "link_type": "same_as",
        }
    )
    s.apply({"type": "entity.add", "id": "e1", "members": ["a_box", "a_cub"], "label": "car"})
    return s


BOX = {"x": 10, "y": 20, "w": 30, "h": 40}
CUBOID = {"center": [1.0, 2.0, 0.0], "size": [4.0, 2.0, 1.5], "yaw": 0.0}

#: A valid annotation.add payload per stream of item "clip".
DEFAULTS: dict[str, dict[str, Any]] = {
    "cam": {"item": "clip", "stream": "cam", "label": "car", "kind": "box", "geometry": BOX},
    "video": {
        "item": "clip",
        "stream": "video",
        "label": "car",
        "kind": "box",
        "geometry": BOX,
        "frame": 5,
    },
    "audio": {
        "item": "clip",
        "stream": "audio",
        "label": "speech",
        "kind": "time_segment",
        "geometry": {"start": 1.0, "end": 2.0},
    },
    "text": {
        "item": "clip",
        "stream": "text",
        "label": "speech",
        "kind": "text_span",
        "geometry": {"start": 0, "end": 5},
    },
    "lidar": {
        "item": "clip",
        "stream": "lidar",
        "label": "car",
        "kind": "cuboid",
        "geometry": CUBOID,
        "frame": 0,
    },
}


def ann(base: str = "cam", /, **overrides: Any) -> dict[str, Any]:
    """An ``annotation.add`` command on stream ``base``, valid unless ``overrides`` break it."""
    return {"type": "annotation.add", **DEFAULTS[base], **overrides}


def box(**kw: Any) -> dict[str, Any]:
    return {**BOX, **kw}


def cuboid(**kw: Any) -> dict[str, Any]:
    return {**CUBOID, **kw}


def snapshot(s: Session) -> dict[str, Any]:
    """Everything a refused command must leave as it was."""
    store = s.store
    return {
        "last_seq": store.last_seq(),
        "events": len(store.events()),
        "commands": len(store.commands_of(s.annotator)),
        "n_annotations": len(s.annotations),
        "annotations": store.records("annotation"),
        "links": s.links["id"].tolist(),
        "link_records": store.records("link"),
        "entities": s.entities[["id", "members"]].to_dict("records"),
        "entity_records": store.records("entity"),
        "items": store.records("item"),
        "streams": store.records("stream"),
        "taxonomies": store.records("taxonomy"),
        "clip_streams": sorted(s.item("clip").streams),
    }


def assert_refused(
    s: Session,
    action: Callable[[], Any],
    error: type[AccordError],
    where: str,
    says: str | None = None,
) -> AccordError:
    """Run ``action``; it must raise exactly ``error`` and change nothing."""
    before = snapshot(s)
    with pytest.raises(AccordError) as info:
        action()
    err = info.value
    assert type(err) is error, f"expected {error.__name__}, got {type(err).__name__}: {err}"
    assert isinstance(err, AccordError)
    message = str(err)
    assert where in message, f"{where!r} not named in {message!r}"
    assert "expected" in message, message
    if says is not None:
        assert says in message, f"{says!r} not in {message!r}"
    assert err.to_dict()["error"] == error.__name__
    assert snapshot(s) == before
    return err


def case(
    id: str,
    action: dict[str, Any] | Callable[[Session, Path], Any],
    error: type[AccordError],
    where: str,
    says: str | None = None,
    *,
    bug: str | None = None,
) -> Any:
    marks = [pytest.mark.xfail(strict=True, reason=bug)] if bug else []
    return pytest.param(action, error, where, says, id=id, marks=marks)


def _run(s: Session, tmp_path: Path, action: Any) -> Callable[[], Any]:
    if isinstance(action, dict):
        return lambda: s.apply(action)
    return lambda: action(s, tmp_path)


# -- annotation.add: labels, geometry kinds, geometry values -----------------------------

ANNOTATION_CASES = [
    case("label-unknown", ann(label="cat"), UnknownLabelError, "annotation.label", "'cat'"),
    case("label-wrong-type", ann(label=5), UnknownLabelError, "annotation.label", "class name"),
    case("label-missing", ann(label=None), UnknownLabelError, "annotation.label"),
    case("kind-unknown", ann(kind="circle"), GeometryError, "annotation.geometry.kind", "'box'"),
    case("kind-missing", ann(kind=None), CommandError, "annotation.kind", "geometry kind"),
    case(
        "box-on-audio",
        ann("audio", kind="box", geometry=BOX),
        GeometryNotAllowedError,
        "annotation.geometry.kind",
        "audio",
    ),
    case(
        "cuboid-on-video",
        ann("video", kind="cuboid", geometry=CUBOID),
        GeometryNotAllowedError,
        "annotation.geometry.kind",
        "video",
    ),
    case(
        "time-segment-on-image",
        ann(kind="time_segment", geometry={"start": 0, "end": 1}),
        GeometryNotAllowedError,
        "annotation.geometry.kind",
        "image",
    ),
    case(
        "class-forbids-polygon-on-image",
        ann(label="sign", kind="polygon", geometry=[[0, 0], [10, 0], [0, 10]]),
        GeometryNotAllowedError,
        "annotation.geometry.kind",
        "'sign'",
    ),
    case(
        "class-allows-nothing-on-audio",
        ann("audio", label="sign", kind="tag", geometry=None),
        GeometryNotAllowedError,
        "annotation.geometry.kind",
        "'sign'",
    ),
    case("box-x-nan", ann(geometry=box(x=NAN)), GeometryError, "annotation.geometry.x", "finite"),
    case("box-y-inf", ann(geometry=box(y=INF)), GeometryError, "annotation.geometry.y", "finite"),
    case("box-w-negative", ann(geometry=box(w=-5)), GeometryError, "annotation.geometry.w", "> 0"),
    case("box-h-zero", ann(geometry=box(h=0)), GeometryError, "annotation.geometry.h", "> 0"),
    case("box-x-string", ann(geometry=box(x="10")), GeometryError, "annotation.geometry.x"),
    case("box-x-bool", ann(geometry=box(x=True)), GeometryError, "annotation.geometry.x"),
    case(
        "box-missing-key",
        ann(geometry={"x": 1, "y": 2, "w": 3}),
        GeometryError,
        "annotation.geometry",
        "keys ['x', 'y', 'w', 'h']",
    ),
    case(
        "box-three-values",
        ann(geometry=[1, 2, 3]),
        GeometryError,
        "annotation.geometry",
        "4 values",
    ),
    case(
        "box-beyond-image-width",
        ann(geometry=box(x=600, w=100)),
        OutOfBoundsError,
        "annotation.geometry",
        "640×480",
    ),
    case(
        "box-negative-x-outside-image",
        ann(geometry=box(x=-20)),
        OutOfBoundsError,
        "annotation.geometry",
        "640×480",
    ),
    case(
        "box-beyond-video-frame-height",
        ann("video", geometry=box(y=470)),
        OutOfBoundsError,
        "annotation.geometry",
        "640×480",
    ),
    case(
        "polygon-two-points",
        ann(kind="polygon", geometry=[[0, 0], [10, 10]]),
        GeometryError,
        "annotation.geometry.points",
        "at least 3 points",
    ),
    case(
        "polygon-collinear",
        ann(kind="polygon", geometry=[[0, 0], [5, 5], [10, 10]]),
        GeometryError,
        "annotation.geometry.points",
        "non-zero area",
    ),
    case(
        "polygon-nan-vertex",
        ann(kind="polygon", geometry=[[0, 0], [NAN, 5], [10, 0]]),
        GeometryError,
        "annotation.geometry.points",
        "finite",
    ),
    case(
        "polygon-outside-image",
        ann(kind="polygon", geometry=[[0, 0], [700, 0], [0, 10]]),
        OutOfBoundsError,
        "annotation.geometry",
        "640×480",
    ),
    case(
        "keypoints-visibility-3",
        ann(kind="keypoints", geometry=[[1, 2, 2], [3, 4, 3]]),
        GeometryError,
        "annotation.geometry.points[:, 2]",
        "visibility 0, 1 or 2",
    ),
    case(
        "keypoints-shape-n-by-2",
        ann(kind="keypoints", geometry=[[1, 2], [3, 4]]),
        GeometryError,
        "annotation.geometry.points",
        "(N, 3)",
    ),
    case(
        "keypoints-ragged",
        ann(kind="keypoints", geometry=[[1, 2, 2], [3, 4]]),
        GeometryError,
        "annotation.geometry.points",
    ),
    case(
        "cuboid-negative-size",
        ann("lidar", geometry=cuboid(size=[4.0, -2.0, 1.5])),
        GeometryError,
        "annotation.geometry.size.w",
        "> 0",
    ),
    case(
        "cuboid-center-two-numbers",
        ann("lidar", geometry=cuboid(center=[1.0, 2.0])),
        GeometryError,
        "annotation.geometry.center",
        "3 numbers",
    ),
    case(
        "cuboid-yaw-nan",
        ann("lidar", geometry=cuboid(yaw=NAN)),
        GeometryError,
        "annotation.geometry.yaw",
        "finite",
    ),
    case(
        "cuboid-as-list",
        ann("lidar", geometry=[1, 2, 3, 4, 5, 6, 7]),
        GeometryError,
        "annotation.geometry",
        "center",
    ),
    case(
        "tag-with-a-value",
        ann(kind="tag", geometry={"x": 1}),
        GeometryError,
        "annotation.geometry",
        "no value",
    ),
    # -- times --------------------------------------------------------------------------
    case(
        "segment-end-before-start",
        ann("audio", geometry={"start": 5.0, "end": 4.0}),
        GeometryError,
        "annotation.geometry.end",
        "after start",
    ),
    case(
        "segment-zero-length",
        ann("audio", geometry={"start": 5.0, "end": 5.0}),
        GeometryError,
        "annotation.geometry.end",
    ),
    case(
        "segment-past-audio-duration",
        ann("audio", geometry={"start": 9.0, "end": 11.0}),
        OutOfBoundsError,
        "annotation.geometry.end",
        "[0, 10] s",
    ),
    case(
        "segment-negative-start",
        ann("audio", geometry={"start": -1.0, "end": 2.0}),
        OutOfBoundsError,
        "annotation.geometry.start",
        "[0, 10] s",
    ),
    case(
        "segment-past-video-end",
        ann(
            "video",
            label="speech",
            kind="time_segment",
            frame=None,
            geometry={"start": 1.0, "end": 20.0},
        ),
        OutOfBoundsError,
        "annotation.geometry.end",
        "clip/video",
    ),
    # -- text offsets -------------------------------------------------------------------
    case(
        "text-span-beyond-text",
        ann("text", geometry={"start": 3, "end": len(TEXT) + 1}),
        OutOfBoundsError,
        "annotation.geometry.end",
        f"≤ {len(TEXT)}",
    ),
    case(
        "text-span-negative-start",
        ann("text", geometry={"start": -1, "end": 4}),
        GeometryError,
        "annotation.geometry.start",
        "≥ 0",
    ),
    case(
        "text-span-fractional-offset",
        ann("text", geometry={"start": 1.5, "end": 4}),
        GeometryError,
        "annotation.geometry.start",
        "integer",
    ),
    case(
        "text-span-end-before-start",
        ann("text", geometry={"start": 4, "end": 2}),
        GeometryError,
        "annotation.geometry.end",
    ),
    # -- frames -------------------------------------------------------------------------
    case(
        "video-box-without-frame",
        ann("video", frame=None),
        OutOfBoundsError,
        "annotation.frame",
        "frame index",
    ),
    case(
        "video-frame-300-of-300",
        ann("video", frame=300),
        OutOfBoundsError,
        "annotation.frame",
        "[0, 299]",
    ),
    case("video-frame-minus-1", ann("video", frame=-1), OutOfBoundsError, "annotation.frame"),
    case(
        "video-frame-string",
        ann("video", frame="3"),
        OutOfBoundsError,
        "annotation.frame",
        "[0, 299]",
    ),
    case("video-frame-bool", ann("video", frame=True), OutOfBoundsError, "annotation.frame"),
    case("video-frame-float", ann("video", frame=2.0), OutOfBoundsError, "annotation.frame"),
    case(
        "frame-on-image",
        ann(frame=0),
        OutOfBoundsError,
        "annotation.frame",
        "has no frames",
    ),
    case(
        "cuboid-without-sweep",
        ann("lidar", frame=None),
        OutOfBoundsError,
        "annotation.frame",
        "sweep index",
    ),
    case(
        "cuboid-sweep-100-of-100",
        ann("lidar", frame=100),
        OutOfBoundsError,
        "annotation.frame",
        "[0, 99]",
    ),
    # -- attributes and other fields ----------------------------------------------------
    case(
        "attribute-unknown",
        ann(attributes={"wheels": 4}),
        ValidationError,
        "annotation.attributes.wheels",
        "an attribute of 'car'",
    ),
    case(
        "attribute-bool-wrong-type",
        ann(attributes={"occluded": "yes"}),
        ValidationError,
        "annotation.attributes.occluded",
        "true or false",
    ),
    case(
        "attribute-choice-not-in-choices",
        ann(attributes={"colour": "green"}),
        ValidationError,
        "annotation.attributes.colour",
        "['red', 'blue']",
    ),
    case(
        "attribute-int-above-maximum",
        ann(attributes={"passengers": 12}),
        ValidationError,
        "annotation.attributes.passengers",
        "≤ 9",
    ),
    case(
        "attribute-int-below-minimum",
        ann(attributes={"passengers": -1}),
        ValidationError,
        "annotation.attributes.passengers",
        "≥ 0",
    ),
    case(
        "attribute-int-given-float",
        ann(attributes={"passengers": 2.5}),
        ValidationError,
        "annotation.attributes.passengers",
        "integer",
    ),
    case(
        "attribute-of-sibling-class",
        ann(label="sign", attributes={"occluded": True}),
        ValidationError,
        "annotation.attributes.occluded",
        "'sign'",
    ),
    case("status-unknown", ann(status="done"), ValidationError, "annotation.status", "draft"),
    case("source-unknown", ann(source="robot"), ValidationError, "annotation.source", "human"),
    case("score-above-1", ann(score=1.5), ValidationError, "annotation.score", "[0, 1]"),
    case("score-nan", ann(score=NAN), ValidationError, "annotation.score", "[0, 1]"),
    case("stage-3", ann(stage=3), ValidationError, "annotation.stage"),
    case("track-not-a-string", ann(track=5), ValidationError, "annotation.track", "string"),
    case("entity-missing", ann(entity="e_nope"), NotFoundError, "annotation.entity", "entity"),
    case("id-not-a-string", ann(id=5), ValidationError, "annotation.id", "string"),
    case(
        "id-already-used",
        ann(id="a_box"),
        ConflictError,
        "annotation a_box",
        "an id not used yet",
    ),
    case("item-missing", ann(item="nope"), NotFoundError, "item", "'clip'"),
    case("stream-missing", ann(stream="thermal"), NotFoundError, "stream", "'cam'"),
    case("item-field-missing", ann(item=None), CommandError, "annotation.item", "item id"),
    case(
        "unknown-command-field",
        ann(colour="red"),
        CommandError,
        "annotation.colour",
        "only the fields",
    ),
]


@pytest.mark.parametrize(("action", "error", "where", "says"), ANNOTATION_CASES)
def test_annotation_add_refused(
    world: Session, tmp_path: Path, action: Any, error: type, where: str, says: str | None
) -> None:
    assert_refused(world, _run(world, tmp_path, action), error, where, says)


def test_the_defaults_are_valid(world: Session) -> None:
    """Guard: each base payload is accepted, so every refusal above is the override's."""
    for stream in DEFAULTS:
        before = world.store.last_seq()
        result = world.apply(ann(stream))
        assert world.store.last_seq() == before + 1
        assert world.get(result.id).stream == stream


# -- updates, deletes, links, entities, bulk, command envelope ------------------------------


def _stale(s: Session) -> int:
    return s.get("a_box").revision - 1


EDIT_CASES = [
    case(
        "update-missing-annotation",
        {"type": "annotation.update", "id": "a_nope", "label": "car"},
        NotFoundError,
        "annotation.id",
        "existing annotation",
    ),
    case(
        "update-stale-revision",
        lambda s, p: s.update("a_box", revision=_stale(s), label="sign"),
        ConflictError,
        "annotation.revision",
        "(the latest)",
    ),
    case(
        "update-unknown-label",
        {"type": "annotation.update", "id": "a_box", "label": "cat"},
        UnknownLabelError,
        "annotation.label",
    ),
    case(
        "update-out-of-bounds",
        {"type": "annotation.update", "id": "a_box", "geometry": box(x=639)},
        OutOfBoundsError,
        "annotation.geometry",
        "640×480",
    ),
    case(
        "update-kind-without-geometry",
        {"type": "annotation.update", "id": "a_box", "kind": "polygon"},
        GeometryError,
        "annotation.geometry",
    ),
    case(
        "update-nothing",
        {"type": "annotation.update", "id": "a_box"},
        CommandError,
        "annotation",
        "at least one of",
    ),
    case(
        "update-not-updatable-field",
        {"type": "annotation.update", "id": "a_box", "annotator": "bob"},
        CommandError,
        "annotation.annotator",
        "only the fields",
    ),
    case(
        "update-frame-out-of-range",
        {"type": "annotation.update", "id": "a_vid", "frame": 300},
        OutOfBoundsError,
        "annotation.frame",
        "[0, 299]",
    ),
    case(
        "delete-stale-revision",
        lambda s, p: s.delete("a_box", revision=_stale(s)),
        ConflictError,
        "annotation.revision",
        "(the latest)",
    ),
    case(
        "delete-missing",
        {"type": "annotation.delete", "id": "a_nope"},
        NotFoundError,
        "annotation.id",
    ),
    case(
        "link-to-missing-annotation",
        {"type": "link.add", "source": "a_box", "target": "a_nope", "link_type": "same_as"},
        NotFoundError,
        "link.target",
        "existing annotation",
    ),
    case(
        "link-from-missing-annotation",
        {"type": "link.add", "source": "a_nope", "target": "a_box", "link_type": "same_as"},
        NotFoundError,
        "link.source",
    ),
    case(
        "link-type-unknown",
        {"type": "link.add", "source": "a_cub", "target": "a_vid", "link_type": "knows"},
        UnknownLabelError,
        "link.link_type",
        "'same_as'",
    ),
    case(
        "link-type-missing",
        {"type": "link.add", "source": "a_cub", "target": "a_vid"},
        CommandError,
        "link.link_type",
    ),
    case(
        "link-type-refuses-kinds",
        {"type": "link.add", "source": "a_box", "target": "a_seg", "link_type": "speaks"},
        ValidationError,
        "link.link_type",
        "box → time_segment",
    ),
    case(
        "link-type-refuses-reverse-direction",
        {"type": "link.add", "source": "a_seg", "target": "a_cub", "link_type": "speaks"},
        ValidationError,
        "link.link_type",
        "time_segment → cuboid",
    ),
    case(
        "link-across-items",
        {"type": "link.add", "source": "a_box", "target": "o_box", "link_type": "refers_to"},
        ValidationError,
        "link.target",
        "item 'clip'",
    ),
    case(
        "link-to-itself",
        {"type": "link.add", "source": "a_box", "target": "a_box", "link_type": "refers_to"},
        ValidationError,
        "link.target",
        "other than the source",
    ),
    case(
        "link-duplicate",
        {"type": "link.add", "source": "a_cub", "target": "a_box", "link_type": "same_as"},
        ValidationError,
        "link",
        "not already present",
    ),
    case(
        "link-attributes-not-mapping",
        {
            "type": "link.add",
            "source": "a_cub",
            "target": "a_vid",
            "link_type": "same_as",
            "attributes": [1],
        },
        ValidationError,
        "link.attributes",
        "mapping",
    ),
    case(
        "link-delete-missing",
        {"type": "link.delete", "id": "l_nope"},
        NotFoundError,
        "link.id",
    ),
    case(
        "entity-member-missing",
        {"type": "entity.add", "members": ["a_vid", "a_nope"]},
        NotFoundError,
        "entity.members[1]",
        "existing annotation",
    ),
    case(
        "entity-label-unknown",
        {"type": "entity.add", "label": "cat"},
        UnknownLabelError,
        "entity.label",
    ),
    case(
        "entity-members-not-list",
        {"type": "entity.add", "members": "a_box"},
        ValidationError,
        "entity.members",
        "list of annotation ids",
    ),
    case(
        "entity-update-missing",
        {"type": "entity.update", "id": "e_nope", "name": "x"},
        NotFoundError,
        "entity.id",
    ),
    case(
        "entity-merge-one-id",
        {"type": "entity.merge", "ids": ["e1"]},
        ValidationError,
        "entity.merge.ids",
        "at least two",
    ),
    case(
        "entity-merge-missing",
        {"type": "entity.merge", "ids": ["e1", "e_nope"]},
        NotFoundError,
        "entity.merge.ids[1]",
    ),
    case(
        "bulk-third-of-five-bad",
        {
            "type": "annotations.add",
            "annotations": [
                DEFAULTS["cam"],
                DEFAULTS["audio"],
                {**DEFAULTS["cam"], "label": "cat"},
                DEFAULTS["text"],
                DEFAULTS["video"],
            ],
        },
        UnknownLabelError,
        "annotations[2].label",
        "'cat'",
    ),
    case(
        "bulk-last-out-of-bounds",
        {
            "type": "annotations.add",
            "annotations": [
                DEFAULTS["cam"],
                DEFAULTS["audio"],
                {**DEFAULTS["video"], "frame": 999},
            ],
        },
        OutOfBoundsError,
        "annotations[2].frame",
    ),
    case(
        "bulk-duplicate-ids",
        {
            "type": "annotations.add",
            "annotations": [
                {**DEFAULTS["cam"], "id": "dup"},
                {**DEFAULTS["audio"], "id": "dup"},
            ],
        },
        ValidationError,
        "annotations[1].id",
        "unique",
    ),
    case(
        "bulk-id-already-stored",
        {
            "type": "annotations.add",
            "annotations": [
                {**DEFAULTS["cam"], "id": "fresh"},
                {**DEFAULTS["audio"], "id": "a_seg"},
            ],
        },
        ConflictError,
        "annotation a_seg",
    ),
    case(
        "bulk-not-a-list",
        {"type": "annotations.add", "annotations": DEFAULTS["cam"]},
        CommandError,
        "annotations.annotations",
        "a list",
    ),
    case(
        "bulk-entry-not-mapping",
        {"type": "annotations.add", "annotations": [DEFAULTS["cam"], "box"]},
        CommandError,
        "annotations[1]",
        "a mapping",
    ),
    case(
        "command-type-unknown",
        {"type": "annotation.paint", "item": "clip"},
        CommandError,
        "command.type",
        "annotation.add",
    ),
    case("command-type-missing", {"item": "clip"}, CommandError, "command.type"),
    case(
        "command-not-a-mapping",
        lambda s, p: s.apply(["annotation.add"]),
        CommandError,
        "command",
        "a mapping",
    ),
]


@pytest.mark.parametrize(("action", "error", "where", "says"), EDIT_CASES)
def test_edit_refused(
    world: Session, tmp_path: Path, action: Any, error: type, where: str, says: str | None
) -> None:
    assert_refused(world, _run(world, tmp_path, action), error, where, says)


def test_stale_update_keeps_the_record(world: Session) -> None:
    current = world.get("a_box")
    assert current.revision >= 2  # entity membership bumped it in the fixture
    with pytest.raises(ConflictError) as info:
        world.update("a_box", revision=current.revision - 1, label="sign", geometry=box(x=50))
    assert info.value.got == current.revision - 1
    after = world.get("a_box")
    assert after == current
    assert (after.label, after.geometry.to_dict()["x"], after.revision) == ("car", 10, 2)
    # the right revision goes through
    assert world.update("a_box", revision=current.revision, label="sign") == current.revision + 1
    assert world.get("a_box").label == "sign"


def test_bulk_with_a_bad_third_stores_none(world: Session) -> None:
    n = len(world.annotations)
    batch = [{**DEFAULTS["cam"], "id": f"bulk{i}"} for i in range(5)]
    batch[2] = {**batch[2], "geometry": box(w=-1)}
    with pytest.raises(GeometryError, match=r"annotations\[2\]\.geometry\.w"):
        world.apply({"type": "annotations.add", "annotations": batch})
    assert len(world.annotations) == n
    assert not any(world.store.get("annotation", f"bulk{i}") for i in range(5))
    batch[2] = {**DEFAULTS["cam"], "id": "bulk2"}
    result = world.apply({"type": "annotations.add", "annotations": batch})
    assert list(result.ids) == [f"bulk{i}" for i in range(5)]
    assert len(world.annotations) == n + 5


# -- clocks: set_clock and the stream.clock command -------------------------------------------

CLOCK_CASES = [
    case(
        "set-clock-negative-rate",
        lambda s, p: s.set_clock("clip", "audio", rate=-1.0),
        ClockError,
        "clock.rate",
        "> 0",
    ),
    case(
        "set-clock-zero-rate",
        lambda s, p: s.set_clock("clip", "audio", rate=0.0),
        ClockError,
        "clock.rate",
    ),
    case(
        "set-clock-nan-offset",
        lambda s, p: s.set_clock("clip", "audio", offset=NAN),
        ClockError,
        "clock.offset",
        "finite",
    ),
    case(
        "set-clock-offset-string",
        lambda s, p: s.set_clock("clip", "audio", offset="0.5"),
        ClockError,
        "clock.offset",
        "number of seconds",
    ),
    case(
        "set-clock-missing-stream",
        lambda s, p: s.set_clock("clip", "mic2", offset=0.1),
        NotFoundError,
        "stream",
        "'audio'",
    ),
    case(
        "set-clock-missing-item",
        lambda s, p: s.set_clock("nope", "audio", offset=0.1),
        NotFoundError,
        "item",
    ),
    case(
        "stream-clock-unknown-field",
        {"type": "stream.clock", "item": "clip", "stream": "audio", "skew": 2},
        CommandError,
        "clock.skew",
        "only the fields",
    ),
    case(
        "stream-clock-stale-revision",
        {
            "type": "stream.clock",
            "item": "clip",
            "stream": "audio",
            "offset": 1.0,
            "revision": 7,
        },
        ConflictError,
        "clock.revision",
    ),
    case(
        "stream-clock-rate-and-drift",
        {
            "type": "stream.clock",
            "item": "clip",
            "stream": "audio",
            "rate": 1.5,
            "drift_ppm": 20,
        },
        ClockError,
        "clock",
        "not both",
    ),
]


@pytest.mark.parametrize(("action", "error", "where", "says"), CLOCK_CASES)
def test_clock_refused(
    world: Session, tmp_path: Path, action: Any, error: type, where: str, says: str | None
) -> None:
    assert_refused(world, _run(world, tmp_path, action), error, where, says)


# -- items: the item.add command and add_item with media paths ------------------------------


def _bad_item(item: dict[str, Any] | str, streams: list[dict[str, Any]]) -> Any:
    return {"type": "item.add", "item": item, "streams": streams}


def _image_stream(item: str, name: str = "cam", **kw: Any) -> dict[str, Any]:
    return {**Stream(item, name, "image", width=64, height=48).to_dict(), **kw}


ITEM_CASES = [
    case(
        "item-add-duplicate-id",
        _bad_item({"id": "clip", "meta": {}, "calibrations": {}}, [_image_stream("clip")]),
        ValidationError,
        "item.id",
        "not used by another item",
    ),
    case(
        "item-add-invalid-id",
        _bad_item({"id": "a/b", "meta": {}, "calibrations": {}}, []),
        ValidationError,
        "item.id",
        "letters, digits",
    ),
    case(
        "item-add-item-not-a-mapping",
        _bad_item("clip2", []),
        CommandError,
        "item.item",
    ),
    case(
        "item-add-stream-unknown-modality",
        _bad_item(
            {"id": "clip2", "meta": {}, "calibrations": {}},
            [_image_stream("clip2", modality="smell")],
        ),
        ValidationError,
        "stream.modality",
        "'image'",
    ),
    case(
        "item-add-stream-of-another-item",
        _bad_item({"id": "clip2", "meta": {}, "calibrations": {}}, [_image_stream("clip")]),
        ValidationError,
        "streams[0].item",
        "'clip2'",
    ),
    case(
        "item-add-duplicate-stream-names",
        _bad_item(
            {"id": "clip2", "meta": {}, "calibrations": {}},
            [_image_stream("clip2"), _image_stream("clip2")],
        ),
        ValidationError,
        "name",
        "unique",
    ),
]


@pytest.mark.parametrize(("action", "error", "where", "says"), ITEM_CASES)
def test_item_add_refused(
    world: Session, tmp_path: Path, action: Any, error: type, where: str, says: str | None
) -> None:
    assert_refused(world, _run(world, tmp_path, action), error, where, says)


@pytest.fixture
def media(tmp_path: Path) -> Path:
    folder = tmp_path / "media"
    folder.mkdir()
    (folder / "notes.txt").write_text("some notes\n", encoding="utf-8")
    (folder / "fake.mp4").write_text("this is text, not a video\n", encoding="utf-8")
    (folder / "kitti_short.txt").write_text(
        "P0: 1 0 0 0 0 1 0 0 0 0 1\n"
        "R0_rect: 1 0 0 0 1 0 0 0 1\n"
        "Tr_velo_to_cam: 0 -1 0 0 0 0 -1 0 1 0 0 0\n",
        encoding="utf-8",
    )
    sweeps = folder / "sweeps"
    sweeps.mkdir()
    for i in range(3):
        np.zeros((4, 4), np.float32).tofile(sweeps / f"{i:06d}.bin")
    return folder


def _add_item(**kw: Any) -> Callable[[Session, Path], Any]:
    def act(s: Session, tmp_path: Path) -> Any:
        args = {
            k: (tmp_path / "media" / v if isinstance(v, str) and k != "item_id" else v)
            for k, v in kw.items()
        }
        item_id = args.pop("item_id", "new-item")
        return s.add_item(item_id, **args)

    return act


ADD_ITEM_CASES = [
    case(
        "add-item-unknown-stream-keyword",
        _add_item(lidr="sweeps"),
        ValidationError,
        "lidr",
        "one of",
    ),
    case(
        "add-item-clocks-name-unknown-stream",
        _add_item(text="notes.txt", clocks={"audio": {"offset": 0.5}}),
        ClockError,
        "clocks['audio']",
        "['text']",
    ),
    case(
        "add-item-clock-bad-rate",
        _add_item(text="notes.txt", clocks={"text": {"rate": -2}}),
        ClockError,
        "clock.rate",
    ),
    case(
        "add-item-duplicate-id",
        _add_item(item_id="clip", text="notes.txt"),
        ValidationError,
        "add_item(item_id)",
        "not used by another item",
    ),
    case(
        "add-item-invalid-id",
        _add_item(item_id="a/b", text="notes.txt"),
        ValidationError,
        "add_item(item_id)",
        "letters, digits",
    ),
    case("add-item-no-media", _add_item(), ValidationError, "add_item", "at least one stream"),
    case(
        "add-item-missing-calibration-file",
        _add_item(text="notes.txt", calibration="nope.json"),
        MissingMediaError,
        "nope.json",
        "calibration file",
    ),
    case(
        "add-item-kitti-calibration-wrong-count",
        _add_item(text="notes.txt", calibration="kitti_short.txt"),
        CalibrationError,
        "kitti_short.txt: P0",
        "12 numbers",
    ),
    case(
        "add-item-lidar-without-timestamps",
        _add_item(lidar="sweeps"),
        ValidationError,
        "add_item(lidar=",
        "sweep timestamps",
    ),
    case(
        "add-item-lidar-wrong-number-of-timestamps",
        lambda s, p: s.add_item(
            "new-item", lidar={"path": p / "media" / "sweeps", "timestamps": [0.0, 0.1]}
        ),
        ValidationError,
        ".timestamps",
        "3 timestamps",
    ),
]


@pytest.mark.parametrize(("action", "error", "where", "says"), ADD_ITEM_CASES)
def test_add_item_refused(
    world: Session,
    tmp_path: Path,
    media: Path,
    action: Any,
    error: type,
    where: str,
    says: str | None,
) -> None:
    pytest.importorskip("accord.media.probe")  # ingest imports it before probing anything
    assert_refused(world, _run(world, tmp_path, action), error, where, says)


def test_add_item_missing_media(world: Session, media: Path) -> None:
    pytest.importorskip("accord.media.probe")
    missing = media / "nope.mp4"
    err = assert_refused(
        world, lambda: world.add_item("new-item", video=missing), MissingMediaError, str(missing)
    )
    assert "video" in str(err)
    assert isinstance(err, FileNotFoundError)


def test_add_item_text_renamed_mp4_is_corrupt(world: Session, media: Path) -> None:
    pytest.importorskip("accord.media.probe")
    fake = media / "fake.mp4"
    assert_refused(
        world, lambda: world.add_item("new-item", video=fake), CorruptMediaError, "fake.mp4"
    )


def test_unknown_media_keyword_in_build_streams(world: Session, media: Path) -> None:
    from accord.media.ingest import build_streams

    err = assert_refused(
        world,
        lambda: build_streams("x", clocks={}, lidr=media / "sweeps"),
        ValidationError,
        "add_item(lidr=...)",
        "'lidar'",
    )
    assert err.got == "lidr"


# -- taxonomy files ---------------------------------------------------------------------------

GOOD_CLASS = {"name": "car", "color": "#112233"}


def _tax(**kw: Any) -> dict[str, Any]:
    return {"name": "t", "version": 1, "classes": [GOOD_CLASS], **kw}


TAXONOMY_CASES = [
    case(
        "yaml-syntax-error",
        ("bad.yaml", "name: t\nclasses:\n  - name: car\n    color: [unclosed\n"),
        TaxonomyError,
        "bad.yaml line",
        "valid YAML",
    ),
    case(
        "json-syntax-error",
        ("bad.json", '{"name": "t",\n "classes": [}\n'),
        TaxonomyError,
        "bad.json line 2",
        "valid JSON",
    ),
    case(
        "bad-colour",
        _tax(classes=[{"name": "car", "color": "blue"}]),
        TaxonomyError,
        "classes[0].color",
        "'#rrggbb'",
    ),
    case(
        "duplicate-class",
        _tax(classes=[GOOD_CLASS, {"name": "car"}]),
        TaxonomyError,
        "classes[1].name",
        "unique class name",
    ),
    case(
        "unknown-parent",
        _tax(classes=[{"name": "car", "parent": "vehicle"}]),
        TaxonomyError,
        "classes.car.parent",
        "another class",
    ),
    case(
        "parent-cycle",
        _tax(classes=[{"name": "a", "parent": "b"}, {"name": "b", "parent": "a"}]),
        TaxonomyError,
        ".parent",
        "without cycles",
    ),
    case(
        "self-parent",
        _tax(classes=[{"name": "a", "parent": "a"}]),
        TaxonomyError,
        "classes.a.parent",
        "without cycles",
    ),
    case(
        "unknown-geometry",
        _tax(classes=[{"name": "car", "geometries": {"image": ["sphere"]}}]),
        TaxonomyError,
        "classes[0].geometries.image",
        "'box'",
    ),
    case(
        "geometry-impossible-on-modality",
        _tax(classes=[{"name": "car", "geometries": {"audio": ["box"]}}]),
        TaxonomyError,
        "classes[0].geometries.audio",
        "time_segment",
    ),
    case(
        "unknown-modality",
        _tax(classes=[{"name": "car", "geometries": {"radar": ["box"]}}]),
        TaxonomyError,
        "classes[0].geometries",
        "modalities among",
    ),
    case(
        "duplicate-hotkey",
        _tax(classes=[{"name": "car", "hotkey": "c"}, {"name": "cat", "hotkey": "c"}]),
        TaxonomyError,
        "classes.cat.hotkey",
        "'car'",
    ),
    case(
        "hotkey-two-characters",
        _tax(classes=[{"name": "car", "hotkey": "ca"}]),
        TaxonomyError,
        "classes[0].hotkey",
        "single printable character",
    ),
    case(
        "rule-kind-unknown",
        _tax(rules=[{"id": "r1", "kind": "must_agree"}]),
        TaxonomyError,
        "rules[0].kind",
        "requires_link",
    ),
    case(
        "rule-missing-params",
        _tax(
            link_types=[{"name": "same_as"}],
            rules=[{"id": "r1", "kind": "requires_link", "params": {"link_type": "same_as"}}],
        ),
        TaxonomyError,
        "rules[0].params",
        "['from', 'link_type', 'to']",
    ),
    case(
        "rule-unknown-link-type",
        _tax(rules=[{"id": "r1", "kind": "same_class", "params": {"link_type": "knows"}}]),
        TaxonomyError,
        "rules.r1.params.link_type",
        "declared link type",
    ),
    case(
        "rule-from-not-a-modality",
        _tax(
            link_types=[{"name": "same_as"}],
            rules=[
                {
                    "id": "r1",
                    "kind": "requires_link",
                    "params": {"link_type": "same_as", "from": "lidar", "to": "video"},
                }
            ],
        ),
        TaxonomyError,
        "rules[0].params.from",
        "pointcloud",
    ),
    case(
        "rule-unknown-class",
        _tax(rules=[{"id": "r1", "kind": "no_overlap", "classes": ["bus"]}]),
        TaxonomyError,
        "rules.r1.classes",
        "names of classes",
    ),
    case(
        "rule-duplicate-ids",
        _tax(rules=[{"id": "r1", "kind": "no_overlap"}, {"id": "r1", "kind": "no_overlap"}]),
        TaxonomyError,
        "rules",
        "unique rule ids",
    ),
    case(
        "rule-bad-severity",
        _tax(rules=[{"id": "r1", "kind": "no_overlap", "severity": "fatal"}]),
        TaxonomyError,
        "rules[0].severity",
        "warning",
    ),
    case(
        "attribute-type-unknown",
        _tax(classes=[{"name": "car", "attributes": [{"name": "n", "type": "date"}]}]),
        TaxonomyError,
        "classes[0].attributes[0]",
        "multi_choice",
    ),
    case(
        "choice-attribute-without-choices",
        _tax(classes=[{"name": "car", "attributes": [{"name": "c", "type": "choice"}]}]),
        TaxonomyError,
        "choices",
        "non-empty list",
    ),
    case(
        "attribute-default-wrong-type",
        _tax(
            classes=[
                {
                    "name": "car",
                    "attributes": [{"name": "occluded", "type": "bool", "default": "no"}],
                }
            ]
        ),
        TaxonomyError,
        "default",
        "true or false",
    ),
    case(
        "duplicate-attribute",
        _tax(classes=[{"name": "car", "attributes": [{"name": "n"}, {"name": "n"}]}]),
        TaxonomyError,
        "classes[0].attributes",
        "distinct attribute names",
    ),
    case(
        "link-type-unknown-kind",
        _tax(link_types=[{"name": "same_as", "sources": ["blob"]}]),
        TaxonomyError,
        "link_types[0].sources",
        "geometry kinds among",
    ),
    case(
        "unknown-top-level-key",
        _tax(labels=["car"]),
        TaxonomyError,
        "taxonomy",
        "only the keys",
    ),
    case("version-zero", _tax(version=0), TaxonomyError, "version", "≥ 1"),
    case("version-string", _tax(version="2"), TaxonomyError, "version", "integer"),
    case(
        "not-a-mapping",
        ("list.yaml", "- car\n- bus\n"),
        TaxonomyError,
        "list.yaml",
        "a mapping",
    ),
    case(
        "missing-file",
        ("-", None),
        TaxonomyError,
        "missing.yaml",
        "existing taxonomy file",
    ),
    case(
        "wrong-extension",
        ("tax.txt", "name: t\n"),
        TaxonomyError,
        "tax.txt",
        ".yaml",
    ),
    case(
        "mapping-form-value-not-mapping",
        {"name": "t", "classes": {"car": "#ff0000"}},
        TaxonomyError,
        "classes",
        "mapping",
    ),
    case(
        "attribute-minimum-not-a-number",
        _tax(
            classes=[
                {"name": "car", "attributes": [{"name": "n", "type": "int", "minimum": "zero"}]}
            ]
        ),
        TaxonomyError,
        "minimum",
        "number",
    ),
    case(
        "attribute-minimum-above-maximum",
        _tax(
            classes=[
                {
                    "name": "car",
                    "attributes": [{"name": "n", "type": "int", "minimum": 5, "maximum": 1}],
                }
            ]
        ),
        TaxonomyError,
        "minimum",
        "maximum",
    ),
]


def _load_taxonomy(spec: Any, folder: Path) -> Taxonomy:
    if isinstance(spec, dict):
        path = folder / "taxonomy.yaml"
        import yaml

        path.write_text(yaml.safe_dump(spec, sort_keys=False), encoding="utf-8")
        return Taxonomy.load(path)
    name, text = spec
    if text is None:
        return Taxonomy.load(folder / "missing.yaml")
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return Taxonomy.load(path)


@pytest.mark.parametrize(("spec", "error", "where", "says"), TAXONOMY_CASES)
def test_taxonomy_file_refused(
    world: Session, tmp_path: Path, spec: Any, error: type, where: str, says: str | None
) -> None:
    err = assert_refused(world, lambda: _load_taxonomy(spec, tmp_path), error, where, says)
    if isinstance(spec, dict):  # errors from a file name the file
        assert "taxonomy.yaml" in str(err)


def test_yaml_syntax_error_names_the_line(tmp_path: Path) -> None:
    path = tmp_path / "guidelines.yaml"
    path.write_text("name: t\nversion: 1\nclasses:\n  - name: car\n    color: '#ff0000\n")
    with pytest.raises(TaxonomyError) as info:
        Taxonomy.from_yaml(path)
    assert str(info.value).startswith("guidelines.yaml line ")
    line = int(str(info.value).split(" line ")[1].split(",")[0])
    assert 5 <= line <= 6  # the unterminated quote opens on line 5, runs to the end


def test_session_with_a_bad_taxonomy_file_leaves_the_store(world: Session, tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: t\nclasses:\n  - {name: car, color: red}\n", encoding="utf-8")
    assert_refused(
        world,
        lambda: Session(world.store.location, taxonomy=bad, annotator="bob"),
        TaxonomyError,
        "bad.yaml: classes[0].color",
        "'#rrggbb'",
    )


def test_session_with_a_clashing_taxonomy_leaves_the_store(world: Session) -> None:
    clash = Taxonomy.from_dict({**TAXONOMY, "classes": [{"name": "car"}]})  # same v1, other content
    assert_refused(
        world,
        lambda: Session(world.store.location, taxonomy=clash, annotator="bob"),
        TaxonomyError,
        "taxonomy.version",
        "a new version number",
    )


# -- model values: clocks, timelines, calibration --------------------------------------------

MODEL_CASES = [
    case("clock-rate-zero", lambda s, p: Clock(0.0, 0.0), ClockError, "clock.rate", "> 0"),
    case("clock-rate-negative", lambda s, p: Clock(0.0, -1.0), ClockError, "clock.rate"),
    case("clock-offset-nan", lambda s, p: Clock(NAN, 1.0), ClockError, "clock.offset", "finite"),
    case("clock-rate-inf", lambda s, p: Clock(0.0, INF), ClockError, "clock.rate", "finite"),
    case(
        "clock-unknown-key",
        lambda s, p: Clock.from_dict({"offset": 1, "skew": 2}),
        ClockError,
        "clock",
        "only keys",
    ),
    case(
        "clock-rate-and-drift",
        lambda s, p: Clock.from_dict({"rate": 1.0, "drift_ppm": 5}),
        ClockError,
        "clock",
        "not both",
    ),
    case(
        "timeline-non-increasing",
        lambda s, p: FrameTimeline(np.array([0.0, 0.1, 0.1, 0.2]), 0.3),
        ClockError,
        "timeline.timestamps",
        "strictly increasing",
    ),
    case(
        "timeline-decreasing",
        lambda s, p: FrameTimeline(np.array([0.0, 0.2, 0.1]), 0.3),
        ClockError,
        "timeline.timestamps",
        "strictly increasing",
    ),
    case(
        "timeline-end-before-last-frame",
        lambda s, p: FrameTimeline(np.array([0.0, 0.1, 0.2]), 0.15),
        ClockError,
        "timeline.end",
        "after the last frame",
    ),
    case(
        "timeline-nan",
        lambda s, p: FrameTimeline(np.array([0.0, NAN]), 1.0),
        ClockError,
        "timeline.timestamps",
        "finite",
    ),
    case(
        "timeline-2d",
        lambda s, p: FrameTimeline(np.zeros((2, 2)), 1.0),
        ClockError,
        "timeline.timestamps",
        "1-D",
    ),
    case(
        "timeline-rate-garbage",
        lambda s, p: FrameTimeline.constant("thirty", 10),
        ClockError,
        "timeline.rate",
        "30000/1001",
    ),
    case(
        "timeline-rate-zero",
        lambda s, p: FrameTimeline.constant(0, 10),
        ClockError,
        "timeline.rate",
        "positive",
    ),
    case(
        "timeline-count-zero",
        lambda s, p: FrameTimeline.constant(25, 0),
        ClockError,
        "timeline.count",
        "positive",
    ),
    case(
        "timeline-from-no-timestamps",
        lambda s, p: FrameTimeline.from_timestamps([]),
        ClockError,
        "timeline.timestamps",
        "non-empty",
    ),
    case(
        "timeline-count-string",
        lambda s, p: FrameTimeline.constant(25, "10"),
        ClockError,
        "timeline.count",
    ),
    case(
        "calibration-3x3-extrinsics",
        lambda s, p: Calibration("cam", extrinsics=np.eye(3)),
        CalibrationError,
        "calibration['cam'].extrinsics",
        "(4, 4)",
    ),
    case(
        "calibration-extrinsics-not-rotation",
        lambda s, p: Calibration("cam", extrinsics=np.diag([2.0, 1.0, 1.0, 1.0])),
        CalibrationError,
        "calibration['cam'].extrinsics",
        "orthonormal",
    ),
    case(
        "calibration-extrinsics-reflection",
        lambda s, p: Calibration("cam", extrinsics=np.diag([-1.0, 1.0, 1.0, 1.0])),
        CalibrationError,
        "calibration['cam'].extrinsics",
        "det +1",
    ),
    case(
        "calibration-extrinsics-bad-last-row",
        lambda s, p: Calibration("cam", extrinsics=np.vstack([np.eye(4)[:3], [0, 0, 1, 1]])),
        CalibrationError,
        "calibration['cam'].extrinsics",
        "[0, 0, 0, 1]",
    ),
    case(
        "calibration-singular-intrinsics",
        lambda s, p: Calibration("cam", intrinsics=[[500, 0, 320], [1000, 0, 640], [0, 0, 1]]),
        CalibrationError,
        "calibration['cam'].intrinsics",
        "invertible",
    ),
    case(
        "calibration-negative-focal",
        lambda s, p: Calibration("cam", intrinsics=[[-500, 0, 320], [0, 500, 240], [0, 0, 1]]),
        CalibrationError,
        "calibration['cam'].intrinsics",
        "fx, fy > 0",
    ),
    case(
        "calibration-nan",
        lambda s, p: Calibration("cam", extrinsics=np.where(np.eye(4) == 1, 1.0, NAN)),
        CalibrationError,
        "calibration['cam'].extrinsics",
        "finite",
    ),
    case(
        "calibration-distortion-3-coefficients",
        lambda s, p: Calibration("cam", distortion=[0.1, 0.0, 0.0]),
        CalibrationError,
        "calibration['cam'].distortion",
        "4, 5 or 8",
    ),
    case(
        "calibration-image-size-zero",
        lambda s, p: Calibration("cam", image_size=(0, 480)),
        CalibrationError,
        "calibration['cam'].image_size",
        "> 0",
    ),
    case(
        "calibration-unknown-key",
        lambda s, p: Calibration.from_dict({"sensor": "cam", "K": np.eye(3).tolist()}),
        CalibrationError,
        "calibration",
        "only keys",
    ),
    case(
        "calibration-image-size-three-values",
        lambda s, p: Calibration("cam", image_size=(640, 480, 3)),
        CalibrationError,
        "calibration['cam'].image_size",
        "(width, height)",
    ),
    case(
        "calibration-distortion-strings",
        lambda s, p: Calibration("cam", distortion=["a", "b", "c", "d"]),
        CalibrationError,
        "calibration['cam'].distortion",
        "coefficients",
    ),
]


@pytest.mark.parametrize(("action", "error", "where", "says"), MODEL_CASES)
def test_model_value_refused(
    world: Session, tmp_path: Path, action: Any, error: type, where: str, says: str | None
) -> None:
    assert_refused(world, _run(world, tmp_path, action), error, where, says)


# -- interchange files: WebVTT and KITTI calibration -------------------------------------------

VTT_OK_CUE = "00:00:01.000 --> 00:00:02.000\n<v Ana>Hello\n"

FILE_CASES = [
    case(
        "webvtt-bad-timing-line",
        ("t.vtt", f"WEBVTT\n\n{VTT_OK_CUE}\n00:00:03,000 --> 00:00:04.000\nBye\n"),
        FormatError,
        "t.vtt line 6",
        "hh:mm:ss.ttt",
    ),
    case(
        "webvtt-bad-minutes",
        ("t.vtt", "WEBVTT\n\ncue-1\n00:75:03.000 --> 00:76:04.000\nBye\n"),
        FormatError,
        "t.vtt line 4",
        "a timing",
    ),
    case(
        "webvtt-missing-header",
        ("t.vtt", VTT_OK_CUE),
        FormatError,
        "t.vtt line 1",
        "'WEBVTT'",
    ),
    case(
        "webvtt-end-before-start",
        ("t.vtt", "WEBVTT\n\n00:00:05.000 --> 00:00:04.000\nBye\n"),
        FormatError,
        "t.vtt line 3",
        "≥ the start time",
    ),
    case(
        "webvtt-identifier-without-timing",
        ("t.vtt", "WEBVTT\n\nlonely-identifier\n"),
        FormatError,
        "t.vtt line 3",
        "timing line",
    ),
    case(
        "webvtt-missing-file",
        ("-", None),
        MissingMediaError,
        "missing.vtt",
        "WebVTT file",
    ),
    case(
        "kitti-wrong-number-of-values",
        (
            "calib.txt",
            "P2: 700 0 600 0 0 700 180 0 0 0 1\nR0_rect: 1 0 0 0 1 0 0 0 1\n"
            "Tr_velo_to_cam: 0 -1 0 0 0 0 -1 0 1 0 0 0\n",
        ),
        CalibrationError,
        "calib.txt: P2",
        "12 numbers",
    ),
    case(
        "kitti-line-without-colon",
        ("calib.txt", "P2: 700 0 600 0 0 700 180 0 0 0 1 0\nR0_rect 1 0 0 0 1 0 0 0 1\n"),
        CalibrationError,
        "calib.txt line 2",
        "'KEY: n1 n2 ...'",
    ),
    case(
        "kitti-not-numbers",
        ("calib.txt", "P2: 700 0 six 0 0 700 180 0 0 0 1 0\n"),
        CalibrationError,
        "calib.txt line 1",
        "numbers after the key",
    ),
    case(
        "kitti-missing-r0",
        (
            "calib.txt",
            "P2: 700 0 600 0 0 700 180 0 0 0 1 0\nTr_velo_to_cam: 0 -1 0 0 0 0 -1 0 1 0 0 0\n",
        ),
        CalibrationError,
        "calib.txt: R0_rect",
        "3x3 matrix",
    ),
    case(
        "kitti-singular-projection",
        (
            "calib.txt",
            "P2: 0 0 0 0 0 0 0 0 0 0 1 0\nR0_rect: 1 0 0 0 1 0 0 0 1\n"
            "Tr_velo_to_cam: 0 -1 0 0 0 0 -1 0 1 0 0 0\n",
        ),
        CalibrationError,
        "calib.txt: P2",
        "invertible",
    ),
    case(
        "calibration-json-not-json",
        ("calib.json", "{sensors: nope"),
        CalibrationError,
        "calib.json",
        "calibration JSON",
    ),
    case(
        "calibration-json-sensors-not-mapping",
        ("calib.json", '{"sensors": [1, 2]}'),
        CalibrationError,
        "calib.json: sensors",
        "sensor name",
    ),
    case(
        "calibration-json-bad-extrinsics",
        ("calib.json", '{"sensors": {"lidar": {"extrinsics": [[1, 0], [0, 1]]}}}'),
        CalibrationError,
        "calibration['lidar'].extrinsics",
        "(4, 4)",
    ),
]


def _read_file(spec: tuple[str, str | None], folder: Path) -> Any:
    from accord.io.calibration import read_calibration
    from accord.io.webvtt import read_webvtt

    name, text = spec
    if text is None:
        return read_webvtt(folder / "missing.vtt")
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return read_webvtt(path) if name.endswith(".vtt") else read_calibration(path)


@pytest.mark.parametrize(("spec", "error", "where", "says"), FILE_CASES)
def test_interchange_file_refused(
    world: Session, tmp_path: Path, spec: Any, error: type, where: str, says: str | None
) -> None:
    assert_refused(world, lambda: _read_file(spec, tmp_path), error, where, says)


def test_good_files_parse(tmp_path: Path) -> None:
    """Guard for the file cases: the same layouts, fixed, are accepted."""
    from accord.io.calibration import read_calibration
    from accord.io.webvtt import read_webvtt

    vtt = tmp_path / "ok.vtt"
    vtt.write_text(f"WEBVTT\n\n{VTT_OK_CUE}\n00:00:03.000 --> 00:00:04.000\nBye\n")
    tr = read_webvtt(vtt)
    assert [(c.start, c.end, c.speaker) for c in tr.cues] == [(1.0, 2.0, "Ana"), (3.0, 4.0, None)]
    calib = tmp_path / "calib.txt"
    calib.write_text(
        "P2: 700 0 600 0 0 700 180 0 0 0 1 0\nR0_rect: 1 0 0 0 1 0 0 0 1\n"
        "Tr_velo_to_cam: 0 -1 0 0 0 0 -1 0 1 0 0 0\n"
    )
    sensors = read_calibration(calib)
    assert sorted(sensors) == ["cam2", "velo"]
    assert sensors["cam2"].intrinsics[0, 0] == 700


def test_store_still_usable_after_every_kind_of_refusal(world: Session) -> None:
    """After refusals the session accepts edits and undo works on the last good command."""
    for bad in (ann(label="cat"), ann("video", frame=300), {"type": "nope"}):
        with pytest.raises(AccordError):
            world.apply(bad)
    new_id = world.annotate("clip", "cam", "car", box(x=1), kind="box")
    assert world.get(new_id).geometry.to_dict()["x"] == 1
    world.undo()
    assert world.store.get("annotation", new_id) is None
    assert world.check_integrity() == []


def test_assert_refused_notices_a_change(world: Session) -> None:
    """Guard for the helper: an action that commits before raising is caught."""

    def commit_then_raise() -> None:
        world.annotate("clip", "cam", "car", box(x=2), kind="box")
        raise ValidationError("annotation.label", "nothing", None)

    with pytest.raises(AssertionError):
        assert_refused(world, commit_then_raise, ValidationError, "annotation.label")


def test_assert_refused_notices_the_wrong_class(world: Session) -> None:
    with pytest.raises(AssertionError, match="expected GeometryError, got UnknownLabelError"):
        assert_refused(world, lambda: world.apply(ann(label="cat")), GeometryError, "label")
