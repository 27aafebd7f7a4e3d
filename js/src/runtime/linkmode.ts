/**
 * Link mode across the widgets of one item.
 *
 * Every view of an item (RegionCanvas, the Player's tiers, CloudViewer,
 * TextAnnotator, …) shares the item's in-page bus (`bus.ts`, key `bus_key`).
 * Link mode is one state on that bus, so it spans separate widgets without
 * kernel round trips:
 *
 *   topic `link-mode`: `{source: LinkEnd} | null`  — started / ended
 *   topic `link-pick`: `{source, target}`           — a target was clicked
 *   topic `hover`:     `{id, entity} | id | null`   — what the pointer is over
 *
 * A `LinkEnd` is `{id, kind, stream, label, widget}`; `widget` names the
 * view that started the mode, which alone shows the **chooser** (the link
 * types whose allowed kinds fit) and sends `link.add` through its own
 * CommandClient. The Session validates again; a refusal is shown in that
 * widget's error banner and nothing is stored.
 *
 * Each view also keeps a `LinkIndex` of the item's links (`links.query`,
 * then `event` pushes), so hovering one end lights up the other ends in every
 * view at once, from the page's own data.
 */

import { getBus, type Bus } from "./bus.js";
import { el, setText } from "./text.js";

/** One end of a link as the views describe it on the bus. */
export interface LinkEnd {
  id: string;
  /** Geometry kind: box, cuboid, time_segment, text_span, … */
  kind: string;
  stream: string;
  /** Short human text: the class, and the quoted text for a span. */
  label: string;
  /** The view that described it (the mode's owner for a source). */
  widget: string;
}

export interface LinkModeValue {
  source: LinkEnd;
}

export interface LinkPick {
  source: LinkEnd;
  target: LinkEnd;
}

/** A hover or selection on the bus, normalised. */
export interface HoverRef {
  id: string | null;
  entity: string | null;
}

/** A link type of the taxonomy (empty `sources`/`targets`: any kind). */
export interface LinkTypeSpec {
  name: string;
  sources: string[];
  targets: string[];
  symmetric: boolean;
  description: string;
}

/** A stored link as the page holds it. */
export interface LinkEdge {
  id: string;
  source: string;
  target: string;
  type: string;
  annotator: string | null;
  revision: number | null;
}

export type LinkTopics = {
  "link-mode": LinkModeValue | null;
  "link-pick": LinkPick;
  hover: HoverRef | string | null;
};

export const LINK_MODE_TOPIC = "link-mode";
export const LINK_PICK_TOPIC = "link-pick";

