import { describe, expect, it } from "vitest";
import {
  ChunkAssembler,
  ChunkError,
  DEFAULT_CHUNK_LIMIT,
  chunkCount,
  sendChunked,
  splitChunks,
} from "../src/runtime/chunking.js";
import { CommandClient } from "../src/runtime/protocol.js";
import { FakeModel } from "./fake-model.js";

/** Deterministic bytes that differ from position to position. */
function pattern(n: number, seed = 7): Uint8Array {
  const out = new Uint8Array(n);
  let x = seed;
  for (let i = 0; i < n; i++) {
    x = (x * 1103515245 + 12345) >>> 0;
    out[i] = x >>> 24;
  }
  return out;
}

describe("splitting", () => {
  it("defaults to 8 MiB, under Jupyter's 10 MiB browser→kernel limit", () => {
    expect(DEFAULT_CHUNK_LIMIT).toBe(8 * 1024 * 1024);
    expect(DEFAULT_CHUNK_LIMIT).toBeLessThan(10 * 1024 * 1024);
  });

  it("counts chunks exactly at and around the limit", () => {
    const limit = 1000;
    expect(chunkCount(0, limit)).toBe(1);
    expect(chunkCount(1, limit)).toBe(1);
    expect(chunkCount(999, limit)).toBe(1);
    expect(chunkCount(1000, limit)).toBe(1);
    expect(chunkCount(1001, limit)).toBe(2);
    expect(chunkCount(2000, limit)).toBe(2);
    expect(chunkCount(2001, limit)).toBe(3);
    expect(() => chunkCount(10, 0)).toThrow(RangeError);
    expect(() => chunkCount(10, 1.5)).toThrow(RangeError);
  });

  it("splits the default limit at exactly 8 MiB", () => {
    const exact = splitChunks(new Uint8Array(DEFAULT_CHUNK_LIMIT));
    expect(exact).toHaveLength(1);
    const over = splitChunks(new Uint8Array(DEFAULT_CHUNK_LIMIT + 1));
    expect(over.map((c) => c.data.byteLength)).toEqual([DEFAULT_CHUNK_LIMIT, 1]);
  });

  it("gives chunks of at most the limit with consistent headers", () => {
    const data = pattern(2500);
    const chunks = splitChunks(data, 1000, "t-1");
    expect(chunks.map((c) => c.data.byteLength)).toEqual([1000, 1000, 500]);
    for (const [i, c] of chunks.entries()) {
      expect(c.transfer).toBe("t-1");
      expect(c.index).toBe(i);
      expect(c.count).toBe(3);
      expect(c.total_bytes).toBe(2500);
      expect(c.data).toBeInstanceOf(ArrayBuffer);
    }
    expect([...new Uint8Array(chunks[1]!.data)]).toEqual([...data.subarray(1000, 2000)]);
  });

  it("gives one empty chunk for empty data", () => {
    const chunks = splitChunks(new Uint8Array(0), 1000);
    expect(chunks).toHaveLength(1);
    expect(chunks[0]!.data.byteLength).toBe(0);
    expect(chunks[0]!.total_bytes).toBe(0);
  });

  it("splits only the bytes of a view with an offset", () => {
    const backing = pattern(100);
    const view = new DataView(backing.buffer, 10, 25);
    const chunks = splitChunks(view, 10);
    expect(chunks.map((c) => c.data.byteLength)).toEqual([10, 10, 5]);
    const joined = new Uint8Array(chunks.flatMap((c) => [...new Uint8Array(c.data)]));
    expect([...joined]).toEqual([...backing.subarray(10, 35)]);
  });
});

