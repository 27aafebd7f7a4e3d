/**
 * Point colours, computed in the page from the traits Python sent: height
 * (z ramp), intensity (grey ramp), label (class colour of the cuboid a point
 * lies in, or the per-point class index) and rgb. Restyling rewrites only
 * the colour buffer; positions are never touched or resent.
 */

import { contains } from "./cuboid.js";
import type { CuboidGeom } from "./tracks.js";

export type ColorBy = "height" | "intensity" | "label" | "rgb";

export const COLOR_BY: readonly ColorBy[] = ["height", "intensity", "label", "rgb"];

/** Low → high, the same stops as Python's HEIGHT_RAMP. */
export const HEIGHT_RAMP: readonly [number, number, number][] = [
  [0.19, 0.21, 0.58],
  [0.13, 0.57, 0.55],
  [0.37, 0.79, 0.38],
  [0.99, 0.91, 0.14],
];

const UNLABELLED: [number, number, number] = [150, 150, 150];

/** `#rrggbb` → [r, g, b] bytes (grey when malformed). */
export function hexToRgb(hex: string): [number, number, number] {
  const m = /^#([0-9a-fA-F]{6})$/.exec(hex);
  if (!m) return [128, 128, 128];
  const v = parseInt(m[1] as string, 16);
  return [(v >> 16) & 255, (v >> 8) & 255, v & 255];
}

/** The 2nd and 98th percentiles of `values` (from a sample of at most 20,000). */
export function robustRange(values: (i: number) => number, count: number): [number, number] {
  if (count === 0) return [0, 1];
  const step = Math.max(1, Math.floor(count / 20000));
  const sample: number[] = [];
  for (let i = 0; i < count; i += step) sample.push(values(i));
  sample.sort((a, b) => a - b);
  const at = (q: number): number => sample[Math.min(sample.length - 1, Math.max(0, Math.round(q * (sample.length - 1))))] as number;
  const lo = at(0.02);
  const hi = at(0.98);
  return hi > lo ? [lo, hi] : [lo, lo + 1];
}

function ramp(t: number, out: Uint8Array, o: number): void {
  const x = Math.min(1, Math.max(0, t)) * (HEIGHT_RAMP.length - 1);
  const i = Math.min(Math.floor(x), HEIGHT_RAMP.length - 2);
  const f = x - i;
  const a = HEIGHT_RAMP[i] as [number, number, number];
  const b = HEIGHT_RAMP[i + 1] as [number, number, number];
  out[o] = Math.round(255 * (a[0] + f * (b[0] - a[0])));
  out[o + 1] = Math.round(255 * (a[1] + f * (b[1] - a[1])));
  out[o + 2] = Math.round(255 * (a[2] + f * (b[2] - a[2])));
}

export interface ColorInput {
  positions: Float32Array;
  count: number;
  intensity: Float32Array | null;
  rgb: Uint8Array | null;
  /** Per-point class index into `classColors` (-1: none). */
  labels: Int16Array | null;
  classColors: readonly string[];
  /** Cuboids shown, with their class colour (used for "label" without per-point labels). */
  cuboids: readonly { geometry: CuboidGeom; color: string }[];
}

/** Fill `out` (3 bytes per point) with the colours of `mode`; returns the mode used. */
export function computeColors(mode: ColorBy, input: ColorInput, out: Uint8Array): ColorBy {
  const { positions, count } = input;
  if (mode === "intensity" && input.intensity && input.intensity.length === count) {
    const values = input.intensity;
    const [lo, hi] = robustRange((i) => values[i] as number, count);
    for (let i = 0; i < count; i++) {
      const g = Math.round(40 + 215 * Math.min(1, Math.max(0, ((values[i] as number) - lo) / (hi - lo))));
      out[3 * i] = g;
      out[3 * i + 1] = g;
      out[3 * i + 2] = g;
    }
    return mode;
  }
  if (mode === "rgb" && input.rgb && input.rgb.length === 3 * count) {
    out.set(input.rgb.subarray(0, 3 * count));
    return mode;
  }
  if (mode === "label") {
    const palette = input.classColors.map(hexToRgb);
    if (input.labels && input.labels.length === count) {
      for (let i = 0; i < count; i++) {
        const c = palette[input.labels[i] as number] ?? UNLABELLED;
        out[3 * i] = c[0];
        out[3 * i + 1] = c[1];
        out[3 * i + 2] = c[2];
      }
      return mode;
    }
    for (let i = 0; i < 3 * count; i += 3) {
      out[i] = UNLABELLED[0];
      out[i + 1] = UNLABELLED[1];
      out[i + 2] = UNLABELLED[2];
    }
    for (const { geometry: g, color } of input.cuboids) {
      const c = hexToRgb(color);
      // bounding radius test first: most points are far from any cuboid
      const r = 0.5 * Math.hypot(g.size[0], g.size[1]);
      for (let i = 0; i < count; i++) {
        const x = positions[3 * i] as number;
        const y = positions[3 * i + 1] as number;
        if (Math.abs(x - g.center[0]) > r || Math.abs(y - g.center[1]) > r) continue;
        if (!contains(g, x, y, positions[3 * i + 2] as number)) continue;
        out[3 * i] = c[0];
        out[3 * i + 1] = c[1];
        out[3 * i + 2] = c[2];
      }
    }
    return mode;
  }
  const [lo, hi] = robustRange((i) => positions[3 * i + 2] as number, count);
  for (let i = 0; i < count; i++) ramp(((positions[3 * i + 2] as number) - lo) / (hi - lo), out, 3 * i);
  return "height";
}

/** Ground height estimate: the 5th percentile of z (from a sample). */
export function groundHeight(positions: Float32Array, count: number): number {
  if (count === 0) return 0;
  const step = Math.max(1, Math.floor(count / 20000));
  const zs: number[] = [];
  for (let i = 0; i < count; i += step) zs.push(positions[3 * i + 2] as number);
  zs.sort((a, b) => a - b);
  return zs[Math.floor(0.05 * (zs.length - 1))] as number;
}
