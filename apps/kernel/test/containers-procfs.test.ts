import { describe, expect, it } from "@effect/vitest"
import {
  AT_FDCWD,
  CLONE_NEWUSER,
  CONTAINER_FD_CLOEXEC,
  CONTAINER_NEW_PID_NS,
  CONTAINER_NEW_UTS_NS,
  FSCONFIG_CMD_CREATE,
  FSCONFIG_SET_CONTAINER,
  FSCONFIG_SET_STRING,
  MOVE_MOUNT_F_EMPTY_PATH
} from "@simkernel/abi"
import type { Process } from "@simkernel/sched"
import { listDirectory, statSummary } from "@simkernel/vfs"
import { Effect } from "effect"
import { Syscalls } from "../src/syscalls/table.js"
import { readFile, readLink } from "../src/userland/program.js"
import { asInit, errnoOf, pipe } from "./support.js"

const HEADER = "NAME                               ID USE FL OWNER GROUP"

const ls = (sys: Syscalls, path: string): ReadonlyArray<string> | string => {
  const names = listDirectory(sys.ctx.proc.task.vfsTask(), AT_FDCWD, path)
  return names instanceof Error ? names.errno : names
}

describe("/proc/containers", () => {
  it.effect("lists the reader's own container as <current>, then its direct children only: no grandchildren, no siblings", () =>
    asInit((sys) =>
      Effect.gen(function* () {
        const alpha = yield* sys.call("container_create", "alpha", CONTAINER_NEW_UTS_NS | CONTAINER_FD_CLOEXEC, 0, 0, 0)
        yield* sys.call("container_create", "gamma", CONTAINER_FD_CLOEXEC, 0, 0, 0)
        const host = yield* readFile(sys, "/proc/containers")
        // a process forked into alpha makes beta there, reads, says it is ready and waits to be let go
        const [readyR, readyW] = yield* pipe(sys)
        const [goR, goW] = yield* pipe(sys)
        const inside: { text?: string } = {}
        const pid = yield* sys.call("fork_into_container", alpha, (child: Process) =>
          Effect.gen(function* () {
            const csys = new Syscalls({ proc: child })
            // the child's copy of the write end would keep its own read from ever seeing end of file
            yield* csys.call("close", goW)
            yield* csys.call("container_create", "beta", CONTAINER_FD_CLOEXEC, 0, 0, 0)
            inside.text = yield* readFile(csys, "/proc/containers")
            yield* csys.call("write", readyW, new Uint8Array([1]), 1)
            yield* csys.call("read", goR, new Uint8Array(1), 1)
            return 0
          })
        )
        yield* sys.call("read", readyR, new Uint8Array(1), 1)
        const hostAgain = yield* readFile(sys, "/proc/containers")
        yield* sys.call("close", goW)
        yield* sys.call("wait4", pid, {}, 0, null)
        return { host, inside: inside.text, hostAgain }
      })
    ).pipe(
      Effect.map((r) => {
        expect(r.host).toBe(
          [HEADER, "<current>                           1   4 01     0     0", "alpha                               2   1 00     0     0", "gamma                               3   1 00     0     0", ""].join("\n")
        )
        // alpha has started (01); beta is its child, gamma its sibling (not shown), .init its parent (not shown)
        expect(r.inside).toBe([HEADER, "<current>                           2   3 01     0     0", "beta                                4   1 00     0     0", ""].join("\n"))
        expect(r.hostAgain?.split("\n").map((l) => l.split(/ +/)[0])).toEqual(["NAME", "<current>", "alpha", "gamma", ""])
      })
    )
  )

  it.effect("OWNER and GROUP are mapped into the reader's user namespace: overflow ids where unmapped", () =>
    asInit((sys) =>
      Effect.gen(function* () {
        const before = yield* readFile(sys, "/proc/containers")
        yield* sys.call("unshare", CLONE_NEWUSER)
        const after = yield* readFile(sys, "/proc/containers")
        return [before, after] as const
      })
    ).pipe(
      Effect.map(([before, after]) => {
        expect(before?.split("\n")[1]).toMatch(/^<current> +1 +\d+ 01     0     0$/)
        expect(after?.split("\n")[1]).toMatch(/^<current> +1 +\d+ 01 65534 65534$/)
      })
    )
  )

  it.effect("is a 0444 root file at the top of /proc, and subset=pid leaves it out", () =>
    asInit((sys) =>
      Effect.gen(function* () {
        const t = sys.ctx.proc.task.vfsTask()
        const top = ls(sys, "/proc")
        const stat = statSummary(t, AT_FDCWD, "/proc/containers", 0)
        const fs = yield* sys.call("fsopen", "proc", 0)
        yield* sys.call("fsconfig", fs, FSCONFIG_SET_STRING, "subset", "pid", 0)
        yield* sys.call("fsconfig", fs, FSCONFIG_CMD_CREATE, null, null, 0)
        const mfd = yield* sys.call("fsmount", fs, 0, 0)
        yield* sys.call("move_mount", mfd, "", AT_FDCWD, "/mnt", MOVE_MOUNT_F_EMPTY_PATH)
        const subset = ls(sys, "/mnt")
        const missing = yield* errnoOf(sys.call("openat", AT_FDCWD, "/mnt/containers", 0, 0))
        return { top, stat, subset, missing }
      })
    ).pipe(
      Effect.map((r) => {
        expect(r.top).toContain("containers")
        expect(r.stat).toMatchObject({ type: "f", mode: "0444" })
        expect(r.subset).not.toContain("containers")
        expect(r.missing).toBe("ENOENT")
      })
    )
  )
})

