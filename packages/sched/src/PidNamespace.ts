import {
  CAP_CHECKPOINT_RESTORE,
  CAP_SYS_ADMIN,
  MAX_PID_NS_LEVEL,
  PROC_PID_INIT_INO,
  sysError,
  type SysError
} from "@simkernel/abi"
import { type CredValues, inUserns, NsCommon, nsCapable, type UserNamespace } from "@simkernel/cred"
import type { LiveObjects } from "@simkernel/kref"
import type { NamespaceOps } from "@simkernel/nsproxy"
import { Pid } from "./Pid.js"
import type { Task } from "./Task.js"

/** PID_MAX_LIMIT on 64-bit, and the pid_max this simulation starts with. */
export const PID_MAX_LIMIT = 4194304
export const PID_MAX_DEFAULT = PID_MAX_LIMIT
/** After the first wrap, pids below this are left to daemons started at boot (include/linux/pid.h). */
export const RESERVED_PIDS = 300

/**
 * A PID namespace, as include/linux/pid_namespace.h struct pid_namespace:
 * its level, its parent (a held reference), the idr of its pid numbers with
 * the cyclic cursor, the count of pids allocated in it, and its init
 * (child_reaper). Tasks in it see only its pids and those of namespaces
 * below it.
 */
export class PidNamespace extends NsCommon {
  readonly kind = "pid"
  readonly level: number
  readonly parent: PidNamespace | undefined
  readonly liveObjects: LiveObjects
  /** The idr: number -> Pid (null while an allocation is in flight). */
  readonly idr = new Map<number, Pid | null>()
  /** idr_get_cursor(): where the next cyclic allocation starts. */
  cursor = 0
  /** pid_allocated without the PIDNS_ADDING bit. */
  pidAllocated = 0
  /** PIDNS_ADDING: new pids may still be allocated (cleared when init exits). */
  adding = true
  /** The namespace's init: reaper of orphans, and whose death ends the namespace. */
  childReaper: Task | undefined = undefined
  /**
   * The per-namespace kernel.pid_max (Linux 6.14): PID_MAX_LIMIT in a new
   * namespace, so the tightest limit of the namespace and its ancestors
   * bounds an allocation (each level's number is taken below its own).
   */
  pidMax: number
  /** The exit code reboot(2) inside the namespace sets for init. */
  reboot = 0
  /** This namespace and its ancestors, indexed by level. */
  readonly chain: ReadonlyArray<PidNamespace>

  private constructor(owner: UserNamespace, inum: number, parent: PidNamespace | undefined, pidMax: number) {
    super({ ownerNs: owner, inum, origin: "pid namespace" })
    this.liveObjects = owner.liveObjects
    this.level = parent === undefined ? 0 : parent.level + 1
    this.parent = parent === undefined ? undefined : this.hold(parent.get())
    this.pidMax = pidMax
    this.chain = parent === undefined ? [this] : [...parent.chain, this]
  }

  /** init_pid_ns: level 0, inode PROC_PID_INIT_INO, owned by the initial user namespace. */
  static createInit(initUserNs: UserNamespace, pidMax = PID_MAX_DEFAULT): PidNamespace {
    return new PidNamespace(initUserNs, PROC_PID_INIT_INO, undefined, pidMax)
  }

  /**
   * create_pid_namespace(): a child of `this` owned by `userNs`. EPERM when
   * `userNs` is not below the owner of this namespace, ENOSPC beyond
   * MAX_PID_NS_LEVEL (32) levels or without an nsfs inode number.
   */
  createChild(userNs: UserNamespace, syscall = "unshare"): PidNamespace | SysError {
    if (!inUserns(this.ownerNs!, userNs)) return sysError("EPERM", syscall, "user namespace is not below the PID namespace's owner")
    if (this.level + 1 > MAX_PID_NS_LEVEL) return sysError("ENOSPC", syscall, "PID namespaces nested too deep")
    const inum = userNs.inums.alloc()
    if (inum === undefined) return sysError("ENOSPC", syscall, "no nsfs inode number left")
    return new PidNamespace(userNs, inum, this, PID_MAX_LIMIT)
  }

  /** Is `this` `other` or one of its ancestors? */
  isAncestorOf(other: PidNamespace): boolean {
    let p: PidNamespace | undefined = other
    while (p !== undefined && p.level > this.level) p = p.parent
    return p === this
  }

  /**
   * idr_alloc_cyclic(idr, start, end): the lowest free number at or after
   * the cursor (and at least `start`) below `end`, wrapping to `start` once.
   */
  private allocCyclic(start: number, end: number): number {
    const idr = this.idr
    let id = this.cursor < start ? start : this.cursor
    const from = id
    while (id < end && idr.has(id)) id++
    if (id >= end) {
      if (from <= start) return -1
      id = start
      while (id < end && idr.has(id)) id++
      if (id >= end) return -1
    }
    this.cursor = id + 1
    return id
  }

  /**
   * One level of alloc_pid(): `tid` (set_tid) or the next cyclic number. The
   * number is reserved (null) until the whole pid is made.
   */
  reserve(tid: number): number | SysError {
    let nr: number
    if (tid !== 0) {
      if (this.idr.has(tid)) return sysError("EEXIST", "clone3", `pid ${tid} is in use`)
      nr = tid
    } else {
      // init needs pid 1, but once past RESERVED_PIDS the low numbers stay with
      // early daemons; alloc_pid() does this in every namespace, not just the first
      const pidMin = this.cursor > RESERVED_PIDS ? RESERVED_PIDS : 1
      nr = this.allocCyclic(pidMin, this.pidMax)
      if (nr < 0) return sysError("EAGAIN", "clone", "no free pid")
    }
    this.idr.set(nr, null)
    return nr
  }

