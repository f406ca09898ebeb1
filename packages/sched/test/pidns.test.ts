import { describe, expect, it } from "@effect/vitest"
import { CLONE_NEWPID, SIGCHLD, SIGKILL, WEXITSTATUS, WIFSIGNALED, WTERMSIG } from "@simkernel/abi"
import { createInitUserNs } from "@simkernel/cred"
import { assertNoLeaks, LiveObjects } from "@simkernel/kref"
import { Effect } from "effect"
import { PidNamespace, RESERVED_PIDS } from "../src/index.js"
import { errnoOf, exitWith, pauser, runInit } from "./fixtures.js"

describe("PID namespaces", () => {
  it.effect("a child in a new PID namespace is its pid 1, with ppid 0; its children count from 2", () =>
    Effect.gen(function* () {
      const seen: Record<string, unknown> = {}
      yield* runInit((p) =>
        Effect.gen(function* () {
          const r = yield* p.clone3({ flags: CLONE_NEWPID, exitSignal: SIGCHLD }, (c) =>
            Effect.gen(function* () {
              seen.inner = [yield* c.getpid(), yield* c.getppid()]
              const g = yield* c.fork((gc) => Effect.gen(function* () {
                seen.grandchild = [yield* gc.getpid(), yield* gc.getppid()]
                return 0
              }))
              seen.forked = g
              yield* c.wait4(g)
              return 5
            })
          )
          seen.outer = r.pid
          const w = yield* p.wait4(r.pid)
          seen.status = WEXITSTATUS(w.status)
          return 0
        })
      )
      expect(seen).toEqual({ inner: [1, 0], grandchild: [2, 1], forked: 2, outer: 2, status: 5 })
    }))

  it.effect("pids are allocated cyclically, not reused at once", () =>
    Effect.gen(function* () {
      const pids: Array<number> = []
      yield* runInit((p) =>
        Effect.gen(function* () {
          for (let i = 0; i < 4; i++) {
            const pid = yield* p.fork(exitWith(0))
            pids.push(pid)
            yield* p.wait4(pid)
          }
          return 0
        })
      )
      expect(pids).toEqual([2, 3, 4, 5])
    }))

  it.effect("after pid_max the allocation wraps to RESERVED_PIDS (300), lowest free first", () =>
    Effect.gen(function* () {
      const pids: Array<number> = []
      yield* runInit(
        (p) =>
          Effect.gen(function* () {
            // keep 300 alive so the wrap skips it
            let kept = 0
            for (let i = 0; i < 310; i++) {
              const pid = yield* p.fork(i === 298 ? pauser : exitWith(0))
              if (pid === 300) kept = pid
              else yield* p.wait4(pid)
              pids.push(pid)
            }
            yield* p.kill(kept, SIGKILL)
            yield* p.wait4(kept)
            return 0
          }),
        { pidMax: 305 }
      )
      expect(RESERVED_PIDS).toBe(300)
      // 2..304 first (300 kept alive), then the wrap starts at 300, which is busy, so 301
      expect(pids.slice(297, 305)).toEqual([299, 300, 301, 302, 303, 304, 301, 302])
    }))

  it.effect("EAGAIN when every pid below pid_max is taken", () =>
    Effect.gen(function* () {
      let err = ""
      yield* runInit(
        (p) =>
          Effect.gen(function* () {
            const kids = [yield* p.fork(pauser), yield* p.fork(pauser), yield* p.fork(pauser)]
            err = yield* errnoOf(p.fork(exitWith(0)))
            for (const k of kids) yield* p.kill(k, SIGKILL)
            for (const k of kids) yield* p.wait4(k)
            return 0
          }),
        { pidMax: 5 }
      )
      expect(err).toBe("EAGAIN")
    }))

  it.effect("when a namespace's init exits, every other process in it is killed", () =>
    Effect.gen(function* () {
      const seen: Record<string, unknown> = {}
      const { kernel } = yield* runInit((p) =>
        Effect.gen(function* () {
          const r = yield* p.clone3({ flags: CLONE_NEWPID, exitSignal: SIGCHLD }, (c) =>
            Effect.gen(function* () {
              const a = yield* c.fork(pauser)
              // a grandchild whose parent is not init
              yield* c.fork((x) => Effect.andThen(x.fork(pauser), pauser(x)))
              seen.a = a
              return 9
            })
          )
          const w = yield* p.wait4(r.pid)
          seen.status = WEXITSTATUS(w.status)
          seen.left = p.task.kernel.initPidNs.pidAllocated
          return 0
        })
      )
      expect(seen).toEqual({ a: 2, status: 9, left: 1 })
      expect(kernel.log).toEqual([])
    }))

  it.effect("SIGKILL from the parent namespace kills a namespace's init and its namespace", () =>
    Effect.gen(function* () {
      const seen: Array<unknown> = []
      yield* runInit((p) =>
        Effect.gen(function* () {
          const r = yield* p.clone3({ flags: CLONE_NEWPID, exitSignal: SIGCHLD }, (c) =>
            Effect.andThen(c.fork(pauser), pauser(c))
          )
          yield* p.kill(r.pid, SIGKILL)
          const w = yield* p.wait4(r.pid)
          seen.push(WIFSIGNALED(w.status), WTERMSIG(w.status))
          return 0
        })
      )
      expect(seen).toEqual([true, SIGKILL])
    }))

  it.effect("unshare(CLONE_NEWPID): the next child is pid 1 there; a second unshare is EINVAL; after its init died, fork is ENOMEM", () =>
    Effect.gen(function* () {
      const seen: Record<string, unknown> = {}
      yield* runInit((p) =>
        Effect.gen(function* () {
          yield* p.unshare(CLONE_NEWPID)
          seen.again = yield* errnoOf(p.unshare(CLONE_NEWPID))
          seen.self = yield* p.getpid()
          const inner: Array<number> = []
          const a = yield* p.fork((c) => Effect.map(c.getpid(), (n) => (inner.push(n), 0)))
          yield* p.wait4(a)
          seen.inner = inner
          seen.afterInit = yield* errnoOf(p.fork(exitWith(0)))
          return 0
        })
      )
      expect(seen).toEqual({ again: "EINVAL", self: 1, inner: [1], afterInit: "ENOMEM" })
    }))

  it.effect("a pid taken in an inner namespace is given back when an outer level fails", () =>
    Effect.gen(function* () {
      const seen: Array<unknown> = []
      yield* runInit((p) =>
        Effect.gen(function* () {
          yield* p.unshare(CLONE_NEWPID)
          // inner 1 is free, outer 1 is PID 1 itself: EEXIST, and the inner 1 is released
          seen.push(yield* errnoOf(p.clone3({ flags: 0, exitSignal: SIGCHLD, setTid: [1, 1] }, exitWith(0))))
          const r = yield* p.clone3({ flags: 0, exitSignal: SIGCHLD, setTid: [1, 600] }, (c) => Effect.map(c.getpid(), (n) => (seen.push(n), 0)))
          seen.push(r.pid)
          yield* p.wait4(r.pid)
          return 0
        })
      )
      expect(seen).toEqual(["EEXIST", 1, 600])
    }))

  it.effect("nesting: 32 levels below the initial namespace, then ENOSPC", () =>
    Effect.sync(() => {
      const live = new LiveObjects()
      const userNs = createInitUserNs({ registry: live })
      const chain: Array<PidNamespace> = [PidNamespace.createInit(userNs)]
      for (let i = 1; i <= 32; i++) chain.push(chain[i - 1]!.createChild(userNs) as PidNamespace)
      expect(chain[32]!.level).toBe(32)
      const err = chain[32]!.createChild(userNs)
      expect(err instanceof Error ? err.errno : "made").toBe("ENOSPC")
      for (const ns of chain.reverse()) ns.put()
      userNs.put()
      assertNoLeaks(live)
    }))
})
