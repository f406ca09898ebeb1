import { LINUX_SYSCALLS, SEED_SYSCALLS, sysError, type SysError } from "@simkernel/abi"
import type { Kernel as Sched, Task } from "@simkernel/sched"
import { Effect } from "effect"
import { superviseEperm, SUPERVISED } from "./container.js"
import { type Handler, HANDLERS, type SyscallContext } from "./handlers.js"
import { formatSyscall } from "./strace.js"

/** How much of a syscall simkernel implements. */
export type Support = "full" | "partial" | "enosys"

export interface SyscallEntry {
  readonly nr: number
  readonly name: string
  readonly support: Support
  /** What is missing, or how simkernel's version differs (for partial); empty otherwise. */
  readonly note: string
  readonly handler: Handler | undefined
}

/** What differs from Linux in the calls that are only partly there. */
const PARTIAL: Readonly<Record<string, string>> = {
  read: "regular files, directories' EISDIR, pipes, FIFOs, memory devices, fs context message logs; no sockets yet",
  write: "regular files, pipes, FIFOs, memory devices; no sockets yet",
  fork: "the child runs the Program given as its first argument (no memory image)",
  execve: "runs `#!simkernel NAME` files (registered programs); other formats are ENOEXEC",
  mount_setattr: "MOUNT_ATTR_IDMAP passes every check but maps no ids",
  open_tree_attr: "MOUNT_ATTR_IDMAP passes every check but maps no ids",
  newfstatat: "fills a plain object with the Kstat fields",
  wait4: "the status is written to `{ value }`; rusage is not filled",
  prctl: "PR_SET/GET_CHILD_SUBREAPER, PR_SET/GET_PDEATHSIG, PR_SET/GET_NAME, and the capability options",
  pidfd_send_signal: "siginfo must be NULL",
  fsync: "writes back the whole ext4 filesystem the file is on (ext4 keeps no per-file dirty state)",
  fdatasync: "writes back the whole ext4 filesystem the file is on (ext4 keeps no per-file dirty state)",
  fcntl: "F_DUPFD, F_DUPFD_CLOEXEC, F_GETFD, F_SETFD, F_GETFL, F_SETFL",
  add_key: "key types keyring, user and logon",
  keyctl: "no DH, pkey, RESTRICT_KEYRING, GET_PERSISTENT, SESSION_TO_PARENT, INSTANTIATE_IOV or WATCH_KEY (EOPNOTSUPP)",
  ioctl: "only the container requests (CONTAINER_IOCTL_SUPERVISE on a container fd, NOTIF_RECV/SEND/ID_VALID on a notification fd); ENOTTY for every other fd",
  fork_into_container: "the child runs the Program given as its second argument (no memory image)",
  container_wait: "rusage gets only ru_utime and ru_stime",
  container_socket: "AF_UNIX and AF_NETLINK (NETLINK_ROUTE) only; the fd is an anonymous-inode file named socket, not a sockfs inode"
}

const build = (): ReadonlyArray<SyscallEntry> =>
  [...LINUX_SYSCALLS, ...SEED_SYSCALLS].map(([nr, name]) => {
    const handler = HANDLERS[name]
    const support: Support = handler === undefined ? "enosys" : PARTIAL[name] !== undefined ? "partial" : "full"
    return { nr, name, support, note: PARTIAL[name] ?? "", handler }
  })

/** Every syscall of x86_64 Linux 6.18 and of the seed, by number: what simkernel answers for it. */
export const SYSCALL_TABLE: ReadonlyArray<SyscallEntry> = build()

const BY_NAME: ReadonlyMap<string, SyscallEntry> = new Map(SYSCALL_TABLE.map((e) => [e.name, e]))
const BY_NR: ReadonlyMap<number, SyscallEntry> = new Map(SYSCALL_TABLE.map((e) => [e.nr, e]))

/** Kernels whose every syscall is traced (strace -f of the whole machine), and where the lines go. */
const TRACERS = new WeakMap<object, (line: string) => void>()

