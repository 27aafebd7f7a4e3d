/**
 * Offsets in the page's text: UTF-16 code units (what the DOM counts) and
 * code points (what Python's `str` counts and `text_span` stores).
 *
 * Mirrors `src/accord/model/text.py`; both are tested on the same strings.
 * Grapheme clusters come from `Intl.Segmenter` (the browser's ICU, the same
 * notion of "a character" the caret and the selection use).
 */

/** Unicode White_Space, the same set as Python's `accord.model.text.WHITE_SPACE`. */
export const WHITE_SPACE: ReadonlySet<string> = new Set(
  "\t\n\u000b\u000c\r \u0085\u00a0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007" +
    "\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000",
);

/** An offset that cannot be converted (out of range, or inside a surrogate pair). */
export class OffsetError extends RangeError {
  override readonly name = "OffsetError";
}

function isHigh(code: number): boolean {
  return code >= 0xd800 && code <= 0xdbff;
}

function isLow(code: number): boolean {
  return code >= 0xdc00 && code <= 0xdfff;
}

/** First index in sorted `a` with a[i] >= x. */
function lowerBound(a: readonly number[], x: number): number {
  let lo = 0;
  let hi = a.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if ((a[mid] as number) < x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** First index in sorted `a` with a[i] > x. */
function upperBound(a: readonly number[], x: number): number {
  let lo = 0;
  let hi = a.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if ((a[mid] as number) <= x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** Exact conversion between code-point and UTF-16 offsets of one text. */
export class OffsetMap {
  /** UTF-16 index of each surrogate pair (a character above U+FFFF). */
  private readonly pairs16: number[] = [];
  /** Its code-point index. */
  private readonly pairsCp: number[] = [];
  readonly length16: number;
  readonly lengthCp: number;

  constructor(readonly text: string) {
    for (let i = 0; i < text.length; i++) {
      if (isHigh(text.charCodeAt(i)) && i + 1 < text.length && isLow(text.charCodeAt(i + 1))) {
        this.pairsCp.push(i - this.pairs16.length);
        this.pairs16.push(i);
        i++;
      }
    }
    this.length16 = text.length;
    this.lengthCp = text.length - this.pairs16.length;
  }

  /** UTF-16 offset of code-point offset `cp`. */
  toUtf16(cp: number): number {
    if (!Number.isInteger(cp) || cp < 0 || cp > this.lengthCp) {
      throw new OffsetError(`code-point offset: expected an integer in [0, ${this.lengthCp}], got ${cp}`);
    }
    return cp + lowerBound(this.pairsCp, cp);
  }

  /** Code-point offset of UTF-16 offset `u`; throws inside a surrogate pair. */
  toCodePoint(u: number): number {
    if (!Number.isInteger(u) || u < 0 || u > this.length16) {
      throw new OffsetError(`UTF-16 offset: expected an integer in [0, ${this.length16}], got ${u}`);
    }
    const k = upperBound(this.pairs16, u - 2); // pairs wholly before u
    if (k < this.pairs16.length && this.pairs16[k] === u - 1) {
      throw new OffsetError(`UTF-16 offset ${u} is inside a surrogate pair`);
    }
    return u - k;
  }
}

/** UTF-16 offsets where grapheme clusters start, plus `text.length`. */
export function graphemeBoundaries(text: string): number[] {
  const out: number[] = [];
  const Seg = (Intl as { Segmenter?: typeof Intl.Segmenter }).Segmenter;
  if (Seg) {
    for (const g of new Seg(undefined, { granularity: "grapheme" }).segment(text)) out.push(g.index);
  } else {
    // No segmenter: at least never split a surrogate pair.
    for (let i = 0; i < text.length; i++) {
      out.push(i);
      if (isHigh(text.charCodeAt(i)) && isLow(text.charCodeAt(i + 1))) i++;
    }
  }
  if (out[0] !== 0) out.unshift(0);
  if (text.length > 0) out.push(text.length);
  return out;
}

/** `[start, end)` (UTF-16) widened to whole grapheme clusters. */
export function snapToGraphemes(boundaries: readonly number[], start: number, end: number): [number, number] {
  const last = boundaries[boundaries.length - 1] ?? 0;
  const a = Math.max(0, Math.min(start, last));
  const b = Math.max(0, Math.min(end, last));
  const s = boundaries[upperBound(boundaries, a) - 1] ?? 0;
  const e = boundaries[Math.min(lowerBound(boundaries, b), boundaries.length - 1)] ?? last;
  return [s, e];
}

function allWhite(text: string, a: number, b: number): boolean {
  for (const ch of text.slice(a, b)) if (!WHITE_SPACE.has(ch)) return false;
  return true;
}

/**
 * `[start, end)` (UTF-16, on cluster boundaries) without leading/trailing
 * clusters made only of white space; all-white collapses to `[start, start]`.
 */
export function trimWhitespace(
  text: string,
  boundaries: readonly number[],
  start: number,
  end: number,
): [number, number] {
  let i = lowerBound(boundaries, start);
  let j = lowerBound(boundaries, end);
  while (i < j && allWhite(text, boundaries[i] as number, boundaries[i + 1] as number)) i++;
  while (j > i && allWhite(text, boundaries[j - 1] as number, boundaries[j] as number)) j--;
  return i < j ? [boundaries[i] as number, boundaries[j] as number] : [start, start];
}

/** A text with its conversions and clusters, computed once. */
export class TextIndex {
  readonly map: OffsetMap;
  readonly boundaries: number[];

  constructor(readonly text: string) {
    this.map = new OffsetMap(text);
    this.boundaries = graphemeBoundaries(text);
  }

  /**
   * A selection `[a, b)` in UTF-16 units (any order) made exact: snapped to
   * whole clusters, optionally trimmed, as code points. Null when empty.
   */
  selectionToSpan(a: number, b: number, trim: boolean): { start: number; end: number } | null {
    let [s, e] = snapToGraphemes(this.boundaries, Math.min(a, b), Math.max(a, b));
    if (trim) [s, e] = trimWhitespace(this.text, this.boundaries, s, e);
    if (e <= s) return null;
    return { start: this.map.toCodePoint(s), end: this.map.toCodePoint(e) };
  }

  /** Code-point span → UTF-16 range (clamped to the text). */
  spanToUtf16(start: number, end: number): [number, number] {
    const clamp = (x: number): number => Math.max(0, Math.min(Math.trunc(x), this.map.lengthCp));
    return [this.map.toUtf16(clamp(start)), this.map.toUtf16(clamp(end))];
  }

  /** The text of a code-point span. */
  slice(start: number, end: number): string {
    const [a, b] = this.spanToUtf16(start, end);
    return this.text.slice(a, b);
  }
}
