import { CLD_DUMPED, CLD_EXITED, CLD_KILLED, CLD_STOPPED, SA_NOCLDWAIT, SIG_IGN, SIGCHLD, SIGKILL } from "@simkernel/abi"
import { fromKuidMunged } from "@simkernel/cred"
import { switchTaskNamespaces } from "@simkernel/nsproxy"
import { Effect } from "effect"
import type { Pid } from "./Pid.js"
import { freePid, type PidNamespace } from "./PidNamespace.js"
import {
  doNotifyParentCldstop,
  groupSendSigInfo,
  killOrphanedPgrp,
  sendSignalLocked,
  signalWakeUp,
  sigqueueKill,
  wakeUpParent
} from "./signal.js"
import type { SigInfo } from "./signal-types.js"
import { sigmask, validSignal } from "./sigset.js"
import {
  DEAD,
  JOBCTL_STOP_PENDING,
  PF_EXITING,
  SIGNAL_GROUP_EXIT,
  SIGNAL_STOP_STOPPED,
  type Task,
  ZOMBIE
} from "./Task.js"

/** zap_other_threads(): SIGKILL to every other thread of the group. */
const zapOtherThreads = (p: Task): void => {
  p.signal.groupStopCount = 0
  for (const t of p.signal.threads) {
    if (t === p) continue
    t.jobctl &= ~JOBCTL_STOP_PENDING
    if (t.exitState.tag !== "running") continue
    t.pending.set |= sigmask(SIGKILL)
    signalWakeUp(t, true)
  }
}

/**
 * do_group_exit(): the whole process exits with `code` (a wait status), or
 * with the code of a group exit already under way; the other threads are
 * killed. Blocks only when the exiting task is a PID namespace's init
 * (zapPidNsProcesses()).
 */
export const doGroupExit = (t: Task, code: number): Effect.Effect<void> => {
  const sig = t.signal
  if ((sig.flags & SIGNAL_GROUP_EXIT) !== 0) code = sig.groupExitCode
  else if (sig.groupExecTask !== undefined && sig.groupExecTask !== t) code = 0
  else {
    sig.groupExitCode = code
    sig.flags = SIGNAL_GROUP_EXIT
    zapOtherThreads(t)
  }
  return doExit(t, code)
}

/**
 * do_exit(): a thread ends. It leaves a group stop, drops its files, fs
 * and namespaces, runs the exit hooks, and hands its children on and tells
 * its parent (exitNotify()).
 */
export const doExit = (t: Task, code: number): Effect.Effect<void> => {
  if ((t.flags & PF_EXITING) !== 0) return Effect.void
  t.flags |= PF_EXITING
  // exit_signals(): a thread leaving a group stop may complete it
  const sig = t.signal
  if ((t.jobctl & JOBCTL_STOP_PENDING) !== 0) {
    t.jobctl &= ~JOBCTL_STOP_PENDING
    if (sig.groupStopCount > 0 && --sig.groupStopCount === 0) {
      sig.flags = SIGNAL_STOP_STOPPED
      doNotifyParentCldstop(t, CLD_STOPPED)
    }
  }
  t.exitCode = code
  const groupDead = --sig.live === 0
  t.stime += t.kernel.syscallCost
  if (t.files !== undefined) {
    t.files.put()
    t.files = undefined
  }
  if (t.fs !== undefined) {
    t.fs.put()
    t.fs = undefined
  }
  switchTaskNamespaces(t, undefined)
  for (const h of t.kernel.taskHooks) h.onExit?.(t)
  const zap = exitNotify(t, groupDead)
  if (zap === undefined) {
    exitDone(t)
    return Effect.void
  }
  return Effect.map(zap, () => exitDone(t))
}

/** The end of do_exit() after exit_notify(): wake a vfork parent and an execve(2) waiting for the other threads. */
const exitDone = (t: Task): void => {
  const parent = t.vforkParent
  if (parent !== undefined) {
    t.vforkParent = undefined
    t.kernel.wakeChan(parent, "vfork")
  }
  // de_thread() in execve(2) waits for the other threads to go
  const execer = t.signal.groupExecTask
  if (execer !== undefined && execer !== t) t.kernel.wakeChan(execer, "exec")
  if (t === t.kernel.initTask) t.kernel.initExited(t)
}

/**
 * do_notify_parent(): SIGCHLD (or the exit signal) to the parent with
 * CLD_EXITED/CLD_KILLED and the status, and wake its waiters. Returns true
 * when the child is to be reaped at once because the parent ignores
 * SIGCHLD (SIG_IGN, or SA_NOCLDWAIT; with SIG_IGN no signal is sent).
 */
