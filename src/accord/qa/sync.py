"""Sync diagnostics: estimate a stream's clock from its signals.

:func:`estimate_clock` measures how a stream's own time maps onto a
*reference* stream of the same item, from what both recorded, and composes
that with the reference's stored clock: the result is the stream's clock in
item time (``t_item = offset + rate * t_stream``), next to what is stored.

Audio against audio
    Onset strength (positive spectral flux of log energies in 8 bands, 2 ms
    steps) is cross-correlated, window by window across the recording,
    against the whole reference (normalised correlation over every lag). A
    robust line through the windows' lags gives a first offset and rate.
    Then 0.4 s windows around the strongest onsets, spread over the
    recording, are refined on the raw samples: the reference is resampled
    along the current line (windowed sinc), the correlation peak is
    interpolated (band-limited to 1/8 sample, then a parabola), and a
    weighted line through those points gives offset *and* drift with their
    standard errors (repeated once with the refined line).
Audio against video (or video against video)
    Visual onset strength: how suddenly the picture changed — the mean
    absolute difference between successive frames (a 64-pixel-wide grey
    thumbnail, decoded with PyAV) beyond what each pixel usually does (its
    90th percentile, which hides overlays such as burned-in timecode and
    steady motion), and beyond the frame before (a flash counts when it goes
    on, not off). Visual events (flashes, cuts) and audio events (claps) are
    the peaks of the two onset strengths; each pairing of strong events
    proposes an offset, the proposal that pairs the most strength within
    half a frame wins, and its pairs are timed — audio attacks from the raw
    samples, an event on video at the *start of the first frame that shows
    it* — and fitted with a robust line. So the offset is known to about a
    frame; the rate is estimated only when the events span enough time to
    pin it to 100 ppm, otherwise the stored rates are kept.

``confidence`` (0–1) says how much to trust an estimate. Audio: the share of
windows on the fitted line × the peak-to-sidelobe ratio of their
correlations (5 → 0, 12 → 1) × how alike the raw signals are at the peak
(normalised correlation 0.2 → 0, 0.6 → 1). Events: how far the winning
proposal stands above the others (in standard deviations, 4 → 0, 10 → 1)
× the paired events (3 or more → 1). Noise against noise scores near 0.

:func:`estimate_sync` tabulates every audio and video stream of an item
against its reference. On ``import accord`` an estimator is registered with
:func:`~accord.qa.checks.register_sync_estimator`, so ``s.check()`` reports a
``builtin:sync`` finding when a stored clock disagrees with its estimate (see
:func:`sync_suspicions` for the tolerances). Signal features are cached per
file (path, size, modification time), and whole estimates per pair of files,
so repeated checks cost little.
"""

from __future__ import annotations

import bisect
import math
import os
from collections import OrderedDict
from collections.abc import Callable, Hashable, Iterable
from dataclasses import dataclass, field
from threading import Lock
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from accord.errors import (
    CorruptMediaError,
    MediaError,
    MissingMediaError,
    NotFoundError,
    UnsupportedMediaError,
    ValidationError,
)
from accord.model.clock import Clock
from accord.model.item import Item, Stream
from accord.progress import progress
from accord.qa.checks import SyncSuspicion, register_sync_estimator

if TYPE_CHECKING:
    from accord.session import Session

__all__ = [
    "SYNC_COLUMNS",
    "SyncEstimate",
    "choose_reference",
    "clear_cache",
    "estimate_clock",
    "estimate_sync",
    "sync_suspicions",
]

#: Columns of :func:`estimate_sync`.
SYNC_COLUMNS: tuple[str, ...] = (
    "item",
    "stream",
    "reference",
    "method",
    "stored_offset",
    "stored_rate",
    "offset",
    "rate",
    "offset_correction",
    "drift_ppm",
    "offset_error",
    "rate_error_ppm",
    "confidence",
    "windows",
    "suspect",
)

_SYNC_MODALITIES = ("audio", "video")
STEP = 0.002  # s: onset envelope resolution
MAX_DRIFT_PPM = 2000.0  # rates further from the prior than this are not considered
MIN_CONFIDENCE = 0.5  # below this, the check reports nothing
DRIFT_TOLERANCE_PPM = 100.0
_FINE_WINDOW = 0.4  # s: raw-sample windows of the fine stage
_FINE_COUNT = 32
_UPSAMPLE = 8
_PROPOSERS = 40  # strongest events per side that propose offsets / lines


# -- the result ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class SyncEstimate:
    """The estimated clock of ``stream`` (in item time) and how sure it is.

    ``offset``/``rate``: the estimated clock, composed with the reference's
    stored clock. ``relative``: the map from stream time to *reference stream*
    time. ``offset_error`` (s) and ``rate_error`` are standard errors
    (``rate_error`` is NaN when the rate was not estimated and ``stored``'s
    rate was kept); ``residual`` is the RMS misfit of the windows/events (s).
    ``windows``: how many windows or events the fit used.
    """

    item: str
    stream: str
    reference: str
    offset: float
    rate: float
    offset_error: float
    rate_error: float
    residual: float
    confidence: float
    method: str
    windows: int
    stored: Clock
    relative: Clock
    rate_estimated: bool = True
    evidence_time: float | None = None  # item time of the strongest evidence
    duration: float | None = None  # the stream's duration (s)
    details: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)

    @property
    def clock(self) -> Clock:
        """The estimated clock."""
        return Clock(self.offset, self.rate)

    @property
    def correction(self) -> float:
        """Seconds to add to the stored offset (``offset - stored.offset``)."""
        return self.offset - self.stored.offset

    @property
    def drift_ppm(self) -> float:
        """Estimated minus stored rate, in ppm."""
        return (self.rate - self.stored.rate) * 1e6

    def misalignment(self) -> float:
        """Largest absolute difference of estimated and stored item time over the stream (s)."""
        ends = [0.0, self.duration or 0.0]
        return max(abs(self.clock.to_item(t) - self.stored.to_item(t)) for t in ends)


# -- cache --------------------------------------------------------------------------------------

_CACHE: OrderedDict[Hashable, Any] = OrderedDict()
_CACHE_LOCK = Lock()
_CACHE_SIZE = 64
_PCM_BUDGET = 64 * 1024 * 1024  # bytes: raw audio above this is read again when needed


def clear_cache() -> None:
    """Forget cached signal features and estimates."""
    with _CACHE_LOCK:
        _CACHE.clear()


def _file_key(path: str) -> tuple[str, int, int]:
    try:
        st = os.stat(path)
    except OSError as exc:
        raise MissingMediaError(path, "an existing media file", detail=str(exc)) from exc
    return (os.path.realpath(path), st.st_size, st.st_mtime_ns)


