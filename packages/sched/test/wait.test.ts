import { describe, expect, it } from "@effect/vitest"
import {
  __WALL,
  __WCLONE,
  CLD_CONTINUED,
  CLD_EXITED,
  CLD_KILLED,
  CLD_STOPPED,
  P_ALL,
  P_PGID,
  P_PID,
  PR_SET_CHILD_SUBREAPER,
  PR_SET_PDEATHSIG,
  PR_GET_PDEATHSIG,
  SA_NOCLDWAIT,
  SIG_IGN,
  SIGCHLD,
  SIGCONT,
  SIGKILL,
  SIGSTOP,
  SIGTERM,
  SIGUSR1,
  SIGUSR2,
  WCONTINUED,
  WEXITED,
  WEXITSTATUS,
  WIFCONTINUED,
  WIFSIGNALED,
  WIFSTOPPED,
  WNOHANG,
  WNOWAIT,
  WSTOPPED,
  WSTOPSIG,
  WTERMSIG,
  WUNTRACED
} from "@simkernel/abi"
import { Effect } from "effect"
import type { SigInfo } from "../src/index.js"
import { errnoOf, exitWith, pauser, runInit, runWithClock } from "./fixtures.js"

describe("wait4 and waitid errors (man 2 wait)", () => {
  const cases: ReadonlyArray<readonly [string, (p: import("../src/index.js").Process) => Effect.Effect<unknown, import("@simkernel/abi").SysError>, string]> = [
    ["wait4 with no children", (p) => p.wait4(-1), "ECHILD"],
    ["wait4 for a pid that is not a child", (p) => p.wait4(1), "ECHILD"],
    ["wait4 for a pid that does not exist", (p) => p.wait4(12345), "ECHILD"],
    ["wait4 with an unknown option", (p) => p.wait4(-1, 0x100), "EINVAL"],
    ["wait4 with WNOWAIT (waitid only)", (p) => p.wait4(-1, WNOWAIT), "EINVAL"],
    ["wait4 for INT_MIN", (p) => p.wait4(-2147483648), "ESRCH"],
    ["waitid with no WEXITED|WSTOPPED|WCONTINUED", (p) => p.waitid(P_ALL, 0, WNOHANG), "EINVAL"],
    ["waitid with an unknown idtype", (p) => p.waitid(7, 0, WEXITED), "EINVAL"],
    ["waitid P_PID 0", (p) => p.waitid(P_PID, 0, WEXITED), "EINVAL"],
    ["waitid P_PGID -1", (p) => p.waitid(P_PGID, -1, WEXITED), "EINVAL"],
    ["waitid P_ALL with no children", (p) => p.waitid(P_ALL, 0, WEXITED), "ECHILD"],
    ["waitid P_PIDFD on a closed fd", (p) => p.waitid(3, 9, WEXITED), "EBADF"]
  ]
  for (const [name, call, want] of cases) {
    it.effect(`${name}: ${want}`, () =>
      Effect.gen(function* () {
        let got = ""
        yield* runInit((p) => Effect.map(errnoOf(call(p)), (e) => ((got = e), 0)))
        expect(got).toBe(want)
      }))
  }
})

