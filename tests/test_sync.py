"""Sync diagnostics: clocks estimated from the signals of the sample scene."""

from __future__ import annotations

import math
import os
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

import accord as ac
from accord import samples
from accord.errors import CorruptMediaError, MissingMediaError, NotFoundError, ValidationError
from accord.qa import checks, sync
from accord.qa.sync import SyncEstimate, estimate_clock, estimate_sync, sync_suspicions

from .conftest import media_free_item

FRAME = 1001 / 30000  # one frame of the sample video (29.97 fps)


@pytest.fixture
def scene(session: ac.Session, sample_scene: samples.SampleScene) -> ac.Session:
    """The sample scene as one item; every clock left at its default (0, 1)."""
    session.add_item(
        "scene",
        video=sample_scene.video,
        audio={"audio": sample_scene.audio, "second_audio": sample_scene.second_audio},
        transcript=sample_scene.transcript,
    )
    return session


def _truth_clock(sample_scene: samples.SampleScene, stream: str) -> ac.Clock:
    return ac.Clock.from_dict(sample_scene.truth["clocks"][stream])


def _shifted_copy(src: Path, dst: Path, shift: float) -> None:
    """``dst`` holds at ``t`` what ``src`` holds at ``t - shift`` (silence or a cut first)."""
    x, rate = sf.read(src, dtype="float32")
    n = round(abs(shift) * rate)
    y = np.concatenate([np.zeros(n, np.float32), x]) if shift > 0 else x[n:]
    sf.write(dst, y, rate, subtype="PCM_16")


# -- audio against audio ----------------------------------------------------------------------


def test_planted_offset_and_drift_of_second_audio_are_recovered(
    scene: ac.Session, sample_scene: samples.SampleScene
) -> None:
    truth = _truth_clock(sample_scene, "second_audio")
    assert (truth.offset, truth.rate) == (0.3617, 1.00015)
    est = estimate_clock(scene, "scene", "second_audio")
    assert isinstance(est, SyncEstimate)
    assert (est.reference, est.method) == ("audio", "audio-xcorr")
    assert abs(est.offset - truth.offset) <= 1e-3  # aim ≤ 1 ms; the bound is a frame
    assert abs(est.offset - truth.offset) < FRAME
    assert abs(est.rate - truth.rate) * 1e6 <= 10  # aim ≤ 10 ppm; the bound is 100
    assert est.rate_estimated and est.confidence >= 0.9 and est.windows >= 10
    # the reported errors are honest: the truth lies within a few of them
    assert abs(est.offset - truth.offset) <= max(5 * est.offset_error, 1e-5)
    assert abs(est.rate - truth.rate) <= max(5 * est.rate_error, 1e-6)
    assert est.stored == ac.Clock() and est.correction == pytest.approx(0.3617, abs=1e-3)
    assert est.drift_ppm == pytest.approx(150, abs=10)
    assert est.evidence_time is not None and 0 <= est.evidence_time <= 10.01


def test_estimate_is_in_item_time_through_the_reference_clock(
    scene: ac.Session, sample_scene: samples.SampleScene
) -> None:
    scene.set_clock("scene", "audio", offset=1.0, rate=1.0002)
    est = estimate_clock(scene, "scene", "second_audio")
    truth = _truth_clock(sample_scene, "second_audio").then(ac.Clock(1.0, 1.0002))
    assert est.offset == pytest.approx(truth.offset, abs=1e-3)
    assert est.rate == pytest.approx(truth.rate, abs=1e-5)
    # relative map stream → reference time is unchanged
    assert est.relative.offset == pytest.approx(0.3617, abs=1e-3)


