/**
 * Bottomley's model beside the seed's (docs/containers.md): each test shows
 * one thing his review of patch 02/27 defends still working with the
 * container object in the kernel.
 */
import { describe, expect, it } from "@effect/vitest"
import {
  AT_FDCWD,
  CLONE_NEWIPC,
  CLONE_NEWNET,
  CLONE_NEWUTS,
  CONTAINER_FD_CLOEXEC,
  CONTAINER_NEW_EMPTY_FS_NS,
  CONTAINER_NEW_FS_NS,
  CONTAINER_NEW_IPC_NS,
  CONTAINER_NEW_NET_NS,
  CONTAINER_NEW_PID_NS,
  CONTAINER_NEW_UTS_NS,
  FSCONFIG_CMD_CREATE,
  FSCONFIG_SET_CONTAINER,
  FSMOUNT_CLOEXEC,
  MNT_DETACH,
  MOVE_MOUNT_F_EMPTY_PATH,
  MOVE_MOUNT_T_CONTAINER_ROOT,
  MS_BIND,
  O_CLOEXEC,
  O_RDONLY,
  SIGKILL,
  WEXITSTATUS,
  WIFSIGNALED,
  WNOHANG,
  WTERMSIG
} from "@simkernel/abi"
import type { Process } from "@simkernel/sched"
import { listDirectory } from "@simkernel/vfs"
import { Effect } from "effect"
import { Syscalls } from "../src/syscalls/table.js"
import { readFile, readLink } from "../src/userland/program.js"
import { asInit, errnoOf, forkWait, pipe, touch } from "./support.js"

/** The inode numbers /proc/self/ns/KIND names, for each kind. */
const nsIds = (sys: Syscalls, kinds: ReadonlyArray<string>) =>
  Effect.forEach(kinds, (k) => Effect.map(readLink(sys, `/proc/self/ns/${k}`), (l) => l ?? `${k}:?`))

const hostname = (sys: Syscalls): string => sys.ctx.proc.task.nsproxy!.uts.utsname.nodename

