/**
 * The tiers' DOM: a class bar, a selection panel and one lane per tier
 * (header "stream · tier" | lane area). Segments are absolutely positioned
 * elements at `view.timeToX(offset + rate * streamTime)`; only the visible
 * ones exist (TierIndex), re-laid out when the view, a stream clock or the
 * data changes. Gestures become Session commands in stream seconds.
 */

import { getBus } from "../../../runtime/bus.js";
import { LinkModeController } from "../../../runtime/linkmode.js";
import { ClientClosed } from "../../../runtime/protocol.js";
import { showError, type ErrorBanner } from "../../../runtime/errors.js";
import { el, labelChip, safeColour, setText } from "../../../runtime/text.js";
import type { SegmentClass, SegmentRecord, StreamClock, StreamInfo, TierContext, TiersPart } from "../contracts.js";
import { SegmentEdits, updatePayload, type SegmentEdit } from "./edits.js";
import {
  CLICK_SLOP_PX,
  addPayload,
  dragTimes,
  hitTest,
  segmentProblem,
  tierAttributes,
  type DragKind,
  type Placed,
} from "./gestures.js";
import { TIER_SHORTCUTS, tierKeyAction, type TierAction } from "./keys.js";
import {
  SegmentStore,
  TEXT_ATTRIBUTE,
  TierIndex,
  classesFor,
  groupTiers,
  isOwn,
  thinForPixels,
  type SegmentEvent,
  type Tier,
} from "./model.js";
import { LANE_HEIGHT, TIERS_CSS, TIER_HEADER_WIDTH } from "./style.js";
import { formatRange, toItem, toStream } from "./time.js";

interface Lane {
  tier: Tier;
  index: TierIndex;
  row: HTMLDivElement;
  header: HTMLDivElement;
  area: HTMLDivElement;
  els: Map<string, HTMLDivElement>;
  placed: Placed[];
}

interface Drag {
  lane: Lane;
  kind: DragKind;
  id: string | null;
  pointerId: number;
  fromX: number;
  toX: number;
  active: boolean;
  segment: { start: number; end: number } | null;
  ghost: HTMLDivElement | null;
  tip: HTMLDivElement;
}

/** Stats the browser tests read (`root.accordTiers()`). */
export interface TierStats {
  segments: number;
  rendered: number;
  tiers: string[];
  selected: string | null;
  currentClass: string | null;
  commands: { type: string; ok: boolean }[];
}

/** A stream's first time (stream s): the Player's `start` (a video's first frame) when it sends one, else 0. */
function streamStart(stream: StreamInfo | undefined): number {
  const start = (stream as { start?: unknown } | undefined)?.start;
  return typeof start === "number" && Number.isFinite(start) ? start : 0;
}

const now = (): number => (globalThis.performance ? performance.now() : Date.now());

export class TiersView implements TiersPart {
  readonly root: HTMLDivElement;
  private readonly alerts: HTMLDivElement;
  private readonly bar: HTMLDivElement;
  private readonly panel: HTMLDivElement;
  private readonly lanesBox: HTMLDivElement;
  private readonly playhead: HTMLDivElement;
  private readonly store: SegmentStore;
  private readonly streams = new Map<string, StreamInfo>();
  private readonly classMap = new Map<string, SegmentClass>();
  private readonly lanes = new Map<string, Lane>();
  private readonly tierOfId = new Map<string, string>();
  private readonly edits: SegmentEdits;
  private readonly unsubs: (() => void)[] = [];
  private readonly handled = new WeakSet<Event>();
  private readonly usedClocks = new Map<string, StreamClock>();
  private readonly commandLog: { type: string; ok: boolean }[] = [];
  private tiers: Tier[] = [];
  private loaded = false;
  private closed = false;
  private selected: string | null = null;
  private selectedTier: string | null = null;
  private currentClass: string | null = null;
  private drag: Drag | null = null;
  private dragPreview: { id: string; start: number; end: number } | null = null;
  private editor: { id: string; input: HTMLInputElement } | null = null;
  private menu: HTMLDivElement | null = null;
  private banner: ErrorBanner | null = null;
  private frame: number | null = null;
  private lastLayout = 0;
  /** Link mode across the item's widgets (runtime/linkmode.ts), when the Player gave a bus key. */
  private link: LinkModeController | null = null;

