"""Items and their streams.

An :class:`Item` is one unit of work (a clip, a scene, a document). It groups
:class:`Stream` objects, one per modality source, each with its own :class:`Clock`
into the item's timeline, and — for video and point-cloud sequences — a
:class:`FrameTimeline` of real timestamps.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from typing import Any

from accord.errors import OutOfBoundsError, ValidationError
from accord.model.calibration import Calibration
from accord.model.clock import Clock
from accord.model.taxonomy import MODALITIES
from accord.model.timeline import FrameTimeline

__all__ = ["Item", "Stream", "check_id"]

_ID = re.compile(r"^[A-Za-z0-9_.:@+-][A-Za-z0-9_.:@+ -]{0,199}$")


def check_id(value: Any, where: str) -> str:
    """Validate an identifier (items, streams): letters, digits, ``_.:@+-``."""
    if not isinstance(value, str) or not _ID.match(value) or value != value.strip():
        raise ValidationError(where, "an id of letters, digits and _.:@+- (1–200 chars)", value)
    return value


@dataclass(frozen=True, eq=False)
class Stream:
    """One modality's data inside an item, with its own clock.

    ``duration`` is in stream seconds (``None`` for images and untimed text).
    ``timeline`` lists frame (or sweep) timestamps for video and point clouds.
    ``width``/``height`` give the pixel size of images and video frames.
    ``text`` holds the content of a text stream (offsets index into it).
    """

    item: str
    name: str
    modality: str
    uri: str | None = None
    clock: Clock = field(default_factory=Clock)
    timeline: FrameTimeline | None = None
    duration: float | None = None
    width: int | None = None
    height: int | None = None
    sample_rate: int | None = None
    sensor: str | None = None
    text: str | None = None
    meta: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        check_id(self.item, "stream.item")
        check_id(self.name, "stream.name")
        if self.modality not in MODALITIES:
            raise ValidationError("stream.modality", f"one of {list(MODALITIES)}", self.modality)
        if self.duration is None and self.timeline is not None:
            object.__setattr__(self, "duration", self.timeline.end)

    @property
    def key(self) -> tuple[str, str]:
        return (self.item, self.name)

    @property
    def frame_count(self) -> int | None:
        return self.timeline.count if self.timeline is not None else None

    def with_clock(self, clock: Clock) -> Stream:
        return replace(self, clock=clock)

    # -- bounds used when validating annotations --------------------------------
    def check_time(self, t: float, where: str) -> None:
        """Raise unless ``t`` (stream seconds) lies within the stream."""
        if self.duration is None:
            return
        start = self.timeline.start if self.timeline is not None else 0.0
        if not (start - 1e-6 <= t <= self.duration + 1e-6):
            raise OutOfBoundsError(
                where,
                f"a time in [{start:g}, {self.duration:g}] s of stream {self.item}/{self.name}",
                t,
            )

    def check_frame(self, frame: int, where: str) -> None:
        if self.timeline is None:
            raise OutOfBoundsError(
                where,
                f"no frame index: {self.modality} stream {self.item}/{self.name} has no frames",
                frame,
            )
        if (
            isinstance(frame, bool)
            or not isinstance(frame, int)
            or not 0 <= frame < self.timeline.count
        ):
            raise OutOfBoundsError(where, f"a frame index in [0, {self.timeline.count - 1}]", frame)

    def to_record(self) -> dict[str, Any]:
        """A flat row for the ``streams`` view."""
        return {
            "item": self.item,
            "stream": self.name,
            "modality": self.modality,
            "uri": self.uri,
            "offset": self.clock.offset,
            "rate": self.clock.rate,
            "duration": self.duration,
            "frames": self.frame_count,
            "width": self.width,
            "height": self.height,
            "sample_rate": self.sample_rate,
            "sensor": self.sensor,
        }

    def to_dict(self) -> dict[str, Any]:
        return {
            "item": self.item,
            "name": self.name,
            "modality": self.modality,
            "uri": self.uri,
            "clock": self.clock.to_dict(),
            "timeline": self.timeline.to_dict() if self.timeline is not None else None,
            "duration": self.duration,
            "width": self.width,
            "height": self.height,
            "sample_rate": self.sample_rate,
            "sensor": self.sensor,
            "text": self.text,
            "meta": self.meta,
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Stream:
        tl = d.get("timeline")
        return cls(
            item=d["item"],
            name=d["name"],
            modality=d["modality"],
            uri=d.get("uri"),
            clock=Clock.from_dict(d.get("clock") or {}),
            timeline=FrameTimeline.from_dict(tl) if tl else None,
            duration=d.get("duration"),
            width=d.get("width"),
            height=d.get("height"),
            sample_rate=d.get("sample_rate"),
            sensor=d.get("sensor"),
            text=d.get("text"),
            meta=d.get("meta") or {},
        )


@dataclass(frozen=True, eq=False)
class Item:
    """A unit of work grouping streams and sensor calibrations."""

    id: str
    streams: dict[str, Stream] = field(default_factory=dict)
    calibrations: dict[str, Calibration] = field(default_factory=dict)
    meta: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        check_id(self.id, "item.id")

    def stream(self, name: str) -> Stream:
        from accord.errors import NotFoundError

        try:
            return self.streams[name]
        except KeyError:
            raise NotFoundError(
                "stream", f"a stream of item {self.id!r} ({sorted(self.streams)})", name
            ) from None

    @property
    def duration(self) -> float | None:
        """Extent of the item timeline covered by its timed streams."""
        ends = [
            s.clock.to_item(s.duration) for s in self.streams.values() if s.duration is not None
        ]
        return max(ends) if ends else None
