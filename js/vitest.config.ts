import { defineConfig } from "vitest/config";

// Tests default to Node; files that need a DOM opt in with
// `// @vitest-environment jsdom` on their first line.
export default defineConfig({
  test: {
    include: ["tests/**/*.test.ts"],
    environment: "node",
  },
});