  constructor(
    private readonly host: HTMLElement,
    private readonly ctx: TierContext,
  ) {
    for (const s of ctx.streams) this.streams.set(s.name, s);
    for (const c of ctx.classes) this.classMap.set(c.name, c);
    this.store = new SegmentStore(ctx.item);
    this.edits = new SegmentEdits({
      revisionOf: (id) => this.store.byId.get(id)?.revision,
      send: (id, revision, edit) => this.sendUpdate(id, revision, edit),
      changed: () => this.schedule(),
    });
    this.root = el("div", { className: "accord-tiers", attrs: { tabindex: 0, "data-lm-suppress-shortcuts": "true" } });
    this.root.append(el("style", { text: TIERS_CSS }));
    this.alerts = el("div", { className: "accord-tiers-alerts" });
    this.bar = el("div", { className: "accord-tiers-bar" });
    this.panel = el("div", { className: "accord-tiers-panel" });
    this.lanesBox = el("div", { className: "accord-tiers-lanes" });
    this.playhead = el("div", { className: "accord-tiers-playhead" });
    this.lanesBox.append(this.playhead);
    this.root.append(this.alerts, this.bar, this.panel, this.lanesBox);
    (this.root as unknown as { accordTiers: () => TierStats }).accordTiers = () => this.stats();
    host.append(this.root);
    this.buildBar();
    this.renderPanel();

    this.root.addEventListener("keydown", (e) => {
      if (this.handleKey(e)) {
        e.preventDefault();
        e.stopPropagation();
        this.handled.add(e);
      }
    });
    this.root.addEventListener("pointerdown", (e) => {
      if (this.menu && !this.menu.contains(e.target as Node)) this.closeMenu();
    });
    this.unsubs.push(ctx.view.subscribe(() => this.schedule()));
    if (ctx.busKey) {
      // The entity panel's "go to": select the segment (the panel moves the playhead).
      const bus = getBus<{ reveal: { id?: unknown } | null }>(ctx.busKey);
      this.unsubs.push(
        bus.subscribe("reveal", (r) => {
          const id = typeof r?.id === "string" ? r.id : null;
          if (id && this.store.byId.has(id)) {
            this.select(id, false);
            const rec = this.store.byId.get(id) as SegmentRecord;
            this.reveal(toItem(this.clockOf(rec.stream), rec.start), toItem(this.clockOf(rec.stream), rec.end));
          }
        }),
      );
    }
    this.unsubs.push(ctx.clock.onStreamClock(() => this.schedule()));
    this.unsubs.push(
      ctx.clock.subscribe((state) => {
        this.placePlayhead(state.time);
        if (this.clocksMoved()) this.schedule();
      }),
    );
    // After the tiers' own keys (l loops), so only keys they leave reach link mode's L.
    if (ctx.busKey) this.mountLinkMode(ctx.busKey);
  }

  /** Link mode: L / "⇢ Link" from the selected segment; a click on a segment picks it; hover is published. */
  private mountLinkMode(busKey: string): void {
    const link = new LinkModeController({
      client: this.ctx.client,
      busKey,
      root: this.root,
      host: this.alerts,
      describe: (id) => {
        const rec = this.store.byId.get(id);
        if (!rec || !(this.ctx.showOthers || isOwn(rec, this.ctx.annotator))) return null;
        const speaker = typeof rec.attributes.speaker === "string" && rec.attributes.speaker ? ` (${rec.attributes.speaker})` : "";
        return { id, kind: "time_segment", stream: rec.stream, label: `${rec.label}${speaker} ${formatRange(...this.itemRange(rec))}` };
      },
      selected: () => this.selected,
      report: (err) => this.report(err),
      changed: () => this.schedule(),
    });
    this.link = link;
    const bus = getBus<{ hover: { id: string | null; entity: string | null } }>(busKey);
    const segmentAt = (e: Event): string | null =>
      (e.target as Element | null)?.closest?.<HTMLElement>("[data-segment-id]")?.dataset.segmentId ?? null;
    let hovered: string | null = null;
    const hover = (id: string | null): void => {
      if (id === hovered) return;
      hovered = id;
      bus.publish("hover", { id, entity: id ? (this.store.byId.get(id)?.entity ?? null) : null }, this);
    };
    const onDown = (e: PointerEvent): void => {
      const id = segmentAt(e);
      if (e.button !== 0 || !id || !link.active) return;
      if (link.pick(id)) {
        e.preventDefault();
        e.stopPropagation();
      }
    };
    const onOver = (e: PointerEvent): void => hover(segmentAt(e));
    const onLeave = (): void => hover(null);
    this.lanesBox.addEventListener("pointerdown", onDown, true);
    this.lanesBox.addEventListener("pointerover", onOver);
    this.lanesBox.addEventListener("pointerleave", onLeave);
    this.unsubs.push(() => {
      this.lanesBox.removeEventListener("pointerdown", onDown, true);
      this.lanesBox.removeEventListener("pointerover", onOver);
      this.lanesBox.removeEventListener("pointerleave", onLeave);
    });
    const button = el("button", {
      text: "⇢ Link",
      title: "Link the selected segment to an annotation in any view of this item (L)",
      attrs: { type: "button", "data-action": "link" },
    });
    button.addEventListener("click", () => {
      link.start();
      this.root.focus({ preventScroll: true });
    });
    this.bar.append(button);
  }

  /** A segment's [start, end] in item seconds (its stream's current clock). */
  private itemRange(rec: SegmentRecord): [number, number] {
    const clock = this.clockOf(rec.stream);
    return [toItem(clock, rec.start), toItem(clock, rec.end)];
  }

  // -- loading and events -----------------------------------------------------------------

