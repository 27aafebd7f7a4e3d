import { describe, expect, it } from "vitest";
import { matchHover, parseProjections } from "../src/widgets/region_canvas/overlay.js";

const reply = {
  frame: 30,
  boxes: [
    { annotation: "a1", label: "car", track: "t", entity: "e1", interpolated: false, box: { x: 1, y: 2, w: 3, h: 4 }, linked: ["b1"] },
    { annotation: null, label: "person", track: "u", entity: null, interpolated: true, box: { x: 5, y: 6, w: 7, h: 8 }, linked: [] },
    { annotation: "bad", label: "car", box: { x: "1", y: 2, w: 3, h: 4 } },
    "junk",
  ],
};

describe("projected cuboid overlay", () => {
  it("parses the projections.get reply, dropping malformed boxes", () => {
    const boxes = parseProjections(reply);
    expect(boxes.map((b) => b.annotation)).toEqual(["a1", null]);
    expect(boxes[0]?.linked).toEqual(["b1"]);
    expect(boxes[1]?.interpolated).toBe(true);
    expect(parseProjections(null)).toEqual([]);
  });
  it("matches a bus hover by cuboid id, entity or linked 2-D box", () => {
    const boxes = parseProjections(reply);
    expect(matchHover(boxes, { id: "a1", entity: null }).map((b) => b.annotation)).toEqual(["a1"]);
    expect(matchHover(boxes, { id: "zz", entity: "e1" })).toHaveLength(1);
    expect(matchHover(boxes, "b1")).toHaveLength(1);
    expect(matchHover(boxes, "nothing")).toHaveLength(0);
    expect(matchHover(boxes, null)).toHaveLength(0);
  });
});
