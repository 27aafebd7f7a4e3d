import { describe, expect, it } from "vitest";
import type { SegmentClass, SegmentRecord, StreamInfo } from "../src/widgets/player/contracts.js";
import {
  SegmentStore,
  TierIndex,
  groupTiers,
  parseSegment,
  thinForPixels,
  tierKeyOf,
} from "../src/widgets/player/tiers/model.js";

const cls = (name: string, modalities: string[], attrs: string[] = []): SegmentClass => ({
  name,
  color: "#123456",
  hotkey: null,
  modalities,
  attributes: attrs.map((a) => ({ name: a, type: "text" })),
});
const CLASSES = [cls("speech", ["audio", "text", "video"], ["speaker", "text"]), cls("noise", ["audio"]), cls("clap", ["audio", "video"])];
const stream = (name: string, modality: StreamInfo["modality"], duration: number | null = 10): StreamInfo => ({
  name,
  modality,
  duration,
  clock: { offset: 0, rate: 1 },
});
const seg = (id: string, stream: string, label: string, start: number, attributes: Record<string, unknown> = {}, end = start + 0.5): SegmentRecord => ({
  id,
  stream,
  label,
  annotator: "ana",
  start,
  end,
  attributes,
  revision: 1,
  track: null,
  entity: null,
});

describe("parseSegment", () => {
  it("reads query rows and event records, refuses other kinds and items", () => {
    const q = parseSegment({ id: "a", stream: "audio", label: "speech", annotator: "ana", start: 1, end: 2, attributes: { speaker: "Ana" }, revision: 3, track: null, entity: null, text: "hi" });
    expect(q).toMatchObject({ id: "a", start: 1, end: 2, revision: 3, text: "hi" });
    const ev = parseSegment({ id: "b", item: "clip", stream: "t", label: "speech", kind: "time_segment", geometry: { start: 0.5, end: 0.75 }, attributes: { text: "<b>x</b>" }, annotator: "bob", revision: 1 }, "clip");
    expect(ev).toMatchObject({ id: "b", start: 0.5, end: 0.75, annotator: "bob", text: "<b>x</b>" });
    expect(parseSegment({ id: "c", item: "clip", stream: "v", label: "car", kind: "box", geometry: { x: 0, y: 0, w: 1, h: 1 } })).toBeNull();
    expect(parseSegment({ id: "d", item: "other", stream: "a", label: "x", kind: "time_segment", geometry: { start: 0, end: 1 } }, "clip")).toBeNull();
    expect(parseSegment({ id: "e", stream: "a", label: "x", start: "0", end: 1 })).toBeNull();
    expect(parseSegment(null)).toBeNull();
  });
});

describe("SegmentStore", () => {
  it("patches by id from kernel events and keeps covered text across edits", () => {
    const s = new SegmentStore("clip");
    s.load([{ id: "a", stream: "t", label: "speech", start: 0, end: 1, attributes: {}, revision: 1, text: "covered" }]);
    const rec = (id: string, start: number, extra: Record<string, unknown> = {}) => ({
      id, item: "clip", stream: "t", label: "speech", kind: "time_segment", geometry: { start, end: start + 1 }, attributes: {}, revision: 2, ...extra,
    });
    expect(s.apply([{ op: "update", id: "a", target: "annotation", record: rec("a", 0.25) }])).toBe(true);
    expect(s.byId.get("a")).toMatchObject({ start: 0.25, revision: 2, text: "covered" });
    s.apply([{ op: "create", id: "b", target: "annotation", record: rec("b", 3) }]);
    expect([...s.byId.keys()]).toEqual(["a", "b"]);
    // a link event is ignored; an update to another kind removes the copy; delete removes
    expect(s.apply([{ op: "create", id: "l", target: "link", record: { id: "l" } }])).toBe(false);
    s.apply([{ op: "update", id: "b", target: "annotation", record: rec("b", 3, { kind: "tag", geometry: {} }) }]);
    expect(s.byId.has("b")).toBe(false);
    s.apply([{ op: "delete", id: "a", target: "annotation", record: null }]);
    expect(s.byId.size).toBe(0);
  });
});

