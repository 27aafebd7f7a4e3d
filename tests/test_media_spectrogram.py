"""Spectrogram: a tone peaks at its bin, a chirp moves, streaming equals a brute-force STFT."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from accord.errors import OutOfBoundsError
from accord.media import spectrogram as spec_mod
from accord.media.spectrogram import FLOOR_DB, spectrogram

RATE = 16_000


def write(tmp_path: Path, name: str, x: np.ndarray, subtype: str = "FLOAT") -> Path:
    path = tmp_path / name
    sf.write(path, x.astype(np.float32), RATE, subtype=subtype)
    return path


def brute(x: np.ndarray, centres: np.ndarray, n_fft: int) -> np.ndarray:
    """Reference STFT (dB) of mono ``x`` with windows centred on ``centres``."""
    padded = np.concatenate([np.zeros(n_fft), x, np.zeros(n_fft)]).astype(np.float32)
    window = np.hanning(n_fft + 2)[1:-1].astype(np.float32)
    rows = np.stack([padded[c - n_fft // 2 + n_fft : c + n_fft // 2 + n_fft] for c in centres])
    mag = np.abs(np.fft.rfft(rows * window, axis=1)) / (window.sum() / 2)
    with np.errstate(divide="ignore"):
        return np.maximum(20 * np.log10(mag), FLOOR_DB).T


def test_pure_tone_peaks_at_its_bin(tmp_path: Path) -> None:
    t = np.arange(RATE * 2) / RATE
    path = write(tmp_path, "tone.wav", 0.5 * np.sin(2 * np.pi * 1000.0 * t))
    sp = spectrogram(path, n_fft=1024, hop=256)
    assert sp.db.dtype == np.float32 and sp.db.shape == (513, len(sp.times))
    assert sp.freqs[64] == 1000.0
    inner = sp.db[:, 4:-4]  # windows fully inside the file
    assert (inner.argmax(axis=0) == 64).all()
    assert np.allclose(inner[64], 20 * np.log10(0.5), atol=0.05)  # -6.02 dB
    assert (inner[200] < -60).all()  # far from the tone: well down


def test_chirp_moves_up(tmp_path: Path) -> None:
    dur, f0, f1 = 3.0, 300.0, 6000.0
    t = np.arange(int(RATE * dur)) / RATE
    phase = 2 * np.pi * (f0 * t + (f1 - f0) / (2 * dur) * t**2)
    path = write(tmp_path, "chirp.wav", 0.8 * np.sin(phase))
    sp = spectrogram(path, n_fft=512, hop=160)
    peak = sp.freqs[sp.db.argmax(axis=0)]
    inner = slice(3, -3)
    expected = f0 + (f1 - f0) * sp.times / dur
    assert np.abs(peak[inner] - expected[inner]).max() < 3 * RATE / 512
    assert np.all(np.diff(peak[inner]) >= 0) and peak[inner][-1] - peak[inner][0] > 5000


@pytest.mark.parametrize(
    ("start", "end", "hop", "max_columns", "block"),
    [
        (0.0, None, 256, 2000, 1000),  # streamed, many small blocks
        (0.37, 1.9, 100, 2000, 777),  # a span, windows reaching before it
        (0.0, None, 64, 50, 4096),  # capped: hop grows to span / 50
        (1.2, None, 256, 2000, 1 << 18),
    ],
)
def test_equals_brute_force(tmp_path: Path, monkeypatch, start, end, hop, max_columns, block):
    monkeypatch.setattr(spec_mod, "BLOCK_FRAMES_DEFAULT", block)
    rng = np.random.default_rng(0)
    x = rng.uniform(-0.7, 0.7, (RATE * 3 + 123, 2)).astype(np.float32)
    path = write(tmp_path, "noise.wav", x)
    sp = spectrogram(path, start=start, end=end, n_fft=256, hop=hop, max_columns=max_columns)
    s0 = round(start * RATE)
    s1 = len(x) if end is None else round(end * RATE)
    assert len(sp.times) <= max_columns
    assert sp.hop == max(hop, -(-(s1 - s0) // max_columns))
    centres = s0 + sp.hop * np.arange(len(sp.times))
    assert centres[-1] < s1 <= centres[-1] + sp.hop
    np.testing.assert_allclose(sp.times, centres / RATE)
    ref = brute(x.mean(axis=1), centres, 256)
    np.testing.assert_allclose(sp.db, ref, atol=1e-3)


def test_sparse_columns_streamed_like_seeked(tmp_path: Path, monkeypatch) -> None:
    """PyAV files never seek per window: the streamed path gives the same sparse columns."""
    rng = np.random.default_rng(1)
    x = rng.uniform(-0.5, 0.5, RATE * 4).astype(np.float32)
    path = write(tmp_path, "n.wav", x)
    seeked = spectrogram(path, n_fft=128, hop=16, max_columns=20)
    assert seeked.hop >= 8 * 128
    monkeypatch.setattr(spec_mod, "BLOCK_FRAMES_DEFAULT", 500)
    streamed = spec_mod._windows_streamed(
        spec_mod.open_audio(path),
        (seeked.times * RATE).round().astype(np.int64) - 64,
        128,
        len(x),
        np.hanning(130)[1:-1].astype(np.float32),
    )
    mag = np.abs(np.concatenate(list(streamed))) / (np.hanning(130)[1:-1].sum() / 2)
    with np.errstate(divide="ignore"):
        db = np.maximum(20 * np.log10(mag), FLOOR_DB).T
    np.testing.assert_allclose(seeked.db, db, atol=1e-3)


def test_compressed_audio_of_the_sample_video(sample_scene) -> None:
    sp = spectrogram(sample_scene.video, start=1.0, end=3.0)
    ref = spectrogram(sample_scene.audio, start=1.0, end=3.0)
    assert sp.db.shape == ref.db.shape
    np.testing.assert_allclose(sp.times, ref.times)
    # AAC at 96 kb/s keeps the loud parts of the spectrum
    loud = ref.db > -50
    assert np.median(np.abs(sp.db[loud] - ref.db[loud])) < 3.0


def test_bad_spans(tmp_path: Path) -> None:
    path = write(tmp_path, "s.wav", np.zeros(RATE))
    with pytest.raises(OutOfBoundsError, match=r"s\.wav"):
        spectrogram(path, start=0.5, end=0.5)
    with pytest.raises(OutOfBoundsError):
        spectrogram(path, start=2.0)
    silent = spectrogram(path)
    assert (silent.db == FLOOR_DB).all()
