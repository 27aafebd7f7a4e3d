"""Character offsets in text streams: code points, UTF-16, graphemes, cue times.

accord stores a ``text_span`` as ``[start, end)`` in Python ``str`` indices
(Unicode code points). A browser counts in UTF-16 code units, where every
character above U+FFFF (most emoji, some CJK) takes two. :class:`Utf16Map`
converts exactly both ways and refuses an offset inside a surrogate pair.
The page's mirror is ``js/src/widgets/text_annotator/offsets.ts``; both are
tested on the same strings.

Spans must not cut a user-perceived character: :func:`grapheme_boundaries`
implements the extended grapheme cluster rules of Unicode UAX #29 (CR LF,
controls, combining marks, spacing marks, prepend, Hangul syllables,
regional-indicator pairs, emoji ZWJ sequences and modifiers, Indic conjuncts
of the rule GB9c). Property tables are the subset accord needs, built from
:mod:`unicodedata` plus explicit ranges; ``tests/test_text_offsets.py``
checks them against the browser's ICU segmenter (``Intl.Segmenter`` in node)
on the test strings. The page snaps with ``Intl.Segmenter`` itself.

Transcripts keep their cues (``stream.meta["cues"]``: ``start``/``end`` in
stream seconds, ``char_start``/``char_end`` offsets): :func:`span_times`
says when a span was said. Everything here is pure.
"""

from __future__ import annotations

import re
import unicodedata
from bisect import bisect_left, bisect_right
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from accord.errors import OutOfBoundsError, ValidationError
from accord.model.clock import Clock

__all__ = [
    "WHITE_SPACE",
    "Segment",
    "Utf16Map",
    "grapheme_boundaries",
    "is_grapheme_boundary",
    "normalize_span",
    "segments",
    "snap_to_graphemes",
    "span_times",
    "trim_whitespace",
    "utf16_length",
]

#: Unicode ``White_Space`` (the same set as the page's ``WHITE_SPACE``).
WHITE_SPACE = frozenset(
    "\t\n\x0b\x0c\r \x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007"
    "\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000"
)


def utf16_length(text: str) -> int:
    """Length of ``text`` in UTF-16 code units (JavaScript's ``.length``)."""
    return len(text) + sum(1 for c in text if ord(c) > 0xFFFF)


class Utf16Map:
    """Exact conversion between code-point and UTF-16 offsets of one text.

    >>> m = Utf16Map("a😀b")
    >>> m.to_utf16(2), m.to_code_point(3)
    (3, 2)
    """

    def __init__(self, text: str) -> None:
        self.text = text
        #: code-point index of every character outside the BMP (two UTF-16 units)
        self._astral = [i for i, c in enumerate(text) if ord(c) > 0xFFFF]
        #: their UTF-16 index
        self._astral16 = [i + k for k, i in enumerate(self._astral)]
        self.length = len(text)
        self.length16 = self.length + len(self._astral)

    def to_utf16(self, offset: int, where: str = "offset") -> int:
        """UTF-16 offset of code-point ``offset`` (0 ≤ offset ≤ len)."""
        if isinstance(offset, bool) or not isinstance(offset, int):
            raise ValidationError(where, "an integer code-point offset", offset)
        if not 0 <= offset <= self.length:
            raise OutOfBoundsError(where, f"an offset in [0, {self.length}]", offset)
        return offset + bisect_left(self._astral, offset)

    def to_code_point(self, offset16: int, where: str = "offset") -> int:
        """Code-point offset of UTF-16 ``offset16``; refuses the middle of a surrogate pair."""
        if isinstance(offset16, bool) or not isinstance(offset16, int):
            raise ValidationError(where, "an integer UTF-16 offset", offset16)
        if not 0 <= offset16 <= self.length16:
            raise OutOfBoundsError(where, f"a UTF-16 offset in [0, {self.length16}]", offset16)
        k = bisect_right(self._astral16, offset16 - 2)  # pairs wholly before offset16
        if k < len(self._astral16) and self._astral16[k] == offset16 - 1:
            raise OutOfBoundsError(
                where,
                "a UTF-16 offset between characters, not inside a surrogate pair",
                offset16,
            )
        return offset16 - k


