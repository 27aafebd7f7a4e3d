"""Probe video, audio and image files, and decode one video frame exactly.

Video probing demuxes packets only (no decoding), so it costs about a second
for an hour of 30 fps video. Frame identity always comes from presentation
timestamps (PTS) as stored in the container, never from ``time × fps``.
"""

from __future__ import annotations

import os
from collections import OrderedDict
from collections.abc import Iterator
from dataclasses import dataclass, field
from fractions import Fraction
from threading import Lock

import av
import numpy as np
import soundfile as sf

from accord.errors import (
    CorruptMediaError,
    MissingMediaError,
    OutOfBoundsError,
    UnsupportedMediaError,
)

__all__ = [
    "AudioInfo",
    "VideoInfo",
    "close_decoders",
    "frame_at",
    "probe_audio",
    "probe_image",
    "probe_video",
]

_AV_ERRORS: tuple[type[BaseException], ...] = (av.FFmpegError, EOFError, UnicodeDecodeError)


@dataclass(frozen=True)
class VideoInfo:
    """What a video file holds, read from its demuxed packets.

    ``timestamps`` are the PTS of every frame in presentation order (seconds,
    float64, not shifted); ``pts`` are the same in ``time_base`` ticks;
    ``keyframes`` the sorted PTS of the keyframes.

    A container that declares more frames than its packets hold (a cut file)
    is refused as truncated rather than reported short.
    """

    path: str
    codec: str
    width: int
    height: int
    frame_count: int
    timestamps: np.ndarray = field(compare=False, repr=False)
    time_base: Fraction
    average_rate: Fraction | None
    is_vfr: bool
    duration: float
    start_time: float
    pts: np.ndarray = field(compare=False, repr=False, default_factory=lambda: np.zeros(0, "i8"))
    keyframes: np.ndarray = field(
        compare=False, repr=False, default_factory=lambda: np.zeros(0, "i8")
    )

    def keyframe_before(self, index: int) -> int:
        """PTS (ticks) of the last keyframe at or before frame ``index``."""
        target = int(self.pts[index])
        if not len(self.keyframes):
            return int(self.pts[0])
        k = int(np.searchsorted(self.keyframes, target, side="right")) - 1
        return int(self.keyframes[max(k, 0)])

    def frame_duration(self, index: int) -> float:
        """Seconds from frame ``index`` to the next one (the last runs to ``duration``)."""
        if index + 1 < self.frame_count:
            return float(self.timestamps[index + 1] - self.timestamps[index])
        return float(self.duration - self.timestamps[index])


@dataclass(frozen=True)
class AudioInfo:
    """What an audio file (or the first audio stream of a container) holds."""

    path: str
    codec: str
    sample_rate: int
    channels: int
    frames: int
    duration: float
    start_time: float


def _check_exists(path: str | os.PathLike[str], expected: str) -> str:
    text = os.fspath(path)
    if not os.path.isfile(text):
        raise MissingMediaError(where=text, expected=expected)
    return text


def _open(path: str, what: str) -> av.container.InputContainer:
    try:
        return av.open(path, mode="r")
    except _AV_ERRORS as exc:
        raise CorruptMediaError(
            where=path, expected=f"a readable {what} file", detail=f"{type(exc).__name__}: {exc}"
        ) from exc


# -- video ------------------------------------------------------------------------------------


def probe_video(path: str | os.PathLike[str]) -> VideoInfo:
    """Probe the first video stream of ``path`` from its packets (no decoding)."""
    text = _check_exists(path, "an existing video file")
    stat = os.stat(text)
    key = (os.path.realpath(text), stat.st_mtime_ns, stat.st_size)
    with _CACHE_LOCK:
        cached = _CACHE.get(key)
        if cached is not None:
            _CACHE.move_to_end(key)
            return cached
    info = _probe_video_uncached(text)
    with _CACHE_LOCK:
        _CACHE[key] = info
        while len(_CACHE) > _CACHE_SIZE:
            _CACHE.popitem(last=False)
    return info


_CACHE: OrderedDict[tuple[str, int, int], VideoInfo] = OrderedDict()
_CACHE_LOCK = Lock()
_CACHE_SIZE = 32


