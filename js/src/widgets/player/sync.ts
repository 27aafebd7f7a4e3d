/**
 * How a media element follows the shared clock (pure, unit-tested).
 *
 * While paused, an element is seeked to the clock's stream time. While
 * playing, it runs at `clockRate / streamRate` (stream seconds per item
 * second) and is corrected every tick:
 *
 * - more than `seekThreshold` off: re-seek, aiming a little ahead by the time
 *   recent seeks took, and wait for that seek;
 * - smaller errors: nudge `playbackRate` by up to ±`maxNudge` so the element
 *   converges within about `nudgeHorizon` seconds without a visible jump.
 *
 * Measured in headless Chromium under load (docs/design/player.md): a seek of
 * a *playing* element stalls it for 50–150 ms (2–4 frames), so re-seeking at
 * half a frame made followers fall further behind. While playing, the seek
 * threshold is 3 frames (at least 100 ms) and the rate nudge does the rest;
 * paused elements are always seeked exactly.
 */

export interface FollowParams {
  /** Where the element is (media seconds). */
  elementTime: number;
  /** Where the clock says it should be (media seconds). */
  targetTime: number;
  /** Clock playback rate × 1/stream clock rate. */
  baseRate: number;
  /** Largest error left to the rate nudge (seconds). */
  seekThreshold: number;
  /** Seconds a recent seek took while playing (lead for the next one). */
  seekLatency: number;
  maxNudge?: number;
  nudgeHorizon?: number;
}

export interface FollowDecision {
  /** Seek here (media seconds), or null to leave the position alone. */
  seek: number | null;
  playbackRate: number;
}

export const MAX_NUDGE = 0.25;
export const NUDGE_HORIZON = 0.12;
/** Errors below this are left alone (element clocks report time coarsely). */
export const DEAD_BAND = 0.004;

export function follow(p: FollowParams): FollowDecision {
  const error = p.elementTime - p.targetTime; // > 0: element ahead
  if (Math.abs(error) > p.seekThreshold) {
    const lead = Math.min(Math.max(p.seekLatency, 0), 0.5) * p.baseRate;
    return { seek: p.targetTime + lead, playbackRate: p.baseRate };
  }
  if (Math.abs(error) < DEAD_BAND) return { seek: null, playbackRate: p.baseRate };
  const maxNudge = p.maxNudge ?? MAX_NUDGE;
  const horizon = p.nudgeHorizon ?? NUDGE_HORIZON;
  const nudge = Math.min(Math.max(-error / horizon, -maxNudge), maxNudge);
  return { seek: null, playbackRate: p.baseRate * (1 + nudge) };
}

/** Error beyond which a playing element is re-seeked: 3 frames (≥ 100 ms) for video, 150 ms for audio. */
export function seekThreshold(frameDuration: number | null): number {
  return frameDuration ? Math.max(3 * frameDuration, 0.1) : 0.15;
}
