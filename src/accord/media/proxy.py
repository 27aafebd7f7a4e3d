"""Browser-playable copies of media Chromium cannot play, with every timestamp kept.

:func:`browser_playable` returns the file itself when Chromium plays it
(H.264 yuv420p / AV1 with AAC or MP3 in MP4; VP8/VP9/AV1 with Opus or Vorbis
in WebM; audio as WAV, MP3, FLAC, Ogg Vorbis/Opus/FLAC, Opus, AAC/ADTS or
M4A). Otherwise it transcodes once into the cache:

* video → H.264 yuv420p + AAC in MP4 with ``movflags=+faststart``. Frame ``n``
  of the proxy has the presentation time of frame ``n`` of the original
  (variable frame rates included): frames are encoded with their own PTS and
  the encoder neither drops nor duplicates any.
* audio → FLAC (lossless, and without the encoder delay AAC would add, so
  sample ``k`` stays at time ``k / rate``).

Proxies live in ``$ACCORD_CACHE_DIR/proxies`` (or ``cache_dir``), named by the
source's path, size and mtime, and are written atomically.
"""

from __future__ import annotations

import os
from fractions import Fraction
from pathlib import Path
from typing import Literal

import av

from accord.errors import CorruptMediaError, ValidationError
from accord.media.cache import cache_dir as _cache_dir
from accord.media.cache import file_key
from accord.media.probe import _AV_ERRORS, probe_audio, probe_video
from accord.progress import Progress, ProgressOption, open_progress

__all__ = ["browser_playable", "is_browser_playable"]

_PROXY_VERSION = 1
_MP4 = {"mov", "mp4", "m4a", "3gp", "3g2", "mj2"}
_PLAYABLE_VIDEO = {
    "mp4": ({"h264", "av1"}, {"aac", "mp3"}),
    "webm": ({"vp8", "vp9", "av1"}, {"opus", "vorbis"}),
}
_PLAYABLE_PIX = {"yuv420p", "yuvj420p"}
_PLAYABLE_AUDIO = {
    "wav": {"pcm_u8", "pcm_s16le", "pcm_s24le", "pcm_s32le", "pcm_f32le"},
    "mp3": {"mp3"},
    "flac": {"flac"},
    "ogg": {"vorbis", "opus", "flac"},
    "mp4": {"aac", "mp3", "flac", "opus"},
    "aac": {"aac"},
    "webm": {"opus", "vorbis"},
}
_SUFFIX_FAMILY = {".webm": "webm", ".mkv": "matroska", ".mka": "matroska"}


def _family(container: av.container.InputContainer, path: str) -> str:
    names = set(container.format.name.split(","))
    if names & _MP4:
        return "mp4"
    if "matroska" in names or "webm" in names:
        return _SUFFIX_FAMILY.get(Path(path).suffix.lower(), "matroska")
    for name in ("wav", "mp3", "flac", "ogg", "aac"):
        if name in names:
            return name
    return container.format.name


def is_browser_playable(path: str | os.PathLike[str], kind: str = "video") -> bool:
    """True if Chromium plays ``path`` as ``kind`` (see the module docstring)."""
    text = os.fspath(path)
    try:
        with av.open(text) as container:
            family = _family(container, text)
            audio = (
                container.streams.audio[0].codec_context.name if container.streams.audio else None
            )
            if kind == "audio":
                return audio is not None and audio in _PLAYABLE_AUDIO.get(family, set())
            if not container.streams.video or family not in _PLAYABLE_VIDEO:
                return False
            ctx = container.streams.video[0].codec_context
            codecs, audios = _PLAYABLE_VIDEO[family]
            if ctx.name not in codecs or (audio is not None and audio not in audios):
                return False
            return ctx.name != "h264" or ctx.pix_fmt in _PLAYABLE_PIX
    except _AV_ERRORS:
        return False


