import {
  _NSIG,
  CAP_KILL,
  CLD_CONTINUED,
  CLD_STOPPED,
  SA_NOCLDSTOP,
  SA_NODEFER,
  SA_RESETHAND,
  SA_RESTART,
  SI_KERNEL,
  SI_TKILL,
  SI_USER,
  SIG_BLOCK,
  SIG_DFL,
  SIG_IGN,
  SIG_SETMASK,
  SIG_UNBLOCK,
  SIGCHLD,
  SIGCONT,
  SIGHUP,
  SIGKILL,
  SIGSTOP,
  sysError,
  type SysError
} from "@simkernel/abi"
import { fromKuidMunged, nsCapable } from "@simkernel/cred"
import { Effect } from "effect"
import { doGroupExit } from "./exit.js"
import type { Pid } from "./Pid.js"
import { DEFAULT_ACTION, type SigAction, type SigInfo } from "./signal-types.js"
import {
  firstSignal,
  SIG_KERNEL_ONLY_MASK,
  SIG_KERNEL_STOP_MASK,
  sigismember,
  sigKernelIgnore,
  sigKernelOnly,
  sigKernelStop,
  sigmask,
  type SigSet,
  validSignal
} from "./sigset.js"
import {
  JOBCTL_STOP_PENDING,
  PF_EXITING,
  PF_SIGNALED,
  SIGNAL_CLD_CONTINUED,
  SIGNAL_CLD_MASK,
  SIGNAL_CLD_STOPPED,
  SIGNAL_GROUP_EXIT,
  SIGNAL_STOP_CONTINUED,
  SIGNAL_STOP_STOPPED,
  SIGNAL_UNKILLABLE,
  type Task
} from "./Task.js"

/** Which pending set a signal goes to: the thread's (tkill) or the process's. */
export type PidType = "pid" | "tgid"

/** The disposition is a program-supplied handler (not SIG_DFL or SIG_IGN). */
const isHandler = (h: SigAction["handler"]): h is Exclude<SigAction["handler"], number> => typeof h === "function"

/** sig_handler_ignored(): SIG_IGN, or SIG_DFL for a signal whose default is to ignore it. */
const sigHandlerIgnored = (act: SigAction, sig: number): boolean =>
  act.handler === SIG_IGN || (act.handler === SIG_DFL && sigKernelIgnore(sig))

/** is_global_init(): PID 1 of the initial namespace. */
const isGlobalInit = (t: Task): boolean => t.groupLeader === t.kernel.initTask

/** sig_task_ignored(). */
const sigTaskIgnored = (t: Task, sig: number, force: boolean): boolean => {
  const act = t.sighand.action(sig)
  // SIGKILL and SIGSTOP may not be sent to the global init
  if (isGlobalInit(t) && sigKernelOnly(sig)) return true
  // a namespace's init only gets the signals it handles, or SIGKILL/SIGSTOP from an ancestor namespace
  if ((t.signal.flags & SIGNAL_UNKILLABLE) !== 0 && act.handler === SIG_DFL && !(force && sigKernelOnly(sig))) return true
  return sigHandlerIgnored(act, sig)
}

/** sig_ignored(): blocked signals are never ignored, the handler may change before they are unblocked. */
const sigIgnored = (t: Task, sig: number, force: boolean): boolean =>
  !sigismember(t.blocked, sig) && sigTaskIgnored(t, sig, force)

/**
 * prepare_signal(): the side effects of generating `sig` (a stop signal
 * discards pending SIGCONT; SIGCONT discards pending stop signals and
 * resumes a stopped process), and whether to queue it at all.
 */
