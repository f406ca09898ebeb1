import {
  CLONE_FILES,
  CLONE_FS,
  CLONE_NEWCGROUP,
  CLONE_NEWIPC,
  CLONE_NEWNET,
  CLONE_NEWNS,
  CLONE_NEWPID,
  CLONE_NEWTIME,
  CLONE_NEWUSER,
  CLONE_NEWUTS,
  CLONE_SIGHAND,
  CLONE_SYSVSEM,
  CLONE_THREAD,
  CLONE_VFORK,
  CLONE_VM,
  P_PIDFD,
  POLLERR,
  POLLHUP,
  POLLNVAL,
  SIGCHLD,
  sysError,
  SysError,
  W_EXITCODE,
  WNOHANG
} from "@simkernel/abi"
import { abortCreds, commitCreds, isDumpabilityChanged, type NewCred, setgid, setuid, unshareUserns } from "@simkernel/cred"
import { switchTaskNamespaces, unshareNsproxyNamespaces } from "@simkernel/nsproxy"
import { Clock, Effect } from "effect"
import { doExecve } from "./exec.js"
import { doExit, doGroupExit } from "./exit.js"
import { clone3Args, type CloneArgs, cloneArgsFromLegacy, type CloneResult, kernelClone, type KernelCloneArgs } from "./fork.js"
import { pidfdGet, pidfdOpen, pidfdSendSignal, setnsByPidfd } from "./pidfd.js"
import { doSigaction, doTkill, getSignal, killSomething, signalPending, sigprocmask } from "./signal.js"
import type { SigAction } from "./signal-types.js"
import type { SigSet } from "./sigset.js"
import { getpgid, getsid, prctl, setpgid, setsid } from "./sys.js"
import { PF_EXITING, type Task } from "./Task.js"
import { doWait, type WaitResult, wait4Opts, waitidOpts } from "./wait.js"

/** A program: what a task runs, given its Process handle; it returns the exit status. */
export type Program = (proc: Process) => Effect.Effect<number, SysError>

/** wait4/waitid's answer when WNOHANG finds nothing ready: pid 0. */
export const WAIT_NONE: WaitResult = Object.freeze({ pid: 0, status: 0, code: 0, siStatus: 0, uid: 0, rusage: { utime: 0, stime: 0 } })

/** A poll(2) request on one descriptor. */
export interface PollFd {
  readonly fd: number
  readonly events: number
}

/**
 * After a syscall: charge its CPU time and deliver pending signals, as the
 * return to user mode does.
 */
const finish = <A>(t: Task, r: A): Effect.Effect<Exclude<A, SysError>, SysError> => {
  t.stime += t.kernel.syscallCost
  if (r instanceof SysError) return signalPending(t) ? Effect.andThen(getSignal(t), Effect.fail(r)) : Effect.fail(r)
  const a = r as Exclude<A, SysError>
  return signalPending(t) ? Effect.as(getSignal(t), a) : Effect.succeed(a)
}

/** A dead task makes no more syscalls: its program is being unwound. */
const dead = (t: Task): boolean => (t.flags & PF_EXITING) !== 0

const cloneEffect = Effect.fnUntraced(function* (t: Task, args: KernelCloneArgs | SysError) {
  if (args instanceof SysError) return yield* finish(t, args)
  const r = yield* kernelClone(t, args)
  return yield* finish(t, r)
})

const waitEffect = Effect.fnUntraced(function* (t: Task, wo: ReturnType<typeof wait4Opts>, syscall: string) {
  if (wo instanceof SysError) return yield* finish(t, wo)
  const r = yield* doWait(t, wo, syscall)
  return yield* finish(t, r ?? WAIT_NONE)
})

const exitEffect = Effect.fnUntraced(function* (t: Task, code: number, group: boolean) {
  if (group) yield* doGroupExit(t, code)
  else yield* doExit(t, code)
  return yield* Effect.interrupt
})

const execEffect = Effect.fnUntraced(function* (t: Task, path: string, argv: ReadonlyArray<string>, envp: ReadonlyArray<string>) {
  const entry = yield* doExecve(t, path, argv, envp).pipe(Effect.catch((e: SysError) => finish(t, e)))
  if (signalPending(t)) yield* getSignal(t)
  const code = yield* entry.program(t.process).pipe(
    Effect.catch((e: SysError) =>
      Effect.sync(() => {
        t.kernel.log.push(`${t.comm}[${t.pid.nr}]: unhandled ${e.errno}`)
        return 1
      })
    )
  )
  return yield* exitEffect(t, W_EXITCODE(code & 0xff, 0), true)
})

