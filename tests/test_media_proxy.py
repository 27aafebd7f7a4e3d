"""browser_playable: playable files pass through; others become H.264/AAC MP4 (or FLAC)
with every frame at its original PTS (checked from the frame-index barcode)."""

from __future__ import annotations

import os
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
import pytest
import soundfile as sf

from accord import samples
from accord.media.proxy import browser_playable, is_browser_playable


@pytest.fixture(autouse=True)
def _cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "cache"
    monkeypatch.setenv("ACCORD_CACHE_DIR", str(folder))
    return folder


@pytest.fixture(scope="module")
def barcode_frames(sample_scene: samples.SampleScene) -> list[np.ndarray]:
    """The 300 sample-video frames (RGB), each showing its index in the barcode band."""
    with av.open(str(sample_scene.video)) as c:
        return [f.to_ndarray(format="rgb24") for f in c.decode(video=0)]


@pytest.fixture(scope="module")
def sample_audio(sample_scene: samples.SampleScene) -> np.ndarray:
    x, _ = sf.read(sample_scene.audio, dtype="float32")
    return x


def write_video(
    path: Path,
    frames: list[np.ndarray],
    pts: list[int],
    time_base: Fraction,
    codec: str,
    *,
    audio: np.ndarray | None = None,
    audio_codec: str = "mp3",
    options: dict[str, str] | None = None,
    size: tuple[int, int] | None = None,
) -> None:
    with av.open(str(path), "w") as out:
        vs = out.add_stream(codec, rate=Fraction(30000, 1001), options=options or {})
        h, w = frames[0].shape[:2]
        vs.width, vs.height = size or (w, h)
        vs.pix_fmt = "yuv420p"
        vs.time_base = vs.codec_context.time_base = time_base
        if codec == "mpeg4":
            vs.codec_context.max_b_frames = 2
            vs.bit_rate = 4_000_000
        aus = out.add_stream(audio_codec, rate=48_000) if audio is not None else None
        for img, p in zip(frames, pts, strict=True):
            frame = av.VideoFrame.from_ndarray(img, format="rgb24")
            if size:
                frame = frame.reformat(width=size[0], height=size[1])
            frame.pts, frame.time_base = p, time_base
            for packet in vs.encode(frame):
                out.mux(packet)
        if aus is not None:
            for k in range(0, len(audio), 4800):
                af = av.AudioFrame.from_ndarray(
                    audio[None, k : k + 4800], format="fltp", layout="mono"
                )
                af.sample_rate, af.pts, af.time_base = 48_000, k, Fraction(1, 48_000)
                for packet in aus.encode(af):
                    out.mux(packet)
        for s in (vs, aus):
            if s is not None:
                for packet in s.encode(None):
                    out.mux(packet)


def decoded(path: Path, truth: dict) -> list[tuple[Fraction, int]]:
    """(PTS in seconds, barcode index) of every decoded frame, in presentation order."""
    with av.open(str(path)) as c:
        return [
            (f.pts * f.time_base, samples.read_frame_index(f.to_ndarray(format="rgb24"), truth))
            for f in c.decode(video=0)
        ]


def audio_timeline(path: Path, rate: int = 48_000) -> np.ndarray:
    """The first audio stream placed on a sample grid by each frame's PTS."""
    with av.open(str(path)) as c:
        chunks = [
            (round(f.pts * f.time_base * rate), f.to_ndarray().reshape(-1).astype(np.float32))
            for f in c.decode(audio=0)
        ]
    y = np.zeros(max(s + len(x) for s, x in chunks) + 1, np.float32)
    for s, x in chunks:
        y[max(s, 0) : s + len(x)] = x[max(-s, 0) :]
    return y


def lag(a: np.ndarray, b: np.ndarray, span: int = 2400) -> int:
    """Samples by which ``b`` is later than ``a`` (best correlation within ±span)."""
    n = min(len(a), len(b))
    a, b = a[:n], b[:n]
    lags = range(-span, span + 1)
    return max(
        lags,
        key=lambda L: float(np.dot(a[max(0, -L) : n - max(0, L)], b[max(0, L) : n - max(0, -L)])),
    )


def test_playable_files_are_returned_as_they_are(sample_scene, tmp_path, _cache) -> None:
    assert browser_playable(sample_scene.video) == sample_scene.video
    assert browser_playable(sample_scene.audio, kind="audio") == sample_scene.audio
    assert browser_playable(sample_scene.video, kind="audio") == sample_scene.video  # AAC track
    flac = tmp_path / "a.flac"
    sf.write(flac, np.zeros(1000, np.float32), 16_000)
    assert browser_playable(flac, kind="audio") == flac
    webm = tmp_path / "v.webm"
    write_video(
        webm, [np.zeros((64, 64, 3), np.uint8)] * 3, [0, 1, 2], Fraction(1, 30), "libvpx-vp9"
    )
    assert is_browser_playable(webm) and browser_playable(webm) == webm
    mkv = tmp_path / "v.mkv"  # same codec, but Chromium does not take Matroska
    write_video(
        mkv, [np.zeros((64, 64, 3), np.uint8)] * 3, [0, 1, 2], Fraction(1, 30), "libvpx-vp9"
    )
    assert not is_browser_playable(mkv)
    assert not (_cache / "proxies").exists() or not list((_cache / "proxies").iterdir())


