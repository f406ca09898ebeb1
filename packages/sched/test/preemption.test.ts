import { describe, expect, it } from "@effect/vitest"
import { SIGUSR1 } from "@simkernel/abi"
import { Effect } from "effect"
import { EMPTY_SIGSET, type Process } from "../src/index.js"
import { runInit } from "./fixtures.js"

/** A child that waits for SIGUSR1 in pause(), then says so. */
const waiter = (log: Array<string>) => (c: Process) =>
  Effect.gen(function* () {
    yield* c.sigaction(SIGUSR1, { handler: () => Effect.void, flags: 0, mask: EMPTY_SIGSET })
    yield* Effect.ignore(c.pause())
    log.push("child woke")
    return 0
  })

describe("wake-up preemption (Kernel.yieldToWoken)", () => {
  it.effect("the task a call woke runs before the caller goes on", () =>
    Effect.gen(function* () {
      const log: Array<string> = []
      yield* runInit((p) =>
        Effect.gen(function* () {
          const pid = yield* p.fork(waiter(log))
          const before = p.task.kernel.runnableNow()
          yield* p.kill(pid, SIGUSR1)
          yield* p.task.kernel.yieldToWoken(p.task, before)
          log.push("parent goes on")
          yield* p.wait4(pid)
          return 0
        })
      )
      expect(log).toEqual(["child woke", "parent goes on"])
    })
  )

  it.effect("without it the waker runs on until it blocks", () =>
    Effect.gen(function* () {
      const log: Array<string> = []
      yield* runInit((p) =>
        Effect.gen(function* () {
          const pid = yield* p.fork(waiter(log))
          yield* p.kill(pid, SIGUSR1)
          log.push("parent goes on")
          yield* p.wait4(pid)
          return 0
        })
      )
      expect(log).toEqual(["parent goes on", "child woke"])
    })
  )

  it.effect("a call that woke nobody does not give up the CPU", () =>
    Effect.gen(function* () {
      const log: Array<string> = []
      yield* runInit((p) =>
        Effect.gen(function* () {
          const pid = yield* p.fork(waiter(log))
          const before = p.task.kernel.runnableNow()
          yield* p.getpid()
          yield* p.task.kernel.yieldToWoken(p.task, before)
          log.push("parent goes on")
          yield* p.kill(pid, SIGUSR1)
          yield* p.wait4(pid)
          return 0
        })
      )
      expect(log).toEqual(["parent goes on", "child woke"])
    })
  )
})
