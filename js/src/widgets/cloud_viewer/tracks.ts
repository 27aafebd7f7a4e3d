/**
 * Cuboid tracks in the page: the mirror of `accord.model.tracks` (Python).
 *
 * Every stored cuboid is a keyframe. Between two keyframes of a track the
 * cuboid is interpolated: centre and size linearly in time (sweep
 * timestamps when known, else the index), yaw along the shortest arc,
 * wrapped to [-π, π). No extrapolation before the first or after the last
 * keyframe. vitest runs the same hand-worked cases as pytest
 * (js/tests/cloud_viewer_track_cases.json).
 */

export interface CuboidGeom {
  center: [number, number, number];
  size: [number, number, number];
  yaw: number;
}

const TWO_PI = 2 * Math.PI;

/** `a` wrapped to [-π, π). */
export function wrapAngle(a: number): number {
  return a - TWO_PI * Math.floor((a + Math.PI) / TWO_PI);
}

/** The signed turn from yaw `a` to yaw `b` the shorter way, in [-π, π). */
export function shortestArc(a: number, b: number): number {
  return wrapAngle(b - a);
}

/** The cuboid a fraction `t` ∈ [0, 1] of the way from `a` to `b`. */
export function interpolateCuboid(a: CuboidGeom, b: CuboidGeom, t: number): CuboidGeom {
  if (!(t >= 0 && t <= 1)) throw new RangeError(`interpolation fraction: expected [0, 1], got ${t}`);
  const lerp = (p: number, q: number): number => p + t * (q - p);
  return {
    center: [lerp(a.center[0], b.center[0]), lerp(a.center[1], b.center[1]), lerp(a.center[2], b.center[2])],
    size: [lerp(a.size[0], b.size[0]), lerp(a.size[1], b.size[1]), lerp(a.size[2], b.size[2])],
    yaw: wrapAngle(a.yaw + t * shortestArc(a.yaw, b.yaw)),
  };
}

function fraction(s0: number, s1: number, s: number, times: readonly number[] | null): number {
  if (times) {
    const t0 = times[s0];
    const t1 = times[s1];
    const ts = times[s];
    if (t0 !== undefined && t1 !== undefined && ts !== undefined && t1 > t0) {
      return Math.min(1, Math.max(0, (ts - t0) / (t1 - t0)));
    }
  }
  return (s - s0) / (s1 - s0);
}

/** The track's cuboid on `sweep`: the keyframe there, an interpolation, or null. */
export function interpolateTrack(
  keyframes: ReadonlyMap<number, CuboidGeom>,
  sweep: number,
  times: readonly number[] | null = null,
): CuboidGeom | null {
  const here = keyframes.get(sweep);
  if (here) return here;
  let s0 = -Infinity;
  let s1 = Infinity;
  for (const k of keyframes.keys()) {
    if (k < sweep && k > s0) s0 = k;
    if (k > sweep && k < s1) s1 = k;
  }
  if (!Number.isFinite(s0) || !Number.isFinite(s1)) return null;
  return interpolateCuboid(keyframes.get(s0) as CuboidGeom, keyframes.get(s1) as CuboidGeom, fraction(s0, s1, sweep, times));
}

/** What the track logic needs of a stored cuboid record. */
export interface TrackRecord {
  id: string;
  frame: number | null;
  track: string | null;
  cuboid: CuboidGeom;
}

/** An interpolated cuboid of `track` on a sweep, between keyframes `from` and `to`. */
export interface Interpolated<R extends TrackRecord> {
  track: string;
  cuboid: CuboidGeom;
  from: R;
  to: R;
}

/**
 * Interpolated cuboids on `sweep` for every track without a keyframe there
 * (records in arrival order; a track's first record on a sweep is its keyframe).
 */
export function interpolatedOn<R extends TrackRecord>(
  records: Iterable<R>,
  sweep: number,
  times: readonly number[] | null = null,
): Interpolated<R>[] {
  const tracks = new Map<string, Map<number, R>>();
  for (const r of records) {
    if (r.track === null || r.frame === null) continue;
    let keys = tracks.get(r.track);
    if (!keys) {
      keys = new Map();
      tracks.set(r.track, keys);
    }
    if (!keys.has(r.frame)) keys.set(r.frame, r);
  }
  const out: Interpolated<R>[] = [];
  for (const [track, keys] of tracks) {
    if (keys.has(sweep)) continue;
    let s0 = -Infinity;
    let s1 = Infinity;
    for (const k of keys.keys()) {
      if (k < sweep && k > s0) s0 = k;
      if (k > sweep && k < s1) s1 = k;
    }
    if (!Number.isFinite(s0) || !Number.isFinite(s1)) continue;
    const from = keys.get(s0) as R;
    const to = keys.get(s1) as R;
    out.push({ track, from, to, cuboid: interpolateCuboid(from.cuboid, to.cuboid, fraction(s0, s1, sweep, times)) });
  }
  return out;
}

/** The index of the sweep whose time is nearest to `t` (stream seconds); times ascending. */
export function nearestSweep(times: readonly number[], t: number): number {
  const n = times.length;
  if (n === 0) return 0;
  let lo = 0;
  let hi = n - 1;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if ((times[mid] as number) < t) lo = mid + 1;
    else hi = mid;
  }
  if (lo > 0 && Math.abs((times[lo - 1] as number) - t) <= Math.abs((times[lo] as number) - t)) return lo - 1;
  return lo;
}
