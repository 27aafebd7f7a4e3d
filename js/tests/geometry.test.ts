import { describe, expect, it } from "vitest";
import {
  ViewTransform,
  boxFromDrag,
  clampBox,
  distanceToSegment,
  hitTestBox,
  hitTestBoxes,
  moveBox,
  normalizeBox,
  pointInPolygon,
  polygonArea,
  polygonSelfIntersection,
  resizeBox,
  rotatedBoxCorners,
  segmentsCross,
  type Point,
  type Rect,
} from "../src/runtime/geometry.js";

const close = (a: Point, b: Point, digits = 9): void => {
  expect(a.x).toBeCloseTo(b.x, digits);
  expect(a.y).toBeCloseTo(b.y, digits);
};

const VIEWS = [
  new ViewTransform(),
  new ViewTransform(2, 10, -5),
  new ViewTransform(0.25, -300, 120),
  new ViewTransform(7.5, 33.3, 44.4),
];

describe("ViewTransform", () => {
  it("maps image to screen as image * scale + t", () => {
    const v = new ViewTransform(2, 10, -5);
    expect(v.imageToScreen({ x: 3, y: 4 })).toEqual({ x: 16, y: 3 });
    expect(v.screenToImage({ x: 16, y: 3 })).toEqual({ x: 3, y: 4 });
  });

  it("round-trips screen ↔ image at several zoom/pan states", () => {
    const points = [
      { x: 0, y: 0 },
      { x: 123.4, y: -56.7 },
      { x: 1920, y: 1080 },
    ];
    for (const v of VIEWS) {
      for (const p of points) {
        close(v.screenToImage(v.imageToScreen(p)), p);
        close(v.imageToScreen(v.screenToImage(p)), p);
      }
    }
  });

  it("zoomAt keeps the image point under the cursor fixed", () => {
    const cursor = { x: 250, y: 130 };
    for (const v of VIEWS) {
      const under = v.screenToImage(cursor);
      for (const factor of [1.1, 2, 0.5, 0.9]) {
        const z = v.zoomAt(cursor, factor);
        expect(z.scale).toBeCloseTo(v.scale * factor, 12);
        close(z.screenToImage(cursor), under);
        close(z.imageToScreen(under), cursor);
      }
    }
  });

  it("keeps the point fixed when the scale is clamped", () => {
    const v = new ViewTransform(8, 3, 4);
    const cursor = { x: 40, y: 60 };
    const under = v.screenToImage(cursor);
    const z = v.zoomAt(cursor, 4, { max: 10 });
    expect(z.scale).toBe(10);
    close(z.screenToImage(cursor), under);
    expect(v.zoomAt(cursor, 0.001, { min: 0.5 }).scale).toBe(0.5);
  });

  it("zooming in then out by the inverse factor returns to the start", () => {
    const v = new ViewTransform(1.3, 12, 7);
    const back = v.zoomAt({ x: 5, y: 9 }, 3).zoomAt({ x: 5, y: 9 }, 1 / 3);
    expect(back.scale).toBeCloseTo(1.3, 12);
    expect(back.tx).toBeCloseTo(12, 9);
    expect(back.ty).toBeCloseTo(7, 9);
  });

  it("pans in screen pixels and refuses bad values", () => {
    const v = new ViewTransform(2, 0, 0).panBy(10, -4);
    expect(v.screenToImage({ x: 10, y: -4 })).toEqual({ x: 0, y: 0 });
    expect(() => new ViewTransform(0)).toThrow(RangeError);
    expect(() => new ViewTransform(Number.NaN)).toThrow(RangeError);
    expect(() => v.zoomAt({ x: 0, y: 0 }, -1)).toThrow(RangeError);
  });

  it("fits an image in a viewport, centred", () => {
    const v = ViewTransform.fit({ width: 200, height: 100 }, { width: 400, height: 400 });
    expect(v.scale).toBe(2);
    expect(v.imageToScreen({ x: 0, y: 0 })).toEqual({ x: 0, y: 100 });
    expect(v.imageToScreen({ x: 200, y: 100 })).toEqual({ x: 400, y: 300 });
  });
});

