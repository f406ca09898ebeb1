import { describe, expect, it } from "@effect/vitest"
import {
  AT_FDCWD,
  AT_REMOVEDIR,
  CLONE_NEWNET,
  CLONE_NEWNS,
  CLONE_NEWPID,
  CLONE_NEWUTS,
  MNT_DETACH,
  MS_BIND,
  O_CREAT,
  O_EXCL,
  O_RDONLY,
  O_RDWR,
  O_WRONLY,
  SIGCHLD,
  SIGKILL,
  type SysError
} from "@simkernel/abi"
import { copyProcess, type Task } from "@simkernel/sched"
import {
  close,
  doMount,
  ksysUmount,
  linkat,
  mkdirat,
  mknodat,
  nsFromFile,
  openat,
  read,
  renameat2,
  unlinkat,
  showMountinfo,
  symlinkat,
  write
} from "@simkernel/vfs"
import { Effect } from "effect"
import { boot, type Kernel } from "../src/Kernel.js"
import { asTask } from "../src/procfs/index.js"
import { setns } from "../src/syscalls/ns.js"
import { cat, echo, errnoIn as errno, finish, ls, ok, pauseForever, readlink, spawn, unprivileged } from "./support.js"

const enc = new TextEncoder()
const dec = new TextDecoder()

/** open(path, flags) as `task`: the fd, or the refusal. */
const open = (task: Task, path: string, flags: number, mode = 0): number | SysError => asTask(task, () => openat(task.vfsTask(), AT_FDCWD, path, flags, mode))

const kill = Effect.fnUntraced(function* (kernel: Kernel, t: Task) {
  expect(kernel.sched.kill(t.pidIn(kernel.sched.initPidNs), SIGKILL)).toBeUndefined()
  yield* kernel.sched.settle()
})

describe("procfs: what Linux refuses at open", () => {
  it.effect("environ and fdinfo/N of another user's process are EACCES at open; the fdinfo directory refuses to be listed", () =>
    Effect.gen(function* () {
      const kernel = yield* boot()
      const init = kernel.sched.initTask
      const child = yield* spawn(kernel, 0, unprivileged())
      // Linux 6.18, uid 1000 against a root process: open environ EACCES, listdir fdinfo EACCES, open fdinfo/N EACCES
      expect(errno(open(child, "/proc/1/environ", O_RDONLY))).toBe("EACCES")
      expect(errno(ls(child, "/proc/1/fdinfo"))).toBe("EACCES")
      const fd = ok(open(init, "/sbin/init", O_RDONLY))
      expect(errno(open(child, `/proc/1/fdinfo/${fd}`, O_RDONLY))).toBe("EACCES")
      // its own are open to it, and root may read the child's
      expect(ok(cat(child, "/proc/self/environ"))).toBe("")
      expect(ok(ls(child, "/proc/self/fdinfo"))).toEqual(ok(ls(child, "/proc/self/fd")))
      expect(ok(cat(init, `/proc/${child.pidIn(kernel.sched.initPidNs)}/environ`))).toBe("")
      expect(ok(cat(init, `/proc/self/fdinfo/${fd}`))).toMatch(/^pos:\t0\n/)
      close(init.vfsTask(), fd)
      yield* finish(kernel)
    })
  )

  it.effect("setgroups opened for writing without CAP_SYS_ADMIN over the task's user namespace is EACCES at open; reading is allowed", () =>
    Effect.gen(function* () {
      const kernel = yield* boot()
      const child = yield* spawn(kernel, 0, unprivileged())
      // the file is the child's own (0644 uid 1000), so only proc_setgroups_open() refuses
      expect(errno(open(child, "/proc/self/setgroups", O_WRONLY))).toBe("EACCES")
      expect(errno(open(child, "/proc/self/setgroups", O_RDWR))).toBe("EACCES")
      const fd = ok(open(child, "/proc/self/setgroups", O_RDONLY))
      close(child.vfsTask(), fd)
      expect(ok(cat(child, "/proc/1/setgroups"))).toBe("allow\n")
      yield* finish(kernel)
    })
  )
})

