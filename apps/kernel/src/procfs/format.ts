import { SIG_DFL, SIG_IGN, _NSIG, sysError, type SysError } from "@simkernel/abi"
import { type Cred, fromKgidMunged, fromKuidMunged, type UserNamespace } from "@simkernel/cred"
import { formatTimensOffsetLine } from "@simkernel/nsproxy"
import { pidNrNs, type PidNamespace, type SigSet, type Task } from "@simkernel/sched"
import type { FdTable, FsStruct } from "@simkernel/vfs"

/** "%016llx" of a signal set (bit n-1 for signal n), as render_sigset_t(). */
const sigHex = (s: SigSet): string => BigInt.asUintN(64, s).toString(16).padStart(16, "0")

/** "%016llx" of a capability set, as render_cap_t(). */
const capHex = (c: number): string => c.toString(16).padStart(16, "0")

/** The ignored and caught signals of a task (collect_sigign_sigcatch()). */
const sigIgnCatch = (t: Task): readonly [SigSet, SigSet] => {
  let ign = 0n
  let cgt = 0n
  for (let sig = 1; sig <= _NSIG; sig++) {
    const h = t.sighand.action(sig).handler
    const bit = 1n << BigInt(sig - 1)
    if (h === SIG_IGN) ign |= bit
    else if (h !== SIG_DFL) cgt |= bit
  }
  return [ign, cgt]
}

/** get_task_state() as status prints it. */
export const taskStateLong = (t: Task): string => {
  if (t.exitState.tag === "zombie") return "Z (zombie)"
  if (t.exitState.tag === "dead") return "X (dead)"
  if (t.sched === "blocked") return t.chan === "stopped" ? "T (stopped)" : "S (sleeping)"
  return "R (running)"
}

/** The open files' fd table size (fdt->max_fds): 64 (NR_OPEN_DEFAULT), doubled past it. */
const fdSize = (t: Task): number => {
  const files = t.files as unknown as FdTable | undefined
  if (files === undefined) return 0
  const fds = files.openFds()
  const top = fds.length === 0 ? 0 : Math.max(...fds) + 1
  let size = 64
  while (size < top) size *= 2
  return size
}

/**
 * NStgid:, NSpid:, NSpgid:, NSsid: (task_state()): for each namespace of
 * the task's own pid from `ns` down to the innermost one, the task's tgid,
 * pid, process group or session as that namespace numbers it (0 where it
 * is not visible), tab separated.
 */
const nsNumbers = (t: Task, which: "tgid" | "pid" | "pgrp" | "session", ns: PidNamespace): string => {
  const of = which === "tgid" ? t.tgidPid : which === "pid" ? t.pid : which === "pgrp" ? t.signal.pgrp : t.signal.session
  const own = t.pid
  let out = ""
  for (let g = ns.level; g <= own.level; g++) out += `\t${pidNrNs(of, own.nss[g]!)}`
  return out
}

/** task_ppid_nr_ns(): the parent's tgid as `ns` sees it (0 for PID 1 and for an exited task). */
const ppidIn = (t: Task, ns: PidNamespace): number => {
  if (t.exitState.tag === "dead") return 0
  const p = t.groupLeader.realParent
  return p === undefined ? 0 : p.tgidIn(ns)
}

/**
 * A live task has an mm, an exited one (a zombie) has none: status then
 * leaves out the memory block, as proc_pid_status() does when
 * get_task_mm() gives NULL.
 */
const hasMm = (t: Task): boolean => t.exitState.tag === "running"

/** "%8lu kB" of task_mem(). */
const kB = (key: string, n: number): string => `${key}:\t${String(n).padStart(8)} kB`

/**
 * The memory block of status (task_mem(), task_core_dumping(),
 * task_thp_status(), task_untag_mask() on x86_64). Memory is not
 * modelled: every size is 0; THP is enabled and no address bits are
 * tagged, as on a machine with THP and without LAM.
 */