describe("reaping", () => {
  it.effect("waitid(WSTOPPED) with only a zombie child is ECHILD", () =>
    Effect.gen(function* () {
      // Linux 6.18 (python3 os.waitid(P_ALL, 0, WSTOPPED) after the child's _exit): ECHILD
      let got = ""
      yield* runInit((p) =>
        Effect.gen(function* () {
          const c = yield* p.fork(exitWith(3))
          got = yield* errnoOf(p.waitid(P_ALL, 0, WSTOPPED))
          yield* p.wait4(c)
          return 0
        })
      )
      expect(got).toBe("ECHILD")
    }))

  it.effect("wait4 reports exit status, killed status and WNOHANG's 0", () =>
    Effect.gen(function* () {
      const seen: Array<unknown> = []
      yield* runInit((p) =>
        Effect.gen(function* () {
          const a = yield* p.fork(pauser)
          seen.push((yield* p.wait4(a, WNOHANG)).pid)
          yield* p.kill(a, SIGTERM)
          const w = yield* p.wait4(a)
          seen.push(w.pid, WIFSIGNALED(w.status), WTERMSIG(w.status))
          const b = yield* p.fork(exitWith(300))
          const v = yield* p.wait4(-1)
          seen.push(v.pid === b, WEXITSTATUS(v.status))
          return 0
        })
      )
      expect(seen).toEqual([0, 2, true, SIGTERM, true, 300 & 0xff])
    }))

  it.effect("waitid: siginfo fields, WNOWAIT leaves the zombie, a second wait reaps it", () =>
    Effect.gen(function* () {
      const seen: Array<unknown> = []
      yield* runInit((p) =>
        Effect.gen(function* () {
          const a = yield* p.fork(exitWith(6))
          const w1 = yield* p.waitid(P_PID, a, WEXITED | WNOWAIT)
          seen.push([w1.pid, w1.code, w1.siStatus, w1.uid])
          const w2 = yield* p.waitid(P_PID, a, WEXITED)
          seen.push([w2.pid, w2.code === CLD_EXITED])
          seen.push(yield* errnoOf(p.waitid(P_PID, a, WEXITED)))
          const b = yield* p.fork(pauser)
          yield* p.kill(b, SIGKILL)
          const w3 = yield* p.waitid(P_ALL, 0, WEXITED)
          seen.push([w3.code === CLD_KILLED, w3.siStatus])
          return 0
        })
      )
      expect(seen).toEqual([[2, CLD_EXITED, 6, 0], [2, true], "ECHILD", [true, SIGKILL]])
    }))

  it.effect("P_PGID and negative pids wait for a process group only", () =>
    Effect.gen(function* () {
      const seen: Array<unknown> = []
      yield* runInit((p) =>
        Effect.gen(function* () {
          const a = yield* p.fork(exitWith(1))
          const b = yield* p.fork((c) => Effect.andThen(c.setpgid(0, 0), Effect.succeed(2)))
          seen.push((yield* p.wait4(-b)).pid)
          seen.push((yield* p.waitid(P_PGID, 0, WEXITED)).pid)
          seen.push(a, b)
          return 0
        })
      )
      expect(seen).toEqual([3, 2, 2, 3])
    }))

  it.effect("__WCLONE waits only for children with another exit signal; __WALL for all", () =>
    Effect.gen(function* () {
      const seen: Array<unknown> = []
      yield* runInit((p) =>
        Effect.gen(function* () {
          const r = yield* p.clone(exitWith(0), SIGUSR2)
          seen.push(yield* errnoOf(p.wait4(-1)))
          seen.push((yield* p.wait4(-1, __WCLONE)).pid === r.pid)
          const s = yield* p.clone(exitWith(0), SIGUSR2)
          seen.push((yield* p.wait4(-1, __WALL)).pid === s.pid)
          return 0
        })
      )
      expect(seen).toEqual(["ECHILD", true, true])
    }))

  it.effect("SIGCHLD is sent with CLD_EXITED and the child's pid", () =>
    Effect.gen(function* () {
      const infos: Array<SigInfo> = []
      yield* runInit((p) =>
        Effect.gen(function* () {
          yield* p.sigaction(SIGCHLD, { handler: (_s, info) => Effect.sync(() => void infos.push(info)), flags: 0, mask: 0n })
          const a = yield* p.fork(exitWith(2))
          yield* p.wait4(a)
          return 0
        })
      )
      expect(infos.map((i) => [i.signo, i.code, i.pid, i.status])).toEqual([[SIGCHLD, CLD_EXITED, 2, 2]])
    }))

  for (const [name, act] of [
    ["SIG_IGN", { handler: SIG_IGN, flags: 0, mask: 0n }],
    ["SA_NOCLDWAIT", { handler: 0, flags: SA_NOCLDWAIT, mask: 0n }]
  ] as const) {
    it.effect(`an ignored SIGCHLD (${name}) reaps children at once; wait blocks until all are gone, then ECHILD`, () =>
      Effect.gen(function* () {
        const seen: Array<unknown> = []
        yield* runWithClock(
          (p) =>
            Effect.gen(function* () {
              yield* p.sigaction(SIGCHLD, act)
              yield* p.fork(exitWith(0))
              yield* p.fork((c) => Effect.as(c.nanosleep(10), 0))
              seen.push(p.task.children?.size)
              seen.push(yield* errnoOf(p.wait4(-1)))
              seen.push(p.task.children?.size ?? 0)
              return 0
            }),
          [10]
        )
        expect(seen).toEqual([1, "ECHILD", 0])
      }))
  }

  it.effect("WUNTRACED reports a stop, WCONTINUED a continue; the parent gets CLD_STOPPED/CLD_CONTINUED", () =>
    Effect.gen(function* () {
      const seen: Array<unknown> = []
      const codes: Array<number> = []
      yield* runInit((p) =>
        Effect.gen(function* () {
          yield* p.sigaction(SIGCHLD, { handler: (_s, i) => Effect.sync(() => void codes.push(i.code)), flags: 0x10000000, mask: 0n })
          const a = yield* p.fork(pauser)
          yield* p.kill(a, SIGSTOP)
          const w = yield* p.wait4(a, WUNTRACED)
          seen.push(WIFSTOPPED(w.status), WSTOPSIG(w.status))
          seen.push((yield* p.wait4(a, WUNTRACED | WNOHANG)).pid)
          yield* p.kill(a, SIGCONT)
          const c = yield* p.waitid(P_PID, a, WCONTINUED)
          seen.push(c.code === CLD_CONTINUED, c.siStatus)
          yield* p.kill(a, SIGSTOP)
          const s = yield* p.waitid(P_PID, a, WSTOPPED)
          seen.push(s.code === CLD_STOPPED, s.siStatus)
          yield* p.kill(a, SIGCONT)
          const v = yield* p.wait4(a, WCONTINUED)
          seen.push(WIFCONTINUED(v.status))
          yield* p.kill(a, SIGKILL)
          yield* p.wait4(a)
          return 0
        })
      )
      expect(seen).toEqual([true, SIGSTOP, 0, true, SIGCONT, true, SIGSTOP, true])
      // SIGCHLD is a standard signal: the second continue and stop arrive while one is
      // still pending, so they coalesce into it (the first siginfo stays)
      expect(codes).toEqual([CLD_STOPPED, CLD_CONTINUED, CLD_KILLED])
    }))

  it.effect("a stopped child ignores signals until SIGCONT; SIGKILL still kills it", () =>
    Effect.gen(function* () {
      const seen: Array<unknown> = []
      yield* runInit((p) =>
        Effect.gen(function* () {
          const a = yield* p.fork(pauser)
          yield* p.kill(a, SIGSTOP)
          yield* p.wait4(a, WUNTRACED)
          yield* p.kill(a, SIGTERM)
          seen.push((yield* p.wait4(a, WNOHANG)).pid)
          yield* p.kill(a, SIGKILL)
          const w = yield* p.wait4(a)
          seen.push(WTERMSIG(w.status))
          return 0
        })
      )
      expect(seen).toEqual([0, SIGKILL])
    }))
})

