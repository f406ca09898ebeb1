import { O_APPEND, SEEK_CUR, SEEK_DATA, SEEK_END, SEEK_HOLE, SEEK_SET, S_ISGID, S_ISUID, S_IXGRP, sysError, type SysError } from "@simkernel/abi"
import { capableWrtInodeUidgid } from "@simkernel/cred"
import { CAP_FSETID } from "@simkernel/abi"
import { O_DIRECT, O_NONBLOCK, POLLIN, POLLOUT, POLLRDNORM, POLLWRNORM } from "@simkernel/abi"
import { isCharDeviceOps } from "./devices.js"
import { pipeFromFile } from "./pipe.js"
import type { WouldBlock } from "./waitQueue.js"
import type { File } from "./File.js"
import type { VfsTask } from "./Task.js"

/** MAX_LFS_FILESIZE on 64-bit, capped to what a JS number indexes exactly. */
const MAX_FILESIZE = Number.MAX_SAFE_INTEGER

const fdgetRead = (task: VfsTask, fd: number, syscall: string): File | SysError => {
  const f = task.files.fdget(fd)
  if (f === undefined || f.isPath) return sysError("EBADF", syscall)
  if (!f.canRead) return sysError("EBADF", syscall)
  return f
}

const fdgetWrite = (task: VfsTask, fd: number, syscall: string): File | SysError => {
  const f = task.files.fdget(fd)
  if (f === undefined || f.isPath) return sysError("EBADF", syscall)
  if (!f.canWrite) return sysError("EBADF", syscall)
  return f
}

/** Read from a regular file at `pos`: holes read as zeros. */
const fileRead = (file: File, buf: Uint8Array, pos: number): number | SysError => {
  const inode = file.inode
  const fop = file.fop
  if (fop?.read !== undefined) return fop.read(file, buf, pos)
  if (inode.isDir) return sysError("EISDIR", "read")
  if (!inode.isReg) return sysError("EINVAL", "read")
  if (pos >= inode.size) return 0
  const n = Math.min(buf.length, inode.size - pos)
  const node = inode.data as { read(b: Uint8Array, o: number, l: number, p: number): number } | undefined
  const got = node === undefined ? 0 : node.read(buf, 0, n, pos)
  if (got < n) buf.fill(0, got, n)
  inode.touchAtime(file.mnt.flags, file.mnt.isReadonly)
  return n
}

/**
 * Write to a regular file at `pos` (shmem_write_begin): a short write when
 * the tmpfs size limit is reached, ENOSPC when nothing fits, EFBIG past
 * the largest file; a write by anyone without CAP_FSETID drops setuid and
 * setgid-exec (file_remove_privs()).
 */
const fileWrite = (task: VfsTask, file: File, buf: Uint8Array, pos: number): number | SysError => {
  const inode = file.inode
  const fop = file.fop
  if (isCharDeviceOps(fop)) return fop.write(file, buf)
  if (!inode.isReg) return sysError("EINVAL", "write")
  if (buf.length === 0) return 0
  if (pos + buf.length > MAX_FILESIZE) return sysError("EFBIG", "write")
  const sb = inode.sb
  const end = sb.chargeTo(inode, pos + buf.length)
  const n = end - pos
  if (n <= 0) return sysError("ENOSPC", "write")
  const bytes = Buffer.isBuffer(buf) ? buf : Buffer.from(buf.buffer, buf.byteOffset, buf.byteLength)
  const wrote = sb.dataNode(inode).write(bytes, 0, n, pos, task)
  if (typeof wrote !== "number") {
    sb.unchargeTo(inode, inode.size)
    return wrote
  }
  if (pos + n > inode.size) inode.size = pos + n
  if ((inode.mode & (S_ISUID | S_ISGID)) !== 0 && !capableWrtInodeUidgid(task.cred, inode.uid, inode.gid, CAP_FSETID)) {
    let m = inode.mode & ~S_ISUID
    if ((m & (S_ISGID | S_IXGRP)) === (S_ISGID | S_IXGRP)) m &= ~S_ISGID
    inode.mode = m
  }
  inode.touchMtime()
  // a filesystem's data node may take less than it was given (a sysctl reads one number)
  return sb.commitChange(inode, "data", pos, wrote) ?? wrote
}

