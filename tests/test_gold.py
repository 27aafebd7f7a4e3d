"""Gold items: reference labels, annotators scored against them, mixed into queues unannounced."""

from __future__ import annotations

from pathlib import Path

import pytest

import accord as ac
from accord.errors import PermissionDeniedError

from .conftest import media_free_item


@pytest.fixture
def project(store_path: Path, session: ac.Session, item: str):
    for name in ("g1", "n1", "n2", "n3"):
        session.apply(media_free_item(name))
    lead = ac.Session(store_path, annotator="lead", role="reviewer")
    expert = ac.Session(store_path, annotator="expert")
    bob = ac.Session(store_path, annotator="bob")
    # the expert's reference on g1; ana gets 1 of 2 right, bob both
    expert.annotate("g1", "cam", "car", ac.Box(10, 10, 40, 40))
    expert.annotate("g1", "cam", "person", ac.Box(200, 100, 30, 80))
    session.annotate("g1", "cam", "car", ac.Box(11, 10, 40, 40))
    session.annotate("g1", "cam", "car", ac.Box(400, 300, 30, 30))
    bob.annotate("g1", "cam", "car", ac.Box(10, 10, 40, 40))
    bob.annotate("g1", "cam", "person", ac.Box(201, 100, 30, 80))
    people = {"ana": session, "lead": lead, "expert": expert, "bob": bob}
    yield people
    for name in ("lead", "expert", "bob"):
        people[name].close()


def test_only_reviewers_mark_gold_and_annotators_cannot_see_it(project) -> None:
    with pytest.raises(PermissionDeniedError):
        project["ana"].set_gold("g1", "expert")
    project["lead"].set_gold("g1", "expert")
    assert project["lead"].gold_items == {"g1": "expert"}
    with pytest.raises(PermissionDeniedError):
        _ = project["ana"].gold_items
    ana_meta = project["ana"].items.set_index("item").loc["g1", "meta"]
    assert "gold" not in ana_meta
    assert "gold" in project["lead"].items.set_index("item").loc["g1", "meta"]


def test_annotators_are_scored_against_the_reference(project) -> None:
    project["lead"].set_gold("g1", "expert")
    scores = project["lead"].gold_scores().set_index("annotator")
    assert scores.loc["bob", "f1"] == pytest.approx(1.0)
    assert scores.loc["ana", "precision"] == pytest.approx(0.5)
    assert scores.loc["ana", "recall"] == pytest.approx(0.5)
    assert scores.loc["ana", "n_reference"] == 2 and scores.loc["ana", "n"] == 2
    assert scores.loc["bob", "label_agreement"] == pytest.approx(1.0)


def test_gold_items_are_mixed_into_queues_unannounced(project) -> None:
    project["lead"].set_gold("g1", "expert")
    q = project["ana"].queue("uncertainty", gold_every=2)
    assert q["item"].tolist() == ["clip", "n1", "g1", "n2", "n3"]
    assert list(q.columns) == ["item", "uncertainty"]  # nothing marks the gold item
    project["lead"].set_gold("g1", None)
    assert project["lead"].gold_items == {}
