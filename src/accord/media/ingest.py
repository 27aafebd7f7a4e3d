"""Turn media paths given to ``Session.add_item`` into probed :class:`Stream` objects."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from accord.errors import ClockError, MissingMediaError, ValidationError
from accord.model.calibration import Calibration
from accord.model.clock import Clock
from accord.model.item import Stream, check_id
from accord.model.timeline import FrameTimeline

__all__ = ["POINT_CLOUD_SUFFIXES", "build_streams"]

POINT_CLOUD_SUFFIXES = (".bin", ".pcd", ".ply", ".npy")

#: keyword of ``add_item`` → (modality, default stream name)
_KEYWORDS = {
    "video": "video",
    "audio": "audio",
    "transcript": "text",
    "text": "text",
    "image": "image",
    "lidar": "pointcloud",
}


def _entries(keyword: str, value: Any) -> list[tuple[str, dict[str, Any]]]:
    """Normalise a keyword value to ``[(stream_name, {"path": ..., **options})]``."""
    if value is None:
        return []
    if isinstance(value, str | os.PathLike):
        return [(keyword, {"path": value})]
    if isinstance(value, Mapping):
        if "path" in value:
            return [(keyword, dict(value))]
        out = []
        for name, v in value.items():
            spec = dict(v) if isinstance(v, Mapping) else {"path": v}
            out.append((name, spec))
        return out
    raise ValidationError(
        f"add_item({keyword}=...)", "a path, {name: path} or {'path': ..., options}", value
    )


def build_streams(
    item_id: str,
    *,
    clocks: Mapping[str, Any],
    calibration: Any = None,
    **media: Any,
) -> tuple[list[Stream], dict[str, Calibration]]:
    """Probe every media path and build the item's streams and calibrations."""
    from accord.io.calibration import read_calibration

    calibrations: dict[str, Calibration] = {}
    if calibration is not None:
        calibrations = read_calibration(calibration)
    streams: list[Stream] = []
    names: set[str] = set()
    for keyword, value in media.items():
        if keyword not in _KEYWORDS:
            raise ValidationError(
                f"add_item({keyword}=...)", f"one of {sorted(_KEYWORDS)}", keyword
            )
        for name, spec in _entries(keyword, value):
            check_id(name, f"add_item({keyword}) stream name")
            if name in names:
                raise ValidationError(
                    f"add_item({keyword}) stream name", "a unique stream name", name
                )
            names.add(name)
            clock = Clock.from_dict(clocks.get(name, {}), f"clocks[{name!r}]")
            streams.append(_probe(item_id, name, _KEYWORDS[keyword], spec, clock, calibrations))
    unknown = sorted(set(clocks) - names)
    if unknown:
        raise ClockError(
            f"clocks[{unknown[0]!r}]",
            f"the name of a stream of this item {sorted(names)}",
            unknown[0],
        )
    if not streams:
        raise ValidationError(
            "add_item", "at least one stream (video=, audio=, transcript=, ...)", None
        )
    return streams, calibrations


def _probe(
    item: str,
    name: str,
    modality: str,
    spec: dict[str, Any],
    clock: Clock,
    calibrations: Mapping[str, Calibration],
) -> Stream:
    from accord.media import probe

    path = Path(spec.pop("path"))
    sensor = spec.pop("sensor", None)
    where = f"add_item({name}={str(path)!r})"
    if not path.exists():
        raise MissingMediaError(
            str(path), f"an existing {modality} file or folder for stream {name!r}", "missing"
        )
    if sensor is not None and sensor not in calibrations:
        raise ValidationError(
            f"{where}.sensor", f"a calibrated sensor {sorted(calibrations)}", sensor
        )
    uri = str(path.resolve())
    if modality == "video":
        info = probe.probe_video(path)
        timeline = FrameTimeline.from_timestamps(info.timestamps, end=info.duration)
        if info.average_rate is not None and not info.is_vfr:
            timeline = FrameTimeline.constant(info.average_rate, info.frame_count, info.start_time)
        sensor = sensor or ("cam2" if "cam2" in calibrations else None)
        return Stream(
            item,
            name,
            modality,
            uri,
            clock,
            timeline,
            info.duration,
            info.width,
            info.height,
            sensor=sensor,
            meta={"codec": info.codec, "vfr": info.is_vfr},
        )
    if modality == "audio":
        a = probe.probe_audio(path)
        return Stream(
            item,
            name,
            modality,
            uri,
            clock,
            None,
            a.duration,
            sample_rate=a.sample_rate,
            meta={"codec": a.codec, "channels": a.channels, "samples": a.frames},
        )
    if modality == "image":
        w, h = probe.probe_image(path)
        return Stream(item, name, modality, uri, clock, width=w, height=h, sensor=sensor)
    if modality == "text":
        if path.suffix.lower() in (".vtt", ".webvtt"):
            from accord.io.webvtt import read_webvtt

            tr = read_webvtt(path)
            cues = [
                {
                    "start": c.start,
                    "end": c.end,
                    "speaker": c.speaker,
                    "char_start": a,
                    "char_end": b,
                }
                for c, (a, b) in zip(tr.cues, tr.spans(), strict=True)
            ]
            return Stream(
                item,
                name,
                modality,
                uri,
                clock,
                duration=tr.duration,
                text=tr.text,
                meta={"format": "webvtt", "cues": cues},
            )
        try:
            text = path.read_text(encoding="utf-8")
        except UnicodeDecodeError as exc:
            raise ValidationError(str(path), "UTF-8 text", detail=str(exc)) from exc
        return Stream(item, name, modality, uri, clock, text=text, meta={"format": "text"})
    # point-cloud sequence: a folder of sweeps (or one file)
    files = (
        sorted(f for f in path.iterdir() if f.suffix.lower() in POINT_CLOUD_SUFFIXES)
        if path.is_dir()
        else [path]
    )
    if not files:
        raise MissingMediaError(
            str(path), f"sweep files ({', '.join(POINT_CLOUD_SUFFIXES)})", "none found"
        )
    timestamps = spec.pop("timestamps", None)
    if timestamps is None and path.is_dir() and (path / "timestamps.txt").is_file():
        timestamps = [float(x) for x in (path / "timestamps.txt").read_text().split()]
    rate = spec.pop("rate", None)
    if timestamps is not None:
        ts = np.asarray(timestamps, dtype=np.float64)
        if ts.shape != (len(files),):
            raise ValidationError(
                f"{where}.timestamps", f"{len(files)} timestamps (one per sweep)", ts.shape
            )
        timeline = FrameTimeline.from_timestamps(ts)
    elif rate is not None:
        timeline = FrameTimeline.constant(rate, len(files))
    elif len(files) == 1:
        timeline = None
    else:
        raise ValidationError(
            f"{where}",
            "sweep timestamps: a timestamps.txt in the folder, timestamps=[...] or rate=10",
            None,
        )
    sensor = sensor or ("velo" if "velo" in calibrations else None)
    return Stream(
        item,
        name,
        modality,
        uri,
        clock,
        timeline,
        sensor=sensor,
        meta={"files": [f.name for f in files]},
    )
