import {
  CLONE_ARGS_SIZE_VER0,
  CLONE_ARGS_SIZE_VER2,
  CLONE_CLEAR_SIGHAND,
  CLONE_DETACHED,
  CLONE_FILES,
  CLONE_FS,
  CLONE_INTO_CGROUP,
  CLONE_NEWNS,
  CLONE_NEWPID,
  CLONE_NEWTIME,
  CLONE_NEWUSER,
  CLONE_PARENT,
  CLONE_PARENT_SETTID,
  CLONE_PIDFD,
  CLONE_SIGHAND,
  CLONE_THREAD,
  CLONE_VFORK,
  CLONE_VM,
  CSIGNAL,
  MAX_PID_NS_LEVEL,
  O_EXCL,
  SIGKILL,
  sysError,
  SysError
} from "@simkernel/abi"
import { copyCreds, type Cred } from "@simkernel/cred"
import { Rollback } from "@simkernel/kref"
import { CLONE_NSPROXY_ALL, copyNamespaces, type NsProxy } from "@simkernel/nsproxy"
import { Effect } from "effect"
import type { FilesStruct, FsStructLike } from "./files.js"
import { PidfdFile } from "./files.js"
import type { Pid } from "./Pid.js"
import { allocPid, freePid, type PidNamespace } from "./PidNamespace.js"
import type { Program } from "./Process.js"
import { signalPending } from "./signal.js"
import { SigHand } from "./signal-types.js"
import { sigismember } from "./sigset.js"
import { JOBCTL_STOP_PENDING, SIGNAL_GROUP_EXIT, SIGNAL_UNKILLABLE, SignalStruct, Task } from "./Task.js"

/** struct kernel_clone_args, as clone, clone3, fork and vfork fill it. */
export interface KernelCloneArgs {
  /** CLONE_* flags without the CSIGNAL byte (clone3's high flags as plain numbers above 2^32). */
  readonly flags: number
  /** Signal to the parent at exit (0: none). */
  readonly exitSignal: number
  /** clone3's set_tid: pids from the innermost namespace outward. */
  readonly setTid?: ReadonlyArray<number>
  /** What the child runs. */
  readonly fn: Program
  readonly comm?: string
  /**
   * Credentials for the child instead of a copy of the parent's (a
   * reference is taken); CLONE_NEWUSER is then EINVAL. For a caller that
   * forks a task into a prepared set of credentials and namespaces.
   */
  readonly cred?: Cred
  /** The child's NsProxy instead of copy_namespaces() (a reference is taken); any CLONE_NEW* flag is then EINVAL. */
  readonly nsproxy?: NsProxy
  /** The child's fs_struct (taken over, put when the fork fails); CLONE_FS is then EINVAL. */
  readonly fs?: FsStructLike
  /** Passed as is to TaskHooks.onFork, for the layer that asked for this fork. */
  readonly hookData?: unknown
}

/** What kernel_clone() returns to the parent. */
export interface CloneResult {
  /** The child's pid (tid for a thread) in the parent's namespace. */
  readonly pid: number
  /** The pidfd CLONE_PIDFD installed in the parent, else -1. */
  readonly pidfd: number
  readonly child: Task
}

/** The flag bits above 2^32 (clone3 only). */
const highBits = (flags: number): number => Math.floor(flags / 0x100000000)
const has = (flags: number, bit: number): boolean => (bit >= 0x100000000 ? (highBits(flags) & highBits(bit)) !== 0 : (flags & bit) !== 0)

/**
 * The flag rules at the top of copy_process() (Linux 6.18), each EINVAL:
 * CLONE_NEWNS|CLONE_FS, CLONE_NEWUSER|CLONE_FS, CLONE_THREAD without
 * CLONE_SIGHAND, CLONE_SIGHAND without CLONE_VM, CLONE_PARENT from an init,
 * CLONE_THREAD into another PID or user namespace, CLONE_PIDFD|CLONE_DETACHED.
 */
