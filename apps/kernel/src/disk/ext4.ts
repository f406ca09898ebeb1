import {
  AT_FDCWD,
  CAP_SYS_RESOURCE,
  NAME_MAX,
  O_PATH,
  S_IFBLK,
  S_IFCHR,
  S_IFDIR,
  S_IFIFO,
  S_IFLNK,
  S_IFMT,
  S_IFREG,
  S_IFSOCK,
  sysError,
  type SysError
} from "@simkernel/abi"
import { capable, fromKgidMunged, fromKuidMunged, GLOBAL_ROOT_UID, type Kgid, type Kuid, makeKgid, makeKuid, type UserNamespace } from "@simkernel/cred"
import {
  type DataNode,
  Dentry,
  devMajor,
  devMinor,
  ENOPARAM,
  type File,
  type FsContext,
  type FsParameter,
  type FsType,
  filenameLookup,
  FS_INIT_ORDER,
  Inode,
  type Kstatfs,
  LOOKUP_FOLLOW,
  mayOpenDev,
  mkdev,
  PAGE_SIZE,
  SB_DIRSYNC,
  SB_RDONLY,
  SB_SYNCHRONOUS,
  Superblock,
  type Vfs,
  type VfsTask
} from "@simkernel/vfs"
import type { BlockDevice } from "./BlockDevice.js"
import {
  checkImage,
  CorruptImage,
  DEFAULT_BLOCKS_COUNT,
  DEFAULT_INODES_COUNT,
  type DiskImage,
  type DiskInode,
  EXT4_BLOCK_SIZE,
  IMAGE_VERSION,
  type JournalInode,
  type JournalRecord,
  RESERVED_INODES,
  ROOT_INO
} from "./image.js"

/**
 * The disk-backed filesystem type "ext4" (fs/ext4/super.c as far as this
 * simulation models it): a superblock per block device, whose tree is read
 * from the device's image at mount and written back to it, whole and
 * atomically, by sync(2), syncfs(2), fsync(2), a remount read-only and the
 * release of its last mount (kernel shutdown included). Mounted sync
 * (MS_SYNCHRONOUS), every change is committed before its syscall returns;
 * mounted dirsync (MS_DIRSYNC), every directory change is: as a journal
 * record appended to the image (see image.ts). What was written since the
 * last write-back or commit lives only in memory, like the page cache of a
 * machine that loses power.
 */

/** EXT4_SUPER_MAGIC (include/uapi/linux/magic.h); not in @simkernel/abi yet. */
export const EXT4_SUPER_MAGIC = 0xef53

/** FS_REQUIRES_DEV (include/linux/fs.h). */
const FS_REQUIRES_DEV = 1

/** The size of an image that records none: 1 GiB of 4 KiB blocks, one inode per 16 KiB (mke2fs's default ratio). */
export const EXT4_BLOCKS = DEFAULT_BLOCKS_COUNT
export const EXT4_INODES = DEFAULT_INODES_COUNT

/** mke2fs's lost+found (EXT4_GOOD_OLD_FIRST_INO). */
const LOST_AND_FOUND_INO = 11

/** A journal longer than this, or than the image itself, is folded into a full write-back. */
const JOURNAL_COMPACT_BYTES = 1 << 20

/**
 * The blocks mke2fs spends on metadata, which statfs does not count in
 * f_blocks (ext4_calculate_overhead()): the inode tables (256-byte
 * inodes), the journal (ext2fs_default_journal_size()), and a superblock
 * or backup and two bitmaps per group of 32768 blocks.
 */
export const ext4Overhead = (blocksCount: number, inodesCount: number): number => {
  const journal =
    blocksCount < 2048 ? 0 : blocksCount < 32768 ? 1024 : blocksCount < 262144 ? 4096 : blocksCount < 524288 ? 8192 : blocksCount < 4194304 ? 16384 : 32768
  const groups = Math.ceil(blocksCount / 32768)
  return Math.ceil((inodesCount * 256) / EXT4_BLOCK_SIZE) + journal + 3 * groups
}

/** errors= (EXT4_MOUNT_ERRORS_*): what an ext4 error does to the filesystem. */
export type Ext4Errors = "continue" | "remount-ro" | "panic"
const ERRORS: ReadonlyArray<Ext4Errors> = ["continue", "remount-ro", "panic"]
/** The behaviour mke2fs records in the superblock (s_errors = EXT2_ERRORS_CONTINUE); only other values are shown. */
const DEFAULT_ERRORS: Ext4Errors = "continue"

/** What an ext4 context has parsed (struct ext4_fs_context, the part modelled). */
interface Ext4Options {
  errors: Ext4Errors | undefined
  userXattr: boolean
}

/** How many kernel messages an Ext4 keeps in its `log`. */
const LOG_LINES = 256

/** Messages for the kernel log, as ext4_msg()/printk() print them ("EXT4-fs (sda3): ..."). */
export type Printk = (line: string) => void

