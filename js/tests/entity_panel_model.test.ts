import { describe, expect, it } from "vitest";
import {
  formatSpan,
  formatTime,
  mergeIds,
  parseSnapshot,
  refOf,
  revealOf,
  splitPayload,
  splitProblem,
  whereOf,
  type EntityRow,
} from "../src/widgets/entity_panel/model.js";

const SNAPSHOT = {
  entities: [
    {
      id: "e1",
      label: "car",
      name: "red car",
      annotator: "ana",
      revision: 2,
      modalities: ["pointcloud", "video"],
      start: 0.3,
      end: 0.4,
      elsewhere: 0,
      members: [
        { id: "a1", stream: "video", modality: "video", kind: "box", label: "car", annotator: "ana", frame: 10, sweep: null, time: 0.35, start: 0.3337, end: 0.367, excerpt: null, track: null },
        { id: "a2", stream: "lidar", modality: "pointcloud", kind: "cuboid", label: "car", annotator: "ana", frame: null, sweep: 3, time: 0.3, start: 0.3, end: 0.4, excerpt: null, track: "t1" },
      ],
    },
    {
      id: "e2",
      label: null,
      name: "",
      annotator: "bo",
      revision: 1,
      modalities: ["text"],
      start: null,
      end: null,
      elsewhere: 2,
      members: [{ id: "a3", stream: "transcript", modality: "text", kind: "text_span", label: "speech", annotator: "bo", frame: null, sweep: null, time: null, start: null, end: null, excerpt: "<b>Hello</b>", track: null }],
    },
    { id: "", members: [] },
    "junk",
  ],
};

describe("parseSnapshot", () => {
  it("keeps well-formed entities and members, drops junk", () => {
    const rows = parseSnapshot(SNAPSHOT);
    expect(rows.map((e) => e.id)).toEqual(["e1", "e2"]);
    expect(rows[0]?.members.map((m) => m.id)).toEqual(["a1", "a2"]);
    expect(rows[0]?.members[1]).toMatchObject({ sweep: 3, frame: null, track: "t1" });
    expect(rows[1]).toMatchObject({ label: null, elsewhere: 2, revision: 1 });
    expect(parseSnapshot(null)).toEqual([]);
    expect(parseSnapshot({ entities: "x" })).toEqual([]);
  });
  it("rejects non-integer frames and non-finite times", () => {
    const [e] = parseSnapshot({ entities: [{ id: "e", members: [{ id: "m", frame: 1.5, time: Number.NaN }] }] });
    expect(e?.members[0]).toMatchObject({ frame: null, time: null });
  });
});

describe("merge and split rules", () => {
  const rows: EntityRow[] = parseSnapshot(SNAPSHOT);
  it("merges two or more existing entities in ticked order", () => {
    expect(mergeIds(["e2", "e1"], rows)).toEqual(["e2", "e1"]);
    expect(mergeIds(["e1"], rows)).toBeNull();
    expect(mergeIds(["e1", "gone"], rows)).toBeNull();
    expect(mergeIds(["e1", "e1"], rows)).toBeNull();
  });
  it("splits a proper subset of one entity's members", () => {
    expect(splitPayload(["a2"], rows)).toEqual({ id: "e1", members: ["a2"] });
    expect(splitProblem([], rows)).toMatch(/tick/);
    expect(splitProblem(["a1", "a2"], rows)).toMatch(/at least one/);
    expect(splitProblem(["a1", "a3"], rows)).toMatch(/one entity/);
    expect(splitProblem(["nope"], rows)).toMatch(/no longer/);
    expect(splitPayload(["a1", "a2"], rows)).toBeNull();
    // all listed members of e2, but it has two more in other items: allowed
    expect(splitPayload(["a3"], rows)).toEqual({ id: "e2", members: ["a3"] });
  });
});

describe("reveal and bus values", () => {
  it("builds the reveal payload", () => {
    const [e] = parseSnapshot(SNAPSHOT);
    expect(revealOf(e!.members[0]!, "clip")).toEqual({
      id: "a1",
      item: "clip",
      stream: "video",
      kind: "box",
      frame: 10,
      time: 0.35,
      sweep: null,
    });
    expect(revealOf(e!.members[1]!, "clip")).toMatchObject({ frame: null, sweep: 3, time: 0.3 });
  });
  it("reads {id, entity} and plain ids", () => {
    expect(refOf("a1")).toEqual({ id: "a1", entity: null });
    expect(refOf({ id: null, entity: "e1" })).toEqual({ id: null, entity: "e1" });
    expect(refOf(42)).toEqual({ id: null, entity: null });
  });
});

describe("formatting", () => {
  it("formats item times", () => {
    expect(formatTime(0)).toBe("0:00.000");
    expect(formatTime(61.5)).toBe("1:01.500");
    expect(formatTime(3725.25)).toBe("1:02:05.250");
    expect(formatTime(null)).toBe("—");
    expect(formatSpan(1, 2.5)).toBe("0:01.000–0:02.500");
    expect(formatSpan(1, 1)).toBe("0:01.000");
    expect(formatSpan(null, null)).toBe("—");
  });
  it("says where a member is", () => {
    const rows = parseSnapshot(SNAPSHOT);
    expect(whereOf(rows[0]!.members[0]!)).toBe("frame 10 · 0:00.350");
    expect(whereOf(rows[0]!.members[1]!)).toBe("sweep 3 · 0:00.300");
    expect(whereOf(rows[1]!.members[0]!)).toBe("“<b>Hello</b>”");
  });
});
