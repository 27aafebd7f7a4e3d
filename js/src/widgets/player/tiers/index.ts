/**
 * Tiers of the Player: ELAN-like lanes of time-aligned annotations
 * (`time_segment`) under the waveforms. The Player mounts them with
 * `mountTiers(host, ctx)` (contract: ../contracts.ts; Python side:
 * `accord.widgets.tiers`).
 *
 * Modules: time (stream ↔ item ↔ px, h:mm:ss.mmm), model (records, events,
 * the tier rule, virtualising index), gestures (drag → stream seconds,
 * validation, hit-testing, payloads), edits (one update in flight per
 * segment), keys (shortcuts), style (CSS), view (DOM and wiring).
 */

import type { MountTiers, TierContext, TiersPart } from "../contracts.js";
import { TiersView } from "./view.js";

export { LANE_HEIGHT, TIER_HEADER_WIDTH } from "./style.js";
export { groupTiers, tierKeyOf, parseSegment, TierIndex, SegmentStore } from "./model.js";
export { formatTime, toItem, toStream } from "./time.js";
export type { TierStats } from "./view.js";

/** Mount the tiers in `host` and load the item's segments (`segments.query`). */
export const mountTiers: MountTiers = async (host: HTMLElement, ctx: TierContext): Promise<TiersPart> => {
  const view = new TiersView(host, ctx);
  await view.load();
  return view;
};
