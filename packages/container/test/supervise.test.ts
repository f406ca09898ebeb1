import { describe, expect, it } from "@effect/vitest"
import { CONTAINER_NEW_UTS_NS, POLLIN, SIGUSR1, syscallNumber, type SysError } from "@simkernel/abi"
import { sethostname } from "@simkernel/nsproxy"
import type { Process } from "@simkernel/sched"
import { Effect } from "effect"
import {
  CONTAINER_IOCTL_NOTIF_ID_VALID,
  CONTAINER_IOCTL_NOTIF_RECV,
  CONTAINER_IOCTL_NOTIF_SEND,
  CONTAINER_IOCTL_SUPERVISE,
  CONTAINER_NOTIF_FLAG_ALLOW,
  type ContainerNotif,
  type Containers
} from "../src/index.js"
import { errnoOf, errnoOfSync, pauser, runWith } from "./fixtures.js"

const enc = (s: string) => new TextEncoder().encode(s)

/**
 * What the kernel app's syscall layer does for sethostname(2): run the
 * handler; on EPERM hand the call to the container's supervisor with a
 * rerun of the same handler.
 */
const sethostnameCall = (containers: Containers, q: Process, name: string): Effect.Effect<number, SysError> => {
  const t = q.task
  const handler = Effect.suspend(() => {
    const r = sethostname(t.nsproxy!, t.cred, enc(name))
    return r === undefined ? Effect.succeed(0) : Effect.fail(r)
  })
  return Effect.catchIf(handler, (e) => e.errno === "EPERM", (e) => containers.onEperm(t, "sethostname", [name], e, handler))
}

/**
 * A member that drops root and tries sethostname, noting the outcome. It
 * first closes the notification fd it inherited (as O_CLOEXEC does at execve).
 */
const tryHostname = (containers: Containers, log: Array<unknown>, name: string, inherited = -1) => (q: Process) =>
  Effect.gen(function* () {
    if (inherited >= 0) yield* q.close(inherited)
    yield* q.setuid(1000)
    log.push([name, yield* Effect.match(sethostnameCall(containers, q, name), { onFailure: (e) => e.errno, onSuccess: (v) => v })])
    return 0
  })

