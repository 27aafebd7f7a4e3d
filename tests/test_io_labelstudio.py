"""Label Studio: tasks round trip, percent coordinates, predictions, labeling configs."""

from __future__ import annotations

import json
from pathlib import Path

import defusedxml.ElementTree as DET
import numpy as np
import pytest

import accord as ac
from accord.errors import FormatError, ValidationError
from accord.io.labelstudio import export_labelstudio, import_labelstudio, labelstudio_config

from .conftest import media_free_item


@pytest.fixture
def fresh(tmp_path: Path, taxonomy: ac.Taxonomy):
    s = ac.Session(tmp_path / "fresh.accord", taxonomy=taxonomy, annotator="bob")
    s.apply(media_free_item("clip"))
    yield s
    s.close()


def _tasks(path: Path) -> list[dict]:
    return json.loads(path.read_text(encoding="utf-8"))


def _results(task: dict, group: str = "annotations") -> list[dict]:
    return [r for entry in task[group] for r in entry["result"]]


def test_percent_conversion_is_exact(session, item, tmp_path) -> None:
    session.annotate("clip", "cam", "car", kind="box", geometry=[64, 48, 320, 240])
    session.annotate(
        "clip", "cam", "person", kind="polygon", geometry=[[0, 0], [640, 0], [320, 480]]
    )
    session.annotate(
        "clip", "cam", "person", kind="keypoints", geometry=[[32, 24, 2], [0, 0, 0], [640, 480, 2]]
    )
    report = export_labelstudio(session, tmp_path / "out", modality="image")
    assert report.paths == [tmp_path / "out" / "tasks.json"]
    (task,) = _tasks(report.paths[0])
    assert task["data"] == {"image": "cam.png", "accord_item": "clip", "accord_stream": "cam"}
    by_type = {}
    for r in _results(task):
        by_type.setdefault(r["type"], []).append(r)
    rect = by_type["rectanglelabels"][0]
    assert (rect["original_width"], rect["original_height"]) == (640, 480)
    assert {k: rect["value"][k] for k in ("x", "y", "width", "height")} == {
        "x": 10.0, "y": 10.0, "width": 50.0, "height": 50.0,
    }  # fmt: skip
    assert rect["value"]["rectanglelabels"] == ["car"]
    assert by_type["polygonlabels"][0]["value"]["points"] == [
        [0.0, 0.0],
        [100.0, 0.0],
        [50.0, 100.0],
    ]
    kps = by_type["keypointlabels"]
    assert [(k["value"]["x"], k["value"]["y"]) for k in kps] == [(5.0, 5.0), (100.0, 100.0)]
    assert [k["value"]["keypointlabels"] for k in kps] == [["person/head"], ["person/right_hand"]]


def _annotate(s: ac.Session) -> dict[str, str]:
    s.apply(
        {
            "type": "item.add",
            "item": {"id": "doc", "meta": {}, "calibrations": {}},
            "streams": [ac.Stream("doc", "text", "text", text="😀 Hi Ana, 👋🏽 bye").to_dict()],
        }
    )
    return {
        "box": s.annotate(
            "clip",
            "cam",
            "car",
            kind="box",
            geometry=[64.5, 48, 320, 240.25],
            attributes={"colour": "blue", "occluded": True},
        ),
        "rot": s.annotate(
            "clip", "cam", "car", kind="rotated_box", geometry=[100, 120, 30, 20, -0.3]
        ),
        "poly": s.annotate(
            "clip", "cam", "person", kind="polygon", geometry=[[1, 1], [50, 1.5], [20, 30]]
        ),
        "kp": s.annotate(
            "clip",
            "cam",
            "person",
            kind="keypoints",
            geometry=[[10, 10, 2], [20, 30, 2], [0, 0, 0]],
        ),
        "tag": s.annotate("clip", "cam", "scene", kind="tag"),
        "seg": s.annotate(
            "clip",
            "audio",
            "speech",
            kind="time_segment",
            geometry=[1.5, 2.25],
            attributes={"speaker": "Ana"},
        ),
        "span": s.annotate("doc", "text", "speech", kind="text_span", geometry=[5, 8]),
        "span2": s.annotate("doc", "text", "speech", kind="text_span", geometry=[10, 12]),
        "vbox": s.annotate("clip", "video", "car", kind="box", geometry=[1, 2, 3, 4], frame=3),
    }