@pytest.mark.parametrize(("start", "end", "rate_known"), [(4.0, 7.0, True), (1.5, 3.0, False)])
def test_an_excerpt_is_found_inside_the_reference(
    session: ac.Session,
    sample_scene: samples.SampleScene,
    tmp_path: Path,
    start: float,
    end: float,
    rate_known: bool,
) -> None:
    x, rate = sf.read(sample_scene.second_audio, dtype="float32")
    sf.write(tmp_path / "cut.wav", x[round(start * rate) : round(end * rate)], rate)
    session.add_item("cut", audio={"audio": sample_scene.audio, "cut": tmp_path / "cut.wav"})
    est = estimate_clock(session, "cut", "cut")
    truth = ac.Clock(start, 1.0).then(ac.Clock(0.3617, 1.00015))  # excerpt → recorder → item
    assert est.offset == pytest.approx(truth.offset, abs=1e-3)
    assert est.confidence >= 0.9 and est.rate_estimated is rate_known
    if rate_known:
        assert abs(est.rate - truth.rate) * 1e6 <= 10
    else:  # 1.5 s cannot pin a rate: the stored one stays
        assert est.rate == 1.0 and math.isnan(est.rate_error)


def test_the_reference_can_be_chosen(scene: ac.Session) -> None:
    # the video's own (AAC) audio track as the reference
    est = estimate_clock(scene, "scene", "second_audio", reference="video")
    assert est.reference == "video" and est.method == "audio-xcorr"
    assert est.offset == pytest.approx(0.3617, abs=FRAME / 2)
    assert est.rate == pytest.approx(1.00015, abs=1e-4)
    # a video compared through its audio track instead of its picture
    track = estimate_clock(scene, "scene", "video", signal="audio")
    assert track.method == "audio-xcorr" and abs(track.offset) < FRAME / 2


# -- audio against video ----------------------------------------------------------------------


def test_video_offset_from_flashes_and_claps(scene: ac.Session) -> None:
    est = estimate_clock(scene, "scene", "video")
    assert (est.reference, est.method) == ("audio", "onset-motion")
    assert abs(est.offset) < FRAME  # truth: the video clock is (0, 1)
    assert est.windows == 3  # the three clap/flash pairs
    assert est.confidence >= 0.5
    assert not est.rate_estimated and est.rate == 1.0  # 3 events 5.7 s apart cannot pin a rate
    assert math.isnan(est.rate_error)
    # against the drifting recorder the video is found where second_audio's clock puts it
    other = estimate_clock(scene, "scene", "video", reference="second_audio")
    assert other.offset == pytest.approx((0 - 0.3617) / 1.00015, abs=FRAME)


def test_an_unmeasured_rate_keeps_the_stored_one(scene: ac.Session) -> None:
    scene.set_clock("scene", "video", 0.0, 1.0001)
    est = estimate_clock(scene, "scene", "video")
    assert not est.rate_estimated and est.rate == pytest.approx(1.0001, abs=1e-12)
    assert abs(est.offset) < FRAME and est.drift_ppm == pytest.approx(0, abs=1e-6)
    scene.set_clock("scene", "video", 0.0, 1.0)
    assert estimate_clock(scene, "scene", "video").rate == 1.0


@pytest.mark.parametrize("shift", [0.2502, -0.4171])
def test_video_offset_against_a_shifted_audio(
    session: ac.Session, sample_scene: samples.SampleScene, tmp_path: Path, shift: float
) -> None:
    wav = tmp_path / "shifted.wav"
    _shifted_copy(sample_scene.audio, wav, shift)
    session.add_item("shifted", video=sample_scene.video, audio=wav)
    est = estimate_clock(session, "shifted", "video")
    assert est.offset == pytest.approx(shift, abs=FRAME)
    assert est.confidence >= 0.5
    # with the audio's clock undoing the shift, the video agrees with the item again
    session.set_clock("shifted", "audio", offset=-shift)
    assert abs(estimate_clock(session, "shifted", "video").offset) < FRAME
    assert session.check(rules=["builtin:sync"]).empty


# -- the check --------------------------------------------------------------------------------


