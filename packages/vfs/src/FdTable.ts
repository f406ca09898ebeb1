import {
  F_DUPFD,
  F_DUPFD_CLOEXEC,
  F_GETFD,
  F_GETFL,
  F_SETFD,
  F_SETFL,
  FD_CLOEXEC,
  O_APPEND,
  O_CLOEXEC,
  O_DIRECT,
  O_NOATIME,
  O_NONBLOCK,
  FASYNC,
  sysError,
  type SysError
} from "@simkernel/abi"
import { Refcounted, type LiveObjects } from "@simkernel/kref"
import type { File } from "./File.js"

/** The default RLIMIT_NOFILE soft limit. */
export const NR_OPEN_DEFAULT = 1024
/** fs.nr_open: the hard ceiling of any fd number. */
export const NR_OPEN = 1048576

/** F_SETFL may change only these (SETFL_MASK). */
const SETFL_MASK = O_APPEND | O_NONBLOCK | FASYNC | O_DIRECT | O_NOATIME

/**
 * A task's descriptor table, as include/linux/fdtable.h struct
 * files_struct: fd slots pointing at Files, with a close-on-exec bit each;
 * new descriptors take the lowest free number. Shared by CLONE_FILES (the
 * reference count), copied by fork (dup_fd()). Each slot holds a
 * reference on its File.
 */
export class FdTable extends Refcounted {
  readonly kind = "FdTable"
  private readonly fds: Array<File | undefined> = []
  private readonly cloexec: Array<boolean> = []
  /** Every fd below this is in use (files_struct.next_fd). */
  private nextFd = 0

  constructor(readonly liveObjects: LiveObjects) {
    super(liveObjects, "files_struct")
  }

  /** fdget(): the File at `fd`, borrowed, or undefined when not open. */
  fdget(fd: number): File | undefined {
    return fd >= 0 ? this.fds[fd] : undefined
  }

  /** Open descriptors, ascending. */
  openFds(): Array<number> {
    const out: Array<number> = []
    for (let i = 0; i < this.fds.length; i++) if (this.fds[i] !== undefined) out.push(i)
    return out
  }

  private findFree(start: number): number {
    let fd = Math.max(start, this.nextFd)
    while (fd < this.fds.length && this.fds[fd] !== undefined) fd++
    return fd
  }

  /**
   * alloc_fd() + fd_install(): the lowest free fd >= `start`, below
   * `nofile` (EMFILE otherwise, or EINVAL when start itself is beyond it
   * for F_DUPFD). Takes over the caller's reference on `file`.
   */
  install(file: File, cloexec: boolean, nofile = NR_OPEN_DEFAULT, start = 0): number | SysError {
    const fd = this.findFree(start)
    if (fd >= nofile || fd >= NR_OPEN) return sysError("EMFILE")
    this.set(fd, file, cloexec)
    if (start <= this.nextFd) this.nextFd = fd + 1
    return fd
  }

  private set(fd: number, file: File, cloexec: boolean): void {
    while (this.fds.length <= fd) {
      this.fds.push(undefined)
      this.cloexec.push(false)
    }
    this.fds[fd] = file
    this.cloexec[fd] = cloexec
  }

  /** Take the file out of `fd` (the caller gets the slot's reference). */
  private take(fd: number): File | undefined {
    const file = this.fds[fd]
    if (file === undefined) return undefined
    this.fds[fd] = undefined
    this.cloexec[fd] = false
    if (fd < this.nextFd) this.nextFd = fd
    return file
  }

  /** close(2): EBADF when `fd` is not open. */
  close(fd: number): SysError | undefined {
    const file = fd >= 0 ? this.take(fd) : undefined
    if (file === undefined) return sysError("EBADF", "close")
    file.put()
    return undefined
  }

  /** dup(2). */
  dup(oldfd: number, nofile = NR_OPEN_DEFAULT): number | SysError {
    const file = this.fdget(oldfd)
    if (file === undefined) return sysError("EBADF", "dup")
    const fd = this.install(file.get(), false, nofile)
    if (typeof fd !== "number") file.put()
    return fd
  }

