import { readFileSync } from "node:fs"
import { fileURLToPath } from "node:url"
import { describe, expect, it } from "@effect/vitest"
import { Effect } from "effect"
import type { ResultsFile, Scenario, ScenarioFile, StepResult } from "../src/conformance/format.js"
import { runSchedScenario } from "../src/conformance/schedMachine.js"
import { scenarioTests } from "./support.js"

const corpus = (name: string) => fileURLToPath(new URL(`../../../conformance/proc/${name}`, import.meta.url))
const scenarios = JSON.parse(readFileSync(corpus("scenarios.json"), "utf8")) as ScenarioFile
const expected = JSON.parse(readFileSync(corpus("expected.json"), "utf8")) as ResultsFile

/**
 * Scenarios of conformance/proc where simkernel still differs from Linux
 * 6.18, each with the reason. The test asserts that each one listed still
 * differs, so the list only shrinks.
 */
const KNOWN_DIFFERENCES: Readonly<Record<string, string>> = {}

describe("conformance/proc on the sched machine", () => {
  it("covers the whole corpus", () => {
    expect(Object.keys(expected.scenarios).sort()).toEqual(scenarios.scenarios.map((s) => s.name).sort())
    for (const s of scenarios.scenarios) expect(expected.scenarios[s.name]).toBeDefined()
    for (const name of Object.keys(KNOWN_DIFFERENCES)) expect(scenarios.scenarios.some((s) => s.name === name)).toBe(true)
  })

  scenarioTests(scenarios, expected, (name) => KNOWN_DIFFERENCES[name])
})

/**
 * More process scenarios (FIFO opens interrupted or abandoned, EINTR, stop
 * and continue), recorded on Linux 6.18.44 with
 * conformance-linux/simkernel_linux.py; only the step results are kept.
 */
