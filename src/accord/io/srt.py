"""SubRip ``.srt`` subtitles: read and write cues; export and import annotations as cues.

An SRT file is a list of blocks: a cue number, a timing line ``hh:mm:ss,mmm --> hh:mm:ss,mmm``
(hours may exceed 99; a ``.`` before the milliseconds is accepted on read) optionally followed
by coordinates (``X1:40 X2:600 Y1:20 Y2:50``, kept as cue settings), then the text lines.

SRT has no voice spans, so a speaker is written as a ``"Name: "`` prefix on the first text line
and, with ``speaker_prefix=True`` (the default), read back from such a prefix (a name starting
with a letter, at most 40 characters, followed by a colon and a space). Pass
``speaker_prefix=False`` when texts start with words like ``"Note: "``.

Annotations go out and come in exactly as for WebVTT (:func:`accord.io.webvtt.subtitle_cues`,
:func:`accord.io.webvtt.import_cues`): one cue per ``time_segment`` of one stream, speaker,
text and settings from attributes. Lossy besides what WebVTT loses: cue identifiers
(annotation ids) — SRT numbers its cues.
"""

from __future__ import annotations

import os
import re
from collections.abc import Collection, Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from accord.errors import FormatError, MissingMediaError
from accord.io.base import Dropped, ExportReport, ImportReport
from accord.io.webvtt import (
    Cue,
    Transcript,
    export_subtitles,
    import_cues,
)
from accord.progress import ProgressOption

if TYPE_CHECKING:
    from accord.session import Session

__all__ = [
    "export_srt",
    "format_srt",
    "format_srt_timestamp",
    "import_srt",
    "parse_srt",
    "read_srt",
    "write_srt",
]

_TIME = r"(\d+):([0-5]\d):([0-5]\d)[,.](\d{3})"
_TIMING = re.compile(rf"^{_TIME}[ \t]+-->[ \t]+{_TIME}(?:[ \t]+(.*))?$")
_LOOKS_TIMED = re.compile(r"^\s*\d+:\d+:\d+\S*\s*-+>?")
_SPEAKER = re.compile(r"^([^\W\d_][^:\n]{0,39}):[ \t]+(.*)$")


def _seconds(h: str, m: str, s: str, ms: str) -> float:
    return int(h) * 3600 + int(m) * 60 + int(s) + int(ms) / 1000


def parse_srt(text: str, source: str = "srt", *, speaker_prefix: bool = True) -> Transcript:
    """Parse SRT text; a :class:`FormatError` names the line that is wrong."""
    text = text.lstrip("\ufeff")
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    cues: list[Cue] = []
    i, n = 0, len(lines)
    while i < n:
        while i < n and not lines[i].strip():
            i += 1
        if i >= n:
            break
        start_line = i
        block = []
        while i < n and lines[i].strip():
            block.append(lines[i])
            i += 1
        number = block[0].strip()
        if not number.isdigit():
            expected = (
                "a cue number before the timing line"
                if _LOOKS_TIMED.match(number)
                else "a cue number (digits)"
            )
            raise FormatError(f"{source} line {start_line + 1}", expected, number[:60])
        if len(block) < 2:
            raise FormatError(
                f"{source} line {start_line + 2}", "a timing line after the cue number", ""
            )
        m = _TIMING.match(block[1].strip())
        if not m:
            raise FormatError(
                f"{source} line {start_line + 2}",
                "a timing 'hh:mm:ss,mmm --> hh:mm:ss,mmm'",
                block[1][:60],
            )
        start = _seconds(*m.group(1, 2, 3, 4))
        end = _seconds(*m.group(5, 6, 7, 8))
        if end < start:
            raise FormatError(
                f"{source} line {start_line + 2}", "an end time ≥ the start time", block[1]
            )
        settings = dict(s.split(":", 1) for s in (m.group(9) or "").split() if ":" in s)
        body = block[2:]
        speaker = None
        if speaker_prefix and body:
            v = _SPEAKER.match(body[0])
            if v:
                speaker = v.group(1).strip()
                body = [v.group(2), *body[1:]]
        cues.append(Cue(start, end, "\n".join(body), speaker, number, settings))
    return Transcript(tuple(cues))


def read_srt(
    path: str | os.PathLike[str], *, speaker_prefix: bool = True, encoding: str = "utf-8"
) -> Transcript:
    """Read an SRT file (UTF-8 by default, byte-order mark allowed)."""
    p = Path(path)
    if not p.is_file():
        raise MissingMediaError(str(p), "an existing SRT file", "no such file")
    try:
        text = p.read_bytes().decode("utf-8-sig" if encoding.lower() == "utf-8" else encoding)
    except UnicodeDecodeError as exc:
        raise FormatError(
            f"{p.name} byte {exc.start}", f"{encoding} text (pass encoding=...)", detail=exc.reason
        ) from None
    return parse_srt(text, p.name, speaker_prefix=speaker_prefix)


