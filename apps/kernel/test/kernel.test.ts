import { describe, expect, it } from "@effect/vitest"
import { execFileSync } from "node:child_process"
import { fileURLToPath } from "node:url"
import { Effect } from "effect"
import { boot, shutdown } from "../src/index.js"

const main = fileURLToPath(new URL("../dist/main.js", import.meta.url))

describe("kernel app", () => {
  it.effect("boot then shutdown leaves nothing alive", () =>
    Effect.gen(function* () {
      const kernel = yield* boot()
      const report = yield* shutdown(kernel)
      expect(report.leaked).toBe(0)
      expect(report.audit).toBe("leak audit: 0 live objects")
    })
  )

  it("the simkernel command with no arguments boots, shuts down and prints the audit", () => {
    const out = execFileSync(process.execPath, [main], { encoding: "utf8" })
    expect(out.trim().split("\n").at(-1)).toBe("leak audit: 0 live objects")
  })

  it("--help describes the command", () => {
    const out = execFileSync(process.execPath, [main, "--help"], { encoding: "utf8" })
    expect(out).toContain("USAGE")
    expect(out).toContain("simkernel")
  })
})
