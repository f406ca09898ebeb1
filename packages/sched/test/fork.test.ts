import { describe, expect, it } from "@effect/vitest"
import {
  CLONE_CLEAR_SIGHAND,
  CLONE_DETACHED,
  CLONE_FILES,
  CLONE_FS,
  CLONE_NEWNS,
  CLONE_NEWPID,
  CLONE_NEWTIME,
  CLONE_NEWUSER,
  CLONE_PARENT,
  CLONE_PARENT_SETTID,
  CLONE_PIDFD,
  CLONE_SIGHAND,
  CLONE_THREAD,
  CLONE_VM,
  SIGCHLD,
  SIGKILL,
  SIGUSR1,
  WEXITSTATUS,
  WNOHANG
} from "@simkernel/abi"
import { sysError } from "@simkernel/abi"
import { LiveObjects } from "@simkernel/kref"
import { Effect } from "effect"
import { type Process, simpleFdAdapter } from "../src/index.js"
import { errnoOf, exitWith, FakeFs, pauser, runInit, runWithClock } from "./fixtures.js"

const THREAD = CLONE_VM | CLONE_SIGHAND | CLONE_THREAD

describe("clone flag rules (kernel/fork.c copy_process, Linux 6.18)", () => {
  const cases: ReadonlyArray<readonly [string, number, string]> = [
    ["CLONE_NEWNS|CLONE_FS", CLONE_NEWNS | CLONE_FS, "EINVAL"],
    ["CLONE_NEWUSER|CLONE_FS", CLONE_NEWUSER | CLONE_FS, "EINVAL"],
    ["CLONE_THREAD without CLONE_SIGHAND", CLONE_THREAD | CLONE_VM, "EINVAL"],
    ["CLONE_SIGHAND without CLONE_VM", CLONE_SIGHAND, "EINVAL"],
    ["CLONE_PARENT from init", CLONE_PARENT, "EINVAL"],
    ["CLONE_THREAD|CLONE_NEWPID", THREAD | CLONE_NEWPID, "EINVAL"],
    ["CLONE_THREAD|CLONE_NEWUSER", THREAD | CLONE_NEWUSER, "EINVAL"],
    ["CLONE_PIDFD|CLONE_DETACHED", CLONE_PIDFD | CLONE_DETACHED, "EINVAL"],
    ["CLONE_PIDFD|CLONE_PARENT_SETTID (clone shares the pointer)", CLONE_PIDFD | CLONE_PARENT_SETTID, "EINVAL"],
    ["plain fork with SIGCHLD", SIGCHLD, "ok"]
  ]
  for (const [name, flags, want] of cases) {
    it.effect(`clone(${name}) from PID 1: ${want}`, () =>
      Effect.gen(function* () {
        let got = ""
        yield* runInit((p) =>
          Effect.gen(function* () {
            got = yield* errnoOf(p.clone(exitWith(0), flags))
            if (got === "ok") yield* p.wait4(-1)
            return 0
          })
        )
        expect(got).toBe(want)
      }))
  }

  it.effect("from a namespace's init, CLONE_PARENT is EINVAL but CLONE_THREAD is allowed", () =>
    Effect.gen(function* () {
      // Linux 6.18 (a C program: unshare(CLONE_NEWPID), fork, then clone in the child):
      // clone(CLONE_THREAD|CLONE_SIGHAND|CLONE_VM) -> 2, clone(CLONE_PARENT|SIGCHLD) -> EINVAL
      const seen: Array<unknown> = []
      yield* runInit((p) =>
        Effect.gen(function* () {
          const r = yield* p.clone3({ flags: CLONE_NEWPID, exitSignal: SIGCHLD }, (init) =>
            Effect.gen(function* () {
              seen.push((yield* init.clone(pauser, THREAD)).pid)
              seen.push(yield* errnoOf(init.clone(exitWith(0), CLONE_PARENT | SIGCHLD)))
              return yield* init.exit_group(0)
            })
          )
          yield* p.wait4(r.pid)
          return 0
        })
      )
      expect(seen).toEqual([2, "EINVAL"])
    }))

  it.effect("CLONE_THREAD after unshare(CLONE_NEWPID) is EINVAL", () =>
    Effect.gen(function* () {
      let got = ""
      yield* runInit((p) =>
        Effect.gen(function* () {
          yield* p.unshare(CLONE_NEWPID)
          got = yield* errnoOf(p.clone(exitWith(0), THREAD))
          return 0
        })
      )
      expect(got).toBe("EINVAL")
    }))
})

