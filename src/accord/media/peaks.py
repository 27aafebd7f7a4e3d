"""Multi-resolution min/max peaks of an audio file, for drawing waveforms at any zoom.

The file is streamed in blocks (see :mod:`accord.media.audio`), so an hour of
audio never sits in memory; only the finest level does (two float32 per
``finest`` samples per channel: ~21 MB for an hour of 48 kHz mono at 64).
Coarser levels are reduced from the finest one by an integer ``factor``, which
is exact (the min of mins is the min). Results are cached on disk under
``$ACCORD_CACHE_DIR/peaks`` keyed by the file's path, size, mtime and the
parameters.

Bins cover samples ``[k·spb, (k+1)·spb)``; the last bin of a level may be
shorter. Values are clipped to [-1, 1] (only float files can exceed it).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from accord.errors import CorruptMediaError, ValidationError
from accord.media.audio import open_audio
from accord.media.cache import cache_dir, file_key
from accord.progress import ProgressOption, open_progress

__all__ = ["BYTES_LAYOUT", "PeakLevel", "Peaks", "audio_peaks"]

#: Levels are added until one has at most this many bins.
MIN_BINS = 1024
#: Frames read per block (rounded up to a multiple of ``finest``).
BLOCK_FRAMES = 1 << 18
_CACHE_VERSION = 1

#: Layout of each buffer of :meth:`Peaks.to_bytes`.
BYTES_LAYOUT = (
    "float32 little-endian, bin-major: for each bin, for each channel, min then max "
    "(mono or mixed: [min0, max0, min1, max1, ...])"
)


@dataclass(frozen=True)
class PeakLevel:
    """Min and max of every bin of ``samples_per_bin`` samples, per channel."""

    samples_per_bin: int
    mins: np.ndarray  # float32 (bins, channels), in [-1, 1]
    maxs: np.ndarray  # float32 (bins, channels)

    @property
    def bins(self) -> int:
        """Number of bins."""
        return int(self.mins.shape[0])


@dataclass(frozen=True)
class Peaks:
    """Peaks of one audio file at several resolutions (finest first)."""

    sample_rate: int
    frames: int  # samples per channel
    channels: int
    levels: tuple[PeakLevel, ...]

    @property
    def duration(self) -> float:
        """Seconds of audio."""
        return self.frames / self.sample_rate

    def level_for(self, seconds_per_pixel: float) -> PeakLevel:
        """The coarsest level with at least one bin per pixel (the finest if none)."""
        samples_per_pixel = float(seconds_per_pixel) * self.sample_rate
        chosen = self.levels[0]
        for level in self.levels:
            if level.samples_per_bin <= samples_per_pixel:
                chosen = level
        return chosen

    def to_bytes(self, *, mix: bool = False) -> tuple[dict[str, Any], list[bytes]]:
        """A JSON-able header and one float32 buffer per level (see :data:`BYTES_LAYOUT`).

        ``mix=True`` folds the channels into one (min over channels of the
        mins, max of the maxs), so each buffer is ``[min0, max0, min1, ...]``.
        """
        buffers = []
        header_levels = []
        for level in self.levels:
            mins, maxs = level.mins, level.maxs
            if mix:
                mins, maxs = mins.min(axis=1, keepdims=True), maxs.max(axis=1, keepdims=True)
            pairs = np.stack([mins, maxs], axis=-1).astype("<f4", copy=False)
            buffers.append(np.ascontiguousarray(pairs).tobytes())
            header_levels.append({"samples_per_bin": level.samples_per_bin, "bins": level.bins})
        header = {
            "sample_rate": self.sample_rate,
            "frames": self.frames,
            "channels": self.channels,
            "buffer_channels": 1 if mix else self.channels,
            "mixed": mix,
            "layout": BYTES_LAYOUT,
            "levels": header_levels,
        }
        return header, buffers


def audio_peaks(
    path: str | os.PathLike[str],
    *,
    finest: int = 64,
    factor: int = 4,
    progress: ProgressOption = None,
    cache: bool = True,
) -> Peaks:
    """Min/max peaks of ``path`` at ``finest``, ``finest·factor``, ... samples per bin.

    Levels are added until one has at most :data:`MIN_BINS` bins. ``progress``:
    see :data:`accord.media.cache.ProgressOption` (a bar shows for files longer
    than a minute). Raises :class:`~accord.errors.CorruptMediaError` for
    unreadable or empty audio and :class:`~accord.errors.UnsupportedMediaError`
    for a file without an audio stream.
    """
    if int(finest) < 1 or int(factor) < 2:
        raise ValidationError("audio_peaks", "finest >= 1 and factor >= 2", (finest, factor))
    finest, factor = int(finest), int(factor)
    source = open_audio(path)
    target: Path | None = None
    if cache:
        key = file_key(source.path, finest=finest, factor=factor, v=_CACHE_VERSION)
        target = cache_dir("peaks") / f"{key}.npz"
        loaded = _load(target)
        if loaded is not None:
            return loaded
    block = -(-BLOCK_FRAMES // finest) * finest
    bar = open_progress(
        progress,
        source.frames,
        f"Peaks of {Path(source.path).name}",
        min_total=60 * source.sample_rate,
    )
    with bar:
        # 16-bit files are reduced as int16 (half the memory traffic, no conversion of
        # every sample); only the bins are scaled, exactly as libsndfile scales samples
        blocks = source.blocks(block, raw_int16=source.int16)
        mins, maxs, frames = _finest_level(blocks, finest, source.channels, bar)
    if frames == 0:
        raise CorruptMediaError(
            where=source.path,
            expected="an audio file with at least one sample",
            got=0,
            detail="the file holds no audio samples",
        )
    levels = [PeakLevel(finest, mins, maxs)]
    while levels[-1].bins > MIN_BINS:
        prev = levels[-1]
        levels.append(
            PeakLevel(
                prev.samples_per_bin * factor,
                _reduce(prev.mins, factor, np.minimum, np.inf),
                _reduce(prev.maxs, factor, np.maximum, -np.inf),
            )
        )
    for level in levels:
        level.mins.setflags(write=False)
        level.maxs.setflags(write=False)
    peaks = Peaks(source.sample_rate, frames, source.channels, tuple(levels))
    if target is not None:
        _save(target, peaks)
    return peaks


def _finest_level(
    blocks: Iterator[np.ndarray], finest: int, channels: int, bar: Any
) -> tuple[np.ndarray, np.ndarray, int]:
    """Stream blocks (each a multiple of ``finest`` but the last) into bin mins/maxs."""
    mins: list[np.ndarray] = []
    maxs: list[np.ndarray] = []
    frames = 0
    for x in blocks:
        n = len(x)
        full = n - n % finest
        if full:
            # (finest, bins, channels) contiguous: the reduction runs over whole rows,
            # which numpy vectorises far better than many short inner reductions
            rows = np.ascontiguousarray(x[:full].reshape(-1, finest, channels).transpose(1, 0, 2))
            mins.append(rows.min(axis=0))
            maxs.append(rows.max(axis=0))
        if full < n:
            mins.append(x[full:].min(axis=0, keepdims=True))
            maxs.append(x[full:].max(axis=0, keepdims=True))
        frames += n
        bar.update(frames)
    if not mins:
        empty = np.zeros((0, channels), np.float32)
        return empty, empty, 0
    lo, hi = np.concatenate(mins), np.concatenate(maxs)
    if lo.dtype == np.int16:
        return (
            (lo / np.float32(32768)).astype(np.float32),
            (hi / np.float32(32768)).astype(np.float32),
            frames,
        )
    lo, hi = lo.astype(np.float32, copy=False), hi.astype(np.float32, copy=False)
    np.clip(lo, -1.0, 1.0, out=lo)
    np.clip(hi, -1.0, 1.0, out=hi)
    return lo, hi, frames


def _reduce(values: np.ndarray, factor: int, op: np.ufunc, pad: float) -> np.ndarray:
    """Combine every ``factor`` consecutive bins with ``op`` (the last group may be short)."""
    bins, channels = values.shape
    groups = -(-bins // factor)
    if groups * factor != bins:
        padded = np.full((groups * factor, channels), pad, dtype=np.float32)
        padded[:bins] = values
        values = padded
    return op.reduce(values.reshape(groups, factor, channels), axis=1).astype(np.float32)


def _save(target: Path, peaks: Peaks) -> None:
    arrays: dict[str, np.ndarray] = {
        "meta": np.array([peaks.sample_rate, peaks.frames, peaks.channels], dtype=np.int64),
        "spb": np.array([lv.samples_per_bin for lv in peaks.levels], dtype=np.int64),
    }
    for i, level in enumerate(peaks.levels):
        arrays[f"mins{i}"] = level.mins
        arrays[f"maxs{i}"] = level.maxs
    tmp = target.with_name(f"{target.stem}.{os.getpid()}.tmp.npz")
    try:
        np.savez(tmp, **arrays)
        os.replace(tmp, target)
    except OSError:  # a read-only cache is not an error; the peaks are still returned
        tmp.unlink(missing_ok=True)


def _load(target: Path) -> Peaks | None:
    try:
        with np.load(target) as data:
            rate, frames, channels = (int(v) for v in data["meta"])
            levels = []
            for i, spb in enumerate(data["spb"]):
                mins, maxs = data[f"mins{i}"], data[f"maxs{i}"]
                mins.setflags(write=False)
                maxs.setflags(write=False)
                levels.append(PeakLevel(int(spb), mins, maxs))
    except (OSError, KeyError, ValueError):
        return None  # missing or damaged entry: recompute
    return Peaks(rate, frames, channels, tuple(levels))