describe("boxes", () => {
  it("normalises a drag in any direction", () => {
    const expected = { x: 10, y: 20, width: 30, height: 40 };
    expect(normalizeBox({ x: 10, y: 20 }, { x: 40, y: 60 })).toEqual(expected);
    expect(normalizeBox({ x: 40, y: 60 }, { x: 10, y: 20 })).toEqual(expected);
    expect(normalizeBox({ x: 40, y: 20 }, { x: 10, y: 60 })).toEqual(expected);
    expect(normalizeBox({ x: 10, y: 60 }, { x: 40, y: 20 })).toEqual(expected);
  });

  it("clamps to the image bounds", () => {
    const bounds = { width: 100, height: 50 };
    expect(boxFromDrag({ x: -10, y: 40 }, { x: 120, y: -5 }, bounds)).toEqual({ x: 0, y: 0, width: 100, height: 40 });
    expect(clampBox({ x: 90, y: 10, width: 30, height: 10 }, bounds)).toEqual({ x: 90, y: 10, width: 10, height: 10 });
    expect(clampBox({ x: 200, y: 10, width: 30, height: 10 }, bounds)).toEqual({ x: 100, y: 10, width: 0, height: 10 });
    expect(boxFromDrag({ x: 5, y: 5 }, { x: 1, y: 1 })).toEqual({ x: 1, y: 1, width: 4, height: 4 });
  });

  it("moves a box and keeps it whole inside bounds", () => {
    const box = { x: 10, y: 10, width: 20, height: 20 };
    expect(moveBox(box, 5, -3)).toEqual({ x: 15, y: 7, width: 20, height: 20 });
    expect(moveBox(box, 500, -500, { width: 100, height: 100 })).toEqual({ x: 80, y: 0, width: 20, height: 20 });
  });

  it("resizes from handles, flipping through the opposite edge", () => {
    const box = { x: 10, y: 10, width: 20, height: 20 };
    expect(resizeBox(box, "se", { x: 50, y: 40 })).toEqual({ x: 10, y: 10, width: 40, height: 30 });
    expect(resizeBox(box, "n", { x: 999, y: 0 })).toEqual({ x: 10, y: 0, width: 20, height: 30 });
    expect(resizeBox(box, "e", { x: 0, y: 999 })).toEqual({ x: 0, y: 10, width: 10, height: 20 });
    expect(resizeBox(box, "nw", { x: -5, y: -5 }, { width: 100, height: 100 })).toEqual({ x: 0, y: 0, width: 30, height: 30 });
  });
});