const LINUX_EXTRA: ReadonlyArray<{ readonly scenario: Scenario; readonly linux: ReadonlyArray<StepResult> }> = [
  {
    scenario: { name: "x_fifo_eintr", note: "a caught signal ends a blocked FIFO open (EINTR) and drops the reader again: a non-blocking writer then gets ENXIO", steps: [{"call": "mknodat", "args": ["AT_FDCWD", "/fifo", "S_IFIFO|0600", 0]}, {"call": "fork", "save": "c", "child": [{"call": "signal_catch", "args": ["SIGUSR1"]}, {"call": "openat", "args": ["AT_FDCWD", "/fifo", "O_RDONLY", 0]}, {"call": "exit", "args": [7]}]}, {"call": "waitpid", "args": ["$c", "WNOHANG"]}, {"call": "kill", "args": ["$c", "SIGUSR1"]}, {"call": "waitpid", "args": ["$c", 0]}, {"call": "openat", "args": ["AT_FDCWD", "/fifo", "O_WRONLY|O_NONBLOCK", 0]}] },
    linux: [{"call": "mknodat", "ret": 0}, {"call": "fork", "ret": "pid", "child": [{"call": "signal_catch", "ret": 0}]}, {"call": "waitpid", "ret": 0}, {"call": "kill", "ret": 0}, {"call": "waitpid", "ret": {"exited": 7}}, {"call": "openat", "errno": "ENXIO"}]
  },
  {
    scenario: { name: "x_fifo_killed_reader_gone", note: "a reader killed while blocked in open no longer counts", steps: [{"call": "mknodat", "args": ["AT_FDCWD", "/fifo", "S_IFIFO|0600", 0]}, {"call": "fork", "save": "c", "child": [{"call": "openat", "args": ["AT_FDCWD", "/fifo", "O_RDONLY", 0]}, {"call": "exit", "args": [7]}]}, {"call": "kill", "args": ["$c", "SIGKILL"]}, {"call": "waitpid", "args": ["$c", 0]}, {"call": "openat", "args": ["AT_FDCWD", "/fifo", "O_WRONLY|O_NONBLOCK", 0]}] },
    linux: [{"call": "mknodat", "ret": 0}, {"call": "fork", "ret": "pid", "child": []}, {"call": "kill", "ret": 0}, {"call": "waitpid", "ret": {"signaled": "SIGKILL"}}, {"call": "openat", "errno": "ENXIO"}]
  },
  {
    scenario: { name: "x_fifo_writer_blocks", note: "a blocking writer open waits for a reader; O_RDWR never blocks", steps: [{"call": "mknodat", "args": ["AT_FDCWD", "/fifo", "S_IFIFO|0600", 0]}, {"call": "fork", "save": "c", "child": [{"call": "openat", "args": ["AT_FDCWD", "/fifo", "O_WRONLY", 0]}, {"call": "exit", "args": [2]}]}, {"call": "waitpid", "args": ["$c", "WNOHANG"]}, {"call": "openat", "args": ["AT_FDCWD", "/fifo", "O_RDONLY|O_NONBLOCK", 0]}, {"call": "waitpid", "args": ["$c", 0]}, {"call": "openat", "args": ["AT_FDCWD", "/fifo", "O_RDWR", 0]}, {"call": "openat", "args": ["AT_FDCWD", "/fifo", "O_RDONLY", 0]}] },
    linux: [{"call": "mknodat", "ret": 0}, {"call": "fork", "ret": "pid", "child": []}, {"call": "waitpid", "ret": 0}, {"call": "openat", "ret": "fd"}, {"call": "waitpid", "ret": {"exited": 2}}, {"call": "openat", "ret": "fd"}, {"call": "openat", "ret": "fd"}]
  },
  {
    scenario: { name: "x_waitpid_eintr", note: "a caught signal without SA_RESTART ends a blocked waitpid with EINTR", steps: [{"call": "fork", "save": "c", "child": [{"call": "signal_catch", "args": ["SIGUSR1"]}, {"call": "fork", "save": "g", "child": [{"call": "pause"}]}, {"call": "waitpid", "args": ["$g", 0]}, {"call": "kill", "args": ["$g", "SIGKILL"]}, {"call": "exit", "args": [3]}]}, {"call": "kill", "args": ["$c", "SIGUSR1"]}, {"call": "waitpid", "args": ["$c", 0]}] },
    linux: [{"call": "fork", "ret": "pid", "child": [{"call": "signal_catch", "ret": 0}, {"call": "fork", "ret": "pid", "child": []}]}, {"call": "kill", "ret": 0}, {"call": "waitpid", "ret": {"exited": 3}}]
  },
  {
    scenario: { name: "x_sigterm_blocked_waitpid", note: "a default-fatal signal kills a process blocked in waitpid; its orphan goes to the runner", steps: [{"call": "fork", "save": "c", "child": [{"call": "fork", "save": "g", "child": [{"call": "pause"}]}, {"call": "waitpid", "args": ["$g", 0]}]}, {"call": "kill", "args": ["$c", "SIGTERM"]}, {"call": "waitpid", "args": ["$c", 0]}, {"call": "waitpid", "args": [-1, "WNOHANG"]}] },
    linux: [{"call": "fork", "ret": "pid", "child": [{"call": "fork", "ret": "pid", "child": []}]}, {"call": "kill", "ret": 0}, {"call": "waitpid", "ret": {"signaled": "SIGTERM"}}, {"call": "waitpid", "errno": "ECHILD"}]
  },
  {
    scenario: { name: "x_sigcont_caught", note: "a caught SIGCONT resumes a stopped child and ends its pause; its exit is reported before the continue", steps: [{"call": "fork", "save": "c", "child": [{"call": "signal_catch", "args": ["SIGCONT"]}, {"call": "pause"}, {"call": "exit", "args": [4]}]}, {"call": "kill", "args": ["$c", "SIGSTOP"]}, {"call": "waitpid", "args": ["$c", "WUNTRACED"]}, {"call": "kill", "args": ["$c", "SIGCONT"]}, {"call": "waitpid", "args": ["$c", "WCONTINUED"]}, {"call": "waitpid", "args": ["$c", 0]}] },
    linux: [{"call": "fork", "ret": "pid", "child": [{"call": "signal_catch", "ret": 0}]}, {"call": "kill", "ret": 0}, {"call": "waitpid", "ret": {"stopped": "SIGSTOP"}}, {"call": "kill", "ret": 0}, {"call": "waitpid", "ret": {"exited": 4}}, {"call": "waitpid", "errno": "ECHILD"}]
  },
  {
    scenario: { name: "x_wait_any_stopped_and_zombie", note: "waitpid(-1, WUNTRACED) reports the stopped older child first, then the zombie", steps: [{"call": "fork", "save": "a", "child": [{"call": "pause"}]}, {"call": "fork", "save": "b", "child": [{"call": "exit", "args": [1]}]}, {"call": "kill", "args": ["$a", "SIGSTOP"]}, {"call": "waitpid", "args": [-1, "WUNTRACED"]}, {"call": "waitpid", "args": [-1, "WUNTRACED"]}, {"call": "kill", "args": ["$a", "SIGKILL"]}, {"call": "waitpid", "args": [-1, 0]}, {"call": "waitpid", "args": [-1, 0]}] },
    linux: [{"call": "fork", "ret": "pid", "child": []}, {"call": "fork", "ret": "pid", "child": []}, {"call": "kill", "ret": 0}, {"call": "waitpid", "ret": {"stopped": "SIGSTOP"}}, {"call": "waitpid", "ret": {"exited": 1}}, {"call": "kill", "ret": 0}, {"call": "waitpid", "ret": {"signaled": "SIGKILL"}}, {"call": "waitpid", "errno": "ECHILD"}]
  },
  {
    scenario: { name: "x_pidns_stop_init_from_parent", note: "a PID namespace init stops and continues on SIGSTOP/SIGCONT from the parent namespace", steps: [{"call": "unshare", "args": ["CLONE_NEWPID"]}, {"call": "fork", "save": "init", "child": [{"call": "pause"}]}, {"call": "kill", "args": ["$init", "SIGSTOP"]}, {"call": "waitpid", "args": ["$init", "WUNTRACED"]}, {"call": "kill", "args": ["$init", "SIGCONT"]}, {"call": "waitpid", "args": ["$init", "WCONTINUED"]}, {"call": "kill", "args": ["$init", "SIGKILL"]}, {"call": "waitpid", "args": ["$init", 0]}] },
    linux: [{"call": "unshare", "ret": 0}, {"call": "fork", "ret": "pid", "child": []}, {"call": "kill", "ret": 0}, {"call": "waitpid", "ret": {"stopped": "SIGSTOP"}}, {"call": "kill", "ret": 0}, {"call": "waitpid", "ret": {"continued": true}}, {"call": "kill", "ret": 0}, {"call": "waitpid", "ret": {"signaled": "SIGKILL"}}]
  },
  {
    scenario: { name: "x_orphan_sigchld_ign_subreaper", note: "with SIGCHLD ignored the exited middle process is reaped at once, and its orphan becomes the subreaper's child (WNOHANG gives 0, not ECHILD)", steps: [{"call": "prctl", "args": ["PR_SET_CHILD_SUBREAPER", 1]}, {"call": "signal_ignore", "args": ["SIGCHLD"]}, {"call": "fork", "save": "m", "child": [{"call": "fork", "save": "c", "child": [{"call": "pause"}]}, {"call": "signal_default", "args": ["SIGCHLD"]}, {"call": "exit", "args": [0]}]}, {"call": "waitpid", "args": [-1, "WNOHANG"]}, {"call": "signal_default", "args": ["SIGCHLD"]}, {"call": "waitpid", "args": [-1, "WNOHANG"]}] },
    linux: [{"call": "prctl", "ret": 0}, {"call": "signal_ignore", "ret": 0}, {"call": "fork", "ret": "pid", "child": [{"call": "fork", "ret": "pid", "child": []}, {"call": "signal_default", "ret": 0}]}, {"call": "waitpid", "ret": 0}, {"call": "signal_default", "ret": 0}, {"call": "waitpid", "ret": 0}]
  }
]