describe("clone3 arguments (copy_clone_args_from_user, clone3_args_valid)", () => {
  const cases: ReadonlyArray<readonly [string, Parameters<Process["clone3"]>[0], string]> = [
    ["size below CLONE_ARGS_SIZE_VER0", { flags: 0, exitSignal: SIGCHLD, size: 63 }, "EINVAL"],
    ["size above a page", { flags: 0, exitSignal: SIGCHLD, size: 4097 }, "E2BIG"],
    ["non-zero bytes past the struct", { flags: 0, exitSignal: SIGCHLD, size: 96, tail: [0, 1] }, "E2BIG"],
    ["zero bytes past the struct", { flags: 0, exitSignal: SIGCHLD, size: 96, tail: [0, 0] }, "ok"],
    ["exit_signal beyond _NSIG", { flags: 0, exitSignal: 65 }, "EINVAL"],
    ["CLONE_DETACHED", { flags: CLONE_DETACHED, exitSignal: SIGCHLD }, "EINVAL"],
    ["CSIGNAL bits in flags", { flags: 0x11, exitSignal: SIGCHLD }, "EINVAL"],
    ["CLONE_NEWTIME (a CSIGNAL bit clone3 allows)", { flags: CLONE_NEWTIME, exitSignal: SIGCHLD }, "ok"],
    ["CLONE_SIGHAND|CLONE_CLEAR_SIGHAND", { flags: CLONE_SIGHAND + CLONE_VM + CLONE_CLEAR_SIGHAND }, "EINVAL"],
    ["CLONE_PARENT with an exit signal", { flags: CLONE_PARENT, exitSignal: SIGCHLD }, "EINVAL"],
    ["CLONE_THREAD with an exit signal", { flags: THREAD, exitSignal: SIGCHLD }, "EINVAL"],
    ["unknown high flag", { flags: 0x400000000, exitSignal: SIGCHLD }, "EINVAL"],
    ["set_tid_size above 32", { flags: 0, exitSignal: SIGCHLD, setTid: Array.from({ length: 33 }, () => 1) }, "EINVAL"],
    ["set_tid longer than the nesting depth", { flags: 0, exitSignal: SIGCHLD, setTid: [50, 51] }, "EINVAL"],
    ["set_tid 0", { flags: 0, exitSignal: SIGCHLD, setTid: [0] }, "EINVAL"],
    ["set_tid of a pid in use (1)", { flags: 0, exitSignal: SIGCHLD, setTid: [1] }, "EEXIST"],
    ["set_tid at pid_max", { flags: 0, exitSignal: SIGCHLD, setTid: [4194304] }, "EINVAL"],
    ["set_tid 1 in a new namespace", { flags: CLONE_NEWPID, exitSignal: SIGCHLD, setTid: [1] }, "ok"],
    ["set_tid 5 in a new namespace without init", { flags: CLONE_NEWPID, exitSignal: SIGCHLD, setTid: [5] }, "EINVAL"]
  ]
  for (const [name, args, want] of cases) {
    it.effect(`clone3 ${name}: ${want}`, () =>
      Effect.gen(function* () {
        let got = ""
        yield* runInit((p) =>
          Effect.gen(function* () {
            got = yield* errnoOf(p.clone3(args, exitWith(0)))
            if (got === "ok") yield* p.wait4(-1)
            return 0
          })
        )
        expect(got).toBe(want)
      }))
  }

  it.effect("set_tid picks the pid in each namespace, innermost first", () =>
    Effect.gen(function* () {
      const seen: Array<number> = []
      yield* runInit((p) =>
        Effect.gen(function* () {
          const r = yield* p.clone3({ flags: CLONE_NEWPID, exitSignal: SIGCHLD, setTid: [1, 777] }, (c) =>
            Effect.map(c.getpid(), (n) => (seen.push(n), 0))
          )
          seen.push(r.pid)
          yield* p.wait4(r.pid)
          const s = yield* p.clone3({ flags: 0, exitSignal: SIGCHLD, setTid: [4242] }, exitWith(0))
          seen.push(s.pid)
          yield* p.wait4(s.pid)
          return 0
        })
      )
      expect(seen).toEqual([1, 777, 4242])
    }))

  it.effect("set_tid needs CAP_CHECKPOINT_RESTORE: EPERM for an unprivileged caller", () =>
    Effect.gen(function* () {
      let got = ""
      yield* runInit((p) =>
        Effect.gen(function* () {
          const c = yield* p.fork((c) =>
            Effect.gen(function* () {
              yield* c.setuid(1000)
              got = yield* errnoOf(c.clone3({ flags: 0, exitSignal: SIGCHLD, setTid: [4242] }, exitWith(0)))
              return 0
            })
          )
          yield* p.wait4(c)
          return 0
        })
      )
      expect(got).toBe("EPERM")
    }))
})

