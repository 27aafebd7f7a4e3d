"""WebVTT transcripts: read cues (times, speakers, settings) and write them.

Follows the W3C WebVTT spec for what transcripts use: the ``WEBVTT`` header,
optional cue identifiers, ``hh:mm:ss.ttt`` or ``mm:ss.ttt`` timestamps (hours
may exceed 99), cue settings after the end time, ``<v Speaker>`` voice spans,
``NOTE``/``STYLE``/``REGION`` blocks skipped. Other tags are stripped to text.
"""

from __future__ import annotations

import html
import os
import re
from dataclasses import dataclass, field
from pathlib import Path

from accord.errors import FormatError, MissingMediaError

__all__ = ["Cue", "Transcript", "format_timestamp", "read_webvtt", "write_webvtt"]

_TIME = r"(?:(\d+):)?([0-5]\d):([0-5]\d)\.(\d{3})"
_TIMING = re.compile(rf"^{_TIME}[ \t]+-->[ \t]+{_TIME}(?:[ \t]+(.*))?$")
_VOICE = re.compile(r"<v(?:\.[^\s>]+)*[ \t]+([^>]+)>")
_TAG = re.compile(r"</?[^>]*>")


@dataclass(frozen=True)
class Cue:
    """One cue: times in seconds, plain text, optional speaker and settings."""

    start: float
    end: float
    text: str
    speaker: str | None = None
    identifier: str | None = None
    settings: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Transcript:
    """Cues of a transcript plus the text they make when joined by newlines."""

    cues: tuple[Cue, ...]

    @property
    def text(self) -> str:
        return "\n".join(c.text for c in self.cues)

    def spans(self) -> list[tuple[int, int]]:
        """Character ``[start, end)`` of each cue inside :attr:`text`."""
        out, pos = [], 0
        for c in self.cues:
            out.append((pos, pos + len(c.text)))
            pos += len(c.text) + 1
        return out

    @property
    def duration(self) -> float:
        return max((c.end for c in self.cues), default=0.0)


def _seconds(h: str | None, m: str, s: str, ms: str) -> float:
    return int(h or 0) * 3600 + int(m) * 60 + int(s) + int(ms) / 1000


def read_webvtt(path: str | os.PathLike[str]) -> Transcript:
    """Parse a WebVTT file; :class:`FormatError` names the line that is wrong."""
    p = Path(path)
    if not p.is_file():
        raise MissingMediaError(str(p), "an existing WebVTT file", "no such file")
    try:
        text = p.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as exc:
        raise FormatError(str(p), "UTF-8 text", detail=str(exc)) from exc
    return parse_webvtt(text, p.name)


def parse_webvtt(text: str, source: str = "webvtt") -> Transcript:
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    if not lines or not re.match(r"^WEBVTT([ \t].*)?$", lines[0]):
        raise FormatError(
            f"{source} line 1", "a first line 'WEBVTT'", lines[0][:40] if lines else ""
        )
    cues: list[Cue] = []
    i = 1
    n = len(lines)
    while i < n:
        while i < n and not lines[i].strip():
            i += 1
        if i >= n:
            break
        block_start = i
        block = []
        while i < n and lines[i].strip():
            block.append(lines[i])
            i += 1
        head = block[0]
        if head.startswith(("NOTE", "STYLE", "REGION")) and "-->" not in head:
            continue
        identifier = None
        if "-->" not in head and re.match(r"^\s*(\d+:)?\d+:\d+[.,]\d+\s*-+>?", head):
            raise FormatError(
                f"{source} line {block_start + 1}",
                "a timing 'hh:mm:ss.ttt --> hh:mm:ss.ttt'",
                head[:60],
            )
        if "-->" not in head:
            identifier = head
            block = block[1:]
            block_start += 1
            if not block:
                raise FormatError(
                    f"{source} line {block_start}", "a cue timing line after the identifier", ""
                )
        m = _TIMING.match(block[0].strip())
        if not m:
            raise FormatError(
                f"{source} line {block_start + 1}",
                "a timing 'hh:mm:ss.ttt --> hh:mm:ss.ttt'",
                block[0][:60],
            )
        start = _seconds(*m.group(1, 2, 3, 4))
        end = _seconds(*m.group(5, 6, 7, 8))
        if end < start:
            raise FormatError(
                f"{source} line {block_start + 1}", "an end time ≥ the start time", block[0]
            )
        settings = dict(s.split(":", 1) for s in (m.group(9) or "").split() if ":" in s)
        payload = "\n".join(block[1:])
        voice = _VOICE.search(payload)
        speaker = voice.group(1).strip() if voice else None
        plain = html.unescape(_TAG.sub("", payload))
        cues.append(Cue(start, end, plain, speaker, identifier, settings))
    return Transcript(tuple(cues))


def format_timestamp(t: float) -> str:
    """Seconds → ``hh:mm:ss.ttt`` (hours may exceed 99)."""
    ms = round(t * 1000)
    h, rem = divmod(ms, 3_600_000)
    m, rem = divmod(rem, 60_000)
    s, ms = divmod(rem, 1000)
    return f"{h:02d}:{m:02d}:{s:02d}.{ms:03d}"


def write_webvtt(transcript: Transcript, path: str | os.PathLike[str]) -> None:
    """Write cues as WebVTT, speakers as ``<v Name>`` spans."""
    out = ["WEBVTT", ""]
    for c in transcript.cues:
        if c.identifier:
            out.append(c.identifier)
        settings = " ".join(f"{k}:{v}" for k, v in c.settings.items())
        out.append(
            f"{format_timestamp(c.start)} --> {format_timestamp(c.end)}"
            + (f" {settings}" if settings else "")
        )
        body = html.escape(c.text, quote=False)
        out.append(f"<v {c.speaker}>{body}" if c.speaker else body)
        out.append("")
    Path(path).write_text("\n".join(out), encoding="utf-8")
