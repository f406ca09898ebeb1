import { Refcounted } from "@simkernel/kref"
import type { PidNamespace } from "./PidNamespace.js"
import type { Task } from "./Task.js"

/**
 * A process identifier, as include/linux/pid.h struct pid: one number in
 * each PID namespace from the task's own (level) up to the initial one
 * (level 0), and the tasks that use it as their pid, thread-group id,
 * process group or session.
 *
 * References: the one it is born with belongs to the pid hash (the
 * namespaces' idr entries) and is dropped when no task uses it any more
 * (free_pid()); pidfds and waiters take their own. It holds its innermost
 * namespace, which holds its ancestors.
 */
export class Pid extends Refcounted {
  readonly kind = "Pid"
  /** Depth of the innermost namespace. */
  readonly level: number
  /** numbers[i].nr, indexed by namespace level. */
  readonly nrs: Array<number>
  /** numbers[i].ns, indexed by namespace level (shared by every pid of the namespace). */
  readonly nss: ReadonlyArray<PidNamespace>
  /** PIDTYPE_PID: the task whose own pid this is. */
  task: Task | undefined = undefined
  /** PIDTYPE_TGID: the thread-group leader whose tgid this is. */
  leader: Task | undefined = undefined
  /** PIDTYPE_PGID: processes (group leaders) in the process group this pid names. */
  pgrp: Set<Task> | undefined = undefined
  /** PIDTYPE_SID: processes in the session this pid names. */
  session: Set<Task> | undefined = undefined
  /** wait_pidfd: pollers woken when the process exits. */
  pollWaiters: Array<() => void> | undefined = undefined
  /** The numbers are still in the namespaces' idr. */
  hashed = true

  constructor(ns: PidNamespace, nrs: Array<number>) {
    super(ns.liveObjects)
    this.level = ns.level
    this.nrs = nrs
    this.nss = ns.chain
    ns.get()
  }

  protected override destroy(): void {
    this.nss[this.level]!.put()
  }

  /** ns_of_pid(): the innermost namespace. */
  get ns(): PidNamespace {
    return this.nss[this.level]!
  }

  /** pid_nr(): the number in the initial namespace. */
  get nr(): number {
    return this.nrs[0]!
  }

  /** Some task still uses this pid (pid_has_task() for any type). */
  get inUse(): boolean {
    return (
      this.task !== undefined ||
      this.leader !== undefined ||
      (this.pgrp !== undefined && this.pgrp.size > 0) ||
      (this.session !== undefined && this.session.size > 0)
    )
  }

  /** Wake pidfd pollers (do_notify_pidfd()). */
  notifyPollers(): void {
    const w = this.pollWaiters
    if (w === undefined) return
    this.pollWaiters = undefined
    for (const f of w) f()
  }
}

/** pid_nr_ns(): `pid`'s number in `ns`, 0 when `ns` cannot see it. */
export const pidNrNs = (pid: Pid | undefined, ns: PidNamespace): number =>
  pid !== undefined && ns.level <= pid.level && pid.nss[ns.level] === ns ? pid.nrs[ns.level]! : 0
