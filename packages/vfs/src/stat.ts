import {
  AT_EMPTY_PATH,
  AT_FDCWD,
  AT_NO_AUTOMOUNT,
  AT_STATX_SYNC_TYPE,
  AT_SYMLINK_NOFOLLOW,
  STATX__RESERVED,
  STATX_BASIC_STATS,
  STATX_BTIME,
  STATX_MNT_ID,
  ST_MANDLOCK,
  ST_NOATIME,
  ST_NODEV,
  ST_NODIRATIME,
  ST_NOEXEC,
  ST_NOSUID,
  ST_NOSYMFOLLOW,
  ST_RDONLY,
  ST_RELATIME,
  ST_SYNCHRONOUS,
  ST_VALID,
  sysError,
  type SysError
} from "@simkernel/abi"
import { fromKgidMunged, fromKuidMunged } from "@simkernel/cred"
import {
  MNT_NOATIME,
  MNT_NODEV,
  MNT_NODIRATIME,
  MNT_NOEXEC,
  MNT_NOSUID,
  MNT_NOSYMFOLLOW,
  MNT_READONLY,
  MNT_RELATIME,
  PAGE_SIZE,
  SB_MANDLOCK,
  SB_RDONLY,
  SB_SYNCHRONOUS
} from "./constants.js"
import type { Kstatfs } from "./FsType.js"
import type { Mount } from "./Mount.js"
import { filenameLookup, LOOKUP_AUTOMOUNT, LOOKUP_EMPTY, LOOKUP_FOLLOW } from "./namei.js"
import type { Path } from "./Path.js"
import type { VfsTask } from "./Task.js"

/** struct stat / struct statx as the caller sees it (ids mapped into the caller's user namespace). */
export interface Kstat {
  readonly dev: number
  readonly ino: number
  readonly mode: number
  readonly nlink: number
  readonly uid: number
  readonly gid: number
  readonly rdev: number
  readonly size: number
  readonly blksize: number
  readonly blocks: number
  readonly atimeSec: number
  readonly atimeNsec: number
  readonly mtimeSec: number
  readonly mtimeNsec: number
  readonly ctimeSec: number
  readonly ctimeNsec: number
  /** statx only: the fields filled in (STATX_*). */
  readonly mask: number
  readonly mntId: number
}

/** vfs_getattr() for a Path, seen by `task`. */
export const vfsGetattr = (task: VfsTask, path: Path): Kstat => {
  const inode = path.dentry.inode
  const ns = task.cred.userNs
  return {
    dev: path.mnt.sb.dev,
    ino: inode.ino,
    mode: inode.mode,
    nlink: inode.nlink,
    uid: fromKuidMunged(ns, inode.uid),
    gid: fromKgidMunged(ns, inode.gid),
    rdev: inode.rdev,
    size: inode.size,
    blksize: PAGE_SIZE,
    blocks: inode.pages * (PAGE_SIZE / 512),
    atimeSec: inode.atimeSec,
    atimeNsec: inode.atimeNsec,
    mtimeSec: inode.mtimeSec,
    mtimeNsec: inode.mtimeNsec,
    ctimeSec: inode.ctimeSec,
    ctimeNsec: inode.ctimeNsec,
    mask: STATX_BASIC_STATS | STATX_MNT_ID,
    mntId: path.mnt.mntId
  }
}

const statPath = (task: VfsTask, dirfd: number, path: string, flags: number): Path | SysError => {
  let lookup = (flags & AT_SYMLINK_NOFOLLOW) !== 0 ? 0 : LOOKUP_FOLLOW
  if ((flags & AT_NO_AUTOMOUNT) === 0) lookup |= LOOKUP_AUTOMOUNT
  if ((flags & AT_EMPTY_PATH) !== 0) {
    lookup |= LOOKUP_EMPTY
    if (path === "") {
      const f = task.files.fdget(dirfd)
      if (dirfd !== AT_FDCWD && f === undefined) return sysError("EBADF")
      // a file that decides how it serves as a dirfd (a container fd) is asked through the walk
      if (f !== undefined && f.fop?.dirfdRoot === undefined) return f
    }
  }
  return filenameLookup(task, dirfd, path, lookup)
}

