"""Bad media through every entry point: a typed error naming the file, or correct handling.

Decisions (documented in docs/api/media.md):

* A container whose index declares more frames/packets than the file holds (an
  MP4 cut in half) is refused as truncated (``CorruptMediaError``), not reported
  short; so is a compressed audio file whose last samples cannot be decoded. A
  cut WAV holds plain samples: it is read for the samples it has.
* Not media at all (random bytes, text) is ``CorruptMediaError``; a stream whose
  codec FFmpeg does not know, or a file without the expected stream, is
  ``UnsupportedMediaError``.
* Audio with zero samples is ``CorruptMediaError`` ("holds no audio samples").
* VFR video is handled: frame times are the PTS, ``frame_at(n)`` is frame n.
"""

from __future__ import annotations

import signal
from collections.abc import Callable
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
import pytest
import soundfile as sf

import accord as ac
from accord import samples
from accord.errors import CorruptMediaError, MediaError, UnsupportedMediaError
from accord.media.peaks import audio_peaks
from accord.media.probe import frame_at, probe_audio, probe_video
from accord.media.proxy import browser_playable
from accord.media.spectrogram import spectrogram
from tests.conftest import TAXONOMY_YAML

TAXO = ac.Taxonomy.from_yaml(TAXONOMY_YAML)


