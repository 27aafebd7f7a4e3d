"""Session behaviour: views, times, undo/redo, history, clocks, several sessions."""

from __future__ import annotations

import contextlib
from pathlib import Path

import numpy as np
import pytest

import accord as ac
from accord.errors import ConflictError, NothingToRedoError, NothingToUndoError


def test_annotations_view_has_stream_and_item_times(session: ac.Session, item: str) -> None:
    session.set_clock(item, "video", offset=2.0, rate=1.0)
    session.set_clock(item, "audio", offset=-0.5, drift_ppm=100)
    box = session.annotate(item, "video", "car", ac.Box(10, 10, 50, 40), frame=30)
    seg = session.annotate(
        item, "audio", "speech", ac.TimeSegment(1.0, 2.5), attributes={"speaker": "Ana"}
    )
    tag = session.annotate(item, "cam", "scene")
    df = session.annotations
    assert list(df.loc[[box, seg, tag], "modality"]) == ["video", "audio", "image"]
    assert df.loc[box, "frame"] == 30
    assert df.loc[box, "t_start"] == pytest.approx(30 * 1001 / 30000)
    assert df.loc[box, "t_end"] == pytest.approx(31 * 1001 / 30000)
    assert df.loc[box, "item_start"] == pytest.approx(2.0 + 30 * 1001 / 30000)
    assert df.loc[seg, "t_start"] == 1.0
    assert df.loc[seg, "item_end"] == pytest.approx(-0.5 + 1.0001 * 2.5)
    assert np.isnan(df.loc[tag, "t_start"])
    assert df.loc[box, "attributes"] == {"occluded": False}  # default filled in
    assert df.loc[seg, "attributes"] == {"speaker": "Ana"}


def test_views_are_always_current(session: ac.Session, item: str) -> None:
    assert session.annotations.empty
    a = session.annotate(item, "cam", "car", ac.Box(1, 1, 5, 5))
    assert len(session.annotations) == 1
    session.update(a, geometry=ac.Box(2, 2, 5, 5))
    assert session.annotations.loc[a, "geometry"] == {"x": 2, "y": 2, "w": 5, "h": 5}
    session.delete(a)
    assert session.annotations.empty
    assert list(session.history_of(a)["op"]) == ["create", "update", "delete"]
    items = session.items
    assert items.loc[0, "item"] == item and items.loc[0, "annotations"] == 0
    streams = session.streams.set_index("stream")
    assert streams.loc["video", "frames"] == 300 and streams.loc["video", "width"] == 640


def test_undo_redo_sequence(session: ac.Session, item: str) -> None:
    a = session.annotate(item, "cam", "car", ac.Box(0, 0, 10, 10))
    session.update(a, label="person")
    session.update(a, geometry=ac.Box(5, 5, 10, 10))
    session.undo()
    assert session.get(a).geometry == ac.Box(0, 0, 10, 10)
    session.undo()
    assert session.get(a).label == "car"
    assert session.get(a).attributes == {"occluded": False}
    session.redo()
    assert session.get(a).label == "person"
    session.undo()
    session.undo()
    assert session.annotations.empty
    with pytest.raises(NothingToUndoError):
        session.undo()
    session.redo()
    assert session.get(a).label == "car"
    # a new command clears the redo stack
    session.annotate(item, "cam", "person", ac.Box(1, 1, 2, 2))
    with pytest.raises(NothingToRedoError):
        session.redo()
    assert session.get(a).revision > 1  # revisions keep growing through undo


def test_undo_is_per_annotator_and_survives_reopen(
    store_path: Path, taxonomy, item: str, session
) -> None:
    bob = ac.Session(store_path, annotator="bob")
    a = session.annotate(item, "cam", "car", ac.Box(0, 0, 10, 10))
    b = bob.annotate(item, "cam", "car", ac.Box(20, 20, 10, 10))
    session.undo()  # undoes ana's, not bob's
    assert set(session.annotations.index) == {b}
    bob.close()
    bob2 = ac.Session(store_path, annotator="bob")
    bob2.undo()
    assert session.annotations.empty
    bob2.redo()
    assert set(bob2.annotations.index) == {b}
    assert a not in bob2.annotations.index
    bob2.close()


def test_undo_refused_when_someone_changed_it_since(store_path: Path, item: str, session) -> None:
    rev = ac.Session(store_path, annotator="rita", role="reviewer")
    a = session.annotate(item, "cam", "car", ac.Box(0, 0, 10, 10))
    rev.update(a, label="person")
    seq = session.store.last_seq()
    with pytest.raises(ConflictError) as info:
        session.undo()
    assert "rita" in str(info.value)
    assert session.get(a).label == "person"
    assert session.store.last_seq() == seq
    rev.close()


