"""CVAT XML 1.1 (images and video): round trips, hand-written files, hostile XML."""

from __future__ import annotations

import math
from pathlib import Path

import defusedxml.ElementTree as DET
import numpy as np
import pytest

import accord as ac
from accord.errors import FormatError, ValidationError
from accord.io.cvat import export_cvat, import_cvat

from .conftest import media_free_item


@pytest.fixture
def fresh(tmp_path: Path, taxonomy: ac.Taxonomy):
    s = ac.Session(tmp_path / "fresh.accord", taxonomy=taxonomy, annotator="bob")
    s.apply(media_free_item("clip"))
    yield s
    s.close()


def _close(a, b) -> None:
    if isinstance(a, dict):
        assert a.keys() == b.keys()
        for k in a:
            _close(a[k], b[k])
    else:
        np.testing.assert_allclose(a, b, atol=1e-9)


def _signature(s: ac.Session, stream: str) -> list[tuple]:
    return sorted(
        (r["frame"] if r["frame"] is not None else -1, r["label"], r["kind"], repr(r["geometry"]))
        for r in s.store.records("annotation")
        if r["stream"] == stream
    )


def test_images_round_trip(session, item, fresh, tmp_path) -> None:
    s = session
    s.annotate(
        "clip", "cam", "car", kind="box", geometry=[10.125, 20, 30, 40],
        attributes={"colour": "red", "occluded": True},
    )  # fmt: skip
    s.annotate("clip", "cam", "car", kind="rotated_box", geometry=[100, 100, 30, 20, -0.3])
    s.annotate("clip", "cam", "person", kind="polygon", geometry=[[1, 1], [50, 1.5], [20, 30]])
    s.annotate(
        "clip", "cam", "person", kind="keypoints", geometry=[[10, 10, 2], [20, 30, 1], [0, 0, 0]]
    )
    s.annotate("clip", "cam", "scene", kind="tag")
    s.annotate("clip", "video", "car", kind="box", geometry=[1, 2, 3, 4], frame=42, track="t")
    s.annotate("clip", "audio", "speech", kind="time_segment", geometry=[1, 2])
    report = export_cvat(s, tmp_path / "out")
    assert report.paths == [tmp_path / "out" / "annotations.xml"]
    root = DET.parse(str(report.paths[0])).getroot()
    assert root.findtext("version") == "1.1"
    assert root.findtext("meta/task/mode") == "annotation"
    names = [i.get("name") for i in root.findall("image")]
    assert names == ["cam.png", "video_000042.png"]
    box = root.find("image/box")
    assert box is not None and box.get("occluded") == "1" and box.get("xtl") == "10.125"
    assert [a.get("name") for a in box.findall("attribute")] == ["colour"]
    rotated = root.findall("image/box")[1]
    assert float(rotated.get("rotation")) == pytest.approx(360 - math.degrees(0.3))
    skeleton = root.find("image/skeleton")
    assert [p.get("label") for p in skeleton.findall("points")] == [
        "head", "left_hand", "right_hand",
    ]  # fmt: skip
    assert [p.get("outside") for p in skeleton.findall("points")] == ["0", "0", "1"]
    dropped = {d.what for d in report.dropped}
    assert {"annotation", "track"} <= dropped

    imported = import_cvat(fresh, report.paths[0])
    assert len(imported.ids) == 6 and not imported.dropped
    for stream in ("cam", "video"):
        before = [r for r in s.store.records("annotation") if r["stream"] == stream]
        after = [r for r in fresh.store.records("annotation") if r["stream"] == stream]
        key = lambda r: (r["frame"] or 0, r["kind"], r["label"])  # noqa: E731
        for a, b in zip(sorted(before, key=key), sorted(after, key=key), strict=True):
            assert (a["kind"], a["label"], a["frame"]) == (b["kind"], b["label"], b["frame"])
            _close(a["geometry"], b["geometry"])
            assert a["attributes"] == b["attributes"]