export const checkCloneFlags = (current: Task, flags: number): SysError | undefined => {
  const bad = (detail: string) => sysError("EINVAL", "clone", detail)
  if (has(flags, CLONE_NEWNS) && has(flags, CLONE_FS)) return bad("CLONE_NEWNS with CLONE_FS")
  if (has(flags, CLONE_NEWUSER) && has(flags, CLONE_FS)) return bad("CLONE_NEWUSER with CLONE_FS")
  if (has(flags, CLONE_THREAD) && !has(flags, CLONE_SIGHAND)) return bad("CLONE_THREAD without CLONE_SIGHAND")
  if (has(flags, CLONE_SIGHAND) && !has(flags, CLONE_VM)) return bad("CLONE_SIGHAND without CLONE_VM")
  // an init making siblings would leave zombies nobody reaps
  if (has(flags, CLONE_PARENT) && (current.signal.flags & SIGNAL_UNKILLABLE) !== 0) return bad("CLONE_PARENT from an init")
  if (has(flags, CLONE_THREAD)) {
    if (has(flags, CLONE_NEWUSER) || has(flags, CLONE_NEWPID)) return bad("CLONE_THREAD into a new namespace")
    if (current.activePidNs !== current.nsproxy?.pidForChildren) return bad("CLONE_THREAD after unshare(CLONE_NEWPID)")
  }
  if (has(flags, CLONE_PIDFD) && has(flags, CLONE_DETACHED)) return bad("CLONE_PIDFD with CLONE_DETACHED")
  return undefined
}

/**
 * kernel/fork.c copy_process(): a new task from `current`, taking each part
 * in Linux's order (credentials, security_task_alloc, files, fs, signal
 * handlers, signal struct, namespaces, pid, pidfd), each undone when a
 * later step fails (the bad_fork_cleanup_* labels). Credentials,
 * namespaces and fs_struct given in `args` are used instead of the
 * parent's (a layer that forks into a prepared set, as
 * fork_into_container() does). ENOMEM when the PID namespace is dying,
 * EINTR when a fatal signal is pending, or the errno a hook refuses with.
 */
export const copyProcess = Effect.fnUntraced(function* (current: Task, args: KernelCloneArgs) {
  const flagErr = checkCloneFlags(current, args.flags) ?? checkSuppliedParts(args)
  if (flagErr !== undefined) {
    args.fs?.put()
    return yield* Effect.fail(flagErr)
  }
  if (args.cred !== undefined) {
    const r = copyProcessRest(current, args, args.cred.get())
    if (r instanceof SysError) return yield* Effect.fail(r)
    return r
  }
  const parentCred = current.cred
  // copy_creds() copies so that the child's keyrings can differ; without keyrings
  // or a new user namespace the immutable Cred is shared (a fork allocates none)
  const cred =
    !has(args.flags, CLONE_NEWUSER) && parentCred.threadKeyring === undefined && parentCred.processKeyring === undefined
      ? parentCred.get()
      : yield* Effect.tapError(copyCreds(parentCred, args.flags), () => Effect.sync(() => args.fs?.put()))
  const r = copyProcessRest(current, args, cred)
  if (r instanceof SysError) return yield* Effect.fail(r)
  return r
})

/**
 * Parts supplied in KernelCloneArgs replace what a flag would make or
 * share, so asking for both is EINVAL: CLONE_NEWUSER with `cred`, any
 * CLONE_NEW* with `nsproxy`, CLONE_FS with `fs`, and CLONE_THREAD with any.
 */
const checkSuppliedParts = (args: KernelCloneArgs): SysError | undefined => {
  const bad = (detail: string) => sysError("EINVAL", "clone", detail)
  const f = args.flags
  if (args.cred === undefined && args.nsproxy === undefined && args.fs === undefined) return undefined
  if (has(f, CLONE_THREAD)) return bad("CLONE_THREAD with supplied parts")
  if (args.cred !== undefined && has(f, CLONE_NEWUSER)) return bad("CLONE_NEWUSER with supplied credentials")
  if (args.nsproxy !== undefined && has(f, CLONE_NSPROXY_ALL)) return bad("CLONE_NEW* with a supplied NsProxy")
  if (args.fs !== undefined && has(f, CLONE_FS)) return bad("CLONE_FS with a supplied fs_struct")
  return undefined
}

