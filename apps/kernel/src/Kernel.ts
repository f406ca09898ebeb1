import { AT_FDCWD, MS_NODEV, MS_NOEXEC, MS_NOSUID, O_CREAT, O_RDWR, O_WRONLY, Oops, S_IFBLK, S_IFCHR, SIGCHLD, type SysError, WNOHANG } from "@simkernel/abi"
import { type LiveObjects, Registry } from "@simkernel/kref"
import { NetNamespace, netNamespaceOps } from "@simkernel/net"
import type { NamespaceOps } from "@simkernel/nsproxy"
import { EMPTY_SIGSET, type Kernel as Sched, type KernelOptions, type Program, SchedKernel } from "@simkernel/sched"
import {
  close,
  doMount,
  fchmodat,
  mkdev,
  mkdirat,
  mknodat,
  mntNamespaceOps,
  openat,
  type Vfs,
  type VfsWorld,
  VfsWorldService,
  write
} from "@simkernel/vfs"
import { Context, Effect, Exit, Layer, Scope } from "effect"
import { attachDisks, type BlockDevice, DiskError, registerExt4 } from "./disk/index.js"
import { registerProcfs } from "./procfs/index.js"
import { containersLayer } from "./syscalls/container.js"
import { containerKeysLayer } from "./syscalls/containerKeys.js"
import { Syscalls, traceKernel } from "./syscalls/table.js"
import { PROGRAMS } from "./userland/programs.js"

/**
 * The running kernel: the scheduler (with PID 1 running /sbin/init), the
 * VFS and the registry every object lives in. Shutdown kills every task,
 * unmounts everything and audits the registry.
 */
export interface Kernel {
  readonly live: LiveObjects
  readonly sched: Sched
  readonly vfs: Vfs
  /** Holds the kernel's Layers; shutdown() closes it. */
  readonly scope: Scope.Closeable
}

export interface ShutdownReport {
  /** Survivors of the leak audit: zero on a clean shutdown. */
  readonly leaked: number
  /** The audit as printed: "leak audit: 0 live objects" or one line per survivor. */
  readonly audit: string
}

/** The root filesystem's directories, as a small distribution lays them out. */
const DIRECTORIES: ReadonlyArray<readonly [string, number]> = [
  ["/bin", 0o755],
  ["/sbin", 0o755],
  ["/dev", 0o755],
  ["/proc", 0o555],
  ["/etc", 0o755],
  ["/tmp", 0o1777],
  ["/root", 0o700],
  ["/mnt", 0o755]
]

/** Device nodes: the memory devices (drivers/char/mem.c, mode 0666) and the first SCSI disk (0660). */
const DEVICES: ReadonlyArray<readonly [string, number, number, number, number]> = [
  ["/dev/null", S_IFCHR, 1, 3, 0o666],
  ["/dev/zero", S_IFCHR, 1, 5, 0o666],
  ["/dev/full", S_IFCHR, 1, 7, 0o666],
  ["/dev/sda", S_IFBLK, 8, 0, 0o660],
  ["/dev/sda3", S_IFBLK, 8, 3, 0o660],
  ["/dev/console", S_IFCHR, 5, 1, 0o600]
]

const must = (what: string, r: SysError | number | undefined): void => {
  if (r !== undefined && typeof r !== "number") throw new Oops(`boot: ${what}: ${r.message}`)
}

/** Lay out the root filesystem, as the initramfs of a booted system would. */
const populateRootfs = (world: VfsWorld): void => {
  const t = world.task
  for (const [dir, mode] of DIRECTORIES) {
    must(`mkdir ${dir}`, mkdirat(t, AT_FDCWD, dir, mode))
    // mkdir applies the umask; these modes are meant as written
    must(`chmod ${dir}`, fchmodat(t, AT_FDCWD, dir, mode))
  }
  for (const [path, type, major, minor, mode] of DEVICES) {
    must(`mknod ${path}`, mknodat(t, AT_FDCWD, path, type | mode, mkdev(major, minor)))
    must(`chmod ${path}`, fchmodat(t, AT_FDCWD, path, mode))
  }
  const install = (path: string, name: string): void => {
    const fd = openat(t, AT_FDCWD, path, O_CREAT | O_WRONLY, 0o755)
    must(`create ${path}`, fd)
    must(`write ${path}`, write(t, fd as number, new TextEncoder().encode(`#!simkernel ${name}\n`)))
    must(`close ${path}`, close(t, fd as number))
  }
  install("/sbin/init", "init")
  for (const name of Object.keys(PROGRAMS)) install(`/bin/${name}`, name)
}

/**
 * A program with its standard input, output and error on /dev/console,
 * as init sets them up for the first process.
 */
export const onConsole =
  (program: Program): Program =>
  (proc) =>
    Effect.gen(function* () {
      const sys = new Syscalls({ proc })
      const fd = yield* sys.call("openat", AT_FDCWD, "/dev/console", O_RDWR, 0)
      for (const target of [0, 1, 2]) if (target !== fd) yield* sys.call("dup2", fd, target)
      if (fd > 2) yield* sys.call("close", fd)
      return yield* program(proc)
    })

/**
 * PID 1: adopts orphans and reaps every child that exits (a SIGCHLD
 * handler wakes it from pause()), until the kernel shuts down.
 */
export const initProgram: Program = (proc) =>
  Effect.gen(function* () {
    yield* proc.sigaction(SIGCHLD, { handler: () => Effect.void, flags: 0, mask: EMPTY_SIGSET })
    for (;;) {
      const reaped = yield* Effect.result(proc.wait4(-1, WNOHANG))
      if (reaped._tag === "Success" && reaped.success.pid > 0) continue
      yield* Effect.ignore(proc.pause())
    }
  })

