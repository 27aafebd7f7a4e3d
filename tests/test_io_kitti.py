"""KITTI object labels: the sample scene's ground truth, conventions, round trip, bad lines."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

import accord as ac
from accord import samples
from accord.errors import FormatError, ValidationError
from accord.io.kitti import export_kitti, import_kitti, parse_kitti_labels


def _scene_session(path: Path, taxonomy: ac.Taxonomy, sc: samples.SampleScene, **kw) -> ac.Session:
    s = ac.Session(path, taxonomy=taxonomy, annotator="ana")
    s.add_item(
        "scene",
        lidar=sc.lidar,
        calibration=kw.get("calibration", sc.calibration),
        video=sc.video,
    )
    return s


def _annotate_truth(s: ac.Session, truth: dict) -> None:
    s.apply(
        {
            "type": "annotations.add",
            "annotations": [
                {
                    "item": "scene",
                    "stream": "lidar",
                    "label": o["label"],
                    "kind": "cuboid",
                    "geometry": o["lidar"],
                    "frame": sweep["index"],
                }
                for sweep in truth["lidar"]["sweeps"]
                for o in sweep["objects"]
            ],
        }
    )


@pytest.fixture
def scene_session(tmp_path: Path, taxonomy: ac.Taxonomy, sample_scene: samples.SampleScene):
    s = _scene_session(tmp_path / "scene.accord", taxonomy, sample_scene)
    yield s
    s.close()


def test_export_reproduces_sample_scene_ground_truth(scene_session, sample_scene, tmp_path) -> None:
    truth = sample_scene.truth
    _annotate_truth(scene_session, truth)
    report = export_kitti(scene_session, tmp_path / "out")
    assert len(report.paths) == len(truth["lidar"]["sweeps"])
    seen = 0
    for sweep in truth["lidar"]["sweeps"]:
        path = tmp_path / "out" / "label_2" / f"{sweep['index']:06d}.txt"
        objects = parse_kitti_labels(path.read_text(), path.name)
        expected = [o["kitti"] for o in sweep["objects"] if "line" in o["kitti"]]
        assert len(objects) == len(expected)
        for got, want in zip(objects, expected, strict=True):
            assert got.type == want["type"]
            np.testing.assert_allclose(got.dimensions, want["dimensions"], atol=1e-3)
            np.testing.assert_allclose(got.location, want["location"], atol=1e-3)
            assert got.rotation_y == pytest.approx(want["rotation_y"], abs=1e-3)
            assert got.alpha == pytest.approx(want["alpha"], abs=1e-3)
            np.testing.assert_allclose(got.bbox, want["bbox"], atol=1e-2)
            assert got.truncated == pytest.approx(want["truncated"], abs=1e-3)
            # and the benchmark line itself (2 decimals) agrees field by field
            line = [float(v) for v in want["line"].split()[8:15]]
            np.testing.assert_allclose(
                [*got.dimensions, *got.location, got.rotation_y], line, atol=0.0051
            )
            seen += 1
    assert seen > 150
    # the sweeps where an object leaves the camera's view are reported, not written
    unseen = sum(
        1 for sw in truth["lidar"]["sweeps"] for o in sw["objects"] if "line" not in o["kitti"]
    )
    assert sum("not in view" in d.reason for d in report.dropped) == unseen


def test_round_trip_into_a_fresh_session(scene_session, sample_scene, taxonomy, tmp_path) -> None:
    truth = sample_scene.truth
    _annotate_truth(scene_session, truth)
    export_kitti(scene_session, tmp_path / "out")
    fresh = _scene_session(tmp_path / "fresh.accord", taxonomy, sample_scene)
    report = import_kitti(fresh, tmp_path / "out", item="scene")
    before = {
        (r["frame"], r["label"]): r["geometry"] for r in scene_session.store.records("annotation")
    }
    after = {(r["frame"], r["label"]): r for r in fresh.store.records("annotation")}
    assert len(after) == len(report.ids) > 150
    for key, rec in after.items():
        assert rec["kind"] == "cuboid" and rec["source"] == "import"
        want = before[key]
        np.testing.assert_allclose(rec["geometry"]["center"], want["center"], atol=1e-5)
        np.testing.assert_allclose(rec["geometry"]["size"], want["size"], atol=1e-6)
        dyaw = (rec["geometry"]["yaw"] - want["yaw"] + math.pi) % (2 * math.pi) - math.pi
        assert abs(dyaw) < 2e-6
    assert any("boxes=" in d.reason for d in report.dropped)  # 2-D boxes were not asked for
    fresh.close()


def test_nominal_axes_give_minus_yaw_minus_half_pi(sample_scene, taxonomy, tmp_path) -> None:
    """With KITTI's nominal camera axes, rotation_y = -yaw - pi/2 and location = bottom centre."""
    swap = np.array([[0, -1.0, 0, 0], [0, 0, -1.0, 0], [1.0, 0, 0, 0]])
    k = "500 0 320 0 0 500 180 0 0 0 1 0"
    calib = tmp_path / "calib.txt"
    calib.write_text(
        f"P0: {k}\nP1: {k}\nP2: {k}\nP3: {k}\nR0_rect: 1 0 0 0 1 0 0 0 1\n"
        f"Tr_velo_to_cam: {' '.join(str(v) for v in swap.ravel())}\n"
    )
    s = _scene_session(tmp_path / "nominal.accord", taxonomy, sample_scene, calibration=calib)
    for n, yaw in enumerate((0.0, 0.3, -2.0, 3.0)):
        s.annotate(
            "scene",
            "lidar",
            "car",
            kind="cuboid",
            geometry={"center": [10.0 + n, 1.0, -0.5], "size": [4.0, 2.0, 1.5], "yaw": yaw},
            frame=0,
        )
    export_kitti(s, tmp_path / "nominal")
    objects = parse_kitti_labels((tmp_path / "nominal" / "label_2" / "000000.txt").read_text())
    for n, (obj, yaw) in enumerate(zip(objects, (0.0, 0.3, -2.0, 3.0), strict=True)):
        want = (-yaw - math.pi / 2 + math.pi) % (2 * math.pi) - math.pi
        assert obj.rotation_y == pytest.approx(want, abs=1e-6)
        # velo (x, y, z) → camera (-y, -z, x), at the bottom of the box
        assert obj.location == pytest.approx((-1.0, 0.5 + 0.75, 10.0 + n), abs=1e-6)
        assert obj.dimensions == (1.5, 2.0, 4.0)
    s.close()


