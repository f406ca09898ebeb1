import { S_IFDIR, sysError, type SysError } from "@simkernel/abi"
import type { Kgid, Kuid, UserNamespace } from "@simkernel/cred"
import { Refcounted } from "@simkernel/kref"
import { Volume } from "memfs"
import { PAGE_SIZE, SB_RDONLY } from "./constants.js"
import { Dentry } from "./Dentry.js"
import type { FsType } from "./FsType.js"
import { type DataNode, Inode } from "./Inode.js"
import type { Vfs } from "./Vfs.js"

type MemfsCore = Volume["_core"]

/**
 * A mounted filesystem instance, as include/linux/fs.h struct super_block:
 * its type, anonymous device number 0:N (get_anon_bdev()), flags (SB_*),
 * root dentry, owning user namespace (s_user_ns, a held reference), the
 * type's private info, and the block and inode accounting tmpfs limits
 * with (shmem_sb_info's max_blocks / max_inodes; 0 means unlimited).
 *
 * The reference count is s_active: every Mount of the superblock and every
 * FsContext holding it has one. When it drops to zero the superblock is
 * killed: its inodes and their storage go, the device number is freed.
 * File data lives in one memfs volume per superblock, made on first use.
 */
export class Superblock extends Refcounted {
  readonly kind = "Superblock"
  readonly dev: number
  flags: number
  root!: Dentry
  readonly userNs: UserNamespace
  fsInfo: unknown = undefined
  maxBlocks = 0
  maxInodes = 0
  usedBlocks = 0
  usedInodes = 0
  /** Next inode number (shmem_sb_info.next_ino). */
  nextIno = 1
  /** Inode numbers come from the kernel-wide get_next_ino() (ramfs) instead of nextIno. */
  globalIno = false
  /** Open files with write access, for a remount read-only (sb_prepare_remount_readonly: EBUSY). */
  writers = 0
  private core: MemfsCore | undefined = undefined

  constructor(
    readonly vfs: Vfs,
    readonly type: FsType,
    userNs: UserNamespace,
    flags: number,
    dev: number
  ) {
    super(vfs.registry, `${type.name} superblock`)
    this.dev = dev
    this.flags = flags
    this.userNs = userNs.get()
  }

  get rdonly(): boolean {
    return (this.flags & SB_RDONLY) !== 0
  }

  /** "0:N" as mountinfo prints s_dev. */
  get devString(): string {
    return `0:${this.dev}`
  }

  /**
   * new_inode() plus the filesystem's inode reservation (shmem_reserve_inode):
   * ENOSPC when nr_inodes is exhausted.
   */
  newInode(mode: number, uid: Kuid, gid: Kgid): Inode | SysError {
    if (this.maxInodes !== 0 && this.usedInodes >= this.maxInodes) return sysError("ENOSPC", undefined, "no free inodes")
    this.usedInodes++
    return new Inode(this, this.globalIno ? this.vfs.getNextIno() : this.nextIno++, mode, uid, gid)
  }

  /**
   * d_make_root() of a new root directory inode: the superblock's root.
   * When no inode can be had, the superblock, never set up, is put.
   */
  makeRoot(mode: number, uid: Kuid, gid: Kgid): SysError | undefined {
    const inode = this.newInode(S_IFDIR | mode, uid, gid)
    if ("errno" in inode) {
      this.put()
      return inode
    }
    this.root = new Dentry("/", undefined, inode)
    return undefined
  }

    /** Reserve an inode slot for an extra hard link (tmpfs charges each link). */
  reserveInode(): SysError | undefined {
    if (this.maxInodes !== 0 && this.usedInodes >= this.maxInodes) return sysError("ENOSPC", undefined, "no free inodes")
    this.usedInodes++
    return undefined
  }

  releaseInodeSlot(): void {
    this.usedInodes--
  }

  /**
   * evict(): the inode has no links and no open files; give back its data
   * and its slot.
   */
  evictInode(inode: Inode): void {
    if (inode.pages > 0) this.usedBlocks -= inode.pages
    inode.pages = 0
    if (inode.isReg && inode.data !== undefined && this.core !== undefined) {
      this.core.deleteNode(inode.data as never)
    }
    inode.data = undefined
    this.usedInodes--
  }

  /**
   * A change to `inode` is complete: its data (a write gives the bytes'
   * `pos` and `len`; a truncate none), its attributes, or (`"dir"`) the
   * entries of directory `inode`. Where Linux commits a change on a
   * filesystem mounted sync (generic_write_sync() under IS_SYNC) or, for a
   * directory, sync or dirsync (ext4_handle_sync() under IS_DIRSYNC).
   * Nothing to do in memory; a disk-backed filesystem writes back here, and
   * its error (EIO) is the syscall's.
   */
  commitChange(_inode: Inode, _what: "data" | "attr" | "dir", _pos?: number, _len?: number): SysError | undefined {
    return undefined
  }

  /** The data node of a regular file, made on its first write. */
  dataNode(inode: Inode): DataNode {
    if (inode.data !== undefined) return inode.data as DataNode
    this.core ??= new Volume()._core
    const node = this.core.createNode(inode.mode) as unknown as DataNode
    inode.data = node
    return node
  }

  /**
   * Charge the pages needed for `inode` to hold `end` bytes: how many bytes
   * fit (`end` or less when the size limit is reached).
   */
  chargeTo(inode: Inode, end: number): number {
    const want = Math.ceil(end / PAGE_SIZE)
    if (want <= inode.pages) return end
    let grant = want - inode.pages
    if (this.maxBlocks !== 0 && this.usedBlocks + grant > this.maxBlocks) grant = Math.max(0, this.maxBlocks - this.usedBlocks)
    this.usedBlocks += grant
    inode.pages += grant
    return Math.min(end, inode.pages * PAGE_SIZE)
  }

  /** Give back pages beyond `size` bytes (truncate). */
  unchargeTo(inode: Inode, size: number): void {
    const keep = Math.ceil(size / PAGE_SIZE)
    if (keep >= inode.pages) return
    this.usedBlocks -= inode.pages - keep
    inode.pages = keep
  }

  protected override destroy(): void {
    this.core = undefined
    this.vfs.anonDevs.free(this.dev)
    this.userNs.put()
  }
}

/**
 * sget_fc() with set_anon_super(): a new superblock on a fresh anonymous
 * device, owned by the context's user namespace; EMFILE when the 2^20
 * anonymous devices are used up.
 */
export const sgetAnon = (vfs: Vfs, type: FsType, userNs: UserNamespace, flags: number): Superblock | SysError => {
  const dev = vfs.anonDevs.alloc()
  if (dev === undefined) return sysError("EMFILE", undefined, "no anonymous device number left")
  return new Superblock(vfs, type, userNs, flags, dev)
}
