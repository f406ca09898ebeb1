import {
  AT_EMPTY_PATH,
  AT_FDCWD,
  AT_SYMLINK_NOFOLLOW,
  CAP_CHOWN,
  CAP_FSETID,
  CAP_SYS_CHROOT,
  FASYNC,
  MAXSYMLINKS,
  O_ACCMODE,
  O_APPEND,
  O_CLOEXEC,
  O_CREAT,
  O_DIRECT,
  O_DIRECTORY,
  O_DSYNC,
  O_EXCL,
  O_LARGEFILE,
  O_NOATIME,
  O_NOCTTY,
  O_NOFOLLOW,
  O_NONBLOCK,
  O_PATH,
  O_RDONLY,
  O_TMPFILE,
  O_TRUNC,
  OPEN_HOW_SIZE_VER0,
  RESOLVE_BENEATH,
  RESOLVE_CACHED,
  RESOLVE_IN_ROOT,
  RESOLVE_NO_MAGICLINKS,
  RESOLVE_NO_SYMLINKS,
  RESOLVE_NO_XDEV,
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
  __O_SYNC,
  __O_TMPFILE,
  sysError,
  type SysError,
  UTIME_NOW,
  UTIME_OMIT
} from "@simkernel/abi"
import { capableWrtInodeUidgid, inGroupP, kgidHasMapping, kuidHasMapping, makeKgid, makeKuid, nsCapable } from "@simkernel/cred"
import { MAY_APPEND, MAY_CHDIR, MAY_EXEC, MAY_OPEN, MAY_READ, MAY_WRITE } from "./constants.js"
import { Dentry } from "./Dentry.js"
import { charDeviceOps } from "./devices.js"
import { fifoOpen, fifoPartnerWait } from "./pipe.js"
import { type WaitQueue, WouldBlock } from "./waitQueue.js"
import { File } from "./File.js"
import type { Inode } from "./Inode.js"
import { createEntry, initOwner, mayCreate, mntWantWrite } from "./inodeOps.js"
import {
  checkName,
  filenameLookup,
  crossMounts,
  LAST_DOT,
  LAST_NORM,
  linkPathWalk,
  LOOKUP_BENEATH,
  LOOKUP_DIRECTORY,
  LOOKUP_EMPTY,
  LOOKUP_FOLLOW,
  LOOKUP_IN_ROOT,
  LOOKUP_NO_MAGICLINKS,
  LOOKUP_NO_SYMLINKS,
  LOOKUP_NO_XDEV,
  NameiData,
  pathInit,
  pathLookupat,
  walkComponent
} from "./namei.js"
import type { Mount } from "./Mount.js"
import { MNT_NOSYMFOLLOW } from "./constants.js"
import type { Path } from "./Path.js"
import { inodeOwnerOrCapable, inodePermission, mayOpenDev, pathNoexec } from "./permission.js"
import type { VfsTask } from "./Task.js"

const VALID_OPEN_FLAGS =
  0o3 | O_CREAT | O_EXCL | O_NOCTTY | O_TRUNC | O_APPEND | O_NONBLOCK | __O_SYNC | O_DSYNC | FASYNC | O_DIRECT | O_LARGEFILE | O_DIRECTORY | O_NOFOLLOW | O_NOATIME | O_CLOEXEC | O_PATH | __O_TMPFILE
const VALID_RESOLVE_FLAGS = RESOLVE_NO_XDEV | RESOLVE_NO_MAGICLINKS | RESOLVE_NO_SYMLINKS | RESOLVE_BENEATH | RESOLVE_IN_ROOT | RESOLVE_CACHED
const O_PATH_FLAGS = O_DIRECTORY | O_NOFOLLOW | O_PATH | O_CLOEXEC
const O_TMPFILE_MASK = __O_TMPFILE | O_DIRECTORY | O_CREAT
const S_IALLUGO = 0o7777

/** struct open_how. */
export interface OpenHow {
  readonly flags: number
  readonly mode: number
  readonly resolve: number
}

/** struct open_flags: what build_open_flags() derives from an open_how. */
export interface OpenFlags {
  readonly openFlag: number
  readonly mode: number
  readonly accMode: number
  readonly lookupFlags: number
}

const accModeOf = (flags: number): number => [MAY_READ, MAY_WRITE, MAY_READ | MAY_WRITE, MAY_READ | MAY_WRITE][flags & O_ACCMODE]!

