/**
 * One EntityPanel view: a list of the item's entities, each expandable to
 * its members; Merge / Split / rename / delete / undo / redo as Session
 * commands; hover and `reveal` on the item's in-page bus.
 *
 * Data flow: `entities.query` loads a snapshot; the kernel pushes a fresh
 * snapshot (`{type: "entities", entities}`) after every command touching
 * the item's entities, from any view or from Python. The list is rebuilt
 * from the snapshot (entities are few); hover only toggles classes.
 */

import { getBus, type Bus } from "../../runtime/bus.js";
import { getSharedClock } from "../../runtime/clock.js";
import { showError, type ErrorBanner } from "../../runtime/errors.js";
import { ClientClosed, CommandClient, type MessageModel } from "../../runtime/protocol.js";
import { el, safeColour, setAttr, setText } from "../../runtime/text.js";
import {
  entityTitle,
  formatSpan,
  memberIndex,
  mergeIds,
  parseSnapshot,
  refOf,
  revealOf,
  splitPayload,
  splitProblem,
  whereOf,
  type BusRef,
  type EntityRow,
  type Member,
  type Reveal,
} from "./model.js";
import { injectStyle } from "./style.js";

/** The parts of an anywidget model the view uses. */
export interface WidgetModel extends MessageModel {
  get(key: string): unknown;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  on(eventName: string, callback: (...args: any[]) => void): void;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  off(eventName?: string | null, callback?: ((...args: any[]) => void) | null): void;
}

type Topics = { hover: BusRef | string | null; select: BusRef | string | null; reveal: Reveal };

function str(v: unknown): string {
  return typeof v === "string" ? v : "";
}

export class EntityPanelView {
  private readonly abort = new AbortController();
  private readonly client: CommandClient;
  private readonly cleanups: (() => void)[] = [];
  private readonly busOff: (() => void)[] = [];
  private readonly me = Symbol("entity-panel-view");
  private closed = false;

  private rows: EntityRow[] = [];
  private colours = new Map<string, string>();
  private ready = false;
  private loadGen = 0;
  private bus: Bus<Topics> | null = null;
  private banner: ErrorBanner | null = null;

  /** Entities ticked, in the order they were ticked (Merge keeps the first). */
  private tickedEntities: string[] = [];
  private tickedMembers = new Set<string>();
  private expanded = new Set<string>();
  private renaming: string | null = null;
  private hover: BusRef = { id: null, entity: null };
  private busRef: BusRef = { id: null, entity: null };

  private readonly alerts: HTMLDivElement;
  private readonly mergeButton: HTMLButtonElement;
  private readonly splitButton: HTMLButtonElement;
  private readonly status: HTMLSpanElement;
  private readonly list: HTMLDivElement;

  constructor(
    private readonly model: WidgetModel,
    private readonly root: HTMLElement,
  ) {
    injectStyle(root.ownerDocument);
    this.client = new CommandClient(model, { signal: this.abort.signal });
    root.classList.add("accord-entity-panel", "accord-ep-root");
    root.setAttribute("data-lm-suppress-shortcuts", "true");
    this.alerts = el("div", { className: "accord-ep-alerts" });
    this.mergeButton = this.button("Merge", "Merge the ticked entities into the first one ticked", "merge");
    this.splitButton = this.button("Split", "Move the ticked members into a new entity", "split");
    const undo = this.button("↶", "Undo (Ctrl+Z)", "undo");
    const redo = this.button("↷", "Redo (Ctrl+Shift+Z, Ctrl+Y)", "redo");
    const expandAll = this.button("Expand all", "Show or hide every entity's members", "expand-all");
    this.mergeButton.addEventListener("click", () => void this.merge());
    this.splitButton.addEventListener("click", () => void this.split());
    undo.addEventListener("click", () => void this.command("undo", {}));
    redo.addEventListener("click", () => void this.command("redo", {}));
    expandAll.addEventListener("click", () => {
      const all = this.rows.every((e) => this.expanded.has(e.id));
      this.expanded = all ? new Set() : new Set(this.rows.map((e) => e.id));
      this.render();
    });
    this.status = el("span", { className: "accord-ep-status", attrs: { "aria-live": "polite" } });
    this.list = el("div", { className: "accord-ep-list", attrs: { role: "list" } });
    root.replaceChildren(
      this.alerts,
      el("div", { className: "accord-ep-toolbar" }, [this.mergeButton, this.splitButton, undo, redo, expandAll, this.status]),
      this.list,
    );
    this.readTraits();
    this.wire();
    this.subscribeBus();
    this.load();
  }

  destroy(): void {
    this.closed = true;
    this.abort.abort();
    for (const off of this.cleanups.splice(0)) off();
    for (const off of this.busOff.splice(0)) off();
    for (const key of ["ready", "entities", "hover"]) delete this.root.dataset[key];
    this.root.replaceChildren();
  }