export const doNotifyParent = (tsk: Task, sig: number): boolean => {
  const parent = tsk.parent
  if (parent === undefined) return false
  tsk.pid.notifyPollers()
  const code = tsk.exitCode
  const info: SigInfo = {
    signo: sig,
    code: (code & 0x80) !== 0 ? CLD_DUMPED : (code & 0x7f) !== 0 ? CLD_KILLED : CLD_EXITED,
    pid: tsk.pidIn(parent.activePidNs),
    uid: fromKuidMunged(parent.cred.userNs, tsk.cred.uid),
    status: (code & 0x7f) !== 0 ? code & 0x7f : code >> 8
  }
  let autoreap = false
  const act = parent.sighand.action(SIGCHLD)
  if (sig === SIGCHLD && (act.handler === SIG_IGN || (act.flags & SA_NOCLDWAIT) !== 0)) {
    autoreap = true
    if (act.handler === SIG_IGN) sig = 0
  }
  if (sig > 0 && validSignal(sig)) sendSignalLocked(sig, info, parent, "tgid", false)
  wakeUpParent(tsk, parent)
  return autoreap
}

/** find_alive_thread(): a thread of `p`'s group that is not exiting. */
const findAliveThread = (p: Task): Task | undefined => {
  for (const t of p.signal.threads) if ((t.flags & PF_EXITING) === 0) return t
  return undefined
}

/**
 * find_child_reaper(): the init of `father`'s namespace, or, when father is
 * that init, another of its threads. Undefined when father is that init's
 * last thread: the namespace must die first (zapPidNsProcesses()), and
 * father itself stays the reaper.
 */
const findChildReaper = (father: Task): { readonly reaper: Task | undefined } | undefined => {
  const ns = father.activePidNs
  const reaper = ns.childReaper
  if (reaper !== father) return { reaper }
  const alive = findAliveThread(father)
  if (alive === undefined) return undefined
  ns.childReaper = alive
  return { reaper: alive }
}

/**
 * find_new_reaper(): a live thread of father's group, else the nearest
 * PR_SET_CHILD_SUBREAPER ancestor in the same PID namespace, else the
 * namespace's init.
 */
const findNewReaper = (father: Task, childReaper: Task | undefined): Task | undefined => {
  const thread = findAliveThread(father)
  if (thread !== undefined) return thread
  if (father.signal.hasChildSubreaper) {
    const level = father.pid.level
    for (let r = father.realParent; r !== undefined && r.pid.level === level; r = r.realParent) {
      if (r === r.kernel.initTask) break
      if (!r.signal.isChildSubreaper) continue
      const alive = findAliveThread(r)
      if (alive !== undefined) return alive
    }
  }
  return childReaper
}

/**
 * reparent_leader(): an orphan now reports to the reaper with SIGCHLD; a
 * zombie orphan is announced to it at once (and reaped if it ignores
 * SIGCHLD).
 */
const reparentLeader = (father: Task, p: Task, dead: Array<Task>): void => {
  if (p.exitState === DEAD) return
  p.exitSignal = SIGCHLD
  if (p.exitState === ZOMBIE && p.threadGroupEmpty) {
    if (doNotifyParent(p, p.exitSignal)) {
      p.exitState = DEAD
      dead.push(p)
    }
  }
  killOrphanedPgrp(p, father)
}

/**
 * forget_original_parent(): `father`'s children go to the new reaper, each
 * thread with a PR_SET_PDEATHSIG getting its signal.
 */
const forgetOriginalParent = (father: Task, childReaper: Task | undefined, dead: Array<Task>): void => {
  const children = father.children
  if (children === undefined || children.size === 0) return
  const reaper = findNewReaper(father, childReaper)
  father.children = undefined
  if (reaper === undefined) return
  const into = (reaper.children ??= new Set())
  for (const p of children) {
    for (const t of p.signal.threads) {
      t.realParent = reaper
      t.parent = reaper
      if (t.pdeathSignal !== 0) groupSendSigInfo(t.pdeathSignal, father, t, "tgid")
    }
    if (reaper.signal !== father.signal) reparentLeader(father, p, dead)
    into.add(p)
  }
}

