import { describe, expect, it } from "@effect/vitest"
import {
  CLONE_CLEAR_SIGHAND,
  CLONE_SIGHAND,
  CLONE_THREAD,
  CLONE_VM,
  P_ALL,
  SIG_IGN,
  SIGCHLD,
  SIGCONT,
  SIGHUP,
  SIGKILL,
  SIGSTOP,
  SIGUSR1,
  SIGUSR2,
  WEXITED,
  WEXITSTATUS,
  WNOHANG,
  WTERMSIG,
  WUNTRACED
} from "@simkernel/abi"
import { assertNoLeaks } from "@simkernel/kref"
import { Effect } from "effect"
import { Kernel } from "../src/index.js"
import { errnoOf, exitWith, pauser, runInit } from "./fixtures.js"

describe("the kernel object", () => {
  it.effect("boot and shutdown with PID 1 never started leaves nothing behind", () =>
    Effect.gen(function* () {
      const k = yield* Kernel.boot()
      expect(k.initTask.pid.nr).toBe(1)
      expect(k.initPidNs.inum).toBe(4026531836)
      yield* k.shutdown()
      assertNoLeaks(k.live)
    }))

  it.effect("kernel.kill signals from outside (SI_KERNEL); ESRCH for no such pid", () =>
    Effect.gen(function* () {
      const k = yield* Kernel.boot()
      const seen: Array<unknown> = []
      yield* k.start((p) =>
        Effect.gen(function* () {
          const c = yield* p.fork(pauser)
          seen.push(WTERMSIG((yield* p.wait4(c)).status))
          return 0
        })
      )
      yield* k.settle()
      const sent = [k.kill(2, SIGUSR2), k.kill(99, SIGUSR2)?.errno]
      yield* k.waitInit()
      yield* k.shutdown()
      assertNoLeaks(k.live)
      expect(sent).toEqual([undefined, "ESRCH"])
      expect(seen).toEqual([SIGUSR2])
    }))

  it.effect("an unhandled errno ends the program with status 1 and is logged", () =>
    Effect.gen(function* () {
      const k = yield* Kernel.boot()
      const status = yield* k.run((p) => Effect.andThen(p.wait4(-1), Effect.succeed(0)))
      yield* k.shutdown()
      assertNoLeaks(k.live)
      expect(WEXITSTATUS(status)).toBe(1)
      expect(k.log).toEqual(["init[1]: unhandled ECHILD"])
    }))

  it.effect("a defect in a program is an oops: the task dies of SIGSEGV, the kernel goes on", () =>
    Effect.gen(function* () {
      const seen: Array<unknown> = []
      const k = yield* Kernel.boot()
      yield* k.run((p) =>
        Effect.gen(function* () {
          const c = yield* p.fork(() => Effect.die("bug"))
          seen.push(WTERMSIG((yield* p.wait4(c)).status))
          return 0
        })
      )
      yield* k.shutdown()
      assertNoLeaks(k.live)
      expect(seen).toEqual([11])
      expect(k.log[0]).toMatch(/^oops: init\[2\]/)
    }))
})

describe("rusage", () => {
  it.effect("wait4 reports the child's simulated CPU time and the parent accumulates it", () =>
    Effect.gen(function* () {
      const seen: Array<unknown> = []
      yield* runInit((p) =>
        Effect.gen(function* () {
          const c = yield* p.fork((c) => Effect.as(c.burn(5000), 0))
          const w = yield* p.wait4(c)
          seen.push(w.rusage.utime, w.rusage.stime > 0, p.task.signal.cutime)
          return 0
        })
      )
      expect(seen).toEqual([5000, true, 5000])
    }))
})

