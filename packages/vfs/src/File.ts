import { O_ACCMODE, O_PATH, O_RDONLY, O_RDWR, O_WRONLY, type SysError } from "@simkernel/abi"
import type { Cred } from "@simkernel/cred"
import { Refcounted } from "@simkernel/kref"
import type { Dentry } from "./Dentry.js"
import type { Inode } from "./Inode.js"
import type { Mount } from "./Mount.js"
import type { MountNamespace } from "./MountNamespace.js"
import type { Path } from "./Path.js"
import type { WaitQueue } from "./waitQueue.js"

export const FMODE_READ = 0x1
export const FMODE_WRITE = 0x2
export const FMODE_PATH = 0x4000

/**
 * What a file type can do beyond a tmpfs file, as struct
 * file_operations. Higher packages give special files their behaviour
 * here: a container fd acts as a dirfd through `dirfdRoot`, nsfs and pidfd
 * files keep their object in `File.privateData` and drop it in `release`.
 */
export interface FileOperations {
  /** A short name for the kind of file ("nsfs", "container"), for traces. */
  readonly name: string
  /**
   * The directory a walk starts from when this file is the dirfd. Called
   * for relative paths, and for absolute ones too (which normally ignore
   * the dirfd) so that the file can refuse them; `empty` says the path is
   * "" (AT_EMPTY_PATH and the like: the fd itself). The Path is borrowed.
   */
  readonly dirfdRoot?: (file: File, absolute: boolean, empty?: boolean) => Path | SysError
  /**
   * The mount namespace a move_mount(2) whose target is resolved through
   * this dirfd attaches into, when that is not the caller's (undefined:
   * the caller's, as for any file).
   */
  readonly dirfdMntNs?: (file: File) => MountNamespace | undefined
  /** read(2) and pread64(2) at `pos` for a file that is not a tmpfs file or device (an fs context's message log, a procfs file). */
  readonly read?: (file: File, buf: Uint8Array, pos: number) => number | SysError
  /** ->poll(): the POLL* events ready now (DEFAULT_POLLMASK without it). */
  readonly poll?: (file: File) => number
  /** The wait queue poll(2) sleeps on until `poll` may have changed. */
  readonly waitQueue?: (file: File) => WaitQueue
  /** Called once when the last reference to the file goes. */
  readonly release?: (file: File) => void
}

/**
 * An open file description, as include/linux/fs.h struct file: flags,
 * position, the opener's credentials, and the mount and dentry it was
 * opened through. Refcounted: every fd slot pointing at it and every
 * in-flight borrow holds one. Holds its mount (so the mount is busy) and
 * counts itself on the inode (so an unlinked inode keeps its data).
 */
export class File extends Refcounted {
  readonly kind = "File"
  /** f_flags: the open flags that stay (access mode, O_APPEND, O_NONBLOCK, O_PATH, ...). */
  flags: number
  readonly fmode: number
  pos = 0
  readonly mnt: Mount
  readonly dentry: Dentry
  readonly inode: Inode
  readonly cred: Cred
  fop: FileOperations | undefined
  privateData: unknown = undefined
  /** f_pipe: a FIFO reader's writer count at open, so poll's POLLHUP waits for a writer to have come (0 otherwise). */
  pipeVersion = 0
  /** getdents64 cursor: the names left to return, captured when reading starts. */
  dirSnapshot: Array<string> | undefined = undefined

  /** Takes its own references on the mount and the cred. */
  constructor(path: Path, flags: number, cred: Cred, fop?: FileOperations) {
    super(path.mnt.vfs.registry, "file")
    this.mnt = path.mnt.get()
    this.dentry = path.dentry
    this.inode = path.dentry.inode
    this.cred = cred.get()
    this.flags = flags
    this.fop = fop
    const acc = flags & O_ACCMODE
    this.fmode =
      (flags & O_PATH) !== 0
        ? FMODE_PATH
        : acc === O_RDONLY
          ? FMODE_READ
          : acc === O_WRONLY
            ? FMODE_WRITE
            : acc === O_RDWR
              ? FMODE_READ | FMODE_WRITE
              : 0
    this.inode.opens++
    if ((this.fmode & FMODE_WRITE) !== 0) {
      this.inode.sb.writers++
      this.mnt.writers++
    }
  }

  get path(): Path {
    return this
  }

  get canRead(): boolean {
    return (this.fmode & FMODE_READ) !== 0
  }

  get canWrite(): boolean {
    return (this.fmode & FMODE_WRITE) !== 0
  }

  get isPath(): boolean {
    return (this.fmode & FMODE_PATH) !== 0
  }

  protected override destroy(): void {
    this.fop?.release?.(this)
    const inode = this.inode
    if ((this.fmode & FMODE_WRITE) !== 0) {
      inode.sb.writers--
      this.mnt.writers--
    }
    // mntput() forgets an MNT_EXPIRE mark: the mount was used.
    this.mnt.expiryMark = false
    inode.opens--
    if (inode.opens === 0 && inode.nlink === 0) inode.sb.evictInode(inode)
    this.cred.put()
    this.mnt.put()
  }
}