describe("hit-testing boxes", () => {
  const box: Rect = { x: 100, y: 50, width: 80, height: 40 };

  it("finds each handle at its screen position and the body inside", () => {
    for (const v of VIEWS) {
      const s = (x: number, y: number): Point => v.imageToScreen({ x, y });
      expect(hitTestBox(box, s(100, 50), v)).toEqual({ kind: "handle", handle: "nw" });
      expect(hitTestBox(box, s(140, 50), v)).toEqual({ kind: "handle", handle: "n" });
      expect(hitTestBox(box, s(180, 50), v)).toEqual({ kind: "handle", handle: "ne" });
      expect(hitTestBox(box, s(180, 70), v)).toEqual({ kind: "handle", handle: "e" });
      expect(hitTestBox(box, s(180, 90), v)).toEqual({ kind: "handle", handle: "se" });
      expect(hitTestBox(box, s(140, 90), v)).toEqual({ kind: "handle", handle: "s" });
      expect(hitTestBox(box, s(100, 90), v)).toEqual({ kind: "handle", handle: "sw" });
      expect(hitTestBox(box, s(100, 70), v)).toEqual({ kind: "handle", handle: "w" });
    }
  });

  it("uses a tolerance in screen pixels at every zoom", () => {
    for (const scale of [0.5, 1, 4, 16]) {
      const v = new ViewTransform(scale, 7, 3);
      const corner = v.imageToScreen({ x: 180, y: 90 });
      expect(hitTestBox(box, { x: corner.x + 5.9, y: corner.y - 5.9 }, v, 6)).toEqual({ kind: "handle", handle: "se" });
      // 6.5 px outside the corner: no longer a handle and outside the box.
      expect(hitTestBox(box, { x: corner.x + 6.5, y: corner.y + 6.5 }, v, 6)).toBeNull();
      // 6.5 px inside the corner: the body (the box is at least 20 px on screen here).
      expect(hitTestBox(box, { x: corner.x - 6.5, y: corner.y - 6.5 }, v, 6)).toEqual({ kind: "body" });
    }
  });

  it("reports the body in the middle and null outside", () => {
    const v = new ViewTransform(2, 0, 0);
    expect(hitTestBox(box, v.imageToScreen({ x: 120, y: 60 }), v)).toEqual({ kind: "body" });
    expect(hitTestBox(box, v.imageToScreen({ x: 90, y: 60 }), v)).toBeNull();
    expect(hitTestBox(box, v.imageToScreen({ x: 140, y: 100 }), v)).toBeNull();
  });

  it("picks the nearest handle when handles overlap on a tiny box, corners on ties", () => {
    const tiny: Rect = { x: 10, y: 10, width: 2, height: 2 };
    const v = new ViewTransform(1, 0, 0); // 2 px on screen: all handles within 6 px
    expect(hitTestBox(tiny, { x: 10, y: 10 }, v)).toEqual({ kind: "handle", handle: "nw" });
    expect(hitTestBox(tiny, { x: 12.2, y: 12.1 }, v)).toEqual({ kind: "handle", handle: "se" });
    expect(hitTestBox(tiny, { x: 11, y: 10 }, v)).toEqual({ kind: "handle", handle: "n" });
    // The centre is 1 px (Chebyshev) from every handle: the first corner wins.
    expect(hitTestBox(tiny, { x: 11, y: 11 }, v)).toEqual({ kind: "handle", handle: "nw" });
  });

  it("hit-tests a stack topmost first, the selected box's handles winning", () => {
    const v = new ViewTransform(1, 0, 0);
    const boxes: Rect[] = [
      { x: 0, y: 0, width: 100, height: 100 },
      { x: 50, y: 50, width: 100, height: 100 },
    ];
    expect(hitTestBoxes(boxes, { x: 75, y: 75 }, v)).toEqual({ index: 1, hit: { kind: "body" } });
    expect(hitTestBoxes(boxes, { x: 25, y: 25 }, v)).toEqual({ index: 0, hit: { kind: "body" } });
    // (100, 100) is box 0's se corner but inside box 1, which is on top.
    expect(hitTestBoxes(boxes, { x: 100, y: 100 }, v)).toEqual({ index: 1, hit: { kind: "body" } });
    expect(hitTestBoxes(boxes, { x: 100, y: 100 }, v, 6, 0)).toEqual({ index: 0, hit: { kind: "handle", handle: "se" } });
    expect(hitTestBoxes(boxes, { x: 300, y: 300 }, v)).toBeNull();
  });
});

describe("polygons and segments", () => {
  // A "U" shape: concave, the notch between x=4..6 is outside above y=2.
  const u: Point[] = [
    { x: 0, y: 0 },
    { x: 10, y: 0 },
    { x: 10, y: 10 },
    { x: 6, y: 10 },
    { x: 6, y: 2 },
    { x: 4, y: 2 },
    { x: 4, y: 10 },
    { x: 0, y: 10 },
  ];

  it("tests points against a concave polygon", () => {
    expect(pointInPolygon({ x: 2, y: 5 }, u)).toBe(true);
    expect(pointInPolygon({ x: 8, y: 9 }, u)).toBe(true);
    expect(pointInPolygon({ x: 5, y: 1 }, u)).toBe(true);
    expect(pointInPolygon({ x: 5, y: 5 }, u)).toBe(false);
    expect(pointInPolygon({ x: -1, y: 5 }, u)).toBe(false);
    expect(pointInPolygon({ x: 5, y: 11 }, u)).toBe(false);
    expect(pointInPolygon({ x: 1, y: 1 }, [])).toBe(false);
    expect(pointInPolygon({ x: 1, y: 1 }, [{ x: 0, y: 0 }, { x: 2, y: 2 }])).toBe(false);
  });

  it("measures distance to a segment: perpendicular, past the ends and degenerate", () => {
    const a = { x: 0, y: 0 };
    const b = { x: 10, y: 0 };
    expect(distanceToSegment({ x: 5, y: 3 }, a, b)).toBe(3);
    expect(distanceToSegment({ x: -3, y: 4 }, a, b)).toBe(5);
    expect(distanceToSegment({ x: 13, y: -4 }, a, b)).toBe(5);
    expect(distanceToSegment({ x: 3, y: 4 }, a, a)).toBe(5);
    expect(distanceToSegment({ x: 2, y: 2 }, { x: 0, y: 4 }, { x: 4, y: 0 })).toBeCloseTo(0, 12);
  });
});