def test_camera_boxes_linked_and_2d_only(scene_session, sample_scene, taxonomy, tmp_path) -> None:
    s = scene_session
    cub = s.annotate(
        "scene",
        "lidar",
        "car",
        kind="cuboid",
        geometry={"center": [12.0, 0.0, -1.0], "size": [4.0, 2.0, 1.5], "yaw": 0.1},
        frame=10,
        score=0.5,
        source="prediction",
    )
    frame = s.stream("scene", "video").timeline.nearest(1.0)  # sweep 10 is at t = 1.0 s
    drawn = s.annotate(
        "scene", "video", "car", kind="box", geometry=[100, 150, 80, 50], frame=frame
    )
    s.link(cub, drawn, "same_as")
    s.annotate("scene", "video", "person", kind="box", geometry=[400, 160, 20, 60], frame=frame)
    lone = s.annotate(
        "scene", "video", "person", kind="box", geometry=[1, 1, 5, 5], frame=frame + 1
    )
    report = export_kitti(s, tmp_path / "out", decimals=3)
    lines = (tmp_path / "out" / "label_2" / "000010.txt").read_text().splitlines()
    assert len(lines) == 2
    car = lines[0].split()
    assert car[0] == "Car" and car[4:8] == ["100.000", "150.000", "180.000", "200.000"]
    assert car[15] == "0.500"  # the score column
    person = lines[1].split()
    assert person[0] == "Pedestrian" and person[8:15] == ["-1.000"] * 3 + ["-1000.000"] * 3 + [
        "-10.000"
    ]
    assert ("annotation", lone) in {(d.what, d.id) for d in report.dropped}
    assert any(d.what == "link" for d in report.dropped)

    fresh = _scene_session(tmp_path / "fresh.accord", taxonomy, sample_scene)
    imported = import_kitti(fresh, tmp_path / "out" / "label_2", item="scene", boxes="video")
    df = fresh.annotations
    assert len(imported.ids) == 3  # the cuboid, its box, the 2-D-only box
    assert sorted(df["kind"]) == ["box", "box", "cuboid"]
    assert set(df.loc[df["kind"] == "box", "frame"]) == {frame}
    assert df.loc[df["kind"] == "cuboid", "source"].item() == "prediction"
    assert df.loc[df["kind"] == "cuboid", "score"].item() == 0.5
    fresh.close()