describe("Bottomley: a container can be a set of unoccupied namespaces bound into the filesystem", () => {
  it.effect("namespaces outlive their last process when /proc/PID/ns files are bind-mounted, and setns() enters them", () =>
    asInit((sys) =>
      Effect.gen(function* () {
        yield* sys.call("mkdirat", AT_FDCWD, "/tmp/ns", 0o755)
        for (const kind of ["uts", "ipc", "net"]) yield* touch(sys, `/tmp/ns/${kind}`)
        // a process makes the namespaces, names the host, binds them into the filesystem, and exits
        const made: { ids?: ReadonlyArray<string> } = {}
        const status = yield* forkWait(sys, (c) =>
          Effect.gen(function* () {
            yield* c.call("unshare", CLONE_NEWUTS | CLONE_NEWIPC | CLONE_NEWNET)
            yield* c.call("sethostname", new TextEncoder().encode("emul"), 4)
            for (const kind of ["uts", "ipc", "net"]) yield* c.call("mount", `/proc/self/ns/${kind}`, `/tmp/ns/${kind}`, null, MS_BIND, null)
            made.ids = yield* nsIds(c, ["uts", "ipc", "net"])
            return 0
          })
        )
        // no process is in them now; a newcomer opens the files and joins
        const entered = yield* forkWait(sys, (c) =>
          Effect.gen(function* () {
            for (const [kind, flag] of [["uts", CLONE_NEWUTS], ["ipc", CLONE_NEWIPC], ["net", CLONE_NEWNET]] as const) {
              const fd = yield* c.call("openat", AT_FDCWD, `/tmp/ns/${kind}`, O_RDONLY | O_CLOEXEC, 0)
              yield* c.call("setns", fd, flag)
              yield* c.call("close", fd)
            }
            const ids = yield* nsIds(c, ["uts", "ipc", "net"])
            return ids.join() === made.ids?.join() && hostname(c) === "emul" ? 0 : 1
          })
        )
        // and a second time: filled and emptied of processes as it is used
        const again = yield* forkWait(sys, (c) =>
          Effect.gen(function* () {
            const fd = yield* c.call("openat", AT_FDCWD, "/tmp/ns/uts", O_RDONLY | O_CLOEXEC, 0)
            yield* c.call("setns", fd, CLONE_NEWUTS)
            return hostname(c) === "emul" ? 0 : 1
          })
        )
        const mountinfo = yield* readFile(sys, "/proc/self/mountinfo")
        for (const kind of ["uts", "ipc", "net"]) yield* sys.call("umount2", `/tmp/ns/${kind}`, MNT_DETACH)
        return { status, made: made.ids, entered, again, mountinfo, host: hostname(sys) }
      })
    ).pipe(
      Effect.map((r) => {
        expect([r.status, r.entered, r.again].map(WEXITSTATUS)).toEqual([0, 0, 0])
        expect(r.made?.map((l) => l.split(":")[0])).toEqual(["uts", "ipc", "net"])
        // each bind mount is of an nsfs file, named as the namespace
        for (const id of r.made ?? []) expect(r.mountinfo).toContain(` ${id} /tmp/ns/${id.split(":")[0]} rw - nsfs nsfs rw\n`)
        expect(r.host).toBe("(none)")
      })
    )
  )

  it.effect("a container's namespaces are ordinary ones: bound from its init's /proc/PID/ns, they stay after the container is gone", () =>
    asInit((sys) =>
      Effect.gen(function* () {
        yield* touch(sys, "/tmp/uts")
        const cfd = yield* sys.call("container_create", "fred", CONTAINER_NEW_UTS_NS | CONTAINER_NEW_PID_NS | CONTAINER_FD_CLOEXEC, 0, 0, 0)
        const [goR, goW] = yield* pipe(sys)
        const init = yield* sys.call("fork_into_container", cfd, (child: Process) =>
          Effect.gen(function* () {
            const c = new Syscalls({ proc: child })
            yield* c.call("close", goW)
            yield* c.call("sethostname", new TextEncoder().encode("fred"), 4)
            yield* c.call("read", goR, new Uint8Array(1), 1)
            return 0
          })
        )
        yield* sys.call("close", goR)
        // the supervisor binds the container's UTS namespace, as it would any process's
        yield* sys.call("mount", `/proc/${init}/ns/uts`, "/tmp/uts", null, MS_BIND, null)
        yield* sys.call("close", goW)
        yield* sys.call("container_wait", cfd, {}, 0, null)
        yield* sys.call("wait4", init, {}, 0, null)
        yield* sys.call("close", cfd)
        const containers = yield* readFile(sys, "/proc/containers")
        const status = yield* forkWait(sys, (c) =>
          Effect.gen(function* () {
            const fd = yield* c.call("openat", AT_FDCWD, "/tmp/uts", O_RDONLY | O_CLOEXEC, 0)
            yield* c.call("setns", fd, CLONE_NEWUTS)
            return hostname(c) === "fred" ? 0 : 1
          })
        )
        yield* sys.call("umount2", "/tmp/uts", 0)
        return { containers, status }
      })
    ).pipe(
      Effect.map((r) => {
        // the container is gone; its UTS namespace is not, and anyone may join it
        expect(r.containers?.split("\n").map((l) => l.split(/ +/)[0])).toEqual(["NAME", "<current>", ""])
        expect(WEXITSTATUS(r.status)).toBe(0)
      })
    )
  )
})