def _comparable(s: ac.Session) -> list[tuple]:
    rows = []
    for r in s.store.records("annotation"):
        g = r["geometry"]
        flat = (
            np.concatenate([np.ravel(np.asarray(v, dtype=float)) for v in g.values()]) if g else []
        )
        rows.append(
            (
                r["item"],
                r["stream"],
                r["label"],
                r["kind"],
                r["source"],
                r["score"],
                list(flat),
                r["attributes"],
            )
        )
    return sorted(rows, key=lambda x: (x[:4], x[6]))


def test_round_trip(session, item, tmp_path, taxonomy) -> None:
    ids = _annotate(session)
    session.link(ids["box"], ids["rot"], "refers_to")
    session.link(ids["seg"], ids["kp"], "speaks")  # across tasks: no relation possible
    report = export_labelstudio(session, tmp_path / "tasks.json")
    dropped = {(d.what, d.id) for d in report.dropped}
    assert ("annotation", ids["vbox"]) in dropped
    assert sum(d.what == "link" for d in report.dropped) == 1
    (image_task,) = [t for t in _tasks(report.paths[0]) if "image" in t["data"]]
    relations = [r for r in _results(image_task) if r["type"] == "relation"]
    assert relations == [
        {"from_id": ids["box"], "to_id": ids["rot"], "type": "relation", "direction": "right",
         "labels": ["refers_to"]},
    ]  # fmt: skip
    (text_task,) = [t for t in _tasks(report.paths[0]) if t["data"]["accord_item"] == "doc"]
    spans = [r["value"] for r in _results(text_task)]
    assert [(v["start"], v["end"], v["text"]) for v in spans] == [(5, 8, "Ana"), (10, 12, "👋🏽")]

    fresh = ac.Session(tmp_path / "fresh.accord", taxonomy=taxonomy, annotator="bob")
    fresh.apply(media_free_item("clip"))
    fresh.apply(
        {
            "type": "item.add",
            "item": {"id": "doc", "meta": {}, "calibrations": {}},
            "streams": [ac.Stream("doc", "text", "text", text="😀 Hi Ana, 👋🏽 bye").to_dict()],
        }
    )
    imported = import_labelstudio(fresh, report.paths[0])
    assert [d.what for d in imported.dropped] == ["link"]  # the relation, reported
    before = [r for r in _comparable(session) if r[1] != "video"]
    after = _comparable(fresh)
    assert len(before) == len(after) == len(imported.ids)
    for a, b in zip(before, after, strict=True):
        assert a[:4] == b[:4] and a[5] == b[5] and a[7] == b[7]
        assert (a[4], b[4]) == ("human", "import")
        np.testing.assert_allclose(a[6], b[6], atol=1e-9)
    fresh.close()


def test_predictions_and_annotations_split_by_source(session, item, fresh, tmp_path) -> None:
    session.annotate("clip", "cam", "car", kind="box", geometry=[1, 1, 10, 10])
    session.annotate(
        "clip", "cam", "car", kind="box", geometry=[2, 2, 10, 10], source="prediction", score=0.9
    )
    session.annotate(
        "clip", "cam", "person", kind="polygon", geometry=[[1, 1], [9, 1], [5, 7]],
        source="prediction", score=0.5,
    )  # fmt: skip
    other = ac.Session(session.store, annotator="cem")
    other.annotate("clip", "cam", "car", kind="box", geometry=[3, 3, 10, 10])
    report = export_labelstudio(session, tmp_path / "t.json", modality="image")
    (task,) = _tasks(report.paths[0])
    assert len(task["annotations"]) == 2  # one per annotator: ana, cem
    assert all(a["ground_truth"] is False for a in task["annotations"])
    (prediction,) = task["predictions"]
    assert prediction["model_version"] == "accord"
    assert prediction["score"] == pytest.approx(0.7)
    assert sorted(r["score"] for r in prediction["result"] if "labels" in r["type"]) == [0.5, 0.9]
    assert all("score" not in r for r in _results(task))

    imported = import_labelstudio(fresh, report.paths[0])
    df = fresh.annotations
    assert len(imported.ids) == 4
    assert sorted(df["source"]) == ["import", "import", "prediction", "prediction"]
    preds = df[df["source"] == "prediction"].sort_values("score")
    assert list(preds["score"]) == [0.5, 0.9] and list(preds["kind"]) == ["polygon", "box"]


