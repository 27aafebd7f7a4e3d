import { describe, expect, it, vi } from "vitest";
import { busKey, dropBus, getBus } from "../src/runtime/bus.js";

type Topics = { time: number; hover: string | null };

let n = 0;
const freshKey = (): string => busKey("session", `item-${n++}`);

describe("getBus", () => {
  it("returns one bus per key, kept on globalThis", () => {
    const key = freshKey();
    const a = getBus<Topics>(key);
    const b = getBus<Topics>(key);
    expect(a).toBe(b);
    expect(getBus(freshKey())).not.toBe(a);
    const registry = (globalThis as Record<symbol, unknown>)[Symbol.for("accord.bus.registry.v1")];
    expect(registry).toBeInstanceOf(Map);
    expect((registry as Map<string, unknown>).get(key)).toBe(a);
  });

  it("builds unambiguous keys", () => {
    expect(busKey("a/b", "c")).not.toBe(busKey("a", "b/c"));
    expect(busKey("s", "i")).toBe(busKey("s", "i"));
  });

  it("dropBus forgets a key", () => {
    const key = freshKey();
    const a = getBus(key);
    dropBus(key);
    expect(getBus(key)).not.toBe(a);
  });
});

describe("publish / subscribe", () => {
  it("delivers values with their source to subscribers of the topic only", () => {
    const bus = getBus<Topics>(freshKey());
    const times: [number, unknown][] = [];
    const hovers: (string | null)[] = [];
    bus.subscribe("time", (t, { source }) => times.push([t, source]));
    bus.subscribe("hover", (h) => hovers.push(h));
    bus.publish("time", 1.5, "player-a");
    bus.publish("hover", "ann-3");
    bus.publish("time", 2);
    expect(times).toEqual([
      [1.5, "player-a"],
      [2, undefined],
    ]);
    expect(hovers).toEqual(["ann-3"]);
  });

  it("shares state between two getBus calls for one key", () => {
    const key = freshKey();
    const seen: number[] = [];
    getBus<Topics>(key).subscribe("time", (t) => seen.push(t));
    getBus<Topics>(key).publish("time", 4.25);
    expect(seen).toEqual([4.25]);
    expect(getBus<Topics>(key).last("time")).toBe(4.25);
  });

  it("remembers the last value per topic", () => {
    const bus = getBus<Topics>(freshKey());
    expect(bus.last("hover")).toBeUndefined();
    bus.publish("hover", "a");
    bus.publish("hover", null);
    expect(bus.last("hover")).toBeNull();
  });

  it("unsubscribes, idempotently", () => {
    const bus = getBus<Topics>(freshKey());
    const seen: number[] = [];
    const off = bus.subscribe("time", (t) => seen.push(t));
    expect(bus.listenerCount("time")).toBe(1);
    bus.publish("time", 1);
    off();
    off();
    bus.publish("time", 2);
    expect(seen).toEqual([1]);
    expect(bus.listenerCount("time")).toBe(0);
  });

  it("lets a handler unsubscribe itself during delivery without skipping others", () => {
    const bus = getBus<Topics>(freshKey());
    const seen: string[] = [];
    const offA = bus.subscribe("time", () => {
      seen.push("a");
      offA();
    });
    bus.subscribe("time", () => seen.push("b"));
    bus.publish("time", 1);
    bus.publish("time", 2);
    expect(seen).toEqual(["a", "b", "b"]);
  });

  it("replays the last value on request", () => {
    const bus = getBus<Topics>(freshKey());
    const none: number[] = [];
    bus.subscribe("time", (t) => none.push(t), { replay: true });
    expect(none).toEqual([]);
    bus.publish("time", 3);
    const replayed: number[] = [];
    bus.subscribe("time", (t) => replayed.push(t), { replay: true });
    expect(replayed).toEqual([3]);
  });

  it("keeps delivering when a handler throws", () => {
    const bus = getBus<Topics>(freshKey());
    const spy = vi.spyOn(console, "error").mockImplementation(() => undefined);
    const seen: number[] = [];
    bus.subscribe("time", () => {
      throw new Error("boom");
    });
    bus.subscribe("time", (t) => seen.push(t));
    bus.publish("time", 7);
    expect(seen).toEqual([7]);
    expect(spy).toHaveBeenCalledOnce();
    spy.mockRestore();
  });
});