/**
 * read(2): EBADF unless open for reading (O_PATH files too), EISDIR for a
 * directory. Never sleeps: on an empty pipe with writers it answers EAGAIN
 * whatever O_NONBLOCK says (ksysRead() is the blocking form).
 */
export const read = (task: VfsTask, fd: number, buf: Uint8Array): number | SysError => {
  const f = fdgetRead(task, fd, "read")
  if ("errno" in f) return f
  const pipe = pipeFromFile(f)
  if (pipe !== undefined) return pipe.read(buf, true) as number | SysError
  const n = fileRead(f, buf, f.pos)
  if (typeof n === "number") f.pos += n
  return n
}

/**
 * write(2): EBADF unless open for writing; O_APPEND writes at the end.
 * Never sleeps: a pipe write takes what fits, EAGAIN when nothing does
 * (ksysWrite() is the blocking form); EPIPE with no reader (the caller
 * sends SIGPIPE).
 */
export const write = (task: VfsTask, fd: number, buf: Uint8Array): number | SysError => {
  const f = fdgetWrite(task, fd, "write")
  if ("errno" in f) return f
  const pipe = pipeFromFile(f)
  if (pipe !== undefined) return pipe.write(buf, true, (f.flags & O_DIRECT) !== 0) as number | SysError
  if ((f.flags & O_APPEND) !== 0) f.pos = f.inode.size
  const n = fileWrite(task, f, buf, f.pos)
  if (typeof n === "number") f.pos += n
  return n
}

/**
 * read(2) as a task that may sleep calls it (ksys_read()): like read(),
 * but on an empty pipe with writers and without O_NONBLOCK, a WouldBlock
 * to park on and repeat the call when it is ready.
 */
export const ksysRead = (task: VfsTask, fd: number, buf: Uint8Array): number | SysError | WouldBlock => {
  const f = fdgetRead(task, fd, "read")
  if ("errno" in f) return f
  const pipe = pipeFromFile(f)
  if (pipe !== undefined) return pipe.read(buf, (f.flags & O_NONBLOCK) !== 0)
  return read(task, fd, buf)
}

/**
 * write(2) as a task that may sleep calls it (ksys_write()): like write(),
 * but a pipe write without O_NONBLOCK that does not fit returns a
 * WouldBlock whose `done` bytes are already written: park, then call again
 * with the rest of the buffer and `cont` true, and add up. EPIPE when no
 * reader is left: the caller sends itself SIGPIPE (pipe_write()'s
 * send_sig()).
 */
export const ksysWrite = (task: VfsTask, fd: number, buf: Uint8Array, cont = false): number | SysError | WouldBlock => {
  const f = fdgetWrite(task, fd, "write")
  if ("errno" in f) return f
  const pipe = pipeFromFile(f)
  if (pipe !== undefined) return pipe.write(buf, (f.flags & O_NONBLOCK) !== 0, (f.flags & O_DIRECT) !== 0, cont)
  return write(task, fd, buf)
}

/** DEFAULT_POLLMASK: what a file without ->poll (a regular file) always is. */
export const DEFAULT_POLLMASK = POLLIN | POLLOUT | POLLRDNORM | POLLWRNORM

/** vfs_poll(): the file's ready events (DEFAULT_POLLMASK for files without ->poll). */
export const vfsPoll = (file: File): number => file.fop?.poll?.(file) ?? DEFAULT_POLLMASK

/** pread64(2): EINVAL for a negative offset, ESPIPE for FIFOs and devices without positions. */
export const pread = (task: VfsTask, fd: number, buf: Uint8Array, offset: number): number | SysError => {
  const f = fdgetRead(task, fd, "pread64")
  if ("errno" in f) return f
  if (offset < 0) return sysError("EINVAL", "pread64")
  if (!f.inode.isReg && !f.inode.isDir) return sysError("ESPIPE", "pread64")
  return fileRead(f, buf, offset)
}