def _store(key: Hashable, value: Any) -> None:
    with _CACHE_LOCK:
        _CACHE[key] = value
        _CACHE.move_to_end(key)
        while len(_CACHE) > _CACHE_SIZE:
            _CACHE.popitem(last=False)


def _cached(
    key: Hashable, build: Callable[[], Any], keep: Callable[[Any], bool] | None = None
) -> Any:
    with _CACHE_LOCK:
        if key in _CACHE:
            _CACHE.move_to_end(key)
            return _CACHE[key]
    value = build()
    if keep is None or keep(value):
        _store(key, value)
    return value


# -- signals ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Audio:
    """Mono samples; sample ``i`` is at stream time ``start + i / rate``."""

    samples: np.ndarray
    rate: int
    start: float


@dataclass(frozen=True)
class _Envelope:
    """Onset strength: ``values[k]`` at time ``start + k * step``."""

    values: np.ndarray
    start: float
    step: float

    @property
    def times(self) -> np.ndarray:
        return self.start + self.step * np.arange(len(self.values))

    @property
    def end(self) -> float:
        return self.start + self.step * len(self.values)


@dataclass(frozen=True)
class _Visual:
    """Visual onset strength per frame at the frames' times (stream seconds)."""

    times: np.ndarray
    onset: np.ndarray
    step: float


@dataclass(frozen=True)
class _Signal:
    """What one side of a comparison offers: audio (path of samples) or visual onsets."""

    kind: str  # "audio" or "visual"
    key: tuple[Any, ...]
    path: str
    track: bool = False  # audio from a video container's audio track

    def audio(self) -> _Audio:
        return _read_audio(self.path, self.track)

    def envelope(self) -> _Envelope:
        return _cached((*self.key, "envelope"), lambda: _onset_envelope(self.audio()))

    def visual(self) -> _Visual:
        return _cached((*self.key, "visual"), lambda: _visual_onsets(self.path))


def _read_audio(path: str, track: bool) -> _Audio:
    key = (*_file_key(path), "pcm", track)
    return _cached(
        key, lambda: _decode_audio(path, track), lambda a: a.samples.nbytes < _PCM_BUDGET
    )


def _decode_audio(path: str, track: bool) -> _Audio:
    import soundfile as sf

    if not track:
        try:
            data, rate = sf.read(path, dtype="float32", always_2d=True)
        except (sf.SoundFileError, RuntimeError, TypeError):
            pass
        else:
            if len(data) == 0:
                raise CorruptMediaError(path, "an audio file with at least one sample", 0)
            return _Audio(np.ascontiguousarray(data.mean(axis=1)), int(rate), 0.0)
    import av

    try:
        container = av.open(path)
    except (av.FFmpegError, EOFError) as exc:
        raise CorruptMediaError(path, "a readable audio or video file", detail=str(exc)) from exc
    with container:
        if not container.streams.audio:
            raise UnsupportedMediaError(path, "a file with an audio track", "no audio track")
        st = container.streams.audio[0]
        rate = int(st.codec_context.sample_rate or st.rate or 0)
        resampler = av.AudioResampler(format="flt", layout="mono", rate=rate)
        chunks: list[np.ndarray] = []
        start: float | None = None
        try:
            for frame in container.decode(st):
                if start is None and frame.pts is not None and frame.time_base is not None:
                    start = float(frame.pts * frame.time_base)
                for out in resampler.resample(frame):
                    chunks.append(out.to_ndarray().reshape(-1))
            for out in resampler.resample(None):
                chunks.append(out.to_ndarray().reshape(-1))
        except (av.FFmpegError, EOFError) as exc:
            raise CorruptMediaError(path, "an audio track that decodes", detail=str(exc)) from exc
    if not chunks or rate <= 0:
        raise CorruptMediaError(path, "an audio track with at least one sample", 0)
    # a container's audio track keeps its timestamps (the video's time); an audio file starts at 0
    return _Audio(np.concatenate(chunks).astype(np.float32), rate, (start or 0.0) if track else 0.0)


def _has_audio_track(path: str) -> bool:
    def probe() -> bool:
        import av

        try:
            with av.open(path) as c:
                return bool(c.streams.audio)
        except (av.FFmpegError, EOFError):
            return False

    return bool(_cached((*_file_key(path), "has-track"), probe))


