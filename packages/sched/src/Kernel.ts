import { SIGKILL, SIGSEGV, sysError, type SysError, W_EXITCODE } from "@simkernel/abi"
import { createInitCred, createInitUserNs, type NsCommon, type UserNamespace } from "@simkernel/cred"
import { LiveObjects } from "@simkernel/kref"
import { type NamespaceOps, nsKinds, NsProxy } from "@simkernel/nsproxy"
import { Cause, Clock, Context, Effect, Exit, type Fiber, Scheduler } from "effect"
import { doGroupExit, releaseTask } from "./exit.js"
import { type FdAdapter, type FsStructLike, simpleFdAdapter } from "./files.js"
import type { SigInfo } from "./signal-types.js"
import type { Pid } from "./Pid.js"
import { allocPid, PID_MAX_DEFAULT, PidNamespace, pidNamespaceOps } from "./PidNamespace.js"
import type { KernelCloneArgs } from "./fork.js"
import { Process, type Program } from "./Process.js"
import { forceKill, sigqueueKill } from "./signal.js"
import { vfsExecLookup, vfsFdAdapter } from "./vfs.js"
import type { Vfs } from "@simkernel/vfs"
import { PF_EXITING, SIGNAL_GROUP_EXIT, SIGNAL_UNKILLABLE, Task, type WaitChan, ZOMBIE } from "./Task.js"

/**
 * Hooks for higher layers, called at fork and exit (the container object
 * plugs in here). onFork may refuse the fork with an errno; it runs after
 * every other step could fail, so a refusal undoes the whole fork. It
 * sees the clone arguments, with the `hookData` its layer passed.
 */
export interface TaskHooks {
  readonly onFork?: (parent: Task, child: Task, cloneFlags: number, args: KernelCloneArgs) => SysError | undefined
  /** A later hook refused the fork this hook's onFork accepted: undo what onFork did. */
  readonly onForkUndo?: (child: Task) => void
  readonly onExit?: (task: Task) => void
}

/** LSM-style checks that can deny: security_task_alloc() and security_task_kill(). */
export interface SecurityHooks {
  readonly taskAlloc?: (task: Task, cloneFlags: number) => SysError | undefined
  readonly taskKill?: (target: Task, info: SigInfo, sig: number, sender: Task | undefined) => SysError | undefined
}

/** A program registered by name, with the file attributes execve(2) looks at. */
export interface ProgramEntry {
  readonly program: Program
  /** st_mode (default 0o100755). */
  readonly mode: number
  readonly uid: number
  readonly gid: number
  /** The file is on a nosuid mount: set-id bits are ignored. */
  readonly nosuid?: boolean
  /** The executable's path from the task's root (what /proc/PID/exe shows); the exec'd name when absent. */
  readonly exePath?: string
}

/**
 * How execve(2) finds a program: given the task and the path (and for
 * execveat(2) the dirfd and flags), the program with its file's
 * attributes, or the errno of the lookup (ENOENT, EACCES, ...).
 * `vfsExecLookup` walks the VFS (the default when the kernel is booted
 * with a Vfs); otherwise the path is looked up in the kernel's program
 * table.
 */
export type ExecLookup = (task: Task, path: string, dirfd?: number, flags?: number) => ProgramEntry | SysError

export interface KernelOptions {
  readonly registry?: LiveObjects
  /** An initial user namespace to use (the kernel takes its own reference); one is made otherwise. */
  readonly initUserNs?: UserNamespace
  /** kernel.pid_max of the initial PID namespace. */
  readonly pidMax?: number
  /**
   * Pick the next task to run at random among the runnable ones, from a
   * generator with this seed, instead of last-made-runnable first: the same
   * seed makes the same choices, different seeds explore other orders.
   */
  readonly seed?: number
  readonly programs?: Readonly<Record<string, Program>>
  /** Other namespace types (the VFS's mnt, the net package's net) and their initial namespaces (taken over). */
  readonly namespaces?: { readonly mnt?: readonly [NamespaceOps, NsCommon]; readonly net?: readonly [NamespaceOps, NsCommon] }
  /**
   * The VFS the tasks use: with one, descriptor tables are vfs FdTables
   * with pidfds as anonymous-inode Files (vfsFdAdapter), execve looks
   * paths up through it (vfsExecLookup), and pipes work. The caller keeps
   * it (and calls vfs.shutdown() after the kernel's shutdown).
   */
  readonly vfs?: Vfs
  /** The descriptor tables; vfsFdAdapter(vfs) with a Vfs, SimpleFdTable otherwise. */
  readonly files?: FdAdapter
  /** The first task's fs_struct (taken over); none when omitted. */
  readonly fs?: FsStructLike
  /** execve(2)'s path lookup; vfsExecLookup with a Vfs, the program table otherwise. */
  readonly execLookup?: ExecLookup
}

