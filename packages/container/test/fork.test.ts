import { describe, expect, it } from "@effect/vitest"
import {
  CONTAINER_NEW_EMPTY_FS_NS,
  CONTAINER_NEW_FS_NS,
  CONTAINER_NEW_PID_NS,
  CONTAINER_NEW_USER_NS,
  CONTAINER_NEW_UTS_NS,
  POLLHUP,
  POLLIN,
  SIGKILL,
  W_EXITCODE,
  WNOHANG
} from "@simkernel/abi"
import type { FsStruct } from "@simkernel/vfs"
import { Effect } from "effect"
import { CONTAINER_FLAG_DEAD, CONTAINER_FLAG_INIT_STARTED, containerFromFile } from "../src/index.js"
import { errnoOf, exitWith, pauser, runWith } from "./fixtures.js"

describe("fork_into_container", () => {
  it.effect("with a PID namespace: the first child is PID 1 there and the container's init", () =>
    Effect.gen(function* () {
      const seen: Array<unknown> = []
      yield* runWith(({ containers }) => (p) =>
        Effect.gen(function* () {
          const t = p.task
          const cfd = yield* containers.create(t, "pidns", CONTAINER_NEW_PID_NS | CONTAINER_NEW_UTS_NS | CONTAINER_NEW_FS_NS)
          const c = containerFromFile(p.vfs.files.fdget(cfd)!)!
          const pid = yield* containers.forkInto(t, cfd, (q) =>
            Effect.gen(function* () {
              const ct = q.task
              const fs = ct.fs as unknown as FsStruct
              seen.push(["child", yield* q.getpid(), yield* q.getppid(), ct.cred === c.cred, ct.nsproxy === c.nsproxy])
              seen.push(["fs", fs.root.mnt === c.root!.mnt, fs.pwd.dentry === c.root!.dentry, fs.umask, fs.users])
              seen.push(["member", containers.containerOf(ct) === c, c.init === ct, c.flags & CONTAINER_FLAG_INIT_STARTED])
              const g = yield* q.fork((r) => Effect.map(r.getpid(), (n) => (seen.push(["grandchild", n, containers.containerOf(r.task) === c]), 0)))
              yield* q.wait4(g)
              return 5
            })
          )
          seen.push(["parent", pid, c.members.size])
          const w = yield* p.wait4(pid)
          seen.push(["reaped", w.status, c.dead, c.exitCode])
          return 0
        })
      )
      expect(seen).toEqual([
        ["child", 1, 0, true, true],
        ["fs", true, true, 0o022, 1],
        ["member", true, true, CONTAINER_FLAG_INIT_STARTED],
        ["grandchild", 2, true],
        ["parent", 2, 0],
        ["reaped", W_EXITCODE(5, 0), true, W_EXITCODE(5, 0)]
      ])
    }))

  it.effect("init's death records its status, marks the container dead, SIGKILLs the other members and wakes waiters", () =>
    Effect.gen(function* () {
      const seen: Array<unknown> = []
      yield* runWith(({ containers }) => (p) =>
        Effect.gen(function* () {
          const t = p.task
          const cfd = yield* containers.create(t, "c", CONTAINER_NEW_PID_NS)
          const c = containerFromFile(p.vfs.files.fdget(cfd)!)!
          seen.push(yield* p.poll([{ fd: cfd, events: POLLIN }], 0))
          const [r, wr] = yield* p.pipe()
          const init = yield* containers.forkInto(t, cfd, (q) =>
            Effect.gen(function* () {
              yield* q.fork(pauser)
              yield* q.fork(pauser)
              // init sleeps until told to go (the descriptor table is a copy of the caller's)
              yield* q.read(r, new Uint8Array(1))
              return 9
            })
          )
          // a second child forked in from outside is an ordinary member
          const other = yield* containers.forkInto(t, cfd, pauser)
          seen.push(["members", c.members.size, c.flags])
          const w0 = yield* containers.wait(t, cfd, WNOHANG)
          seen.push(["nohang", w0.status])
          yield* p.write(wr, new Uint8Array([1]))
          const w = yield* containers.wait(t, cfd, 0)
          seen.push(["dead", w.status, c.flags & CONTAINER_FLAG_DEAD, yield* p.poll([{ fd: cfd, events: POLLIN }], 0)])
          const wo = yield* p.wait4(other)
          seen.push(["other", wo.status])
          yield* p.wait4(init)
          seen.push(["fork after death", yield* errnoOf(containers.forkInto(t, cfd, exitWith(0)))])
          seen.push(["members after", c.members.size])
          return 0
        })
      )
      expect(seen).toEqual([
        [0],
        ["members", 4, CONTAINER_FLAG_INIT_STARTED],
        ["nohang", undefined],
        ["dead", W_EXITCODE(9, 0), CONTAINER_FLAG_DEAD, [POLLHUP]],
        ["other", SIGKILL],
        ["fork after death", "ECANCELED"],
        ["members after", 0]
      ])
    }))

  it.effect("without a PID namespace there is no init: the container dies when its last member exits", () =>
    Effect.gen(function* () {
      const seen: Array<unknown> = []
      yield* runWith(({ containers }) => (p) =>
        Effect.gen(function* () {
          const t = p.task
          const cfd = yield* containers.create(t, "pod", CONTAINER_NEW_UTS_NS)
          const c = containerFromFile(p.vfs.files.fdget(cfd)!)!
          seen.push(["before", (yield* containers.wait(t, cfd, WNOHANG)).status])
          const b = yield* containers.forkInto(t, cfd, pauser)
          const a = yield* containers.forkInto(t, cfd, (q) => Effect.map(q.getpid(), (n) => (seen.push(["a sees", n]), 3)))
          seen.push(["a exited", a, c.init, c.dead, c.members.size, c.flags & CONTAINER_FLAG_INIT_STARTED])
          yield* p.kill(b, 15)
          const w = yield* containers.wait(t, cfd, 0)
          seen.push(["dead", w.status, c.members.size])
          seen.push(["fork after death", yield* errnoOf(containers.forkInto(t, cfd, exitWith(0)))])
          for (const x of [a, b]) yield* p.wait4(x)
          return 0
        })
      )
      expect(seen).toEqual([
        ["before", undefined],
        ["a sees", 3],
        ["a exited", 3, undefined, false, 1, CONTAINER_FLAG_INIT_STARTED],
        ["dead", 15, 0],
        ["fork after death", "ECANCELED"]
      ])
    }))

  it.effect("the last member of a container without a PID namespace gives its status", () =>
    Effect.gen(function* () {
      const seen: Array<unknown> = []
      yield* runWith(({ containers }) => (p) =>
        Effect.gen(function* () {
          const t = p.task
          const cfd = yield* containers.create(t, "one", 0)
          const a = yield* containers.forkInto(t, cfd, exitWith(7))
          seen.push((yield* containers.wait(t, cfd, WNOHANG)).status)
          yield* p.wait4(a)
          return 0
        })
      )
      expect(seen).toEqual([W_EXITCODE(7, 0)])
    }))

  it.effect("errors: EBADF, EINVAL for another fd, ENOENT before an empty container has a root, ECANCELED once dead", () =>
    Effect.gen(function* () {
      const seen: Array<unknown> = []
      yield* runWith(({ containers }) => (p) =>
        Effect.gen(function* () {
          const t = p.task
          seen.push(yield* errnoOf(containers.forkInto(t, 99, exitWith(0))))
          seen.push(yield* errnoOf(containers.forkInto(t, -1, exitWith(0))))
          const [r] = yield* p.pipe()
          seen.push(yield* errnoOf(containers.forkInto(t, r, exitWith(0))))
          const e = yield* containers.create(t, "empty", CONTAINER_NEW_EMPTY_FS_NS)
          seen.push(yield* errnoOf(containers.forkInto(t, e, exitWith(0))))
          const u = yield* containers.create(t, "user", CONTAINER_NEW_USER_NS | CONTAINER_NEW_PID_NS)
          const pid = yield* containers.forkInto(t, u, exitWith(0))
          yield* p.wait4(pid)
          seen.push(yield* errnoOf(containers.forkInto(t, u, exitWith(0))))
          return 0
        })
      )
      expect(seen).toEqual(["EBADF", "EBADF", "EINVAL", "ENOENT", "ECANCELED"])
    }))
})
