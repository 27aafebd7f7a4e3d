/**
 * accord's shared front-end runtime, bundled into every widget:
 * the command protocol, binary buffers, chunked uploads, the in-page bus,
 * text-only DOM helpers, error banners, 2D geometry and the shared
 * playhead clock.
 */
export * from "./protocol.js";
export * from "./binary.js";
export * from "./chunking.js";
export * from "./bus.js";
export * from "./text.js";
export * from "./errors.js";
export * from "./geometry.js";
export * from "./clock.js";
export * from "./edits.js";
export * from "./linkmode.js";
