/**
 * One TextAnnotator view: the text as text nodes cut into pieces at span
 * edges, spans as stacked highlights, a gutter per segment (cue time,
 * speaker, segment classes), document classes, relations, the side panel.
 *
 * Data flow: traits say what to show; `annotations.query` + `links.query`
 * load the records; `event` pushes patch them; gestures become Session
 * commands. Offsets: the DOM counts UTF-16 units, records hold code points;
 * `offsets.ts` converts exactly and snaps selections to grapheme clusters.
 */

import { getBus, type Bus } from "../../runtime/bus.js";
import { showError, type ErrorBanner } from "../../runtime/errors.js";
import { LinkModeController, type LocalEnd } from "../../runtime/linkmode.js";
import { ClientClosed, CommandClient, type MessageModel } from "../../runtime/protocol.js";
import { lockOthersToggle } from "../../runtime/stage.js";
import { el, setAttr, setText } from "../../runtime/text.js";
import { EditQueue, type EditFields } from "../region_canvas/edits.js";
import { renderPanel } from "../region_canvas/panel.js";
import { injectStyle as injectCanvasStyle } from "../region_canvas/style.js";
import { isEditable } from "../region_canvas/state.js";
import { parseClasses, type ClassSpec } from "../region_canvas/types.js";
import {
  applyEvents,
  applyQuery,
  assignLevels,
  EMPTY,
  farEndText,
  formatTime,
  parseLinkTypes,
  parseSegments,
  pieces,
  type LinkRecord,
  type LinkTypeSpec,
  type PlacedSpan,
  type Segment,
  type TextRecord,
  type TextState,
} from "./model.js";
import { TextIndex } from "./offsets.js";
import { injectStyle } from "./style.js";

/** The parts of an anywidget model the view uses. */
export interface WidgetModel extends MessageModel {
  get(key: string): unknown;
  set(key: string, value: unknown): void;
  save_changes(): void;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  on(eventName: string, callback: (...args: any[]) => void): void;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  off(eventName?: string | null, callback?: ((...args: any[]) => void) | null): void;
}

/** What hover/select publish on the in-page bus (cross-widget link mode listens). */
export interface BusRef {
  id: string | null;
  entity: string | null;
}

type Topics = { hover: BusRef | string | null; select: BusRef | string | null };

/** The root element with the test hooks attached. */
export interface HookElement extends HTMLElement {
  /** Select code points `[start, end)` in the DOM and act as a mouse selection would; the new span's id. */
  accordSelectRange?: (start: number, end: number) => Promise<string | null>;
  /** Client rectangle of the grapheme starting at code point `cp`. */
  accordCharRect?: (cp: number) => { x: number; y: number; width: number; height: number } | null;
  /** Send link.add exactly as the link chooser does; true when stored. */
  accordRelate?: (source: string, target: string, type: string) => Promise<boolean>;
}

/** One rendered row: its signature, element, pieces and the piece elements of each span. */
interface RowView {
  sig: string;
  el: HTMLElement;
  pieces: HTMLSpanElement[];
  spans: Map<string, HTMLSpanElement[]>;
}

const STRIPE = 3;
const STRIPE_GAP = 1;

function str(v: unknown, fallback = ""): string {
  return typeof v === "string" ? v : fallback;
}

function strOrNull(v: unknown): string | null {
  return typeof v === "string" && v !== "" ? v : null;
}

function refOf(v: unknown): BusRef {
  if (typeof v === "string") return { id: v, entity: null };
  if (typeof v === "object" && v !== null) {
    const o = v as Record<string, unknown>;
    return { id: strOrNull(o.id), entity: strOrNull(o.entity) };
  }
  return { id: null, entity: null };
}

function quote(text: string, max = 40): string {
  const one = text.replace(/\s+/g, " ");
  return `“${one.length > max ? `${one.slice(0, max - 1)}…` : one}”`;
}

export class TextAnnotatorView {
  private readonly abort = new AbortController();
  private readonly client: CommandClient;
  private readonly edits: EditQueue;
  private readonly cleanups: (() => void)[] = [];
  private readonly me = Symbol("text-annotator-view");
  private closed = false;

  // Traits.
  private item = "";
  private stream = "";
  private index = new TextIndex("");
  private segments: Segment[] = [];
  private timed = false;
  private classes: ClassSpec[] = [];
  private classMap = new Map<string, ClassSpec>();
  private docClasses: ClassSpec[] = [];
  private linkTypes: LinkTypeSpec[] = [];
  private label = "";
  private trim = true;
  private showOthers = true;
  private annotator = "";

  // Data.
  private state: TextState = EMPTY;
  private ready = false;
  private loadGen = 0;

  // Interaction.
  private selectedId: string | null = null;
  private hoverId: string | null = null;
  private busRef: BusRef = { id: null, entity: null };
  private linkHover: string[] = [];
  /** Link mode across the item's widgets (runtime/linkmode.ts); `r` and L start it. */
  private link: LinkModeController | null = null;
  private suppressClick = false;
  private banner: ErrorBanner | null = null;
  private bus: Bus<Topics> | null = null;
  private busOff: (() => void)[] = [];
  private renderedVersion = -1;
  private renderedKey = "";
  /** Rows as last rendered, reused when their signature is unchanged. */
  private rowCache: RowView[] = [];
  private structureDirty = true;
  private rafId = 0;

  // DOM.
  private readonly alerts: HTMLDivElement;
  private readonly chipBox: HTMLDivElement;
  private readonly chips = new Map<string, HTMLButtonElement>();
  private readonly relateButton: HTMLButtonElement;
  private readonly othersButton: HTMLButtonElement;
  private readonly helpButton: HTMLButtonElement;
  private readonly help: HTMLDivElement;
  private readonly docBar: HTMLDivElement;
  private readonly textBox: HTMLDivElement;
  private readonly side: HTMLDivElement;
  private readonly panel: HTMLDivElement;
  private readonly relations: HTMLDivElement;
  private readonly linkMenu: HTMLDivElement;
  private readonly status: HTMLSpanElement;
  /** Piece elements in text order (for DOM point → offset). */
  private pieceEls: HTMLSpanElement[] = [];
  /** Span id → the piece elements it covers. */
  private spanEls = new Map<string, HTMLSpanElement[]>();