/** copy_process() after copy_creds(): takes over `cred` (put on failure), and `args.fs` if given. */
const copyProcessRest = (current: Task, args: KernelCloneArgs, cred: Cred): { child: Task; pidfd: number } | SysError => {
  const flags = args.flags
  const k = current.kernel
  const rb = new Rollback()
  rb.own(cred)
  const fail = (e: SysError): SysError => {
    rb.rollback()
    return e
  }
  const thread = has(flags, CLONE_THREAD)
  const files = current.files
  let newFiles: FilesStruct | undefined
  if (files !== undefined) newFiles = rb.own(has(flags, CLONE_FILES) ? files.get() : files.copy())
  const fs = current.fs
  let newFs: FsStructLike | undefined
  if (args.fs !== undefined) newFs = rb.own(args.fs)
  else if (fs !== undefined) newFs = rb.own(has(flags, CLONE_FS) ? fs.get() : fs.copy())
  let sighand: SigHand
  if (has(flags, CLONE_SIGHAND)) {
    sighand = current.sighand
    sighand.users++
  } else {
    sighand = new SigHand(current.sighand)
    if (has(flags, CLONE_CLEAR_SIGHAND)) sighand.flushHandlers(false)
  }
  rb.add(() => void sighand.users--)
  const nsproxy =
    args.nsproxy !== undefined
      ? args.nsproxy.get()
      : copyNamespaces(flags, current.nsproxy!, current.cred, cred.userNs, { activePidNs: current.activePidNs, fs: newFs })
  if (nsproxy instanceof SysError) return fail(nsproxy)
  rb.own(nsproxy)
  const pid = allocPid(nsproxy.pidForChildren as PidNamespace, args.setTid ?? NO_TIDS, current.cred)
  if (pid instanceof SysError) return fail(pid)
  rb.add(() => freePid(pid))
  let pidfdFile: PidfdFile | undefined
  if (has(flags, CLONE_PIDFD)) pidfdFile = rb.own(new PidfdFile(k.live, pid, thread ? O_EXCL : 0))
  const inheritParent = has(flags, CLONE_PARENT) || thread
  const child = new Task({
    kernel: k,
    pid,
    signal: thread ? current.signal : new SignalStruct(current.signal.pgrp, current.signal.session),
    sighand,
    groupLeader: thread ? current.groupLeader : undefined,
    realParent: inheritParent ? current.realParent : current,
    exitSignal: thread ? -1 : inheritParent ? current.groupLeader.exitSignal : args.exitSignal,
    comm: args.comm ?? current.comm,
    cred: cred.get(),
    nsproxy,
    files: newFiles,
    fs: newFs,
    program: args.fn,
    argv: current.argv,
    envp: current.envp,
    exePath: current.exePath
  })
  rb.own(child)
  child.blocked = current.blocked
  child.parentExecId = inheritParent ? current.parentExecId : current.selfExecId
  for (const h of k.securityHooks) {
    const denied = h.taskAlloc?.(child, flags)
    if (denied !== undefined) return fail(denied)
  }
  // don't start children in a dying PID namespace
  if (!pid.ns.adding) return fail(sysError("ENOMEM", "clone"))
  // let kill end a fork in the middle
  if (sigismember(current.pending.set | current.signal.shared.set, SIGKILL) || (current.signal.flags & SIGNAL_GROUP_EXIT) !== 0) {
    return fail(sysError("EINTR", "clone"))
  }
  let pidfd = -1
  if (pidfdFile !== undefined) {
    const fd = k.fdAdapter.installPidfd(current.files!, pidfdFile.get(), true, current.cred)
    if (typeof fd !== "number") return fail(fd)
    pidfd = fd
    rb.add(() => void k.fdAdapter.close(current.files!, fd))
  }
  for (const h of k.taskHooks) {
    const denied = h.onFork?.(current, child, flags, args)
    if (denied !== undefined) return fail(denied)
    const undo = h.onForkUndo
    if (undo !== undefined) rb.add(() => undo(child))
  }
  rb.commit()
  pidfdFile?.put()
  cred.put()
  attachTask(current, child, flags)
  return { child, pidfd }
}

const NO_TIDS: ReadonlyArray<number> = []

/** The part of copy_process() past the point of no return: the task joins its group, parent and pids. */
const attachTask = (current: Task, p: Task, flags: number): void => {
  const pid: Pid = p.pid
  pid.task = p
  const sig = p.signal
  if (p.isLeader) {
    pid.leader = p
    if (pid.nrs[pid.level] === 1) {
      pid.ns.childReaper = p
      sig.flags |= SIGNAL_UNKILLABLE
    }
    const rp = current.realParent !== undefined && (has(flags, CLONE_PARENT) || has(flags, CLONE_THREAD)) ? current.realParent : current
    sig.hasChildSubreaper = rp.signal.hasChildSubreaper || rp.signal.isChildSubreaper
    ;(rp.children ??= new Set()).add(p)
    ;(sig.pgrp.pgrp ??= new Set()).add(p)
    ;(sig.session.session ??= new Set()).add(p)
  } else {
    sig.live++
    // task_join_group_stop()
    if ((current.jobctl & JOBCTL_STOP_PENDING) !== 0 && sig.groupStopCount > 0) {
      p.jobctl |= JOBCTL_STOP_PENDING
      sig.groupStopCount++
    }
  }
  sig.threads.push(p)
}

/**
 * kernel_clone(): copy_process(), then the child runs before the parent
 * continues (it goes on the run queue above the parent). With CLONE_VFORK
 * the parent sleeps until the child execs or exits.
 */
