"""Cross-modal consistency checks (``accord.qa.checks``).

The sample scene is annotated from its ground truth (a cuboid per sweep for
both objects, their projected boxes at the matched frames, ``same_as`` links,
speech segments with ``speaks`` links to the person's box), which must give
no finding at all. Then one error per check is planted and each test asserts
that exactly that error is found, with the right rule, ids, place and message.
"""

from __future__ import annotations

import math
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
import yaml

import accord as ac
from accord.errors import NotFoundError, TaxonomyError, ValidationError
from accord.qa import checks
from accord.qa.checks import (
    CHECKS,
    FINDING_COLUMNS,
    RULE_CHECKS,
    Finding,
    SyncSuspicion,
    findings,
    project_cuboids,
    run_checks,
    sync_findings,
)
from accord.store import Change

from .conftest import TAXONOMY_YAML

RULES = [
    {
        "id": "cuboid-has-box",
        "kind": "requires_link",
        "classes": ["vehicle", "person"],
        "params": {"link_type": "same_as", "from": "pointcloud", "to": "video", "when": "projects"},
        "message": "label every object in view in the camera too",
    },
    {"id": "same-class", "kind": "same_class", "params": {"link_type": "same_as"}},
    {
        "id": "same-colour",
        "kind": "same_attribute",
        "classes": ["car"],
        "params": {"link_type": "same_as", "attribute": "colour"},
    },
    {
        "id": "box-fits-cuboid",
        "kind": "projection_iou",
        "params": {"link_type": "same_as", "min_iou": 0.5},
    },
    {"id": "one-voice", "kind": "no_overlap", "classes": ["speech"], "params": {"by": "speaker"}},
]


def scene_taxonomy() -> ac.Taxonomy:
    data = yaml.safe_load(TAXONOMY_YAML)
    data["rules"] = RULES
    return ac.Taxonomy.from_dict(data)


def frame_centre(frame: int) -> float:
    """Item time of the centre of a sample-video frame (30000/1001 fps, no offset)."""
    return (frame + 0.5) * 1001 / 30000


def build_scene(path: Path, scene: ac.samples.SampleScene) -> dict[str, Any]:
    """Annotate the sample scene from its ground truth; returns facts the tests use."""
    truth = scene.truth
    s = ac.Session(path, taxonomy=scene_taxonomy(), annotator="ana")
    s.add_item(
        "scene",
        video=scene.video,
        lidar=scene.lidar,
        calibration=scene.calibration,
        audio=scene.audio,
        transcript=scene.transcript,
    )
    anns: list[dict[str, Any]] = []
    links: list[tuple[str, str, str]] = []
    matched: dict[int, int] = {}
    for sweep in truth["lidar"]["sweeps"]:
        k = sweep["index"]
        matched[k] = sweep["matched_frame"]
        for obj in sweep["objects"]:
            attrs = {"colour": "red"} if obj["label"] == "car" else {}
            cuboid = f"cuboid-{obj['id']}-{k:02d}"
            anns.append(
                {
                    "id": cuboid,
                    "item": "scene",
                    "stream": "lidar",
                    "label": obj["label"],
                    "kind": "cuboid",
                    "geometry": obj["lidar"],
                    "frame": k,
                    "track": obj["id"],
                    "attributes": attrs,
                }
            )
            if obj["box2d"] is None:  # not in the camera's view: no box
                continue
            x1, y1, x2, y2 = obj["box2d"]
            box = f"box-{obj['id']}-{k:02d}"
            anns.append(
                {
                    "id": box,
                    "item": "scene",
                    "stream": "video",
                    "label": obj["label"],
                    "kind": "box",
                    "geometry": {"x": x1, "y": y1, "w": x2 - x1, "h": y2 - y1},
                    "frame": sweep["matched_frame"],
                    "track": obj["id"],
                    "attributes": attrs,
                }
            )
            links.append((cuboid, box, "same_as"))
    for n, sentence in enumerate(truth["sentences"]):
        seg = f"speech-{n}"
        anns.append(
            {
                "id": seg,
                "item": "scene",
                "stream": "audio",
                "label": "speech",
                "kind": "time_segment",
                "geometry": {"start": sentence["start"], "end": sentence["end"]},
                "attributes": {"speaker": sentence["speaker"]},
            }
        )
        # the speaker is the person in view: link to their box during the sentence
        links.append((seg, f"box-person-1-{math.ceil(sentence['start'] * 10):02d}", "speaks"))
    s.apply({"type": "annotations.add", "annotations": anns})
    for source, target, kind in links:
        s.link(source, target, kind)
    s.close()
    return {"matched": matched, "truth": truth}


@pytest.fixture(scope="module")
def clean_scene(
    sample_scene: ac.samples.SampleScene, tmp_path_factory: pytest.TempPathFactory
) -> tuple[Path, dict[str, Any]]:
    path = tmp_path_factory.mktemp("checks") / "clean.accord"
    facts = build_scene(path, sample_scene)
    return path, facts


@pytest.fixture
def scene(clean_scene: tuple[Path, dict[str, Any]], tmp_path: Path) -> Iterator[ac.Session]:
    """A fresh copy of the correctly annotated sample scene."""
    src, _ = clean_scene
    for suffix in ("", "-wal", "-shm"):
        if Path(f"{src}{suffix}").exists():
            shutil.copy(f"{src}{suffix}", tmp_path / f"scene.accord{suffix}")
    s = ac.Session(tmp_path / "scene.accord", taxonomy=scene_taxonomy(), annotator="ana")
    yield s
    s.close()


