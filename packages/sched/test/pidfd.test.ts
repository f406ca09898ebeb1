import { describe, expect, it } from "@effect/vitest"
import {
  CLONE_NEWPID,
  CLONE_NEWUTS,
  CLONE_PIDFD,
  CLONE_SIGHAND,
  CLONE_THREAD,
  CLONE_VM,
  P_PIDFD,
  PIDFD_NONBLOCK,
  PIDFD_SIGNAL_PROCESS_GROUP,
  PIDFD_SIGNAL_THREAD,
  PIDFD_THREAD,
  POLLHUP,
  POLLIN,
  POLLNVAL,
  SIGCHLD,
  SIGKILL,
  SIGTERM,
  WEXITED,
  WTERMSIG
} from "@simkernel/abi"
import { Effect } from "effect"
import { errnoOf, exitWith, pauser, runInit } from "./fixtures.js"

describe("pidfd_open(2)", () => {
  it.effect("errors: EINVAL for flags, pid <= 0 and a non-leader thread; ESRCH for no such pid", () =>
    Effect.gen(function* () {
      const seen: Array<string> = []
      yield* runInit((p) =>
        Effect.gen(function* () {
          const c = yield* p.fork((c) => Effect.andThen(c.clone(pauser, CLONE_VM | CLONE_SIGHAND | CLONE_THREAD), pauser(c)))
          for (const call of [
            p.pidfd_open(c, 1),
            p.pidfd_open(0),
            p.pidfd_open(-1),
            p.pidfd_open(4000),
            p.pidfd_open(c + 1),
            p.pidfd_open(c + 1, PIDFD_THREAD),
            p.pidfd_open(c, PIDFD_NONBLOCK)
          ]) {
            seen.push(yield* errnoOf(call))
          }
          yield* p.kill(c, SIGKILL)
          yield* p.wait4(c)
          return 0
        })
      )
      expect(seen).toEqual(["EINVAL", "EINVAL", "EINVAL", "ESRCH", "EINVAL", "ok", "ok"])
    }))

  it.effect("poll: not ready while running, POLLIN when exited, POLLHUP too once reaped; POLLNVAL for a bad fd", () =>
    Effect.gen(function* () {
      const seen: Array<unknown> = []
      yield* runInit((p) =>
        Effect.gen(function* () {
          const c = yield* p.fork(pauser)
          const fd = yield* p.pidfd_open(c)
          seen.push(yield* p.poll([{ fd, events: POLLIN }], 0))
          yield* p.kill(c, SIGTERM)
          // the child exits when it runs; a blocking poll waits for it
          seen.push(yield* p.poll([{ fd, events: POLLIN }], -1))
          seen.push(yield* p.poll([{ fd: 42, events: POLLIN }], -1))
          yield* p.wait4(c)
          seen.push(yield* p.poll([{ fd, events: POLLIN }], -1))
          yield* p.close(fd)
          return 0
        })
      )
      // revents is masked by the events asked for, plus POLLERR and POLLHUP
      expect(seen).toEqual([[0], [POLLIN], [POLLNVAL], [POLLIN | POLLHUP]])
    }))

  it.effect("a blocking poll sleeps until the process exits", () =>
    Effect.gen(function* () {
      const trace: Array<string> = []
      yield* runInit((p) =>
        Effect.gen(function* () {
          const c = yield* p.fork(pauser)
          const fd = yield* p.pidfd_open(c)
          yield* p.fork((k) => Effect.gen(function* () {
            yield* k.sched_yield()
            trace.push("killer")
            yield* k.kill(c, SIGKILL)
            return 0
          }))
          trace.push("poll")
          yield* p.poll([{ fd, events: POLLIN }], -1)
          trace.push("ready")
          yield* p.wait4(-1)
          yield* p.wait4(-1)
          return 0
        })
      )
      expect(trace).toEqual(["poll", "killer", "ready"])
    }))
})