describe("procfs: /proc/PID/ns files", () => {
  it.effect("open(/proc/PID/ns/net) gives an nsfs file setns() accepts; writing it is EPERM", () =>
    Effect.gen(function* () {
      const kernel = yield* boot()
      const init = kernel.sched.initTask
      const child = yield* spawn(kernel, CLONE_NEWUTS, pauseForever)
      const pid = child.pidIn(kernel.sched.initPidNs)
      const fd = ok(open(init, `/proc/${pid}/ns/uts`, O_RDONLY))
      const file = init.vfsTask().files.fdget(fd)!
      expect(nsFromFile(file)).toBe(child.nsproxy!.uts)
      expect(readlink(init, `/proc/self/fd/${fd}`)).toBe(readlink(init, `/proc/${pid}/ns/uts`))
      expect(readlink(init, `/proc/${pid}/ns/uts`)).toMatch(/^uts:\[\d+\]$/)
      expect(errno(open(init, `/proc/${pid}/ns/uts`, O_WRONLY))).toBe("EPERM")
      const own = ok(open(init, "/proc/self/ns/uts", O_RDONLY))
      const before = init.nsproxy!.uts
      expect(yield* setns(init.process, fd, CLONE_NEWUTS)).toBe(0)
      expect(init.nsproxy!.uts).toBe(child.nsproxy!.uts)
      expect(yield* setns(init.process, own, CLONE_NEWUTS)).toBe(0)
      expect(init.nsproxy!.uts).toBe(before)
      close(init.vfsTask(), fd)
      close(init.vfsTask(), own)
      yield* finish(kernel)
    })
  )

  it.effect("mount --bind /proc/PID/ns/net keeps the namespace with no process in it; setns works through the bind mount; umount drops it", () =>
    Effect.gen(function* () {
      const kernel = yield* boot()
      const init = kernel.sched.initTask
      const vt = init.vfsTask()
      const child = yield* spawn(kernel, CLONE_NEWNET, pauseForever)
      const pid = child.pidIn(kernel.sched.initPidNs)
      const net = child.nsproxy!.slot("net")!
      const name = ok(readlink(init, `/proc/${pid}/ns/net`))
      close(vt, ok(open(init, "/netns", O_CREAT | O_RDONLY, 0o644)))
      expect(asTask(init, () => doMount(vt, `/proc/${pid}/ns/net`, "/netns", null, MS_BIND, null))).toBeUndefined()
      // mountinfo: "65 44 0:4 net:[4026531833] /netns rw - nsfs nsfs rw" (Linux 6.18)
      const line = showMountinfo({ root: vt.fs.root, ns: vt.mntNs }).split("\n").find((l) => l.includes(" /netns "))
      expect(line).toMatch(new RegExp(`^\\d+ \\d+ 0:\\d+ ${name.replace(/[[\]]/g, "\\$&")} /netns rw - nsfs nsfs rw$`))
      yield* kill(kernel, child)
      expect(errno(readlink(init, `/proc/${pid}/ns/net`))).toBe("ENOENT")
      expect(net.freed).toBe(false)
      // nobody is in it, the bind mount holds it
      const fd = ok(open(init, "/netns", O_RDONLY))
      expect(nsFromFile(vt.files.fdget(fd)!)).toBe(net)
      expect(readlink(init, `/proc/self/fd/${fd}`)).toBe("/netns")
      const own = ok(open(init, "/proc/self/ns/net", O_RDONLY))
      expect(yield* setns(init.process, fd, CLONE_NEWNET)).toBe(0)
      expect(readlink(init, "/proc/self/ns/net")).toBe(name)
      expect(yield* setns(init.process, own, CLONE_NEWNET)).toBe(0)
      close(vt, fd)
      close(vt, own)
      expect(net.freed).toBe(false)
      expect(asTask(init, () => ksysUmount(vt, "/netns", 0))).toBeUndefined()
      expect(net.freed).toBe(true)
      yield* finish(kernel)
    })
  )

  it.effect("a bind mount of a namespace file survives a detach of its source's users and goes with MNT_DETACH", () =>
    Effect.gen(function* () {
      const kernel = yield* boot()
      const init = kernel.sched.initTask
      const vt = init.vfsTask()
      const child = yield* spawn(kernel, CLONE_NEWUTS, pauseForever)
      const uts = child.nsproxy!.uts
      close(vt, ok(open(init, "/utsns", O_CREAT | O_RDONLY, 0o644)))
      ok(asTask(init, () => doMount(vt, `/proc/${child.pidIn(kernel.sched.initPidNs)}/ns/uts`, "/utsns", null, MS_BIND, null)) ?? 0)
      yield* kill(kernel, child)
      expect(uts.freed).toBe(false)
      expect(asTask(init, () => ksysUmount(vt, "/utsns", MNT_DETACH))).toBeUndefined()
      expect(uts.freed).toBe(true)
      yield* finish(kernel)
    })
  )

  it.effect("binding the caller's own mount namespace file is EINVAL (mnt_ns_loop()); a newer namespace's may be bound, and is not copied into new namespaces", () =>
    Effect.gen(function* () {
      const kernel = yield* boot()
      const init = kernel.sched.initTask
      const vt = init.vfsTask()
      close(vt, ok(open(init, "/mntns", O_CREAT | O_RDONLY, 0o644)))
      expect(errno(asTask(init, () => doMount(vt, "/proc/self/ns/mnt", "/mntns", null, MS_BIND, null)))).toBe("EINVAL")
      const child = yield* spawn(kernel, CLONE_NEWNS | CLONE_NEWUTS, pauseForever)
      const pid = child.pidIn(kernel.sched.initPidNs)
      expect(asTask(init, () => doMount(vt, `/proc/${pid}/ns/mnt`, "/mntns", null, MS_BIND, null))).toBeUndefined()
      close(vt, ok(open(init, "/utsns", O_CREAT | O_RDONLY, 0o644)))
      expect(asTask(init, () => doMount(vt, `/proc/${pid}/ns/uts`, "/utsns", null, MS_BIND, null))).toBeUndefined()
      yield* kill(kernel, child)
      // a new mount namespace copies the uts file's bind mount but not the mount namespace file's (copy_mnt_ns(), Linux 6.18)
      const copy = yield* spawn(kernel, CLONE_NEWNS, pauseForever)
      const mounts = ok(cat(copy, "/proc/self/mountinfo"))
      expect(mounts).toMatch(/ uts:\[\d+\] \/utsns /)
      expect(mounts).not.toContain(" /mntns ")
      expect(ok(cat(init, "/proc/self/mountinfo"))).toMatch(/ mnt:\[\d+\] \/mntns /)
      yield* kill(kernel, copy)
      expect(asTask(init, () => ksysUmount(vt, "/mntns", 0))).toBeUndefined()
      expect(asTask(init, () => ksysUmount(vt, "/utsns", 0))).toBeUndefined()
      yield* finish(kernel)
    })
  )
})