def test_check_flags_the_unsynchronised_recorder_once(
    scene: ac.Session, sample_scene: samples.SampleScene
) -> None:
    assert checks.SYNC_ESTIMATORS.count(sync._check_estimator) == 1  # registered on import
    df = scene.check()
    assert len(df) == 1, df["message"].tolist()
    row = df.iloc[0]
    assert (row["rule"], row["kind"], row["severity"]) == ("builtin:sync", "sync", "warning")
    assert (row["item"], row["stream"]) == ("scene", "second_audio")
    assert "+0.3617 s" in row["message"] and "'audio'" in row["message"]
    assert "+150." in row["message"] or "+149." in row["message"]  # the drift in ppm
    assert 0 <= row["item_time"] <= 10.01
    finding = checks.findings(df)[0]
    assert finding.location["item"] == "scene" and finding.location["stream"] == "second_audio"
    truth = _truth_clock(sample_scene, "second_audio")
    scene.set_clock("scene", "second_audio", truth.offset, truth.rate)
    assert scene.check().empty


def test_drift_alone_is_flagged(scene: ac.Session) -> None:
    scene.set_clock("scene", "second_audio", 0.3617, 1.0)  # offset right, drift missing
    sus = sync_suspicions(scene)
    assert [s.stream for s in sus] == ["second_audio"]
    assert sus[0].drift_ppm == pytest.approx(150, abs=10)
    scene.set_clock("scene", "second_audio", 0.3617, 1.00015)
    assert sync_suspicions(scene) == []


def test_estimate_sync_table(scene: ac.Session) -> None:
    df = scene.estimate_sync()
    assert list(df.columns) == list(sync.SYNC_COLUMNS)
    by = df.set_index("stream")
    assert sorted(by.index) == ["second_audio", "video"]
    assert set(by["reference"]) == {"audio"}
    assert by.loc["second_audio", "offset_correction"] == pytest.approx(0.3617, abs=1e-3)
    assert by.loc["second_audio", "drift_ppm"] == pytest.approx(150, abs=10)
    assert bool(by.loc["second_audio", "suspect"]) and not bool(by.loc["video", "suspect"])
    assert by.loc["video", "stored_rate"] == 1.0
    other = estimate_sync(scene, "scene", reference="second_audio").set_index("stream")
    assert set(other.index) == {"video", "audio"} and set(other["reference"]) == {"second_audio"}
    assert other.loc["audio", "offset_correction"] == pytest.approx(-0.3617 / 1.00015, abs=1e-3)


def test_apply_sync_sets_the_estimate_and_can_be_undone(
    scene: ac.Session, sample_scene: samples.SampleScene
) -> None:
    clock = scene.apply_sync("scene", "second_audio")
    truth = _truth_clock(sample_scene, "second_audio")
    assert clock.offset == pytest.approx(truth.offset, abs=1e-3)
    assert clock.rate == pytest.approx(truth.rate, abs=1e-5)
    assert scene.stream("scene", "second_audio").clock == clock
    assert scene.check().empty
    scene.undo()
    assert scene.stream("scene", "second_audio").clock == ac.Clock()
    assert len(scene.check()) == 1


# -- low confidence ---------------------------------------------------------------------------


def test_noise_against_noise_is_low_confidence_and_not_reported(
    session: ac.Session, tmp_path: Path
) -> None:
    rng = np.random.default_rng(7)
    for name in ("a", "b"):
        sf.write(tmp_path / f"{name}.wav", rng.normal(0, 0.1, 480_000).astype("float32"), 48_000)
    session.add_item("noise", audio={"a": tmp_path / "a.wav", "b": tmp_path / "b.wav"})
    est = estimate_clock(session, "noise", "b")
    assert est.reference == "a" and est.confidence < 0.2
    assert session.check().empty
    row = session.estimate_sync("noise").iloc[0]
    assert row["confidence"] < 0.2 and not row["suspect"]
    with pytest.raises(ValidationError, match="confidence"):
        session.apply_sync("noise", "b")
    assert session.stream("noise", "b").clock == ac.Clock()  # nothing stored


def test_silent_video_against_audio_is_low_confidence(
    session: ac.Session, sample_scene: samples.SampleScene, tmp_path: Path
) -> None:
    wav = tmp_path / "quiet.wav"
    sf.write(wav, np.random.default_rng(3).normal(0, 1e-3, 480_480).astype("float32"), 48_000)
    session.add_item("quiet", video=sample_scene.video, audio=wav)
    est = estimate_clock(session, "quiet", "video")
    assert est.confidence < sync.MIN_CONFIDENCE
    assert session.check().empty