describe("more process scenarios, recorded on Linux", () => {
  for (const { scenario, linux } of LINUX_EXTRA) {
    it.effect(`${scenario.name}: ${scenario.note}`, () =>
      Effect.gen(function* () {
        const run = yield* runSchedScenario(scenario)
        expect(run.leaks).toBeUndefined()
        expect(run.log).toEqual([])
        expect(run.result.steps).toEqual(linux)
      })
    )
  }
})

describe("the sched machine's runner errors", () => {
  const run = (steps: Scenario["steps"]) => runSchedScenario({ name: "t", steps })

  it.effect("a scenario whose processes all block for good reports the steps done, then a runner_error, and leaks nothing", () =>
    Effect.gen(function* () {
      const r = yield* run([{ call: "fork", save: "c", child: [{ call: "pause" }] }, { call: "getpid" }, { call: "waitpid", args: ["$c", 0] }, { call: "getpid" }])
      expect(r.result.steps.slice(0, 2)).toEqual([
        { call: "fork", ret: "pid", child: [] },
        { call: "getpid", ret: 2 }
      ])
      expect(r.result.steps[2]).toMatchObject({ call: "waitpid" })
      expect((r.result.steps[2] as { runner_error: string }).runner_error).toMatch(/blocked for good/)
      expect(r.result.steps.length).toBe(3)
      expect(r.leaks).toBeUndefined()
    })
  )

  it.effect("kill of the runner, a pid <= 0, and pause or exit in the scenario process itself are scenario errors", () =>
    Effect.gen(function* () {
      const r = yield* run([
        { call: "kill", args: [1, "SIGKILL"] },
        { call: "kill", args: [0, "SIGTERM"] },
        { call: "kill", args: [99999, 0] },
        { call: "pause" },
        { call: "exit", args: [1] },
        { call: "getppid" }
      ])
      expect(r.result.steps).toEqual([
        { call: "kill", runner_error: "kill: pid 1 is not a process of the scenario" },
        { call: "kill", runner_error: "kill: pid 0: scenarios signal one process (pid > 0)" },
        { call: "kill", errno: "ESRCH" },
        { call: "pause", runner_error: "pause is only allowed in a child's steps" },
        { call: "exit", runner_error: "exit is only allowed in a child's steps" },
        { call: "getppid", ret: 1 }
      ])
      expect(r.leaks).toBeUndefined()
    })
  )

  it.effect("a scenario process killed by its own child ends with a runner_error, and leaks nothing", () =>
    Effect.gen(function* () {
      const r = yield* run([{ call: "signal_default", args: ["SIGUSR1"] }, { call: "fork", child: [{ call: "getppid", save: "pp" }, { call: "kill", args: ["$pp", "SIGUSR1"] }] }])
      expect(r.result.steps).toEqual([
        { call: "signal_default", ret: 0 },
        { call: "fork", runner_error: "the scenario process was killed" }
      ])
      expect(r.leaks).toBeUndefined()
    })
  )
})
