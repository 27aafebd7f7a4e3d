/**
 * The command protocol between a widget view and the Python Session.
 *
 * Every command the page sends is an anywidget custom message
 * `{type, uuid, ...payload}` (plus optional binary buffers). Python answers
 * each one with exactly one reply carrying the same uuid:
 *
 *   {type: "reply", uuid, ok: true,  result}
 *   {type: "reply", uuid, ok: false, error: {error, message, where, expected}}
 *
 * Anything else Python pushes (`{type: "event", ...}` and friends) goes to
 * the subscribers registered with `onMessage(type, handler)`.
 */

/** The part of an anywidget model this module needs (AnyModel satisfies it). */
export interface MessageModel {
  send(content: unknown, callbacks?: unknown, buffers?: ArrayBuffer[] | ArrayBufferView[]): void;
  on(eventName: "msg:custom", callback: (msg: unknown, buffers: DataView[]) => void): void;
  off(eventName: "msg:custom", callback: (msg: unknown, buffers: DataView[]) => void): void;
}

/** A JSON-able object sent or received as a custom message. */
export type Message = Record<string, unknown>;

/** A successful reply: the command's result and any buffers sent with it. */
export interface Reply<R = unknown> {
  result: R;
  buffers: DataView[];
}

/** The error body of a failed reply (Python's `AccordError.to_dict()`). */
export interface ErrorBody {
  error: string;
  message: string;
  where: string | null;
  expected: string | null;
}

/** Python refused or failed a command; the fields mirror its error. */
export class CommandFailed extends Error {
  override readonly name = "CommandFailed";
  /** The Python error class, e.g. "UnknownLabelError". */
  readonly error: string;
  /** The file/field the error is about, when Python named one. */
  readonly where: string | null;
  /** What would have been accepted, when Python said. */
  readonly expected: string | null;
  /** The command type and uuid of the failed request. */
  readonly command: string;
  readonly uuid: string;

  constructor(body: ErrorBody, command: string, uuid: string) {
    super(body.message);
    this.error = body.error;
    this.where = body.where;
    this.expected = body.expected;
    this.command = command;
    this.uuid = uuid;
  }
}

/** No reply arrived in time. */
export class CommandTimeout extends Error {
  override readonly name = "CommandTimeout";
  constructor(
    readonly command: string,
    readonly uuid: string,
    readonly timeoutMs: number,
  ) {
    super(`command "${command}" got no reply from the kernel within ${timeoutMs / 1000} s`);
  }
}

/** The client was closed (view removed, signal aborted) before the reply came. */
export class ClientClosed extends Error {
  override readonly name = "ClientClosed";
  constructor(readonly command: string) {
    super(`command "${command}" was cancelled: the widget view was closed`);
  }
}

export interface ClientOptions {
  /** Default time to wait for each reply, in ms (30 s). */
  timeoutMs?: number;
  /** Closing the client when this aborts (pass anywidget's render signal). */
  signal?: AbortSignal;
}

export interface RequestOptions {
  /** Override the client's default timeout for this request. */
  timeoutMs?: number;
}

export type MessageHandler = (msg: Message, buffers: DataView[]) => void;

/** Keys the protocol owns; a payload may not set them. */
const RESERVED_KEYS = ["type", "uuid"] as const;

export const DEFAULT_TIMEOUT_MS = 30_000;

interface Pending {
  command: string;
  resolve: (reply: Reply) => void;
  reject: (err: Error) => void;
  timer: ReturnType<typeof setTimeout>;
}