def test_unrelated_claps_are_low_confidence(
    session: ac.Session, sample_scene: samples.SampleScene, tmp_path: Path
) -> None:
    """Clicks at random times (not at the flashes) may pair by chance, but not convincingly."""
    click = np.exp(-np.arange(600) / 80) * np.sin(np.arange(600) * 0.9)
    for seed in range(3):
        rng = np.random.default_rng(seed)
        y = rng.normal(0, 1e-3, 480_480)
        for t in rng.uniform(0.5, 9.5, 5):
            k = int(t * 48_000)
            y[k : k + 600] += click
        sf.write(tmp_path / f"random{seed}.wav", y.astype("float32"), 48_000)
        session.add_item(
            f"random{seed}", video=sample_scene.video, audio=tmp_path / f"random{seed}.wav"
        )
        assert estimate_clock(session, f"random{seed}", "video").confidence < sync.MIN_CONFIDENCE
    assert session.check().empty


# -- bad input --------------------------------------------------------------------------------


def test_bad_input_gives_typed_errors_naming_the_stream(
    scene: ac.Session, session: ac.Session
) -> None:
    with pytest.raises(NotFoundError, match="nope"):
        estimate_clock(scene, "scene", "nope")
    with pytest.raises(NotFoundError, match="ghost"):
        estimate_clock(scene, "ghost", "audio")
    with pytest.raises(NotFoundError, match="nope"):
        estimate_clock(scene, "scene", "audio", reference="nope")
    with pytest.raises(ValidationError, match="transcript") as info:
        estimate_clock(scene, "scene", "transcript")
    assert "audio or video" in str(info.value)
    with pytest.raises(ValidationError, match="audio"):
        estimate_clock(scene, "scene", "audio")  # it is its own reference
    with pytest.raises(ValidationError, match="signal"):
        estimate_clock(scene, "scene", "video", signal="smell")
    session.apply(media_free_item("bare"))
    with pytest.raises(MissingMediaError, match="'audio'") as info:
        estimate_clock(session, "bare", "audio", reference="video")
    assert "without media" in str(info.value)
    with pytest.raises(NotFoundError, match="nope"):
        scene.apply_sync("scene", "nope")


def test_missing_media_file_is_named(
    session: ac.Session, sample_scene: samples.SampleScene, tmp_path: Path
) -> None:
    wav = tmp_path / "gone.wav"
    _shifted_copy(sample_scene.audio, wav, 0.1)
    session.add_item("gone", video=sample_scene.video, audio=wav)
    wav.unlink()
    with pytest.raises(MissingMediaError, match=r"gone\.wav"):
        estimate_clock(session, "gone", "video")
    assert session.check(rules=["builtin:sync"]).empty  # the check skips unreadable media
    wav.write_bytes(b"RIFF not really a wave file" * 100)  # replaced by garbage
    with pytest.raises(CorruptMediaError, match=r"gone\.wav"):
        estimate_clock(session, "gone", "video")
    assert session.check(rules=["builtin:sync"]).empty


# -- cost -------------------------------------------------------------------------------------


def test_nothing_is_read_when_there_is_nothing_to_compare(
    session: ac.Session, sample_scene: samples.SampleScene, monkeypatch: pytest.MonkeyPatch
) -> None:
    session.add_item("solo", audio=sample_scene.audio)
    session.apply(media_free_item("bare"))  # streams without media

    def boom(*args: object, **kwargs: object) -> None:
        raise AssertionError("media read")

    monkeypatch.setattr(sync, "_file_key", boom)
    assert sync_suspicions(session) == []
    assert session.check(rules=["builtin:sync"]).empty
    assert session.estimate_sync().empty