/** vfs_getattr() with the filesystem's ->getattr refusal, if it has one. */
const getattr = (task: VfsTask, path: Path): Kstat | SysError => path.dentry.inode.iop?.getattr?.(task) ?? vfsGetattr(task, path)

/** newfstatat(2): EINVAL for flags other than AT_SYMLINK_NOFOLLOW, AT_NO_AUTOMOUNT, AT_EMPTY_PATH. */
export const fstatat = (task: VfsTask, dirfd: number, path: string, flags: number): Kstat | SysError => {
  if ((flags & ~(AT_SYMLINK_NOFOLLOW | AT_NO_AUTOMOUNT | AT_EMPTY_PATH)) !== 0) return sysError("EINVAL", "newfstatat")
  const p = statPath(task, dirfd, path, flags)
  return "errno" in p ? p : getattr(task, p)
}

/** fstat(2): O_PATH fds work. */
export const fstat = (task: VfsTask, fd: number): Kstat | SysError => {
  const f = task.files.fdget(fd)
  return f === undefined ? sysError("EBADF", "fstat") : getattr(task, f)
}

/**
 * statx(2): EINVAL for unknown flags, a bad sync type, or the reserved
 * mask bit. tmpfs fills the basic stats and the mount id, not btime.
 */
export const statx = (task: VfsTask, dirfd: number, path: string, flags: number, mask: number): Kstat | SysError => {
  if ((flags & ~(AT_SYMLINK_NOFOLLOW | AT_NO_AUTOMOUNT | AT_EMPTY_PATH | AT_STATX_SYNC_TYPE)) !== 0) return sysError("EINVAL", "statx")
  if ((flags & AT_STATX_SYNC_TYPE) === AT_STATX_SYNC_TYPE) return sysError("EINVAL", "statx")
  if ((mask & STATX__RESERVED) !== 0) return sysError("EINVAL", "statx")
  const p = statPath(task, dirfd, path, flags)
  if ("errno" in p) return p
  const st = getattr(task, p)
  if ("errno" in st) return st
  return { ...st, mask: st.mask & ~STATX_BTIME }
}

/** calculate_f_flags(): ST_* from the mount's flags and the superblock's. */
export const calculateFFlags = (mnt: Mount): number => {
  const f = mnt.flags
  let out = ST_VALID
  if (f & MNT_READONLY) out |= ST_RDONLY
  if (f & MNT_NOSUID) out |= ST_NOSUID
  if (f & MNT_NODEV) out |= ST_NODEV
  if (f & MNT_NOEXEC) out |= ST_NOEXEC
  if (f & MNT_NOATIME) out |= ST_NOATIME
  if (f & MNT_NODIRATIME) out |= ST_NODIRATIME
  if (f & MNT_RELATIME) out |= ST_RELATIME
  if (f & MNT_NOSYMFOLLOW) out |= ST_NOSYMFOLLOW
  const s = mnt.sb.flags
  if (s & SB_SYNCHRONOUS) out |= ST_SYNCHRONOUS
  if (s & SB_MANDLOCK) out |= ST_MANDLOCK
  if (s & SB_RDONLY) out |= ST_RDONLY
  return out
}

/** vfs_statfs(): the filesystem's numbers plus f_flags. */
export const vfsStatfs = (path: Path): Kstatfs => ({ ...path.mnt.sb.type.statfs(path.mnt.sb), flags: calculateFFlags(path.mnt) })

/** statfs(2). */
export const statfs = (task: VfsTask, path: string): Kstatfs | SysError => {
  const nd = filenameLookup(task, AT_FDCWD, path, LOOKUP_FOLLOW | LOOKUP_AUTOMOUNT)
  return "errno" in nd ? nd : vfsStatfs(nd)
}

/** fstatfs(2): O_PATH fds work. */
export const fstatfs = (task: VfsTask, fd: number): Kstatfs | SysError => {
  const f = task.files.fdget(fd)
  return f === undefined ? sysError("EBADF", "fstatfs") : vfsStatfs(f)
}
