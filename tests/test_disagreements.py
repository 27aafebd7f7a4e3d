"""Disagreements and show_annotation, driven from Python (no browser), on a hand-worked example.

ana and bob label two items (``clip``: an image ``cam`` and audio; ``clip2``: a video):

clip/cam (image)                       clip2/video
  ana car (0,0,10,10)    bob car  same     f3  ana car (0,0,10,10)     bob car  same
  ana car (20,20,10,10)  bob person (21,20,10,10), IoU 90/110
                         bob car (50,50,5,5), alone
  ana person (100,100,20,20)  bob person same
                                           f7  ana car (100,100,10,10) bob car (300,300,10,10)
                                           f9  ana vehicle (0,0,50,50) bob car  same place
clip/audio: ana [0, 2] [3, 5]; bob [0.1, 2] [6, 7]

Matched whatever the label (IoU ≥ 0.5), ana → bob: car/car 2, car/person 1,
person/person 1, vehicle/car 1. Within class "car": ana 4, bob 5, matched 2
(clip 1 of 2 vs 2, clip2 1 of 2 vs 3): F1 4/9; per item clip 0.5, clip2 0.4.
"""

from __future__ import annotations

from pathlib import Path

import ipywidgets as W
import pandas as pd
import pytest

import accord as ac
from accord.errors import NotFoundError, ValidationError
from accord.qa.tables import agreement_table
from accord.widgets import CloudViewer, Disagreements, Player, RegionCanvas, show_annotation
from accord.widgets.disagreements import first_disagreement, label_confusion

from .conftest import media_free_item

XSS = "<img src=x onerror=alert(1)>"


@pytest.fixture
def ids(store_path: Path, session: ac.Session) -> dict[str, str]:
    s = session
    s.apply(media_free_item("clip"))
    s.apply(media_free_item("clip2"))
    bob = ac.Session(store_path, annotator="bob")
    box = ac.Box
    out = {
        "a_car0": s.annotate("clip", "cam", "car", box(0, 0, 10, 10)),
        "a_car20": s.annotate("clip", "cam", "car", box(20, 20, 10, 10)),
        "a_person": s.annotate("clip", "cam", "person", box(100, 100, 20, 20)),
        "b_car0": bob.annotate("clip", "cam", "car", box(0, 0, 10, 10)),
        "b_person21": bob.annotate("clip", "cam", "person", box(21, 20, 10, 10)),
        "b_car50": bob.annotate("clip", "cam", "car", box(50, 50, 5, 5)),
        "b_person": bob.annotate("clip", "cam", "person", box(100, 100, 20, 20)),
        "a_f3": s.annotate("clip2", "video", "car", box(0, 0, 10, 10), frame=3),
        "b_f3": bob.annotate("clip2", "video", "car", box(0, 0, 10, 10), frame=3),
        "a_f7": s.annotate("clip2", "video", "car", box(100, 100, 10, 10), frame=7),
        "b_f7": bob.annotate("clip2", "video", "car", box(300, 300, 10, 10), frame=7),
        "a_f9": s.annotate("clip2", "video", "vehicle", box(0, 0, 50, 50), frame=9),
        "b_f9": bob.annotate("clip2", "video", "car", box(0, 0, 50, 50), frame=9),
        "a_seg": s.annotate("clip", "audio", "speech", ac.TimeSegment(0, 2)),
        "b_seg": bob.annotate("clip", "audio", "speech", ac.TimeSegment(0.1, 2)),
        "a_seg2": s.annotate("clip", "audio", "speech", ac.TimeSegment(3, 5)),
        "b_seg2": bob.annotate("clip", "audio", "speech", ac.TimeSegment(6, 7)),
        "a_cuboid": s.annotate(
            "clip", "lidar", "car", ac.Cuboid((0, 0, 0), (4, 2, 1.5), 0.0), frame=0
        ),
    }
    # predictions are not annotators
    s.annotate("clip", "cam", "person", box(0, 0, 10, 10), source="prediction", score=0.3)
    bob.close()
    s.poll()
    return out


def _confusion(df: pd.DataFrame) -> dict[tuple[str, str], int]:
    return {(r.label_a, r.label_b): r.count for r in df.itertuples()}


# -- pure functions ------------------------------------------------------------------------