describe("rotated boxes", () => {
  it("gives the axis-aligned corners at angle 0", () => {
    const corners = rotatedBoxCorners({ cx: 10, cy: 20, width: 4, height: 2, angle: 0 });
    expect(corners).toEqual([
      { x: 8, y: 19 },
      { x: 12, y: 19 },
      { x: 12, y: 21 },
      { x: 8, y: 21 },
    ]);
  });

  it("turns clockwise on screen (y down) for a positive angle", () => {
    const [tl, tr, br, bl] = rotatedBoxCorners({ cx: 0, cy: 0, width: 4, height: 2, angle: Math.PI / 2 });
    close(tl, { x: 1, y: -2 });
    close(tr, { x: 1, y: 2 });
    close(br, { x: -1, y: 2 });
    close(bl, { x: -1, y: -2 });
  });

  it("keeps side lengths and centre at any angle", () => {
    for (const angle of [0.3, 1, 2.5, -0.7]) {
      const c = rotatedBoxCorners({ cx: 3, cy: -2, width: 6, height: 2.5, angle });
      expect(Math.hypot(c[1].x - c[0].x, c[1].y - c[0].y)).toBeCloseTo(6, 12);
      expect(Math.hypot(c[2].x - c[1].x, c[2].y - c[1].y)).toBeCloseTo(2.5, 12);
      close({ x: (c[0].x + c[2].x) / 2, y: (c[0].y + c[2].y) / 2 }, { x: 3, y: -2 });
    }
  });
});

describe("polygon helpers", () => {
  it("computes the unsigned area, precise far from the origin", () => {
    const square = [
      { x: 0, y: 0 },
      { x: 4, y: 0 },
      { x: 4, y: 3 },
      { x: 0, y: 3 },
    ];
    expect(polygonArea(square)).toBeCloseTo(12, 12);
    expect(polygonArea([...square].reverse())).toBeCloseTo(12, 12);
    expect(polygonArea(square.map((p) => ({ x: p.x + 1e7, y: p.y + 1e7 })))).toBeCloseTo(12, 6);
    expect(polygonArea(square.slice(0, 2))).toBe(0);
  });

  it("finds proper crossings only", () => {
    expect(segmentsCross({ x: 0, y: 0 }, { x: 2, y: 2 }, { x: 0, y: 2 }, { x: 2, y: 0 })).toBe(true);
    expect(segmentsCross({ x: 0, y: 0 }, { x: 2, y: 2 }, { x: 2, y: 2 }, { x: 3, y: 0 })).toBe(false); // shared end
    expect(segmentsCross({ x: 0, y: 0 }, { x: 2, y: 0 }, { x: 1, y: 0 }, { x: 3, y: 0 })).toBe(false); // collinear
  });

  it("reports the first pair of crossing edges like Python's self_intersection", () => {
    const bowtie = [
      { x: 0, y: 0 },
      { x: 10, y: 10 },
      { x: 10, y: 0 },
      { x: 0, y: 10 },
    ];
    expect(polygonSelfIntersection(bowtie)).toEqual([0, 2]);
    const simple = [
      { x: 0, y: 0 },
      { x: 10, y: 0 },
      { x: 10, y: 10 },
      { x: 0, y: 10 },
    ];
    expect(polygonSelfIntersection(simple)).toBeNull();
    expect(polygonSelfIntersection(simple.slice(0, 3))).toBeNull();
  });
});
