import { AT_FDCWD, AT_SYMLINK_NOFOLLOW, F_GETFD, FD_CLOEXEC, sysError, type SysError } from "@simkernel/abi"
import type { Cred } from "@simkernel/cred"
import {
  chdir,
  close,
  devMajor,
  devMinor,
  doMount,
  fchdir,
  fileTypeLetter,
  fsconfig,
  fsmount,
  fsopen,
  fspick,
  fstatat,
  ksysUmount,
  listDirectory,
  mkdev,
  mkdirat,
  mknodat,
  type MountAttr,
  type MountNamespace,
  mountSetattr,
  moveMount,
  openat,
  openTree,
  openTreeAttr,
  read,
  readlinkat,
  sameFile,
  showMountinfo,
  statfsSummary,
  statSummary,
  symlinkat,
  unlinkat,
  type Vfs,
  type VfsTask,
  write
} from "@simkernel/vfs"
import { Effect } from "effect"
import type { Decoded, MountAttrArg } from "./args.js"
import type { ScenarioProcess, TreeEntry } from "./runner.js"

type Result = unknown | SysError

const isErr = (r: unknown): r is SysError => r instanceof Error && (r as SysError)._tag === "SysError"
const lift = (r: Result): Effect.Effect<unknown, SysError> => (isErr(r) ? Effect.fail(r) : Effect.succeed(r))
const unit = (e: SysError | undefined): Result => e ?? 0
const num = (d: Decoded | undefined): number => (typeof d === "number" ? d : 0)
/** A path argument: a NULL pointer faults, as copying it from user memory would. */
const path = (d: Decoded | undefined): string | SysError => (typeof d === "string" ? d : sysError("EFAULT"))
const opt = (d: Decoded | undefined): string | null => (typeof d === "string" ? d : null)
const u64 = (n: number): bigint => BigInt.asUintN(64, BigInt(n))
/** struct mount_attr (its fields are u64: -1 is every bit set), or NULL. */
const attr = (d: Decoded | undefined): MountAttr | null => {
  if (d === null || typeof d !== "object" || Array.isArray(d)) return null
  const a = d as MountAttrArg
  return { attrSet: u64(a.attrSet), attrClr: u64(a.attrClr), propagation: u64(a.propagation), usernsFd: u64(a.usernsFd), tail: new Uint8Array(a.tail) }
}

/** The VFS state one scenario process works on: its task view and the kernel's Vfs. */
export interface VfsProcessState {
  readonly vfs: Vfs
  readonly task: VfsTask & { mntNs: MountNamespace; cred: Cred }
}

/** A scenario call: its decoded arguments in, its value or errno out. */
export type CallTable = Readonly<Record<string, (a: ReadonlyArray<Decoded>) => Result>>

/**
 * The mount-namespace and file calls of the scenario format, and the
 * observation primitives, for one process's VFS state. Calls that change a
 * task's namespaces (unshare, setns, nsfd) are the process machine's, which
 * routes them through the task's NsProxy.
 */
