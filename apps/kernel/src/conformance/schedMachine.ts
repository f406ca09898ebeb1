import {
  CLONE_NEWUSER,
  Oops,
  SIG_DFL,
  SIG_IGN,
  signalName,
  sysError,
  SysError
} from "@simkernel/abi"
import { type Cred, procGidMapWrite, procSetgroupsWrite, procUidMapWrite } from "@simkernel/cred"
import { LiveObjects } from "@simkernel/kref"
import type { IpcNamespace } from "@simkernel/nsproxy"
import {
  bootOnVfsWorld,
  EMPTY_SIGSET,
  getSignal,
  type Kernel,
  type Process,
  type Program,
  type SigAction,
  signalPending,
  type Task,
  type WaitResult
} from "@simkernel/sched"
import {
  close,
  createScenarioWorld,
  pipe,
  type FdTable,
  type FsStruct,
  type MountNamespace,
  type Vfs,
  type VfsTask
} from "@simkernel/vfs"
import { Cause, Effect, Exit } from "effect"
import { ArgError, type Decoded } from "./args.js"
import type { ResultsFile, Scenario, ScenarioFile, ScenarioResult, StepResult } from "./format.js"
import { runScenario, type ScenarioProcess } from "./runner.js"
import { openNsfd, setns } from "../syscalls/ns.js"
import { callFrom, vfsCalls } from "./vfsMachine.js"
import { containerMachineNamespaces, containerStepCalls, forkIntoContainer, installContainerMachine, usesContainerCalls } from "./container.js"
import { procfsObservationCalls } from "./procfsObserve.js"
import { registerProcfs } from "../procfs/index.js"

/**
 * The conformance machine with processes: a fresh @simkernel/sched kernel
 * per scenario, whose tasks carry the VFS state (@simkernel/vfs descriptor
 * tables, fs_structs and mount namespaces through the nsproxy), so that the
 * process steps of FORMAT.md section 5 run on real simulated processes and
 * the file calls on the same VFS as the VFS-only machine.
 *
 * The start state (FORMAT.md section 2): PID 1 of the initial PID namespace
 * plays the Linux runner. It forks the scenario process (an ordinary
 * process, pid 2, every signal at SIG_DFL), which calls setsid() so that it
 * leads its own session and process group, and whose parent (the runner) is
 * in another session. When the scenario's steps and the final observations
 * are done the scenario process exits, the runner returns, and its death
 * kills whatever the scenario left behind; the kernel is then shut down and
 * the leak audit must read zero.
 *
 * Tasks use the VFS through sched (its vfs-backed descriptor tables, FIFO
 * opens that wait for the other side, pidfd files); the ordering rule's
 * "a woken process runs before the one that woke it continues" is sched's
 * wake-up preemption (letWokenRun).
 */

/** What one scenario gave on this machine. */
export interface SchedScenarioRun {
  readonly result: ScenarioResult
  /** The leak audit after teardown when anything survived it (a failure of the scenario), else undefined. */
  readonly leaks: string | undefined
  /** Kernel messages (unhandled errors, oopses): empty on a good run. */
  readonly log: ReadonlyArray<string>
}

// ------------------------------------------------------------------ one process

const num = (d: Decoded | undefined): number => (typeof d === "number" ? d : 0)

/** Signals 1 to 31 by name, others as numbers (FORMAT.md 5.1). */
const sigName = (sig: number): string | number => signalName(sig) ?? sig

/** wait4's status as a result object (FORMAT.md 5.1), 0 when WNOHANG found nothing. */
const waitRet = (r: WaitResult): unknown => {
  if (r.pid === 0) return 0
  const s = r.status
  if ((s & 0x7f) === 0) return { exited: (s >> 8) & 0xff }
  if (s === 0xffff) return { continued: true }
  if ((s & 0xff) === 0x7f) return { stopped: sigName((s >> 8) & 0xff) }
  return { signaled: sigName(s & 0x7f) }
}

