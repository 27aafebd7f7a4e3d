/**
 * Keyboard shortcuts: a pure map from a key press (and what the view is
 * doing) to an action, plus the list the help panel shows. Class hotkeys win
 * over the built-in single-key shortcuts they collide with.
 */

import type { ClassSpec } from "./types.js";

/** The fields of a KeyboardEvent the shortcuts look at. */
export interface KeyPress {
  key: string;
  ctrlKey?: boolean;
  metaKey?: boolean;
  shiftKey?: boolean;
  altKey?: boolean;
}

/** What the view is in the middle of, for keys whose meaning depends on it. */
export interface KeyContext {
  /** A polygon or keypoint draft is open. */
  drafting: boolean;
  hasSelection: boolean;
  /** The selection is a rotated box (`[`/`]` rotate it). */
  selectionRotatable: boolean;
  /** Frame navigation applies (video). */
  video: boolean;
}

export type KeyAction =
  | { type: "undo" }
  | { type: "redo" }
  | { type: "label"; name: string }
  | { type: "zoom"; factor: number }
  | { type: "fit" }
  | { type: "frame"; delta: number }
  | { type: "rotate"; fine: boolean; direction: 1 | -1 }
  | { type: "finish-draft" }
  | { type: "remove-vertex" }
  | { type: "cancel" }
  | { type: "delete" }
  | { type: "help" };

export const ZOOM_STEP = 1.25;

/** The action for `e`, or null when the view should let the key through. */
export function keyAction(e: KeyPress, classes: readonly ClassSpec[], ctx: KeyContext): KeyAction | null {
  const mod = e.ctrlKey === true || e.metaKey === true;
  if (mod && !e.altKey) {
    const k = e.key.toLowerCase();
    if (k === "z") return e.shiftKey ? { type: "redo" } : { type: "undo" };
    if (k === "y") return { type: "redo" };
    return null;
  }
  if (mod || e.altKey) return null;

  // Class hotkeys come first: they are the taxonomy author's choice.
  for (const c of classes) if (c.hotkey !== null && c.hotkey === e.key) return { type: "label", name: c.name };

  switch (e.key) {
    case "Enter":
      return ctx.drafting ? { type: "finish-draft" } : null;
    case "Escape":
      return ctx.drafting || ctx.hasSelection ? { type: "cancel" } : null;
    case "Backspace":
      if (ctx.drafting) return { type: "remove-vertex" };
      return ctx.hasSelection ? { type: "delete" } : null;
    case "Delete":
      return ctx.hasSelection && !ctx.drafting ? { type: "delete" } : null;
    case "+":
    case "=":
      return { type: "zoom", factor: ZOOM_STEP };
    case "-":
    case "_":
      return { type: "zoom", factor: 1 / ZOOM_STEP };
    case "0":
      return { type: "fit" };
    case "ArrowLeft":
      return ctx.video ? { type: "frame", delta: e.shiftKey ? -10 : -1 } : null;
    case "ArrowRight":
      return ctx.video ? { type: "frame", delta: e.shiftKey ? 10 : 1 } : null;
    case "[":
    case "{":
      return ctx.selectionRotatable ? { type: "rotate", direction: -1, fine: e.key === "{" || e.shiftKey === true } : null;
    case "]":
    case "}":
      return ctx.selectionRotatable ? { type: "rotate", direction: 1, fine: e.key === "}" || e.shiftKey === true } : null;
    case "?":
      return { type: "help" };
    default:
      return null;
  }
}

/** One line of the help panel. */
export interface ShortcutHelp {
  keys: string;
  what: string;
}

/** The shortcut list the "?" panel shows (class hotkeys are on their chips). */
export function shortcutHelp(video: boolean): ShortcutHelp[] {
  const rows: ShortcutHelp[] = [
    { keys: "class hotkey", what: "set the class for new shapes; relabel the selected one" },
    { keys: "drag", what: "box / rotated box: draw; select: move, or pan on empty space" },
    { keys: "click", what: "polygon: add a vertex (click the first one to close); keypoints: place the next one" },
    { keys: "double-click / Enter", what: "close the polygon / finish the keypoints early (the rest are unlabelled)" },
    { keys: "Shift+click", what: "keypoints: place as occluded (v=1); select: toggle a keypoint's visibility" },
    { keys: "Backspace", what: "remove the last vertex while drawing; else delete the selection" },
    { keys: "Delete", what: "delete the selected annotation" },
    { keys: "Esc", what: "cancel the drawing, or deselect" },
    { keys: "[ / ]", what: "rotate the selected rotated box by 5° (Shift: 1°); or drag its round handle" },
    { keys: "wheel, + / -", what: "zoom at the cursor / at the centre" },
    { keys: "0", what: "fit the image" },
    { keys: "Space+drag, middle drag", what: "pan" },
    { keys: "Ctrl+Z", what: "undo" },
    { keys: "Ctrl+Shift+Z, Ctrl+Y", what: "redo" },
    { keys: "?", what: "show or hide this list" },
  ];
  if (video) rows.splice(11, 0, { keys: "← / →", what: "previous / next frame (Shift: 10 frames)" });
  return rows;
}