/**
 * build_open_flags(): validate and translate. EINVAL for unknown flags or
 * resolve bits (openat2), a mode without O_CREAT/O_TMPFILE (openat2),
 * O_CREAT|O_DIRECTORY, a bad O_TMPFILE, O_PATH with other flags (openat2),
 * RESOLVE_BENEATH|RESOLVE_IN_ROOT; EAGAIN for RESOLVE_CACHED with
 * O_CREAT/O_TRUNC/O_TMPFILE.
 */
export const buildOpenFlags = (how: OpenHow, strict: boolean): OpenFlags | SysError => {
  let flags = how.flags
  const willCreate = (flags & O_CREAT) !== 0 || (flags & __O_TMPFILE) !== 0
  if (strict) {
    if ((flags & ~VALID_OPEN_FLAGS) !== 0) return sysError("EINVAL", "openat2")
    if ((how.resolve & ~VALID_RESOLVE_FLAGS) !== 0) return sysError("EINVAL", "openat2")
    if ((how.resolve & RESOLVE_BENEATH) !== 0 && (how.resolve & RESOLVE_IN_ROOT) !== 0) return sysError("EINVAL", "openat2")
    if (willCreate ? (how.mode & ~S_IALLUGO) !== 0 : how.mode !== 0) return sysError("EINVAL", "openat2")
  }
  let accMode = accModeOf(flags)
  flags &= ~O_CLOEXEC
  const mode = willCreate ? (how.mode & S_IALLUGO) | S_IFREG : 0
  if ((flags & (O_DIRECTORY | O_CREAT)) === (O_DIRECTORY | O_CREAT)) return sysError("EINVAL", "openat")
  if ((flags & __O_TMPFILE) !== 0) {
    if ((flags & O_TMPFILE_MASK) !== O_TMPFILE) return sysError("EINVAL", "openat")
    if ((accMode & MAY_WRITE) === 0) return sysError("EINVAL", "openat")
  }
  if ((flags & O_PATH) !== 0) {
    if ((flags & ~O_PATH_FLAGS) !== 0) {
      if (strict) return sysError("EINVAL", "openat2")
      flags &= O_PATH_FLAGS
    }
    accMode = 0
  }
  if ((flags & __O_SYNC) !== 0) flags |= O_DSYNC
  if ((how.resolve & RESOLVE_CACHED) !== 0 && (flags & (O_TRUNC | O_CREAT | __O_TMPFILE)) !== 0) return sysError("EAGAIN", "openat2")
  if ((flags & O_TRUNC) !== 0) accMode |= MAY_WRITE
  if ((flags & O_APPEND) !== 0) accMode |= MAY_APPEND
  if ((flags & O_CREAT) !== 0 && (flags & O_EXCL) !== 0) flags |= O_NOFOLLOW
  let lookupFlags = 0
  if ((flags & O_DIRECTORY) !== 0) lookupFlags |= LOOKUP_DIRECTORY
  if ((flags & O_NOFOLLOW) === 0) lookupFlags |= LOOKUP_FOLLOW
  if ((how.resolve & RESOLVE_NO_XDEV) !== 0) lookupFlags |= LOOKUP_NO_XDEV
  if ((how.resolve & RESOLVE_NO_MAGICLINKS) !== 0) lookupFlags |= LOOKUP_NO_MAGICLINKS
  if ((how.resolve & RESOLVE_NO_SYMLINKS) !== 0) lookupFlags |= LOOKUP_NO_SYMLINKS
  if ((how.resolve & RESOLVE_BENEATH) !== 0) lookupFlags |= LOOKUP_BENEATH
  if ((how.resolve & RESOLVE_IN_ROOT) !== 0) lookupFlags |= LOOKUP_IN_ROOT
  return { openFlag: flags, mode, accMode, lookupFlags }
}

/**
 * may_open(): ELOOP for a symlink, EISDIR to write a directory, EACCES to
 * open a device on a nodev mount or to execute through a noexec one, then
 * inode_permission (EACCES/EROFS); EPERM for O_NOATIME by a non-owner.
 */
