/**
 * An in-page bus shared by all views of one item.
 *
 * Every widget is its own ESM bundle with its own copy of this module, so the
 * registry lives on `globalThis` under a `Symbol.for` key: two bundles asking
 * for the same key get the same bus. Used for state that changes per frame
 * and must not cost a kernel round trip (playhead time, hovered annotation,
 * selection).
 *
 *   const bus = getBus<{ time: number; hover: string | null }>(busKey(session, item));
 *   const off = bus.subscribe("time", (t, { source }) => { if (source !== me) seek(t); });
 *   bus.publish("time", 1.25, me);
 */

/** Topic name → value type. */
export type TopicMap = Record<string, unknown>;

export interface BusMeta {
  /** Whatever the publisher passed to identify itself (to ignore its own echoes). */
  source: unknown;
}

export type BusHandler<V> = (value: V, meta: BusMeta) => void;

export interface SubscribeOptions {
  /** Call the handler at once with the last published value, if any. */
  replay?: boolean;
}

export interface Bus<T extends TopicMap = TopicMap> {
  readonly key: string;
  publish<K extends keyof T & string>(topic: K, value: T[K], source?: unknown): void;
  subscribe<K extends keyof T & string>(
    topic: K,
    handler: BusHandler<T[K]>,
    options?: SubscribeOptions,
  ): () => void;
  last<K extends keyof T & string>(topic: K): T[K] | undefined;
  /** Number of handlers on `topic` (for tests and leak checks). */
  listenerCount(topic: keyof T & string): number;
}

const REGISTRY = Symbol.for("accord.bus.registry.v1");

type Registry = Map<string, Bus<TopicMap>>;

function registry(): Registry {
  const g = globalThis as { [REGISTRY]?: Registry };
  let reg = g[REGISTRY];
  if (!reg) {
    reg = new Map();
    g[REGISTRY] = reg;
  }
  return reg;
}

function createBus(key: string): Bus<TopicMap> {
  const handlers = new Map<string, Set<BusHandler<unknown>>>();
  const values = new Map<string, unknown>();
  return {
    key,
    publish(topic, value, source) {
      values.set(topic, value);
      // Copy: a handler may (un)subscribe while we iterate.
      for (const handler of [...(handlers.get(topic) ?? [])]) {
        try {
          handler(value, { source });
        } catch (err) {
          console.error(`accord: a bus handler for "${topic}" failed`, err);
        }
      }
    },
    subscribe(topic, handler, options = {}) {
      let set = handlers.get(topic);
      if (!set) {
        set = new Set();
        handlers.set(topic, set);
      }
      const h = handler as BusHandler<unknown>;
      set.add(h);
      if (options.replay && values.has(topic)) h(values.get(topic), { source: undefined });
      return () => {
        set.delete(h);
      };
    },
    last(topic) {
      return values.get(topic);
    },
    listenerCount(topic) {
      return handlers.get(topic)?.size ?? 0;
    },
  };
}

/** The page-wide bus for `key`, created on first use. */
export function getBus<T extends TopicMap = TopicMap>(key: string): Bus<T> {
  const reg = registry();
  let bus = reg.get(key);
  if (!bus) {
    bus = createBus(key);
    reg.set(key, bus);
  }
  return bus as unknown as Bus<T>;
}

/** Forget the bus for `key` (its subscribers keep the old instance). */
export function dropBus(key: string): void {
  registry().delete(key);
}

/** An unambiguous bus key from parts such as session id and item id. */
export function busKey(...parts: string[]): string {
  return JSON.stringify(parts);
}