/** A random id: crypto.randomUUID where available, else a v4-shaped fallback. */
export function newUuid(): string {
  const c = (globalThis as { crypto?: Crypto }).crypto;
  if (c && typeof c.randomUUID === "function") return c.randomUUID();
  const bytes = new Uint8Array(16);
  if (c && typeof c.getRandomValues === "function") c.getRandomValues(bytes);
  else for (let i = 0; i < 16; i++) bytes[i] = Math.floor(Math.random() * 256);
  bytes[6] = ((bytes[6] ?? 0) & 0x0f) | 0x40;
  bytes[8] = ((bytes[8] ?? 0) & 0x3f) | 0x80;
  const hex = Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

/**
 * An ArrayBuffer holding exactly the bytes of `data`.
 *
 * Jupyter's message serializer sends `view.buffer` for a typed array or
 * DataView, ignoring its byteOffset and length, so every buffer handed to
 * `model.send` must be a whole ArrayBuffer. Views that already cover their
 * whole (non-shared) buffer are passed through; others are copied.
 */
export function exactArrayBuffer(data: ArrayBuffer | ArrayBufferView): ArrayBuffer {
  if (data instanceof ArrayBuffer) return data;
  const { buffer, byteOffset, byteLength } = data;
  if (buffer instanceof ArrayBuffer && byteOffset === 0 && byteLength === buffer.byteLength) {
    return buffer;
  }
  const copy = new Uint8Array(byteLength);
  copy.set(new Uint8Array(buffer, byteOffset, byteLength));
  return copy.buffer;
}

function isObject(value: unknown): value is Message {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function str(value: unknown): string | null {
  return typeof value === "string" ? value : null;
}

/** Read a failed reply's error body, tolerating missing fields. */
function errorBody(raw: unknown): ErrorBody {
  const e = isObject(raw) ? raw : {};
  return {
    error: str(e.error) ?? "Error",
    message: str(e.message) ?? "the kernel reported an error without a message",
    where: str(e.where),
    expected: str(e.expected),
  };
}

/**
 * Sends commands over one model and matches replies to them by uuid.
 *
 * Several clients may share one model (one per view): each ignores replies
 * to uuids it did not send.
 */
export class CommandClient {
  private readonly pending = new Map<string, Pending>();
  private readonly subscribers = new Map<string, Set<MessageHandler>>();
  private readonly timeoutMs: number;
  private closed = false;
  private readonly listener = (msg: unknown, buffers: DataView[]): void => {
    this.dispatch(msg, buffers ?? []);
  };

  constructor(
    private readonly model: MessageModel,
    options: ClientOptions = {},
  ) {
    this.timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    model.on("msg:custom", this.listener);
    const signal = options.signal;
    if (signal) {
      if (signal.aborted) this.close();
      else signal.addEventListener("abort", () => this.close(), { once: true });
    }
  }

  /** Number of requests still waiting for a reply. */
  get pendingCount(): number {
    return this.pending.size;
  }

  get isClosed(): boolean {
    return this.closed;
  }

  /**
   * Send command `type` and wait for its reply.
   *
   * Resolves with the result on `ok: true`; rejects with CommandFailed on
   * `ok: false`, CommandTimeout when no reply comes in time and ClientClosed
   * when the client closes first.
   */
  request<R = unknown>(
    type: string,
    payload: Message = {},
    buffers: (ArrayBuffer | ArrayBufferView)[] = [],
    options: RequestOptions = {},
  ): Promise<Reply<R>> {
    if (this.closed) return Promise.reject(new ClientClosed(type));
    const uuid = newUuid();
    let content: Message;
    try {
      content = this.compose(type, payload, uuid);
    } catch (err) {
      return Promise.reject(err);
    }
    const timeoutMs = options.timeoutMs ?? this.timeoutMs;
    return new Promise<Reply<R>>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(uuid);
        reject(new CommandTimeout(type, uuid, timeoutMs));
      }, timeoutMs);
      this.pending.set(uuid, {
        command: type,
        resolve: resolve as (reply: Reply) => void,
        reject,
        timer,
      });
      try {
        this.model.send(content, undefined, buffers.map(exactArrayBuffer));
      } catch (err) {
        clearTimeout(timer);
        this.pending.delete(uuid);
        reject(err instanceof Error ? err : new Error(String(err)));
      }
    });
  }

  /** Send a message that expects no reply (e.g. a chunk of a transfer). */
  notify(type: string, payload: Message = {}, buffers: (ArrayBuffer | ArrayBufferView)[] = []): void {
    if (this.closed) throw new ClientClosed(type);
    const content = this.compose(type, payload);
    this.model.send(content, undefined, buffers.map(exactArrayBuffer));
  }

  /**
   * Call `handler` for every incoming message of `type` other than replies
   * (e.g. "event"); `"*"` receives all of them. Returns an unsubscribe function.
   */
  onMessage(type: string, handler: MessageHandler): () => void {
    let set = this.subscribers.get(type);
    if (!set) {
      set = new Set();
      this.subscribers.set(type, set);
    }
    set.add(handler);
    return () => {
      const current = this.subscribers.get(type);
      if (!current) return;
      current.delete(handler);
      if (current.size === 0) this.subscribers.delete(type);
    };
  }

  /** Stop listening, reject every pending request and drop subscribers. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.model.off("msg:custom", this.listener);
    for (const [uuid, p] of this.pending) {
      clearTimeout(p.timer);
      this.pending.delete(uuid);
      p.reject(new ClientClosed(p.command));
    }
    this.subscribers.clear();
  }

  /** The message content: `{type, uuid?, ...payload}`, refusing reserved keys. */
  private compose(type: string, payload: Message, uuid?: string): Message {
    if (typeof type !== "string" || type === "") {
      throw new TypeError("command type must be a non-empty string");
    }
    for (const key of RESERVED_KEYS) {
      if (key in payload) throw new TypeError(`payload may not set "${key}"`);
    }
    return uuid === undefined ? { type, ...payload } : { type, uuid, ...payload };
  }

  private dispatch(msg: unknown, buffers: DataView[]): void {
    if (!isObject(msg)) return;
    if (msg.type === "reply") {
      this.settle(msg, buffers);
      return;
    }
    const type = typeof msg.type === "string" ? msg.type : "";
    for (const key of [type, "*"]) {
      // Copy: a handler may unsubscribe while we iterate.
      for (const handler of [...(this.subscribers.get(key) ?? [])]) {
        try {
          handler(msg, buffers);
        } catch (err) {
          console.error(`accord: a "${type}" message handler failed`, err);
        }
      }
    }
  }

  private settle(msg: Message, buffers: DataView[]): void {
    const uuid = str(msg.uuid);
    const p = uuid === null ? undefined : this.pending.get(uuid);
    if (uuid === null || !p) return; // another view's reply, or one that timed out
    clearTimeout(p.timer);
    this.pending.delete(uuid);
    if (msg.ok === true) p.resolve({ result: msg.result, buffers });
    else p.reject(new CommandFailed(errorBody(msg.error), p.command, uuid));
  }
}

/** Create a client for `model` (anywidget's model satisfies MessageModel). */
export function createClient(model: MessageModel, options?: ClientOptions): CommandClient {
  return new CommandClient(model, options);
}