const mayOpen = (task: VfsTask, path: Path, accMode: number, flag: number): SysError | undefined => {
  const inode = path.dentry.inode
  switch (inode.mode & S_IFMT) {
    case S_IFLNK:
      return sysError("ELOOP")
    case S_IFDIR:
      if ((accMode & MAY_WRITE) !== 0) return sysError("EISDIR")
      if ((accMode & MAY_EXEC) !== 0) return sysError("EACCES")
      break
    case S_IFBLK:
    case S_IFCHR:
      if (!mayOpenDev(path.mnt)) return sysError("EACCES")
      if ((accMode & MAY_EXEC) !== 0) return sysError("EACCES")
      break
    case S_IFIFO:
    case S_IFSOCK:
      if ((accMode & MAY_EXEC) !== 0) return sysError("EACCES")
      break
    case S_IFREG:
      if ((accMode & MAY_EXEC) !== 0 && pathNoexec(path.mnt)) return sysError("EACCES")
      break
  }
  const err = inodePermission(task.cred, inode, MAY_OPEN | accMode)
  if (err !== undefined) return err
  if ((flag & O_NOATIME) !== 0 && !inodeOwnerOrCapable(task.cred, inode)) return sysError("EPERM")
  return undefined
}

/** The f_flags an open file keeps (do_dentry_open() drops the creation flags; x86_64 forces O_LARGEFILE). */
const fileFlags = (openFlag: number): number =>
  (openFlag & ~(O_CREAT | O_EXCL | O_NOCTTY | O_TRUNC)) | ((openFlag & O_PATH) !== 0 ? 0 : O_LARGEFILE)

/**
 * vfs_open(): EROFS to write through a read-only mount; a socket cannot
 * be opened (ENXIO); devices need a driver (ENXIO otherwise); then the
 * inode's ->open, which may refuse.
 */
const vfsOpen = (task: VfsTask, path: Path, openFlag: number): File | SysError => {
  const inode = path.dentry.inode
  const t = inode.mode & S_IFMT
  const special = t === S_IFCHR || t === S_IFBLK || t === S_IFIFO || t === S_IFSOCK
  const acc = openFlag & O_ACCMODE
  if (acc !== O_RDONLY && !special && path.mnt.isReadonly) return sysError("EROFS")
  if (t === S_IFSOCK) return sysError("ENXIO")
  let fop
  if (t === S_IFCHR) {
    fop = path.mnt.sb.vfs.charDevices.get(inode.rdev) ?? charDeviceOps(inode.rdev)
    if (fop === undefined) return sysError("ENXIO")
  } else if (t === S_IFBLK) return sysError("ENXIO")
  const file = new File(path, fileFlags(openFlag), task.cred, fop)
  const open = inode.iop?.open
  if (open !== undefined) {
    const err = open(file, task)
    if (err !== undefined) {
      file.put()
      return err
    }
  }
  return file
}

/** do_truncate() of a freshly opened file (O_TRUNC). */
const handleTruncate = (inode: Inode): void => {
  if (inode.size !== 0) truncateInode(inode, 0)
  else inode.touchMtime()
}

/** Set the size of a regular file, giving back the pages beyond it. */
export const truncateInode = (inode: Inode, length: number): void => {
  if (inode.data !== undefined && typeof inode.data === "object") {
    const node = inode.data as { truncate(n: number): void; getSize(): number }
    if (length < node.getSize()) node.truncate(length)
  }
  inode.sb.unchargeTo(inode, length)
  inode.size = length
  inode.touchMtime()
}

/** vfs_tmpfile(): an unnamed regular file in directory `dir` (O_TMPFILE). */
const doTmpfile = (task: VfsTask, nd: NameiData, op: OpenFlags): File | SysError => {
  const dir = nd.dentry
  let err = mntWantWrite(nd.mnt)
  if (err !== undefined) return err
  err = inodePermission(task.cred, dir.inode, MAY_WRITE | MAY_EXEC)
  if (err !== undefined) return err
  const [uid, gid, mode] = initOwner(task, dir.inode, S_IFREG | (op.mode & S_IALLUGO & ~task.fs.umask))
  const inode = dir.inode.sb.newInode(mode, uid, gid)
  if ("errno" in inode) return inode
  inode.nlink = 0
  const d = new Dentry(`#${inode.ino}`, dir, inode)
  d.unhashed = true
  return new File({ mnt: nd.mnt, dentry: d }, fileFlags(op.openFlag & ~O_CREAT), task.cred)
}

/**
 * path_openat(): walk to the last component and open it, creating it
 * with O_CREAT. With O_CREAT, following a dangling symlink creates its
 * target (unless O_EXCL, which never follows).
 */