/** The handler of signal_catch: does nothing, no SA_RESTART. */
const CATCH: SigAction = { handler: () => Effect.void, flags: 0, mask: EMPTY_SIGSET }
const IGNORE: SigAction = { handler: SIG_IGN, flags: 0, mask: EMPTY_SIGSET }
const DEFAULT: SigAction = { handler: SIG_DFL, flags: 0, mask: EMPTY_SIGSET }

/** The return to user mode: deliver what is pending (a fatal signal ends the fiber here). */
const deliverSignals = (t: Task): Effect.Effect<void> => Effect.suspend(() => (signalPending(t) ? Effect.asVoid(getSignal(t)) : Effect.void))

/**
 * The ordering rule of FORMAT.md 5.4 after a step of `t`: every task the
 * step made runnable runs until it blocks or exits before `t` goes on
 * (sched's wake-up preemption), then the return to user mode delivers
 * `t`'s own pending signals.
 */
const letWokenRun = (t: Task, before: ReadonlySet<Task>): Effect.Effect<void> =>
  Effect.andThen(t.kernel.yieldToWoken(t, before), deliverSignals(t))

interface Machine {
  readonly kernel: Kernel
  readonly vfs: Vfs
}

/**
 * The VFS's view of a task: its credentials, fs_struct, descriptor table
 * and namespaces, read from the task at each call (they change with
 * unshare, setns and exit). Namespace changes go through the nsproxy, never
 * through this view.
 */
const vfsView = (t: Task): VfsTask & { mntNs: MountNamespace; cred: Cred; ipcNs: IpcNamespace } => ({
  get cred() {
    return t.cred
  },
  get fs() {
    return t.fs as FsStruct
  },
  get files() {
    return t.files as unknown as FdTable
  },
  get mntNs() {
    return t.nsproxy!.mnt as MountNamespace
  },
  set mntNs(_ns: MountNamespace) {
    throw new Oops("the conformance machine changes mount namespaces through the task's nsproxy")
  },
  get ipcNs(): IpcNamespace {
    return t.nsproxy!.ipc
  },
  set ipcNs(_ns: IpcNamespace) {
    throw new Oops("the conformance machine changes IPC namespaces through the task's nsproxy")
  },
  nofile: 1024
})

/**
 * The scenario-facing side of one task: process steps are the task's
 * sched calls (Process), file calls the VFS call table of vfsMachine over
 * the task's VFS state. Every step ends with the ordering rule of FORMAT.md
 * 5.4 (letWokenRun): whatever the step woke runs until it blocks or exits
 * before the task's next step, and the return to user mode delivers the
 * task's own pending signals.
 */