  constructor(
    private readonly model: WidgetModel,
    private readonly root: HookElement,
  ) {
    injectCanvasStyle(root.ownerDocument);
    injectStyle(root.ownerDocument);
    this.client = new CommandClient(model, { signal: this.abort.signal });
    this.edits = new EditQueue({
      revisionOf: (id) => {
        const rec = this.state.records.get(id);
        return rec ? rec.revision : undefined;
      },
      send: (id, revision, fields) => this.sendUpdate(id, revision, fields),
      changed: () => this.refresh(),
    });

    root.classList.add("accord-text-annotator", "accord-rc-root", "accord-ta-root");
    root.setAttribute("data-lm-suppress-shortcuts", "true");
    this.alerts = el_("div", "accord-rc-alerts");
    this.chipBox = el_("div", "accord-rc-group accord-ta-classes");
    this.relateButton = this.button("⇢ Link", "Link the selected span to an annotation in any view of the item (r, L)", { "data-action": "relate" });
    this.relateButton.addEventListener("click", () => this.startRelation());
    const undo = this.button("↶", "Undo (Ctrl+Z)", { "data-action": "undo", "aria-label": "Undo" });
    const redo = this.button("↷", "Redo (Ctrl+Shift+Z, Ctrl+Y)", { "data-action": "redo", "aria-label": "Redo" });
    undo.addEventListener("click", () => void this.command("undo", {}));
    redo.addEventListener("click", () => void this.command("redo", {}));
    this.othersButton = this.button("Others", "Show or hide other annotators' spans (read-only)", {
      "data-action": "toggle-others",
      "aria-pressed": "true",
    });
    this.othersButton.addEventListener("click", () => {
      this.showOthers = !this.showOthers;
      this.setTrait("show_others", this.showOthers);
      this.refresh();
    });
    this.helpButton = this.button("?", "Keyboard shortcuts (?)", { "data-action": "help", "aria-label": "Keyboard shortcuts" });
    this.helpButton.addEventListener("click", () => this.toggleHelp());
    const toolbar = el("div", { className: "accord-rc-toolbar" }, [
      this.chipBox,
      el_("span", "accord-rc-spacer"),
      el("div", { className: "accord-rc-group" }, [this.relateButton, undo, redo, this.othersButton, this.helpButton]),
    ]);
    this.help = el("div", { className: "accord-rc-help", attrs: { hidden: true } });
    this.docBar = el_("div", "accord-ta-doc");
    this.textBox = el("div", {
      className: "accord-ta-text",
      attrs: { tabindex: 0, role: "document", "aria-label": "Text to annotate" },
    });
    this.panel = el_("div", "accord-ta-panel");
    this.relations = el_("div", "accord-ta-relations");
    this.linkMenu = el("div", { className: "accord-ta-linkmenu", attrs: { hidden: true, role: "dialog" } });
    this.side = el("div", { className: "accord-rc-side accord-ta-side" }, [this.linkMenu, this.panel, this.relations]);
    this.status = el_("span", "accord-ta-status");
    root.replaceChildren(
      this.alerts,
      toolbar,
      this.help,
      this.docBar,
      el("div", { className: "accord-ta-main" }, [this.textBox, this.side]),
      el("div", { className: "accord-rc-status" }, [this.status]),
    );

    this.wireDom();
    this.readTraits();
    this.wireModel();
    this.subscribeBus();
    this.linkMenu.hidden = false; // the link-mode hint and chooser live here
    this.link = new LinkModeController({
      client: this.client,
      busKey: str(model.get("bus_key")),
      root,
      host: this.linkMenu,
      describe: (id) => this.linkEnd(id),
      selected: () => this.selectedId,
      report: (err) => this.report(err),
      changed: () => this.refresh(),
      linkTypes: () => this.linkTypes,
      query: false, // load() asks links.query and hands the reply over
    });
    this.installHooks();
    this.load();
  }

  /** The source span of link mode when it is one of this view's, else null. */
  private get relateFrom(): string | null {
    const id = this.link?.source?.id ?? null;
    return id !== null && this.state.records.has(id) ? id : null;
  }

  /** A span or tag of this view as a link end (null when not shown here). */
  private linkEnd(id: string): LocalEnd | null {
    const r = this.state.records.get(id);
    if (!r || !this.visible(r)) return null;
    const label = r.kind === "text_span" ? `${r.label} ${quote(this.spanText(id), 30)}` : r.label;
    return { id, kind: r.kind, stream: this.stream, label };
  }

  destroy(): void {
    this.closed = true;
    this.abort.abort();
    this.link?.destroy();
    this.edits.close();
    for (const off of this.cleanups.splice(0)) off();
    for (const off of this.busOff.splice(0)) off();
    if (this.rafId && typeof cancelAnimationFrame === "function") cancelAnimationFrame(this.rafId);
    delete this.root.accordSelectRange;
    delete this.root.accordCharRect;
    delete this.root.accordRelate;
    for (const key of ["ready", "spans", "selected", "links", "mode"]) delete this.root.dataset[key];
    this.root.replaceChildren();
  }

  // -- setup ----------------------------------------------------------------------

  private button(text: string, title: string, attrs: Record<string, string>): HTMLButtonElement {
    return el("button", { className: "accord-rc-btn", text, title, attrs: { type: "button", ...attrs } });
  }

  private readTraits(): void {
    const m = this.model;
    this.item = str(m.get("item"));
    this.stream = str(m.get("stream"));
    this.index = new TextIndex(str(m.get("text")));
    this.segments = parseSegments(m.get("segments"));
    this.timed = m.get("timed") === true;
    this.setClasses();
    this.linkTypes = parseLinkTypes(m.get("link_types"));
    this.label = str(m.get("label"));
    this.trim = m.get("trim") !== false;
    this.showOthers = m.get("show_others") !== false;
    this.annotator = str(m.get("annotator"));
    this.applyHeight();
    const sel = strOrNull(m.get("selected"));
    this.selectedId = sel;
  }