export interface Ext4Config {
  /**
   * The task whose root and working directory resolve a mount's `source`
   * (lookup_bdev() walks the path as `current`): boot passes the running
   * task, or PID 1 outside any task.
   */
  readonly currentTask: () => VfsTask
  /** Kernel log lines (dmesg); kept in `Ext4.log` when not given. */
  readonly printk?: Printk
  /** errors=panic: what the kernel does on an ext4 error (default: the filesystem is remounted read-only). */
  readonly panic?: (message: string) => void
}

const nsString = (sec: number, nsec: number): string => (BigInt(sec) * 1_000_000_000n + BigInt(nsec)).toString()
const fromNs = (ns: string): readonly [number, number] => {
  const v = BigInt(ns)
  return [Number(v / 1_000_000_000n), Number(v % 1_000_000_000n)]
}

const TYPE_MODE: Readonly<Record<DiskInode["type"], number>> = {
  dir: S_IFDIR,
  file: S_IFREG,
  symlink: S_IFLNK,
  chr: S_IFCHR,
  blk: S_IFBLK,
  fifo: S_IFIFO,
  sock: S_IFSOCK
}

/**
 * A mounted ext4 filesystem: the superblock of one block device. Its
 * device number is the device's (8:3 for sda3, as sget_dev() sets s_dev),
 * not an anonymous one. The last put (s_active reaching zero: the last
 * mount and context gone) writes the tree back, as kill_block_super()
 * syncs before the device is released.
 */
export class Ext4Superblock extends Superblock {
  readonly device: BlockDevice
  errors: Ext4Errors
  readonly label: string
  readonly uuid: string
  /** The generation of the image last read or written. */
  generation: number
  /** Extended attributes by inode ("user.*" and others), values base64 as in the image. */
  readonly xattrs = new Map<Inode, Record<string, string>>()
  /** s_blocks_count and s_inodes_count: the size mkfs gave the filesystem. */
  readonly blocksCount: number
  readonly inodesCount: number
  /** Blocks only root may use (s_r_blocks_count, mke2fs -m 5). */
  readonly rootReservedBlocks: number
  /** Blocks nobody's data may use (s_resv_clusters: 2%, at most 4096, kept for metadata). */
  readonly resvClusters: number
  /** Each inode's attributes (and a file's size) as the device holds them, by number: what a commit compares with. */
  private committed = new Map<number, string>()
  /** Files whose data changed since the device last got it: the bytes written, or all of it (after a truncate). */
  private readonly dataDirty = new Map<Inode, DirtyData>()

  constructor(
    readonly owner: Ext4,
    type: FsType,
    userNs: UserNamespace,
    flags: number,
    device: BlockDevice,
    image: DiskImage,
    errors: Ext4Errors
  ) {
    super(owner.vfs, type, userNs, flags, mkdev(device.major, device.minor))
    this.device = device
    this.errors = errors
    this.label = image.label
    this.uuid = image.uuid
    this.generation = image.generation
    this.blocksCount = image.blocksCount ?? DEFAULT_BLOCKS_COUNT
    this.inodesCount = image.inodesCount ?? DEFAULT_INODES_COUNT
    this.rootReservedBlocks = Math.floor(this.blocksCount * 0.05)
    this.resvClusters = Math.min(Math.floor(this.blocksCount / 50), 4096)
    // what data may use: f_blocks less the reserve for metadata
    this.maxBlocks = Math.max(1, this.blocksCount - ext4Overhead(this.blocksCount, this.inodesCount) - this.resvClusters)
    this.maxInodes = this.inodesCount - RESERVED_INODES
  }

  /** s_dev as mountinfo prints it: the block device's major:minor. */
  override get devString(): string {
    return `${devMajor(this.dev)}:${devMinor(this.dev)}`
  }

  /** Remember what the device holds now (after a load or a write-back). */
  markClean(inodes: ReadonlyArray<JournalInode>): void {
    this.committed = new Map(inodes.map((d) => [d.ino, metaKey(d)]))
    this.dataDirty.clear()
  }

  /** An image holding `inodes`, numbered `generation`, of this filesystem's label, UUID and size. */
  private imageOf(inodes: ReadonlyArray<DiskInode>, generation: number): DiskImage {
    return { version: IMAGE_VERSION, label: this.label, uuid: this.uuid, generation, blocksCount: this.blocksCount, inodesCount: this.inodesCount, inodes }
  }

  /** The device failed a write: EIO, after errors= has had its say. */
  private writeFailed(e: unknown): SysError {
    const why = e instanceof Error ? e.message : String(e)
    this.ext4Error(`write-back failed: ${why}`)
    return sysError("EIO", undefined, why)
  }

  /** Never write a table that would not read back: EUCLEAN (and an ext4 error) instead. */
  private inconsistent(problem: string): SysError {
    this.ext4Error(`write-back refused, inconsistent tree: ${problem}`)
    return sysError("EUCLEAN", undefined, problem)
  }

