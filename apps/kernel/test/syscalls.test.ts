import { describe, expect, it } from "@effect/vitest"
import { readFileSync } from "node:fs"
import { fileURLToPath } from "node:url"
import {
  AT_FDCWD,
  FSCONFIG_CMD_CREATE,
  FSCONFIG_SET_STRING,
  FSOPEN_CLOEXEC,
  MOVE_MOUNT_F_EMPTY_PATH,
  O_CREAT,
  O_RDWR,
  syscallNumber
} from "@simkernel/abi"
import { showMountinfo } from "@simkernel/vfs"
import { Effect } from "effect"
import { type DiskImage, memoryBlockDevice, mkfsImage } from "../src/disk/index.js"
import { boot, renderCompat, shutdown, SYSCALL_TABLE, Syscalls } from "../src/index.js"
import { errno, withSys } from "./support.js"

describe("the syscall table", () => {
  it("has every x86_64 syscall of Linux 6.18 and the seed's, each with a support level", () => {
    expect(SYSCALL_TABLE.length).toBe(386)
    expect(SYSCALL_TABLE.find((e) => e.name === "fsopen")).toMatchObject({ nr: 430, support: "full" })
    expect(SYSCALL_TABLE.find((e) => e.name === "io_uring_setup")).toMatchObject({ nr: 425, support: "enosys" })
    expect(SYSCALL_TABLE.find((e) => e.name === "container_create")).toMatchObject({ nr: 1000, support: "full" })
    for (const e of SYSCALL_TABLE) expect(e.support === "enosys").toBe(e.handler === undefined)
  })

  it("docs/compat.md is generated from it and current", () => {
    const file = fileURLToPath(new URL("../../../docs/compat.md", import.meta.url))
    expect(readFileSync(file, "utf8")).toBe(renderCompat())
  })

  it.effect("readlinkat refuses a buffer size of zero or less with EINVAL before it looks the path up", () =>
    Effect.gen(function* () {
      const seen = yield* withSys((sys) =>
        Effect.all([
          errno(sys.call("readlinkat", AT_FDCWD, "/proc/self", new Uint8Array(8), 0)),
          errno(sys.call("readlinkat", AT_FDCWD, "/nonexistent", new Uint8Array(8), -1)),
          sys.call("readlinkat", AT_FDCWD, "/proc/self", new Uint8Array(8), 8)
        ])
      )
      expect(seen).toEqual(["EINVAL", "EINVAL", 1])
    })
  )

  it.effect("answers by name or number, and ENOSYS for what it lacks", () =>
    Effect.gen(function* () {
      const got = yield* withSys((sys) =>
        Effect.gen(function* () {
          return [
            yield* sys.call("getpid"),
            yield* sys.callNr(syscallNumber("getpid")!),
            yield* errno(sys.call("io_uring_setup", 8, {})),
            yield* errno(sys.callNr(9999)),
            yield* errno(sys.call("no_such_call"))
          ]
        })
      )
      expect(got).toEqual([1, 1, "ENOSYS", "ENOSYS", "ENOSYS"])
    })
  )

  it.effect("runs file calls with Linux's arguments, and faults on a NULL path", () =>
    Effect.gen(function* () {
      const got = yield* withSys((sys) =>
        Effect.gen(function* () {
          yield* sys.call("mkdirat", AT_FDCWD, "/tmp/d", 0o755)
          const fd = yield* sys.call("openat", AT_FDCWD, "/tmp/d/f", O_CREAT | O_RDWR, 0o644)
          const wrote = yield* sys.call("write", fd, new TextEncoder().encode("hello"), 5)
          yield* sys.call("lseek", fd, 0, 0)
          const buf = new Uint8Array(16)
          const n = yield* sys.call("read", fd, buf, 16)
          yield* sys.call("close", fd)
          const st: { size?: number; mode?: number } = {}
          yield* sys.call("newfstatat", AT_FDCWD, "/tmp/d/f", st, 0)
          return [wrote, new TextDecoder().decode(buf.subarray(0, n)), st.size, (st.mode ?? 0) & 0o777, yield* errno(sys.call("mkdirat", AT_FDCWD, null, 0o755))]
        })
      )
      expect(got).toEqual([5, "hello", 5, 0o644, "EFAULT"])
    })
  )

  it.effect("mounts with the fd-based mount API, and traces every call as strace prints it", () =>
    Effect.gen(function* () {
      const trace: Array<string> = []
      const mountinfo = yield* withSys(
        (sys, proc) =>
          Effect.gen(function* () {
            const fs = yield* sys.call("fsopen", "tmpfs", FSOPEN_CLOEXEC)
            yield* sys.call("fsconfig", fs, FSCONFIG_SET_STRING, "source", "demo", 0)
            yield* sys.call("fsconfig", fs, FSCONFIG_CMD_CREATE, null, null, 0)
            const m = yield* sys.call("fsmount", fs, 0, 0)
            yield* sys.call("move_mount", m, "", AT_FDCWD, "/mnt", MOVE_MOUNT_F_EMPTY_PATH)
            yield* Effect.ignore(sys.call("fsopen", "nosuchfs", 0))
            const t = proc.task.vfsTask()
            return showMountinfo({ root: t.fs.root, ns: t.mntNs })
          }),
        (line) => trace.push(line)
      )
      expect(mountinfo).toContain(" /mnt rw,relatime - tmpfs demo rw\n")
      expect(trace).toEqual([
        '[pid 1] fsopen("tmpfs", FSOPEN_CLOEXEC) = 0',
        '[pid 1] fsconfig(0, FSCONFIG_SET_STRING, "source", "demo", 0) = 0',
        "[pid 1] fsconfig(0, FSCONFIG_CMD_CREATE, NULL, NULL, 0) = 0",
        "[pid 1] fsmount(0, 0, 0) = 1",
        '[pid 1] move_mount(1, "", AT_FDCWD, "/mnt", MOVE_MOUNT_F_EMPTY_PATH) = 0',
        '[pid 1] fsopen("nosuchfs", 0) = -1 ENODEV (No such device)'
      ])
    })
  )

  it.effect("sync, syncfs and fsync write an ext4 mount back to its disk; EBADF and EINVAL as Linux gives them", () =>
    Effect.gen(function* () {
      const disk = memoryBlockDevice("sda3", mkfsImage("sda3", "mem-sda3"))
      const generation = () => (disk.load() as DiskImage).generation
      const seen: Array<number> = []
      const kernel = yield* boot({
        disks: [disk],
        init: (proc) =>
          Effect.gen(function* () {
            const sys = new Syscalls({ proc })
            yield* sys.call("mount", "/dev/sda3", "/mnt", "ext4", 0, null)
            const fd = yield* sys.call("openat", AT_FDCWD, "/mnt/f", O_CREAT | O_RDWR, 0o644)
            seen.push(generation())
            yield* sys.call("fsync", fd)
            seen.push(generation())
            yield* sys.call("write", fd, new Uint8Array([1]), 1)
            yield* sys.call("syncfs", fd)
            seen.push(generation())
            yield* sys.call("sync")
            // nothing changed since: no write
            seen.push(generation())
            expect(yield* errno(sys.call("fsync", 99))).toBe("EBADF")
            const pipe = [0, 0]
            yield* sys.call("pipe2", pipe, 0)
            expect(yield* errno(sys.call("fsync", pipe[0]))).toBe("EINVAL")
            return 0
          })
      })
      yield* kernel.sched.waitInit()
      const report = yield* shutdown(kernel)
      expect(report.audit).toBe("leak audit: 0 live objects")
      expect(seen).toEqual([0, 1, 2, 2])
    })
  )
})
