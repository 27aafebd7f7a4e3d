/**
 * Text-only DOM helpers. Every string that comes from data (labels,
 * transcripts, file names, error messages) is rendered with these, which
 * never parse HTML: no innerHTML, no event-handler attributes, no script URLs.
 */

export type AttrValue = string | number | boolean;

export interface ElOptions {
  className?: string;
  /** Text content (set with textContent, never parsed). */
  text?: unknown;
  title?: string;
  /** Plain attributes; `on*` handlers, `srcdoc` and script URLs are refused. */
  attrs?: Record<string, AttrValue | null | undefined>;
}

/** Something `el` refuses to build (a programming error, not bad data). */
export class UnsafeMarkupError extends Error {
  override readonly name = "UnsafeMarkupError";
}

/** Attributes whose value is loaded or navigated to as a URL. */
const URL_ATTRIBUTES = new Set([
  "href",
  "src",
  "action",
  "formaction",
  "poster",
  "data",
  "xlink:href",
  "background",
  "cite",
  "ping",
]);

/** Tags that execute or embed content. */
const REFUSED_TAGS = new Set(["script", "iframe", "object", "embed", "frame", "frameset", "base", "meta"]);

/** Attribute names `setAttribute` accepts that are plain (no on*, no odd characters). */
const ATTR_NAME = /^[a-zA-Z_:][a-zA-Z0-9_.:-]*$/;

/** Set `node`'s text to `value` (null/undefined → empty), as text only. */
export function setText(node: Node, value: unknown): void {
  node.textContent = value === null || value === undefined ? "" : String(value);
}

/**
 * True when `url` would run script: `javascript:` or `vbscript:` after
 * removing the whitespace and control characters browsers ignore.
 */
export function isScriptUrl(url: string): boolean {
  const compact = url.replace(/[\u0000-\u0020\u007f-\u009f]/g, "").toLowerCase();
  return compact.startsWith("javascript:") || compact.startsWith("vbscript:");
}

/** Set one attribute, refusing the unsafe ones. */
export function setAttr(element: Element, name: string, value: AttrValue | null | undefined): void {
  const lower = name.toLowerCase();
  if (!ATTR_NAME.test(name)) throw new UnsafeMarkupError(`attribute name ${JSON.stringify(name)} is not allowed`);
  if (lower.startsWith("on")) throw new UnsafeMarkupError(`event-handler attribute "${name}" is not allowed`);
  if (lower === "srcdoc") throw new UnsafeMarkupError('attribute "srcdoc" is not allowed');
  if (value === null || value === undefined || value === false) {
    element.removeAttribute(name);
    return;
  }
  const text = value === true ? "" : String(value);
  if ((URL_ATTRIBUTES.has(lower) || lower === "srcset") && isScriptUrl(text)) {
    throw new UnsafeMarkupError(`attribute "${name}" may not hold a script URL`);
  }
  element.setAttribute(name, text);
}

/**
 * Create an element with text, class, title, attributes and children
 * (strings become text nodes). Never parses HTML.
 */
export function el<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  options: ElOptions = {},
  children: (Node | string)[] = [],
): HTMLElementTagNameMap[K] {
  if (REFUSED_TAGS.has(tag.toLowerCase())) throw new UnsafeMarkupError(`<${tag}> elements are not allowed`);
  const node = document.createElement(tag);
  if (options.className) node.className = options.className;
  if (options.title !== undefined) node.title = options.title;
  for (const [name, value] of Object.entries(options.attrs ?? {})) setAttr(node, name, value);
  if (options.text !== undefined) setText(node, options.text);
  for (const child of children) {
    node.append(typeof child === "string" ? document.createTextNode(child) : child);
  }
  return node;
}

export const FALLBACK_COLOUR = "#808080";

/** `colour` when it is `#rrggbb`, else `fallback` (grey). Lower-cased. */
export function safeColour(colour: unknown, fallback: string = FALLBACK_COLOUR): string {
  return typeof colour === "string" && /^#[0-9a-fA-F]{6}$/.test(colour) ? colour.toLowerCase() : fallback;
}

/** A label chip: a colour swatch and the label name, as text. */
export function labelChip(name: unknown, colour: unknown): HTMLSpanElement {
  const swatch = el("span", { className: "accord-chip-swatch" });
  const value = safeColour(colour);
  swatch.style.backgroundColor = value;
  Object.assign(swatch.style, {
    display: "inline-block",
    width: "0.75em",
    height: "0.75em",
    borderRadius: "2px",
    marginRight: "0.35em",
    verticalAlign: "middle",
  });
  const label = el("span", { className: "accord-chip-name", text: name });
  const chip = el("span", { className: "accord-chip", title: String(name ?? "") }, [swatch, label]);
  chip.dataset.colour = value;
  return chip;
}
