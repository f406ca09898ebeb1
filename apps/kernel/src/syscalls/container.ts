import {
  CONTAINER__FLAG_MASK,
  CONTAINER_NEW_EMPTY_FS_NS,
  CONTAINER_NEW_FS_NS,
  O_NONBLOCK,
  O_RDWR,
  sysError,
  SysError
} from "@simkernel/abi"
import { Containers, SUPERVISED_SYSCALLS } from "@simkernel/container"
import type { Socket } from "@simkernel/net"
import { type Kernel as Sched, type Program, SchedKernel } from "@simkernel/sched"
import type { ContainerHooks, LsmRegistry } from "@simkernel/security"
import { anonInodeGetfile, type FileOperations } from "@simkernel/vfs"
import { Effect, Layer } from "effect"
import { type Handler, int, type SyscallContext } from "./common.js"

/** The container subsystem of each kernel that has one (container_init() ran on it). */
const SUBSYSTEMS = new WeakMap<Sched, Containers>()

/**
 * Load the container package on a booted kernel: `.init`, the fork/exit
 * hooks, the mount API's container commands, and the five seed syscalls
 * (which answer ENOSYS on a kernel without it). Shut it down with
 * `containers.shutdown()` after the kernel's shutdown, before the Vfs's.
 */
export const installContainers = (kernel: Sched, lsm?: LsmRegistry<ContainerHooks>): Containers => {
  const containers = Containers.install(lsm === undefined ? { kernel } : { kernel, lsm })
  SUBSYSTEMS.set(kernel, containers)
  return containers
}

/**
 * The container package on the booted scheduler, as a Layer: installed
 * before PID 1 starts (so it is `.init`'s first member), and shut down once
 * every task is gone: its release runs the scheduler's shutdown first
 * (which the scheduler's own Layer then finds done), as
 * Containers.shutdown() must come after the last task and before the VFS.
 */
export const containersLayer: Layer.Layer<never, never, SchedKernel> = Layer.effectDiscard(
  Effect.gen(function* () {
    const sched = yield* SchedKernel
    yield* Effect.acquireRelease(
      Effect.sync(() => installContainers(sched)),
      (containers) => Effect.andThen(sched.shutdown(), Effect.sync(() => containers.shutdown()))
    )
  })
)

/** The container subsystem installed on `kernel`, if any. */
export const containersOf = (kernel: Sched): Containers | undefined => SUBSYSTEMS.get(kernel)

/** Run `f` with the caller's container subsystem; ENOSYS on a kernel without one, as a kernel built without the calls. */
const withContainers =
  (name: string, f: (cs: Containers, ctx: SyscallContext, a: ReadonlyArray<unknown>) => Effect.Effect<number, SysError>): Handler =>
  (ctx, a) =>
    Effect.suspend(() => {
      const cs = SUBSYSTEMS.get(ctx.proc.task.kernel)
      return cs === undefined ? Effect.fail(sysError("ENOSYS", name)) : f(cs, ctx, a)
    })

const lift = (r: number | SysError): Effect.Effect<number, SysError> => (r instanceof SysError ? Effect.fail(r) : Effect.succeed(r))

/**
 * container_create()'s name argument: a string, NULL (null/undefined), or
 * anything else standing for an unreadable pointer, which faults after the
 * flag checks (the seed copies the name after checking flags and spares).
 */
const createName = (a: ReadonlyArray<unknown>): string | null | SysError => {
  const name = a[0]
  if (typeof name === "string") return name
  if (name === null || name === undefined) return null
  const flags = int(a[1])
  const both = CONTAINER_NEW_FS_NS | CONTAINER_NEW_EMPTY_FS_NS
  if ((flags & ~CONTAINER__FLAG_MASK) !== 0 || int(a[2]) !== 0 || int(a[3]) !== 0 || int(a[4]) !== 0 || (flags & both) === both)
    return sysError("EINVAL", "container_create")
  return sysError("EFAULT", "container_create")
}

/** A socket's file: poll and wakeups from the socket, release drops the file's reference (sock_close()). */
const socketFops: FileOperations = {
  name: "socket",
  poll: (file) => (file.privateData as Socket).poll(),
  waitQueue: (file) => (file.privateData as Socket).wq,
  release: (file) => void (file.privateData as Socket).put()
}

