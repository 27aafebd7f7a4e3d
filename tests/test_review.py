"""Review tiers and roles: self-check → peer review → senior audit, enforced by the Session."""

from __future__ import annotations

from pathlib import Path

import pytest

import accord as ac
from accord.errors import CommandError, PermissionDeniedError, ValidationError


@pytest.fixture
def team(store_path: Path, session: ac.Session, item: str):
    """ana (annotator, owns the box), bob (annotator), rita (reviewer), otto (admin)."""
    box = session.annotate(item, "cam", "car", ac.Box(10, 10, 50, 40))
    people = {
        "ana": session,
        "bob": ac.Session(store_path, annotator="bob"),
        "rita": ac.Session(store_path, annotator="rita", role="reviewer"),
        "otto": ac.Session(store_path, annotator="otto", role="admin"),
    }
    yield people, box
    for name in ("bob", "rita", "otto"):
        people[name].close()


def _unchanged(s: ac.Session):
    seq = s.store.last_seq()

    def check() -> None:
        assert s.store.last_seq() == seq

    return check


def test_the_full_path_with_comments(team) -> None:
    p, box = team
    p["ana"].review(box, "self_checked", "checked the rear bumper")
    p["rita"].review(box, "peer_reviewed", "looks right")
    p["otto"].review(box, "approved")
    assert p["ana"].get(box).status == "approved"
    reviews = p["ana"].reviews
    assert list(reviews["status"]) == ["self_checked", "peer_reviewed", "approved"]
    assert list(reviews["from_status"]) == ["draft", "self_checked", "peer_reviewed"]
    assert list(reviews["annotator"]) == ["ana", "rita", "otto"]
    assert reviews["comment"].iloc[0] == "checked the rear bumper"


def test_an_annotator_cannot_approve_or_change_someone_elses_labels(team) -> None:
    p, box = team
    p["ana"].review(box, "submitted")
    unchanged = _unchanged(p["ana"])
    with pytest.raises(PermissionDeniedError):
        p["bob"].update(box, label="person")
    with pytest.raises(PermissionDeniedError):
        p["bob"].review(box, "peer_reviewed")
    with pytest.raises(PermissionDeniedError):
        p["bob"].review(box, "approved")
    with pytest.raises(PermissionDeniedError):
        p["ana"].review(box, "peer_reviewed")  # no self-review
    unchanged()
    assert p["ana"].get(box).label == "car" and p["ana"].get(box).status == "submitted"


def test_a_reviewer_can_change_and_review_but_not_approve(team) -> None:
    p, box = team
    p["ana"].review(box, "submitted")
    p["rita"].update(box, label="person")
    assert p["ana"].get(box).label == "person"
    p["rita"].review(box, "peer_reviewed")
    with pytest.raises(PermissionDeniedError):
        p["rita"].review(box, "approved")
    with pytest.raises(ValidationError):
        p["otto"].review(box, "peer_reviewed")  # already peer-reviewed: not a valid move


def test_rejection_loops_back_to_the_owner(team) -> None:
    p, box = team
    p["ana"].review(box, "submitted")
    p["rita"].review(box, "rejected", "the box misses the mirror")
    assert p["ana"].get(box).status == "rejected"
    p["ana"].update(box, geometry=ac.Box(8, 10, 54, 40))
    p["ana"].review(box, "submitted", "fixed")
    assert p["ana"].get(box).status == "submitted"
    assert list(p["ana"].reviews["comment"])[-2:] == ["the box misses the mirror", "fixed"]


def test_approved_annotations_are_frozen_except_for_admins(team) -> None:
    p, box = team
    p["ana"].review(box, "submitted")
    p["rita"].review(box, "peer_reviewed")
    p["otto"].review(box, "approved")
    for who in ("ana", "rita"):
        with pytest.raises(PermissionDeniedError, match="approved"):
            p[who].update(box, label="person")
        with pytest.raises(PermissionDeniedError):
            p[who].delete(box)
    p["otto"].update(box, label="person")
    assert p["ana"].get(box).label == "person"


def test_status_moves_only_by_review_and_undo_reverts_a_review(team) -> None:
    p, box = team
    with pytest.raises(CommandError, match=r"annotation\.review"):
        p["ana"].update(box, status="approved")
    with pytest.raises(ValidationError):
        p["ana"].annotate("clip", "cam", "car", ac.Box(1, 1, 2, 2), status="approved")
    p["ana"].review(box, "submitted")
    p["rita"].review(box, "peer_reviewed", "ok")
    assert len(p["rita"].reviews) == 2
    p["rita"].undo()
    assert p["ana"].get(box).status == "submitted"
    assert len(p["ana"].reviews) == 1
