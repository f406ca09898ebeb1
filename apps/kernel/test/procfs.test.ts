import { describe, expect, it } from "@effect/vitest"
import {
  AT_FDCWD,
  CLONE_NEWNS,
  CLONE_NEWPID,
  CLONE_NEWUSER,
  FSCONFIG_CMD_CREATE,
  MOVE_MOUNT_F_EMPTY_PATH,
  O_RDONLY,
  O_WRONLY,
  PROC_SUPER_MAGIC,
  SIGKILL
} from "@simkernel/abi"
import {
  close,
  doMount,
  fsconfig,
  fsContextFromFile,
  fsmount,
  fsopen,
  moveMount,
  installNsFd,
  openat,
  pipe2,
  read,
  showMountinfo,
  statfs,
  statSummary,
  type VfsTask,
  write
} from "@simkernel/vfs"
import { Effect } from "effect"
import { boot } from "../src/Kernel.js"
import { asTask, procfsSetPidNs, registerProcfs } from "../src/procfs/index.js"
import { cat, echo, errnoIn as errno, finish, ls, ok, pauseForever, readlink, spawn, unprivileged } from "./support.js"

const enc = new TextEncoder()
const dec = new TextDecoder()

/** Boot, which registers procfs and mounts it on /proc as `mount -t proc -o nosuid,nodev,noexec proc /proc` would. */
const bootWithProc = Effect.fnUntraced(function* () {
  const kernel = yield* boot()
  // registered once: a second registration is refused
  expect(registerProcfs(kernel.vfs, kernel.sched)).toBe(false)
  return kernel
})