  /**
   * dup3(2) (and dup2 with flags 0): EBADF for a bad oldfd or a newfd out
   * of range, EINVAL for oldfd == newfd or flags other than O_CLOEXEC.
   */
  dup3(oldfd: number, newfd: number, flags: number, nofile = NR_OPEN_DEFAULT): number | SysError {
    if ((flags & ~O_CLOEXEC) !== 0) return sysError("EINVAL", "dup3")
    if (oldfd === newfd) return sysError("EINVAL", "dup3")
    if (newfd < 0 || newfd >= nofile) return sysError("EBADF", "dup3")
    const file = this.fdget(oldfd)
    if (file === undefined) return sysError("EBADF", "dup3")
    file.get()
    const old = this.take(newfd)
    this.set(newfd, file, (flags & O_CLOEXEC) !== 0)
    while (this.nextFd < this.fds.length && this.fds[this.nextFd] !== undefined) this.nextFd++
    old?.put()
    return newfd
  }

  /** dup2(2): like dup3 but oldfd == newfd returns newfd when it is open. */
  dup2(oldfd: number, newfd: number, nofile = NR_OPEN_DEFAULT): number | SysError {
    if (oldfd === newfd) return this.fdget(oldfd) === undefined ? sysError("EBADF", "dup2") : newfd
    return this.dup3(oldfd, newfd, 0, nofile)
  }

  getCloexec(fd: number): boolean {
    return this.cloexec[fd] === true
  }

  /**
   * fcntl(2) for the descriptor commands: F_DUPFD, F_DUPFD_CLOEXEC,
   * F_GETFD, F_SETFD, F_GETFL, F_SETFL. EBADF for a closed fd (and for
   * everything but F_DUPFD*, F_GETFD, F_SETFD, F_GETFL on an O_PATH file), EINVAL for an unknown
   * command or a negative F_DUPFD start.
   */
  fcntl(fd: number, cmd: number, arg: number, nofile = NR_OPEN_DEFAULT): number | SysError {
    const file = this.fdget(fd)
    if (file === undefined) return sysError("EBADF", "fcntl")
    switch (cmd) {
      case F_DUPFD:
      case F_DUPFD_CLOEXEC: {
        if (arg < 0 || arg >= nofile) return sysError("EINVAL", "fcntl")
        const nfd = this.install(file.get(), cmd === F_DUPFD_CLOEXEC, nofile, arg)
        if (typeof nfd !== "number") file.put()
        return nfd
      }
      case F_GETFD:
        return this.cloexec[fd] ? FD_CLOEXEC : 0
      case F_SETFD:
        this.cloexec[fd] = (arg & FD_CLOEXEC) !== 0
        return 0
      case F_GETFL:
        return file.flags
      case F_SETFL:
        if (file.isPath) return sysError("EBADF", "fcntl")
        file.flags = (file.flags & ~SETFL_MASK) | (arg & SETFL_MASK)
        return 0
      default:
        return sysError("EINVAL", "fcntl")
    }
  }

  /** dup_fd(): a copy for fork(2), each File gaining a reference. */
  copy(): FdTable {
    const t = new FdTable(this.liveObjects)
    for (let i = 0; i < this.fds.length; i++) {
      const f = this.fds[i]
      if (f !== undefined) t.set(i, f.get(), this.cloexec[i]!)
    }
    t.nextFd = this.nextFd
    return t
  }

  /** do_close_on_exec(). */
  closeOnExec(): void {
    for (let i = 0; i < this.fds.length; i++) if (this.cloexec[i] && this.fds[i] !== undefined) this.take(i)!.put()
  }

  /** close_files(): drop every descriptor (the last put does this too). */
  closeAll(): void {
    for (let i = this.fds.length - 1; i >= 0; i--) if (this.fds[i] !== undefined) this.take(i)!.put()
  }

  protected override destroy(): void {
    this.closeAll()
  }
}