def test_mpeg4_part2_proxy_keeps_every_frame(
    sample_scene, barcode_frames, sample_audio, tmp_path, _cache
) -> None:
    truth = sample_scene.truth
    src = tmp_path / "part2.avi"
    write_video(
        src, barcode_frames, list(range(300)), Fraction(1001, 30000), "mpeg4", audio=sample_audio
    )
    assert not is_browser_playable(src)
    seen: list[tuple[int, int | None, bool]] = []
    proxy = browser_playable(src, progress=lambda d, t, desc, final: seen.append((d, t, final)))
    assert proxy != src and proxy.parent == _cache / "proxies" and proxy.suffix == ".mp4"
    assert seen[-1] == (300, 300, True)
    assert is_browser_playable(proxy)
    with av.open(str(proxy)) as c:
        assert c.streams.video[0].codec_context.name == "h264"
        assert c.streams.video[0].codec_context.pix_fmt == "yuv420p"
        assert c.streams.audio[0].codec_context.name == "aac"
    data = proxy.read_bytes()
    assert data.index(b"moov") < data.index(b"mdat")  # +faststart
    original, copy = decoded(src, truth), decoded(proxy, truth)
    assert [i for _, i in original] == list(range(300))
    assert copy == original  # same PTS, same picture, frame for frame
    # the audio keeps its place against the video (within a millisecond)
    assert abs(lag(audio_timeline(src), audio_timeline(proxy))) <= 48
    # cached: the second call encodes nothing
    mtime = proxy.stat().st_mtime_ns
    assert browser_playable(src) == proxy and proxy.stat().st_mtime_ns == mtime
    # an edited source gets a new proxy
    st = src.stat()
    os.utime(src, ns=(st.st_atime_ns, st.st_mtime_ns + 10**9))
    assert browser_playable(src) != proxy


def test_hevc_vfr_proxy_keeps_irregular_timestamps(sample_scene, barcode_frames, tmp_path) -> None:
    truth = sample_scene.truth
    rng = np.random.default_rng(5)
    steps = rng.choice([20, 33, 34, 50, 120], size=80)  # milliseconds between frames
    pts = [int(x) for x in np.concatenate([[0], np.cumsum(steps[:-1])])]
    picks = sorted(rng.choice(300, size=80, replace=False))
    src = tmp_path / "hevc.mp4"
    write_video(
        src,
        [barcode_frames[k] for k in picks],
        pts,
        Fraction(1, 1000),
        "libx265",
        options={"x265-params": "log-level=none:bframes=3"},
    )
    assert not is_browser_playable(src)
    proxy = browser_playable(src)
    original, copy = decoded(src, truth), decoded(proxy, truth)
    assert [i for _, i in original] == [int(k) for k in picks]
    assert [t for t, _ in original] == [Fraction(p, 1000) for p in pts]
    assert copy == original


def test_odd_size_is_made_even(barcode_frames, tmp_path) -> None:
    src = tmp_path / "odd.avi"
    write_video(src, barcode_frames[:5], list(range(5)), Fraction(1, 25), "mpeg4", size=(321, 181))
    proxy = browser_playable(src)
    with av.open(str(proxy)) as c:
        s = c.streams.video[0]
        assert (s.codec_context.width, s.codec_context.height) == (320, 180)
        times = [f.pts * f.time_base for f in c.decode(s)]
    with av.open(str(src)) as c:
        assert c.streams.video[0].codec_context.width == 321
        assert times == [f.pts * f.time_base for f in c.decode(video=0)]
    assert len(times) == 5


def test_audio_proxy_is_lossless_flac(tmp_path) -> None:
    rng = np.random.default_rng(2)
    pcm = rng.integers(-20000, 20000, (2, 30_000)).astype(np.int16)
    src = tmp_path / "speech.aiff"
    sf.write(src, pcm.T, 22_050, subtype="PCM_16", format="AIFF")
    assert not is_browser_playable(src, "audio")
    proxy = browser_playable(src, kind="audio")
    assert proxy.suffix == ".flac" and is_browser_playable(proxy, "audio")
    back, rate = sf.read(proxy, dtype="int16")
    assert rate == 22_050
    np.testing.assert_array_equal(back, pcm.T)
    with pytest.raises(Exception, match="'video' or 'audio'"):
        browser_playable(src, kind="image")  # type: ignore[arg-type]