/** What PID 1 runs until run() gives it a program: sleep in pause() for good. */
const idleProgram: Program = (proc) => Effect.forever(Effect.ignore(proc.pause()), { disableYield: true })

/** A choice in [0, n) from mulberry32, a small 32-bit generator: the same seed gives the same sequence. */
const seededChoice = (seed: number): ((n: number) => number) => {
  let state = seed >>> 0
  return (n) => {
    state = (state + 0x6d2b79f5) >>> 0
    let z = state
    z = Math.imul(z ^ (z >>> 15), z | 1)
    z ^= z + Math.imul(z ^ (z >>> 7), z | 61)
    return (((z ^ (z >>> 14)) >>> 0) % n)
  }
}

/**
 * The simulated kernel: the initial user and PID namespaces, the first
 * task (PID 1), the program table, hooks, and the scheduler that runs one
 * task at a time.
 *
 * Scheduling is deterministic: a task runs until it blocks or exits; the
 * task made runnable last runs next (a forked child before its parent, a
 * woken task before the ones that were already waiting), so after a fork
 * the parent continues only once the child has exited or blocked.
 */
export class Kernel {
  readonly live: LiveObjects
  readonly initUserNs: UserNamespace
  readonly initPidNs: PidNamespace
  readonly initTask: Task
  readonly fdAdapter: FdAdapter
  /** The VFS the kernel was booted with, if any. */
  readonly vfs: Vfs | undefined
  readonly execLookup: ExecLookup
  readonly programs = new Map<string, ProgramEntry>()
  readonly taskHooks: Array<TaskHooks> = []
  readonly securityHooks: Array<SecurityHooks> = []
  /** Kernel messages: programs that failed with an unhandled error, oopses. */
  readonly log: Array<string> = []
  /** Simulated CPU time charged per syscall (ns). */
  syscallCost = 100
  /** The task on the CPU. */
  current: Task | undefined = undefined
  private readonly runq: Array<Task> = []
  /** The seeded choice of the next task (KernelOptions.seed); undefined for the deterministic order. */
  private readonly pick: ((n: number) => number) | undefined
  private kicking = false
  private idleWaiters: Array<() => void> = []
  private readonly ctx: Context.Context<never>
  private initDone: Array<(status: number) => void> = []
  private initStatus: number | undefined = undefined
  private down = false
  /** The kernel's clock at boot (ns): uptime and task start times count from it. */
  private readonly bootClockNs: number

  private constructor(ctx: Context.Context<never>, options: KernelOptions) {
    // task switches are microtasks: the run queue, not the event loop, decides who runs
    this.ctx = Context.add(ctx, Scheduler.Scheduler, new Scheduler.MixedScheduler("sync"))
    this.bootClockNs = this.clockNs()
    const userNs = options.initUserNs?.get() ?? createInitUserNs({ registry: options.registry ?? new LiveObjects() })
    this.initUserNs = userNs
    this.live = userNs.liveObjects
    this.vfs = options.vfs
    this.fdAdapter = options.files ?? (options.vfs !== undefined ? vfsFdAdapter(options.vfs) : simpleFdAdapter)
    this.execLookup =
      options.execLookup ??
      (options.vfs !== undefined ? vfsExecLookup : (_t, path) => this.programs.get(path) ?? sysError("ENOENT", "execve", path))
    for (const [name, program] of Object.entries(options.programs ?? {})) this.register(name, program)
    this.initPidNs = PidNamespace.createInit(userNs, options.pidMax ?? PID_MAX_DEFAULT)
    this.pick = options.seed === undefined ? undefined : seededChoice(options.seed)
    const ns = options.namespaces ?? {}
    const kinds = nsKinds({ pid: pidNamespaceOps as NamespaceOps, mnt: ns.mnt?.[0], net: ns.net?.[0] })
    const nsproxy = NsProxy.createInit(userNs, kinds, { pid: this.initPidNs.get(), mnt: ns.mnt?.[1], net: ns.net?.[1] })
    const cred = createInitCred(userNs)
    const pid = allocPid(this.initPidNs, [], cred) as Pid
    const task = new Task({
      kernel: this,
      pid,
      signal: undefined,
      sighand: undefined,
      groupLeader: undefined,
      realParent: undefined,
      exitSignal: 0,
      comm: "init",
      cred,
      nsproxy,
      files: this.fdAdapter.createFiles(this.live),
      fs: options.fs,
      program: idleProgram,
      argv: ["init"],
      envp: []
    })
    attachProcess(task)
    this.initPidNs.childReaper = task
    task.signal.flags |= SIGNAL_UNKILLABLE
    this.initTask = task
  }

