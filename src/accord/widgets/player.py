"""``Player``: synchronized video/audio playback of one item, waveforms, clocks and tiers.

Bound to ``(session, item)``. Every ``<video>``/``<audio>`` of the page follows one
shared clock (``js/src/runtime/clock.ts``) that all views of the item share, so
two Players (or a Player and a RegionCanvas) of one item stay on the same frame
without a kernel round trip. Python hears the time only on pause and seek.
Design, protocol and measurements: ``docs/design/player.md``.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any
from urllib.parse import quote

import numpy as np
import traitlets

from accord.errors import AccordError, NotFoundError, ValidationError
from accord.media.proxy import browser_playable
from accord.model.item import Stream
from accord.session import Result, Session
from accord.widgets.base import STATIC, SessionWidget
from accord.widgets.player_spectrogram import query_spectrogram
from accord.widgets.tiers import install_tiers, segment_classes

__all__ = ["MEDIA_BYTES_LIMIT", "PLAYABLE_MODALITIES", "Player", "media_url"]

#: Modalities the Player plays (``<video>``/``<audio>``); transcripts show as tiers.
PLAYABLE_MODALITIES = ("video", "audio")
#: Largest file the Player sends through the kernel when the server extension is absent.
MEDIA_BYTES_LIMIT = 256 * 1024 * 1024
#: Bytes per ``media.bytes`` reply (kernel → page messages have no size limit; keep them moderate).
MEDIA_CHUNK = 8 * 1024 * 1024
#: Most peak bins sent in one ``peaks.get`` reply.
MAX_PEAK_BINS = 1 << 17

_MIME = {
    ".mp4": "video/mp4",
    ".m4v": "video/mp4",
    ".m4a": "audio/mp4",
    ".webm": "video/webm",
    ".ogg": "audio/ogg",
    ".opus": "audio/ogg",
    ".wav": "audio/wav",
    ".flac": "audio/flac",
    ".mp3": "audio/mpeg",
}


class Player(SessionWidget):
    """Play an item's video and audio streams in sync, with waveforms and tiers.

    >>> player = ac.widgets.Player(s, "scene")  # doctest: +SKIP
    >>> player.time = 4.2  # seek (item seconds)  # doctest: +SKIP
    >>> player.time  # where the user paused or seeked last  # doctest: +SKIP

    ``streams`` picks and orders the streams shown (default: every video and
    audio stream of the item, and every stream tiers may show). The clock
    editor (⏱) previews a stream's offset and drift live and saves them as a
    ``stream.clock`` command (versioned, undoable; ``s.streams`` shows it).
    ``tiers=False`` hides the annotation tiers.
    """

    _esm = STATIC / "player.js"

    stream_infos = traitlets.List(traitlets.Dict()).tag(sync=True)
    time = traitlets.Float(0.0).tag(sync=True, echo_update=False)
    playing = traitlets.Bool(False).tag(sync=True)
    rate = traitlets.Float(1.0).tag(sync=True)
    height = traitlets.Int(360).tag(sync=True)
    tiers = traitlets.Bool(True).tag(sync=True)
    classes = traitlets.List(traitlets.Dict()).tag(sync=True)
    show_others = traitlets.Bool(True).tag(sync=True)
    media_bytes_limit = traitlets.Int(MEDIA_BYTES_LIMIT).tag(sync=True)

    page_commands = frozenset({"stream.clock", "link.add", "link.delete"})  # links: link mode

    def __init__(
        self,
        session: Session,
        item: str,
        streams: Iterable[str] | None = None,
        *,
        height: int = 360,
        tiers: bool = True,
        show_others: bool = True,
    ) -> None:
        it = session.item(item)
        names = _stream_names(it.streams, streams)
        classes = segment_classes(session, item) if tiers else []
        super().__init__(
            session,
            item,
            height=int(height),
            tiers=bool(tiers),
            classes=classes,
            show_others=show_others,
        )
        self._names = names
        self._media: dict[str, Path] = {}
        self.stream_infos = self._infos()
        if tiers:
            install_tiers(self)  # segments/classes queries; adds TIER_COMMANDS to page_commands
        self.query("peaks.get", self._query_peaks)
        self.query("frames.times", self._query_frame_times)
        self.query("media.bytes", self._query_media_bytes)
        self.query("spectrogram.get", lambda c, b: query_spectrogram(self, c, b))
        self._unobserve_clocks = session.observe(self._on_stream_change, item=item)

    @traitlets.validate("time")
    def _valid_time(self, proposal: dict[str, Any]) -> float:
        value = float(proposal["value"])
        if not np.isfinite(value) or value < 0:
            raise ValidationError("Player.time", "item seconds >= 0", proposal["value"])
        return value

    @traitlets.validate("rate")
    def _valid_rate(self, proposal: dict[str, Any]) -> float:
        value = float(proposal["value"])
        if not (0.0625 <= value <= 16):
            raise ValidationError("Player.rate", "a playback rate in [0.0625, 16]", value)
        return value

    def seek(self, time: float) -> None:
        """Move the playhead to ``time`` (item seconds), even if ``time`` did not change.

        (``player.time = t`` sends nothing when the trait already holds ``t``,
        e.g. after playing on from there.)
        """
        value = self._valid_time({"value": time})
        with self.hold_trait_notifications():
            self.time = value
        self.send({"type": "seek", "time": value})

    # -- stream infos ---------------------------------------------------------------
    def _infos(self) -> list[dict[str, Any]]:
        it = self._session.item(self.item)
        return [self._info(it.stream(name)) for name in self._names if name in it.streams]

    def _info(self, st: Stream) -> dict[str, Any]:
        tl = st.timeline
        rate = tl.rate if tl is not None else None
        info: dict[str, Any] = {
            "name": st.name,
            "modality": st.modality,
            "duration": st.duration,
            "clock": st.clock.to_dict(),
            "fps": [rate.numerator, rate.denominator] if rate is not None else None,
            "frameCount": st.frame_count,
            "start": tl.start if tl is not None else 0.0,
            "width": st.width,
            "height": st.height,
            "path": None,
            "url": None,
            "mime": None,
            "size": None,
            "error": None,
        }
        if st.modality not in PLAYABLE_MODALITIES:
            return info
        try:
            path = self._media.get(st.name) or _playable_path(st)
        except (AccordError, OSError) as exc:  # shown in the page; the rest still works
            info["error"] = f"{type(exc).__name__}: {exc}"
            return info
        self._media[st.name] = path
        info["path"] = str(path)
        info["url"] = media_url(path)
        info["mime"] = _MIME.get(path.suffix.lower(), f"{st.modality}/{path.suffix.lstrip('.')}")
        info["size"] = path.stat().st_size
        return info

    def _on_stream_change(self, result: Result) -> None:
        if any(e.target == "stream" and e.item == self.item for e in result.events):
            self.stream_infos = self._infos()

    def _stream(self, content: Mapping[str, Any], where: str) -> Stream:
        name = content.get("stream")
        if name not in self._names:
            raise NotFoundError(
                f"{where}.stream", f"one of this player's streams {self._names}", name
            )
        return self._session.stream(self.item, str(name))

    # -- queries ----------------------------------------------------------------------
    def _query_peaks(
        self, content: Mapping[str, Any], _buffers: list[bytes]
    ) -> tuple[Any, list[bytes]]:
        """Min/max peaks of an audio stream at a zoom, for ``[start, end)`` stream seconds."""
        from accord.media.peaks import audio_peaks

        st = self._stream(content, "peaks.get")
        if st.modality != "audio" or st.uri is None:
            raise ValidationError("peaks.get.stream", "an audio stream with a file", st.name)
        spp = float(content.get("seconds_per_pixel") or 0.01)
        peaks = audio_peaks(st.uri)
        level = peaks.level_for(max(spp, 1e-6))
        index = peaks.levels.index(level)
        sr, spb = peaks.sample_rate, level.samples_per_bin
        start = max(0.0, float(content.get("start", 0.0)))
        end = float(content.get("end", peaks.duration))
        first = max(0, min(level.bins, int(start * sr // spb)))
        last = max(first, min(level.bins, int(np.ceil(end * sr / spb)) + 1))
        last = min(last, first + MAX_PEAK_BINS)
        mins = level.mins[first:last].min(axis=1)
        maxs = level.maxs[first:last].max(axis=1)
        data = np.stack([mins, maxs], axis=-1).astype("<f4").tobytes()
        header = {
            "stream": st.name,
            "sample_rate": sr,
            "samples_per_bin": spb,
            "level": index,
            "levels": len(peaks.levels),
            "first_bin": first,
            "bins": last - first,
            "total_bins": level.bins,
            "frames": peaks.frames,
            "layout": "float32 little-endian [min0, max0, min1, max1, ...] (channels mixed)",
        }
        return header, [data]

    def _query_frame_times(
        self, content: Mapping[str, Any], _buffers: list[bytes]
    ) -> tuple[Any, list[bytes]]:
        """Presentation times of every frame of a video stream (float64 stream seconds)."""
        st = self._stream(content, "frames.times")
        if st.timeline is None:
            raise ValidationError("frames.times.stream", "a video stream with frames", st.name)
        ts = np.ascontiguousarray(st.timeline.timestamps, dtype="<f8")
        return {"stream": st.name, "count": int(ts.size), "end": st.timeline.end}, [ts.tobytes()]

    def _query_media_bytes(
        self, content: Mapping[str, Any], _buffers: list[bytes]
    ) -> tuple[Any, list[bytes]]:
        """A slice of a stream's media file (the page's fallback without the server route)."""
        st = self._stream(content, "media.bytes")
        path = self._media.get(st.name)
        if path is None:
            raise ValidationError("media.bytes.stream", "a playable video or audio stream", st.name)
        size = path.stat().st_size
        if size > self.media_bytes_limit:
            raise ValidationError(
                "media.bytes",
                f"a file of at most {self.media_bytes_limit} bytes to send through the kernel",
                f"{path.name} ({size} bytes)",
                detail="enable accord's server extension (jupyter server extension enable "
                "accord.server_extension) so the browser reads the file directly",
            )
        offset = int(content.get("offset", 0))
        length = min(int(content.get("length", MEDIA_CHUNK)), MEDIA_CHUNK)
        if offset < 0 or offset > size:
            raise ValidationError("media.bytes.offset", f"a byte offset in [0, {size}]", offset)
        with open(path, "rb") as fh:
            fh.seek(offset)
            data = fh.read(length)
        return {
            "stream": st.name,
            "offset": offset,
            "size": size,
            "mime": _MIME.get(path.suffix.lower(), "application/octet-stream"),
        }, [data]

    def close(self) -> None:
        unobserve = getattr(self, "_unobserve_clocks", None)
        if unobserve is not None:
            unobserve()
            self._unobserve_clocks = None
        super().close()


def media_url(path: str | os.PathLike[str], route: str = "accord/media") -> str:
    """The server-relative URL of ``path`` on accord's media route (append to the base URL)."""
    return f"{route}?path={quote(os.fspath(Path(path).resolve()), safe='')}"


def _stream_names(streams: Mapping[str, Stream], wanted: Iterable[str] | None) -> list[str]:
    if wanted is None:
        names = [n for n, s in streams.items() if s.modality in (*PLAYABLE_MODALITIES, "text")]
        if not names:
            raise ValidationError(
                "Player(item)", "an item with a video, audio or text stream", sorted(streams)
            )
        return names
    names = [wanted] if isinstance(wanted, str) else list(wanted)
    for name in names:
        if name not in streams:
            raise NotFoundError("Player(streams)", f"a stream of the item {sorted(streams)}", name)
    return list(dict.fromkeys(names))


def _playable_path(st: Stream) -> Path:
    """The file the browser plays for ``st``: a browser-safe proxy when the codec needs one."""
    if st.uri is None:
        raise ValidationError(f"stream {st.item}/{st.name}", "a media file", None)
    path = Path(st.uri)
    if not path.is_file():
        raise NotFoundError(f"stream {st.item}/{st.name}", "an existing media file", str(path))
    kind = "video" if st.modality == "video" else "audio"
    return Path(browser_playable(path, kind=kind)).resolve()