describe("reassembly", () => {
  function roundTrip(size: number, limit: number, order: (n: number) => number[]): Uint8Array | null {
    const data = pattern(size, size + 1);
    const chunks = splitChunks(data, limit);
    const assembler = new ChunkAssembler();
    let out: Uint8Array | null = null;
    const indices = order(chunks.length);
    for (const [k, i] of indices.entries()) {
      const { data: bytes, ...header } = chunks[i]!;
      const result = assembler.add(header, new DataView(bytes));
      if (k < indices.length - 1) expect(result).toBeNull();
      else out = result;
    }
    expect(assembler.pending).toEqual([]);
    expect(out).not.toBeNull();
    expect(out!.byteLength).toBe(size);
    expect(out).toEqual(data);
    return out;
  }

  const inOrder = (n: number): number[] => Array.from({ length: n }, (_, i) => i);
  const reversed = (n: number): number[] => inOrder(n).reverse();
  const shuffled = (n: number): number[] => {
    const a = inOrder(n);
    for (let i = a.length - 1; i > 0; i--) {
      const j = (i * 7 + 3) % (i + 1);
      [a[i], a[j]] = [a[j]!, a[i]!];
    }
    return a;
  };

  it("is byte-exact for sizes at and around the limit, in any order", () => {
    const limit = 64;
    for (const size of [0, 1, 63, 64, 65, 127, 128, 129, 1000]) {
      for (const order of [inOrder, reversed, shuffled]) roundTrip(size, limit, order);
    }
  });

  it("keeps transfers apart", () => {
    const a = splitChunks(pattern(30, 1), 10, "a");
    const b = splitChunks(pattern(30, 2), 10, "b");
    const assembler = new ChunkAssembler();
    const results: Record<string, Uint8Array> = {};
    for (const c of [a[2]!, b[0]!, a[0]!, b[2]!, b[1]!, a[1]!]) {
      const { data, ...header } = c;
      const out = assembler.add(header, data);
      if (out) results[header.transfer] = out;
    }
    expect([...results.a!]).toEqual([...pattern(30, 1)]);
    expect([...results.b!]).toEqual([...pattern(30, 2)]);
  });

  it("refuses duplicates, bad indices and inconsistent headers", () => {
    const assembler = new ChunkAssembler();
    const header = { transfer: "t", index: 0, count: 2, total_bytes: 4 };
    assembler.add(header, new Uint8Array([1, 2]));
    expect(() => assembler.add(header, new Uint8Array([1, 2]))).toThrow("chunk 0 of transfer t arrived twice");
    expect(() => assembler.add({ ...header, index: 2 }, new Uint8Array(2))).toThrow(/expected 0\.\.1, got 2/);
    expect(() => assembler.add({ ...header, index: 1, count: 3 }, new Uint8Array(2))).toThrow(ChunkError);
    expect(() => assembler.add({ ...header, index: 1, total_bytes: 5 }, new Uint8Array(2))).toThrow(ChunkError);
    expect(() => assembler.add({ ...header, count: 0 }, new Uint8Array(2))).toThrow(/positive integer/);
    expect(assembler.pending).toEqual(["t"]);
    assembler.discard("t");
    expect(assembler.pending).toEqual([]);
  });

  it("refuses chunks whose sizes do not add up to total_bytes", () => {
    const assembler = new ChunkAssembler();
    assembler.add({ transfer: "t", index: 0, count: 2, total_bytes: 4 }, new Uint8Array(2));
    expect(() => assembler.add({ transfer: "t", index: 1, count: 2, total_bytes: 4 }, new Uint8Array(1))).toThrow(
      "transfer t: chunks hold 3 bytes, expected 4",
    );
    const over = new ChunkAssembler();
    over.add({ transfer: "u", index: 0, count: 1, total_bytes: 0 }, new Uint8Array(0));
    expect(() => over.add({ transfer: "v", index: 0, count: 1, total_bytes: 1 }, new Uint8Array(2))).toThrow(
      /more than 1 bytes/,
    );
  });
});

describe("sendChunked", () => {
  it("sends chunk messages then the command with a transfer reference", async () => {
    const model = new FakeModel();
    const client = new CommandClient(model);
    const data = pattern(25);
    const promise = sendChunked(client, "upload_mask", { item: "img-1" }, data, { limit: 10 });

    expect(model.sent).toHaveLength(4);
    const chunkMsgs = model.sent.slice(0, 3);
    const transfer = chunkMsgs[0]!.content.transfer;
    expect(typeof transfer).toBe("string");
    const assembler = new ChunkAssembler();
    let assembled: Uint8Array | null = null;
    for (const [i, m] of chunkMsgs.entries()) {
      expect(m.content).toEqual({ type: "chunk", transfer, index: i, count: 3, total_bytes: 25 });
      expect("uuid" in m.content).toBe(false);
      expect(m.buffers).toHaveLength(1);
      assembled = assembler.add(m.content as never, m.buffers[0]!) ?? assembled;
    }
    expect([...assembled!]).toEqual([...data]);

    const command = model.sent[3]!;
    expect(command.content.type).toBe("upload_mask");
    expect(command.content.item).toBe("img-1");
    expect(command.content.transfer).toEqual({ id: transfer, count: 3, total_bytes: 25 });
    expect(command.buffers).toEqual([]);

    model.emit({ type: "reply", uuid: model.uuid(3), ok: true, result: { saved: 25 } });
    expect((await promise).result).toEqual({ saved: 25 });
  });

  it("refuses a payload that sets transfer, sending nothing", async () => {
    const model = new FakeModel();
    const client = new CommandClient(model);
    await expect(sendChunked(client, "x", { transfer: 1 }, new Uint8Array(3))).rejects.toThrow(/"transfer"/);
    expect(model.sent).toHaveLength(0);
  });
});
