import { sysError, type SysError } from "@simkernel/abi"
import { sethostname, setdomainname } from "@simkernel/nsproxy"
import type { Process, Program } from "@simkernel/sched"
import {
  chdir,
  chroot,
  doMount,
  fchdir,
  fchmodat,
  fchownat,
  type File,
  fsconfig,
  fsmount,
  fsopen,
  fspick,
  fstatat,
  ftruncate,
  type Kstat,
  ksysUmount,
  linkat,
  lseek,
  mkdirat,
  mknodat,
  type MountAttr,
  mountSetattr,
  moveMount,
  openTree,
  openTreeAttr,
  pivotRoot,
  readlinkat,
  renameat2,
  symlinkat,
  unlinkat
} from "@simkernel/vfs"
import { Effect } from "effect"
import { ksysSync, syncFilesystem, vfsFsync } from "../disk/index.js"
import { setns } from "./ns.js"

/** What a handler runs with: the calling task's Process (its VFS view, namespaces and credentials). */
export interface SyscallContext {
  readonly proc: Process
}

/**
 * A syscall handler: Linux's arguments in Linux's order (pointers are JS
 * values: strings for paths, Uint8Array for buffers, an object to fill for
 * a struct out), the return value or the errno.
 */
export type Handler = (ctx: SyscallContext, args: ReadonlyArray<unknown>) => Effect.Effect<number, SysError>

const lift = (r: number | SysError | undefined): Effect.Effect<number, SysError> =>
  r === undefined ? Effect.succeed(0) : typeof r === "number" ? Effect.succeed(r) : Effect.fail(r)
const int = (v: unknown): number => (typeof v === "number" ? v : 0)
const opt = (v: unknown): string | null => (typeof v === "string" ? v : null)
const buf = (v: unknown): Uint8Array | SysError => (v instanceof Uint8Array ? v : sysError("EFAULT"))

/** Run `f` with the task's VFS view; a NULL among the path arguments `pathArgs` faults first. */
const vfsCall =
  (f: (ctx: SyscallContext, a: ReadonlyArray<unknown>) => number | SysError | undefined, ...pathArgs: ReadonlyArray<number>): Handler =>
  (ctx, a) =>
    Effect.suspend(() => {
      for (const i of pathArgs) if (typeof a[i] !== "string") return Effect.fail(sysError("EFAULT"))
      return lift(f(ctx, a))
    })

const task = (ctx: SyscallContext) => ctx.proc.task.vfsTask()

/** A call on the open file at fd a[0] (fdget()); EBADF when nothing is open there. */
const onFd = (name: string, f: (file: File) => SysError | undefined): Handler =>
  vfsCall((ctx, a) => {
    const file = task(ctx).files.fdget(int(a[0]))
    return file === undefined ? sysError("EBADF", name) : f(file)
  })

/** Fill a struct stat object from a Kstat, as newfstatat copies it out. */
const fillStat = (out: unknown, st: Kstat): void => {
  if (out !== null && typeof out === "object") Object.assign(out, st)
}