  async load(): Promise<void> {
    try {
      const reply = await this.ctx.client.request<{ segments?: unknown }>("segments.query", {});
      if (this.closed) return;
      this.store.load(reply.result?.segments);
    } catch (err) {
      this.report(err);
    }
    this.loaded = true;
    this.rebuild();
  }

  onEvents(events: SegmentEvent[]): void {
    // Before the query reply, events are already part of what it returns.
    if (!this.loaded || this.closed) return;
    if (this.store.apply(events)) {
      this.edits.recordsChanged();
      if (this.selected && !this.store.byId.has(this.selected)) this.selected = null;
      if (this.editor && !this.store.byId.has(this.editor.id)) this.closeEditor();
      this.rebuild();
    }
  }

  // -- tiers and layout ---------------------------------------------------------------------

  private visibleRecords(): SegmentRecord[] {
    const out: SegmentRecord[] = [];
    for (const r of this.store.byId.values()) {
      if (this.ctx.showOthers || isOwn(r, this.ctx.annotator)) out.push(r);
    }
    return out;
  }

  /** Regroup tiers after a data change and sync the lane rows. */
  private rebuild(): void {
    this.tiers = groupTiers(this.visibleRecords(), this.ctx.streams, this.ctx.classes);
    this.tierOfId.clear();
    const keep = new Set<string>();
    let prev: HTMLElement | null = null;
    for (const tier of this.tiers) {
      keep.add(tier.key);
      for (const s of tier.segments) this.tierOfId.set(s.id, tier.key);
      let lane = this.lanes.get(tier.key);
      if (!lane) {
        lane = this.makeLane(tier);
        this.lanes.set(tier.key, lane);
      } else {
        lane.tier = tier;
      }
      lane.index = new TierIndex(tier.segments);
      setText(lane.header, `${tier.stream} · ${tier.name}`);
      lane.header.title = `${tier.stream} · ${tier.kind === "speaker" ? "speaker" : "class"} ${tier.name} · ${tier.segments.length} segment(s)`;
      // keep DOM order = tier order
      const want: Element | null = prev ? prev.nextElementSibling : this.lanesBox.firstElementChild;
      if (want !== lane.row) this.lanesBox.insertBefore(lane.row, want);
      prev = lane.row;
    }
    for (const [key, lane] of this.lanes) {
      if (!keep.has(key)) {
        lane.row.remove();
        this.lanes.delete(key);
      }
    }
    if (this.selected && !this.tierOfId.has(this.selected)) this.selected = null;
    if (this.selected) this.selectedTier = this.tierOfId.get(this.selected) ?? this.selectedTier;
    this.layout();
  }

  private makeLane(tier: Tier): Lane {
    const header = el("div", { className: "accord-tier-header" });
    const area = el("div", { className: "accord-tier-area" });
    const row = el("div", { className: "accord-tier" }, [header, area]);
    row.dataset.tier = tier.key;
    row.dataset.stream = tier.stream;
    const lane: Lane = { tier, index: new TierIndex([]), row, header, area, els: new Map(), placed: [] };
    area.addEventListener("pointerdown", (e) => this.onPointerDown(lane, e));
    area.addEventListener("pointermove", (e) => this.onPointerMove(lane, e));
    area.addEventListener("pointerup", (e) => this.onPointerUp(lane, e));
    area.addEventListener("pointercancel", () => this.cancelDrag());
    area.addEventListener("dblclick", (e) => {
      const hit = hitTest(this.laneX(lane, e), lane.placed);
      if (hit) {
        this.select(hit.id, false);
        this.editText();
      }
    });
    area.addEventListener("contextmenu", (e) => {
      const hit = hitTest(this.laneX(lane, e), lane.placed);
      if (!hit) return;
      e.preventDefault();
      this.select(hit.id, false);
      this.openMenu(lane, hit.id, this.laneX(lane, e));
    });
    return lane;
  }

  private schedule(): void {
    if (this.closed || this.frame !== null) return;
    const raf = globalThis.requestAnimationFrame;
    if (typeof raf === "function") this.frame = raf(() => this.runFrame());
    else this.frame = setTimeout(() => this.runFrame(), 0) as unknown as number;
  }

  private runFrame(): void {
    this.frame = null;
    this.layout();
  }