  private clockNs(): number {
    return Number(Context.get(this.ctx, Clock.Clock).currentTimeNanosUnsafe())
  }

  /** ktime_get_boottime_ns(): ns since boot on the kernel's clock (a TestClock in tests), as /proc/uptime and task start times use it. */
  uptimeNs(): number {
    return this.clockNs() - this.bootClockNs
  }

  /** Boot a kernel: PID 1 exists (running an idle program until run() gives it one). */
  static boot(options: KernelOptions = {}): Effect.Effect<Kernel> {
    return Effect.map(Effect.context<never>(), (ctx) => new Kernel(ctx, options))
  }

  /** Register a program under a name or path, for execve(2) and spawn. */
  register(name: string, program: Program, attrs: { mode?: number; uid?: number; gid?: number } = {}): void {
    this.programs.set(name, { program, mode: attrs.mode ?? 0o100755, uid: attrs.uid ?? 0, gid: attrs.gid ?? 0 })
  }

  addTaskHooks(h: TaskHooks): () => void {
    this.taskHooks.push(h)
    return () => void this.taskHooks.splice(this.taskHooks.indexOf(h), 1)
  }

  addSecurityHooks(h: SecurityHooks): () => void {
    this.securityHooks.push(h)
    return () => void this.securityHooks.splice(this.securityHooks.indexOf(h), 1)
  }

  makeProcess(task: Task): Process {
    return new Process(task)
  }

  /** Start PID 1 on `program` (or a registered name). */
  start(program: Program | string, argv: ReadonlyArray<string> = ["init"]): Effect.Effect<void, SysError> {
    return Effect.suspend(() => {
      const t = this.initTask
      if (t.sched !== "new") return Effect.fail(sysError("EBUSY", "start", "init is already running"))
      const p = typeof program === "string" ? this.programs.get(program)?.program : program
      if (p === undefined) return Effect.fail(sysError("ENOENT", "start", `no program ${String(program)}`))
      t.program = p
      t.argv = argv
      if (typeof program === "string") t.comm = program.slice(program.lastIndexOf("/") + 1, program.lastIndexOf("/") + 16)
      this.wakeNew(t)
      return Effect.void
    })
  }

  /**
   * Start PID 1 on `program` and wait for it to exit: its wait status. Dies
   * when every task is blocked with no timer that could wake one (a
   * deadlock: nothing outside the kernel drives it here).
   */
  run(program: Program | string, argv?: ReadonlyArray<string>): Effect.Effect<number, SysError> {
    return Effect.andThen(
      this.start(program, argv),
      Effect.callback<number>((resume) => {
        if (this.initStatus !== undefined) return resume(Effect.succeed(this.initStatus))
        const check = (): void => {
          if (this.initStatus !== undefined) return
          if (this.timers.size > 0) return void this.idleWaiters.push(check)
          resume(Effect.die(`deadlock: every task is blocked\n${this.ps()}`))
        }
        this.initDone.push((s) => resume(Effect.succeed(s)))
        // the tasks may all have run and blocked already, inside start()
        if (this.current === undefined && this.runq.length === 0) check()
        else this.idleWaiters.push(check)
      })
    )
  }

  /** A ps(1)-like listing of live tasks: pid, state, wait channel, comm. */
  ps(): string {
    const rows: Array<string> = []
    for (const [nr, pid] of this.initPidNs.idr) {
      const t = pid?.task
      if (t !== undefined) rows.push(`${nr} ${t.exitState.tag} ${t.sched}${t.chan === undefined ? "" : `:${t.chan}`} ${t.comm}`)
    }
    return rows.join("\n")
  }

  /** The wait status of PID 1, once it has exited. */
  waitInit(): Effect.Effect<number> {
    return Effect.callback<number>((resume) => {
      if (this.initStatus !== undefined) return resume(Effect.succeed(this.initStatus))
      this.initDone.push((s) => resume(Effect.succeed(s)))
    })
  }