  // -- setup ---------------------------------------------------------------------------

  private button(text: string, title: string, action: string): HTMLButtonElement {
    return el("button", { className: "accord-ep-btn", text, title, attrs: { type: "button", "data-action": action } });
  }

  private readTraits(): void {
    const classes = this.model.get("classes");
    this.colours = new Map();
    if (Array.isArray(classes)) {
      for (const c of classes) {
        const o = c as Record<string, unknown>;
        if (typeof o?.name === "string") this.colours.set(o.name, safeColour(o.color));
      }
    }
    const h = Number(this.model.get("height"));
    this.list.style.maxHeight = `${Number.isFinite(h) && h >= 80 ? h : 360}px`;
  }

  private wire(): void {
    const on = (name: string, fn: () => void): void => {
      this.model.on(`change:${name}`, fn);
      this.cleanups.push(() => this.model.off(`change:${name}`, fn));
    };
    on("classes", () => {
      this.readTraits();
      this.render();
    });
    on("height", () => this.readTraits());
    on("bus_key", () => this.subscribeBus());
    on("item", () => this.load());
    this.cleanups.push(this.client.onMessage("entities", (msg) => this.onSnapshot(msg)));
    const key = (e: KeyboardEvent): void => this.onKey(e);
    this.root.addEventListener("keydown", key);
    this.cleanups.push(() => this.root.removeEventListener("keydown", key));
    const leave = (): void => this.setHover({ id: null, entity: null });
    this.list.addEventListener("mouseleave", leave);
    this.cleanups.push(() => this.list.removeEventListener("mouseleave", leave));
  }

  private subscribeBus(): void {
    for (const off of this.busOff.splice(0)) off();
    const key = str(this.model.get("bus_key"));
    this.bus = key ? getBus<Topics>(key) : null;
    if (!this.bus) return;
    const follow = (value: unknown, source: unknown): void => {
      if (source === this.me) return;
      this.busRef = refOf(value);
      this.highlight();
    };
    this.busOff.push(
      this.bus.subscribe("hover", (v, { source }) => follow(v, source)),
      this.bus.subscribe("select", (v, { source }) => follow(v, source)),
    );
  }

  // -- data ----------------------------------------------------------------------------

  private load(): void {
    const gen = ++this.loadGen;
    this.ready = false;
    this.client.request("entities.query", {}).then(
      (reply) => {
        if (gen !== this.loadGen || this.closed) return;
        this.ready = true;
        this.setRows(parseSnapshot(reply.result));
      },
      (err: unknown) => this.report(err),
    );
  }

  private onSnapshot(msg: unknown): void {
    if (!this.ready) return; // the query in flight holds it (messages arrive in order)
    this.setRows(parseSnapshot(msg));
  }

  private setRows(rows: EntityRow[]): void {
    this.rows = rows;
    const ids = new Set(rows.map((e) => e.id));
    const members = memberIndex(rows);
    this.tickedEntities = this.tickedEntities.filter((id) => ids.has(id));
    this.tickedMembers = new Set([...this.tickedMembers].filter((id) => members.has(id)));
    this.expanded = new Set([...this.expanded].filter((id) => ids.has(id)));
    if (this.renaming && !ids.has(this.renaming)) this.renaming = null;
    this.render();
  }

  private report(err: unknown): void {
    if (this.closed || err instanceof ClientClosed) return;
    this.banner?.dismiss();
    this.banner = showError(this.alerts, err);
  }

  private async command(type: string, payload: Record<string, unknown>): Promise<unknown> {
    try {
      const reply = await this.client.request(type, payload);
      this.banner?.dismiss();
      this.banner = null;
      return reply.result ?? {};
    } catch (err) {
      this.report(err);
      return null;
    }
  }

  // -- gestures ------------------------------------------------------------------------

  private async merge(): Promise<void> {
    const ids = mergeIds(this.tickedEntities, this.rows);
    if (!ids) {
      this.setStatus("tick two or more entities to merge");
      return;
    }
    if ((await this.command("entity.merge", { ids })) !== null) {
      this.tickedEntities = [];
      this.expanded.add(ids[0] as string);
      this.setStatus(`merged ${ids.length} entities`);
      this.render();
    }
  }

  private async split(): Promise<void> {
    const ticked = [...this.tickedMembers];
    const payload = splitPayload(ticked, this.rows);
    if (!payload) {
      this.setStatus(splitProblem(ticked, this.rows) ?? "");
      return;
    }
    const result = (await this.command("entity.split", payload)) as { ids?: unknown } | null;
    if (result !== null) {
      this.tickedMembers.clear();
      const ids = Array.isArray(result.ids) ? result.ids : [];
      if (typeof ids[0] === "string") this.expanded.add(ids[0]);
      this.setStatus(`split ${payload.members.length} member(s) into a new entity`);
      this.render();
    }
  }

