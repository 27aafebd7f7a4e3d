"""EntityPanel's kernel side and the ``entity.split`` command, without a browser."""

from __future__ import annotations

from typing import Any

import pandas as pd
import pytest

import accord as ac
from accord.errors import (
    CommandError,
    ConflictError,
    NotFoundError,
    PermissionDeniedError,
    UnknownLabelError,
    ValidationError,
)
from accord.widgets import EntityPanel
from accord.widgets.entity_panel import entity_snapshot

from .conftest import media_free_item


class Page:
    """Plays the browser: sends messages to a widget and records what it sends back."""

    def __init__(self, widget: Any) -> None:
        self.widget = widget
        self.sent: list[dict] = []
        widget.send = lambda content, buffers=None: self.sent.append(content)
        self.n = 0

    def ask(self, type: str, **payload: Any) -> dict:
        self.n += 1
        uuid = f"u{self.n}"
        self.widget._on_page_message(self.widget, {"type": type, "uuid": uuid, **payload}, [])
        (reply,) = [c for c in self.sent if c.get("uuid") == uuid]
        return reply

    def snapshots(self) -> list[list[dict]]:
        return [c["entities"] for c in self.sent if c["type"] == "entities"]


@pytest.fixture
def s(session: ac.Session) -> ac.Session:
    session.apply(media_free_item("clip"))
    session.apply(media_free_item("other"))
    return session


@pytest.fixture
def ids(s: ac.Session) -> dict[str, str]:
    box = s.annotate("clip", "video", "car", ac.Box(10, 10, 50, 40), frame=30)
    box2 = s.annotate("clip", "video", "car", ac.Box(12, 10, 50, 40), frame=31)
    cub = s.annotate("clip", "lidar", "car", ac.Cuboid((10, 0, 0.8), (4.2, 1.8, 1.5), 0.1), frame=3)
    span = s.annotate("clip", "transcript", "speech", ac.TextSpan(0, 5))
    seg = s.annotate("clip", "audio", "speech", ac.TimeSegment(1.0, 2.5))
    far = s.annotate("other", "video", "car", ac.Box(1, 1, 5, 5), frame=0)
    car = s.new_entity([box, box2, cub, far], label="car", name="red car")
    talk = s.new_entity([span, seg], label="speech")
    return {
        "box": box,
        "box2": box2,
        "cub": cub,
        "span": span,
        "seg": seg,
        "far": far,
        "car": car,
        "talk": talk,
    }


def _by_id(rows: list[dict]) -> dict[str, dict]:
    return {r["id"]: r for r in rows}


# -- the snapshot -----------------------------------------------------------------------


def test_snapshot_lists_members_across_modalities_with_times(
    s: ac.Session, ids: dict[str, str]
) -> None:
    rows = _by_id(entity_snapshot(s, "clip"))
    assert set(rows) == {ids["car"], ids["talk"]}
    car = rows[ids["car"]]
    assert car["name"] == "red car" and car["label"] == "car"
    assert car["modalities"] == ["pointcloud", "video"]
    assert car["elsewhere"] == 1  # the box in item "other" is counted, not listed
    members = {m["id"]: m for m in car["members"]}
    assert set(members) == {ids["box"], ids["box2"], ids["cub"]}
    box = members[ids["box"]]
    fps = 30000 / 1001
    assert (box["frame"], box["sweep"], box["stream"], box["kind"]) == (30, None, "video", "box")
    assert box["start"] == pytest.approx(30 / fps) and box["end"] == pytest.approx(31 / fps)
    assert box["time"] == pytest.approx(30.5 / fps)  # a frame's centre: seeking there shows it
    cub = members[ids["cub"]]
    assert (cub["frame"], cub["sweep"], cub["time"]) == (None, 3, pytest.approx(0.3))
    assert car["start"] == pytest.approx(0.3) and car["end"] == pytest.approx(32 / fps)
    talk = rows[ids["talk"]]
    span = {m["id"]: m for m in talk["members"]}[ids["span"]]
    assert span["excerpt"] == "Hello" and span["time"] is None
    seg = {m["id"]: m for m in talk["members"]}[ids["seg"]]
    assert (seg["start"], seg["end"], seg["time"]) == (1.0, 2.5, 1.0)
    # only entities with a member in the item
    assert [r["id"] for r in entity_snapshot(s, "other")] == [ids["car"]]


