import {
  CAP_CHOWN,
  CAP_DAC_OVERRIDE,
  CAP_DAC_READ_SEARCH,
  CAP_FOWNER,
  S_IFMT,
  S_IFDIR,
  S_IFLNK,
  S_IFREG,
  S_ISVTX,
  sysError,
  type SysError
} from "@simkernel/abi"
import { capableWrtInodeUidgid, type CredValues, inGroupP } from "@simkernel/cred"
import { MAY_EXEC, MAY_READ, MAY_WRITE, MNT_NODEV, MNT_NOEXEC, MNT_NOSUID } from "./constants.js"
import type { Inode } from "./Inode.js"
import type { Mount } from "./Mount.js"

const S_IXUGO = 0o111

/** acl_permission_check(): the mode bits for the owner, the group, or others. */
const aclPermissionCheck = (cred: CredValues, inode: Inode, mask: number): boolean => {
  let mode = inode.mode
  if (cred.fsuid === inode.uid) return ((mask & 7) & ~(mode >> 6)) === 0
  const m = mask & 7
  // The group's bits matter only where they differ from the others' bits.
  if ((m & (mode ^ (mode >> 3))) !== 0 && inGroupP(cred, inode.gid)) mode >>= 3
  return (m & ~mode) === 0
}

/**
 * generic_permission(): the mode bits, then CAP_DAC_READ_SEARCH and
 * CAP_DAC_OVERRIDE, which count only over inodes whose owner and group are
 * mapped in the caller's user namespace (capable_wrt_inode_uidgid()).
 * Executing needs at least one x bit even with CAP_DAC_OVERRIDE.
 */
export const genericPermission = (cred: CredValues, inode: Inode, mask: number): boolean => {
  if (aclPermissionCheck(cred, inode, mask)) return true
  if ((inode.mode & S_IFMT) === S_IFDIR) {
    if ((mask & MAY_WRITE) === 0 && capableWrtInodeUidgid(cred, inode.uid, inode.gid, CAP_DAC_READ_SEARCH)) return true
    return capableWrtInodeUidgid(cred, inode.uid, inode.gid, CAP_DAC_OVERRIDE)
  }
  const m = mask & (MAY_READ | MAY_WRITE | MAY_EXEC)
  if (m === MAY_READ && capableWrtInodeUidgid(cred, inode.uid, inode.gid, CAP_DAC_READ_SEARCH)) return true
  if ((m & MAY_EXEC) === 0 || (inode.mode & S_IXUGO) !== 0)
    return capableWrtInodeUidgid(cred, inode.uid, inode.gid, CAP_DAC_OVERRIDE)
  return false
}

/**
 * inode_permission(): EROFS for writing a file, directory or symlink of a
 * read-only superblock, then generic_permission (EACCES).
 */
export const inodePermission = (cred: CredValues, inode: Inode, mask: number): SysError | undefined => {
  if ((mask & MAY_WRITE) !== 0 && inode.sb.rdonly) {
    const t = inode.mode & S_IFMT
    if (t === S_IFREG || t === S_IFDIR || t === S_IFLNK) return sysError("EROFS")
  }
  const own = inode.iop?.permission
  if (own !== undefined) return own(cred, inode, mask)
  return genericPermission(cred, inode, mask) ? undefined : sysError("EACCES")
}

/** may_lookup() fast path: search permission on a directory. */
export const mayExec = (cred: CredValues, inode: Inode): boolean => {
  const own = inode.iop?.permission
  if (own !== undefined) return own(cred, inode, MAY_EXEC) === undefined
  return (inode.mode & S_IXUGO) === S_IXUGO || genericPermission(cred, inode, MAY_EXEC)
}

/** inode_owner_or_capable(): the fsuid owns the inode, or CAP_FOWNER over it. */
export const inodeOwnerOrCapable = (cred: CredValues, inode: Inode): boolean =>
  cred.fsuid === inode.uid || capableWrtInodeUidgid(cred, inode.uid, inode.gid, CAP_FOWNER)

/**
 * check_sticky(): in a sticky directory only the file's owner, the
 * directory's owner, or CAP_FOWNER over the file may remove or rename it.
 */
export const checkSticky = (cred: CredValues, dir: Inode, inode: Inode): boolean => {
  if ((dir.mode & S_ISVTX) === 0) return false
  if (cred.fsuid === inode.uid || cred.fsuid === dir.uid) return false
  return !capableWrtInodeUidgid(cred, inode.uid, inode.gid, CAP_FOWNER)
}

/** chown_ok()/chgrp_ok() need CAP_CHOWN over the inode unless nothing changes. */
export const capableChown = (cred: CredValues, inode: Inode): boolean =>
  capableWrtInodeUidgid(cred, inode.uid, inode.gid, CAP_CHOWN)

/** may_open_dev(): devices cannot be opened through a nodev mount. */
export const mayOpenDev = (mnt: Mount): boolean => (mnt.flags & MNT_NODEV) === 0

/** path_noexec(). */
export const pathNoexec = (mnt: Mount): boolean => (mnt.flags & MNT_NOEXEC) !== 0

/** mnt_may_suid(). */
export const mntMaySuid = (mnt: Mount): boolean => (mnt.flags & MNT_NOSUID) === 0