THIRD_PARTY = [
    {
        "id": 7,
        "data": {"image": "/data/upload/1/cam.png"},
        "annotations": [
            {
                "id": 1,
                "completed_by": 1,
                "result": [
                    {
                        "id": "Hx8s",
                        "from_name": "label",
                        "to_name": "image",
                        "type": "rectanglelabels",
                        "original_width": 1280,
                        "original_height": 960,
                        "value": {
                            "x": 25,
                            "y": 50,
                            "width": 10,
                            "height": 5,
                            "rotation": 0,
                            "rectanglelabels": ["car"],
                        },
                    },
                    {
                        "id": "Hx8s",
                        "from_name": "colour",
                        "to_name": "image",
                        "type": "choices",
                        "value": {"x": 25, "y": 50, "width": 10, "height": 5, "choices": ["red"]},
                    },
                    {
                        "id": "k1",
                        "from_name": "kp",
                        "to_name": "image",
                        "type": "keypointlabels",
                        "value": {"x": 50, "y": 50, "width": 1, "keypointlabels": ["person"]},
                    },
                    {
                        "id": "b1",
                        "from_name": "brush",
                        "to_name": "image",
                        "type": "brushlabels",
                        "value": {"format": "rle", "rle": [1, 2], "brushlabels": ["car"]},
                    },
                    {"from_id": "Hx8s", "to_id": "k1", "type": "relation", "direction": "right"},
                    {
                        "id": "c1",
                        "from_name": "kind",
                        "to_name": "image",
                        "type": "choices",
                        "value": {"choices": ["scene", "night"]},
                    },
                ],
            },
            {"id": 2, "was_cancelled": True, "result": []},
        ],
        "predictions": [],
    },
    {
        "id": 8,
        "data": {"text": "Hello there.\nGeneral Kenobi!"},
        "annotations": [
            {
                "result": [
                    {
                        "id": "s1",
                        "from_name": "ner",
                        "to_name": "text",
                        "type": "labels",
                        "value": {"start": 13, "end": 20, "text": "General", "labels": ["speech"]},
                    },
                    {
                        "id": "s2",
                        "from_name": "ner",
                        "to_name": "text",
                        "type": "labels",
                        "value": {"start": 0, "end": 5, "text": "Howdy", "labels": ["speech"]},
                    },
                    {
                        "id": "s1",
                        "from_name": "speaker",
                        "to_name": "text",
                        "type": "textarea",
                        "value": {"start": 13, "end": 20, "text": ["Obi-Wan"]},
                    },
                ]
            }
        ],
    },
    {"id": 9, "data": {"image": "https://example.com/other.jpg"}, "annotations": []},
]


def test_import_third_party_tasks(session, item, tmp_path) -> None:
    path = tmp_path / "export.json"
    path.write_text(json.dumps(THIRD_PARTY), encoding="utf-8")
    report = import_labelstudio(session, path)
    df = session.annotations
    box = df[df["kind"] == "box"].iloc[0]
    # percentages of the stream's 640×480 (the annotated original was 1280×960)
    assert box["geometry"] == {"x": 160.0, "y": 240.0, "w": 64.0, "h": 24.0}
    assert box["attributes"] == {"occluded": False, "colour": "red"}
    kp = df[df["kind"] == "keypoints"].iloc[0]
    assert kp["geometry"]["points"][0] == [320.0, 240.0, 2]
    assert list(df.loc[df["kind"] == "tag", "label"]) == ["scene"]
    span = df[df["kind"] == "text_span"].iloc[0]
    assert span["geometry"] == {"start": 13, "end": 20} and span["attributes"] == {
        "speaker": "Obi-Wan"
    }
    reasons = [f"{d.what} {d.id}: {d.reason}" for d in report.dropped]
    assert any("brushlabels" in r for r in reasons)
    assert any(r.startswith("link") for r in reasons)
    assert any("cancelled" in r for r in reasons)
    assert any("'night' is not a class" in r for r in reasons)
    assert any("'Howdy'" in r for r in reasons)
    assert any(r.startswith("task 9") for r in reasons)
    assert len(report.ids) == 4


def test_match_override(session, item, tmp_path) -> None:
    path = tmp_path / "export.json"
    path.write_text(json.dumps(THIRD_PARTY[2:]), encoding="utf-8")
    doc = json.loads(path.read_text())
    doc[0]["annotations"] = [THIRD_PARTY[0]["annotations"][0]]
    path.write_text(json.dumps(doc), encoding="utf-8")
    report = import_labelstudio(session, path, match={9: ("clip", "cam")})
    assert len(report.ids) == 3
    with pytest.raises(ValidationError):
        import_labelstudio(session, path, match=lambda task: "clip")