  /** Place the visible segments of every lane (and the playhead). */
  layout(): void {
    if (this.closed) return;
    const t0 = now();
    const view = this.ctx.view;
    const width = Math.max(0, view.width);
    const from = view.start;
    const to = view.start + view.secondsPerPixel * width;
    this.root.dataset.viewStart = String(view.start);
    this.root.dataset.viewSpp = String(view.secondsPerPixel);
    this.root.dataset.headerWidth = String(TIER_HEADER_WIDTH);
    for (const lane of this.lanes.values()) {
      lane.area.style.width = `${width}px`;
      const clock = this.clockOf(lane.tier.stream);
      const a = toStream(clock, from);
      const b = toStream(clock, to);
      const segs = lane.index.overlapping(Math.min(a, b), Math.max(a, b));
      // a segment being dragged or edited is drawn where the edit puts it
      const times = segs.map((s) => this.timesOf(s));
      const xs = times.map(([s, e]) => [view.timeToX(toItem(clock, s)), view.timeToX(toItem(clock, e))] as [number, number]);
      let shown = segs;
      let shownXs = xs;
      if (segs.length > width) {
        const idx = thinForPixels(
          segs.map((_, i) => i),
          xs,
          (i) => (segs[i] as SegmentRecord).id === this.selected,
        );
        shown = idx.map((i) => segs[i] as SegmentRecord);
        shownXs = idx.map((i) => xs[i] as [number, number]);
      }
      const dragged = this.dragPreview && !shown.some((s) => s.id === this.dragPreview?.id) ? this.store.byId.get(this.dragPreview.id) : undefined;
      if (dragged && this.tierOfId.get(dragged.id) === lane.tier.key) {
        const [s, e] = this.timesOf(dragged);
        shown = [...shown, dragged];
        shownXs = [...shownXs, [view.timeToX(toItem(clock, s)), view.timeToX(toItem(clock, e))]];
      }
      const seen = new Set<string>();
      lane.placed = [];
      shown.forEach((rec, i) => {
        const [x0, x1] = shownXs[i] as [number, number];
        seen.add(rec.id);
        let node = lane.els.get(rec.id);
        if (!node) {
          node = el("div", { className: "accord-seg" }, [el("span", { className: "accord-seg-text" })]);
          lane.els.set(rec.id, node);
          lane.area.append(node);
        }
        this.paintSegment(node, rec, clock, x0, x1);
        lane.placed.push({ id: rec.id, x0, x1, editable: isOwn(rec, this.ctx.annotator) });
      });
      for (const [id, node] of lane.els) {
        if (!seen.has(id)) {
          node.remove();
          lane.els.delete(id);
        }
      }
      lane.row.dataset.selectedTier = String(lane.tier.key === this.selectedTier);
    }
    this.placePlayhead(this.ctx.clock.state.time);
    this.renderPanel();
    this.lastLayout = now() - t0;
  }

  private timesOf(rec: SegmentRecord): [number, number] {
    if (this.dragPreview && this.dragPreview.id === rec.id) return [this.dragPreview.start, this.dragPreview.end];
    const p = this.edits.preview(rec.id);
    return p ? [p.start, p.end] : [rec.start, rec.end];
  }

  private paintSegment(node: HTMLDivElement, rec: SegmentRecord, clock: StreamClock, x0: number, x1: number): void {
    const [s, e] = this.timesOf(rec);
    const itemStart = toItem(clock, s);
    const itemEnd = toItem(clock, e);
    const colour = safeColour(this.classMap.get(rec.label)?.color);
    const own = isOwn(rec, this.ctx.annotator);
    node.style.left = `${x0}px`;
    node.style.width = `${Math.max(1, x1 - x0)}px`;
    node.style.background = `${colour}40`;
    node.style.borderColor = colour;
    node.dataset.segmentId = rec.id;
    node.dataset.itemStart = String(itemStart);
    node.dataset.itemEnd = String(itemEnd);
    node.dataset.stream = rec.stream;
    node.dataset.label = rec.label;
    node.dataset.selected = String(rec.id === this.selected);
    node.dataset.readonly = String(!own);
    node.dataset.pending = String(this.edits.busy(rec.id));
    const linked = this.link?.lit.includes(rec.id) ?? false; // the other end of a hovered link
    node.dataset.linked = String(linked);
    node.style.outline = linked ? "2px solid #1565c0" : "";
    const speaker = rec.attributes.speaker;
    const who = typeof speaker === "string" && speaker ? ` · ${speaker}` : "";
    const text = typeof rec.text === "string" && rec.text !== "" ? rec.text : rec.label;
    const span = node.firstElementChild as HTMLElement;
    if (span.textContent !== text) setText(span, text);
    node.title = `${rec.label}${who} · ${formatRange(itemStart, itemEnd)}${own ? "" : ` · ${rec.annotator} (read-only)`}${
      typeof rec.text === "string" && rec.text ? `\n${rec.text}` : ""
    }`;
  }

  private placePlayhead(time: number): void {
    const x = this.ctx.view.timeToX(time);
    const inside = x >= 0 && x <= this.ctx.view.width;
    this.playhead.style.display = inside ? "" : "none";
    this.playhead.style.left = `${TIER_HEADER_WIDTH + x}px`;
  }

  private clockOf(stream: string): StreamClock {
    const c = this.ctx.clock.streamClock(stream);
    this.usedClocks.set(stream, { offset: c.offset, rate: c.rate });
    return c;
  }

  /** True when a stream clock differs from the one the last layout used (a committed change). */
  private clocksMoved(): boolean {
    for (const [stream, used] of this.usedClocks) {
      const c = this.ctx.clock.streamClock(stream);
      if (c.offset !== used.offset || c.rate !== used.rate) return true;
    }
    return false;
  }