describe("procfs: exe", () => {
  it.effect("/proc/PID/exe is the executed file's path; a forked child shares it; a task that never executed has none (ENOENT)", () =>
    Effect.gen(function* () {
      const kernel = yield* boot()
      const init = kernel.sched.initTask
      expect(readlink(init, "/proc/1/exe")).toBe("/sbin/init")
      const child = yield* spawn(kernel, 0, pauseForever)
      expect(readlink(init, `/proc/${child.pidIn(kernel.sched.initPidNs)}/exe`)).toBe("/sbin/init")
      const orphan = yield* spawn(kernel, 0, pauseForever, child)
      orphan.exePath = undefined
      expect(errno(readlink(init, `/proc/${orphan.pidIn(kernel.sched.initPidNs)}/exe`))).toBe("ENOENT")
      // another user's is EACCES (proc_fd_access_allowed())
      const other = yield* spawn(kernel, 0, unprivileged())
      expect(errno(readlink(other, "/proc/1/exe"))).toBe("EACCES")
      yield* finish(kernel)
    })
  )
})

describe("procfs: /proc/sys/kernel/pid_max", () => {
  it.effect("writes take 301..4194304 as proc_dointvec_minmax() parses them, EINVAL otherwise; the limit bounds the next pid", () =>
    Effect.gen(function* () {
      const kernel = yield* boot()
      const init = kernel.sched.initTask
      const child = yield* spawn(kernel, CLONE_NEWPID | CLONE_NEWNS, pauseForever)
      const pidNs = child.activePidNs
      ok(asTask(child, () => doMount(child.vfsTask(), "proc", "/proc", "proc", 0, null)) ?? 0)
      const pidMax = (): string => ok(cat(child, "/proc/sys/kernel/pid_max")).trim()
      // a new PID namespace starts at PID_MAX_LIMIT whatever its parent's limit
      expect(pidMax()).toBe("4194304")
      // the results Linux 6.18 gives, write by write
      const cases: ReadonlyArray<readonly [string, string | number, string]> = [
        ["300", "EINVAL", "4194304"],
        ["301", 3, "301"],
        ["4194304", 7, "4194304"],
        ["4194305", "EINVAL", "4194304"],
        ["-1", "EINVAL", "4194304"],
        ["abc", "EINVAL", "4194304"],
        ["1000\n", 5, "1000"],
        [" 2000 ", 6, "2000"],
        ["3000 4000", 5, "3000"],
        ["", 0, "3000"],
        ["0x500", 5, "1280"],
        ["1200abc", "EINVAL", "1280"],
        ["5000\n\n", 6, "5000"],
        ["6000\0", "EINVAL", "5000"]
      ]
      for (const [text, result, after] of cases) {
        const r = echo(child, "/proc/sys/kernel/pid_max", text)
        expect([text, typeof r === "number" ? r : r.errno, pidMax()]).toEqual([text, result, after])
      }
      // the host's view is its own namespace's
      expect(ok(cat(init, "/proc/sys/kernel/pid_max")).trim()).toBe("4194304")
      // the limit bounds allocation: with 1..300 taken, the next fork in the namespace is EAGAIN
      ok(echo(child, "/proc/sys/kernel/pid_max", "301"))
      expect(pidNs.pidMax).toBe(301)
      const pids: Array<number> = []
      for (let n = 0; n < 299; n++) pids.push((yield* spawn(kernel, 0, pauseForever, child)).pidIn(pidNs))
      expect(pids.at(-1)).toBe(300)
      const refused = yield* Effect.result(copyProcess(child, { flags: 0, exitSignal: SIGCHLD, fn: pauseForever, comm: "child" }))
      expect(refused._tag === "Failure" ? refused.failure.errno : "forked").toBe("EAGAIN")
      // raising it again lets the next one through
      ok(echo(child, "/proc/sys/kernel/pid_max", "302"))
      expect((yield* spawn(kernel, 0, pauseForever, child)).pidIn(pidNs)).toBe(301)
      yield* finish(kernel)
    })
  )

  it.effect("without CAP_SYS_ADMIN over the namespace's owner the file opens read-only (EACCES for writing); its mode stays 0644", () =>
    Effect.gen(function* () {
      const kernel = yield* boot()
      const child = yield* spawn(kernel, 0, unprivileged())
      expect(errno(open(child, "/proc/sys/kernel/pid_max", O_WRONLY))).toBe("EACCES")
      expect(ok(cat(child, "/proc/sys/kernel/pid_max"))).toBe("4194304\n")
      yield* finish(kernel)
    })
  )
})