const pathOpenat = (task: VfsTask, dirfd: number, name: string, op: OpenFlags): File | SysError => {
  const nd = new NameiData(task, op.lookupFlags)
  if ((op.openFlag & __O_TMPFILE) !== 0) {
    nd.flags |= LOOKUP_DIRECTORY
    const err = pathLookupat(nd, dirfd, name)
    if (err !== undefined) return err
    return doTmpfile(task, nd, op)
  }
  if ((op.openFlag & O_PATH) !== 0) {
    const err = pathLookupat(nd, dirfd, name)
    if (err !== undefined) return err
    return new File(nd.path(), fileFlags(op.openFlag), task.cred)
  }
  let err = checkName(name, false)
  if (err !== undefined) return err
  err = pathInit(nd, dirfd, name)
  if (err !== undefined) return err
  err = linkPathWalk(nd, name)
  if (err !== undefined) return err
  return openLastLookups(task, nd, op)
}

/** open_last_lookups() + do_open(). */
const openLastLookups = (task: VfsTask, nd: NameiData, op: OpenFlags): File | SysError => {
  let openFlag = op.openFlag
  let created = false
  if (nd.lastType !== LAST_NORM) {
    const err = walkComponent(nd, "", nd.lastType, false)
    if (err !== undefined) return err
    if ((openFlag & O_CREAT) !== 0) return sysError((openFlag & O_EXCL) !== 0 ? "EEXIST" : "EISDIR")
  } else {
    if ((openFlag & O_CREAT) === 0) {
      if (nd.lastSlash) nd.flags |= LOOKUP_FOLLOW | LOOKUP_DIRECTORY
    } else if (nd.lastSlash) return sysError("EISDIR")
    const dir = nd.dentry
    const child = dir.lookup(nd.last)
    if (child === undefined) {
      if (nd.last.length > 255) return sysError("ENAMETOOLONG")
      if ((openFlag & O_CREAT) === 0) return sysError("ENOENT")
      const lookupError = dir.inode.iop?.lookupError
      if (lookupError !== undefined) return lookupError()
      const ro = mntWantWrite(nd.mnt)
      if (ro !== undefined) return ro
      let err = mayCreate(task, dir, nd.last)
      if (err !== undefined) return err
      const d = createEntry(task, dir, nd.last, S_IFREG | (op.mode & S_IALLUGO & ~task.fs.umask))
      if ("errno" in d) return d
      err = dir.inode.sb.commitChange(dir.inode, "dir")
      if (err !== undefined) return err
      nd.dentry = d
      created = true
    } else {
      if ((openFlag & O_CREAT) !== 0 && (openFlag & O_EXCL) !== 0) return sysError("EEXIST")
      const dirMnt = nd.mnt
      nd.dentry = child
      const err = crossMounts(nd)
      if (err !== undefined) return err
      if (nd.dentry.inode.isLnk && (nd.flags & LOOKUP_FOLLOW) !== 0) return followTrailing(task, nd, op, dirMnt, dir)
    }
  }
  const path = nd.path()
  const inode = path.dentry.inode
  let accMode = op.accMode
  let doTruncate = false
  if (!created) {
    if ((openFlag & O_CREAT) !== 0 && inode.isDir) return sysError("EISDIR")
    if ((nd.flags & LOOKUP_DIRECTORY) !== 0 && !inode.isDir) return sysError("ENOTDIR")
    if (inode.isReg && (openFlag & O_TRUNC) !== 0) {
      const ro = mntWantWrite(path.mnt)
      if (ro !== undefined) return ro
      doTruncate = true
    }
  } else {
    openFlag &= ~O_TRUNC
    accMode = 0
  }
  const err = mayOpen(task, path, accMode, openFlag)
  if (err !== undefined) return err
  const file = vfsOpen(task, path, openFlag)
  if ("errno" in file) return file
  if (doTruncate) {
    handleTruncate(inode)
    const e = inode.sb.commitChange(inode, "data")
    if (e !== undefined) {
      file.put()
      return e
    }
  }
  return file
}

