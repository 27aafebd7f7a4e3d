"""Stream clocks: how a stream's own time maps onto its item's timeline.

``t_item = offset + rate * t_stream``. ``offset`` is in seconds, ``rate`` is
dimensionless (1.00015 means the stream's clock runs 150 ppm slow relative to
the item, i.e. one stream second lasts 1.00015 item seconds).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, overload

import numpy as np

from accord.errors import ClockError

__all__ = ["Clock"]


@dataclass(frozen=True, slots=True)
class Clock:
    """Affine map from stream time to item time."""

    offset: float = 0.0
    rate: float = 1.0

    def __post_init__(self) -> None:
        if isinstance(self.offset, bool) or not isinstance(self.offset, int | float):
            raise ClockError("clock.offset", "a number of seconds", self.offset)
        if isinstance(self.rate, bool) or not isinstance(self.rate, int | float):
            raise ClockError("clock.rate", "a positive number", self.rate)
        if not math.isfinite(self.offset):
            raise ClockError("clock.offset", "a finite number of seconds", self.offset)
        if not math.isfinite(self.rate) or self.rate <= 0:
            raise ClockError("clock.rate", "a finite number > 0", self.rate)
        object.__setattr__(self, "offset", float(self.offset))
        object.__setattr__(self, "rate", float(self.rate))

    @property
    def drift_ppm(self) -> float:
        """Drift in parts per million (``(rate - 1) * 1e6``)."""
        return (self.rate - 1.0) * 1e6

    @classmethod
    def from_drift(cls, offset: float = 0.0, drift_ppm: float = 0.0) -> Clock:
        """A clock from an offset in seconds and a drift in ppm."""
        return cls(offset=offset, rate=1.0 + drift_ppm * 1e-6)

    @overload
    def to_item(self, t_stream: float) -> float: ...
    @overload
    def to_item(self, t_stream: np.ndarray) -> np.ndarray: ...
    def to_item(self, t_stream: Any) -> Any:
        """Stream time (s) → item time (s); works on scalars and arrays."""
        return self.offset + self.rate * t_stream

    @overload
    def to_stream(self, t_item: float) -> float: ...
    @overload
    def to_stream(self, t_item: np.ndarray) -> np.ndarray: ...
    def to_stream(self, t_item: Any) -> Any:
        """Item time (s) → stream time (s); the inverse of :meth:`to_item`."""
        return (t_item - self.offset) / self.rate

    def then(self, other: Clock) -> Clock:
        """The composition ``other ∘ self`` (apply self first, then other)."""
        return Clock(other.offset + other.rate * self.offset, other.rate * self.rate)

    def inverse(self) -> Clock:
        """The clock mapping item time back to stream time."""
        return Clock(-self.offset / self.rate, 1.0 / self.rate)

    def to_dict(self) -> dict[str, float]:
        return {"offset": self.offset, "rate": self.rate}

    @classmethod
    def from_dict(cls, data: Any, where: str = "clock") -> Clock:
        """Parse ``{"offset": s, "rate": r}`` (either key optional)."""
        if isinstance(data, Clock):
            return data
        if not isinstance(data, dict):
            raise ClockError(where, "a mapping with 'offset' and 'rate'", data)
        unknown = set(data) - {"offset", "rate", "drift_ppm"}
        if unknown:
            raise ClockError(where, "only keys 'offset', 'rate' or 'drift_ppm'", sorted(unknown))
        if "drift_ppm" in data:
            if "rate" in data:
                raise ClockError(where, "either 'rate' or 'drift_ppm', not both", data)
            return cls.from_drift(data.get("offset", 0.0), data["drift_ppm"])
        return cls(data.get("offset", 0.0), data.get("rate", 1.0))
