// Bundle the shared runtime and every widget into src/accord/static/.
//
//   node build.mjs           one minified build
//   node build.mjs --watch   rebuild on change (unminified, for development)
//   node build.mjs --dev     one unminified build
//
// Each widget lives in js/src/widgets/<name>/index.ts and becomes
// src/accord/static/<name>.js, a self-contained ESM that anywidget loads as
// `_esm`. The runtime is bundled into every widget; runtime.js is also built
// on its own (the Python build checks for it).
import { existsSync, readdirSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import * as esbuild from "esbuild";

const here = dirname(fileURLToPath(import.meta.url));
const outdir = resolve(here, "..", "src", "accord", "static");
const widgetsDir = join(here, "src", "widgets");
const watch = process.argv.includes("--watch");
const dev = watch || process.argv.includes("--dev");

/** Output name → entry file, for the runtime and every widget folder. */
function entryPoints() {
  const entries = { runtime: join(here, "src", "runtime", "index.ts") };
  if (!existsSync(widgetsDir)) return entries;
  for (const dirent of readdirSync(widgetsDir, { withFileTypes: true })) {
    if (!dirent.isDirectory()) continue;
    const entry = join(widgetsDir, dirent.name, "index.ts");
    if (!existsSync(entry)) continue;
    if (!/^[a-z0-9][a-z0-9_-]*$/.test(dirent.name) || dirent.name === "runtime") {
      throw new Error(
        `js/src/widgets/${dirent.name}: expected a lower-case name of [a-z0-9_-] other than "runtime"`,
      );
    }
    entries[dirent.name] = entry;
  }
  return entries;
}

/** @type {import("esbuild").BuildOptions} */
const options = {
  entryPoints: entryPoints(),
  outdir,
  bundle: true,
  format: "esm",
  platform: "browser",
  target: "es2022",
  minify: !dev,
  sourcemap: false,
  legalComments: "eof",
  logLevel: "info",
};

if (watch) {
  const ctx = await esbuild.context(options);
  await ctx.watch();
  console.log(`watching js/src → ${outdir} (new widget folders need a restart)`);
} else {
  await esbuild.build(options);
}