/** A trailing symlink of open(): walk its body from the link's directory and open what it names (possibly creating it). */
const followTrailing = (task: VfsTask, nd: NameiData, op: OpenFlags, dirMnt: Mount, dir: Dentry): File | SysError => {
  if (nd.totalLinks++ >= MAXSYMLINKS) return sysError("ELOOP")
  if ((nd.mnt.flags & MNT_NOSYMFOLLOW) !== 0 || (nd.flags & LOOKUP_NO_SYMLINKS) !== 0) return sysError("ELOOP")
  const inode = nd.dentry.inode
  const get = inode.iop?.getLink
  let text: string
  if (get !== undefined) {
    const r = get(nd.dentry, task)
    if (typeof r !== "string") {
      if ("errno" in r) return r
      if ((nd.flags & LOOKUP_NO_MAGICLINKS) !== 0) return sysError("ELOOP")
      if ((nd.flags & (LOOKUP_BENEATH | LOOKUP_IN_ROOT)) !== 0) return sysError("EXDEV")
      nd.mnt = r.mnt
      nd.dentry = r.dentry
      nd.lastType = LAST_DOT
      return openLastLookups(task, nd, op)
    }
    text = r
  } else text = inode.data as string
  nd.mnt = dirMnt
  nd.dentry = dir
  const err = linkPathWalk(nd, text)
  if (err !== undefined) return err
  return openLastLookups(task, nd, op)
}

/**
 * do_filp_open(): open `name` relative to `dirfd` and return the File
 * (the caller's reference). Used by openat, openat2 and the kernel's own
 * opens.
 */
export const doFilpOpen = (task: VfsTask, dirfd: number, name: string, op: OpenFlags): File | SysError => pathOpenat(task, dirfd, name, op)

/**
 * openat(2): open and install the lowest free fd (O_CLOEXEC sets
 * close-on-exec). Unknown flags are ignored, as openat does; see
 * buildOpenFlags for the EINVAL cases.
 */
export const openat = (task: VfsTask, dirfd: number, path: string, flags: number, mode: number): number | SysError => {
  const how: OpenHow = { flags: flags & VALID_OPEN_FLAGS, mode: (flags & (O_CREAT | __O_TMPFILE)) !== 0 ? mode & S_IALLUGO : 0, resolve: 0 }
  return doSysOpenat2(task, dirfd, path, how, false)
}

/**
 * openat2(2): `size` is the caller's sizeof(struct open_how) (EINVAL
 * below 24, E2BIG above a page or when `tail`, the bytes past the known
 * struct, is not all zero); the flags and resolve bits are checked
 * strictly.
 */
export const openat2 = (task: VfsTask, dirfd: number, path: string, how: OpenHow, size: number = OPEN_HOW_SIZE_VER0, tail?: Uint8Array): number | SysError => {
  if (size < OPEN_HOW_SIZE_VER0) return sysError("EINVAL", "openat2")
  if (size > 4096) return sysError("E2BIG", "openat2")
  if (tail !== undefined && tail.some((b) => b !== 0)) return sysError("E2BIG", "openat2")
  return doSysOpenat2(task, dirfd, path, how, true)
}

const doSysOpenat2 = (task: VfsTask, dirfd: number, path: string, how: OpenHow, strict: boolean): number | SysError => {
  const op = buildOpenFlags(how, strict)
  if ("errno" in op) return op
  const file = doFilpOpen(task, dirfd, path, op)
  if ("errno" in file) return file
  return installOpened(task, file, (how.flags & O_CLOEXEC) !== 0)
}

const installOpened = (task: VfsTask, file: File, cloexec: boolean): number | SysError => {
  const fd = task.files.install(file, cloexec, task.nofile)
  if (typeof fd !== "number") file.put()
  return fd
}

/**
 * A FIFO open waiting for its partner (wait_for_partner()): the File is
 * open and counted already. Park on `wq` until `ready()`, then `finish()`
 * installs the fd; `cancel()` (a signal interrupted the wait: EINTR)
 * closes the File again.
 */
export class FifoOpenWait extends WouldBlock {
  constructor(
    private readonly task: VfsTask,
    readonly file: File,
    private readonly cloexec: boolean,
    ready: () => boolean
  ) {
    super((file.privateData as { wq: WaitQueue }).wq, ready)
  }

  finish(): number | SysError {
    return installOpened(this.task, this.file, this.cloexec)
  }

  cancel(): void {
    this.file.put()
  }
}

