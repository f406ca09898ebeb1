import { describe, expect, it } from "@effect/vitest"
import { CAP_SYS_ADMIN, CLONE_NEWPID, CLONE_NEWUSER, CLONE_NEWUTS, SIGCHLD, SIGKILL, SIGTERM, SIGUSR1 } from "@simkernel/abi"
import { NsSetTransaction, setnsPidfd } from "@simkernel/nsproxy"
import { Effect } from "effect"
import { assertNoLeaks } from "@simkernel/kref"
import { Kernel, type PidNamespace, pidNamespaceOps, type Process, type Program } from "../src/index.js"
import { errnoOf, exitWith, pauser, runInit } from "./fixtures.js"

/** A scenario with forks, signals, sleeps on blocking calls and reaping, recording every step. */
const scenario = (trace: Array<string>): Program => (p) => {
  const log = (q: Process, what: string) => Effect.map(q.gettid(), (t) => void trace.push(`${t} ${what}`))
  const worker = (n: number): Program => (q) =>
    Effect.gen(function* () {
      yield* log(q, `worker ${n} starts`)
      yield* q.sigaction(SIGUSR1, { handler: () => log(q, `worker ${n} handles SIGUSR1`), flags: 0, mask: 0n })
      yield* q.pause().pipe(Effect.ignore)
      yield* log(q, `worker ${n} woke`)
      if (n === 2) yield* q.fork((r) => Effect.andThen(log(r, "grandchild runs"), Effect.succeed(1)))
      return n
    })
  return Effect.gen(function* () {
    const a = yield* p.fork(worker(1))
    yield* log(p, `forked ${a}`)
    const b = yield* p.fork(worker(2))
    yield* log(p, `forked ${b}`)
    yield* p.kill(a, SIGUSR1)
    yield* p.kill(b, SIGUSR1)
    yield* log(p, "signalled both")
    for (let i = 0; i < 3; i++) {
      const w = yield* p.wait4(-1)
      yield* log(p, `reaped ${w.pid} status ${w.status >> 8}`)
    }
    return 0
  })
}

describe("the scheduler", () => {
  it.effect("the same program gives the same interleaving every run; a forked child runs first until it blocks", () =>
    Effect.gen(function* () {
      const runs: Array<Array<string>> = []
      for (let i = 0; i < 3; i++) {
        const trace: Array<string> = []
        yield* runInit(scenario(trace))
        runs.push(trace)
      }
      expect(runs[1]).toEqual(runs[0])
      expect(runs[2]).toEqual(runs[0])
      expect(runs[0]).toEqual([
        "2 worker 1 starts",
        "1 forked 2",
        "3 worker 2 starts",
        "1 forked 3",
        "1 signalled both",
        "3 worker 2 handles SIGUSR1",
        "3 worker 2 woke",
        "4 grandchild runs",
        // worker 2 exiting woke init, and a woken task runs before those already waiting
        "1 reaped 3 status 2",
        "1 reaped 4 status 1",
        "2 worker 1 handles SIGUSR1",
        "2 worker 1 woke",
        "1 reaped 2 status 1"
      ])
    }))

  it.effect("shutdown kills every task left, even blocked and stopped ones, and frees everything", () =>
    Effect.gen(function* () {
      const k = yield* Kernel.boot()
      const died = yield* k.run((p) =>
        Effect.gen(function* () {
          yield* p.fork(pauser)
          yield* p.fork((c) => Effect.andThen(c.kill(0, 19), pauser(c)))
          yield* p.clone3({ flags: CLONE_NEWPID, exitSignal: SIGCHLD }, (c) => Effect.andThen(c.fork(pauser), pauser(c)))
          return yield* pauser(p)
        })
      ).pipe(Effect.catchDefect((d) => Effect.succeed(String(d))))
      // init never returns: run() reports that every task is blocked
      expect(String(died)).toMatch(/^deadlock/)
      yield* k.shutdown()
      assertNoLeaks(k.live)
    }))
})