const memoryLines: ReadonlyArray<string> = [
  ...["VmPeak", "VmSize", "VmLck", "VmPin", "VmHWM", "VmRSS", "RssAnon", "RssFile", "RssShmem", "VmData", "VmStk", "VmExe", "VmLib", "VmPTE", "VmSwap"].map((k) => kB(k, 0)),
  kB("HugetlbPages", 0),
  "CoreDumping:\t0",
  "THP_enabled:\t1",
  "untag_mask:\t0xffffffffffffffff"
]

/**
 * /proc/PID/status (proc_pid_status()), with the ids mapped into `userNs`
 * (the opener's user namespace, seq_user_ns()) and the pid numbers of the
 * proc mount's namespace `ns`. The lines and their order are those of
 * Linux 6.18 on x86_64. Not modelled, and printed as a one-CPU machine
 * without memory accounting shows them: the memory block (zeros), SigQ
 * (0/0: no queue count nor RLIMIT_SIGPENDING), the Speculation_* lines,
 * Cpus_allowed/Mems_allowed (CPU 0, node 0) and the context switch counts.
 */
export const showStatus = (t: Task, ns: PidNamespace, userNs: UserNamespace): string => {
  const c: Cred = t.cred
  const u = (k: number): number => fromKuidMunged(userNs, k)
  const g = (k: number): number => fromKgidMunged(userNs, k)
  const fs = t.fs as unknown as FsStruct | undefined
  const [ign, cgt] = sigIgnCatch(t)
  const lines = [
    `Name:\t${t.comm}`,
    ...(fs === undefined ? [] : [`Umask:\t${"0" + fs.umask.toString(8).padStart(3, "0")}`]),
    `State:\t${taskStateLong(t)}`,
    `Tgid:\t${t.tgidIn(ns)}`,
    `Ngid:\t0`,
    `Pid:\t${t.pidIn(ns)}`,
    `PPid:\t${ppidIn(t, ns)}`,
    `TracerPid:\t0`,
    `Uid:\t${u(c.uid)}\t${u(c.euid)}\t${u(c.suid)}\t${u(c.fsuid)}`,
    `Gid:\t${g(c.gid)}\t${g(c.egid)}\t${g(c.sgid)}\t${g(c.fsgid)}`,
    `FDSize:\t${fdSize(t)}`,
    `Groups:\t${c.groups.map(g).join(" ")} `,
    `NStgid:${nsNumbers(t, "tgid", ns)}`,
    `NSpid:${nsNumbers(t, "pid", ns)}`,
    `NSpgid:${nsNumbers(t, "pgrp", ns)}`,
    `NSsid:${nsNumbers(t, "session", ns)}`,
    `Kthread:\t0`,
    ...(hasMm(t) ? memoryLines : []),
    `Threads:\t${t.signal.threads.length}`,
    `SigQ:\t0/0`,
    `SigPnd:\t${sigHex(t.pending.set)}`,
    `ShdPnd:\t${sigHex(t.signal.shared.set)}`,
    `SigBlk:\t${sigHex(t.blocked)}`,
    `SigIgn:\t${sigHex(ign)}`,
    `SigCgt:\t${sigHex(cgt)}`,
    `CapInh:\t${capHex(c.capInheritable)}`,
    `CapPrm:\t${capHex(c.capPermitted)}`,
    `CapEff:\t${capHex(c.capEffective)}`,
    `CapBnd:\t${capHex(c.capBset)}`,
    `CapAmb:\t${capHex(c.capAmbient)}`,
    `NoNewPrivs:\t0`,
    `Seccomp:\t0`,
    `Seccomp_filters:\t0`,
    `Speculation_Store_Bypass:\tnot vulnerable`,
    `SpeculationIndirectBranch:\tunsupported`,
    `Cpus_allowed:\t1`,
    `Cpus_allowed_list:\t0`,
    `Mems_allowed:\t1`,
    `Mems_allowed_list:\t0`,
    `voluntary_ctxt_switches:\t0`,
    `nonvoluntary_ctxt_switches:\t0`
  ]
  return lines.join("\n") + "\n"
}

