import { errnoName, O_RDWR, POLLHUP, POLLIN, POLLOUT, POLLRDNORM, POLLWRNORM, syscallNumber, sysError, SysError } from "@simkernel/abi"
import type { Cred } from "@simkernel/cred"
import { type LiveObjects, Refcounted, WaitQueue } from "@simkernel/kref"
import { getSignal, type PidNamespace, signalPending, type Task } from "@simkernel/sched"
import { anonInodeGetfile, type File, type FileOperations, type Vfs, type VfsTask } from "@simkernel/vfs"
import { Effect } from "effect"
import type { Container } from "./Container.js"

// The supervision ioctls, in seccomp user notification's style (include/uapi/linux/seccomp.h
// uses magic '!' and numbers 0..3); these take 0x80.. of the same magic, above mainline's.
const IOC = (dir: number, nr: number, size: number): number => ((dir << 30) | (size << 16) | (0x21 << 8) | nr) >>> 0

/** ioctl(cfd, CONTAINER_IOCTL_SUPERVISE, 0): a notification fd for the container (_IO('!', 0x80)). */
export const CONTAINER_IOCTL_SUPERVISE = IOC(0, 0x80, 0)
/** ioctl(nfd, ..., struct container_notif *): receive the next notification (_IOWR('!', 0x81, 80 bytes)). */
export const CONTAINER_IOCTL_NOTIF_RECV = IOC(3, 0x81, 80)
/** ioctl(nfd, ..., struct container_notif_resp *): answer one (_IOWR('!', 0x82, 24 bytes)). */
export const CONTAINER_IOCTL_NOTIF_SEND = IOC(3, 0x82, 24)
/** ioctl(nfd, ..., __u64 *id): is that notification still waiting for an answer? (_IOW('!', 0x83, 8 bytes)). */
export const CONTAINER_IOCTL_NOTIF_ID_VALID = IOC(1, 0x83, 8)
/** container_notif_resp.flags: run the operation again with the supervisor's credentials (as override_creds()). */
export const CONTAINER_NOTIF_FLAG_ALLOW = 0x1

/**
 * The privileged calls whose EPERM a supervisor may override: mounting and
 * the mount API, device nodes, host and domain names, root changes and
 * namespace changes.
 */
export const SUPERVISED_SYSCALLS: ReadonlySet<string> = new Set([
  "mount",
  "umount2",
  "fsopen",
  "fsconfig",
  "fsmount",
  "fspick",
  "move_mount",
  "open_tree",
  "open_tree_attr",
  "mount_setattr",
  "pivot_root",
  "chroot",
  "mknod",
  "mknodat",
  "sethostname",
  "setdomainname",
  "unshare",
  "setns"
])

/** struct container_notif, as NOTIF_RECV fills it (struct seccomp_notif's shape). */
export interface ContainerNotif {
  readonly id: bigint
  /** The member's thread id in the supervisor's PID namespace (0 when it cannot see it). */
  readonly pid: number
  readonly flags: number
  /** The syscall's number (abi's table) and name. */
  readonly nr: number
  readonly syscall: string
  readonly args: ReadonlyArray<unknown>
}

/** struct container_notif_resp, as NOTIF_SEND reads it (struct seccomp_notif_resp's shape). */
export interface ContainerNotifResp {
  readonly id: bigint
  /** The call's return value when `error` is 0 and ALLOW is not set (the supervisor did the work). */
  readonly val: number
  /** 0, or a negative errno the call fails with. */
  readonly error: number
  /** CONTAINER_NOTIF_FLAG_ALLOW: run the call again with the supervisor's credentials (`val` and `error` must be 0). */
  readonly flags: number
}

type NotifState = "posted" | "received" | "answered"

/** One blocked member's request (struct seccomp_knotif). */
class Notification {
  state: NotifState = "posted"
  resp: ContainerNotifResp | undefined = undefined
  readonly wq = new WaitQueue()
  constructor(
    readonly id: bigint,
    readonly task: Task,
    readonly syscall: string,
    readonly args: ReadonlyArray<unknown>
  ) {}
}

/**
 * A container's supervisor (the notification fd's private data, as
 * seccomp's struct notification): the container (held), the supervisor's
 * credentials at SUPERVISE time (held, what an ALLOW runs with) and PID
 * namespace (held, for the pids it is shown), and the requests waiting.
 */
export class Supervisor extends Refcounted {
  readonly kind = "ContainerSupervisor"
  private nextId = 1n
  readonly notifs = new Map<bigint, Notification>()
  /** Woken when a request is posted or withdrawn, or the container dies. */
  readonly wq = new WaitQueue()
  /** The container died, or the fd was closed: members no longer wait. */
  hungUp = false

  constructor(
    registry: LiveObjects,
    readonly container: Container,
    readonly cred: Cred,
    readonly pidNs: PidNamespace
  ) {
    super(registry, `supervisor of ${container.name}`)
    this.hold(container.get())
    this.hold(cred.get())
    this.hold(pidNs.get())
  }

