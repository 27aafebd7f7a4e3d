"""Cuboid tracks across sweeps: keyframes and the cuboids interpolated between them.

A *track* is the set of cuboid annotations of one point-cloud stream that share
a ``track`` id. Every stored cuboid is a **keyframe**: nothing marks it as one,
and nothing interpolated is ever stored. On a sweep strictly between two
keyframes of a track the track's cuboid is *interpolated*:

* centre and size: linear in time (sweep timestamps when given, else the
  sweep index);
* yaw: along the shortest arc from the earlier keyframe's yaw to the later
  one's, wrapped to ``[-π, π)``.

Before the first and after the last keyframe a track shows nothing (no
extrapolation). Editing an interpolated cuboid in the viewer stores it as a
new keyframe of the track on that sweep. The same maths runs in the page
(``js/src/widgets/cloud_viewer/tracks.ts``), tested on the same cases.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from accord.errors import ValidationError
from accord.model.geometry import Cuboid

__all__ = [
    "TrackCuboid",
    "interpolate_cuboid",
    "interpolate_track",
    "shortest_arc",
    "sweep_cuboids",
    "wrap_angle",
]

TWO_PI = 2.0 * math.pi


def wrap_angle(a: float) -> float:
    """``a`` wrapped to ``[-π, π)``."""
    return a - TWO_PI * math.floor((a + math.pi) / TWO_PI)


def shortest_arc(a: float, b: float) -> float:
    """The signed turn from yaw ``a`` to yaw ``b`` along the shorter way, in ``[-π, π)``."""
    return wrap_angle(b - a)


def interpolate_cuboid(a: Cuboid, b: Cuboid, t: float) -> Cuboid:
    """The cuboid a fraction ``t`` ∈ [0, 1] of the way from ``a`` to ``b``."""
    if not (0.0 <= t <= 1.0) or math.isnan(t):
        raise ValidationError("interpolate_cuboid(t)", "a fraction in [0, 1]", t)
    center = tuple(p + t * (q - p) for p, q in zip(a.center, b.center, strict=True))
    size = tuple(p + t * (q - p) for p, q in zip(a.size, b.size, strict=True))
    yaw = wrap_angle(a.yaw + t * shortest_arc(a.yaw, b.yaw))
    return Cuboid(center, size, yaw)  # type: ignore[arg-type]


def _fraction(s0: int, s1: int, s: int, times: Sequence[float] | None) -> float:
    if times is not None:
        t0, t1 = float(times[s0]), float(times[s1])
        if t1 > t0:
            return min(1.0, max(0.0, (float(times[s]) - t0) / (t1 - t0)))
    return (s - s0) / (s1 - s0)


def interpolate_track(
    keyframes: Mapping[int, Cuboid], sweep: int, times: Sequence[float] | None = None
) -> Cuboid | None:
    """The track's cuboid on ``sweep``: the keyframe there, an interpolation, or None.

    ``keyframes`` maps sweep index → cuboid; ``times`` (optional) gives each
    sweep's timestamp so that irregular sweeps interpolate in time.
    """
    if sweep in keyframes:
        return keyframes[sweep]
    before = [k for k in keyframes if k < sweep]
    after = [k for k in keyframes if k > sweep]
    if not before or not after:
        return None
    s0, s1 = max(before), min(after)
    return interpolate_cuboid(keyframes[s0], keyframes[s1], _fraction(s0, s1, sweep, times))


@dataclass(frozen=True)
class TrackCuboid:
    """A cuboid shown on one sweep: a stored keyframe or an interpolated one."""

    cuboid: Cuboid
    label: str
    track: str | None
    annotator: str | None
    #: the stored annotation's id (None when interpolated)
    id: str | None
    #: ids of the keyframes it lies between (None for a keyframe)
    between: tuple[str, str] | None
    record: Mapping[str, Any] | None = None

    @property
    def interpolated(self) -> bool:
        return self.id is None

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "label": self.label,
            "track": self.track,
            "annotator": self.annotator,
            "geometry": self.cuboid.to_dict(),
            "interpolated": self.interpolated,
            "between": list(self.between) if self.between else None,
        }


def sweep_cuboids(
    records: Iterable[Mapping[str, Any]], sweep: int, times: Sequence[float] | None = None
) -> list[TrackCuboid]:
    """Cuboids to show on ``sweep``: its stored cuboids, then the tracks interpolated there.

    ``records`` are store annotation records (other kinds are ignored). A
    track's keyframes are its records ordered by sweep; when a track has two
    records on one sweep, the first one seen is its keyframe there.
    """
    shown: list[TrackCuboid] = []
    tracks: dict[str, dict[int, Mapping[str, Any]]] = {}
    for r in records:
        if r.get("kind") != "cuboid" or r.get("frame") is None:
            continue
        frame = int(r["frame"])
        if frame == sweep:
            shown.append(_stored(r))
        if r.get("track"):
            tracks.setdefault(str(r["track"]), {}).setdefault(frame, r)
    for track, keys in tracks.items():
        if sweep in keys:
            continue
        before = [k for k in keys if k < sweep]
        after = [k for k in keys if k > sweep]
        if not before or not after:
            continue
        s0, s1 = max(before), min(after)
        a, b = keys[s0], keys[s1]
        cub = interpolate_cuboid(
            Cuboid.from_value(a["geometry"]),
            Cuboid.from_value(b["geometry"]),
            _fraction(s0, s1, sweep, times),
        )
        shown.append(
            TrackCuboid(cub, a["label"], track, a.get("annotator"), None, (a["id"], b["id"]))
        )
    return shown


def _stored(r: Mapping[str, Any]) -> TrackCuboid:
    return TrackCuboid(
        Cuboid.from_value(r["geometry"]),
        r["label"],
        r.get("track"),
        r.get("annotator"),
        r["id"],
        None,
        r,
    )