/**
 * exit_notify(): give the children away, kill an orphaned stopped process
 * group, become a zombie and tell the parent, or be reaped at once (a
 * thread, or a child whose parent ignores SIGCHLD). Only the last thread
 * of a namespace's init has to wait (until the namespace is empty): it
 * gets the Effect that waits and finishes; every other exit is done on
 * return (undefined), without an Effect per exiting task.
 */
const exitNotify = (tsk: Task, groupDead: boolean): Effect.Effect<void> | undefined => {
  const found = findChildReaper(tsk)
  if (found === undefined) {
    return Effect.andThen(
      zapPidNsProcesses(tsk.activePidNs, tsk),
      Effect.sync(() => exitNotifyLocked(tsk, groupDead, tsk))
    )
  }
  exitNotifyLocked(tsk, groupDead, found.reaper)
  return undefined
}

/** exit_notify() once the child reaper is known. */
const exitNotifyLocked = (tsk: Task, groupDead: boolean, childReaper: Task | undefined): void => {
  const dead: Array<Task> = []
  forgetOriginalParent(tsk, childReaper, dead)
  if (groupDead) killOrphanedPgrp(tsk.groupLeader, undefined)
  tsk.exitState = ZOMBIE
  let autoreap: boolean
  if (!tsk.threadGroupEmpty) tsk.pid.notifyPollers()
  if (tsk.isLeader) autoreap = tsk.threadGroupEmpty && doNotifyParent(tsk, tsk.exitSignal)
  else autoreap = true
  if (autoreap) {
    tsk.exitState = DEAD
    dead.push(tsk)
  }
  for (const p of dead) releaseTask(p)
}

/** detach_pid(): the pid loses a user; free it when it has none left. */
const maybeFree = (pid: Pid): void => {
  if (!pid.inUse) freePid(pid)
}

/**
 * release_task(): the last of a task. It leaves its thread group and its
 * parent's children, its pids are freed when unused, the CPU time goes to
 * the group, and a zombie leader whose last thread this was is reported
 * (and reaped, if its parent ignores SIGCHLD).
 */
export const releaseTask = (p: Task): void => {
  for (;;) {
    const leader = p.groupLeader
    const sig = p.signal
    const threads = sig.threads
    const i = threads.indexOf(p)
    if (i >= 0) threads.splice(i, 1)
    sig.utime += p.utime
    sig.stime += p.stime
    const pid = p.pid
    pid.task = undefined
    p.exitState = DEAD
    if (p === leader) {
      pid.leader = undefined
      sig.pgrp.pgrp?.delete(p)
      sig.session.session?.delete(p)
      p.realParent?.children?.delete(p)
      maybeFree(sig.pgrp)
      maybeFree(sig.session)
    }
    maybeFree(pid)
    pid.notifyPollers()
    p.sighand.users--
    let zapLeader = false
    if (leader !== p && leader.threadGroupEmpty && leader.exitState === ZOMBIE) {
      zapLeader = doNotifyParent(leader, leader.exitSignal)
      if (zapLeader) leader.exitState = DEAD
    }
    p.put()
    if (!zapLeader) return
    p = leader
  }
}

/**
 * zap_pid_ns_processes(): the init of `ns` is exiting. No more pids are
 * handed out, SIGKILL goes to every process in the namespace, init's
 * zombie children are reaped (later ones reap themselves: init now
 * ignores SIGCHLD), and init waits until only its own pids are left.
 */
export const zapPidNsProcesses = Effect.fnUntraced(function* (ns: PidNamespace, me: Task) {
  ns.disablePidAllocation()
  me.sighand.setAction(SIGCHLD, { handler: SIG_IGN, flags: 0, mask: 0n })
  // sending SIGKILL frees no pid (the killed run later), so the idr can be walked in place
  for (const [nr, pid] of ns.idr) {
    if (nr < 2 || pid === null) continue
    const task = pid.task
    if (task !== undefined && (task.flags & PF_EXITING) === 0 && (task.signal.flags & SIGNAL_GROUP_EXIT) === 0) {
      sigqueueKill(task, SIGKILL)
    }
  }
  for (const t of me.signal.threads) {
    // releaseTask() deletes only the child being visited from the set, which leaves the walk intact
    for (const c of t.children ?? []) if (c.exitState === ZOMBIE && c.threadGroupEmpty) releaseTask(c)
  }
  const initPids = me.isLeader ? 1 : 2
  while (ns.pidAllocated > initPids) yield* me.kernel.park(me, "pidns")
  if (ns.reboot !== 0) me.signal.groupExitCode = ns.reboot
})