describe("orphans", () => {
  it.effect("orphans go to init, which reaps them; getppid becomes 1", () =>
    Effect.gen(function* () {
      const seen: Array<unknown> = []
      yield* runWithClock(
        (p) =>
          Effect.gen(function* () {
            const a = yield* p.fork((c) =>
              Effect.gen(function* () {
                yield* c.fork((g) => Effect.gen(function* () {
                  yield* g.nanosleep(10)
                  seen.push(["grandchild ppid", yield* g.getppid()])
                  return 0
                }))
                return 0
              })
            )
            yield* p.wait4(a)
            const w = yield* p.wait4(-1)
            seen.push(["reaped", w.pid])
            return 0
          }),
        [10]
      )
      expect(seen).toEqual([["grandchild ppid", 1], ["reaped", 3]])
    }))

  it.effect("orphans go to the nearest PR_SET_CHILD_SUBREAPER ancestor", () =>
    Effect.gen(function* () {
      const seen: Array<unknown> = []
      yield* runWithClock(
        (p) =>
          Effect.gen(function* () {
            const sub = yield* p.fork((s) =>
              Effect.gen(function* () {
                yield* s.prctl(PR_SET_CHILD_SUBREAPER, 1)
                const mid = yield* s.fork((m) =>
                  Effect.as(m.fork((g) => Effect.gen(function* () {
                    yield* g.nanosleep(10)
                    seen.push(["ppid", yield* g.getppid()])
                    return 5
                  })), 0)
                )
                yield* s.wait4(mid)
                const w = yield* s.wait4(-1)
                seen.push(["subreaper reaped", w.pid, WEXITSTATUS(w.status)])
                return 0
              })
            )
            yield* p.wait4(sub)
            return 0
          }),
        [10]
      )
      expect(seen).toEqual([["ppid", 2], ["subreaper reaped", 4, 5]])
    }))

  it.effect("a zombie orphan is announced to its new parent", () =>
    Effect.gen(function* () {
      const seen: Array<unknown> = []
      yield* runInit((p) =>
        Effect.gen(function* () {
          yield* p.prctl(PR_SET_CHILD_SUBREAPER, 1)
          const a = yield* p.fork((c) => Effect.gen(function* () {
            yield* c.fork(exitWith(8))
            return 0
          }))
          yield* p.wait4(a)
          const w = yield* p.wait4(-1)
          seen.push(w.pid, WEXITSTATUS(w.status))
          return 0
        })
      )
      expect(seen).toEqual([3, 8])
    }))

  it.effect("PR_SET_PDEATHSIG: the child gets the signal when its parent exits", () =>
    Effect.gen(function* () {
      const seen: Array<unknown> = []
      yield* runInit((p) =>
        Effect.gen(function* () {
          yield* p.prctl(PR_SET_CHILD_SUBREAPER, 1)
          const a = yield* p.fork((c) => Effect.gen(function* () {
            yield* c.fork((g) => Effect.gen(function* () {
              yield* g.prctl(PR_SET_PDEATHSIG, SIGUSR1)
              seen.push(yield* g.prctl(PR_GET_PDEATHSIG))
              return yield* g.pause().pipe(Effect.as(0))
            }))
            return 0
          }))
          yield* p.wait4(a)
          const w = yield* p.wait4(-1)
          seen.push(WTERMSIG(w.status))
          return 0
        })
      )
      expect(seen).toEqual([SIGUSR1, SIGUSR1])
    }))

  it.effect("PR_SET_PDEATHSIG with an invalid signal is EINVAL", () =>
    Effect.gen(function* () {
      let got = ""
      yield* runInit((p) => Effect.map(errnoOf(p.prctl(PR_SET_PDEATHSIG, 65)), (e) => ((got = e), 0)))
      expect(got).toBe("EINVAL")
    }))
})