def test_unknown_types_and_dontcare_are_reported(scene_session, tmp_path) -> None:
    folder = tmp_path / "label_2"
    folder.mkdir()
    (folder / "000003.txt").write_text(
        "Car 0.00 0 -1.58 587.01 173.33 614.12 200.12 1.65 1.67 3.64 -0.65 1.71 46.70 -1.59\n"
        "DontCare -1 -1 -10 503.89 169.71 590.61 190.13 -1 -1 -1 -1000 -1000 -1000 -10\n"
        "Tram 0.00 0 -1.58 587.01 173.33 614.12 200.12 3.0 2.5 12.0 -0.65 1.71 40.0 -1.59\n"
        "\n"
    )
    report = import_kitti(scene_session, folder, item="scene", labels={"Car": "car"})
    assert len(report.ids) == 1
    reasons = [d.reason for d in report.dropped]
    assert "DontCare region" in reasons
    assert any("'Tram' is not a class" in r for r in reasons)
    assert scene_session.annotations.iloc[0]["frame"] == 3


@pytest.mark.parametrize(
    ("line", "where"),
    [
        ("Car 0.00 0 -1.58 587.01 173.33 614.12 200.12 1.65 1.67 3.64 -0.65 1.71", "line 2"),
        (
            "Car 0.00 0 -1.58 587.01 173.33 614.12 x 1.65 1.67 3.64 -0.65 1.71 46.70 -1.59",
            "bbox.y2",
        ),
        (
            "Car 0.00 0 -1.58 587.01 173.33 614.12 200 1.65 1.67 3.64 -0.65 1.71 nan -1.59",
            "location.z",
        ),
        (
            "Car 0.00 0.5 -1.58 587.01 173.33 614.12 200 1.65 1.67 3.64 -0.65 1.71 4 -1.59",
            "occluded",
        ),
        ("Car " + " ".join(["1"] * 16), "line 2"),
    ],
)
def test_malformed_lines_name_file_and_line(scene_session, tmp_path, line, where) -> None:
    scene_session.annotate(
        "scene",
        "lidar",
        "car",
        kind="cuboid",
        geometry={"center": [5, 0, 0], "size": [1, 1, 1], "yaw": 0},
        frame=0,
    )
    seq = scene_session.store.last_seq()
    folder = tmp_path / "label_2"
    folder.mkdir()
    good = "Car 0.00 0 -1.58 587.01 173.33 614.12 200.12 1.65 1.67 3.64 -0.65 1.71 46.70 -1.59"
    (folder / "000000.txt").write_text(good + "\n")
    (folder / "000001.txt").write_text(f"{good}\n{line}\n")
    with pytest.raises(FormatError) as err:
        import_kitti(scene_session, folder, item="scene")
    assert err.value.where.startswith("000001.txt line 2")
    assert where in err.value.where
    assert scene_session.store.last_seq() == seq
    assert len(scene_session.annotations) == 1


def test_bad_file_names_and_missing_calibration(scene_session, taxonomy, tmp_path) -> None:
    folder = tmp_path / "label_2"
    folder.mkdir()
    (folder / "frame-a.txt").write_text("")
    with pytest.raises(FormatError, match=r"frame-a\.txt"):
        import_kitti(scene_session, folder, item="scene")
    with pytest.raises(FileNotFoundError):
        import_kitti(scene_session, tmp_path / "nowhere", item="scene")
    with pytest.raises(ValidationError, match="cam7"):
        export_kitti(scene_session, tmp_path / "x", rect="cam7")