def _video_annotations(s: ac.Session) -> None:
    for f, x in ((3, 10.0), (7, 30.0), (12, 5.0)):
        s.annotate("clip", "video", "car", kind="box", geometry=[x, 20, 30, 40], frame=f, track="a")
    for f in (5, 6):
        s.annotate(
            "clip", "video", "person", kind="keypoints", frame=f, track="b",
            geometry=[[10 + f, 10, 2], [20, 30, 1], [0, 0, 0]],
        )  # fmt: skip
    s.annotate(
        "clip", "video", "person", kind="polygon", geometry=[[1, 1], [9, 1], [5, 7]], frame=299
    )
    s.annotate("clip", "video", "scene", kind="tag", frame=4)


def test_video_round_trip_keeps_keyframes_and_tracks(session, item, fresh, tmp_path) -> None:
    _video_annotations(session)
    report = export_cvat(session, tmp_path / "video.xml", mode="video")
    root = DET.parse(str(report.paths[0])).getroot()
    assert root.findtext("meta/task/mode") == "interpolation"
    assert root.findtext("meta/task/stop_frame") == "299"
    assert root.findtext("meta/task/original_size/width") == "640"
    tracks = root.findall("track")
    assert [t.get("label") for t in tracks] == ["car", "person", "person"]
    car = tracks[0].findall("box")
    assert [(b.get("frame"), b.get("keyframe"), b.get("outside")) for b in car] == [
        ("3", "1", "0"), ("7", "1", "0"), ("12", "1", "0"), ("13", "1", "1"),
    ]  # fmt: skip
    last = tracks[2].findall("polygon")
    assert [p.get("frame") for p in last] == ["299"]  # no outside copy past the last frame
    assert any(d.what == "annotation" and "tag" in d.reason for d in report.dropped)

    imported = import_cvat(fresh, report.paths[0])
    assert imported.counts["not_materialised"] == 0 and not imported.extra["interpolated"]
    assert _signature(fresh, "video") == [x for x in _signature(session, "video") if x[2] != "tag"]
    groups_before: dict[str, list[int]] = {}
    for r in session.store.records("annotation"):
        if r["track"]:
            groups_before.setdefault(r["track"], []).append(r["frame"])
    groups_after = {}
    for r in fresh.store.records("annotation"):
        groups_after.setdefault(r["track"], []).append(r["frame"])
    assert sorted(sorted(v) for v in groups_after.values() if len(v) > 1) == sorted(
        sorted(v) for v in groups_before.values()
    )
    assert all(t.startswith("video#") for t in groups_after)


def test_video_interpolate_materialises_the_frames_between(session, item, fresh, tmp_path) -> None:
    _video_annotations(session)
    report = export_cvat(session, tmp_path / "video.xml", mode="video")
    imported = import_cvat(fresh, report.paths[0], interpolate=True)
    car = sorted(
        (r for r in fresh.store.records("annotation") if r["label"] == "car"),
        key=lambda r: r["frame"],
    )
    assert [r["frame"] for r in car] == list(range(3, 13))  # outside from frame 13
    by_frame = {r["frame"]: r["geometry"] for r in car}
    assert by_frame[5]["x"] == pytest.approx(20.0)  # halfway from 10 (frame 3) to 30 (frame 7)
    assert by_frame[8]["x"] == pytest.approx(30 + (5 - 30) / 5)
    interpolated = set(imported.extra["interpolated"])
    assert len(interpolated) == 7 and imported.counts["interpolated"] == 7
    keyframes = {r["frame"] for r in car if r["id"] not in interpolated}
    assert keyframes == {3, 7, 12}
    person = [r for r in fresh.store.records("annotation") if r["kind"] == "keypoints"]
    assert sorted(r["frame"] for r in person) == [5, 6]


