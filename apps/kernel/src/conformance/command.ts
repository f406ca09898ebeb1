import { spawnSync } from "node:child_process"
import { existsSync, readFileSync, writeFileSync } from "node:fs"
import { fileURLToPath } from "node:url"
import { Effect } from "effect"
import { checkResults, diffScenario } from "./check.js"
import type { ResultsFile, ScenarioFile } from "./format.js"
import { runScenariosOnSched } from "./schedMachine.js"

/** What `simkernel conformance` was asked to do. */
export interface ConformanceOptions {
  readonly file: string
  /** Write the results here (in expected.json's format). */
  readonly out?: string
  /** Compare with these expected results: per-scenario mismatches, then `N passed, N failed`. */
  readonly check?: string
  /** Run on the real Linux kernel instead of simkernel. */
  readonly linux?: boolean
  /** Only these scenarios. */
  readonly only?: ReadonlyArray<string>
  /** Scenarios known to differ (`NAME  reason` lines); they are reported, not counted. */
  readonly blocklist?: string
}

export interface ConformanceOutcome {
  readonly exitCode: number
  /** What the command prints on standard output. */
  readonly text: string
}

/** The real-kernel runner shipped with the app (conformance-linux/simkernel_linux.py). */
export const LINUX_RUNNER = fileURLToPath(new URL("../../conformance-linux/simkernel_linux.py", import.meta.url))

/** `NAME  reason` per line; blank lines and # comments skipped. */
export const parseBlocklist = (text: string): Map<string, string> => {
  const out = new Map<string, string>()
  for (const line of text.split("\n")) {
    const t = line.trim()
    if (t === "" || t.startsWith("#")) continue
    const m = /^(\S+)\s*(.*)$/.exec(t)
    if (m !== null) out.set(m[1]!, m[2]!)
  }
  return out
}

/** Results as the recordings write them: JSON with one-space indents and a final newline. */
export const formatResults = (results: ResultsFile): string => `${JSON.stringify(results, null, 1)}\n`

const readJson = <A>(path: string): A => JSON.parse(readFileSync(path, "utf8")) as A

const runOnLinux = (options: ConformanceOptions): ConformanceOutcome => {
  const python = spawnSync("python3", ["--version"], { encoding: "utf8" })
  if (python.error !== undefined || python.status !== 0) {
    return { exitCode: 2, text: "simkernel conformance --linux: python3 is needed to run scenarios on the real kernel, and there is none here\n" }
  }
  const only = (options.only ?? []).length > 0 ? ["--only", ...(options.only ?? [])] : []
  const args =
    options.check !== undefined
      ? ["check", options.file, "--expected", options.check, ...(options.blocklist ? ["--blocklist", options.blocklist] : []), ...only]
      : ["run", options.file, ...(options.out ? ["--out", options.out] : []), ...only]
  const r = spawnSync("python3", [LINUX_RUNNER, ...args], { encoding: "utf8", stdio: ["ignore", "pipe", "inherit"] })
  return { exitCode: r.status ?? 1, text: r.stdout ?? "" }
}

/** The `simkernel conformance` command. */
export const conformance = Effect.fnUntraced(function* (options: ConformanceOptions) {
  if (!existsSync(options.file)) return { exitCode: 2, text: `simkernel conformance: ${options.file}: No such file or directory\n` }
  if (options.linux === true) return runOnLinux(options)
  const scenarios = readJson<ScenarioFile>(options.file)
  const { file, failures } = yield* runScenariosOnSched(scenarios, options.only ?? [])
  if (options.out !== undefined) writeFileSync(options.out, formatResults(file))
  if (options.check === undefined) {
    const leakText = Object.entries(failures).map(([name, report]) => `FAIL ${name}\n${report}\n`).join("")
    return { exitCode: leakText === "" ? 0 : 1, text: (options.out === undefined ? formatResults(file) : "") + leakText }
  }
  const expected = readJson<ResultsFile>(options.check)
  const blocked = options.blocklist !== undefined && existsSync(options.blocklist) ? parseBlocklist(readFileSync(options.blocklist, "utf8")) : new Map<string, string>()
  const names = Object.keys(file.scenarios).filter((n) => expected.scenarios[n] !== undefined)
  const counted = names.filter((n) => !blocked.has(n) && failures[n] === undefined)
  const report = checkResults(expected, file, counted)
  const lines: Array<string> = []
  let failed = report.failed
  for (const name of names.filter((n) => failures[n] !== undefined)) {
    failed++
    lines.push(`FAIL ${name}`, `  after teardown: ${failures[name]!.split("\n").join("\n  ")}`)
  }
  for (const name of names.filter((n) => blocked.has(n))) {
    const still = diffScenario(expected.scenarios[name]!, file.scenarios[name]).length > 0
    if (!still) {
      failed++
      lines.push(`FAIL ${name}: blocklisted but passing now; take it off the blocklist`)
    } else lines.push(`BLOCKED ${name}: ${blocked.get(name)}`)
  }
  const body = report.text.split("\n").slice(0, -1)
  const text = [...body, ...lines, `${report.passed} passed, ${failed} failed`].join("\n") + "\n"
  return { exitCode: failed === 0 ? 0 : 1, text }
})