describe("procfs: nothing can be created", () => {
  it.effect("creating a name procfs does not have is ENOENT (its lookup fails); an existing name is EEXIST", () =>
    Effect.gen(function* () {
      const kernel = yield* boot()
      const init = kernel.sched.initTask
      const vt = init.vfsTask()
      // Linux 6.18 as root: every one of these is ENOENT
      for (const path of ["/proc/foo", "/proc/self/foo", "/proc/sys/kernel/foo", "/proc/self/fd/foo"]) {
        expect([path, errno(open(init, path, O_CREAT | O_WRONLY, 0o644))]).toEqual([path, "ENOENT"])
        expect([path, errno(open(init, path, O_CREAT | O_EXCL | O_WRONLY, 0o644))]).toEqual([path, "ENOENT"])
        expect([path, errno(asTask(init, () => mkdirat(vt, AT_FDCWD, path, 0o755)))]).toEqual([path, "ENOENT"])
        expect([path, errno(asTask(init, () => mknodat(vt, AT_FDCWD, path, 0o10600, 0)))]).toEqual([path, "ENOENT"])
        expect([path, errno(asTask(init, () => symlinkat(vt, "x", AT_FDCWD, path)))]).toEqual([path, "ENOENT"])
      }
      expect(errno(asTask(init, () => linkat(vt, AT_FDCWD, "/proc/self/comm", AT_FDCWD, "/proc/foo", 0)))).toBe("ENOENT")
      expect(errno(asTask(init, () => mkdirat(vt, AT_FDCWD, "/proc/self", 0o755)))).toBe("EEXIST")
      expect(errno(asTask(init, () => mkdirat(vt, AT_FDCWD, "/proc/sys", 0o755)))).toBe("EEXIST")
      expect(errno(open(init, "/proc/self/comm", O_CREAT | O_EXCL | O_WRONLY, 0o644))).toBe("EEXIST")
      close(vt, ok(open(init, "/proc/self/comm", O_CREAT | O_WRONLY, 0o644)))
      // nothing can be removed or renamed either: EPERM (no ->unlink, ->rmdir), ENOENT for a new name (its lookup)
      expect(errno(asTask(init, () => unlinkat(vt, AT_FDCWD, "/proc/self/comm", 0)))).toBe("EPERM")
      expect(errno(asTask(init, () => unlinkat(vt, AT_FDCWD, "/proc/self/fd", AT_REMOVEDIR)))).toBe("EPERM")
      expect(errno(asTask(init, () => renameat2(vt, AT_FDCWD, "/proc/self/comm", AT_FDCWD, "/proc/self/x", 0)))).toBe("ENOENT")
      expect(ok(cat(init, "/proc/self/comm"))).toBe("init\n")
      yield* finish(kernel)
    })
  )
})