  /**
   * Write the tree back to the device (ext4_sync_fs() committing
   * everything): nothing on a read-only superblock or device, nothing when
   * the device already holds the tree (unless `compact` and it holds it as
   * journal records, which the last unmount folds in); otherwise a new
   * image with the next generation, stored atomically. EIO when the device
   * refuses it (then errors= decides what happens to the filesystem).
   */
  writeback(compact = false): SysError | undefined {
    if (this.rdonly || this.device.readOnly) return undefined
    if (this.dataDirty.size === 0 && !(compact && this.device.journalBytes > 0) && this.changes(saveTree(this, () => undefined)) === undefined) return undefined
    const inodes = saveTree(this, () => "all") as Array<DiskInode>
    const image = this.imageOf(inodes, this.generation + 1)
    const problem = checkImage(image)
    if (problem !== undefined) return this.inconsistent(problem)
    try {
      this.device.store(image)
    } catch (e) {
      return this.writeFailed(e)
    }
    this.generation = image.generation
    this.markClean(inodes)
    return undefined
  }

  /** What differs between `inodes` (the tree now) and the device: a journal record's contents, or undefined. */
  private changes(inodes: ReadonlyArray<JournalInode>): { readonly changed: Array<JournalInode>; readonly removed: Array<number>; readonly keys: Map<number, string> } | undefined {
    const keys = new Map<number, string>()
    const changed: Array<JournalInode> = []
    for (const d of inodes) {
      const key = metaKey(d)
      keys.set(d.ino, key)
      if (this.committed.get(d.ino) !== key || (d.type === "file" && (d.data !== undefined || d.patch !== undefined))) changed.push(d)
    }
    const removed: Array<number> = []
    for (const ino of this.committed.keys()) if (!keys.has(ino)) removed.push(ino)
    return changed.length === 0 && removed.length === 0 ? undefined : { changed, removed, keys }
  }

  /**
   * Commit every change since the device last got the tree, as one journal
   * record (jbd2 committing the running transaction, which carries every
   * pending change, not only the caller's): the data of new files, the
   * bytes written since to others (all of a truncated one's), the
   * attributes and entries of every inode that
   * differs, the numbers of those gone (an unlinked file still open is
   * gone: the device never holds an orphan). A journal grown past its
   * image (or 1 MiB) is folded in by a full write-back instead.
   */
  commit(): SysError | undefined {
    if (this.rdonly || this.device.readOnly) return undefined
    if (this.device.journalBytes > Math.max(JOURNAL_COMPACT_BYTES, this.device.baseBytes)) return this.writeback()
    const inodes = saveTree(this, (inode) => (this.committed.has(inode.ino) ? this.dataDirty.get(inode) : "all"))
    const diff = this.changes(inodes)
    if (diff === undefined) {
      this.dataDirty.clear()
      return undefined
    }
    // the table the device will hold, data aside, must check out as a whole
    const problem = checkImage(this.imageOf(inodes.map((d) => (d.type === "file" ? { ...d, patch: undefined, data: d.data ?? "" } : d)), this.generation + 1))
    if (problem !== undefined) return this.inconsistent(problem)
    const record: JournalRecord = { from: this.generation, generation: this.generation + 1, inodes: diff.changed, removed: diff.removed }
    try {
      this.device.append(record)
    } catch (e) {
      return this.writeFailed(e)
    }
    this.generation = record.generation
    this.committed = diff.keys
    this.dataDirty.clear()
    return undefined
  }

  /**
   * A change is complete: remember which of a file's bytes changed (all
   * of them after a truncate); commit now when mounted sync, or dirsync
   * and a directory changed (IS_SYNC / IS_DIRSYNC).
   */
  override commitChange(inode: Inode, what: "data" | "attr" | "dir", pos?: number, len?: number): SysError | undefined {
    if (what === "data") {
      const was = this.dataDirty.get(inode)
      if (pos === undefined || len === undefined || was === "all") this.dataDirty.set(inode, "all")
      else this.dataDirty.set(inode, was === undefined ? { lo: pos, hi: pos + len } : { lo: Math.min(was.lo, pos), hi: Math.max(was.hi, pos + len) })
    }
    if ((this.flags & SB_SYNCHRONOUS) === 0 && (what !== "dir" || (this.flags & SB_DIRSYNC) === 0)) return undefined
    return this.commit()
  }

  /**
   * ext4_has_free_clusters(): data may use the free blocks but the 5%
   * reserved for root, which only an fsuid of root or CAP_SYS_RESOURCE may
   * take (s_resuid 0). How many of `end` bytes fit.
   */
  override chargeTo(inode: Inode, end: number): number {
    const want = Math.ceil(end / PAGE_SIZE)
    if (want <= inode.pages) return end
    const cred = this.owner.config.currentTask().cred
    const limit = cred.fsuid === GLOBAL_ROOT_UID || capable(cred, CAP_SYS_RESOURCE) ? this.maxBlocks : this.maxBlocks - this.rootReservedBlocks
    const grant = Math.max(0, Math.min(want - inode.pages, limit - this.usedBlocks))
    this.usedBlocks += grant
    inode.pages += grant
    return Math.min(end, inode.pages * PAGE_SIZE)
  }

