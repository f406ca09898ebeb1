import { describe, expect, it } from "@effect/vitest"
import {
  CLONE_NEWPID,
  CLONE_SIGHAND,
  CLONE_THREAD,
  CLONE_VM,
  SA_RESETHAND,
  SIG_BLOCK,
  SIG_IGN,
  SIG_SETMASK,
  SIG_UNBLOCK,
  SIGCHLD,
  SIGCONT,
  SIGKILL,
  SIGSTOP,
  SIGTERM,
  SIGUSR1,
  SIGUSR2,
  SI_TKILL,
  SI_USER,
  type SysError,
  WIFEXITED,
  WNOHANG,
  WTERMSIG
} from "@simkernel/abi"
import { sysError as sysErrorOf } from "@simkernel/abi"
import { Effect } from "effect"
import { type Process, type SigAction, type SigInfo, sigmask, sigsetOf } from "../src/index.js"
import { errnoOf, exitWith, pauser, runInit, runWithClock } from "./fixtures.js"

const handler = (log: Array<unknown>): SigAction => ({
  handler: (sig, info) => Effect.sync(() => void log.push([sig, info.code, info.pid])),
  flags: 0,
  mask: 0n
})

describe("kill(2) errors", () => {
  const cases: ReadonlyArray<readonly [string, (p: Process, child: number) => Effect.Effect<unknown, SysError>, string]> = [
    ["a pid that does not exist", (p) => p.kill(4000, SIGTERM), "ESRCH"],
    ["an invalid signal to a pid that does not exist", (p) => p.kill(4000, 100), "ESRCH"],
    ["an invalid signal", (p, c) => p.kill(c, 65), "EINVAL"],
    ["a negative signal", (p, c) => p.kill(c, -1), "EINVAL"],
    ["signal 0 to a live child", (p, c) => p.kill(c, 0), "ok"],
    ["a process group that does not exist", (p) => p.kill(-4000, SIGTERM), "ESRCH"],
    ["INT_MIN", (p) => p.kill(-2147483648, SIGTERM), "ESRCH"],
    ["-1 with an invalid signal", (p) => p.kill(-1, 100), "EINVAL"],
    ["tgkill with tid 0", (p, c) => p.tgkill(c, 0, SIGUSR1), "EINVAL"],
    ["tgkill with tgid 0", (p, c) => p.tgkill(0, c, SIGUSR1), "EINVAL"],
    ["tgkill with the wrong tgid", (p, c) => p.tgkill(1, c, SIGUSR1), "ESRCH"],
    ["tkill with tid -1", (p) => p.tkill(-1, SIGUSR1), "EINVAL"],
    ["tgkill signal 0", (p, c) => p.tgkill(c, c, 0), "ok"]
  ]
  for (const [name, call, want] of cases) {
    it.effect(`${name}: ${want}`, () =>
      Effect.gen(function* () {
        let got = ""
        yield* runInit((p) =>
          Effect.gen(function* () {
            const c = yield* p.fork(pauser)
            got = yield* errnoOf(call(p, c))
            yield* p.kill(c, SIGKILL)
            yield* p.wait4(c)
            return 0
          })
        )
        expect(got).toBe(want)
      }))
  }
})