  private setClasses(): void {
    this.classes = parseClasses(this.model.get("classes"));
    this.classMap = new Map(this.classes.map((c) => [c.name, c]));
    this.docClasses = parseClasses(this.model.get("doc_classes"));
    this.chips.clear();
    const nodes: HTMLElement[] = [];
    for (const c of this.classes) {
      const swatch = el_("span", "accord-ta-swatch");
      swatch.style.background = c.color;
      const parts: (Node | string)[] = [swatch, el("span", { text: c.name })];
      if (c.hotkey) parts.push(el("kbd", { className: "accord-rc-key", text: c.hotkey }));
      const title = c.hotkey ? `${c.name} (key ${c.hotkey})` : c.name;
      const chip = el(
        "button",
        {
          className: "accord-rc-btn accord-rc-chip",
          title: c.guidelines ? `${title}\n${c.guidelines}` : title,
          attrs: { type: "button", "data-label": c.name, "aria-pressed": "false" },
        },
        parts,
      );
      chip.style.setProperty("--accord-rc-chip-colour", c.color);
      chip.addEventListener("click", () => {
        this.chooseLabel(c.name);
        this.textBox.focus({ preventScroll: true });
      });
      this.chips.set(c.name, chip);
      nodes.push(chip);
    }
    if (nodes.length === 0) nodes.push(el("span", { className: "accord-rc-muted", text: "no span classes" }));
    this.chipBox.replaceChildren(...nodes);
  }

  private applyHeight(): void {
    const h = Number(this.model.get("height"));
    this.textBox.style.maxHeight = `${Number.isFinite(h) && h > 60 ? h : 360}px`;
  }

  private wireModel(): void {
    const on = (name: string, fn: () => void): void => {
      this.model.on(`change:${name}`, fn);
      this.cleanups.push(() => this.model.off(`change:${name}`, fn));
    };
    on("text", () => {
      this.index = new TextIndex(str(this.model.get("text")));
      this.refresh(true);
    });
    on("segments", () => {
      this.segments = parseSegments(this.model.get("segments"));
      this.refresh(true);
    });
    on("timed", () => {
      this.timed = this.model.get("timed") === true;
      this.refresh(true);
    });
    on("classes", () => {
      this.setClasses();
      this.refresh(true);
    });
    on("doc_classes", () => {
      this.setClasses();
      this.refresh(true);
    });
    on("link_types", () => {
      this.linkTypes = parseLinkTypes(this.model.get("link_types"));
      this.refresh();
    });
    on("label", () => {
      this.label = str(this.model.get("label"));
      this.refresh();
    });
    on("trim", () => {
      this.trim = this.model.get("trim") !== false;
    });
    on("show_others", () => {
      this.showOthers = this.model.get("show_others") !== false;
      this.refresh(true);
    });
    on("height", () => this.applyHeight());
    on("annotator", () => {
      this.annotator = str(this.model.get("annotator"));
      this.refresh(true);
    });
    on("selected", () => {
      const want = strOrNull(this.model.get("selected"));
      if (want !== this.selectedId) this.select(want, true, false);
    });
    on("item", () => {
      this.item = str(this.model.get("item"));
      this.load();
    });
    on("stream", () => {
      this.stream = str(this.model.get("stream"));
      this.load();
    });
    on("bus_key", () => this.subscribeBus());
    this.cleanups.push(this.client.onMessage("event", (msg) => this.onEvent(msg)));
  }

  private wireDom(): void {
    const tb = this.textBox;
    const listen = <K extends keyof HTMLElementEventMap>(
      target: HTMLElement,
      type: K,
      fn: (e: HTMLElementEventMap[K]) => void,
    ): void => {
      target.addEventListener(type, fn);
      this.cleanups.push(() => target.removeEventListener(type, fn));
    };
    listen(tb, "mousedown", () => {
      this.suppressClick = false;
    });
    listen(tb, "mouseup", (e) => {
      // A double-click on a span is a click on it, not "label this word" (the browser
      // selects the word under a double-click; elsewhere that does make a span).
      const piece = (e.target as Element | null)?.closest?.(".accord-ta-piece") ?? null;
      if (e.detail >= 2 && this.visibleIdsOf(piece).length > 0) {
        this.root.ownerDocument.getSelection()?.removeAllRanges();
        return;
      }
      // The selection is final once mouseup's default action ran.
      setTimeout(() => void this.finishSelection(), 0);
    });
    listen(tb, "click", (e) => this.onClick(e));
    listen(tb, "mouseover", (e) => {
      const piece = (e.target as Element | null)?.closest?.(".accord-ta-piece") as HTMLElement | null;
      const ids = this.visibleIdsOf(piece);
      this.setHover(ids[0] ?? null);
    });
    listen(tb, "mouseleave", () => this.setHover(null));
    listen(this.root, "keydown", (e) => this.onKey(e));
  }

  private setTrait(name: string, value: unknown): void {
    this.model.set(name, value);
    this.model.save_changes();
  }

  private installHooks(): void {
    this.root.accordSelectRange = async (start, end) => {
      const [a, b] = this.index.spanToUtf16(start, end);
      const sel = this.root.ownerDocument.getSelection();
      const pa = this.domPoint(a, false);
      const pb = this.domPoint(b, true);
      if (!sel || !pa || !pb) return null;
      const range = this.root.ownerDocument.createRange();
      range.setStart(pa[0], pa[1]);
      range.setEnd(pb[0], pb[1]);
      sel.removeAllRanges();
      sel.addRange(range);
      return this.finishSelection();
    };
    this.root.accordCharRect = (cp) => {
      const [a] = this.index.spanToUtf16(cp, cp);
      const bounds = this.index.boundaries;
      const next = bounds.find((x) => x > a) ?? a;
      const pa = this.domPoint(a, false);
      const pb = this.domPoint(next, true);
      if (!pa || !pb) return null;
      const range = this.root.ownerDocument.createRange();
      range.setStart(pa[0], pa[1]);
      range.setEnd(pb[0], pb[1]);
      const r = range.getClientRects()[0] ?? range.getBoundingClientRect();
      return { x: r.x, y: r.y, width: r.width, height: r.height };
    };
    this.root.accordRelate = (source, target, type) => this.createLink(source, target, type);
  }