/** pause(2): sleep until a signal runs a handler (then EINTR) or kills. */
const pauseEffect = (t: Task): Effect.Effect<never, SysError> =>
  Effect.suspend(() => {
    if (dead(t)) return Effect.interrupt
    return signalPending(t) ? pauseWoken(t) : Effect.flatMap(t.kernel.park(t, "pause"), () => pauseWoken(t))
  })

const pauseWoken = (t: Task): Effect.Effect<never, SysError> =>
  signalPending(t)
    ? Effect.flatMap(getSignal(t), (d) => (d.handled > 0 ? Effect.fail(sysError("EINTR", "pause")) : pauseEffect(t)))
    : pauseEffect(t)

/** nanosleep(2): sleep `ms` on the kernel's clock; EINTR when a handler runs. */
const sleepEffect = Effect.fnUntraced(function* (t: Task, ms: number) {
  const k = t.kernel
  const deadline = (yield* Clock.currentTimeMillis) + ms
  for (;;) {
    const now = yield* Clock.currentTimeMillis
    if (now >= deadline) return yield* finish(t, undefined)
    if (!signalPending(t)) {
      k.startTimer(t, deadline - now, () => k.wakeChan(t, "sleep"))
      yield* k.park(t, "sleep")
    }
    if (signalPending(t)) {
      const d = yield* getSignal(t)
      if (d.handled > 0) return yield* Effect.fail(sysError("EINTR", "nanosleep"))
    }
  }
})

/** poll(2) on pidfds: readable when the process has exited. */
const pollEffect = Effect.fnUntraced(function* (t: Task, fds: ReadonlyArray<PollFd>, timeoutMs: number) {
  const k = t.kernel
  const deadline = timeoutMs > 0 ? (yield* Clock.currentTimeMillis) + timeoutMs : 0
  for (;;) {
    const revents: Array<number> = []
    let ready = 0
    const pids = []
    for (const { fd, events } of fds) {
      const f = t.files === undefined ? undefined : pidfdGet(t, fd, "poll")
      const r = f === undefined || f instanceof SysError ? POLLNVAL : f.poll() & (events | POLLERR | POLLHUP)
      if (r !== 0) ready++
      else if (f !== undefined && !(f instanceof SysError)) pids.push(f.pid)
      revents.push(r)
    }
    if (ready > 0 || timeoutMs === 0) return yield* finish(t, revents)
    if (timeoutMs > 0 && (yield* Clock.currentTimeMillis) >= deadline) return yield* finish(t, revents)
    if (!signalPending(t)) {
      const wake = () => k.wakeChan(t, "poll")
      for (const p of pids) (p.pollWaiters ??= []).push(wake)
      if (timeoutMs > 0) k.startTimer(t, deadline - (yield* Clock.currentTimeMillis), wake)
      yield* k.park(t, "poll")
      for (const p of pids) {
        const w = p.pollWaiters
        if (w !== undefined) {
          const i = w.indexOf(wake)
          if (i >= 0) w.splice(i, 1)
        }
      }
    }
    if (signalPending(t)) {
      const d = yield* getSignal(t)
      if (d.handled > 0) return yield* Effect.fail(sysError("EINTR", "poll"))
    }
  }
})

const UNSHARE_FLAGS =
  CLONE_THREAD | CLONE_FS | CLONE_NEWNS | CLONE_SIGHAND | CLONE_VM | CLONE_FILES | CLONE_SYSVSEM | CLONE_NEWUTS | CLONE_NEWIPC |
  CLONE_NEWNET | CLONE_NEWUSER | CLONE_NEWPID | CLONE_NEWCGROUP | CLONE_NEWTIME

/**
 * ksys_unshare()'s flag checks: EINVAL for unknown flags or for
 * CLONE_THREAD/CLONE_SIGHAND/CLONE_VM in a multithreaded process.
 * CLONE_NEWUSER implies CLONE_THREAD and CLONE_FS, CLONE_NEWNS implies CLONE_FS.
 */
