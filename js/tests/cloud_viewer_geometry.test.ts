import { describe, expect, it } from "vitest";
import { computeColors, groundHeight, hexToRgb } from "../src/widgets/cloud_viewer/colors.js";
import {
  contains,
  corners,
  footprint,
  handlePositions,
  heightFromPoints,
  moveBy,
  rayHit,
  resizeHorizontal,
  resizeVertical,
  rotateBy,
  yawTowards,
  MIN_SIZE,
} from "../src/widgets/cloud_viewer/cuboid.js";
import type { CuboidGeom } from "../src/widgets/cloud_viewer/tracks.js";

const g: CuboidGeom = { center: [10, 2, -1], size: [4, 2, 1.5], yaw: Math.PI / 2 };

describe("cuboid geometry", () => {
  it("has corners like accord.model.geometry.cuboid_corners", () => {
    const axis: CuboidGeom = { center: [1, 2, 3], size: [4, 2, 1], yaw: 0 };
    expect(corners(axis)[0]).toEqual([3, 3, 2.5]);
    expect(corners(axis)[6]).toEqual([-1, 1, 3.5]);
  });
  it("puts handles on the faces and the knob ahead of the front", () => {
    const h = handlePositions(g);
    expect(h["+l"][0]).toBeCloseTo(10, 9);
    expect(h["+l"][1]).toBeCloseTo(4, 9); // heading +y at yaw 90°
    expect(h["+w"][0]).toBeCloseTo(9, 9); // left of +y is -x
    expect(h["+h"][2]).toBeCloseTo(-0.25, 9);
    expect(h.yaw[1]).toBeGreaterThan(h["+l"][1]);
  });
  it("resizes with the opposite face fixed, never below the minimum", () => {
    const r = resizeHorizontal(g, "+l", 10, 7); // drag the front face to y = 7
    expect(r.size[0]).toBeCloseTo(7, 9); // back face at y = 0 stays
    expect(r.center[1]).toBeCloseTo(3.5, 9);
    const w = resizeHorizontal(g, "-w", 12, 2); // right side (+x at yaw 90°) to x = 12
    expect(w.size[1]).toBeCloseTo(3, 9);
    expect(w.center[0]).toBeCloseTo(10.5, 9);
    const tiny = resizeHorizontal(g, "+l", 10, -50);
    expect(tiny.size[0]).toBe(MIN_SIZE);
    const up = resizeVertical(g, "+h", 1);
    expect(up.size[2]).toBeCloseTo(2.75, 9);
    expect(up.center[2] - up.size[2] / 2).toBeCloseTo(-1.75, 9);
  });
  it("turns, snaps and moves", () => {
    expect(yawTowards(g, 11, 2).yaw).toBeCloseTo(0, 12);
    expect(yawTowards(g, 11, 2.1, Math.PI / 12).yaw).toBeCloseTo(0, 12);
    expect(yawTowards(g, 11, 2.2, Math.PI / 12).yaw).toBeCloseTo(Math.PI / 12, 12);
    expect(rotateBy(g, Math.PI).yaw).toBeCloseTo(-Math.PI / 2, 12);
    expect(moveBy(g, 1, -1).center).toEqual([11, 1, -1]);
  });
  it("builds a footprint and a height from the points inside", () => {
    expect(footprint([0, 0], [0.01, 5])).toBeNull();
    const f = footprint([4, 1], [0, -1]);
    expect(f).toEqual({ cx: 2, cy: 0, l: 4, w: 2 });
    const pts = new Float32Array([1, 0, -1.5, 2, 0.5, 0.2, 3, -0.5, -1, 2, 0, 0, 1, 0, 0, 50, 50, 9]);
    const h = heightFromPoints(f as NonNullable<typeof f>, pts, 6, -1.7, 1.5);
    expect(h.h).toBeCloseTo(1.7, 6);
    expect(h.cz).toBeCloseTo(-0.65, 6);
    const none = heightFromPoints(f as NonNullable<typeof f>, pts, 6, -1.7, 1.5, 10);
    expect(none).toEqual({ cz: -0.95, h: 1.5 });
  });
  it("tests membership and ray hits", () => {
    expect(contains(g, 10, 3.9, -1)).toBe(true);
    expect(contains(g, 11.1, 2, -1)).toBe(false);
    expect(rayHit(g, [10, 2, 50], [0, 0, -1])).toBeCloseTo(50 - -0.25, 9);
    expect(rayHit(g, [20, 2, 50], [0, 0, -1])).toBeNull();
    expect(rayHit(g, [10, 2, -1], [1, 0, 0])).toBe(0); // inside
  });
});

describe("colours", () => {
  const positions = new Float32Array([0, 0, 0, 10, 2, -1, 0, 0, 5]);
  const base = { positions, count: 3, intensity: null, rgb: null, labels: null, classColors: ["#ff0000"], cuboids: [] };
  it("colours by height, intensity, label and rgb into one buffer", () => {
    const out = new Uint8Array(9);
    expect(computeColors("height", base, out)).toBe("height");
    expect(out.slice(3, 6)).not.toEqual(out.slice(6, 9));
    expect(computeColors("intensity", { ...base, intensity: new Float32Array([0, 1, 0.5]) }, out)).toBe("intensity");
    expect(out[3]).toBeGreaterThan(out[0] as number);
    expect(computeColors("intensity", base, out)).toBe("height"); // no intensity: height
    computeColors("label", { ...base, cuboids: [{ geometry: g, color: "#00ff00" }] }, out);
    expect([...out.slice(3, 6)]).toEqual([0, 255, 0]);
    expect([...out.slice(0, 3)]).toEqual([150, 150, 150]);
    computeColors("label", { ...base, labels: new Int16Array([0, -1, 0]) }, out);
    expect([...out.slice(0, 3)]).toEqual([255, 0, 0]);
    computeColors("rgb", { ...base, rgb: new Uint8Array([1, 2, 3, 4, 5, 6, 7, 8, 9]) }, out);
    expect([...out]).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(hexToRgb("nope")).toEqual([128, 128, 128]);
    expect(groundHeight(positions, 3)).toBe(-1);
  });
});