@pytest.fixture
def matched(clean_scene: tuple[Path, dict[str, Any]]) -> dict[int, int]:
    """Video frame matched to each LiDAR sweep (from the ground truth)."""
    return clean_scene[1]["matched"]


def link_id(s: ac.Session, annotation: str, type: str) -> str:
    return next(lk["id"] for lk in s.links_touching(annotation) if lk["type"] == type)


# -- the clean scene ---------------------------------------------------------------------------


def test_clean_scene_has_no_findings(scene: ac.Session) -> None:
    ann, links = scene.annotations, scene.links
    # what the rules read is really there
    assert (ann["kind"] == "cuboid").sum() == 200
    assert (ann["kind"] == "box").sum() == 188  # the car is out of view for 12 sweeps
    assert (links["type"] == "same_as").sum() == 188
    assert (links["type"] == "speaks").sum() == 4
    df = run_checks(scene)
    assert df.empty, df["message"].tolist()
    assert list(df.columns) == list(FINDING_COLUMNS)


def test_projection_matches_the_ground_truth_boxes(
    scene: ac.Session, sample_scene: ac.samples.SampleScene
) -> None:
    item = scene.item("scene")
    truth_boxes, cuboids = [], []
    for sweep in sample_scene.truth["lidar"]["sweeps"]:
        for obj in sweep["objects"]:
            cuboids.append(obj["lidar"])
            truth_boxes.append(obj["box2d"] or [np.nan] * 4)
    boxes = project_cuboids(cuboids, item.calibrations["cam2"], item.calibrations["velo"], 640, 360)
    expected = np.array(truth_boxes, dtype=float)
    assert np.array_equal(np.isnan(boxes), np.isnan(expected))
    assert np.nanmax(np.abs(boxes - expected)) < 0.01  # the truth is rounded to 1e-3 px


def test_projection_clips_edges_at_the_near_plane(scene: ac.Session) -> None:
    """Cuboids reaching behind the camera: the box is what a dense edge sampling shows."""
    item = scene.item("scene")
    cam, velo = item.calibrations["cam2"], item.calibrations["velo"]
    rng = np.random.default_rng(7)
    cuboids = [
        {
            "center": [float(rng.uniform(-3, 6)), float(rng.uniform(-4, 4)), -0.5],
            "size": [float(rng.uniform(4, 12)), float(rng.uniform(1, 3)), 1.5],
            "yaw": float(rng.uniform(-np.pi, np.pi)),
        }
        for _ in range(40)
    ]
    boxes = project_cuboids(cuboids, cam, velo, 640, 360)
    edges = [(0, 1), (1, 2), (2, 3), (3, 0), (4, 5), (5, 6), (6, 7), (7, 4)]
    edges += [(0, 4), (1, 5), (2, 6), (3, 7)]
    t = np.linspace(0, 1, 4001)[:, None]
    straddling = 0
    for c, box in zip(cuboids, boxes, strict=True):
        corners = ac.Cuboid.from_value(c).corners()
        pts = np.concatenate([corners[i] + t * (corners[j] - corners[i]) for i, j in edges])
        depth = cam.to_sensor(pts)[:, 2]
        straddling += bool((depth < 0.1).any() and (depth >= 0.1).any())
        uv, _ = cam.project(pts[depth >= 0.1])
        if len(uv) == 0:
            assert np.isnan(box).all()
            continue
        x1, y1 = max(uv[:, 0].min(), 0), max(uv[:, 1].min(), 0)
        x2, y2 = min(uv[:, 0].max(), 640), min(uv[:, 1].max(), 360)
        if x2 <= x1 or y2 <= y1:
            assert np.isnan(box).all()
        else:
            assert box == pytest.approx([x1, y1, x2, y2], abs=2.0)
    assert straddling >= 10  # the case this test is about really occurs


def test_matched_frame_is_the_nearest_frame(scene: ac.Session) -> None:
    """With the LiDAR clock 50 ms late, sweep 50 falls nearer the earlier of two frames."""
    scene.set_clock("scene", "lidar", offset=0.05)
    scene.delete("box-car-1-50")
    lidar, video = scene.stream("scene", "lidar"), scene.stream("scene", "video")
    t = lidar.clock.to_item(lidar.timeline.time_of(50))
    nearest = video.timeline.nearest(video.clock.to_stream(t))
    assert video.timeline.time_of(nearest) < video.clock.to_stream(t)  # the earlier frame
    df = run_checks(scene, rules=["cuboid-has-box"])  # (the box's track has a gap too)
    assert list(df["rule"]) == ["cuboid-has-box"], df["message"].tolist()
    assert f"at frame {nearest} but" in df["message"].iloc[0]
    assert df["item_time"].iloc[0] == pytest.approx(5.1)  # the sweep's centre, shifted


def test_when_projects_spares_cuboids_out_of_view(scene: ac.Session) -> None:
    """Without ``when: projects`` the 12 car cuboids the camera cannot see are flagged."""
    rule = ac.Rule(
        "any-box",
        "requires_link",
        ("car",),
        {"link_type": "same_as", "from": "pointcloud", "to": "video"},
    )
    df = run_checks(scene, rules=[rule])
    ids = sorted(i for ids in df["annotation_ids"] for i in ids)
    assert ids == [f"cuboid-car-1-{k:02d}" for k in [*range(7), *range(95, 100)]]
    assert set(df["rule"]) == {"any-box"} and set(df["kind"]) == {"requires_link"}
    assert "has no same_as link to an annotation on a video stream" in df["message"].iloc[0]