describe("kill permissions", () => {
  it.effect("EPERM across users without CAP_KILL; SIGCONT within the session is allowed; root may signal anyone", () =>
    Effect.gen(function* () {
      const seen: Array<string> = []
      yield* runInit((p) =>
        Effect.gen(function* () {
          const victim = yield* p.fork((c) => Effect.andThen(c.setuid(2000), pauser(c)))
          const a = yield* p.fork((c) =>
            Effect.gen(function* () {
              yield* c.setuid(1000)
              seen.push(yield* errnoOf(c.kill(victim, SIGTERM)))
              seen.push(yield* errnoOf(c.kill(victim, 0)))
              seen.push(yield* errnoOf(c.kill(victim, SIGCONT)))
              seen.push(yield* errnoOf(c.kill(1, SIGUSR1)))
              return 0
            })
          )
          yield* p.wait4(a)
          seen.push(yield* errnoOf(p.kill(victim, SIGKILL)))
          yield* p.wait4(victim)
          return 0
        })
      )
      expect(seen).toEqual(["EPERM", "EPERM", "ok", "EPERM", "ok"])
    }))

  it.effect("kill(-1) signals every process but init and the caller; ESRCH when there is none", () =>
    Effect.gen(function* () {
      const seen: Array<unknown> = []
      yield* runInit((p) =>
        Effect.gen(function* () {
          const a = yield* p.fork(pauser)
          const b = yield* p.fork((c) => Effect.gen(function* () {
            seen.push(yield* errnoOf(c.kill(-1, SIGTERM)))
            return 0
          }))
          const wa = yield* p.wait4(a)
          const wb = yield* p.wait4(b)
          seen.push(WTERMSIG(wa.status), WIFEXITED(wb.status))
          const c = yield* p.fork((c) => Effect.map(errnoOf(c.kill(-1, SIGTERM)), (e) => (seen.push(e), 0)))
          yield* p.wait4(c)
          return 0
        })
      )
      expect(seen).toEqual(["ok", SIGTERM, true, "ESRCH"])
    }))

  it.effect("kill(0) signals the caller's process group; kill(-pgid) another group", () =>
    Effect.gen(function* () {
      const seen: Array<unknown> = []
      yield* runInit((p) =>
        Effect.gen(function* () {
          const leader = yield* p.fork((c) => Effect.andThen(c.setpgid(0, 0), pauser(c)))
          const member = yield* p.fork((c) => Effect.andThen(c.setpgid(0, leader), pauser(c)))
          const other = yield* p.fork(pauser)
          yield* p.kill(-leader, SIGTERM)
          seen.push(WTERMSIG((yield* p.wait4(leader)).status), WTERMSIG((yield* p.wait4(member)).status))
          seen.push((yield* p.wait4(other, WNOHANG)).pid)
          const k = yield* p.fork((c) => Effect.gen(function* () {
            yield* c.setpgid(0, 0)
            yield* c.fork(pauser)
            yield* c.kill(0, SIGUSR1)
            return 0
          }))
          seen.push(WTERMSIG((yield* p.wait4(k)).status))
          seen.push(WTERMSIG((yield* p.wait4(-1)).status))
          yield* p.kill(other, SIGKILL)
          yield* p.wait4(other)
          return 0
        })
      )
      expect(seen).toEqual([SIGTERM, SIGTERM, 0, SIGUSR1, SIGUSR1])
    }))
})

describe("init is protected", () => {
  it.effect("a namespace's init ignores signals it has no handler for from inside; SIGKILL from outside works", () =>
    Effect.gen(function* () {
      const log: Array<unknown> = []
      const seen: Array<unknown> = []
      yield* runInit((p) =>
        Effect.gen(function* () {
          const r = yield* p.clone3({ flags: CLONE_NEWPID, exitSignal: SIGCHLD }, (init) =>
            Effect.gen(function* () {
              yield* init.sigaction(SIGUSR1, handler(log))
              const c = yield* init.fork((c) => Effect.gen(function* () {
                seen.push(yield* errnoOf(c.kill(1, SIGTERM)))
                seen.push(yield* errnoOf(c.kill(1, SIGKILL)))
                seen.push(yield* errnoOf(c.kill(1, SIGUSR1)))
                return 0
              }))
              yield* init.wait4(c)
              return yield* pauser(init)
            })
          )
          yield* p.kill(r.pid, SIGTERM)
          seen.push((yield* p.wait4(r.pid, WNOHANG)).pid)
          yield* p.kill(r.pid, SIGKILL)
          seen.push(WTERMSIG((yield* p.wait4(r.pid)).status))
          return 0
        })
      )
      // from inside: kill returns 0 but only the handled SIGUSR1 arrives (si_pid 2 as init sees the sender)
      expect(seen).toEqual(["ok", "ok", "ok", 0, SIGKILL])
      expect(log).toEqual([[SIGUSR1, SI_USER, 2]])
    }))

  it.effect("the global init survives SIGKILL from a process", () =>
    Effect.gen(function* () {
      const seen: Array<unknown> = []
      yield* runInit((p) =>
        Effect.gen(function* () {
          const c = yield* p.fork((c) => Effect.map(errnoOf(c.kill(1, SIGKILL)), (e) => (seen.push(e), 0)))
          yield* p.wait4(c)
          seen.push("init still here")
          return 0
        })
      )
      expect(seen).toEqual(["ok", "init still here"])
    }))
})