  // -- selection panel and class bar --------------------------------------------------------

  private buildBar(): void {
    this.bar.replaceChildren();
    const auto = el("button", {
      text: "lane's class",
      title: "New segments take the class of the lane they are drawn on",
      attrs: { type: "button", "data-class": "" },
    });
    auto.addEventListener("click", () => this.chooseClass(null));
    this.bar.append(auto);
    for (const c of this.ctx.classes) {
      const b = el("button", { attrs: { type: "button", "data-class": c.name } }, [labelChip(c.name, c.color)]);
      if (c.hotkey) b.append(el("span", { className: "accord-tiers-hotkey", text: c.hotkey }));
      b.title = `${c.name}${c.hotkey ? ` (key ${c.hotkey})` : ""}: class for new segments; relabels the selected one`;
      b.addEventListener("click", () => this.chooseClass(c.name));
      this.bar.append(b);
    }
    const help = el("button", { text: "?", title: TIER_SHORTCUTS.map((r) => `${r.keys}: ${r.what}`).join("\n"), attrs: { type: "button" } });
    help.addEventListener("click", () => this.root.focus());
    this.bar.append(help);
    this.syncBar();
  }

  private syncBar(): void {
    for (const b of this.bar.querySelectorAll<HTMLButtonElement>("button[data-class]")) {
      const name = b.dataset.class === "" ? null : (b.dataset.class ?? null);
      b.setAttribute("aria-pressed", String(name === this.currentClass));
    }
  }

  private renderPanel(): void {
    const rec = this.selected ? this.store.byId.get(this.selected) : undefined;
    const kids: (Node | string)[] = [];
    if (!rec) {
      const n = this.store.byId.size;
      kids.push(el("span", { className: "accord-tiers-panel-info", text: `${n} segment(s) · drag on a lane to draw · ? for keys` }));
    } else {
      const clock = this.clockOf(rec.stream);
      const [s, e] = this.timesOf(rec);
      const own = isOwn(rec, this.ctx.annotator);
      const speaker = typeof rec.attributes.speaker === "string" ? ` · ${rec.attributes.speaker}` : "";
      kids.push(
        el("span", {
          className: "accord-tiers-panel-info",
          text: `${rec.label}${speaker} · ${formatRange(toItem(clock, s), toItem(clock, e))} (stream ${rec.stream}: ${formatRange(s, e)})${own ? "" : ` · ${rec.annotator}, read-only`}`,
        }),
      );
      const button = (action: string, text: string, title: string, enabled = true): HTMLButtonElement => {
        const b = el("button", { text, title, attrs: { type: "button", "data-action": action } });
        b.disabled = !enabled;
        b.addEventListener("click", () => this.perform(this.actionOf(action)));
        return b;
      };
      const loop = this.ctx.clock.state.loop;
      const looping = loop !== null && Math.abs(loop[0] - toItem(clock, s)) < 1e-9 && Math.abs(loop[1] - toItem(clock, e)) < 1e-9;
      const loopBtn = button("loop", looping ? "stop loop" : "loop", "Loop this segment (l)");
      loopBtn.setAttribute("aria-pressed", String(looping));
      kids.push(
        button("jump", "jump", "Seek to the segment's start (j)"),
        loopBtn,
        button("edit-text", "edit text", "Edit the cue text (Enter, double-click)", own && this.hasTextAttribute(rec.label)),
        button("delete", "delete", "Delete the segment (Delete)", own),
      );
    }
    const key = kids.map((k) => (typeof k === "string" ? k : k.textContent)).join("|");
    if (this.panel.dataset.key === key) return;
    this.panel.dataset.key = key;
    this.panel.replaceChildren(...kids);
  }

  private actionOf(name: string): TierAction {
    switch (name) {
      case "loop":
        return { type: "loop" };
      case "jump":
        return { type: "jump" };
      case "edit-text":
        return { type: "edit-text" };
      default:
        return { type: "delete" };
    }
  }

  private hasTextAttribute(label: string): boolean {
    return (this.classMap.get(label)?.attributes ?? []).some((a) => a.name === TEXT_ATTRIBUTE);
  }

  private chooseClass(name: string | null): void {
    this.currentClass = name;
    this.syncBar();
    if (name !== null) this.relabelSelected(name);
    this.root.focus({ preventScroll: true });
  }

  private relabelSelected(name: string): void {
    const rec = this.selected ? this.store.byId.get(this.selected) : undefined;
    if (!rec || rec.label === name || !isOwn(rec, this.ctx.annotator)) return;
    const modality = this.streams.get(rec.stream)?.modality ?? "";
    if (!classesFor(this.ctx.classes, modality).some((c) => c.name === name)) {
      this.report(new Error(`class "${name}" is not allowed as a time segment on ${rec.stream} (${modality})`));
      return;
    }
    this.edits.submit(rec.id, { label: name });
  }

  // -- selection -----------------------------------------------------------------------------