  // -- loading and events -----------------------------------------------------------

  private load(): void {
    const gen = ++this.loadGen;
    this.ready = false;
    this.refresh();
    const anns = this.client.request("annotations.query", {});
    const links = this.client.request("links.query", {});
    Promise.all([anns, links]).then(
      ([a, l]) => {
        if (gen !== this.loadGen || this.closed) return;
        this.state = applyQuery(this.state, a.result, l.result, this.item, this.stream);
        this.link?.ingest(l.result);
        this.ready = true;
        this.edits.recordsChanged();
        this.refresh(true);
      },
      (err: unknown) => this.report(err),
    );
  }

  private onEvent(msg: unknown): void {
    if (!this.ready) return; // the query in flight already holds it (messages arrive in order)
    const next = applyEvents(this.state, msg, this.item, this.stream);
    if (next === this.state) return;
    this.state = next;
    this.edits.recordsChanged();
    if (this.selectedId && !this.state.records.has(this.selectedId)) this.select(null);
    if (this.relateFrom && !this.state.records.has(this.relateFrom)) this.cancelRelation();
    this.refresh(); // rows whose spans did not change are kept
  }

  private report(err: unknown): void {
    if (this.closed || err instanceof ClientClosed) return;
    this.banner?.dismiss();
    this.banner = showError(this.alerts, err);
  }

  private async command(type: string, payload: Record<string, unknown>): Promise<unknown> {
    try {
      const reply = await this.client.request(type, payload);
      return reply.result ?? {};
    } catch (err) {
      this.report(err);
      return null;
    }
  }

  private async sendUpdate(id: string, revision: number | null, fields: EditFields): Promise<boolean> {
    const payload: Record<string, unknown> = { id, revision };
    if (fields.label !== undefined) payload.label = fields.label;
    if (fields.attributes !== undefined) payload.attributes = fields.attributes;
    return (await this.command("annotation.update", payload)) !== null;
  }

  // -- visibility -----------------------------------------------------------------

  private editable(rec: TextRecord): boolean {
    return isEditable(rec, this.annotator);
  }

  private visible(rec: TextRecord): boolean {
    return this.showOthers || this.editable(rec);
  }

  private visibleSpans(): TextRecord[] {
    return [...this.state.records.values()].filter((r) => r.kind === "text_span" && this.visible(r));
  }

  private visibleIdsOf(piece: Element | null): string[] {
    const ids = (piece as HTMLElement | null)?.dataset?.spans;
    return ids ? ids.split(" ").filter((id) => this.state.records.has(id)) : [];
  }

  private spanText(id: string): string {
    const r = this.state.records.get(id);
    return r && r.start !== null && r.end !== null ? this.index.slice(r.start, r.end) : id;
  }

  // -- gestures -------------------------------------------------------------------

  /** The DOM selection, if inside the text, as a new span (the mouse gesture's end). */
  private async finishSelection(): Promise<string | null> {
    const sel = this.root.ownerDocument.getSelection();
    if (!sel || sel.rangeCount === 0 || sel.isCollapsed) return null;
    const range = sel.getRangeAt(0);
    if (!this.textBox.contains(range.commonAncestorContainer)) return null;
    const a = this.pointToOffset(range.startContainer, range.startOffset);
    const b = this.pointToOffset(range.endContainer, range.endOffset);
    sel.removeAllRanges();
    this.suppressClick = true;
    if (a === null || b === null || a === b) return null;
    return this.addSpanAt(a, b);
  }

  private async addSpanAt(a16: number, b16: number): Promise<string | null> {
    const span = this.index.selectionToSpan(a16, b16, this.trim);
    if (!span) {
      this.setStatus("the selection holds only white space: nothing added");
      return null;
    }
    const spec = this.classMap.get(this.label);
    if (!spec) {
      this.report(Object.assign(new Error("pick a span class first"), { error: "NoClass" }));
      return null;
    }
    return this.addSpan(span.start, span.end, spec.name);
  }

  private async addSpan(start: number, end: number, label: string): Promise<string | null> {
    const result = (await this.command("annotation.add", {
      item: this.item,
      stream: this.stream,
      label,
      kind: "text_span",
      geometry: { start, end },
      frame: null,
    })) as { ids?: unknown } | null;
    const ids = Array.isArray(result?.ids) ? result.ids : [];
    return typeof ids[0] === "string" ? ids[0] : null;
  }

  private onClick(e: MouseEvent): void {
    if (this.suppressClick) {
      this.suppressClick = false;
      return;
    }
    const target = e.target as Element | null;
    if (target?.closest?.(".accord-ta-gutter")) return;
    const piece = target?.closest?.(".accord-ta-piece") ?? null;
    const ids = this.visibleIdsOf(piece);
    if (this.link?.active) {
      // Link mode (from any view of the item): a click on a span picks it as the target.
      const from = this.link.source?.id;
      const to = ids.find((id) => id !== from) ?? null;
      if (to) this.link.pick(to);
      return;
    }
    if (ids.length === 0) {
      this.select(null);
      return;
    }
    // Repeated clicks on the same place walk from the innermost span outwards.
    const i = this.selectedId ? ids.indexOf(this.selectedId) : -1;
    this.select(ids[(i + 1) % ids.length] ?? null);
  }