# -- grapheme clusters (UAX #29) ------------------------------------------------------

_CR, _LF, _CONTROL, _EXTEND, _ZWJ, _RI, _PREPEND, _SPACING = range(8)
_L, _V, _T, _LV, _LVT, _PICT, _OTHER = range(8, 15)

_PREPEND_CHARS = frozenset(
    [*range(0x0600, 0x0606), 0x06DD, 0x070F, 0x0890, 0x0891, 0x08E2, 0x0D4E, 0x110BD, 0x110CD]
)
_SPACING_LO = frozenset([0x0E33, 0x0EB3])  # Thai/Lao SARA AM are SpacingMark
#: Extended_Pictographic, coarsely (it only matters next to ZWJ and emoji modifiers).
_PICT_RANGES = (
    (0x00A9, 0x00A9),
    (0x00AE, 0x00AE),
    (0x203C, 0x203C),
    (0x2049, 0x2049),
    (0x2122, 0x2122),
    (0x2139, 0x2139),
    (0x2194, 0x2199),
    (0x21A9, 0x21AA),
    (0x231A, 0x231B),
    (0x2328, 0x2328),
    (0x2388, 0x2388),
    (0x23CF, 0x23CF),
    (0x23E9, 0x23F3),
    (0x23F8, 0x23FA),
    (0x24C2, 0x24C2),
    (0x25AA, 0x25AB),
    (0x25B6, 0x25B6),
    (0x25C0, 0x25C0),
    (0x25FB, 0x25FE),
    (0x2600, 0x27BF),
    (0x2934, 0x2935),
    (0x2B05, 0x2B07),
    (0x2B1B, 0x2B1C),
    (0x2B50, 0x2B50),
    (0x2B55, 0x2B55),
    (0x3030, 0x3030),
    (0x303D, 0x303D),
    (0x3297, 0x3297),
    (0x3299, 0x3299),
    (0x1F000, 0x1F0FF),
    (0x1F10D, 0x1F10F),
    (0x1F12F, 0x1F12F),
    (0x1F16C, 0x1F171),
    (0x1F17E, 0x1F17F),
    (0x1F18E, 0x1F18E),
    (0x1F191, 0x1F19A),
    (0x1F1AD, 0x1F1E5),
    (0x1F201, 0x1F20F),
    (0x1F21A, 0x1F21A),
    (0x1F22F, 0x1F22F),
    (0x1F232, 0x1F23A),
    (0x1F23C, 0x1F23F),
    (0x1F249, 0x1F3FA),
    (0x1F400, 0x1F53D),
    (0x1F546, 0x1F64F),
    (0x1F680, 0x1F6FF),
    (0x1F774, 0x1F77F),
    (0x1F7D5, 0x1F7FF),
    (0x1F80C, 0x1F80F),
    (0x1F848, 0x1F84F),
    (0x1F85A, 0x1F85F),
    (0x1F888, 0x1F88F),
    (0x1F8AE, 0x1F8FF),
    (0x1F90C, 0x1F93A),
    (0x1F93C, 0x1F945),
    (0x1F947, 0x1FAFF),
    (0x1FC00, 0x1FFFD),
)
_PICT_STARTS = [a for a, _ in _PICT_RANGES]

