import { describe, expect, it } from "@effect/vitest"
import { AT_FDCWD, CONTAINER_NEW_USER_NS, errnoNumber, S_IFIFO, type SysError } from "@simkernel/abi"
import {
  CONTAINER_IOCTL_NOTIF_ID_VALID,
  CONTAINER_IOCTL_NOTIF_RECV,
  CONTAINER_IOCTL_NOTIF_SEND,
  CONTAINER_IOCTL_SUPERVISE,
  CONTAINER_NOTIF_FLAG_ALLOW,
  type ContainerNotif
} from "@simkernel/container"
import type { Process, Program } from "@simkernel/sched"
import { showMountinfo } from "@simkernel/vfs"
import { Effect } from "effect"
import { boot, shutdown, Syscalls } from "../src/index.js"
import { errno } from "./support.js"

/**
 * Supervision end to end with two programs: PID 1 is the supervisor (it
 * makes a NEW_USER_NS container, asks to supervise it, forks the member in
 * and answers its requests through the notification fd); the member, whose
 * capabilities are only those of its own user namespace, mounts a tmpfs on
 * /mnt in the initial mount namespace, which its handler refuses with EPERM.
 */

/** What the member saw: its mount's result (0 or an errno name) and its trace lines. */
interface Run {
  readonly member: number | string
  readonly notif: Partial<ContainerNotif> | undefined
  readonly mounted: boolean
  readonly trace: ReadonlyArray<string>
  readonly extra: ReadonlyArray<unknown>
}

/**
 * The member: close its inherited copy of the notification fd (fork copies
 * it; a runtime closes it before exec), mount a tmpfs on /mnt and
 * report the result.
 */
const member =
  (nfd: number, seen: { result?: number | string }): Program =>
  (proc) =>
    Effect.gen(function* () {
      const sys = new Syscalls({ proc })
      if (nfd >= 0) yield* sys.call("close", nfd)
      seen.result = yield* errno(sys.call("mount", "none", "/mnt", "tmpfs", 0, null))
      return 0
    })

/**
 * Boot, let the supervisor program `answer` the member's first request
 * (given the notification fd and the request), then reap the member.
 */
const supervised = (
  answer: (sys: Syscalls, nfd: number, notif: ContainerNotif) => Effect.Effect<ReadonlyArray<unknown>, SysError>,
  options: { readonly supervise?: boolean } = {}
) =>
  Effect.gen(function* () {
    const trace: Array<string> = []
    const seen: { result?: number | string } = {}
    let notif: ContainerNotif | undefined
    let extra: ReadonlyArray<unknown> = []
    let mounted = false
    const kernel = yield* boot({
      tracer: (line) => trace.push(line),
      init: (proc: Process) =>
        Effect.gen(function* () {
          const sys = new Syscalls({ proc }, () => undefined)
          const c = yield* sys.call("container_create", "jail", CONTAINER_NEW_USER_NS, 0, 0, 0)
          const nfd = options.supervise === false ? -1 : yield* sys.call("ioctl", c, CONTAINER_IOCTL_SUPERVISE, 0)
          const pid = yield* sys.call("fork_into_container", c, member(nfd, seen))
          if (nfd >= 0) {
            const got = {} as ContainerNotif
            yield* sys.call("ioctl", nfd, CONTAINER_IOCTL_NOTIF_RECV, got)
            notif = got
            extra = yield* answer(sys, nfd, got)
          }
          yield* sys.call("wait4", pid, {}, 0, null)
          const t = proc.task.vfsTask()
          mounted = showMountinfo({ root: t.fs.root, ns: t.mntNs }).includes(" /mnt rw,relatime - tmpfs none ")
          return 0
        })
    })
    yield* kernel.sched.waitInit()
    const report = yield* shutdown(kernel)
    expect(report.audit).toBe("leak audit: 0 live objects")
    const run: Run = { member: seen.result ?? "never ran", notif, mounted, trace: trace.filter((l) => l.includes("mount(")), extra }
    return run
  })

const send = (sys: Syscalls, nfd: number, id: bigint, val: number, error: number, flags: number) =>
  sys.call("ioctl", nfd, CONTAINER_IOCTL_NOTIF_SEND, { id, val, error, flags })

