"""Praat TextGrid files: interval and point tiers, long and short text forms, UTF-8 or UTF-16.

Tiers follow the ELAN conventions of :mod:`accord.io.eaf` (same tier ids, same rules for
streams and labels on import), except that TextGrid has no annotators and no child tiers:

* **Export** (:func:`export_textgrid`, one file per item). ``time_segment`` annotations of
  audio, video and text streams become intervals whose text is the label, on tiers
  ``"{stream}/{name}"`` (name: the ``tier_by`` or ``tier`` attribute, else the label;
  ``"#2"``… on overflow tiers, since intervals of one tier cannot overlap). Gaps are empty
  intervals. Each attribute becomes a parallel tier ``"{tier}:{attribute}"`` with the same
  intervals, its values as text (JSON for non-text types). Times are written exactly (shortest
  decimal that reads back as the same float, never in exponent form) on the item timeline
  (``timeline="item"``) or in each stream's own seconds (``timeline="stream"``, meant for one
  stream opened in Praat next to its sound file).
* **Import** (:func:`import_textgrid`). Intervals and points with non-empty text become
  ``time_segment`` annotations (``source="import"``); tiers named ``"{tier}:{attribute}"`` give
  the attribute of the annotation with the same bounds on ``{tier}``.
* **Points.** accord has no zero-length segments, so a point at ``t`` is imported as the
  segment ``[t, t + point_duration]`` (1 ms by default; ``[t - d, t]`` at the very end of the
  stream), counted in ``report.counts["points"]``. On export, a tier whose segments all last at
  most ``point_max`` (when given) is written as a point tier (``TextTier``) at the segment
  starts, so TextGrid → accord → TextGrid with ``point_max=point_duration`` gives the points
  back.

Lossy: annotators, ids, status, source, score, track, entity and stage (reported when set);
empty attribute values (an empty interval is a gap); links and entities (reported).

Reading accepts Praat's long and short text forms (``!`` comments included), encoded as UTF-8
or UTF-16 (with or without byte-order mark, as Praat writes non-ASCII text). A malformed file
raises :class:`~accord.errors.FormatError` naming the line; so do binary TextGrids and Praat's
"chronological" variant, which are not read.
"""

from __future__ import annotations

import codecs
import os
import re
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, NamedTuple

from accord.errors import FormatError, MissingMediaError, ValidationError
from accord.io.base import Dropped, ExportReport, ImportReport
from accord.io.tiers import (
    TIMED_MODALITIES,
    SegmentBatch,
    TierMapper,
    TierPlan,
    attribute_text,
    graph_drops,
    output_paths,
    plan_tiers,
    select_items,
    unheld_fields,
)
from accord.model.item import Item
from accord.progress import ProgressOption, open_progress

if TYPE_CHECKING:
    from accord.session import Session

__all__ = [
    "TextGrid",
    "TextGridTier",
    "export_textgrid",
    "format_textgrid",
    "import_textgrid",
    "parse_textgrid",
    "read_textgrid",
    "write_textgrid",
]

INTERVAL_TIER = "IntervalTier"
POINT_TIER = "TextTier"


@dataclass(frozen=True)
class TextGridTier:
    """One tier. ``entries`` are ``(start, end, text)``; a point has ``start == end``."""

    name: str
    kind: str  # "IntervalTier" or "TextTier"
    xmin: float
    xmax: float
    entries: tuple[tuple[float, float, str], ...]

    @property
    def is_points(self) -> bool:
        return self.kind == POINT_TIER


@dataclass(frozen=True)
class TextGrid:
    """A TextGrid: its time domain and tiers."""

    xmin: float
    xmax: float
    tiers: tuple[TextGridTier, ...]

    def tier(self, name: str) -> TextGridTier:
        for t in self.tiers:
            if t.name == name:
                return t
        raise KeyError(name)


# -- reading ------------------------------------------------------------------------------------