describe("Bottomley: pods (containers sharing net, ipc and uts, as Kubernetes does)", () => {
  it.effect("a container created from inside another shares every namespace it does not ask new", () =>
    asInit((sys) =>
      Effect.gen(function* () {
        const pod = yield* sys.call("container_create", "pod", CONTAINER_NEW_NET_NS | CONTAINER_NEW_IPC_NS | CONTAINER_NEW_UTS_NS | CONTAINER_FD_CLOEXEC, 0, 0, 0)
        const kinds = ["net", "ipc", "uts", "pid", "mnt"]
        const seen: Record<string, ReadonlyArray<string>> = {}
        const inPod: { containers?: string; hostnames?: ReadonlyArray<string> } = {}
        const host = yield* nsIds(sys, kinds)
        // the pod's first process names the pod, then makes two app containers beside it, each with its own PID and mount namespaces
        const infra = yield* sys.call("fork_into_container", pod, (child: Process) =>
          Effect.gen(function* () {
            const c = new Syscalls({ proc: child })
            yield* c.call("sethostname", new TextEncoder().encode("pod"), 3)
            seen.infra = yield* nsIds(c, kinds)
            const names: Array<string> = []
            for (const app of ["app1", "app2"]) {
              const afd = yield* c.call("container_create", app, CONTAINER_NEW_PID_NS | CONTAINER_NEW_FS_NS | CONTAINER_FD_CLOEXEC, 0, 0, 0)
              const pid = yield* c.call("fork_into_container", afd, (member: Process) =>
                Effect.gen(function* () {
                  const m = new Syscalls({ proc: member })
                  seen[app] = yield* nsIds(m, kinds)
                  names.push(`${hostname(m)} pid ${yield* m.call("getpid")}`)
                  return 0
                })
              )
              yield* c.call("wait4", pid, {}, 0, null)
              if (app === "app2") inPod.containers = yield* readFile(c, "/proc/containers")
            }
            inPod.hostnames = names
            return 0
          })
        )
        yield* sys.call("wait4", infra, {}, 0, null)
        return { host, seen, inPod }
      })
    ).pipe(
      Effect.map(({ host, seen, inPod }) => {
        const [net, ipc, uts, pid, mnt] = [0, 1, 2, 3, 4]
        // the pod: new net, ipc, uts; the host's PID and mount namespaces
        for (const i of [net, ipc, uts]) expect(seen.infra![i]).not.toBe(host[i])
        for (const i of [pid, mnt]) expect(seen.infra![i]).toBe(host[i])
        // the apps: the pod's net, ipc and uts; PID and mount namespaces of their own, different from each other's
        for (const app of ["app1", "app2"]) {
          for (const i of [net, ipc, uts]) expect(seen[app]![i]).toBe(seen.infra![i])
          for (const i of [pid, mnt]) expect(seen[app]![i]).not.toBe(seen.infra![i])
        }
        for (const i of [pid, mnt]) expect(seen.app1![i]).not.toBe(seen.app2![i])
        expect(inPod.hostnames).toEqual(["pod pid 1", "pod pid 1"])
        // the pod lists its apps as its children; app1 has died with its init, app2 is dead too but its fd is still open
        expect(inPod.containers?.split("\n").map((l) => l.split(/ +/)[0])).toEqual(["NAME", "<current>", "app1", "app2", ""])
      })
    )
  )
})