describe("handlers, masks and pending signals", () => {
  it.effect("pause returns EINTR after a handler ran, with the sender's pid and SI_USER", () =>
    Effect.gen(function* () {
      const log: Array<unknown> = []
      const seen: Array<string> = []
      yield* runInit((p) =>
        Effect.gen(function* () {
          const c = yield* p.fork((c) => Effect.gen(function* () {
            yield* c.sigaction(SIGUSR1, handler(log))
            seen.push(yield* errnoOf(c.pause()))
            return 0
          }))
          yield* p.kill(c, SIGUSR1)
          yield* p.wait4(c)
          return 0
        })
      )
      expect(log).toEqual([[SIGUSR1, SI_USER, 1]])
      expect(seen).toEqual(["EINTR"])
    }))

  it.effect("sigaction: EINVAL for 0, 65, and for changing SIGKILL or SIGSTOP; reading them is allowed", () =>
    Effect.gen(function* () {
      const seen: Array<string> = []
      yield* runInit((p) =>
        Effect.gen(function* () {
          const act: SigAction = { handler: SIG_IGN, flags: 0, mask: 0n }
          for (const call of [p.sigaction(0, act), p.sigaction(65, act), p.sigaction(SIGKILL, act), p.sigaction(SIGSTOP, act), p.sigaction(SIGKILL), p.sigaction(SIGUSR1, act)]) {
            seen.push(yield* errnoOf(call))
          }
          return 0
        })
      )
      expect(seen).toEqual(["EINVAL", "EINVAL", "EINVAL", "EINVAL", "ok", "ok"])
    }))

  it.effect("SA_RESETHAND: the handler runs once, then the default action kills", () =>
    Effect.gen(function* () {
      const log: Array<unknown> = []
      let term = 0
      yield* runInit((p) =>
        Effect.gen(function* () {
          const c = yield* p.fork((c) => Effect.gen(function* () {
            yield* c.sigaction(SIGUSR1, { ...handler(log), flags: SA_RESETHAND })
            return yield* pauser(c)
          }))
          yield* p.kill(c, SIGUSR1)
          yield* p.sched_yield()
          yield* p.kill(c, SIGUSR1)
          term = WTERMSIG((yield* p.wait4(c)).status)
          return 0
        })
      )
      expect(log.length).toBe(1)
      expect(term).toBe(SIGUSR1)
    }))

  it.effect("a blocked signal stays pending and is delivered when unblocked; SIGKILL and SIGSTOP cannot be blocked", () =>
    Effect.gen(function* () {
      const log: Array<unknown> = []
      const seen: Array<unknown> = []
      yield* runInit((p) =>
        Effect.gen(function* () {
          yield* p.sigaction(SIGUSR1, handler(log))
          yield* p.sigprocmask(SIG_BLOCK, sigsetOf(SIGUSR1, SIGKILL, SIGSTOP))
          yield* p.kill(1, SIGUSR1)
          seen.push(log.length, (yield* p.sigpending()) === sigmask(SIGUSR1))
          seen.push((yield* p.sigprocmask(SIG_UNBLOCK, sigmask(SIGUSR1))) === sigmask(SIGUSR1))
          seen.push(log.length)
          seen.push(yield* errnoOf(p.sigprocmask(7, 0n)))
          seen.push((yield* p.sigprocmask(SIG_SETMASK, 0n)) === 0n)
          return 0
        })
      )
      expect(seen).toEqual([0, true, true, 1, "EINVAL", true])
    }))

  it.effect("setting SIG_IGN discards a pending signal, blocked or not", () =>
    Effect.gen(function* () {
      const seen: Array<unknown> = []
      yield* runInit((p) =>
        Effect.gen(function* () {
          yield* p.sigprocmask(SIG_BLOCK, sigmask(SIGUSR2))
          yield* p.kill(1, SIGUSR2)
          seen.push((yield* p.sigpending()) !== 0n)
          yield* p.sigaction(SIGUSR2, { handler: SIG_IGN, flags: 0, mask: 0n })
          seen.push(yield* p.sigpending())
          return 0
        })
      )
      expect(seen).toEqual([true, 0n])
    }))

  it.effect("tgkill targets one thread (SI_TKILL); a process signal goes to a thread that does not block it", () =>
    Effect.gen(function* () {
      const log: Array<unknown> = []
      yield* runInit((p) =>
        Effect.gen(function* () {
          const c = yield* p.fork((c) => Effect.gen(function* () {
            yield* c.sigaction(SIGUSR1, {
              handler: (sig, info, proc) => Effect.map(proc.gettid(), (tid) => void log.push([tid, info.code])),
              flags: 0,
              mask: 0n
            })
            yield* c.clone((t) => pauser(t), CLONE_VM | CLONE_SIGHAND | CLONE_THREAD)
            yield* c.sigprocmask(SIG_BLOCK, sigmask(SIGUSR1))
            return yield* pauser(c)
          }))
          yield* p.tgkill(c, c + 1, SIGUSR1)
          yield* p.sched_yield()
          yield* p.kill(c, SIGUSR1)
          yield* p.sched_yield()
          yield* p.kill(c, SIGKILL)
          yield* p.wait4(c)
          return 0
        })
      )
      expect(log).toEqual([[3, SI_TKILL], [3, SI_USER]])
    }))

  it.effect("nanosleep sleeps on the kernel clock and is interrupted by a handler (EINTR)", () =>
    Effect.gen(function* () {
      const seen: Array<unknown> = []
      yield* runWithClock(
        (p) =>
          Effect.gen(function* () {
            yield* p.sigaction(SIGUSR1, handler([]))
            const c = yield* p.fork((c) => Effect.gen(function* () {
              yield* c.sigaction(SIGUSR1, handler(seen))
              seen.push(yield* errnoOf(c.nanosleep(1000)))
              yield* c.nanosleep(10)
              seen.push("slept")
              return 0
            }))
            yield* p.nanosleep(5)
            yield* p.kill(c, SIGUSR1)
            yield* p.wait4(c)
            return 0
          }),
        [5, 10]
      )
      expect(seen).toEqual([[SIGUSR1, SI_USER, 1], "EINTR", "slept"])
    }))

  it.effect("a default-terminate signal kills; a default-ignore one does nothing", () =>
    Effect.gen(function* () {
      const seen: Array<unknown> = []
      yield* runInit((p) =>
        Effect.gen(function* () {
          const c = yield* p.fork(pauser)
          yield* p.kill(c, SIGCHLD)
          seen.push((yield* p.wait4(c, WNOHANG)).pid)
          yield* p.kill(c, SIGUSR2)
          seen.push(WTERMSIG((yield* p.wait4(c)).status))
          return 0
        })
      )
      expect(seen).toEqual([0, SIGUSR2])
    }))

  it.effect("a handler sees its own signal blocked while it runs", () =>
    Effect.gen(function* () {
      const seen: Array<unknown> = []
      yield* runInit((p) =>
        Effect.gen(function* () {
          yield* p.sigaction(SIGUSR1, {
            handler: (_s, _i: SigInfo, proc) =>
              Effect.map(Effect.orDie(proc.sigprocmask(SIG_BLOCK)), (m) => void seen.push(m === sigmask(SIGUSR1))),
            flags: 0,
            mask: 0n
          })
          yield* p.kill(1, SIGUSR1)
          seen.push((yield* p.sigprocmask(SIG_BLOCK)) === 0n)
          return 0
        })
      )
      expect(seen).toEqual([true, true])
    }))

  it.effect("a fork child inherits the blocked mask but not pending signals", () =>
    Effect.gen(function* () {
      const seen: Array<unknown> = []
      yield* runInit((p) =>
        Effect.gen(function* () {
          yield* p.sigprocmask(SIG_BLOCK, sigmask(SIGUSR1))
          yield* p.kill(1, SIGUSR1)
          const c = yield* p.fork((c) => Effect.gen(function* () {
            seen.push((yield* c.sigprocmask(SIG_BLOCK)) === sigmask(SIGUSR1), yield* c.sigpending())
            return 0
          }))
          yield* p.wait4(c)
          yield* p.sigaction(SIGUSR1, { handler: SIG_IGN, flags: 0, mask: 0n })
          return 0
        })
      )
      expect(seen).toEqual([true, 0n])
    }))
})