describe("procfs: hidepid=, gid= and subset=pid", () => {
  const mountProc = (init: Task, target: string, options: string): void => {
    const vt = init.vfsTask()
    ok(asTask(init, () => mkdirat(vt, AT_FDCWD, target, 0o755)) ?? 0)
    ok(asTask(init, () => doMount(vt, "proc", target, "proc", 0, options)) ?? 0)
  }

  it.effect("subset=pid shows only self, thread-self and the pids", () =>
    Effect.gen(function* () {
      const kernel = yield* boot()
      const init = kernel.sched.initTask
      mountProc(init, "/p1", "subset=pid")
      expect(ok(ls(init, "/p1"))).toEqual(["1", "self", "thread-self"])
      expect(errno(cat(init, "/p1/filesystems"))).toBe("ENOENT")
      expect(errno(ls(init, "/p1/sys"))).toBe("ENOENT")
      expect(errno(asTask(init, () => mkdirat(init.vfsTask(), AT_FDCWD, "/p1/sys", 0o755)))).toBe("ENOENT")
      expect(ok(cat(init, "/p1/self/status"))).toContain("Name:\tinit\n")
      expect(showMountinfo({ root: init.vfsTask().fs.root, ns: init.vfsTask().mntNs })).toContain(" - proc proc rw,subset=pid\n")
      yield* finish(kernel)
    })
  )

  it.effect("hidepid=noaccess: other users' /proc/PID are listed but EPERM to enter; members of gid= may", () =>
    Effect.gen(function* () {
      const kernel = yield* boot()
      const init = kernel.sched.initTask
      mountProc(init, "/p2", "hidepid=noaccess,gid=1234")
      const child = yield* spawn(kernel, 0, unprivileged())
      const member = yield* spawn(kernel, 0, unprivileged(1234))
      const pid = child.pidIn(kernel.sched.initPidNs)
      // Linux 6.18: listed, stat works, status/listdir/chdir are EPERM; self works
      expect(ok(ls(child, "/p2"))).toContain("1")
      expect(errno(cat(child, "/p2/1/status"))).toBe("EPERM")
      expect(errno(ls(child, "/p2/1"))).toBe("EPERM")
      expect(ok(cat(child, "/p2/self/status"))).toContain(`Pid:\t${pid}\n`)
      expect(ok(cat(member, "/p2/1/status"))).toContain("Name:\tinit\n")
      expect(ok(cat(init, `/p2/${pid}/status`))).toContain("Name:\tchild\n")
      expect(showMountinfo({ root: init.vfsTask().fs.root, ns: init.vfsTask().mntNs })).toContain(" - proc proc rw,gid=1234,hidepid=noaccess\n")
      yield* finish(kernel)
    })
  )

  it.effect("hidepid=invisible and ptraceable: other users' /proc/PID are not there (ENOENT) nor listed", () =>
    Effect.gen(function* () {
      const kernel = yield* boot()
      const init = kernel.sched.initTask
      mountProc(init, "/p3", "hidepid=2")
      mountProc(init, "/p4", "hidepid=ptraceable,gid=1234")
      const child = yield* spawn(kernel, 0, unprivileged(1234))
      const pid = String(child.pidIn(kernel.sched.initPidNs))
      for (const base of ["/p3", "/p4"]) {
        // gid= does not help with ptraceable
        const names = ok(ls(child, base)).filter((n) => /^\d+$/.test(n))
        expect([base, names]).toEqual([base, base === "/p3" ? ["1", pid].filter((n) => n !== "1") : [pid]])
        expect([base, errno(cat(child, `${base}/1/status`))]).toEqual([base, "ENOENT"])
        expect([base, errno(ls(child, `${base}/1`))]).toEqual([base, "ENOENT"])
        expect(ok(readlink(child, `${base}/self`))).toBe(pid)
      }
      // root sees everything
      expect(ok(ls(init, "/p3"))).toContain(pid)
      yield* finish(kernel)
    })
  )
})

