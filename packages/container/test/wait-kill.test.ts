import { describe, expect, it } from "@effect/vitest"
import {
  CONTAINER_KILL_ON_CLOSE,
  CONTAINER_NEW_PID_NS,
  CONTAINER_NEW_UTS_NS,
  POLLHUP,
  POLLIN,
  SIGKILL,
  SIGTERM,
  SIGUSR1,
    WNOHANG,
  WUNTRACED
} from "@simkernel/abi"
import type { Process } from "@simkernel/sched"
import { Effect } from "effect"
import { containerFromFile } from "../src/index.js"
import { errnoOf, errnoOfSync, exitWith, pauser, runWith } from "./fixtures.js"

/** A program that catches SIGUSR1 (noting it) and then sleeps until killed. */
const catcher = (log: Array<unknown>): ((p: Process) => Effect.Effect<number, never>) => (p) =>
  Effect.gen(function* () {
    yield* Effect.ignore(p.sigaction(SIGUSR1, { handler: (sig) => Effect.sync(() => void log.push(["caught", sig])), flags: 0, mask: 0n }))
    return yield* Effect.forever(p.pause().pipe(Effect.ignore))
  })

describe("container_wait", () => {
  it.effect("argument errors: EINVAL options first, then EBADF, EINVAL for another fd", () =>
    Effect.gen(function* () {
      const seen: Array<unknown> = []
      yield* runWith(({ containers }) => (p) =>
        Effect.gen(function* () {
          const t = p.task
          const cfd = yield* containers.create(t, "c", 0)
          const [r] = yield* p.pipe()
          seen.push(yield* errnoOf(containers.wait(t, cfd, WUNTRACED)))
          seen.push(yield* errnoOf(containers.wait(t, 77, WUNTRACED)))
          seen.push(yield* errnoOf(containers.wait(t, 77, 0)))
          seen.push(yield* errnoOf(containers.wait(t, r, 0)))
          seen.push(yield* errnoOf(containers.wait(t, cfd, WNOHANG)))
          return 0
        })
      )
      expect(seen).toEqual(["EINVAL", "EINVAL", "EBADF", "EINVAL", "ok"])
    }))

  it.effect("sleeps until the container dies; a handled signal makes it EINTR, an ignored one does not", () =>
    Effect.gen(function* () {
      const seen: Array<unknown> = []
      yield* runWith(({ containers }) => (p) =>
        Effect.gen(function* () {
          const t = p.task
          const cfd = yield* containers.create(t, "c", CONTAINER_NEW_PID_NS)
          const init = yield* containers.forkInto(t, cfd, pauser)
          // a waiter of our own, interrupted by a handled signal
          const waiter = yield* p.fork((q) =>
            Effect.gen(function* () {
              yield* q.sigaction(SIGUSR1, { handler: () => Effect.void, flags: 0, mask: 0n })
              seen.push(["waiter", yield* errnoOf(containers.wait(q.task, cfd, 0))])
              const w = yield* containers.wait(q.task, cfd, 0)
              seen.push(["waiter woke", w.status])
              return 0
            })
          )
          yield* p.kill(waiter, SIGUSR1)
          yield* p.kill(init, SIGKILL)
          yield* p.wait4(waiter)
          yield* p.wait4(init)
          seen.push(["poll", yield* p.poll([{ fd: cfd, events: POLLIN }], -1)])
          return 0
        })
      )
      expect(seen).toEqual([["waiter", "EINTR"], ["waiter woke", SIGKILL], ["poll", [POLLHUP]]])
    }))

  it.effect("poll(2) on a cfd sleeps until the container is dead", () =>
    Effect.gen(function* () {
      const seen: Array<unknown> = []
      yield* runWith(({ containers }) => (p) =>
        Effect.gen(function* () {
          const t = p.task
          const cfd = yield* containers.create(t, "c", CONTAINER_NEW_PID_NS)
          const init = yield* containers.forkInto(t, cfd, pauser)
          const poller = yield* p.fork((q) => Effect.map(q.poll([{ fd: cfd, events: POLLIN }], -1), (r) => (seen.push(["polled", r]), 0)))
          seen.push("killing")
          yield* p.kill(init, SIGKILL)
          yield* p.wait4(poller)
          yield* p.wait4(init)
          return 0
        })
      )
      expect(seen).toEqual(["killing", ["polled", [POLLHUP]]])
    }))
})

