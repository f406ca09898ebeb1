import { CAP_FSETID, S_IFDIR, S_IFMT, S_ISGID, S_IXGRP, sysError, type SysError } from "@simkernel/abi"
import { capableWrtInodeUidgid, inGroupP, kgidHasMapping, kuidHasMapping } from "@simkernel/cred"
import { MAY_EXEC, MAY_WRITE } from "./constants.js"
import { Dentry } from "./Dentry.js"
import type { Inode } from "./Inode.js"
import type { Mount } from "./Mount.js"
import { inodePermission } from "./permission.js"
import type { VfsTask } from "./Task.js"

/** mnt_want_write(): EROFS on a read-only mount or superblock. */
export const mntWantWrite = (mnt: Mount): SysError | undefined => (mnt.isReadonly ? sysError("EROFS") : undefined)

/** IS_DEADDIR(): a directory that was removed. */
export const isDeadDir = (dir: Inode): boolean => dir.nlink === 0

/** fsuidgid_has_mapping(): the caller's fsuid and fsgid exist in the superblock's user namespace. */
const fsuidgidHasMapping = (task: VfsTask, dir: Inode): boolean =>
  kuidHasMapping(dir.sb.userNs, task.cred.fsuid) && kgidHasMapping(dir.sb.userNs, task.cred.fsgid)

/**
 * may_create(): EEXIST if the name is taken, the directory's lookup
 * error for a name it cannot hold (procfs), ENOENT in a removed directory, EOVERFLOW when the caller's ids cannot be stored, then write
 * and search permission on the directory.
 */
export const mayCreate = (task: VfsTask, dir: Dentry, name: string): SysError | undefined => {
  if (dir.lookup(name) !== undefined) return sysError("EEXIST")
  const lookupError = dir.inode.iop?.lookupError
  if (lookupError !== undefined) return lookupError()
  if (isDeadDir(dir.inode)) return sysError("ENOENT")
  if (!fsuidgidHasMapping(task, dir.inode)) return sysError("EOVERFLOW")
  return inodePermission(task.cred, dir.inode, MAY_WRITE | MAY_EXEC)
}

/**
 * inode_init_owner() + mode_strip_sgid(): a new inode belongs to the
 * caller's fsuid and to the directory's group when the directory is
 * setgid (a new directory inherits the bit), else to its fsgid. A setgid,
 * group-executable file made by a non-member without CAP_FSETID loses
 * the bit.
 */
export const initOwner = (task: VfsTask, dir: Inode, mode: number): readonly [number, number, number] => {
  const cred = task.cred
  let gid = cred.fsgid
  let m = mode
  if ((dir.mode & S_ISGID) !== 0) {
    gid = dir.gid
    if ((m & S_IFMT) === S_IFDIR) m |= S_ISGID
  }
  if ((m & S_IFMT) !== S_IFDIR && (m & (S_ISGID | S_IXGRP)) === (S_ISGID | S_IXGRP)) {
    if (!inGroupP(cred, gid) && !capableWrtInodeUidgid(cred, dir.uid, dir.gid, CAP_FSETID)) m &= ~S_ISGID
  }
  return [cred.fsuid, gid, m]
}

/**
 * Create an inode named `name` in `dir` (the body of shmem_mknod(),
 * shmem_mkdir(), shmem_symlink()): ENOSPC when the superblock is out of
 * inodes. The directory's mtime and ctime move, a new subdirectory adds a
 * link to its parent.
 */
export const createEntry = (task: VfsTask, dir: Dentry, name: string, mode: number, rdev = 0): Dentry | SysError => {
  const [uid, gid, m] = initOwner(task, dir.inode, mode)
  const inode = dir.inode.sb.newInode(m, uid, gid)
  if ("errno" in inode) return inode
  inode.rdev = rdev
  const d = new Dentry(name, dir, inode)
  dir.addChild(d)
  if (inode.isDir) dir.inode.nlink++
  dir.inode.touchMtime()
  return d
}

/** The inode lost a name: at zero links and no open files its storage goes (iput_final()). */
export const dropNlink = (inode: Inode): void => {
  inode.nlink--
  inode.touchCtime()
  if (inode.nlink === 0 && inode.opens === 0) inode.sb.evictInode(inode)
}

/** Whole-directory removal bookkeeping for rmdir and a rename over a directory (shmem_rmdir()). */
export const killDir = (parent: Dentry, victim: Dentry): void => {
  parent.removeChild(victim)
  victim.unhashed = true
  parent.inode.nlink--
  const inode = victim.inode
  inode.nlink = 0
  inode.touchCtime()
  if (inode.opens === 0) inode.sb.evictInode(inode)
}