# -- one planted error per check ------------------------------------------------------------------


def plant_box_off_its_cuboid(s: ac.Session, matched: dict[int, int]) -> dict[str, Any]:
    """projection_iou: the car's box at sweep 50 moved 200 px left of the car."""
    g = s.get("box-car-1-50").geometry
    s.update("box-car-1-50", geometry=ac.Box(g.x - 200, g.y, g.w, g.h))
    return {
        "rule": "box-fits-cuboid",
        "kind": "projection_iou",
        "severity": "error",
        "stream": "video",
        "annotation_ids": ["box-car-1-50", "cuboid-car-1-50"],
        "frame": matched[50],
        "item_time": frame_centre(matched[50]),
        "says": [
            "car box box-car-1-50",
            f"frame {matched[50]}",
            "car cuboid cuboid-car-1-50",
            "camera 'cam2'",
            "IoU 0.00, below 0.5",
        ],
    }


def plant_car_cuboid_linked_to_person_box(s: ac.Session, matched: dict[int, int]) -> dict[str, Any]:
    """same_class: the car's box at sweep 30 relabelled ``person``.

    Its ``same_as`` link now joins a car cuboid and a person box. Relabelling
    (rather than linking the car cuboid to the real person's box) keeps the
    box where the car is, so only the class is wrong: projection_iou stays quiet.
    """
    s.update("box-car-1-30", label="person")
    return {
        "rule": "same-class",
        "kind": "same_class",
        "severity": "error",
        "stream": "lidar",  # opened at the link's source
        "annotation_ids": ["cuboid-car-1-30", "box-car-1-30"],
        "frame": 30,
        "item_time": 3.05,
        "says": [
            f"same_as link {link_id(s, 'box-car-1-30', 'same_as')}",
            "car cuboid cuboid-car-1-30",
            "person box box-car-1-30",
            "('car' vs 'person')",
        ],
    }


def plant_colour_mismatch(s: ac.Session, matched: dict[int, int]) -> dict[str, Any]:
    """same_attribute: the car's box at sweep 60 says blue, its cuboid red."""
    s.update("box-car-1-60", attributes={"colour": "blue"})
    return {
        "rule": "same-colour",
        "kind": "same_attribute",
        "severity": "error",
        "stream": "lidar",
        "annotation_ids": ["cuboid-car-1-60", "box-car-1-60"],
        "frame": 60,
        "item_time": 6.05,
        "says": [
            "car cuboid cuboid-car-1-60",
            "car box box-car-1-60",
            "'colour'",
            "'red' vs 'blue'",
        ],
    }


def plant_overlapping_speech(s: ac.Session, matched: dict[int, int]) -> dict[str, Any]:
    """no_overlap: Ana speaks again at 1.0 s while her first sentence (0.30–1.48 s) runs.

    Ben talking over Ana (0.5–0.9 s) is allowed: the rule is ``by: speaker``.
    Both new segments get their ``speaks`` link, so only the overlap is wrong.
    """
    for seg, start, end, speaker in (
        ("speech-again", 1.0, 2.0, "Ana"),
        ("speech-ben", 0.5, 0.9, "Ben"),
    ):
        s.annotate(
            "scene",
            "audio",
            "speech",
            ac.TimeSegment(start, end),
            attributes={"speaker": speaker},
            id=seg,
        )
        s.link(seg, "box-person-1-10", "speaks")
    return {
        "rule": "one-voice",
        "kind": "no_overlap",
        "severity": "error",
        "stream": "audio",
        "annotation_ids": ["speech-again", "speech-0"],
        "frame": None,
        "item_time": 1.0,
        "says": [
            "speech time segment speech-again [1.00–2.00 s]",
            "speech time segment speech-0 [0.30–1.48 s]",
            "by 0.48 s",
            "same speaker: 'Ana'",
        ],
    }


def plant_box_outside_the_image(s: ac.Session, matched: dict[int, int]) -> dict[str, Any]:
    """outside_bounds: a box reaching 60 px past the right edge of the 640×360 frame.

    ``annotation.add`` refuses such a box, so it is written straight to the
    store, as an importer that skips validation (or another tool sharing the
    file) would: the session's views pick it up from the event log like any
    other change, and only the check can catch it.
    """
    rec = dict(s.store.get("annotation", "box-person-1-03") or {})
    rec.update(
        id="imported-box",
        geometry={"x": 600.0, "y": 100.0, "w": 100.0, "h": 50.0},
        frame=10,
        track=None,
        revision=1,
    )
    s.store.commit(
        annotator="importer",
        type="import",
        kind="admin",
        changes=[Change("annotation", "imported-box", "create", None, rec)],
    )
    return {
        "rule": "builtin:outside_bounds",
        "kind": "outside_bounds",
        "severity": "error",
        "stream": "video",
        "annotation_ids": ["imported-box"],
        "frame": 10,
        "item_time": frame_centre(10),
        "says": ["person box imported-box", "frame 10", "x 600.0–700.0", "640×360 image"],
    }