def browser_playable(
    path: str | os.PathLike[str],
    *,
    kind: Literal["video", "audio"] = "video",
    cache_dir: str | os.PathLike[str] | None = None,
    progress: ProgressOption = None,
) -> Path:
    """``path`` if Chromium plays it, else a cached proxy (transcoded once).

    Bad media raises what :func:`~accord.media.probe.probe_video` /
    :func:`~accord.media.probe.probe_audio` raise (``CorruptMediaError`` for a
    truncated or unreadable file, ``UnsupportedMediaError`` for a missing
    stream); a failed transcode leaves no file behind.
    """
    if kind not in ("video", "audio"):
        raise ValidationError("browser_playable(kind=...)", "'video' or 'audio'", kind)
    source = Path(path)
    info = probe_video(source) if kind == "video" else probe_audio(source)
    if is_browser_playable(source, kind):
        return source
    suffix = ".mp4" if kind == "video" else ".flac"
    key = file_key(source, kind=kind, v=_PROXY_VERSION)
    folder = _cache_dir("proxies", cache_dir)
    target = folder / f"{source.stem}-{key}{suffix}"
    if target.is_file():
        return target
    tmp = target.with_name(f".{target.stem}.{os.getpid()}.tmp{suffix}")
    try:
        if kind == "video":
            total = info.frame_count
            with open_progress(progress, total, f"Proxy of {source.name}", min_total=900) as bar:
                _transcode_video(str(source), str(tmp), bar)
        else:
            total = info.frames
            with open_progress(
                progress, total, f"Proxy of {source.name}", min_total=600 * info.sample_rate
            ) as bar:
                _transcode_audio(str(source), str(tmp), bar)
        os.replace(tmp, target)
    except _AV_ERRORS as exc:
        raise CorruptMediaError(
            where=str(source),
            expected=f"a {kind} file that decodes to the end",
            detail=f"{type(exc).__name__}: {exc}",
        ) from exc
    finally:
        tmp.unlink(missing_ok=True)
    return target


def _even(n: int) -> int:
    return n - n % 2


def _transcode_video(src: str, dst: str, bar: Progress) -> None:
    """H.264 yuv420p + AAC MP4; each frame keeps its PTS (in the source time base)."""
    with av.open(src) as inp:
        tb = Fraction(inp.streams.video[0].time_base)
        # The MP4 muxer's track timescale for ``tb``. Edit lists (a first PTS other than
        # 0, B-frame delay) are written in the movie timescale (default 1000): use the
        # track's, or the first frames' times get rounded to milliseconds.
        timescale = tb.denominator
        while timescale < 10_000:
            timescale *= 2
        options = {"movflags": "+faststart", "movie_timescale": str(timescale)}
        with av.open(dst, "w", format="mp4", options=options) as out:
            _encode_video(inp, out, tb, bar)


def _encode_video(
    inp: av.container.InputContainer, out: av.container.OutputContainer, tb: Fraction, bar: Progress
) -> None:
    vin = inp.streams.video[0]
    ain = inp.streams.audio[0] if inp.streams.audio else None
    rate = vin.average_rate or vin.guessed_rate or Fraction(30)
    vout = out.add_stream("libx264", rate=rate, options={"crf": "18", "preset": "veryfast"})
    width, height = _even(vin.codec_context.width), _even(vin.codec_context.height)
    vout.width, vout.height, vout.pix_fmt = width, height, "yuv420p"
    vout.time_base = tb
    vout.codec_context.time_base = tb
    aout = None
    if ain is not None:
        arate = ain.codec_context.sample_rate
        aout = out.add_stream("aac", rate=arate if arate in _AAC_RATES else 48_000)
        aout.bit_rate = 192_000
    vin.thread_type = "AUTO"
    done = 0
    next_sample: int | None = None
    for packet in inp.demux(*([vin] if ain is None else [vin, ain])):
        for frame in packet.decode():
            if packet.stream is vin:
                if frame.pts is None:
                    continue
                pic = frame.reformat(width=width, height=height, format="yuv420p")
                pic.pts, pic.time_base = frame.pts, tb
                for p in vout.encode(pic):
                    out.mux(p)
                done += 1
                bar.update(done)
            elif aout is not None:
                # samples are numbered contiguously from the first frame's time, so
                # the audio keeps its offset to the video (gaps are closed up)
                if next_sample is None:
                    pts = frame.pts if frame.pts is not None else 0
                    next_sample = round(pts * frame.time_base * frame.sample_rate)
                frame.pts, frame.time_base = next_sample, Fraction(1, frame.sample_rate)
                next_sample += frame.samples
                for p in aout.encode(frame):
                    out.mux(p)
    for stream in (vout, aout):
        if stream is not None:
            for p in stream.encode(None):
                out.mux(p)


_AAC_RATES = {8000, 11025, 12000, 16000, 22050, 24000, 32000, 44100, 48000, 64000, 88200, 96000}


def _transcode_audio(src: str, dst: str, bar: Progress) -> None:
    """The first audio stream as FLAC, sample for sample (24-bit for float/wide sources)."""
    with av.open(src) as inp, av.open(dst, "w", format="flac") as out:
        ain = inp.streams.audio[0]
        ctx = ain.codec_context
        wide = ctx.format.name not in ("s16", "s16p", "u8", "u8p")
        aout = out.add_stream("flac", rate=ctx.sample_rate, layout=ctx.layout.name)
        aout.format = "s32" if wide else "s16"
        done = 0
        for frame in inp.decode(ain):
            frame.pts = None
            done += frame.samples
            for p in aout.encode(frame):
                out.mux(p)
            bar.update(done)
        for p in aout.encode(None):
            out.mux(p)
