"""The command protocol: message replies, observers, entities, links, roles."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import pytest

from accord import Result, Session, Stream, Taxonomy
from accord import commands as cmds
from accord.errors import AccordError, ConflictError, PermissionDeniedError
from accord.model.timeline import FrameTimeline

TAXONOMY = {
    "name": "commands",
    "version": 1,
    "classes": [
        {"name": "car", "hotkey": "c", "attributes": [{"name": "occluded", "type": "bool"}]},
        {"name": "person", "hotkey": "p"},
        {"name": "speech", "geometries": {"audio": ["time_segment"], "text": ["text_span"]}},
    ],
    "link_types": [
        {"name": "same_as", "sources": ["box", "cuboid"], "targets": ["box", "cuboid"]},
        {"name": "speaks", "sources": ["time_segment"], "targets": ["box"]},
    ],
}

BOX = {"x": 10, "y": 20, "w": 30, "h": 40}


def _add_item(s: Session, item: str) -> None:
    streams = [
        Stream(item, "cam", "image", width=640, height=480),
        Stream(
            item, "video", "video", timeline=FrameTimeline.constant(25, 50), width=640, height=480
        ),
        Stream(item, "audio", "audio", duration=2.0),
        Stream(item, "lidar", "pointcloud", timeline=FrameTimeline.constant(10, 20)),
    ]
    s.apply(
        {
            "type": "item.add",
            "item": {"id": item, "meta": {}, "calibrations": {}},
            "streams": [st.to_dict() for st in streams],
        }
    )


@pytest.fixture
def db(tmp_path: Path) -> Path:
    return tmp_path / "commands.accord"


@pytest.fixture
def s(db: Path) -> Session:
    session = Session(db, taxonomy=Taxonomy.from_dict(TAXONOMY), annotator="ana")
    _add_item(session, "clip")
    _add_item(session, "other")
    return session


def box_msg(uuid: str = "u1", item: str = "clip", **kw: Any) -> dict[str, Any]:
    return {
        "type": "annotation.add",
        "uuid": uuid,
        "item": item,
        "stream": "cam",
        "label": "car",
        "kind": "box",
        "geometry": BOX,
        **kw,
    }


def _box(s: Session, item: str = "clip", **kw: Any) -> str:
    return s.annotate(item, "cam", "car", BOX, kind="box", **kw)


# -- message protocol ----------------------------------------------------------------------


def test_accepted_message_reply(s: Session) -> None:
    reply = s.handle_message(box_msg("u1", id="a1"))
    assert reply["type"] == "reply"
    assert reply["uuid"] == "u1"
    assert reply["ok"] is True
    assert "error" not in reply
    result = reply["result"]
    assert result["ids"] == ["a1"]
    assert isinstance(result["command"], int)
    assert s.store.command(result["command"]).type == "annotation.add"
    assert s.get("a1").label == "car"
    assert s.annotations.loc["a1", "annotator"] == "ana"


def test_refused_message_reply(s: Session) -> None:
    seq = s.store.last_seq()
    reply = s.handle_message(box_msg("u2", label="cat"))
    assert reply["type"] == "reply"
    assert reply["uuid"] == "u2"
    assert reply["ok"] is False
    assert "result" not in reply
    err = reply["error"]
    assert err["error"] == "UnknownLabelError"
    assert err["where"] == "annotation.label"
    assert "'car'" in err["expected"]
    assert err["message"].startswith("annotation.label: expected ")
    assert "'cat'" in err["message"]
    assert s.store.last_seq() == seq
    assert len(s.annotations) == 0


@pytest.mark.parametrize(
    ("message", "error", "where"),
    [
        ({"type": "annotation.fly", "uuid": "u"}, "CommandError", "command.type"),
        (
            {"type": "annotation.delete", "uuid": "u", "id": "nope"},
            "NotFoundError",
            "annotation.id",
        ),
        ({"type": "undo", "uuid": "u"}, "NothingToUndoError", "undo"),
        ({"type": "redo", "uuid": "u"}, "NothingToRedoError", "redo"),
        (box_msg("u", frame=3), "OutOfBoundsError", "annotation.frame"),
    ],
    ids=["unknown-type", "missing-record", "nothing-to-undo", "nothing-to-redo", "bad-frame"],
)
def test_refusals_are_replies_not_exceptions(
    s: Session, message: dict[str, Any], error: str, where: str
) -> None:
    reply = s.handle_message(message)
    assert (reply["uuid"], reply["ok"]) == ("u", False)
    assert (reply["error"]["error"], reply["error"]["where"]) == (error, where)


def test_a_bug_in_a_handler_still_gets_a_reply(
    s: Session, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    def broken(session: Session, payload: Any) -> Any:
        raise RuntimeError("boom")

    monkeypatch.setitem(cmds.COMMANDS, "annotation.add", broken)
    with caplog.at_level(logging.ERROR, logger="accord.session"):
        reply = s.handle_message(box_msg("u9"))
    assert reply["ok"] is False and reply["uuid"] == "u9"
    assert reply["error"]["error"] == "RuntimeError"
    assert reply["error"]["message"] == "boom"
    assert "annotation.add" in caplog.text
    assert len(s.annotations) == 0


def test_undo_and_redo_by_message(s: Session) -> None:
    s.handle_message(box_msg("u1", id="a1"))
    undo = s.handle_message({"type": "undo", "uuid": "u2"})
    assert undo["ok"] is True and undo["uuid"] == "u2"
    assert undo["result"]["ids"] == ["a1"]
    assert s.store.get("annotation", "a1") is None
    redo = s.handle_message({"type": "redo", "uuid": "u3"})
    assert redo["ok"] is True
    assert s.get("a1").revision == 2  # re-created with a new revision


# -- observers --------------------------------------------------------------------------------


def test_observers_receive_results_with_events(s: Session) -> None:
    seen: list[Result] = []
    s.observe(seen.append)
    s.handle_message(box_msg("u1", id="a1"))
    s.update("a1", geometry={"x": 11, "y": 20, "w": 30, "h": 40}, kind="box")
    assert len(seen) == 2
    add, upd = seen
    assert add.uuid == "u1"
    assert add.ids == ("a1",) and add.id == "a1"
    assert add.command.type == "annotation.add" and add.command.kind == "do"
    [event] = add.events
    assert (event.target, event.id, event.op, event.annotator) == (
        "annotation",
        "a1",
        "create",
        "ana",
    )
    assert event.before is None and event.after["label"] == "car"
    assert add.items == {"clip"}
    [event] = upd.events
    assert event.op == "update"
    assert (event.before["geometry"]["x"], event.after["geometry"]["x"]) == (10, 11)
    assert (event.before["revision"], event.after["revision"]) == (1, 2)
    assert upd.to_dict()["events"][0]["after"]["geometry"]["x"] == 11
    assert event.seq == s.store.last_seq()


def test_observers_are_not_called_for_refused_commands(s: Session) -> None:
    seen: list[Result] = []
    s.observe(seen.append)
    s.handle_message(box_msg(label="cat"))
    with pytest.raises(AccordError):
        s.apply(box_msg(frame=-1))
    assert seen == []


def test_observe_filters_by_item(s: Session) -> None:
    clip: list[Result] = []
    other: list[Result] = []
    every: list[Result] = []
    s.observe(clip.append, item="clip")
    s.observe(other.append, item="other")
    s.observe(every.append)
    a = _box(s, "clip")
    b = _box(s, "other")
    s.set_clock("other", "audio", offset=0.25)
    assert [r.id for r in clip] == [a]
    assert [r.id for r in other] == [b, "other/audio"]
    assert len(every) == 3


def test_a_failing_observer_does_not_break_the_command(
    s: Session, caplog: pytest.LogCaptureFixture
) -> None:
    calls: list[str] = []

    def bad(result: Result) -> None:
        calls.append("bad")
        raise ValueError("observer bug")

    s.observe(bad)
    s.observe(lambda r: calls.append("good"))
    with caplog.at_level(logging.ERROR, logger="accord.session"):
        reply = s.handle_message(box_msg("u1", id="a1"))
    assert reply["ok"] is True
    assert calls == ["bad", "good"]
    assert s.get("a1").label == "car"
    assert "observer bug" in caplog.text
    ann_id = _box(s)  # the session keeps working
    assert s.store.get("annotation", ann_id) is not None


def test_unsubscribe(s: Session) -> None:
    seen: list[str | None] = []
    unsubscribe = s.observe(lambda r: seen.append(r.id))
    first = _box(s)
    unsubscribe()
    _box(s)
    unsubscribe()  # twice is harmless
    assert seen == [first]


def test_an_observer_may_unsubscribe_itself(s: Session) -> None:
    seen: list[str | None] = []

    def once(result: Result) -> None:
        seen.append(result.id)
        stop()

    stop = s.observe(once)
    first = _box(s)
    _box(s)
    assert seen == [first]


def test_poll_notifies_about_other_sessions(s: Session, db: Path) -> None:
    bob = Session(db, annotator="bob")
    seen: list[Result] = []
    bob.observe(seen.append, item="clip")
    ann_id = _box(s)
    assert seen == []
    events = bob.poll()
    assert [e.id for e in events] == [ann_id]
    assert [r.ids for r in seen] == [(ann_id,)]
    assert seen[0].command.annotator == "ana"
    assert bob.poll() == []
    assert ann_id in bob.annotations.index


# -- entities ------------------------------------------------------------------------------------


def _members(s: Session, entity: str) -> list[str]:
    return sorted(s.entities.loc[entity, "members"])


def test_entity_lifecycle(s: Session) -> None:
    box = _box(s)
    cub = s.annotate(
        "clip",
        "lidar",
        "car",
        {"center": [5, 0, 0], "size": [4, 2, 1.5], "yaw": 0},
        kind="cuboid",
        frame=0,
    )
    vid = s.annotate("clip", "video", "car", BOX, kind="box", frame=3)

    e1 = s.new_entity([box, cub], label="car", name="the red car")
    assert s.get(box).entity == e1 and s.get(cub).entity == e1 and s.get(vid).entity is None
    row = s.entities.loc[e1]
    assert (row["label"], row["name"], row["size"]) == ("car", "the red car", 2)
    assert row["modalities"] == ["image", "pointcloud"]
    assert _members(s, e1) == sorted([box, cub])

    # update: rename and change membership (cub leaves, vid joins)
    s.apply({"type": "entity.update", "id": e1, "name": "red car", "members": [box, vid]})
    assert s.get_entity(e1).name == "red car"
    assert s.get_entity(e1).revision == 2
    assert _members(s, e1) == sorted([box, vid])
    assert s.get(cub).entity is None

    # merge: e2's members move into e1, e2 is gone
    e2 = s.new_entity([cub])
    s.merge_entities(e1, e2)
    assert _members(s, e1) == sorted([box, vid, cub])
    assert e2 not in s.entities.index
    assert s.store.get("entity", e2) is None

    # undo the merge: e2 and its membership come back
    s.undo()
    assert _members(s, e2) == [cub]
    assert _members(s, e1) == sorted([box, vid])
    s.redo()
    assert _members(s, e1) == sorted([box, vid, cub])

    # delete: members are released, the annotations stay
    s.apply({"type": "entity.delete", "id": e1})
    assert len(s.entities) == 0
    assert all(s.get(a).entity is None for a in (box, cub, vid))
    assert len(s.annotations) == 3


def test_entity_membership_through_annotations(s: Session) -> None:
    e = s.new_entity(label="person")
    a = s.annotate("clip", "cam", "person", BOX, kind="box", entity=e)
    b = _box(s)
    s.update(b, entity=e)
    assert _members(s, e) == sorted([a, b])
    assert s.annotations.loc[[a, b], "entity"].tolist() == [e, e]
    s.update(a, entity=None)
    assert _members(s, e) == [b]


def test_entity_command_is_atomic(s: Session) -> None:
    a = _box(s)
    seq = s.store.last_seq()
    reply = s.handle_message({"type": "entity.add", "uuid": "u", "members": [a, "missing"]})
    assert reply["ok"] is False and reply["error"]["error"] == "NotFoundError"
    assert s.store.last_seq() == seq
    assert len(s.entities) == 0 and s.get(a).entity is None


# -- deleting an annotation deletes its links ------------------------------------------------------


def test_delete_removes_touching_links_in_one_command(s: Session) -> None:
    box = _box(s)
    other = _box(s)
    cub = s.annotate(
        "clip",
        "lidar",
        "car",
        {"center": [5, 0, 0], "size": [4, 2, 1.5], "yaw": 0},
        kind="cuboid",
        frame=0,
    )
    seg = s.annotate("clip", "audio", "speech", {"start": 0.5, "end": 1.0}, kind="time_segment")
    l1 = s.link(cub, box, "same_as")
    l2 = s.link(seg, box, "speaks")
    l3 = s.link(cub, other, "same_as")
    assert sorted(s.links.index) == sorted([l1, l2, l3])
    assert s.links.loc[l2, ["source_kind", "target_kind"]].tolist() == ["time_segment", "box"]

    seen: list[Result] = []
    s.observe(seen.append)
    s.delete(box)
    [result] = seen
    assert sorted((e.target, e.id, e.op) for e in result.events) == sorted(
        [("link", l1, "delete"), ("link", l2, "delete"), ("annotation", box, "delete")]
    )
    assert len({e.command for e in result.events}) == 1
    assert list(s.links.index) == [l3]
    assert box not in s.annotations.index

    s.undo()
    assert box in s.annotations.index
    assert sorted(s.links.index) == sorted([l1, l2, l3])
    assert s.get_link(l2).source == seg and s.get_link(l2).target == box
    s.redo()
    assert list(s.links.index) == [l3]


def test_unlink(s: Session) -> None:
    box = _box(s)
    cub = s.annotate(
        "clip",
        "lidar",
        "car",
        {"center": [5, 0, 0], "size": [4, 2, 1.5], "yaw": 0},
        kind="cuboid",
        frame=0,
    )
    link = s.link(cub, box, "same_as", confidence="high")
    assert s.get_link(link).attributes == {"confidence": "high"}
    s.unlink(link)
    assert len(s.links) == 0
    assert s.get(box).label == "car"  # the ends stay


# -- roles: annotators edit their own, reviewers anyone's ---------------------------------


def test_permissions_between_sessions(s: Session, db: Path) -> None:
    mine = _box(s)
    cub = s.annotate(
        "clip",
        "lidar",
        "car",
        {"center": [5, 0, 0], "size": [4, 2, 1.5], "yaw": 0},
        kind="cuboid",
        frame=0,
    )
    link = s.link(cub, mine, "same_as")
    bob = Session(db, annotator="bob")
    rita = Session(db, annotator="rita", role="reviewer")
    assert bob.taxonomy.to_dict() == s.taxonomy.to_dict()  # taxonomy=None: the stored one

    seq = s.store.last_seq()
    with pytest.raises(PermissionDeniedError) as info:
        bob.update(mine, label="person")
    assert f"annotation {mine}" in str(info.value) and "'ana'" in str(info.value)
    assert "expected" in str(info.value)
    with pytest.raises(PermissionDeniedError):
        bob.delete(mine)
    with pytest.raises(PermissionDeniedError):
        bob.unlink(link)
    reply = bob.handle_message(
        {"type": "annotation.update", "uuid": "b1", "id": mine, "label": "person"}
    )
    assert (reply["ok"], reply["error"]["error"]) == (False, "PermissionDeniedError")
    assert s.store.last_seq() == seq
    assert s.get(mine).label == "car" and s.get(mine).revision == 1

    # bob may edit his own annotation and link to ana's
    his = _box(bob)
    bob.update(his, attributes={"occluded": True})
    assert bob.get(his).attributes == {"occluded": True}

    # a reviewer may edit and delete anyone's
    assert rita.update(mine, label="person") == 2
    assert s.get(mine).label == "person"
    assert s.annotations.loc[mine, "label"] == "person"  # ana's views see it
    assert s.history_of(mine)["annotator"].tolist() == ["ana", "rita"]
    rita.unlink(link)
    assert len(s.links) == 0

    # ana's edit based on the revision before rita's is a conflict, not an overwrite
    with pytest.raises(ConflictError):
        s.update(mine, revision=1, label="car")
    assert s.get(mine).label == "person"
    # ana's undo of her last command (the link) is refused: rita deleted the link since
    with pytest.raises(ConflictError, match=f"link {link}.*deleted since"):
        s.apply({"type": "undo"})
    bob.close()
    rita.close()


def test_roles_are_checked(db: Path) -> None:
    from accord.errors import ValidationError

    with pytest.raises(ValidationError, match="role"):
        Session(db, taxonomy=Taxonomy.from_dict(TAXONOMY), annotator="x", role="boss")
