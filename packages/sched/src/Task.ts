import type { Cred } from "@simkernel/cred"
import { Refcounted } from "@simkernel/kref"
import type { NsProxy } from "@simkernel/nsproxy"
import type { Effect, Fiber } from "effect"
import type { FilesStruct, FsStructLike } from "./files.js"
import type { Kernel } from "./Kernel.js"
import { type Pid, pidNrNs } from "./Pid.js"
import type { PidNamespace } from "./PidNamespace.js"
import type { Process, Program } from "./Process.js"
import { SigHand, SigPending } from "./signal-types.js"
import { EMPTY_SIGSET, type SigSet } from "./sigset.js"
import { TaskVfsView } from "./vfs.js"

/** A task's exit state (exit_state): alive, a zombie waiting to be reaped, or reaped. */
export type ExitState = { readonly tag: "running" } | { readonly tag: "zombie" } | { readonly tag: "dead" }

export const RUNNING: ExitState = Object.freeze({ tag: "running" })
export const ZOMBIE: ExitState = Object.freeze({ tag: "zombie" })
export const DEAD: ExitState = Object.freeze({ tag: "dead" })

/**
 * Where a task is in the simulated scheduler: not started, on the CPU,
 * waiting for the CPU, sleeping until woken (`chan` says on what), or done.
 */
export type SchedState = "new" | "running" | "runnable" | "blocked" | "done"

/** What a blocked task waits for (its wait queue). */
export type WaitChan = "child" | "pause" | "sleep" | "stopped" | "vfork" | "poll" | "pidns" | "exec" | "pipe"

// task->flags
export const PF_EXITING = 0x00000004
export const PF_FORKNOEXEC = 0x00000040
export const PF_SIGNALED = 0x00000400

// signal->flags, include/linux/sched/signal.h
export const SIGNAL_STOP_STOPPED = 0x00000001
export const SIGNAL_STOP_CONTINUED = 0x00000002
export const SIGNAL_GROUP_EXIT = 0x00000004
export const SIGNAL_CLD_STOPPED = 0x00000010
export const SIGNAL_CLD_CONTINUED = 0x00000020
export const SIGNAL_CLD_MASK = SIGNAL_CLD_STOPPED | SIGNAL_CLD_CONTINUED
export const SIGNAL_UNKILLABLE = 0x00000040

// task->jobctl
export const JOBCTL_STOP_PENDING = 0x1

/**
 * What the threads of a process share, as struct signal_struct: the thread
 * list and live count, group exit and group stop state, the shared pending
 * signals, the process group and session, subreaper flags and the CPU time
 * of reaped children.
 */
export class SignalStruct {
  readonly threads: Array<Task> = []
  /** Threads that have not started exiting. */
  live = 1
  flags = 0
  groupExitCode = 0
  groupStopCount = 0
  /** group_exec_task: the thread in execve(2) whose other threads are being killed. */
  groupExecTask: Task | undefined = undefined
  readonly shared = new SigPending()
  /** signal->leader: this process is a session leader (setsid). */
  leader = false
  isChildSubreaper = false
  hasChildSubreaper = false
  /** PIDTYPE_PGID and PIDTYPE_SID (signal->pids). */
  pgrp: Pid
  session: Pid
  /** Simulated CPU time (ns) of reaped children, and of this process's exited threads. */
  cutime = 0
  cstime = 0
  utime = 0
  stime = 0

  constructor(pgrp: Pid, session: Pid) {
    this.pgrp = pgrp
    this.session = session
  }
}

/**
 * A task (a thread), as include/linux/sched.h struct task_struct: its pid,
 * thread group, parents and children, credentials, namespaces, files,
 * signal state and exit state, plus the fiber that runs its program.
 *
 * References: a Task holds its Cred, NsProxy, files and fs until it exits
 * (exit_files(), exit_fs(), exit_task_namespaces()) and its Cred until it is
 * released; the Task itself is born with one reference, dropped by
 * release_task() when it is reaped.
 */