/**
 * sock_map_fd(): a file for `sock` (taking over its reference) in the
 * caller's table, O_RDWR plus O_NONBLOCK from SOCK_NONBLOCK, close-on-exec
 * from SOCK_CLOEXEC. On failure the socket is released.
 */
const sockMapFd = (ctx: SyscallContext, sock: Socket): number | SysError => {
  const t = ctx.proc.task
  const vfs = t.kernel.vfs
  if (vfs === undefined) {
    sock.put()
    return sysError("ENOSYS", "container_socket", "no VFS in this kernel")
  }
  const file = anonInodeGetfile(vfs, "socket", socketFops, sock, O_RDWR | (sock.nonblock ? O_NONBLOCK : 0), t.cred)
  if (file instanceof SysError) {
    sock.put()
    return file
  }
  const fd = t.vfsTask().files.install(file, sock.cloexec)
  if (typeof fd !== "number") file.put()
  return fd
}

/** The seed's calls (numbers 1000 to 1004) and ioctl(2) for the container and supervision fds. */
export const CONTAINER_HANDLERS: Readonly<Record<string, Handler>> = {
  container_create: withContainers("container_create", (cs, ctx, a) => {
    const name = createName(a)
    return name instanceof SysError ? Effect.fail(name) : cs.create(ctx.proc.task, name, int(a[1]), int(a[2]), int(a[3]), int(a[4]))
  }),
  // the child runs the Program given after the cfd, as fork()'s does
  fork_into_container: withContainers("fork_into_container", (cs, ctx, a) =>
    typeof a[1] === "function" ? cs.forkInto(ctx.proc.task, int(a[0]), a[1] as Program) : Effect.fail(sysError("EFAULT", "fork_into_container"))
  ),
  container_wait: withContainers("container_wait", (cs, ctx, a) =>
    Effect.map(cs.wait(ctx.proc.task, int(a[0]), int(a[2])), (r) => {
      // WNOHANG on a live container writes nothing, as waitid(WNOHANG) leaves si_pid 0
      if (r.status !== undefined && a[1] !== null && typeof a[1] === "object") (a[1] as { value?: number }).value = r.status
      if (r.status !== undefined && a[3] !== null && typeof a[3] === "object") Object.assign(a[3], { ru_utime: r.rusage.utime, ru_stime: r.rusage.stime })
      return 0
    })
  ),
  container_kill: withContainers("container_kill", (cs, ctx, a) => lift(cs.kill(ctx.proc.task, int(a[0]), int(a[1]), int(a[2])))),
  container_socket: withContainers("container_socket", (cs, ctx, a) => {
    const sock = cs.socket(ctx.proc.task, int(a[0]), int(a[1]), int(a[2]), int(a[3]))
    return lift(sock instanceof SysError ? sock : sockMapFd(ctx, sock))
  }),
  // ioctl(2) knows only the container and notification fds' requests; any other open fd is ENOTTY
  ioctl: (ctx, a) =>
    Effect.suspend(() => {
      const t = ctx.proc.task
      const mine = SUBSYSTEMS.get(t.kernel)?.ioctl(t, int(a[0]), int(a[1]), a[2])
      if (mine !== undefined) return mine
      return Effect.fail(sysError(t.vfsTask().files.fdget(int(a[0])) === undefined ? "EBADF" : "ENOTTY", "ioctl"))
    })
}

/** The syscalls whose EPERM a container's supervisor may override (the container package's list). */
export const SUPERVISED: ReadonlySet<string> = SUPERVISED_SYSCALLS

/**
 * The dispatcher's part in supervision: when `run` (the handler of a
 * supervised syscall) fails with EPERM for a task in a supervised
 * container, the task waits for the supervisor's answer, which may run
 * the same handler again with the supervisor's credentials, fail with
 * another errno or return a value; otherwise the EPERM stands.
 */
export const superviseEperm = (
  ctx: SyscallContext,
  name: string,
  args: ReadonlyArray<unknown>,
  run: Effect.Effect<number, SysError>
): Effect.Effect<number, SysError> =>
  Effect.catch(run, (e: SysError) => {
    const t = ctx.proc.task
    const cs = e.errno === "EPERM" ? SUBSYSTEMS.get(t.kernel) : undefined
    return cs === undefined ? Effect.fail(e) : cs.onEperm(t, name, args, e, run)
  })
