import { describe, expect, it } from "@effect/vitest"
import {
  CORPUS_VFS_EXPECTED,
  CORPUS_VFS_SCENARIOS,
  loadBlocklist,
  loadExpected,
  loadScenarios,
  runScenario,
  type Scenario,
  type ScenarioResult,
  SHARED_EXPECTED,
  SHARED_SCENARIOS,
  SUPPORTED,
  VFS_EXPECTED,
  VFS_SCENARIOS
} from "./conformance.js"

const blocklist = loadBlocklist()

const callsOf = (steps: Scenario["steps"]): Array<string> =>
  steps.flatMap((s) => [s.call, ...callsOf((s as { child?: Scenario["steps"] }).child ?? [])])

const same = (got: ScenarioResult, want: ScenarioResult): boolean =>
  JSON.stringify([got.steps, got.mounts, got.tree]) === JSON.stringify([want.steps, want.mounts, want.tree])

/**
 * Every scenario of a corpus must give the real kernel's results, except
 * the blocklisted ones, which must still differ: a blocklisted scenario
 * that starts passing fails until it is taken off the list.
 */
const corpus = (title: string, scenariosFile: string, expectedFile: string): void => {
  const scenarios = loadScenarios(scenariosFile)
  const expected = loadExpected(expectedFile)
  describe(title, () => {
    it("has only calls this runner replays", () => {
      const unsupported = new Set(scenarios.flatMap((s) => callsOf(s.steps)).filter((c) => !SUPPORTED.has(c)))
      expect([...unsupported]).toEqual([])
    })
    for (const sc of scenarios) {
      const reason = blocklist.get(sc.name)
      it(reason === undefined ? sc.name : `${sc.name} (blocklisted: ${reason})`, () => {
        const got = runScenario(sc)
        const want = expected[sc.name]!
        if (reason !== undefined) {
          expect(same(got, want), `${sc.name} passes now: remove it from conformance/blocklist`).toBe(false)
          return
        }
        expect(got.steps).toEqual(want.steps)
        expect(got.mounts).toEqual(want.mounts)
        expect(got.tree).toEqual(want.tree)
      })
    }
  })
}

corpus("the shared mount-API oracle (conformance/shared, Linux 6.18.44)", SHARED_SCENARIOS, SHARED_EXPECTED)
corpus("the project's VFS corpus (conformance/vfs, Linux 6.18.44)", CORPUS_VFS_SCENARIOS, CORPUS_VFS_EXPECTED)
corpus("this package's differential scenarios (test/fixtures, Linux 6.18)", VFS_SCENARIOS, VFS_EXPECTED)