HAND_WRITTEN_IMAGES = """<?xml version="1.0" encoding="utf-8"?>
<annotations>
  <version>1.1</version>
  <meta>
    <task>
      <id>4</id>
      <name>segmentation</name>
      <size>2</size>
      <mode>annotation</mode>
      <labels>
        <label><name>car</name><attributes></attributes></label>
        <label><name>traffic_line</name><attributes></attributes></label>
        <label><name>wheel</name><attributes></attributes></label>
      </labels>
    </task>
    <dumped>2018-09-25 11:38:28.799808+03:00</dumped>
  </meta>
  <image id="0" name="images/cam.png" width="640" height="480">
    <box label="car" xtl="79.33" ytl="87.92" xbr="96.52" ybr="92.94" occluded="1" z_order="4">
      <attribute name="colour">blue</attribute>
      <attribute name="shininess">high</attribute>
    </box>
    <polygon label="car" points="56.30,91.23;56.30,84.77;55.72,76.63;65.68,67.20" occluded="0"
      z_order="1">
    </polygon>
    <polyline label="traffic_line" points="46.21,0.00;12.68,120.00" occluded="0" z_order="3">
    </polyline>
    <points label="person" points="57.49,93.94;117.01,90.79;113.06,44.52" occluded="0" z_order="5">
    </points>
    <points label="wheel" points="1,2" occluded="0" z_order="5"></points>
    <tag label="scene" source="manual">
    </tag>
  </image>
  <image id="1" name="unknown.jpg" width="640" height="480">
    <box label="car" xtl="1" ytl="1" xbr="2" ybr="2" occluded="0"/>
  </image>
</annotations>
"""

HAND_WRITTEN_VIDEO = """<?xml version="1.0" encoding="utf-8"?>
<annotations>
  <version>1.1</version>
  <meta>
    <task>
      <id>5</id>
      <name>interpolation</name>
      <size>300</size>
      <mode>interpolation</mode>
      <original_size><width>640</width><height>360</height></original_size>
    </task>
  </meta>
  <track id="0" label="car">
    <polygon frame="0" points="324.79,213.16;323.74,227.90;347.42,237.37;371.11,217.37"
      outside="0" occluded="0" keyframe="1"></polygon>
    <polygon frame="1" points="324.79,213.16;323.74,227.90;347.42,237.37;371.11,217.37"
      outside="1" occluded="0" keyframe="1"></polygon>
    <polygon frame="6" points="305.32,237.90;312.16,207.90;352.69,206.32;355.32,233.16"
      outside="0" occluded="0" keyframe="1"></polygon>
    <polygon frame="7" points="305.32,237.90;312.16,207.90;352.69,206.32;355.32,233.16"
      outside="1" occluded="0" keyframe="1"></polygon>
  </track>
  <track id="1" label="person" source="auto">
    <box frame="10" xtl="10" ytl="10" xbr="20" ybr="20" outside="0" occluded="0" keyframe="1"/>
    <box frame="11" xtl="12" ytl="10" xbr="22" ybr="20" outside="0" occluded="0" keyframe="0"/>
    <box frame="12" xtl="14" ytl="10" xbr="24" ybr="20" outside="0" occluded="0" keyframe="1"/>
    <box frame="13" xtl="14" ytl="10" xbr="24" ybr="20" outside="1" occluded="0" keyframe="1"/>
  </track>
</annotations>
"""


def test_import_hand_written_images_file(session, item, tmp_path) -> None:
    path = tmp_path / "images.xml"
    path.write_text(HAND_WRITTEN_IMAGES, encoding="utf-8")
    report = import_cvat(session, path)
    df = session.annotations.sort_values("kind")
    assert list(df["kind"]) == ["box", "keypoints", "polygon", "tag"]
    box = df[df["kind"] == "box"].iloc[0]
    assert box["geometry"] == pytest.approx(
        {"x": 79.33, "y": 87.92, "w": 96.52 - 79.33, "h": 92.94 - 87.92}
    )
    assert box["attributes"] == {"occluded": True, "colour": "blue"}
    kp = df[df["kind"] == "keypoints"].iloc[0]
    assert kp["geometry"]["points"][1] == [117.01, 90.79, 2]
    reasons = [f"{d.what}: {d.reason}" for d in report.dropped]
    assert any("shininess" in r for r in reasons)
    assert any("no accord geometry" in r for r in reasons)  # the polyline
    assert any("'wheel' is not a class" in r for r in reasons)
    assert any(r.startswith("image:") and "unknown.jpg" in r for r in reasons)


def test_import_hand_written_video_file(session, item, tmp_path) -> None:
    path = tmp_path / "video.xml"
    path.write_text(HAND_WRITTEN_VIDEO, encoding="utf-8")
    report = import_cvat(session, path)
    df = session.annotations
    assert sorted(zip(df["label"], df["frame"], strict=True)) == [
        ("car", 0), ("car", 6), ("person", 10), ("person", 12),
    ]  # fmt: skip
    assert report.counts["not_materialised"] == 1  # CVAT's own interpolated frame 11
    assert set(df.loc[df["label"] == "person", "source"]) == {"prediction"}
    assert df.loc[df["label"] == "car", "track"].nunique() == 1


