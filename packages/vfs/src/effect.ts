import { isSysError, type SysError } from "@simkernel/abi"
import { Effect } from "effect"
import { fsconfig, fsopen, fspick } from "./fsopen.js"
import { fsmount, mountSetattr, moveMount, openTree, openTreeAttr } from "./mountApi.js"
import { linkat, mkdirat, mknodat, readlinkat, renameat2, symlinkat, unlinkat } from "./nameiOps.js"
import { doMount, ksysUmount, pivotRoot } from "./namespace.js"
import { chdir, chroot, close, fchdir, fchmodat, fchownat, ftruncate, openat, openat2 } from "./open.js"
import { getdents64, lseek, pread, pwrite, read, write } from "./readWrite.js"
import { fstatat, statfs, statx } from "./stat.js"

/**
 * Lift a synchronous `A | SysError` (or `SysError | undefined` for calls
 * that return nothing) into an Effect, for callers written in Effect.
 */
export const liftSys = <A>(f: () => A | SysError): Effect.Effect<Exclude<A, undefined> | (undefined extends A ? void : never), SysError> =>
  Effect.suspend(() => {
    const r = f()
    return isSysError(r) ? Effect.fail(r) : Effect.succeed(r as never)
  })

type Fn = (...args: Array<never>) => unknown
type Lifted<F extends Fn> = (...args: Parameters<F>) => Effect.Effect<Exclude<ReturnType<F>, SysError | undefined> | (undefined extends ReturnType<F> ? void : never), SysError>

const lift =
  <F extends Fn>(f: F): Lifted<F> =>
  (...args) =>
    liftSys(() => (f as (...a: Parameters<F>) => unknown)(...args) as never) as never

/**
 * The semantic core as Effects: each is Effect.suspend around the
 * synchronous function of the same name, failing with its SysError.
 */
export const VfsEffect = {
  openat: lift(openat),
  openat2: lift(openat2),
  close: lift(close),
  mkdirat: lift(mkdirat),
  mknodat: lift(mknodat),
  unlinkat: lift(unlinkat),
  renameat2: lift(renameat2),
  linkat: lift(linkat),
  symlinkat: lift(symlinkat),
  readlinkat: lift(readlinkat),
  fstatat: lift(fstatat),
  statx: lift(statx),
  statfs: lift(statfs),
  read: lift(read),
  write: lift(write),
  pread: lift(pread),
  pwrite: lift(pwrite),
  lseek: lift(lseek),
  getdents64: lift(getdents64),
  ftruncate: lift(ftruncate),
  fchmodat: lift(fchmodat),
  fchownat: lift(fchownat),
  chdir: lift(chdir),
  fchdir: lift(fchdir),
  chroot: lift(chroot),
  mount: lift(doMount),
  umount2: lift(ksysUmount),
  pivotRoot: lift(pivotRoot),
  fsopen: lift(fsopen),
  fsconfig: lift(fsconfig),
  fsmount: lift(fsmount),
  fspick: lift(fspick),
  moveMount: lift(moveMount),
  openTree: lift(openTree),
  openTreeAttr: lift(openTreeAttr),
  mountSetattr: lift(mountSetattr)
}
