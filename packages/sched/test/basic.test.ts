import { describe, expect, it } from "@effect/vitest"
import { WEXITSTATUS, WIFEXITED } from "@simkernel/abi"
import { Effect } from "effect"
import { runInit } from "./fixtures.js"

describe("fork, exit, wait", () => {
  it.effect("fork a child, wait for its status", () =>
    Effect.gen(function* () {
      const seen: Array<unknown> = []
      const { status } = yield* runInit((p) =>
        Effect.gen(function* () {
          seen.push(["init", yield* p.getpid()])
          const pid = yield* p.fork((c) =>
            Effect.gen(function* () {
              seen.push(["child", yield* c.getpid(), yield* c.getppid()])
              return 7
            })
          )
          seen.push(["forked", pid])
          const w = yield* p.wait4(pid)
          seen.push(["waited", w.pid, WIFEXITED(w.status), WEXITSTATUS(w.status)])
          return 3
        })
      )
      expect(seen).toEqual([["init", 1], ["child", 2, 1], ["forked", 2], ["waited", 2, true, 7]])
      expect(WEXITSTATUS(status)).toBe(3)
    }))
})
