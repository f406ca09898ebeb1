import { describe, expect, it } from "@effect/vitest"
import { PR_GET_PDEATHSIG, PR_SET_PDEATHSIG, SIG_DFL, SIG_IGN, SIGUSR1, SIGUSR2, WEXITSTATUS } from "@simkernel/abi"
import { Effect } from "effect"
import { errnoOf, runInit } from "./fixtures.js"

describe("execve(2)", () => {
  it.effect("runs the registered program; ENOENT for an unknown path, EACCES without an execute bit", () =>
    Effect.gen(function* () {
      const seen: Array<unknown> = []
      yield* runInit((p) =>
        Effect.gen(function* () {
          const k = p.task.kernel
          k.register("/bin/true", (q) => Effect.map(q.getpid(), () => (seen.push(["argv", q.task.argv, q.task.comm]), 0)))
          k.register("/etc/passwd", () => Effect.succeed(0), { mode: 0o100644 })
          seen.push(yield* errnoOf(p.execve("/nope", [])))
          seen.push(yield* errnoOf(p.execve("/etc/passwd", [])))
          const c = yield* p.fork((c) => c.execve("/bin/true", ["true", "-x"]))
          seen.push(WEXITSTATUS((yield* p.wait4(c)).status))
          return 0
        })
      )
      expect(seen).toEqual(["ENOENT", "EACCES", ["argv", ["true", "-x"], "true"], 0])
    }))

  it.effect("execHooks hear each execve that passes the point of no return, before the new program runs", () =>
    Effect.gen(function* () {
      const seen: Array<unknown> = []
      yield* runInit((p) =>
        Effect.gen(function* () {
          const k = p.task.kernel
          k.execHooks.add((t, path, argv, envp) => seen.push(["exec", t.pid.nr, path, argv, envp]))
          k.register("/bin/true", () => Effect.sync(() => (seen.push("running"), 0)))
          seen.push(yield* errnoOf(p.execve("/nope", [])))
          const c = yield* p.fork((c) => c.execve("/bin/true", ["true"], ["A=1"]))
          yield* p.wait4(c)
          return 0
        })
      )
      expect(seen).toEqual(["ENOENT", ["exec", 2, "/bin/true", ["true"], ["A=1"]], "running"])
    }))

  it.effect("close-on-exec descriptors are closed; caught handlers reset, ignored ones stay ignored", () =>
    Effect.gen(function* () {
      const seen: Array<unknown> = []
      yield* runInit((p) =>
        Effect.gen(function* () {
          p.task.kernel.register("/bin/check", (q) =>
            Effect.gen(function* () {
              seen.push(yield* errnoOf(q.close(0)))
              seen.push((yield* q.sigaction(SIGUSR1)).handler === SIG_DFL, (yield* q.sigaction(SIGUSR2)).handler === SIG_IGN)
              return 0
            })
          )
          const c = yield* p.fork((c) => Effect.gen(function* () {
            yield* c.pidfd_open(1)
            yield* c.sigaction(SIGUSR1, { handler: () => Effect.void, flags: 0, mask: 0n })
            yield* c.sigaction(SIGUSR2, { handler: SIG_IGN, flags: 0, mask: 0n })
            return yield* c.execve("/bin/check", ["check"])
          }))
          yield* p.wait4(c)
          return 0
        })
      )
      expect(seen).toEqual(["EBADF", true, true])
    }))

  it.effect("exec of a set-user-ID program changes the credentials and clears pdeath_signal", () =>
    Effect.gen(function* () {
      const seen: Array<unknown> = []
      yield* runInit((p) =>
        Effect.gen(function* () {
          const k = p.task.kernel
          const report = (name: string) => (q: import("../src/index.js").Process) =>
            Effect.map(q.prctl(PR_GET_PDEATHSIG), (s) => (seen.push([name, q.task.cred.euid, s]), 0))
          k.register("/bin/plain", report("plain"))
          k.register("/bin/suid", report("suid"), { mode: 0o104755, uid: 1000 })
          for (const path of ["/bin/plain", "/bin/suid"]) {
            const c = yield* p.fork((c) => Effect.andThen(c.prctl(PR_SET_PDEATHSIG, SIGUSR1), c.execve(path, [path])))
            yield* p.wait4(c)
          }
          return 0
        })
      )
      expect(seen).toEqual([["plain", 0, SIGUSR1], ["suid", 1000, 0]])
    }))

  it.effect("vfork: the parent resumes when the child execs", () =>
    Effect.gen(function* () {
      const trace: Array<string> = []
      yield* runInit((p) =>
        Effect.gen(function* () {
          p.task.kernel.register("/bin/wait", (q) => Effect.gen(function* () {
            trace.push("exec'd child pauses")
            yield* q.pause().pipe(Effect.ignore)
            return 0
          }))
          const c = yield* p.vfork((c) => c.execve("/bin/wait", ["wait"]))
          trace.push("parent resumes")
          yield* p.kill(c, 9)
          yield* p.wait4(c)
          return 0
        })
      )
      expect(trace).toEqual(["exec'd child pauses", "parent resumes"])
    }))
})