def _probe_video_uncached(path: str) -> VideoInfo:
    with _open(path, "video") as container:
        if not container.streams.video:
            raise UnsupportedMediaError(where=path, expected="a file with a video stream")
        stream = container.streams.video[0]
        ctx = stream.codec_context
        codec = ctx.name if ctx is not None else None
        if not codec or stream.time_base is None:
            raise UnsupportedMediaError(where=path, expected="a video stream with a known codec")
        time_base = Fraction(stream.time_base)
        width, height = int(ctx.width), int(ctx.height)
        pts_list: list[int] = []
        keys: list[int] = []
        durations: dict[int, int] = {}
        missing = 0
        try:
            for packet in container.demux(stream):
                if packet.size == 0 or packet.is_discard:
                    continue  # flush packet / packet dropped by an edit list
                pts = packet.pts if packet.pts is not None else packet.dts
                if pts is None:
                    missing += 1
                    continue
                pts_list.append(pts)
                if packet.is_keyframe:
                    keys.append(pts)
                if packet.duration:
                    durations[pts] = packet.duration
        except _AV_ERRORS as exc:
            raise CorruptMediaError(
                where=path,
                expected="a video whose packets can be read to the end",
                detail=f"{type(exc).__name__}: {exc}",
            ) from exc
        declared = int(stream.frames or 0)
        average_rate = Fraction(stream.average_rate) if stream.average_rate else None
    if missing:
        raise UnsupportedMediaError(
            where=path,
            expected="packets with timestamps",
            detail=f"{missing} packet(s) have no PTS/DTS; remux into MP4 or Matroska",
        )
    if not pts_list:
        raise CorruptMediaError(where=path, expected="a video with at least one frame", got=0)
    if declared and len(pts_list) < declared:
        raise CorruptMediaError(
            where=path,
            expected=f"{declared} frames as declared by the container",
            got=len(pts_list),
            detail="the file looks truncated",
        )
    pts = np.array(sorted(pts_list), dtype=np.int64)
    tb = float(time_base)
    timestamps = pts.astype(np.float64) * tb
    intervals = np.diff(pts)
    if len(intervals):
        tolerance = max(1, round(1e-6 / tb))
        is_vfr = bool(intervals.max() - intervals.min() > tolerance)
        median_interval = float(np.median(intervals))
    else:
        is_vfr = False
        median_interval = float(1 / average_rate / time_base) if average_rate else 0.0
    last_ticks = durations.get(int(pts[-1])) or median_interval
    keyframes = np.array(sorted(keys) or [int(pts[0])], dtype=np.int64)
    for arr in (pts, timestamps, keyframes):
        arr.setflags(write=False)
    return VideoInfo(
        path=path,
        codec=codec,
        width=width,
        height=height,
        frame_count=len(pts),
        timestamps=timestamps,
        time_base=time_base,
        average_rate=average_rate,
        is_vfr=is_vfr,
        duration=float((int(pts[-1]) + last_ticks) * tb),
        start_time=float(timestamps[0]),
        pts=pts,
        keyframes=keyframes,
    )


def frame_at(path: str | os.PathLike[str], index: int) -> np.ndarray:
    """Decode frame ``index`` (in presentation order) exactly, as H×W×3 uint8 RGB.

    Seeks to the keyframe at or before the frame (from the probed packets) and
    decodes forward until the frame whose PTS equals the frame's. An open
    decoder is kept per file (a small LRU), so stepping forward from the last
    decoded frame continues decoding instead of seeking again.
    """
    info = probe_video(path)
    if not 0 <= int(index) < info.frame_count:
        raise OutOfBoundsError(
            where=f"{info.path}: frame index",
            expected=f"0 <= index < {info.frame_count}",
            got=index,
        )
    key = (os.path.realpath(info.path), *_file_stamp(info.path))
    decoder = _decoder(key, info.path)
    try:
        with decoder.lock:
            frame = decoder.frame(info, int(index))
            return frame.to_ndarray(format="rgb24")
    except _AV_ERRORS as exc:
        _drop_decoder(key)
        raise CorruptMediaError(
            where=info.path,
            expected=f"a decodable frame {index}",
            detail=f"{type(exc).__name__}: {exc}",
        ) from exc
    except CorruptMediaError:
        _drop_decoder(key)
        raise


def close_decoders() -> None:
    """Close every decoder :func:`frame_at` keeps open."""
    with _DECODERS_LOCK:
        decoders = list(_DECODERS.values())
        _DECODERS.clear()
    for decoder in decoders:
        decoder.close()


def _file_stamp(path: str) -> tuple[int, int]:
    st = os.stat(path)
    return st.st_mtime_ns, st.st_size