describe("Bottomley: a container without a PID namespace has no init", () => {
  it.effect("members come and go freely; the container dies when the last one has left", () =>
    asInit((sys) =>
      Effect.gen(function* () {
        const cfd = yield* sys.call("container_create", "emu", CONTAINER_NEW_UTS_NS | CONTAINER_FD_CLOEXEC, 0, 0, 0)
        const [goR, goW] = yield* pipe(sys)
        const pids: Array<number> = []
        // the first member stays until the pipe is closed; the second leaves at once
        const first = yield* sys.call("fork_into_container", cfd, (child: Process) =>
          Effect.gen(function* () {
            const c = new Syscalls({ proc: child })
            yield* c.call("close", goW)
            pids.push(yield* c.call("getpid"))
            yield* c.call("read", goR, new Uint8Array(1), 1)
            return 4
          })
        )
        const second = yield* sys.call("fork_into_container", cfd, (child: Process) =>
          Effect.map(new Syscalls({ proc: child }).call("getpid"), (p) => (pids.push(p), 3))
        )
        yield* sys.call("close", goR)
        const secondStatus: { value?: number } = {}
        yield* sys.call("wait4", second, secondStatus, 0, null)
        const containers = yield* readFile(sys, "/proc/containers")
        // the second member's exit neither killed the first nor ended the container
        const alive: { value?: number } = {}
        yield* sys.call("container_wait", cfd, alive, WNOHANG, null)
        const noInit = yield* errnoOf(sys.call("container_kill", cfd, 1, SIGKILL))
        // a third member can still join, and leave
        const third = yield* sys.call("fork_into_container", cfd, () => Effect.succeed(0))
        yield* sys.call("wait4", third, {}, 0, null)
        yield* sys.call("close", goW)
        const dead: { value?: number } = {}
        yield* sys.call("container_wait", cfd, dead, 0, null)
        yield* sys.call("wait4", first, {}, 0, null)
        const late = yield* errnoOf(sys.call("fork_into_container", cfd, () => Effect.succeed(0)))
        return { first, second, pids, secondStatus: secondStatus.value, containers, alive: alive.value, noInit, dead: dead.value, late }
      })
    ).pipe(
      Effect.map((r) => {
        // members have their pids in the host's PID namespace: none of them is PID 1 of anything
        expect([...r.pids].sort()).toEqual([r.first, r.second].sort())
        expect(r.pids).not.toContain(1)
        expect(WEXITSTATUS(r.secondStatus ?? -1)).toBe(3)
        expect(r.containers).toMatch(/^emu +2 +\d+ 01 /m)
        expect(r.alive).toBeUndefined()
        expect(r.noInit).toBe("ESRCH")
        // dead once the last member left, with that member's status; nobody can join a dead container
        expect(WEXITSTATUS(r.dead ?? -1)).toBe(4)
        expect(r.late).toBe("ECANCELED")
      })
    )
  )

  it.effect("with a PID namespace (the seed's model), init's death kills the other members", () =>
    asInit((sys) =>
      Effect.gen(function* () {
        const cfd = yield* sys.call("container_create", "fred", CONTAINER_NEW_PID_NS | CONTAINER_FD_CLOEXEC, 0, 0, 0)
        const [goR, goW] = yield* pipe(sys)
        const init = yield* sys.call("fork_into_container", cfd, (child: Process) =>
          Effect.gen(function* () {
            const c = new Syscalls({ proc: child })
            yield* c.call("close", goW)
            yield* c.call("read", goR, new Uint8Array(1), 1)
            return 5
          })
        )
        const other = yield* sys.call("fork_into_container", cfd, (child: Process) =>
          Effect.gen(function* () {
            const c = new Syscalls({ proc: child })
            yield* c.call("close", goW)
            yield* Effect.ignore(c.call("pause"))
            return 0
          })
        )
        yield* sys.call("close", goR)
        yield* sys.call("close", goW)
        const died: { value?: number } = {}
        yield* sys.call("container_wait", cfd, died, 0, null)
        const otherStatus: { value?: number } = {}
        yield* sys.call("wait4", other, otherStatus, 0, null)
        yield* sys.call("wait4", init, {}, 0, null)
        return { died: died.value ?? -1, other: otherStatus.value ?? -1 }
      })
    ).pipe(
      Effect.map((r) => {
        expect(WEXITSTATUS(r.died)).toBe(5)
        expect(WIFSIGNALED(r.other) && WTERMSIG(r.other)).toBe(SIGKILL)
      })
    )
  )
})

