"""The Player's kernel side, driven without a browser: stream infos, queries, clock commands."""

from __future__ import annotations

import shutil
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import numpy as np
import pytest

import accord as ac
from accord import samples
from accord.media.peaks import audio_peaks
from accord.widgets.player import Player, media_url

from .test_widget_protocol import Page


@pytest.fixture
def scene(tmp_path: Path, sample_scene: samples.SampleScene, taxonomy: ac.Taxonomy):
    s = ac.Session(tmp_path / "p.accord", taxonomy=taxonomy, annotator="ana")
    s.add_item(
        "scene",
        video=sample_scene.video,
        audio={"audio": sample_scene.audio, "second_audio": sample_scene.second_audio},
        transcript=sample_scene.transcript,
    )
    yield s
    s.close()


def test_stream_infos_describe_every_playable_stream(scene, sample_scene) -> None:
    p = Player(scene, "scene")
    infos = {i["name"]: i for i in p.stream_infos}
    assert {"video", "audio", "second_audio"} <= set(infos)
    v = infos["video"]
    assert v["modality"] == "video" and v["fps"] == [30000, 1001] and v["frameCount"] == 300
    assert v["mime"] == "video/mp4" and v["size"] == sample_scene.video.stat().st_size
    assert Path(v["path"]).samefile(sample_scene.video)
    q = parse_qs(urlparse(v["url"]).query)
    assert urlparse(v["url"]).path == "accord/media" and Path(q["path"][0]).samefile(
        sample_scene.video
    )
    assert infos["audio"]["clock"] == {"offset": 0.0, "rate": 1.0}
    assert infos["audio"]["error"] is None


def test_peaks_query_slices_the_level_for_the_zoom(scene, sample_scene) -> None:
    page = Page(Player(scene, "scene"))
    peaks = audio_peaks(sample_scene.audio)
    reply, bufs = page.ask("peaks.get", stream="audio", seconds_per_pixel=0.01, start=2.0, end=3.0)
    assert reply["ok"], reply
    h = reply["result"]
    level = peaks.level_for(0.01)
    assert h["samples_per_bin"] == level.samples_per_bin
    data = np.frombuffer(bufs[0], "<f4").reshape(-1, 2)
    assert data.shape[0] == h["bins"]
    first = h["first_bin"]
    assert first * level.samples_per_bin <= 2.0 * 48000 < (first + 1) * level.samples_per_bin
    np.testing.assert_array_equal(data[:, 0], level.mins[first : first + h["bins"], 0])
    np.testing.assert_array_equal(data[:, 1], level.maxs[first : first + h["bins"], 0])
    # the clap at 2.002 s is in the window and loud
    assert data[:, 1].max() > 0.3
    reply, _ = page.ask("peaks.get", stream="video")
    assert not reply["ok"] and reply["error"]["where"] == "peaks.get.stream"


def test_frame_times_are_the_probed_timestamps(scene, sample_scene) -> None:
    page = Page(Player(scene, "scene"))
    reply, bufs = page.ask("frames.times", stream="video")
    ts = np.frombuffer(bufs[0], "<f8")
    assert reply["result"]["count"] == 300 == ts.size
    np.testing.assert_allclose(ts, sample_scene.truth["video"]["frame_times"], atol=1e-6)


def test_media_bytes_fallback_sends_the_file_in_slices(scene, sample_scene) -> None:
    p = Player(scene, "scene")
    page = Page(p)
    raw = sample_scene.video.read_bytes()
    got = b""
    while len(got) < len(raw):
        reply, bufs = page.ask("media.bytes", stream="video", offset=len(got), length=50_000)
        assert reply["ok"] and reply["result"]["size"] == len(raw)
        got += bytes(bufs[0])
    assert got == raw
    p.media_bytes_limit = 1000
    reply, _ = page.ask("media.bytes", stream="video", offset=0)
    assert not reply["ok"] and "server extension" in reply["error"]["message"]


