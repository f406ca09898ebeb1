import { describe, expect, it } from "@effect/vitest"
import { CONTAINER_NEW_PID_NS, CONTAINER_NEW_UTS_NS, SIGKILL } from "@simkernel/abi"
import type { Process, Program } from "@simkernel/sched"
import { Effect } from "effect"
import { containerFromFile } from "../src/index.js"
import { exitWith, pauser, runWith } from "./fixtures.js"

/** Reap every child until ECHILD. */
const reapAll = (p: Process): Effect.Effect<number> =>
  Effect.gen(function* () {
    let n = 0
    for (;;) {
      const r = yield* Effect.result(p.wait4(-1))
      if (r._tag === "Failure") return n
      n++
    }
  })

/** A member that forks a few children (some exit, some sleep), yields, then exits with 3. */
const busyMember: Program = (q) =>
  Effect.gen(function* () {
    for (let i = 0; i < 3; i++) yield* Effect.ignore(q.fork(i % 2 === 0 ? exitWith(0) : pauser))
    for (let i = 0; i < 3; i++) yield* q.sched_yield()
    return 3
  })

describe("fork, exit and death race under seeded random scheduling", () => {
  for (let seed = 1; seed <= 24; seed++) {
    const pidns = seed % 2 === 0
    it.effect(`seed ${seed} (${pidns ? "PID namespace" : "no PID namespace"}): the container ends dead and empty, nothing leaks`, () =>
      Effect.gen(function* () {
        const outcomes = new Set<string>()
        const seen: Array<unknown> = []
        yield* runWith(
          ({ containers }) =>
            (p) =>
              Effect.gen(function* () {
                const t = p.task
                const cfd = yield* containers.create(t, `race${seed}`, pidns ? CONTAINER_NEW_PID_NS : CONTAINER_NEW_UTS_NS)
                const c = containerFromFile(p.vfs.files.fdget(cfd)!)!
                yield* containers.forkInto(t, cfd, busyMember)
                const forker = yield* p.fork((q) =>
                  Effect.gen(function* () {
                    for (let i = 0; i < 5; i++) {
                      const r = yield* Effect.result(containers.forkInto(q.task, cfd, i % 2 === 0 ? busyMember : exitWith(1)))
                      outcomes.add(r._tag === "Success" ? "ok" : r.failure.errno)
                      yield* q.sched_yield()
                    }
                    yield* reapAll(q)
                    return 0
                  })
                )
                const killer = yield* p.fork((q) =>
                  Effect.gen(function* () {
                    yield* q.sched_yield()
                    // without init, members forked in after a kill keep the container alive: kill until it is dead
                    while (!c.dead) {
                      containers.kill(q.task, cfd, 0, SIGKILL)
                      yield* q.sched_yield()
                    }
                    return 0
                  })
                )
                const w = yield* containers.wait(t, cfd, 0)
                yield* p.wait4(forker)
                yield* p.wait4(killer)
                yield* reapAll(p)
                seen.push(c.dead, c.members.size, w.status !== undefined)
                return 0
              }),
          { seed }
        )
        expect(seen).toEqual([true, 0, true])
        expect([...outcomes].every((o) => o === "ok" || o === "ECANCELED")).toBe(true)
      }))
  }
})