def test_label_confusion_counts_iou_matched_pairs(session: ac.Session, ids) -> None:
    ann = session.annotations
    conf = label_confusion(ann, "ana", "bob")
    assert list(conf.columns) == ["label_a", "label_b", "count"]
    assert _confusion(conf) == {
        ("car", "car"): 2,
        ("car", "person"): 1,
        ("person", "person"): 1,
        ("vehicle", "car"): 1,
    }
    # the other way round: rows and columns swap
    assert _confusion(label_confusion(ann, "bob", "ana")) == {
        ("car", "car"): 2,
        ("person", "car"): 1,
        ("person", "person"): 1,
        ("car", "vehicle"): 1,
    }
    # IoU 90/110 = 0.82 no longer matches at 0.85
    assert ("car", "person") not in _confusion(
        label_confusion(ann, "ana", "bob", iou_threshold=0.85)
    )
    # time segments match by temporal IoU: [0, 2] ~ [0.1, 2]
    seg = label_confusion(ann, "ana", "bob", kinds=["time_segment"])
    assert _confusion(seg) == {("speech", "speech"): 1}
    assert label_confusion(ann, "ana", "carol").empty
    with pytest.raises(ValidationError):
        label_confusion(ann, "ana", "ana")


def test_first_disagreement_finds_the_frame_and_the_shapes(session: ac.Session, ids) -> None:
    ann = session.annotations
    found = first_disagreement(ann, "clip2", "ana", "bob", label="car")
    assert found == {
        "kind": "box",
        "stream": "video",
        "frame": 7,
        "annotation_a": ids["a_f7"],
        "annotation_b": ids["b_f7"],
    }
    # labels ignored: frame 3 agrees, frame 7 has lonely boxes first
    assert first_disagreement(ann, "clip2", "ana", "bob")["frame"] == 7  # type: ignore[index]
    on_image = first_disagreement(ann, "clip", "ana", "bob", label="car")
    assert on_image is not None and on_image["frame"] is None and on_image["stream"] == "cam"
    assert (on_image["annotation_a"], on_image["annotation_b"]) == (ids["a_car20"], ids["b_car50"])
    # without a label, the relabelled pair is the disagreement
    relabel = first_disagreement(ann, "clip", "ana", "bob")
    assert relabel is not None
    assert (relabel["annotation_a"], relabel["annotation_b"]) == (ids["a_car20"], ids["b_person21"])
    person = first_disagreement(ann, "clip", "ana", "bob", label="person")
    assert person is not None
    assert (person["annotation_a"], person["annotation_b"]) == (None, ids["b_person21"])
    # where they agree: nothing
    agree = ann[ann["frame"].isna() | (ann["frame"] == 3)]
    assert first_disagreement(agree, "clip2", "ana", "bob") is None


# -- the widget ------------------------------------------------------------------------------


def test_heatmap_cells_per_pair_and_class(session: ac.Session, ids) -> None:
    w = Disagreements(session)
    t = w.table.set_index("column")
    assert set(t["pair"]) == {"ana · bob"}
    car = t.loc["car"]
    # boxes only: ana's cuboid has no cuboid of bob's to be compared with (as in s.agreement())
    assert (car["n_a"], car["n_b"], car["matched"]) == (4, 5, 2)
    assert car["f1"] == pytest.approx(4 / 9)
    # label agreement of car: both said car in 2 of the 4 matches involving car
    assert car["label_agreement"] == pytest.approx(0.5)
    person = t.loc["person"]
    assert (person["n_a"], person["n_b"], person["matched"]) == (1, 2, 1)
    assert t.loc["vehicle", "f1"] == 0
    seg = t.loc["time segments (all classes)"]
    assert (seg["n_a"], seg["n_b"], seg["matched"]) == (2, 2, 1)
    # the heatmap is an altair JupyterChart with the `cell` selection
    assert "cell" in w.heatmap.selections.trait_names()
    spec = w.heatmap.spec
    values = next(iter(spec["datasets"].values()))
    assert {v["column"] for v in values} >= {"car", "person", "vehicle"}
    w.close()