#: Indic conjuncts (GB9c, Unicode 15.1): viramas that join, and the consonants they join.
_INCB_LINKERS = frozenset([0x094D, 0x09CD, 0x0ACD, 0x0B4D, 0x0C4D, 0x0D4D])
#: InCB=Consonant (Unicode 15.1 DerivedCoreProperties).
_INCB_CONSONANTS = (
    (0x0915, 0x0939),
    (0x0958, 0x095F),
    (0x0978, 0x097F),
    (0x0995, 0x09A8),
    (0x09AA, 0x09B0),
    (0x09B2, 0x09B2),
    (0x09B6, 0x09B9),
    (0x09DC, 0x09DD),
    (0x09DF, 0x09DF),
    (0x09F0, 0x09F1),
    (0x0A95, 0x0AA8),
    (0x0AAA, 0x0AB0),
    (0x0AB2, 0x0AB3),
    (0x0AB5, 0x0AB9),
    (0x0AF9, 0x0AF9),
    (0x0B15, 0x0B28),
    (0x0B2A, 0x0B30),
    (0x0B32, 0x0B33),
    (0x0B35, 0x0B39),
    (0x0B5C, 0x0B5D),
    (0x0B5F, 0x0B5F),
    (0x0B71, 0x0B71),
    (0x0C15, 0x0C28),
    (0x0C2A, 0x0C39),
    (0x0C58, 0x0C5A),
    (0x0D15, 0x0D3A),
)


def _is_pict(cp: int) -> bool:
    i = bisect_right(_PICT_STARTS, cp) - 1
    return i >= 0 and _PICT_RANGES[i][0] <= cp <= _PICT_RANGES[i][1]


def _is_incb_consonant(cp: int) -> bool:
    return 0x0915 <= cp <= 0x0D3A and any(a <= cp <= b for a, b in _INCB_CONSONANTS)


def _gcb(c: str) -> int:
    """The Grapheme_Cluster_Break property of one character (the subset above)."""
    cp = ord(c)
    if c == "\r":
        return _CR
    if c == "\n":
        return _LF
    if cp == 0x200D:
        return _ZWJ
    if 0x1F1E6 <= cp <= 0x1F1FF:
        return _RI
    if 0x1100 <= cp <= 0x115F or 0xA960 <= cp <= 0xA97C:
        return _L
    if 0x1160 <= cp <= 0x11A7 or 0xD7B0 <= cp <= 0xD7C6:
        return _V
    if 0x11A8 <= cp <= 0x11FF or 0xD7CB <= cp <= 0xD7FB:
        return _T
    if 0xAC00 <= cp <= 0xD7A3:
        return _LV if (cp - 0xAC00) % 28 == 0 else _LVT
    if cp in _PREPEND_CHARS:
        return _PREPEND
    cat = unicodedata.category(c)
    if (
        cat in ("Mn", "Me")
        or cp == 0x200C
        or 0xFF9E <= cp <= 0xFF9F
        or 0x1F3FB <= cp <= 0x1F3FF
        or 0xE0020 <= cp <= 0xE007F
    ):
        return _EXTEND
    if cat in ("Cc", "Zl", "Zp") or (cat == "Cf" and cp not in (0x200C, 0x200D)):
        return _CONTROL
    if cat == "Mc" or cp in _SPACING_LO:
        return _SPACING
    if _is_pict(cp):
        return _PICT
    return _OTHER


def grapheme_boundaries(text: str) -> list[int]:
    """Code-point offsets where a grapheme cluster starts, plus ``len(text)``.

    >>> grapheme_boundaries("e\\u0301a")
    [0, 2, 3]
    """
    n = len(text)
    if n == 0:
        return [0]
    out = [0]
    props = [_gcb(c) for c in text]
    ri_run = 1 if props[0] == _RI else 0  # regional indicators in the current run
    pict = props[0] == _PICT  # the text so far ends with ExtPict Extend*
    zwj_after_pict = False  # the previous character is a ZWJ after ExtPict Extend* (GB11)
    # GB9c: 0 no conjunct; 1 consonant (Extend|Linker)*; 2 the same with at least one linker
    conj = 1 if _is_incb_consonant(ord(text[0])) else 0
    for i in range(1, n):
        a, b = props[i - 1], props[i]
        cp = ord(text[i])
        consonant = _is_incb_consonant(cp)
        if _breaks(a, b, ri_run, zwj_after_pict, conj == 2 and consonant):
            out.append(i)
        ri_run = ri_run + 1 if b == _RI else 0
        zwj_after_pict = b == _ZWJ and pict
        pict = b == _PICT or (b == _EXTEND and pict)
        if consonant:
            conj = 1
        elif cp in _INCB_LINKERS and conj:
            conj = 2
        elif not (b in (_EXTEND, _ZWJ) and conj):
            conj = 0
    out.append(n)
    return out


