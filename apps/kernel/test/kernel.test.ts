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

  it.effect("boot makes init's credentials and namespaces, with Linux's initial inode numbers", () =>
    Effect.gen(function* () {
      const kernel = yield* boot()
      expect(kernel.init.cred.uid).toBe(0)
      expect(kernel.init.cred.userNs).toBe(kernel.initUserNs)
      expect(kernel.initUserNs.inum).toBe(4026531837)
      expect(kernel.init.nsproxy!.uts.inum).toBe(4026531838)
      expect(kernel.init.nsproxy!.ipc.inum).toBe(4026531839)
      expect(kernel.live.size()).toBeGreaterThan(0)
      const report = yield* shutdown(kernel)
      expect(report.leaked).toBe(0)
    })
  )

  it("the simkernel command with no arguments boots, shuts down and prints the audit", () => {
    const out = execFileSync(process.execPath, [main], { encoding: "utf8" })
    const lines = out.trim().split("\n")
    expect(lines).toContain("  uts:[4026531838]")
    expect(lines.slice(-2)).toEqual(["simkernel: shut down", "leak audit: 0 live objects"])
  })

  it("--help describes the command", () => {
    const out = execFileSync(process.execPath, [main, "--help"], { encoding: "utf8" })
    expect(out).toContain("USAGE")
    expect(out).toContain("simkernel")
  })
})