/** What boot() takes. */
export interface BootOptions {
  readonly live?: LiveObjects
  /** What PID 1 runs instead of exec'ing /sbin/init (tests, scripts). */
  readonly init?: Program
  /** Where /dev/console's output goes (nowhere by default); reads from it are end of file. */
  readonly console?: (bytes: Uint8Array) => void
  /** Trace every syscall of every task (strace -f), from PID 1's first call on. */
  readonly tracer?: (line: string) => void
  /** The block devices ext4 can mount (attachDisks); default an in-memory sda3 holding a fresh root filesystem. */
  readonly disks?: ReadonlyArray<BlockDevice>
  /** Let the scheduler pick among runnable tasks at random from this seed (the same seed, the same run). */
  readonly seed?: number
}

/** The root filesystem laid out, with /dev/console writing to `sink`. */
const rootfsLayer = (sink: ((bytes: Uint8Array) => void) | undefined) =>
  Layer.effectDiscard(
    VfsWorldService.useSync((world) => {
      world.vfs.charDevices.set(mkdev(5, 1), {
        name: "console",
        read: () => 0,
        write: (_file, bytes) => {
          sink?.(bytes.slice())
          return bytes.length
        }
      })
      populateRootfs(world)
    })
  )

/**
 * The scheduler on the VFS: the world's mount namespace, fs_struct and user
 * namespace and a new initial network namespace become PID 1's (it takes
 * references of its own; the world's are dropped when the VFS Layer is).
 */
const schedLayer = (seed: number | undefined) =>
  SchedKernel.layer(
    Effect.gen(function* () {
      const registry = yield* Registry
      const world = yield* VfsWorldService
      const options: KernelOptions = {
        registry,
        initUserNs: world.userNs,
        namespaces: {
          mnt: [mntNamespaceOps as unknown as NamespaceOps, world.task.mntNs.get()],
          net: [netNamespaceOps as unknown as NamespaceOps, NetNamespace.createInit(world.userNs)]
        },
        fs: world.task.fs.get(),
        vfs: world.vfs,
        programs: { init: initProgram, ...PROGRAMS },
        ...(seed === undefined ? {} : { seed })
      }
      return options
    })
  )

/** procfs and ext4 registered, the disks attached, and proc on /proc (nosuid,nodev,noexec) as an init system mounts it first thing. */
const filesystemsLayer = (devices: ReadonlyArray<BlockDevice> | undefined) =>
  Layer.effectDiscard(
    Effect.gen(function* () {
      const world = yield* VfsWorldService
      const sched = yield* SchedKernel
      registerProcfs(world.vfs, sched)
      const ext4 = registerExt4(world.vfs, { currentTask: () => (sched.current ?? sched.initTask).vfsTask() })
      const disks = devices ?? attachDisks([], { programs: Object.keys(PROGRAMS) })
      if (disks instanceof DiskError) return yield* Effect.die(new Oops(`boot: ${disks.message}`))
      for (const disk of disks) {
        must(`attach ${disk.name}`, ext4.addDevice(disk))
        if (!DEVICES.some(([path]) => path === `/dev/${disk.name}`)) {
          must(`mknod /dev/${disk.name}`, mknodat(world.task, AT_FDCWD, `/dev/${disk.name}`, S_IFBLK | 0o660, mkdev(disk.major, disk.minor)))
        }
      }
      must("mount /proc", doMount(sched.initTask.vfsTask(), "proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, null))
    })
  )

/** PID 1 started (exec'ing /sbin/init unless told otherwise), traced from its first call when asked. */
const initLayer = (init: Program | undefined, tracer: ((line: string) => void) | undefined) =>
  Layer.effectDiscard(
    Effect.gen(function* () {
      const sched = yield* SchedKernel
      if (tracer !== undefined) traceKernel(sched, tracer)
      yield* Effect.orDie(sched.start(init ?? ((p) => p.execve("/sbin/init", ["init"], []))))
      yield* sched.settle()
    })
  )

/**
 * The kernel as Layers, each package's on the ones below it: the registry
 * (kref), the VFS (vfs), the root filesystem, the scheduler (sched), the
 * filesystems (procfs, ext4) and PID 1. Released in reverse: tasks first,
 * then every mount.
 */
export const kernelLayer = (options: BootOptions = {}) =>
  initLayer(options.init, options.tracer).pipe(
    Layer.provideMerge(containerKeysLayer),
    Layer.provideMerge(containersLayer),
    Layer.provideMerge(filesystemsLayer(options.disks)),
    Layer.provideMerge(schedLayer(options.seed)),
    Layer.provideMerge(rootfsLayer(options.console)),
    Layer.provideMerge(VfsWorldService.layer()),
    Layer.provideMerge(Registry.layer(options.live))
  )

/**
 * Boot: kernelLayer built in a scope of its own, which shutdown() closes.
 * A boot that fails releases what it had built.
 */
export const boot = Effect.fnUntraced(function* (options: BootOptions = {}) {
  const scope = yield* Scope.make()
  const context = yield* Effect.onError(Layer.buildWithScope(kernelLayer(options), scope), (cause) => Scope.close(scope, Exit.failCause(cause)))
  const kernel: Kernel = {
    live: Context.get(context, Registry),
    sched: Context.get(context, SchedKernel),
    vfs: Context.get(context, VfsWorldService).vfs,
    scope
  }
  return kernel
})

/** Shut the kernel down: release its Layers (kill every task, unmount everything), then audit what is left. */
export const shutdown = Effect.fnUntraced(function* (kernel: Kernel) {
  yield* Scope.close(kernel.scope, Exit.void)
  const report: ShutdownReport = { leaked: kernel.live.size(), audit: kernel.live.report() }
  return report
})
