/**
 * The canvas's edit queue: the runtime's {@link GenericEditQueue} for 2-D shapes
 * (one update in flight per annotation; see runtime/edits.ts).
 */

import {
  EditQueue as GenericEditQueue,
  type EditFields as GenericEditFields,
  type EditSink as GenericEditSink,
} from "../../runtime/edits.js";
import type { Shape } from "./types.js";

export { EVENT_WAIT_MS } from "../../runtime/edits.js";
export type EditFields = GenericEditFields<Shape>;
export type EditSink = GenericEditSink<Shape>;
export class EditQueue extends GenericEditQueue<Shape> {}