describe("more clone and exec rules", () => {
  it.effect("CLONE_CLEAR_SIGHAND resets caught handlers in the child, ignored ones stay", () =>
    Effect.gen(function* () {
      const seen: Array<unknown> = []
      yield* runInit((p) =>
        Effect.gen(function* () {
          yield* p.sigaction(SIGUSR1, { handler: () => Effect.void, flags: 0, mask: 0n })
          yield* p.sigaction(SIGUSR2, { handler: SIG_IGN, flags: 0, mask: 0n })
          const r = yield* p.clone3({ flags: CLONE_CLEAR_SIGHAND, exitSignal: SIGCHLD }, (c) =>
            Effect.gen(function* () {
              seen.push((yield* c.sigaction(SIGUSR1)).handler, (yield* c.sigaction(SIGUSR2)).handler)
              return 0
            })
          )
          yield* p.wait4(r.pid)
          return 0
        })
      )
      expect(seen).toEqual([0, SIG_IGN])
    }))

  it.effect("execve in a threaded process kills the other threads first", () =>
    Effect.gen(function* () {
      const seen: Array<unknown> = []
      yield* runInit((p) =>
        Effect.gen(function* () {
          p.task.kernel.register("/bin/alone", (q) => Effect.sync(() => (seen.push(q.task.signal.threads.length), 4)))
          const c = yield* p.fork((c) =>
            Effect.gen(function* () {
              yield* c.clone(pauser, CLONE_VM | CLONE_SIGHAND | CLONE_THREAD)
              yield* c.clone(pauser, CLONE_VM | CLONE_SIGHAND | CLONE_THREAD)
              return yield* c.execve("/bin/alone", ["alone"])
            })
          )
          seen.push(WEXITSTATUS((yield* p.wait4(c)).status))
          return 0
        })
      )
      expect(seen).toEqual([1, 4])
    }))

  it.effect("waitid with WNOHANG and nothing ready gives pid 0", () =>
    Effect.gen(function* () {
      const seen: Array<unknown> = []
      yield* runInit((p) =>
        Effect.gen(function* () {
          const c = yield* p.fork(pauser)
          seen.push((yield* p.waitid(P_ALL, 0, WEXITED | WNOHANG)).pid)
          yield* p.kill(c, SIGKILL)
          yield* p.wait4(c)
          return 0
        })
      )
      expect(seen).toEqual([0])
    }))
})

describe("orphaned process groups", () => {
  it.effect("when a stopped process group becomes orphaned it gets SIGHUP and SIGCONT", () =>
    Effect.gen(function* () {
      const seen: Array<unknown> = []
      yield* runInit((p) =>
        Effect.gen(function* () {
          yield* p.prctl(36, 1)
          const mid = yield* p.fork((m) =>
            Effect.gen(function* () {
              // a child in its own group, stopped; its parent (mid) links the group to the session
              const g = yield* m.fork((g) => Effect.andThen(g.setpgid(0, 0), pauser(g)))
              yield* m.kill(g, SIGSTOP)
              yield* m.wait4(g, WUNTRACED)
              return 0
            })
          )
          yield* p.wait4(mid)
          const w = yield* p.wait4(-1)
          seen.push(WTERMSIG(w.status))
          return 0
        })
      )
      expect(seen).toEqual([SIGHUP])
      expect(SIGCONT).toBe(18)
    }))
})

describe("exit_signal", () => {
  it.effect("a child with exit signal 0 sends nothing but can still be waited for with __WALL", () =>
    Effect.gen(function* () {
      const seen: Array<unknown> = []
      yield* runInit((p) =>
        Effect.gen(function* () {
          yield* p.sigaction(SIGCHLD, { handler: () => Effect.sync(() => void seen.push("SIGCHLD")), flags: 0, mask: 0n })
          const r = yield* p.clone(exitWith(1), 0)
          const w = yield* p.wait4(r.pid, 0x40000000)
          seen.push(WEXITSTATUS(w.status))
          return 0
        })
      )
      expect(seen).toEqual([1])
    }))
})

describe("unshare(2)", () => {
  it.effect("CLONE_NEWUSER moves the caller into a new user namespace; unknown flags and CLONE_VM in a threaded process are EINVAL", () =>
    Effect.gen(function* () {
      const seen: Array<unknown> = []
      yield* runInit((p) =>
        Effect.gen(function* () {
          const c = yield* p.fork((c) => Effect.gen(function* () {
            seen.push(yield* errnoOf(c.unshare(0x1)))
            yield* c.unshare(0x10000000)
            seen.push(c.task.cred.userNs.level)
            yield* c.clone(pauser, CLONE_VM | CLONE_SIGHAND | CLONE_THREAD)
            seen.push(yield* errnoOf(c.unshare(CLONE_VM)))
            return yield* c.exit_group(0)
          }))
          yield* p.wait4(c)
          return 0
        })
      )
      expect(seen).toEqual(["EINVAL", 1, "EINVAL"])
    }))
})