def plant_track_gap(s: ac.Session, matched: dict[int, int]) -> dict[str, Any]:
    """track_gaps: the car's box at sweep 40 drops out of track ``car-1``."""
    s.update("box-car-1-40", track=None)
    first, last = matched[39] + 1, matched[41] - 1
    return {
        "rule": "builtin:track_gaps",
        "kind": "track_gaps",
        "severity": "error",
        "stream": "video",
        "annotation_ids": ["box-car-1-39", "box-car-1-41"],
        "frame": first,
        "item_time": frame_centre(first),
        "says": [
            "Track 'car-1' (car boxes on 'video')",
            f"box-car-1-39 at frame {matched[39]}",
            f"box-car-1-41 at frame {matched[41]}",
            f"frames {first}–{last} missing",
            "every 3 frames",
        ],
    }


def plant_unlinked_speech(s: ac.Session, matched: dict[int, int]) -> dict[str, Any]:
    """unlinked_speech: the third sentence loses its ``speaks`` link."""
    s.unlink(link_id(s, "speech-2", "speaks"))
    return {
        "rule": "builtin:unlinked_speech",
        "kind": "unlinked_speech",
        "severity": "info",
        "stream": "audio",
        "annotation_ids": ["speech-2"],
        "frame": None,
        "item_time": 5.25,
        "says": ["speech time segment speech-2 [5.25–7.10 s]", "no speaks link"],
    }


def plant_car_cuboid_without_box(s: ac.Session, matched: dict[int, int]) -> dict[str, Any]:
    """requires_link: the car's first box in view (sweep 7) is deleted, with its link.

    Sweep 7 is the first the camera sees, so track ``car-1`` has no gap.
    """
    s.delete("box-car-1-07")
    return {
        "rule": "cuboid-has-box",
        "kind": "requires_link",
        "severity": "error",
        "stream": "lidar",
        "annotation_ids": ["cuboid-car-1-07"],
        "frame": 7,
        "item_time": 0.75,
        "says": [
            "car cuboid cuboid-car-1-07 on 'lidar' sweep 7",
            "projects into camera 'cam2' of video 'video'",
            f"at frame {matched[7]}",
            "no same_as link",
            "(label every object in view in the camera too)",
        ],
    }


def plant_box_on_the_wrong_frame(s: ac.Session, matched: dict[int, int]) -> dict[str, Any]:
    """projection (built-in): the person's box at sweep 70 moved one frame later."""
    s.update("box-person-1-70", frame=matched[70] + 1)
    return {
        "rule": "builtin:projection",
        "kind": "projection",
        "severity": "error",
        "stream": "video",
        "annotation_ids": ["box-person-1-70", "cuboid-person-1-70"],
        "frame": matched[70] + 1,
        "item_time": frame_centre(matched[70] + 1),
        "says": [
            "person box box-person-1-70",
            "person cuboid cuboid-person-1-70",
            f"on frame {matched[70] + 1} while the sweep matches frame {matched[70]}",
        ],
    }


PLANTS: dict[str, Callable[[ac.Session, dict[int, int]], dict[str, Any]]] = {
    "projection_iou": plant_box_off_its_cuboid,
    "same_class": plant_car_cuboid_linked_to_person_box,
    "same_attribute": plant_colour_mismatch,
    "no_overlap": plant_overlapping_speech,
    "outside_bounds": plant_box_outside_the_image,
    "track_gaps": plant_track_gap,
    "unlinked_speech": plant_unlinked_speech,
    "requires_link": plant_car_cuboid_without_box,
    "projection": plant_box_on_the_wrong_frame,
}


def assert_finding(row: pd.Series, want: dict[str, Any]) -> None:
    for key in ("rule", "kind", "severity", "stream", "annotation_ids"):
        assert row[key] == want[key], (key, row[key], want[key])
    assert row["item"] == "scene"
    if want["frame"] is None:
        assert pd.isna(row["frame"])
    else:
        assert row["frame"] == want["frame"]
    assert row["item_time"] == pytest.approx(want["item_time"], abs=1e-6)
    for text in want["says"]:
        assert text in row["message"], (text, row["message"])
    assert row["message"].endswith(".")


def test_every_kind_and_builtin_has_a_planted_error() -> None:
    builtins = {c.name for c in CHECKS.values()} - {"sync"}  # sync: see the hook test
    assert set(PLANTS) == set(RULE_CHECKS) | builtins


@pytest.mark.parametrize("check", sorted(PLANTS))
def test_planted_error_is_found_and_nothing_else(
    scene: ac.Session, matched: dict[int, int], check: str
) -> None:
    want = PLANTS[check](scene, matched)
    df = run_checks(scene)
    assert len(df) == 1, df["message"].tolist()
    assert_finding(df.iloc[0], want)
    assert df["frame"].dtype == "Int64" and df["item_time"].dtype == float


def test_all_planted_errors_at_once(scene: ac.Session, matched: dict[int, int]) -> None:
    wants = [plant(scene, matched) for plant in PLANTS.values()]
    df = run_checks(scene)
    assert len(df) == len(wants), df["message"].tolist()
    by_rule = {r["rule"]: r for r in df.to_dict("records")}
    for want in wants:
        assert_finding(pd.Series(by_rule[want["rule"]]), want)
    # ordered along the item timeline
    assert df["item_time"].is_monotonic_increasing
    # each finding says where to open the item
    f = findings(df)[0]
    assert isinstance(f, Finding) and f.location["item"] == "scene"
    assert f.location["select"] == list(df["annotation_ids"].iloc[0])