  /** The container died (or the fd closed): every waiting member gets its EPERM. */
  hangup(): void {
    if (this.hungUp) return
    this.hungUp = true
    for (const n of this.notifs.values()) n.wq.wakeUp(POLLHUP)
    this.notifs.clear()
    this.wq.wakeUp(POLLHUP)
  }

  post(task: Task, syscall: string, args: ReadonlyArray<unknown>): Notification {
    const n = new Notification(this.nextId++, task, syscall, args)
    this.notifs.set(n.id, n)
    this.wq.wakeUp(POLLIN)
    return n
  }

  withdraw(n: Notification): void {
    if (this.notifs.delete(n.id)) this.wq.wakeUp(POLLOUT)
  }

  /** POLLIN with a request to receive, POLLOUT with one received and unanswered, POLLHUP once hung up. */
  poll(): number {
    let r = this.hungUp || this.container.dead ? POLLHUP : 0
    for (const n of this.notifs.values()) {
      if (n.state === "posted") r |= POLLIN | POLLRDNORM
      else if (n.state === "received") r |= POLLOUT | POLLWRNORM
    }
    return r
  }

  firstPosted(): Notification | undefined {
    for (const n of this.notifs.values()) if (n.state === "posted") return n
    return undefined
  }

  protected override destroy(): void {
    if (this.container.supervisor === this) this.container.supervisor = undefined
  }
}

/** The notification fd's operations: poll as above; closing it answers every waiting request with EPERM. */
export const supervisorFops: FileOperations = {
  name: "container_notify",
  poll: (file) => (file.privateData as Supervisor).poll(),
  waitQueue: (file) => (file.privateData as Supervisor).wq,
  release: (file) => {
    const s = file.privateData as Supervisor
    s.hangup()
    if (s.container.supervisor === s) s.container.supervisor = undefined
    s.put()
  }
}

/** The Supervisor behind a notification fd's File, or undefined. */
export const supervisorFromFile = (file: File): Supervisor | undefined =>
  file.fop === supervisorFops ? (file.privateData as Supervisor) : undefined

/** EBADF for a closed fd, EINVAL for one that is not a notification fd. Borrowed. */
export const supervisorGet = (task: VfsTask, fd: number, syscall: string): Supervisor | SysError => {
  const f = fd < 0 ? undefined : task.files.fdget(fd)
  if (f === undefined) return sysError("EBADF", syscall)
  return supervisorFromFile(f) ?? sysError("EINVAL", syscall, "not a container notification fd")
}

/**
 * CONTAINER_IOCTL_SUPERVISE: become the container's supervisor; the
 * answer is a notification fd (O_RDWR|O_CLOEXEC, "anon_inode:container_notify").
 * ECANCELED for a dead container, EBUSY when it already has a supervisor.
 */
export const superviseContainer = (vfs: Vfs, task: Task, c: Container): number | SysError => {
  if (c.dead) return sysError("ECANCELED", "ioctl", "the container is dead")
  if (c.supervisor !== undefined) return sysError("EBUSY", "ioctl", "the container already has a supervisor")
  const s = new Supervisor(task.kernel.live, c, task.cred, task.activePidNs)
  const file = anonInodeGetfile(vfs, "container_notify", supervisorFops, s, O_RDWR, task.cred)
  if (file instanceof SysError) {
    s.put()
    return file
  }
  const fd = task.vfsTask().files.install(file, true)
  if (typeof fd !== "number") {
    file.put()
    return fd
  }
  c.supervisor = s
  return fd
}

/** The supervisor of `c` or of the nearest ancestor that has one: a supervisor watches the containers below its own too. */
export const supervisorFor = (c: Container | undefined): Supervisor | undefined => {
  for (let x = c; x !== undefined; x = x.parent) {
    const s = x.supervisor
    if (s instanceof Supervisor && !s.hungUp) return s
  }
  return undefined
}

/**
 * CONTAINER_IOCTL_NOTIF_RECV: the next request, marked received; sleeps
 * until there is one (interruptible: EINTR when a handler runs). ENOENT
 * once the supervisor is hung up with nothing left.
 */
export const notifRecv = (t: Task, s: Supervisor): Effect.Effect<ContainerNotif, SysError> =>
  Effect.suspend(function loop(): Effect.Effect<ContainerNotif, SysError> {
    const n = s.firstPosted()
    if (n !== undefined) {
      n.state = "received"
      const notif: ContainerNotif = {
        id: n.id,
        pid: n.task.pidIn(s.pidNs),
        flags: 0,
        nr: syscallNumber(n.syscall) ?? -1,
        syscall: n.syscall,
        args: n.args
      }
      return Effect.succeed(notif)
    }
    if (s.hungUp) return Effect.fail(sysError("ENOENT", "ioctl", "the container's supervisor is hung up"))
    if (signalPending(t)) return interrupted(t, loop, "ioctl")
    return Effect.flatMap(
      t.kernel.sleepOn(t, "poll", s.wq, () => s.hungUp || s.firstPosted() !== undefined),
      () => (signalPending(t) ? interrupted(t, loop, "ioctl") : loop())
    )
  })