describe("what clone shares", () => {
  it.effect("CLONE_FILES shares the descriptor table; fork copies it", () =>
    Effect.gen(function* () {
      const seen: Array<string> = []
      yield* runInit((p) =>
        Effect.gen(function* () {
          for (const flags of [CLONE_FILES | SIGCHLD, SIGCHLD]) {
            let fd = -1
            const r = yield* p.clone((c) => Effect.map(c.pidfd_open(1), (n) => ((fd = n), 0)), flags)
            yield* p.wait4(r.pid)
            seen.push(yield* errnoOf(p.close(fd)))
          }
          return 0
        })
      )
      expect(seen).toEqual(["ok", "EBADF"])
    }))

  it.effect("CLONE_FS shares the fs_struct; fork copies it", () =>
    Effect.gen(function* () {
      const live = new LiveObjects()
      const users: Array<number> = []
      yield* runInit(
        (p) =>
          Effect.gen(function* () {
            for (const flags of [CLONE_FS | SIGCHLD, SIGCHLD]) {
              const r = yield* p.clone((c) => Effect.sync(() => (users.push(c.task.fs!.users), 0)), flags)
              yield* p.wait4(r.pid)
            }
            return 0
          }),
        { registry: live, fs: new FakeFs(live) }
      )
      expect(users).toEqual([2, 1])
    }))

  it.effect("CLONE_SIGHAND shares handlers; fork copies them", () =>
    Effect.gen(function* () {
      const seen: Array<unknown> = []
      yield* runInit((p) =>
        Effect.gen(function* () {
          const h = () => Effect.void
          for (const flags of [CLONE_SIGHAND | CLONE_VM | SIGCHLD, SIGCHLD]) {
            const r = yield* p.clone((c) => Effect.as(c.sigaction(SIGUSR1, { handler: h, flags: 0, mask: 0n }), 0), flags)
            yield* p.wait4(r.pid)
            const old = yield* p.sigaction(SIGUSR1, { handler: 0, flags: 0, mask: 0n })
            seen.push(old.handler === h)
          }
          return 0
        })
      )
      expect(seen).toEqual([true, false])
    }))

  it.effect("CLONE_THREAD: same tgid, new tid, no SIGCHLD child; exit_group from a thread ends the process", () =>
    Effect.gen(function* () {
      const seen: Record<string, unknown> = {}
      yield* runInit((p) =>
        Effect.gen(function* () {
          const pid = yield* p.fork((c) =>
            Effect.gen(function* () {
              const r = yield* c.clone((t) =>
                Effect.gen(function* () {
                  seen.thread = [yield* t.getpid(), yield* t.gettid(), yield* t.getppid()]
                  // let the main thread record the tid and pause
                  yield* t.sched_yield()
                  return yield* t.exit_group(4)
                }), THREAD)
              seen.tid = r.pid
              return yield* c.pause().pipe(Effect.as(0))
            })
          )
          const w = yield* p.wait4(pid)
          seen.status = WEXITSTATUS(w.status)
          return 0
        })
      )
      expect(seen).toEqual({ thread: [2, 3, 1], tid: 3, status: 4 })
    }))

  it.effect("a leader that exits before its thread is reported only when the thread is gone", () =>
    Effect.gen(function* () {
      const seen: Array<unknown> = []
      yield* runWithClock(
        (p) =>
          Effect.gen(function* () {
            const pid = yield* p.fork((c) =>
              Effect.gen(function* () {
                yield* c.clone((t) => Effect.andThen(t.nanosleep(100), t.exit(0)), THREAD)
                return yield* c.exit(3)
              })
            )
            seen.push((yield* p.wait4(pid, WNOHANG)).pid)
            const w = yield* p.wait4(pid)
            seen.push(w.pid, WEXITSTATUS(w.status))
            return 0
          }),
        [100]
      )
      expect(seen).toEqual([0, 2, 3])
    }))

  it.effect("CLONE_PARENT: the child's parent is the caller's parent", () =>
    Effect.gen(function* () {
      const seen: Array<number> = []
      yield* runInit((p) =>
        Effect.gen(function* () {
          const a = yield* p.fork((c) =>
            Effect.gen(function* () {
              yield* c.clone3({ flags: CLONE_PARENT }, (s) => Effect.map(s.getppid(), (n) => (seen.push(n), 0)))
              return 0
            })
          )
          yield* p.wait4(a)
          // the sibling is init's child (it has no exit signal, so __WALL)
          const w = yield* p.wait4(-1, 0x40000000)
          seen.push(w.pid)
          return 0
        })
      )
      expect(seen).toEqual([1, 3])
    }))

  it.effect("CLONE_VFORK: the parent sleeps until the child exits, even while the child blocks", () =>
    Effect.gen(function* () {
      const trace: Array<string> = []
      yield* runWithClock(
        (p) =>
          Effect.gen(function* () {
            yield* p.vfork((c) => Effect.gen(function* () {
              trace.push("child sleeps")
              yield* c.nanosleep(50)
              trace.push("child exits")
              return 0
            }))
            trace.push("parent continues")
            yield* p.wait4(-1)
            return 0
          }),
        [50]
      )
      expect(trace).toEqual(["child sleeps", "child exits", "parent continues"])
    }))
})

