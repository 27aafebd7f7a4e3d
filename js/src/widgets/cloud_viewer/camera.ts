/**
 * The viewer's camera: a small orbit controller (perspective) and three
 * fixed orthographic views — top (x up the screen, y to the left), side
 * (looking +y, x to the right) and front (looking -x). z is up everywhere.
 *
 * State is plain numbers; `apply` positions a three.js camera from it, so
 * the same state drives rendering, picking and the test hooks.
 */

import { OrthographicCamera, PerspectiveCamera, Vector3 } from "three";

export type ViewMode = "orbit" | "top" | "side" | "front";

export const VIEW_MODES: readonly ViewMode[] = ["orbit", "top", "side", "front"];

export interface CameraState {
  mode: ViewMode;
  target: [number, number, number];
  /** Orbit: distance to the target (m). */
  distance: number;
  /** Orbit: angle about +z from +x, radians (the camera sits on this side). */
  azimuth: number;
  /** Orbit: angle above the ground plane, radians. */
  elevation: number;
  /** Orthographic views: half the visible height (m). */
  halfHeight: number;
}

export const MIN_ELEVATION = -1.45;
export const MAX_ELEVATION = 1.5;

export function defaultCamera(mode: ViewMode = "orbit"): CameraState {
  return { mode, target: [10, 0, 0], distance: 40, azimuth: Math.PI, elevation: 0.6, halfHeight: 20 };
}

/** Turn the orbit by screen-pixel deltas. */
export function orbitBy(s: CameraState, dx: number, dy: number): CameraState {
  const elevation = Math.min(MAX_ELEVATION, Math.max(MIN_ELEVATION, s.elevation + dy * 0.006));
  return { ...s, azimuth: s.azimuth - dx * 0.006, elevation };
}

/** Zoom: distance (orbit) or visible height (orthographic) times `factor`. */
export function zoomBy(s: CameraState, factor: number): CameraState {
  if (s.mode === "orbit") return { ...s, distance: Math.min(2000, Math.max(0.5, s.distance * factor)) };
  return { ...s, halfHeight: Math.min(1000, Math.max(0.5, s.halfHeight * factor)) };
}

/** Direction from the target to the camera, and the screen's up vector, of a state. */
export function viewAxes(s: CameraState): { back: Vector3; up: Vector3 } {
  switch (s.mode) {
    case "top":
      return { back: new Vector3(0, 0, 1), up: new Vector3(1, 0, 0) };
    case "side":
      return { back: new Vector3(0, -1, 0), up: new Vector3(0, 0, 1) };
    case "front":
      return { back: new Vector3(1, 0, 0), up: new Vector3(0, 0, 1) };
    case "orbit": {
      const ce = Math.cos(s.elevation);
      return {
        back: new Vector3(ce * Math.cos(s.azimuth), ce * Math.sin(s.azimuth), Math.sin(s.elevation)),
        up: new Vector3(0, 0, 1),
      };
    }
  }
}

/** Move the target by screen-pixel deltas (the scene follows the mouse). */
export function panBy(s: CameraState, dx: number, dy: number, viewportHeight: number): CameraState {
  const { back, up } = viewAxes(s);
  const right = new Vector3().crossVectors(up, back).normalize();
  const trueUp = new Vector3().crossVectors(back, right).normalize();
  const metresPerPixel =
    s.mode === "orbit"
      ? (2 * s.distance * Math.tan((CAMERA_FOV * Math.PI) / 360)) / Math.max(1, viewportHeight)
      : (2 * s.halfHeight) / Math.max(1, viewportHeight);
  const t = new Vector3(...s.target)
    .addScaledVector(right, -dx * metresPerPixel)
    .addScaledVector(trueUp, dy * metresPerPixel);
  return { ...s, target: [t.x, t.y, t.z] };
}

export const CAMERA_FOV = 50;

/** Cameras owned by one view; `current` is positioned from a state. */
export class CameraRig {
  readonly perspective = new PerspectiveCamera(CAMERA_FOV, 1, 0.1, 5000);
  readonly ortho = new OrthographicCamera(-1, 1, 1, -1, 0.1, 5000);

  apply(s: CameraState, width: number, height: number): PerspectiveCamera | OrthographicCamera {
    const aspect = Math.max(1e-3, width / Math.max(1, height));
    const { back, up } = viewAxes(s);
    const target = new Vector3(...s.target);
    if (s.mode === "orbit") {
      const cam = this.perspective;
      cam.aspect = aspect;
      cam.up.copy(up);
      cam.position.copy(target).addScaledVector(back, s.distance);
      cam.lookAt(target);
      cam.updateProjectionMatrix();
      cam.updateMatrixWorld();
      return cam;
    }
    const cam = this.ortho;
    cam.left = -s.halfHeight * aspect;
    cam.right = s.halfHeight * aspect;
    cam.top = s.halfHeight;
    cam.bottom = -s.halfHeight;
    cam.up.copy(up);
    cam.position.copy(target).addScaledVector(back, 1000);
    cam.lookAt(target);
    cam.updateProjectionMatrix();
    cam.updateMatrixWorld();
    return cam;
  }
}