  /** find_pid_ns(). */
  findPid(nr: number): Pid | undefined {
    return this.idr.get(nr) ?? undefined
  }

  /** find_task_by_pid_ns(). */
  findTask(nr: number): Task | undefined {
    return this.idr.get(nr)?.task
  }

  /** disable_pid_allocation(): no new pids once init is gone. */
  disablePidAllocation(): void {
    this.adding = false
  }
}

/**
 * alloc_pid(): a Pid with a number in `ns` and in each ancestor, the
 * innermost first. `setTid` (clone3's set_tid) gives the numbers from the
 * innermost level out; each needs CAP_CHECKPOINT_RESTORE (or CAP_SYS_ADMIN)
 * over the level's owner (EPERM), must be 1..pid_max-1 and, other than 1,
 * name a namespace that already has an init (EINVAL), and be free (EEXIST).
 * Every number taken is given back when a later level fails. ENOMEM when
 * `ns` no longer accepts pids (its init has exited).
 */
export const allocPid = (ns: PidNamespace, setTid: ReadonlyArray<number>, cred: CredValues): Pid | SysError => {
  if (setTid.length > ns.level + 1) return sysError("EINVAL", "clone3", "set_tid_size exceeds the nesting depth")
  const nrs: Array<number> = new Array(ns.level + 1)
  let k = 0
  let tmp: PidNamespace | undefined = ns
  let failure: SysError | undefined
  for (let i = ns.level; i >= 0; i--, tmp = tmp!.parent) {
    let tid = 0
    if (k < setTid.length) {
      tid = setTid[k++]!
      if (!Number.isInteger(tid) || tid < 1 || tid >= tmp!.pidMax) {
        failure = sysError("EINVAL", "clone3", "set_tid out of range")
      } else if (tid !== 1 && tmp!.childReaper === undefined) {
        failure = sysError("EINVAL", "clone3", "set_tid other than 1 in a namespace without init")
      } else if (!checkpointRestoreNsCapable(cred, tmp!.ownerNs!)) {
        failure = sysError("EPERM", "clone3", "set_tid needs CAP_CHECKPOINT_RESTORE")
      }
    }
    if (failure === undefined) {
      const nr = tmp!.reserve(tid)
      if (typeof nr === "number") nrs[i] = nr
      else failure = nr
    }
    if (failure !== undefined) {
      for (let j = i + 1; j <= ns.level; j++) pidNsAt(ns, j).idr.delete(nrs[j]!)
      // a failed first pid leaves the namespace as it was
      if (ns.pidAllocated === 0 && ns.adding) ns.cursor = 0
      return failure
    }
  }
  if (!ns.adding) {
    for (let j = 0; j <= ns.level; j++) pidNsAt(ns, j).idr.delete(nrs[j]!)
    return sysError("ENOMEM", "clone", "the PID namespace's init has exited")
  }
  const pid = new Pid(ns, nrs)
  for (let j = 0; j <= ns.level; j++) {
    const n = pid.nss[j]!
    n.idr.set(nrs[j]!, pid)
    n.pidAllocated++
  }
  return pid
}

const pidNsAt = (ns: PidNamespace, level: number): PidNamespace => {
  let p = ns
  while (p.level > level) p = p.parent!
  return p
}

/**
 * free_pid(): take the numbers out of every namespace's idr and drop the
 * hash's reference. A namespace whose first process failed to start stops
 * accepting pids, as Linux does.
 */
export const freePid = (pid: Pid): void => {
  if (!pid.hashed) return
  pid.hashed = false
  for (let i = 0; i <= pid.level; i++) {
    const ns = pid.nss[i]!
    ns.idr.delete(pid.nrs[i]!)
    const left = --ns.pidAllocated
    if (left === 0 && ns.childReaper === undefined && ns.adding) ns.adding = false
    // the reaper may be waiting in zapPidNsProcesses() for the last pids to go
    else if (left <= 2 && ns.childReaper !== undefined) ns.childReaper.kernel.wakeChan(ns.childReaper, "pidns")
  }
  pid.put()
}

/** checkpoint_restore_ns_capable(). */
export const checkpointRestoreNsCapable = (cred: CredValues, ns: UserNamespace): boolean =>
  nsCapable(cred, ns, CAP_CHECKPOINT_RESTORE) || nsCapable(cred, ns, CAP_SYS_ADMIN)

/**
 * The "pid" namespace type for nsproxy: copy_pid_ns(), pidns_install() and
 * pidns_get_parent().
 */
export const pidNamespaceOps: NamespaceOps<PidNamespace> = {
  kind: "pid",
  copy: (old, userNs, task) => {
    // a second unshare(CLONE_NEWPID) before a child was born into the first
    if (task.activePidNs !== old) return sysError("EINVAL", "unshare", "pid_for_children is not the active PID namespace")
    return old.createChild(userNs)
  },
  install: (nsset, ns) => {
    if (!nsCapable(nsset.current, ns.ownerNs!, CAP_SYS_ADMIN) || !nsCapable(nsset.current, nsset.cred.userNs, CAP_SYS_ADMIN)) {
      return sysError("EPERM", "setns")
    }
    const active = nsset.task.activePidNs as PidNamespace | undefined
    // only the active namespace or one below it
    if (active === undefined || !active.isAncestorOf(ns)) return sysError("EINVAL", "setns", "not the active PID namespace or below it")
    nsset.nsproxy.replace("pidForChildren", ns.get())
    return undefined
  },
  getParent: (ns, task) => {
    const active = task.activePidNs as PidNamespace | undefined
    const parent = ns.parent
    for (let p = parent; p !== undefined; p = p.parent) if (p === active) return parent!.get()
    return sysError("EPERM", "ioctl", "the parent is outside the caller's PID namespace")
  }
}