def test_snapshot_follows_the_clock_and_truncates_excerpts(s: ac.Session) -> None:
    s.set_clock("clip", "audio", offset=2.0, rate=1.0)
    seg = s.annotate("clip", "audio", "speech", ac.TimeSegment(1.0, 2.5))
    text = "word " * 40
    s.apply(
        {
            "type": "item.add",
            "item": {"id": "doc", "meta": {}, "calibrations": {}},
            "streams": [ac.Stream("doc", "text", "text", text=text).to_dict()],
        }
    )
    span = s.annotate("doc", "text", "speech", ac.TextSpan(0, len(text)))
    e = s.new_entity([seg])
    (row,) = entity_snapshot(s, "clip")
    assert row["id"] == e and row["members"][0]["time"] == 3.0
    s.new_entity([span])
    (doc,) = entity_snapshot(s, "doc")
    excerpt = doc["members"][0]["excerpt"]
    assert len(excerpt) == 80 and excerpt.endswith("…")


# -- entity.split ------------------------------------------------------------------------


def test_split_moves_members_into_a_new_entity_and_undoes_in_one_step(
    s: ac.Session, ids: dict[str, str]
) -> None:
    before = s.entities.loc[ids["car"], "members"]
    new = s.split_entity(ids["car"], [ids["cub"]], name="the cuboid")
    ents = s.entities
    assert ents.loc[new, "label"] == "car"  # keeps the old label
    assert ents.loc[new, "name"] == "the cuboid"
    assert ents.loc[new, "members"] == [ids["cub"]]
    assert set(ents.loc[ids["car"], "members"]) == set(before) - {ids["cub"]}
    assert s.annotations.loc[ids["cub"], "entity"] == new
    s.undo()  # one command: the new entity and the moved member go together
    assert new not in s.entities.index
    assert set(s.entities.loc[ids["car"], "members"]) == set(before)
    s.redo()
    assert s.entities.loc[new, "members"] == [ids["cub"]]


def test_split_takes_a_label_and_returns_new_then_old(s: ac.Session, ids: dict[str, str]) -> None:
    r = s.apply(
        {"type": "entity.split", "id": ids["talk"], "members": [ids["seg"]], "label": "scene"}
    )
    new, old = r.ids
    assert old == ids["talk"]
    assert s.entities.loc[new, "label"] == "scene"


@pytest.mark.parametrize(
    ("members", "error"),
    [
        ("ALL", ValidationError),  # nothing would stay
        ([], ValidationError),
        ("box", ValidationError),  # not a list
        (["BOX", "BOX"], ValidationError),  # duplicates
        (["BOX", "SPAN"], ValidationError),  # a member of another entity: all or nothing
        (["BOX", "a_missing"], ValidationError),
    ],
)
def test_split_is_all_or_nothing(
    s: ac.Session, ids: dict[str, str], members: Any, error: type[Exception]
) -> None:
    if members == "ALL":
        members = [ids["box"], ids["box2"], ids["cub"], ids["far"]]
    elif isinstance(members, list):
        members = [ids[m.lower()] if m.isupper() else m for m in members]
    seq = s.store.last_seq()
    snapshot = s.entities.copy()
    with pytest.raises(error) as info:
        s.split_entity(ids["car"], members)
    assert "entity.split.members" in info.value.where
    assert s.store.last_seq() == seq  # nothing stored
    assert s.entities["members"].to_dict() == snapshot["members"].to_dict()


def test_split_refuses_unknown_entities_fields_and_stale_revisions(
    s: ac.Session, ids: dict[str, str]
) -> None:
    with pytest.raises(NotFoundError):
        s.split_entity("e_nope", [ids["box"]])
    with pytest.raises(CommandError):
        s.apply({"type": "entity.split", "id": ids["car"], "members": [ids["box"]], "bogus": 1})
    with pytest.raises(CommandError):
        s.apply({"type": "entity.split", "id": ids["car"]})
    with pytest.raises(ConflictError):
        s.apply({"type": "entity.split", "id": ids["car"], "revision": 99, "members": [ids["box"]]})
    with pytest.raises(UnknownLabelError):
        s.split_entity(ids["car"], [ids["box"]], label="not-a-class")


def test_split_refuses_another_annotators_entity(s: ac.Session, ids: dict[str, str]) -> None:
    bo = ac.Session(s.store, annotator="bo")
    with pytest.raises(PermissionDeniedError):
        bo.split_entity(ids["car"], [ids["box"]])


# -- the widget ------------------------------------------------------------------------------


