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
  SIGPIPE,
  SI_USER,
  sysError,
  SysError,
  W_EXITCODE,
  WNOHANG
} from "@simkernel/abi"
import { abortCreds, commitCreds, isDumpabilityChanged, type NewCred, setgid, setgroups, setresgid, setresuid, setuid, unshareUserns } from "@simkernel/cred"
import { switchTaskNamespaces, unshareNsproxyNamespaces } from "@simkernel/nsproxy"
import { fromKuidMunged } from "@simkernel/cred"
import { type FdTable, FifoOpenWait, ksysOpenat, ksysRead, ksysWrite, pipe2, vfsPoll, type VfsTask, WaitQueue, WouldBlock } from "@simkernel/vfs"
import { Clock, Effect } from "effect"
import { doExecve } from "./exec.js"
import { doExit, doGroupExit } from "./exit.js"
import { clone3Args, type CloneArgs, cloneArgsFromLegacy, type CloneResult, kernelClone, type KernelCloneArgs } from "./fork.js"
import { pidfdGet, pidfdOpen, pidfdSendSignal, setnsByPidfd } from "./pidfd.js"
import { doSigaction, doTkill, getSignal, killSomething, sendSignalLocked, signalPending, sigprocmask } from "./signal.js"
import type { SigAction } from "./signal-types.js"
import type { SigSet } from "./sigset.js"
import { getpgid, getsid, prctl, setpgid, setsid } from "./sys.js"
import { PF_EXITING, type Task, type WaitChan } from "./Task.js"
import type { Pid } from "./Pid.js"
import { pidfdFromFile } from "./vfs.js"
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

