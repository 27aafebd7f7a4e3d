import { describe, expect, it } from "vitest";
import { dropBus, getBus } from "../src/runtime/bus.js";
import {
  LinkIndex,
  LinkMode,
  allowedLinkTypes,
  allowsKinds,
  hoverRef,
  linkModeFor,
  parseLinkTypes,
  type LinkEnd,
  type LinkPick,
  type LinkTopics,
} from "../src/runtime/linkmode.js";

const TYPES = parseLinkTypes([
  { name: "speaks", sources: ["text_span"], targets: ["box"] },
  { name: "describes", sources: ["text_span"], targets: ["time_segment"], description: "the words describe the segment" },
  { name: "same_as", symmetric: true },
  { name: "depicts", sources: ["box"], targets: ["cuboid"], symmetric: true },
  { name: 7 },
  "junk",
]);

const end = (id: string, kind: string, widget = "w1"): LinkEnd => ({ id, kind, stream: "s", label: id, widget });

describe("kind filtering", () => {
  it("parses link types and drops malformed ones", () => {
    expect(TYPES.map((t) => t.name)).toEqual(["speaks", "describes", "same_as", "depicts"]);
    expect(TYPES[1]?.description).toBe("the words describe the segment");
    expect(TYPES[2]).toMatchObject({ sources: [], targets: [], symmetric: true });
  });

  it("offers only the types whose allowed source/target kinds fit", () => {
    expect(allowedLinkTypes(TYPES, "text_span", "box").map((t) => t.name)).toEqual(["speaks", "same_as"]);
    expect(allowedLinkTypes(TYPES, "text_span", "time_segment").map((t) => t.name)).toEqual(["describes", "same_as"]);
    // Direction matters for a directed type...
    expect(allowedLinkTypes(TYPES, "box", "text_span").map((t) => t.name)).toEqual(["same_as"]);
    // ...not for a symmetric one (the Session's LinkType.allows).
    expect(allowsKinds(TYPES[3]!, "cuboid", "box")).toBe(true);
    expect(allowsKinds(TYPES[3]!, "cuboid", "text_span")).toBe(false);
    expect(allowedLinkTypes(TYPES, "tag", "cuboid").map((t) => t.name)).toEqual(["same_as"]);
  });
});

describe("hover values", () => {
  it("normalises plain ids and {id, entity}", () => {
    expect(hoverRef("a1")).toEqual({ id: "a1", entity: null });
    expect(hoverRef({ id: "a1", entity: "e1" })).toEqual({ id: "a1", entity: "e1" });
    expect(hoverRef({ id: "", entity: 3 })).toEqual({ id: null, entity: null });
    expect(hoverRef(null)).toEqual({ id: null, entity: null });
    expect(hoverRef("")).toEqual({ id: null, entity: null });
  });
});

describe("LinkMode state machine", () => {
  it("start / pick / cancel publish on the item's bus", () => {
    const key = "lm-test-1";
    dropBus(key);
    const bus = getBus<LinkTopics>(key);
    const modes: unknown[] = [];
    const picks: LinkPick[] = [];
    bus.subscribe("link-mode", (v) => modes.push(v));
    bus.subscribe("link-pick", (v) => picks.push(v));
    const m = new LinkMode(bus);
    expect(m.active).toBe(false);
    // Picking with no mode does nothing.
    expect(m.pick(end("b1", "box"))).toBe(false);
    expect(picks).toEqual([]);
    m.start(end("s1", "text_span"));
    expect(m.source?.id).toBe("s1");
    expect(modes).toEqual([{ source: end("s1", "text_span") }]);
    // The source itself is not a target.
    expect(m.pick(end("s1", "text_span", "w2"))).toBe(false);
    expect(m.pick(end("b1", "box", "w2"))).toBe(true);
    expect(picks).toEqual([{ source: end("s1", "text_span"), target: end("b1", "box", "w2") }]);
    // Picking does not end the mode (the chooser does, or Esc).
    expect(m.active).toBe(true);
    m.cancel();
    expect(m.active).toBe(false);
    expect(modes.at(-1)).toBeNull();
    // Cancelling again publishes nothing.
    m.cancel();
    expect(modes.length).toBe(2);
  });

  it("is one state per bus key, seen by every copy of the module", () => {
    dropBus("lm-a");
    dropBus("lm-b");
    const a1 = linkModeFor("lm-a");
    const a2 = linkModeFor("lm-a");
    const b = linkModeFor("lm-b");
    a1.start(end("x", "box"));
    expect(a2.source?.id).toBe("x");
    expect(b.active).toBe(false);
    // Restarting replaces the source.
    a2.start(end("y", "cuboid"));
    expect(a1.source?.id).toBe("y");
    a1.cancel();
    expect(a2.active).toBe(false);
  });

  it("a published source is a copy (later edits of the caller's object do not leak)", () => {
    dropBus("lm-c");
    const m = linkModeFor("lm-c");
    const src = end("s", "text_span");
    m.start(src);
    src.id = "changed";
    expect(m.source?.id).toBe("s");
  });
});

describe("LinkIndex", () => {
  const link = (id: string, source: string, target: string, type = "same_as"): Record<string, unknown> => ({
    id,
    source,
    target,
    type,
    annotator: "ana",
    revision: 1,
  });

  it("answers linkedTo in both directions from a query and events", () => {
    const ix = new LinkIndex();
    ix.load([link("l1", "span", "box"), link("l2", "span", "seg", "describes"), { id: 3 }, link("l3", "box", "cub")]);
    expect(ix.size).toBe(3);
    expect(ix.linkedTo("span").sort()).toEqual(["box", "seg"]);
    expect(ix.linkedTo("box").sort()).toEqual(["cub", "span"]);
    expect(ix.linkedTo("seg")).toEqual(["span"]);
    expect(ix.linkedTo("nothing")).toEqual([]);
    expect(ix.linkedTo(null)).toEqual([]);

    // A create, a delete, and events of other targets.
    const changed = ix.apply({
      type: "event",
      events: [
        { op: "create", id: "l4", target: "link", record: link("l4", "seg", "box") },
        { op: "delete", id: "l1", target: "link", record: null },
        { op: "update", id: "a9", target: "annotation", record: { id: "a9" } },
      ],
    });
    expect(changed).toBe(true);
    expect(ix.linkedTo("span")).toEqual(["seg"]);
    expect(ix.linkedTo("box").sort()).toEqual(["cub", "seg"]);
    expect(ix.apply({ type: "event", events: [{ op: "update", id: "a9", target: "annotation", record: {} }] })).toBe(false);

    // Two links between the same pair count the other end once.
    ix.apply({ type: "event", events: [{ op: "create", id: "l5", target: "link", record: link("l5", "box", "seg", "speaks") }] });
    expect(ix.linkedTo("seg").sort()).toEqual(["box", "span"]);
    // An update moving an end re-indexes it.
    ix.apply({ type: "event", events: [{ op: "update", id: "l5", target: "link", record: link("l5", "box", "span") }] });
    expect(ix.linkedTo("span").sort()).toEqual(["box", "seg"]);
    // Loading again replaces everything.
    ix.load([]);
    expect(ix.size).toBe(0);
    expect(ix.linkedTo("box")).toEqual([]);
  });
});