/** pwrite64(2): with O_APPEND Linux writes at the end whatever the offset (a documented POSIX deviation). */
export const pwrite = (task: VfsTask, fd: number, buf: Uint8Array, offset: number): number | SysError => {
  const f = fdgetWrite(task, fd, "pwrite64")
  if ("errno" in f) return f
  if (offset < 0) return sysError("EINVAL", "pwrite64")
  if (!f.inode.isReg) return sysError("ESPIPE", "pwrite64")
  return fileWrite(task, f, buf, (f.flags & O_APPEND) !== 0 ? f.inode.size : offset)
}

/**
 * lseek(2): SEEK_SET/CUR/END, and SEEK_DATA/SEEK_HOLE (the file is data up
 * to its size, ENXIO at or past the end); EINVAL for a bad whence or a
 * negative result; EBADF for O_PATH.
 */
export const lseek = (task: VfsTask, fd: number, offset: number, whence: number): number | SysError => {
  const f = task.files.fdget(fd)
  if (f === undefined || f.isPath) return sysError("EBADF", "lseek")
  if (pipeFromFile(f) !== undefined) return sysError("ESPIPE", "lseek")
  const size = f.inode.size
  let pos: number
  switch (whence) {
    case SEEK_SET:
      pos = offset
      break
    case SEEK_CUR:
      pos = f.pos + offset
      break
    case SEEK_END:
      pos = size + offset
      break
    case SEEK_DATA:
      if (offset < 0 || offset >= size) return sysError("ENXIO", "lseek")
      pos = offset
      break
    case SEEK_HOLE:
      if (offset < 0 || offset >= size) return sysError("ENXIO", "lseek")
      pos = size
      break
    default:
      return sysError("EINVAL", "lseek")
  }
  if (pos < 0) return sysError("EINVAL", "lseek")
  if (f.inode.isDir && pos !== f.pos) f.dirSnapshot = undefined
  f.pos = pos
  return pos
}

/** A directory entry as getdents64 returns it (struct linux_dirent64). */
export interface Dirent64 {
  readonly ino: number
  readonly off: number
  readonly type: number
  readonly name: string
}

/** DT_* from the mode's type bits. */
const dtType = (mode: number): number => (mode >> 12) & 15

/** The size of one linux_dirent64 record: 19 bytes of header + name + NUL, 8-aligned. */
export const direntReclen = (name: string): number => (19 + Buffer.byteLength(name) + 1 + 7) & ~7

/**
 * getdents64(2): as many entries as fit in `count` bytes ("." and ".."
 * first, then the names in creation order); 0 at the end; EINVAL when
 * even the next entry does not fit; ENOTDIR, EBADF; ENOENT in a removed
 * directory.
 */
export const getdents64 = (task: VfsTask, fd: number, count: number): Array<Dirent64> | SysError => {
  const f = task.files.fdget(fd)
  if (f === undefined || f.isPath) return sysError("EBADF", "getdents64")
  const dentry = f.dentry
  const inode = f.inode
  if (!inode.isDir) return sysError("ENOTDIR", "getdents64")
  if (inode.nlink === 0) return sysError("ENOENT", "getdents64")
  if (f.dirSnapshot === undefined) {
    const names = [".", ".."]
    if (dentry.children !== undefined) for (const n of dentry.children.keys()) names.push(n)
    f.dirSnapshot = names.slice(f.pos)
  }
  const out: Array<Dirent64> = []
  let used = 0
  while (f.dirSnapshot.length > 0) {
    const name = f.dirSnapshot[0]!
    const len = direntReclen(name)
    if (used + len > count) {
      if (out.length === 0) return sysError("EINVAL", "getdents64")
      break
    }
    const target = name === "." ? dentry : name === ".." ? dentry.parent : dentry.children?.get(name)
    f.dirSnapshot.shift()
    f.pos++
    if (target === undefined) continue
    out.push({ ino: target.inode.ino, off: f.pos, type: dtType(target.inode.mode), name })
    used += len
  }
  inode.touchAtime(f.mnt.flags, f.mnt.isReadonly)
  return out
}