const execEffect = Effect.fnUntraced(function* (
  t: Task,
  path: string,
  argv: ReadonlyArray<string>,
  envp: ReadonlyArray<string>,
  dirfd?: number,
  flags?: number
) {
  const entry = yield* doExecve(t, path, argv, envp, dirfd, flags).pipe(Effect.catch((e: SysError) => finish(t, e)))
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

/**
 * Sleep on a WouldBlock's wait queue until its condition holds (as
 * wait_event_interruptible()): true when a signal with a handler
 * interrupted the wait (the call then ends with EINTR or its partial
 * count); a fatal signal ends the task here.
 */
const waitWouldBlock = (t: Task, wb: WouldBlock, chan: WaitChan): Effect.Effect<boolean> =>
  wb.ready() || signalPending(t) ? afterWait(t) : Effect.flatMap(t.kernel.sleepOn(t, chan, wb.wq, wb.ready), () => afterWait(t))

const NOT_INTERRUPTED = Effect.succeed(false)

const afterWait = (t: Task): Effect.Effect<boolean> =>
  signalPending(t) ? Effect.map(getSignal(t), (d) => d.handled > 0) : NOT_INTERRUPTED

/** read(2) through the VFS: on an empty pipe (without O_NONBLOCK) the task sleeps until data or EOF. */
const readEffect = (t: Task, fd: number, buf: Uint8Array): Effect.Effect<number, SysError> =>
  Effect.suspend(function loop(): Effect.Effect<number, SysError> {
    if (dead(t)) return Effect.interrupt
    const r = ksysRead(t.vfsTask(), fd, buf)
    if (r instanceof WouldBlock)
      return Effect.flatMap(waitWouldBlock(t, r, "pipe"), (intr) => (intr ? finish(t, sysError("EINTR", "read")) : loop()))
    return finish(t, r)
  })

/**
 * write(2) through the VFS: a pipe write that does not fit (without
 * O_NONBLOCK) sleeps until there is room, the rest then follows; EPIPE
 * sends the writer SIGPIPE (pipe_write()'s send_sig(SIGPIPE, current, 0)),
 * which kills it unless caught or ignored.
 */
const writeEffect = (t: Task, fd: number, buf: Uint8Array): Effect.Effect<number, SysError> =>
  Effect.suspend(() => {
    const loop = (rest: Uint8Array, total: number, cont: boolean): Effect.Effect<number, SysError> => {
      if (dead(t)) return Effect.interrupt
      const r = ksysWrite(t.vfsTask(), fd, rest, cont)
      if (r instanceof WouldBlock) {
        const sofar = total + r.done
        const left = rest.subarray(r.done)
        return Effect.flatMap(waitWouldBlock(t, r, "pipe"), (intr) =>
          intr ? finish(t, sofar > 0 ? sofar : sysError("EINTR", "write")) : loop(left, sofar, true)
        )
      }
      if (r instanceof SysError) {
        if (r.errno === "EPIPE") sendSigpipe(t)
        return finish(t, total > 0 ? total : r)
      }
      return finish(t, total + r)
    }
    return loop(buf, 0, false)
  })

/**
 * openat(2) through the VFS: opening a FIFO without O_NONBLOCK sleeps
 * until the other side opens (EINTR when a handled signal comes first).
 */
const openEffect = (t: Task, dirfd: number, path: string, flags: number, mode: number): Effect.Effect<number, SysError> =>
  Effect.suspend(() => {
    if (dead(t)) return Effect.interrupt
    const r = ksysOpenat(t.vfsTask(), dirfd, path, flags, mode)
    if (!(r instanceof FifoOpenWait)) return finish(t, r)
    const again = (): Effect.Effect<number, SysError> =>
      Effect.flatMap(
        Effect.onInterrupt(waitWouldBlock(t, r, "pipe"), () => Effect.sync(() => r.cancel())),
        (intr) => {
          if (intr) {
            r.cancel()
            return finish(t, sysError("EINTR", "openat"))
          }
          return r.ready() ? finish(t, r.finish()) : again()
        }
      )
    return again()
  })

/** send_sig(SIGPIPE, current, 0): SI_USER from the task itself, to its process. */
const sendSigpipe = (t: Task): void =>
  sendSignalLocked(
    SIGPIPE,
    { signo: SIGPIPE, code: SI_USER, pid: t.tgidIn(t.activePidNs), uid: fromKuidMunged(t.cred.userNs, t.cred.uid), status: 0 },
    t,
    "tgid",
    false
  )

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

/**
 * One descriptor's revents for poll(2): a pidfd's (POLLIN once the
 * process has exited), a VFS file's vfs_poll() (pipes: POLLIN, POLLOUT,
 * POLLHUP, POLLERR), POLLNVAL for a closed fd; and what to sleep on.
 */
const pollOne = (t: Task, fd: number, events: number, pids: Array<Pid>, wqs: Array<WaitQueue>): number => {
  const mask = events | POLLERR | POLLHUP
  if (t.kernel.vfs !== undefined && t.files !== undefined) {
    const f = fd >= 0 ? (t.files as unknown as FdTable).fdget(fd) : undefined
    if (f === undefined) return fd < 0 ? 0 : POLLNVAL
    const p = pidfdFromFile(f)
    const r = (p !== undefined ? p.poll() : vfsPoll(f)) & mask
    if (r === 0) {
      if (p !== undefined) pids.push(p.pid)
      else {
        const wq = f.fop?.waitQueue?.(f)
        if (wq !== undefined) wqs.push(wq)
      }
    }
    return r
  }
  const f = t.files === undefined ? undefined : pidfdGet(t, fd, "poll")
  const r = f === undefined || f instanceof SysError ? POLLNVAL : f.poll() & mask
  if (r === 0 && f !== undefined && !(f instanceof SysError)) pids.push(f.pid)
  return r
}

/** poll(2) on pidfds and (with a Vfs) any file: pipes, regular files. */
const pollEffect = Effect.fnUntraced(function* (t: Task, fds: ReadonlyArray<PollFd>, timeoutMs: number) {
  const k = t.kernel
  const deadline = timeoutMs > 0 ? (yield* Clock.currentTimeMillis) + timeoutMs : 0
  for (;;) {
    const revents: Array<number> = []
    let ready = 0
    const pids: Array<Pid> = []
    const wqs: Array<WaitQueue> = []
    for (const { fd, events } of fds) {
      const r = pollOne(t, fd, events, pids, wqs)
      if (r !== 0) ready++
      revents.push(r)
    }
    if (ready > 0 || timeoutMs === 0) return yield* finish(t, revents)
    if (timeoutMs > 0 && (yield* Clock.currentTimeMillis) >= deadline) return yield* finish(t, revents)
    if (!signalPending(t)) {
      const wake = () => k.wakeChan(t, "poll")
      for (const p of pids) (p.pollWaiters ??= []).push(wake)
      const removes = wqs.map((wq) => wq.add(wake))
      if (timeoutMs > 0) k.startTimer(t, deadline - (yield* Clock.currentTimeMillis), wake)
      yield* Effect.ensuring(
        k.park(t, "poll"),
        Effect.sync(() => {
          for (const r of removes) r()
          for (const p of pids) {
            const w = p.pollWaiters
            if (w !== undefined) {
              const i = w.indexOf(wake)
              if (i >= 0) w.splice(i, 1)
            }
          }
        })
      )
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

  /**
   * execve(2): never returns on success. With a Vfs, `path` is a file
   * whose first line is `#!simkernel NAME` (vfsExecLookup's rules);
   * otherwise a program registered under `path`.
   */
  execve(path: string, argv: ReadonlyArray<string>, envp: ReadonlyArray<string> = []): Effect.Effect<never, SysError> {
    return execEffect(this.task, path, argv, envp)
  }

  /** execveat(2): `path` relative to `dirfd`; AT_EMPTY_PATH with "" runs the file open at `dirfd`; AT_SYMLINK_NOFOLLOW. */
  execveat(dirfd: number, path: string, argv: ReadonlyArray<string>, envp: ReadonlyArray<string>, flags: number): Effect.Effect<never, SysError> {
    return execEffect(this.task, path, argv, envp, dirfd, flags)
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

  /**
   * poll(2): each descriptor's revents. Pidfds are readable once the
   * process exits; with a Vfs any file polls (pipes as pipe_poll());
   * without one, anything not a pidfd is POLLNVAL. A negative fd is skipped (0).
   */
  poll(fds: ReadonlyArray<PollFd>, timeoutMs: number): Effect.Effect<Array<number>, SysError> {
    return Effect.suspend(() => (dead(this.task) ? Effect.interrupt : pollEffect(this.task, fds, timeoutMs)))
  }

  // files (with a Vfs)

  /**
   * The task as the VFS sees it, for calling any @simkernel/vfs function
   * (openat, mknodat, fstat, ...) on its own tables. Needs a kernel booted
   * with a Vfs.
   */
  get vfs(): VfsTask {
    return this.task.vfsTask()
  }

  /**
   * openat(2) (any @simkernel/vfs openat rule); opening a FIFO without
   * O_NONBLOCK sleeps until a partner opens the other end.
   */
  openat(dirfd: number, path: string, flags: number, mode = 0): Effect.Effect<number, SysError> {
    return this.task.kernel.vfs === undefined
      ? Effect.suspend(() => finish(this.task, sysError("ENOSYS", "openat", "no VFS in this kernel")))
      : openEffect(this.task, dirfd, path, flags, mode)
  }

  /** pipe2(2): [read end, write end]; O_CLOEXEC, O_NONBLOCK, O_DIRECT (packets); EINVAL otherwise. */
  pipe2(flags = 0): Effect.Effect<readonly [number, number], SysError> {
    return Effect.suspend(() => {
      const t = this.task
      if (t.kernel.vfs === undefined) return finish(t, sysError("ENOSYS", "pipe2", "no VFS in this kernel"))
      return finish(t, pipe2(t.vfsTask(), flags))
    })
  }

  /** pipe(2). */
  pipe(): Effect.Effect<readonly [number, number], SysError> {
    return this.pipe2(0)
  }

  /** read(2): sleeps on an empty pipe that still has writers (EAGAIN with O_NONBLOCK); 0 at EOF. */
  read(fd: number, buf: Uint8Array): Effect.Effect<number, SysError> {
    return this.task.kernel.vfs === undefined ? Effect.suspend(() => finish(this.task, sysError("EBADF", "read"))) : readEffect(this.task, fd, buf)
  }

  /** write(2): sleeps on a full pipe (EAGAIN / a short count with O_NONBLOCK); EPIPE and SIGPIPE with no reader. */
  write(fd: number, buf: Uint8Array): Effect.Effect<number, SysError> {
    return this.task.kernel.vfs === undefined ? Effect.suspend(() => finish(this.task, sysError("EBADF", "write"))) : writeEffect(this.task, fd, buf)
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

  /** setresuid(2): -1 keeps an id; cred's rules (EPERM, EINVAL for an unmapped uid). */
  setresuid(ruid: number, euid: number, suid: number): Effect.Effect<number, SysError> {
    return this.credChange(setresuid(this.task, ruid, euid, suid))
  }

  /** setresgid(2). */
  setresgid(rgid: number, egid: number, sgid: number): Effect.Effect<number, SysError> {
    return this.credChange(setresgid(this.task, rgid, egid, sgid))
  }

  /** setgroups(2): the first `size` gids of `list` become the supplementary groups. */
  setgroups(size: number, list: ReadonlyArray<number>): Effect.Effect<number, SysError> {
    return this.credChange(setgroups(this.task, size, list))
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