def test_select_lists_items_worst_first(session: ac.Session, ids) -> None:
    w = Disagreements(session)
    items = w.select(pair=("ana", "bob"), label="car")
    assert list(items["item"]) == ["clip2", "clip"]  # F1 0.4, then 0.5
    assert list(items["f1"]) == pytest.approx([0.4, 0.5])
    assert list(items["n_a"]) == [2, 2] and list(items["n_b"]) == [3, 2]
    # per item, the same numbers as agreement_table(items=[item])
    for r in items.itertuples():
        t = agreement_table(session, by="class", items=[r.item])
        row = t[(t["label"] == "car") & (t["kind"] == "box")].iloc[0]
        assert row["f1"] == pytest.approx(r.f1)
    first = items.iloc[0]
    assert (first["stream"], first["frame"]) == ("video", 7)
    assert (first["annotation_a"], first["annotation_b"]) == (ids["a_f7"], ids["b_f7"])
    assert w.cell is not None and w.cell.pair == ("ana", "bob") and w.cell.label == "car"
    # the item list shows them, in that order, and nothing is chosen yet
    assert [v for _, v in w.item_list.options] == ["clip2", "clip"]
    assert w.item_list.value is None
    assert w.canvases == ()
    # the pair's confusion matrix is shown
    assert _confusion(w.confusion)[("vehicle", "car")] == 1
    assert w.heatmap.params.chosen == w.cell.key
    # the pair in either order; a kind-level cell
    seg = w.select(pair=("bob", "ana"), kind="time_segment")
    assert list(seg["item"]) == ["clip"] and seg["f1"].iloc[0] == pytest.approx(0.5)
    assert (seg["stream"].iloc[0], pd.isna(seg["frame"].iloc[0])) == ("audio", True)
    assert _confusion(w.confusion) == {("speech", "speech"): 1}
    w.close()


def test_select_refuses_unknown_cells(session: ac.Session, ids) -> None:
    w = Disagreements(session)
    with pytest.raises(ValidationError, match="ana"):
        w.select(pair=("ana", "zoe"), label="car")
    with pytest.raises(ValidationError, match="label='car'"):
        w.select(pair=("ana", "bob"), label="speech")
    with pytest.raises(ValidationError):
        w.select(pair=("ana", "bob"))
    with pytest.raises(ValidationError):
        w.open("clip")  # no cell selected
    with pytest.raises(ValidationError):
        Disagreements(session, by="modality")  # type: ignore[arg-type]
    w.close()


def test_open_builds_two_canvases_filtered_to_each_annotator(session: ac.Session, ids) -> None:
    w = Disagreements(session)
    w.select(pair=("ana", "bob"), label="car")
    a, b = w.open("clip2")
    assert isinstance(a, RegionCanvas) and isinstance(b, RegionCanvas)
    assert w.canvases == (a, b)
    assert (a.item, a.stream, a.frame, b.frame) == ("clip2", "video", 7, 7)
    assert (a.annotators, b.annotators) == (["ana"], ["bob"])
    assert (a.selected, b.selected) == (ids["a_f7"], ids["b_f7"])
    assert a.tool == "select"
    assert w.item_list.value == "clip2"
    # they sit side by side in the widget, each under its annotator's name
    (pane_a, pane_b) = w.children[-1].children
    assert pane_a.children[1] is a and pane_a.children[0].value == "ana"
    assert pane_b.children[1] is b and pane_b.children[0].value == "bob"
    # an image item: no frame
    c, d = w.open("clip")
    assert (c.stream, c.frame, c.selected, d.selected) == (
        "cam",
        None,
        ids["a_car20"],
        ids["b_car50"],
    )
    assert a.comm is None and b.comm is None  # the previous pair was closed
    # another frame than the first disagreement: nothing to select there
    e, _ = w.open("clip2", frame=9)
    assert (e.stream, e.frame, e.selected) == ("video", 9, None)
    f, _ = w.open("clip", stream="video")  # a stream without disagreements: frame 0
    assert (f.stream, f.frame, f.selected) == ("video", 0, None)
    w.close()


def test_choosing_an_item_in_the_list_opens_it(session: ac.Session, ids) -> None:
    w = Disagreements(session)
    w.select(pair=("ana", "bob"), label="car")
    w.item_list.value = "clip"  # what the page does when the user picks an option
    assert [c.stream for c in w.canvases] == ["cam", "cam"]
    assert [c.annotators for c in w.canvases] == [["ana"], ["bob"]]
    # side by side per annotator is for 2-D shapes: the reason is shown, not raised
    w.select(pair=("ana", "bob"), kind="time_segment")
    w.item_list.value = "clip"
    assert w.canvases == ()
    message = w.children[3].value
    assert "show_annotation" in message and "time_segment" in message
    with pytest.raises(ValidationError, match="show_annotation"):
        w.open("clip")
    w.close()


def test_a_click_on_a_heatmap_cell_selects_it(session: ac.Session, ids) -> None:
    w = Disagreements(session)
    key = w.table.set_index("column").loc["person"]
    cell_key = w._cells.set_index("column").loc["person", "key"]
    assert key["pair"] == "ana · bob"
    # what the page's vega view sends when the cell is clicked
    w.heatmap._vl_selections = {
        "cell": {"value": {"vlPoint": {"or": [{"key": cell_key}]}}, "store": []}
    }
    assert w.cell is not None and w.cell.label == "person"
    assert list(w.items["item"]) == ["clip"]
    assert w.items["annotation_b"].iloc[0] == ids["b_person21"]
    # after a refresh (new chart, new selections object) clicks still arrive
    w.refresh()
    assert w.cell is not None and w.cell.label == "person"  # kept
    vehicle_key = w._cells.set_index("column").loc["vehicle", "key"]
    w.heatmap._vl_selections = {
        "cell": {"value": {"vlPoint": {"or": [{"key": vehicle_key}]}}, "store": []}
    }
    assert w.cell.label == "vehicle"
    assert list(w.items["item"]) == ["clip2"]
    w.close()