  /** Wait until no task can run: every task is blocked, stopped or gone. */
  settle(): Effect.Effect<void> {
    return Effect.callback<void>((resume) => {
      if (this.current === undefined && this.runq.length === 0) return resume(Effect.void)
      this.idleWaiters.push(() => resume(Effect.void))
    })
  }

  /** find_task_by_pid_ns() in the initial namespace. */
  findTask(pid: number): Task | undefined {
    return this.initPidNs.findTask(pid)
  }

  /** Send a signal from the kernel (SI_KERNEL), as a test or the app's console would. */
  kill(pid: number, sig: number): SysError | undefined {
    const t = this.findTask(pid)
    if (t === undefined) return sysError("ESRCH", "kill")
    sigqueueKill(t, sig)
    return undefined
  }

  /**
   * Shut down: PID 1 is killed (SIGKILL it cannot ignore here), its death
   * kills every other task, the kernel reaps it, and the initial
   * namespaces are released, so the leak audit reads zero.
   */
  shutdown(): Effect.Effect<void> {
    const k = this
    return Effect.gen(function* () {
      if (k.down) return
      const init = k.initTask
      if (init.sched === "new") k.wakeNew(init)
      if (init.exitState.tag === "running") forceKill(init)
      yield* k.settle()
      yield* k.waitInit()
      yield* k.settle()
      k.down = true
      for (const t of k.timers) t.interruptUnsafe()
      k.timers.clear()
      k.initPidNs.put()
      k.initUserNs.put()
    })
  }

  /** Live timers (nanosleep): interrupted at shutdown. */
  readonly timers = new Set<Fiber.Fiber<void>>()

  /**
   * Called when an execve(2) passes its point of no return, with what the
   * new program was started with: where a tracer learns of a successful
   * execve, which never returns to its caller.
   */
  readonly execHooks = new Set<(t: Task, path: string, argv: ReadonlyArray<string>, envp: ReadonlyArray<string>) => void>()

  // ---------------------------------------------------------------- scheduler

  /** The first run of a task: its fiber starts when it is dispatched. */
  wakeNew(t: Task): void {
    t.resume = START
    t.sched = "runnable"
    this.runq.push(t)
    this.kick()
  }

  /** wake_up_process(): a blocked task becomes runnable (a woken task runs before earlier ones). */
  wakeUp(t: Task): void {
    if (t.sched !== "blocked") return
    t.sched = "runnable"
    t.chan = undefined
    if (t.timer !== undefined) {
      this.timers.delete(t.timer)
      t.timer.interruptUnsafe()
      t.timer = undefined
    }
    this.runq.push(t)
    this.kick()
  }

  /** Wake `t` if it sleeps on `chan`. */
  wakeChan(t: Task, chan: WaitChan): void {
    if (t.sched === "blocked" && t.chan === chan) this.wakeUp(t)
  }

  /**
   * The running task stays runnable but lets others go first: after a fork
   * it goes just below the child (`last` false), so it continues once the
   * child and whatever the child wakes have blocked or exited; sched_yield
   * puts it below every runnable task (`last` true).
   */
  yieldCurrent(t: Task, last = false): void {
    if (t.sched !== "running") return
    t.sched = "runnable"
    if (last) this.runq.unshift(t)
    else this.runq.push(t)
  }

  /** The tasks runnable now: a mark to tell the tasks a call is about to wake from those already waiting. */
  runnableNow(): ReadonlySet<Task> {
    return new Set(this.runq)
  }

  /**
   * Wake-up preemption: the tasks made runnable since `before` (a
   * runnableNow() mark taken when `t`'s call began) run before `t` goes on,
   * each until it blocks or exits; the tasks that were runnable before keep
   * waiting behind `t`. Nothing happens when the call woke no one.
   */
  yieldToWoken(t: Task, before: ReadonlySet<Task>): Effect.Effect<void> {
    return Effect.suspend(() => {
      const q = this.runq
      const at = q.findIndex((w) => w !== t && w.sched === "runnable" && !before.has(w))
      if (at < 0 || t.sched !== "running" || this.current !== t) return Effect.void
      t.sched = "runnable"
      q.splice(at, 0, t)
      return this.park(t, undefined)
    })
  }

  /**
   * schedule(): the running task gives up the CPU (sleeping on `chan`, or
   * runnable again) and continues when dispatched.
   */
  park(t: Task, chan: WaitChan | undefined): Effect.Effect<void> {
    return Effect.callback<void>((resume) => {
      t.resume = resume
      if (t.sched === "running") {
        t.sched = "blocked"
        t.chan = chan
      }
      if (this.current === t) this.current = undefined
      this.kick()
    })
  }