  /** ext4 allocates a directory its first block with its inode (st_size 4096): ENOSPC when none is free. */
  override newInode(mode: number, uid: Kuid, gid: Kgid): Inode | SysError {
    const isDir = (mode & S_IFMT) === S_IFDIR
    if (isDir && this.usedBlocks >= this.maxBlocks) return sysError("ENOSPC", undefined, "no free blocks")
    const inode = super.newInode(mode, uid, gid)
    if (isDir && !("errno" in inode)) {
      inode.pages = 1
      inode.size = EXT4_BLOCK_SIZE
      this.usedBlocks++
    }
    return inode
  }

  /** A hard link costs ext4 no inode (tmpfs charges one). */
  override reserveInode(): SysError | undefined {
    return undefined
  }

  override releaseInodeSlot(): void {}

  /** The last close of an unlinked file: its blocks and inode are free again, and nothing is left to write. */
  override evictInode(inode: Inode): void {
    this.dataDirty.delete(inode)
    super.evictInode(inode)
  }

  /**
   * ext4_handle_error(): log the error, then as errors= says: nothing
   * (continue), make the superblock read-only (remount-ro), or panic.
   */
  ext4Error(message: string): void {
    const name = this.device.name
    this.owner.printk(`EXT4-fs error (device ${name}): ${message}`)
    if (this.errors === "continue") return
    if (this.errors === "panic" && this.owner.config.panic !== undefined) {
      this.owner.config.panic(`EXT4-fs (device ${name}): panic forced after error`)
      return
    }
    if (!this.rdonly) {
      this.owner.printk(`EXT4-fs (${name}): Remounting filesystem read-only`)
      this.flags |= SB_RDONLY
    }
  }

  protected override destroy(): void {
    // kill_block_super(): the final sync, then the device is let go
    this.writeback(true)
    this.owner.forget(this)
    this.xattrs.clear()
    // Superblock.destroy() would give an anonymous device number back; this one is the block device's
    this.userNs.put()
  }
}

/** Build the in-memory tree of `sb` from its image: the inodes keep their numbers. */
const loadTree = (sb: Ext4Superblock, image: DiskImage): string | undefined => {
  const ns = sb.userNs
  const byIno = new Map<number, DiskInode>()
  for (const d of image.inodes) byIno.set(d.ino, d)
  const inodes = new Map<number, Inode>()
  let maxIno = ROOT_INO
  for (const d of image.inodes) {
    const inode = new Inode(sb, d.ino, TYPE_MODE[d.type] | d.perm, makeKuid(ns, d.uid), makeKgid(ns, d.gid))
    inode.nlink = d.nlink
    ;[inode.atimeSec, inode.atimeNsec] = fromNs(d.atime)
    ;[inode.mtimeSec, inode.mtimeNsec] = fromNs(d.mtime)
    ;[inode.ctimeSec, inode.ctimeNsec] = fromNs(d.ctime)
    switch (d.type) {
      case "file": {
        const bytes = Buffer.from(d.data, "base64")
        if (bytes.length > 0) {
          sb.dataNode(inode).write(bytes, 0, bytes.length, 0)
          inode.size = bytes.length
          inode.pages = Math.ceil(bytes.length / PAGE_SIZE)
          sb.usedBlocks += inode.pages
        }
        break
      }
      case "symlink":
        inode.data = d.target
        inode.size = Buffer.byteLength(d.target)
        break
      case "chr":
      case "blk":
        inode.rdev = mkdev(d.rdev[0], d.rdev[1])
        break
      default:
        break
    }
    if (d.xattrs !== undefined && Object.keys(d.xattrs).length > 0) sb.xattrs.set(inode, { ...d.xattrs })
    // an inode each; a directory has its block, a file the blocks of its data (charged above)
    sb.usedInodes++
    if (d.type === "dir") {
      // mke2fs makes lost+found 16 KiB, so that e2fsck need not allocate while repairing
      inode.pages = d.ino === LOST_AND_FOUND_INO ? 4 : 1
      inode.size = inode.pages * EXT4_BLOCK_SIZE
      sb.usedBlocks += inode.pages
    }
    inodes.set(d.ino, inode)
    if (d.ino > maxIno) maxIno = d.ino
  }
  sb.nextIno = maxIno + 1
  const root = inodes.get(ROOT_INO)!
  sb.root = new Dentry("/", undefined, root)
  // every directory is reached once, from its one parent; anything else is a damaged tree
  const seen = new Set<number>([ROOT_INO])
  const stack: Array<Dentry> = [sb.root]
  while (stack.length > 0) {
    const dir = stack.pop()!
    const d = byIno.get(dir.inode.ino)
    if (d?.type !== "dir") continue
    for (const [name, ino] of d.entries) {
      const child = byIno.get(ino)!
      if (child.type === "dir") {
        if (seen.has(ino)) return `directory ${ino} is linked more than once`
        seen.add(ino)
      }
      if (dir.lookup(name) !== undefined) return `directory ${d.ino}: "${name}" appears twice`
      const dentry = new Dentry(name, dir, inodes.get(ino)!)
      dir.addChild(dentry)
      if (child.type === "dir") stack.push(dentry)
    }
  }
  for (const d of image.inodes) if (d.type === "dir" && !seen.has(d.ino)) return `directory ${d.ino} is not reachable from the root`
  return undefined
}

