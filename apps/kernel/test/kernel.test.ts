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

  it("the simkernel command with no arguments runs the demo: namespaces, findmnt, ps, the trace and the leak audit", () => {
    const out = execFileSync(process.execPath, [main], { encoding: "utf8" })
    const lines = out.trimEnd().split("\n")
    expect(lines).toContain("== lsns (the demo and its child)")
    expect(lines.some((l) => / pid +2 demo-child \(getpid\(\) = 1, hostname demo\)$/.test(l))).toBe(true)
    // the mount made under one peer propagated to the other
    expect(lines).toContain("│ └─/mnt/data/cache cache     ramfs  rw,relatime")
    expect(lines).toContain("├─/mnt/disk         /dev/sda3 ext4   ro,relatime")
    expect(lines).toContain("  └─/mnt/view/cache cache     ramfs  rw,relatime")
    expect(lines).toContain('[pid 1] fsconfig(0, FSCONFIG_SET_STRING, "source", "/dev/sda3", 0) = 0')
    expect(lines).toContain('[pid 1] fsopen("tmpfs", FSOPEN_CLOEXEC) = 0')
    expect(lines).toContain('[pid 1] move_mount(1, "", AT_FDCWD, "/mnt/data", MOVE_MOUNT_F_EMPTY_PATH) = 0')
    expect(lines).toContain('[pid 2] sethostname("demo", 4) = 0')
    expect(lines.at(-1)).toBe("leak audit: 0 live objects")
  })

  it("--help describes the command", () => {
    const out = execFileSync(process.execPath, [main, "--help"], { encoding: "utf8" })
    expect(out).toContain("USAGE")
    expect(out).toContain("conformance")
  })
})
