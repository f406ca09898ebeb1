import { describe, expect, it } from "@effect/vitest"
import {
  AT_EMPTY_PATH,
  AT_FDCWD,
  CONTAINER_NEW_EMPTY_FS_NS,
  CONTAINER_NEW_FS_NS,
  CONTAINER_NEW_PID_NS,
  CONTAINER_NEW_USER_NS,
  FSCONFIG_CMD_CREATE,
  FSCONFIG_SET_CONTAINER,
  FSCONFIG_SET_STRING,
  MOVE_MOUNT_F_EMPTY_PATH,
  MOVE_MOUNT_T_AUTOMOUNTS,
  MOVE_MOUNT_T_CONTAINER_ROOT,
  MOVE_MOUNT_T_EMPTY_PATH,
  MOVE_MOUNT_T_SYMLINKS,
  O_DIRECTORY,
  O_RDONLY,
  OPEN_TREE_CLONE
} from "@simkernel/abi"
import type { Process } from "@simkernel/sched"
import {
  chroot,
  fchdir,
  fsconfig,
  fsContextFromFile,
  fsmount,
  fsopen,
  fstatat,
  type Kstat,
  mkdirat,
  moveMount,
  type MountNamespace,
  openat,
  openTree
} from "@simkernel/vfs"
import { Effect } from "effect"
import { containerFromFile } from "../src/index.js"
import { errnoOfSync, runWith } from "./fixtures.js"

/** fsopen + fsconfig(FSCONFIG_SET_CONTAINER) + create + fsmount: a detached tmpfs made for the container. */
const tmpfsFor = (p: Process, cfd: number): number => {
  const fsfd = fsopen(p.vfs, "tmpfs", 0) as number
  fsconfig(p.vfs, fsfd, FSCONFIG_SET_CONTAINER, null, null, cfd)
  fsconfig(p.vfs, fsfd, FSCONFIG_CMD_CREATE, null, null, 0)
  const mfd = fsmount(p.vfs, fsfd, 0, 0) as number
  p.vfs.files.close(fsfd)
  return mfd
}

describe("a container fd as dirfd", () => {
  it.effect("relative paths start at the container's root; absolute and empty paths are EINVAL; no root yet is ENOENT", () =>
    Effect.gen(function* () {
      const seen: Array<unknown> = []
      yield* runWith(({ containers }) => (p) =>
        Effect.gen(function* () {
          const vt = p.vfs
          mkdirat(vt, AT_FDCWD, "/sub", 0o755)
          const [r, w] = yield* p.pipe()
          // a task chrooted into /sub makes a container: its root is /sub
          const child = yield* p.fork((q) =>
            Effect.gen(function* () {
              chroot(q.vfs, "/sub")
              const cfd = yield* containers.create(q.task, "sub", 0)
              seen.push(["mkdirat", errnoOfSync(mkdirat(q.vfs, cfd, "made", 0o755))])
              seen.push(["absolute", errnoOfSync(openat(q.vfs, cfd, "/made", O_RDONLY | O_DIRECTORY, 0))])
              seen.push(["relative", errnoOfSync(openat(q.vfs, cfd, "made", O_RDONLY | O_DIRECTORY, 0))])
              seen.push(["empty", errnoOfSync(openat(q.vfs, cfd, "", O_RDONLY, 0))])
              seen.push(["empty path", errnoOfSync(openTree(q.vfs, cfd, "", AT_EMPTY_PATH | OPEN_TREE_CLONE))])
              seen.push(["fchdir", errnoOfSync(fchdir(q.vfs, cfd)), errnoOfSync(openat(q.vfs, AT_FDCWD, "made", O_RDONLY | O_DIRECTORY, 0))])
              const empty = yield* containers.create(q.task, "empty", CONTAINER_NEW_EMPTY_FS_NS)
              seen.push(["no root", errnoOfSync(mkdirat(q.vfs, empty, "x", 0o755))])
              yield* q.write(w, new Uint8Array([1]))
              return 0
            })
          )
          yield* p.read(r, new Uint8Array(1))
          yield* p.wait4(child)
          seen.push(["seen from outside", errnoOfSync(fstatat(vt, AT_FDCWD, "/sub/made", 0)), errnoOfSync(fstatat(vt, AT_FDCWD, "/made", 0))])
          return 0
        })
      )
      expect(seen).toEqual([
        ["mkdirat", "ok"],
        ["absolute", "EINVAL"],
        ["relative", "ok"],
        ["empty", "ENOENT"],
        ["empty path", "EINVAL"],
        ["fchdir", "ok", "ok"],
        ["no root", "ENOENT"],
        ["seen from outside", "ok", "ENOENT"]
      ])
    }))
})

