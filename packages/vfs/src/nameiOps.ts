import {
  AT_EMPTY_PATH,
  AT_REMOVEDIR,
  AT_SYMLINK_FOLLOW,
  CAP_DAC_READ_SEARCH,
  CAP_MKNOD,
  RENAME_EXCHANGE,
  RENAME_NOREPLACE,
  RENAME_WHITEOUT,
  S_IFBLK,
  S_IFCHR,
  S_IFDIR,
  S_IFIFO,
  S_IFLNK,
  S_IFMT,
  S_IFREG,
  S_IFSOCK,
  S_ISGID,
  S_ISUID,
  S_IXGRP,
  sysError,
  type SysError
} from "@simkernel/abi"
import { capable } from "@simkernel/cred"
import { MAY_EXEC, MAY_READ, MAY_WRITE, MNT_INTERNAL, PAGE_SIZE } from "./constants.js"
import { Dentry } from "./Dentry.js"
import { createEntry, dropNlink, isDeadDir, killDir, mayCreate, mntWantWrite } from "./inodeOps.js"
import { filenameLookup, filenameParentat, LAST_DOT, LAST_DOTDOT, LAST_NORM, LAST_ROOT, LOOKUP_EMPTY, LOOKUP_FOLLOW, type NameiData } from "./namei.js"
import { checkSticky, genericPermission, inodeOwnerOrCapable, inodePermission } from "./permission.js"
import { dPath, dPathFromTop } from "./procNamespace.js"
import type { VfsTask } from "./Task.js"
import { umountTree, UMOUNT_SYNC } from "./namespace.js"

const S_IRWXUGO = 0o777
const S_ISVTX = 0o1000
const S_IALLUGO = 0o7777

/** A parent directory and the name to create in it (filename_create()). */
interface CreateTarget {
  readonly nd: NameiData
  readonly name: string
}

/**
 * filename_create(): walk to the parent; EEXIST for ".", ".." or "/" as
 * the last component and for an existing name, the directory's lookup
 * error (procfs), ENOENT for a missing one with a trailing slash (unless
 * a directory is wanted), ENAMETOOLONG, then EROFS.
 */
export const filenameCreate = (task: VfsTask, dirfd: number, path: string, lookupFlags: number, wantDir: boolean): CreateTarget | SysError => {
  const nd = filenameParentat(task, dirfd, path, lookupFlags)
  if ("errno" in nd) return nd
  if (nd.lastType !== LAST_NORM) return sysError("EEXIST")
  const ro = mntWantWrite(nd.mnt)
  const existing = nd.dentry.lookup(nd.last)
  if (existing !== undefined) return sysError("EEXIST")
  const lookupError = nd.dentry.inode.iop?.lookupError
  if (lookupError !== undefined) return lookupError()
  if (nd.last.length > 255) return sysError("ENAMETOOLONG")
  if (nd.lastSlash && !wantDir) return sysError("ENOENT")
  if (ro !== undefined) return ro
  return { nd, name: nd.last }
}

/** mkdirat(2): mode & ~umask (and 01777), EEXIST/ENOENT/ENOTDIR/EROFS/EACCES/ENOSPC as Linux. */
export const mkdirat = (task: VfsTask, dirfd: number, path: string, mode: number): SysError | undefined => {
  const t = filenameCreate(task, dirfd, path, 0, true)
  if ("errno" in t) return t
  const dir = t.nd.dentry
  const err = mayCreate(task, dir, t.name)
  if (err !== undefined) return err
  const m = S_IFDIR | (mode & (S_IRWXUGO | S_ISVTX) & ~task.fs.umask)
  const d = createEntry(task, dir, t.name, m)
  return "errno" in d ? d : dir.inode.sb.commitChange(dir.inode, "dir")
}

/** may_mknod(): regular files, devices, FIFOs and sockets; a directory is EPERM, anything else EINVAL. */
const mayMknod = (mode: number): SysError | undefined => {
  switch (mode & S_IFMT) {
    case 0:
    case S_IFREG:
    case S_IFCHR:
    case S_IFBLK:
    case S_IFIFO:
    case S_IFSOCK:
      return undefined
    case S_IFDIR:
      return sysError("EPERM", "mknodat")
    default:
      return sysError("EINVAL", "mknodat")
  }
}