  select(id: string | null, seek: boolean): void {
    this.selected = id;
    if (id) this.selectedTier = this.tierOfId.get(id) ?? this.selectedTier;
    if (id && seek) {
      const rec = this.store.byId.get(id);
      if (rec) {
        const t = toItem(this.clockOf(rec.stream), rec.start);
        this.ctx.clock.seek(t, this);
        this.reveal(t, toItem(this.clockOf(rec.stream), rec.end));
      }
    }
    this.layout();
  }

  /** Scroll the view so `[a, b]` (item s) is visible when it is not. */
  private reveal(a: number, b: number): void {
    const v = this.ctx.view;
    const end = v.start + v.secondsPerPixel * v.width;
    if (a >= v.start && b <= end) return;
    const span = end - v.start;
    v.scrollTo(Math.max(0, a - span * 0.1));
  }

  // -- pointer gestures ---------------------------------------------------------------------

  private laneX(lane: Lane, e: MouseEvent): number {
    return e.clientX - lane.area.getBoundingClientRect().left;
  }

  private onPointerDown(lane: Lane, e: PointerEvent): void {
    if (e.button !== 0) return;
    this.root.focus({ preventScroll: true });
    if (this.editor) this.commitEditor();
    const x = this.laneX(lane, e);
    const hit = hitTest(x, lane.placed);
    const tip = el("div", { className: "accord-tiers-drag-label" });
    let drag: Drag;
    if (hit) {
      const rec = this.store.byId.get(hit.id);
      this.selectedTier = lane.tier.key;
      this.select(hit.id, false);
      if (!rec || !isOwn(rec, this.ctx.annotator)) return;
      const [s, en] = this.timesOf(rec);
      drag = { lane, kind: hit.part === "body" ? "move" : hit.part, id: hit.id, pointerId: e.pointerId, fromX: x, toX: x, active: false, segment: { start: s, end: en }, ghost: null, tip };
    } else {
      this.selectedTier = lane.tier.key;
      drag = { lane, kind: "draw", id: null, pointerId: e.pointerId, fromX: x, toX: x, active: false, segment: null, ghost: null, tip };
    }
    this.drag = drag;
    try {
      lane.area.setPointerCapture(e.pointerId);
    } catch {
      /* synthetic events in tests have no active pointer */
    }
    e.preventDefault();
  }

  private onPointerMove(lane: Lane, e: PointerEvent): void {
    const d = this.drag;
    const x = this.laneX(lane, e);
    if (!d || d.lane !== lane || d.pointerId !== e.pointerId) {
      const hit = hitTest(x, lane.placed);
      lane.area.style.cursor = hit && hit.part !== "body" ? "ew-resize" : hit ? "grab" : "crosshair";
      return;
    }
    d.toX = x;
    if (!d.active && Math.abs(d.toX - d.fromX) < CLICK_SLOP_PX) return;
    d.active = true;
    const times = this.dragResult(d);
    const clock = this.clockOf(lane.tier.stream);
    const view = this.ctx.view;
    const x0 = view.timeToX(toItem(clock, times.start));
    const x1 = view.timeToX(toItem(clock, times.end));
    if (d.kind === "draw") {
      if (!d.ghost) {
        d.ghost = el("div", { className: "accord-seg-ghost" });
        lane.area.append(d.ghost);
      }
      d.ghost.style.left = `${x0}px`;
      d.ghost.style.width = `${Math.max(1, x1 - x0)}px`;
    } else if (d.id) {
      this.dragPreview = { id: d.id, start: times.start, end: times.end };
      this.layout();
    }
    setText(d.tip, formatRange(toItem(clock, times.start), toItem(clock, times.end)));
    d.tip.style.left = `${Math.max(0, x0)}px`;
    if (!d.tip.isConnected) lane.area.append(d.tip);
  }

  private dragResult(d: Drag): { start: number; end: number } {
    const stream = this.streams.get(d.lane.tier.stream);
    return dragTimes({
      kind: d.kind,
      clock: this.clockOf(d.lane.tier.stream),
      view: this.ctx.view,
      duration: stream?.duration ?? null,
      min: streamStart(stream),
      fromX: d.fromX,
      toX: d.toX,
      ...(d.segment ? { segment: d.segment } : {}),
    });
  }

  private onPointerUp(lane: Lane, e: PointerEvent): void {
    const d = this.drag;
    if (!d || d.lane !== lane || d.pointerId !== e.pointerId) return;
    d.toX = this.laneX(lane, e);
    if (!d.active && Math.abs(d.toX - d.fromX) >= CLICK_SLOP_PX) d.active = true;
    this.endDrag();
    if (!d.active) {
      if (d.kind === "draw") {
        // a click on empty lane: deselect and seek there
        this.selected = null;
        this.ctx.clock.seek(this.ctx.view.xToTime(d.fromX), this);
        this.layout();
      }
      return;
    }
    const times = this.dragResult(d);
    const stream = this.streams.get(lane.tier.stream);
    const problem = segmentProblem(times.start, times.end, stream?.duration ?? null, streamStart(stream));
    if (problem) {
      this.dragPreview = null;
      this.layout();
      this.report(new RangeError(problem));
      return;
    }
    if (d.kind === "draw") {
      void this.addSegment(lane.tier, times);
    } else if (d.id) {
      const rec = this.store.byId.get(d.id);
      this.dragPreview = null;
      if (rec && (rec.start !== times.start || rec.end !== times.end)) this.edits.submit(d.id, times);
      this.layout();
    }
  }

