"""``spectrogram.get``: the Player's query for the spectrogram of an item-time range.

The page asks for the visible range of an audio lane at about one column per
pixel: ``{stream, start, end, columns, rows, fmax?, clock?, dtype?, db_range?}``
with ``start``/``end`` in **item** seconds. They are mapped to stream seconds
through the stream clock (the page's previewed ``clock`` when it sends one,
else the stored one) and clipped to the stream. Column ``k`` is centred on
stream time ``time0 + k·dt``; row ``r`` covers ``[r, r + 1)·fmax / rows`` Hz
(row 0 is the lowest band; a band shows the loudest bin in it).

The reply is a header and one binary buffer, row-major ``(rows, columns)``:
``uint8`` levels (``db_range`` mapped onto 0–255, the default) or ``float32``
dB. Never JSON lists.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import numpy as np

from accord.errors import OutOfBoundsError, ValidationError
from accord.media.spectrogram import FLOOR_DB, spectrogram
from accord.model.clock import Clock

if TYPE_CHECKING:
    from accord.widgets.player import Player

__all__ = ["DB_RANGE", "MAX_COLUMNS", "MAX_ROWS", "query_spectrogram", "spectrogram_rows"]

#: Most columns one reply may hold (a wide screen at devicePixelRatio 2).
MAX_COLUMNS = 4096
#: Most frequency rows one reply may hold.
MAX_ROWS = 1024
#: Default dB span mapped onto 0–255 (dBFS; 0 dB is a full-scale sine).
DB_RANGE = (-100.0, -20.0)
#: Shortest analysis window (seconds): ~speech formants stay visible.
MIN_WINDOW_S = 0.016
MAX_N_FFT = 1 << 14

WHERE = "spectrogram.get"


def _finite(value: Any) -> bool:
    return not isinstance(value, bool) and isinstance(value, int | float) and math.isfinite(value)


def _number(content: Mapping[str, Any], key: str) -> float:
    value = content.get(key)
    if not _finite(value):
        raise ValidationError(f"{WHERE}.{key}", "a finite number of item seconds", value)
    return float(value)


def _db_range(raw: Any) -> tuple[float, float]:
    if raw is None:
        return DB_RANGE
    ok = isinstance(raw, list | tuple) and len(raw) == 2 and all(_finite(v) for v in raw)
    if not ok or not raw[0] < raw[1]:
        raise ValidationError(f"{WHERE}.db_range", "[low, high] dB with low < high", raw)
    return float(raw[0]), float(raw[1])


def _count(content: Mapping[str, Any], key: str, most: int) -> int:
    value = content.get(key)
    if not _finite(value) or value != int(value):
        raise ValidationError(f"{WHERE}.{key}", f"an integer in [1, {most}]", value)
    if not 1 <= int(value) <= most:
        raise ValidationError(f"{WHERE}.{key}", f"an integer in [1, {most}]", value)
    return int(value)


def _clock(content: Mapping[str, Any], stored: Clock) -> Clock:
    raw = content.get("clock")
    if raw is None:
        return stored
    if not isinstance(raw, Mapping):
        raise ValidationError(f"{WHERE}.clock", "{offset, rate} or nothing", raw)
    return Clock(offset=raw.get("offset", 0.0), rate=raw.get("rate", 1.0))  # ClockError if bad


def spectrogram_rows(db: np.ndarray, freqs: np.ndarray, rows: int, fmax: float) -> np.ndarray:
    """Pool ``db`` (bins, columns) into ``rows`` equal bands of ``[0, fmax)`` Hz (max per band).

    A band narrower than a bin takes the bin nearest to its centre.
    """
    df = float(freqs[1] - freqs[0])
    out = np.empty((rows, db.shape[1]), np.float32)
    band = fmax / rows
    last = len(freqs) - 1
    for r in range(rows):
        lo = math.ceil(r * band / df - 1e-9)
        hi = math.ceil((r + 1) * band / df - 1e-9)
        lo, hi = min(lo, last), min(hi, last + 1)
        if hi <= lo:
            lo = min(round((r + 0.5) * band / df), last)
            hi = lo + 1
        out[r] = db[lo:hi].max(axis=0)
    return out


def query_spectrogram(
    player: Player, content: Mapping[str, Any], _buffers: list[bytes]
) -> tuple[dict[str, Any], list[bytes]]:
    """The ``spectrogram.get`` query of ``player`` (see the module docstring)."""
    st = player._stream(content, WHERE)
    if st.modality != "audio" or st.uri is None:
        raise ValidationError(f"{WHERE}.stream", "an audio stream with a file", st.name)
    start, end = _number(content, "start"), _number(content, "end")
    if not start < end:
        raise OutOfBoundsError(f"{WHERE}.start", "start < end (item seconds)", (start, end))
    columns = _count(content, "columns", MAX_COLUMNS)
    rows = _count(content, "rows", MAX_ROWS)
    dtype = content.get("dtype", "uint8")
    if dtype not in ("uint8", "float32"):
        raise ValidationError(f"{WHERE}.dtype", '"uint8" or "float32"', dtype)
    db_lo, db_hi = _db_range(content.get("db_range"))
    clock = _clock(content, st.clock)

    from accord.media.audio import open_audio

    source = open_audio(st.uri)
    sr = int(source.sample_rate)
    nyquist = sr / 2
    fmax_raw = content.get("fmax")
    fmax = nyquist if fmax_raw is None else fmax_raw
    if not _finite(fmax) or fmax <= 0:
        raise ValidationError(f"{WHERE}.fmax", "a frequency > 0 (Hz)", fmax_raw)
    fmax = float(fmax)
    fmax = min(fmax, nyquist)
    duration = float(st.duration or 0.0)

    # Item → stream seconds, clipped to the stream; columns kept at the asked density.
    s_a, s_b = clock.to_stream(start), clock.to_stream(end)
    c_a, c_b = max(s_a, 0.0), min(s_b, duration)
    header: dict[str, Any] = {
        "stream": st.name,
        "clock": clock.to_dict(),
        "rows": rows,
        "fmin": 0.0,
        "fmax": fmax,
        "sample_rate": sr,
        "dtype": dtype,
        "db_range": [float(db_lo), float(db_hi)],
        "floor_db": FLOOR_DB,
        "layout": "row-major (rows, columns); row 0 = lowest band; column k centred on "
        "stream time time0 + k*dt",
    }
    s0, s1 = round(c_a * sr), round(c_b * sr)
    want = max(1, round(columns * (c_b - c_a) / (s_b - s_a))) if c_b > c_a else 0
    if want == 0 or s1 <= s0:
        return {**header, "columns": 0, "time0": c_a, "dt": 0.0, "n_fft": 0}, [b""]
    hop = max(1, math.ceil((s1 - s0) / want))
    first = s0 + hop // 2  # centre each column in its own span
    n = max(1, math.ceil((s1 - first) / hop))
    if first >= s1:
        first, n = s0, 1
    n_fft = max(
        1 << math.ceil(math.log2(max(sr * rows / fmax, 2))),
        1 << math.ceil(math.log2(MIN_WINDOW_S * sr)),
    )
    n_fft = min(n_fft, MAX_N_FFT)
    sp = spectrogram(
        st.uri, start=first / sr, end=(first + n * hop) / sr, n_fft=n_fft, hop=hop, max_columns=n
    )
    db = spectrogram_rows(sp.db, sp.freqs, rows, fmax)
    if dtype == "uint8":
        scaled = (db - db_lo) * (255.0 / (db_hi - db_lo))
        data = np.clip(np.rint(scaled), 0, 255).astype(np.uint8)
    else:
        data = db.astype("<f4")
    dt = sp.hop / sr
    time0 = float(sp.times[0])
    ncols = int(sp.times.size)
    header.update(
        columns=ncols,
        time0=time0,
        dt=dt,
        n_fft=sp.n_fft,
        stream_start=time0 - dt / 2,
        stream_end=time0 + (ncols - 0.5) * dt,
        item_start=clock.to_item(time0 - dt / 2),
        item_end=clock.to_item(time0 + (ncols - 0.5) * dt),
    )
    return header, [np.ascontiguousarray(data).tobytes()]
