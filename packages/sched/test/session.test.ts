import { describe, expect, it } from "@effect/vitest"
import { Effect } from "effect"
import type { Process } from "../src/index.js"
import { errnoOf, exitWith, pauser, runInit } from "./fixtures.js"

describe("process groups and sessions (setpgid(2), setsid(2))", () => {
  it.effect("a child inherits its parent's group and session; setpgid(0, 0) makes its own group", () =>
    Effect.gen(function* () {
      const seen: Array<unknown> = []
      yield* runInit((p) =>
        Effect.gen(function* () {
          seen.push(yield* p.getpgrp(), yield* p.getsid(0))
          const c = yield* p.fork((c) => Effect.gen(function* () {
            seen.push(yield* c.getpgid(0), yield* c.getsid(0))
            yield* c.setpgid(0, 0)
            seen.push(yield* c.getpgid(0))
            return 0
          }))
          yield* p.wait4(c)
          return 0
        })
      )
      expect(seen).toEqual([1, 1, 1, 1, 2])
    }))

  const setpgidCases: ReadonlyArray<readonly [string, (p: Process, child: number) => Effect.Effect<unknown, import("@simkernel/abi").SysError>, string]> = [
    ["a negative pgid", (p, c) => p.setpgid(c, -1), "EINVAL"],
    ["a pid that does not exist", (p) => p.setpgid(4000, 0), "ESRCH"],
    ["a process that is not a child", (p) => p.fork((c) => Effect.as(Effect.flatMap(errnoOf(c.setpgid(1, 0)), (e) => Effect.sync(() => void (got.push(e)))), 0)), "ok"],
    ["a group that does not exist", (p, c) => p.setpgid(c, 4000), "EPERM"],
    ["the child into its own group", (p, c) => p.setpgid(c, c), "ok"],
    ["getpgid of a pid that does not exist", (p) => p.getpgid(4000), "ESRCH"],
    ["getsid of a pid that does not exist", (p) => p.getsid(4000), "ESRCH"],
    ["setsid by a group leader (init)", (p) => p.setsid(), "EPERM"]
  ]
  const got: Array<string> = []
  for (const [name, call, want] of setpgidCases) {
    it.effect(`${name}: ${want}`, () =>
      Effect.gen(function* () {
        let e = ""
        got.length = 0
        yield* runInit((p) =>
          Effect.gen(function* () {
            const c = yield* p.fork(pauser)
            e = yield* errnoOf(call(p, c))
            yield* p.kill(c, 9)
            yield* p.wait4(-1)
            while ((yield* p.wait4(-1, 1).pipe(Effect.catch(() => Effect.succeed({ pid: 0 })))).pid > 0) {
              // reap the rest
            }
            return 0
          })
        )
        expect(e).toBe(want)
        if (got.length > 0) expect(got).toEqual(["ESRCH"])
      }))
  }

  it.effect("setsid: a new session and group named after the caller; then it is a session leader (EPERM for setpgid and setsid)", () =>
    Effect.gen(function* () {
      const seen: Array<unknown> = []
      yield* runInit((p) =>
        Effect.gen(function* () {
          const c = yield* p.fork((c) => Effect.gen(function* () {
            seen.push(yield* c.setsid(), yield* c.getsid(0), yield* c.getpgrp())
            seen.push(yield* errnoOf(c.setsid()))
            seen.push(yield* errnoOf(c.setpgid(0, 0)))
            yield* c.pause().pipe(Effect.ignore)
            return 0
          }))
          seen.push(yield* p.getsid(c))
          // a child in another session cannot be moved
          seen.push(yield* errnoOf(p.setpgid(c, 1)))
          yield* p.kill(c, 9)
          yield* p.wait4(c)
          return 0
        })
      )
      expect(seen).toEqual([2, 2, 2, "EPERM", "EPERM", 2, "EPERM"])
    }))

  it.effect("setpgid on a child after it exec'd is EACCES", () =>
    Effect.gen(function* () {
      let e = ""
      yield* runInit((p) =>
        Effect.gen(function* () {
          p.task.kernel.register("/bin/sleeper", pauser)
          const c = yield* p.fork((c) => c.execve("/bin/sleeper", ["sleeper"]))
          e = yield* errnoOf(p.setpgid(c, c))
          yield* p.kill(c, 9)
          yield* p.wait4(c)
          return 0
        })
      )
      expect(e).toBe("EACCES")
    }))

  it.effect("a process can join another group of its session", () =>
    Effect.gen(function* () {
      const seen: Array<unknown> = []
      yield* runInit((p) =>
        Effect.gen(function* () {
          const a = yield* p.fork((c) => Effect.andThen(c.setpgid(0, 0), pauser(c)))
          const b = yield* p.fork(pauser)
          yield* p.setpgid(b, a)
          seen.push(yield* p.getpgid(b))
          yield* p.kill(-a, 9)
          yield* p.wait4(a)
          yield* p.wait4(b)
          const x = yield* p.fork(exitWith(0))
          yield* p.wait4(x)
          return 0
        })
      )
      expect(seen).toEqual([2])
    }))
})