export class Task extends Refcounted {
  readonly kind = "Task"
  readonly kernel: Kernel
  /** thread_pid (PIDTYPE_PID). */
  readonly pid: Pid
  signal: SignalStruct
  sighand: SigHand
  groupLeader: Task
  /** Whoever forked it (or the reaper after reparenting); undefined for the first task. */
  realParent: Task | undefined
  /** Who gets SIGCHLD and waits for it (the same as realParent: no ptrace). */
  parent: Task | undefined
  /** Thread-group leaders forked by this thread, in fork order. */
  children: Set<Task> | undefined = undefined
  exitState: ExitState = RUNNING
  /** The wait status this thread exits with (exit_code). */
  exitCode = 0
  /** Signal sent to the parent at exit: -1 for a thread. */
  exitSignal: number
  pdeathSignal = 0
  flags = PF_FORKNOEXEC
  jobctl = 0
  comm: string
  cred: Cred
  nsproxy: NsProxy | undefined
  files: FilesStruct | undefined
  fs: FsStructLike | undefined
  blocked: SigSet = EMPTY_SIGSET
  readonly pending = new SigPending()
  /** self_exec_id / parent_exec_id. */
  selfExecId = 0
  parentExecId = 0
  /** Simulated CPU time in ns. */
  utime = 0
  stime = 0
  /** start_boottime: ns since boot when the task was made. */
  readonly startTime: number
  /** mm->exe_file as a path: what the thread group last executed; undefined for a task that never did (no mm, as kernel threads). */
  exePath: string | undefined
  // scheduler state
  sched: SchedState = "new"
  chan: WaitChan | undefined = undefined
  /** Continues the parked fiber (or starts it, for a new task). */
  resume: ((wake: Effect.Effect<void>) => void) | undefined = undefined
  /** The fiber running its program, until it is done (a zombie keeps none, nor what the fiber holds). */
  fiber: Fiber.Fiber<void> | undefined = undefined
  timer: Fiber.Fiber<void> | undefined = undefined
  /** While blocked in wait(): which children may wake it (child_wait_callback()). */
  waitFilter: ((child: Task) => boolean) | undefined = undefined
  /** CLONE_VFORK: wakes the parent when this task execs or exits. */
  vforkParent: Task | undefined = undefined
  program: Program
  argv: ReadonlyArray<string>
  envp: ReadonlyArray<string>
  private proc: Process | undefined = undefined
  private vfsView: TaskVfsView | undefined = undefined

  constructor(init: {
    kernel: Kernel
    pid: Pid
    signal: SignalStruct | undefined
    sighand: SigHand | undefined
    groupLeader: Task | undefined
    realParent: Task | undefined
    exitSignal: number
    comm: string
    cred: Cred
    nsproxy: NsProxy | undefined
    files: FilesStruct | undefined
    fs: FsStructLike | undefined
    program: Program
    argv: ReadonlyArray<string>
    envp: ReadonlyArray<string>
    exePath?: string | undefined
  }) {
    super(init.kernel.live, "task")
    this.kernel = init.kernel
    this.pid = init.pid
    this.signal = init.signal ?? new SignalStruct(init.pid, init.pid)
    this.sighand = init.sighand ?? new SigHand()
    this.groupLeader = init.groupLeader ?? this
    this.realParent = init.realParent
    this.parent = init.realParent
    this.exitSignal = init.exitSignal
    this.comm = init.comm
    this.cred = init.cred
    this.nsproxy = init.nsproxy
    this.files = init.files
    this.fs = init.fs
    this.program = init.program
    this.argv = init.argv
    this.envp = init.envp
    this.exePath = init.exePath
    this.startTime = init.kernel.uptimeNs()
  }

  /** The per-task handle its program and handlers use. */
  get process(): Process {
    return (this.proc ??= this.kernel.makeProcess(this))
  }

  /**
   * The task as the VFS sees it (a VfsTask: cred, fs_struct, descriptor
   * table and mount namespace, read live). Meaningful when the kernel was
   * booted with a Vfs (its tables are then vfs FdTables).
   */
  vfsTask(): TaskVfsView {
    return (this.vfsView ??= new TaskVfsView(this))
  }

  /** thread_group_leader(). */
  get isLeader(): boolean {
    return this.groupLeader === this
  }

  /** task_tgid(): the thread group's pid. */
  get tgidPid(): Pid {
    return this.groupLeader.pid
  }

  /** task_active_pid_ns(). */
  get activePidNs(): PidNamespace {
    return this.pid.ns
  }

  /** task_pid_vnr() as `viewer` sees this task. */
  pidIn(ns: PidNamespace): number {
    return pidNrNs(this.pid, ns)
  }

  tgidIn(ns: PidNamespace): number {
    return pidNrNs(this.groupLeader.pid, ns)
  }

  /** thread_group_empty(): no other thread left in the list. */
  get threadGroupEmpty(): boolean {
    return this.signal.threads.length <= 1
  }

  protected override destroy(): void {
    this.cred.put()
  }
}