  private onKey(e: KeyboardEvent): void {
    const t = e.target as HTMLElement | null;
    if (t && (t.tagName === "INPUT" || t.tagName === "SELECT" || t.tagName === "TEXTAREA")) return;
    const mod = e.ctrlKey || e.metaKey;
    const k = e.key;
    let handled = true;
    if (mod && !e.altKey && k.toLowerCase() === "z") void this.command(e.shiftKey ? "redo" : "undo", {});
    else if (mod && !e.altKey && k.toLowerCase() === "y") void this.command("redo", {});
    else if (mod || e.altKey) handled = false;
    else if (this.classes.some((c) => c.hotkey === k)) {
      const c = this.classes.find((x) => x.hotkey === k);
      if (c) this.chooseLabel(c.name);
    } else if (k === "Escape") {
      if (this.relateFrom) this.cancelRelation();
      else this.select(null);
    } else if (k === "Delete" || k === "Backspace") this.deleteSelected();
    else if (k === "r") this.startRelation();
    else if (k === "?") this.toggleHelp();
    else handled = false;
    if (handled) {
      e.preventDefault();
      e.stopPropagation();
    }
  }

  private chooseLabel(name: string): void {
    if (!this.classMap.has(name)) return;
    if (name !== this.label) {
      this.label = name;
      this.setTrait("label", name);
    }
    const sel = this.selectedId ? this.state.records.get(this.selectedId) : undefined;
    if (sel && this.editable(sel) && sel.label !== name) this.edits.submit(sel.id, { label: name });
    this.refresh();
  }

  private deleteSelected(): void {
    const rec = this.selectedId ? this.state.records.get(this.selectedId) : undefined;
    if (!rec || !this.editable(rec)) return;
    this.select(null);
    void this.command("annotation.delete", { id: rec.id, revision: rec.revision });
  }

  private toggleHelp(): void {
    const show = this.help.hidden;
    this.help.hidden = !show;
    this.helpButton.classList.toggle("accord-rc-active", show);
    if (!show) return;
    const rows: [string, string][] = [
      ["select text", "add a span of the current class (snapped to whole characters, white space trimmed)"],
      ["click a span", "select it (click again: the enclosing span)"],
      ["class hotkey / chip", "set the class; relabel the selected span"],
      ["Delete, Backspace", "delete the selected span"],
      ["r or L, then click an annotation", "link the selected span to it, in this or any widget of the item (choose a link type)"],
      ["Esc", "cancel linking, or deselect"],
      ["Ctrl+Z", "undo"],
      ["Ctrl+Shift+Z, Ctrl+Y", "redo"],
      ["?", "show or hide this list"],
    ];
    for (const c of this.classes) if (c.hotkey) rows.push([c.hotkey, `class “${c.name}”`]);
    this.help.replaceChildren(
      el("div", { className: "accord-rc-help-grid" }, rows.map(([keys, what]) =>
        el("div", { className: "accord-rc-help-row" }, [
          el("kbd", { className: "accord-rc-help-keys", text: keys }),
          el("span", { text: what }),
        ]),
      )),
    );
  }

  // -- selection, hover, bus ----------------------------------------------------------

  private select(id: string | null, publish = true, write = true): void {
    if (id === this.selectedId) return;
    this.selectedId = id;
    if (publish) this.bus?.publish("select", this.ref(id), this.me);
    if (write && strOrNull(this.model.get("selected")) !== id) this.setTrait("selected", id);
    this.refresh();
  }

  private setHover(id: string | null): void {
    if (id === this.hoverId) return;
    this.hoverId = id;
    this.bus?.publish("hover", this.ref(id), this.me);
    this.refreshHighlights();
  }

  private ref(id: string | null): BusRef {
    return { id, entity: id ? (this.state.records.get(id)?.entity ?? null) : null };
  }

  private subscribeBus(): void {
    for (const off of this.busOff.splice(0)) off();
    const key = str(this.model.get("bus_key"));
    this.bus = key ? getBus<Topics>(key) : null;
    if (!this.bus) return;
    const follow = (value: unknown, source: unknown): void => {
      if (source === this.me) return;
      this.busRef = refOf(value);
      this.refreshHighlights();
    };
    this.busOff.push(
      getBus<{ reveal: unknown }>(key).subscribe("reveal", (v, { source }) => this.onReveal(v, source)),
      this.bus.subscribe("hover", (v, { source }) => follow(v, source)),
      this.bus.subscribe("select", (v, { source }) => follow(v, source)),
    );
  }

  /** The entity panel's "go to" (`reveal`): same stream → scroll to the span and select it. */
  private onReveal(value: unknown, source: unknown): void {
    if (source === this.me || typeof value !== "object" || value === null) return;
    const r = value as { id?: unknown; stream?: unknown };
    if (typeof r.id !== "string" || r.stream !== this.stream || !this.state.records.has(r.id)) return;
    this.select(r.id);
    const piece = this.spanEls.get(r.id)?.[0];
    if (piece && typeof piece.scrollIntoView === "function") piece.scrollIntoView({ block: "nearest" });
  }

  // -- relations --------------------------------------------------------------------

  /** `r` / Link: link mode from the selected span (the target may be in any view of the item). */
  private startRelation(): void {
    const rec = this.selectedId ? this.state.records.get(this.selectedId) : undefined;
    if (!rec || rec.kind !== "text_span") {
      this.setStatus("select a span first, then press r (or Link) and click the other end in any view");
      return;
    }
    this.link?.start(rec.id);
  }

  private cancelRelation(): void {
    this.link?.cancel();
    this.setStatus("");
    this.refresh();
  }

  private async createLink(source: string, target: string, type: string): Promise<boolean> {
    const ok = (await this.command("link.add", { source, target, link_type: type })) !== null;
    if (ok) {
      this.banner?.dismiss();
      this.banner = null;
      this.link?.cancel();
      this.setStatus(`linked ${quote(this.spanText(source))} —${type}→ ${quote(this.spanText(target))}`);
      this.refresh();
    }
    return ok;
  }

  private shownLinks(): LinkRecord[] {
    return [...this.state.links.values()].filter(
      (l) => this.state.records.has(l.source) || this.state.records.has(l.target),
    );
  }