describe("group stop", () => {
  it.effect("SIGSTOP stops every thread; the parent hears once the last one stopped; SIGCONT resumes all", () =>
    Effect.gen(function* () {
      const seen: Array<unknown> = []
      yield* runInit((p) =>
        Effect.gen(function* () {
          const c = yield* p.fork((c) => Effect.andThen(c.clone(pauser, 0x10000 | 0x800 | 0x100), pauser(c)))
          yield* p.kill(c, SIGSTOP)
          const w = yield* p.wait4(c, WUNTRACED)
          const threads = p.task.kernel.findTask(c)!.signal.threads
          seen.push(WIFSTOPPED(w.status), threads.map((t) => t.chan))
          yield* p.kill(c, SIGCONT)
          yield* p.sched_yield()
          seen.push(threads.map((t) => t.chan))
          yield* p.kill(c, SIGKILL)
          yield* p.wait4(c)
          return 0
        })
      )
      expect(seen).toEqual([true, ["stopped", "stopped"], ["pause", "pause"]])
    }))

  it.effect("SA_NOCLDSTOP: no SIGCHLD when a child stops, but wait still sees it", () =>
    Effect.gen(function* () {
      const codes: Array<number> = []
      const seen: Array<unknown> = []
      yield* runInit((p) =>
        Effect.gen(function* () {
          yield* p.sigaction(SIGCHLD, { handler: (_s, i) => Effect.sync(() => void codes.push(i.code)), flags: 1, mask: 0n })
          const c = yield* p.fork(pauser)
          yield* p.kill(c, SIGSTOP)
          seen.push(WSTOPSIG((yield* p.wait4(c, WUNTRACED)).status))
          yield* p.kill(c, SIGKILL)
          yield* p.wait4(c)
          return 0
        })
      )
      expect(seen).toEqual([SIGSTOP])
      expect(codes).toEqual([CLD_KILLED])
    }))
})

describe("wait and signals", () => {
  for (const [name, flags, want] of [
    ["without SA_RESTART: EINTR", 0, "EINTR"],
    ["with SA_RESTART: the wait goes on", 0x10000000, "ok"]
  ] as const) {
    it.effect(`a handled signal during a blocking wait4, ${name}`, () =>
      Effect.gen(function* () {
        const seen: Array<unknown> = []
        yield* runInit((p) =>
          Effect.gen(function* () {
            yield* p.sigaction(SIGUSR1, { handler: () => Effect.sync(() => void seen.push("handler")), flags, mask: 0n })
            const c = yield* p.fork(pauser)
            const k = yield* p.fork((k) => Effect.gen(function* () {
              yield* k.sched_yield()
              yield* k.kill(1, SIGUSR1)
              if (flags !== 0) yield* k.kill(c, SIGKILL)
              return 0
            }))
            seen.push(yield* errnoOf(p.wait4(c)))
            if (flags === 0) yield* p.kill(c, SIGKILL)
            yield* p.wait4(-1)
            yield* p.wait4(-1).pipe(Effect.ignore)
            seen.push(k > 0)
            return 0
          })
        )
        expect(seen).toEqual(["handler", want, true])
      }))
  }
})