class _Decoder:
    """An open container positioned somewhere in its first video stream."""

    def __init__(self, path: str) -> None:
        self.path = path
        self.lock = Lock()
        self.container = _open(path, "video")
        self.stream = self.container.streams.video[0]
        self.stream.thread_type = "AUTO"
        self.frames: Iterator[av.VideoFrame] | None = None
        self.last_pts: int | None = None  # PTS of the last frame taken from ``frames``

    def close(self) -> None:
        self.frames = None
        self.container.close()

    def frame(self, info: VideoInfo, index: int) -> av.VideoFrame:
        target = int(info.pts[index])
        keyframe = info.keyframe_before(index)
        ahead = self.last_pts is not None and keyframe <= self.last_pts < target
        if self.frames is not None and ahead:  # same GOP, ahead: keep decoding
            found = self._decode_to(target)
            if found is not None:
                return found
        # seek to the keyframe; if the demuxer lands after the target (edit lists,
        # open GOPs), retry from earlier keyframes
        starts = [int(k) for k in info.keyframes if k <= keyframe][::-1] or [int(info.pts[0])]
        for start in starts:
            self.container.seek(start, stream=self.stream, backward=True, any_frame=False)
            self.frames = self.container.decode(self.stream)
            self.last_pts = None
            found = self._decode_to(target)
            if found is not None:
                return found
            if self.last_pts is None:  # nothing decoded after this seek: no use going back
                break
        raise CorruptMediaError(
            where=self.path,
            expected=f"a decoded frame {index} (PTS {target})",
            detail="the decoder never produced it",
        )

    def _decode_to(self, target: int) -> av.VideoFrame | None:
        """Decode until PTS ``target``; None if the decoder passed it or ran out."""
        assert self.frames is not None
        for frame in self.frames:
            if frame.pts is None:
                continue
            self.last_pts = int(frame.pts)
            if frame.pts == target:
                return frame
            if frame.pts > target:
                self.frames = None
                return None
        self.frames = None
        return None


_DECODERS: OrderedDict[tuple[str, int, int], _Decoder] = OrderedDict()
_DECODERS_LOCK = Lock()
_DECODERS_SIZE = 4


def _decoder(key: tuple[str, int, int], path: str) -> _Decoder:
    with _DECODERS_LOCK:
        decoder = _DECODERS.get(key)
        if decoder is not None:
            _DECODERS.move_to_end(key)
            return decoder
    decoder = _Decoder(path)
    evicted = []
    with _DECODERS_LOCK:
        existing = _DECODERS.get(key)
        if existing is not None:  # another thread opened it meanwhile
            evicted.append(decoder)
            decoder = existing
        else:
            _DECODERS[key] = decoder
        while len(_DECODERS) > _DECODERS_SIZE:
            evicted.append(_DECODERS.popitem(last=False)[1])
    for old in evicted:
        with old.lock:
            old.close()
    return decoder


def _drop_decoder(key: tuple[str, int, int]) -> None:
    with _DECODERS_LOCK:
        decoder = _DECODERS.pop(key, None)
    if decoder is not None:
        decoder.close()


# -- audio ------------------------------------------------------------------------------------

_SF_CODECS = {"FLAC": "flac", "MPEG": "mp3"}
# Containers whose index gives an exact stream duration; others (ADTS, Matroska, ...)
# omit it or estimate it from the bit rate, so their samples are counted by decoding.
_INDEXED_FORMATS = {"mov", "mp4", "m4a"}


def probe_audio(path: str | os.PathLike[str]) -> AudioInfo:
    """Probe an audio file: soundfile for WAV/FLAC/OGG/MP3, PyAV for other containers.

    A cut WAV reports the samples it holds (libsndfile trusts the file size); a
    cut compressed file (FLAC, Ogg, MP3, AAC in MP4) raises ``CorruptMediaError``.
    """
    text = _check_exists(path, "an existing audio file")
    try:
        sinfo = sf.info(text)
    except (sf.SoundFileError, RuntimeError, TypeError):
        info = _probe_audio_av(text)
    else:
        codec = _SF_CODECS.get(sinfo.format, str(sinfo.subtype).lower())
        if sinfo.format not in ("WAV", "WAVEX", "AIFF", "RF64", "W64", "CAF") and sinfo.frames > 0:
            _check_sf_tail(text, int(sinfo.frames))
        info = AudioInfo(
            path=text,
            codec=codec,
            sample_rate=int(sinfo.samplerate),
            channels=int(sinfo.channels),
            frames=int(sinfo.frames),
            duration=float(sinfo.frames) / sinfo.samplerate if sinfo.samplerate else 0.0,
            start_time=0.0,
        )
    if info.frames <= 0 or info.sample_rate <= 0:
        raise CorruptMediaError(
            where=text,
            expected="an audio file with at least one sample",
            got=info.frames,
            detail="the file holds no audio samples",
        )
    return info