const unshareFlags = (t: Task, flags: number): number | SysError => {
  if (!Number.isInteger(flags) || flags < 0 || flags > 0xffffffff || (flags & ~UNSHARE_FLAGS) !== 0) return sysError("EINVAL", "unshare")
  if ((flags & CLONE_NEWUSER) !== 0) flags |= CLONE_THREAD | CLONE_FS
  if ((flags & CLONE_NEWNS) !== 0) flags |= CLONE_FS
  if ((flags & (CLONE_THREAD | CLONE_SIGHAND | CLONE_VM)) !== 0 && !t.threadGroupEmpty) return sysError("EINVAL", "unshare")
  return flags
}

/**
 * The rest of ksys_unshare(): new namespaces (nsproxy's
 * unshareNsproxyNamespaces, owned by the new user namespace in `draft` if
 * any), a private fs_struct or descriptor table, then commit.
 */
const unshareCommit = (t: Task, flags: number, draft: NewCred | undefined): number | SysError => {
  const nsp = unshareNsproxyNamespaces(flags, t.nsproxy!, t.cred, draft, { activePidNs: t.activePidNs, fs: t.fs })
  if (nsp instanceof SysError) {
    if (draft !== undefined) abortCreds(draft)
    return nsp
  }
  if ((flags & CLONE_FS) !== 0 && t.fs !== undefined && t.fs.users > 1) {
    const own = t.fs.copy()
    t.fs.put()
    t.fs = own
  }
  if ((flags & CLONE_FILES) !== 0 && t.files !== undefined && t.files.count() > 1) {
    const own = t.files.copy()
    t.files.put()
    t.files = own
  }
  if (draft !== undefined && commitCreds(t, draft)) t.pdeathSignal = 0
  if (nsp !== undefined) switchTaskNamespaces(t, nsp)
  return 0
}

/**
 * The calls a task makes, with Linux's names and argument order, as its
 * program sees them. Every call returns an Effect that fails with the
 * errno Linux gives; signals are delivered when a call returns.
 */
export class Process {
  constructor(readonly task: Task) {}

  // identity

  /** getpid(2): the thread-group id in the caller's PID namespace. */
  getpid(): Effect.Effect<number> {
    return Effect.sync(() => this.task.tgidIn(this.task.activePidNs))
  }

  /** gettid(2). */
  gettid(): Effect.Effect<number> {
    return Effect.sync(() => this.task.pidIn(this.task.activePidNs))
  }

  /** getppid(2): 0 when the parent is outside the caller's PID namespace. */
  getppid(): Effect.Effect<number> {
    return Effect.sync(() => this.task.groupLeader.realParent?.tgidIn(this.task.activePidNs) ?? 0)
  }

  getpgrp(): Effect.Effect<number, SysError> {
    return this.getpgid(0)
  }

  getpgid(pid: number): Effect.Effect<number, SysError> {
    return Effect.suspend(() => finish(this.task, getpgid(this.task, pid)))
  }

  setpgid(pid: number, pgid: number): Effect.Effect<number, SysError> {
    return Effect.suspend(() => finish(this.task, setpgid(this.task, pid, pgid) ?? 0))
  }

  getsid(pid: number): Effect.Effect<number, SysError> {
    return Effect.suspend(() => finish(this.task, getsid(this.task, pid)))
  }

  setsid(): Effect.Effect<number, SysError> {
    return Effect.suspend(() => finish(this.task, setsid(this.task)))
  }

  // processes

  /** fork(2): `child` runs in the new process; returns its pid. */
  fork(child: Program): Effect.Effect<number, SysError> {
    return Effect.map(cloneEffect(this.task, { flags: 0, exitSignal: SIGCHLD, fn: child }), (r) => r.pid)
  }

  /** vfork(2): the caller sleeps until the child execs or exits. */
  vfork(child: Program): Effect.Effect<number, SysError> {
    return Effect.map(cloneEffect(this.task, { flags: CLONE_VM | CLONE_VFORK, exitSignal: SIGCHLD, fn: child }), (r) => r.pid)
  }

  /**
   * clone(2) as glibc's wrapper takes it: `fn` runs in the child; the low
   * byte of `flags` is the exit signal. Returns the child's tid and the
   * pidfd (CLONE_PIDFD) or -1.
   */
  clone(fn: Program, flags: number): Effect.Effect<CloneResult, SysError> {
    return Effect.suspend(() => cloneEffect(this.task, cloneArgsFromLegacy(flags, fn)))
  }