def test_clock_command_from_the_page_is_stored_undoable_and_pushed(scene) -> None:
    p = Player(scene, "scene")
    page = Page(p)
    reply, _ = page.ask(
        "stream.clock", item="scene", stream="second_audio", offset=0.3617, rate=1.00015
    )
    assert reply["ok"], reply
    assert scene.stream("scene", "second_audio").clock == ac.Clock(0.3617, 1.00015)
    infos = {i["name"]: i for i in p.stream_infos}
    assert infos["second_audio"]["clock"] == {"offset": 0.3617, "rate": 1.00015}
    reply, _ = page.ask("undo")
    assert reply["ok"]
    assert scene.stream("scene", "second_audio").clock == ac.Clock()
    assert {i["name"]: i for i in p.stream_infos}["second_audio"]["clock"]["offset"] == 0.0
    reply, _ = page.ask("stream.clock", item="other", stream="audio", offset=1.0)
    assert not reply["ok"] and reply["error"]["error"] == "PermissionDeniedError"


def test_time_and_rate_are_checked(scene) -> None:
    p = Player(scene, "scene")
    p.time = 3.5
    assert p.time == 3.5
    with pytest.raises(ac.errors.ValidationError):
        p.time = -1
    with pytest.raises(ac.errors.ValidationError):
        p.rate = 0


def test_a_missing_media_file_is_reported_per_stream(
    tmp_path, scene, sample_scene, taxonomy
) -> None:
    copy = tmp_path / "copy.wav"
    shutil.copy(sample_scene.audio, copy)
    scene.add_item("gone", video=sample_scene.video, audio=copy)
    copy.unlink()
    p = Player(scene, "gone")
    infos = {i["name"]: i for i in p.stream_infos}
    assert infos["audio"]["error"] and "NotFoundError" in infos["audio"]["error"]
    assert infos["video"]["error"] is None


def test_streams_argument_picks_and_checks_names(scene) -> None:
    p = Player(scene, "scene", ["audio"], tiers=False)
    assert [i["name"] for i in p.stream_infos] == ["audio"]
    assert p.tiers is False
    with pytest.raises(ac.errors.NotFoundError):
        Player(scene, "scene", ["nope"])


def test_media_url_quotes_the_absolute_path(tmp_path) -> None:
    f = tmp_path / "a b&c.mp4"
    f.write_bytes(b"x")
    url = media_url(f)
    assert url.startswith("accord/media?path=%2F") and "&c" not in url
    assert parse_qs(urlparse(url).query)["path"][0] == str(f.resolve())


def test_region_canvas_answers_which_frame_is_at_a_stream_time(scene) -> None:
    from accord.widgets import RegionCanvas

    page = Page(RegionCanvas(scene, "scene", "video", frame=0))
    for t, n in ((0.0, 0), ((42.5 * 1001) / 30000, 42), (99.0, 299), (-1.0, 0)):
        reply, _ = page.ask("frame.at", time=t)
        assert reply["ok"] and reply["result"]["frame"] == n, (t, reply)
    reply, _ = page.ask("frame.at", time="soon")
    assert not reply["ok"] and reply["error"]["where"] == "frame.at.time"


def test_seek_sends_the_time_even_when_unchanged(scene) -> None:
    p = Player(scene, "scene", tiers=False)
    page = Page(p)
    p.seek(2.5)
    p.seek(2.5)
    assert [c for c, _ in page.sent if c.get("type") == "seek"] == [
        {"type": "seek", "time": 2.5},
        {"type": "seek", "time": 2.5},
    ]
    assert p.time == 2.5
    with pytest.raises(ac.errors.ValidationError):
        p.seek(-2)


def test_tiers_add_their_queries_and_commands_only_when_on(scene) -> None:
    with_tiers = Page(Player(scene, "scene"))
    reply, _ = with_tiers.ask("segments.query")
    assert reply["ok"] and reply["result"]["segments"] == []
    reply, _ = with_tiers.ask(
        "annotation.add",
        item="scene",
        stream="audio",
        label="speech",
        kind="time_segment",
        geometry={"start": 1.0, "end": 2.0},
    )
    assert reply["ok"], reply
    without = Page(Player(scene, "scene", tiers=False))
    reply, _ = without.ask("segments.query")
    assert not reply["ok"] and reply["error"]["error"] == "CommandError"
    reply, _ = without.ask("undo")
    assert not reply["ok"] and reply["error"]["error"] == "CommandError"