# What carries no value is skipped as one run: white space, newlines, ! comments, labels
# ("xmin =", "intervals [3]:", "tiers?"), indices and punctuation.
_TOKEN = re.compile(
    r"""
    (?P<skip>(?:
        [ \t\r\f\v\n]
      | ![^\n]*
      | \[[^\]\n]*\]
      | [A-Za-z_]\w*(?:[ \t]+[A-Za-z_]\w*)*[ \t]*(?:\?|(?=[=:\[]))
      | [=:]
    )+)
  | (?P<string>"(?:[^"]|"")*")
  | (?P<flag><[A-Za-z]+>)
  | (?P<number>[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?)(?![\w.])
    """,
    re.VERBOSE,
)


class _Token(NamedTuple):
    kind: str  # "number", "string", "flag"
    text: str
    line: int


def _tokens(text: str, source: str) -> list[_Token]:
    out: list[_Token] = []
    append = out.append
    pos, line, n = 0, 1, len(text)
    for m in _TOKEN.finditer(text):
        if m.start() != pos:
            break
        kind = m.lastgroup
        value = m.group()
        if kind == "skip":
            line += value.count("\n")
        elif kind == "string":
            append(_Token(kind, value[1:-1].replace('""', '"'), line))
            line += value.count("\n")
        else:
            append(_Token(kind or "", value, line))
        pos = m.end()
    if pos < n:  # the text at ``pos`` is no token
        snippet = text[pos : pos + 30].split("\n")[0]
        expected = (
            'a closing " for the text that starts here'
            if text[pos] == '"'
            else "a number, a quoted text or a <flag>"
        )
        detail = (
            "texts may span lines: an earlier text may lack its closing quote"
            if text[pos] == '"'
            else None
        )
        raise FormatError(f"{source} line {line}", expected, snippet, detail=detail)
    return out


class _Reader:
    def __init__(self, tokens: list[_Token], source: str, last_line: int) -> None:
        self.tokens = tokens
        self.pos = 0
        self.source = source
        self.last_line = last_line

    def _next(self, kind: str, what: str) -> _Token:
        if self.pos >= len(self.tokens):
            raise FormatError(
                f"{self.source} line {self.last_line} (end of file)", f"{what}", "nothing more"
            )
        tok = self.tokens[self.pos]
        if tok.kind != kind:
            shown = f'"{tok.text}"' if tok.kind == "string" else tok.text
            raise FormatError(f"{self.source} line {tok.line}", what, shown)
        self.pos += 1
        return tok

    def line(self) -> int:
        if self.pos < len(self.tokens):
            return self.tokens[self.pos].line
        return self.last_line

    def string(self, what: str) -> str:
        return self._next("string", f"a quoted text ({what})").text

    def number(self, what: str) -> float:
        tok = self._next("number", f"a number ({what})")
        return float(tok.text)

    def count(self, what: str) -> int:
        tok = self._next("number", f"a whole number ({what})")
        value = float(tok.text)
        if value != int(value) or value < 0:
            raise FormatError(f"{self.source} line {tok.line}", f"a count ≥ 0 ({what})", tok.text)
        return int(value)

    def flag(self, what: str) -> str:
        return self._next("flag", f"a flag ({what})").text

    def more(self) -> bool:
        return self.pos < len(self.tokens)


def decode_textgrid(data: bytes, source: str = "TextGrid") -> str:
    """Bytes → text: UTF-8 (BOM optional) or UTF-16 (BOM optional, either byte order)."""
    try:
        if data.startswith(codecs.BOM_UTF8):
            return data[len(codecs.BOM_UTF8) :].decode("utf-8")
        if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
            return data.decode("utf-16")
        head = data[:400]
        if b"\x00" in head:
            little = head[1::2].count(0) > head[0::2].count(0)
            return data.decode("utf-16-le" if little else "utf-16-be")
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise FormatError(
            f"{source} byte {exc.start}", "UTF-8 or UTF-16 text", detail=exc.reason
        ) from None