/**
 * CONTAINER_IOCTL_NOTIF_SEND: answer a received request. EINVAL for a
 * malformed answer, unknown flags, ALLOW with a value or error, or an error that is not 0
 * or a negative errno; ENOENT for an id not waiting (answered, withdrawn,
 * never made); EINPROGRESS for one not received yet.
 */
export const notifSend = (s: Supervisor, resp: ContainerNotifResp): number | SysError => {
  if (typeof resp.id !== "bigint" || !Number.isInteger(resp.val) || !Number.isInteger(resp.error) || !Number.isInteger(resp.flags))
    return sysError("EINVAL", "ioctl", "malformed struct container_notif_resp")
  if ((resp.flags & ~CONTAINER_NOTIF_FLAG_ALLOW) !== 0) return sysError("EINVAL", "ioctl", "unknown flags")
  if ((resp.flags & CONTAINER_NOTIF_FLAG_ALLOW) !== 0 && (resp.error !== 0 || resp.val !== 0))
    return sysError("EINVAL", "ioctl", "ALLOW with a value or an error")
  if (resp.error !== 0 && (resp.error > 0 || errnoName(-resp.error) === undefined)) return sysError("EINVAL", "ioctl", "bad error")
  const n = s.notifs.get(resp.id)
  if (n === undefined) return sysError("ENOENT", "ioctl")
  if (n.state !== "received") return sysError("EINPROGRESS", "ioctl")
  n.state = "answered"
  n.resp = resp
  s.notifs.delete(n.id)
  n.wq.wakeUp(POLLIN)
  return 0
}

/** CONTAINER_IOCTL_NOTIF_ID_VALID: 0 while the request waits for an answer, ENOENT otherwise. */
export const notifIdValid = (s: Supervisor, id: bigint): number | SysError =>
  s.notifs.has(id) && !s.hungUp ? 0 : sysError("ENOENT", "ioctl")

/**
 * A member's supervised call failed with EPERM: post a request to the
 * supervisor and sleep until it is answered. ALLOW runs `rerun` with the
 * supervisor's credentials in place of the task's (override_creds(); the
 * task keeps its namespaces); an error answer fails with that errno; any
 * other answer returns `val`. With no supervisor, or once it hangs up
 * (closed, or the container died), the call keeps its EPERM. A handled
 * signal while waiting withdraws the request: EINTR.
 */
export const superviseEperm = (
  t: Task,
  s: Supervisor,
  syscall: string,
  args: ReadonlyArray<unknown>,
  eperm: SysError,
  rerun: Effect.Effect<number, SysError>
): Effect.Effect<number, SysError> =>
  Effect.suspend(() => {
    const n = s.post(t, syscall, args)
    const loop = (): Effect.Effect<number, SysError> => {
      const resp = n.resp
      if (resp !== undefined) return answer(t, s, resp, rerun)
      if (s.hungUp) return Effect.fail(eperm)
      if (signalPending(t)) return Effect.flatMap(getSignal(t), (d) => (d.handled > 0 ? cancel() : loop()))
      return Effect.flatMap(
        t.kernel.sleepOn(t, "poll", n.wq, () => n.resp !== undefined || s.hungUp),
        loop
      )
    }
    const cancel = (): Effect.Effect<number, SysError> => {
      s.withdraw(n)
      return Effect.fail(sysError("EINTR", syscall))
    }
    return Effect.onInterrupt(loop(), () => Effect.sync(() => s.withdraw(n)))
  })

const answer = (t: Task, s: Supervisor, resp: ContainerNotifResp, rerun: Effect.Effect<number, SysError>): Effect.Effect<number, SysError> => {
  if ((resp.flags & CONTAINER_NOTIF_FLAG_ALLOW) !== 0) {
    const own = t.cred
    t.cred = s.cred.get()
    return Effect.ensuring(
      rerun,
      Effect.sync(() => {
        const borrowed = t.cred
        t.cred = own
        borrowed.put()
      })
    )
  }
  if (resp.error !== 0) return Effect.fail(sysError(errnoName(-resp.error)!, undefined, "answered by the container's supervisor"))
  return Effect.succeed(resp.val)
}

/** A handled signal ends a sleeping call with EINTR; otherwise the call sleeps again. */
const interrupted = <A>(t: Task, again: () => Effect.Effect<A, SysError>, syscall: string): Effect.Effect<A, SysError> =>
  Effect.flatMap(getSignal(t), (d) => (d.handled > 0 ? Effect.fail(sysError("EINTR", syscall)) : again()))
