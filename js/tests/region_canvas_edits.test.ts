import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { EditQueue, type EditFields } from "../src/widgets/region_canvas/edits.js";
import type { Shape } from "../src/widgets/region_canvas/types.js";

const box = (x: number): Shape => ({ kind: "box", geometry: { x, y: 0, w: 10, h: 10 } });

/** A sink whose sends resolve when the test says so. */
function harness() {
  const revisions = new Map<string, number>([["a", 1]]);
  const sent: { id: string; revision: number | null; fields: EditFields; resolve: (ok: boolean) => void }[] = [];
  let changes = 0;
  const queue = new EditQueue(
    {
      revisionOf: (id) => revisions.get(id),
      send: (id, revision, fields) => new Promise<boolean>((resolve) => sent.push({ id, revision, fields, resolve })),
      changed: () => {
        changes++;
      },
    },
    1000,
  );
  return { queue, revisions, sent, changes: () => changes };
}

describe("EditQueue", () => {
  beforeEach(() => vi.useFakeTimers({ toFake: ["setTimeout", "clearTimeout"] }));
  afterEach(() => vi.useRealTimers());

  it("sends one update with the current revision and keeps the preview until the event", async () => {
    const h = harness();
    h.queue.submit("a", { geometry: box(5) });
    expect(h.sent).toHaveLength(1);
    expect(h.sent[0]).toMatchObject({ id: "a", revision: 1 });
    expect(h.queue.preview("a")).toEqual(box(5));
    h.sent[0]!.resolve(true);
    await Promise.resolve();
    await Promise.resolve();
    // reply came, event not yet: the preview stays
    expect(h.queue.preview("a")).toEqual(box(5));
    h.revisions.set("a", 2);
    h.queue.recordsChanged();
    expect(h.queue.preview("a")).toBeNull();
    expect(h.queue.busy("a")).toBe(false);
  });

  it("queues edits made while one is in flight and sends them with the new revision", async () => {
    const h = harness();
    h.queue.submit("a", { geometry: box(5) });
    h.queue.submit("a", { geometry: box(6) });
    h.queue.submit("a", { label: "bus" });
    expect(h.sent).toHaveLength(1);
    expect(h.queue.preview("a")).toEqual(box(6));
    h.revisions.set("a", 2); // the event arrived before the reply
    h.sent[0]!.resolve(true);
    await Promise.resolve();
    await Promise.resolve();
    expect(h.sent).toHaveLength(2);
    expect(h.sent[1]).toMatchObject({ revision: 2, fields: { geometry: box(6), label: "bus" } });
  });

  it("drops the preview and the queue when Python refuses", async () => {
    const h = harness();
    h.queue.submit("a", { geometry: box(5) });
    h.queue.submit("a", { geometry: box(6) });
    h.sent[0]!.resolve(false);
    await Promise.resolve();
    await Promise.resolve();
    expect(h.queue.preview("a")).toBeNull();
    expect(h.sent).toHaveLength(1);
  });

  it("moves on after a timeout when the event never comes", async () => {
    const h = harness();
    h.queue.submit("a", { geometry: box(5) });
    h.queue.submit("a", { geometry: box(7) });
    h.sent[0]!.resolve(true);
    await Promise.resolve();
    await Promise.resolve();
    expect(h.sent).toHaveLength(1);
    vi.advanceTimersByTime(1000);
    expect(h.sent).toHaveLength(2);
  });

  it("forgets edits of records that disappeared", () => {
    const h = harness();
    h.queue.submit("gone", { geometry: box(1) });
    expect(h.sent).toHaveLength(0);
    expect(h.queue.busy("gone")).toBe(false);
  });
});
