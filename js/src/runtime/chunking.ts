/**
 * Sending large binary data from the page to the kernel.
 *
 * The Jupyter server drops the websocket when a browser→kernel message is
 * over 10 MiB, so data is split into chunks of at most `limit` bytes
 * (8 MiB by default, leaving room for the JSON header). The wire protocol:
 *
 *   {type: "chunk", transfer, index, count, total_bytes}  + 1 buffer   (× count, no reply)
 *   {type, uuid, ...payload, transfer: {id, count, total_bytes}}       (the command, replied to)
 *
 * Chunks of one transfer are sent in order, index 0..count-1, and there is
 * always at least one (empty data gives one empty chunk). The receiver
 * concatenates them when the command arrives; ChunkAssembler is the reference
 * logic (Python mirrors it).
 */

import type { BinarySource } from "./binary.js";
import { type CommandClient, type Message, type Reply, type RequestOptions, newUuid } from "./protocol.js";

export const DEFAULT_CHUNK_LIMIT = 8 * 1024 * 1024;

/** Describes one chunk of a transfer. */
export interface ChunkHeader {
  transfer: string;
  index: number;
  count: number;
  total_bytes: number;
}

export interface Chunk extends ChunkHeader {
  /** Exactly this chunk's bytes, as a whole ArrayBuffer (safe for model.send). */
  data: ArrayBuffer;
}

/** What the final command carries under `transfer`. */
export interface TransferRef {
  id: string;
  count: number;
  total_bytes: number;
}

/** A chunk that does not fit its transfer (wrong count, index, size or duplicate). */
export class ChunkError extends Error {
  override readonly name = "ChunkError";
}

function asBytes(data: BinarySource): Uint8Array {
  if (data instanceof ArrayBuffer) return new Uint8Array(data);
  return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
}

/** Number of chunks `byteLength` bytes need at `limit` bytes per chunk (at least 1). */
export function chunkCount(byteLength: number, limit: number = DEFAULT_CHUNK_LIMIT): number {
  if (!Number.isSafeInteger(limit) || limit <= 0) {
    throw new RangeError(`chunk limit: expected a positive integer, got ${limit}`);
  }
  return Math.max(1, Math.ceil(byteLength / limit));
}

/**
 * Split `data` into chunks of at most `limit` bytes. Each chunk's `data` is a
 * copy in its own ArrayBuffer, because Jupyter serializes a view's whole
 * underlying buffer.
 */
export function splitChunks(
  data: BinarySource,
  limit: number = DEFAULT_CHUNK_LIMIT,
  transfer: string = newUuid(),
): Chunk[] {
  const bytes = asBytes(data);
  const count = chunkCount(bytes.byteLength, limit);
  const chunks: Chunk[] = [];
  for (let index = 0; index < count; index++) {
    const start = index * limit;
    const end = Math.min(start + limit, bytes.byteLength);
    chunks.push({
      transfer,
      index,
      count,
      total_bytes: bytes.byteLength,
      data: bytes.slice(start, end).buffer,
    });
  }
  return chunks;
}

export interface SendChunkedOptions extends RequestOptions {
  /** Largest chunk in bytes (default 8 MiB). */
  limit?: number;
}

/**
 * Send `data` in chunks, then command `type` with `payload` and
 * `transfer: {id, count, total_bytes}`; resolves with the command's reply.
 */
export function sendChunked<R = unknown>(
  client: CommandClient,
  type: string,
  payload: Message,
  data: BinarySource,
  options: SendChunkedOptions = {},
): Promise<Reply<R>> {
  if ("transfer" in payload) {
    return Promise.reject(new TypeError('payload may not set "transfer"'));
  }
  let ref: TransferRef;
  try {
    const chunks = splitChunks(data, options.limit ?? DEFAULT_CHUNK_LIMIT);
    const first = chunks[0];
    if (!first) throw new ChunkError("no chunks produced"); // unreachable: count >= 1
    ref = { id: first.transfer, count: first.count, total_bytes: first.total_bytes };
    for (const { data: bytes, ...header } of chunks) {
      client.notify("chunk", { ...header }, [bytes]);
    }
  } catch (err) {
    return Promise.reject(err);
  }
  const requestOptions: RequestOptions = {};
  if (options.timeoutMs !== undefined) requestOptions.timeoutMs = options.timeoutMs;
  return client.request<R>(type, { ...payload, transfer: ref }, [], requestOptions);
}

interface Incoming {
  count: number;
  total: number;
  parts: (Uint8Array | undefined)[];
  received: number;
}

/**
 * Reassembles chunked transfers, in any arrival order. `add` returns the
 * whole data once the last missing chunk of its transfer arrives.
 */
export class ChunkAssembler {
  private readonly transfers = new Map<string, Incoming>();

  /** Transfers that have started but are not complete. */
  get pending(): string[] {
    return [...this.transfers.keys()];
  }

  add(header: ChunkHeader, data: BinarySource): Uint8Array | null {
    const { transfer, index, count, total_bytes: total } = header;
    if (typeof transfer !== "string" || transfer === "") {
      throw new ChunkError(`chunk.transfer: expected a non-empty id, got ${JSON.stringify(transfer)}`);
    }
    if (!Number.isSafeInteger(count) || count < 1) {
      throw new ChunkError(`chunk.count: expected a positive integer, got ${count}`);
    }
    if (!Number.isSafeInteger(index) || index < 0 || index >= count) {
      throw new ChunkError(`chunk.index: expected 0..${count - 1}, got ${index}`);
    }
    if (!Number.isSafeInteger(total) || total < 0) {
      throw new ChunkError(`chunk.total_bytes: expected a non-negative integer, got ${total}`);
    }
    let state = this.transfers.get(transfer);
    if (!state) {
      state = { count, total, parts: new Array<Uint8Array | undefined>(count), received: 0 };
      this.transfers.set(transfer, state);
    } else if (state.count !== count || state.total !== total) {
      throw new ChunkError(
        `chunk ${index} of transfer ${transfer}: count/total_bytes ${count}/${total} ` +
          `differ from ${state.count}/${state.total} in earlier chunks`,
      );
    }
    if (state.parts[index] !== undefined) {
      throw new ChunkError(`chunk ${index} of transfer ${transfer} arrived twice`);
    }
    state.parts[index] = asBytes(data).slice();
    state.received += 1;
    if (state.received < state.count) return null;

    this.transfers.delete(transfer);
    const out = new Uint8Array(state.total);
    let offset = 0;
    for (const part of state.parts) {
      if (!part) throw new ChunkError(`transfer ${transfer} is missing a chunk`); // unreachable
      if (offset + part.byteLength > state.total) {
        throw new ChunkError(`transfer ${transfer}: chunks hold more than ${state.total} bytes`);
      }
      out.set(part, offset);
      offset += part.byteLength;
    }
    if (offset !== state.total) {
      throw new ChunkError(`transfer ${transfer}: chunks hold ${offset} bytes, expected ${state.total}`);
    }
    return out;
  }

  /** Forget a transfer (e.g. after its command failed). */
  discard(transfer: string): void {
    this.transfers.delete(transfer);
  }
}