/**
 * openat(2) as a task that may sleep calls it: like openat, but a FIFO
 * opens as a pipe (fifo_open()): without O_NONBLOCK the answer is a
 * FifoOpenWait until the other side opens (a reader waits for a writer, a
 * writer for a reader); O_WRONLY|O_NONBLOCK with no reader is ENXIO. The
 * plain openat() opens a FIFO as a file without a data path (it never
 * sleeps, and leaves FIFO semantics to its caller).
 */
export const ksysOpenat = (task: VfsTask, dirfd: number, path: string, flags: number, mode: number): number | SysError | FifoOpenWait => {
  const how: OpenHow = { flags: flags & VALID_OPEN_FLAGS, mode: (flags & (O_CREAT | __O_TMPFILE)) !== 0 ? mode & S_IALLUGO : 0, resolve: 0 }
  const op = buildOpenFlags(how, false)
  if ("errno" in op) return op
  const file = doFilpOpen(task, dirfd, path, op)
  if ("errno" in file) return file
  if ((file.inode.mode & S_IFMT) === S_IFIFO && !file.isPath && file.fop === undefined) {
    const err = fifoOpen(file)
    if (err !== undefined) {
      file.put()
      return err
    }
  }
  const cloexec = (how.flags & O_CLOEXEC) !== 0
  const wait = fifoPartnerWait(file)
  if (wait !== undefined && !wait()) return new FifoOpenWait(task, file, cloexec, wait)
  return installOpened(task, file, cloexec)
}

/** close(2). */
export const close = (task: VfsTask, fd: number): SysError | undefined => task.files.close(fd)

/** chdir(2): the directory must be searchable (EACCES) and a directory (ENOTDIR). */
export const chdir = (task: VfsTask, path: string): SysError | undefined => {
  const nd = filenameLookup(task, AT_FDCWD, path, LOOKUP_FOLLOW | LOOKUP_DIRECTORY)
  if ("errno" in nd) return nd
  const err = inodePermission(task.cred, nd.dentry.inode, MAY_EXEC | MAY_CHDIR)
  if (err !== undefined) return err
  task.fs.setPwd(nd)
  return undefined
}

/** fchdir(2): EBADF for a closed fd, ENOTDIR for a non-directory; O_PATH fds work. */
export const fchdir = (task: VfsTask, fd: number): SysError | undefined => {
  const f = task.files.fdget(fd)
  if (f === undefined) return sysError("EBADF", "fchdir")
  const hook = f.fop?.dirfdRoot
  const path = hook !== undefined ? hook(f, false) : f.path
  if ("errno" in path) return path
  if (!path.dentry.inode.isDir) return sysError("ENOTDIR", "fchdir")
  const err = inodePermission(task.cred, path.dentry.inode, MAY_EXEC | MAY_CHDIR)
  if (err !== undefined) return err
  task.fs.setPwd(path)
  return undefined
}

/** chroot(2): EPERM without CAP_SYS_CHROOT in the caller's user namespace. */
export const chroot = (task: VfsTask, path: string): SysError | undefined => {
  const nd = filenameLookup(task, AT_FDCWD, path, LOOKUP_FOLLOW | LOOKUP_DIRECTORY)
  if ("errno" in nd) return nd
  const err = inodePermission(task.cred, nd.dentry.inode, MAY_EXEC | MAY_CHDIR)
  if (err !== undefined) return err
  if (!nsCapable(task.cred, task.cred.userNs, CAP_SYS_CHROOT)) return sysError("EPERM", "chroot")
  task.fs.setRoot(nd)
  return undefined
}

/** The Path an *at() call with AT_* flags names (user_path_at()). */
const atPath = (task: VfsTask, dirfd: number, path: string, flags: number, allowed: number): NameiData | SysError => {
  if ((flags & ~allowed) !== 0) return sysError("EINVAL")
  let lookup = (flags & AT_SYMLINK_NOFOLLOW) !== 0 ? 0 : LOOKUP_FOLLOW
  if ((flags & AT_EMPTY_PATH) !== 0) lookup |= LOOKUP_EMPTY
  return filenameLookup(task, dirfd, path, lookup)
}

/**
 * notify_change() for a mode: only the owner or CAP_FOWNER (EPERM), not on
 * a read-only mount (EROFS); setgid is cleared for a non-member without
 * CAP_FSETID.
 */
