import { describe, expect, it } from "@effect/vitest"
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { fileURLToPath } from "node:url"
import { Effect } from "effect"
import { conformance, formatResults, parseBlocklist } from "../src/conformance/command.js"
import type { ResultsFile, ScenarioFile } from "../src/conformance/format.js"

const corpus = fileURLToPath(new URL("../../../conformance/", import.meta.url))
const shared = JSON.parse(readFileSync(join(corpus, "shared/scenarios.json"), "utf8")) as ScenarioFile
const expected = JSON.parse(readFileSync(join(corpus, "shared/expected.json"), "utf8")) as ResultsFile

// shared scenarios that use only the VFS core's calls (no fd-based mount API)
const CORE = ["mkdirat_dirfd_rules", "openat_rules", "umount2_with_submounts", "bind_shared_peers", "bind_slave_and_shared", "unshare_setns_isolation"]

describe("simkernel conformance", () => {
  it.effect("writes results in the recordings' exact format, identical to the real kernel's for scenarios it passes", () =>
    Effect.gen(function* () {
      const dir = mkdtempSync(join(tmpdir(), "simkernel-conf-"))
      try {
        const out = join(dir, "results.json")
        const names = CORE.filter((n) => shared.scenarios.some((s) => s.name === n))
        expect(names.length).toBeGreaterThan(1)
        const r = yield* conformance({ file: join(corpus, "shared/scenarios.json"), out, only: names })
        expect(r.exitCode).toBe(0)
        const got = JSON.parse(readFileSync(out, "utf8")) as ResultsFile
        expect(Object.keys(got.scenarios)).toEqual(names)
        expect(got.meta.scenario_count).toBe(names.length)
        const want: ResultsFile = { meta: got.meta, scenarios: Object.fromEntries(names.map((n) => [n, expected.scenarios[n]!])) }
        expect(readFileSync(out, "utf8")).toBe(formatResults(want))
      } finally {
        rmSync(dir, { recursive: true, force: true })
      }
    })
  )

  it.effect("checks against expected results: names each mismatching step and ends with the closing line", () =>
    Effect.gen(function* () {
      const dir = mkdtempSync(join(tmpdir(), "simkernel-conf-"))
      try {
        const name = CORE[0]!
        const wrong: ResultsFile = {
          ...expected,
          scenarios: { ...expected.scenarios, [name]: { ...expected.scenarios[name]!, steps: [{ call: "mkdirat", errno: "EPERM" }, ...expected.scenarios[name]!.steps.slice(1)] } }
        }
        const file = join(dir, "wrong.json")
        writeFileSync(file, JSON.stringify(wrong))
        const r = yield* conformance({ file: join(corpus, "shared/scenarios.json"), check: file, only: [name, CORE[1]!] })
        expect(r.exitCode).toBe(1)
        const lines = r.text.trimEnd().split("\n")
        expect(lines[0]).toBe(`FAIL ${name}`)
        expect(lines[1]).toMatch(/^ {2}step 0 \(mkdirat\): expected \{"call":"mkdirat","errno":"EPERM"\}, got /)
        expect(lines.at(-1)).toBe("1 passed, 1 failed")

        // a blocklisted scenario is reported, not counted; one that passes must come off the list
        const blocklist = join(dir, "blocklist")
        writeFileSync(blocklist, `# comment\n${name}  known to differ\n${CORE[1]}  fixed since\n`)
        const b = yield* conformance({ file: join(corpus, "shared/scenarios.json"), check: file, only: [name, CORE[1]!], blocklist })
        expect(b.text).toContain(`BLOCKED ${name}: known to differ`)
        expect(b.text).toContain(`FAIL ${CORE[1]}: blocklisted but passing now; take it off the blocklist`)
        expect(b.text.trimEnd().split("\n").at(-1)).toBe("0 passed, 1 failed")
      } finally {
        rmSync(dir, { recursive: true, force: true })
      }
    })
  )

  it.effect("says so when the scenario file does not exist", () =>
    Effect.gen(function* () {
      const r = yield* conformance({ file: "/nonexistent/scenarios.json" })
      expect(r.exitCode).toBe(2)
      expect(r.text).toBe("simkernel conformance: /nonexistent/scenarios.json: No such file or directory\n")
    })
  )

  it("reads blocklists: NAME then the reason, comments and blank lines skipped", () => {
    expect([...parseBlocklist("# c\n\nfoo  why it differs\nbar\n")]).toEqual([
      ["foo", "why it differs"],
      ["bar", ""]
    ])
  })
})