@pytest.fixture(autouse=True)
def _no_hang(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """Fail (instead of hanging) after 60 s; keep caches in the test's folder."""
    monkeypatch.setenv("ACCORD_CACHE_DIR", str(tmp_path / "cache"))

    def boom(signum, frame):
        raise TimeoutError("media call hung for 60 s")

    old = signal.signal(signal.SIGALRM, boom)
    signal.alarm(60)
    yield
    signal.alarm(0)
    signal.signal(signal.SIGALRM, old)


@pytest.fixture(scope="module")
def bad(sample_scene: samples.SampleScene, tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("bad-media")
    video = sample_scene.video.read_bytes()
    (root / "half.mp4").write_bytes(video[: len(video) // 2])
    (root / "head.mp4").write_bytes(video[:1024])
    (root / "random.mp4").write_bytes(np.random.default_rng(0).bytes(50_000))
    (root / "notes.wav").write_text("these are meeting notes, not audio\n" * 40)
    sf.write(root / "empty.wav", np.zeros((0, 1), np.float32), 48_000)
    wav = sample_scene.audio.read_bytes()
    (root / "half.wav").write_bytes(wav[: len(wav) // 2])
    x, _ = sf.read(sample_scene.audio, dtype="float32")
    sf.write(root / "full.flac", x, 48_000)
    flac = (root / "full.flac").read_bytes()
    (root / "half.flac").write_bytes(flac[: len(flac) // 2])
    # a Matroska file whose codec id FFmpeg does not know
    with av.open(str(sample_scene.video)) as inp, av.open(str(root / "h264.mkv"), "w") as out:
        stream = out.add_stream_from_template(inp.streams.video[0])
        for packet in inp.demux(inp.streams.video[0]):
            if packet.dts is not None:
                packet.stream = stream
                out.mux(packet)
    mkv = (root / "h264.mkv").read_bytes()
    assert mkv.count(b"V_MPEG4/ISO/AVC") == 1
    (root / "unknown.mkv").write_bytes(mkv.replace(b"V_MPEG4/ISO/AVC", b"V_MPEG4/ISO/XYZ"))
    return root


def _add_item(kind: str) -> Callable[[Path], object]:
    def add(path: Path) -> object:
        s = ac.Session(path.parent / f"s-{kind}-{path.stem}.accord", taxonomy=TAXO, annotator="ana")
        try:
            return s.add_item("clip", **{kind: path})
        finally:
            s.close()

    add.__name__ = f"add_item({kind}=)"
    return add


ENTRIES: dict[str, Callable[[Path], object]] = {
    "probe_video": probe_video,
    "probe_audio": probe_audio,
    "frame_at": lambda p: frame_at(p, 0),
    "audio_peaks": lambda p: audio_peaks(p, cache=False),
    "spectrogram": spectrogram,
    "proxy_video": lambda p: browser_playable(p, kind="video"),
    "proxy_audio": lambda p: browser_playable(p, kind="audio"),
    "add_video": _add_item("video"),
    "add_audio": _add_item("audio"),
}

C, U = CorruptMediaError, UnsupportedMediaError
VIDEO_ENTRIES = ("probe_video", "frame_at", "proxy_video", "add_video")
AUDIO_ENTRIES = ("probe_audio", "audio_peaks", "spectrogram", "proxy_audio", "add_audio")

CASES = [
    # cut in half: the index survives, the media data does not
    *[("half.mp4", e, C, "truncated") for e in VIDEO_ENTRIES],
    *[
        ("half.mp4", e, C, "truncated")
        for e in ("probe_audio", "spectrogram", "proxy_audio", "add_audio")
    ],
    ("half.mp4", "audio_peaks", C, "decodes to the end"),
    # cut at 1 KB: no index at all
    *[("head.mp4", e, C, "readable") for e in (*VIDEO_ENTRIES, *AUDIO_ENTRIES)],
    # not media at all
    *[("random.mp4", e, C, "readable") for e in (*VIDEO_ENTRIES, *AUDIO_ENTRIES)],
    *[("notes.wav", e, C, "readable") for e in (*VIDEO_ENTRIES, *AUDIO_ENTRIES)],
    # an unknown codec
    *[("unknown.mkv", e, U, "known codec") for e in VIDEO_ENTRIES],
    *[("unknown.mkv", e, U, "audio stream") for e in AUDIO_ENTRIES],
    # audio with zero samples
    *[("empty.wav", e, C, "no audio samples") for e in AUDIO_ENTRIES],
    *[("empty.wav", e, U, "video stream") for e in VIDEO_ENTRIES],
    # a cut FLAC: the header promises samples the file does not have
    *[("half.flac", e, C, "truncated") for e in ("probe_audio", "proxy_audio", "add_audio")],
    *[("half.flac", e, C, "decodes to the end") for e in ("audio_peaks",)],
]


@pytest.mark.parametrize(("name", "entry", "error", "fragment"), CASES)
def test_bad_media_gives_a_typed_error(bad: Path, name, entry, error, fragment) -> None:
    path = bad / name
    with pytest.raises(error) as info:
        ENTRIES[entry](path)
    err = info.value
    assert isinstance(err, MediaError)
    assert str(path) in err.where  # names the file
    assert err.expected  # and what was expected
    assert fragment in str(err)


@pytest.mark.parametrize("kind", ["video", "audio"])
def test_failed_add_item_stores_nothing(bad: Path, tmp_path: Path, kind: str) -> None:
    s = ac.Session(tmp_path / "x.accord", taxonomy=TAXO, annotator="ana")
    try:
        with pytest.raises(MediaError):
            s.add_item("clip", **{kind: bad / "half.mp4"})
        assert "clip" not in s.items_by_id
    finally:
        s.close()


def test_cut_wav_is_read_for_the_samples_it_holds(bad: Path) -> None:
    path = bad / "half.wav"
    info = probe_audio(path)
    data, _ = sf.read(path, dtype="float32", always_2d=True)
    assert info.frames == len(data) and 200_000 < info.frames < 480_480 // 2 + 10
    pk = audio_peaks(path, cache=False)
    assert pk.frames == len(data)
    n = len(data)
    padded = np.full(-(-n // 64) * 64, -np.inf, np.float32)
    padded[:n] = data[:, 0]
    np.testing.assert_array_equal(pk.levels[0].maxs[:, 0], padded.reshape(-1, 64).max(axis=1))
    assert browser_playable(path, kind="audio") == path


@pytest.fixture(scope="module")
def vfr_video(
    sample_scene: samples.SampleScene, tmp_path_factory
) -> tuple[Path, list[int], list[int]]:
    """H.264 (with B-frames) at irregular PTS in ms, showing sample frames ``picks``."""
    with av.open(str(sample_scene.video)) as c:
        frames = [f.to_ndarray(format="rgb24") for f in c.decode(video=0)]
    rng = np.random.default_rng(11)
    steps = rng.choice([17, 33, 41, 100, 250], size=60)
    pts = [int(v) for v in np.concatenate([[0], np.cumsum(steps[:-1])])]
    picks = [int(k) for k in sorted(rng.choice(300, size=60, replace=False))]
    path = tmp_path_factory.mktemp("vfr") / "vfr.mp4"
    tb = Fraction(1, 1000)
    with av.open(str(path), "w", options={"movflags": "+faststart"}) as out:
        vs = out.add_stream("libx264", rate=30, options={"bf": "2", "g": "12"})
        vs.width, vs.height, vs.pix_fmt = 640, 360, "yuv420p"
        vs.time_base = vs.codec_context.time_base = tb
        for k, p in zip(picks, pts, strict=True):
            frame = av.VideoFrame.from_ndarray(frames[k], format="rgb24")
            frame.pts, frame.time_base = p, tb
            for packet in vs.encode(frame):
                out.mux(packet)
        for packet in vs.encode(None):
            out.mux(packet)
    return path, pts, picks


def test_vfr_video_is_handled_exactly(vfr_video, sample_scene, tmp_path: Path) -> None:
    path, pts, picks = vfr_video
    truth = sample_scene.truth
    info = probe_video(path)
    assert info.is_vfr and info.frame_count == len(pts)
    np.testing.assert_allclose(info.timestamps, np.array(pts) / 1000, rtol=0, atol=1e-9)
    order = list(range(len(pts)))
    order = order[::3] + order[::-1]  # forward with gaps, then backwards
    for n in order:
        assert samples.read_frame_index(frame_at(path, n), truth) == picks[n]
    s = ac.Session(tmp_path / "vfr.accord", taxonomy=TAXO, annotator="ana")
    try:
        item = s.add_item("clip", video=path)
        timeline = item.stream("video").timeline
        assert not timeline.is_constant and timeline.count == len(pts)
        assert [timeline.time_of(n) for n in range(len(pts))] == pytest.approx(
            np.array(pts) / 1000, abs=1e-9
        )
        assert item.stream("video").meta["vfr"] is True
    finally:
        s.close()
    assert browser_playable(path) == path  # H.264 yuv420p in MP4 plays as it is
