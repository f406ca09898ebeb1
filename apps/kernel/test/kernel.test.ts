import { describe, expect, it } from "@effect/vitest"
import { execFileSync } from "node:child_process"
import { fileURLToPath } from "node:url"
import { AT_FDCWD, AT_SYMLINK_NOFOLLOW } from "@simkernel/abi"
import { listDirectory, statSummary } from "@simkernel/vfs"
import { Effect } from "effect"
import { boot, shutdown } from "../src/index.js"

const main = fileURLToPath(new URL("../dist/main.js", import.meta.url))

describe("kernel app", () => {
  it.effect("boot runs /sbin/init as PID 1 in the initial namespaces, and shutdown leaves nothing alive", () =>
    Effect.gen(function* () {
      const kernel = yield* boot()
      const init = kernel.sched.initTask
      expect(init.comm).toBe("init")
      expect(kernel.sched.ps()).toBe("1 running blocked:pause init")
      expect(init.cred.uid).toBe(0)
      expect(init.cred.userNs.inum).toBe(4026531837)
      const nsp = init.nsproxy!
      expect([nsp.mnt!.inum, nsp.uts.inum, nsp.ipc.inum, nsp.pidForChildren!.inum, nsp.net!.inum]).toEqual([
        4026531832, 4026531838, 4026531839, 4026531836, 4026531833
      ])
      const report = yield* shutdown(kernel)
      expect(report).toEqual({ leaked: 0, audit: "leak audit: 0 live objects" })
    })
  )

  it.effect("the root filesystem has the usual directories and device nodes, and /sbin/init", () =>
    Effect.gen(function* () {
      const kernel = yield* boot()
      const t = kernel.sched.initTask.vfsTask()
      expect(listDirectory(t, AT_FDCWD, "/")).toEqual(["bin", "dev", "etc", "mnt", "proc", "root", "sbin", "tmp"])
      expect(statSummary(t, AT_FDCWD, "/tmp", 0)).toEqual({ type: "d", mode: "1777" })
      expect(statSummary(t, AT_FDCWD, "/root", 0)).toEqual({ type: "d", mode: "0700" })
      expect(listDirectory(t, AT_FDCWD, "/dev")).toEqual(["console", "full", "null", "sda", "sda3", "zero"])
      expect(statSummary(t, AT_FDCWD, "/dev/null", 0)).toEqual({ type: "c", mode: "0666", rdev: "1:3" })
      expect(statSummary(t, AT_FDCWD, "/dev/sda3", 0)).toEqual({ type: "b", mode: "0660", rdev: "8:3" })
      expect(statSummary(t, AT_FDCWD, "/sbin/init", AT_SYMLINK_NOFOLLOW)).toEqual({ type: "f", mode: "0755", size: 17 })
      const report = yield* shutdown(kernel)
      expect(report.leaked).toBe(0)
    })
  )

  it("the simkernel command with no arguments runs the seed's walkthrough: a container set up from outside, its init, the views and the leak audit", () => {
    const out = execFileSync(process.execPath, [main], { encoding: "utf8" })
    const lines = out.trimEnd().split("\n")
    // the container object, and /proc/containers listing it as the caller's child
    expect(lines).toContain(
      '[pid 1] container_create("fred", CONTAINER_NEW_EMPTY_FS_NS|CONTAINER_NEW_UTS_NS|CONTAINER_NEW_IPC_NS|CONTAINER_NEW_PID_NS|CONTAINER_NEW_NET_NS|CONTAINER_KILL_ON_CLOSE|CONTAINER_FD_CLOEXEC, 0, 0, 0) = 3'
    )
    expect(lines).toContain("NAME                               ID USE FL OWNER GROUP")
    expect(lines).toContain("fred                                2   1 04     0     0")
    // its root and its proc, made for it and moved into its empty mount namespace
    expect(lines).toContain("[pid 1] fsconfig(4, FSCONFIG_SET_CONTAINER, NULL, NULL, 3) = 0")
    expect(lines).toContain('[pid 1] fsconfig(4, FSCONFIG_SET_FLAG, "user_xattr", NULL, 0) = 0')
    expect(lines).toContain('[pid 1] move_mount(5, "", 3, "/", MOVE_MOUNT_F_EMPTY_PATH|MOVE_MOUNT_T_CONTAINER_ROOT) = 0')
    expect(lines).toContain('[pid 1] move_mount(5, "", 3, "proc", MOVE_MOUNT_F_EMPTY_PATH) = 0')
    // the cfd as a dirfd: relative paths from its root, an absolute path refused
    expect(lines).toContain('[pid 1] mknodat(3, "dev/random", S_IFCHR|0666, makedev(0x1, 0x8)) = 0')
    expect(lines).toContain('[pid 1] openat(3, "/etc/hostname", O_RDONLY|O_CLOEXEC) = -1 EINVAL (Invalid argument)')
    // rtnetlink from outside sees the container's own loopback, down
    expect(lines).toContain("1: lo: <LOOPBACK> mtu 65536 state DOWN")
    // init: the first process forked in, PID 1 of the container's PID namespace
    expect(lines).toContain("[pid 1] fork_into_container(3) = 3")
    expect(lines).toContain('[pid 3] execve("/bin/sh", ["sh", "/etc/rc"], /* 0 vars */) = 0')
    expect(lines).toContain("root           1       0  0 00:00 ?        00:00:00 sh /etc/rc")
    // the host sees the same process as pid 3, in new uts, ipc, pid, net and mnt namespaces
    expect(lines).toContain("root           3       1  0 00:00 ?        00:00:00 sh /etc/rc")
    expect(lines.filter((l) => / 3 root sh \/etc\/rc$/.test(l)).map((l) => l.split(/ +/)[1])).toEqual(["uts", "ipc", "pid", "net", "mnt"])
    // inside: its hostname, its root and its proc; it sees itself as <current>
    expect(lines).toContain("fred# hostname")
    expect(lines[lines.indexOf("fred# hostname") + 1]).toBe("fred")
    expect(lines).toContain("/       /dev/sda3 ext4   rw,relatime")
    expect(lines).toContain("<current>                           2   4 05     0     0")
    // init's end is the container's: dead (07 with KILL_ON_CLOSE), then gone once its fd is closed
    expect(lines.some((l) => l.startsWith("[pid 1] container_wait(3, ") && l.endsWith(", 0, NULL) = 0"))).toBe(true)
    expect(lines).toContain("fred                                2   1 07     0     0")
    const last = lines.lastIndexOf("host# cat /proc/containers")
    expect(lines.slice(last + 1, last + 3)).toEqual(["NAME                               ID USE FL OWNER GROUP", "<current>                           1   3 01     0     0"])
    expect(lines[last + 3]).toMatch(/^\[pid 1\] fork\(\) = \d+$/)
    expect(lines).toContain("/       none   tmpfs  rw,relatime,mode=755")
    expect(lines.at(-1)).toBe("leak audit: 0 live objects")
  })

  it("--help describes the command", () => {
    const out = execFileSync(process.execPath, [main, "--help"], { encoding: "utf8" })
    expect(out).toContain("USAGE")
    expect(out).toContain("conformance")
  })
})
