"""Pre-annotation by any callable, accepting predictions, and work queues."""

from __future__ import annotations

from pathlib import Path

import pytest

import accord as ac
from accord.errors import ValidationError

from .conftest import media_free_item


def fake_detector(session: ac.Session, item: str):
    """A stand-in model: two boxes per item with item-dependent confidence."""
    conf = {"clip": 0.95, "hard": 0.55}[item]
    yield {"stream": "cam", "label": "car", "geometry": ac.Box(10, 10, 40, 30), "score": conf}
    yield {"stream": "cam", "label": "person", "kind": "box", "geometry": [100, 50, 20, 60],
           "score": 1 - conf}  # fmt: skip


@pytest.fixture
def two_items(session: ac.Session, item: str) -> ac.Session:
    session.apply(media_free_item("hard"))
    return session


def test_predictions_are_stored_apart_until_accepted(
    two_items: ac.Session, store_path: Path
) -> None:
    s = two_items
    ids = s.prelabel(fake_detector, model="det-v1")
    assert len(ids) == 4
    df = s.annotations.loc[ids]
    assert set(df["source"]) == {"prediction"} and set(df["annotator"]) == {"model:det-v1"}
    assert df["score"].tolist() == pytest.approx([0.95, 0.05, 0.55, 0.45])
    assert len(s.history[s.history["target"] == "annotation"]["command"].unique()) == 1
    assert s.agreement().empty  # predictions are nobody's labels
    # an annotator may fix or delete a suggestion, then accept the rest
    bob = ac.Session(store_path, annotator="bob")
    bob.update(ids[0], geometry=ac.Box(12, 10, 40, 30))
    bob.delete(ids[1])
    bob.accept(ids[2:])
    after = s.annotations
    assert after.loc[ids[2], "source"] == "human" and after.loc[ids[2], "annotator"] == "bob"
    assert after.loc[ids[0], "source"] == "prediction"
    with pytest.raises(ValidationError, match="prediction"):
        bob.accept(ids[2:3])  # already accepted
    bob.undo()
    assert s.annotations.loc[ids[2], "source"] == "prediction"
    bob.close()


def test_queue_by_uncertainty_and_by_disagreement(two_items: ac.Session, store_path: Path) -> None:
    s = two_items
    s.prelabel(fake_detector)
    q = s.queue("uncertainty")
    assert q["item"].tolist() == ["hard", "clip"]  # 0.55/0.45 are less certain than 0.95/0.05
    assert q["uncertainty"].iloc[0] == pytest.approx(0.9)
    bob = ac.Session(store_path, annotator="bob")
    for who in (s, bob):  # perfect agreement on "clip"
        who.annotate("clip", "cam", "car", ac.Box(0, 0, 10, 10))
    s.annotate("hard", "cam", "car", ac.Box(0, 0, 10, 10))
    bob.annotate("hard", "cam", "car", ac.Box(300, 300, 10, 10))  # no overlap on "hard"
    q = s.queue("disagreement")
    assert q["item"].tolist() == ["hard", "clip"]
    assert q["disagreement"].tolist() == pytest.approx([1.0, 0.0])
    with pytest.raises(ValidationError):
        s.queue("random")
    bob.close()