const prepareSignal = (p: Task, sig: number, force: boolean): boolean => {
  const signal = p.signal
  if ((signal.flags & SIGNAL_GROUP_EXIT) !== 0) return false
  if (sigKernelStop(sig)) {
    const flush = sigmask(SIGCONT)
    signal.shared.flush(flush)
    for (const t of signal.threads) t.pending.flush(flush)
  } else if (sig === SIGCONT) {
    signal.shared.flush(SIG_KERNEL_STOP_MASK)
    for (const t of signal.threads) {
      t.pending.flush(SIG_KERNEL_STOP_MASK)
      t.jobctl &= ~JOBCTL_STOP_PENDING
      p.kernel.wakeChan(t, "stopped")
    }
    let why = 0
    if ((signal.flags & SIGNAL_STOP_STOPPED) !== 0) why = SIGNAL_CLD_CONTINUED
    else if (signal.groupStopCount !== 0) why = SIGNAL_CLD_STOPPED
    if (why !== 0) {
      signal.flags = why | SIGNAL_STOP_CONTINUED
      signal.groupStopCount = 0
      signal.groupExitCode = 0
    }
  }
  return !sigIgnored(p, sig, force)
}

/** wants_signal(). */
const wantsSignal = (sig: number, t: Task): boolean => {
  if (sigismember(t.blocked, sig)) return false
  if ((t.flags & PF_EXITING) !== 0) return false
  if (sig === SIGKILL) return true
  if (t.sched === "blocked" && t.chan === "stopped") return false
  return true
}

/** signal_wake_up(): wake a thread sleeping interruptibly; a fatal signal also wakes stopped and killable sleeps. */
export const signalWakeUp = (t: Task, fatal: boolean): void => {
  if (t.sched !== "blocked") return
  const chan = t.chan
  if (chan === "child" || chan === "pause" || chan === "sleep" || chan === "poll" || chan === "pipe") t.kernel.wakeUp(t)
  else if (fatal && (chan === "stopped" || chan === "vfork" || chan === "exec")) t.kernel.wakeUp(t)
}

/** sig_fatal(): the default action of `sig` kills the process. */
const sigFatal = (t: Task, sig: number): boolean =>
  !sigKernelIgnore(sig) && !sigKernelStop(sig) && t.sighand.action(sig).handler === SIG_DFL

/**
 * complete_signal(): pick a thread to handle the signal and wake it; a
 * fatal signal nobody blocks kills the whole group right away.
 */
const completeSignal = (sig: number, p: Task, type: PidType): void => {
  const signal = p.signal
  let t: Task | undefined
  if (wantsSignal(sig, p)) t = p
  else if (type === "pid" || p.threadGroupEmpty) return
  else {
    for (const th of signal.threads) {
      if (wantsSignal(sig, th)) {
        t = th
        break
      }
    }
    if (t === undefined) return
  }
  if (sigFatal(p, sig) && (signal.flags & SIGNAL_GROUP_EXIT) === 0 && !sigismember(t.blocked, sig)) {
    signal.flags = SIGNAL_GROUP_EXIT
    signal.groupExitCode = sig
    signal.groupStopCount = 0
    for (const th of signal.threads) {
      th.jobctl &= ~JOBCTL_STOP_PENDING
      th.pending.set |= sigmask(SIGKILL)
      signalWakeUp(th, true)
    }
    return
  }
  signalWakeUp(t, sig === SIGKILL)
}

/**
 * __send_signal_locked(): queue `sig` on the thread (`type` "pid") or the
 * process, unless prepare_signal() drops it. `force` says the sender is in
 * an ancestor PID namespace or is the kernel (a namespace's init then gets
 * SIGKILL and SIGSTOP even without a handler).
 */
export const sendSignalLocked = (sig: number, info: SigInfo, t: Task, type: PidType, force: boolean): void => {
  if (!prepareSignal(t, sig, force)) return
  const pending = type === "pid" ? t.pending : t.signal.shared
  pending.add(info, sig >= 32, sigmask(sig))
  completeSignal(sig, t, type)
}

/** The sender of a signal from a task, or undefined for the kernel. */
export type Sender = Task | undefined