/** new_encode_dev(): a device number from major and minor, as stat's st_rdev. */
export const mkdev = (major: number, minor: number): number => major * 256 + (minor & 0xff) + (minor >>> 8) * 0x100000
export const devMajor = (dev: number): number => Math.floor(dev / 256) & 0xfff
export const devMinor = (dev: number): number => (dev & 0xff) | ((Math.floor(dev / 0x100000) & 0xfff) << 8)

/**
 * mknodat(2): type 0 makes a regular file; devices need CAP_MKNOD in the
 * initial user namespace (EPERM); `dev` is the encoded device number
 * (mkdev()).
 */
export const mknodat = (task: VfsTask, dirfd: number, path: string, mode: number, dev: number): SysError | undefined => {
  let err = mayMknod(mode)
  if (err !== undefined) return err
  const t = filenameCreate(task, dirfd, path, 0, false)
  if ("errno" in t) return t
  const m0 = mode & ~task.fs.umask
  const type = (m0 & S_IFMT) === 0 ? S_IFREG : m0 & S_IFMT
  const dir = t.nd.dentry
  err = mayCreate(task, dir, t.name)
  if (err !== undefined) return err
  if ((type === S_IFCHR || type === S_IFBLK) && !capable(task.cred, CAP_MKNOD)) return sysError("EPERM", "mknodat")
  const d = createEntry(task, dir, t.name, type | (m0 & S_IALLUGO), type === S_IFCHR || type === S_IFBLK ? dev : 0)
  return "errno" in d ? d : dir.inode.sb.commitChange(dir.inode, "dir")
}

/** symlinkat(2): ENOENT for an empty target, ENAMETOOLONG for one longer than a page (tmpfs). */
export const symlinkat = (task: VfsTask, target: string, newdirfd: number, linkpath: string): SysError | undefined => {
  if (target.length === 0) return sysError("ENOENT", "symlinkat")
  if (target.length >= 4096) return sysError("ENAMETOOLONG", "symlinkat")
  const t = filenameCreate(task, newdirfd, linkpath, 0, false)
  if ("errno" in t) return t
  const dir = t.nd.dentry
  const err = mayCreate(task, dir, t.name)
  if (err !== undefined) return err
  if (target.length + 1 > PAGE_SIZE) return sysError("ENAMETOOLONG", "symlinkat")
  const d = createEntry(task, dir, t.name, S_IFLNK | 0o777)
  if ("errno" in d) return d
  d.inode.data = target
  d.inode.size = target.length
  return dir.inode.sb.commitChange(dir.inode, "dir")
}

/**
 * is_local_mountpoint(): something of the caller's namespace is mounted
 * on the dentry.
 */
const isLocalMountpoint = (task: VfsTask, d: Dentry): boolean => {
  if (d.mountedBy === undefined) return false
  for (const m of d.mountedBy) if (m.ns === task.mntNs) return true
  return false
}

/** detach_mounts(): mounts on a removed dentry in other namespaces go away. */
const detachMounts = (d: Dentry): void => {
  if (d.mountedBy === undefined) return
  for (const m of [...d.mountedBy]) if (m.mountpoint === d) umountTree(m, UMOUNT_SYNC)
}

/**
 * may_delete(): ENOENT, write+search on the directory, the sticky rule
 * (EPERM), ENOTDIR/EISDIR for the wrong type, EBUSY for a root.
 */
const mayDelete = (task: VfsTask, dir: Dentry, victim: Dentry, isdir: boolean): SysError | undefined => {
  const err = inodePermission(task.cred, dir.inode, MAY_WRITE | MAY_EXEC)
  if (err !== undefined) return err
  if (checkSticky(task.cred, dir.inode, victim.inode)) return sysError("EPERM")
  if (isdir) {
    if (!victim.inode.isDir) return sysError("ENOTDIR")
    if (victim.isRoot) return sysError("EBUSY")
  } else if (victim.inode.isDir) return sysError("EISDIR")
  if (isDeadDir(dir.inode)) return sysError("ENOENT")
  return undefined
}

/**
 * unlinkat(2): AT_REMOVEDIR for rmdir (ENOTEMPTY for ".." and a non-empty
 * directory, EINVAL for ".", EBUSY for "/" and mountpoints), else unlink
 * (EISDIR for a directory or "."/"..", ENOTDIR for a file with a trailing
 * slash). Other flags are EINVAL.
 */
