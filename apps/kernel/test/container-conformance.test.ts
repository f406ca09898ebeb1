import { readFileSync } from "node:fs"
import { fileURLToPath } from "node:url"
import { describe, expect, it } from "@effect/vitest"
import { Effect } from "effect"
import { diffScenario } from "../src/conformance/check.js"
import { usesContainerCalls } from "../src/conformance/container.js"
import type { ResultsFile, Scenario, ScenarioFile, StepResult } from "../src/conformance/format.js"
import { runSchedScenario } from "../src/conformance/schedMachine.js"

const corpus = (name: string) => fileURLToPath(new URL(`../../../conformance/container/${name}`, import.meta.url))
const scenarios = JSON.parse(readFileSync(corpus("scenarios.json"), "utf8")) as ScenarioFile
const expected = JSON.parse(readFileSync(corpus("expected.json"), "utf8")) as ResultsFile

describe("conformance/container on the sched machine", () => {
  it("covers the whole corpus, at least 40 scenarios, each with a note saying the rule", () => {
    expect(scenarios.scenarios.length).toBeGreaterThanOrEqual(40)
    expect(Object.keys(expected.scenarios)).toEqual(scenarios.scenarios.map((s) => s.name))
    for (const s of scenarios.scenarios) {
      expect(s.note?.length ?? 0).toBeGreaterThan(20)
      expect(usesContainerCalls(s.steps)).toBe(true)
    }
  })

  for (const scenario of scenarios.scenarios) {
    it.effect(scenario.name, () =>
      Effect.gen(function* () {
        const run = yield* runSchedScenario(scenario)
        expect(run.leaks).toBeUndefined()
        expect(run.log).toEqual([])
        expect(diffScenario(expected.scenarios[scenario.name]!, run.result)).toEqual([])
      })
    )
  }
})

/** A step's errno, or its return value. */
const outcome = (s: StepResult): unknown => ("errno" in s ? s.errno : "ret" in s ? s.ret : s.runner_error)

describe("conformance/container/linux (Bottomley's model, recorded on Linux) on the sched machine", () => {
  const linux = JSON.parse(readFileSync(corpus("linux/scenarios.json"), "utf8")) as ScenarioFile
  const recorded = JSON.parse(readFileSync(corpus("linux/expected.json"), "utf8")) as ResultsFile
  for (const scenario of linux.scenarios) {
    it.effect(scenario.name, () =>
      Effect.gen(function* () {
        // plain namespaces only: these run on the mainline machine
        expect(usesContainerCalls(scenario.steps)).toBe(false)
        const run = yield* runSchedScenario(scenario)
        expect(run.leaks).toBeUndefined()
        expect(run.log).toEqual([])
        expect(diffScenario(recorded.scenarios[scenario.name]!, run.result)).toEqual([])
      })
    )
  }
})

describe("which kernel a scenario runs on (FORMAT.md 8.1)", () => {
  const fsconfig9: Scenario = {
    name: "t",
    steps: [
      { call: "fsopen", args: ["tmpfs", 0], save: "f" },
      { call: "fsconfig", args: ["$f", "FSCONFIG_SET_CONTAINER", null, null, 0] },
      { call: "move_mount", args: ["$f", "", "AT_FDCWD", "/", "MOVE_MOUNT_T_CONTAINER_ROOT"] }
    ]
  }

  it.effect("without a container call it is mainline: fsconfig command 9 is EOPNOTSUPP, move_mount flag 0x80 EINVAL", () =>
    Effect.gen(function* () {
      const run = yield* runSchedScenario(fsconfig9)
      expect(run.result.steps.map(outcome)).toEqual(["fd", "EOPNOTSUPP", "EINVAL"])
    })
  )

  it.effect("a container call anywhere, even in a child's steps, loads the container package: command 9 and flag 0x80 are known", () =>
    Effect.gen(function* () {
      const withChild: Scenario = {
        ...fsconfig9,
        steps: [...fsconfig9.steps, { call: "fork", child: [{ call: "container_wait", args: [-1, 0] }] }]
      }
      const run = yield* runSchedScenario(withChild)
      expect(run.leaks).toBeUndefined()
      // fd 0 is open but no container; the mount fd is no detached tree without MOVE_MOUNT_F_EMPTY_PATH
      expect(run.result.steps.map(outcome)).toEqual(["fd", "EINVAL", "ENOENT", "pid"])
      expect(run.result.steps[3]).toEqual({ call: "fork", ret: "pid", child: [{ call: "container_wait", errno: "EBADF" }] })
    })
  )
})