  private async rename(entity: EntityRow, name: string): Promise<void> {
    this.renaming = null;
    if (name === entity.name) {
      this.render();
      return;
    }
    await this.command("entity.update", { id: entity.id, revision: entity.revision, name });
    this.render();
  }

  private async remove(entity: EntityRow): Promise<void> {
    await this.command("entity.delete", { id: entity.id, revision: entity.revision });
  }

  private goTo(member: Member): void {
    const reveal = revealOf(member, str(this.model.get("item")));
    this.bus?.publish("reveal", reveal, this.me);
    const key = str(this.model.get("bus_key"));
    if (key && member.time !== null) {
      const duration = Number(this.model.get("duration"));
      getSharedClock(key, Number.isFinite(duration) && duration > 0 ? { duration } : {}).seek(member.time, this.me);
    }
    this.setStatus(`shown: ${member.label} on ${member.stream}`);
  }

  private onKey(e: KeyboardEvent): void {
    const target = e.target as HTMLElement | null;
    if (target && target.tagName === "INPUT" && (target as HTMLInputElement).type === "text") return;
    const mod = e.ctrlKey || e.metaKey;
    if (mod && (e.key === "z" || e.key === "Z")) {
      e.preventDefault();
      void this.command(e.shiftKey ? "redo" : "undo", {});
    } else if (mod && (e.key === "y" || e.key === "Y")) {
      e.preventDefault();
      void this.command("redo", {});
    }
  }

  private setHover(ref: BusRef): void {
    if (ref.id === this.hover.id && ref.entity === this.hover.entity) return;
    this.hover = ref;
    this.bus?.publish("hover", ref, this.me);
    this.highlight();
  }

  private setStatus(text: string): void {
    setText(this.status, text);
  }

  // -- rendering -----------------------------------------------------------------------

  private render(): void {
    const root = this.root;
    setAttr(root, "data-ready", this.ready ? "true" : null);
    setAttr(root, "data-entities", String(this.rows.length));
    if (this.rows.length === 0) {
      this.list.replaceChildren(
        el("div", {
          className: "accord-ep-empty",
          text: this.ready ? "No entities in this item yet (s.new_entity([...]) groups annotations)." : "loading…",
        }),
      );
    } else {
      this.list.replaceChildren(...this.rows.map((e) => this.entityElement(e)));
    }
    this.syncButtons();
    this.highlight();
  }

  private syncButtons(): void {
    const merge = mergeIds(this.tickedEntities, this.rows);
    this.mergeButton.disabled = merge === null;
    setText(this.mergeButton, merge ? `Merge ${merge.length}` : "Merge");
    const ticked = [...this.tickedMembers];
    const problem = splitProblem(ticked, this.rows);
    this.splitButton.disabled = problem !== null;
    this.splitButton.title = problem ?? "Move the ticked members into a new entity";
    setText(this.splitButton, problem === null ? `Split ${ticked.length}` : "Split");
  }

  private swatch(label: string | null): HTMLSpanElement {
    const s = el("span", { className: "accord-ep-swatch" });
    s.style.background = label ? (this.colours.get(label) ?? safeColour(null)) : "transparent";
    return s;
  }

  private entityElement(e: EntityRow): HTMLElement {
    const open = this.expanded.has(e.id);
    const tick = el("input", {
      title: "Tick to merge",
      attrs: { type: "checkbox", "data-tick-entity": e.id, "aria-label": `select ${entityTitle(e)}` },
    });
    tick.checked = this.tickedEntities.includes(e.id);
    tick.addEventListener("change", () => {
      this.tickedEntities = tick.checked
        ? [...this.tickedEntities.filter((id) => id !== e.id), e.id]
        : this.tickedEntities.filter((id) => id !== e.id);
      this.render();
    });
    const toggle = el("button", {
      className: "accord-ep-btn accord-ep-small",
      text: open ? "▾" : "▸",
      title: open ? "Hide members" : "Show members",
      attrs: { type: "button", "data-action": "expand", "aria-expanded": open ? "true" : "false" },
    });
    toggle.addEventListener("click", () => {
      if (open) this.expanded.delete(e.id);
      else this.expanded.add(e.id);
      this.render();
    });
    const name = this.nameElement(e);
    const rename = el("button", {
      className: "accord-ep-btn accord-ep-small",
      text: "✎",
      title: "Rename",
      attrs: { type: "button", "data-action": "rename", "aria-label": "Rename" },
    });
    rename.addEventListener("click", () => {
      this.renaming = e.id;
      this.render();
    });
    const del = el("button", {
      className: "accord-ep-btn accord-ep-small",
      text: "×",
      title: "Delete the entity (its annotations stay, ungrouped)",
      attrs: { type: "button", "data-action": "delete", "aria-label": "Delete entity" },
    });
    del.addEventListener("click", () => void this.remove(e));
    const count = e.members.length + (e.elsewhere ? ` (+${e.elsewhere} elsewhere)` : "");
    const row = el("div", { className: "accord-ep-row" }, [
      tick,
      toggle,
      this.swatch(e.label),
      el("span", { className: "accord-ep-label", text: e.label ?? "(no label)" }),
      name,
      rename,
      el("span", { className: "accord-ep-muted", text: e.modalities.join(", "), attrs: { "data-modalities": "" } }),
      el("span", { className: "accord-ep-count", text: `${count} member${e.members.length === 1 ? "" : "s"}` }),
      el("span", { className: "accord-ep-mono accord-ep-muted", text: formatSpan(e.start, e.end) }),
      del,
    ]);
    row.addEventListener("mouseenter", () => this.setHover({ id: null, entity: e.id }));
    const box = el("div", {
      className: "accord-ep-entity",
      attrs: { role: "listitem", "data-entity": e.id, "data-size": e.members.length },
    }, [row]);
    if (open) for (const m of e.members) box.append(this.memberElement(e, m));
    return box;
  }