  private endDrag(): void {
    const d = this.drag;
    if (!d) return;
    this.drag = null;
    d.ghost?.remove();
    d.tip.remove();
    try {
      d.lane.area.releasePointerCapture(d.pointerId);
    } catch {
      /* not captured */
    }
  }

  private cancelDrag(): void {
    if (!this.drag) return;
    this.endDrag();
    this.dragPreview = null;
    this.layout();
  }

  // -- commands -----------------------------------------------------------------------------

  private report(err: unknown): void {
    if (this.closed || err instanceof ClientClosed) return;
    if (this.ctx.onError) {
      this.ctx.onError(err);
      return;
    }
    this.banner?.dismiss();
    this.banner = showError(this.alerts, err);
  }

  private async command(type: string, payload: Record<string, unknown>): Promise<Record<string, unknown> | null> {
    const log = this.commandLog;
    if (log.length > 200) log.splice(0, log.length - 200);
    try {
      const reply = await this.ctx.client.request<Record<string, unknown>>(type, payload);
      log.push({ type, ok: true });
      return reply.result ?? {};
    } catch (err) {
      log.push({ type, ok: false });
      this.report(err);
      return null;
    }
  }

  private async sendUpdate(id: string, revision: number, edit: SegmentEdit): Promise<boolean> {
    return (await this.command("annotation.update", updatePayload(id, revision, edit))) !== null;
  }

  private labelFor(tier: Tier): string {
    const modality = this.streams.get(tier.stream)?.modality ?? "";
    const chosen = this.currentClass;
    if (chosen !== null && classesFor(this.ctx.classes, modality).some((c) => c.name === chosen)) return chosen;
    return tier.label;
  }

  private async addSegment(tier: Tier, times: { start: number; end: number }): Promise<void> {
    const label = this.labelFor(tier);
    const attrs = tierAttributes(tier, this.classMap.get(label)?.attributes ?? []);
    await this.command("annotation.add", addPayload(this.ctx.item, tier.stream, label, times, attrs));
  }

  private async deleteSelected(): Promise<void> {
    const rec = this.selected ? this.store.byId.get(this.selected) : undefined;
    if (!rec || !isOwn(rec, this.ctx.annotator)) return;
    this.selected = null;
    this.layout();
    await this.command("annotation.delete", { id: rec.id, revision: rec.revision });
  }

  // -- cue text -----------------------------------------------------------------------------

  private editText(): void {
    const rec = this.selected ? this.store.byId.get(this.selected) : undefined;
    if (!rec) return;
    if (!isOwn(rec, this.ctx.annotator)) {
      this.report(new Error(`segment ${rec.id} is ${rec.annotator}'s (read-only)`));
      return;
    }
    if (!this.hasTextAttribute(rec.label)) {
      this.report(new Error(`class "${rec.label}" has no "${TEXT_ATTRIBUTE}" attribute to hold a cue's text`));
      return;
    }
    const lane = this.lanes.get(this.tierOfId.get(rec.id) ?? "");
    if (!lane) return;
    this.closeEditor();
    const placed = lane.placed.find((p) => p.id === rec.id);
    const input = el("input", { className: "accord-tiers-editor", attrs: { type: "text", "aria-label": "cue text" } });
    input.value = typeof rec.text === "string" ? rec.text : "";
    input.style.left = `${Math.max(0, Math.min(placed?.x0 ?? 0, this.ctx.view.width - 180))}px`;
    input.style.width = `${Math.max(180, (placed?.x1 ?? 0) - (placed?.x0 ?? 0))}px`;
    input.addEventListener("keydown", (e) => {
      e.stopPropagation();
      this.handled.add(e);
      if (e.key === "Enter") {
        e.preventDefault();
        this.commitEditor();
        this.root.focus({ preventScroll: true });
      } else if (e.key === "Escape") {
        e.preventDefault();
        this.closeEditor();
        this.root.focus({ preventScroll: true });
      }
    });
    input.addEventListener("pointerdown", (e) => e.stopPropagation());
    input.addEventListener("blur", () => this.commitEditor());
    lane.area.append(input);
    this.editor = { id: rec.id, input };
    input.focus();
    input.select();
  }

  private commitEditor(): void {
    const ed = this.editor;
    if (!ed) return;
    this.editor = null;
    const value = ed.input.value;
    ed.input.remove();
    const rec = this.store.byId.get(ed.id);
    if (!rec || rec.text === value) return;
    this.edits.submit(rec.id, { attributes: { ...rec.attributes, [TEXT_ATTRIBUTE]: value } });
  }