def parse_textgrid(text: str, source: str = "TextGrid") -> TextGrid:
    """Parse the long or short text form of a TextGrid."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    last_line = text.count("\n") + 1
    r = _Reader(_tokens(text, source), source, last_line)
    line = r.line()
    file_type = r.string("File type")
    if file_type not in ("ooTextFile", "ooTextFile short"):
        raise FormatError(f"{source} line {line}", 'File type = "ooTextFile"', file_type)
    line = r.line()
    klass = r.string("Object class")
    if klass != "TextGrid":
        raise FormatError(f"{source} line {line}", 'Object class = "TextGrid"', klass)
    xmin = r.number("xmin of the TextGrid")
    line = r.line()
    xmax = r.number("xmax of the TextGrid")
    if xmax < xmin:
        raise FormatError(f"{source} line {line}", f"an xmax ≥ xmin ({xmin:g})", xmax)
    line = r.line()
    exists = r.flag("tiers? <exists>")
    if exists not in ("<exists>", "<absent>"):
        raise FormatError(f"{source} line {line}", "<exists> or <absent>", exists)
    tiers: list[TextGridTier] = []
    if exists == "<exists>":
        size = r.count("number of tiers")
        for i in range(1, size + 1):
            tiers.append(_tier(r, i, source))
    if r.more():
        tok = r.tokens[r.pos]
        raise FormatError(
            f"{source} line {tok.line}", f"the end of the file after {len(tiers)} tier(s)", tok.text
        )
    return TextGrid(xmin, xmax, tuple(tiers))


def _tier(r: _Reader, i: int, source: str) -> TextGridTier:
    line = r.line()
    kind = r.string(f"class of tier {i}")
    if kind not in (INTERVAL_TIER, POINT_TIER):
        raise FormatError(f"{source} line {line}", '"IntervalTier" or "TextTier"', kind)
    name = r.string(f"name of tier {i}")
    xmin = r.number(f"xmin of tier {name!r}")
    xmax = r.number(f"xmax of tier {name!r}")
    n = r.count(f"number of entries of tier {name!r}")
    entries: list[tuple[float, float, str]] = []
    for k in range(1, n + 1):
        if kind == INTERVAL_TIER:
            start = r.number(f"xmin of interval {k} of tier {name!r}")
            line = r.line()
            end = r.number(f"xmax of interval {k} of tier {name!r}")
            if end < start:
                raise FormatError(
                    f"{source} line {line}",
                    f"an xmax ≥ xmin ({start:g}) for interval {k} of tier {name!r}",
                    end,
                )
            entries.append((start, end, r.string(f"text of interval {k} of tier {name!r}")))
        else:
            t = r.number(f"time of point {k} of tier {name!r}")
            entries.append((t, t, r.string(f"mark of point {k} of tier {name!r}")))
    return TextGridTier(name, kind, xmin, xmax, tuple(entries))


def read_textgrid(path: str | os.PathLike[str]) -> TextGrid:
    """Read a TextGrid file (long or short form, UTF-8 or UTF-16)."""
    p = Path(path)
    if not p.is_file():
        raise MissingMediaError(str(p), "an existing TextGrid file", "no such file")
    return parse_textgrid(decode_textgrid(p.read_bytes(), p.name), p.name)


# -- writing ------------------------------------------------------------------------------------


def _num(x: float) -> str:
    """A time as Praat writes it: integers bare, others the shortest exact decimal."""
    if x == int(x):
        return str(int(x))
    return format(Decimal(repr(float(x))), "f")


def _quote(text: str) -> str:
    return '"' + text.replace('"', '""') + '"'


def format_textgrid(grid: TextGrid, format: Literal["long", "short"] = "long") -> str:
    """The text of a TextGrid in Praat's long or short form."""
    if format not in ("long", "short"):
        raise ValidationError("format", "'long' or 'short'", format)
    out = ['File type = "ooTextFile"', 'Object class = "TextGrid"', ""]
    if format == "short":
        out += [_num(grid.xmin), _num(grid.xmax), "<exists>", str(len(grid.tiers))]
        for t in grid.tiers:
            out += [_quote(t.kind), _quote(t.name), _num(t.xmin), _num(t.xmax)]
            out.append(str(len(t.entries)))
            for start, end, text in t.entries:
                out += [_num(start)] if t.is_points else [_num(start), _num(end)]
                out.append(_quote(text))
        return "\n".join(out) + "\n"
    out += [
        f"xmin = {_num(grid.xmin)} ",
        f"xmax = {_num(grid.xmax)} ",
        "tiers? <exists> ",
        f"size = {len(grid.tiers)} ",
        "item []: ",
    ]
    tab = "    "
    for i, t in enumerate(grid.tiers, 1):
        out += [
            f"{tab}item [{i}]:",
            f"{tab * 2}class = {_quote(t.kind)} ",
            f"{tab * 2}name = {_quote(t.name)} ",
            f"{tab * 2}xmin = {_num(t.xmin)} ",
            f"{tab * 2}xmax = {_num(t.xmax)} ",
        ]
        word = "points" if t.is_points else "intervals"
        out.append(f"{tab * 2}{word}: size = {len(t.entries)} ")
        for k, (start, end, text) in enumerate(t.entries, 1):
            out.append(f"{tab * 2}{word} [{k}]:")
            if t.is_points:
                out += [f"{tab * 3}number = {_num(start)} ", f"{tab * 3}mark = {_quote(text)} "]
            else:
                out += [
                    f"{tab * 3}xmin = {_num(start)} ",
                    f"{tab * 3}xmax = {_num(end)} ",
                    f"{tab * 3}text = {_quote(text)} ",
                ]
    return "\n".join(out) + "\n"


