import {
  AT_FDCWD,
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
import { fromKgidMunged, fromKuidMunged, makeKgid, makeKuid, type UserNamespace } from "@simkernel/cred"
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
  Inode,
  type Kstatfs,
  LOOKUP_FOLLOW,
  mayOpenDev,
  mkdev,
  PAGE_SIZE,
  SB_RDONLY,
  Superblock,
  type Vfs,
  type VfsTask
} from "@simkernel/vfs"
import type { BlockDevice } from "./BlockDevice.js"
import { checkImage, CorruptImage, type DiskImage, type DiskInode, IMAGE_VERSION, ROOT_INO } from "./image.js"

/**
 * The disk-backed filesystem type "ext4" (fs/ext4/super.c as far as this
 * simulation models it): a superblock per block device, whose tree is read
 * from the device's image at mount and written back to it, whole and
 * atomically, by sync(2), syncfs(2), fsync(2), a remount read-only and the
 * release of its last mount (kernel shutdown included). What was written
 * since the last write-back lives only in memory, like the page cache of a
 * machine that loses power.
 */

/** EXT4_SUPER_MAGIC (include/uapi/linux/magic.h); not in @simkernel/abi yet. */
export const EXT4_SUPER_MAGIC = 0xef53

/** FS_REQUIRES_DEV (include/linux/fs.h). */
const FS_REQUIRES_DEV = 1

/** The nominal size of a simulated disk: 1 GiB of 4 KiB blocks, one inode per 16 KiB (mke2fs's default ratio). */
export const EXT4_BLOCKS = 262_144
export const EXT4_INODES = 65_536
/** mke2fs reserves 5% of the blocks for root (-m 5). */
const RESERVED_BLOCKS = Math.floor(EXT4_BLOCKS * 0.05)

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
  /** The inode table as last read or written, to skip a write-back when nothing changed. */
  private lastTable: string | undefined = undefined

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
    this.maxBlocks = EXT4_BLOCKS
    this.maxInodes = EXT4_INODES
  }

  /** s_dev as mountinfo prints it: the block device's major:minor. */
  override get devString(): string {
    return `${devMajor(this.dev)}:${devMinor(this.dev)}`
  }

  /** Remember the table the image holds now (after a load or a write-back). */
  markClean(table: string): void {
    this.lastTable = table
  }

  /**
   * Write the tree back to the device (ext4_sync_fs() committing
   * everything): nothing on a read-only superblock or device, nothing when
   * the tree is what the image already holds; otherwise a new image with
   * the next generation, stored atomically. EIO when the device refuses it
   * (then errors= decides what happens to the filesystem).
   */
  writeback(): SysError | undefined {
    if (this.rdonly || this.device.readOnly) return undefined
    const inodes = saveTree(this)
    const table = JSON.stringify(inodes)
    if (table === this.lastTable) return undefined
    const image: DiskImage = { version: IMAGE_VERSION, label: this.label, uuid: this.uuid, generation: this.generation + 1, inodes }
    const problem = checkImage(image)
    if (problem !== undefined) {
      // never write a table that would not read back
      this.ext4Error(`write-back refused, inconsistent tree: ${problem}`)
      return sysError("EUCLEAN", undefined, problem)
    }
    try {
      this.device.store(image)
    } catch (e) {
      const why = e instanceof Error ? e.message : String(e)
      this.ext4Error(`write-back failed: ${why}`)
      return sysError("EIO", undefined, why)
    }
    this.generation = image.generation
    this.lastTable = table
    return undefined
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
    this.writeback()
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
          sb.chargeTo(inode, bytes.length)
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
    // tmpfs-style accounting: a slot per inode, and one per extra name of a non-directory
    sb.usedInodes += d.type === "dir" ? 1 : d.nlink
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

/** The inode table of `sb`'s tree as it is now, every name reachable from its root (unlinked inodes are not kept). */
const saveTree = (sb: Ext4Superblock): Array<DiskInode> => {
  const ns = sb.userNs
  const out: Array<DiskInode> = []
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
        let data = ""
        if (inode.data !== undefined && inode.size > 0) {
          const buf = Buffer.alloc(inode.size)
          const n = (inode.data as DataNode).read(buf, 0, inode.size, 0)
          data = buf.subarray(0, n).toString("base64")
        }
        out.push({ ...base, type: "file", data })
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
 * filesystems.
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
  return undefined
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
  sb.markClean(JSON.stringify(saveTree(sb)))
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

/** struct statfs of a 1 GiB disk: what the tree uses, the 5% reserved for root, the UUID as f_fsid (ext4_statfs()). */
const statfs = (sb: Superblock): Omit<Kstatfs, "flags"> => {
  const ext = typeOf(sb)
  const used = sb.usedBlocks
  const bfree = Math.max(0, sb.maxBlocks - used)
  const hex = (ext?.uuid ?? "").replace(/[^0-9a-fA-F]/g, "").padEnd(32, "0")
  const word = (i: number): number => parseInt(hex.slice(i * 8, i * 8 + 8), 16) >>> 0
  return {
    type: EXT4_SUPER_MAGIC,
    bsize: PAGE_SIZE,
    blocks: sb.maxBlocks,
    bfree,
    bavail: Math.max(0, bfree - RESERVED_BLOCKS),
    files: sb.maxInodes,
    ffree: Math.max(0, sb.maxInodes - sb.usedInodes),
    fsid: [(word(0) ^ word(2)) >>> 0, (word(1) ^ word(3)) >>> 0],
    namelen: NAME_MAX,
    frsize: PAGE_SIZE
  }
}

const makeType = (ext4: Ext4): FsType => {
  const type: FsType = {
    name: "ext4",
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