  private closeEditor(): void {
    const ed = this.editor;
    if (!ed) return;
    this.editor = null;
    ed.input.remove();
  }

  // -- class menu ---------------------------------------------------------------------------

  private openMenu(lane: Lane, id: string, x: number): void {
    this.closeMenu();
    const rec = this.store.byId.get(id);
    if (!rec || !isOwn(rec, this.ctx.annotator)) return;
    const modality = this.streams.get(rec.stream)?.modality ?? "";
    const menu = el("div", { className: "accord-tiers-menu", attrs: { role: "menu" } });
    for (const c of classesFor(this.ctx.classes, modality)) {
      const b = el("button", { attrs: { type: "button", role: "menuitem", "data-class": c.name } }, [labelChip(c.name, c.color)]);
      b.addEventListener("click", () => {
        this.closeMenu();
        if (c.name !== rec.label) this.edits.submit(rec.id, { label: c.name });
        this.root.focus({ preventScroll: true });
      });
      menu.append(b);
    }
    menu.style.left = `${TIER_HEADER_WIDTH + Math.max(0, x)}px`;
    menu.style.top = `${lane.row.offsetTop + LANE_HEIGHT}px`;
    this.lanesBox.append(menu);
    this.menu = menu;
  }

  private closeMenu(): void {
    this.menu?.remove();
    this.menu = null;
  }

  // -- keys ---------------------------------------------------------------------------------

  onKey(e: KeyboardEvent): boolean {
    if (this.handled.has(e)) return true;
    const used = this.handleKey(e);
    if (used) this.handled.add(e);
    return used;
  }

  private handleKey(e: KeyboardEvent): boolean {
    if (this.closed || this.editor) return false;
    const target = e.target as HTMLElement | null;
    if (target && (target.tagName === "INPUT" || target.tagName === "TEXTAREA")) return false;
    const action = tierKeyAction(e, this.ctx.classes, this.selected !== null);
    if (!action) return false;
    if (action.type === "step" && !this.canStep()) return false;
    this.perform(action);
    return true;
  }

  private canStep(): boolean {
    const key = this.selectedTier ?? (this.selected ? this.tierOfId.get(this.selected) : undefined);
    return key !== undefined && (this.lanes.get(key)?.tier.segments.length ?? 0) > 0;
  }

  private perform(a: TierAction): void {
    const rec = this.selected ? this.store.byId.get(this.selected) : undefined;
    switch (a.type) {
      case "undo":
      case "redo":
        void this.command(a.type, {});
        break;
      case "label":
        this.chooseClass(a.name);
        break;
      case "delete":
        void this.deleteSelected();
        break;
      case "edit-text":
        this.editText();
        break;
      case "cancel":
        this.closeMenu();
        this.select(null, false);
        break;
      case "step": {
        const lane = this.lanes.get(this.selectedTier ?? "");
        if (!lane) break;
        const clock = this.clockOf(lane.tier.stream);
        const t = toStream(clock, this.ctx.clock.state.time);
        const inTier = this.selected !== null && this.tierOfId.get(this.selected) === lane.tier.key;
        const next = lane.index.neighbour(inTier ? this.selected : null, t, a.dir);
        if (next) this.select(next.id, true);
        break;
      }
      case "loop": {
        if (!rec) break;
        const clock = this.clockOf(rec.stream);
        const range: [number, number] = [toItem(clock, rec.start), toItem(clock, rec.end)];
        const loop = this.ctx.clock.state.loop;
        const same = loop !== null && Math.abs(loop[0] - range[0]) < 1e-9 && Math.abs(loop[1] - range[1]) < 1e-9;
        this.ctx.clock.setLoop(same ? null : range, this);
        if (!same) this.ctx.clock.seek(range[0], this);
        this.renderPanel();
        break;
      }
      case "jump":
        if (rec) this.select(rec.id, true);
        break;
    }
  }

  // -- stats and teardown -------------------------------------------------------------------

  stats(): TierStats {
    let rendered = 0;
    for (const lane of this.lanes.values()) rendered += lane.els.size;
    return {
      segments: this.store.byId.size,
      rendered,
      tiers: this.tiers.map((t) => t.key),
      selected: this.selected,
      currentClass: this.currentClass,
      commands: [...this.commandLog],
    };
  }

  /** Milliseconds the last layout took (for benchmarks). */
  get layoutMs(): number {
    return this.lastLayout;
  }

  destroy(): void {
    if (this.closed) return;
    this.closed = true;
    if (this.frame !== null) {
      const caf = globalThis.cancelAnimationFrame;
      if (typeof caf === "function") caf(this.frame);
      clearTimeout(this.frame as unknown as ReturnType<typeof setTimeout>);
      this.frame = null;
    }
    for (const off of this.unsubs.splice(0)) off();
    this.link?.destroy();
    this.edits.close();
    this.root.remove();
  }
}