  private renderRelations(links: LinkRecord[]): void {
    if (links.length === 0) {
      this.relations.replaceChildren();
      return;
    }
    const rows = links.map((l) => {
      const end = (id: string): HTMLElement =>
        el("span", {
          className: "accord-ta-rel-end",
          text: this.state.records.has(id) ? quote(this.spanText(id), 24) : farEndText(id, l.ends?.[id]),
        });
      const row = el("div", { className: "accord-ta-rel", attrs: { "data-link": l.id, "data-link-type": l.type } }, [
        end(l.source),
        el("span", { className: "accord-ta-rel-type", text: ` —${l.type}→ ` }),
        end(l.target),
      ]);
      if (l.annotator === null || l.annotator === this.annotator) {
        const del = this.button("×", "Delete this relation", { "data-action": "unlink", "aria-label": "Delete relation" });
        del.addEventListener("click", () => void this.command("link.delete", { id: l.id, revision: l.revision }));
        row.append(del);
      } else {
        row.append(el("span", { className: "accord-rc-muted", text: ` (by ${l.annotator})` }));
      }
      row.addEventListener("mouseenter", () => {
        this.linkHover = [l.source, l.target];
        this.refreshHighlights();
      });
      row.addEventListener("mouseleave", () => {
        this.linkHover = [];
        this.refreshHighlights();
      });
      return row;
    });
    this.relations.replaceChildren(el("h4", { text: `Relations (${links.length})` }), ...rows);
  }

  // -- rendering ----------------------------------------------------------------------

  private setStatus(text: string): void {
    if (this.status.textContent !== text) setText(this.status, text);
  }

  /** Schedule a render; `text` forces the text to be rebuilt. */
  private refresh(text = false): void {
    if (text) {
      this.renderedKey = "";
      this.structureDirty = true;
    }
    if (this.closed || this.rafId) return;
    const raf = typeof requestAnimationFrame === "function" ? requestAnimationFrame : (cb: () => void) => setTimeout(cb, 0) as unknown as number;
    this.rafId = raf(() => {
      this.rafId = 0;
      this.render();
    });
  }

  /** Render now (tests and hooks call it through refresh's frame). */
  render(): void {
    if (this.closed) return;
    const key = `${this.state.version}|${this.showOthers}|${this.annotator}`;
    if (key !== this.renderedKey || this.renderedVersion !== this.state.version) {
      this.renderText();
      this.renderedKey = key;
      this.renderedVersion = this.state.version;
    }
    for (const [name, chip] of this.chips) {
      chip.classList.toggle("accord-rc-active", name === this.label);
      chip.setAttribute("aria-pressed", String(name === this.label));
    }
    this.othersButton.classList.toggle("accord-rc-active", this.showOthers);
    this.othersButton.setAttribute("aria-pressed", String(this.showOthers));
    lockOthersToggle(this.othersButton, this.model.get("hide_others") === true);
    this.relateButton.classList.toggle("accord-rc-active", this.relateFrom !== null);
    this.renderDocBar();
    this.renderSide();
    const links = this.shownLinks();
    this.renderRelations(links);
    this.refreshHighlights();
    const d = this.root.dataset;
    d.ready = String(this.ready);
    d.spans = String(this.visibleSpans().length);
    d.selected = this.selectedId ?? "";
    d.links = String(links.length);
    d.mode = this.relateFrom ? "relate" : "";
  }

  private renderText(): void {
    const text = this.index.text;
    const placed = assignLevels(
      this.visibleSpans().map((r) => {
        const [a, b] = this.index.spanToUtf16(r.start ?? 0, r.end ?? 0);
        return { id: r.id, a, b, color: this.classMap.get(r.label)?.color ?? "#808080", own: this.editable(r), level: 0 };
      }),
    );
    const byId = new Map<string, PlacedSpan>(placed.map((p) => [p.id, p]));
    // Rows: one per segment; the text before a segment (newlines joining cues) is kept in
    // hidden pieces at the start of its row, so offsets stay contiguous.
    const rows = this.segments.length
      ? this.segments.map((s) => ({ seg: s as Segment | null, range: this.index.spanToUtf16(s.start, s.end) }))
      : [{ seg: null as Segment | null, range: [0, text.length] as [number, number] }];
    const full: [number, number][] = [];
    let pos = 0;
    rows.forEach((row, i) => {
      const end = i === rows.length - 1 ? Math.max(text.length, row.range[1]) : Math.max(pos, row.range[1]);
      full.push([pos, end]);
      pos = end;
    });
    // Spans and segment chips per row (a span may cover several rows).
    const starts = full.map((r) => r[0]);
    const rowOf = (x: number): number => {
      let lo = 0;
      let hi = starts.length;
      while (lo < hi) {
        const mid = (lo + hi) >>> 1;
        if ((starts[mid] as number) <= x) lo = mid + 1;
        else hi = mid;
      }
      return Math.max(0, lo - 1);
    };
    const perRow: PlacedSpan[][] = rows.map(() => []);
    for (const p of placed) for (let r = rowOf(p.a); r <= rowOf(Math.max(p.a, p.b - 1)); r++) perRow[r]?.push(p);
    const chipsOf = new Map<string, TextRecord[]>();
    for (const r of this.state.records.values()) {
      if (r.kind !== "text_span" || !this.visible(r)) continue;
      const key = `${r.start}:${r.end}`;
      chipsOf.set(key, [...(chipsOf.get(key) ?? []), r]);
    }
    const fresh = this.structureDirty || this.rowCache.length !== rows.length;
    const cache: RowView[] = [];
    rows.forEach((row, i) => {
      const [fa, fb] = full[i] as [number, number];
      const chips = row.seg ? (chipsOf.get(`${row.seg.start}:${row.seg.end}`) ?? []) : [];
      const sig = JSON.stringify([
        fa,
        fb,
        row.range,
        (perRow[i] ?? []).map((p) => {
          const r = this.state.records.get(p.id);
          return [p.id, p.a, p.b, p.level, p.color, p.own, r?.label, r?.annotator];
        }),
        chips.map((r) => [r.id, r.label, r.annotator, this.editable(r)]),
      ]);
      const old = fresh ? undefined : this.rowCache[i];
      if (old && old.sig === sig) {
        cache.push(old);
        return;
      }
      const view: RowView = { sig, el: el_("div", "accord-ta-row"), pieces: [], spans: new Map() };
      const line = el_("div", "accord-ta-line");
      const [a, b] = row.range;
      if (a > fa) line.append(...this.pieceNodes(fa, a, perRow[i] ?? [], byId, true, view));
      line.append(...this.pieceNodes(a, b, perRow[i] ?? [], byId, false, view));
      if (fb > b) line.append(...this.pieceNodes(b, fb, perRow[i] ?? [], byId, true, view));
      if (row.seg) {
        view.el.dataset.segment = String(row.seg.index);
        view.el.append(this.gutter(row.seg, chips), line);
      } else {
        view.el.append(line);
      }
      if (old) old.el.replaceWith(view.el);
      cache.push(view);
    });
    if (fresh) {
      this.textBox.classList.toggle("accord-ta-segmented", this.segments.length > 0);
      this.textBox.replaceChildren(...cache.map((r) => r.el));
    }
    this.rowCache = cache;
    this.structureDirty = false;
    this.pieceEls = cache.flatMap((r) => r.pieces);
    this.spanEls = new Map();
    for (const r of cache) {
      for (const [id, els] of r.spans) this.spanEls.set(id, [...(this.spanEls.get(id) ?? []), ...els]);
    }
  }