/** The execve hook each traced kernel has installed, to take out when tracing stops. */
const EXEC_HOOKS = new WeakMap<Sched, Parameters<Sched["execHooks"]["add"]>[0]>()

/**
 * Trace every syscall of every task of `kernel` from now on; undefined
 * stops it. A successful execve never returns to its caller, so it is
 * reported from sched's exec hook, as strace reports it: `= 0`.
 */
export const traceKernel = (kernel: Sched, tracer: ((line: string) => void) | undefined): void => {
  const old = EXEC_HOOKS.get(kernel)
  if (old !== undefined) kernel.execHooks.delete(old)
  EXEC_HOOKS.delete(kernel)
  if (tracer === undefined) {
    TRACERS.delete(kernel)
    return
  }
  TRACERS.set(kernel, tracer)
  const hook = (t: Task, path: string, argv: ReadonlyArray<string>, envp: ReadonlyArray<string>): void => tracer(formatSyscall(t.pid.nr, "execve", [path, argv, envp], 0))
  kernel.execHooks.add(hook)
  EXEC_HOOKS.set(kernel, hook)
}

/**
 * The per-task syscall interface: `sys.call("mount", source, target, ...)`
 * with Linux's names and argument order, or `sys.callNr(165, ...)`. A call
 * with no handler answers ENOSYS; with a tracer set, every call is
 * reported as a line in strace's format.
 */
export class Syscalls {
  readonly tracer: ((line: string) => void) | undefined

  /** `tracer` defaults to the kernel's (traceKernel), if it is traced. */
  constructor(
    readonly ctx: SyscallContext,
    tracer?: (line: string) => void
  ) {
    this.tracer = tracer ?? TRACERS.get(ctx.proc.task.kernel)
  }

  call(name: string, ...args: ReadonlyArray<unknown>): Effect.Effect<number, SysError> {
    const entry = BY_NAME.get(name)
    const handled = entry?.handler === undefined ? Effect.fail(sysError("ENOSYS", name)) : entry.handler(this.ctx, args)
    // a supervised call's EPERM may go to the supervisor of the task's container
    const run = SUPERVISED.has(name) ? superviseEperm(this.ctx, name, args, handled) : handled
    const tracer = this.tracer
    if (tracer === undefined) return run
    const pid = this.ctx.proc.task.pid.nr
    return Effect.tapError(
      Effect.tap(run, (r) => Effect.sync(() => tracer(formatSyscall(pid, name, args, r)))),
      (e) => Effect.sync(() => tracer(formatSyscall(pid, name, args, e)))
    )
  }

  callNr(nr: number, ...args: ReadonlyArray<unknown>): Effect.Effect<number, SysError> {
    const entry = BY_NR.get(nr)
    return entry === undefined ? Effect.fail(sysError("ENOSYS", `syscall ${nr}`)) : this.call(entry.name, ...args)
  }
}

/** docs/compat.md: the table as people read it. */
export const renderCompat = (): string => {
  const counts = { full: 0, partial: 0, enosys: 0 }
  for (const e of SYSCALL_TABLE) counts[e.support]++
  const lines = [
    "# simkernel syscall compatibility",
    "",
    "Generated from `apps/kernel/src/syscalls/table.ts` (`npm test` checks that",
    "this file is current). Numbers are Linux x86_64's up to 6.18; the seed's",
    "container calls are numbered from 1000. A call without a handler answers",
    "ENOSYS, as a kernel without it would.",
    "",
    `${counts.full} full, ${counts.partial} partial, ${counts.enosys} ENOSYS.`,
    "",
    "| nr | syscall | support | note |",
    "| ---: | --- | --- | --- |",
    ...SYSCALL_TABLE.map((e) => `| ${e.nr} | ${e.name} | ${e.support} | ${e.note} |`)
  ]
  return `${lines.join("\n")}\n`
}