export const unlinkat = (task: VfsTask, dirfd: number, path: string, flags: number): SysError | undefined => {
  if ((flags & ~AT_REMOVEDIR) !== 0) return sysError("EINVAL", "unlinkat")
  const nd = filenameParentat(task, dirfd, path, 0)
  if ("errno" in nd) return nd
  const rmdir = (flags & AT_REMOVEDIR) !== 0
  if (rmdir) {
    if (nd.lastType === LAST_DOTDOT) return sysError("ENOTEMPTY", "rmdir")
    if (nd.lastType === LAST_DOT) return sysError("EINVAL", "rmdir")
    if (nd.lastType === LAST_ROOT) return sysError("EBUSY", "rmdir")
  } else if (nd.lastType !== LAST_NORM) return sysError("EISDIR", "unlink")
  let err = mntWantWrite(nd.mnt)
  if (err !== undefined) return err
  const dir = nd.dentry
  const victim = dir.lookup(nd.last)
  if (victim === undefined) return sysError(nd.last.length > 255 ? "ENAMETOOLONG" : "ENOENT")
  if (!rmdir && nd.lastSlash) return sysError(victim.inode.isDir ? "EISDIR" : "ENOTDIR", "unlink")
  err = mayDelete(task, dir, victim, rmdir)
  if (err !== undefined) return err
  if (dir.inode.iop?.fixedEntries === true) return sysError("EPERM", rmdir ? "rmdir" : "unlink")
  if (isLocalMountpoint(task, victim)) return sysError("EBUSY")
  if (rmdir) {
    if (victim.children !== undefined && victim.children.size > 0) return sysError("ENOTEMPTY", "rmdir")
    killDir(dir, victim)
  } else {
    dir.removeChild(victim)
    victim.unhashed = true
    const inode = victim.inode
    if (inode.nlink > 1) inode.sb.releaseInodeSlot()
    dropNlink(inode)
  }
  dir.inode.touchMtime()
  detachMounts(victim)
  return dir.inode.sb.commitChange(dir.inode, "dir")
}

/**
 * linkat(2): a new name for an existing non-directory on the same mount
 * (EXDEV otherwise). EPERM for a directory, ENOENT for an unlinked file,
 * EINVAL for unknown flags; AT_EMPTY_PATH needs CAP_DAC_READ_SEARCH.
 * Hard links are protected (fs.protected_hardlinks=1): without owning the
 * file or CAP_FOWNER it must be a regular file the caller can read and write.
 */
export const linkat = (task: VfsTask, olddirfd: number, oldpath: string, newdirfd: number, newpath: string, flags: number): SysError | undefined => {
  if ((flags & ~(AT_SYMLINK_FOLLOW | AT_EMPTY_PATH)) !== 0) return sysError("EINVAL", "linkat")
  let how = 0
  if ((flags & AT_EMPTY_PATH) !== 0) {
    if (!capable(task.cred, CAP_DAC_READ_SEARCH)) return sysError("ENOENT", "linkat")
    how |= LOOKUP_EMPTY
  }
  if ((flags & AT_SYMLINK_FOLLOW) !== 0) how |= LOOKUP_FOLLOW
  const old = filenameLookup(task, olddirfd, oldpath, how)
  if ("errno" in old) return old
  const oldMnt = old.mnt
  const src = old.dentry
  const t = filenameCreate(task, newdirfd, newpath, 0, false)
  if ("errno" in t) return t
  if (oldMnt !== t.nd.mnt) return sysError("EXDEV", "linkat")
  const inode = src.inode
  if (!inodeOwnerOrCapable(task.cred, inode)) {
    const safe = inode.isReg && (inode.mode & S_ISUID) === 0 && (inode.mode & (S_ISGID | S_IXGRP)) !== (S_ISGID | S_IXGRP) && genericPermission(task.cred, inode, MAY_READ | MAY_WRITE)
    if (!safe) return sysError("EPERM", "linkat")
  }
  const dir = t.nd.dentry
  const err = mayCreate(task, dir, t.name)
  if (err !== undefined) return err
  if (dir.inode.sb !== inode.sb) return sysError("EXDEV", "linkat")
  if (inode.isDir) return sysError("EPERM", "linkat")
  if (inode.nlink === 0) return sysError("ENOENT", "linkat")
  const r = inode.sb.reserveInode()
  if (r !== undefined) return r
  const d = new Dentry(t.name, dir, inode)
  dir.addChild(d)
  inode.nlink++
  inode.touchCtime()
  dir.inode.touchMtime()
  return dir.inode.sb.commitChange(dir.inode, "dir")
}