  private pieceNodes(
    from: number,
    to: number,
    placed: readonly PlacedSpan[],
    byId: Map<string, PlacedSpan>,
    hidden: boolean,
    sink: RowView,
  ): HTMLSpanElement[] {
    const text = this.index.text;
    return pieces(from, to, placed).map((p) => {
      const node = el("span", { className: hidden ? "accord-ta-piece accord-ta-gap" : "accord-ta-piece", text: text.slice(p.a, p.b) });
      node.dataset.a = String(p.a);
      node.dataset.b = String(p.b);
      if (p.spans.length) {
        node.dataset.spans = p.spans.join(" ");
        node.classList.add("accord-ta-spanned");
        const spans = p.spans.map((id) => byId.get(id)).filter((s): s is PlacedSpan => !!s);
        const top = spans.reduce((m, s) => Math.max(m, s.level), 0);
        const stops: string[] = [];
        for (let level = 0; level <= top; level++) {
          const s = spans.find((x) => x.level === level);
          const y0 = level * (STRIPE + STRIPE_GAP);
          const colour = s ? (s.own ? s.color : `${s.color}80`) : "transparent";
          stops.push(`${colour} ${y0}px ${y0 + STRIPE}px`, `transparent ${y0 + STRIPE}px ${y0 + STRIPE + STRIPE_GAP}px`);
        }
        node.style.backgroundImage = `linear-gradient(to top, ${stops.join(", ")}, transparent ${(top + 1) * (STRIPE + STRIPE_GAP)}px)`;
        const inner = spans[0];
        if (inner) node.style.backgroundColor = `${inner.color}${inner.own ? "33" : "1a"}`;
        node.style.paddingBottom = `${(top + 1) * (STRIPE + STRIPE_GAP)}px`;
        node.title = spans
          .map((s) => {
            const r = this.state.records.get(s.id);
            return r ? `${r.label}${s.own ? "" : ` (by ${r.annotator ?? "?"}, read-only)`}` : s.id;
          })
          .join("\n");
        for (const s of spans) {
          let list = sink.spans.get(s.id);
          if (!list) sink.spans.set(s.id, (list = []));
          list.push(node);
        }
        if (spans.some((s) => !s.own)) node.classList.add("accord-ta-others");
      }
      sink.pieces.push(node);
      return node;
    });
  }

  private gutter(seg: Segment, chips: readonly TextRecord[]): HTMLElement {
    const parts: HTMLElement[] = [];
    if (this.timed && seg.item_start !== null) {
      const t = el("span", {
        className: "accord-ta-time",
        text: formatTime(seg.item_start),
        title: `item time ${formatTime(seg.item_start)}–${formatTime(seg.item_end)} (stream ${formatTime(seg.t_start)}–${formatTime(seg.t_end)})`,
        attrs: { "data-time": seg.item_start },
      });
      parts.push(t);
    }
    if (seg.speaker) parts.push(el("span", { className: "accord-ta-speaker", text: seg.speaker }));
    // Segment classes: spans covering exactly this segment.
    for (const r of chips) {
      const chip = el("button", {
        className: "accord-rc-btn accord-ta-segchip",
        text: r.label,
        title: this.editable(r) ? `segment class ${r.label} (click to select)` : `${r.label} by ${r.annotator ?? "?"}`,
        attrs: { type: "button", "data-segment-label": r.label, "data-id": r.id },
      });
      chip.style.borderColor = this.classMap.get(r.label)?.color ?? "#808080";
      chip.addEventListener("click", () => this.select(r.id));
      parts.push(chip);
    }
    if (this.classes.length) {
      const pick = el("select", { attrs: { "data-segment-classify": seg.index, "aria-label": "Classify this segment" } });
      const none = el("option", { text: "+ class", attrs: { value: "" } });
      pick.append(none, ...this.classes.map((c) => el("option", { text: c.name, attrs: { value: c.name } })));
      pick.value = "";
      pick.addEventListener("change", () => {
        const name = pick.value;
        pick.value = "";
        if (name) void this.addSpan(seg.start, seg.end, name);
      });
      parts.push(pick);
    }
    return el("div", { className: "accord-ta-gutter" }, parts);
  }