/** Which of a file's bytes changed: those in [lo, hi), or all. */
type DirtyData = { readonly lo: number; readonly hi: number } | "all"

/** An inode's attributes as a string to compare, its data left out (dataDirty tracks that). */
const metaKey = (d: JournalInode): string => JSON.stringify(d.type === "file" ? { ...d, data: undefined, patch: undefined } : d)

/**
 * The inode table of `sb`'s tree as it is now, every name reachable from
 * its root (an unlinked file still open is an orphan, never written). A
 * file's data is read only as `dataOf` says: all of it, a patch of the
 * bytes in a range, or none.
 */
const saveTree = (sb: Ext4Superblock, dataOf: (inode: Inode) => DirtyData | undefined): Array<JournalInode> => {
  const ns = sb.userNs
  const out: Array<JournalInode> = []
  const done = new Set<Inode>()
  const visit = (inode: Inode, entries: ReadonlyArray<readonly [string, number]> | undefined): void => {
    const base = {
      ino: inode.ino,
      perm: inode.mode & 0o7777,
      uid: fromKuidMunged(ns, inode.uid),
      gid: fromKgidMunged(ns, inode.gid),
      nlink: inode.nlink,
      atime: nsString(inode.atimeSec, inode.atimeNsec),
      mtime: nsString(inode.mtimeSec, inode.mtimeNsec),
      ctime: nsString(inode.ctimeSec, inode.ctimeNsec),
      ...(sb.xattrs.has(inode) ? { xattrs: { ...sb.xattrs.get(inode)! } } : {})
    }
    switch (inode.mode & S_IFMT) {
      case S_IFDIR:
        out.push({ ...base, type: "dir", entries: entries ?? [] })
        return
      case S_IFREG: {
        const dirty = dataOf(inode)
        if (dirty === undefined) {
          out.push({ ...base, type: "file" })
          return
        }
        const lo = dirty === "all" ? 0 : Math.min(dirty.lo, inode.size)
        const hi = dirty === "all" ? inode.size : Math.min(dirty.hi, inode.size)
        const buf = Buffer.alloc(hi - lo)
        if (inode.data !== undefined && hi > lo) (inode.data as DataNode).read(buf, 0, hi - lo, lo)
        const bytes = buf.toString("base64")
        out.push(dirty === "all" ? { ...base, type: "file", data: bytes } : { ...base, type: "file", patch: { size: inode.size, at: lo, bytes } })
        return
      }
      case S_IFLNK:
        out.push({ ...base, type: "symlink", target: typeof inode.data === "string" ? inode.data : "" })
        return
      case S_IFCHR:
      case S_IFBLK:
        out.push({ ...base, type: (inode.mode & S_IFMT) === S_IFCHR ? "chr" : "blk", rdev: [devMajor(inode.rdev), devMinor(inode.rdev)] })
        return
      case S_IFIFO:
        out.push({ ...base, type: "fifo" })
        return
      default:
        out.push({ ...base, type: "sock" })
    }
  }
  // iteratively, so a deep tree cannot overflow the stack
  const stack: Array<Dentry> = [sb.root]
  done.add(sb.root.inode)
  while (stack.length > 0) {
    const dir = stack.pop()!
    const entries: Array<readonly [string, number]> = []
    if (dir.children !== undefined) {
      for (const child of dir.children.values()) {
        if (child.unhashed) continue
        entries.push([child.name, child.inode.ino])
        if (done.has(child.inode)) continue
        done.add(child.inode)
        if (child.inode.isDir) stack.push(child)
        else visit(child.inode, undefined)
      }
    }
    visit(dir.inode, entries)
  }
  return out
}

const typeOf = (sb: Superblock): Ext4Superblock | undefined => (sb instanceof Ext4Superblock ? sb : undefined)

/**
 * The ext4 of one simulated kernel: its filesystem type (register it with
 * `vfs.registerFilesystem(ext4.type)`, which `registerExt4` does), the
 * block devices it can mount (by device number), the live superblock of
 * each, and sync(2) over all of them.
 */
export class Ext4 {
  readonly type: FsType
  /** The last kernel messages of this ext4 ("EXT4-fs (sda3): ..."), oldest first. */
  readonly log: Array<string> = []
  private readonly devices = new Map<number, BlockDevice>()
  private readonly supers = new Map<BlockDevice, Ext4Superblock>()

