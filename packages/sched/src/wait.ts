import {
  __WALL,
  __WCLONE,
  __WNOTHREAD,
  CLD_CONTINUED,
  CLD_DUMPED,
  CLD_EXITED,
  CLD_KILLED,
  CLD_STOPPED,
  P_ALL,
  P_PGID,
  P_PID,
  P_PIDFD,
  SIGCHLD,
  SIGCONT,
  sysError,
  type SysError,
  WCONTINUED,
  WEXITED,
  WNOHANG,
  WNOWAIT,
  WUNTRACED
} from "@simkernel/abi"
import { fromKuidMunged } from "@simkernel/cred"
import { Effect } from "effect"
import { releaseTask } from "./exit.js"
import type { Pid } from "./Pid.js"
import { getSignal, signalPending } from "./signal.js"
import { DEAD, SIGNAL_GROUP_EXIT, SIGNAL_STOP_CONTINUED, SIGNAL_STOP_STOPPED, type Task, ZOMBIE } from "./Task.js"

/** Simulated resource usage (struct rusage's CPU times), in nanoseconds. */
export interface Rusage {
  readonly utime: number
  readonly stime: number
}

/** What a successful wait reports: wait4's pid, status and rusage, and waitid's siginfo fields. */
export interface WaitResult {
  /** The child's pid as the waiter sees it. */
  readonly pid: number
  /** The wait4 status (W_EXITCODE, W_STOPCODE or 0xffff). */
  readonly status: number
  /** waitid's si_code: CLD_EXITED, CLD_KILLED, CLD_DUMPED, CLD_STOPPED or CLD_CONTINUED. */
  readonly code: number
  /** waitid's si_status: exit code or signal. */
  readonly siStatus: number
  /** The child's real uid in the waiter's user namespace. */
  readonly uid: number
  readonly rusage: Rusage
}

/** struct wait_opts. */
export interface WaitOpts {
  readonly type: "all" | "pid" | "pgid"
  readonly pid: Pid | undefined
  readonly flags: number
}

const eligiblePid = (wo: WaitOpts, p: Task): boolean =>
  wo.type === "all" || (wo.type === "pid" ? p.pid === wo.pid : p.signal.pgrp === wo.pid)

/** eligible_child(): the pid matches, and __WALL/__WCLONE agree with the child's exit signal. */
export const eligibleChild = (wo: WaitOpts, p: Task): boolean => {
  if (!eligiblePid(wo, p)) return false
  if ((wo.flags & __WALL) !== 0) return true
  return (p.exitSignal !== SIGCHLD) === ((wo.flags & __WCLONE) !== 0)
}

/** delay_group_leader(): a zombie leader with live threads is not reported yet. */
const delayGroupLeader = (p: Task): boolean => p.isLeader && !p.threadGroupEmpty

const rusageOf = (p: Task): Rusage => {
  const s = p.signal
  let utime = s.utime + s.cutime
  let stime = s.stime + s.cstime
  for (const t of s.threads) {
    utime += t.utime
    stime += t.stime
  }
  return { utime, stime }
}

/** wait_task_zombie(): report (and unless WNOWAIT reap) an exited child. */
const waitTaskZombie = (waiter: Task, wo: WaitOpts, p: Task): WaitResult | undefined => {
  if ((wo.flags & WEXITED) === 0) return undefined
  const ns = waiter.activePidNs
  const pid = p.pidIn(ns)
  const uid = fromKuidMunged(waiter.cred.userNs, p.cred.uid)
  const status = (p.signal.flags & SIGNAL_GROUP_EXIT) !== 0 ? p.signal.groupExitCode : p.exitCode
  const rusage = rusageOf(p)
  if ((wo.flags & WNOWAIT) === 0) {
    p.exitState = DEAD
    const ps = waiter.signal
    ps.cutime += rusage.utime
    ps.cstime += rusage.stime
    releaseTask(p)
  }
  const exited = (status & 0x7f) === 0
  return {
    pid,
    status,
    code: exited ? CLD_EXITED : (status & 0x80) !== 0 ? CLD_DUMPED : CLD_KILLED,
    siStatus: exited ? status >> 8 : status & 0x7f,
    uid,
    rusage
  }
}

/** wait_task_stopped(): a child whose group stop has not been reported yet (WUNTRACED). */
const waitTaskStopped = (waiter: Task, wo: WaitOpts, p: Task): WaitResult | undefined => {
  if ((wo.flags & WUNTRACED) === 0) return undefined
  const s = p.signal
  if ((s.flags & SIGNAL_STOP_STOPPED) === 0 || p.exitState.tag !== "running") return undefined
  const code = s.groupExitCode
  if (code === 0) return undefined
  if ((wo.flags & WNOWAIT) === 0) s.groupExitCode = 0
  return {
    pid: p.pidIn(waiter.activePidNs),
    status: (code << 8) | 0x7f,
    code: CLD_STOPPED,
    siStatus: code,
    uid: fromKuidMunged(waiter.cred.userNs, p.cred.uid),
    rusage: rusageOf(p)
  }
}

