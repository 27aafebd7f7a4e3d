import type { MessageModel } from "../src/runtime/protocol.js";

type Listener = (msg: unknown, buffers: DataView[]) => void;

export interface Sent {
  content: Record<string, unknown>;
  buffers: ArrayBuffer[];
}

/** A stand-in for an anywidget model: records sends, lets tests push messages. */
export class FakeModel implements MessageModel {
  readonly sent: Sent[] = [];
  private listeners: Listener[] = [];

  send(content: unknown, _callbacks?: unknown, buffers?: ArrayBuffer[] | ArrayBufferView[]): void {
    for (const b of buffers ?? []) {
      if (!(b instanceof ArrayBuffer)) throw new Error("FakeModel: expected whole ArrayBuffers");
    }
    this.sent.push({ content: content as Record<string, unknown>, buffers: (buffers ?? []) as ArrayBuffer[] });
  }

  on(_event: "msg:custom", callback: Listener): void {
    this.listeners.push(callback);
  }

  off(_event: "msg:custom", callback: Listener): void {
    this.listeners = this.listeners.filter((l) => l !== callback);
  }

  get listenerCount(): number {
    return this.listeners.length;
  }

  /** Deliver a message from "Python" to every listener. */
  emit(msg: unknown, buffers: DataView[] = []): void {
    for (const l of [...this.listeners]) l(msg, buffers);
  }

  /** The uuid of the n-th sent message. */
  uuid(n: number): string {
    const uuid = this.sent[n]?.content.uuid;
    if (typeof uuid !== "string") throw new Error(`message ${n} has no uuid`);
    return uuid;
  }
}