/** The siginfo kill(2) makes (SI_USER, or SI_TKILL), with the sender's ids as the target sees them. */
const userInfo = (sig: number, code: number, sender: Sender, t: Task): SigInfo =>
  sender === undefined
    ? { signo: sig, code: SI_KERNEL, pid: 0, uid: 0, status: 0 }
    : {
        signo: sig,
        code,
        pid: sender.tgidIn(t.activePidNs),
        uid: fromKuidMunged(t.cred.userNs, sender.cred.uid),
        status: 0
      }

/** Force: sent by the kernel, or from a namespace the target's active namespace cannot see. */
const forceFor = (sender: Sender, t: Task): boolean => sender === undefined || sender.tgidIn(t.activePidNs) === 0

/** kill_ok_by_cred(): same user, or CAP_KILL over the target's user namespace. */
const killOkByCred = (sender: Task, t: Task): boolean => {
  const c = sender.cred
  const tc = t.cred
  return c.euid === tc.suid || c.euid === tc.uid || c.uid === tc.suid || c.uid === tc.uid || nsCapable(c, tc.userNs, CAP_KILL)
}

/**
 * check_kill_permission(): EINVAL for a bad signal, EPERM across users
 * without CAP_KILL (SIGCONT is allowed within a session), and what the
 * security hooks say.
 */
export const checkKillPermission = (sig: number, sender: Sender, t: Task, syscall: string): SysError | undefined => {
  if (!validSignal(sig)) return sysError("EINVAL", syscall, "invalid signal")
  if (sender === undefined) return undefined
  if (sender.signal !== t.signal && !killOkByCred(sender, t)) {
    if (!(sig === SIGCONT && t.signal.session === sender.signal.session)) return sysError("EPERM", syscall)
  }
  for (const h of t.kernel.securityHooks) {
    const denied = h.taskKill?.(t, userInfo(sig, SI_USER, sender, t), sig, sender)
    if (denied !== undefined) return denied
  }
  return undefined
}

/** group_send_sig_info(): permission check, then the signal (signal 0 only checks). */
export const groupSendSigInfo = (sig: number, sender: Sender, t: Task, type: PidType, syscall = "kill"): SysError | undefined => {
  const err = checkKillPermission(sig, sender, t, syscall)
  if (err !== undefined || sig === 0) return err
  sendSignalLocked(sig, userInfo(sig, type === "pid" ? SI_TKILL : SI_USER, sender, t), t, type, forceFor(sender, t))
  return undefined
}

/** A signal from the kernel (SEND_SIG_PRIV) to a whole process. */
export const sigqueueKill = (t: Task, sig: number): void =>
  sendSignalLocked(sig, { signo: sig, code: SI_KERNEL, pid: 0, uid: 0, status: 0 }, t, "tgid", true)

/**
 * Kill a whole process no matter what it ignores (the kernel's own
 * shutdown, which Linux does not have: its init cannot be killed).
 */
export const forceKill = (p: Task): void => {
  const signal = p.signal
  if ((signal.flags & SIGNAL_GROUP_EXIT) !== 0) return
  signal.flags = SIGNAL_GROUP_EXIT
  signal.groupExitCode = SIGKILL
  signal.groupStopCount = 0
  for (const th of signal.threads) {
    th.jobctl &= ~JOBCTL_STOP_PENDING
    th.pending.set |= sigmask(SIGKILL)
    signalWakeUp(th, true)
  }
}

/** __kill_pgrp_info(): every process in the group; 0 if any got it, else the last error. */
export const killPgrpInfo = (sig: number, sender: Sender, pgrp: Pid | undefined, syscall = "kill"): SysError | undefined => {
  let success = false
  let last: SysError | undefined = sysError("ESRCH", syscall)
  if (pgrp?.pgrp !== undefined) {
    for (const p of [...pgrp.pgrp]) {
      const err = groupSendSigInfo(sig, sender, p, "tgid", syscall)
      if (err === undefined) success = true
      last = err
    }
  }
  return success ? undefined : last
}