/** The one-letter state of /proc/PID/stat. */
const stateLetter = (t: Task): string => taskStateLong(t)[0]!

/** Nanoseconds of simulated CPU time as clock ticks (USER_HZ = 100). */
const ticks = (ns: number): number => Math.floor(ns / 10_000_000)

/** RLIM_INFINITY as an unsigned long. */
const RLIM_INFINITY = "18446744073709551615"

/**
 * /proc/PID/stat (do_task_stat()): the 52 fields. Modelled: pid, comm,
 * state, ppid, pgrp, session, tpgid (-1: no tty), flags, utime, stime,
 * cutime, cstime, priority (20), nice (0), num_threads, rsslim (unlimited),
 * the signal sets (signals 1 to 31), wchan (1 unless running), exit_signal, exit_code (of a
 * zombie). Everything about memory, faults, times since boot, the CPU and
 * the scheduling class prints 0.
 */
export const showStat = (t: Task, ns: PidNamespace): string => {
  const sig = t.signal
  const [ign, cgt] = sigIgnCatch(t)
  const low31 = (s: SigSet): string => BigInt.asUintN(31, s).toString()
  const zombie = t.exitState.tag !== "running"
  const f: Array<string | number> = [
    t.pidIn(ns),
    `(${t.comm})`,
    stateLetter(t),
    ppidIn(t, ns),
    pidNrNs(sig.pgrp, ns),
    pidNrNs(sig.session, ns),
    0, // tty_nr
    -1, // tpgid
    t.flags,
    0, 0, 0, 0, // minflt cminflt majflt cmajflt
    ticks(t.utime + (t.isLeader ? sig.utime : 0)),
    ticks(t.stime + (t.isLeader ? sig.stime : 0)),
    ticks(sig.cutime),
    ticks(sig.cstime),
    20, // priority
    0, // nice
    sig.threads.length,
    0, // itrealvalue
    ticks(t.startTime), // starttime
    0, // vsize
    0, // rss
    RLIM_INFINITY,
    0, 0, 0, 0, 0, // startcode endcode startstack kstkesp kstkeip
    // "obsolete, decimal for Linux 2.0 compatibility": only signals 1 to 31
    low31(t.pending.set | sig.shared.set),
    low31(t.blocked),
    low31(ign),
    low31(cgt),
    stateLetter(t) === "R" ? 0 : 1, // wchan: 1 for a task that is not running (a zombie too)
    0, 0, // nswap cnswap
    t.exitSignal,
    0, // processor
    0, 0, // rt_priority policy
    0, // delayacct_blkio_ticks
    0, 0, // guest_time cguest_time
    0, 0, 0, // start_data end_data start_brk
    0, 0, 0, 0, // arg_start arg_end env_start env_end
    zombie ? t.exitCode : 0
  ]
  return f.join(" ") + "\n"
}

/** /proc/PID/cmdline: the arguments, each ending in a NUL. */
export const showCmdline = (t: Task): string => (t.exitState.tag === "running" ? t.argv.map((a) => a + "\0").join("") : "")

/**
 * /proc/PID/environ: the environment, each string ending in a NUL; ESRCH
 * for a task without an mm (a zombie), as environ_open() finds none.
 */
export const showEnviron = (t: Task): string | SysError => (hasMm(t) ? t.envp.map((a) => a + "\0").join("") : sysError("ESRCH", "open"))

/** /proc/PID/timens_offsets (proc_timens_show_offsets()): the time namespace children get. */
export const showTimensOffsets = (t: Task): string => {
  const ns = t.nsproxy?.timeForChildren
  if (ns === undefined) return ""
  return formatTimensOffsetLine("monotonic", ns.monotonic) + formatTimensOffsetLine("boottime", ns.boottime)
}
