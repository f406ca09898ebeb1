import { O_NONBLOCK, POLLHUP, POLLIN, POLLRDNORM, sysError, type SysError } from "@simkernel/abi"
import type { Cred } from "@simkernel/cred"
import { type LiveObjects, Refcounted } from "@simkernel/kref"
import type { Pid } from "./Pid.js"

/**
 * What sched needs from a task's descriptor table (struct files_struct):
 * a reference count (CLONE_FILES shares it), dup_fd() for fork and
 * close-on-exec for execve. vfs's FdTable has this shape.
 */
export type FilesStruct = Refcounted & {
  copy(): FilesStruct
  closeOnExec(): void
}

/**
 * What sched needs from a task's fs_struct: shared by CLONE_FS, copied
 * otherwise, `users` for the setns/exec checks. vfs's FsStruct has this shape.
 */
export type FsStructLike = Refcounted & {
  copy(): FsStructLike
  readonly users: number
}

/**
 * A pidfd's open file, as the struct file pidfd_prepare() makes (pidfs):
 * it holds its Pid and the open flags (O_NONBLOCK, PIDFD_THREAD).
 */
export class PidfdFile extends Refcounted {
  readonly kind = "PidfdFile"
  readonly pid: Pid
  flags: number

  /** Takes its own reference on `pid`. */
  constructor(registry: LiveObjects, pid: Pid, flags: number) {
    super(registry, "pidfd")
    this.pid = this.hold(pid.get())
    this.flags = flags
  }

  get nonblock(): boolean {
    return (this.flags & O_NONBLOCK) !== 0
  }

  /**
   * pidfd_poll(): readable once the process has exited (for a leader, once
   * every thread has), with POLLHUP when it has been reaped.
   */
  poll(): number {
    const task = this.pid.task
    if (task === undefined) return POLLIN | POLLRDNORM | POLLHUP
    if (task.exitState.tag !== "running" && !(task.isLeader && !task.threadGroupEmpty)) return POLLIN | POLLRDNORM
    return 0
  }
}

/**
 * How the kernel puts pidfds into descriptor tables: vfs's FdTable holds
 * only vfs Files, so the kernel app supplies an adapter that wraps a
 * PidfdFile in an anonymous-inode File (its privateData, put by the file
 * operations' release). Without one, SimpleFdTable is used.
 */
export interface FdAdapter {
  /** The first task's descriptor table. */
  createFiles(registry: LiveObjects): FilesStruct
  /**
   * pidfd_prepare() + fd_install(): put `file` in the table as an open file
   * of `cred` (the opener). Takes over the caller's reference on `file`,
   * and puts it when it fails (EMFILE).
   */
  installPidfd(files: FilesStruct, file: PidfdFile, cloexec: boolean, cred: Cred): number | SysError
  /** pidfd_get_pid()'s file part: EBADF when `fd` is not open, EINVAL when it is not a pidfd. Borrowed. */
  getPidfd(files: FilesStruct, fd: number): PidfdFile | SysError
  /** close(2). */
  close(files: FilesStruct, fd: number): SysError | undefined
}

interface Slot {
  readonly file: Refcounted
  cloexec: boolean
}

/**
 * A minimal descriptor table for sched used on its own (without the VFS):
 * the lowest free fd, close-on-exec bits, and a reference per slot.
 */
export class SimpleFdTable extends Refcounted {
  readonly kind = "SimpleFdTable"
  private readonly slots: Array<Slot | undefined> = []

  constructor(readonly live: LiveObjects) {
    super(live, "files_struct")
  }

  /** alloc_fd() + fd_install(): takes over the caller's reference. */
  install(file: Refcounted, cloexec: boolean): number {
    let fd = 0
    while (fd < this.slots.length && this.slots[fd] !== undefined) fd++
    this.slots[fd] = { file, cloexec }
    return fd
  }

  file(fd: number): Refcounted | undefined {
    return fd >= 0 ? this.slots[fd]?.file : undefined
  }

  close(fd: number): SysError | undefined {
    const s = fd >= 0 ? this.slots[fd] : undefined
    if (s === undefined) return sysError("EBADF", "close")
    this.slots[fd] = undefined
    s.file.put()
    return undefined
  }

  /** Open descriptors, ascending. */
  openFds(): Array<number> {
    const out: Array<number> = []
    for (let i = 0; i < this.slots.length; i++) if (this.slots[i] !== undefined) out.push(i)
    return out
  }

  copy(): SimpleFdTable {
    const t = new SimpleFdTable(this.live)
    for (let i = 0; i < this.slots.length; i++) {
      const s = this.slots[i]
      if (s !== undefined) t.slots[i] = { file: s.file.get(), cloexec: s.cloexec }
    }
    return t
  }

  closeOnExec(): void {
    for (let i = 0; i < this.slots.length; i++) if (this.slots[i]?.cloexec === true) this.close(i)
  }

  closeAll(): void {
    for (let i = this.slots.length - 1; i >= 0; i--) if (this.slots[i] !== undefined) this.close(i)
  }

  protected override destroy(): void {
    this.closeAll()
  }
}

/** The adapter for SimpleFdTable. */
export const simpleFdAdapter: FdAdapter = {
  createFiles: (registry) => new SimpleFdTable(registry),
  installPidfd: (files, file, cloexec) => (files as unknown as SimpleFdTable).install(file, cloexec),
  getPidfd: (files, fd) => {
    const f = (files as unknown as SimpleFdTable).file(fd)
    if (f === undefined) return sysError("EBADF", "pidfd_send_signal")
    return f instanceof PidfdFile ? f : sysError("EINVAL", "pidfd_send_signal", "not a pidfd")
  },
  close: (files, fd) => (files as unknown as SimpleFdTable).close(fd)
}