def test_selection_by_rule_and_builtins_flag(scene: ac.Session, matched: dict[int, int]) -> None:
    plant_track_gap(scene, matched)
    plant_colour_mismatch(scene, matched)
    assert list(run_checks(scene, rules=["same-colour"])["rule"]) == ["same-colour"]
    assert list(run_checks(scene, rules=["builtin:track_gaps"])["rule"]) == ["builtin:track_gaps"]
    assert list(run_checks(scene, builtins=False)["rule"]) == ["same-colour"]
    assert len(run_checks(scene)) == 2
    # a larger tolerance for gaps silences the track finding
    assert len(run_checks(scene, options={"track_gaps": {"max_gap": 5}})) == 1


def test_unlinked_speech_defers_to_a_rule_on_speaks(
    scene: ac.Session, matched: dict[int, int]
) -> None:
    plant_unlinked_speech(scene, matched)
    needs_speaker = ac.Rule(
        "speech-has-speaker",
        "requires_link",
        ("speech",),
        {"link_type": "speaks", "from": "audio", "to": "video"},
        severity="warning",
    )
    df = run_checks(scene, rules=[needs_speaker, "builtin:unlinked_speech"])
    assert list(df["rule"]) == ["speech-has-speaker"]
    assert list(df["severity"]) == ["warning"]
    assert df["annotation_ids"].iloc[0] == ["speech-2"]


# -- the built-ins on a media-free item ----------------------------------------------------------


def rewrite_stream(s: ac.Session, item: str, name: str, **changes: Any) -> None:
    """Replace a stream's record in the store, as when its media were re-encoded."""
    before = s.store.get("stream", f"{item}/{name}")
    assert before is not None
    after = {**before, "data": {**before["data"], **changes}, "revision": before["revision"] + 1}
    s.store.commit(
        annotator="ops",
        type="stream.replace",
        kind="admin",
        changes=[Change("stream", before["id"], "update", before, after)],
    )


def test_outside_bounds_checks_against_the_stream_as_it_is_now(
    session: ac.Session, item: str
) -> None:
    s = session
    wide = s.annotate(item, "video", "car", ac.Box(500, 10, 100, 50), frame=5)
    fits = s.annotate(item, "video", "car", ac.Box(10, 10, 100, 50), frame=5)
    poly = s.annotate(
        item, "video", "person", ac.Polygon(((10, 10), (590, 20), (30, 300))), frame=1
    )
    kp = s.annotate(
        item, "video", "person", ac.Keypoints(((620, 5, 0), (20, 30, 2), (40, 50, 1))), frame=2
    )
    seg = s.annotate(item, "audio", "speech", ac.TimeSegment(6.0, 7.0))
    early = s.annotate(item, "audio", "speech", ac.TimeSegment(1.0, 2.0))
    span = s.annotate(item, "transcript", "speech", ac.TextSpan(13, 27))
    assert run_checks(s, rules=["builtin:outside_bounds"]).empty
    rewrite_stream(s, item, "video", width=560)
    rewrite_stream(s, item, "audio", duration=5.0)
    rewrite_stream(s, item, "transcript", text="Hello there.")
    df = run_checks(s, rules=["builtin:outside_bounds"])
    got = {ids[0]: msg for ids, msg in zip(df["annotation_ids"], df["message"], strict=True)}
    assert set(got) == {wide, poly, seg, span}
    assert not {fits, early, kp} & set(got)  # the keypoint past 560 is absent (v = 0)
    assert "x 500.0–600.0" in got[wide] and "560×360 image" in got[wide]
    assert "polygon" in got[poly] and "x 10.0–590.0" in got[poly]
    assert "runs 6.000–7.000 s" in got[seg] and "0–5 s" in got[seg]
    assert "ends at character 27, past the text's 12" in got[span]
    assert set(df["severity"]) == {"error"}


def test_outside_bounds_flags_frames_past_a_shortened_timeline(
    session: ac.Session, item: str
) -> None:
    s = session
    late = s.annotate(item, "video", "car", ac.Box(10, 10, 100, 50), frame=200)
    s.annotate(item, "video", "car", ac.Box(10, 10, 100, 50), frame=20)
    rewrite_stream(s, item, "video", timeline={"rate": "30000/1001", "count": 100, "start": 0.0})
    df = run_checks(s, rules=["builtin:outside_bounds"])
    assert list(df["annotation_ids"]) == [[late]]
    assert "frame 200 lies past the last frame (99)" in df["message"].iloc[0]


def test_outside_bounds_reports_annotations_of_a_vanished_stream(
    session: ac.Session, item: str
) -> None:
    s = session
    a = s.annotate(item, "cam", "car", ac.Box(1, 1, 5, 5))
    before = s.store.get("stream", f"{item}/cam")
    s.store.commit(
        annotator="ops",
        type="stream.drop",
        kind="admin",
        changes=[Change("stream", f"{item}/cam", "delete", before, None)],
    )
    df = run_checks(s, rules=["builtin:outside_bounds"])
    assert len(df) == 1 and df["annotation_ids"].iloc[0] == [a]
    assert "no longer has" in df["message"].iloc[0]