  private renderDocBar(): void {
    const tags = [...this.state.records.values()].filter((r) => r.kind === "tag");
    if (this.docClasses.length === 0 && tags.length === 0) {
      this.docBar.hidden = true;
      return;
    }
    this.docBar.hidden = false;
    const nodes: Node[] = [el("span", { className: "accord-ta-doc-title", text: "Document:" })];
    for (const c of this.docClasses) {
      const mine = tags.find((t) => t.label === c.name && this.editable(t));
      const b = this.button(c.name, mine ? `remove class ${c.name}` : `classify the document as ${c.name}`, {
        "data-doc-label": c.name,
        "aria-pressed": String(!!mine),
      });
      b.classList.toggle("accord-rc-active", !!mine);
      b.addEventListener("click", () => {
        if (mine) void this.command("annotation.delete", { id: mine.id, revision: mine.revision });
        else void this.command("annotation.add", { item: this.item, stream: this.stream, label: c.name, kind: "tag", geometry: null, frame: null });
      });
      nodes.push(b);
    }
    for (const t of tags) {
      if (this.editable(t) || !this.showOthers) continue;
      nodes.push(el("span", { className: "accord-ta-doc-other", text: `${t.label} (by ${t.annotator ?? "?"})` }));
    }
    this.docBar.replaceChildren(...nodes);
  }

  private renderSide(): void {
    const rec = this.selectedId ? this.state.records.get(this.selectedId) : undefined;
    if (!rec) {
      const c = this.classMap.get(this.label);
      const nodes: Node[] = [
        el("h4", { text: "No selection" }),
        el("div", { className: "accord-rc-muted", text: "Select text to add a span of the current class; click a span to edit it." }),
      ];
      if (c) {
        nodes.push(el("h4", { text: `Class: ${c.name}` }));
        if (c.guidelines) nodes.push(el("div", { className: "accord-rc-guidelines", text: c.guidelines }));
      }
      this.panel.replaceChildren(...nodes);
      return;
    }
    renderPanel(
      this.panel,
      { record: rec, editable: this.editable(rec), classes: this.classes, label: this.label },
      {
        attribute: (name, value) => {
          const r = this.state.records.get(rec.id);
          if (!r) return;
          const attributes = { ...r.attributes };
          if (value === null) delete attributes[name];
          else attributes[name] = value;
          this.edits.submit(rec.id, { attributes });
        },
        relabel: (name) => this.edits.submit(rec.id, { label: name }),
        delete: () => this.deleteSelected(),
      },
    );
    if (rec.start !== null && rec.end !== null) {
      this.panel.insertBefore(
        el("div", { className: "accord-ta-quote", text: this.spanText(rec.id), attrs: { "data-field": "text" } }),
        this.panel.children[1] ?? null,
      );
      this.panel.append(el("div", { className: "accord-rc-meta", text: `chars ${rec.start}–${rec.end}` }));
      if (rec.kind === "text_span") {
        const relate = this.button("⇢ Relate…", "Relate to another span (r)", { "data-action": "relate-selected" });
        relate.addEventListener("click", () => this.startRelation());
        this.panel.append(relate);
      }
    }
  }

  /** Toggle hover/selection/relation classes without rebuilding the text. */
  private refreshHighlights(): void {
    for (const p of this.pieceEls) p.classList.remove("accord-ta-sel", "accord-ta-hover", "accord-ta-source");
    const mark = (id: string | null, cls: string): void => {
      if (!id) return;
      for (const p of this.spanEls.get(id) ?? []) p.classList.add(cls);
    };
    mark(this.selectedId, "accord-ta-sel");
    mark(this.relateFrom, "accord-ta-source");
    mark(this.hoverId, "accord-ta-hover");
    for (const id of this.link?.lit ?? []) mark(id, "accord-ta-hover"); // linked ends, any view's hover
    for (const id of this.linkHover) mark(id, "accord-ta-hover");
    // The other end of links from the hovered span lights up too.
    if (this.hoverId) {
      for (const l of this.state.links.values()) {
        if (l.source === this.hoverId) mark(l.target, "accord-ta-hover");
        if (l.target === this.hoverId) mark(l.source, "accord-ta-hover");
      }
    }
    const { id, entity } = this.busRef;
    if (id) mark(id, "accord-ta-hover");
    if (entity) for (const r of this.state.records.values()) if (r.entity === entity) mark(r.id, "accord-ta-hover");
    setAttr(this.root, "data-hover", this.hoverId);
  }

  // -- DOM points ↔ offsets ---------------------------------------------------------

  /** UTF-16 offset of a DOM boundary point inside the text, or null outside it. */
  private pointToOffset(node: Node, offset: number): number | null {
    if (node.nodeType === Node.TEXT_NODE) {
      const piece = node.parentElement;
      if (piece?.classList.contains("accord-ta-piece") && this.textBox.contains(piece)) {
        return Number(piece.dataset.a) + Math.min(offset, (node as Text).length);
      }
    }
    if (!this.textBox.contains(node) && node !== this.textBox) return null;
    // An element boundary (or a text node outside the pieces, e.g. in the gutter):
    // the first piece at or after the point starts there.
    const doc = this.root.ownerDocument;
    const point = doc.createRange();
    point.setStart(node, offset);
    point.collapse(true);
    let lo = 0;
    let hi = this.pieceEls.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      const p = this.pieceEls[mid] as HTMLSpanElement;
      // comparePoint: -1 when (p, 0) is before the point.
      if (point.comparePoint(p, 0) < 0) lo = mid + 1;
      else hi = mid;
    }
    const next = this.pieceEls[lo];
    if (next) return Number(next.dataset.a);
    return this.index.text.length;
  }

  /** The DOM point at UTF-16 offset `u` (at a piece's end when `end` and on an edge). */
  private domPoint(u: number, end: boolean): [Node, number] | null {
    for (const p of this.pieceEls) {
      const a = Number(p.dataset.a);
      const b = Number(p.dataset.b);
      const inside = end ? u > a && u <= b : u >= a && u < b;
      if (inside && p.firstChild) return [p.firstChild, u - a];
    }
    const last = this.pieceEls[this.pieceEls.length - 1];
    if (last?.firstChild && u === Number(last.dataset.b)) return [last.firstChild, (last.firstChild as Text).length];
    return null;
  }
}

function el_<K extends keyof HTMLElementTagNameMap>(tag: K, className: string): HTMLElementTagNameMap[K] {
  return el(tag, { className });
}