/**
 * kill_something_info(), kill(2): pid > 0 one process, 0 the caller's
 * process group, -1 every process the caller may signal except init and
 * itself, < -1 the process group -pid.
 */
export const killSomething = (sender: Task, pid: number, sig: number): SysError | undefined => {
  const ns = sender.activePidNs
  if (pid > 0) {
    const p = ns.findPid(pid)
    const t = p?.task
    if (t === undefined) return sysError("ESRCH", "kill")
    // a thread's tid names its whole process; that thread is tried first
    return groupSendSigInfo(sig, sender, t, "tgid")
  }
  if (pid === -2147483648) return sysError("ESRCH", "kill")
  if (pid !== -1) return killPgrpInfo(sig, sender, pid === 0 ? sender.signal.pgrp : ns.findPid(-pid))
  let count = 0
  let retval: SysError | undefined
  for (const p of [...ns.idr.values()]) {
    const t = p?.leader
    if (t === undefined || t.pidIn(ns) <= 1 || t.signal === sender.signal) continue
    const err = groupSendSigInfo(sig, sender, t, "tgid")
    count++
    if (err?.errno !== "EPERM") retval = err
  }
  return count > 0 ? retval : sysError("ESRCH", "kill")
}

/** do_tkill(), tgkill(2)/tkill(2): a signal to one thread; tgid -1 skips the group check (tkill). */
export const doTkill = (sender: Task, tgid: number, tid: number, sig: number, syscall: string): SysError | undefined => {
  if (tid <= 0 || (syscall === "tgkill" && tgid <= 0)) return sysError("EINVAL", syscall)
  const ns = sender.activePidNs
  const t = ns.findTask(tid)
  if (t === undefined || (tgid > 0 && t.tgidIn(ns) !== tgid)) return sysError("ESRCH", syscall)
  return groupSendSigInfo(sig, sender, t, "pid", syscall)
}

/** do_notify_parent_cldstop(): tell the parent a child stopped or continued (SIGCHLD unless SA_NOCLDSTOP), and wake it. */
export const doNotifyParentCldstop = (tsk: Task, why: number): void => {
  const leader = tsk.groupLeader
  const parent = leader.realParent
  if (parent === undefined) return
  const info: SigInfo = {
    signo: SIGCHLD,
    code: why,
    pid: leader.pidIn(parent.activePidNs),
    uid: fromKuidMunged(parent.cred.userNs, tsk.cred.uid),
    status: why === CLD_CONTINUED ? SIGCONT : tsk.signal.groupExitCode
  }
  const act = parent.sighand.action(SIGCHLD)
  if (act.handler !== SIG_IGN && (act.flags & SA_NOCLDSTOP) === 0) sendSignalLocked(SIGCHLD, info, parent, "tgid", false)
  wakeUpParent(leader, parent)
}

/** __wake_up_parent(): wake the threads of `parent` waiting in wait() for which `child` is eligible. */
export const wakeUpParent = (child: Task, parent: Task): void => {
  for (const t of parent.signal.threads) {
    if (t.sched === "blocked" && t.chan === "child" && (t.waitFilter === undefined || t.waitFilter(child))) t.kernel.wakeUp(t)
  }
}

/** signal_pending() for this simulation: something get_signal() must look at. */
export const signalPending = (t: Task): boolean =>
  ((t.pending.set | t.signal.shared.set) & ~t.blocked) !== 0n ||
  (t.jobctl & JOBCTL_STOP_PENDING) !== 0 ||
  (t.signal.flags & (SIGNAL_GROUP_EXIT | SIGNAL_CLD_MASK)) !== 0

/** What get_signal() did: how many handlers ran, and whether they all had SA_RESTART. */
export interface Delivered {
  readonly handled: number
  readonly restart: boolean
}

const NOTHING: Delivered = Object.freeze({ handled: 0, restart: true })

