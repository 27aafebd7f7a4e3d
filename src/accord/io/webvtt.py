"""WebVTT transcripts: read and write cues; export and import annotations as cues.

Reading follows the W3C WebVTT spec for what transcripts use: the ``WEBVTT`` header,
optional cue identifiers, ``hh:mm:ss.ttt`` or ``mm:ss.ttt`` timestamps (hours may exceed 99),
cue settings after the end time (kept in order), ``<v Speaker>`` voice spans,
``NOTE``/``STYLE``/``REGION`` blocks skipped. Other tags are stripped to text.

Annotations (:func:`export_webvtt`, :func:`import_webvtt`; the SRT module shares both):

* **Export** writes one cue per ``time_segment`` annotation of one stream (``source=
  "annotations"``), or the cues of a transcript text stream itself (``source="cues"``). The
  identifier is the annotation id; the speaker is the ``speaker_attribute`` (a ``<v Name>``
  span); the text is the ``text_attribute`` when given and set, else the text of the
  transcript cues the segment covers (text streams), else the label; the cue settings are the
  ``settings_attribute`` (text such as ``"align:start line:90%"``). Times are the stream's own
  seconds (``timeline="stream"``) or item seconds (``timeline="item"``).
* **Import** makes one ``time_segment`` of class ``label`` per cue (``source="import"``) on the
  stream the caller names. Speaker, text and settings go to those attributes when the class has
  them (and their values fit); otherwise each is reported. Identifiers map to the new ids in
  ``report.extra["ids"]``.

Lossy: times are rounded to the millisecond; other attributes, annotation fields, links and
entities are reported; tags inside cue text other than the first voice are stripped on read.
"""

from __future__ import annotations

import html
import os
import re
from collections import Counter
from collections.abc import Callable, Collection, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from accord.errors import FormatError, MissingMediaError, ValidationError
from accord.io.base import Dropped, ExportReport, ImportReport
from accord.progress import Progress, ProgressOption, open_progress

if TYPE_CHECKING:
    from accord.model.item import Item, Stream
    from accord.session import Session

__all__ = [
    "Cue",
    "Transcript",
    "export_webvtt",
    "format_timestamp",
    "import_webvtt",
    "parse_webvtt",
    "read_webvtt",
    "write_webvtt",
]

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
        speaker = html.unescape(voice.group(1).strip()) if voice else None
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


def _one_line(text: str) -> str:
    return " ".join(text.split("\n")).replace("-->", "->")


def _cue_lines(text: str) -> list[str]:
    """Cue text as lines with no blank line (a blank line would end the cue)."""
    return [line for line in text.replace("\r\n", "\n").split("\n") if line.strip()]


def format_webvtt(transcript: Transcript) -> str:
    """The text of a WebVTT file: identifiers, timings with settings, ``<v Name>`` voices."""
    out = ["WEBVTT", ""]
    for c in transcript.cues:
        if c.identifier:
            out.append(_one_line(c.identifier))
        settings = " ".join(f"{k}:{v}" for k, v in c.settings.items())
        out.append(
            f"{format_timestamp(c.start)} --> {format_timestamp(c.end)}"
            + (f" {settings}" if settings else "")
        )
        lines = [html.escape(line, quote=False) for line in _cue_lines(c.text)]
        if c.speaker:
            voice = f"<v {html.escape(_one_line(c.speaker), quote=False)}>"
            lines = [voice + (lines[0] if lines else ""), *lines[1:]]
        out += lines
        out.append("")
    return "\n".join(out)


def write_webvtt(transcript: Transcript, path: str | os.PathLike[str]) -> None:
    """Write cues as WebVTT, speakers as ``<v Name>`` spans."""
    Path(path).write_text(format_webvtt(transcript), encoding="utf-8")


# -- annotations as cues (shared with the SRT module) --------------------------------------------


def subtitle_paths(
    path: str | os.PathLike[str], session: Session, items: Any, suffix: str, fmt: str
) -> dict[str, Path]:
    """``{item: file}`` for a subtitle export (a ``suffix`` file for one item, else a folder)."""
    from accord.io.tiers import output_paths, select_items

    ids = select_items(session, items)
    return output_paths(path, ids, suffix, fmt)


def check_stream(session: Session, items: dict[str, Path], stream: str) -> None:
    """Raise before writing anything unless every item has ``stream``."""
    for item_id in items:
        session.item(item_id).stream(stream)


def _covered_text(stream: Stream, start: float, end: float) -> str | None:
    """Text of the transcript cues inside ``[start, end]`` (else overlapping it), or ``None``."""
    cues = stream.meta.get("cues") if stream.text is not None else None
    if not cues:
        return None
    text = stream.text or ""
    inside = [c for c in cues if c["start"] >= start - 1e-3 and c["end"] <= end + 1e-3]
    chosen = inside or [c for c in cues if min(c["end"], end) - max(c["start"], start) > 0]
    if not chosen:
        return None
    return "\n".join(text[c["char_start"] : c["char_end"]] for c in chosen)