const scenarioProcess = (m: Machine, proc: Process): ScenarioProcess => {
  const t = proc.task
  const view = vfsView(t)
  const { calls: fileCalls, observe } = vfsCalls({ vfs: m.vfs, task: view })

  const settle = <A, E>(e: Effect.Effect<A, E>): Effect.Effect<A, E> =>
    Effect.suspend(() => {
      const older = m.kernel.runnableNow()
      return Effect.matchEffect(e, {
        onFailure: (err) => Effect.andThen(letWokenRun(t, older), Effect.fail(err)),
        onSuccess: (a) => Effect.as(letWokenRun(t, older), a)
      })
    })

  const sigaction = (a: ReadonlyArray<Decoded>, act: SigAction) => Effect.as(proc.sigaction(num(a[0]), act), 0)

  const kill = (a: ReadonlyArray<Decoded>): Effect.Effect<number, SysError | ArgError> => {
    const pid = num(a[0])
    if (pid <= 0) return Effect.fail(new ArgError(`kill: pid ${pid}: scenarios signal one process (pid > 0)`))
    const target = t.activePidNs.findTask(pid)
    if (target !== undefined && target.groupLeader === m.kernel.initTask) {
      return Effect.fail(new ArgError(`kill: pid ${pid} is not a process of the scenario`))
    }
    return proc.kill(pid, num(a[1]))
  }

  const unshare = (flags: number) =>
    Effect.flatMap(proc.unshare(flags), () =>
      Effect.gen(function* () {
        if ((flags & CLONE_NEWUSER) !== 0) {
          // the runner convention of FORMAT.md: root inside, mapped to root outside
          const ns = t.cred.userNs
          yield* Effect.ignore(procSetgroupsWrite(ns, "deny", t.cred))
          yield* Effect.ignore(procUidMapWrite(ns, "0 0 1", t.cred))
          yield* Effect.ignore(procGidMapWrite(ns, "0 0 1", t.cred))
        }
        return 0
      })
    )

  /** read(2) through sched: an empty pipe or FIFO with writers blocks the task. */
  const read = (a: ReadonlyArray<Decoded>): Effect.Effect<unknown, SysError> => {
    const buf = new Uint8Array(a[1] === undefined ? 4096 : num(a[1]))
    return Effect.map(proc.read(num(a[0]), buf), (n) => ({ data: new TextDecoder().decode(buf.subarray(0, n)) }))
  }

  /** write(2) through sched: a full pipe blocks; no reader left is EPIPE with SIGPIPE. */
  const write = (a: ReadonlyArray<Decoded>): Effect.Effect<number, SysError> =>
    proc.write(num(a[0]), new TextEncoder().encode((typeof a[1] === "string" ? a[1] : "").repeat(a[2] === undefined ? 1 : num(a[2]))))

  /** openat(2) through sched, so that a FIFO open waits for the other side. */
  const openat = (a: ReadonlyArray<Decoded>): Effect.Effect<number, SysError> =>
    typeof a[1] === "string" ? proc.openat(num(a[0]), a[1], num(a[2]), num(a[3])) : Effect.fail(sysError("EFAULT", "openat"))

  const procCalls: Readonly<Record<string, (a: ReadonlyArray<Decoded>) => Effect.Effect<unknown, SysError | ArgError>>> = {
    waitpid: (a) => Effect.map(proc.wait4(num(a[0]), num(a[1])), waitRet),
    kill,
    getpid: () => proc.getpid(),
    getppid: () => proc.getppid(),
    pause: () => proc.pause(),
    prctl: (a) => proc.prctl(num(a[0]), num(a[1])),
    signal_ignore: (a) => sigaction(a, IGNORE),
    signal_default: (a) => sigaction(a, DEFAULT),
    signal_catch: (a) => sigaction(a, CATCH),
    unshare: (a) => unshare(num(a[0])),
    setns: (a) => setns(proc, num(a[0]), num(a[1])),
    setresuid: (a) => proc.setresuid(num(a[0]), num(a[1]), num(a[2])),
    setresgid: (a) => proc.setresgid(num(a[0]), num(a[1]), num(a[2])),
    setgroups: (a) => proc.setgroups(num(a[0]), a[1] !== null && typeof a[1] === "object" && "gids" in a[1] ? a[1].gids : []),
    openat,
    read,
    write,
    nsfd: (a) =>
      Effect.suspend(() => {
        const r = openNsfd(m.vfs, t, String(a[0]))
        return r instanceof SysError ? Effect.fail(r) : Effect.succeed(r)
      }),
    ...procfsObservationCalls(view)
  }

  const containerCalls = containerStepCalls(proc)

  return {
    call: (name, args) => {
      const fn = procCalls[name] ?? containerCalls[name]
      return settle(fn !== undefined ? Effect.suspend(() => fn(args)) : callFrom(fileCalls, name, args))
    },
    fork: (name, args, body) => {
      const child: Program = (cp) => Effect.as(body(scenarioProcess(m, cp)), 0)
      if (name === "fork_into_container") return settle(forkIntoContainer(proc, args, child))
      if (name !== "fork") return Effect.fail(sysError("ENOSYS", name))
      return settle(proc.fork(child))
    },
    exit: (code) => proc.exit_group(code),
    ...observe
  }
}

// ------------------------------------------------------------------ one scenario

/**
 * Descriptors 0, 1 and 2 open in the scenario process (FORMAT.md section
 * 2: on Linux they are inherited from the runner), so that its first
 * descriptor is 3: two pipes, whose fourth end is closed again.
 */
const openStdio = (task: VfsTask): void => {
  pipe(task)
  const second = pipe(task)
  if (Array.isArray(second)) close(task, second[1])
}