describe("supervision: a supervisor answers members' EPERMs", () => {
  it.effect("ALLOW reruns with the supervisor's credentials; an error or a value answer is returned; closing answers EPERM", () =>
    Effect.gen(function* () {
      const seen: Array<unknown> = []
      const members: Array<unknown> = []
      yield* runWith(({ containers }) => (p) =>
        Effect.gen(function* () {
          const t = p.task
          const cfd = yield* containers.create(t, "sup", 0)
          // without a PID namespace a container lives while it has members: keep one
          const keeper = yield* containers.forkInto(t, cfd, pauser)
          const nfd = yield* containers.ioctl(t, cfd, CONTAINER_IOCTL_SUPERVISE, 0)!
          seen.push(["again", yield* errnoOf(containers.ioctl(t, cfd, CONTAINER_IOCTL_SUPERVISE, 0)!)])
          seen.push(["names", p.vfs.files.fdget(nfd)!.dentry.name, p.vfs.files.getCloexec(nfd)])
          const m1 = yield* containers.forkInto(t, cfd, tryHostname(containers, members, "allowed", nfd))
          seen.push(["poll", yield* p.poll([{ fd: nfd, events: POLLIN }], 0)])
          const n: Partial<ContainerNotif> = {}
          yield* containers.ioctl(t, nfd, CONTAINER_IOCTL_NOTIF_RECV, n)!
          seen.push(["notif", n.pid === m1, n.nr === syscallNumber("sethostname"), n.syscall, n.args])
          seen.push(["valid", yield* containers.ioctl(t, nfd, CONTAINER_IOCTL_NOTIF_ID_VALID, { id: n.id })!])
          const send = (resp: { id: bigint; val: number; error: number; flags: number }) =>
            errnoOf(containers.ioctl(t, nfd, CONTAINER_IOCTL_NOTIF_SEND, resp)!)
          seen.push([
            "bad",
            yield* send({ id: n.id!, val: 0, error: -13, flags: CONTAINER_NOTIF_FLAG_ALLOW }),
            yield* send({ id: n.id!, val: 0, error: 0, flags: 2 }),
            yield* send({ id: n.id!, val: 0, error: 5, flags: 0 }),
            yield* send({ id: 999n, val: 0, error: 0, flags: 0 })
          ])
          seen.push(["malformed", errnoOfSync(containers.notifSend(t, nfd, { id: 1, val: 0, error: 0, flags: 0 } as never))])
          seen.push(["allow", yield* send({ id: n.id!, val: 0, error: 0, flags: CONTAINER_NOTIF_FLAG_ALLOW })])
          seen.push(["answered", yield* send({ id: n.id!, val: 0, error: 0, flags: 0 }), yield* errnoOf(containers.ioctl(t, nfd, CONTAINER_IOCTL_NOTIF_ID_VALID, { id: n.id })!)])
          yield* p.wait4(m1)
          seen.push(["hostname", t.nsproxy!.uts.utsname.nodename])
          // deny with an errno, then emulate with a value
          const m2 = yield* containers.forkInto(t, cfd, tryHostname(containers, members, "denied", nfd))
          const n2 = yield* containers.notifRecv(t, nfd)
          seen.push(["deny", containers.notifSend(t, nfd, { id: n2.id, val: 0, error: -13, flags: 0 })])
          yield* p.wait4(m2)
          const m3 = yield* containers.forkInto(t, cfd, tryHostname(containers, members, "emulated", nfd))
          // ids count up: m3's request is posted, not yet received
          seen.push(["early", yield* send({ id: n2.id + 1n, val: 0, error: 0, flags: 0 })])
          const n3 = yield* containers.notifRecv(t, nfd)
          containers.notifSend(t, nfd, { id: n3.id, val: 42, error: 0, flags: 0 })
          yield* p.wait4(m3)
          // a request waiting when the supervisor closes its fd keeps its EPERM
          const m4 = yield* containers.forkInto(t, cfd, tryHostname(containers, members, "closed", nfd))
          seen.push(["waiting", containers.isSupervised(t, "sethostname"), containers.isSupervised(t, "kill")])
          yield* p.close(nfd)
          yield* p.wait4(m4)
          // with no supervisor the EPERM stands at once
          const m5 = yield* containers.forkInto(t, cfd, tryHostname(containers, members, "unsupervised"))
          yield* p.wait4(m5)
          yield* p.kill(keeper, 9)
          yield* p.wait4(keeper)
          return 0
        })
      )
      expect(seen).toEqual([
        ["again", "EBUSY"],
        ["names", "container_notify", true],
        ["poll", [POLLIN]],
        ["notif", true, true, "sethostname", ["allowed"]],
        ["valid", 0],
        ["bad", "EINVAL", "EINVAL", "EINVAL", "ENOENT"],
        ["malformed", "EINVAL"],
        ["allow", "ok"],
        ["answered", "ENOENT", "ENOENT"],
        ["hostname", "allowed"],
        ["deny", 0],
        ["early", "EINPROGRESS"],
        ["waiting", false, false]
      ])
      expect(members).toEqual([
        ["allowed", 0],
        ["denied", "EACCES"],
        ["emulated", 42],
        ["closed", "EPERM"],
        ["unsupervised", "EPERM"]
      ])
    }))

  it.effect("a handled signal withdraws the request (EINTR); the container's death hangs up; ancestors supervise children", () =>
    Effect.gen(function* () {
      const seen: Array<unknown> = []
      const members: Array<unknown> = []
      yield* runWith(({ containers }) => (p) =>
        Effect.gen(function* () {
          const t = p.task
          const outer = yield* containers.create(t, "outer", CONTAINER_NEW_UTS_NS)
          const keeper = yield* containers.forkInto(t, outer, pauser)
          const nfd = containers.supervise(t, outer) as number
          const m = yield* containers.forkInto(t, outer, (q) =>
            Effect.gen(function* () {
              yield* q.sigaction(SIGUSR1, { handler: () => Effect.void, flags: 0, mask: 0n })
              return yield* tryHostname(containers, members, "interrupted")(q)
            })
          )
          seen.push(["posted", (yield* p.poll([{ fd: nfd, events: POLLIN }], 0))[0]])
          yield* p.kill(m, SIGUSR1)
          yield* p.wait4(m)
          seen.push(["withdrawn", (yield* p.poll([{ fd: nfd, events: POLLIN }], 0))[0]])
          // a member of outer makes an inner container; outer's supervisor hears its members too
          const [r, w] = yield* p.pipe()
          const a = yield* containers.forkInto(t, outer, (q) =>
            Effect.gen(function* () {
              const inner = yield* containers.create(q.task, "inner", CONTAINER_NEW_UTS_NS)
              const b = yield* containers.forkInto(q.task, inner, tryHostname(containers, members, "inner"))
              yield* q.write(w, new Uint8Array([1]))
              yield* q.wait4(b)
              return 0
            })
          )
          yield* p.read(r, new Uint8Array(1))
          const n = yield* containers.notifRecv(t, nfd)
          seen.push(["from inner", n.syscall])
          containers.notifSend(t, nfd, { id: n.id, val: 0, error: 0, flags: CONTAINER_NOTIF_FLAG_ALLOW })
          yield* p.wait4(a)
          yield* p.kill(keeper, 9)
          yield* p.wait4(keeper)
          // outer is dead now (its last member left): the supervisor is hung up
          seen.push(["dead", yield* errnoOf(containers.notifRecv(t, nfd)), errnoOfSync(containers.supervise(t, outer))])
          seen.push(["bad fds", yield* errnoOf(containers.notifRecv(t, 77)), yield* errnoOf(containers.notifRecv(t, outer)), containers.ioctl(t, r, CONTAINER_IOCTL_NOTIF_RECV, {})])
          return 0
        })
      )
      expect(seen).toEqual([
        ["posted", POLLIN],
        ["withdrawn", 0],
        ["from inner", "sethostname"],
        ["dead", "ENOENT", "ECANCELED"],
        ["bad fds", "EBADF", "EINVAL", undefined]
      ])
      expect(members).toEqual([["interrupted", "EINTR"], ["inner", 0]])
    }))
})