describe("pidfd_send_signal(2), waitid(P_PIDFD), CLONE_PIDFD", () => {
  it.effect("signals through a pidfd; ESRCH after the process is reaped; flag errors", () =>
    Effect.gen(function* () {
      const seen: Array<unknown> = []
      yield* runInit((p) =>
        Effect.gen(function* () {
          const c = yield* p.fork(pauser)
          const fd = yield* p.pidfd_open(c)
          seen.push(yield* errnoOf(p.pidfd_send_signal(fd, SIGTERM, undefined, 8)))
          seen.push(yield* errnoOf(p.pidfd_send_signal(fd, SIGTERM, undefined, PIDFD_SIGNAL_THREAD | PIDFD_SIGNAL_PROCESS_GROUP)))
          seen.push(yield* errnoOf(p.pidfd_send_signal(99, SIGTERM)))
          seen.push(yield* errnoOf(p.pidfd_send_signal(fd, 65)))
          seen.push(yield* errnoOf(p.pidfd_send_signal(fd, SIGTERM)))
          const w = yield* p.waitid(P_PIDFD, fd, WEXITED)
          seen.push(w.pid, w.siStatus)
          seen.push(yield* errnoOf(p.pidfd_send_signal(fd, SIGTERM)))
          seen.push(yield* errnoOf(p.waitid(P_PIDFD, fd, WEXITED)))
          yield* p.close(fd)
          return 0
        })
      )
      expect(seen).toEqual(["EINVAL", "EINVAL", "EBADF", "EINVAL", "ok", 2, SIGTERM, "ESRCH", "ECHILD"])
    }))

  it.effect("waitid(P_PIDFD) on a PIDFD_NONBLOCK pidfd is EAGAIN while the child runs", () =>
    Effect.gen(function* () {
      const seen: Array<unknown> = []
      yield* runInit((p) =>
        Effect.gen(function* () {
          const c = yield* p.fork(pauser)
          const fd = yield* p.pidfd_open(c, PIDFD_NONBLOCK)
          seen.push(yield* errnoOf(p.waitid(P_PIDFD, fd, WEXITED)))
          yield* p.kill(c, SIGKILL)
          yield* p.sched_yield()
          seen.push(WTERMSIG((yield* p.waitid(P_PIDFD, fd, WEXITED)).status))
          return 0
        })
      )
      expect(seen).toEqual(["EAGAIN", SIGKILL])
    }))

  it.effect("CLONE_PIDFD returns a pidfd for the child; clone3 too", () =>
    Effect.gen(function* () {
      const seen: Array<unknown> = []
      yield* runInit((p) =>
        Effect.gen(function* () {
          const r = yield* p.clone(pauser, CLONE_PIDFD | SIGCHLD)
          seen.push(r.pidfd >= 0)
          yield* p.pidfd_send_signal(r.pidfd, SIGKILL)
          seen.push((yield* p.waitid(P_PIDFD, r.pidfd, WEXITED)).pid === r.pid)
          const s = yield* p.clone3({ flags: CLONE_PIDFD, exitSignal: SIGCHLD }, exitWith(3))
          seen.push(s.pidfd !== r.pidfd || s.pidfd >= 0)
          seen.push((yield* p.waitid(P_PIDFD, s.pidfd, WEXITED)).siStatus)
          return 0
        })
      )
      expect(seen).toEqual([true, true, true, 3])
    }))
})

describe("setns(2) with a pidfd", () => {
  it.effect("enters the process's PID namespace for children; EINVAL for no flags, ESRCH once it is gone", () =>
    Effect.gen(function* () {
      const seen: Array<unknown> = []
      yield* runInit((p) =>
        Effect.gen(function* () {
          const r = yield* p.clone3({ flags: CLONE_PIDFD | CLONE_NEWPID | CLONE_NEWUTS, exitSignal: SIGCHLD }, pauser)
          seen.push(yield* errnoOf(p.setns(r.pidfd, 0)))
          seen.push(yield* errnoOf(p.setns(77, CLONE_NEWPID)))
          yield* p.setns(r.pidfd, CLONE_NEWPID | CLONE_NEWUTS)
          seen.push(p.task.nsproxy!.uts === r.child.nsproxy!.uts)
          const c = yield* p.fork((q) => Effect.map(q.getpid(), (n) => (seen.push(n), 0)))
          yield* p.wait4(c)
          yield* p.kill(r.pid, SIGKILL)
          yield* p.wait4(r.pid)
          seen.push(yield* errnoOf(p.setns(r.pidfd, CLONE_NEWPID)))
          return 0
        })
      )
      expect(seen).toEqual(["EINVAL", "EBADF", true, 2, "ESRCH"])
    }))
})

describe("thread pidfds (Linux 6.9+)", () => {
  it.effect("CLONE_PIDFD|CLONE_THREAD gives a PIDFD_THREAD pidfd that signals only that thread", () =>
    Effect.gen(function* () {
      const log: Array<number> = []
      yield* runInit((p) =>
        Effect.gen(function* () {
          const c = yield* p.fork((c) => Effect.gen(function* () {
            yield* c.sigaction(10, { handler: (_s, _i, q) => Effect.map(q.gettid(), (t) => void log.push(t)), flags: 0, mask: 0n })
            const r = yield* c.clone(pauser, CLONE_VM | CLONE_SIGHAND | CLONE_THREAD | CLONE_PIDFD)
            yield* c.pidfd_send_signal(r.pidfd, 10)
            yield* c.sched_yield()
            yield* c.close(r.pidfd)
            return 0
          }))
          yield* p.wait4(c)
          return 0
        })
      )
      expect(log).toEqual([3])
    }))
})