  private nameElement(e: EntityRow): HTMLElement {
    if (this.renaming !== e.id) {
      return el("span", { className: "accord-ep-name", text: entityTitle(e), title: e.id, attrs: { "data-name": e.name } });
    }
    const input = el("input", {
      className: "accord-ep-rename",
      attrs: { type: "text", "data-rename": e.id, "aria-label": "Entity name" },
    });
    input.value = e.name;
    let done = false;
    input.addEventListener("keydown", (ev) => {
      if (ev.key === "Enter") {
        done = true;
        void this.rename(e, input.value);
      } else if (ev.key === "Escape") {
        done = true;
        this.renaming = null;
        this.render();
      }
      ev.stopPropagation();
    });
    input.addEventListener("blur", () => {
      if (!done) void this.rename(e, input.value);
    });
    queueMicrotask(() => input.focus());
    return input;
  }

  private memberElement(e: EntityRow, m: Member): HTMLElement {
    const tick = el("input", {
      title: "Tick to split off",
      attrs: { type: "checkbox", "data-tick-member": m.id, "aria-label": `select member ${m.id}` },
    });
    tick.checked = this.tickedMembers.has(m.id);
    tick.addEventListener("change", () => {
      if (tick.checked) this.tickedMembers.add(m.id);
      else this.tickedMembers.delete(m.id);
      this.render();
    });
    const go = el("button", {
      className: "accord-ep-btn accord-ep-small",
      text: "go to",
      title: "Show it in its view (and move the playhead)",
      attrs: { type: "button", "data-action": "goto" },
    });
    go.addEventListener("click", () => this.goTo(m));
    const row = el(
      "div",
      { className: "accord-ep-member", attrs: { "data-member": m.id, "data-entity": e.id, "data-stream": m.stream } },
      [
        tick,
        el("span", { className: "accord-ep-mono", text: m.stream }),
        el("span", { className: "accord-ep-muted", text: m.kind }),
        this.swatch(m.label),
        el("span", { text: m.label }),
        el("span", { className: "accord-ep-muted", text: m.annotator }),
        el("span", { className: "accord-ep-where", text: whereOf(m), title: m.excerpt ?? "" }),
        go,
      ],
    );
    row.addEventListener("mouseenter", () => this.setHover({ id: m.id, entity: e.id }));
    return row;
  }

  /** Toggle hover/tick classes without rebuilding the list. */
  private highlight(): void {
    const index = memberIndex(this.rows);
    const refs = [this.hover, this.busRef];
    const entities = new Set<string>();
    const members = new Set<string>();
    for (const r of refs) {
      if (r.id) {
        members.add(r.id);
        const owner = index.get(r.id);
        if (owner) entities.add(owner);
      }
      if (r.entity) entities.add(r.entity);
    }
    for (const node of this.list.querySelectorAll<HTMLElement>(".accord-ep-entity")) {
      const id = node.dataset.entity ?? "";
      node.querySelector(".accord-ep-row")?.classList.toggle("accord-ep-hover", entities.has(id));
      node.querySelector(".accord-ep-row")?.classList.toggle("accord-ep-ticked", this.tickedEntities.includes(id));
    }
    for (const node of this.list.querySelectorAll<HTMLElement>(".accord-ep-member")) {
      const id = node.dataset.member ?? "";
      node.classList.toggle("accord-ep-hover", members.has(id));
      node.classList.toggle("accord-ep-ticked", this.tickedMembers.has(id));
    }
    const shown = this.busRef.id ?? this.busRef.entity;
    setAttr(this.root, "data-hover", shown);
  }
}