/**
 * task_participate_group_stop(): this thread stops; true when it was the
 * last one, so the group is now stopped.
 */
const participateGroupStop = (t: Task): boolean => {
  const sig = t.signal
  if ((t.jobctl & JOBCTL_STOP_PENDING) === 0) return false
  t.jobctl &= ~JOBCTL_STOP_PENDING
  if (sig.groupStopCount > 0) sig.groupStopCount--
  if (sig.groupStopCount === 0) {
    sig.flags = SIGNAL_STOP_STOPPED
    return true
  }
  return false
}

/** is_current_pgrp_orphaned(): no member has a parent in another group of the same session. */
export const willBecomeOrphanedPgrp = (pgrp: Pid, ignored: Task | undefined): boolean => {
  for (const p of pgrp.pgrp ?? []) {
    const parent = p.realParent
    if (p === ignored || p.exitState.tag !== "running" || parent === undefined || isGlobalInit(parent)) continue
    if (parent.signal.pgrp !== pgrp && parent.signal.session === p.signal.session) return false
  }
  return true
}

/**
 * kill_orphaned_pgrp(): when `tsk` leaving makes its process group
 * orphaned and a member is stopped, the group gets SIGHUP then SIGCONT.
 */
export const killOrphanedPgrp = (tsk: Task, parent: Task | undefined): void => {
  const pgrp = tsk.signal.pgrp
  let ignored: Task | undefined = tsk
  if (parent === undefined) parent = tsk.realParent
  else ignored = undefined
  if (parent === undefined) return
  if (parent.signal.pgrp === pgrp || parent.signal.session !== tsk.signal.session) return
  if (!willBecomeOrphanedPgrp(pgrp, ignored)) return
  let stopped = false
  for (const p of pgrp.pgrp ?? []) if ((p.signal.flags & SIGNAL_STOP_STOPPED) !== 0) stopped = true
  if (!stopped) return
  killPgrpInfo(SIGHUP, undefined, pgrp)
  killPgrpInfo(SIGCONT, undefined, pgrp)
}

/**
 * do_signal_stop(): start or join a group stop; every thread stops, the
 * last one tells the parent (CLD_STOPPED). The thread sleeps until
 * SIGCONT or SIGKILL.
 */
const doSignalStop = Effect.fnUntraced(function* (t: Task, signr: number) {
  const sig = t.signal
  if ((t.jobctl & JOBCTL_STOP_PENDING) === 0) {
    if ((sig.flags & SIGNAL_STOP_STOPPED) === 0) sig.groupExitCode = signr
    sig.groupStopCount = 0
    for (const th of sig.threads) {
      if ((th.flags & PF_EXITING) !== 0 || th.exitState.tag !== "running") continue
      th.jobctl |= JOBCTL_STOP_PENDING
      sig.groupStopCount++
      if (th !== t) signalWakeUp(th, false)
    }
  }
  if (participateGroupStop(t)) doNotifyParentCldstop(t, CLD_STOPPED)
  yield* t.kernel.park(t, "stopped")
})

/**
 * get_signal() with the handler calls of handle_signal(): report a
 * continue/stop to the parent, take part in a group stop, then dequeue
 * every unblocked signal: ignore it, run its handler (with sa_mask and the
 * signal itself blocked meanwhile, SA_RESETHAND honoured), stop, or die.
 * Dying does not return: the task exits and its fiber is interrupted.
 */