const chmodCommon = (task: VfsTask, path: Path, mode: number): SysError | undefined => {
  const err = mntWantWrite(path.mnt)
  if (err !== undefined) return err
  const inode = path.dentry.inode
  if (!inodeOwnerOrCapable(task.cred, inode)) return sysError("EPERM")
  let m = mode & S_IALLUGO
  if ((m & S_ISGID) !== 0 && !inGroupP(task.cred, inode.gid) && !capableWrtInodeUidgid(task.cred, inode.uid, inode.gid, CAP_FSETID)) m &= ~S_ISGID
  inode.mode = (inode.mode & S_IFMT) | m
  inode.touchCtime()
  return inode.sb.commitChange(inode, "attr")
}

/** fchmodat(2) (flags: AT_SYMLINK_NOFOLLOW as fchmodat2, AT_EMPTY_PATH). Symlinks' modes cannot change (EOPNOTSUPP). */
export const fchmodat = (task: VfsTask, dirfd: number, path: string, mode: number, flags = 0): SysError | undefined => {
  const nd = atPath(task, dirfd, path, flags, AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH)
  if ("errno" in nd) return nd
  if (nd.dentry.inode.isLnk) return sysError("EOPNOTSUPP", "fchmodat")
  return chmodCommon(task, nd, mode)
}

/** fchmod(2). */
export const fchmod = (task: VfsTask, fd: number, mode: number): SysError | undefined => {
  const f = task.files.fdget(fd)
  if (f === undefined || f.isPath) return sysError("EBADF", "fchmod")
  return chmodCommon(task, f, mode)
}

/**
 * chown_common(): uid/gid -1 leave a field; changing the owner needs
 * CAP_CHOWN over the inode, changing the group needs ownership and
 * membership of the new group, or CAP_CHOWN (EPERM). EINVAL for ids not
 * mapped in the caller's namespace. Clears setuid, and setgid of group
 * executables, on non-directories.
 */
const chownCommon = (task: VfsTask, path: Path, user: number, group: number): SysError | undefined => {
  const cred = task.cred
  const ns = cred.userNs
  const uid = user === -1 || user === 0xffffffff ? undefined : makeKuid(ns, user)
  const gid = group === -1 || group === 0xffffffff ? undefined : makeKgid(ns, group)
  if (uid !== undefined && !kuidHasMapping(ns, uid)) return sysError("EINVAL", "fchownat")
  if (gid !== undefined && !kgidHasMapping(ns, gid)) return sysError("EINVAL", "fchownat")
  const err = mntWantWrite(path.mnt)
  if (err !== undefined) return err
  const inode = path.dentry.inode
  const chownOk = uid === undefined || (cred.fsuid === inode.uid && uid === inode.uid) || capableWrtInodeUidgid(cred, inode.uid, inode.gid, CAP_CHOWN)
  const chgrpOk =
    gid === undefined ||
    (cred.fsuid === inode.uid && (gid === inode.gid || inGroupP(cred, gid))) ||
    capableWrtInodeUidgid(cred, inode.uid, inode.gid, CAP_CHOWN)
  if (!chownOk || !chgrpOk) return sysError("EPERM", "fchownat")
  if (uid !== undefined && !kuidHasMapping(inode.sb.userNs, uid)) return sysError("EOVERFLOW", "fchownat")
  if (gid !== undefined && !kgidHasMapping(inode.sb.userNs, gid)) return sysError("EOVERFLOW", "fchownat")
  if (!inode.isDir && (uid !== undefined || gid !== undefined)) {
    let m = inode.mode & ~S_ISUID
    if ((m & (S_ISGID | S_IXGRP)) === (S_ISGID | S_IXGRP)) m &= ~S_ISGID
    inode.mode = m
  }
  if (uid !== undefined) inode.uid = uid
  if (gid !== undefined) inode.gid = gid
  inode.touchCtime()
  return inode.sb.commitChange(inode, "attr")
}

/** fchownat(2). */
export const fchownat = (task: VfsTask, dirfd: number, path: string, owner: number, group: number, flags: number): SysError | undefined => {
  const nd = atPath(task, dirfd, path, flags, AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH)
  if ("errno" in nd) return nd
  return chownCommon(task, nd, owner, group)
}

/** fchown(2). */
export const fchown = (task: VfsTask, fd: number, owner: number, group: number): SysError | undefined => {
  const f = task.files.fdget(fd)
  if (f === undefined || f.isPath) return sysError("EBADF", "fchown")
  return chownCommon(task, f, owner, group)
}