  /**
   * wait_event_interruptible() on a wait queue: park `t` on `chan` until a
   * wake-up of `wq` finds `ready()` true (or a signal wakes it); the
   * waiter is removed when the task runs again or is interrupted.
   */
  sleepOn(
    t: Task,
    chan: WaitChan,
    wq: { add(fn: (events: number) => void): () => void },
    ready: () => boolean
  ): Effect.Effect<void> {
    return Effect.callback<void>((resume) => {
      const remove = wq.add(() => {
        if (ready()) this.wakeChan(t, chan)
      })
      t.resume = (wake) => {
        remove()
        resume(wake)
      }
      if (t.sched === "running") {
        t.sched = "blocked"
        t.chan = chan
      }
      if (this.current === t) this.current = undefined
      this.kick()
      return Effect.sync(remove)
    })
  }

  /** The running task is done for good. */
  finish(t: Task): void {
    t.sched = "done"
    t.resume = undefined
    t.fiber = undefined
    if (this.current === t) this.current = undefined
    this.kick()
  }

  private kick(): void {
    if (this.kicking) return
    this.kicking = true
    try {
      while (this.current === undefined && this.runq.length > 0) {
        const t = this.pick === undefined ? this.runq.pop()! : this.runq.splice(this.pick(this.runq.length), 1)[0]!
        if (t.sched !== "runnable") continue
        const r = t.resume
        if (r === undefined) continue
        t.resume = undefined
        t.sched = "running"
        this.current = t
        if (r === START) this.startFiber(t)
        else r(Effect.void)
      }
    } finally {
      this.kicking = false
    }
    if (this.current === undefined && this.runq.length === 0 && this.idleWaiters.length > 0) {
      const w = this.idleWaiters
      this.idleWaiters = []
      for (const f of w) f()
    }
  }

  private startFiber(t: Task): void {
    t.fiber = Effect.runForkWith(this.ctx)(taskMain(t))
  }

  /** A timer fiber for nanosleep, in the kernel's context (a TestClock in tests). */
  startTimer(t: Task, ms: number, onFire: () => void): void {
    const f = Effect.runForkWith(this.ctx)(Effect.andThen(Effect.sleep(ms), Effect.sync(onFire)))
    t.timer = f
    this.timers.add(f)
    f.addObserver(() => this.timers.delete(f))
  }

  /** PID 1 of the initial namespace became a zombie: the kernel reaps it. */
  initExited(t: Task): void {
    const status = (t.signal.flags & SIGNAL_GROUP_EXIT) !== 0 ? t.signal.groupExitCode : t.exitCode
    if (t.exitState === ZOMBIE) releaseTask(t)
    this.initStatus = status
    const w = this.initDone
    this.initDone = []
    for (const f of w) f(status)
  }
}

/** The resume of a task that has not run yet: dispatching it starts its fiber. */
const START = (_: Effect.Effect<void>): void => {}

/** Attach the pids of the first process (its part of copy_process()). */
const attachProcess = (t: Task): void => {
  t.pid.task = t
  t.pid.leader = t
  ;(t.pid.pgrp ??= new Set()).add(t)
  ;(t.pid.session ??= new Set()).add(t)
  t.signal.threads.push(t)
}

/**
 * A task's fiber: run its program and exit with what it returned
 * (exit_group), or as Linux treats a crash; then leave the CPU.
 */
const taskMain = (t: Task): Effect.Effect<void> =>
  Effect.flatMap(Effect.exit(Effect.suspend(() => t.program(t.process))), (exit) =>
    Effect.map((t.flags & PF_EXITING) === 0 ? exitAfter(t, exit) : Effect.void, () => t.kernel.finish(t))
  )

const exitAfter = (t: Task, exit: Exit.Exit<number, SysError>): Effect.Effect<void> => {
  if (Exit.isSuccess(exit)) return doGroupExit(t, W_EXITCODE(exit.value & 0xff, 0))
  const cause = exit.cause
  const err = Cause.findErrorOption(cause)
  if (err._tag === "Some") {
    t.kernel.log.push(`${t.comm}[${t.pid.nr}]: unhandled ${err.value.errno}`)
    return doGroupExit(t, W_EXITCODE(1, 0))
  }
  if (Cause.hasInterruptsOnly(cause)) return doGroupExit(t, SIGKILL)
  t.kernel.log.push(`oops: ${t.comm}[${t.pid.nr}]: ${Cause.pretty(cause)}`)
  return doGroupExit(t, SIGSEGV)
}