def _breaks(a: int, b: int, ri_run: int, zwj_after_pict: bool, conjunct: bool) -> bool:
    if a == _CR and b == _LF:  # GB3
        return False
    if a in (_CONTROL, _CR, _LF) or b in (_CONTROL, _CR, _LF):  # GB4, GB5
        return True
    if a == _L and b in (_L, _V, _LV, _LVT):  # GB6
        return False
    if a in (_LV, _V) and b in (_V, _T):  # GB7
        return False
    if a in (_LVT, _T) and b == _T:  # GB8
        return False
    if b in (_EXTEND, _ZWJ) or b == _SPACING or a == _PREPEND:  # GB9, GB9a, GB9b
        return False
    if conjunct:  # GB9c
        return False
    if zwj_after_pict and b == _PICT:  # GB11
        return False
    return not (a == _RI and b == _RI and ri_run % 2 == 1)  # GB12, GB13


def is_grapheme_boundary(text: str, offset: int, boundaries: Sequence[int] | None = None) -> bool:
    """True when code-point ``offset`` is between two grapheme clusters (or at an end)."""
    b = grapheme_boundaries(text) if boundaries is None else boundaries
    i = bisect_left(b, offset)
    return i < len(b) and b[i] == offset


def snap_to_graphemes(
    text: str, start: int, end: int, boundaries: Sequence[int] | None = None
) -> tuple[int, int]:
    """``[start, end)`` widened to whole grapheme clusters (never narrowed)."""
    b = grapheme_boundaries(text) if boundaries is None else boundaries
    start = max(0, min(start, len(text)))
    end = max(0, min(end, len(text)))
    s = b[bisect_right(b, start) - 1]
    e = b[min(bisect_left(b, end), len(b) - 1)]
    return s, e


def trim_whitespace(
    text: str, start: int, end: int, boundaries: Sequence[int] | None = None
) -> tuple[int, int]:
    """``[start, end)`` without leading/trailing clusters made only of ``WHITE_SPACE``.

    ``start``/``end`` should be cluster boundaries. A span of whitespace only
    collapses to ``(start, start)``.
    """
    b = grapheme_boundaries(text) if boundaries is None else boundaries
    i = bisect_left(b, start)
    j = bisect_left(b, end)
    while i < j and all(c in WHITE_SPACE for c in text[b[i] : b[i + 1]]):
        i += 1
    while j > i and all(c in WHITE_SPACE for c in text[b[j - 1] : b[j]]):
        j -= 1
    return (b[i], b[j]) if i < j else (start, start)


def normalize_span(
    text: str,
    start: int,
    end: int,
    *,
    trim: bool = True,
    boundaries: Sequence[int] | None = None,
) -> tuple[int, int]:
    """A selection made exact: snapped to whole graphemes, then (``trim``) whitespace removed."""
    b = grapheme_boundaries(text) if boundaries is None else boundaries
    s, e = snap_to_graphemes(text, min(start, end), max(start, end), b)
    return trim_whitespace(text, s, e, b) if trim else (s, e)