export const getSignal = Effect.fnUntraced(function* (t: Task) {
  let handled = 0
  let restart = true
  for (;;) {
    const signal = t.signal
    if ((signal.flags & SIGNAL_CLD_MASK) !== 0) {
      const why = (signal.flags & SIGNAL_CLD_CONTINUED) !== 0 ? CLD_CONTINUED : CLD_STOPPED
      signal.flags &= ~SIGNAL_CLD_MASK
      doNotifyParentCldstop(t, why)
    }
    if ((t.jobctl & JOBCTL_STOP_PENDING) !== 0) {
      if (participateGroupStop(t)) doNotifyParentCldstop(t, CLD_STOPPED)
      yield* t.kernel.park(t, "stopped")
      continue
    }
    if ((signal.flags & SIGNAL_GROUP_EXIT) !== 0) {
      t.pending.set &= ~sigmask(SIGKILL)
      yield* doGroupExit(t, SIGKILL)
      return yield* Effect.interrupt
    }
    const mask = ~t.blocked
    let sig = firstSignal(t.pending.set & mask)
    let info: SigInfo | undefined
    if (sig !== 0) info = t.pending.take(sig, sigmask(sig))
    else {
      sig = firstSignal(signal.shared.set & mask)
      if (sig === 0) return handled === 0 ? NOTHING : { handled, restart }
      info = signal.shared.take(sig, sigmask(sig))
    }
    info ??= { signo: sig, code: SI_USER, pid: 0, uid: 0, status: 0 }
    const act = t.sighand.action(sig)
    if (act.handler === SIG_IGN) continue
    if (isHandler(act.handler)) {
      if ((act.flags & SA_RESETHAND) !== 0) t.sighand.setAction(sig, DEFAULT_ACTION)
      const saved = t.blocked
      t.blocked = setBlockable(saved | act.mask | ((act.flags & SA_NODEFER) !== 0 ? 0n : sigmask(sig)))
      yield* act.handler(sig, info, t.process)
      t.blocked = saved
      handled++
      if ((act.flags & SA_RESTART) === 0) restart = false
      continue
    }
    if (sigKernelIgnore(sig)) continue
    // a namespace's init dies only of SIGKILL/SIGSTOP sent from outside
    if ((signal.flags & SIGNAL_UNKILLABLE) !== 0 && !sigKernelOnly(sig)) continue
    if (sigKernelStop(sig)) {
      if (sig !== SIGSTOP && willBecomeOrphanedPgrp(signal.pgrp, undefined)) continue
      yield* doSignalStop(t, sig)
      continue
    }
    t.flags |= PF_SIGNALED
    yield* doGroupExit(t, sig)
    return yield* Effect.interrupt
  }
})

/** Strip SIGKILL and SIGSTOP, which are never blocked. */
export const setBlockable = (set: SigSet): SigSet => set & ~SIG_KERNEL_ONLY_MASK

/** sigprocmask(2): EINVAL for an unknown `how`; returns the old mask. */
export const sigprocmask = (t: Task, how: number, set: SigSet | undefined): SigSet | SysError => {
  const old = t.blocked
  if (set === undefined) return old
  if (how === SIG_BLOCK) t.blocked = setBlockable(old | set)
  else if (how === SIG_UNBLOCK) t.blocked = setBlockable(old & ~set)
  else if (how === SIG_SETMASK) t.blocked = setBlockable(set)
  else return sysError("EINVAL", "rt_sigprocmask")
  return old
}

/**
 * do_sigaction(): EINVAL for an invalid signal and for changing SIGKILL or
 * SIGSTOP. Setting a disposition that ignores the signal discards it from
 * every pending set (POSIX). Returns the old action.
 */
export const doSigaction = (t: Task, sig: number, act: SigAction | undefined): SigAction | SysError => {
  if (!Number.isInteger(sig) || sig < 1 || sig > _NSIG || (act !== undefined && sigKernelOnly(sig))) {
    return sysError("EINVAL", "rt_sigaction")
  }
  const old = t.sighand.action(sig)
  if (act === undefined) return old
  const k: SigAction = { handler: act.handler, flags: act.flags, mask: setBlockable(act.mask) }
  t.sighand.setAction(sig, k)
  if (sigHandlerIgnored(k, sig)) {
    const m = sigmask(sig)
    t.signal.shared.flush(m)
    for (const th of t.signal.threads) th.pending.flush(m)
  }
  return old
}