function isObj(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

function strOrNull(v: unknown): string | null {
  return typeof v === "string" && v !== "" ? v : null;
}

function strList(v: unknown): string[] {
  return Array.isArray(v) ? v.filter((x): x is string => typeof x === "string") : [];
}

/** A `hover`/`select` bus value as `{id, entity}`: accepts a plain id (older publishers) too. */
export function hoverRef(value: unknown): HoverRef {
  if (typeof value === "string") return { id: value || null, entity: null };
  if (isObj(value)) return { id: strOrNull(value.id), entity: strOrNull(value.entity) };
  return { id: null, entity: null };
}

/** Link types from a `links.query` reply (or a trait); malformed entries are dropped. */
export function parseLinkTypes(raw: unknown): LinkTypeSpec[] {
  const out: LinkTypeSpec[] = [];
  for (const t of Array.isArray(raw) ? raw : []) {
    if (!isObj(t) || typeof t.name !== "string" || !t.name) continue;
    out.push({
      name: t.name,
      sources: strList(t.sources),
      targets: strList(t.targets),
      symmetric: t.symmetric === true,
      description: typeof t.description === "string" ? t.description : "",
    });
  }
  return out;
}

/** Whether link type `t` allows `src → dst` (the Session's rule, `LinkType.allows`). */
export function allowsKinds(t: LinkTypeSpec, src: string, dst: string): boolean {
  const fits = (a: string, b: string): boolean =>
    (t.sources.length === 0 || t.sources.includes(a)) && (t.targets.length === 0 || t.targets.includes(b));
  return fits(src, dst) || (t.symmetric && fits(dst, src));
}

/** The link types the chooser offers for `src → dst`, in taxonomy order. */
export function allowedLinkTypes(types: readonly LinkTypeSpec[], src: string, dst: string): LinkTypeSpec[] {
  return types.filter((t) => allowsKinds(t, src, dst));
}

/** A stored link from a record (query reply or event); null when malformed. */
export function parseLinkEdge(raw: unknown): LinkEdge | null {
  if (!isObj(raw)) return null;
  const { id, source, target, type } = raw;
  if (typeof id !== "string" || typeof source !== "string" || typeof target !== "string" || typeof type !== "string") {
    return null;
  }
  return {
    id,
    source,
    target,
    type,
    annotator: strOrNull(raw.annotator),
    revision: typeof raw.revision === "number" ? raw.revision : null,
  };
}

/** The item's links, indexed by end: `linkedTo(id)` answers without the kernel. */
export class LinkIndex {
  private readonly links = new Map<string, LinkEdge>();
  private readonly byEnd = new Map<string, Set<string>>();

  get size(): number {
    return this.links.size;
  }

  all(): LinkEdge[] {
    return [...this.links.values()];
  }

  get(id: string): LinkEdge | undefined {
    return this.links.get(id);
  }

  /** Replace everything with a `links.query` reply's `links`. */
  load(records: unknown): void {
    this.links.clear();
    this.byEnd.clear();
    for (const raw of Array.isArray(records) ? records : []) {
      const l = parseLinkEdge(raw);
      if (l) this.put(l);
    }
  }

  /** Apply a kernel `event` push; true when a link changed. */
  apply(msg: unknown): boolean {
    const events = isObj(msg) && Array.isArray(msg.events) ? msg.events : [];
    let changed = false;
    for (const e of events) {
      if (!isObj(e) || e.target !== "link" || typeof e.id !== "string") continue;
      const l = e.op === "delete" ? null : parseLinkEdge(e.record);
      if (l && l.id === e.id) this.put(l);
      else this.remove(e.id);
      changed = true;
    }
    return changed;
  }

  /** Ids at the other end of every link touching `id` (either direction), without duplicates. */
  linkedTo(id: string | null): string[] {
    if (!id) return [];
    const out = new Set<string>();
    for (const lid of this.byEnd.get(id) ?? []) {
      const l = this.links.get(lid);
      if (!l) continue;
      out.add(l.source === id ? l.target : l.source);
    }
    out.delete(id);
    return [...out];
  }

  private put(l: LinkEdge): void {
    this.remove(l.id);
    this.links.set(l.id, l);
    for (const end of [l.source, l.target]) {
      let set = this.byEnd.get(end);
      if (!set) this.byEnd.set(end, (set = new Set()));
      set.add(l.id);
    }
  }

  private remove(id: string): void {
    const old = this.links.get(id);
    if (!old) return;
    this.links.delete(id);
    for (const end of [old.source, old.target]) {
      const set = this.byEnd.get(end);
      set?.delete(id);
      if (set && set.size === 0) this.byEnd.delete(end);
    }
  }
}

/**
 * The link-mode state machine of one item: its state is the last `link-mode`
 * value on the item's bus, so every bundle (each with its own copy of this
 * module) sees the same state.
 */
export class LinkMode {
  constructor(readonly bus: Bus<LinkTopics>) {}

  /** The source of the link being made, or null when link mode is off. */
  get source(): LinkEnd | null {
    return this.bus.last(LINK_MODE_TOPIC)?.source ?? null;
  }

  get active(): boolean {
    return this.source !== null;
  }

  /** Start (or restart) link mode from `source`. */
  start(source: LinkEnd, from?: unknown): void {
    this.bus.publish(LINK_MODE_TOPIC, { source: { ...source } }, from);
  }

  /**
   * Pick `target` for the current source. False (nothing published) when link
   * mode is off or the target is the source itself.
   */
  pick(target: LinkEnd, from?: unknown): boolean {
    const source = this.source;
    if (!source || target.id === source.id) return false;
    this.bus.publish(LINK_PICK_TOPIC, { source, target: { ...target } }, from);
    return true;
  }

  /** End link mode (no-op when it is off). */
  cancel(from?: unknown): void {
    if (this.active) this.bus.publish(LINK_MODE_TOPIC, null, from);
  }
}

/** The link mode of the item whose bus key is `busKey`. */
export function linkModeFor(busKey: string): LinkMode {
  return new LinkMode(getBus<LinkTopics>(busKey));
}

// -- the part every widget mounts ------------------------------------------------------------

/** What a view tells the controller about an annotation it shows (no `widget`: added here). */
export type LocalEnd = Omit<LinkEnd, "widget">;

/** The CommandClient calls the controller uses. */
export interface LinkClient {
  request<R = unknown>(type: string, payload?: Record<string, unknown>): Promise<{ result: R }>;
  onMessage(type: string, handler: (msg: Record<string, unknown>) => void): () => void;
}

export interface LinkHost {
  client: LinkClient;
  busKey: string;
  /** The widget's root: `data-link-*` hooks and `accordLink` go here; keys are heard here. */
  root: HTMLElement;
  /** Where the hint and the chooser are shown (prepended; e.g. the widget's alerts box). */
  host: HTMLElement;
  /** The annotation `id` when this view shows it (an end it can offer), else null. */
  describe(id: string): LocalEnd | null;
  /** The view's selected annotation id (what `L` links from). */
  selected(): string | null;
  /** Show an error in the widget's banner. */
  report(err: unknown): void;
  /** Something the view draws changed (mode, lit ends, links). */
  changed(): void;
  /** Link types when `links.query` brings none (a widget's `link_types` trait). */
  linkTypes?: () => unknown;
  /** False when the view asks `links.query` itself and hands the reply to `ingest`. */
  query?: boolean;
}

/** What the test hooks expose on the widget root (`root.accordLink`). */
export interface LinkHooks {
  start(id?: string): boolean;
  pick(id: string): boolean;
  cancel(): void;
  choose(type: string): Promise<boolean>;
  state(): { source: LinkEnd | null; pending: LinkPick | null; lit: string[]; links: number; types: string[] };
  linkedTo(id: string): string[];
}

let counter = 0;

/**
 * Link mode in one view: the hint, the chooser (in the view that started),
 * `L` / Escape, picking, the link index and the ends lit on hover.
 */
export class LinkModeController {
  readonly widget: string;
  readonly index = new LinkIndex();
  readonly mode: LinkMode;
  private types: LinkTypeSpec[] = [];
  private pending: LinkPick | null = null;
  private hovered: string | null = null;
  private litIds: string[] = [];
  private flash = "";
  private flashTimer: ReturnType<typeof setTimeout> | null = null;
  private busy = false;
  private closed = false;
  private readonly offs: (() => void)[] = [];
  private readonly box: HTMLDivElement;
  private readonly hint: HTMLDivElement;
  private readonly chooser: HTMLDivElement;

  constructor(private readonly h: LinkHost) {
    this.widget = `lm-${Date.now().toString(36)}-${(counter++).toString(36)}`;
    const bus = getBus<LinkTopics>(h.busKey);
    this.mode = new LinkMode(bus);
    this.hint = el("div", { className: "accord-link-hint", attrs: { "data-link-hint": "", role: "status" } });
    Object.assign(this.hint.style, {
      padding: "0.25em 0.6em",
      border: "1px dashed #1565c0",
      borderRadius: "3px",
      background: "#e3f2fd",
      color: "#0d3c61",
      fontFamily: "var(--jp-ui-font-family, sans-serif)",
      fontSize: "var(--jp-ui-font-size1, 13px)",
    });
    this.chooser = el("div", { className: "accord-link-chooser", attrs: { role: "dialog", "aria-label": "Link type" } });
    Object.assign(this.chooser.style, {
      flexWrap: "wrap",
      alignItems: "center",
      gap: "0.3em",
      padding: "0.3em 0.6em",
      marginTop: "0.2em",
      border: "1px solid #1565c0",
      borderRadius: "3px",
      background: "var(--jp-layout-color1, #fff)",
      boxShadow: "0 1px 4px rgba(0,0,0,0.25)",
      fontFamily: "var(--jp-ui-font-family, sans-serif)",
      fontSize: "var(--jp-ui-font-size1, 13px)",
    });
    this.box = el("div", { className: "accord-link-mode" }, [this.hint, this.chooser]);
    this.box.style.margin = "0 0 0.3em 0";
    h.host.prepend(this.box);

    this.offs.push(
      bus.subscribe(LINK_MODE_TOPIC, () => this.onMode()),
      bus.subscribe(LINK_PICK_TOPIC, (p) => this.onPick(p)),
      bus.subscribe("hover", (v) => {
        this.hovered = hoverRef(v).id;
        this.relight();
      }),
      h.client.onMessage("event", (msg) => {
        if (this.index.apply(msg)) {
          this.relight();
          this.h.changed();
        }
      }),
    );
    const onKey = (e: KeyboardEvent): void => this.onKey(e);
    h.root.addEventListener("keydown", onKey);
    this.offs.push(() => h.root.removeEventListener("keydown", onKey));
    const doc = h.root.ownerDocument;
    const onDocKey = (e: KeyboardEvent): void => {
      if (e.key === "Escape" && this.mode.active) {
        this.mode.cancel(this);
        e.preventDefault();
        e.stopPropagation();
      }
    };
    doc.addEventListener("keydown", onDocKey, true);
    this.offs.push(() => doc.removeEventListener("keydown", onDocKey, true));
    (h.root as HTMLElement & { accordLink?: LinkHooks }).accordLink = this.hooks();
    this.render();
    if (h.query !== false) void this.load();
  }

  /** The source of the link being made (any view of the item), or null. */
  get source(): LinkEnd | null {
    return this.mode.source;
  }

  get active(): boolean {
    return this.mode.active;
  }

  /** This view started the current link mode. */
  get owner(): boolean {
    return this.source?.widget === this.widget;
  }

  /** Ids this view shows that are linked to the hovered annotation (light them up). */
  get lit(): readonly string[] {
    return this.litIds;
  }

  get linkTypes(): readonly LinkTypeSpec[] {
    return this.types;
  }

  /** (Re)load the item's links and the link types. */
  async load(): Promise<void> {
    try {
      const reply = await this.h.client.request<{ links?: unknown; link_types?: unknown }>("links.query", {});
      this.ingest(reply.result);
    } catch (err) {
      if (!this.closed) this.h.report(err);
    }
  }

  /** Take a `links.query` result `{links, link_types?}` (asked by the view itself). */
  ingest(result: unknown): void {
    if (this.closed) return;
    const r = isObj(result) ? result : {};
    this.index.load(r.links);
    this.types = parseLinkTypes(Array.isArray(r.link_types) ? r.link_types : this.h.linkTypes?.());
    this.relight();
    this.render();
    this.h.changed();
  }

  /** Start link mode from `id` (default: the selection). False, with a hint, when there is none. */
  start(id: string | null = this.h.selected()): boolean {
    const end = id ? this.h.describe(id) : null;
    if (!end) {
      this.say("select an annotation first, then press L (or Link) and click the target");
      return false;
    }
    this.mode.start({ ...end, widget: this.widget }, this);
    return true;
  }

  /**
   * A click on annotation `id` of this view: while link mode is on it picks the
   * target and returns true (the view should not treat it as a normal click).
   */
  pick(id: string): boolean {
    const source = this.source;
    if (!source) return false;
    if (id === source.id) return true;
    const end = this.h.describe(id);
    if (!end) return false;
    this.mode.pick({ ...end, widget: this.widget }, this);
    return true;
  }

  cancel(): void {
    this.mode.cancel(this);
  }

  /** Send `link.add` for the pending pick with `type` (what the chooser's buttons call). */
  async choose(type: string): Promise<boolean> {
    const p = this.pending;
    if (!p || !this.owner || this.busy) return false;
    this.busy = true;
    try {
      await this.h.client.request("link.add", { source: p.source.id, target: p.target.id, link_type: type });
    } catch (err) {
      this.h.report(err); // refused: nothing stored; the chooser stays for another choice
      return false;
    } finally {
      this.busy = false;
    }
    this.say(`linked ${p.source.label} —${type}→ ${p.target.label}`);
    if (this.source?.id === p.source.id) this.mode.cancel(this);
    return true;
  }

  destroy(): void {
    if (this.closed) return;
    this.closed = true;
    if (this.owner) this.mode.cancel(this);
    for (const off of this.offs.splice(0)) off();
    if (this.flashTimer) clearTimeout(this.flashTimer);
    this.box.remove();
    const root = this.h.root as HTMLElement & { accordLink?: LinkHooks };
    delete root.accordLink;
    for (const key of ["linkMode", "linkSource", "linkLit", "linkCount"]) delete root.dataset[key];
  }

  // -- internals ---------------------------------------------------------------------------

  private onMode(): void {
    const source = this.source;
    if (!source || (this.pending && this.pending.source.id !== source.id) || !this.owner) this.pending = null;
    this.render();
    this.h.changed();
  }

  private onPick(p: LinkPick): void {
    if (p.source.widget !== this.widget || this.source?.id !== p.source.id) return;
    this.pending = p;
    this.render();
  }

  private onKey(e: KeyboardEvent): void {
    if (e.defaultPrevented || e.ctrlKey || e.metaKey || e.altKey) return;
    const t = e.target as HTMLElement | null;
    if (t && (t.tagName === "INPUT" || t.tagName === "TEXTAREA" || t.tagName === "SELECT")) return;
    if (e.key !== "l" && e.key !== "L") return;
    this.start();
    e.preventDefault();
    e.stopPropagation();
  }

  private relight(): void {
    const lit = this.index.linkedTo(this.hovered).filter((id) => this.h.describe(id) !== null);
    const same = lit.length === this.litIds.length && lit.every((id, i) => id === this.litIds[i]);
    this.litIds = lit;
    this.h.root.dataset.linkLit = lit.join(" ");
    this.h.root.dataset.linkCount = String(this.index.size);
    if (!same) this.h.changed();
  }

  private say(text: string): void {
    this.flash = text;
    if (this.flashTimer) clearTimeout(this.flashTimer);
    this.flashTimer = setTimeout(() => {
      this.flash = "";
      this.flashTimer = null;
      this.render();
    }, 4000);
    this.render();
  }

  private button(text: string, title: string, attrs: Record<string, string>, onClick: () => void): HTMLButtonElement {
    const b = el("button", { className: "accord-rc-btn", text, title, attrs: { type: "button", ...attrs } });
    b.addEventListener("click", (e) => {
      e.stopPropagation();
      onClick();
    });
    return b;
  }

  private render(): void {
    if (this.closed) return;
    const source = this.source;
    const d = this.h.root.dataset;
    d.linkMode = source ? (this.owner ? "source" : "target") : "";
    d.linkSource = source?.id ?? "";
    const text = source ? `Link from ${source.label}: pick the target (Esc cancels)` : this.flash;
    setText(this.hint, text);
    this.hint.hidden = text === "";
    const p = this.owner ? this.pending : null;
    this.chooser.hidden = p === null;
    this.chooser.style.display = p === null ? "none" : "flex"; // an inline display beats `hidden`
    if (!p) {
      this.chooser.replaceChildren();
    } else {
      const allowed = allowedLinkTypes(this.types, p.source.kind, p.target.kind);
      const nodes: Node[] = [
        el("strong", { text: "Link as" }),
        el("span", { className: "accord-link-ends", text: `${p.source.label} → ${p.target.label}:` }),
      ];
      for (const t of allowed) {
        nodes.push(
          this.button(t.name, t.description || `${t.name}: ${p.source.kind} → ${p.target.kind}`, { "data-link-type": t.name }, () => {
            void this.choose(t.name);
          }),
        );
      }
      if (allowed.length === 0) {
        nodes.push(
          el("span", { className: "accord-link-none", text: `no link type of the taxonomy allows ${p.source.kind} → ${p.target.kind}` }),
        );
      }
      nodes.push(this.button("Cancel", "Stop linking (Esc)", { "data-action": "cancel-link" }, () => this.cancel()));
      this.chooser.replaceChildren(...nodes);
    }
    this.box.hidden = this.hint.hidden && this.chooser.hidden;
  }

  private hooks(): LinkHooks {
    return {
      start: (id) => this.start(id ?? this.h.selected()),
      pick: (id) => this.pick(id),
      cancel: () => this.cancel(),
      choose: (type) => this.choose(type),
      state: () => ({
        source: this.source,
        pending: this.owner ? this.pending : null,
        lit: [...this.litIds],
        links: this.index.size,
        types: this.types.map((t) => t.name),
      }),
      linkedTo: (id) => this.index.linkedTo(id),
    };
  }
}