# -- segments and times ---------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Segment:
    """A unit of segment classification: a transcript cue, or a paragraph of a document.

    ``start``/``end`` are code-point offsets; ``t_start``/``t_end`` stream
    seconds (None for untimed text).
    """

    index: int
    start: int
    end: int
    t_start: float | None = None
    t_end: float | None = None
    speaker: str | None = None

    def to_dict(self, clock: Clock | None = None) -> dict[str, Any]:
        out: dict[str, Any] = {
            "index": self.index,
            "start": self.start,
            "end": self.end,
            "t_start": self.t_start,
            "t_end": self.t_end,
            "speaker": self.speaker,
        }
        timed = clock is not None and self.t_start is not None and self.t_end is not None
        out["item_start"] = clock.to_item(self.t_start) if timed else None  # type: ignore[union-attr,arg-type]
        out["item_end"] = clock.to_item(self.t_end) if timed else None  # type: ignore[union-attr,arg-type]
        return out


_NEWLINE = r"(?:\r\n|\r(?!\n)|\n)"  # CRLF is one line end, never CR then LF
_PARAGRAPH_BREAK = re.compile(rf"{_NEWLINE}[^\S\r\n]*{_NEWLINE}\s*")


def segments(text: str, cues: Sequence[Mapping[str, Any]] | None = None) -> list[Segment]:
    """Cues of a transcript (in order), else the paragraphs of ``text``, trimmed.

    Paragraphs are separated by blank lines (any of LF, CRLF, CR).
    """
    if cues:
        out = []
        for i, c in enumerate(cues):
            a, b = int(c["char_start"]), int(c["char_end"])
            if not 0 <= a <= b <= len(text):
                raise OutOfBoundsError(
                    f"cues[{i}]", f"char_start ≤ char_end within [0, {len(text)}]", (a, b)
                )
            out.append(
                Segment(i, a, b, float(c["start"]), float(c["end"]), c.get("speaker") or None)
            )
        return out
    out, pos = [], 0
    for m in [*_PARAGRAPH_BREAK.finditer(text), None]:
        stop = m.start() if m is not None else len(text)
        a, b = trim_whitespace(text, pos, stop, list(range(pos, stop + 1)))
        if b > a:
            out.append(Segment(len(out), a, b))
        if m is not None:
            pos = m.end()
    return out


@dataclass(frozen=True, slots=True)
class SpanTimes:
    """When a span was said: stream and item seconds, and the cues it touches."""

    t_start: float | None
    t_end: float | None
    item_start: float | None
    item_end: float | None
    cues: tuple[int, ...]


def span_times(
    start: int,
    end: int,
    cues: Sequence[Mapping[str, Any]] | None,
    clock: Clock | None = None,
    *,
    interpolate: bool = False,
) -> SpanTimes:
    """The time ``[start, end)`` was said, from the cues it overlaps.

    By default the span gets the start of its first cue and the end of its last
    (what the transcript knows). ``interpolate=True`` estimates inside a cue
    by the share of characters before the span's edge, assuming an even
    speaking rate: an estimate, not a measurement. Untimed text gives Nones.
    """
    clock = clock or Clock()
    hit = []
    for i, c in enumerate(cues or ()):
        a, b = int(c["char_start"]), int(c["char_end"])
        if (a < end and start < b) or (a == b and start <= a < end):
            hit.append(i)
    if not hit:
        return SpanTimes(None, None, None, None, ())
    first, last = cues[hit[0]], cues[hit[-1]]  # type: ignore[index]
    t0, t1 = float(first["start"]), float(last["end"])
    if interpolate:
        t0 = _time_at(first, max(start, int(first["char_start"])))
        t1 = _time_at(last, min(end, int(last["char_end"])))
    return SpanTimes(t0, t1, clock.to_item(t0), clock.to_item(t1), tuple(hit))


def _time_at(cue: Mapping[str, Any], offset: int) -> float:
    a, b = int(cue["char_start"]), int(cue["char_end"])
    t0, t1 = float(cue["start"]), float(cue["end"])
    if b <= a:
        return t0
    return t0 + (t1 - t0) * (offset - a) / (b - a)
