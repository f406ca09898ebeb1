import { describe, expect, it } from "@effect/vitest"
import { CLONE_FS, CLONE_NEWUSER, CLONE_NEWUTS, CLONE_SIGHAND, CLONE_THREAD, CLONE_VM, SIGCHLD, sysError } from "@simkernel/abi"
import { createInitCred } from "@simkernel/cred"
import { Effect } from "effect"
import { type KernelCloneArgs, kernelClone, type Task } from "../src/index.js"
import { errnoOf, FakeFs, runInit } from "./fixtures.js"

describe("kernel_clone with supplied credentials, namespaces and fs_struct", () => {
  it.effect("the child gets the supplied parts and onFork sees hookData", () =>
    Effect.gen(function* () {
      const seen: Array<unknown> = []
      yield* runInit((p) =>
        Effect.gen(function* () {
          const t = p.task
          const k = t.kernel
          const marker = { into: "somewhere" }
          k.addTaskHooks({ onFork: (_parent, _child, _flags, args) => (seen.push(["hook", args.hookData === marker]), undefined) })
          const cred = createInitCred(t.cred.userNs)
          const nsproxy = t.nsproxy!
          const fs = new FakeFs(k.live)
          let child: Task | undefined
          const r = yield* kernelClone(t, {
            flags: 0,
            exitSignal: SIGCHLD,
            fn: (q) => Effect.sync(() => ((child = q.task), seen.push(["child", q.task.cred === cred, q.task.nsproxy === nsproxy, q.task.fs === fs]), 0)),
            cred,
            nsproxy,
            fs,
            hookData: marker
          })
          cred.put()
          yield* p.wait4(r.pid)
          seen.push(["reaped", child !== undefined, fs.freed])
          return 0
        })
      )
      expect(seen).toEqual([["hook", true], ["child", true, true, true], ["reaped", true, true]])
    }))

  it.effect("a supplied part with the flag it replaces is EINVAL, and the fs_struct is put", () =>
    Effect.gen(function* () {
      const seen: Array<unknown> = []
      yield* runInit((p) =>
        Effect.gen(function* () {
          const t = p.task
          const k = t.kernel
          const fn = () => Effect.succeed(0)
          const tryClone = (extra: Partial<KernelCloneArgs>, flags: number) => {
            const fs = new FakeFs(k.live)
            return Effect.map(errnoOf(kernelClone(t, { flags, exitSignal: SIGCHLD, fn, fs, ...extra })), (e) => [e, fs.freed])
          }
          seen.push(yield* tryClone({ cred: t.cred }, CLONE_NEWUSER))
          seen.push(yield* tryClone({ nsproxy: t.nsproxy }, CLONE_NEWUTS))
          seen.push(yield* tryClone({}, CLONE_FS))
          seen.push(yield* tryClone({}, CLONE_THREAD | CLONE_SIGHAND | CLONE_VM))
          return 0
        })
      )
      expect(seen).toEqual([["EINVAL", true], ["EINVAL", true], ["EINVAL", true], ["EINVAL", true]])
    }))

  it.effect("a later hook's refusal runs the earlier hooks' onForkUndo and undoes the fork", () =>
    Effect.gen(function* () {
      const seen: Array<unknown> = []
      yield* runInit((p) =>
        Effect.gen(function* () {
          const k = p.task.kernel
          const first = k.addTaskHooks({ onFork: () => (seen.push("first"), undefined), onForkUndo: (c) => seen.push(["undo", c.comm]) })
          const second = k.addTaskHooks({ onFork: () => sysError("EAGAIN", "clone") })
          seen.push(yield* errnoOf(p.fork(() => Effect.succeed(0))))
          second()
          first()
          const pid = yield* p.fork(() => Effect.succeed(0))
          yield* p.wait4(pid)
          return 0
        })
      )
      expect(seen).toEqual(["first", ["undo", "init"], "EAGAIN"])
    }))
})