export const vfsCalls = (state: VfsProcessState): {
  readonly calls: CallTable
  readonly observe: Pick<ScenarioProcess, "mountinfo" | "readdir" | "lstat">
} => {
  const { task } = state

  const listdir = (dirfd: number, p: string): Result => {
    const names = listDirectory(task, dirfd, p)
    return isErr(names) ? names : { names }
  }

  /** One read(2) of at most `n` bytes (4096 when the step leaves it out), as text. */
  const readText = (fd: number, n: Decoded | undefined): Result => {
    const buf = new Uint8Array(n === undefined ? 4096 : num(n))
    const got = read(task, fd, buf)
    return isErr(got) ? got : { data: new TextDecoder().decode(buf.subarray(0, got)) }
  }

  const calls: Readonly<Record<string, (a: ReadonlyArray<Decoded>) => Result>> = {
    mount: (a) => {
      const target = path(a[1])
      return isErr(target) ? target : unit(doMount(task, opt(a[0]), target, opt(a[2]), num(a[3]), opt(a[4])))
    },
    umount2: (a) => {
      const target = path(a[0])
      return isErr(target) ? target : unit(ksysUmount(task, target, num(a[1])))
    },
    mkdirat: (a) => {
      const p = path(a[1])
      return isErr(p) ? p : unit(mkdirat(task, num(a[0]), p, num(a[2])))
    },
    openat: (a) => {
      const p = path(a[1])
      return isErr(p) ? p : openat(task, num(a[0]), p, num(a[2]), num(a[3]))
    },
    mknodat: (a) => {
      const p = path(a[1])
      const dev = Array.isArray(a[3]) ? mkdev(a[3][0] as number, a[3][1] as number) : num(a[3])
      return isErr(p) ? p : unit(mknodat(task, num(a[0]), p, num(a[2]), dev))
    },
    unlinkat: (a) => {
      const p = path(a[1])
      return isErr(p) ? p : unit(unlinkat(task, num(a[0]), p, num(a[2])))
    },
    symlinkat: (a) => {
      const target = path(a[0])
      const link = path(a[2])
      return isErr(target) ? target : isErr(link) ? link : unit(symlinkat(task, target, num(a[1]), link))
    },
    close: (a) => unit(close(task, num(a[0]))),
    fchdir: (a) => unit(fchdir(task, num(a[0]))),
    chdir: (a) => {
      const p = path(a[0])
      return isErr(p) ? p : unit(chdir(task, p))
    },
    listdir: (a) => {
      const p = path(a[1])
      return isErr(p) ? p : listdir(num(a[0]), p)
    },
    stat: (a) => {
      const p = path(a[1])
      return isErr(p) ? p : statSummary(task, num(a[0]), p, num(a[2]))
    },
    statfs: (a) => {
      const p = path(a[1])
      return isErr(p) ? p : statfsSummary(task, num(a[0]), p)
    },
    read: (a) => readText(num(a[0]), a[1]),
    fsmsg: (a) => readText(num(a[0]), a[1]),
    fsopen: (a) => fsopen(task, opt(a[0]), num(a[1])),
    fsconfig: (a) => fsconfig(task, num(a[0]), num(a[1]), opt(a[2]), opt(a[3]), num(a[4])),
    fsmount: (a) => fsmount(task, num(a[0]), num(a[1]), num(a[2])),
    fspick: (a) => fspick(task, num(a[0]), opt(a[1]), num(a[2])),
    open_tree: (a) => openTree(task, num(a[0]), opt(a[1]), num(a[2])),
    open_tree_attr: (a) => openTreeAttr(task, num(a[0]), opt(a[1]), num(a[2]), attr(a[3]), num(a[4])),
    move_mount: (a) => moveMount(task, num(a[0]), opt(a[1]), num(a[2]), opt(a[3]), num(a[4])),
    mount_setattr: (a) => mountSetattr(task, num(a[0]), opt(a[1]), num(a[2]), attr(a[3]), num(a[4])),
    write: (a) => write(task, num(a[0]), new TextEncoder().encode((opt(a[1]) ?? "").repeat(num(a[2]) || 1))),
    cloexec: (a) => {
      const r = task.files.fcntl(num(a[0]), F_GETFD, 0)
      return isErr(r) ? r : { cloexec: ((r as number) & FD_CLOEXEC) !== 0 }
    },
    same_file: (a) => {
      const p1 = path(a[1])
      const p2 = path(a[3])
      if (isErr(p1)) return p1
      if (isErr(p2)) return p2
      const same = sameFile(task, num(a[0]), p1, num(a[2]), p2)
      return isErr(same) ? same : { same }
    }
  }

  const observe: Pick<ScenarioProcess, "mountinfo" | "readdir" | "lstat"> = {
    mountinfo: () => Effect.sync(() => showMountinfo({ root: task.fs.root, ns: task.mntNs })),
    readdir: (p) => {
      const r = listdir(AT_FDCWD, p)
      return isErr(r) ? Effect.fail(r) : Effect.succeed((r as { names: Array<string> }).names)
    },
    lstat: (p) =>
      Effect.suspend(() => {
        const st = fstatat(task, AT_FDCWD, p, AT_SYMLINK_NOFOLLOW)
        if (isErr(st)) return Effect.fail(st)
        const type = fileTypeLetter(st.mode) ?? "f"
        const target = type === "l" ? readlinkat(task, AT_FDCWD, p) : undefined
        const entry: TreeEntry = {
          type,
          mode: st.mode,
          size: st.size,
          rdev: [devMajor(st.rdev), devMinor(st.rdev)],
          ...(typeof target === "string" ? { target } : {})
        }
        return Effect.succeed(entry)
      })
  }
  return { calls, observe }
}

/** Run a call of `calls`, ENOSYS when the machine has none by that name. */
export const callFrom = (calls: CallTable, name: string, args: ReadonlyArray<Decoded>): Effect.Effect<unknown, SysError> => {
  const fn = calls[name]
  return fn === undefined ? Effect.fail(sysError("ENOSYS", name)) : Effect.suspend(() => lift(fn(args)))
}
