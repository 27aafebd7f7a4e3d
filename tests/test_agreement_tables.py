"""Session.agreement: per pair, per class and per modality, on a hand-worked example."""

from __future__ import annotations

from pathlib import Path

import pytest

import accord as ac
from accord.errors import ValidationError


@pytest.fixture
def two_annotators(store_path: Path, session: ac.Session, item: str):
    bob = ac.Session(store_path, annotator="bob")
    # boxes on the image: ana 2, bob 3; two matches (IoU 1 and 90/110), one label differs
    session.annotate(item, "cam", "car", ac.Box(0, 0, 10, 10))
    session.annotate(item, "cam", "car", ac.Box(20, 20, 10, 10))
    bob.annotate(item, "cam", "car", ac.Box(0, 0, 10, 10))
    bob.annotate(item, "cam", "person", ac.Box(21, 20, 10, 10))
    bob.annotate(item, "cam", "car", ac.Box(50, 50, 5, 5))
    # audio segments: one match ([0, 2] vs [0.1, 2]), one miss each side
    session.annotate(item, "audio", "speech", ac.TimeSegment(0, 2))
    session.annotate(item, "audio", "speech", ac.TimeSegment(3, 5))
    bob.annotate(item, "audio", "speech", ac.TimeSegment(0.1, 2))
    bob.annotate(item, "audio", "speech", ac.TimeSegment(6, 7))
    # a prediction never counts as an annotator
    session.annotate(item, "cam", "car", ac.Box(100, 100, 9, 9), source="prediction", score=0.4)
    yield session
    bob.close()


def test_pairs(two_annotators: ac.Session) -> None:
    t = two_annotators.agreement().set_index(["modality", "kind"])
    img = t.loc[("image", "box")]
    assert (img["annotator_a"], img["annotator_b"]) == ("ana", "bob")
    assert (img["n_a"], img["n_b"], img["matched"]) == (2, 3, 2)
    assert img["precision"] == pytest.approx(2 / 3)
    assert img["recall"] == pytest.approx(1.0)
    assert img["f1"] == pytest.approx(0.8)
    assert img["label_agreement"] == pytest.approx(0.5)
    aud = t.loc[("audio", "time_segment")]
    assert (aud["n_a"], aud["n_b"], aud["matched"]) == (2, 2, 1)
    assert aud["f1"] == pytest.approx(0.5)


def test_by_class_and_by_modality(two_annotators: ac.Session) -> None:
    by_class = two_annotators.agreement(by="class")
    car = by_class[(by_class["kind"] == "box") & (by_class["label"] == "car")].iloc[0]
    # cars only: ana 2, bob 2 ([0,0] and [50,50]); one match
    assert (car["n_a"], car["n_b"], car["matched"]) == (2, 2, 1)
    person = by_class[(by_class["kind"] == "box") & (by_class["label"] == "person")].iloc[0]
    assert (person["n_a"], person["n_b"], person["matched"]) == (0, 1, 0)
    pooled = two_annotators.agreement(by="modality").set_index("modality")
    assert pooled.loc["image", "f1"] == pytest.approx(0.8)
    assert pooled.loc["image", "annotator_a"] == "*"
    with pytest.raises(ValidationError):
        two_annotators.agreement(by="colour")


def test_stricter_iou_threshold_drops_the_shifted_match(two_annotators: ac.Session) -> None:
    t = two_annotators.agreement(iou_threshold=0.85).set_index(["modality", "kind"])
    assert t.loc[("image", "box"), "matched"] == 1  # 90/110 = 0.818 < 0.85


def test_agreement_on_the_link_graph(store_path: Path, session: ac.Session, item: str) -> None:
    bob = ac.Session(store_path, annotator="bob")
    made = {}
    for who, s, dx in (("ana", session, 0.0), ("bob", bob, 1.0)):
        cub = s.annotate(
            item, "lidar", "car", ac.Cuboid((10, 0, 0.7), (4.2, 1.8, 1.4), 0.0), frame=3
        )
        car = s.annotate(item, "video", "car", ac.Box(100 + dx, 50, 80, 40), frame=9)
        face = s.annotate(item, "video", "person", ac.Box(300 + dx, 60, 30, 30), frame=9)
        other = s.annotate(item, "video", "person", ac.Box(500 + dx, 60, 30, 30), frame=9)
        span = s.annotate(item, "transcript", "speech", ac.TextSpan(0, 5))
        s.link(cub, car, "same_as")
        made[who] = {"span": span, "face": face, "other": other}
    session.link(made["ana"]["span"], made["ana"]["face"], "speaks")
    bob.link(made["bob"]["span"], made["bob"]["other"], "speaks")  # a different speaker
    t = session.agreement(by="links").set_index("link_type")
    assert t.loc["same_as", "f1"] == pytest.approx(1.0)
    assert (t.loc["speaks", "n_a"], t.loc["speaks", "n_b"], t.loc["speaks", "matched"]) == (1, 1, 0)
    assert t.loc["speaks", "f1"] == pytest.approx(0.0)
    bob.close()