def test_outside_bounds_flags_a_frame_on_a_stream_without_frames(
    session: ac.Session, item: str
) -> None:
    """An image stream has no frames; an imported box that names one is flagged."""
    s = session
    a = s.annotate(item, "cam", "car", ac.Box(1, 1, 5, 5))
    rec = {**(s.store.get("annotation", a) or {}), "id": "framed", "frame": 3}
    s.store.commit(
        annotator="importer",
        type="import",
        kind="admin",
        changes=[Change("annotation", "framed", "create", None, rec)],
    )
    df = run_checks(s, rules=["builtin:outside_bounds"])
    assert list(df["annotation_ids"]) == [["framed"]]
    assert "on 'cam' frame 3 names a frame, but 'cam' has none" in df["message"].iloc[0]


def test_track_gaps_adapt_to_the_track_step(session: ac.Session, item: str) -> None:
    s = session
    per_frame = [
        s.annotate(item, "video", "car", ac.Box(10, 10, 20, 20), frame=f, track="t1")
        for f in (0, 1, 2, 4, 5)  # frame 3 missing
    ]
    keyed = [
        s.annotate(item, "video", "person", ac.Box(10, 10, 20, 20), frame=f, track="t2")
        for f in (0, 5, 10, 15, 25, 30)  # key 20 missing; steps of 5 are fine
    ]
    cuboids = [
        s.annotate(item, "lidar", "car", ac.Cuboid((5, 0, 0), (4, 2, 1.5), 0), frame=k, track="t1")
        for k in (0, 1, 2, 3, 6)  # sweeps 4 and 5 missing
    ]
    df = run_checks(s, rules=["builtin:track_gaps"])
    got = {
        tuple(ids): (st, fr, msg)
        for ids, st, fr, msg in df[["annotation_ids", "stream", "frame", "message"]].itertuples(
            index=False
        )
    }
    assert set(got) == {
        (per_frame[2], per_frame[3]),
        (keyed[3], keyed[4]),
        (cuboids[3], cuboids[4]),
    }
    assert got[(per_frame[2], per_frame[3])][:2] == ("video", 3)
    assert "frame 3 missing" in got[(per_frame[2], per_frame[3])][2]
    assert "frames 16–24 missing; elsewhere it steps every 5 frames" in got[(keyed[3], keyed[4])][2]
    assert "sweeps 4–5 missing" in got[(cuboids[3], cuboids[4])][2]
    assert got[(cuboids[3], cuboids[4])][1] == 4
    # a fixed tolerance replaces the adaptive one: every step of t2 (5) now exceeds 1 + 1
    fixed = run_checks(s, rules=["builtin:track_gaps"], options={"track_gaps": {"max_gap": 1}})
    pairs = {tuple(i) for i in fixed["annotation_ids"]}
    assert (per_frame[2], per_frame[3]) not in pairs
    assert (cuboids[3], cuboids[4]) in pairs
    assert {(keyed[j], keyed[j + 1]) for j in range(5)} <= pairs and len(pairs) == 6


def test_no_overlap_by_attribute_and_on_text_spans(session: ac.Session, item: str) -> None:
    s = session
    a = s.annotate(item, "audio", "speech", ac.TimeSegment(1, 3), attributes={"speaker": "A"})
    b = s.annotate(item, "audio", "speech", ac.TimeSegment(2, 4), attributes={"speaker": "B"})
    c = s.annotate(item, "audio", "speech", ac.TimeSegment(3, 5), attributes={"speaker": "A"})
    d = s.annotate(item, "audio", "speech", ac.TimeSegment(4.5, 6), attributes={"speaker": "A"})
    t1 = s.annotate(item, "transcript", "speech", ac.TextSpan(0, 8))
    t2 = s.annotate(item, "transcript", "speech", ac.TextSpan(6, 12))
    by_speaker = ac.Rule("by-speaker", "no_overlap", ("speech",), {"by": "speaker"})
    anyone = ac.Rule("anyone", "no_overlap", ("speech",))
    df = run_checks(s, rules=[by_speaker])
    # a–c touch (3 = 3) and may; b is another speaker; d starts inside c
    assert [ids for ids in df["annotation_ids"]] == [[d, c], [t2, t1]]
    assert "by 0.50 s (same speaker: 'A')" in df["message"].iloc[0]
    assert "[characters 6–12] overlaps" in df["message"].iloc[1]
    assert "by 2 characters" in df["message"].iloc[1]
    df = run_checks(s, rules=[anyone])
    assert sorted(map(tuple, df["annotation_ids"])) == sorted([(b, a), (c, b), (d, c), (t2, t1)])
    # tolerance: overlaps up to it are allowed
    loose = ac.Rule("loose", "no_overlap", ("speech",), {"tolerance": 1.0})
    assert list(map(tuple, run_checks(s, rules=[loose])["annotation_ids"])) == [(t2, t1)]


def test_same_class_allows_ancestors_unless_strict(session: ac.Session, item: str) -> None:
    s = session
    vehicle = s.annotate(item, "lidar", "vehicle", ac.Cuboid((5, 0, 0), (4, 2, 1.5), 0), frame=0)
    car_box = s.annotate(item, "video", "car", ac.Box(1, 1, 10, 10), frame=0)
    person_box = s.annotate(item, "video", "person", ac.Box(1, 1, 10, 10), frame=0)
    ok = s.link(vehicle, car_box, "same_as")
    bad = s.link(vehicle, person_box, "same_as")
    lenient = ac.Rule("lenient", "same_class", (), {"link_type": "same_as"})
    strict = ac.Rule("strict", "same_class", (), {"link_type": "same_as", "strict": True})
    df = run_checks(s, rules=[lenient])
    assert list(df["annotation_ids"]) == [[vehicle, person_box]]
    assert bad in df["message"].iloc[0] and "('vehicle' vs 'person')" in df["message"].iloc[0]
    df = run_checks(s, rules=[strict])
    assert sorted(map(tuple, df["annotation_ids"])) == sorted(
        [(vehicle, car_box), (vehicle, person_box)]
    )
    assert ok in " ".join(df["message"])
    # classes narrow the links checked to those with an end of those classes
    only_people = ac.Rule("people", "same_class", ("car",), {"link_type": "same_as"})
    assert run_checks(s, rules=[only_people]).empty