def test_refresh_sees_fixes(session: ac.Session, ids) -> None:
    w = Disagreements(session)
    w.select(pair=("ana", "bob"), label="person")
    assert list(w.items["item"]) == ["clip"]
    session.annotate("clip", "cam", "person", ac.Box(21, 20, 10, 10))  # ana adds the missing one
    w.refresh()
    assert w.items.empty
    assert w.table.set_index("column").loc["person", "f1"] == 1.0
    w.close()


def test_data_strings_stay_text(store_path: Path, session: ac.Session) -> None:
    session.apply(media_free_item("clip"))
    bob = ac.Session(store_path, annotator=XSS)
    session.annotate("clip", "cam", "car", ac.Box(0, 0, 10, 10))
    bob.annotate("clip", "cam", "car", ac.Box(50, 50, 10, 10))
    bob.close()
    session.poll()
    w = Disagreements(session)
    items = w.select(pair=("ana", XSS), label="car")
    assert list(items["item"]) == ["clip"]
    ((text, _),) = w.item_list.options
    assert XSS in text  # literal text in a Select option, not markup

    def walk(widget: W.Widget) -> list[W.Widget]:
        return [widget, *[x for c in getattr(widget, "children", ()) for x in walk(c)]]

    w.open("clip")
    assert not [x for x in walk(w) if isinstance(x, W.HTML | W.HTMLMath)]
    assert XSS in {x.value for x in walk(w) if isinstance(x, W.Label)}
    w.close()


def test_no_pairs_yet(session: ac.Session) -> None:
    session.apply(media_free_item("clip"))
    session.annotate("clip", "cam", "car", ac.Box(0, 0, 10, 10))
    w = Disagreements(session)
    assert w.table.empty
    assert "two annotators" in w.children[0].children[1].value
    w.close()


# -- show_annotation and the RegionCanvas traits ------------------------------------------


def test_show_annotation_opens_the_right_frame_with_it_selected(session: ac.Session, ids) -> None:
    c = show_annotation(session, ids["b_f7"])
    assert (c.item, c.stream, c.frame, c.selected, c.tool) == (
        "clip2",
        "video",
        7,
        ids["b_f7"],
        "select",
    )
    assert c.annotators == []
    img = show_annotation(session, ids["a_person"], annotators=["ana"])
    assert (img.stream, img.frame, img.selected, img.annotators) == (
        "cam",
        None,
        ids["a_person"],
        ["ana"],
    )
    seg = show_annotation(session, ids["a_seg"])
    assert isinstance(seg, Player)
    assert seg.item == session.get(ids["a_seg"]).item
    cub = show_annotation(session, ids["a_cuboid"])
    assert isinstance(cub, CloudViewer)
    assert cub.selected == ids["a_cuboid"]
    seg.close()
    cub.close()
    with pytest.raises(NotFoundError):
        show_annotation(session, "a_nope")
    c.close()
    img.close()


def test_region_canvas_selected_and_annotators_traits(session: ac.Session, ids) -> None:
    c = RegionCanvas(session, "clip2", "video", selected=ids["a_f9"], annotators="bob")
    assert (c.frame, c.selected, c.annotators) == (9, ids["a_f9"], ["bob"])
    c.selected = ids["b_f3"]  # another frame of the stream: kept, shown when that frame is
    c.selected = None
    with pytest.raises(ValidationError, match="clip2/video"):
        c.selected = ids["a_car0"]  # another item
    with pytest.raises(NotFoundError):
        c.selected = "a_nope"
    with pytest.raises(ValidationError):
        RegionCanvas(session, "clip", "cam", selected=ids["a_seg"])
    # the page's own writes are not second-guessed (it only sends ids it shows)
    c.set_state({"selected": ids["a_f3"], "annotators": []})
    assert (c.selected, c.annotators) == (ids["a_f3"], [])
    c.annotators = ["ana", "bob", "ana"]
    assert c.annotators == ["ana", "bob"]
    with pytest.raises(ValidationError):
        c.annotators = ["ana", ""]
    c.close()