def test_stale_revision_from_a_view_is_rejected(session: ac.Session, item: str) -> None:
    a = session.annotate(item, "cam", "car", ac.Box(0, 0, 10, 10))
    r2 = session.update(a, label="person", revision=1)
    assert r2 == 2
    with pytest.raises(ConflictError):
        session.update(a, label="car", revision=1)
    assert session.get(a).label == "person"


def test_clock_changes_are_versioned_and_undoable(session: ac.Session, item: str) -> None:
    assert session.set_clock(item, "audio", offset=0.25).offset == 0.25
    assert session.set_clock(item, "audio", drift_ppm=150).rate == pytest.approx(1.00015)
    assert session.stream(item, "audio").clock.offset == 0.25
    hist = session.history_of(f"{item}/audio")
    assert list(hist["revision"]) == [1, 2, 3]
    session.undo()
    assert session.stream(item, "audio").clock == ac.Clock(0.25, 1.0)
    session.undo()
    assert session.stream(item, "audio").clock == ac.Clock()


def test_observers_and_poll_across_sessions(store_path: Path, item: str, session) -> None:
    other = ac.Session(store_path, annotator="bob")
    seen: list[ac.Result] = []
    session.observe(seen.append, item=item)
    b = other.annotate(item, "cam", "car", ac.Box(1, 1, 3, 3))
    assert b in session.annotations.index  # views see other connections' commits
    assert seen == []  # observers hear them only on poll()
    events = session.poll()
    assert [e.id for e in events] == [b]
    assert seen and seen[-1].ids == (b,)
    assert session.poll() == []
    other.close()


def test_links_entities_and_views(session: ac.Session, item: str) -> None:
    cub = session.annotate(
        item, "lidar", "car", ac.Cuboid((10, 0, 0.8), (4.2, 1.8, 1.5), 0.1), frame=3
    )
    box = session.annotate(item, "video", "car", ac.Box(100, 100, 80, 60), frame=9)
    seg = session.annotate(item, "transcript", "speech", ac.TextSpan(0, 5))
    link = session.link(cub, box, "same_as")
    session.link(seg, box, "speaks")
    ent = session.new_entity([cub, box], label="car", name="red car")
    links = session.links
    assert links.loc[link, ["source_kind", "target_kind"]].tolist() == ["cuboid", "box"]
    ents = session.entities
    assert ents.loc[ent, "members"] == [cub, box]
    assert ents.loc[ent, "modalities"] == ["pointcloud", "video"]
    assert session.annotations.loc[box, "entity"] == ent
    # merge: a second entity folds into the first
    e2 = session.new_entity([seg])
    session.merge_entities(ent, e2)
    assert set(session.entities.loc[ent, "members"]) == {cub, box, seg}
    assert e2 not in session.entities.index


def test_bulk_add_is_one_command(session: ac.Session, item: str) -> None:
    anns = [
        {"item": item, "stream": "cam", "label": "car", "kind": "box", "geometry": [i, i, 5, 5]}
        for i in range(100)
    ]
    r = session.apply({"type": "annotations.add", "annotations": anns})
    assert len(r.ids) == 100 and len(session.annotations) == 100
    session.undo()
    assert session.annotations.empty


def test_repr_and_reopen_uses_stored_taxonomy(store_path: Path, session, item) -> None:
    assert "annotator='ana'" in repr(session)
    again = ac.Session(store_path, annotator="zoe")
    assert again.taxonomy.to_dict() == session.taxonomy.to_dict()
    assert again.item(item).stream("video").timeline.count == 300
    again.close()


