import { describe, expect, it } from "@effect/vitest"
import { Effect } from "effect"
import { ArgError, decodeArgs } from "../src/conformance/args.js"
import type { Scenario } from "../src/conformance/format.js"
import { runSchedScenario } from "../src/conformance/schedMachine.js"

const status = { call: "read_file", args: ["AT_FDCWD", "/proc/self/status", "status", ["^(Uid|Gid|Groups):"]] }

/** PID 1 of a new PID namespace with proc mounted, running `steps` (FORMAT.md 5.6). */
const inPidNs = (name: string, steps: ReadonlyArray<unknown>): Scenario =>
  ({
    name,
    steps: [
      { call: "mkdirat", args: ["AT_FDCWD", "/proc", "0555"] },
      { call: "unshare", args: ["CLONE_NEWPID"] },
      { call: "fork", args: [], save: "init", child: [{ call: "mount", args: ["proc", "/proc", "proc", 0, null] }, ...steps] },
      { call: "waitpid", args: ["$init", 0] },
      { call: "umount2", args: ["/proc", 0] }
    ]
  }) as unknown as Scenario

/** The results of the steps of PID 1 (after its mount). */
const initSteps = (scenario: Scenario) =>
  Effect.map(runSchedScenario(scenario), (run) => {
    expect(run.leaks).toBeUndefined()
    const fork = run.result.steps[2] as { child?: ReadonlyArray<unknown> }
    return fork.child!.slice(1)
  })

describe("conformance: setresuid, setresgid and setgroups steps", () => {
  it("decode their arguments: three ids, and a size with a JSON array of gids", () => {
    const saved = new Map<string, number>()
    expect(decodeArgs("setresuid", [-1, 1000, 1002], saved)).toEqual([-1, 1000, 1002])
    expect(decodeArgs("setresgid", [5, 6, 7], saved)).toEqual([5, 6, 7])
    expect(decodeArgs("setgroups", [2, [5, 6]], saved)).toEqual([2, { gids: [5, 6] }])
    expect(decodeArgs("setgroups", [0, []], saved)).toEqual([0, { gids: [] }])
    expect(decodeArgs("setgroups", [1, "5"], saved)).toBeInstanceOf(ArgError)
    expect(decodeArgs("setgroups", [1, [5, "x"]], saved)).toBeInstanceOf(ArgError)
  })

  it.effect("change the ids status shows, with Linux's EPERM once unprivileged (as recorded on Linux 6.18)", () =>
    Effect.gen(function* () {
      const got = yield* initSteps(
        inPidNs("creds", [
          { call: "setgroups", args: [3, [30, 10, 20]] },
          { call: "setresgid", args: [5, 6, 7] },
          { call: "setresuid", args: [-1, 1001, 1002] },
          status,
          { call: "setresuid", args: [1001, 1001, 1001] },
          { call: "setresuid", args: [0, -1, -1] },
          { call: "setgroups", args: [0, []] },
          { call: "setresgid", args: [8, -1, -1] },
          { call: "setresgid", args: [7, 5, -1] },
          status
        ])
      )
      expect(got).toEqual([
        { call: "setgroups", ret: 0 },
        { call: "setresgid", ret: 0 },
        { call: "setresuid", ret: 0 },
        { call: "read_file", ret: { lines: ["Uid:\t0\t1001\t1002\t1001", "Gid:\t5\t6\t7\t6", "Groups:\t10 20 30 "] } },
        { call: "setresuid", ret: 0 },
        { call: "setresuid", errno: "EPERM" },
        { call: "setgroups", errno: "EPERM" },
        { call: "setresgid", errno: "EPERM" },
        { call: "setresgid", ret: 0 },
        { call: "read_file", ret: { lines: ["Uid:\t1001\t1001\t1001\t1001", "Gid:\t7\t5\t7\t5", "Groups:\t10 20 30 "] } }
      ])
    })
  )

  it.effect("setgroups refuses a list shorter than its size (EFAULT) and a size past NGROUPS_MAX (EINVAL)", () =>
    Effect.gen(function* () {
      const got = yield* initSteps(
        inPidNs("setgroups_errors", [
          { call: "setgroups", args: [2, [1]] },
          { call: "setgroups", args: [65537, []] },
          { call: "setgroups", args: [-1, []] },
          status
        ])
      )
      expect(got).toEqual([
        { call: "setgroups", errno: "EFAULT" },
        { call: "setgroups", errno: "EINVAL" },
        { call: "setgroups", errno: "EINVAL" },
        { call: "read_file", ret: { lines: ["Uid:\t0\t0\t0\t0", "Gid:\t0\t0\t0\t0", "Groups:\t "] } }
      ])
    })
  )
})
