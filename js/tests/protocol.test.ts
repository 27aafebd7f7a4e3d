import type { AnyModel } from "@anywidget/types";
import { afterEach, describe, expect, it, vi } from "vitest";
import {
  ClientClosed,
  CommandClient,
  CommandFailed,
  CommandTimeout,
  DEFAULT_TIMEOUT_MS,
  exactArrayBuffer,
  type MessageModel,
  newUuid,
} from "../src/runtime/protocol.js";
import { FakeModel } from "./fake-model.js";

// Compile-time check: anywidget's model satisfies the interface the client needs.
const _modelFits = (m: AnyModel): MessageModel => m;
void _modelFits;

afterEach(() => {
  vi.useRealTimers();
});

describe("CommandClient.request", () => {
  it("sends {type, uuid, ...payload} and resolves with the matching reply", async () => {
    const model = new FakeModel();
    const client = new CommandClient(model);
    const promise = client.request("add_box", { item: "clip-001", x: 1 });

    expect(model.sent).toHaveLength(1);
    const content = model.sent[0]?.content;
    expect(content?.type).toBe("add_box");
    expect(content?.item).toBe("clip-001");
    expect(content?.x).toBe(1);
    const uuid = model.uuid(0);
    expect(uuid).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);

    const buf = new DataView(new ArrayBuffer(4));
    model.emit({ type: "reply", uuid, ok: true, result: { id: "a1" } }, [buf]);
    const reply = await promise;
    expect(reply.result).toEqual({ id: "a1" });
    expect(reply.buffers[0]).toBe(buf);
    expect(client.pendingCount).toBe(0);
  });

  it("matches out-of-order replies by uuid", async () => {
    const model = new FakeModel();
    const client = new CommandClient(model);
    const first = client.request("q", { n: 1 });
    const second = client.request("q", { n: 2 });
    const third = client.request("q", { n: 3 });
    expect(new Set([model.uuid(0), model.uuid(1), model.uuid(2)]).size).toBe(3);

    model.emit({ type: "reply", uuid: model.uuid(2), ok: true, result: "three" });
    model.emit({ type: "reply", uuid: model.uuid(0), ok: true, result: "one" });
    model.emit({ type: "reply", uuid: model.uuid(1), ok: true, result: "two" });

    expect((await first).result).toBe("one");
    expect((await second).result).toBe("two");
    expect((await third).result).toBe("three");
  });

  it("ignores replies for unknown uuids and a second reply to the same uuid", async () => {
    const model = new FakeModel();
    const client = new CommandClient(model);
    const promise = client.request("q");
    model.emit({ type: "reply", uuid: "someone-else", ok: true, result: "wrong" });
    expect(client.pendingCount).toBe(1);
    model.emit({ type: "reply", uuid: model.uuid(0), ok: true, result: "right" });
    model.emit({ type: "reply", uuid: model.uuid(0), ok: true, result: "again" });
    expect((await promise).result).toBe("right");
  });

  it("rejects with CommandFailed carrying the Python error fields", async () => {
    const model = new FakeModel();
    const client = new CommandClient(model);
    const promise = client.request("set_label", { label: "cat" });
    const uuid = model.uuid(0);
    model.emit({
      type: "reply",
      uuid,
      ok: false,
      error: {
        error: "UnknownLabelError",
        message: "annotation.label: expected one of ['car'], got 'cat'",
        where: "annotation.label",
        expected: "one of ['car']",
      },
    });
    const err = await promise.catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CommandFailed);
    expect(err).toBeInstanceOf(Error);
    const failed = err as CommandFailed;
    expect(failed.name).toBe("CommandFailed");
    expect(failed.error).toBe("UnknownLabelError");
    expect(failed.message).toBe("annotation.label: expected one of ['car'], got 'cat'");
    expect(failed.where).toBe("annotation.label");
    expect(failed.expected).toBe("one of ['car']");
    expect(failed.command).toBe("set_label");
    expect(failed.uuid).toBe(uuid);
    expect(client.pendingCount).toBe(0);
  });

  it("fills defaults when an error reply lacks fields", async () => {
    const model = new FakeModel();
    const client = new CommandClient(model);
    const promise = client.request("x");
    model.emit({ type: "reply", uuid: model.uuid(0), ok: false });
    const err = (await promise.catch((e: unknown) => e)) as CommandFailed;
    expect(err.error).toBe("Error");
    expect(err.where).toBeNull();
    expect(err.message).toMatch(/without a message/);
  });

  it("times out with CommandTimeout after the default 30 s and forgets the request", async () => {
    vi.useFakeTimers();
    const model = new FakeModel();
    const client = new CommandClient(model);
    const promise = client.request("slow");
    const outcome = promise.catch((e: unknown) => e);

    await vi.advanceTimersByTimeAsync(DEFAULT_TIMEOUT_MS - 1);
    expect(client.pendingCount).toBe(1);
    await vi.advanceTimersByTimeAsync(1);
    const err = (await outcome) as CommandTimeout;
    expect(err).toBeInstanceOf(CommandTimeout);
    expect(err.message).toBe('command "slow" got no reply from the kernel within 30 s');
    expect(err.timeoutMs).toBe(30_000);
    expect(client.pendingCount).toBe(0);

    // A late reply is ignored, not thrown.
    model.emit({ type: "reply", uuid: model.uuid(0), ok: true, result: 1 });
  });

  it("honours a per-request timeout and clears the timer on reply", async () => {
    vi.useFakeTimers();
    const model = new FakeModel();
    const client = new CommandClient(model, { timeoutMs: 5000 });
    const fast = client.request("a", {}, [], { timeoutMs: 100 });
    const fastOutcome = fast.catch((e: unknown) => e);
    const ok = client.request("b");
    model.emit({ type: "reply", uuid: model.uuid(1), ok: true, result: "b" });
    expect(vi.getTimerCount()).toBe(1); // only "a" still has a timer
    await vi.advanceTimersByTimeAsync(100);
    expect(await fastOutcome).toBeInstanceOf(CommandTimeout);
    expect((await ok).result).toBe("b");
    expect(vi.getTimerCount()).toBe(0);
  });

  it("refuses payloads that set type or uuid", async () => {
    const model = new FakeModel();
    const client = new CommandClient(model);
    await expect(client.request("a", { uuid: "x" })).rejects.toThrow(/"uuid"/);
    await expect(client.request("a", { type: "b" })).rejects.toThrow(/"type"/);
    await expect(client.request("")).rejects.toThrow(/non-empty/);
    expect(() => client.notify("chunk", { uuid: "x" })).toThrow(/"uuid"/);
    expect(model.sent).toHaveLength(0);
    expect(client.pendingCount).toBe(0);
  });

  it("sends exact ArrayBuffers for views with an offset", () => {
    const model = new FakeModel();
    const client = new CommandClient(model);
    const backing = new Uint8Array([9, 9, 1, 2, 3, 9]);
    void client.request("upload", {}, [backing.subarray(2, 5)]).catch(() => undefined);
    const sent = model.sent[0]?.buffers[0];
    expect(sent).toBeInstanceOf(ArrayBuffer);
    expect([...new Uint8Array(sent as ArrayBuffer)]).toEqual([1, 2, 3]);
    client.close();
  });

  it("rejects when model.send throws", async () => {
    const model = new FakeModel();
    model.send = () => {
      throw new Error("comm closed");
    };
    const client = new CommandClient(model);
    await expect(client.request("a")).rejects.toThrow("comm closed");
    expect(client.pendingCount).toBe(0);
  });
});