def write_textgrid(
    grid: TextGrid,
    path: str | os.PathLike[str],
    *,
    format: Literal["long", "short"] = "long",
    encoding: Literal["utf-8", "utf-16"] = "utf-8",
) -> None:
    """Write a TextGrid; ``encoding="utf-16"`` writes big-endian with a byte-order mark."""
    text = format_textgrid(grid, format)
    if encoding == "utf-8":
        data = text.encode("utf-8")
    elif encoding == "utf-16":
        data = codecs.BOM_UTF16_BE + text.encode("utf-16-be")
    else:
        raise ValidationError("encoding", "'utf-8' or 'utf-16'", encoding)
    Path(path).write_bytes(data)


def _filled(
    entries: list[tuple[float, float, str]], xmin: float, xmax: float
) -> tuple[tuple[float, float, str], ...]:
    """Intervals with the gaps between them (and to the ends) as empty intervals."""
    out: list[tuple[float, float, str]] = []
    t = xmin
    for start, end, text in entries:
        if start > t:
            out.append((t, start, ""))
        out.append((start, end, text))
        t = end
    if t < xmax or not out:
        out.append((t, xmax, ""))
    return tuple(out)


# -- export -------------------------------------------------------------------------------------


def _entries(
    plan: TierPlan, attribute: str | None, points: bool, xmin: float, xmax: float
) -> tuple[tuple[float, float, str], ...]:
    """Entries of a planned tier: labels (``attribute=None``) or one attribute's values."""
    rows = []
    for rec, start, end in plan.rows:
        value = rec["label"] if attribute is None else rec["attributes"].get(attribute)
        if value is not None:
            rows.append((start, start if points else end, attribute_text(value)))
    return tuple(rows) if points else _filled(rows, xmin, xmax)