def test_page_queries_and_commands(s: ac.Session, ids: dict[str, str]) -> None:
    w = EntityPanel(s, "clip")
    page = Page(w)
    reply = page.ask("entities.query")
    assert reply["ok"] is True
    assert {e["id"] for e in reply["result"]["entities"]} == {ids["car"], ids["talk"]}

    merged = page.ask("entity.merge", ids=[ids["talk"], ids["car"]])
    assert merged["ok"] is True
    assert ids["car"] not in s.entities.index
    (snap,) = page.snapshots()
    assert [e["id"] for e in snap] == [ids["talk"]]
    assert len(snap[0]["members"]) == 5

    split = page.ask("entity.split", id=ids["talk"], members=[ids["cub"], ids["box"]])
    assert split["ok"] is True
    new = split["result"]["ids"][0]
    assert set(s.entities.loc[new, "members"]) == {ids["cub"], ids["box"]}
    assert {e["id"] for e in page.snapshots()[-1]} == {ids["talk"], new}

    renamed = page.ask("entity.update", id=new, revision=1, name="split off")
    assert renamed["ok"] is True and s.entities.loc[new, "name"] == "split off"
    # a rename touches no annotation (the entity has no item), yet the panel hears it
    assert _by_id(page.snapshots()[-1])[new]["name"] == "split off"

    assert page.ask("undo")["ok"] is True
    assert s.entities.loc[new, "name"] == ""
    assert page.ask("entity.delete", id=new)["ok"] is True
    assert new not in s.entities.index
    assert pd.isna(s.annotations.loc[ids["cub"], "entity"])  # ungrouped, not deleted


def test_python_merge_updates_the_page(s: ac.Session, ids: dict[str, str]) -> None:
    w = EntityPanel(s, "clip")
    page = Page(w)
    s.merge_entities(ids["car"], ids["talk"])
    (snap,) = page.snapshots()
    assert [e["id"] for e in snap] == [ids["car"]]
    assert w.entities() == snap
    # commands on other items' entities only are not pushed
    lone = s.annotate("other", "cam", "scene")
    s.new_entity([lone])
    assert len(page.snapshots()) == 1


def test_page_errors_are_typed_and_scoped(s: ac.Session, ids: dict[str, str]) -> None:
    lone = s.annotate("other", "cam", "scene")
    elsewhere = s.new_entity([lone])
    w = EntityPanel(s, "clip")
    page = Page(w)
    bad = page.ask("entity.merge", ids=[ids["car"], elsewhere])
    assert bad["ok"] is False and bad["error"]["error"] == "PermissionDeniedError"
    bad = page.ask("entity.delete", id=elsewhere)
    assert bad["error"]["error"] == "PermissionDeniedError"
    bad = page.ask("entity.update", id=ids["car"], members=[ids["box"], lone])
    assert bad["error"]["error"] == "PermissionDeniedError"
    bad = page.ask("entity.split", id=ids["car"], members=[ids["span"]])
    assert bad["error"]["error"] == "ValidationError"
    assert "entity.split.members[0]" in bad["error"]["where"]
    bad = page.ask("entity.merge", ids=[ids["car"]])
    assert bad["error"]["error"] == "ValidationError"
    bad = page.ask("entity.merge", ids=[ids["car"], "e_missing"])
    assert bad["error"]["error"] == "NotFoundError"
    bad = page.ask("annotation.delete", id=ids["box"])  # not a command this view sends
    assert bad["error"]["error"] == "CommandError"
    assert set(s.entities.index) == {ids["car"], ids["talk"], elsewhere}
    assert page.snapshots() == []


def test_python_helpers_and_validation(s: ac.Session, ids: dict[str, str]) -> None:
    w = EntityPanel(s, "clip", height=200)
    assert w.height == 200 and w.duration == pytest.approx(s.item("clip").duration)
    new = w.split(ids["car"], [ids["cub"]], name="cuboid")
    assert s.entities.loc[new, "name"] == "cuboid"
    assert w.merge([ids["car"], new]) == ids["car"]
    with pytest.raises(ValidationError):
        EntityPanel(s, "clip", height=10)
    with pytest.raises(NotFoundError):
        EntityPanel(s, "nope")
    assert ac.EntityPanel is EntityPanel


def test_stage_one_shows_only_the_annotators_own_members(s: ac.Session) -> None:
    bo = ac.Session(s.store, annotator="bo")
    mine = s.annotate("clip", "video", "car", ac.Box(1, 1, 5, 5), frame=3)
    theirs = bo.annotate("clip", "lidar", "car", ac.Cuboid((1, 0, 0), (4, 2, 1.5), 0.0), frame=9)
    other = bo.annotate("clip", "transcript", "speech", ac.TextSpan(0, 5))
    both = s.new_entity([mine, theirs])
    s.new_entity([other])
    w = EntityPanel(s, "clip")
    assert {e["id"] for e in w.entities()} == {both, s.annotations.loc[other, "entity"]}
    w.hide_others = True
    page = Page(w)
    (row,) = page.ask("entities.query")["result"]["entities"]
    assert row["id"] == both
    assert [m["id"] for m in row["members"]] == [mine]
    assert row["modalities"] == ["video"]  # the hidden cuboid does not leak through
    s.update(mine, label="car")  # a push is filtered the same way
    bo.update(theirs, label="car")
    pushed = page.snapshots()
    assert pushed and all(
        [m["id"] for e in snap for m in e["members"]] == [mine] for snap in pushed
    )