def test_same_attribute_compares_only_values_on_both_ends(session: ac.Session, item: str) -> None:
    s = session
    cub = s.annotate(item, "lidar", "car", ac.Cuboid((5, 0, 0), (4, 2, 1.5), 0), frame=0)
    unset = s.annotate(item, "video", "car", ac.Box(1, 1, 10, 10), frame=0)
    blue = s.annotate(
        item, "video", "car", ac.Box(1, 1, 10, 10), frame=1, attributes={"colour": "blue"}
    )
    red = s.annotate(
        item, "video", "car", ac.Box(1, 1, 10, 10), frame=2, attributes={"colour": "red"}
    )
    s.link(cub, unset, "same_as")
    s.link(blue, red, "same_as")
    rule = ac.Rule("colour", "same_attribute", (), {"link_type": "same_as", "attribute": "colour"})
    df = run_checks(s, rules=[rule])
    assert list(df["annotation_ids"]) == [[blue, red]]
    assert "their 'colour' differs ('blue' vs 'red')" in df["message"].iloc[0]
    assert df["frame"].iloc[0] == 1


def test_same_attribute_compares_multi_choice_values_as_sets(tmp_path: Path) -> None:
    tax = ac.Taxonomy.build(
        classes=[
            {
                "name": "car",
                "attributes": [{"name": "seen", "type": "multi_choice", "choices": ["a", "b"]}],
            }
        ],
        link_types=["same_as"],
    )
    from .conftest import media_free_item

    with ac.Session(tmp_path / "m.accord", taxonomy=tax, annotator="ana") as s:
        s.apply(media_free_item("clip"))

        def car(frame: int, seen: list[str]) -> str:
            box = ac.Box(1, 1, 5, 5)
            return s.annotate("clip", "video", "car", box, frame=frame, attributes={"seen": seen})

        ab, ba, a = car(0, ["a", "b"]), car(1, ["b", "a"]), car(2, ["a"])
        s.link(ab, ba, "same_as")
        s.link(ba, a, "same_as")
        rule = ac.Rule("seen", "same_attribute", (), {"link_type": "same_as", "attribute": "seen"})
        df = run_checks(s, rules=[rule])
        assert list(df["annotation_ids"]) == [[ba, a]]
        assert "(['a', 'b'] vs ['a'])" in df["message"].iloc[0]


def test_projection_rules_say_when_they_cannot_be_evaluated(session: ac.Session, item: str) -> None:
    """The media-free item has no calibration: nothing is guessed, one info per stream."""
    s = session
    cub = s.annotate(item, "lidar", "car", ac.Cuboid((5, 0, 0), (4, 2, 1.5), 0), frame=0)
    box = s.annotate(item, "video", "car", ac.Box(1, 1, 10, 10), frame=0)
    s.link(cub, box, "same_as")
    projects = ac.Rule(
        "in-view",
        "requires_link",
        ("car",),
        {"link_type": "same_as", "from": "pointcloud", "to": "video", "when": "projects"},
    )
    iou = ac.Rule("iou", "projection_iou", (), {"link_type": "same_as", "min_iou": 0.5})
    df = run_checks(s, rules=[projects, iou])
    assert list(df["rule"]) == ["in-view", "iou"]
    assert set(df["severity"]) == {"info"}
    assert all("cannot be evaluated" in m and "no calibrated sensor" in m for m in df["message"])
    assert all(ids == [] for ids in df["annotation_ids"])


def test_requires_link_direction_and_kinds(session: ac.Session, item: str) -> None:
    s = session
    seg = s.annotate(item, "audio", "speech", ac.TimeSegment(1, 2))
    other = s.annotate(item, "audio", "speech", ac.TimeSegment(3, 4))
    s.annotate(item, "audio", "scene", None)  # a tag: speaks cannot start at a tag
    face = s.annotate(item, "video", "person", ac.Box(1, 1, 10, 10), frame=30)
    s.link(seg, face, "speaks")
    out = ac.Rule(
        "out", "requires_link", (), {"link_type": "speaks", "from": "audio", "to": "video"}
    )
    df = run_checks(s, rules=[out])
    assert list(df["annotation_ids"]) == [[other]]
    assert df["item_time"].iloc[0] == 3.0
    into = ac.Rule(
        "into",
        "requires_link",
        ("person",),
        {"link_type": "speaks", "from": "video", "to": "audio", "direction": "in"},
    )
    assert run_checks(s, rules=[into]).empty
    outward = ac.Rule(
        "outward",
        "requires_link",
        ("person",),
        {"link_type": "speaks", "from": "video", "to": "audio", "direction": "out"},
    )
    assert run_checks(s, rules=[outward]).empty  # a box cannot be a speaks source: not required


# -- sync hook -------------------------------------------------------------------------------------