describe("CommandClient messages and lifecycle", () => {
  it("passes non-reply messages to subscribers by type, and unsubscribes", () => {
    const model = new FakeModel();
    const client = new CommandClient(model);
    const events: unknown[] = [];
    const all: unknown[] = [];
    const off = client.onMessage("event", (msg) => events.push(msg.name));
    client.onMessage("*", (msg) => all.push(msg.type));

    model.emit({ type: "event", name: "annotation_added" });
    model.emit({ type: "state", seq: 2 });
    model.emit("not an object");
    expect(events).toEqual(["annotation_added"]);
    expect(all).toEqual(["event", "state"]);

    off();
    off(); // idempotent
    model.emit({ type: "event", name: "later" });
    expect(events).toEqual(["annotation_added"]);
    expect(all).toEqual(["event", "state", "event"]);
  });

  it("does not pass replies to subscribers", () => {
    const model = new FakeModel();
    const client = new CommandClient(model);
    const seen: unknown[] = [];
    client.onMessage("*", (m) => seen.push(m));
    model.emit({ type: "reply", uuid: "x", ok: true });
    expect(seen).toEqual([]);
  });

  it("keeps dispatching when a handler throws", () => {
    const model = new FakeModel();
    const client = new CommandClient(model);
    const spy = vi.spyOn(console, "error").mockImplementation(() => undefined);
    const seen: string[] = [];
    client.onMessage("event", () => {
      throw new Error("boom");
    });
    client.onMessage("event", () => seen.push("second"));
    model.emit({ type: "event" });
    expect(seen).toEqual(["second"]);
    expect(spy).toHaveBeenCalledOnce();
    spy.mockRestore();
  });

  it("close() detaches from the model and rejects pending requests", async () => {
    const model = new FakeModel();
    const client = new CommandClient(model);
    expect(model.listenerCount).toBe(1);
    const promise = client.request("a");
    client.close();
    expect(model.listenerCount).toBe(0);
    await expect(promise).rejects.toBeInstanceOf(ClientClosed);
    await expect(client.request("b")).rejects.toBeInstanceOf(ClientClosed);
    expect(model.sent).toHaveLength(1);
  });

  it("closes when the render signal aborts", async () => {
    const model = new FakeModel();
    const controller = new AbortController();
    const client = new CommandClient(model, { signal: controller.signal });
    const promise = client.request("a");
    controller.abort();
    await expect(promise).rejects.toBeInstanceOf(ClientClosed);
    expect(client.isClosed).toBe(true);
    expect(model.listenerCount).toBe(0);
  });
});

describe("helpers", () => {
  it("newUuid falls back when crypto.randomUUID is missing", () => {
    const original = globalThis.crypto;
    const fake = { getRandomValues: original.getRandomValues.bind(original) } as unknown as Crypto;
    Object.defineProperty(globalThis, "crypto", { value: fake, configurable: true });
    try {
      const ids = new Set(Array.from({ length: 50 }, () => newUuid()));
      expect(ids.size).toBe(50);
      for (const id of ids) expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    } finally {
      Object.defineProperty(globalThis, "crypto", { value: original, configurable: true });
    }
  });

  it("exactArrayBuffer passes whole buffers through and copies partial views", () => {
    const whole = new Float32Array([1, 2]);
    expect(exactArrayBuffer(whole)).toBe(whole.buffer);
    const ab = new ArrayBuffer(8);
    expect(exactArrayBuffer(ab)).toBe(ab);
    const part = new DataView(new Uint8Array([0, 1, 2, 3, 4]).buffer, 1, 3);
    const copy = exactArrayBuffer(part);
    expect(copy.byteLength).toBe(3);
    expect([...new Uint8Array(copy)]).toEqual([1, 2, 3]);
  });
});