@pytest.mark.parametrize(
    ("mutate", "where"),
    [
        (
            lambda t: t[0]["annotations"][0]["result"][0]["value"].pop("x"),
            "tasks[0].annotations[0].result[0].value.x",
        ),
        (
            lambda t: t[0]["annotations"][0]["result"][0]["value"].update(width="10"),
            "tasks[0].annotations[0].result[0].value.width",
        ),
        (
            lambda t: t[0]["annotations"][0]["result"][0]["value"].update(rectanglelabels="car"),
            "tasks[0].annotations[0].result[0].value.rectanglelabels",
        ),
        (
            lambda t: t[0]["annotations"][0]["result"][2]["value"].pop("y"),
            "tasks[0].annotations[0].result[2].value.y",
        ),
        (
            lambda t: t[1]["annotations"][0]["result"][0]["value"].update(start=None),
            "tasks[1].annotations[0].result[0].value.start",
        ),
        (lambda t: t[0]["annotations"][0]["result"].append(3), "tasks[0].annotations[0].result[6]"),
        (
            lambda t: t[0]["annotations"][0]["result"][4].pop("to_id"),
            "tasks[0].annotations[0].result[4].to_id",
        ),
        (lambda t: t[0].update(annotations={}), "tasks[0].annotations"),
        (lambda t: t[2].pop("data"), "tasks[2].data"),
    ],
)
def test_malformed_tasks_name_the_place(session, item, tmp_path, mutate, where) -> None:
    seq = session.store.last_seq()
    doc = json.loads(json.dumps(THIRD_PARTY))
    mutate(doc)
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(doc), encoding="utf-8")
    with pytest.raises(FormatError) as err:
        import_labelstudio(session, path)
    assert err.value.where == where
    assert session.store.last_seq() == seq


def test_truncated_json(session, item, tmp_path) -> None:
    path = tmp_path / "cut.json"
    path.write_text(json.dumps(THIRD_PARTY)[:300], encoding="utf-8")
    with pytest.raises(FormatError, match=r"cut\.json line 1, column \d+"):
        import_labelstudio(session, path)
    path.write_text('"just a string"', encoding="utf-8")
    with pytest.raises(FormatError, match="list of Label Studio tasks"):
        import_labelstudio(session, path)


def test_config_is_well_formed_and_complete(taxonomy) -> None:
    root = DET.fromstring(labelstudio_config(taxonomy, "image"))
    assert root.tag == "View"
    image = root.find("Image")
    assert image is not None and image.get("value") == "$image" and image.get("name") == "image"
    rect = root.find("RectangleLabels")
    assert rect.get("toName") == "image"
    assert [(lab.get("value"), lab.get("background")) for lab in rect] == [
        ("vehicle", "#1f77b4"), ("car", "#888888"), ("person", "#ff7f0e"),
    ]  # fmt: skip
    kp = root.find("KeyPointLabels")
    assert [lab.get("value") for lab in kp] == [
        "person/head",
        "person/left_hand",
        "person/right_hand",
    ]
    colour = root.find("Choices[@name='colour']")
    assert colour.get("perRegion") == "true" and colour.get("whenLabelValue") == "car"
    assert [c.get("value") for c in colour] == ["red", "blue", "other"]
    tags = root.find("Choices[@name='tag']")
    assert [c.get("value") for c in tags] == ["scene"]

    audio = DET.fromstring(labelstudio_config(taxonomy, "audio"))
    assert audio.find("Audio").get("value") == "$audio"
    assert [lab.get("value") for lab in audio.find("Labels")] == ["speech"]
    assert audio.find("TextArea").get("name") == "speaker"
    text = DET.fromstring(labelstudio_config(taxonomy, "text"))
    assert text.find("Labels").get("name") == "span"
    with pytest.raises(ValidationError):
        labelstudio_config(taxonomy, "pointcloud")


def test_config_escapes_label_names() -> None:
    hostile = ['<img src=x onerror="alert(1)">', "say \"hi\" & 'bye'", "a]]>b"]
    tax = ac.Taxonomy.build(
        "hostile",
        classes=[
            {"name": name, "geometries": {"image": ["box"]},
             "attributes": [{"name": "q\"<", "type": "choice", "choices": ['"x"', "<y>"]}]}
            for name in hostile
        ],
    )  # fmt: skip
    xml = labelstudio_config(tax, "image")
    assert "<img" not in xml and "&lt;img src=x onerror=&quot;alert(1)&quot;&gt;" in xml
    root = DET.fromstring(xml)
    assert [lab.get("value") for lab in root.find("RectangleLabels")] == hostile
    choices = root.find("Choices")
    assert choices.get("name") == 'q"<' and [c.get("value") for c in choices] == ['"x"', "<y>"]
