// Shared vitest preset: every package calls project(name) from its own
// vitest.config.ts so that a per-package `vitest run` never picks up the
// root projects config.
import { defineProject } from "vitest/config"

export const project = (name, overrides = {}) =>
  defineProject({
    test: {
      name,
      include: ["test/**/*.test.ts"],
      environment: "node",
      testTimeout: 30_000,
      ...overrides
    }
  })
