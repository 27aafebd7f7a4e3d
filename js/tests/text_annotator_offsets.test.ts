import { describe, expect, it } from "vitest";
import {
  graphemeBoundaries,
  OffsetError,
  OffsetMap,
  snapToGraphemes,
  TextIndex,
  trimWhitespace,
} from "../src/widgets/text_annotator/offsets.js";

// The same strings and expected values as tests/test_text_offsets.py (code points).
const CASES: [string, string, number[]][] = [
  ["combining acute", "e\u0301te\u0301", [0, 2, 3, 5]],
  ["two combining marks", "x\u0301\u0302y", [0, 3, 4]],
  ["devanagari conjuncts", "क्षत्रिय नमस्ते", [0, 3, 7, 8, 9, 10, 11, 15]],
  ["hangul jamo", "\u1100\u1161\u11a8\u1100\u1161 한글", [0, 3, 5, 6, 7, 8]],
  ["zwj + skin tone", "👩🏽\u200d💻 codes", [0, 4, 5, 6, 7, 8, 9, 10]],
  ["family zwj", "👨\u200d👩\u200d👧\u200d👦!", [0, 7, 8]],
  ["flags", "🇫🇷🇩🇪x", [0, 2, 4, 5]],
  ["odd regional indicators", "🇫🇷🇩", [0, 2, 3]],
  ["variation selector", "❤️ok", [0, 2, 3, 4]],
  ["crlf and tab", "a\r\nb\tc", [0, 1, 3, 4, 5, 6]],
  ["hebrew points", "שָׁלוֹם", [0, 3, 4, 6, 7]],
  ["arabic", "مرحبا", [0, 1, 2, 3, 4, 5]],
  ["thai sara am", "ก่ำ", [0, 3]],
  ["arabic prepend", "\u0600\u0661", [0, 2]],
  ["astral cjk", "𠀋𠀌a", [0, 1, 2, 3]],
  ["empty", "", [0]],
];

const UTF16_CASES: [string, number[], number[]][] = [
  ["abc", [0, 1, 3], [0, 1, 3]],
  ["a😀b", [0, 1, 2, 3], [0, 1, 3, 4]],
  ["👩🏽\u200d💻", [0, 1, 2, 3, 4], [0, 2, 4, 5, 7]],
  ["🇫🇷🇩🇪", [0, 2, 4], [0, 4, 8]],
  ["e\u0301", [0, 1, 2], [0, 1, 2]],
  ["𠀋x𠀌", [0, 1, 2, 3], [0, 2, 3, 5]],
];

describe("graphemes (Intl.Segmenter) agree with Python's table", () => {
  for (const [name, text, bounds] of CASES) {
    it(name, () => {
      const map = new OffsetMap(text);
      expect(graphemeBoundaries(text).map((u) => map.toCodePoint(u))).toEqual(bounds);
    });
  }
});

describe("OffsetMap", () => {
  for (const [text, cps, u16s] of UTF16_CASES) {
    it(`converts ${JSON.stringify(text)} both ways`, () => {
      const m = new OffsetMap(text);
      cps.forEach((cp, i) => {
        expect(m.toUtf16(cp)).toBe(u16s[i]);
        expect(m.toCodePoint(u16s[i] as number)).toBe(cp);
      });
      expect(m.lengthCp).toBe([...text].length);
    });
  }

  it("refuses the middle of a surrogate pair and out-of-range offsets", () => {
    const m = new OffsetMap("a😀b");
    expect(() => m.toCodePoint(2)).toThrow(OffsetError);
    expect(() => m.toCodePoint(5)).toThrow(/\[0, 4\]/);
    expect(() => m.toUtf16(4)).toThrow(OffsetError);
    expect(() => m.toUtf16(1.5)).toThrow(OffsetError);
  });

  it("matches Array.from's code points on random text", () => {
    const pool = ["a", " ", "\u0301", "😀", "🇫", "\u200d", "ש", "\r\n", "𠀋"];
    for (let n = 0; n < 200; n++) {
      let text = "";
      for (let i = 0; i < 12; i++) text += pool[(n * 7 + i * 13 + ((n * i) % 5)) % pool.length];
      const m = new OffsetMap(text);
      const cps = Array.from(text);
      let u = 0;
      cps.forEach((ch, cp) => {
        expect(m.toUtf16(cp)).toBe(u);
        expect(m.toCodePoint(u)).toBe(cp);
        u += ch.length;
      });
    }
  });
});

describe("selections become exact spans", () => {
  const text = "I 👩🏽\u200d💻 in 🇫🇷, café (cafe\u0301).";
  const idx = new TextIndex(text);
  const u = (s: string): number => text.indexOf(s);

  it("widens a selection inside a cluster to the whole cluster", () => {
    const a = u("👩");
    // Python: snap_to_graphemes(text, start + 1, start + 3) == (start, start + 4), in code points
    expect(snapToGraphemes(idx.boundaries, a + 1, a + 3)).toEqual([a, a + 7]);
    const span = idx.selectionToSpan(a + 1, a + 3, true);
    expect(span).toEqual({ start: 2, end: 6 });
    expect(idx.slice(span!.start, span!.end)).toBe("👩🏽\u200d💻");
    const e = u("e\u0301");
    expect(idx.selectionToSpan(e, e + 1, true)).toEqual({ start: [...text.slice(0, e)].length, end: [...text.slice(0, e)].length + 2 });
  });

  it("trims white space but keeps a space carrying a combining mark", () => {
    const t = " \t hello world\r\n ";
    const i = new TextIndex(t);
    expect(trimWhitespace(t, i.boundaries, 0, t.length)).toEqual([3, 14]);
    expect(new TextIndex(" \u3000\u00a0 ").selectionToSpan(0, 4, true)).toBeNull();
    expect(new TextIndex(" \u0301x ").selectionToSpan(0, 4, true)).toEqual({ start: 0, end: 3 });
    expect(new TextIndex("ab  ").selectionToSpan(4, 0, false)).toEqual({ start: 0, end: 4 });
  });

  it("maps code-point spans back to the UTF-16 range of the same text", () => {
    const i = new TextIndex("🇫🇷 x");
    expect(i.spanToUtf16(0, 2)).toEqual([0, 4]);
    expect(i.slice(0, 2)).toBe("🇫🇷");
    expect(i.spanToUtf16(-3, 99)).toEqual([0, 6]);
  });
});