def test_import_hand_written_video_file_interpolated(session, item, tmp_path) -> None:
    path = tmp_path / "video.xml"
    path.write_text(HAND_WRITTEN_VIDEO, encoding="utf-8")
    report = import_cvat(session, path, interpolate=True)
    df = session.annotations
    person = df[df["label"] == "person"].sort_values("frame")
    assert list(person["frame"]) == [10, 11, 12]
    assert person.iloc[1]["geometry"]["x"] == 12  # CVAT's own frame, taken as written
    assert len(report.extra["interpolated"]) == 1
    assert sorted(df.loc[df["label"] == "car", "frame"]) == [0, 6]  # outside right after


def test_video_needs_one_video_stream(session, item, tmp_path) -> None:
    session.apply(media_free_item("other"))
    with pytest.raises(ValidationError, match="exactly one video stream"):
        export_cvat(session, tmp_path / "v.xml", mode="video")
    export_cvat(session, tmp_path / "v.xml", mode="video", items="other")
    path = tmp_path / "video.xml"
    path.write_text(HAND_WRITTEN_VIDEO, encoding="utf-8")
    with pytest.raises(ValidationError, match="exactly one video stream"):
        import_cvat(session, path)
    report = import_cvat(session, path, items=["other"], stream="video")
    assert {r["item"] for r in session.store.records("annotation")} == {"other"}
    assert len(report.ids) == 4


BOMB = """<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
]>
<annotations><version>&lol4;</version></annotations>
"""

EXTERNAL = """<?xml version="1.0"?>
<!DOCTYPE annotations [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
<annotations><version>1.1</version>
  <image id="0" name="cam.png" width="640" height="480"><tag label="&xxe;"/></image>
</annotations>
"""

DTD_ONLY = """<?xml version="1.0"?>
<!DOCTYPE annotations SYSTEM "http://example.com/cvat.dtd">
<annotations><version>1.1</version></annotations>
"""


@pytest.mark.parametrize("text", [BOMB, EXTERNAL, DTD_ONLY], ids=["bomb", "xxe", "dtd"])
def test_hostile_xml_is_refused(session, item, tmp_path, text) -> None:
    seq = session.store.last_seq()
    path = tmp_path / "evil.xml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(FormatError, match="without DTD, entities or external references"):
        import_cvat(session, path)
    assert session.store.last_seq() == seq


def test_truncated_xml_names_line_and_column(session, item, tmp_path) -> None:
    path = tmp_path / "cut.xml"
    path.write_text(HAND_WRITTEN_IMAGES[:900], encoding="utf-8")
    with pytest.raises(FormatError, match=r"cut\.xml line \d+, column \d+"):
        import_cvat(session, path)
    path.write_text("<root/>", encoding="utf-8")
    with pytest.raises(FormatError, match="<annotations>"):
        import_cvat(session, path)
    assert len(session.annotations) == 0


@pytest.mark.parametrize(
    ("old", "new", "where"),
    [
        ('xtl="79.33"', 'xtl="left"', "image[0]/box[0]@xtl"),
        ('xtl="79.33"', "", "image[0]/box[0]@xtl"),
        ('points="1,2"', 'points="1;2"', "image[0]/points[4]@points"),
        ('<image id="1"', '<image id="-1"', "image[1]@id"),
        ('occluded="1" z_order="4"', 'occluded="yes" z_order="4"', "image[0]/box[0]@occluded"),
        ("polyline", "circle", "image[0]/circle[2]"),
    ],
)
def test_malformed_shapes_name_the_element(session, item, tmp_path, old, new, where) -> None:
    session.annotate("clip", "cam", "car", kind="box", geometry=[1, 1, 1, 1])
    seq = session.store.last_seq()
    text = HAND_WRITTEN_IMAGES.replace(old, new)
    assert text != HAND_WRITTEN_IMAGES
    path = tmp_path / "bad.xml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(FormatError) as err:
        import_cvat(session, path)
    assert err.value.where == f"bad.xml: {where}"
    assert session.store.last_seq() == seq