def _probe_audio_av(path: str) -> AudioInfo:
    with _open(path, "audio") as container:
        if not container.streams.audio:
            raise UnsupportedMediaError(where=path, expected="a file with an audio stream")
        stream = container.streams.audio[0]
        ctx = stream.codec_context
        if ctx is None or not ctx.name:
            raise UnsupportedMediaError(where=path, expected="an audio stream with a known codec")
        rate = int(ctx.sample_rate or stream.rate or 0)
        channels = int(ctx.channels)
        tb = Fraction(stream.time_base) if stream.time_base else None
        start = float(stream.start_time * tb) if stream.start_time is not None and tb else 0.0
        indexed = bool(_INDEXED_FORMATS & set(container.format.name.split(",")))
        if indexed and stream.duration and tb and rate:
            frames = round(stream.duration * tb * rate)
            _check_packets(container, stream, path)
        else:
            frames = 0
            try:
                for frame in container.decode(stream):
                    frames += frame.samples
            except _AV_ERRORS as exc:
                raise CorruptMediaError(
                    where=path,
                    expected="an audio stream that decodes to the end",
                    detail=f"{type(exc).__name__}: {exc}",
                ) from exc
        return AudioInfo(
            path=path,
            codec=ctx.name,
            sample_rate=rate,
            channels=channels,
            frames=int(frames),
            duration=frames / rate if rate else 0.0,
            start_time=start,
        )


def _check_packets(
    container: av.container.InputContainer, stream: av.AudioStream, path: str
) -> None:
    """Refuse a container whose index declares more packets than the file holds (cut)."""
    declared = int(stream.frames or 0)
    count = 0
    try:
        for packet in container.demux(stream):
            if packet.size:
                count += 1
    except _AV_ERRORS as exc:
        raise CorruptMediaError(
            where=path,
            expected="an audio stream whose packets can be read to the end",
            detail=f"{type(exc).__name__}: {exc}",
        ) from exc
    if declared and count < declared:
        raise CorruptMediaError(
            where=path,
            expected=f"{declared} audio packets as declared by the container",
            got=count,
            detail="the file looks truncated",
        )


def _check_sf_tail(path: str, frames: int) -> None:
    """Decode the last samples of a compressed file: a cut FLAC/Ogg/MP3 fails here."""
    try:
        with sf.SoundFile(path) as f:
            f.seek(max(frames - 16, 0))
            got = len(f.read(16, dtype="float32"))
    except (sf.SoundFileError, RuntimeError) as exc:
        raise CorruptMediaError(
            where=path,
            expected=f"{frames} samples as declared in the header",
            detail=f"the file looks truncated ({type(exc).__name__}: {exc})",
        ) from exc
    if got < min(16, frames):
        raise CorruptMediaError(
            where=path,
            expected=f"{frames} samples as declared in the header",
            detail="the file looks truncated",
        )


# -- image ------------------------------------------------------------------------------------


_TEXT_DEMUXERS = frozenset({"tty", "ansi", "bintext", "xbin", "idf", "adf", "subviewer", "srt"})


def probe_image(path: str | os.PathLike[str]) -> tuple[int, int]:
    """Return ``(width, height)`` of an image (PNG, JPEG, ...) by decoding it with PyAV."""
    text = _check_exists(path, "an existing image file")
    with _open(text, "image") as container:
        if not container.streams.video:
            raise UnsupportedMediaError(where=text, expected="an image file")
        codec = container.streams.video[0].codec_context.name
        if container.format.name in _TEXT_DEMUXERS or codec in _TEXT_DEMUXERS:
            # FFmpeg renders text files as images ("tty"/"ansi"): not an image
            raise CorruptMediaError(
                where=text, expected="an image file (PNG, JPEG, ...)", got=f"text ({codec})"
            )
        try:
            frame = next(container.decode(video=0), None)
        except _AV_ERRORS as exc:
            raise CorruptMediaError(
                where=text, expected="a decodable image", detail=f"{type(exc).__name__}: {exc}"
            ) from exc
    if frame is None:
        raise CorruptMediaError(where=text, expected="a decodable image", detail="no frame")
    return int(frame.width), int(frame.height)