describe("proc made with FSCONFIG_SET_CONTAINER", () => {
  it.effect("shows the container's PID namespace: empty until init is forked in, then init as 1, while the host's /proc shows it by its host pid", () =>
    asInit((sys) =>
      Effect.gen(function* () {
        const cfd = yield* sys.call("container_create", "fred", CONTAINER_NEW_PID_NS | CONTAINER_FD_CLOEXEC, 0, 0, 0)
        const fs = yield* sys.call("fsopen", "proc", 0)
        yield* sys.call("fsconfig", fs, FSCONFIG_SET_CONTAINER, null, null, cfd)
        yield* sys.call("fsconfig", fs, FSCONFIG_CMD_CREATE, null, null, 0)
        const mfd = yield* sys.call("fsmount", fs, 0, 0)
        // mounted on the host's /mnt: what a supervisor would look at from outside
        yield* sys.call("move_mount", mfd, "", AT_FDCWD, "/mnt", MOVE_MOUNT_F_EMPTY_PATH)
        const empty = (ls(sys, "/mnt") as ReadonlyArray<string>).filter((n) => /^\d+$/.test(n))
        // PID 1 of the host is not in the container's namespace: /mnt/self leads nowhere
        const self = yield* readLink(sys, "/mnt/self")
        const [goR, goW] = yield* pipe(sys)
        const pid = yield* sys.call("fork_into_container", cfd, (child: Process) =>
          Effect.gen(function* () {
            const csys = new Syscalls({ proc: child })
            yield* csys.call("close", goW)
            yield* csys.call("read", goR, new Uint8Array(1), 1)
            return 0
          })
        )
        yield* sys.call("close", goR)
        const pids = (ls(sys, "/mnt") as ReadonlyArray<string>).filter((n) => /^\d+$/.test(n))
        const status = yield* readFile(sys, "/mnt/1/status")
        const hostStatus = yield* readFile(sys, `/proc/${pid}/status`)
        yield* sys.call("close", goW)
        yield* sys.call("wait4", pid, {}, 0, null)
        return { empty, self, pid, pids, status, hostStatus }
      })
    ).pipe(
      Effect.map((r) => {
        expect(r.empty).toEqual([])
        expect(r.self).toBeUndefined()
        expect(r.pids).toEqual(["1"])
        // status shows pids from the mount's PID namespace down
        expect(r.status).toMatch(/^Pid:\t1$/m)
        expect(r.status).toMatch(/^NSpid:\t1$/m)
        expect(r.hostStatus).toMatch(new RegExp(`^Pid:\\t${r.pid}$`, "m"))
        expect(r.hostStatus).toMatch(new RegExp(`^NSpid:\\t${r.pid}\\t1$`, "m"))
      })
    )
  )

  it.effect("without FSCONFIG_SET_CONTAINER, proc shows the PID namespace of the task that configured it", () =>
    asInit((sys) =>
      Effect.gen(function* () {
        yield* sys.call("container_create", "fred", CONTAINER_NEW_PID_NS | CONTAINER_FD_CLOEXEC, 0, 0, 0)
        const fs = yield* sys.call("fsopen", "proc", 0)
        yield* sys.call("fsconfig", fs, FSCONFIG_CMD_CREATE, null, null, 0)
        const mfd = yield* sys.call("fsmount", fs, 0, 0)
        yield* sys.call("move_mount", mfd, "", AT_FDCWD, "/mnt", MOVE_MOUNT_F_EMPTY_PATH)
        return yield* readLink(sys, "/mnt/self")
      })
    ).pipe(Effect.map((self) => expect(self).toBe("1")))
  )
})