  constructor(
    readonly vfs: Vfs,
    readonly config: Ext4Config
  ) {
    this.type = makeType(this)
  }

  /** Log a kernel message: kept in `log` (the last LOG_LINES, like dmesg's ring) and passed to the configured printk. */
  printk(line: string): void {
    if (this.log.length >= LOG_LINES) this.log.shift()
    this.log.push(line)
    this.config.printk?.(line)
  }

  /** Make a block device known (add_disk()): EEXIST when its device number is taken. */
  addDevice(device: BlockDevice): SysError | undefined {
    const devno = mkdev(device.major, device.minor)
    if (this.devices.has(devno)) return sysError("EEXIST", undefined, `device ${device.major}:${device.minor} already exists`)
    this.devices.set(devno, device)
    return undefined
  }

  /** Forget a device (del_gendisk()): EBUSY while a superblock of it is alive, ENXIO if it was not added. */
  removeDevice(device: BlockDevice): SysError | undefined {
    const devno = mkdev(device.major, device.minor)
    if (this.devices.get(devno) !== device) return sysError("ENXIO", undefined, `no device ${device.major}:${device.minor}`)
    if (this.supers.has(device)) return sysError("EBUSY", undefined, `${device.name} is mounted`)
    this.devices.delete(devno)
    return undefined
  }

  /** The device with this number (encoded as mkdev()), if one was added. */
  device(devno: number): BlockDevice | undefined {
    return this.devices.get(devno)
  }

  /** The live superblock of `device`, if it is mounted (or held by a context). */
  superblockOf(device: BlockDevice): Ext4Superblock | undefined {
    return this.supers.get(device)
  }

  /** @internal a superblock was killed */
  forget(sb: Ext4Superblock): void {
    if (this.supers.get(sb.device) === sb) this.supers.delete(sb.device)
  }

  /** @internal */
  remember(sb: Ext4Superblock): void {
    this.supers.set(sb.device, sb)
  }

  /**
   * sync(2) (ksys_sync(): every superblock): write back every live ext4
   * filesystem. sync(2) itself never fails; the first error is returned
   * for callers that care (the kernel log has each).
   */
  sync(): SysError | undefined {
    let first: SysError | undefined
    for (const sb of [...this.supers.values()]) {
      const err = sb.writeback()
      first ??= err
    }
    return first
  }
}

/** Each Vfs's ext4, for the sync(2) of a kernel. */
const ext4ByVfs = new WeakMap<Vfs, Ext4>()

/**
 * Make the ext4 of a kernel and register its type with `vfs` (boot calls
 * this once, then `addDevice` for each block device, e.g. from
 * `attachDisks`).
 */
export const registerExt4 = (vfs: Vfs, config: Ext4Config): Ext4 => {
  // once per kernel: a second call gets the first one's (its configuration stays)
  const existing = ext4ByVfs.get(vfs)
  if (existing !== undefined) return existing
  const ext4 = new Ext4(vfs, config)
  vfs.registerFilesystem(ext4.type)
  ext4ByVfs.set(vfs, ext4)
  return ext4
}

/** The ext4 registered with `vfs`, if any. */
export const ext4Of = (vfs: Vfs): Ext4 | undefined => ext4ByVfs.get(vfs)

/**
 * sync(2): write back every filesystem of the kernel whose VFS is `vfs`
 * (only ext4 has anything to write). Always succeeds, as sync(2) does.
 */
export const ksysSync = (vfs: Vfs): void => {
  ext4ByVfs.get(vfs)?.sync()
}

/**
 * sync_filesystem() for syncfs(2): write back `sb` if it is an ext4
 * superblock (nothing to do for memory filesystems). EIO when the
 * write-back failed.
 */
export const syncFilesystem = (sb: Superblock): SysError | undefined => typeOf(sb)?.writeback()

/**
 * vfs_fsync() for fsync(2) and fdatasync(2): EBADF for an O_PATH file,
 * EINVAL for a file without an fsync operation (pipes, sockets, devices,
 * anonymous-inode and namespace files); a file or directory on ext4
 * writes back its filesystem (a journal commit carries every pending
 * change, not just this file's), other filesystems have nothing to do.
 */
export const vfsFsync = (file: File): SysError | undefined => {
  if ((file.flags & O_PATH) !== 0) return sysError("EBADF", "fsync")
  const t = file.inode.mode & S_IFMT
  if (file.fop !== undefined || (t !== S_IFREG && t !== S_IFDIR && t !== S_IFLNK)) return sysError("EINVAL", "fsync")
  const err = syncFilesystem(file.inode.sb)
  return err === undefined ? undefined : sysError(err.errno, "fsync", err.detail)
}

/** The extended attributes of an ext4 inode (user_xattr), values as bytes; undefined for other filesystems. */
export const ext4Getxattrs = (inode: Inode): ReadonlyMap<string, Uint8Array> | undefined => {
  const sb = typeOf(inode.sb)
  if (sb === undefined) return undefined
  const x = sb.xattrs.get(inode) ?? {}
  return new Map(Object.entries(x).map(([k, v]) => [k, new Uint8Array(Buffer.from(v, "base64"))]))
}