describe("exit status of signalled processes", () => {
  it.effect("exit_group status, exit of the last thread, and a program's return value", () =>
    Effect.gen(function* () {
      const seen: Array<unknown> = []
      yield* runInit((p) =>
        Effect.gen(function* () {
          const a = yield* p.fork((c) => c.exit_group(12))
          seen.push(((yield* p.wait4(a)).status >> 8) & 0xff)
          const b = yield* p.fork(exitWith(13))
          seen.push(((yield* p.wait4(b)).status >> 8) & 0xff)
          return 0
        })
      )
      expect(seen).toEqual([12, 13])
    }))
})

describe("more signal rules", () => {
  it.effect("SIGSTOP from the parent namespace stops a namespace's init; SIGCONT resumes it", () =>
    Effect.gen(function* () {
      const seen: Array<unknown> = []
      yield* runInit((p) =>
        Effect.gen(function* () {
          const r = yield* p.clone3({ flags: CLONE_NEWPID, exitSignal: SIGCHLD }, pauser)
          yield* p.kill(r.pid, SIGSTOP)
          const w = yield* p.wait4(r.pid, 2)
          seen.push(w.status & 0xff, w.status >> 8)
          yield* p.kill(r.pid, SIGCONT)
          seen.push((yield* p.wait4(r.pid, 8)).status)
          yield* p.kill(r.pid, SIGKILL)
          yield* p.wait4(r.pid)
          return 0
        })
      )
      expect(seen).toEqual([0x7f, SIGSTOP, 0xffff])
    }))

  it.effect("a security task_kill hook can deny a signal (and signal 0)", () =>
    Effect.gen(function* () {
      const seen: Array<unknown> = []
      yield* runInit((p) =>
        Effect.gen(function* () {
          const c = yield* p.fork(pauser)
          const off = p.task.kernel.addSecurityHooks({
            taskKill: (target, _info, sig) => (target.pid.nr === c && sig !== SIGKILL ? sysErrorOf("EACCES") : undefined)
          })
          seen.push(yield* errnoOf(p.kill(c, SIGTERM)), yield* errnoOf(p.kill(c, 0)))
          yield* p.kill(c, SIGKILL)
          yield* p.wait4(c)
          off()
          return 0
        })
      )
      expect(seen).toEqual(["EACCES", "EACCES"])
    }))
})