/** The handlers, by syscall name, grouped as Linux groups them. */
export const HANDLERS: Readonly<Record<string, Handler>> = {
  // fs/read_write.c, fs/open.c, fs/namei.c, fs/stat.c
  read: (ctx, a) => {
    const b = buf(a[1])
    return b instanceof Error ? Effect.fail(b) : ctx.proc.read(int(a[0]), b.subarray(0, Math.min(b.length, int(a[2]))))
  },
  write: (ctx, a) => {
    const b = buf(a[1])
    return b instanceof Error ? Effect.fail(b) : ctx.proc.write(int(a[0]), b.subarray(0, Math.min(b.length, int(a[2]))))
  },
  close: (ctx, a) => ctx.proc.close(int(a[0])),
  openat: (ctx, a) => (typeof a[1] === "string" ? ctx.proc.openat(int(a[0]), a[1], int(a[2]), int(a[3])) : Effect.fail(sysError("EFAULT"))),
  pipe2: (ctx, a) =>
    Effect.map(ctx.proc.pipe2(int(a[1])), ([r, w]) => {
      if (Array.isArray(a[0])) a[0].splice(0, 2, r, w)
      return 0
    }),
  lseek: vfsCall((ctx, a) => lseek(task(ctx), int(a[0]), int(a[1]), int(a[2]))),
  ftruncate: vfsCall((ctx, a) => ftruncate(task(ctx), int(a[0]), int(a[1]))),
  dup: vfsCall((ctx, a) => task(ctx).files.dup(int(a[0]))),
  dup2: vfsCall((ctx, a) => task(ctx).files.dup2(int(a[0]), int(a[1]))),
  dup3: vfsCall((ctx, a) => task(ctx).files.dup3(int(a[0]), int(a[1]), int(a[2]))),
  fcntl: vfsCall((ctx, a) => task(ctx).files.fcntl(int(a[0]), int(a[1]), int(a[2]))),
  mkdirat: vfsCall((ctx, a) => mkdirat(task(ctx), int(a[0]), a[1] as string, int(a[2])), 1),
  mknodat: vfsCall((ctx, a) => mknodat(task(ctx), int(a[0]), a[1] as string, int(a[2]), int(a[3])), 1),
  unlinkat: vfsCall((ctx, a) => unlinkat(task(ctx), int(a[0]), a[1] as string, int(a[2])), 1),
  symlinkat: vfsCall((ctx, a) => symlinkat(task(ctx), a[0] as string, int(a[1]), a[2] as string), 0, 2),
  linkat: vfsCall((ctx, a) => linkat(task(ctx), int(a[0]), a[1] as string, int(a[2]), a[3] as string, int(a[4])), 1, 3),
  renameat2: vfsCall((ctx, a) => renameat2(task(ctx), int(a[0]), a[1] as string, int(a[2]), a[3] as string, int(a[4])), 1, 3),
  readlinkat: vfsCall((ctx, a) => {
    const target = readlinkat(task(ctx), int(a[0]), a[1] as string)
    if (typeof target !== "string") return target
    const out = buf(a[2])
    if (out instanceof Error) return out
    const bytes = new TextEncoder().encode(target).subarray(0, Math.min(out.length, int(a[3])))
    out.set(bytes)
    return bytes.length
  }, 1),
  newfstatat: vfsCall((ctx, a) => {
    const st = fstatat(task(ctx), int(a[0]), a[1] as string, int(a[3]))
    if (st instanceof Error) return st
    fillStat(a[2], st)
    return 0
  }, 1),
  fchmodat: vfsCall((ctx, a) => fchmodat(task(ctx), int(a[0]), a[1] as string, int(a[2]), int(a[3])), 1),
  fchownat: vfsCall((ctx, a) => fchownat(task(ctx), int(a[0]), a[1] as string, int(a[2]), int(a[3]), int(a[4])), 1),
  sync: (ctx) => Effect.sync(() => (ksysSync(task(ctx).fs.vfs), 0)),
  syncfs: onFd("syncfs", (file) => syncFilesystem(file.mnt.sb)),
  fsync: onFd("fsync", vfsFsync),
  fdatasync: onFd("fdatasync", vfsFsync),
  chdir: vfsCall((ctx, a) => chdir(task(ctx), a[0] as string), 0),
  fchdir: vfsCall((ctx, a) => fchdir(task(ctx), int(a[0]))),
  chroot: vfsCall((ctx, a) => chroot(task(ctx), a[0] as string), 0),
  // fs/namespace.c, fs/fsopen.c
  mount: vfsCall((ctx, a) => doMount(task(ctx), opt(a[0]), a[1] as string, opt(a[2]), int(a[3]), opt(a[4])), 1),
  umount2: vfsCall((ctx, a) => ksysUmount(task(ctx), a[0] as string, int(a[1])), 0),
  pivot_root: vfsCall((ctx, a) => pivotRoot(task(ctx), a[0] as string, a[1] as string), 0, 1),
  fsopen: vfsCall((ctx, a) => fsopen(task(ctx), opt(a[0]), int(a[1]))),
  fsconfig: vfsCall((ctx, a) => fsconfig(task(ctx), int(a[0]), int(a[1]), opt(a[2]), a[3] instanceof Uint8Array ? a[3] : opt(a[3]), int(a[4]))),
  fsmount: vfsCall((ctx, a) => fsmount(task(ctx), int(a[0]), int(a[1]), int(a[2]))),
  fspick: vfsCall((ctx, a) => fspick(task(ctx), int(a[0]), opt(a[1]), int(a[2]))),
  open_tree: vfsCall((ctx, a) => openTree(task(ctx), int(a[0]), opt(a[1]), int(a[2]))),
  open_tree_attr: vfsCall((ctx, a) => openTreeAttr(task(ctx), int(a[0]), opt(a[1]), int(a[2]), (a[3] ?? null) as MountAttr | null, int(a[4]))),
  move_mount: vfsCall((ctx, a) => moveMount(task(ctx), int(a[0]), opt(a[1]), int(a[2]), opt(a[3]), int(a[4]))),
  mount_setattr: vfsCall((ctx, a) => mountSetattr(task(ctx), int(a[0]), opt(a[1]), int(a[2]), (a[3] ?? null) as MountAttr | null, int(a[4]))),
  // kernel/nsproxy.c, kernel/utsname, kernel/sys.c
  unshare: (ctx, a) => ctx.proc.unshare(int(a[0])),
  setns: (ctx, a) => setns(ctx.proc, int(a[0]), int(a[1])),
  sethostname: vfsCall((ctx, a) => {
    const name = buf(a[0])
    return name instanceof Error ? name : sethostname(ctx.proc.task.nsproxy!, ctx.proc.task.cred, name, int(a[1]))
  }),
  setdomainname: vfsCall((ctx, a) => {
    const name = buf(a[0])
    return name instanceof Error ? name : setdomainname(ctx.proc.task.nsproxy!, ctx.proc.task.cred, name, int(a[1]))
  }),
  // kernel/sys.c, kernel/signal.c, kernel/exit.c, kernel/pid.c
  getpid: (ctx) => ctx.proc.getpid(),
  getppid: (ctx) => ctx.proc.getppid(),
  gettid: (ctx) => ctx.proc.gettid(),
  getpgid: (ctx, a) => ctx.proc.getpgid(int(a[0])),
  setpgid: (ctx, a) => ctx.proc.setpgid(int(a[0]), int(a[1])),
  getsid: (ctx, a) => ctx.proc.getsid(int(a[0])),
  setsid: (ctx) => ctx.proc.setsid(),
  setuid: (ctx, a) => ctx.proc.setuid(int(a[0])),
  setgid: (ctx, a) => ctx.proc.setgid(int(a[0])),
  kill: (ctx, a) => ctx.proc.kill(int(a[0]), int(a[1])),
  tgkill: (ctx, a) => ctx.proc.tgkill(int(a[0]), int(a[1]), int(a[2])),
  tkill: (ctx, a) => ctx.proc.tkill(int(a[0]), int(a[1])),
  pause: (ctx) => ctx.proc.pause(),
  sched_yield: (ctx) => ctx.proc.sched_yield(),
  exit_group: (ctx, a) => ctx.proc.exit_group(int(a[0])),
  exit: (ctx, a) => ctx.proc.exit(int(a[0])),
  wait4: (ctx, a) =>
    Effect.map(ctx.proc.wait4(int(a[0]), int(a[2])), (w) => {
      if (a[1] !== null && typeof a[1] === "object") (a[1] as { value?: number }).value = w.status
      return w.pid
    }),
  prctl: (ctx, a) => Effect.map(ctx.proc.prctl(int(a[0]), typeof a[1] === "string" ? a[1] : int(a[1])), (r) => (typeof r === "number" ? r : 0)),
  pidfd_open: (ctx, a) => ctx.proc.pidfd_open(int(a[0]), int(a[1])),
  pidfd_send_signal: (ctx, a) => ctx.proc.pidfd_send_signal(int(a[0]), int(a[1]), undefined, int(a[3])),
  // the child of fork() runs the program its caller gives: there is no memory image to copy
  fork: (ctx, a) => (typeof a[0] === "function" ? ctx.proc.fork(a[0] as Program) : Effect.fail(sysError("EFAULT", "fork"))),
  execve: (ctx, a) =>
    typeof a[0] === "string"
      ? ctx.proc.execve(a[0], (a[1] as ReadonlyArray<string> | undefined) ?? [], (a[2] as ReadonlyArray<string> | undefined) ?? [])
      : Effect.fail(sysError("EFAULT", "execve"))
}