def test_patched_view_equals_a_fresh_rebuild(store_path: Path, session, item) -> None:
    """The incrementally patched annotations frame matches one built from scratch."""
    rng = np.random.default_rng(7)
    other = ac.Session(store_path, annotator="bob", role="reviewer")
    me = ac.Session(store_path, annotator="ana", role="reviewer")
    session = me
    ids: list[str] = []
    _ = session.annotations  # start patching from here
    for step in range(120):
        op = rng.integers(0, 6)
        actor = session if rng.random() < 0.7 else other
        if op <= 1 or not ids:
            frame = int(rng.integers(0, 300))
            x = float(rng.integers(0, 500))
            ids.append(actor.annotate(item, "video", "car", ac.Box(x, 5, 20, 20), frame=frame))
        elif op == 2:
            ids.append(actor.annotate(item, "audio", "speech", ac.TimeSegment(step / 20, 9.5)))
        elif op == 3:
            target = ids[int(rng.integers(0, len(ids)))]
            if actor.get(target).kind == "box":
                actor.update(target, label="person", frame=int(rng.integers(0, 300)))
        elif op == 4:
            actor.delete(ids.pop(int(rng.integers(0, len(ids)))))
        else:
            with contextlib.suppress(ac.AccordError):
                session.undo()
            ids = [i for i in ids if session.store.get("annotation", i) is not None]
        if step % 10 == 0:
            _ = session.annotations  # patch in small steps
    patched = session.annotations.sort_index()
    fresh_session = ac.Session(store_path, annotator="zed")
    fresh = fresh_session.annotations.sort_index()
    assert len(fresh) > 20
    pd_testing = __import__("pandas").testing
    pd_testing.assert_frame_equal(patched, fresh, check_like=False)
    fresh_session.close()
    other.close()
    me.close()


def test_refused_undo_is_dropped_so_older_commands_can_be_undone(
    store_path: Path, item: str, session
) -> None:
    rev = ac.Session(store_path, annotator="rita", role="reviewer")
    first = session.annotate(item, "cam", "car", ac.Box(0, 0, 10, 10))
    second = session.annotate(item, "cam", "car", ac.Box(50, 50, 10, 10))
    rev.update(second, label="person")
    with pytest.raises(ConflictError):
        session.undo()
    session.undo()  # reaches the command before the refused one
    assert first not in session.annotations.index
    assert session.get(second).label == "person"
    # the skip is in the log, so a reopened session agrees
    again = ac.Session(store_path, annotator="ana")
    with pytest.raises(NothingToUndoError):
        again.undo()
    again.close()
    rev.close()


def test_poll_reports_the_real_command_type(store_path: Path, item: str, session) -> None:
    other = ac.Session(store_path, annotator="bob")
    seen: list[ac.Result] = []
    session.observe(seen.append)
    a = other.annotate(item, "cam", "car", ac.Box(1, 1, 3, 3))
    other.update(a, label="person")
    session.poll()
    assert [r.command.type for r in seen] == ["annotation.add", "annotation.update"]
    other.close()


def test_self_intersecting_polygon_is_refused(session: ac.Session, item: str) -> None:
    with pytest.raises(ac.errors.GeometryError, match="simple polygon"):
        session.annotate(
            item, "cam", "car", kind="polygon", geometry=[[0, 0], [9, 9], [9, 0], [0, 9]]
        )
    assert session.annotations.empty


def test_bulk_links_are_all_or_nothing(session: ac.Session, item: str) -> None:
    a = session.annotate(item, "cam", "car", ac.Box(1, 1, 5, 5))
    b = session.annotate(item, "cam", "car", ac.Box(10, 1, 5, 5))
    c = session.annotate(item, "lidar", "car", ac.Cuboid((1, 1, 1), (1, 1, 1), 0), frame=1)
    good = {"source": c, "target": a, "link_type": "same_as"}
    seq = session.store.last_seq()
    with pytest.raises(ac.errors.UnknownLabelError, match=r"links\[1\]"):
        session.apply({"type": "links.add", "links": [good, {**good, "link_type": "nope"}]})
    with pytest.raises(ac.errors.ValidationError, match="already in the batch"):
        session.apply({"type": "links.add", "links": [good, good]})
    assert session.store.last_seq() == seq and session.links.empty
    r = session.apply({"type": "links.add", "links": [good, {**good, "target": b}]})
    assert len(r.ids) == 2 and len(session.links) == 2
    session.undo()
    assert session.links.empty


def test_follow_delivers_other_sessions_commits(store_path: Path, item: str, session) -> None:
    import time

    other = ac.Session(store_path, annotator="bob")
    heard: list[ac.Result] = []
    session.observe(heard.append)
    session.follow(interval=0.02)
    mine = session.annotate(item, "cam", "car", ac.Box(1, 1, 3, 3))
    theirs = other.annotate(item, "cam", "car", ac.Box(5, 5, 3, 3))
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline and theirs not in {i for r in heard for i in r.ids}:
        time.sleep(0.02)
    ids = [i for r in heard for i in r.ids]
    assert theirs in ids and ids.count(mine) == 1  # own edit heard once, not again by follow
    session.unfollow()
    other.close()