describe("Bottomley: one root; chroot and pivot_root inside a container behave as in Linux", () => {
  /** A container whose root is a fresh tmpfs moved in as the root of its empty mount namespace. */
  const withTmpfsRoot = (sys: Syscalls) =>
    Effect.gen(function* () {
      const cfd = yield* sys.call("container_create", "jail", CONTAINER_NEW_EMPTY_FS_NS | CONTAINER_NEW_PID_NS | CONTAINER_FD_CLOEXEC, 0, 0, 0)
      const fs = yield* sys.call("fsopen", "tmpfs", 0)
      yield* sys.call("fsconfig", fs, FSCONFIG_SET_CONTAINER, null, null, cfd)
      yield* sys.call("fsconfig", fs, FSCONFIG_CMD_CREATE, null, null, 0)
      const mfd = yield* sys.call("fsmount", fs, FSMOUNT_CLOEXEC, 0)
      yield* sys.call("move_mount", mfd, "", cfd, "/", MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_CONTAINER_ROOT)
      yield* sys.call("close", mfd)
      yield* sys.call("close", fs)
      for (const dir of ["sub", "proc"]) yield* sys.call("mkdirat", cfd, dir, 0o755)
      return cfd
    })

  it.effect("the container's root is the root of its mount namespace, and a member's chroot is its own", () =>
    asInit((sys) =>
      Effect.gen(function* () {
        const cfd = yield* withTmpfsRoot(sys)
        const seen: Record<string, unknown> = {}
        const [goR, goW] = yield* pipe(sys)
        const init = yield* sys.call("fork_into_container", cfd, (child: Process) =>
          Effect.gen(function* () {
            const c = new Syscalls({ proc: child })
            yield* c.call("close", goW)
            const t = child.task.vfsTask()
            seen.mountRoot = t.mntNs.root === t.fs.root.mnt && t.fs.root.dentry === t.fs.root.mnt.root
            seen.top = listDirectory(t, AT_FDCWD, "/")
            yield* c.call("chroot", "sub")
            yield* touch(c, "/inside-the-chroot")
            seen.chrooted = listDirectory(t, AT_FDCWD, "/")
            yield* c.call("read", goR, new Uint8Array(1), 1)
            return 0
          })
        )
        yield* sys.call("close", goR)
        // chroot confined only init: a member forked in now starts at the container's root
        const member = yield* sys.call("fork_into_container", cfd, (child: Process) =>
          Effect.sync(() => {
            seen.memberTop = listDirectory(child.task.vfsTask(), AT_FDCWD, "/")
            return 0
          })
        )
        yield* sys.call("wait4", member, {}, 0, null)
        // from outside, through the cfd: the file the chrooted init made is in sub/
        const made = yield* sys.call("openat", cfd, "sub/inside-the-chroot", O_RDONLY | O_CLOEXEC, 0)
        yield* sys.call("close", made)
        yield* sys.call("close", goW)
        yield* sys.call("wait4", init, {}, 0, null)
        yield* sys.call("close", cfd)
        return seen
      })
    ).pipe(
      Effect.map((r) => {
        expect(r.mountRoot).toBe(true)
        expect(r.top).toEqual(["proc", "sub"])
        expect(r.chrooted).toEqual(["inside-the-chroot"])
        expect(r.memberTop).toEqual(["proc", "sub"])
      })
    )
  )

  it.effect("pivot_root inside a container with a copied mount namespace moves init to the new root, and the old one can be let go", () =>
    asInit((sys) =>
      Effect.gen(function* () {
        const cfd = yield* sys.call("container_create", "pivot", CONTAINER_NEW_FS_NS | CONTAINER_NEW_PID_NS | CONTAINER_FD_CLOEXEC, 0, 0, 0)
        const seen: Record<string, unknown> = {}
        const init = yield* sys.call("fork_into_container", cfd, (child: Process) =>
          Effect.gen(function* () {
            const c = new Syscalls({ proc: child })
            const t = child.task.vfsTask()
            yield* c.call("mount", "newroot", "/mnt", "tmpfs", 0, null)
            yield* c.call("mkdirat", AT_FDCWD, "/mnt/old", 0o755)
            yield* touch(c, "/mnt/in-the-new-root")
            yield* c.call("pivot_root", "/mnt", "/mnt/old")
            seen.afterPivot = listDirectory(t, AT_FDCWD, "/")
            seen.oldRoot = listDirectory(t, AT_FDCWD, "/old")
            yield* c.call("umount2", "/old", MNT_DETACH)
            seen.afterUmount = listDirectory(t, AT_FDCWD, "/old")
            return 0
          })
        )
        yield* sys.call("wait4", init, {}, 0, null)
        yield* sys.call("close", cfd)
        // the host's tree is untouched
        seen.host = listDirectory(sys.ctx.proc.task.vfsTask(), AT_FDCWD, "/mnt")
        return seen
      })
    ).pipe(
      Effect.map((r) => {
        expect(r.afterPivot).toEqual(["in-the-new-root", "old"])
        expect(r.oldRoot).toEqual(["bin", "dev", "etc", "mnt", "proc", "root", "sbin", "tmp"])
        expect(r.afterUmount).toEqual([])
        expect(r.host).toEqual([])
      })
    )
  )

  it.effect("after pivot_root inside a container, later members and the cfd as dirfd start at the new root: there is one root", () =>
    asInit((sys) =>
      Effect.gen(function* () {
        const cfd = yield* sys.call("container_create", "onepivot", CONTAINER_NEW_FS_NS | CONTAINER_FD_CLOEXEC, 0, 0, 0)
        const [r, w] = yield* pipe(sys)
        const seen: Record<string, unknown> = {}
        // the first member pivots, then holds the container alive until the gate closes
        const first = yield* sys.call("fork_into_container", cfd, (child: Process) =>
          Effect.gen(function* () {
            const c = new Syscalls({ proc: child })
            yield* c.call("close", w)
            yield* c.call("mount", "newroot", "/mnt", "tmpfs", 0, null)
            yield* c.call("mkdirat", AT_FDCWD, "/mnt/old", 0o755)
            yield* touch(c, "/mnt/in-the-new-root")
            yield* c.call("pivot_root", "/mnt", "/mnt/old")
            yield* c.call("read", r, new Uint8Array(1), 1)
            return 0
          })
        )
        const second = yield* sys.call("fork_into_container", cfd, (child: Process) =>
          Effect.sync(() => {
            seen.secondMember = listDirectory(child.task.vfsTask(), AT_FDCWD, "/")
            return 0
          })
        )
        yield* sys.call("wait4", second, {}, 0, null)
        seen.throughCfd = yield* errnoOf(sys.call("newfstatat", cfd, "in-the-new-root", {}, 0))
        yield* sys.call("close", w)
        yield* sys.call("wait4", first, {}, 0, null)
        yield* sys.call("close", r)
        yield* sys.call("close", cfd)
        return seen
      })
    ).pipe(
      Effect.map((r) => {
        expect(r.secondMember).toEqual(["in-the-new-root", "old"])
        expect(r.throughCfd).toBe("succeeded")
      })
    )
  )

  it.effect("the root of an empty mount namespace has no parent mount: pivot_root there is EINVAL, as on Linux's rootfs", () =>
    asInit((sys) =>
      Effect.gen(function* () {
        const cfd = yield* withTmpfsRoot(sys)
        const seen: Record<string, unknown> = {}
        const init = yield* sys.call("fork_into_container", cfd, (child: Process) =>
          Effect.gen(function* () {
            const c = new Syscalls({ proc: child })
            yield* c.call("mount", "newroot", "/sub", "tmpfs", 0, null)
            yield* c.call("mkdirat", AT_FDCWD, "/sub/old", 0o755)
            seen.pivot = yield* errnoOf(c.call("pivot_root", "/sub", "/sub/old"))
            return 0
          })
        )
        yield* sys.call("wait4", init, {}, 0, null)
        yield* sys.call("close", cfd)
        return seen
      })
    ).pipe(Effect.map((r) => expect(r.pivot).toBe("EINVAL")))
  )
})