/**
 * Set (or with `value` undefined remove) an extended attribute of an ext4
 * inode: EROFS on a read-only superblock, ERANGE for a name over 255
 * bytes, ENODATA removing one that is not there, EOPNOTSUPP on other
 * filesystems; committed at once on a sync mount.
 */
export const ext4Setxattr = (inode: Inode, name: string, value: Uint8Array | undefined): SysError | undefined => {
  const sb = typeOf(inode.sb)
  if (sb === undefined) return sysError("EOPNOTSUPP", "setxattr")
  if (sb.rdonly) return sysError("EROFS", "setxattr")
  if (name === "" || Buffer.byteLength(name) > 255) return sysError("ERANGE", "setxattr")
  const x = { ...(sb.xattrs.get(inode) ?? {}) }
  if (value === undefined) {
    if (!(name in x)) return sysError("ENODATA", "removexattr")
    delete x[name]
  } else x[name] = Buffer.from(value).toString("base64")
  if (Object.keys(x).length === 0) sb.xattrs.delete(inode)
  else sb.xattrs.set(inode, x)
  inode.touchCtime()
  return sb.commitChange(inode, "attr")
}

const badValue = (fc: FsContext, key: string): SysError => fc.invalf(`Bad value for '${key}'`)

/** ext4_parse_param(), for the options modelled; anything else is the VFS's (or "Unknown parameter"). */
const parseParam = (fc: FsContext, param: FsParameter): SysError | undefined | typeof ENOPARAM => {
  const opts = fc.fsPrivate as Ext4Options
  switch (param.key) {
    case "errors": {
      if (param.type !== "string" || !(ERRORS as ReadonlyArray<string>).includes(param.string)) return badValue(fc, param.key)
      opts.errors = param.string as Ext4Errors
      return undefined
    }
    case "user_xattr":
      // fsparam_flag: a value is refused; xattrs are always kept (the default mount option mke2fs sets)
      if (param.type !== "flag") return fc.invalf(`Unexpected value for '${param.key}'`)
      opts.userXattr = true
      return undefined
    default:
      return ENOPARAM
  }
}

/**
 * lookup_bdev() + the device open of get_tree_bdev(): the device number of
 * the block device node `source` names, as the calling task resolves it.
 * The errors and messages are Linux's: the walk's own (ENOENT ...),
 * ENOTBLK for anything but a block device, EACCES through a nodev mount
 * ("Can't lookup blockdev"), ENXIO when no device has that number
 * ("Can't open blockdev").
 */
const lookupBdev = (ext4: Ext4, fc: FsContext, source: string): BlockDevice | SysError => {
  const cantLookup = (err: SysError): SysError => {
    fc.logMessage(`e ${source}: Can't lookup blockdev`)
    return err
  }
  const nd = filenameLookup(ext4.config.currentTask(), AT_FDCWD, source, LOOKUP_FOLLOW)
  if ("errno" in nd) return cantLookup(nd)
  const inode = nd.dentry.inode
  if ((inode.mode & S_IFMT) !== S_IFBLK) return cantLookup(sysError("ENOTBLK", "mount"))
  if (!mayOpenDev(nd.mnt)) return cantLookup(sysError("EACCES", "mount"))
  const device = ext4.device(inode.rdev)
  if (device === undefined) {
    fc.logMessage(`e ${source}: Can't open blockdev`)
    return sysError("ENXIO", "mount")
  }
  return device
}

/**
 * get_tree_bdev() + ext4_fill_super(): the superblock of the device
 * `source` names. A device already mounted shares its superblock (EBUSY
 * when the read-only state would change, and for CREATE_EXCL); a new one is read from the device: EACCES for a
 * read-write mount of a read-only device, EINVAL when it holds no
 * filesystem, EUCLEAN when its image is damaged (with the reason in the
 * context's log and the kernel log), EIO when the host cannot read it.
 */
