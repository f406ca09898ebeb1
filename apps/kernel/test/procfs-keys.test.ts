import { describe, expect, it } from "@effect/vitest"
import { AT_FDCWD, O_WRONLY, SIGCHLD, type SysError } from "@simkernel/abi"
import { copyProcess, type Process, type Program } from "@simkernel/sched"
import { close, listDirectory, openat, statSummary, write } from "@simkernel/vfs"
import { Effect } from "effect"
import { Syscalls } from "../src/index.js"
import { asTask } from "../src/procfs/index.js"
import { cat, errnoIn as errno, withInit } from "./support.js"

const KEY_SPEC_PROCESS_KEYRING = -2
const enc = new TextEncoder()

/** A keyring "probe-ring" in the process keyring and a user key "probe-key" ("hello") in it, added with add_key(2). */
const addProbeKeys = (proc: Process) =>
  Effect.gen(function* () {
    const sys = new Syscalls({ proc })
    const ring = yield* sys.call("add_key", "keyring", "probe-ring", null, 0, KEY_SPEC_PROCESS_KEYRING)
    const key = yield* sys.call("add_key", "user", "probe-key", enc.encode("hello"), 5, ring)
    return [ring as number, key as number] as const
  })

const hex8 = (n: number): string => n.toString(16).padStart(8, "0")

describe("procfs: /proc/keys and /proc/key-users", () => {
  it.effect("list the keys the reader may view in Linux's columns, and the per-user counts", () =>
    Effect.gen(function* () {
      const got = yield* withInit((_sys, proc) =>
        Effect.gen(function* () {
          const t = proc.task
          const vt = t.vfsTask()
          const names = asTask(t, () => listDirectory(vt, AT_FDCWD, "/proc"))
          const stats = ["/proc/keys", "/proc/key-users"].map((f) => asTask(t, () => statSummary(vt, AT_FDCWD, f, 0)))
          const ids = yield* addProbeKeys(proc)
          const keys = cat(t, "/proc/keys")
          const users = cat(t, "/proc/key-users")
          const fd = asTask(t, () => openat(vt, AT_FDCWD, "/proc/keys", O_WRONLY, 0)) as number
          const written = asTask(t, () => write(vt, fd, enc.encode("x")))
          close(vt, fd)
          return { names, stats, ids, keys, users, written }
        })
      )
      expect(got.names).toEqual(expect.arrayContaining(["keys", "key-users"]))
      // security/keys/proc.c registers both 0444; like every procfs file they stat with size 0
      expect(got.stats).toEqual([
        { type: "f", mode: "0444", size: 0 },
        { type: "f", mode: "0444", size: 0 }
      ])
      const [ring, key] = got.ids
      // Linux 6.18 (python ctypes add_key under `unshare -U -r`):
      //   "00b7a024 I--Q---     1 perm 3f010000     0     0 keyring   probe-ring: 1"
      //   "3f7beec0 I--Q---     1 perm 3f010000     0     0 user      probe-key: 5"
      const lines = (got.keys as string).split("\n")
      expect(lines).toContain(`${hex8(ring)} I--Q---     1 perm 3f010000     0     0 keyring   probe-ring: 1`)
      expect(lines).toContain(`${hex8(key)} I--Q---     1 perm 3f010000     0     0 user      probe-key: 5`)
      expect(lines.at(-1)).toBe("")
      // "    0:    12 11/11 6/1000000 87/25000000" there: uid, usage, nkeys/nikeys, qnkeys/maxkeys, qnbytes/maxbytes
      const root = (got.users as string).split("\n").find((l) => l.startsWith("    0:"))
      expect(root).toMatch(/^ {4}0: +\d+ (\d+)\/\1 \d+\/1000000 \d+\/25000000$/)
      // no ->proc_write: EIO, as proc_reg_write() answers
      expect(errno(got.written)).toBe("EIO")
    })
  )

  it.effect("another user does not see root's keys it may not view; key-users lists every user", () =>
    Effect.gen(function* () {
      const got = yield* withInit((_sys, proc) =>
        Effect.gen(function* () {
          const [ring] = yield* addProbeKeys(proc)
          let seen: { keys: string | SysError; users: string | SysError } | undefined
          const other: Program = (child) =>
            Effect.gen(function* () {
              yield* child.setresgid(1000, 1000, 1000)
              yield* child.setresuid(1000, 1000, 1000)
              seen = { keys: cat(child.task, "/proc/keys"), users: cat(child.task, "/proc/key-users") }
              return 0
            })
          const { child } = yield* copyProcess(proc.task, { flags: 0, exitSignal: SIGCHLD, fn: other, comm: "other" })
          proc.task.kernel.wakeNew(child)
          yield* proc.wait4(-1, 0)
          return { ring, seen, rootKeys: cat(proc.task, "/proc/keys") }
        })
      )
      expect(got.rootKeys as string).toContain(hex8(got.ring))
      expect(typeof got.seen!.keys).toBe("string")
      // the keyring grants nothing to others (perm 3f010000) and the child does not possess it
      expect(got.seen!.keys as string).not.toContain(hex8(got.ring))
      expect(got.seen!.keys as string).not.toContain("probe-key")
      expect(got.seen!.users as string).toMatch(/^ {4}0:/m)
    })
  )
})
