import { describe, expect, it } from "@effect/vitest"
import { AT_FDCWD, O_RDONLY } from "@simkernel/abi"
import type { Process } from "@simkernel/sched"
import { close, openat, read } from "@simkernel/vfs"
import { Effect } from "effect"
import { errno as errnoOf, withInit } from "./support.js"

const dec = new TextDecoder()

/** The Uid, Gid and Groups lines of /proc/self/status, read by the calling task. */
const idLines = (proc: Process): string => {
  const vt = proc.task.vfsTask()
  const fd = openat(vt, AT_FDCWD, "/proc/self/status", O_RDONLY, 0) as number
  const buf = new Uint8Array(8192)
  const n = read(vt, fd, buf) as number
  close(vt, fd)
  return dec
    .decode(buf.subarray(0, n))
    .split("\n")
    .filter((l) => /^(Uid|Gid|Groups):/.test(l))
    .join("\n")
}

describe("setresuid(2), setresgid(2), setgroups(2) as /proc/PID/status shows them", () => {
  it.effect("set the ids and groups; -1 keeps one; errors in Linux's order", () =>
    Effect.gen(function* () {
      const got = yield* withInit((sys, proc) =>
        Effect.gen(function* () {
          const calls = [
            yield* errnoOf(sys.call("setgroups", 2, [1])),
            yield* errnoOf(sys.call("setgroups", 1, "not a list")),
            yield* errnoOf(sys.call("setgroups", 65537, [])),
            yield* errnoOf(sys.call("setgroups", 3, [30, 10, 20])),
            yield* errnoOf(sys.call("setresgid", 5, 6, 7)),
            yield* errnoOf(sys.call("setresuid", -1, 1001, 1002))
          ]
          const first = idLines(proc)
          const later = [
            yield* errnoOf(sys.call("setresuid", 1001, 1001, 1001)),
            yield* errnoOf(sys.call("setresuid", 0, -1, -1)),
            yield* errnoOf(sys.call("setgroups", 0, null)),
            yield* errnoOf(sys.call("setresgid", 8, -1, -1)),
            yield* errnoOf(sys.call("setresgid", 7, 5, -1))
          ]
          return { calls, first, later, last: idLines(proc) }
        })
      )
      expect(got.calls).toEqual(["EFAULT", "EFAULT", "EINVAL", 0, 0, 0])
      expect(got.first).toBe("Uid:\t0\t1001\t1002\t1001\nGid:\t5\t6\t7\t6\nGroups:\t10 20 30 ")
      expect(got.later).toEqual([0, "EPERM", "EPERM", "EPERM", 0])
      expect(got.last).toBe("Uid:\t1001\t1001\t1001\t1001\nGid:\t7\t5\t7\t5\nGroups:\t10 20 30 ")
    })
  )
})
