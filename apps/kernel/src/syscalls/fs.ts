import { sysError } from "@simkernel/abi"
import { type Kstat, chdir, chroot, fchdir, fchmodat, fchownat, fstatat, ftruncate, getcwd, linkat, lseek, mkdirat, mknodat, readlinkat, renameat2, symlinkat, unlinkat } from "@simkernel/vfs"
import { Effect } from "effect"
import { ksysSync, syncFilesystem, vfsFsync } from "../disk/index.js"
import { buf, type Handler, int, onFd, task, vfsCall } from "./common.js"

/** Fill a struct stat object from a Kstat, as newfstatat copies it out. */
const fillStat = (out: unknown, st: Kstat): void => {
  if (out !== null && typeof out === "object") Object.assign(out, st)
}

/** fs/read_write.c, fs/open.c, fs/namei.c, fs/stat.c, fs/sync.c, fs/fcntl.c, fs/file.c */
export const FS_HANDLERS: Readonly<Record<string, Handler>> = {
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
    // fs/stat.c do_readlinkat(): a size of zero or less is refused before the lookup
    if (int(a[3]) <= 0) return sysError("EINVAL", "readlinkat")
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
  getcwd: vfsCall((ctx, a) => {
    // fs/d_path.c: the path and its NUL, ERANGE when the buffer cannot hold both
    const cwd = getcwd(task(ctx))
    if (typeof cwd !== "string") return cwd
    const bytes = new TextEncoder().encode(cwd + "\0")
    if (bytes.length > int(a[1])) return sysError("ERANGE", "getcwd")
    const out = buf(a[0])
    if (out instanceof Error) return out
    if (out.length < bytes.length) return sysError("EFAULT", "getcwd")
    out.set(bytes)
    return bytes.length
  }),
  chdir: vfsCall((ctx, a) => chdir(task(ctx), a[0] as string), 0),
  fchdir: vfsCall((ctx, a) => fchdir(task(ctx), int(a[0]))),
  chroot: vfsCall((ctx, a) => chroot(task(ctx), a[0] as string), 0)
}
