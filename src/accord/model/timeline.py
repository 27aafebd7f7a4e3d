"""Frame timelines: frame index ↔ stream time from a stream's real timestamps.

A video (or a point-cloud sequence) is a list of presentation timestamps,
one per frame, in stream seconds. Constant rates such as 30000/1001 are built
from the exact fraction, so frame ``n`` starts at ``start + n * 1001 / 30000``
without accumulated rounding; variable frame rates keep their real PTS.

Frame ``n`` covers ``[t[n], t[n+1])``; its centre is the safest seek target.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from typing import Any

import numpy as np

from accord.errors import ClockError, OutOfBoundsError

__all__ = ["FrameTimeline"]

# Timestamps within this many seconds are treated as equal (well below any
# real frame interval; absorbs float rounding of rational PTS).
_EPS = 1e-6


@dataclass(frozen=True, eq=False)
class FrameTimeline:
    """Presentation timestamps of every frame plus the end of the last one."""

    timestamps: np.ndarray
    end: float
    rate: Fraction | None = None

    def __post_init__(self) -> None:
        ts = np.asarray(self.timestamps, dtype=np.float64)
        if ts.ndim != 1 or ts.size == 0:
            raise ClockError("timeline.timestamps", "a non-empty 1-D array", ts.shape)
        if not np.all(np.isfinite(ts)):
            raise ClockError("timeline.timestamps", "finite seconds", "NaN or inf")
        if ts.size > 1 and np.any(np.diff(ts) <= 0):
            raise ClockError("timeline.timestamps", "strictly increasing timestamps", "repeats")
        if not np.isfinite(self.end) or self.end <= ts[-1]:
            raise ClockError("timeline.end", f"a time after the last frame ({ts[-1]})", self.end)
        ts.setflags(write=False)
        object.__setattr__(self, "timestamps", ts)
        object.__setattr__(self, "end", float(self.end))

    # -- construction -----------------------------------------------------
    @classmethod
    def constant(
        cls, rate: Fraction | float | str, count: int, start: float = 0.0
    ) -> FrameTimeline:
        """A constant-rate timeline; ``rate`` may be ``"30000/1001"``."""
        fr = _as_fraction(rate)
        if isinstance(count, bool) or not isinstance(count, int | np.integer) or count <= 0:
            raise ClockError("timeline.count", "a positive frame count", count)
        n = np.arange(count + 1, dtype=np.float64)
        times = start + n * (fr.denominator / fr.numerator)
        return cls(times[:-1], float(times[-1]), fr)

    @classmethod
    def from_timestamps(cls, timestamps: Any, end: float | None = None) -> FrameTimeline:
        """A timeline from real (possibly variable-rate) timestamps.

        Without ``end`` the last frame lasts as long as the median interval.
        """
        try:
            ts = np.sort(np.asarray(timestamps, dtype=np.float64))
        except (TypeError, ValueError) as exc:
            raise ClockError("timeline.timestamps", "numbers (seconds)", timestamps) from exc
        if ts.ndim != 1 or ts.size == 0:
            raise ClockError("timeline.timestamps", "a non-empty 1-D list of seconds", ts.shape)
        if end is None:
            step = float(np.median(np.diff(ts))) if ts.size > 1 else 1.0
            end = float(ts[-1]) + step
        rate = None
        if ts.size > 2:
            d = np.diff(ts)
            if np.ptp(d) < _EPS:
                rate = Fraction(1 / float(np.mean(d))).limit_denominator(1001)
        return cls(ts, end, rate)

    # -- queries ----------------------------------------------------------
    def __len__(self) -> int:
        return int(self.timestamps.size)

    @property
    def count(self) -> int:
        return int(self.timestamps.size)

    @property
    def start(self) -> float:
        return float(self.timestamps[0])

    @property
    def duration(self) -> float:
        return self.end - self.start

    @property
    def is_constant(self) -> bool:
        return self.rate is not None

    def _check_index(self, n: int, where: str = "frame") -> int:
        if isinstance(n, bool) or not isinstance(n, int | np.integer):
            raise OutOfBoundsError(where, "an integer frame index", n)
        if not 0 <= n < self.count:
            raise OutOfBoundsError(where, f"a frame index in [0, {self.count - 1}]", n)
        return int(n)

    def time_of(self, n: int) -> float:
        """Presentation time (start) of frame ``n``."""
        return float(self.timestamps[self._check_index(n)])

    def end_of(self, n: int) -> float:
        """End of frame ``n`` (start of the next one)."""
        n = self._check_index(n)
        return float(self.timestamps[n + 1]) if n + 1 < self.count else self.end

    def centre_of(self, n: int) -> float:
        """Middle of frame ``n``: where a player should seek to show it."""
        return 0.5 * (self.time_of(n) + self.end_of(n))

    def index_at(self, t: float, *, clamp: bool = False) -> int:
        """The frame shown at stream time ``t``.

        Raises :class:`OutOfBoundsError` outside ``[start, end)`` unless
        ``clamp`` is true.
        """
        if not np.isfinite(t):
            raise OutOfBoundsError("time", "a finite number of seconds", t)
        if t < self.start - _EPS or t >= self.end:
            if not clamp:
                raise OutOfBoundsError("time", f"a time in [{self.start:.6f}, {self.end:.6f}) s", t)
            return 0 if t < self.start else self.count - 1
        i = int(np.searchsorted(self.timestamps, t + _EPS, side="right")) - 1
        return min(max(i, 0), self.count - 1)

    def indices_at(self, t: np.ndarray) -> np.ndarray:
        """Vectorised :meth:`index_at` with clamping."""
        i = np.searchsorted(self.timestamps, np.asarray(t, dtype=np.float64) + _EPS, "right") - 1
        return np.clip(i, 0, self.count - 1)

    def nearest(self, t: float) -> int:
        """The frame whose start is nearest to ``t`` (for matching sensors)."""
        i = int(np.searchsorted(self.timestamps, t))
        if i <= 0:
            return 0
        if i >= self.count:
            return self.count - 1
        before, after = self.timestamps[i - 1], self.timestamps[i]
        return i - 1 if t - before <= after - t else i

    # -- persistence ------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        if self.rate is not None:
            return {
                "rate": f"{self.rate.numerator}/{self.rate.denominator}",
                "count": self.count,
                "start": self.start,
            }
        return {"timestamps": self.timestamps.tolist(), "end": self.end}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> FrameTimeline:
        if "rate" in data:
            return cls.constant(data["rate"], int(data["count"]), float(data.get("start", 0.0)))
        return cls(np.asarray(data["timestamps"], dtype=np.float64), float(data["end"]))


def _as_fraction(rate: Fraction | float | str) -> Fraction:
    try:
        fr = (
            Fraction(rate)
            if not isinstance(rate, float)
            else Fraction(rate).limit_denominator(1001)
        )
    except (ValueError, ZeroDivisionError, TypeError) as exc:
        raise ClockError("timeline.rate", "a frame rate like 30000/1001 or 25", rate) from exc
    if fr <= 0:
        raise ClockError("timeline.rate", "a positive frame rate", rate)
    return fr