describe("procfs", () => {
  it.effect("mount(2) of proc: mountinfo, statfs magic, /proc/filesystems, the root listing, self and thread-self", () =>
    Effect.gen(function* () {
      const kernel = yield* bootWithProc()
      const init = kernel.sched.initTask
      const vt: VfsTask = init.vfsTask()
      // Linux: "24 1 0:22 / /proc rw,nosuid,nodev,noexec,relatime - proc proc rw" (this machine's /proc/self/mountinfo)
      const mi = showMountinfo({ root: vt.fs.root, ns: vt.mntNs }).split("\n")
      expect(mi.find((l) => l.includes(" /proc "))).toMatch(/^\d+ \d+ 0:\d+ \/ \/proc rw,nosuid,nodev,noexec,relatime - proc proc rw$/)
      expect(ok(statfs(vt, "/proc")).type).toBe(PROC_SUPER_MAGIC)
      // /proc/filesystems: "nodev\tNAME" per type, "\tNAME" for one that needs a device, in Linux's boot order
      // (proc right after tmpfs, ext4 before mqueue), whatever order they were registered in
      const fsList = ok(cat(init, "/proc/filesystems"))
      expect(fsList).toBe("nodev\ttmpfs\nnodev\tproc\nnodev\tramfs\n\text4\nnodev\tmqueue\n")
      const root = ok(ls(init, "/proc"))
      // listDirectory sorts (ls); getdents64 order is Linux's: the static entries, self, thread-self, the pids
      expect(root).toEqual(["1", "containers", "filesystems", "key-users", "keys", "mounts", "self", "sys", "thread-self", "uptime"])
      expect(readlink(init, "/proc/self")).toBe("1")
      expect(readlink(init, "/proc/thread-self")).toBe("1/task/1")
      expect(readlink(init, "/proc/mounts")).toBe("self/mounts")
      expect(ok(ls(init, "/proc/1/task"))).toEqual(["1"])
      // stat(1) on Linux: /proc dr-xr-xr-x, /proc/self/status -r--r--r--, /proc/self/fd dr-x------, ns dr-x--x--x, environ -r--------
      expect(statSummary(vt, AT_FDCWD, "/proc", 0)).toMatchObject({ type: "d", mode: "0555" })
      expect(statSummary(vt, AT_FDCWD, "/proc/self/status", 0)).toMatchObject({ type: "f", mode: "0444" })
      expect(statSummary(vt, AT_FDCWD, "/proc/self/fd", 0)).toMatchObject({ type: "d", mode: "0500" })
      expect(statSummary(vt, AT_FDCWD, "/proc/self/ns", 0)).toMatchObject({ type: "d", mode: "0511" })
      expect(statSummary(vt, AT_FDCWD, "/proc/self/environ", 0)).toMatchObject({ type: "f", mode: "0400" })
      expect(statSummary(vt, AT_FDCWD, "/proc/self/uid_map", 0)).toMatchObject({ type: "f", mode: "0644" })
      // nothing can be created in /proc
      expect(errno(openat(vt, AT_FDCWD, "/proc/newfile", 0o101, 0o644))).toBeDefined()
      yield* finish(kernel)
    })
  )

  it.effect("fsopen(\"proc\") + fsmount + move_mount mounts proc too", () =>
    Effect.gen(function* () {
      const kernel = yield* boot()
      const init = kernel.sched.initTask
      const vt = init.vfsTask()
      asTask(init, () => {
        const fsfd = ok(fsopen(vt, "proc", 0))
        ok(fsconfig(vt, fsfd, FSCONFIG_CMD_CREATE, null, null, 0))
        const mfd = ok(fsmount(vt, fsfd, 0, 0))
        ok(moveMount(vt, mfd, "", AT_FDCWD, "/proc", MOVE_MOUNT_F_EMPTY_PATH))
        close(vt, mfd)
        close(vt, fsfd)
      })
      expect(readlink(init, "/proc/self")).toBe("1")
      yield* finish(kernel)
    })
  )

  it.effect("/proc/1/status, stat, cmdline, comm, cgroup, setgroups, uid_map, timens_offsets in Linux's formats", () =>
    Effect.gen(function* () {
      const kernel = yield* bootWithProc()
      const init = kernel.sched.initTask
      // Line set and order checked against this machine's /proc/self/status (Linux 6.18); the memory
      // block, SigQ, Speculation_* and Cpus/Mems lines are not modelled (see format.ts) but printed
      const status = ok(cat(init, "/proc/1/status"))
      expect(status).toBe(
        [
          "Name:\tinit",
          "Umask:\t0022",
          "State:\tS (sleeping)",
          "Tgid:\t1",
          "Ngid:\t0",
          "Pid:\t1",
          "PPid:\t0",
          "TracerPid:\t0",
          "Uid:\t0\t0\t0\t0",
          "Gid:\t0\t0\t0\t0",
          "FDSize:\t64",
          "Groups:\t ",
          "NStgid:\t1",
          "NSpid:\t1",
          "NSpgid:\t1",
          "NSsid:\t1",
          "Kthread:\t0",
          "VmPeak:\t       0 kB",
          "VmSize:\t       0 kB",
          "VmLck:\t       0 kB",
          "VmPin:\t       0 kB",
          "VmHWM:\t       0 kB",
          "VmRSS:\t       0 kB",
          "RssAnon:\t       0 kB",
          "RssFile:\t       0 kB",
          "RssShmem:\t       0 kB",
          "VmData:\t       0 kB",
          "VmStk:\t       0 kB",
          "VmExe:\t       0 kB",
          "VmLib:\t       0 kB",
          "VmPTE:\t       0 kB",
          "VmSwap:\t       0 kB",
          "HugetlbPages:\t       0 kB",
          "CoreDumping:\t0",
          "THP_enabled:\t1",
          "untag_mask:\t0xffffffffffffffff",
          "Threads:\t1",
          "SigQ:\t0/0",
          "SigPnd:\t0000000000000000",
          "ShdPnd:\t0000000000000000",
          "SigBlk:\t0000000000000000",
          "SigIgn:\t0000000000000000",
          "SigCgt:\t0000000000010000",
          "CapInh:\t0000000000000000",
          "CapPrm:\t000001ffffffffff",
          "CapEff:\t000001ffffffffff",
          "CapBnd:\t000001ffffffffff",
          "CapAmb:\t0000000000000000",
          "NoNewPrivs:\t0",
          "Seccomp:\t0",
          "Seccomp_filters:\t0",
          "Speculation_Store_Bypass:\tnot vulnerable",
          "SpeculationIndirectBranch:\tunsupported",
          "Cpus_allowed:\t1",
          "Cpus_allowed_list:\t0",
          "Mems_allowed:\t1",
          "Mems_allowed_list:\t0",
          "voluntary_ctxt_switches:\t0",
          "nonvoluntary_ctxt_switches:\t0",
          ""
        ].join("\n")
      )
      // stat: 52 space-separated fields, "pid (comm) state ppid pgrp session tty_nr tpgid flags ..." as on Linux
      const stat = ok(cat(init, "/proc/1/stat"))
      expect(stat.endsWith("\n")).toBe(true)
      const fields = stat.trimEnd().split(" ")
      expect(fields).toHaveLength(52)
      expect(fields.slice(0, 8)).toEqual(["1", "(init)", "S", "0", "1", "1", "0", "-1"])
      expect(fields[19 - 1]).toBe("0") // nice
      expect(fields[25 - 1]).toBe("18446744073709551615") // rsslim
      expect(fields[34 - 1]).toBe("65536") // sigcatch: SIGCHLD (bit 16)
      expect(fields[35 - 1]).toBe("1") // wchan: sleeping
      expect(ok(cat(init, "/proc/1/cmdline"))).toBe("init\0")
      expect(ok(cat(init, "/proc/1/comm"))).toBe("init\n")
      // Linux with cgroup v2 only: "0::/"
      expect(ok(cat(init, "/proc/1/cgroup"))).toBe("0::/\n")
      expect(ok(cat(init, "/proc/1/setgroups"))).toBe("allow\n")
      // the initial user namespace: "         0          0 4294967295" (this machine's /proc/1/uid_map)
      expect(ok(cat(init, "/proc/1/uid_map"))).toBe("         0          0 4294967295\n")
      expect(ok(cat(init, "/proc/1/gid_map"))).toBe("         0          0 4294967295\n")
      // "%-10s %10lld %9ld": "monotonic           0         0"
      expect(ok(cat(init, "/proc/1/timens_offsets"))).toBe("monotonic           0         0\nboottime            0         0\n")
      // mountinfo and mounts are the VFS's views for the task's root and mount namespace
      const vt = init.vfsTask()
      expect(ok(cat(init, "/proc/1/mountinfo"))).toBe(showMountinfo({ root: vt.fs.root, ns: vt.mntNs }))
      expect(ok(cat(init, "/proc/self/mounts"))).toBe(ok(cat(init, "/proc/mounts")))
      expect(ok(cat(init, "/proc/mounts"))).toContain("proc /proc proc rw,nosuid,nodev,noexec,relatime 0 0\n")
      // a reaped or unknown pid is not there
      expect(errno(cat(init, "/proc/999/status"))).toBe("ENOENT")
      yield* finish(kernel)
    })
  )

  it.effect("generated text is made at open: a file opened before a change still shows the old text", () =>
    Effect.gen(function* () {
      const kernel = yield* bootWithProc()
      const init = kernel.sched.initTask
      const vt = init.vfsTask()
      const fd = ok(asTask(init, () => openat(vt, AT_FDCWD, "/proc/1/comm", O_RDONLY, 0)))
      ok(echo(init, "/proc/1/comm", "renamed"))
      expect(init.comm).toBe("renamed")
      const buf = new Uint8Array(64)
      expect(dec.decode(buf.subarray(0, ok(read(vt, fd, buf))))).toBe("init\n")
      close(vt, fd)
      expect(ok(cat(init, "/proc/1/comm"))).toBe("renamed\n")
      yield* finish(kernel)
    })
  )

  it.effect("ns/ links read as nsfs names; root, cwd, exe and fd/ links jump to what they name; fdinfo", () =>
    Effect.gen(function* () {
      const kernel = yield* bootWithProc()
      const init = kernel.sched.initTask
      const vt = init.vfsTask()
      // readlink /proc/self/ns/mnt on Linux: "mnt:[4026531832]" (the initial namespaces' fixed numbers)
      expect(ok(ls(init, "/proc/1/ns"))).toEqual(["cgroup", "ipc", "mnt", "net", "pid", "pid_for_children", "time", "time_for_children", "user", "uts"])
      expect(readlink(init, "/proc/1/ns/mnt")).toBe("mnt:[4026531832]")
      expect(readlink(init, "/proc/1/ns/uts")).toBe("uts:[4026531838]")
      expect(readlink(init, "/proc/1/ns/user")).toBe("user:[4026531837]")
      expect(readlink(init, "/proc/1/ns/pid_for_children")).toBe("pid:[4026531836]")
      expect(readlink(init, "/proc/1/root")).toBe("/")
      expect(readlink(init, "/proc/1/cwd")).toBe("/")
      expect(readlink(init, "/proc/1/exe")).toBe("/sbin/init")
      // following root: /proc/1/root/dev is /dev
      expect(ok(ls(init, "/proc/1/root/dev"))).toEqual(ok(ls(init, "/dev")))
      const fd = ok(asTask(init, () => openat(vt, AT_FDCWD, "/sbin/init", O_RDONLY, 0)))
      expect(ok(ls(init, "/proc/self/fd"))).toContain(String(fd))
      expect(readlink(init, `/proc/self/fd/${fd}`)).toBe("/sbin/init")
      // reading through the fd link opens the same file
      expect(ok(cat(init, `/proc/self/fd/${fd}`))).toBe("#!simkernel init\n")
      // fdinfo: "pos:\t0\nflags:\t0100000\nmnt_id:\t24\nino:\t3\n" on Linux (O_LARGEFILE)
      const info = ok(cat(init, `/proc/self/fdinfo/${fd}`))
      expect(info).toMatch(/^pos:\t0\nflags:\t0100000\nmnt_id:\t\d+\nino:\t\d+\n$/)
      close(vt, fd)
      expect(errno(readlink(init, `/proc/self/fd/${fd}`))).toBe("ENOENT")
      // pseudo files read as d_dname() names: "pipe:[N]", "mnt:[4026531832]" (ls -l /proc/self/fd on Linux)
      const [r, w] = ok(pipe2(vt, 0))
      expect(readlink(init, `/proc/self/fd/${r}`)).toMatch(/^pipe:\[\d+\]$/)
      expect(readlink(init, `/proc/self/fd/${w}`)).toBe(readlink(init, `/proc/self/fd/${r}`))
      const nsfd = ok(installNsFd(kernel.vfs, vt.files, init.nsproxy!.mnt!, init.cred))
      expect(readlink(init, `/proc/self/fd/${nsfd}`)).toBe("mnt:[4026531832]")
      // fdinfo flags add O_CLOEXEC (02000000) for a close-on-exec fd (vfs's installNsFd opens without O_LARGEFILE)
      expect(ok(cat(init, `/proc/self/fdinfo/${nsfd}`))).toMatch(/^pos:\t0\nflags:\t02000000\n/)
      close(vt, r)
      close(vt, w)
      close(vt, nsfd)
      yield* finish(kernel)
    })
  )

  it.effect("an unprivileged task may not look into another user's fd/, root, cwd or ns/ (EACCES), but reads its own", () =>
    Effect.gen(function* () {
      const kernel = yield* bootWithProc()
      const child = yield* spawn(kernel, 0, unprivileged())
      expect(child.cred.euid).toBe(1000)
      const pid = child.pidIn(kernel.sched.initPidNs)
      expect(errno(ls(child, "/proc/1/fd"))).toBe("EACCES")
      expect(errno(readlink(child, "/proc/1/cwd"))).toBe("EACCES")
      expect(errno(readlink(child, "/proc/1/root"))).toBe("EACCES")
      expect(errno(readlink(child, "/proc/1/ns/mnt"))).toBe("EACCES")
      expect(errno(cat(child, "/proc/1/environ"))).toBe("EACCES")
      // status is world-readable
      expect(ok(cat(child, "/proc/1/status"))).toContain("Name:\tinit\n")
      // its own entries are its own
      expect(readlink(child, "/proc/self")).toBe(String(pid))
      expect(readlink(child, "/proc/self/ns/mnt")).toBe("mnt:[4026531832]")
      expect(ok(cat(child, "/proc/self/status"))).toContain("Uid:\t1000\t1000\t1000\t1000\n")
      expect(statSummary(child.vfsTask(), AT_FDCWD, `/proc/${pid}/fd`, 0)).toMatchObject({ type: "d", mode: "0500" })
      // root may look at the child (CAP_SYS_PTRACE)
      expect(readlink(kernel.sched.initTask, `/proc/${pid}/cwd`)).toBe("/")
      yield* finish(kernel)
    })
  )

  it.effect("one view per PID namespace: a task in a new PID namespace mounting proc sees itself as 1, not its parent", () =>
    Effect.gen(function* () {
      const kernel = yield* bootWithProc()
      const init = kernel.sched.initTask
      const child = yield* spawn(kernel, CLONE_NEWPID | CLONE_NEWNS, pauseForever)
      const outer = child.pidIn(kernel.sched.initPidNs)
      expect(outer).toBeGreaterThan(1)
      ok(asTask(child, () => doMount(child.vfsTask(), "proc", "/proc", "proc", 0, null)))
      expect(ok(ls(child, "/proc")).filter((n) => /^\d+$/.test(n))).toEqual(["1"])
      expect(readlink(child, "/proc/self")).toBe("1")
      const st = ok(cat(child, "/proc/1/status"))
      expect(st).toContain("Pid:\t1\n")
      expect(st).toContain("PPid:\t0\n")
      expect(st).toContain("NSpid:\t1\n")
      // the parent's view still shows both, and the child's numbers in both namespaces
      const fromOutside = ok(cat(init, `/proc/${outer}/status`))
      expect(fromOutside).toContain(`NSpid:\t${outer}\t1\n`)
      expect(fromOutside).toContain("PPid:\t1\n")
      expect(readlink(init, `/proc/${outer}/ns/pid`)).not.toBe(readlink(init, "/proc/1/ns/pid"))
      // through the child's root, PID 1 reaches the child's proc mount, where it has no number: self is ENOENT (proc_self_get_link())
      expect(errno(readlink(init, `/proc/${outer}/root/proc/self`))).toBe("ENOENT")
      yield* finish(kernel)
    })
  )

  it.effect("uid_map and gid_map are written through /proc and read back; setgroups deny", () =>
    Effect.gen(function* () {
      const kernel = yield* bootWithProc()
      const init = kernel.sched.initTask
      const child = yield* spawn(kernel, CLONE_NEWUSER, pauseForever)
      const pid = child.pidIn(kernel.sched.initPidNs)
      expect(ok(cat(init, `/proc/${pid}/uid_map`))).toBe("")
      expect(ok(echo(init, `/proc/${pid}/setgroups`, "deny"))).toBe(4)
      expect(ok(cat(init, `/proc/${pid}/setgroups`))).toBe("deny\n")
      expect(ok(echo(init, `/proc/${pid}/uid_map`, "0 1000 1\n"))).toBe(9)
      expect(ok(echo(init, `/proc/${pid}/gid_map`, "0 1000 1\n"))).toBe(9)
      // "%10u %10u %10u\n"
      expect(ok(cat(init, `/proc/${pid}/uid_map`))).toBe("         0       1000          1\n")
      expect(ok(cat(init, `/proc/${pid}/gid_map`))).toBe("         0       1000          1\n")
      // the child, inside, sees itself as root with its ids mapped
      expect(ok(cat(child, "/proc/self/status"))).toContain("Uid:\t65534\t65534\t65534\t65534\n")
      yield* finish(kernel)
    })
  )

  it.effect("/proc/sys/kernel/hostname reads and sets the UTS namespace's nodename", () =>
    Effect.gen(function* () {
      const kernel = yield* bootWithProc()
      const init = kernel.sched.initTask
      expect(ok(cat(init, "/proc/sys/kernel/hostname"))).toBe("(none)\n")
      expect(ok(echo(init, "/proc/sys/kernel/hostname", "simhost\n"))).toBe(8)
      expect(init.nsproxy!.uts.utsname.nodename).toBe("simhost")
      expect(ok(cat(init, "/proc/sys/kernel/hostname"))).toBe("simhost\n")
      expect(ok(ls(init, "/proc/sys"))).toEqual(["kernel"])
      // an unprivileged task cannot open it for writing (0644 root)
      const child = yield* spawn(kernel, 0, unprivileged())
      expect(errno(echo(child, "/proc/sys/kernel/hostname", "x\n"))).toBe("EACCES")
      yield* finish(kernel)
    })
  )

  it.effect("a process that exits and is reaped leaves /proc: its directory and files are ENOENT, its pid leaves the listing", () =>
    Effect.gen(function* () {
      const kernel = yield* bootWithProc()
      const init = kernel.sched.initTask
      const child = yield* spawn(kernel, 0, pauseForever)
      const pid = child.pidIn(kernel.sched.initPidNs)
      expect(ok(ls(init, "/proc"))).toContain(String(pid))
      expect(ok(cat(init, `/proc/${pid}/stat`)).split(" ")[2]).toBe("S")
      // a directory fd kept across the exit
      const vt = init.vfsTask()
      const dirfd = ok(asTask(init, () => openat(vt, AT_FDCWD, `/proc/${pid}`, O_RDONLY, 0)))
      expect(kernel.sched.kill(pid, SIGKILL)).toBeUndefined()
      yield* kernel.sched.settle()
      expect(ok(ls(init, "/proc"))).not.toContain(String(pid))
      expect(errno(cat(init, `/proc/${pid}/status`))).toBe("ENOENT")
      expect(errno(asTask(init, () => openat(vt, dirfd, "status", O_RDONLY, 0)))).toBe("ENOENT")
      close(vt, dirfd)
      yield* finish(kernel)
    })
  )

  it.effect("a second write to uid_map is EPERM, as in Linux, and leaves the map as it was", () =>
    Effect.gen(function* () {
      const kernel = yield* bootWithProc()
      const init = kernel.sched.initTask
      const child = yield* spawn(kernel, CLONE_NEWUSER, pauseForever)
      const pid = child.pidIn(kernel.sched.initPidNs)
      ok(echo(init, `/proc/${pid}/uid_map`, "0 1000 1\n"))
      const vt = init.vfsTask()
      const fd = ok(asTask(init, () => openat(vt, AT_FDCWD, `/proc/${pid}/uid_map`, O_WRONLY, 0)))
      expect(errno(asTask(init, () => write(vt, fd, enc.encode("0 2000 1\n"))))).toBe("EPERM")
      close(vt, fd)
      expect(ok(cat(init, `/proc/${pid}/uid_map`))).toBe("         0       1000          1\n")
      yield* finish(kernel)
    })
  )

  it.effect("the container hook: a proc context pointed at another PID namespace before it is created shows that namespace", () =>
    Effect.gen(function* () {
      const kernel = yield* boot()
      const init = kernel.sched.initTask
      const child = yield* spawn(kernel, CLONE_NEWPID, pauseForever)
      const vt = init.vfsTask()
      asTask(init, () => {
        const fsfd = ok(fsopen(vt, "proc", 0))
        const fc = fsContextFromFile(vt.files.fdget(fsfd)!)!
        expect(procfsSetPidNs(fc, child.activePidNs)).toBeUndefined()
        ok(fsconfig(vt, fsfd, FSCONFIG_CMD_CREATE, null, null, 0))
        expect(procfsSetPidNs(fc, child.activePidNs)?.errno).toBe("EINVAL")
        const mfd = ok(fsmount(vt, fsfd, 0, 0))
        ok(moveMount(vt, mfd, "", AT_FDCWD, "/proc", MOVE_MOUNT_F_EMPTY_PATH))
        close(vt, mfd)
        close(vt, fsfd)
      })
      // PID 1 of the host is not in that namespace: only the child, as 1
      expect(ok(ls(init, "/proc")).filter((n) => /^\d+$/.test(n))).toEqual(["1"])
      expect(errno(readlink(init, "/proc/self"))).toBe("ENOENT")
      expect(ok(cat(init, "/proc/1/status"))).toContain("Name:\tchild\n")
      yield* finish(kernel)
    })
  )
})