def _settings(text: Any) -> dict[str, str]:
    if not isinstance(text, str):
        return {}
    return dict(part.split(":", 1) for part in text.split() if ":" in part)


def subtitle_cues(
    session: Session,
    item: Item,
    stream: Stream,
    report: ExportReport,
    *,
    source: Literal["annotations", "cues"] = "annotations",
    labels: Collection[str] | None = None,
    timeline: Literal["item", "stream"] = "stream",
    speaker_attribute: str | None = "speaker",
    text_attribute: str | None = None,
    settings_attribute: str | None = "settings",
    fmt: str = "WebVTT",
    records: list[dict[str, Any]] | None = None,
    bar: Progress | None = None,
) -> list[Cue]:
    """The cues to export for one stream (see the module docstring); losses go to ``report``.

    ``records`` are the stream's annotations (read from the store when ``None``); ``bar``
    advances by one per annotation or transcript cue.
    """
    from accord.io.tiers import unheld_fields

    def to_file(t: float) -> float:
        return float(stream.clock.to_item(t)) if timeline == "item" else float(t)

    cues: list[Cue] = []
    if source == "cues":
        if stream.text is None or not stream.meta.get("cues"):
            raise ValidationError(
                f"export_{fmt.lower()}(source='cues')",
                "a transcript text stream with cues",
                f"{item.id}/{stream.name}",
            )
        text = stream.text
        for c in stream.meta["cues"]:
            if bar is not None:
                bar.advance()
            start, end = to_file(c["start"]), to_file(c["end"])
            if start < 0:
                report.dropped.append(Dropped("cue", None, f"starts before 0 ({start:g} s)"))
                continue
            cues.append(
                Cue(start, end, text[c["char_start"] : c["char_end"]], c.get("speaker") or None)
            )
        return sorted(cues, key=lambda c: (c.start, c.end))
    held = {speaker_attribute, text_attribute, settings_attribute} - {None}
    other: Counter[str] = Counter()
    placed = []
    if records is None:
        records = session.store.records("annotation", item=item.id, stream=stream.name)
    for r in records:
        if bar is not None:
            bar.advance()
        if labels is not None and r["label"] not in labels:
            continue
        if r["kind"] != "time_segment":
            report.dropped.append(Dropped("annotation", r["id"], f"a {r['kind']} has no cue time"))
            continue
        g, attrs = r["geometry"], r["attributes"]
        start, end = to_file(g["start"]), to_file(g["end"])
        if start < 0:
            report.dropped.append(Dropped("annotation", r["id"], f"starts before 0 ({start:g} s)"))
            continue
        for k, v in attrs.items():
            if k not in held and v is not None:
                other[k] += 1
        text = attrs.get(text_attribute) if text_attribute else None
        if not isinstance(text, str):
            text = _covered_text(stream, g["start"], g["end"])
        speaker = attrs.get(speaker_attribute) if speaker_attribute else None
        cues.append(
            Cue(
                start,
                end,
                r["label"] if text is None else text,
                None if speaker in (None, "") else str(speaker),
                r["id"],
                _settings(attrs.get(settings_attribute)) if settings_attribute else {},
            )
        )
        placed.append(r)
    for name, n in other.items():
        report.dropped.append(
            Dropped("attribute", name, f"{n} annotation(s): {fmt} has no place for {name!r}")
        )
    report.dropped += unheld_fields(placed, fmt)
    ids = {r["id"] for r in placed}
    for link in session.store.records("link", item=item.id):
        if link["source"] in ids or link["target"] in ids:
            report.dropped.append(Dropped("link", link["id"], f"{fmt} has no links"))
    return sorted(cues, key=lambda c: (c.start, c.end))