/**
 * The result of a scenario the machine could not finish: the top-level steps
 * done so far, then the step in progress with a runner_error (FORMAT.md 6.2).
 */
const unfinished = (scenario: Scenario, done: ReadonlyArray<StepResult>, what: string): ScenarioResult => ({
  steps: [...done, { call: scenario.steps[done.length]?.call ?? "scenario", runner_error: what }],
  mounts: [],
  tree: {}
})

/**
 * Run one scenario on a freshly booted sched kernel in the FORMAT.md start
 * state, tear the kernel down, and audit leaks. Never fails: a scenario the
 * machine cannot finish (every process blocked, the scenario process
 * killed) gives a result with a runner_error.
 */
export const runSchedScenario = (scenario: Scenario): Effect.Effect<SchedScenarioRun> =>
  Effect.gen(function* () {
    const registry = new LiveObjects()
    const world = createScenarioWorld({ registry })
    // the seed's calls need the container package
    const withContainers = usesContainerCalls(scenario.steps)
    // the world's mount namespace and fs_struct become PID 1's; a network namespace as on
    // Linux (/proc/PID/ns/net, container_socket)
    const kernel = yield* bootOnVfsWorld(world, { namespaces: containerMachineNamespaces(world.userNs) })
    // "proc" can be mounted, as on the machine the Linux runner uses
    registerProcfs(world.vfs, kernel)
    const containers = withContainers ? installContainerMachine(kernel) : undefined

    const m: Machine = { kernel, vfs: world.vfs }
    let result: ScenarioResult | undefined
    const done: Array<StepResult> = []
    const scenarioProgram: Program = (proc) =>
      Effect.gen(function* () {
        yield* proc.setsid()
        openStdio(vfsView(proc.task))
        result = yield* runScenario(scenario, scenarioProcess(m, proc), done)
        return 0
      })
    // PID 1 is the runner: outside the scenario, in another session
    const runner: Program = (init) =>
      Effect.gen(function* () {
        const pid = yield* init.fork(scenarioProgram)
        yield* init.wait4(pid, 0)
        return 0
      })
    const ran = yield* Effect.exit(kernel.run(runner))
    yield* kernel.shutdown()
    containers?.shutdown()
    world.vfs.shutdown()
    const leaks = registry.size() > 0 ? registry.report() : undefined
    if (Exit.isFailure(ran)) {
      const e = Cause.squash(ran.cause)
      const text = e instanceof Error ? e.message : String(e)
      // sched's deadlock report: "deadlock: every task is blocked" and a ps listing (pid state wchan comm)
      const what = text.startsWith("deadlock:") ? `every process is blocked for good (${text.split("\n").slice(1).join("; ")})` : `kernel: ${text}`
      return { result: unfinished(scenario, done, what), leaks, log: kernel.log }
    }
    return { result: result ?? unfinished(scenario, done, "the scenario process was killed"), leaks, log: kernel.log }
  })

/**
 * Every scenario of a file (or only those named in `only`) on the sched
 * machine, each on a fresh kernel: the results in expected.json's format,
 * and per scenario that must count as failed, why: the leak audit after
 * teardown, or kernel log lines (an oops, an unhandled error).
 */
export const runScenariosOnSched = Effect.fnUntraced(function* (scenarios: ScenarioFile, only: ReadonlyArray<string> = []) {
  const results: Record<string, ScenarioResult> = {}
  const failures: Record<string, string> = {}
  for (const scenario of scenarios.scenarios) {
    if (only.length > 0 && !only.includes(scenario.name)) continue
    const run = yield* runSchedScenario(scenario)
    results[scenario.name] = run.result
    const why = [...(run.leaks === undefined ? [] : [run.leaks]), ...run.log.map((l) => `kernel log: ${l}`)]
    if (why.length > 0) failures[scenario.name] = why.join("\n")
  }
  const file: ResultsFile = {
    meta: { arch: "x86_64", format: 1, kernel: "simkernel", scenario_count: Object.keys(results).length },
    scenarios: results
  }
  return { file, failures }
})
