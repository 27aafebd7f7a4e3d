"""Peaks equal a brute-force numpy min/max at every level, from soundfile and PyAV."""

from __future__ import annotations

import os
from pathlib import Path

import av
import numpy as np
import pytest
import soundfile as sf

from accord.media import peaks as peaks_mod
from accord.media.peaks import BYTES_LAYOUT, Peaks, audio_peaks


@pytest.fixture(autouse=True)
def _cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "cache"
    monkeypatch.setenv("ACCORD_CACHE_DIR", str(folder))
    return folder


def brute(x: np.ndarray, spb: int) -> tuple[np.ndarray, np.ndarray]:
    """Min/max of every ``spb`` samples of ``x`` (frames, channels), clipped to [-1, 1]."""
    n = -(-len(x) // spb)
    lo = np.array([x[i * spb : (i + 1) * spb].min(axis=0) for i in range(n)], np.float32)
    hi = np.array([x[i * spb : (i + 1) * spb].max(axis=0) for i in range(n)], np.float32)
    return np.clip(lo, -1, 1), np.clip(hi, -1, 1)


def check_levels(pk: Peaks, x: np.ndarray, finest: int, factor: int) -> None:
    assert pk.frames == len(x) and pk.channels == x.shape[1]
    assert len(pk.levels) >= 1
    for i, level in enumerate(pk.levels):
        assert level.samples_per_bin == finest * factor**i
        assert level.mins.dtype == np.float32 and level.maxs.dtype == np.float32
        lo, hi = brute(x, level.samples_per_bin)
        assert level.mins.shape == lo.shape == (-(-len(x) // level.samples_per_bin), x.shape[1])
        np.testing.assert_array_equal(level.mins, lo)
        np.testing.assert_array_equal(level.maxs, hi)
    assert pk.levels[-1].bins <= peaks_mod.MIN_BINS
    if len(pk.levels) > 1:
        assert pk.levels[-2].bins > peaks_mod.MIN_BINS


@pytest.mark.parametrize(
    ("channels", "subtype", "fmt", "finest", "factor", "frames"),
    [
        (1, "PCM_16", "WAV", 64, 4, 300_001),
        (2, "FLOAT", "WAV", 64, 4, 123_457),
        (3, "PCM_24", "FLAC", 100, 3, 250_000),
        (1, "PCM_16", "FLAC", 7, 2, 20_000),
    ],
)
def test_random_audio_matches_brute_force(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, channels, subtype, fmt, finest, factor, frames
) -> None:
    monkeypatch.setattr(peaks_mod, "BLOCK_FRAMES", 10_000)  # many blocks, ragged ends
    rng = np.random.default_rng(channels)
    scale = 1.5 if subtype == "FLOAT" else 0.9  # float files may exceed [-1, 1]: clipped
    data = (rng.standard_normal((frames, channels)) * scale / 3).astype(np.float32)
    path = tmp_path / f"x.{fmt.lower()}"
    sf.write(path, data, 16_000, subtype=subtype, format=fmt)
    x, _ = sf.read(path, dtype="float32", always_2d=True)
    pk = audio_peaks(path, finest=finest, factor=factor)
    assert pk.sample_rate == 16_000
    check_levels(pk, x, finest, factor)
    if subtype == "FLOAT":
        assert pk.levels[0].maxs.max() == 1.0 and pk.levels[0].mins.min() == -1.0


def test_sample_scene_audio(sample_scene) -> None:
    x, rate = sf.read(sample_scene.audio, dtype="float32", always_2d=True)
    pk = audio_peaks(sample_scene.audio, cache=False)
    assert pk.sample_rate == rate
    check_levels(pk, x, 64, 4)


def test_compressed_audio_through_pyav(sample_scene) -> None:
    """The AAC track of the sample video: soundfile cannot read it, PyAV decodes it."""
    with pytest.raises(sf.SoundFileError):
        sf.info(sample_scene.video)
    with av.open(str(sample_scene.video)) as c:
        x = np.concatenate([f.to_ndarray().T for f in c.decode(audio=0)]).astype(np.float32)
    pk = audio_peaks(sample_scene.video, cache=False)
    assert pk.sample_rate == 48_000
    check_levels(pk, x, 64, 4)
    # the decoded AAC resembles the WAV it was encoded from
    ref = audio_peaks(sample_scene.audio, cache=False)
    n = ref.levels[-1].bins
    corr = np.corrcoef(ref.levels[-1].maxs[:n, 0], pk.levels[-1].maxs[:n, 0])[0, 1]
    assert corr > 0.95


def test_int16_stereo_in_matroska_through_pyav(tmp_path: Path) -> None:
    """Stereo s16 PCM in Matroska: PyAV decodes ints, scaled like libsndfile (÷ 32768)."""
    rng = np.random.default_rng(3)
    pcm = (rng.integers(-30000, 30000, (2, 44_100 * 2))).astype(np.int16)
    path = tmp_path / "pcm.mka"
    with av.open(str(path), "w") as out:
        s = out.add_stream("pcm_s16le", rate=44_100, layout="stereo")
        frame = av.AudioFrame.from_ndarray(
            pcm.T.reshape(1, -1).copy(), format="s16", layout="stereo"
        )
        frame.sample_rate = 44_100
        for p in s.encode(frame):
            out.mux(p)
        for p in s.encode(None):
            out.mux(p)
    x = (pcm.T.astype(np.float32) / 32768).astype(np.float32)
    pk = audio_peaks(path, finest=50, factor=5, cache=False)
    check_levels(pk, x, 50, 5)


def test_cache_hit_and_invalidation(tmp_path: Path, _cache: Path) -> None:
    path = tmp_path / "a.wav"
    rng = np.random.default_rng(0)
    sf.write(path, rng.uniform(-0.5, 0.5, 50_000).astype(np.float32), 8000, subtype="FLOAT")
    first = audio_peaks(path)
    files = list((_cache / "peaks").glob("*.npz"))
    assert len(files) == 1
    again = audio_peaks(path)
    for a, b in zip(first.levels, again.levels, strict=True):
        np.testing.assert_array_equal(a.mins, b.mins)
        np.testing.assert_array_equal(a.maxs, b.maxs)
    assert (again.frames, again.sample_rate, again.channels) == (50_000, 8000, 1)
    # other parameters: another entry
    audio_peaks(path, finest=32)
    assert len(list((_cache / "peaks").glob("*.npz"))) == 2
    # a rewritten file is recomputed, not served stale
    sf.write(path, np.full(50_000, 0.25, np.float32), 8000, subtype="FLOAT")
    st = os.stat(path)
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns + 1_000_000_000))
    fresh = audio_peaks(path)
    assert float(fresh.levels[0].maxs.max()) == 0.25
    # a damaged entry is recomputed
    for f in (_cache / "peaks").glob("*.npz"):
        f.write_bytes(b"garbage")
    assert float(audio_peaks(path).levels[0].mins.min()) == 0.25


def test_level_for_and_to_bytes(tmp_path: Path) -> None:
    path = tmp_path / "st.wav"
    rng = np.random.default_rng(1)
    sf.write(path, rng.uniform(-0.9, 0.9, (200_000, 2)).astype(np.float32), 10_000, subtype="FLOAT")
    pk = audio_peaks(path, finest=10, factor=4, cache=False)
    spbs = [lv.samples_per_bin for lv in pk.levels]
    assert spbs == [10, 40, 160, 640]
    assert pk.level_for(0.0001).samples_per_bin == 10  # zoomed in past the finest
    assert pk.level_for(0.001).samples_per_bin == 10  # 10 samples per pixel
    assert pk.level_for(0.005).samples_per_bin == 40  # 50 samples per pixel
    assert pk.level_for(0.016).samples_per_bin == 160
    assert pk.level_for(10.0).samples_per_bin == 640
    header, buffers = pk.to_bytes()
    assert header["layout"] == BYTES_LAYOUT and header["buffer_channels"] == 2
    assert [lv["bins"] for lv in header["levels"]] == [lv.bins for lv in pk.levels]
    lv = pk.levels[1]
    flat = np.frombuffer(buffers[1], dtype="<f4")
    assert flat.size == lv.bins * 2 * 2
    # bin 3, channel 1: min then max
    assert flat[(3 * 2 + 1) * 2] == lv.mins[3, 1] and flat[(3 * 2 + 1) * 2 + 1] == lv.maxs[3, 1]
    header, buffers = pk.to_bytes(mix=True)
    flat = np.frombuffer(buffers[0], dtype="<f4")
    level = pk.levels[0]
    np.testing.assert_array_equal(flat[0::2], level.mins.min(axis=1))
    np.testing.assert_array_equal(flat[1::2], level.maxs.max(axis=1))
    assert header["buffer_channels"] == 1 and header["mixed"] is True
    import json

    json.dumps(header)


def test_progress_sink_and_parameters(tmp_path: Path) -> None:
    path = tmp_path / "p.wav"
    sf.write(path, np.zeros(70_000, np.float32) + 0.1, 8000, subtype="FLOAT")
    seen: list[tuple[int, int | None, bool]] = []
    audio_peaks(path, progress=lambda d, t, desc, final: seen.append((d, t, final)), cache=False)
    assert seen[-1] == (70_000, 70_000, True)
    from accord.errors import ValidationError

    with pytest.raises(ValidationError):
        audio_peaks(path, factor=1)
