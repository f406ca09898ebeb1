import { S_IFMT, S_IFDIR, S_IFLNK, S_IFREG, type SysError } from "@simkernel/abi"
import { MNT_NOATIME, MNT_NODIRATIME, MNT_RELATIME, SB_NOATIME, SB_RDONLY } from "./constants.js"
import type { CredValues, Kgid, Kuid } from "@simkernel/cred"
import type { Dentry } from "./Dentry.js"
import type { File } from "./File.js"
import type { Path } from "./Path.js"
import type { Superblock } from "./Superblock.js"
import type { VfsTask } from "./Task.js"

/**
 * Who is resolving a magic link: the walk's task context, opaque here
 * (procfs knows its shape).
 */
export type MagicLinkTask = unknown

/**
 * include/linux/fs.h struct inode_operations, the part a path walk needs
 * from a filesystem that is not tmpfs: ->get_link for magic links
 * (/proc/PID/fd/N, /proc/PID/ns/KIND), which jump to a Path instead of
 * returning text (nd_jump_link()). procfs plugs in here.
 */
export interface InodeOperations {
  /**
   * Resolve a link: link text to walk (an ordinary symlink), or a Path to
   * jump to (a magic link; the walker does not keep it beyond the walk), or
   * an error.
   */
  readonly getLink?: (dentry: Dentry, task: MagicLinkTask) => string | Path | SysError
  /**
   * ->permission: replaces generic_permission() for this inode (procfs's
   * hidepid= on /proc/PID, the ptrace check on /proc/PID/fdinfo). Called
   * after the read-only checks; the answer is the walk's or open's.
   */
  readonly permission?: (cred: CredValues, inode: Inode, mask: number) => SysError | undefined
  /**
   * A directory whose ->lookup fails for a name it lacks instead of giving
   * a negative dentry (procfs: ENOENT): creating that name (open O_CREAT,
   * mkdir, mknod, symlink, link) fails with this, before any permission
   * check.
   */
  readonly lookupError?: () => SysError
  /**
   * A directory without ->unlink, ->rmdir and ->rename (procfs): removing
   * or renaming one of its entries is EPERM once may_delete() has passed.
   */
  readonly fixedEntries?: boolean
  /**
   * ->open of the inode's file_operations (do_dentry_open()): called for
   * every open but O_PATH, after the permission checks, with the new File
   * and the opener. It may give the File its operations and private data,
   * or refuse (procfs's EACCES for /proc/PID/environ, nsfs's EPERM for
   * writing); a refusing hook leaves the File untouched.
   */
  readonly open?: (file: File, task: VfsTask) => SysError | undefined
  /**
   * ->getattr's refusal: stat(2) of the inode fails with this for `task`
   * (procfs's pid_getattr(): ENOENT for a /proc/PID that hidepid= hides).
   */
  readonly getattr?: (task: VfsTask) => SysError | undefined
  /**
   * A mount took this inode's dentry as its root (dget() of mnt_root), and
   * `iput` when the mount goes: nsfs holds the namespace for as long as a
   * bind mount of /proc/PID/ns/KIND exists.
   */
  readonly ihold?: (inode: Inode) => void
  readonly iput?: (inode: Inode) => void
}

/** A memfs file node: the storage of one regular file's data. */
export interface DataNode {
  /**
   * Bytes written (possibly fewer than `len`), or the filesystem's refusal
   * (procfs's uid_map, hostname), which write(2) returns. `task` is the
   * writer when write(2) calls it (procfs checks it, as Linux's ->write
   * sees current).
   */
  write(buf: Uint8Array, off: number, len: number, pos: number, task?: VfsTask): number | SysError
  read(buf: Uint8Array, off: number, len: number, pos: number): number
  truncate(len: number): void
  getSize(): number
}

/**
 * An inode, as include/linux/fs.h struct inode: kept small on purpose (a
 * tmpfs of a million files is a million of these). Timestamps are split
 * into seconds and nanoseconds; uid and gid are kernel ids. A regular
 * file's data lives in memfs storage created on its first write (`data`);
 * a symlink's target is `data` as a string. Inodes are owned by their
 * superblock; `opens` counts open files so that an unlinked inode keeps its
 * data until its last close (i_count of an unlinked inode).
 */
export class Inode {
  nlink: number
  uid: Kuid
  gid: Kgid
  size = 0
  rdev = 0
  atimeSec: number
  atimeNsec: number
  mtimeSec: number
  mtimeNsec: number
  ctimeSec: number
  ctimeNsec: number
  /** Regular file: its DataNode once written; symlink: the target text; others: filesystem private data. */
  data: DataNode | string | unknown
  /** Special behaviour (magic links); undefined for plain tmpfs inodes. */
  iop: InodeOperations | undefined
  /** Open files on this inode. */
  opens = 0
  /** Blocks (pages) charged to the superblock for this inode's data. */
  pages = 0

  constructor(
    readonly sb: Superblock,
    readonly ino: number,
    public mode: number,
    uid: Kuid,
    gid: Kgid
  ) {
    this.nlink = (mode & S_IFMT) === S_IFDIR ? 2 : 1
    this.uid = uid
    this.gid = gid
    const c = sb.vfs.clock
    this.atimeSec = this.mtimeSec = this.ctimeSec = c.sec
    this.atimeNsec = this.mtimeNsec = this.ctimeNsec = c.nsec
    this.data = undefined
    this.iop = undefined
  }

  get isDir(): boolean {
    return (this.mode & S_IFMT) === S_IFDIR
  }
  get isReg(): boolean {
    return (this.mode & S_IFMT) === S_IFREG
  }
  get isLnk(): boolean {
    return (this.mode & S_IFMT) === S_IFLNK
  }

  /** inode_set_ctime_current(). */
  touchCtime(): void {
    const c = this.sb.vfs.clock
    this.ctimeSec = c.sec
    this.ctimeNsec = c.nsec
  }

  /** mtime and ctime to now, as a write or a directory change does. */
  touchMtime(): void {
    const c = this.sb.vfs.clock
    this.mtimeSec = this.ctimeSec = c.sec
    this.mtimeNsec = this.ctimeNsec = c.nsec
  }

  /**
   * touch_atime() as seen through a mount with flags `mntFlags`
   * (atime_needs_update()): never on a read-only or noatime mount (or a
   * nodiratime one for directories); with relatime only when the atime is
   * not newer than mtime or ctime, or is a day old.
   */
  touchAtime(mntFlags: number, mntReadonly: boolean): void {
    if (mntReadonly || (mntFlags & MNT_NOATIME) !== 0) return
    if ((mntFlags & MNT_NODIRATIME) !== 0 && this.isDir) return
    if ((this.sb.flags & (SB_NOATIME | SB_RDONLY)) !== 0) return
    const c = this.sb.vfs.clock
    if ((mntFlags & MNT_RELATIME) !== 0) {
      const older = (s: number, ns: number): boolean => this.atimeSec < s || (this.atimeSec === s && this.atimeNsec <= ns)
      if (!older(this.mtimeSec, this.mtimeNsec) && !older(this.ctimeSec, this.ctimeNsec) && c.sec - this.atimeSec < 24 * 60 * 60) return
    }
    this.atimeSec = c.sec
    this.atimeNsec = c.nsec
  }
}