describe("PID namespace ops for setns and NS_GET_PARENT", () => {
  it.effect("setns to a child's PID namespace: children are born there; a sibling's or parent's is EINVAL", () =>
    Effect.gen(function* () {
      const seen: Array<unknown> = []
      yield* runInit((p) =>
        Effect.gen(function* () {
          const r = yield* p.clone3({ flags: CLONE_NEWPID, exitSignal: SIGCHLD }, pauser)
          const child = r.child
          const k = p.task.kernel
          const caller = { nsproxy: p.task.nsproxy!, cred: p.task.cred, fsUsers: 1, threads: 1, activePidNs: p.task.activePidNs }
          const target = { nsproxy: child.nsproxy, cred: child.cred, activePidNs: child.activePidNs, mayAccess: true }
          const tx = setnsPidfd(caller, target, CLONE_NEWPID)
          if (!(tx instanceof NsSetTransaction)) return yield* Effect.fail(tx)
          tx.commit(p.task)
          const inner: Array<number> = []
          const c = yield* p.fork((q) => Effect.map(q.getpid(), (n) => (inner.push(n), 0)))
          yield* p.wait4(c)
          seen.push(inner[0], c)
          // from inside the child namespace, the initial one is out of reach
          const parentOf = pidNamespaceOps.getParent!(child.activePidNs, { activePidNs: child.activePidNs })
          seen.push(parentOf instanceof Error ? parentOf.errno : "got")
          const up = pidNamespaceOps.getParent!(child.activePidNs, { activePidNs: k.initPidNs }) as PidNamespace
          seen.push(up === k.initPidNs)
          up.put()
          const back = setnsPidfd(
            { ...caller, nsproxy: child.nsproxy!, activePidNs: child.activePidNs },
            { nsproxy: p.task.nsproxy, cred: p.task.cred, activePidNs: k.initPidNs, mayAccess: true },
            CLONE_NEWPID
          )
          seen.push(back instanceof Error ? back.errno : "entered")
          yield* p.kill(r.pid, SIGKILL)
          yield* p.wait4(r.pid)
          return 0
        })
      )
      expect(seen).toEqual([2, 3, "EPERM", true, "EINVAL"])
    }))

  it.effect("setns to a PID namespace needs CAP_SYS_ADMIN over its owner (EPERM)", () =>
    Effect.gen(function* () {
      let got = ""
      yield* runInit((p) =>
        Effect.gen(function* () {
          const r = yield* p.clone3({ flags: CLONE_NEWPID + CLONE_NEWUSER + CLONE_NEWUTS, exitSignal: SIGCHLD }, pauser)
          const child = r.child
          const c = yield* p.fork((q) => Effect.gen(function* () {
            yield* q.setuid(1000)
            const caller = { nsproxy: q.task.nsproxy!, cred: q.task.cred, fsUsers: 1, threads: 1, activePidNs: q.task.activePidNs }
            const tx = setnsPidfd(caller, { nsproxy: child.nsproxy, cred: child.cred, activePidNs: child.activePidNs, mayAccess: true }, CLONE_NEWPID)
            got = tx instanceof Error ? tx.errno : "entered"
            if (tx instanceof NsSetTransaction) tx.abort()
            return 0
          }))
          yield* p.wait4(c)
          yield* p.kill(r.pid, SIGTERM)
          yield* p.kill(r.pid, SIGKILL)
          yield* p.wait4(r.pid)
          return 0
        })
      )
      expect(CAP_SYS_ADMIN).toBe(21)
      expect(got).toBe("EPERM")
    }))

  it.effect("a child made with CLONE_NEWUSER|CLONE_NEWPID is root and pid 1 in its namespaces", () =>
    Effect.gen(function* () {
      const seen: Array<unknown> = []
      yield* runInit((p) =>
        Effect.gen(function* () {
          const r = yield* p.clone3({ flags: CLONE_NEWUSER + CLONE_NEWPID, exitSignal: SIGCHLD }, (c) =>
            Effect.gen(function* () {
              seen.push(yield* c.getpid(), c.task.cred.userNs.level)
              seen.push(yield* errnoOf(c.fork(exitWith(0))))
              yield* c.wait4(-1)
              return 0
            })
          )
          yield* p.wait4(r.pid)
          return 0
        })
      )
      expect(seen).toEqual([1, 1, "ok"])
    }))
})