def import_cues(
    session: Session,
    transcript: Transcript,
    report: ImportReport,
    *,
    item: str,
    stream: str,
    label: str,
    speaker_attribute: str | None = "speaker",
    text_attribute: str | None = None,
    settings_attribute: str | None = "settings",
    timeline: Literal["item", "stream"] = "stream",
    fmt: str = "webvtt",
    progress: ProgressOption = None,
) -> ImportReport:
    """Store cues as ``time_segment`` annotations of ``label`` on one stream, as one command.

    ``progress`` counts the cues (see :func:`accord.progress.open_progress`).
    """
    from accord.io.tiers import SegmentBatch

    if timeline not in ("item", "stream"):
        raise ValidationError(f"import_{fmt}(timeline=...)", "'item' or 'stream'", timeline)
    it = session.item(item)
    st = it.stream(stream)
    tax = session.taxonomy
    tax.label(label, f"import_{fmt}(label=...)")
    tax.check_geometry(label, st.modality, "time_segment", f"import_{fmt}(label={label!r})")
    batch = SegmentBatch(session, it, report)
    shown = {"webvtt": "WebVTT", "srt": "SRT"}.get(fmt, fmt)
    with open_progress(
        progress, len(transcript.cues), f"Importing {shown} {report.path.name}"
    ) as bar:
        for n, cue in enumerate(transcript.cues, 1):
            bar.advance()
            ref = cue.identifier or f"cue {n}"
            raw: dict[str, Any] = {}
            source: dict[str, str] = {}
            settings = " ".join(f"{k}:{v}" for k, v in cue.settings.items())
            for what, name, value in (
                ("speaker", speaker_attribute, cue.speaker),
                ("text", text_attribute, cue.text),
                ("settings", settings_attribute, settings),
            ):
                if value in (None, ""):
                    continue
                if name is None:
                    batch.drop("attribute", ref, f"cue {what} kept nowhere: pass {what}_attribute=")
                    continue
                raw[name] = value
                source[name] = f"{ref} ({what})"
            typed = batch.typed_attributes(label, raw, ref, source)
            start, end = cue.start, cue.end
            if timeline == "item":
                start, end = float(st.clock.to_stream(start)), float(st.clock.to_stream(end))
            batch.add(st, label, start, end, typed, ref)
        report = batch.commit(bar)
    report.counts["cues"] = len(transcript.cues)
    return report


def export_subtitles(
    session: Session,
    path: str | os.PathLike[str],
    report: ExportReport,
    write: Callable[[list[Cue], Path, ExportReport], None],
    *,
    suffix: str,
    name: str,
    items: str | Iterable[str] | None,
    stream: str,
    source: Literal["annotations", "cues"],
    labels: Collection[str] | None,
    timeline: Literal["item", "stream"],
    speaker_attribute: str | None,
    text_attribute: str | None,
    settings_attribute: str | None,
    progress: ProgressOption = None,
) -> ExportReport:
    """The export shared by WebVTT and SRT: check the arguments, gather each item's cues
    (:func:`subtitle_cues`), ``write(cues, file, report)`` them, count."""
    fmt = report.format
    if source not in ("annotations", "cues"):
        raise ValidationError(f"export_{fmt}(source=...)", "'annotations' or 'cues'", source)
    if timeline not in ("item", "stream"):
        raise ValidationError(f"export_{fmt}(timeline=...)", "'item' or 'stream'", timeline)
    n = 0
    targets = subtitle_paths(path, session, items, suffix, fmt)
    check_stream(session, targets, stream)
    records: dict[str, list[dict[str, Any]]] = {}
    total = 0
    for item_id in targets:
        st = session.item(item_id).stream(stream)
        if source == "annotations":
            records[item_id] = session.store.records("annotation", item=item_id, stream=stream)
            total += len(records[item_id])
        else:
            total += len(st.meta.get("cues") or ())
    with open_progress(progress, total, f"Exporting {name} {Path(path).name}") as bar:
        for item_id, out in targets.items():
            it = session.item(item_id)
            cues = subtitle_cues(
                session,
                it,
                it.stream(stream),
                report,
                source=source,
                labels=labels,
                timeline=timeline,
                speaker_attribute=speaker_attribute,
                text_attribute=text_attribute,
                settings_attribute=settings_attribute,
                fmt=name,
                records=records.get(item_id),
                bar=bar,
            )
            write(cues, out, report)
            report.paths.append(out)
            n += len(cues)
    report.counts.update(cues=n, files=len(report.paths))
    return report


def export_webvtt(
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
    progress: ProgressOption = None,
) -> ExportReport:
    """Write one stream's time segments (or its transcript cues) as WebVTT.

    ``path`` is a ``.vtt`` file (one item) or a folder (``{item}.vtt`` per item); ``labels``
    keeps only those classes. See the module docstring for the cue fields. ``progress``:
    see :func:`accord.progress.open_progress`.
    """

    def write(cues: list[Cue], out: Path, report: ExportReport) -> None:
        write_webvtt(Transcript(tuple(cues)), out)

    return export_subtitles(
        session,
        path,
        ExportReport("webvtt"),
        write,
        suffix=".vtt",
        name="WebVTT",
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


def import_webvtt(
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
    progress: ProgressOption = None,
) -> ImportReport:
    """Import the cues of a WebVTT file as ``time_segment`` annotations (one command).

    ``progress`` counts the cues (see :func:`accord.progress.open_progress`).
    """
    p = Path(path)
    transcript = read_webvtt(p)
    return import_cues(
        session,
        transcript,
        ImportReport("webvtt", p),
        item=item,
        stream=stream,
        label=label,
        speaker_attribute=speaker_attribute,
        text_attribute=text_attribute,
        settings_attribute=settings_attribute,
        timeline=timeline,
        fmt="webvtt",
        progress=progress,
    )