  /** clone3(2). */
  clone3(args: CloneArgs, fn: Program): Effect.Effect<CloneResult, SysError> {
    return Effect.suspend(() => cloneEffect(this.task, clone3Args(args, fn)))
  }

  /** execve(2) of a program registered under `path`: never returns on success. */
  execve(path: string, argv: ReadonlyArray<string>, envp: ReadonlyArray<string> = []): Effect.Effect<never, SysError> {
    return execEffect(this.task, path, argv, envp)
  }

  /** exit(2): this thread ends with `status & 0xff`. */
  exit(status: number): Effect.Effect<never> {
    return exitEffect(this.task, W_EXITCODE(status & 0xff, 0), false)
  }

  /** exit_group(2): every thread of the process ends. */
  exit_group(status: number): Effect.Effect<never> {
    return exitEffect(this.task, W_EXITCODE(status & 0xff, 0), true)
  }

  /** wait4(2): pid 0 with WNOHANG when no child is ready. */
  wait4(pid: number, options = 0): Effect.Effect<WaitResult, SysError> {
    return Effect.suspend(() => (dead(this.task) ? Effect.interrupt : waitEffect(this.task, wait4Opts(this.task, pid, options), "wait4")))
  }

  waitpid(pid: number, options = 0): Effect.Effect<WaitResult, SysError> {
    return this.wait4(pid, options)
  }

  /** waitid(2): for P_PIDFD `id` is a pidfd (EBADF if not; with PIDFD_NONBLOCK, EAGAIN instead of blocking). */
  waitid(idtype: number, id: number, options: number): Effect.Effect<WaitResult, SysError> {
    return Effect.suspend(() => {
      const t = this.task
      if (idtype === P_PIDFD && id >= 0) {
        const f = pidfdGet(t, id, "waitid")
        if (f instanceof SysError) return finish(t, f)
        const wo = waitidOpts(t, idtype, id, options, f.pid)
        if (wo instanceof SysError || !f.nonblock || (wo.flags & WNOHANG) !== 0) return waitEffect(t, wo, "waitid")
        // a PIDFD_NONBLOCK pidfd waits like WNOHANG, but says EAGAIN instead of pid 0
        return Effect.flatMap(waitEffect(t, { ...wo, flags: wo.flags | WNOHANG }, "waitid"), (r) =>
          r.pid === 0 ? Effect.fail(sysError("EAGAIN", "waitid")) : Effect.succeed(r)
        )
      }
      return waitEffect(t, waitidOpts(t, idtype, id, options), "waitid")
    })
  }

  // signals

  /** kill(2). */
  kill(pid: number, sig: number): Effect.Effect<number, SysError> {
    return Effect.suspend(() => finish(this.task, killSomething(this.task, pid, sig) ?? 0))
  }

  /** tgkill(2). */
  tgkill(tgid: number, tid: number, sig: number): Effect.Effect<number, SysError> {
    return Effect.suspend(() => finish(this.task, doTkill(this.task, tgid, tid, sig, "tgkill") ?? 0))
  }

  /** tkill(2). */
  tkill(tid: number, sig: number): Effect.Effect<number, SysError> {
    return Effect.suspend(() => finish(this.task, doTkill(this.task, -1, tid, sig, "tkill") ?? 0))
  }

  /** rt_sigaction(2): returns the old action. */
  sigaction(sig: number, act?: SigAction): Effect.Effect<SigAction, SysError> {
    return Effect.suspend(() => finish(this.task, doSigaction(this.task, sig, act)))
  }

  /** rt_sigprocmask(2): returns the old mask. */
  sigprocmask(how: number, set?: SigSet): Effect.Effect<SigSet, SysError> {
    return Effect.suspend(() => finish(this.task, sigprocmask(this.task, how, set)))
  }

  /** rt_sigpending(2): blocked signals pending for the thread or the process. */
  sigpending(): Effect.Effect<SigSet> {
    return Effect.sync(() => (this.task.pending.set | this.task.signal.shared.set) & this.task.blocked)
  }

  /** pause(2): always fails, with EINTR, after a handler ran. */
  pause(): Effect.Effect<never, SysError> {
    return pauseEffect(this.task)
  }