/** lock_rename()'s trap: the child of `p1` on the way down to `p2`, if `p2` is below `p1`. */
const dAncestor = (p1: Dentry, p2: Dentry): Dentry | undefined => {
  for (let d = p2; !d.isRoot; d = d.parent) if (d.parent === p1) return d
  return undefined
}

/**
 * renameat2(2) with RENAME_NOREPLACE, RENAME_EXCHANGE and RENAME_WHITEOUT: EXDEV across
 * mounts, EBUSY for "."/".." or mountpoints, EINVAL to move a directory
 * into itself, ENOTEMPTY over a non-empty directory (or an ancestor of the
 * source), EEXIST with NOREPLACE, ENOTDIR/EISDIR for type mismatches.
 */
export const renameat2 = (
  task: VfsTask,
  olddirfd: number,
  oldpath: string,
  newdirfd: number,
  newpath: string,
  flags: number
): SysError | undefined => {
  if ((flags & ~(RENAME_NOREPLACE | RENAME_EXCHANGE | RENAME_WHITEOUT)) !== 0) return sysError("EINVAL", "renameat2")
  if ((flags & (RENAME_NOREPLACE | RENAME_WHITEOUT)) !== 0 && (flags & RENAME_EXCHANGE) !== 0) return sysError("EINVAL", "renameat2")
  const exchange = (flags & RENAME_EXCHANGE) !== 0
  const oldNd = filenameParentat(task, olddirfd, oldpath, 0)
  if ("errno" in oldNd) return oldNd
  const newNd = filenameParentat(task, newdirfd, newpath, 0)
  if ("errno" in newNd) return newNd
  if (oldNd.mnt !== newNd.mnt) return sysError("EXDEV", "renameat2")
  if (oldNd.lastType !== LAST_NORM) return sysError("EBUSY", "renameat2")
  if (newNd.lastType !== LAST_NORM) return sysError((flags & RENAME_NOREPLACE) !== 0 ? "EEXIST" : "EBUSY", "renameat2")
  let err = mntWantWrite(oldNd.mnt)
  if (err !== undefined) return err
  const oldDir = oldNd.dentry
  const newDir = newNd.dentry
  const trap = oldDir === newDir ? undefined : (dAncestor(oldDir, newDir) ?? dAncestor(newDir, oldDir))
  const oldD = oldDir.lookup(oldNd.last)
  if (oldD === undefined) return sysError("ENOENT", "renameat2")
  const newD = newDir.lookup(newNd.last)
  if (newD !== undefined && (flags & RENAME_NOREPLACE) !== 0) return sysError("EEXIST", "renameat2")
  if (newD === undefined && exchange) return sysError("ENOENT", "renameat2")
  if (newD === undefined && newNd.last.length > 255) return sysError("ENAMETOOLONG", "renameat2")
  if (exchange && !newD!.inode.isDir && newNd.lastSlash) return sysError("ENOTDIR", "renameat2")
  if (!oldD.inode.isDir) {
    if (oldNd.lastSlash) return sysError("ENOTDIR", "renameat2")
    if (!exchange && newNd.lastSlash) return sysError("ENOTDIR", "renameat2")
  }
  if (trap !== undefined && oldD === trap) return sysError("EINVAL", "renameat2")
  if (trap !== undefined && newD === trap) return sysError(exchange ? "EINVAL" : "ENOTEMPTY", "renameat2")
  if (newD !== undefined && oldD.inode === newD.inode) return undefined
  const isDir = oldD.inode.isDir
  err = mayDelete(task, oldDir, oldD, isDir)
  if (err !== undefined) return err
  if (newD === undefined) err = mayCreate(task, newDir, newNd.last)
  else err = mayDelete(task, newDir, newD, exchange ? newD.inode.isDir : isDir)
  if (err !== undefined) return err
  if (oldDir.inode.iop?.fixedEntries === true || newDir.inode.iop?.fixedEntries === true) return sysError("EPERM", "renameat2")
  if (newDir !== oldDir) {
    if (isDir && (err = inodePermission(task.cred, oldD.inode, MAY_WRITE)) !== undefined) return err
    if (exchange && newD!.inode.isDir && (err = inodePermission(task.cred, newD!.inode, MAY_WRITE)) !== undefined) return err
  }
  if (isLocalMountpoint(task, oldD) || (newD !== undefined && isLocalMountpoint(task, newD))) return sysError("EBUSY", "renameat2")
  if (exchange) {
    const nd2 = newD!
    oldDir.removeChild(oldD)
    newDir.removeChild(nd2)
    const oName = oldD.name
    oldD.name = nd2.name
    nd2.name = oName
    oldD.parent = newDir
    nd2.parent = oldDir
    newDir.addChild(oldD)
    oldDir.addChild(nd2)
    if (oldDir !== newDir && oldD.inode.isDir !== nd2.inode.isDir) {
      if (oldD.inode.isDir) (newDir.inode.nlink++, oldDir.inode.nlink--)
      else (oldDir.inode.nlink++, newDir.inode.nlink--)
    }
    oldD.inode.touchCtime()
    nd2.inode.touchCtime()
  } else {
    if (newD !== undefined) {
      if (newD.inode.isDir) {
        if (newD.children !== undefined && newD.children.size > 0) return sysError("ENOTEMPTY", "renameat2")
        killDir(newDir, newD)
      } else {
        newDir.removeChild(newD)
        newD.unhashed = true
        if (newD.inode.nlink > 1) newD.inode.sb.releaseInodeSlot()
        dropNlink(newD.inode)
      }
      detachMounts(newD)
    }
    const oldName = oldD.name
    oldDir.removeChild(oldD)
    oldD.name = newNd.last
    oldD.parent = newDir
    newDir.addChild(oldD)
    if (isDir && oldDir !== newDir) {
      oldDir.inode.nlink--
      newDir.inode.nlink++
    }
    oldD.inode.touchCtime()
    // RENAME_WHITEOUT leaves a 0:0 character device where the source was (shmem_whiteout())
    if ((flags & RENAME_WHITEOUT) !== 0) {
      const wh = createEntry(task, oldDir, oldName, S_IFCHR, 0)
      if ("errno" in wh) return wh
    }
  }
  oldDir.inode.touchMtime()
  if (newDir !== oldDir) newDir.inode.touchMtime()
  return newDir.inode.sb.commitChange(newDir.inode, "dir")
}

