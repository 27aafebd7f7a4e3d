"""Offsets in text: code points ↔ UTF-16, grapheme clusters, trimming, segments, cue times.

The same strings and expected values are in ``js/tests/text_annotator_offsets.test.ts``
(the page's mirror); ``test_graphemes_match_the_browser_segmenter`` also checks the Python
boundaries against ICU's ``Intl.Segmenter`` in node when node is installed.
"""

from __future__ import annotations

import json
import random
import shutil
import subprocess

import pytest
from hypothesis import given
from hypothesis import strategies as st

from accord.errors import OutOfBoundsError, ValidationError
from accord.model.clock import Clock
from accord.model.text import (
    Utf16Map,
    grapheme_boundaries,
    is_grapheme_boundary,
    normalize_span,
    segments,
    snap_to_graphemes,
    span_times,
    trim_whitespace,
    utf16_length,
)

#: (name, text, grapheme boundaries in code points) — mirrored in the TS test.
CASES = [
    ("combining acute", "e\u0301te\u0301", [0, 2, 3, 5]),
    ("two combining marks", "x\u0301\u0302y", [0, 3, 4]),
    ("devanagari conjuncts", "क्षत्रिय नमस्ते", [0, 3, 7, 8, 9, 10, 11, 15]),
    ("hangul jamo", "\u1100\u1161\u11a8\u1100\u1161 한글", [0, 3, 5, 6, 7, 8]),
    ("zwj + skin tone", "👩🏽\u200d💻 codes", [0, 4, 5, 6, 7, 8, 9, 10]),
    ("family zwj", "👨\u200d👩\u200d👧\u200d👦!", [0, 7, 8]),
    ("flags", "🇫🇷🇩🇪x", [0, 2, 4, 5]),
    ("odd regional indicators", "🇫🇷🇩", [0, 2, 3]),
    ("variation selector", "❤️ok", [0, 2, 3, 4]),
    ("crlf and tab", "a\r\nb\tc", [0, 1, 3, 4, 5, 6]),
    ("hebrew points", "שָׁלוֹם", [0, 3, 4, 6, 7]),
    ("arabic", "مرحبا", [0, 1, 2, 3, 4, 5]),
    ("thai sara am", "ก่ำ", [0, 3]),
    ("arabic prepend", "\u0600\u0661", [0, 2]),
    ("astral cjk", "𠀋𠀌a", [0, 1, 2, 3]),
    ("empty", "", [0]),
]

#: (text, code-point offsets, their UTF-16 offsets) — mirrored in the TS test.
UTF16_CASES = [
    ("abc", [0, 1, 3], [0, 1, 3]),
    ("a😀b", [0, 1, 2, 3], [0, 1, 3, 4]),
    ("👩🏽\u200d💻", [0, 1, 2, 3, 4], [0, 2, 4, 5, 7]),
    ("🇫🇷🇩🇪", [0, 2, 4], [0, 4, 8]),
    ("e\u0301", [0, 1, 2], [0, 1, 2]),
    ("𠀋x𠀌", [0, 1, 2, 3], [0, 2, 3, 5]),
]


@pytest.mark.parametrize(("name", "text", "bounds"), CASES, ids=[c[0] for c in CASES])
def test_grapheme_boundaries(name: str, text: str, bounds: list[int]) -> None:
    assert grapheme_boundaries(text) == bounds
    for i in range(len(text) + 1):
        assert is_grapheme_boundary(text, i) == (i in bounds)


def test_graphemes_match_the_browser_segmenter() -> None:
    node = shutil.which("node")
    if node is None:
        pytest.skip("node is not installed")
    texts = [c[1] for c in CASES] + [
        "Hello there.\r\nGeneral Kenobi!\t👋🏿",
        "עברית ועוד ✌🏼 and 🏳️\u200d🌈 ok",
        "ḁ̴̛̂x\u0928\u093f\u0902",
        "\u0915\u094d\u0905 \u0995\u09cd\u09b7 \u0d15\u0d4d\u0d37 \u0c15\u0c4d\u0c37",
    ]
    # and random strings from the characters the rules are about
    pool = [
        "a",
        " ",
        "\r",
        "\n",
        "\t",
        "\x07",
        "\u0301",
        "\u0302",
        "\u200d",
        "\u200c",
        "\ufe0f",
        "👩",
        "💻",
        "❤",
        "🔥",
        "🏽",
        "🏿",
        "🇫",
        "🇷",
        "🇩",
        "\U000e0067",
        "\u1100",
        "\u1161",
        "\u11a8",
        "한",
        "\uac00",
        "\u0915",
        "\u094d",
        "\u0937",
        "\u093f",
        "\u0905",
        "\u0e01",
        "\u0e33",
        "\u0600",
        "\u0661",
        "ש",
        "\u05b8",
        "م",
        "𠀋",
        "\u00ad",
    ]
    rng = random.Random(6)
    texts += ["".join(rng.choice(pool) for _ in range(rng.randint(1, 12))) for _ in range(400)]
    script = (
        "const seg = new Intl.Segmenter(undefined, {granularity: 'grapheme'});"
        "const out = JSON.parse(process.argv[1]).map(s => {"
        " const b = [...seg.segment(s)].map(g => g.index); b.push(s.length); return b; });"
        "console.log(JSON.stringify(out));"
    )
    got = json.loads(subprocess.check_output([node, "-e", script, json.dumps(texts)], text=True))
    for text, b16 in zip(texts, got, strict=True):
        m = Utf16Map(text)
        icu = sorted({m.to_code_point(u) for u in b16})
        assert grapheme_boundaries(text) == icu, text