  /** nanosleep(2) for `ms` milliseconds of the kernel's clock. */
  nanosleep(ms: number): Effect.Effect<void, SysError> {
    return Effect.suspend(() => (dead(this.task) ? Effect.interrupt : sleepEffect(this.task, ms)))
  }

  /** sched_yield(2): let every other runnable task run first. */
  sched_yield(): Effect.Effect<number, SysError> {
    return Effect.suspend(() => {
      const t = this.task
      t.kernel.yieldCurrent(t, true)
      return Effect.andThen(t.kernel.park(t, undefined), finish(t, 0))
    })
  }

  // pidfds

  /** pidfd_open(2). */
  pidfd_open(pid: number, flags = 0): Effect.Effect<number, SysError> {
    return Effect.suspend(() => finish(this.task, pidfdOpen(this.task, pid, flags)))
  }

  /** pidfd_send_signal(2) (siginfo is not supported: pass undefined). */
  pidfd_send_signal(pidfd: number, sig: number, info?: undefined, flags = 0): Effect.Effect<number, SysError> {
    return Effect.suspend(() => finish(this.task, info !== undefined ? sysError("EINVAL", "pidfd_send_signal") : (pidfdSendSignal(this.task, pidfd, sig, flags) ?? 0)))
  }

  /** poll(2) over pidfds: returns each descriptor's revents (POLLNVAL for anything not a pidfd). */
  poll(fds: ReadonlyArray<PollFd>, timeoutMs: number): Effect.Effect<Array<number>, SysError> {
    return Effect.suspend(() => (dead(this.task) ? Effect.interrupt : pollEffect(this.task, fds, timeoutMs)))
  }

  /** close(2). */
  close(fd: number): Effect.Effect<number, SysError> {
    return Effect.suspend(() => {
      const t = this.task
      if (t.files === undefined) return finish(t, sysError("EBADF", "close"))
      return finish(t, t.kernel.fdAdapter.close(t.files, fd) ?? 0)
    })
  }

  // the rest

  /** prctl(2): PR_SET/GET_PDEATHSIG, PR_SET/GET_CHILD_SUBREAPER, PR_SET/GET_NAME. */
  prctl(option: number, arg2: number | string = 0): Effect.Effect<number | string, SysError> {
    return Effect.suspend(() => finish(this.task, prctl(this.task, option, arg2)))
  }

  /** setns(2) with a pidfd: `nstype` is a set of CLONE_NEW* flags. */
  setns(fd: number, nstype: number): Effect.Effect<number, SysError> {
    return Effect.suspend(() => finish(this.task, setnsByPidfd(this.task, fd, nstype) ?? 0))
  }

  /** unshare(2). */
  unshare(flags: number): Effect.Effect<number, SysError> {
    return Effect.suspend(() => {
      const t = this.task
      const f = unshareFlags(t, flags)
      if (f instanceof SysError) return finish(t, f)
      if ((f & CLONE_NEWUSER) === 0) return finish(t, unshareCommit(t, f, undefined))
      return Effect.matchEffect(unshareUserns(t.cred), {
        onFailure: (e) => finish(t, e),
        onSuccess: (draft) => finish(t, unshareCommit(t, f, draft))
      })
    })
  }

  /** setuid(2) (cred's rules); a change of credentials clears pdeath_signal, as commit_creds() does. */
  setuid(uid: number): Effect.Effect<number, SysError> {
    return this.credChange(setuid(this.task, uid))
  }

  /** setgid(2). */
  setgid(gid: number): Effect.Effect<number, SysError> {
    return this.credChange(setgid(this.task, gid))
  }

  private credChange(change: Effect.Effect<void, SysError>): Effect.Effect<number, SysError> {
    return Effect.suspend(() => {
      const t = this.task
      const old = t.cred.get()
      return change.pipe(
        Effect.ensuring(
          Effect.sync(() => {
            if (t.cred !== old && isDumpabilityChanged(old, t.cred)) t.pdeathSignal = 0
            old.put()
          })
        ),
        Effect.matchEffect({ onFailure: (e) => finish(t, e), onSuccess: () => finish(t, 0) })
      )
    })
  }

  /** Spend `ns` of simulated user CPU time (shows in rusage). */
  burn(ns: number): Effect.Effect<void> {
    return Effect.sync(() => void (this.task.utime += ns))
  }
}