describe("container_kill", () => {
  it.effect("init only, or every member; signal 0 checks; ESRCH without init; EINVAL for a bad signal", () =>
    Effect.gen(function* () {
      const seen: Array<unknown> = []
      const caught: Array<unknown> = []
      yield* runWith(({ containers }) => (p) =>
        Effect.gen(function* () {
          const t = p.task
          const pod = yield* containers.create(t, "pod", CONTAINER_NEW_UTS_NS)
          seen.push(errnoOfSync(containers.kill(t, pod, 1, 0)), errnoOfSync(containers.kill(t, pod, 0, 0)))
          const a = yield* containers.forkInto(t, pod, catcher(caught))
          const b = yield* containers.forkInto(t, pod, catcher(caught))
          seen.push(errnoOfSync(containers.kill(t, pod, 1, SIGTERM)), containers.kill(t, pod, 0, 0), errnoOfSync(containers.kill(t, pod, 0, 65)))
          seen.push(containers.kill(t, pod, 0, SIGUSR1))
          yield* p.sched_yield()
          const [r] = yield* p.pipe()
          seen.push(errnoOfSync(containers.kill(t, 55, 0, 0)), errnoOfSync(containers.kill(t, r, 0, 0)))
          seen.push(containers.kill(t, pod, 0, SIGKILL))
          yield* p.wait4(a)
          yield* p.wait4(b)
          const pidns = yield* containers.create(t, "pidns", CONTAINER_NEW_PID_NS)
          const init = yield* containers.forkInto(t, pidns, catcher(caught))
          // from outside, a PID namespace's init ignores what it has no handler for, except SIGKILL and SIGSTOP
          seen.push(containers.kill(t, pidns, 1, SIGTERM))
          seen.push(containers.kill(t, pidns, 1, SIGUSR1))
          yield* p.sched_yield()
          seen.push(containers.kill(t, pidns, 1, SIGKILL))
          const w = yield* p.wait4(init)
          seen.push(["init", w.status, errnoOfSync(containers.kill(t, pidns, 1, 0))])
          return 0
        })
      )
      expect(seen).toEqual(["ESRCH", "ESRCH", "ESRCH", 0, "EINVAL", 0, "EBADF", "EINVAL", 0, 0, 0, 0, ["init", SIGKILL, "ESRCH"]])
      expect(caught).toEqual([["caught", SIGUSR1], ["caught", SIGUSR1], ["caught", SIGUSR1]])
    }))

  it.effect("kill(2)'s permission rule from the caller to each member: EPERM", () =>
    Effect.gen(function* () {
      const seen: Array<unknown> = []
      yield* runWith(({ containers }) => (p) =>
        Effect.gen(function* () {
          const t = p.task
          const cfd = yield* containers.create(t, "root-owned", 0)
          const m = yield* containers.forkInto(t, cfd, pauser)
          const user = yield* p.fork((q) =>
            Effect.gen(function* () {
              yield* q.setuid(1000)
              seen.push(errnoOfSync(containers.kill(q.task, cfd, 0, SIGTERM)), errnoOfSync(containers.kill(q.task, cfd, 0, 0)))
              return 0
            })
          )
          yield* p.wait4(user)
          seen.push(containers.kill(t, cfd, 0, SIGKILL))
          yield* p.wait4(m)
          return 0
        })
      )
      expect(seen).toEqual(["EPERM", "EPERM", 0])
    }))
})

describe("close and KILL_ON_CLOSE", () => {
  it.effect("closing the last fd of a KILL_ON_CLOSE container SIGKILLs every member; without it members live on", () =>
    Effect.gen(function* () {
      const seen: Array<unknown> = []
      yield* runWith(({ containers }) => (p) =>
        Effect.gen(function* () {
          const t = p.task
          const keep = yield* containers.create(t, "keep", 0)
          const c = yield* containers.forkInto(t, keep, pauser)
          const b = yield* containers.forkInto(t, keep, exitWith(0))
          const koc = yield* containers.create(t, "koc", CONTAINER_KILL_ON_CLOSE)
          // a member inherits the caller's descriptors, the cfd too (CONTAINER_FD_CLOEXEC closes it at execve): close it
          const a = yield* containers.forkInto(t, koc, (q) => Effect.andThen(q.close(koc), pauser(q)))
          const dup = p.vfs.files.fcntl(koc, 0 /* F_DUPFD */, 10)
          yield* p.close(koc)
          seen.push(["dup still open", (yield* p.wait4(a, WNOHANG)).pid])
          yield* p.close(dup as number)
          seen.push(["a", (yield* p.wait4(a)).status])
          yield* p.close(keep)
          seen.push(["c alive", (yield* p.wait4(c, WNOHANG)).pid])
          yield* p.kill(c, SIGKILL)
          yield* p.wait4(c)
          yield* p.wait4(b)
          return 0
        })
      )
      expect(seen).toEqual([["dup still open", 0], ["a", SIGKILL], ["c alive", 0]])
    }))

  it.effect("a container dying takes its children down: their members are killed and they are dead", () =>
    Effect.gen(function* () {
      const seen: Array<unknown> = []
      yield* runWith(({ containers }) => (p) =>
        Effect.gen(function* () {
          const t = p.task
          const outer = yield* containers.create(t, "outer", CONTAINER_NEW_UTS_NS)
          const outerC = containerFromFile(p.vfs.files.fdget(outer)!)!
          const [r, w] = yield* p.pipe()
          const [r2, w2] = yield* p.pipe()
          const a = yield* containers.forkInto(t, outer, (q) =>
            Effect.gen(function* () {
              // a member makes a child container and forks into it, then leaves when told
              const inner = yield* containers.create(q.task, "inner", CONTAINER_NEW_UTS_NS)
              const b = yield* containers.forkInto(q.task, inner, pauser)
              yield* q.write(w, new Uint8Array([b]))
              yield* q.read(r2, new Uint8Array(1))
              return 0
            })
          )
          const buf = new Uint8Array(1)
          yield* p.read(r, buf)
          const innerC = [...outerC.children][0]!
          seen.push(["inner", innerC.name, innerC.parent === outerC, innerC.members.size])
          yield* p.write(w2, new Uint8Array([1]))
          yield* p.wait4(a)
          // A was outer's last member: outer is dead, inner with it, and B (reparented to us) was killed
          const wb = yield* p.wait4(buf[0]!)
          seen.push(["after", outerC.dead, innerC.dead, innerC.exitCode, wb.status, innerC.members.size])
          return 0
        })
      )
      expect(seen).toEqual([
        ["inner", "inner", true, 1],
        ["after", true, true, SIGKILL, SIGKILL, 0]
      ])
    }))
})