def export_textgrid(
    session: Session,
    path: str | os.PathLike[str],
    *,
    items: str | Iterable[str] | None = None,
    streams: Collection[str] | None = None,
    format: Literal["long", "short"] = "long",
    encoding: Literal["utf-8", "utf-16"] = "utf-8",
    timeline: Literal["item", "stream"] = "item",
    tier_by: str | None = None,
    point_max: float | None = None,
    progress: ProgressOption = None,
) -> ExportReport:
    """Write the time segments of ``items`` as TextGrids (see the module docstring).

    ``path`` is a ``.TextGrid`` file (one item) or a folder (``{item}.TextGrid`` per item).
    ``progress``: see :func:`accord.progress.open_progress`.
    """
    if format not in ("long", "short"):
        raise ValidationError("export_textgrid(format=...)", "'long' or 'short'", format)
    if encoding not in ("utf-8", "utf-16"):
        raise ValidationError("export_textgrid(encoding=...)", "'utf-8' or 'utf-16'", encoding)
    if timeline not in ("item", "stream"):
        raise ValidationError("export_textgrid(timeline=...)", "'item' or 'stream'", timeline)
    ids = select_items(session, items)
    targets = output_paths(path, ids, ".TextGrid", "textgrid")
    report = ExportReport("textgrid")
    records = [r for r in session.store.records("annotation") if r["item"] in targets]
    with open_progress(progress, len(records), f"Exporting TextGrid {Path(path).name}") as bar:
        n_ann = n_tiers = n_points = 0
        for item_id, out in targets.items():
            it = session.item(item_id)

            def times(r: dict[str, Any], it: Item = it) -> tuple[float, float]:
                g = r["geometry"]
                if timeline == "stream":
                    return float(g["start"]), float(g["end"])
                clock = it.streams[r["stream"]].clock
                return float(clock.to_item(g["start"])), float(clock.to_item(g["end"]))

            placed = []
            for r in records:
                if r["item"] != item_id:
                    continue
                bar.advance()
                if streams is not None and r["stream"] not in streams:
                    continue
                st = it.streams.get(r["stream"])
                if r["kind"] != "time_segment":
                    report.dropped.append(
                        Dropped("annotation", r["id"], f"a {r['kind']} has no place in a TextGrid")
                    )
                elif st is None or st.modality not in TIMED_MODALITIES:
                    report.dropped.append(Dropped("annotation", r["id"], "not on a timed stream"))
                elif times(r)[0] < 0:
                    report.dropped.append(
                        Dropped("annotation", r["id"], f"starts before 0 ({times(r)[0]:g} s)")
                    )
                else:
                    placed.append(r)
            bar.stage(f"writing {out.name}")
            plans = plan_tiers(placed, times, tier_by=tier_by, by_annotator=False)
            ends = [end for p in plans for _, _, end in p.rows]
            durations = [
                (st.duration if timeline == "stream" else st.clock.to_item(st.duration))
                for st in it.streams.values()
                if st.duration is not None and (streams is None or st.name in streams)
            ]
            xmin = 0.0
            xmax = max([*ends, *durations, xmin])
            if xmax <= xmin:
                xmax = xmin + 1.0
            tiers: list[TextGridTier] = []
            for p in plans:
                points = point_max is not None and all(
                    e - s <= point_max + 1e-12 for _, s, e in p.rows
                )
                kind = POINT_TIER if points else INTERVAL_TIER

                tiers.append(
                    TextGridTier(p.id, kind, xmin, xmax, _entries(p, None, points, xmin, xmax))
                )
                for attr in p.attribute_names():
                    values = _entries(p, attr, points, xmin, xmax)
                    tiers.append(TextGridTier(f"{p.id}:{attr}", kind, xmin, xmax, values))
                n_points += len(p.rows) if points else 0
            write_textgrid(
                TextGrid(xmin, xmax, tuple(tiers)), out, format=format, encoding=encoding
            )
            report.paths.append(out)
            report.dropped += unheld_fields(placed, "TextGrid")
            n_ann += len(placed)
            n_tiers += len(tiers)
    report.dropped += graph_drops(session, set(targets), "TextGrid", records)
    report.counts.update(annotations=n_ann, tiers=n_tiers, points=n_points, files=len(targets))
    return report


# -- import -------------------------------------------------------------------------------------


def _key(start: float, end: float) -> tuple[float, float]:
    return (round(start, 9), round(end, 9))