const getTree = (ext4: Ext4, type: FsType, fc: FsContext): SysError | undefined => {
  const opts = fc.fsPrivate as Ext4Options
  if (fc.source === undefined) return fc.invalfVfs("No source specified")
  const device = lookupBdev(ext4, fc, fc.source)
  if ("errno" in device) return device
  const existing = ext4.superblockOf(device)
  if (existing !== undefined && !existing.freed) {
    if (fc.exclusive) return sysError("EBUSY", "mount")
    if (((fc.sbFlags ^ existing.flags) & SB_RDONLY) !== 0) {
      fc.logMessage(`w ${device.name}: Can't mount, would change RO state`)
      return sysError("EBUSY", "mount")
    }
    fc.setSuperblock(existing.get())
    return undefined
  }
  if ((fc.sbFlags & SB_RDONLY) === 0 && device.readOnly) return sysError("EACCES", "mount")
  let image: DiskImage | CorruptImage
  try {
    image = device.load()
  } catch (e) {
    const why = e instanceof Error ? e.message : String(e)
    ext4.printk(`EXT4-fs (${device.name}): unable to read superblock: ${why}`)
    fc.logMessage(`e ext4: ${device.name}: unable to read superblock`)
    return sysError("EIO", "mount", why)
  }
  if (image instanceof CorruptImage) return refuse(ext4, fc, device, image)
  // not FS_USERNS_MOUNT: the superblock belongs to the initial user namespace (on-disk ids are its ids)
  const sb = new Ext4Superblock(ext4, type, fc.userNs.initNs, fc.sbFlags, device, image, opts.errors ?? DEFAULT_ERRORS)
  const problem = loadTree(sb, image)
  if (problem !== undefined) {
    // read-only, so the release below never writes the half-built tree back
    sb.flags |= SB_RDONLY
    sb.put()
    return refuse(ext4, fc, device, new CorruptImage(problem))
  }
  sb.markClean(saveTree(sb, () => undefined))
  ext4.remember(sb)
  fc.setSuperblock(sb)
  return undefined
}

/** A device whose image cannot be used: EINVAL with no filesystem on it, EUCLEAN for a damaged one. */
const refuse = (ext4: Ext4, fc: FsContext, device: BlockDevice, bad: CorruptImage): SysError => {
  if (bad.noFilesystem) {
    ext4.printk(`EXT4-fs (${device.name}): VFS: Can't find ext4 filesystem`)
    return fc.invalf("VFS: Can't find ext4 filesystem")
  }
  ext4.printk(`EXT4-fs (${device.name}): corrupted filesystem: ${bad.message}; run e2fsck`)
  fc.logMessage(`e ext4: ${device.name}: corrupted filesystem: ${bad.message}`)
  return sysError("EUCLEAN", "mount", bad.message)
}

/**
 * ext4_reconfigure(): errors= may change; going read-only first writes the
 * tree back (sync_filesystem()), going read-write on a read-only device is
 * EACCES.
 */
const reconfigure = (fc: FsContext, sb: Superblock): SysError | undefined => {
  const ext = typeOf(sb)
  if (ext === undefined) return sysError("EINVAL")
  const opts = fc.fsPrivate as Ext4Options
  const changesRo = (fc.sbFlagsMask & SB_RDONLY) !== 0
  if (changesRo && (fc.sbFlags & SB_RDONLY) === 0 && sb.rdonly && ext.device.readOnly) return sysError("EACCES", "mount")
  if (changesRo && (fc.sbFlags & SB_RDONLY) !== 0 && !sb.rdonly) {
    const err = ext.writeback()
    if (err !== undefined) return err
  }
  if (opts.errors !== undefined) ext.errors = opts.errors
  return undefined
}

/**
 * ext4_statfs(): f_blocks is the size mkfs gave less its metadata
 * (ext4Overhead), f_bfree what directories and file data leave of it,
 * f_bavail that less the 5% reserved for root and the 2% kept for
 * metadata; f_files is s_inodes_count, f_ffree what the table and the
 * reserved inodes 1..10 leave; f_fsid folds the UUID.
 */
const statfs = (sb: Superblock): Omit<Kstatfs, "flags"> => {
  const ext = sb as Ext4Superblock
  const blocks = ext.maxBlocks + ext.resvClusters
  const bfree = Math.max(0, blocks - ext.usedBlocks)
  const hex = ext.uuid.replace(/[^0-9a-fA-F]/g, "").padEnd(32, "0")
  const word = (i: number): number => parseInt(hex.slice(i * 8, i * 8 + 8), 16) >>> 0
  return {
    type: EXT4_SUPER_MAGIC,
    bsize: PAGE_SIZE,
    blocks,
    bfree,
    bavail: Math.max(0, bfree - ext.rootReservedBlocks - ext.resvClusters),
    files: ext.inodesCount,
    ffree: Math.max(0, ext.maxInodes - ext.usedInodes),
    fsid: [(word(0) ^ word(2)) >>> 0, (word(1) ^ word(3)) >>> 0],
    namelen: NAME_MAX,
    frsize: PAGE_SIZE
  }
}

const makeType = (ext4: Ext4): FsType => {
  const type: FsType = {
    name: "ext4",
    initOrder: FS_INIT_ORDER.ext4,
    fsFlags: FS_REQUIRES_DEV,
    requiresDev: true,
    magic: EXT4_SUPER_MAGIC,
    initFsContext(fc) {
      fc.fsPrivate = { errors: undefined, userXattr: false } satisfies Ext4Options
    },
    parseParam,
    getTree: (fc) => getTree(ext4, type, fc),
    reconfigure,
    // _ext4_show_options(): only what differs from the superblock's defaults (user_xattr is one of them)
    showOptions(sb) {
      const ext = typeOf(sb)
      return ext === undefined || ext.errors === DEFAULT_ERRORS ? "" : `,errors=${ext.errors}`
    },
    statfs
  }
  return type
}