def test_features_and_estimates_are_cached_per_file_version(
    session: ac.Session,
    sample_scene: samples.SampleScene,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    wav = tmp_path / "shift.wav"
    _shifted_copy(sample_scene.audio, wav, 0.3003)
    session.add_item("cached", video=sample_scene.video, audio=wav)
    first = estimate_clock(session, "cached", "video")
    calls: list[str] = []
    decode, visual = sync._decode_audio, sync._visual_onsets
    monkeypatch.setattr(sync, "_decode_audio", lambda *a: calls.append("audio") or decode(*a))
    monkeypatch.setattr(sync, "_visual_onsets", lambda *a: calls.append("video") or visual(*a))
    again = estimate_clock(session, "cached", "video")
    session.check()
    assert calls == [] and again.offset == first.offset
    # a changed file (new size and mtime) is read again
    _shifted_copy(sample_scene.audio, wav, 0.5005)
    os.utime(wav, ns=(os.stat(wav).st_atime_ns, os.stat(wav).st_mtime_ns + 10**9))
    moved = estimate_clock(session, "cached", "video")
    assert calls == ["audio"]
    assert moved.offset == pytest.approx(0.5005, abs=FRAME)


def _video_only(src: Path, dst: Path) -> None:
    """Remux ``src`` without its audio track (packets copied, timestamps kept)."""
    import av

    with av.open(str(src)) as inp, av.open(str(dst), "w") as out:
        vin = inp.streams.video[0]
        vout = out.add_stream_from_template(vin)
        for packet in inp.demux(vin):
            if packet.dts is None:
                continue
            packet.stream = vout
            out.mux(packet)


def test_a_video_without_audio_track_is_compared_by_its_picture(
    session: ac.Session, sample_scene: samples.SampleScene, tmp_path: Path
) -> None:
    mute = tmp_path / "mute.mp4"
    _video_only(sample_scene.video, mute)
    wav = tmp_path / "late.wav"
    _shifted_copy(sample_scene.audio, wav, 0.1335)
    session.add_item("mute", video={"cam1": mute, "cam2": sample_scene.video}, audio=wav)
    item = session.item("mute")
    assert sync.choose_reference(item).name == "audio"
    # the audio against the silent video: claps found again on the picture's side
    est = estimate_clock(session, "mute", "audio", reference="cam1")
    assert est.method == "onset-motion" and est.confidence >= 0.5
    assert est.offset == pytest.approx(-0.1335, abs=FRAME)
    # picture against picture
    both = estimate_clock(session, "mute", "cam2", reference="cam1", signal="motion")
    assert both.method == "motion-motion" and abs(both.offset) < FRAME / 2


def test_different_sample_rates(
    session: ac.Session, sample_scene: samples.SampleScene, tmp_path: Path
) -> None:
    import av

    x, rate = sf.read(sample_scene.second_audio, dtype="float32")
    frame = av.AudioFrame.from_ndarray(x[None, :], format="flt", layout="mono")
    frame.sample_rate = rate
    resampler = av.AudioResampler(format="flt", layout="mono", rate=44_100)
    y = np.concatenate([f.to_ndarray().ravel() for f in resampler.resample(frame)])
    y = np.concatenate([y, *(f.to_ndarray().ravel() for f in resampler.resample(None))])
    sf.write(tmp_path / "cd.wav", y, 44_100)
    session.add_item("cd", audio={"audio": sample_scene.audio, "cd": tmp_path / "cd.wav"})
    est = estimate_clock(session, "cd", "cd")
    assert abs(est.offset - 0.3617) <= 1e-3 and abs(est.rate - 1.00015) * 1e6 <= 10


@pytest.fixture(scope="module")
def long_recording(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, ac.Clock]:
    """A 5-minute 25 fps video flashing 20 times, and a recorder hearing a click at each flash.

    The recorder's clock: video time = 0.8 + 1.0003 * recorder time (300 ppm drift).
    """
    import av

    root = tmp_path_factory.mktemp("long")
    fps, seconds = 25, 300
    rng = np.random.default_rng(5)
    flashes = np.sort(rng.choice(np.arange(50, fps * seconds - 50), 20, replace=False))
    video = root / "long.mp4"
    with av.open(str(video), "w") as out:
        vs = out.add_stream("libx264", rate=fps, options={"preset": "ultrafast"})
        vs.width, vs.height, vs.pix_fmt = 64, 48, "yuv420p"
        background = rng.integers(60, 120, (48, 64, 3)).astype(np.uint8)
        lit = set(flashes.tolist())
        for i in range(fps * seconds):
            img = background.copy()
            if i in lit:
                img[10:40, 10:50] = 255
            frame = av.VideoFrame.from_ndarray(img, format="rgb24")
            frame.pts, frame.time_base = i, Fraction(1, fps)
            for packet in vs.encode(frame):
                out.mux(packet)
        for packet in vs.encode(None):
            out.mux(packet)
    clock = ac.Clock(0.8, 1.0003)
    rate = 8000
    x = rng.normal(0, 1e-3, seconds * rate).astype(np.float32)
    click = np.exp(-np.arange(400) / 60) * np.sin(np.arange(400) * 1.3)
    for f in flashes:
        k = round(clock.to_stream(f / fps) * rate)
        x[k : k + 400] += click.astype(np.float32)
    audio = root / "long.wav"
    sf.write(audio, x, rate)
    return video, audio, clock


def test_drift_from_events_far_apart(
    session: ac.Session, long_recording: tuple[Path, Path, ac.Clock]
) -> None:
    video, audio, truth = long_recording
    session.add_item("long", video=video, audio=audio)
    est = estimate_clock(session, "long", "video")
    inverse = truth.inverse()  # the video against the recorder
    assert est.rate_estimated and est.windows >= 10 and est.confidence >= 0.9
    assert est.offset == pytest.approx(inverse.offset, abs=FRAME / 4)
    assert abs(est.rate - inverse.rate) * 1e6 <= 10
    session.set_clock("long", "audio", truth.offset, truth.rate)
    assert session.check().empty  # the recorder's clock makes the video agree
    session.set_clock("long", "audio", truth.offset, 1.0)  # forget the drift
    (message,) = session.check()["message"]
    assert "drift -29" in message and "'video'" in message


def test_choose_reference(session: ac.Session, sample_scene: samples.SampleScene) -> None:
    session.add_item("cams", video={"cam1": sample_scene.video, "cam2": sample_scene.video})
    item = session.item("cams")
    assert sync.choose_reference(item).name == "cam1"  # a video with an audio track
    est = estimate_clock(session, "cams", "cam2")
    assert est.reference == "cam1" and abs(est.offset) < FRAME


# -- numerics ---------------------------------------------------------------------------------


def test_normalised_correlation_matches_a_direct_computation() -> None:
    rng = np.random.default_rng(1)
    x, y = rng.normal(size=40), rng.normal(size=100)
    c = sync._ncc(x, y, min_overlap=10)
    for lag in (-20, 0, 7, 60, 85):
        lo, hi = max(0, -lag), min(len(x), len(y) - lag)
        want = np.corrcoef(x[lo:hi], y[lo + lag : hi + lag])[0, 1]
        assert c[lag + len(x) - 1] == pytest.approx(want, abs=1e-9)
    assert c[0] == 0.0  # overlap of 1 < min_overlap


def test_sinc_interpolation_is_band_limited() -> None:
    n = np.arange(2000)
    x = np.sin(2 * np.pi * 0.11 * n) + 0.5 * np.cos(2 * np.pi * 0.31 * n)
    pos = np.linspace(100, 1900, 777) + 0.37
    want = np.sin(2 * np.pi * 0.11 * pos) + 0.5 * np.cos(2 * np.pi * 0.31 * pos)
    assert np.max(np.abs(sync._sinc_interp(x, pos) - want)) < 5e-3
    assert np.all(sync._sinc_interp(x, np.array([-100.5, 2100.25])) == 0)  # zeros beyond the ends
    assert sync._sinc_interp(x, np.array([7.0]))[0] == pytest.approx(x[7], abs=1e-12)
