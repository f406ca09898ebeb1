import {
  PR_GET_CHILD_SUBREAPER,
  PR_GET_NAME,
  PR_GET_PDEATHSIG,
  PR_SET_CHILD_SUBREAPER,
  PR_SET_NAME,
  PR_SET_PDEATHSIG,
  sysError,
  type SysError
} from "@simkernel/abi"
import type { Pid } from "./Pid.js"
import { freePid } from "./PidNamespace.js"
import { validSignal } from "./sigset.js"
import { PF_FORKNOEXEC, type Task } from "./Task.js"

/** change_pid(PIDTYPE_PGID or SID): move a process to another group or session, freeing the old pid if unused. */
const changePid = (p: Task, type: "pgrp" | "session", to: Pid): void => {
  const sig = p.signal
  const from = sig[type]
  if (from === to) return
  from[type]?.delete(p)
  sig[type] = to
  ;(to[type] ??= new Set()).add(p)
  if (!from.inUse) freePid(from)
}

/**
 * setpgid(2): `pid` 0 is the caller, `pgid` 0 is `pid`. EINVAL for a
 * negative pgid or a non-leader thread; ESRCH when the process is neither
 * the caller nor its child; EPERM for a child in another session, a
 * session leader, or a group that does not exist in the caller's session;
 * EACCES for a child that has exec'd.
 */
export const setpgid = (current: Task, pid: number, pgid: number): SysError | undefined => {
  const ns = current.activePidNs
  const leader = current.groupLeader
  if (pid === 0) pid = leader.pidIn(ns)
  if (pgid === 0) pgid = pid
  if (pgid < 0) return sysError("EINVAL", "setpgid")
  const p = ns.findTask(pid)
  if (p === undefined) return sysError("ESRCH", "setpgid")
  if (!p.isLeader) return sysError("EINVAL", "setpgid")
  if (p.realParent !== undefined && p.realParent.signal === leader.signal) {
    if (p.signal.session !== leader.signal.session) return sysError("EPERM", "setpgid")
    if ((p.flags & PF_FORKNOEXEC) === 0) return sysError("EACCES", "setpgid")
  } else if (p !== leader) {
    return sysError("ESRCH", "setpgid")
  }
  if (p.signal.leader) return sysError("EPERM", "setpgid")
  let pgrp = p.pid
  if (pgid !== pid) {
    const found = ns.findPid(pgid)
    let g: Task | undefined
    for (const m of found?.pgrp ?? []) {
      g = m
      break
    }
    if (found === undefined || g === undefined || g.signal.session !== leader.signal.session) return sysError("EPERM", "setpgid")
    pgrp = found
  }
  changePid(p, "pgrp", pgrp)
  return undefined
}

const lookup = (current: Task, pid: number, syscall: string): Task | SysError => {
  if (pid === 0) return current
  const p = current.activePidNs.findTask(pid)
  return p ?? sysError("ESRCH", syscall)
}

/** getpgid(2): the process group of `pid` (0: the caller) as the caller sees it; ESRCH. */
export const getpgid = (current: Task, pid: number): number | SysError => {
  const p = lookup(current, pid, "getpgid")
  if (p instanceof Error) return p
  return pidVnr(current, p.signal.pgrp)
}

/** getsid(2): the session of `pid` (0: the caller); ESRCH. */
export const getsid = (current: Task, pid: number): number | SysError => {
  const p = lookup(current, pid, "getsid")
  if (p instanceof Error) return p
  return pidVnr(current, p.signal.session)
}

const pidVnr = (current: Task, pid: Pid): number => {
  const ns = current.activePidNs
  return ns.level <= pid.level && pid.nss[ns.level] === ns ? pid.nrs[ns.level]! : 0
}

/**
 * setsid(2): a new session and process group named after the caller.
 * EPERM when the caller is already a session leader or its pid names an
 * existing process group.
 */
export const setsid = (current: Task): number | SysError => {
  const leader = current.groupLeader
  const sid = leader.pid
  if (leader.signal.leader) return sysError("EPERM", "setsid")
  if (sid.pgrp !== undefined && sid.pgrp.size > 0) return sysError("EPERM", "setsid")
  leader.signal.leader = true
  changePid(leader, "session", sid)
  changePid(leader, "pgrp", sid)
  return pidVnr(current, sid)
}

/**
 * The process prctl(2) options: PR_SET/GET_PDEATHSIG (EINVAL for a bad
 * signal), PR_SET/GET_CHILD_SUBREAPER (setting it marks every descendant
 * as having a subreaper), PR_SET/GET_NAME. Others: EINVAL.
 */
export const prctl = (current: Task, option: number, arg2: number | string): number | string | SysError => {
  switch (option) {
    case PR_SET_PDEATHSIG:
      if (typeof arg2 !== "number" || !validSignal(arg2)) return sysError("EINVAL", "prctl")
      current.pdeathSignal = arg2
      return 0
    case PR_GET_PDEATHSIG:
      return current.pdeathSignal
    case PR_SET_CHILD_SUBREAPER: {
      const on = arg2 !== 0
      current.signal.isChildSubreaper = on
      if (on) propagateHasChildSubreaper(current)
      return 0
    }
    case PR_GET_CHILD_SUBREAPER:
      return current.signal.isChildSubreaper ? 1 : 0
    case PR_SET_NAME:
      current.comm = String(arg2).slice(0, 15)
      return 0
    case PR_GET_NAME:
      return current.comm
    default:
      return sysError("EINVAL", "prctl", "unsupported option")
  }
}

/** walk_process_tree(propagate_has_child_subreaper). */
const propagateHasChildSubreaper = (top: Task): void => {
  const stack: Array<Task> = []
  for (const t of top.signal.threads) for (const c of t.children ?? []) stack.push(c)
  while (stack.length > 0) {
    const p = stack.pop()!
    if (p.signal.hasChildSubreaper) continue
    p.signal.hasChildSubreaper = true
    for (const t of p.signal.threads) for (const c of t.children ?? []) stack.push(c)
  }
}
