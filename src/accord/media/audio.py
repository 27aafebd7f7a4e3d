"""Stream decoded audio in blocks: soundfile where it can, PyAV otherwise.

soundfile (libsndfile) reads WAV, FLAC, Ogg Vorbis/Opus and MP3 without an
extra copy; PyAV decodes everything else (AAC in MP4/M4A, the audio track of a
video, ...). Either way blocks are float32 arrays of shape ``(n, channels)``
with integer PCM scaled to [-1, 1) the way libsndfile does it (÷ 2^(bits-1)),
and nothing holds more than one block of the file in memory.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from fractions import Fraction

import av
import numpy as np
import soundfile as sf

from accord.errors import CorruptMediaError, MissingMediaError, UnsupportedMediaError

__all__ = ["BLOCK_FRAMES_DEFAULT", "AudioSource", "open_audio"]

#: A good block size for streaming (frames).
BLOCK_FRAMES_DEFAULT = 1 << 18

_AV_ERRORS: tuple[type[BaseException], ...] = (av.FFmpegError, EOFError, UnicodeDecodeError)
_SF_ERRORS: tuple[type[BaseException], ...] = (sf.SoundFileError, RuntimeError, TypeError)

# PyAV sample format → scale that maps it to [-1, 1)
_INT_SCALE = {"s16": 2.0**15, "s16p": 2.0**15, "s32": 2.0**31, "s32p": 2.0**31}


@dataclass(frozen=True)
class AudioSource:
    """An audio file ready to stream: rate, channels and (for soundfile) exact frames.

    ``frames`` is exact for soundfile-readable files and an estimate from the
    container for PyAV ones (``None`` when the container does not say).
    """

    path: str
    backend: str  # "soundfile" or "pyav"
    sample_rate: int
    channels: int
    frames: int | None
    subtype: str | None = None  # libsndfile subtype ("PCM_16", "FLOAT", ...) if soundfile

    @property
    def int16(self) -> bool:
        """True if the samples are 16-bit integers soundfile can hand over as they are."""
        return self.backend == "soundfile" and self.subtype == "PCM_16"

    def blocks(
        self, block: int, start: int = 0, stop: int | None = None, *, raw_int16: bool = False
    ) -> Iterator[np.ndarray]:
        """Yield float32 ``(n, channels)`` blocks covering samples ``[start, stop)``.

        Every block but the last holds exactly ``block`` frames. ``raw_int16``
        (only when :attr:`int16`) yields the int16 samples instead (float = int / 32768).
        """
        if self.backend == "soundfile":
            yield from self._sf_blocks(block, start, stop, "int16" if raw_int16 else "float32")
        else:
            yield from _rechunk(self._av_chunks(start, stop), block, self.channels)

    def _sf_blocks(
        self, block: int, start: int, stop: int | None, dtype: str
    ) -> Iterator[np.ndarray]:
        try:
            with sf.SoundFile(self.path) as f:
                end = f.frames if stop is None else min(stop, f.frames)
                if start:
                    f.seek(start)
                pos = start
                buf = np.empty((block, self.channels), dtype=dtype)
                while pos < end:
                    n = min(block, end - pos)
                    got = f.read(n, dtype=dtype, always_2d=True, out=buf[:n])
                    if len(got) == 0:
                        break  # the header promised more than the file holds
                    pos += len(got)
                    yield got
        except _SF_ERRORS as exc:
            raise CorruptMediaError(
                where=self.path,
                expected="an audio file that decodes to the end",
                detail=f"{type(exc).__name__}: {exc}",
            ) from exc

    def _av_chunks(self, start: int, stop: int | None, seek: bool = True) -> Iterator[np.ndarray]:
        try:
            with av.open(self.path, mode="r") as container:
                stream = container.streams.audio[0]
                tb = Fraction(stream.time_base) if stream.time_base else None
                pos = 0  # sample index of the next decoded sample
                seeked = seek and start > 0 and tb is not None
                if seeked:
                    container.seek(int(start / self.sample_rate / tb), stream=stream)
                for frame in container.decode(stream):
                    if seeked:
                        if frame.pts is None:  # cannot place it: decode from the start
                            yield from self._av_chunks(start, stop, seek=False)
                            return
                        pos = round(frame.pts * tb * self.sample_rate)
                        seeked = False
                    data = _frame_array(frame, self.channels)
                    lo, hi = pos, pos + len(data)
                    pos = hi
                    if hi <= start:
                        continue
                    if stop is not None and lo >= stop:
                        break
                    a = max(start - lo, 0)
                    b = len(data) if stop is None else min(len(data), stop - lo)
                    yield data[a:b]
        except _AV_ERRORS as exc:
            raise CorruptMediaError(
                where=self.path,
                expected="an audio stream that decodes to the end",
                detail=f"{type(exc).__name__}: {exc}",
            ) from exc


def _frame_array(frame: av.AudioFrame, channels: int) -> np.ndarray:
    """A decoded PyAV frame as float32 ``(samples, channels)``."""
    fmt = frame.format.name
    arr = frame.to_ndarray()
    arr = arr.T if frame.format.is_planar else arr.reshape(-1, channels)
    if fmt in _INT_SCALE:
        return (arr.astype(np.float32) / np.float32(_INT_SCALE[fmt])).astype(np.float32)
    if fmt in ("u8", "u8p"):
        return ((arr.astype(np.float32) - 128.0) / 128.0).astype(np.float32)
    return np.ascontiguousarray(arr, dtype=np.float32)


def _rechunk(chunks: Iterator[np.ndarray], block: int, channels: int) -> Iterator[np.ndarray]:
    """Regroup arbitrary-length chunks into blocks of exactly ``block`` frames."""
    buf = np.empty((block, channels), dtype=np.float32)
    fill = 0
    for chunk in chunks:
        i = 0
        n = len(chunk)
        while i < n:
            take = min(block - fill, n - i)
            buf[fill : fill + take] = chunk[i : i + take]
            fill += take
            i += take
            if fill == block:
                yield buf
                fill = 0
    if fill:
        yield buf[:fill]


def open_audio(path: str | os.PathLike[str]) -> AudioSource:
    """Open ``path`` for block reading; raise a typed error if it holds no audio."""
    text = os.fspath(path)
    if not os.path.isfile(text):
        raise MissingMediaError(where=text, expected="an existing audio file")
    try:
        info = sf.info(text)
    except _SF_ERRORS:
        return _open_av(text)
    if info.frames <= 0 or info.samplerate <= 0:
        raise CorruptMediaError(
            where=text,
            expected="an audio file with at least one sample",
            got=int(info.frames),
            detail="the file holds no audio samples",
        )
    return AudioSource(
        text,
        "soundfile",
        int(info.samplerate),
        int(info.channels),
        int(info.frames),
        str(info.subtype),
    )


def _open_av(path: str) -> AudioSource:
    try:
        container = av.open(path, mode="r")
    except _AV_ERRORS as exc:
        raise CorruptMediaError(
            where=path,
            expected="a readable audio file (WAV, FLAC, Ogg, MP3, AAC/MP4, ...)",
            detail=f"{type(exc).__name__}: {exc}",
        ) from exc
    with container:
        if not container.streams.audio:
            raise UnsupportedMediaError(
                where=path,
                expected="a file with an audio stream",
                got=container.format.name,
            )
        stream = container.streams.audio[0]
        ctx = stream.codec_context
        if ctx is None or not ctx.name or not ctx.sample_rate:
            raise UnsupportedMediaError(where=path, expected="an audio stream with a known codec")
        rate = int(ctx.sample_rate)
        channels = int(ctx.channels)
        frames = None
        if stream.duration and stream.time_base:
            frames = round(stream.duration * Fraction(stream.time_base) * rate)
        elif container.duration:
            frames = round(container.duration / 1_000_000 * rate)
    return AudioSource(path, "pyav", rate, channels, frames)
