"""Short-time Fourier spectrogram of (part of) an audio file, in dB re full scale.

Hann-windowed numpy STFT of the channel mean. Column ``k`` is centred on
sample ``start + k·hop`` (windows reaching past the file are zero-padded).
When the span would give more than ``max_columns`` columns the hop grows so
that it gives at most that many; the audio is then streamed once (or, for
soundfile-readable files with a hop much longer than the window, each window
is read by seeking), so a one-hour file never sits in memory.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import numpy as np
import soundfile as sf

from accord.errors import CorruptMediaError, OutOfBoundsError, ValidationError
from accord.media.audio import BLOCK_FRAMES_DEFAULT, AudioSource, open_audio

__all__ = ["FLOOR_DB", "Spectrogram", "spectrogram"]

#: Level given to silence (and the lowest level reported).
FLOOR_DB = -120.0


@dataclass(frozen=True)
class Spectrogram:
    """``db[f, t]`` is the level of frequency ``freqs[f]`` (Hz) at time ``times[t]`` (s).

    0 dB is a full-scale sine wave exactly on a bin; ``hop`` is the hop actually
    used (samples), ``sample_rate`` the file's rate.
    """

    times: np.ndarray  # float64 (columns,), seconds in file time (window centres)
    freqs: np.ndarray  # float64 (n_fft // 2 + 1,), Hz
    db: np.ndarray  # float32 (freqs, columns)
    sample_rate: int
    hop: int
    n_fft: int


def spectrogram(
    path: str | os.PathLike[str],
    *,
    start: float = 0.0,
    end: float | None = None,
    n_fft: int = 1024,
    hop: int = 256,
    max_columns: int = 2000,
) -> Spectrogram:
    """The spectrogram of ``path`` between ``start`` and ``end`` seconds (file time)."""
    if n_fft < 2 or hop < 1 or max_columns < 1:
        raise ValidationError(
            "spectrogram", "n_fft >= 2, hop >= 1 and max_columns >= 1", (n_fft, hop, max_columns)
        )
    source = open_audio(path)
    rate = source.sample_rate
    frames = source.frames
    if source.backend != "soundfile" or frames is None:
        from accord.media.probe import probe_audio

        frames = probe_audio(source.path).frames
    duration = frames / rate
    if end is None:
        end = duration
    if not (0.0 <= start < end):
        raise OutOfBoundsError(
            where=f"{source.path}: spectrogram span",
            expected=f"0 <= start < end (the file lasts {duration:.3f} s)",
            got=(start, end),
        )
    s0 = round(start * rate)
    s1 = min(round(end * rate), frames)
    if s1 <= s0:
        raise OutOfBoundsError(
            where=f"{source.path}: spectrogram span",
            expected=f"a span inside the file (0 to {duration:.3f} s)",
            got=(start, end),
        )
    span = s1 - s0
    hop_used = max(int(hop), -(-span // int(max_columns)))
    columns = max(1, -(-span // hop_used))
    centres = s0 + hop_used * np.arange(columns, dtype=np.int64)
    window = np.hanning(n_fft + 2)[1:-1].astype(np.float32)  # symmetric, no zero ends
    firsts = centres - n_fft // 2
    if source.backend == "soundfile" and hop_used >= 8 * n_fft:
        frames_2d = _windows_by_seek(source, firsts, n_fft, frames)
        spectra = _spectra(frames_2d, window)
    else:
        spectra = np.concatenate(list(_windows_streamed(source, firsts, n_fft, frames, window)))
    scale = float(window.sum()) / 2.0
    with np.errstate(divide="ignore"):
        db = 20.0 * np.log10(np.abs(spectra) / scale)
    db = np.maximum(db, FLOOR_DB).astype(np.float32).T
    return Spectrogram(
        times=centres / rate,
        freqs=np.fft.rfftfreq(n_fft, 1.0 / rate),
        db=np.ascontiguousarray(db),
        sample_rate=rate,
        hop=hop_used,
        n_fft=n_fft,
    )


def _spectra(windows: np.ndarray, window: np.ndarray) -> np.ndarray:
    return np.fft.rfft(windows * window, axis=1)


def _windows_by_seek(
    source: AudioSource, firsts: np.ndarray, n_fft: int, frames: int
) -> np.ndarray:
    """Read each window on its own (sparse columns): (columns, n_fft) channel means."""
    out = np.zeros((len(firsts), n_fft), np.float32)
    try:
        with sf.SoundFile(source.path) as f:
            for k, first in enumerate(firsts):
                a, b = max(int(first), 0), min(int(first) + n_fft, frames)
                if b <= a:
                    continue
                f.seek(a)
                data = f.read(b - a, dtype="float32", always_2d=True)
                out[k, a - first : a - first + len(data)] = data.mean(axis=1)
    except (sf.SoundFileError, RuntimeError) as exc:
        raise CorruptMediaError(
            where=source.path,
            expected="an audio file that decodes to the end",
            detail=f"{type(exc).__name__}: {exc}",
        ) from exc
    return out


def _windows_streamed(
    source: AudioSource, firsts: np.ndarray, n_fft: int, frames: int, window: np.ndarray
):
    """Stream ``[firsts[0], firsts[-1] + n_fft)`` once and yield spectra of ready windows."""
    lo = int(firsts[0])
    hi = int(firsts[-1]) + n_fft
    a, b = max(lo, 0), min(hi, frames)
    buf = np.zeros(a - lo, np.float32)  # zeros before the file's first sample
    buf_start = lo
    k = 0
    offsets = np.arange(n_fft)

    def take(buf: np.ndarray, buf_start: int, k: int) -> tuple[int, np.ndarray | None]:
        ready = np.searchsorted(firsts + n_fft, buf_start + len(buf), side="right")
        if ready <= k:
            return k, None
        idx = (firsts[k:ready] - buf_start)[:, None] + offsets
        return int(ready), _spectra(buf[idx], window)

    if b > a:
        for block in source.blocks(BLOCK_FRAMES_DEFAULT, start=a, stop=b):
            buf = np.concatenate([buf, block.mean(axis=1)])
            k, spec = take(buf, buf_start, k)
            if spec is not None:
                yield spec
            if k < len(firsts):  # keep only what later windows need
                drop = min(int(firsts[k]) - buf_start, len(buf))
                if drop > 0:
                    buf = buf[drop:]
                    buf_start += drop
    tail = np.zeros(max(hi - (buf_start + len(buf)), 0), np.float32)
    buf = np.concatenate([buf, tail])  # zeros after the last sample (or a short decode)
    k, spec = take(buf, buf_start, k)
    if spec is not None:
        yield spec
