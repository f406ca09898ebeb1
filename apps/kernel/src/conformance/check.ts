import type { ResultsFile, ScenarioResult, StepResult } from "./format.js"

/** A canonical text of a JSON value: object keys sorted, so key order never matters. */
export const canonical = (v: unknown): string => {
  if (Array.isArray(v)) return `[${v.map(canonical).join(",")}]`
  if (v !== null && typeof v === "object") {
    const keys = Object.keys(v).sort()
    return `{${keys.map((k) => `${JSON.stringify(k)}:${canonical((v as Record<string, unknown>)[k])}`).join(",")}}`
  }
  return JSON.stringify(v) ?? "null"
}

const same = (a: unknown, b: unknown): boolean => canonical(a) === canonical(b)

const stepText = (s: StepResult | undefined): string => (s === undefined ? "(no result)" : canonical(s))

/** Where one scenario's results differ from the expected ones, as lines people read. */
export const diffScenario = (expected: ScenarioResult, got: ScenarioResult | undefined): Array<string> => {
  if (got === undefined) return ["not run"]
  const lines: Array<string> = []
  const n = Math.max(expected.steps.length, got.steps.length)
  for (let i = 0; i < n; i++) {
    const e = expected.steps[i]
    const g = got.steps[i]
    if (!same(e, g)) lines.push(`step ${i} (${e?.call ?? g?.call}): expected ${stepText(e)}, got ${stepText(g)}`)
  }
  if (!same(expected.mounts, got.mounts)) {
    const m = Math.max(expected.mounts.length, got.mounts.length)
    for (let i = 0; i < m; i++) {
      if (!same(expected.mounts[i], got.mounts[i])) {
        lines.push(`mounts[${i}]: expected ${canonical(expected.mounts[i] ?? null)}, got ${canonical(got.mounts[i] ?? null)}`)
      }
    }
  }
  if (!same(expected.tree, got.tree)) {
    const paths = [...new Set([...Object.keys(expected.tree), ...Object.keys(got.tree)])].sort()
    for (const p of paths) {
      if (expected.tree[p] !== got.tree[p]) {
        lines.push(`tree ${p}: expected ${expected.tree[p] ?? "(absent)"}, got ${got.tree[p] ?? "(absent)"}`)
      }
    }
  }
  return lines
}

export interface CheckReport {
  readonly passed: number
  readonly failed: number
  /** One block per failing scenario, then the closing `N passed, N failed` line. */
  readonly text: string
}

/** Compare results with expected ones, scenario by scenario (only the scenarios in `names`, if given). */
export const checkResults = (expected: ResultsFile, got: ResultsFile, names?: ReadonlyArray<string>): CheckReport => {
  let passed = 0
  let failed = 0
  const out: Array<string> = []
  for (const name of names ?? Object.keys(expected.scenarios)) {
    const exp = expected.scenarios[name]
    const lines = exp === undefined ? ["no expected result"] : diffScenario(exp, got.scenarios[name])
    if (lines.length === 0) passed++
    else {
      failed++
      out.push(`FAIL ${name}`, ...lines.map((l) => `  ${l}`))
    }
  }
  out.push(`${passed} passed, ${failed} failed`)
  return { passed, failed, text: out.join("\n") }
}