export const kernelClone = Effect.fnUntraced(function* (current: Task, args: KernelCloneArgs) {
  const { child, pidfd } = yield* copyProcess(current, args)
  const k = current.kernel
  const nr = child.pidIn(current.activePidNs)
  const vfork = has(args.flags, CLONE_VFORK)
  if (vfork) child.vforkParent = current
  else k.yieldCurrent(current)
  k.wakeNew(child)
  if (!vfork) yield* k.park(current, undefined)
  else {
    while (child.vforkParent === current) {
      yield* k.park(current, "vfork")
      // wait_for_vfork_done() sleeps killable: only a fatal signal ends it early
      if (signalPending(current) && sigismember(current.pending.set, SIGKILL)) break
    }
  }
  const r: CloneResult = { pid: nr, pidfd, child }
  return r
})

/** clone(2)'s flag word: the low byte is the exit signal (so CLONE_NEWTIME is not available here). */
export const cloneArgsFromLegacy = (flags: number, fn: Program): KernelCloneArgs | SysError => {
  if (!Number.isInteger(flags) || flags < 0 || flags > 0xffffffff) return sysError("EINVAL", "clone")
  // clone(2) returns the pidfd through parent_tid, so both cannot be asked for
  if ((flags & CLONE_PIDFD) !== 0 && (flags & CLONE_PARENT_SETTID) !== 0) return sysError("EINVAL", "clone")
  return { flags: flags - (flags & CSIGNAL), exitSignal: flags & CSIGNAL, fn }
}

/** struct clone_args, as clone3(2) reads it; `size` is the size the caller passes. */
export interface CloneArgs {
  readonly flags: number
  readonly exitSignal?: number
  readonly setTid?: ReadonlyArray<number>
  readonly cgroup?: number
  /** sizeof(struct clone_args) the caller passes (default CLONE_ARGS_SIZE_VER2). */
  readonly size?: number
  /** Bytes past the known struct: must all be zero (E2BIG otherwise). */
  readonly tail?: ReadonlyArray<number>
}

const PAGE_SIZE = 4096

/**
 * copy_clone_args_from_user() and clone3_args_valid(): EINVAL for a struct
 * smaller than CLONE_ARGS_SIZE_VER0, E2BIG beyond a page or for non-zero
 * bytes past the known struct, EINVAL for bad set_tid sizes, a bad exit
 * signal, unknown flags, CLONE_DETACHED or CSIGNAL bits (other than
 * CLONE_NEWTIME), CLONE_SIGHAND|CLONE_CLEAR_SIGHAND, and an exit signal
 * with CLONE_THREAD or CLONE_PARENT.
 */
export const clone3Args = (args: CloneArgs, fn: Program): KernelCloneArgs | SysError => {
  const bad = (detail: string) => sysError("EINVAL", "clone3", detail)
  const size = args.size ?? CLONE_ARGS_SIZE_VER2
  if (size > PAGE_SIZE) return sysError("E2BIG", "clone3", "struct clone_args larger than a page")
  if (size < CLONE_ARGS_SIZE_VER0) return bad("struct clone_args too small")
  if (size > CLONE_ARGS_SIZE_VER2 && (args.tail ?? []).some((b) => b !== 0)) return sysError("E2BIG", "clone3", "unknown non-zero fields")
  const setTid = size >= 80 ? (args.setTid ?? []) : []
  if (setTid.length > MAX_PID_NS_LEVEL) return bad("set_tid_size too large")
  const exitSignal = args.exitSignal ?? 0
  if (!Number.isInteger(exitSignal) || exitSignal < 0 || exitSignal > 64) return bad("invalid exit_signal")
  const flags = args.flags
  if (!Number.isInteger(flags) || flags < 0) return bad("invalid flags")
  const high = highBits(flags)
  if ((high & ~(highBits(CLONE_CLEAR_SIGHAND) | highBits(CLONE_INTO_CGROUP))) !== 0 || flags > 0x3ffffffff) return bad("unknown flags")
  if (has(flags, CLONE_INTO_CGROUP) && ((args.cgroup ?? -1) < 0 || (args.cgroup ?? 0) > 0x7fffffff || size < CLONE_ARGS_SIZE_VER2)) {
    return bad("bad cgroup")
  }
  const low = flags % 0x100000000
  if ((low & (CLONE_DETACHED | (CSIGNAL & ~CLONE_NEWTIME))) !== 0) return bad("CLONE_DETACHED or CSIGNAL bits")
  if (has(flags, CLONE_SIGHAND) && has(flags, CLONE_CLEAR_SIGHAND)) return bad("CLONE_SIGHAND with CLONE_CLEAR_SIGHAND")
  if ((has(flags, CLONE_THREAD) || has(flags, CLONE_PARENT)) && exitSignal !== 0) return bad("exit_signal with CLONE_THREAD or CLONE_PARENT")
  return { flags, exitSignal, setTid, fn }
}