def import_textgrid(
    session: Session,
    path: str | os.PathLike[str],
    *,
    item: str,
    stream: str | None = None,
    streams: Mapping[str, str] | None = None,
    label: str | None = None,
    labels: Mapping[str, str] | None = None,
    value_attribute: str | None = None,
    tier_attribute: str | None = "tier",
    tiers: Collection[str] | None = None,
    timeline: Literal["item", "stream"] = "item",
    point_duration: float = 0.001,
    progress: ProgressOption = None,
) -> ImportReport:
    """Import the tiers of a TextGrid into ``item`` as one command (see the module docstring).

    Streams and labels follow :class:`~accord.io.eaf.TierMapper`. ``tiers`` restricts the
    import to those tier names (their attribute tiers come along). ``timeline`` says whether
    the file's times are item times (converted through each stream's clock) or stream times.
    ``report.extra["ids"]`` maps ``"{tier} interval {k}"`` / ``"{tier} point {k}"`` to new ids.
    ``progress`` counts the non-empty intervals and points (see
    :func:`accord.progress.open_progress`).
    """
    if timeline not in ("item", "stream"):
        raise ValidationError("import_textgrid(timeline=...)", "'item' or 'stream'", timeline)
    if not point_duration > 0:
        raise ValidationError(
            "import_textgrid(point_duration=...)", "a duration > 0 s", point_duration
        )
    p = Path(path)
    grid = read_textgrid(p)
    it = session.item(item)
    mapper = TierMapper(
        session,
        it,
        stream=stream,
        streams=streams,
        label=label,
        labels=labels,
        value_attribute=value_attribute,
        tier_attribute=tier_attribute,
        fmt="textgrid",
    )
    batch = SegmentBatch(session, it, ImportReport("textgrid", p))
    names = {t.name for t in grid.tiers}
    children: dict[str, list[tuple[str, TextGridTier]]] = {}
    for t in grid.tiers:
        parent, sep, attr = t.name.rpartition(":")
        if sep and parent in names and parent != t.name:
            children.setdefault(parent, []).append((attr, t))
    child_names = {t.name for kids in children.values() for _, t in kids}
    wanted = None if tiers is None else set(tiers)
    n_points = 0
    total = sum(
        1
        for t in grid.tiers
        if t.name not in child_names and (wanted is None or t.name in wanted)
        for e in t.entries
        if e[2].strip() != ""
    )
    with open_progress(progress, total, f"Importing TextGrid {p.name}") as bar:
        for t in grid.tiers:
            if t.name in child_names or (wanted is not None and t.name not in wanted):
                continue
            unit = "point" if t.is_points else "interval"
            filled = [(k, e) for k, e in enumerate(t.entries, 1) if e[2].strip() != ""]
            if not filled:
                continue
            st_name, name = mapper.split(t.name)
            if st_name is None:
                bar.advance(len(filled))
                batch.drop(
                    "tier",
                    t.name,
                    f"no stream for {len(filled)} {unit}(s): pass stream= or streams={{tier: ...}}",
                )
                continue
            st = it.streams[st_name]
            values: dict[str, dict[tuple[float, float], str]] = {}
            for attr, child in children.get(t.name, []):
                own = {_key(s, e) for _, (s, e, _) in filled}
                for k, (s, e, text) in enumerate(child.entries, 1):
                    if text.strip() == "":
                        continue
                    if _key(s, e) in own:
                        values.setdefault(attr, {})[_key(s, e)] = text
                    else:
                        batch.drop(
                            "attribute",
                            f"{child.name} {unit} {k}",
                            f"no {unit} of {t.name!r} with the same bounds",
                        )
            for k, (start, end, text) in filled:
                bar.advance()
                ref = f"{t.name} {unit} {k}"
                lab, value_is_label = mapper.label_of(t.name, name, text)
                if lab is None:
                    batch.drop(
                        "annotation", ref, f"text {text!r} is not a class: pass label= or labels="
                    )
                    continue
                raw: dict[str, Any] = {}
                source: dict[str, str] = {}
                if name != lab and mapper.tier_attribute:
                    raw[mapper.tier_attribute] = name
                    source[mapper.tier_attribute] = f"{t.name} (tier name)"
                if not value_is_label:
                    if mapper.value_attribute:
                        raw[mapper.value_attribute] = text
                        source[mapper.value_attribute] = f"{t.name} (texts)"
                    else:
                        batch.drop(
                            "attribute", ref, f"text {text!r} kept nowhere: pass value_attribute="
                        )
                for attr, by_key in values.items():
                    if _key(start, end) in by_key:
                        raw[attr] = by_key[_key(start, end)]
                        source[attr] = f"{t.name}:{attr}"
                typed = batch.typed_attributes(lab, raw, ref, source)
                if timeline == "item":
                    s0 = float(st.clock.to_stream(start))
                    s1 = float(st.clock.to_stream(end))
                else:
                    s0, s1 = float(start), float(end)
                if t.is_points:
                    s1 = s0 + point_duration
                    if st.duration is not None and s1 > st.duration:
                        s0, s1 = s0 - point_duration, s0
                if batch.add(st, lab, s0, s1, typed, ref) and t.is_points:
                    n_points += 1
        report = batch.commit(bar)
    report.counts["points"] = n_points
    report.counts["tiers"] = len(grid.tiers)
    return report