/**
 * readlinkat(2): the link text; EINVAL for a non-symlink. A magic link
 * reads as the path of what it points at, seen from the caller's root,
 * with " (deleted)" once that was removed (d_path()).
 */
export const readlinkat = (task: VfsTask, dirfd: number, path: string): string | SysError => {
  const nd = filenameLookup(task, dirfd, path, LOOKUP_EMPTY)
  if ("errno" in nd) return nd
  const inode = nd.dentry.inode
  if (!inode.isLnk) return sysError("EINVAL", "readlinkat")
  const get = inode.iop?.getLink
  if (get !== undefined) {
    const r = get(nd.dentry, task)
    if (typeof r === "string") return r
    if ("errno" in r) return r
    // a pseudo file reached through an internal mount has no path: its d_dname()
    const dname = r.mnt.sb.type.dname
    if (dname !== undefined && (r.mnt.flags & MNT_INTERNAL) !== 0) return dname(r.dentry)
    // d_path(): a removed file or directory (d_unlinked()) gets " (deleted)"; a pseudo
    // filesystem's dentries (nsfs bind-mounted) are never that, as d_alloc_pseudo() makes them IS_ROOT
    const deleted = r.dentry.unhashed && !r.dentry.isRoot && dname === undefined ? " (deleted)" : ""
    return (dPath(r.mnt, r.dentry, task.fs.root) ?? dPathFromTop(r.mnt, r.dentry)) + deleted
  }
  inode.touchAtime(nd.mnt.flags, nd.mnt.isReadonly)
  return inode.data as string
}