/** A struct timespec as utimensat takes it (tv_nsec may be UTIME_NOW or UTIME_OMIT). */
export interface UTimespec {
  readonly sec: number
  readonly nsec: number
}

/**
 * utimensat(2): `times` undefined means both now. Setting explicit times
 * needs ownership or CAP_FOWNER (EPERM); "now" also works with write
 * permission (EACCES otherwise). EINVAL for a bad tv_nsec or unknown flags.
 */
export const utimensat = (
  task: VfsTask,
  dirfd: number,
  path: string | null,
  times: readonly [UTimespec, UTimespec] | undefined,
  flags: number
): SysError | undefined => {
  if ((flags & ~(AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH)) !== 0) return sysError("EINVAL", "utimensat")
  if (times !== undefined) {
    for (const t of times) if (t.nsec !== UTIME_NOW && t.nsec !== UTIME_OMIT && (t.nsec < 0 || t.nsec > 999999999)) return sysError("EINVAL", "utimensat")
    if (times[0].nsec === UTIME_OMIT && times[1].nsec === UTIME_OMIT) return undefined
  }
  let target: Path
  if (path === null) {
    const f = task.files.fdget(dirfd)
    if (f === undefined) return sysError("EBADF", "utimensat")
    target = f
  } else {
    const nd = atPath(task, dirfd, path, flags, AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH)
    if ("errno" in nd) return nd
    target = nd
  }
  const err = mntWantWrite(target.mnt)
  if (err !== undefined) return err
  const inode = target.dentry.inode
  const allNow = times === undefined || (times[0].nsec === UTIME_NOW && times[1].nsec === UTIME_NOW)
  if (!inodeOwnerOrCapable(task.cred, inode)) {
    if (!allNow) return sysError("EPERM", "utimensat")
    const e = inodePermission(task.cred, inode, MAY_WRITE)
    if (e !== undefined) return e
  }
  const c = inode.sb.vfs.clock
  const pick = (t: UTimespec | undefined): readonly [number, number] | undefined =>
    t === undefined || t.nsec === UTIME_NOW ? [c.sec, c.nsec] : t.nsec === UTIME_OMIT ? undefined : [t.sec, t.nsec]
  const a = pick(times?.[0])
  const m = pick(times?.[1])
  if (a !== undefined) [inode.atimeSec, inode.atimeNsec] = a
  if (m !== undefined) [inode.mtimeSec, inode.mtimeNsec] = m
  inode.touchCtime()
  return inode.sb.commitChange(inode, "attr")
}

/** do_truncate() for truncate(2)/ftruncate(2): EINVAL below 0, EISDIR, EINVAL for non-files, EFBIG past the limit. */
const doTruncate = (inode: Inode, length: number): SysError | undefined => {
  if (length < 0) return sysError("EINVAL")
  if (inode.isDir) return sysError("EISDIR")
  if (!inode.isReg) return sysError("EINVAL")
  if (length > Number.MAX_SAFE_INTEGER) return sysError("EFBIG")
  truncateInode(inode, length)
  if ((inode.mode & S_ISUID) !== 0) inode.mode &= ~S_ISUID
  return inode.sb.commitChange(inode, "data")
}

/** ftruncate(2): EBADF/EINVAL unless the fd is open for writing. */
export const ftruncate = (task: VfsTask, fd: number, length: number): SysError | undefined => {
  const f = task.files.fdget(fd)
  if (f === undefined || f.isPath) return sysError("EBADF", "ftruncate")
  if (!f.canWrite) return sysError("EINVAL", "ftruncate")
  if ((f.flags & O_APPEND) !== 0) return sysError("EPERM", "ftruncate")
  return doTruncate(f.inode, length)
}

/** truncate(2): needs write permission (EACCES) and a writable mount (EROFS). */
export const truncate = (task: VfsTask, path: string, length: number): SysError | undefined => {
  const nd = filenameLookup(task, AT_FDCWD, path, LOOKUP_FOLLOW)
  if ("errno" in nd) return nd
  const inode = nd.dentry.inode
  if (inode.isDir) return sysError("EISDIR", "truncate")
  if (!inode.isReg) return sysError("EINVAL", "truncate")
  let err = mntWantWrite(nd.mnt)
  if (err !== undefined) return err
  err = inodePermission(task.cred, inode, MAY_WRITE)
  if (err !== undefined) return err
  return doTruncate(inode, length)
}