describe("tiers (the rule shared with Python's tiers_of)", () => {
  it("groups by speaker first, else class, in display order, with empty tiers", () => {
    // the same records as tests/test_tiers.py::test_tier_rule_speaker_first_then_class
    const recs = [
      seg("1", "audio", "noise", 5.0),
      seg("2", "audio", "speech", 3.0, { speaker: "Zoe" }),
      seg("3", "audio", "speech", 1.0, { speaker: "Al" }),
      seg("4", "audio", "clap", 2.0, { speaker: " Al " }),
      seg("5", "audio", "speech", 0.5, { speaker: "" }),
      seg("6", "audio", "noise", 0.1),
      seg("7", "video", "clap", 0.0),
      seg("8", "audio", "clap", 9.0, { speaker: "Al" }),
    ];
    expect(tierKeyOf(recs[3]!)).toEqual(["audio", "speaker", "Al"]);
    const streams = [stream("video", "video"), stream("audio", "audio"), stream("transcript", "text"), stream("cam", "image", null)];
    const tiers = groupTiers(recs, streams, CLASSES);
    expect(tiers.map((t) => [t.key, t.label, t.segments.map((s) => s.id)])).toEqual([
      ["video/class:clap", "clap", ["7"]],
      ["audio/speaker:Al", "clap", ["3", "4", "8"]],
      ["audio/speaker:Zoe", "speech", ["2"]],
      ["audio/class:speech", "speech", ["5"]],
      ["audio/class:noise", "noise", ["6", "1"]],
      ["transcript/class:speech", "speech", []],
    ]);
  });

  it("leaves out streams the Player does not show", () => {
    expect(groupTiers([seg("1", "elsewhere", "noise", 0)], [stream("audio", "audio")], CLASSES).map((t) => t.key)).toEqual(["audio/class:speech"]);
  });
});

describe("TierIndex (virtualisation)", () => {
  it("finds exactly the overlapping segments among 10k, like a full scan", () => {
    let seed = 7;
    const rand = () => ((seed = (seed * 16807) % 2147483647) / 2147483647);
    const segs: SegmentRecord[] = [];
    for (let i = 0; i < 10_000; i++) {
      const start = rand() * 3600;
      segs.push(seg(`s${i}`, "audio", "noise", start, {}, start + rand() * (i % 50 === 0 ? 300 : 3)));
    }
    segs.sort((a, b) => a.start - b.start);
    const index = new TierIndex(segs);
    for (const [from, to] of [[0, 10], [1799.5, 1830], [3590, 4000], [-5, -1], [100, 100.001]] as [number, number][]) {
      const want = segs.filter((s) => s.end > from && s.start < to).map((s) => s.id);
      expect(index.overlapping(from, to).map((s) => s.id)).toEqual(want);
    }
  });

  it("steps to the next / previous segment of the tier", () => {
    const segs = [seg("a", "x", "n", 1), seg("b", "x", "n", 2), seg("c", "x", "n", 3)];
    const index = new TierIndex(segs);
    expect(index.neighbour("a", 0, 1)?.id).toBe("b");
    expect(index.neighbour("a", 0, -1)).toBeNull();
    expect(index.neighbour(null, 1.5, 1)?.id).toBe("b");
    expect(index.neighbour(null, 2.5, -1)?.id).toBe("b");
    expect(index.neighbour(null, 3.5, 1)).toBeNull();
  });

  it("thins a lane to about one element per pixel column", () => {
    const n = 5000;
    const items = Array.from({ length: n }, (_, i) => i);
    const xs = items.map((i) => [i * 0.1, i * 0.1 + 0.05] as [number, number]); // 10 per pixel
    const kept = thinForPixels(items, xs, (i) => i === 1234);
    expect(kept.length).toBeLessThanOrEqual(501 + 1);
    expect(kept.length).toBeGreaterThanOrEqual(499);
    expect(kept).toContain(1234);
    // segments sharing a start column but ending visibly apart (> 1 px) are all kept
    const wide = items.slice(0, 10).map((i) => [i * 0.1, 50 + 2 * i] as [number, number]);
    expect(thinForPixels(items.slice(0, 10), wide)).toHaveLength(10);
  });
});
