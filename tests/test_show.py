"""show_annotation / show_finding open the widget that shows an annotation or a finding."""

from __future__ import annotations

import pytest

import accord as ac
from accord import samples
from accord.errors import NotFoundError
from accord.widgets import CloudViewer, Player, RegionCanvas, TextAnnotator
from accord.widgets.show import show_annotation, show_finding

PLANTED = {"offset": 0.3617, "rate": 1.00015}


@pytest.fixture
def scene_session(session: ac.Session, sample_scene: samples.SampleScene) -> ac.Session:
    sc = sample_scene
    session.add_item(
        "scene",
        video=sc.video,
        audio={"audio": sc.audio, "second_audio": sc.second_audio},
        transcript=sc.transcript,
        lidar=sc.lidar,
        calibration=sc.calibration,
        clocks={"second_audio": PLANTED},
    )
    return session


def test_each_kind_opens_its_widget_at_its_place(scene_session: ac.Session) -> None:
    s = scene_session
    box = s.annotate("scene", "video", "car", ac.Box(10, 10, 40, 30), frame=150)
    cub = s.annotate(
        "scene", "lidar", "car", ac.Cuboid((10.0, 1.0, -0.8), (4.0, 1.8, 1.5), 0.2), frame=12
    )
    text = s.stream("scene", "transcript").text
    span = s.annotate("scene", "transcript", "speech", ac.TextSpan(0, 5))
    seg = s.annotate("scene", "second_audio", "speech", ac.TimeSegment(2.0, 3.0))
    tag = s.annotate("scene", "video", "scene", ac.Tag(), frame=90)

    canvas = show_annotation(s, box)
    assert isinstance(canvas, RegionCanvas) and (canvas.frame, canvas.selected) == (150, box)
    viewer = show_annotation(s, cub)
    assert isinstance(viewer, CloudViewer) and (viewer.sweep, viewer.selected) == (12, cub)
    ta = show_annotation(s, span)
    assert isinstance(ta, TextAnnotator) and ta.selected == span and ta.text == text
    player = show_annotation(s, seg)
    assert isinstance(player, Player)
    # the segment's start in item time: the second recorder's clock applied
    assert player.time == pytest.approx(PLANTED["offset"] + PLANTED["rate"] * 2.0)
    tagged = show_annotation(s, tag)
    video = s.stream("scene", "video")
    assert tagged.time == pytest.approx(video.clock.to_item(video.timeline.centre_of(90)))
    for w in (canvas, viewer, ta, player, tagged):
        w.close()
    with pytest.raises(NotFoundError, match="show_annotation"):
        show_annotation(s, "a_nope")


def test_a_sync_finding_opens_a_player_at_its_time(
    session: ac.Session, sample_scene: samples.SampleScene
) -> None:
    sc = sample_scene
    # the second recorder's clock left at the default: the check suspects it
    session.add_item("scene", audio={"audio": sc.audio, "second_audio": sc.second_audio})
    issues = session.check(rules=["builtin:sync"])
    assert list(issues["stream"]) == ["second_audio"]
    w = show_finding(session, issues.iloc[0])
    assert isinstance(w, Player) and w.item == "scene"
    if issues.iloc[0]["item_time"] == issues.iloc[0]["item_time"]:  # not NaN
        assert w.time == pytest.approx(max(float(issues.iloc[0]["item_time"]), 0.0))
    w.close()


def test_a_finding_with_annotations_opens_its_first_existing_annotation(
    scene_session: ac.Session,
) -> None:
    s = scene_session
    box = s.annotate("scene", "video", "car", ac.Box(600, 300, 30, 30), frame=3)
    row = {
        "rule": "r",
        "kind": "same_class",
        "severity": "error",
        "item": "scene",
        "stream": "video",
        "annotation_ids": ["a_deleted_meanwhile", box],
        "frame": 3,
        "item_time": 0.1,
        "message": "m",
    }
    w = show_finding(s, row)
    assert isinstance(w, RegionCanvas) and (w.frame, w.selected) == (3, box)
    w.close()
    with pytest.raises(NotFoundError):
        show_finding(s, {**row, "item": "nope", "annotation_ids": []})