def test_sync_hook_reports_what_an_estimator_suspects(
    scene: ac.Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert run_checks(scene, rules=["builtin:sync"]).empty  # nothing is guessed
    seen: list[list[str]] = []

    def estimator(session: ac.Session, items: list[str]) -> list[SyncSuspicion]:
        seen.append(items)
        return [SyncSuspicion("scene", "audio", "video", 0.12, drift_ppm=150.0, item_time=2.0)]

    monkeypatch.setattr(checks, "SYNC_ESTIMATORS", [])
    checks.register_sync_estimator(estimator)
    df = run_checks(scene)
    assert seen == [["scene"]]
    assert list(df["rule"]) == ["builtin:sync"] and list(df["severity"]) == ["warning"]
    assert df["message"].iloc[0] == (
        "Stream 'audio' of 'scene' seems out of sync with 'video': "
        "estimated offset +0.120 s, drift +150.0 ppm."
    )
    assert df["item_time"].iloc[0] == 2.0
    direct = sync_findings(
        [{"item": "scene", "stream": "audio", "reference": "video", "offset": -1}]
    )
    assert list(direct.columns) == list(FINDING_COLUMNS) and direct["kind"].iloc[0] == "sync"
    with pytest.raises(ValidationError):
        sync_findings([SyncSuspicion("scene", "audio", "video", 0.1, severity="fatal")])


# -- API --------------------------------------------------------------------------------------


def test_registry_covers_every_rule_kind() -> None:
    assert set(RULE_CHECKS) == set(ac.model.taxonomy.RULE_KINDS)
    assert {c.id: c.severity for c in CHECKS.values()} == {
        "builtin:outside_bounds": "error",
        "builtin:track_gaps": "error",
        "builtin:unlinked_speech": "info",
        "builtin:sync": "warning",
        "builtin:projection": "error",
    }
    assert all(c.description for c in CHECKS.values())


def test_bad_arguments_are_refused(session: ac.Session, item: str) -> None:
    with pytest.raises(NotFoundError, match="no-such-rule"):
        run_checks(session, rules=["no-such-rule"])
    with pytest.raises(NotFoundError):
        run_checks(session, items=["nope"])
    with pytest.raises(ValidationError, match="built-in names"):
        run_checks(session, options={"nope": {}})
    with pytest.raises(ValidationError, match="max_gaps"):
        run_checks(session, options={"track_gaps": {"max_gaps": 1}})
    with pytest.raises(ValidationError, match="max_gap"):
        run_checks(session, options={"track_gaps": {"max_gap": -1}})
    bad_when = ac.Rule(
        "w",
        "requires_link",
        (),
        {"link_type": "same_as", "from": "audio", "to": "video", "when": "x"},
    )
    with pytest.raises(TaxonomyError, match=r"rules\.w\.params\.when"):
        run_checks(session, rules=[bad_when])
    audio_projects = ac.Rule(
        "w",
        "requires_link",
        (),
        {"link_type": "same_as", "from": "audio", "to": "video", "when": "projects"},
    )
    with pytest.raises(TaxonomyError, match="pointcloud"):
        run_checks(session, rules=[audio_projects])
    with pytest.raises(TaxonomyError, match="min_iou"):
        run_checks(
            session,
            rules=[
                {
                    "id": "i",
                    "kind": "projection_iou",
                    "params": {"link_type": "same_as", "min_iou": 2},
                }
            ],
        )
    with pytest.raises(TaxonomyError):
        run_checks(session, rules=[{"id": "i", "kind": "same_class", "params": {}}])


def test_items_filter_and_empty_result(session: ac.Session) -> None:
    from .conftest import media_free_item

    s = session
    s.apply(media_free_item("a"))
    s.apply(media_free_item("b"))
    for it in ("a", "b"):
        s.annotate(it, "audio", "speech", ac.TimeSegment(1, 2))
    rule = ac.Rule(
        "r", "requires_link", ("speech",), {"link_type": "speaks", "from": "audio", "to": "video"}
    )
    assert list(run_checks(s, rules=[rule])["item"]) == ["a", "b"]
    assert list(run_checks(s, rules=[rule], items="b")["item"]) == ["b"]
    empty = run_checks(s, items="a", rules=["builtin:track_gaps"])
    assert empty.empty and list(empty.columns) == list(FINDING_COLUMNS)
    assert findings(empty) == []


def test_finding_round_trip() -> None:
    row = {
        "rule": "r",
        "kind": "requires_link",
        "severity": "error",
        "item": "i",
        "stream": "video",
        "annotation_ids": ["a", "b"],
        "frame": pd.NA,
        "item_time": float("nan"),
        "message": "m.",
    }
    f = Finding.from_row(row)
    assert f.frame is None and f.item_time is None and f.annotation_ids == ("a", "b")
    assert f.to_dict()["annotation_ids"] == ["a", "b"]
    assert f.location == {
        "item": "i",
        "stream": "video",
        "frame": None,
        "time": None,
        "select": ["a", "b"],
    }


def test_session_check_is_run_checks(session: ac.Session, item: str) -> None:
    s = session
    s.annotate(item, "video", "car", ac.Box(10, 10, 100, 50), frame=20)
    rewrite_stream(s, item, "video", timeline={"rate": "30000/1001", "count": 10, "start": 0.0})
    df = s.check(rules=["builtin:outside_bounds"])
    assert list(df.columns)[:3] == ["rule", "kind", "severity"]
    assert df["rule"].tolist() == ["builtin:outside_bounds"]