def format_srt_timestamp(t: float) -> str:
    """Seconds → ``hh:mm:ss,mmm`` (hours may exceed 99)."""
    ms = round(t * 1000)
    h, rem = divmod(ms, 3_600_000)
    m, rem = divmod(rem, 60_000)
    s, ms = divmod(rem, 1000)
    return f"{h:02d}:{m:02d}:{s:02d},{ms:03d}"


def format_srt(transcript: Transcript, *, speaker_prefix: bool = True) -> str:
    """The text of an SRT file (cues numbered from 1)."""
    out: list[str] = []
    for k, c in enumerate(transcript.cues, 1):
        settings = " ".join(f"{a}:{b}" for a, b in c.settings.items())
        out.append(str(k))
        out.append(
            f"{format_srt_timestamp(c.start)} --> {format_srt_timestamp(c.end)}"
            + (f" {settings}" if settings else "")
        )
        lines = [line for line in c.text.replace("\r\n", "\n").split("\n") if line.strip()]
        if c.speaker and speaker_prefix:
            name = " ".join(c.speaker.replace(":", " ").split())
            lines = [f"{name}: " + (lines[0] if lines else ""), *lines[1:]]
        out += lines
        out.append("")
    return "\n".join(out)


def write_srt(
    transcript: Transcript, path: str | os.PathLike[str], *, speaker_prefix: bool = True
) -> None:
    """Write cues as SRT (UTF-8), speakers as ``"Name: "`` prefixes."""
    Path(path).write_text(format_srt(transcript, speaker_prefix=speaker_prefix), encoding="utf-8")


def export_srt(
    session: Session,
    path: str | os.PathLike[str],
    *,
    items: str | Iterable[str] | None = None,
    stream: str,
    source: Literal["annotations", "cues"] = "annotations",
    labels: Collection[str] | None = None,
    timeline: Literal["item", "stream"] = "stream",
    speaker_attribute: str | None = "speaker",
    text_attribute: str | None = None,
    settings_attribute: str | None = "settings",
    speaker_prefix: bool = True,
    progress: ProgressOption = None,
) -> ExportReport:
    """Write one stream's time segments (or its transcript cues) as SRT.

    ``path`` is an ``.srt`` file (one item) or a folder (``{item}.srt`` per item).
    ``progress``: see :func:`accord.progress.open_progress`.
    """

    def write(cues: list[Cue], out: Path, report: ExportReport) -> None:
        speakers = sum(1 for c in cues if c.speaker)
        if speakers and not speaker_prefix:
            report.dropped.append(
                Dropped(
                    "attribute", speaker_attribute, f"{speakers} speaker(s): speaker_prefix=False"
                )
            )
        write_srt(Transcript(tuple(cues)), out, speaker_prefix=speaker_prefix)

    return export_subtitles(
        session,
        path,
        ExportReport("srt"),
        write,
        suffix=".srt",
        name="SRT",
        items=items,
        stream=stream,
        source=source,
        labels=labels,
        timeline=timeline,
        speaker_attribute=speaker_attribute,
        text_attribute=text_attribute,
        settings_attribute=settings_attribute,
        progress=progress,
    )


def import_srt(
    session: Session,
    path: str | os.PathLike[str],
    *,
    item: str,
    stream: str,
    label: str,
    speaker_attribute: str | None = "speaker",
    text_attribute: str | None = None,
    settings_attribute: str | None = "settings",
    timeline: Literal["item", "stream"] = "stream",
    speaker_prefix: bool = True,
    encoding: str = "utf-8",
    progress: ProgressOption = None,
) -> ImportReport:
    """Import the cues of an SRT file as ``time_segment`` annotations (one command).

    ``report.extra["ids"]`` maps cue numbers to the new annotation ids. ``progress``
    counts the cues (see :func:`accord.progress.open_progress`).
    """
    p = Path(path)
    transcript = read_srt(p, speaker_prefix=speaker_prefix, encoding=encoding)
    return import_cues(
        session,
        transcript,
        ImportReport("srt", p),
        item=item,
        stream=stream,
        label=label,
        speaker_attribute=speaker_attribute,
        text_attribute=text_attribute,
        settings_attribute=settings_attribute,
        timeline=timeline,
        fmt="srt",
        progress=progress,
    )
