import { describe, expect, it } from "vitest";
import {
  allowsKinds,
  applyEvents,
  applyQuery,
  assignLevels,
  EMPTY,
  formatTime,
  parseLinkTypes,
  pieces,
  type PlacedSpan,
} from "../src/widgets/text_annotator/model.js";

const span = (id: string, start: number, end: number, extra: Record<string, unknown> = {}) => ({
  id,
  item: "doc",
  stream: "text",
  label: "speech",
  kind: "text_span",
  geometry: { start, end },
  attributes: {},
  annotator: "ana",
  revision: 1,
  ...extra,
});

describe("state", () => {
  it("keeps spans and tags of its stream, links of the item", () => {
    const s = applyQuery(
      EMPTY,
      {
        annotations: [
          span("a", 0, 3),
          span("b", 2, 9, { stream: "other" }),
          { ...span("t", 0, 1), kind: "tag", geometry: {} },
          { ...span("x", 0, 1), kind: "box", geometry: { x: 0, y: 0, w: 1, h: 1 } },
          span("bad", 5, 5),
        ],
      },
      { links: [{ id: "l1", source: "a", target: "t", type: "refers_to", annotator: "ana", revision: 1 }] },
      "doc",
      "text",
    );
    expect([...s.records.keys()]).toEqual(["a", "t"]);
    expect(s.records.get("a")?.start).toBe(0);
    expect(s.records.get("t")?.start).toBeNull();
    expect(s.links.get("l1")?.type).toBe("refers_to");
  });

  it("applies events: upsert, delete, moved away, links", () => {
    let s = applyQuery(EMPTY, { annotations: [span("a", 0, 3)] }, { links: [] }, "doc", "text");
    const v = s.version;
    s = applyEvents(
      s,
      {
        events: [
          { op: "create", id: "b", target: "annotation", record: span("b", 4, 6) },
          { op: "update", id: "a", target: "annotation", record: span("a", 1, 3, { revision: 2 }) },
          { op: "create", id: "l", target: "link", record: { id: "l", source: "a", target: "b", type: "refers_to" } },
        ],
      },
      "doc",
      "text",
    );
    expect(s.version).toBe(v + 1);
    expect(s.records.get("a")?.revision).toBe(2);
    expect(s.links.size).toBe(1);
    s = applyEvents(
      s,
      {
        events: [
          { op: "delete", id: "b", target: "annotation", record: null },
          { op: "delete", id: "l", target: "link", record: null },
          { op: "update", id: "a", target: "annotation", record: span("a", 1, 3, { stream: "elsewhere" }) },
        ],
      },
      "doc",
      "text",
    );
    expect(s.records.size).toBe(0);
    expect(s.links.size).toBe(0);
    expect(applyEvents(s, { events: [{ op: "create", id: "z", target: "stream", record: {} }] }, "doc", "text")).toBe(s);
  });
});

describe("layout", () => {
  it("stacks overlapping spans on distinct levels", () => {
    const placed = assignLevels([
      { id: "outer", a: 0, b: 10 },
      { id: "inner", a: 2, b: 4 },
      { id: "after", a: 5, b: 8 },
      { id: "later", a: 10, b: 12 },
    ]);
    const level = Object.fromEntries(placed.map((p) => [p.id, p.level]));
    expect(level).toEqual({ outer: 0, inner: 1, after: 1, later: 0 });
  });

  it("cuts pieces at span edges, innermost span first", () => {
    const spans: PlacedSpan[] = [
      { id: "outer", a: 0, b: 10, level: 0, color: "#000000", own: true },
      { id: "inner", a: 2, b: 4, level: 1, color: "#000000", own: true },
    ];
    expect(pieces(0, 12, spans)).toEqual([
      { a: 0, b: 2, spans: ["outer"] },
      { a: 2, b: 4, spans: ["inner", "outer"] },
      { a: 4, b: 10, spans: ["outer"] },
      { a: 10, b: 12, spans: [] },
    ]);
    expect(pieces(3, 5, spans).map((p) => [p.a, p.b])).toEqual([
      [3, 4],
      [4, 5],
    ]);
  });

  it("formats item times", () => {
    expect(formatTime(0)).toBe("0:00.000");
    expect(formatTime(61.2345)).toBe("1:01.235");
    expect(formatTime(3725.5)).toBe("1:02:05.500");
    expect(formatTime(-0.25)).toBe("-0:00.250");
    expect(formatTime(null)).toBe("");
  });
});

describe("link types", () => {
  it("mirrors the taxonomy's allows()", () => {
    const [sameAs, speaks, any] = parseLinkTypes([
      { name: "same_as", sources: ["box"], targets: ["box"], symmetric: true },
      { name: "speaks", sources: ["text_span"], targets: ["box"] },
      { name: "refers_to", spans: true },
      { bogus: 1 },
    ]);
    expect(allowsKinds(sameAs!, "text_span", "text_span")).toBe(false);
    expect(allowsKinds(speaks!, "text_span", "box")).toBe(true);
    expect(allowsKinds(speaks!, "box", "text_span")).toBe(false);
    expect(allowsKinds(any!, "text_span", "text_span")).toBe(true);
    expect(any!.spans).toBe(true);
  });
});

describe("far ends of relations", () => {
  it("names an end in another view by label, kind and stream, else by id", async () => {
    const { farEndText, parseLink } = await import("../src/widgets/text_annotator/model.js");
    const l = parseLink({
      id: "l1", source: "a1", target: "b1", type: "describes", annotator: "ana", revision: 1,
      source_kind: "text_span", source_label: "mention", source_stream: "transcript",
      target_kind: "box", target_label: "car", target_stream: "video",
    });
    expect(l).not.toBeNull();
    expect(farEndText("b1", l!.ends?.["b1"])).toBe("(car box on video)");
    expect(farEndText("a1", l!.ends?.["a1"])).toBe("(mention text span on transcript)");
    const bare = parseLink({ id: "l2", source: "a1", target: "b2", type: "x" });
    expect(farEndText("b2", bare!.ends?.["b2"])).toBe("(b2, another view)");
  });
});
