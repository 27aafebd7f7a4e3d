/**
 * The side panel: the selected annotation's class and attributes (edited in
 * place and sent as one `annotation.update` per change), or, with nothing
 * selected, the current class and its guidelines. Everything from data is
 * rendered as text; inputs take values, never markup.
 */

import { el } from "../../runtime/text.js";
import type { AnnotationRecord, AttributeSpec, ClassSpec } from "./types.js";

export interface PanelHandlers {
  /** Set attribute `name` to `value` (null clears it) on the selected annotation. */
  attribute(name: string, value: unknown): void;
  relabel(name: string): void;
  delete(): void;
}

export interface PanelInput {
  record: AnnotationRecord | null;
  editable: boolean;
  classes: readonly ClassSpec[];
  /** The current class for new shapes (shown when nothing is selected). */
  label: string;
}

/** Parse a number field: null for empty, NaN-free, integers for "int". */
export function parseNumberInput(text: string, type: "int" | "float"): number | null | undefined {
  const t = text.trim();
  if (t === "") return null;
  const n = Number(t);
  if (!Number.isFinite(n)) return undefined;
  if (type === "int" && !Number.isInteger(n)) return undefined;
  return n;
}

function field(labelText: string, control: HTMLElement, required: boolean): HTMLLabelElement {
  return el("label", { className: "accord-rc-field" }, [
    el("span", { text: required ? `${labelText} *` : labelText }),
    control,
  ]);
}

function attributeControl(spec: AttributeSpec, value: unknown, enabled: boolean, h: PanelHandlers): HTMLElement {
  const attrs = { "data-attribute": spec.name };
  switch (spec.type) {
    case "bool": {
      const box = el("input", { attrs: { type: "checkbox", ...attrs } });
      box.checked = value === true;
      box.disabled = !enabled;
      box.addEventListener("change", () => h.attribute(spec.name, box.checked));
      return el("label", { className: "accord-rc-check" }, [box, el("span", { text: spec.name })]);
    }
    case "choice": {
      const select = el("select", { attrs });
      const options: HTMLOptionElement[] = [];
      if (!spec.required || value === null || value === undefined) {
        options.push(el("option", { text: "—", attrs: { value: "" } }));
      }
      const choices = [...spec.choices];
      if (typeof value === "string" && value !== "" && !choices.includes(value)) choices.push(value);
      for (const c of choices) {
        const o = el("option", { text: c });
        o.value = c;
        options.push(o);
      }
      select.append(...options);
      select.value = typeof value === "string" ? value : "";
      select.disabled = !enabled;
      select.addEventListener("change", () => h.attribute(spec.name, select.value === "" ? null : select.value));
      return field(spec.name, select, spec.required);
    }
    case "multi_choice": {
      const chosen = new Set(Array.isArray(value) ? value.filter((v): v is string => typeof v === "string") : []);
      const boxes = spec.choices.map((c) => {
        const box = el("input", { attrs: { type: "checkbox", "data-choice": c } });
        box.checked = chosen.has(c);
        box.disabled = !enabled;
        box.addEventListener("change", () => {
          if (box.checked) chosen.add(c);
          else chosen.delete(c);
          h.attribute(
            spec.name,
            spec.choices.filter((x) => chosen.has(x)),
          );
        });
        return el("label", { className: "accord-rc-check" }, [box, el("span", { text: c })]);
      });
      return field(spec.name, el("div", { attrs }, boxes), spec.required);
    }
    case "int":
    case "float": {
      const input = el("input", {
        attrs: {
          type: "number",
          step: spec.type === "int" ? 1 : "any",
          min: spec.minimum ?? undefined,
          max: spec.maximum ?? undefined,
          ...attrs,
        },
      });
      input.value = typeof value === "number" ? String(value) : "";
      input.disabled = !enabled;
      const type = spec.type;
      input.addEventListener("change", () => {
        const n = parseNumberInput(input.value, type);
        if (n === undefined) {
          input.setCustomValidity(type === "int" ? "an integer" : "a number");
          input.reportValidity?.();
          return;
        }
        input.setCustomValidity("");
        h.attribute(spec.name, n);
      });
      return field(spec.name, input, spec.required);
    }
    case "text": {
      const input = el("input", { attrs: { type: "text", ...attrs } });
      input.value = value === null || value === undefined ? "" : String(value);
      input.disabled = !enabled;
      input.addEventListener("change", () => h.attribute(spec.name, input.value === "" ? null : input.value));
      return field(spec.name, input, spec.required);
    }
  }
}

/** Rebuild the panel's content for `input`. */
export function renderPanel(container: HTMLElement, input: PanelInput, h: PanelHandlers): void {
  const { record, classes } = input;
  if (!record) {
    const current = classes.find((c) => c.name === input.label);
    const nodes: Node[] = [
      el("h4", { text: "No selection" }),
      el("div", {
        className: "accord-rc-muted",
        text: "Pick a tool and a class, then draw. With Select, click an annotation to edit it.",
      }),
    ];
    if (current) {
      nodes.push(el("h4", { text: `Class: ${current.name}` }));
      if (current.guidelines) nodes.push(el("div", { className: "accord-rc-guidelines", text: current.guidelines }));
      if (current.keypoints.length) {
        nodes.push(el("div", { className: "accord-rc-muted", text: `keypoints: ${current.keypoints.join(", ")}` }));
      }
    }
    container.replaceChildren(...nodes);
    return;
  }

  const spec = classes.find((c) => c.name === record.label) ?? null;
  const nodes: Node[] = [el("h4", { text: input.editable ? "Selected" : "Selected (read-only)" })];

  const select = el("select", { attrs: { "data-field": "label" } });
  const names = classes.filter((c) => c.geometries.length === 0 || c.geometries.includes(record.kind)).map((c) => c.name);
  if (!names.includes(record.label)) names.unshift(record.label);
  for (const name of names) {
    const o = el("option", { text: name });
    o.value = name;
    select.append(o);
  }
  select.value = record.label;
  select.disabled = !input.editable;
  select.addEventListener("change", () => h.relabel(select.value));
  nodes.push(field("class", select, false));

  for (const a of spec?.attributes ?? []) {
    nodes.push(attributeControl(a, record.attributes[a.name], input.editable, h));
  }
  // Attributes the record holds that its class no longer declares: shown, not editable.
  const declared = new Set((spec?.attributes ?? []).map((a) => a.name));
  for (const [name, value] of Object.entries(record.attributes)) {
    if (declared.has(name)) continue;
    nodes.push(el("div", { className: "accord-rc-meta", text: `${name}: ${JSON.stringify(value)}` }));
  }

  const meta = [
    `id ${record.id}`,
    `kind ${record.kind}`,
    record.annotator ? `by ${record.annotator}` : null,
    record.revision !== null ? `rev ${record.revision}` : null,
    record.status ? `status ${record.status}` : null,
  ].filter((x): x is string => x !== null);
  nodes.push(el("div", { className: "accord-rc-meta", text: meta.join(" · ") }));

  if (input.editable) {
    const del = el("button", {
      className: "accord-rc-btn",
      text: "Delete",
      title: "Delete this annotation (Delete)",
      attrs: { type: "button", "data-action": "delete" },
    });
    del.addEventListener("click", () => h.delete());
    nodes.push(el("div", {}, [del]));
  }
  container.replaceChildren(...nodes);
}