describe("fsconfig(FSCONFIG_SET_CONTAINER)", () => {
  it.effect("checks in 4.7's order and gives the context the container's namespaces", () =>
    Effect.gen(function* () {
      const seen: Array<unknown> = []
      yield* runWith(({ containers }) => (p) =>
        Effect.gen(function* () {
          const vt = p.vfs
          const cfd = yield* containers.create(p.task, "c", CONTAINER_NEW_USER_NS | CONTAINER_NEW_PID_NS)
          const c = containerFromFile(vt.files.fdget(cfd)!)!
          const [r] = yield* p.pipe()
          const fsfd = fsopen(vt, "tmpfs", 0) as number
          const set = (key: string | null, value: string | null, aux: number) => errnoOfSync(fsconfig(vt, fsfd, FSCONFIG_SET_CONTAINER, key, value, aux))
          seen.push(set("k", null, cfd), set(null, "v", cfd), set(null, null, -1), set(null, null, 99), set(null, null, r))
          seen.push(set(null, null, cfd))
          const fc = fsContextFromFile(vt.files.fdget(fsfd)!)!
          seen.push(fc.userNs === c.cred.userNs, fc.pidNs === c.pidNs, fc.netNs === c.nsproxy.net, fc.nsSource === c)
          fsconfig(vt, fsfd, FSCONFIG_SET_STRING, "size", "1m", 0)
          seen.push(set(null, null, cfd))
          fsconfig(vt, fsfd, FSCONFIG_CMD_CREATE, null, null, 0)
          seen.push(fc.sb?.userNs === c.cred.userNs)
          // a second context after a parameter: EBUSY before the fd is even looked at as a container
          const other = fsopen(vt, "tmpfs", 0) as number
          fsconfig(vt, other, FSCONFIG_SET_STRING, "mode", "755", 0)
          seen.push(errnoOfSync(fsconfig(vt, other, FSCONFIG_SET_CONTAINER, null, null, r)))
          return 0
        })
      )
      expect(seen).toEqual(["EINVAL", "EINVAL", "EINVAL", "EBADF", "EINVAL", "ok", true, true, true, true, "EBUSY", true, "EBUSY"])
    }))
})