/** wait_task_continued(): a child resumed by SIGCONT (WCONTINUED). */
const waitTaskContinued = (waiter: Task, wo: WaitOpts, p: Task): WaitResult | undefined => {
  if ((wo.flags & WCONTINUED) === 0) return undefined
  const s = p.signal
  if ((s.flags & SIGNAL_STOP_CONTINUED) === 0) return undefined
  if ((wo.flags & WNOWAIT) === 0) s.flags &= ~SIGNAL_STOP_CONTINUED
  return {
    pid: p.pidIn(waiter.activePidNs),
    status: 0xffff,
    code: CLD_CONTINUED,
    siStatus: SIGCONT,
    uid: fromKuidMunged(waiter.cred.userNs, p.cred.uid),
    rusage: rusageOf(p)
  }
}

/** The outcome of one pass over the children. */
type Scan = WaitResult | "none" | "echild"

/** do_wait_thread() over the waiter's thread group (only itself with __WNOTHREAD). */
const scanChildren = (t: Task, wo: WaitOpts): Scan => {
  let notask = true
  const threads = (wo.flags & __WNOTHREAD) !== 0 ? [t] : t.signal.threads
  for (const tsk of threads) {
    const children = tsk.children
    if (children === undefined) continue
    for (const p of children) {
      if (!eligibleChild(wo, p)) continue
      const state = p.exitState
      if (state === DEAD) continue
      if (state === ZOMBIE && !delayGroupLeader(p)) {
        const r = waitTaskZombie(t, wo, p)
        if (r !== undefined) return r
        continue
      }
      notask = false
      const r = waitTaskStopped(t, wo, p) ?? waitTaskContinued(t, wo, p)
      if (r !== undefined) return r
    }
  }
  return notask ? "echild" : "none"
}

/**
 * do_wait(): report a child that changed state. ECHILD when no child
 * matches; undefined with WNOHANG when none is ready; otherwise the task
 * sleeps until a matching child changes state. A signal whose handler has
 * no SA_RESTART ends the wait with EINTR.
 */
export const doWait = Effect.fnUntraced(function* (t: Task, wo: WaitOpts, syscall: string) {
  for (;;) {
    const r = scanChildren(t, wo)
    if (r === "echild") return yield* Effect.fail(sysError("ECHILD", syscall))
    if (typeof r !== "string") return r
    if ((wo.flags & WNOHANG) !== 0) return undefined
    // woken with a child to report and a signal pending, the child wins (the signal follows)
    if (signalPending(t)) {
      const d = yield* getSignal(t)
      if (d.handled > 0 && !d.restart) return yield* Effect.fail(sysError("EINTR", syscall))
      continue
    }
    t.waitFilter = (c) => eligibleChild(wo, c)
    yield* t.kernel.park(t, "child")
    t.waitFilter = undefined
  }
})

/** WaitOpts for wait4's pid argument: < -1 a group, -1 any, 0 the caller's group, > 0 one child. */
export const wait4Opts = (t: Task, upid: number, options: number): WaitOpts | SysError => {
  if ((options & ~(WNOHANG | WUNTRACED | WCONTINUED | __WNOTHREAD | __WCLONE | __WALL)) !== 0) {
    return sysError("EINVAL", "wait4", "unknown options")
  }
  if (upid === -2147483648) return sysError("ESRCH", "wait4")
  const flags = options | WEXITED
  const ns = t.activePidNs
  if (upid === -1) return { type: "all", pid: undefined, flags }
  if (upid < 0) return { type: "pgid", pid: ns.findPid(-upid), flags }
  if (upid === 0) return { type: "pgid", pid: t.signal.pgrp, flags }
  return { type: "pid", pid: ns.findPid(upid), flags }
}

/** The WaitOpts of waitid(2) for P_ALL, P_PID and P_PGID (P_PIDFD is resolved by the caller). */
export const waitidOpts = (t: Task, which: number, upid: number, options: number, pidfdPid?: Pid): WaitOpts | SysError => {
  if ((options & ~(WNOHANG | WNOWAIT | WEXITED | WUNTRACED | WCONTINUED | __WNOTHREAD | __WCLONE | __WALL)) !== 0) {
    return sysError("EINVAL", "waitid", "unknown options")
  }
  if ((options & (WEXITED | WUNTRACED | WCONTINUED)) === 0) return sysError("EINVAL", "waitid", "no WEXITED, WSTOPPED or WCONTINUED")
  const ns = t.activePidNs
  switch (which) {
    case P_ALL:
      return { type: "all", pid: undefined, flags: options }
    case P_PID:
      if (upid <= 0) return sysError("EINVAL", "waitid")
      return { type: "pid", pid: ns.findPid(upid), flags: options }
    case P_PGID:
      if (upid < 0) return sysError("EINVAL", "waitid")
      return { type: "pgid", pid: upid === 0 ? t.signal.pgrp : ns.findPid(upid), flags: options }
    case P_PIDFD:
      if (upid < 0) return sysError("EINVAL", "waitid")
      return { type: "pid", pid: pidfdPid, flags: options }
    default:
      return sysError("EINVAL", "waitid", "unknown idtype")
  }
}
