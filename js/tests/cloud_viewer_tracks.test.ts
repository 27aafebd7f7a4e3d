// The cases file is shared with pytest (tests/test_tracks.py).
import rawCases from "./cloud_viewer_track_cases.json";
import { describe, expect, it } from "vitest";
import {
  interpolateCuboid,
  interpolateTrack,
  interpolatedOn,
  nearestSweep,
  shortestArc,
  wrapAngle,
  type CuboidGeom,
} from "../src/widgets/cloud_viewer/tracks.js";

interface Cases {
  pairs: { note: string; a: CuboidGeom; b: CuboidGeom; t: number; want: CuboidGeom }[];
  tracks: {
    note: string;
    keyframes: Record<string, CuboidGeom>;
    times: number[] | null;
    want: Record<string, CuboidGeom | null>;
  }[];
}

const CASES = rawCases as unknown as Cases;

function same(got: CuboidGeom, want: CuboidGeom): void {
  for (let i = 0; i < 3; i++) {
    expect(got.center[i]).toBeCloseTo(want.center[i] as number, 9);
    expect(got.size[i]).toBeCloseTo(want.size[i] as number, 9);
  }
  expect(Math.abs(shortestArc(got.yaw, want.yaw))).toBeLessThan(1e-9);
}

describe("cuboid interpolation (the same cases as tests/test_tracks.py)", () => {
  for (const c of CASES.pairs) {
    it(c.note, () => {
      const got = interpolateCuboid(c.a, c.b, c.t);
      same(got, c.want);
      expect(got.yaw).toBeGreaterThanOrEqual(-Math.PI);
      expect(got.yaw).toBeLessThan(Math.PI);
    });
  }
  for (const c of CASES.tracks) {
    it(c.note, () => {
      const keys = new Map(Object.entries(c.keyframes).map(([k, v]) => [Number(k), v]));
      for (const [sweep, want] of Object.entries(c.want)) {
        const got = interpolateTrack(keys, Number(sweep), c.times);
        if (want === null) expect(got).toBeNull();
        else {
          expect(got).not.toBeNull();
          same(got as CuboidGeom, want);
        }
      }
    });
  }
});

describe("angles", () => {
  it("wraps to [-pi, pi) and takes the short way round", () => {
    expect(wrapAngle(Math.PI)).toBeCloseTo(-Math.PI, 12);
    expect(wrapAngle(-Math.PI)).toBeCloseTo(-Math.PI, 12);
    expect(wrapAngle(7)).toBeCloseTo(7 - 2 * Math.PI, 12);
    expect(shortestArc(3, -3)).toBeCloseTo(2 * Math.PI - 6, 12);
    for (let i = 0; i < 200; i++) {
      const a = (Math.random() - 0.5) * 40;
      const b = (Math.random() - 0.5) * 40;
      const d = shortestArc(a, b);
      expect(Math.abs(d)).toBeLessThanOrEqual(Math.PI);
      expect(Math.cos(a + d)).toBeCloseTo(Math.cos(b), 9);
      expect(Math.sin(a + d)).toBeCloseTo(Math.sin(b), 9);
    }
  });
  it("refuses a fraction outside [0, 1]", () => {
    const a: CuboidGeom = { center: [0, 0, 0], size: [1, 1, 1], yaw: 0 };
    expect(() => interpolateCuboid(a, a, 1.5)).toThrow(RangeError);
    expect(() => interpolateCuboid(a, a, Number.NaN)).toThrow(RangeError);
  });
});

describe("interpolatedOn", () => {
  const rec = (id: string, frame: number, x: number, track: string | null = "t") => ({
    id,
    frame,
    track,
    cuboid: { center: [x, 0, 0], size: [4, 2, 1.5], yaw: 0 } as CuboidGeom,
  });
  it("gives one cuboid per track strictly between keyframes", () => {
    const recs = [rec("a", 0, 0), rec("b", 10, 10), rec("c", 5, 99, null), rec("d", 0, 0, "u")];
    const out = interpolatedOn(recs, 5);
    expect(out).toHaveLength(1);
    expect(out[0]?.track).toBe("t");
    expect(out[0]?.from.id).toBe("a");
    expect(out[0]?.to.id).toBe("b");
    expect(out[0]?.cuboid.center[0]).toBeCloseTo(5, 12);
    expect(interpolatedOn(recs, 10)).toHaveLength(0);
    expect(interpolatedOn(recs, 11)).toHaveLength(0);
  });
});

describe("nearestSweep", () => {
  it("finds the nearest timestamp, the earlier one on a tie", () => {
    const t = [0, 0.1, 0.2, 0.3];
    expect(nearestSweep(t, -5)).toBe(0);
    expect(nearestSweep(t, 0.14)).toBe(1);
    expect(nearestSweep(t, 0.16)).toBe(2);
    expect(nearestSweep(t, 0.25)).toBe(2);
    expect(nearestSweep(t, 9)).toBe(3);
    expect(nearestSweep([], 1)).toBe(0);
  });
});
