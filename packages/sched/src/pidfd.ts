import {
  CAP_SYS_PTRACE,
  O_EXCL,
  PIDFD_NONBLOCK,
  PIDFD_SIGNAL_PROCESS_GROUP,
  PIDFD_SIGNAL_THREAD,
  PIDFD_SIGNAL_THREAD_GROUP,
  PIDFD_THREAD,
  sysError,
  SysError
} from "@simkernel/abi"
import { isDumpabilityChanged, nsCapable } from "@simkernel/cred"
import { setnsPidfd } from "@simkernel/nsproxy"
import { PidfdFile } from "./files.js"
import type { Pid } from "./Pid.js"
import { groupSendSigInfo, killPgrpInfo } from "./signal.js"
import type { Task } from "./Task.js"

/**
 * pidfd_open(2): a pidfd (always close-on-exec) for process `pid` as the
 * caller sees it. EINVAL for unknown flags, pid <= 0, or a pid that is not
 * a thread-group leader (without PIDFD_THREAD); ESRCH when there is no
 * such pid.
 */
export const pidfdOpen = (current: Task, pid: number, flags: number): number | SysError => {
  if ((flags & ~(PIDFD_NONBLOCK | PIDFD_THREAD)) !== 0) return sysError("EINVAL", "pidfd_open", "unknown flags")
  if (pid <= 0) return sysError("EINVAL", "pidfd_open")
  const p = current.activePidNs.findPid(pid)
  if (p === undefined) return sysError("ESRCH", "pidfd_open")
  const thread = (flags & PIDFD_THREAD) !== 0
  if (thread ? p.task === undefined : p.leader === undefined) return sysError("EINVAL", "pidfd_open", "not a thread-group leader")
  const files = current.files
  if (files === undefined) return sysError("EBADF", "pidfd_open")
  return current.kernel.fdAdapter.installPidfd(files, new PidfdFile(current.kernel.live, p, flags), true, current.cred)
}

/** pidfd_get_pid(): the Pid behind a pidfd (EBADF when `fd` is not open or not a pidfd). */
export const pidfdGet = (current: Task, fd: number, syscall: string): PidfdFile | SysError => {
  const files = current.files
  if (files === undefined || fd < 0) return sysError("EBADF", syscall)
  const f = current.kernel.fdAdapter.getPidfd(files, fd)
  return f instanceof Error ? sysError("EBADF", syscall, f.detail) : f
}

/** access_pidfd_pidns(): the pid lives in the caller's namespace or one below it. */
const accessPidfdPidns = (current: Task, pid: Pid): boolean => current.activePidNs.isAncestorOf(pid.ns)

/**
 * pidfd_send_signal(2): EINVAL for unknown flags or more than one scope
 * flag, EBADF for a bad fd, EINVAL when the process is outside the
 * caller's namespace, ESRCH when it has been reaped; then kill(2)'s rules.
 * The scope defaults to the thread for a PIDFD_THREAD pidfd, else the
 * process.
 */
export const pidfdSendSignal = (current: Task, fd: number, sig: number, flags: number): SysError | undefined => {
  const all = PIDFD_SIGNAL_THREAD | PIDFD_SIGNAL_THREAD_GROUP | PIDFD_SIGNAL_PROCESS_GROUP
  if ((flags & ~all) !== 0) return sysError("EINVAL", "pidfd_send_signal", "unknown flags")
  const scope = flags & all
  if ((scope & (scope - 1)) !== 0) return sysError("EINVAL", "pidfd_send_signal", "more than one scope")
  const f = pidfdGet(current, fd, "pidfd_send_signal")
  if (f instanceof Error) return f
  const pid = f.pid
  if (!accessPidfdPidns(current, pid)) return sysError("EINVAL", "pidfd_send_signal")
  if (scope === PIDFD_SIGNAL_PROCESS_GROUP) return killPgrpInfo(sig, current, pid, "pidfd_send_signal")
  const type = scope === PIDFD_SIGNAL_THREAD || (scope === 0 && (f.flags & O_EXCL) !== 0) ? "pid" : "tgid"
  const t = type === "pid" ? pid.task : (pid.leader ?? pid.task)
  if (t === undefined) return sysError("ESRCH", "pidfd_send_signal")
  return groupSendSigInfo(sig, current, type === "pid" ? t : t.groupLeader, type, "pidfd_send_signal")
}

/**
 * ptrace_may_access(PTRACE_MODE_READ_REALCREDS) as far as credentials go:
 * the same process, the same real/effective/saved ids, or CAP_SYS_PTRACE
 * over the target's user namespace.
 */
export const ptraceMayAccess = (caller: Task, target: Task): boolean => {
  if (caller.signal === target.signal) return true
  const c = caller.cred
  const tc = target.cred
  if (c.uid === tc.euid && c.uid === tc.suid && c.uid === tc.uid && c.gid === tc.egid && c.gid === tc.sgid && c.gid === tc.gid) return true
  return nsCapable(c, tc.userNs, CAP_SYS_PTRACE)
}

/**
 * setns(2) with a pidfd: enter the namespaces `flags` names of the process
 * behind the pidfd, all or none (nsproxy's setnsPidfd()). EBADF for a bad
 * fd, EINVAL for a file that is not a pidfd, ESRCH when the process has
 * exited, EPERM without ptrace access; then each namespace's own rules.
 * A change of credentials (entering a user namespace) clears pdeath_signal.
 */
export const setnsByPidfd = (current: Task, fd: number, flags: number): SysError | undefined => {
  const files = current.files
  if (files === undefined || fd < 0) return sysError("EBADF", "setns")
  const f = current.kernel.fdAdapter.getPidfd(files, fd)
  if (f instanceof SysError) return f
  const target = f.pid.leader ?? f.pid.task
  if (target === undefined || target.nsproxy === undefined) return sysError("ESRCH", "setns")
  const caller = {
    nsproxy: current.nsproxy!,
    cred: current.cred,
    fsUsers: current.fs?.users ?? 1,
    threads: current.signal.threads.length,
    activePidNs: current.activePidNs,
    fs: current.fs
  }
  const tx = setnsPidfd(
    caller,
    { nsproxy: target.nsproxy, cred: target.cred, activePidNs: target.activePidNs, mayAccess: ptraceMayAccess(current, target) },
    flags
  )
  if (tx instanceof SysError) return tx
  const old = current.cred.get()
  tx.commit(current)
  if (current.cred !== old && isDumpabilityChanged(old, current.cred)) current.pdeathSignal = 0
  old.put()
  return undefined
}