describe("procfs: the caller is the task the VFS names", () => {
  it.effect("open and write see the task that calls them, not the one the scheduler last ran", () =>
    Effect.gen(function* () {
      const kernel = yield* boot()
      const child = yield* spawn(kernel, 0, unprivileged())
      const vt = child.vfsTask()
      // no asTask(): the scheduler's current task is not the child
      expect(kernel.sched.current).not.toBe(child)
      expect(errno(openat(vt, AT_FDCWD, "/proc/1/environ", O_RDONLY, 0))).toBe("EACCES")
      const fd = ok(openat(vt, AT_FDCWD, "/proc/self/comm", O_RDWR, 0))
      // comm_write(): only the thread group itself may rename it
      // the bytes as written, a newline too (set_task_comm())
      expect(write(vt, fd, enc.encode("renamed\n"))).toBe(8)
      expect(child.comm).toBe("renamed\n")
      close(vt, fd)
      const status = ok(openat(vt, AT_FDCWD, "/proc/self/status", O_RDONLY, 0))
      const buf = new Uint8Array(4096)
      expect(dec.decode(buf.subarray(0, ok(read(vt, status, buf))))).toContain("Uid:\t1000\t1000\t1000\t1000\n")
      close(vt, status)
      yield* finish(kernel)
    })
  )
})