describe("supervision of a container's privileged calls", () => {
  it.effect("ALLOW: the member's mount runs again with the supervisor's credentials and succeeds", () =>
    Effect.gen(function* () {
      const run = yield* supervised((sys, nfd, n) =>
        Effect.gen(function* () {
          const valid = yield* sys.call("ioctl", nfd, CONTAINER_IOCTL_NOTIF_ID_VALID, { id: n.id })
          yield* send(sys, nfd, n.id, 0, 0, CONTAINER_NOTIF_FLAG_ALLOW)
          return [valid, yield* errno(sys.call("ioctl", nfd, CONTAINER_IOCTL_NOTIF_ID_VALID, { id: n.id }))]
        })
      )
      expect(run.member).toBe(0)
      expect(run.mounted).toBe(true)
      expect(run.notif).toMatchObject({ syscall: "mount", nr: 165, args: ["none", "/mnt", "tmpfs", 0, null] })
      expect(run.extra).toEqual([0, "ENOENT"])
      // the member's own trace line shows the call's final result
      expect(run.trace).toEqual(['[pid 2] mount("none", "/mnt", "tmpfs", 0, NULL) = 0'])
    })
  )

  it.effect("an error answer fails the member's call with that errno; nothing is mounted", () =>
    Effect.gen(function* () {
      const run = yield* supervised((sys, nfd, n) => Effect.as(send(sys, nfd, n.id, 0, -errnoNumber("EACCES"), 0), []))
      expect(run.member).toBe("EACCES")
      expect(run.mounted).toBe(false)
    })
  )

  it.effect("a value answer returns it without running the call (the supervisor did the work)", () =>
    Effect.gen(function* () {
      const run = yield* supervised((sys, nfd, n) => Effect.as(send(sys, nfd, n.id, 0, 0, 0), []))
      expect(run.member).toBe(0)
      expect(run.mounted).toBe(false)
    })
  )

  it.effect("closing the notification fd while the member waits leaves it its EPERM", () =>
    Effect.gen(function* () {
      const run = yield* supervised((sys, nfd) => Effect.as(sys.call("close", nfd), []))
      expect(run.member).toBe("EPERM")
      expect(run.mounted).toBe(false)
    })
  )

  it.effect("answers are checked: unknown flags, ALLOW with an error, a positive error are EINVAL; an unknown id ENOENT", () =>
    Effect.gen(function* () {
      const run = yield* supervised((sys, nfd, n) =>
        Effect.gen(function* () {
          const bad = [
            yield* errno(send(sys, nfd, n.id, 0, 0, 0x10)),
            yield* errno(send(sys, nfd, n.id, 0, -1, CONTAINER_NOTIF_FLAG_ALLOW)),
            yield* errno(send(sys, nfd, n.id, 0, 13, 0)),
            yield* errno(send(sys, nfd, n.id + 100n, 0, 0, 0))
          ]
          yield* send(sys, nfd, n.id, 0, 0, CONTAINER_NOTIF_FLAG_ALLOW)
          return bad
        })
      )
      expect(run.extra).toEqual(["EINVAL", "EINVAL", "EINVAL", "ENOENT"])
      expect(run.member).toBe(0)
    })
  )

  it.effect("without a supervisor the EPERM stands at once", () =>
    Effect.gen(function* () {
      const run = yield* supervised(() => Effect.succeed([]), { supervise: false })
      expect(run.member).toBe("EPERM")
      expect(run.notif).toBeUndefined()
      expect(run.mounted).toBe(false)
    })
  )

  it.effect("only EPERM goes to the supervisor: another errno of a supervised call is returned at once", () =>
    Effect.gen(function* () {
      const trace: Array<string> = []
      let result: unknown
      const kernel = yield* boot({
        tracer: (line) => trace.push(line),
        init: (proc) =>
          Effect.gen(function* () {
            const sys = new Syscalls({ proc })
            const c = yield* sys.call("container_create", "jail", CONTAINER_NEW_USER_NS, 0, 0, 0)
            const nfd = yield* sys.call("ioctl", c, CONTAINER_IOCTL_SUPERVISE, 0)
            const seen: { result?: number | string } = {}
            const pid = yield* sys.call("fork_into_container", c, (p: Process) =>
              Effect.gen(function* () {
                seen.result = yield* errno(new Syscalls({ proc: p }).call("mknodat", AT_FDCWD, "/no/such/fifo", S_IFIFO | 0o644, 0))
                return 0
              })
            )
            yield* sys.call("wait4", pid, {}, 0, null)
            const polled = yield* proc.poll([{ fd: nfd, events: 0x1 }], 0)
            result = [seen.result, polled[0]! & 0x1]
            return 0
          })
      })
      yield* kernel.sched.waitInit()
      const report = yield* shutdown(kernel)
      expect(report.audit).toBe("leak audit: 0 live objects")
      expect(result).toEqual(["ENOENT", 0])
    })
  )
})