describe("move_mount(MOVE_MOUNT_T_CONTAINER_ROOT)", () => {
  it.effect("gives a NEW_EMPTY_FS_NS container a mount namespace and root once; later mounts go inside it", () =>
    Effect.gen(function* () {
      const seen: Array<unknown> = []
      yield* runWith(({ containers }) => (p) =>
        Effect.gen(function* () {
          const vt = p.vfs
          const cfd = yield* containers.create(p.task, "foo-test", CONTAINER_NEW_EMPTY_FS_NS | CONTAINER_NEW_PID_NS)
          const c = containerFromFile(vt.files.fdget(cfd)!)!
          const [r] = yield* p.pipe()
          const mfd = tmpfsFor(p, cfd)
          const mv = (to: number, path: string | null, flags: number, from = mfd) =>
            errnoOfSync(moveMount(vt, from, "", to, path, MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_CONTAINER_ROOT | flags))
          seen.push(mv(cfd, "/", MOVE_MOUNT_T_SYMLINKS), mv(cfd, "/", MOVE_MOUNT_T_AUTOMOUNTS), mv(cfd, "/", MOVE_MOUNT_T_EMPTY_PATH))
          seen.push(mv(cfd, null, 0), mv(cfd, "", 0), mv(cfd, "/x", 0), mv(cfd, "x", 0))
          seen.push(mv(99, "/", 0), mv(r, "/", 0))
          // an attached mount is not a detached tree
          const root = openat(vt, AT_FDCWD, "/", O_RDONLY | O_DIRECTORY, 0) as number
          seen.push(errnoOfSync(moveMount(vt, root, "", cfd, "/", MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_CONTAINER_ROOT)))
          seen.push(mv(cfd, "/", 0))
          const ns = c.nsproxy.mnt as MountNamespace
          seen.push(ns !== undefined && ns !== p.task.nsproxy!.mnt, ns.userNs === c.cred.userNs, ns.root === c.root?.mnt, ns.nrMounts)
          seen.push(mv(cfd, "/", 0, tmpfsFor(p, cfd)))
          // the sample's next step: mkdir proc in the new root, mount a second filesystem there from outside
          seen.push(errnoOfSync(mkdirat(vt, cfd, "proc", 0o555)))
          const proc = tmpfsFor(p, cfd)
          seen.push(errnoOfSync(moveMount(vt, proc, "", cfd, "proc", MOVE_MOUNT_F_EMPTY_PATH)), ns.nrMounts)
          seen.push(errnoOfSync(fstatat(vt, AT_FDCWD, "/proc", 0)))
          const child = yield* containers.forkInto(p.task, cfd, (q) =>
            Effect.sync(() => {
              const a = fstatat(q.vfs, AT_FDCWD, "/", 0) as Kstat
              const b = fstatat(q.vfs, AT_FDCWD, "/proc", 0) as Kstat
              seen.push(["inside", q.vfs.mntNs === ns, a.dev !== b.dev, a.dev === c.root!.mnt.sb.dev])
              return 0
            })
          )
          yield* p.wait4(child)
          return 0
        })
      )
      expect(seen).toEqual([
        "EINVAL",
        "EINVAL",
        "EINVAL",
        "EFAULT",
        "EINVAL",
        "EINVAL",
        "EINVAL",
        "EBADF",
        "EINVAL",
        "EINVAL",
        "ok",
        true,
        true,
        true,
        1,
        "EBUSY",
        "ok",
        "ok",
        2,
        "ENOENT",
        ["inside", true, true, true]
      ])
    }))
})

describe("move_mount with a container fd as the target's dirfd", () => {
  it.effect("a NEW_FS_NS container: the mount goes into the container's copy of the tree, not the caller's", () =>
    Effect.gen(function* () {
      const seen: Array<unknown> = []
      yield* runWith(({ containers }) => (p) =>
        Effect.gen(function* () {
          const vt = p.vfs
          mkdirat(vt, AT_FDCWD, "/mnt", 0o755)
          const cfd = yield* containers.create(p.task, "fs", CONTAINER_NEW_FS_NS)
          const c = containerFromFile(vt.files.fdget(cfd)!)!
          const ns = c.nsproxy.mnt as MountNamespace
          const before = [ns.nrMounts, vt.mntNs.nrMounts]
          seen.push(errnoOfSync(moveMount(vt, tmpfsFor(p, cfd), "", cfd, "mnt", MOVE_MOUNT_F_EMPTY_PATH)))
          seen.push([ns.nrMounts - before[0]!, vt.mntNs.nrMounts - before[1]!])
          seen.push(errnoOfSync(moveMount(vt, tmpfsFor(p, cfd), "", cfd, "/mnt", MOVE_MOUNT_F_EMPTY_PATH)))
          seen.push(errnoOfSync(moveMount(vt, tmpfsFor(p, cfd), "", cfd, "/", MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_CONTAINER_ROOT)))
          return 0
        })
      )
      expect(seen).toEqual(["ok", [1, 0], "EINVAL", "EBUSY"])
    }))
})