@pytest.mark.parametrize(("text", "cps", "u16s"), UTF16_CASES)
def test_utf16_conversion_both_ways(text: str, cps: list[int], u16s: list[int]) -> None:
    m = Utf16Map(text)
    assert m.length16 == utf16_length(text) == len(text.encode("utf-16-le")) // 2
    for cp, u in zip(cps, u16s, strict=True):
        assert m.to_utf16(cp) == u
        assert m.to_code_point(u) == cp


def test_utf16_refuses_the_middle_of_a_surrogate_pair_and_out_of_range() -> None:
    m = Utf16Map("a😀b")
    with pytest.raises(OutOfBoundsError, match="surrogate"):
        m.to_code_point(2)
    with pytest.raises(OutOfBoundsError):
        m.to_code_point(5)
    with pytest.raises(OutOfBoundsError):
        m.to_utf16(4)
    with pytest.raises(ValidationError):
        m.to_utf16(1.5)  # type: ignore[arg-type]


@given(st.text(max_size=40))
def test_utf16_round_trip_matches_the_encoder(text: str) -> None:
    m = Utf16Map(text)
    for cp in range(len(text) + 1):
        u = m.to_utf16(cp)
        assert u == len(text[:cp].encode("utf-16-le", "surrogatepass")) // 2
        assert m.to_code_point(u) == cp


@given(st.text(max_size=30), st.integers(0, 30), st.integers(0, 30))
def test_snap_never_splits_a_cluster_and_only_widens(text: str, a: int, b: int) -> None:
    a, b = min(a, len(text)), min(b, len(text))
    a, b = min(a, b), max(a, b)
    s, e = snap_to_graphemes(text, a, b)
    bounds = grapheme_boundaries(text)
    assert s in bounds and e in bounds
    assert s <= a and e >= b
    s2, e2 = normalize_span(text, a, b, trim=True)
    assert s2 in bounds and e2 in bounds
    assert text[s2:e2] == text[s2:e2].strip(" \t\r\n\x0b\x0c\x85\xa0\u3000") or s2 == e2


def test_snap_widens_selections_inside_clusters() -> None:
    text = "I 👩🏽\u200d💻 in 🇫🇷, café (cafe\u0301)."
    start = text.index("👩")
    assert snap_to_graphemes(text, start + 1, start + 3) == (start, start + 4)
    fr = text.index("🇫")
    assert snap_to_graphemes(text, fr + 1, fr + 2) == (fr, fr + 2)
    e = text.index("e\u0301")
    assert snap_to_graphemes(text, e, e + 1) == (e, e + 2)


def test_trim_whitespace_keeps_inner_space_and_handles_all_white() -> None:
    text = " \t hello world\r\n "
    assert trim_whitespace(text, 0, len(text)) == (3, 14)
    assert text[3:14] == "hello world"
    assert trim_whitespace(" \u3000\xa0 ", 0, 4) == (0, 0)
    # a space carrying a combining mark is a character, not white space
    assert normalize_span(" \u0301x ", 0, 4) == (0, 3)
    assert normalize_span("ab  ", 0, 4, trim=False) == (0, 4)


def test_segments_are_cues_or_paragraphs() -> None:
    cues = [
        {"start": 0.5, "end": 1.5, "char_start": 0, "char_end": 5, "speaker": "Ana"},
        {"start": 2.0, "end": 3.0, "char_start": 6, "char_end": 11, "speaker": None},
    ]
    segs = segments("Hello\nthere", cues)
    assert [(g.start, g.end, g.speaker) for g in segs] == [(0, 5, "Ana"), (6, 11, None)]
    assert segs[0].to_dict(Clock(10.0, 2.0))["item_start"] == 11.0
    doc = "  First para\r\nstill first.\r\n\r\n\tSecond 👩🏽\u200d💻\n \nThird  "
    got = [doc[g.start : g.end] for g in segments(doc)]
    assert got == ["First para\r\nstill first.", "Second 👩🏽\u200d💻", "Third"]
    assert segments("   \n\n ") == []
    with pytest.raises(OutOfBoundsError):
        segments("abc", [{"start": 0, "end": 1, "char_start": 0, "char_end": 9}])


def test_span_times_from_cues_with_the_clock() -> None:
    cues = [
        {"start": 1.0, "end": 2.0, "char_start": 0, "char_end": 10},
        {"start": 3.0, "end": 5.0, "char_start": 11, "char_end": 21},
    ]
    clock = Clock(0.5, 1.001)
    t = span_times(2, 4, cues, clock)
    assert (t.t_start, t.t_end, t.cues) == (1.0, 2.0, (0,))
    assert t.item_start == pytest.approx(0.5 + 1.001 * 1.0)
    both = span_times(8, 13, cues, clock)
    assert (both.t_start, both.t_end, both.cues) == (1.0, 5.0, (0, 1))
    est = span_times(15, 21, cues, interpolate=True)
    assert est.t_start == pytest.approx(3.0 + 2.0 * 4 / 10) and est.t_end == 5.0
    none = span_times(10, 11, cues)  # the newline between cues was never said
    assert none.t_start is None and none.cues == ()
    assert span_times(0, 3, None).item_start is None