def _onset_envelope(audio: _Audio) -> _Envelope:
    """Positive spectral flux of log energies in 8 log-spaced bands, every ``STEP`` s."""
    sr = audio.rate
    hop = max(1, round(sr * STEP))
    n_fft = 1 << max(4, round(math.log2(sr * 0.01)))
    x = np.concatenate([audio.samples, np.zeros(n_fft, audio.samples.dtype)])
    n_frames = max(2, 1 + (len(x) - n_fft) // hop)
    freqs = np.fft.rfftfreq(n_fft, 1 / sr)
    edges = np.geomspace(80.0, min(8000.0, 0.45 * sr), 9)
    bands = np.searchsorted(freqs, edges)
    bands = np.unique(np.clip(bands, 1, len(freqs) - 1))
    window = np.hanning(n_fft)
    frames = np.lib.stride_tricks.sliding_window_view(x, n_fft)[::hop][:n_frames]
    energy = np.empty((len(frames), len(bands) - 1), dtype=np.float64)
    for lo in range(0, len(frames), 4096):
        chunk = frames[lo : lo + 4096].astype(np.float64) * window
        spec = np.abs(np.fft.rfft(chunk, axis=1)) ** 2
        energy[lo : lo + 4096] = np.add.reduceat(spec, bands, axis=1)[:, :-1]
    floor = 1e-3 * energy.mean(axis=0) + 1e-12
    log = np.log(energy + floor)
    flux = np.maximum(np.diff(log, axis=0), 0.0).sum(axis=1)
    # flux[k] compares frames k and k + 1: place it between their centres
    start = audio.start + (0.5 * hop + n_fft / 2) / sr
    return _Envelope(flux.astype(np.float64), start, hop / sr)


def _visual_onsets(path: str, width: int = 64) -> _Visual:
    """Per frame: how suddenly the picture changed (0 for the first frame)."""
    import av

    try:
        container = av.open(path)
    except (av.FFmpegError, EOFError) as exc:
        raise CorruptMediaError(path, "a readable video file", detail=str(exc)) from exc
    with container:
        if not container.streams.video:
            raise UnsupportedMediaError(path, "a file with a video stream", "no video stream")
        st = container.streams.video[0]
        st.thread_type = "AUTO"
        ctx = st.codec_context
        height = max(2, round(width * (ctx.height or 9) / (ctx.width or 16) / 2) * 2)
        times: list[float] = []
        grey: list[np.ndarray] = []
        name = os.path.basename(path)
        with progress(int(st.frames or 0) or None, f"Motion in {name}") as bar:
            try:
                for frame in container.decode(st):
                    bar.advance(1)
                    if frame.pts is None:
                        continue
                    times.append(float(frame.pts * frame.time_base))
                    grey.append(_small_grey(frame, width, height))
            except (av.FFmpegError, EOFError) as exc:
                raise CorruptMediaError(path, "a video that decodes", detail=str(exc)) from exc
    if len(grey) < 3:
        raise CorruptMediaError(path, "a video with at least 3 frames", len(grey))
    order = np.argsort(times)
    t = np.asarray(times)[order]
    g = np.stack([grey[i] for i in order]).reshape(len(order), -1)  # uint8: 2.3 kB a frame
    del grey

    def diff(rows: np.ndarray) -> np.ndarray:  # |frame i - frame i-1| for i in rows (>= 1)
        return np.abs(g[rows].astype(np.int16) - g[rows - 1].astype(np.int16)).astype(np.float32)

    sample = np.unique(np.linspace(1, len(g) - 1, min(len(g) - 1, 3000)).round().astype(int))
    usual = np.percentile(diff(sample), 90, axis=0)  # what each pixel usually does (overlays)
    motion = np.zeros(len(g))
    for lo in range(1, len(g), 4096):
        rows = np.arange(lo, min(lo + 4096, len(g)))
        motion[rows] = np.maximum(diff(rows) - usual, 0.0).mean(axis=1)
    # the rise over the frame before and over the recent level: a flash's first frame, not its
    # last (its switching off moves as many pixels)
    recent = np.lib.stride_tricks.sliding_window_view(np.concatenate([np.zeros(5), motion]), 5)
    base = np.maximum(np.median(recent[:-1], axis=1), np.concatenate([[0.0], motion[:-1]]))
    onset = np.maximum(motion - base, 0.0)
    step = float(np.median(np.diff(t)))
    return _Visual(t, onset, step)


_LUMA_FIRST = frozenset(
    {
        "yuv420p",
        "yuvj420p",
        "yuv422p",
        "yuvj422p",
        "yuv444p",
        "yuvj444p",
        "yuv440p",
        "yuvj440p",
        "yuv411p",
        "yuv410p",
        "nv12",
        "nv21",
        "gray",
    }
)  # 8-bit formats whose first plane is the luma, one byte a pixel


def _small_grey(frame: Any, width: int, height: int) -> np.ndarray:
    """A ``height × width`` uint8 grey thumbnail (block means of the luma plane if possible)."""
    if frame.format.name in _LUMA_FIRST:
        plane = frame.planes[0]
        bh, bw = plane.height // height, plane.width // width
        if bh >= 1 and bw >= 1:
            y = np.frombuffer(plane, np.uint8).reshape(plane.height, plane.line_size)
            block = y[: bh * height, : bw * width].reshape(height, bh, width, bw)
            return block.mean(axis=(1, 3)).astype(np.uint8)
    small = frame.reformat(width=width, height=height, format="gray")
    return small.to_ndarray()[:height, :width].copy()


# -- numerics -----------------------------------------------------------------------------------


def _ncc(x: np.ndarray, y: np.ndarray, min_overlap: int) -> np.ndarray:
    """Pearson correlation of ``x`` and ``y`` shifted by every lag, over their overlap.

    Entry ``j`` is for lag ``j - (len(x) - 1)``: ``x[n]`` against ``y[n + lag]``.
    Lags with fewer than ``min_overlap`` overlapping samples get 0.
    """
    nx, ny = len(x), len(y)
    n = nx + ny - 1
    nfft = 1 << (n - 1).bit_length()
    fx = np.fft.rfft(x[::-1], nfft)
    fy = np.fft.rfft(y, nfft)
    sxy = np.fft.irfft(fx * fy, nfft)[:n]  # sxy[j] = sum_n x[n] y[n + j - nx + 1]

    def sliding(v: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Sums of v, v² and counts over the part of y under x at each lag."""
        c1 = np.concatenate([[0.0], np.cumsum(v)])
        c2 = np.concatenate([[0.0], np.cumsum(v * v)])
        lag = np.arange(n) - (nx - 1)
        lo = np.clip(lag, 0, ny)
        hi = np.clip(lag + nx, 0, ny)
        return c1[hi] - c1[lo], c2[hi] - c2[lo], (hi - lo).astype(float)

    sy, sy2, cnt = sliding(y)
    # the part of x over y: x[n] with 0 <= n + lag < ny
    lag = np.arange(n) - (nx - 1)
    cx1 = np.concatenate([[0.0], np.cumsum(x)])
    cx2 = np.concatenate([[0.0], np.cumsum(x * x)])
    lo = np.clip(-lag, 0, nx)
    hi = np.clip(ny - lag, 0, nx)
    sx, sx2 = cx1[hi] - cx1[lo], cx2[hi] - cx2[lo]
    with np.errstate(invalid="ignore", divide="ignore"):
        cov = sxy - sx * sy / np.maximum(cnt, 1)
        vx = sx2 - sx * sx / np.maximum(cnt, 1)
        vy = sy2 - sy * sy / np.maximum(cnt, 1)
        floor_x = 1e-3 * np.var(x) * cnt + 1e-30
        floor_y = 1e-3 * np.var(y) * cnt + 1e-30
        r = cov / np.sqrt(np.maximum(vx, floor_x) * np.maximum(vy, floor_y))
    r[(cnt < min_overlap) | ~np.isfinite(r)] = 0.0
    return r


def _parabolic(c: np.ndarray, i: int) -> float:
    """Sub-sample position of the peak at ``i`` (parabola through 3 points)."""
    if i <= 0 or i >= len(c) - 1:
        return float(i)
    a, b, d = c[i - 1], c[i], c[i + 1]
    den = a - 2 * b + d
    return float(i) if den >= 0 else float(i + 0.5 * (a - d) / den)


def _psr(c: np.ndarray, i: int, exclude: int) -> float:
    """Peak-to-sidelobe ratio: (peak − mean) / std of the correlation outside ±exclude."""
    mask = np.ones(len(c), bool)
    mask[max(0, i - exclude) : i + exclude + 1] = False
    rest = c[mask & (c != 0)]
    if len(rest) < 10:
        return 0.0
    sd = float(rest.std())
    return float((c[i] - rest.mean()) / sd) if sd > 0 else 0.0


def _sinc_interp(x: np.ndarray, pos: np.ndarray, half: int = 16) -> np.ndarray:
    """Band-limited value of ``x`` at fractional indices ``pos`` (Hann-windowed sinc).

    Samples beyond either end count as zeros. Only the span of ``x`` that
    ``pos`` reaches is copied, so a window of a long recording costs little.
    """
    if len(pos) == 0:
        return np.zeros(0)
    base = np.floor(pos).astype(np.int64)
    lo = int(base.min()) - half - 1
    hi = int(base.max()) + half + 2
    seg = np.zeros(hi - lo)
    a, b = max(lo, 0), min(hi, len(x))
    if b > a:
        seg[a - lo : b - lo] = x[a:b]
    frac = pos - base
    base = base - lo
    sin_f = np.sin(np.pi * frac) / np.pi  # sin(pi (frac - k)) = (-1)^k sin(pi frac)
    out = np.zeros(len(pos))
    for k in range(-half + 1, half + 1):
        d = frac - k
        if k == 0:
            core = np.divide(sin_f, d, out=np.ones_like(d), where=d != 0)
        else:
            core = (sin_f if k % 2 == 0 else -sin_f) / d
        out += seg[base + k] * core * (0.5 + 0.5 * np.cos(np.pi * d / half))
    return out


@dataclass(frozen=True)
class _Line:
    a: float
    b: float
    cov: np.ndarray
    residual: float
    inliers: np.ndarray


def _fit_line(t: np.ndarray, y: np.ndarray, w: np.ndarray, sigma_floor: float) -> _Line:
    """Weighted least squares ``y = a + b t`` with standard errors."""
    tc = float(np.average(t, weights=w))
    design = np.stack([np.ones_like(t), t - tc], axis=1)
    wd = design * w[:, None]
    normal = design.T @ wd
    coef = np.linalg.solve(normal, wd.T @ y)
    res = y - design @ coef
    dof = max(len(t) - 2, 1)
    s2 = max(float(np.sum(w * res**2) / np.sum(w) * len(t) / dof), sigma_floor**2)
    cov_c = s2 * np.linalg.inv(normal / np.mean(w))
    # back to (a, b) at t = 0: a = c0 - b tc
    jac = np.array([[1.0, -tc], [0.0, 1.0]])
    cov = jac @ cov_c @ jac.T
    rms = float(np.sqrt(np.average(res**2, weights=w)))
    return _Line(float(coef[0] - coef[1] * tc), float(coef[1]), cov, rms, np.ones(len(t), bool))


def _robust_line(
    t: np.ndarray,
    y: np.ndarray,
    w: np.ndarray,
    tol: float,
    prior_rate: float,
    *,
    fit_rate: bool = True,
    sigma_floor: float = 0.0,
) -> _Line | None:
    """The line with the most weight within ``tol``, refitted on those points."""
    n = len(t)
    if n == 0:
        return None
    max_dev = MAX_DRIFT_PPM * 1e-6
    candidates = [(float(y[i] - prior_rate * t[i]), prior_rate) for i in range(n)]
    if fit_rate:
        strongest = np.sort(np.argsort(-w, kind="stable")[:_PROPOSERS])
        for i in strongest:
            for j in strongest[strongest > i]:
                if abs(t[j] - t[i]) < 1e-9:
                    continue
                b = (y[j] - y[i]) / (t[j] - t[i])
                if abs(b / prior_rate - 1) <= max_dev:
                    candidates.append((float(y[i] - b * t[i]), float(b)))
    best, best_score = None, -1.0
    for a, b in candidates:
        inl = np.abs(y - (a + b * t)) <= tol
        score = float(w[inl].sum())
        if score > best_score + 1e-12:
            best, best_score = inl, score
    assert best is not None
    inl = best
    for _ in range(3):
        ti, yi, wi = t[inl], y[inl], w[inl]
        if fit_rate and len(ti) >= 3 and np.ptp(ti) > 0:
            line = _fit_line(ti, yi, wi, sigma_floor)
        else:
            a = float(np.average(yi - prior_rate * ti, weights=wi))
            res = yi - (a + prior_rate * ti)
            rms = float(np.sqrt(np.average(res**2, weights=wi)))
            s = max(rms, sigma_floor)
            var = s**2 / max(len(ti) - 1, 1) if len(ti) > 1 else s**2
            line = _Line(a, prior_rate, np.array([[var, 0.0], [0.0, np.nan]]), rms, inl)
        new = np.abs(y - (line.a + line.b * t)) <= tol
        if new.sum() < 1 or np.array_equal(new, inl):
            break
        inl = new
    return _Line(line.a, line.b, line.cov, line.residual, inl)


# -- audio against audio ------------------------------------------------------------------------


def _estimate_audio_pair(s: _Signal, r: _Signal, prior_rate: float) -> dict[str, Any]:
    env_s, env_r = s.envelope(), r.envelope()
    if env_s.step != env_r.step:  # different sample rates: the stream on the reference's step
        t = env_s.start + env_r.step * np.arange(int((env_s.end - env_s.start) / env_r.step))
        env_s = _Envelope(np.interp(t, env_s.times, env_s.values), env_s.start, env_r.step)
    step = env_r.step
    dur = min(env_s.end - env_s.start, env_r.end - env_r.start)
    win = float(np.clip(dur / 4, 2.0, 20.0))
    n_win = max(1, round(win / step))
    hop_win = max(1, n_win // 2)
    starts = list(range(0, max(1, len(env_s.values) - n_win + 1), hop_win))
    if len(starts) > 80:
        starts = [starts[i] for i in np.linspace(0, len(starts) - 1, 80).round().astype(int)]
    t_c, lag_t, psrs = [], [], []
    active = np.array([np.var(env_s.values[k : k + n_win]) for k in starts])
    usable = active > 0.02 * (np.median(active) + 1e-30)
    for k, ok in zip(starts, usable, strict=True):
        if not ok:
            continue
        seg = env_s.values[k : k + n_win]
        if len(seg) < 8:
            continue
        c = _ncc(seg, env_r.values, min_overlap=int(0.75 * len(seg)))
        i = int(np.argmax(c))
        pos = _parabolic(c, i)
        lag = pos - (len(seg) - 1)
        # window centre (stream time) and where it sits on the reference
        tc = env_s.start + (k + (len(seg) - 1) / 2) * step
        tr = env_r.start + (lag + (len(seg) - 1) / 2) * step
        t_c.append(tc)
        lag_t.append(tr)
        psrs.append(_psr(c, i, exclude=max(3, round(0.05 / step))))
    out: dict[str, Any] = {"method": "audio-xcorr", "coarse_windows": len(t_c)}
    if not t_c:
        return {**out, "relative": Clock(0.0, prior_rate), "confidence": 0.0, "windows": 0}
    tc_a, tr_a = np.array(t_c), np.array(lag_t)
    psr_a = np.array(psrs)
    weight = np.clip(psr_a - 4.0, 0.0, None)
    good = weight > 0
    if not good.any():
        best = int(np.argmax(psr_a))
        rel = Clock(float(tr_a[best] - prior_rate * tc_a[best]), prior_rate)
        return {**out, "relative": rel, "confidence": 0.0, "windows": 0, "psr": float(psr_a.max())}
    line = _robust_line(
        tc_a[good],
        tr_a[good],
        weight[good],
        tol=3 * step,
        prior_rate=prior_rate,
        fit_rate=good.sum() >= 3,
        sigma_floor=step / 4,
    )
    assert line is not None
    n_in = int(line.inliers.sum())
    # windows that should have matched: those the line puts inside the reference
    half_win = n_win * step / 2
    on_ref = (line.a + line.b * tc_a >= env_r.start + half_win) & (
        line.a + line.b * tc_a <= env_r.end - half_win
    )
    median_psr = float(np.median(psr_a[good][line.inliers]))
    coarse_conf = min(1.0, n_in / max(1, int(on_ref.sum()))) * _saturate(median_psr, 5.0, 12.0)
    out.update(coarse_psr=median_psr, coarse_inliers=n_in)
    fine = _refine_audio(s, r, env_s, line, margin=max(0.004, 4 * line.residual))
    if fine is None:
        return {
            **out,
            "relative": Clock(line.a, line.b),
            "confidence": coarse_conf,
            "windows": n_in,
            "offset_error": math.sqrt(max(float(line.cov[0, 0]), 0.0)),
            "rate_error": _rate_err(line),
            "residual": line.residual,
            "rate_estimated": math.isfinite(_rate_err(line)),
        }
    conf = coarse_conf * _saturate(fine["ncc"], 0.2, 0.6) * fine["share"]
    return {**out, **fine, "confidence": float(np.clip(conf, 0, 1))}


def _rate_err(line: _Line) -> float:
    v = float(line.cov[1, 1])
    return math.sqrt(v) if math.isfinite(v) and v >= 0 else math.nan


def _saturate(x: float, lo: float, hi: float) -> float:
    return float(np.clip((x - lo) / (hi - lo), 0.0, 1.0))


def _refine_audio(
    s: _Signal, r: _Signal, env_s: _Envelope, coarse: _Line, margin: float
) -> dict[str, Any] | None:
    """Raw-sample refinement of the coarse line in windows around strong onsets.

    When the windows cannot pin the rate (too few, too close), the coarse
    line's rate (or the prior it kept) stays, with its error.
    """
    a, b = coarse.a, coarse.b
    xs, xr = s.audio(), r.audio()
    sr = xs.rate
    half = int(_FINE_WINDOW * sr / 2)
    s_end = xs.start + len(xs.samples) / sr
    r_end = xr.start + len(xr.samples) / xr.rate
    # stream times whose reference counterpart exists, with room for the window
    lo_t = max(xs.start, (xr.start - a) / b) + _FINE_WINDOW
    hi_t = min(s_end, (r_end - a) / b) - _FINE_WINDOW
    if hi_t <= lo_t:
        return None
    times = env_s.times
    inside = (times >= lo_t) & (times <= hi_t)
    if not inside.any():
        return None
    idx = np.flatnonzero(inside)
    vals = env_s.values[idx]
    thr = np.median(env_s.values) + 3 * np.median(np.abs(env_s.values - np.median(env_s.values)))
    centres = []
    for part in np.array_split(np.arange(len(idx)), min(_FINE_COUNT, len(idx))):
        if len(part) == 0:
            continue
        k = part[int(np.argmax(vals[part]))]
        if vals[k] > thr:
            centres.append(float(times[idx[k]]) + 0.05)  # the onset a little before the centre
    if len(centres) < 1:
        return None
    result = None
    for _ in range(2):
        pts = _fine_points(xs, xr, centres, a, b, half, margin)
        if pts is None:
            return result
        tc, tr, ncc = pts
        good = ncc >= 0.2
        if not good.any():
            return result
        span = np.ptp(tc[good]) if good.sum() > 1 else 0.0
        fit_rate = good.sum() >= 3 and span > 4 * _FINE_WINDOW
        tol = max(5e-4, 10 / sr)
        line = _robust_line(
            tc[good],
            tr[good],
            ncc[good],
            tol=tol,
            prior_rate=b,
            fit_rate=fit_rate,
            sigma_floor=0.02 / sr,
        )
        if line is None:
            return result
        settled = abs(line.b - b) * _FINE_WINDOW < 0.05 / sr  # no stretch left to correct
        a, b = line.a, line.b
        margin = max(20 / sr, 6 * line.residual)
        n_in = int(line.inliers.sum())
        strongest = int(np.argmax(np.where(good, ncc, -1)))
        result = {
            "relative": Clock(a, b),
            "offset_error": math.sqrt(max(float(line.cov[0, 0]), 0.0)),
            "rate_error": _rate_err(line) if fit_rate else _rate_err(coarse),
            "residual": line.residual,
            "windows": n_in,
            "rate_estimated": bool(fit_rate) or math.isfinite(_rate_err(coarse)),
            "ncc": float(np.median(ncc[good][line.inliers])),
            "share": n_in / len(tc),
            "evidence_stream_time": float(tc[strongest]),
        }
        if settled:
            break
    return result


def _fine_points(
    xs: _Audio, xr: _Audio, centres: list[float], a: float, b: float, half: int, margin: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
    sr = xs.rate
    m = max(2, math.ceil(margin * sr))
    taper = np.hanning(2 * half)
    out_t, out_r, out_c = [], [], []
    for tc in centres:
        c0 = round((tc - xs.start) * sr)
        i0, i1 = c0 - half, c0 + half
        if i0 < 0 or i1 > len(xs.samples):
            continue
        x = xs.samples[i0:i1].astype(np.float64)
        x0 = x - x.mean()
        x = x0 * taper
        t_y = xs.start + np.arange(i0 - m, i1 + m) / sr  # stream times
        pos = (a + b * t_y - xr.start) * xr.rate
        if pos[0] < 0 or pos[-1] > len(xr.samples) - 1:
            continue
        y = _sinc_interp(xr.samples, pos)
        nx, ny = len(x), len(y)
        nfft = 1 << (nx + ny).bit_length()
        spec = np.conj(np.fft.rfft(x, nfft)) * np.fft.rfft(y, nfft)
        full = np.fft.irfft(spec, nfft)[: 2 * m + 1]  # lags 0 .. 2m samples (y starts m early)
        i = int(np.argmax(full))
        # band-limited interpolation of the correlation around its peak, then a parabola
        fine_pos = i + np.arange(-2 * _UPSAMPLE, 2 * _UPSAMPLE + 1) / _UPSAMPLE
        c = _sinc_interp(full, fine_pos)
        k = int(np.argmax(c))
        pos_peak = float(fine_pos[0]) + _parabolic(c, k) / _UPSAMPLE
        d = (pos_peak - m) / sr  # stream seconds: x(t) ~ y(t + d)
        norm = math.sqrt(float(np.sum(taper * x0**2)) * float(np.sum(taper * y[m : m + nx] ** 2)))
        out_t.append(tc)
        out_r.append(a + b * (tc + d))
        out_c.append(float(c[k] / norm) if norm > 0 else 0.0)
    if not out_t:
        return None
    return np.array(out_t), np.array(out_r), np.array(out_c)


# -- audio/visual events ------------------------------------------------------------------------


def _peaks(
    v: np.ndarray, times: np.ndarray, min_gap: float, k: float, limit: int = 400
) -> np.ndarray:
    """The ``limit`` strongest local maxima at least ``min_gap`` s apart, in time order.

    A peak must exceed median + k·MAD of ``v`` and a fifth of the tenth-strongest
    local maximum (so one very loud bang does not hide the other events).
    """
    if len(v) < 3:
        return np.zeros(0, dtype=int)
    med = float(np.median(v))
    mad = float(np.median(np.abs(v - med))) + 1e-12
    local = np.flatnonzero((v[1:-1] >= v[:-2]) & (v[1:-1] > v[2:])) + 1
    if len(local) == 0:
        return np.zeros(0, dtype=int)
    top = np.sort(v[local])[-min(10, len(local))]
    thr = max(med + k * 1.4826 * mad, 0.2 * float(top))
    local = local[v[local] > thr]
    chosen_t: list[float] = []  # sorted times of the peaks kept so far
    chosen: list[int] = []
    for i in local[np.argsort(-v[local], kind="stable")]:
        t = float(times[i])
        j = bisect.bisect_left(chosen_t, t)
        if (j > 0 and t - chosen_t[j - 1] < min_gap) or (
            j < len(chosen_t) and chosen_t[j] - t < min_gap
        ):
            continue
        chosen_t.insert(j, t)
        chosen.append(int(i))
        if len(chosen) >= limit:
            break
    return np.array(sorted(chosen), dtype=int)


def _audio_onset_time(audio: _Audio, around: float, search: float) -> tuple[float, float] | None:
    """Start of the strongest attack within ±search of ``around``: (time, strength)."""
    sr = audio.rate
    i0 = max(0, round((around - search - 0.03 - audio.start) * sr))
    i1 = min(len(audio.samples), round((around + search + 0.03 - audio.start) * sr))
    if i1 - i0 < sr * 0.01:
        return None
    x = audio.samples[i0:i1].astype(np.float64)
    w = max(1, round(sr * 0.001))
    e = np.convolve(x * x, np.ones(w) / w, mode="same")
    # the largest rise of the envelope over 5 ms
    lag = max(1, round(sr * 0.005))
    rise = np.zeros_like(e)
    rise[lag:] = e[lag:] - e[:-lag]
    lo = round(0.03 * sr)
    j = (
        lo + int(np.argmax(rise[lo : len(rise) - lo]))
        if len(rise) > 2 * lo
        else int(np.argmax(rise))
    )
    before = float(np.median(e[max(0, j - round(0.03 * sr)) : max(1, j - lag)]))
    peak = float(e[j : j + round(0.02 * sr)].max()) if j < len(e) else float(e[j - 1])
    if peak <= before:
        return None
    level = before + 0.25 * (peak - before)
    k = j - lag
    while k > 0 and e[k] > level:
        k -= 1
    while k < len(e) - 1 and e[k] < level:
        k += 1
    return audio.start + (i0 + k) / sr, peak / (before + 1e-12)


def _events(sig: _Signal, k: float = 6.0, limit: int = 400) -> tuple[np.ndarray, np.ndarray]:
    """Candidate events of one side: times and strengths in [0, 1] (1: among the 3 strongest)."""
    if sig.kind == "visual":
        v = sig.visual()
        vals, times = v.onset, v.times
        idx = _peaks(vals, times, min_gap=0.2, k=k, limit=limit)
    else:
        env = sig.envelope()
        vals, times = env.values, env.times
        idx = _peaks(vals, times, min_gap=0.1, k=k, limit=limit)
    if len(idx) == 0:
        return times[idx], vals[idx]
    top = np.sort(vals[idx])[-min(3, len(idx))]
    return times[idx], np.clip(vals[idx] / max(float(top), 1e-12), 0.0, 1.0)


def _estimate_event_pair(s: _Signal, r: _Signal, prior_rate: float) -> dict[str, Any]:
    """At least one side visual: pair events (flashes with claps); the best-agreeing offset wins.

    Each pairing of one of the strongest stream events with one of the
    strongest reference events proposes an offset; a proposal scores the
    strength products of all the events it pairs within half a frame. The
    winner's pairs (the tolerance widening by 200 ppm of the distance from its
    strongest pair, for drift) are timed precisely — audio onsets from the
    raw samples, frames by their start — and a robust line is fitted.
    """
    method = "motion-motion" if s.kind == r.kind else "onset-motion"
    step = (s if s.kind == "visual" else r).visual().step
    ts, ws = _events(s)
    tr, wr = _events(r)
    ws, wr = ws**2, wr**2  # strong events (flash, clap) dominate weak coincidences
    out: dict[str, Any] = {"method": method}
    if len(ts) == 0 or len(tr) == 0:
        return {
            **out,
            "relative": Clock(0.0, prior_rate),
            "confidence": 0.0,
            "windows": 0,
            "rate_estimated": False,
        }
    order = np.argsort(tr)
    tr, wr = tr[order], wr[order]
    top_s = np.argsort(-ws)[:_PROPOSERS]
    top_r = np.argsort(-wr)[:_PROPOSERS]
    cand = (tr[top_r][None, :] - prior_rate * ts[top_s][:, None]).ravel()  # t_ref - b t_stream
    cand = np.unique(np.round(cand / (step / 8)) * (step / 8))
    tol = step / 2
    best_w = _best_within(tr, wr, cand[:, None] + prior_rate * ts[None, :], tol)
    score = (best_w * ws[None, :]).sum(axis=1)
    ib = int(np.argmax(score))
    a0 = float(cand[ib])
    far = np.abs(cand - a0) > 2 * step
    rest = score[far]
    psr = 0.0
    if len(rest) > 10 and rest.std() > 0:
        psr = float((score[ib] - rest.mean()) / rest.std())
    out.update(score=float(score[ib]), second_score=float(rest.max(initial=0.0)), psr=psr)
    # the winner's pairs; farther from its strongest pair, allow for drift
    products = best_w[ib] * ws
    anchor = float(ts[int(np.argmax(products))])
    widen = np.minimum(tol + 2e-4 * np.abs(ts - anchor), 3 * step)
    audio_s = s.audio() if s.kind == "audio" else None
    audio_r = r.audio() if r.kind == "audio" else None
    pairs: list[tuple[float, float]] = []
    weights: list[float] = []
    for i, t_s in enumerate(ts):
        guess = a0 + prior_rate * t_s
        near = np.flatnonzero(np.abs(tr - guess) <= widen[i])
        if len(near) == 0:
            continue
        j = int(near[np.argmax(wr[near])])
        if ws[i] * wr[j] < 0.1 * products.max():
            continue  # a weak coincidence, not evidence
        pairs.append((_precise(audio_s, float(t_s)), _precise(audio_r, float(tr[j]))))
        weights.append(float(ws[i] * wr[j]))
    quant = step / math.sqrt(12)
    p = np.array(pairs)
    xs, ys = p[:, 0], p[:, 1]
    span = float(np.ptp(xs)) if len(xs) > 1 else 0.0
    # estimate the rate only if the events pin it to better than 100 ppm
    fit_rate = len(xs) >= 3 and span > 0 and quant / (span * math.sqrt(len(xs)) / 2) < 1e-4
    line = _robust_line(
        xs,
        ys,
        np.array(weights),
        tol=step,
        prior_rate=prior_rate,
        fit_rate=fit_rate,
        sigma_floor=quant,
    )
    assert line is not None
    n_in = int(line.inliers.sum())
    conf = min(1.0, n_in / 3) * _saturate(psr, 4.0, 10.0)
    first = int(np.flatnonzero(line.inliers)[0])
    return {
        **out,
        "relative": Clock(line.a, line.b),
        "offset_error": math.sqrt(max(float(line.cov[0, 0]), 0.0)),
        "rate_error": _rate_err(line) if fit_rate else math.nan,
        "residual": line.residual,
        "windows": n_in,
        "rate_estimated": bool(fit_rate),
        "confidence": float(conf),
        "evidence_stream_time": float(xs[first]),
        "events": p.tolist(),
    }


def _best_within(
    times: np.ndarray, weights: np.ndarray, pred: np.ndarray, tol: float
) -> np.ndarray:
    """Per predicted time, the largest weight of a (sorted) event within ``tol`` (0: none)."""
    lo = np.searchsorted(times, pred - tol)
    hi = np.searchsorted(times, pred + tol)
    best = np.zeros(pred.shape)
    for k in range(int((hi - lo).max()) if hi.size else 0):
        j = lo + k
        best = np.where(j < hi, np.maximum(best, weights[np.minimum(j, len(weights) - 1)]), best)
    return best


def _precise(audio: _Audio | None, t: float) -> float:
    """An event's time: a frame's start (no audio), or the attack in the raw audio near ``t``."""
    if audio is None:
        return t
    hit = _audio_onset_time(audio, t, 0.012)
    return t if hit is None else hit[0]


# -- streams ------------------------------------------------------------------------------------


def _timed_media_streams(item: Item) -> list[Stream]:
    return [st for st in item.streams.values() if st.modality in _SYNC_MODALITIES and st.uri]


def choose_reference(item: Item) -> Stream:
    """The reference: the first audio stream, else a video with an audio track, else a video."""
    cands = _timed_media_streams(item)
    for st in cands:
        if st.modality == "audio":
            return st
    for st in cands:
        if st.modality == "video" and os.path.isfile(st.uri or "") and _has_audio_track(st.uri):
            return st
    for st in cands:
        return st
    raise ValidationError(
        f"item {item.id!r}", "an audio or video stream with media to synchronise against", None
    )


def _usable(item: Item, name: str, where: str) -> Stream:
    st = item.stream(name)  # NotFoundError names the stream and the item's streams
    if st.modality not in _SYNC_MODALITIES:
        raise ValidationError(
            where, f"an audio or video stream of item {item.id!r}", f"{st.modality} stream {name!r}"
        )
    if not st.uri:
        raise MissingMediaError(
            where, f"a media file for stream {item.id}/{name}", "a stream without media"
        )
    if not os.path.isfile(st.uri):
        raise MissingMediaError(
            where, f"the media file of stream {item.id}/{name} to exist", st.uri
        )
    return st


def _signal(st: Stream, role: str, signal: str) -> _Signal:
    """What ``st`` contributes: its samples, its video's audio track, or its picture."""
    path = st.uri or ""
    key = _file_key(path)
    if st.modality == "audio":
        return _Signal("audio", key, path)
    wants_track = role == "reference" or signal == "audio"
    if wants_track and _has_audio_track(path):
        return _Signal("audio", (*key, "track"), path, track=True)
    if signal == "audio" and role == "stream":
        raise UnsupportedMediaError(
            path, f"an audio track in video stream {st.item}/{st.name}", "no audio track"
        )
    return _Signal("visual", key, path)


def estimate_clock(
    session: Session,
    item: str,
    stream: str,
    reference: str | None = None,
    *,
    signal: str = "auto",
) -> SyncEstimate:
    """Estimate the clock of ``stream`` from its signal against ``reference``.

    ``reference``: a stream of the same item (default: :func:`choose_reference`).
    ``signal`` (for a video ``stream``): ``"auto"``/``"motion"`` compares its
    picture (visual onsets), ``"audio"`` its own audio track. A reference video
    contributes its audio track when it has one, its picture otherwise.

    Raises :class:`~accord.errors.NotFoundError` for an unknown item or stream,
    :class:`~accord.errors.ValidationError` for a stream that is not audio or
    video (or is its own reference), :class:`~accord.errors.MediaError` for a
    stream without usable media.
    """
    if signal not in ("auto", "motion", "audio"):
        raise ValidationError("estimate_clock(signal)", "'auto', 'motion' or 'audio'", signal)
    it = session.item(item)
    st = _usable(it, stream, f"estimate_clock(stream={stream!r})")
    if reference is None:
        ref = choose_reference(it)
    else:
        ref = _usable(it, reference, f"estimate_clock(reference={reference!r})")
    if ref.name == st.name:
        raise ValidationError(
            f"estimate_clock(stream={stream!r})",
            "a stream other than the reference (pass reference= another stream)",
            stream,
        )
    sig_s = _signal(st, "stream", signal)
    sig_r = _signal(ref, "reference", signal)
    # prior: the relative rate the stored clocks imply (kept when the rate cannot be measured)
    prior = st.clock.rate / ref.clock.rate
    key = ("estimate", sig_s.key, sig_s.kind, sig_r.key, sig_r.kind)

    def run() -> dict[str, Any]:
        if sig_s.kind == "audio" and sig_r.kind == "audio":
            return {**_estimate_audio_pair(sig_s, sig_r, prior), "prior": prior}
        return {**_estimate_event_pair(sig_s, sig_r, prior), "prior": prior}

    res = _cached(key, run)
    if not res.get("rate_estimated") and res["prior"] != prior:  # it kept another stored rate
        res = run()
        _store(key, res)
    rel: Clock = res["relative"]
    clock = rel.then(ref.clock)
    rate_estimated = bool(res.get("rate_estimated", False))
    evidence = res.get("evidence_stream_time")
    return SyncEstimate(
        item=item,
        stream=st.name,
        reference=ref.name,
        offset=clock.offset,
        rate=clock.rate,
        offset_error=float(res.get("offset_error", math.nan)) * ref.clock.rate,
        rate_error=float(res.get("rate_error", math.nan)) * ref.clock.rate
        if rate_estimated
        else math.nan,
        residual=float(res.get("residual", math.nan)),
        confidence=float(res.get("confidence", 0.0)),
        method=str(res["method"]),
        windows=int(res.get("windows", 0)),
        stored=st.clock,
        relative=rel,
        rate_estimated=rate_estimated,
        evidence_time=None if evidence is None else float(clock.to_item(evidence)),
        duration=st.duration,
        details={k: v for k, v in res.items() if k not in ("relative", "prior")},
    )


def _tolerance(item: Item) -> float:
    """Half a frame of the item's (first) video, or 10 ms without one."""
    for st in item.streams.values():
        if st.modality == "video" and st.timeline is not None and st.timeline.count > 1:
            return 0.5 * float(np.median(np.diff(st.timeline.timestamps)))
    return 0.010


def _is_suspect(
    est: SyncEstimate, tolerance: float, drift_tolerance_ppm: float, min_confidence: float
) -> bool:
    if not est.confidence >= min_confidence:
        return False
    tol = max(tolerance, 2 * est.offset_error) if math.isfinite(est.offset_error) else tolerance
    if est.misalignment() > tol:
        return True
    if est.rate_estimated and math.isfinite(est.rate_error):
        drift = abs(est.drift_ppm)
        return drift > drift_tolerance_ppm and drift > 3 * est.rate_error * 1e6
    return False


def estimate_sync(
    session: Session,
    item: str | Iterable[str] | None = None,
    *,
    reference: str | None = None,
    tolerance: float | None = None,
    drift_tolerance_ppm: float = DRIFT_TOLERANCE_PPM,
    min_confidence: float = MIN_CONFIDENCE,
) -> pd.DataFrame:
    """One row per non-reference audio/video stream: stored and estimated clock.

    Columns: see :data:`SYNC_COLUMNS`. ``offset_correction`` is what to add to
    the stored offset, ``drift_ppm`` the estimated minus stored rate (ppm);
    ``suspect`` is what ``s.check()`` would flag (tolerances as in
    :func:`sync_suspicions`). ``item``: an id or ids (default: every item);
    ``reference``: the stream to compare against (default: each item's
    :func:`choose_reference`). Items with fewer than two audio/video streams
    with media have no rows. Unreadable media and a bad ``reference`` raise
    the errors of :func:`estimate_clock` (``s.check()`` skips them instead).
    """
    rows = []
    for est, suspect in _estimates(
        session, item, reference, tolerance, drift_tolerance_ppm, min_confidence, strict=True
    ):
        rows.append(
            {
                "item": est.item,
                "stream": est.stream,
                "reference": est.reference,
                "method": est.method,
                "stored_offset": est.stored.offset,
                "stored_rate": est.stored.rate,
                "offset": est.offset,
                "rate": est.rate,
                "offset_correction": est.correction,
                "drift_ppm": est.drift_ppm,
                "offset_error": est.offset_error,
                "rate_error_ppm": est.rate_error * 1e6,
                "confidence": est.confidence,
                "windows": est.windows,
                "suspect": suspect,
            }
        )
    return pd.DataFrame(rows, columns=list(SYNC_COLUMNS))


def _estimates(
    session: Session,
    items: str | Iterable[str] | None,
    reference: str | None,
    tolerance: float | None,
    drift_tolerance_ppm: float,
    min_confidence: float,
    *,
    strict: bool,
) -> Iterable[tuple[SyncEstimate, bool]]:
    if items is None:
        ids = list(session.items_by_id)
    elif isinstance(items, str):
        ids = [items]
    else:
        ids = list(items)
    for item_id in ids:
        it = session.item(item_id)
        streams = _timed_media_streams(it)
        if len(streams) < 2:
            continue  # nothing to compare: no media read
        try:
            ref = it.stream(reference) if reference is not None else choose_reference(it)
        except (MediaError, ValidationError, NotFoundError):
            if strict:
                raise
            continue
        tol = _tolerance(it) if tolerance is None else float(tolerance)
        for st in streams:
            if st.name == ref.name:
                continue
            try:
                est = estimate_clock(session, item_id, st.name, ref.name)
            except (MediaError, ValidationError):
                if strict:
                    raise
                continue  # unreadable media are outside_bounds'/the player's business
            yield est, _is_suspect(est, tol, drift_tolerance_ppm, min_confidence)


def sync_suspicions(
    session: Session,
    items: Iterable[str] | None = None,
    *,
    tolerance: float | None = None,
    drift_tolerance_ppm: float = DRIFT_TOLERANCE_PPM,
    min_confidence: float = MIN_CONFIDENCE,
) -> list[SyncSuspicion]:
    """What ``builtin:sync`` reports: streams whose stored clock disagrees with the estimate.

    A stream is suspect when the estimate's ``confidence`` is at least
    ``min_confidence`` (default 0.5) and either its stored clock puts some
    instant of the stream more than ``tolerance`` away from the estimate
    (default: half a frame of the item's video, else 10 ms; never less than
    twice the estimate's offset error), or the rate was estimated and differs
    from the stored one by more than ``drift_tolerance_ppm`` (default 100)
    and three standard errors. Agreeing clocks and low-confidence estimates
    (noise, silence, no visual events) report nothing. Items with fewer than
    two audio/video streams with media are skipped without reading anything;
    streams whose media cannot be read are skipped too.
    """
    out = []
    for est, suspect in _estimates(
        session,
        None if items is None else list(items),
        None,
        tolerance,
        drift_tolerance_ppm,
        min_confidence,
        strict=False,
    ):
        if not suspect:
            continue
        drift = est.drift_ppm if est.rate_estimated else None
        out.append(
            SyncSuspicion(
                item=est.item,
                stream=est.stream,
                reference=est.reference,
                offset=est.correction,
                drift_ppm=drift,
                confidence=est.confidence,
                item_time=est.evidence_time,
                message=_message(est),
            )
        )
    return out


def _message(est: SyncEstimate) -> str:
    parts = [
        f"add {est.correction:+.4f} s to its offset ({est.stored.offset:g} → {est.offset:.4f})"
    ]
    if est.rate_estimated:
        parts.append(f"rate {est.stored.rate:g} → {est.rate:.6f} (drift {est.drift_ppm:+.1f} ppm)")
    return (
        f"Stream {est.stream!r} of {est.item!r} seems out of sync with {est.reference!r}: "
        f"{'; '.join(parts)}; confidence {est.confidence:.2f} by {est.method}."
    )


@register_sync_estimator
def _check_estimator(session: Session, items: list[str]) -> list[SyncSuspicion]:
    """The estimator behind ``builtin:sync`` (default tolerances)."""
    return sync_suspicions(session, items)
