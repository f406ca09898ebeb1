import { describe, expect, it } from "@effect/vitest"
import {
  CONTAINER_FD_CLOEXEC,
  CONTAINER_KILL_ON_CLOSE,
  CONTAINER_NEW_EMPTY_FS_NS,
  CONTAINER_NEW_FS_NS,
  CONTAINER_NEW_NET_NS,
  CONTAINER_NEW_PID_NS,
  CONTAINER_NEW_USER_NS,
  CONTAINER_NEW_UTS_NS,
  F_GETFD,
  FD_CLOEXEC,
  O_RDWR,
  type SysError
} from "@simkernel/abi"
import { anonInodeDname } from "@simkernel/vfs"
import { procGidMapWrite, procUidMapWrite } from "@simkernel/cred"
import type { Process } from "@simkernel/sched"
import { Effect } from "effect"
import { Container, CONTAINER_FLAG_KILL_ON_CLOSE, containerFromFile } from "../src/index.js"
import { errnoOf, runWith } from "./fixtures.js"

describe("container_create", () => {
  it.effect("returns an anon_inode:container fd, O_RDWR, with O_CLOEXEC only for CONTAINER_FD_CLOEXEC", () =>
    Effect.gen(function* () {
      const seen: Array<unknown> = []
      yield* runWith(({ containers }) => (p) =>
        Effect.gen(function* () {
          const t = p.task
          const a = yield* containers.create(t, "foo", 0)
          const b = yield* containers.create(t, "bar", CONTAINER_FD_CLOEXEC)
          const fa = p.vfs.files.fdget(a)!
          seen.push(anonInodeDname(fa), fa.flags & O_RDWR, p.vfs.files.fcntl(a, F_GETFD, 0), p.vfs.files.fcntl(b, F_GETFD, 0))
          const c = containerFromFile(fa)!
          seen.push(c.name, c.id, containerFromFile(p.vfs.files.fdget(b)!)!.id, c.parent === containers.initContainer)
          seen.push([...containers.initContainer.children].map((x) => x.name))
          yield* p.close(a)
          yield* p.close(b)
          seen.push(containers.initContainer.children.size)
          return 0
        })
      )
      expect(seen).toEqual(["anon_inode:container", O_RDWR, 0, FD_CLOEXEC, "foo", 2n, 3n, true, ["foo", "bar"], 0])
    }))

  it.effect("checks its arguments in the seed's order", () =>
    Effect.gen(function* () {
      const seen: Array<string> = []
      yield* runWith(({ containers }) => (p) =>
        Effect.gen(function* () {
          const t = p.task
          const c = (name: string | null, flags: number, s3 = 0, s4 = 0, s5 = 0) => errnoOf(containers.create(t, name, flags, s3, s4, s5))
          seen.push(yield* c(null, 0x400))
          seen.push(yield* c("x", 0x400))
          seen.push(yield* c("x", 0, 1))
          seen.push(yield* c("x", 0, 0, 1))
          seen.push(yield* c("x", 0, 0, 0, 1))
          seen.push(yield* c("x".repeat(30), CONTAINER_NEW_FS_NS | CONTAINER_NEW_EMPTY_FS_NS))
          seen.push(yield* c("x".repeat(24), 0))
          seen.push(yield* c("a/b".repeat(10), 0))
          seen.push(yield* c("a/b", 0))
          // 23 bytes is the longest name; a 2-byte character counts twice
          seen.push(yield* c("x".repeat(23), 0))
          seen.push(yield* c("é".repeat(12), 0))
          seen.push(yield* c("", 0))
          // a 4-byte character counts four times
          seen.push(yield* c("\u{1F600}".repeat(6), 0))
          seen.push(yield* c(`${"\u{1F600}".repeat(5)}abc`, 0))
          return 0
        })
      )
      expect(seen).toEqual(["EINVAL", "EINVAL", "EINVAL", "EINVAL", "EINVAL", "EINVAL", "ENAMETOOLONG", "ENAMETOOLONG", "EINVAL", "ok", "ENAMETOOLONG", "ok", "ENAMETOOLONG", "ok"])
    }))

  it.effect("shares the creator's namespaces unless asked, makes new ones from the flags (pods share)", () =>
    Effect.gen(function* () {
      const seen: Array<unknown> = []
      yield* runWith(({ containers }) => (p) =>
        Effect.gen(function* () {
          const t = p.task
          const get = (fd: number): Container => containerFromFile(p.vfs.files.fdget(fd)!)!
          const plain = get(yield* containers.create(t, "plain", 0))
          const uts = get(yield* containers.create(t, "uts", CONTAINER_NEW_UTS_NS | CONTAINER_NEW_NET_NS | CONTAINER_NEW_PID_NS))
          const n = t.nsproxy!
          seen.push(plain.nsproxy.uts === n.uts, plain.nsproxy.net === n.net, plain.pidNs === n.pidForChildren, plain.root?.mnt === (t.fs as never as { root: { mnt: unknown } }).root.mnt)
          seen.push(uts.nsproxy.uts === n.uts, uts.nsproxy.net === n.net, uts.pidNs === n.pidForChildren, uts.pidNs.parent === t.activePidNs, uts.nsproxy.ipc === n.ipc, uts.nsproxy.mnt === n.mnt)
          const fs = get(yield* containers.create(t, "fs", CONTAINER_NEW_FS_NS))
          seen.push(fs.nsproxy.mnt === n.mnt, fs.root?.mnt.ns === fs.nsproxy.mnt)
          const empty = get(yield* containers.create(t, "empty", CONTAINER_NEW_EMPTY_FS_NS))
          seen.push(empty.nsproxy.mnt, empty.root)
          return 0
        })
      )
      expect(seen).toEqual([true, true, true, true, false, false, false, true, true, true, false, true, undefined, undefined])
    }))

  it.effect("pods: containers made inside a container share every namespace they do not ask for", () =>
    Effect.gen(function* () {
      const seen: Array<unknown> = []
      yield* runWith(({ containers }) => (p) =>
        Effect.gen(function* () {
          const t = p.task
          const outer = yield* containers.create(t, "pod", CONTAINER_NEW_NET_NS | CONTAINER_NEW_PID_NS)
          const oc = containerFromFile(p.vfs.files.fdget(outer)!)!
          const init = yield* containers.forkInto(t, outer, (q) =>
            Effect.gen(function* () {
              const a = containerFromFile(q.vfs.files.fdget(yield* containers.create(q.task, "a", CONTAINER_NEW_UTS_NS))!)!
              const b = containerFromFile(q.vfs.files.fdget(yield* containers.create(q.task, "b", CONTAINER_NEW_UTS_NS))!)!
              seen.push(a.nsproxy.net === oc.nsproxy.net, b.nsproxy.net === oc.nsproxy.net, a.nsproxy.uts === b.nsproxy.uts, a.pidNs === oc.pidNs)
              seen.push(a.parent === oc, [...oc.children].map((c) => c.name))
              return 0
            })
          )
          yield* p.wait4(init)
          return 0
        })
      )
      expect(seen).toEqual([true, true, false, true, true, ["a", "b"]])
    }))

  it.effect("CONTAINER_NEW_USER_NS: credentials of the new namespace's owner, keyrings dropped", () =>
    Effect.gen(function* () {
      const seen: Array<unknown> = []
      yield* runWith(({ containers }) => (p) =>
        Effect.gen(function* () {
          const t = p.task
          yield* p.setgid(1000)
          yield* p.setuid(1000)
          // an unprivileged user may make a container with its own user namespace, and new namespaces inside it
          const fd = yield* containers.create(t, "user", CONTAINER_NEW_USER_NS | CONTAINER_NEW_UTS_NS | CONTAINER_NEW_FS_NS)
          const c = containerFromFile(p.vfs.files.fdget(fd)!)!
          const cred = c.cred
          seen.push(cred.userNs.parent === t.cred.userNs, cred.userNs.owner, cred.uid, cred.euid, cred.suid, cred.fsuid, cred.gid, cred.egid)
          seen.push(c.nsproxy.uts.ownerNs === cred.userNs, cred.threadKeyring, cred.sessionKeyring, cred.requestKeyAuth)
          // without one, it needs CAP_SYS_ADMIN as unshare(2) does
          seen.push(yield* errnoOf(containers.create(t, "nouser", CONTAINER_NEW_UTS_NS)))
          seen.push(yield* errnoOf(containers.create(t, "empty", CONTAINER_NEW_EMPTY_FS_NS)))
          seen.push(yield* errnoOf(containers.create(t, "plain", 0)))
          return 0
        })
      )
      expect(seen).toEqual([true, 1000, 1000, 1000, 1000, 1000, 1000, 1000, true, undefined, undefined, undefined, "EPERM", "EPERM", "ok"])
    }))

  it.effect("user namespaces nest as unshare(2) lets them: a 34th level is ENOSPC, as on Linux 6.18", () =>
    Effect.gen(function* () {
      const seen: Array<unknown> = []
      yield* runWith(({ containers }) => (p) =>
        Effect.gen(function* () {
          // each level's member makes the next container, with its own user namespace, and forks into it
          const level = (q: Process, depth: number): Effect.Effect<number, SysError> =>
            Effect.gen(function* () {
              const r = yield* Effect.result(containers.create(q.task, `l${depth}`, CONTAINER_NEW_USER_NS))
              if (r._tag === "Failure") {
                seen.push([depth, q.task.cred.userNs.level, r.failure.errno])
                return 0
              }
              // map root through, as a runtime writes uid_map and gid_map, so the next level's creator is mapped
              const userNs = containerFromFile(q.vfs.files.fdget(r.success)!)!.cred.userNs
              yield* procUidMapWrite(userNs, "0 0 1\n", q.task.cred)
              yield* procGidMapWrite(userNs, "0 0 1\n", q.task.cred)
              const pid = yield* containers.forkInto(q.task, r.success, (c) => level(c, depth + 1))
              yield* q.wait4(pid)
              return 0
            })
          return yield* level(p, 1)
        })
      )
      expect(seen).toEqual([[34, 33, "ENOSPC"]])
    }))

  it.effect("the name ends at its first NUL, as strndup_user() reads it", () =>
    Effect.gen(function* () {
      const seen: Array<unknown> = []
      yield* runWith(({ containers }) => (p) =>
        Effect.gen(function* () {
          const fd = yield* containers.create(p.task, "foo\0/and a long tail past 24 bytes", 0)
          seen.push(containerFromFile(p.vfs.files.fdget(fd)!)!.name)
          return 0
        })
      )
      expect(seen).toEqual(["foo"])
    }))

  it.effect("KILL_ON_CLOSE is kept as internal flag bit 2; ids count up and are not reused", () =>
    Effect.gen(function* () {
      const seen: Array<unknown> = []
      yield* runWith(({ containers }) => (p) =>
        Effect.gen(function* () {
          const t = p.task
          const a = yield* containers.create(t, "a", CONTAINER_KILL_ON_CLOSE)
          const c = containerFromFile(p.vfs.files.fdget(a)!)!
          seen.push(c.flags, c.flags === CONTAINER_FLAG_KILL_ON_CLOSE, c.id)
          yield* p.close(a)
          const b = yield* containers.create(t, "a", 0)
          seen.push(containerFromFile(p.vfs.files.fdget(b)!)!.id)
          return 0
        })
      )
      expect(seen).toEqual([4, true, 2n, 3n])
    }))
})
