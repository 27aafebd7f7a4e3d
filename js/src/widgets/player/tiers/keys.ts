/**
 * Tier shortcuts: a pure map from a key press to an action. Class hotkeys win
 * over the built-in single keys they collide with (as in RegionCanvas).
 */

import type { SegmentClass } from "../contracts.js";

export interface KeyPress {
  key: string;
  ctrlKey?: boolean;
  metaKey?: boolean;
  shiftKey?: boolean;
  altKey?: boolean;
}

export type TierAction =
  | { type: "undo" }
  | { type: "redo" }
  | { type: "label"; name: string }
  | { type: "delete" }
  | { type: "edit-text" }
  | { type: "cancel" }
  | { type: "step"; dir: 1 | -1 }
  | { type: "loop" }
  | { type: "jump" };

/** The action for a key, or null to let it through. `hasSelection`: a segment is selected. */
export function tierKeyAction(e: KeyPress, classes: readonly SegmentClass[], hasSelection: boolean): TierAction | null {
  const mod = e.ctrlKey === true || e.metaKey === true;
  if (mod && !e.altKey) {
    const k = e.key.toLowerCase();
    if (k === "z") return e.shiftKey ? { type: "redo" } : { type: "undo" };
    if (k === "y") return { type: "redo" };
    return null;
  }
  if (mod || e.altKey) return null;
  if (e.key === "Tab") return { type: "step", dir: e.shiftKey ? -1 : 1 };
  for (const c of classes) if (c.hotkey !== null && c.hotkey === e.key) return { type: "label", name: c.name };
  switch (e.key) {
    case "Delete":
    case "Backspace":
      return hasSelection ? { type: "delete" } : null;
    case "Enter":
      return hasSelection ? { type: "edit-text" } : null;
    case "Escape":
      return hasSelection ? { type: "cancel" } : null;
    case "l":
      return hasSelection ? { type: "loop" } : null;
    case "j":
      return hasSelection ? { type: "jump" } : null;
    default:
      return null;
  }
}

/** The shortcut list the tiers' help line shows. */
export const TIER_SHORTCUTS: readonly { keys: string; what: string }[] = [
  { keys: "drag on an empty lane", what: "draw a segment (the lane's class, or the chosen class)" },
  { keys: "drag a segment / its edge", what: "move / resize" },
  { keys: "click", what: "select (on empty lane: seek there)" },
  { keys: "class hotkey or chip", what: "choose the class for new segments; relabel the selected one" },
  { keys: "right-click", what: "class menu for the segment" },
  { keys: "Enter, double-click", what: "edit a transcript cue's text" },
  { keys: "Delete", what: "delete the selected segment" },
  { keys: "Tab / Shift+Tab", what: "next / previous segment of the tier (seeks to it)" },
  { keys: "l / j", what: "loop the selected segment / jump to its start" },
  { keys: "Ctrl+Z, Ctrl+Shift+Z", what: "undo, redo" },
  { keys: "Shift+S, or ≋ in a lane header", what: "audio lanes: waveform ↔ spectrogram" },
];