describe("fork failures undo every step", () => {
  it.effect("a refusing onFork hook fails the fork with its errno and leaks nothing", () =>
    Effect.gen(function* () {
      const seen: Array<string | number> = []
      yield* runInit((p) =>
        Effect.gen(function* () {
          const off = p.task.kernel.addTaskHooks({ onFork: () => sysError("EPERM", "clone") })
          seen.push(yield* errnoOf(p.clone3({ flags: CLONE_PIDFD | CLONE_NEWPID, exitSignal: SIGCHLD }, exitWith(0))))
          off()
          const pid = yield* p.fork(exitWith(0))
          seen.push(pid)
          yield* p.wait4(pid)
          return 0
        })
      )
      // the failed fork advanced the cursor, as Linux's idr does
      expect(seen).toEqual(["EPERM", 3])
    }))

  it.effect("security task_alloc can deny a fork", () =>
    Effect.gen(function* () {
      let got = ""
      yield* runInit((p) =>
        Effect.gen(function* () {
          p.task.kernel.addSecurityHooks({ taskAlloc: () => sysError("EACCES", "clone") })
          got = yield* errnoOf(p.fork(exitWith(0)))
          return 0
        })
      )
      expect(got).toBe("EACCES")
    }))

  it.effect("onExit hooks see every exiting task", () =>
    Effect.gen(function* () {
      const exited: Array<number> = []
      yield* runInit((p) =>
        Effect.gen(function* () {
          p.task.kernel.addTaskHooks({ onExit: (t) => void exited.push(t.pid.nr) })
          const a = yield* p.fork(pauser)
          yield* p.kill(a, SIGKILL)
          yield* p.wait4(a)
          return 0
        })
      )
      expect(exited).toEqual([2, 1])
    }))
})

describe("descriptor table adapters", () => {
  it.effect("a pidfd that cannot be installed (EMFILE) fails the CLONE_PIDFD fork and leaks nothing", () =>
    Effect.gen(function* () {
      let got = ""
      yield* runInit(
        (p) =>
          Effect.gen(function* () {
            got = yield* errnoOf(p.clone3({ flags: CLONE_PIDFD, exitSignal: SIGCHLD }, exitWith(0)))
            const c = yield* p.fork(exitWith(0))
            yield* p.wait4(c)
            return 0
          }),
        {
          files: {
            ...simpleFdAdapter,
            installPidfd: (_files, file) => {
              file.put()
              return sysError("EMFILE", "clone3")
            }
          }
        }
      )
      expect(got).toBe("EMFILE")
    }))
})
