import type { CharDeviceOps } from "./devices.js"
import { LiveObjects } from "@simkernel/kref"
import type { FsType } from "./FsType.js"
import type { Mount } from "./Mount.js"
import { SYSCTL_MOUNT_MAX } from "./constants.js"
import { Ida } from "./Ida.js"
import { mqueueType } from "./mqueue.js"
import { ramfsType } from "./ramfs.js"
import { shmemType } from "./shmem.js"
import type { SysError } from "@simkernel/abi"
import type { FsContext } from "./FsContext.js"
import type { FsStruct } from "./FsStruct.js"
import type { Path } from "./Path.js"
import type { Superblock } from "./Superblock.js"
import type { VfsTask } from "./Task.js"

/** The wall clock inode timestamps come from; a simulated one by default, so tests are deterministic. */
export interface VfsClock {
  readonly sec: number
  readonly nsec: number
}

/** A clock that moves only when told to (1,700,000,000 s after the epoch at start). */
export class SimClock implements VfsClock {
  sec = 1_700_000_000
  nsec = 0
  advance(ns: number): void {
    const total = this.nsec + ns
    this.sec += Math.floor(total / 1e9)
    this.nsec = total % 1e9
  }
}

/**
 * The mount API's calls that mainline lacks, which the container package
 * plugs in (the seed's patches 07 and 09). Unset, the kernel answers as
 * mainline does: FSCONFIG_SET_CONTAINER is an unknown command
 * (EOPNOTSUPP), MOVE_MOUNT_T_CONTAINER_ROOT an unknown flag (EINVAL).
 */
export interface MountApiHooks {
  /** fsconfig(fd, FSCONFIG_SET_CONTAINER, NULL, NULL, cfd) on a context still taking parameters. */
  readonly fsconfigSetContainer: (task: VfsTask, fc: FsContext, cfd: number) => SysError | undefined
  /** move_mount(from..., cfd, toPath, flags | MOVE_MOUNT_T_CONTAINER_ROOT), `from` already resolved. */
  readonly moveMountContainerRoot: (task: VfsTask, from: Path, cfd: number, toPath: string | null, flags: number) => SysError | undefined
}

export interface VfsOptions {
  readonly registry?: LiveObjects
  readonly clock?: VfsClock
  /** totalram_pages() in bytes: tmpfs's default size is half of it, nr_inodes as many as lowmem pages / 2. */
  readonly totalRam?: number
}

/**
 * The state Linux keeps in file-scope statics of fs/namespace.c and
 * fs/super.c: the mount id and peer group id allocators (mnt_id_ida,
 * mnt_group_ida), the anonymous device allocator (unnamed_dev_ida), the
 * registered filesystem types (file_systems), and the clock. One per
 * simulated kernel.
 */
export class Vfs {
  readonly registry: LiveObjects
  readonly clock: VfsClock
  readonly totalRam: number
  /** mnt_id_ida: ids from 1, lowest free. */
  readonly mntIds = new Ida(1, 0x7fffffff)
  /** mnt_group_ida: peer group ids from 1, lowest free. */
  readonly groupIds = new Ida(1, 0x7fffffff)
  /** unnamed_dev_ida: minors of major 0 from 1 (get_anon_bdev). */
  readonly anonDevs = new Ida(1, (1 << 20) - 1)
  private readonly fsTypes = new Map<string, FsType>()
  /**
   * Character device drivers the kernel registers (register_chrdev): a
   * console, say. Looked up by rdev (mkdev()) before the built-in memory
   * devices.
   */
  readonly charDevices = new Map<number, CharDeviceOps>()
  /** The container package's part in the mount API, if loaded. */
  mountApiHooks: MountApiHooks | undefined = undefined
  /** Every live fs_struct: pivot_root(2) moves those rooted at the old root (chroot_fs_refs()). */
  readonly fsStructs = new Set<FsStruct>()
  /**
   * Other holders of a root a task starts from (a container's root): pivot_root
   * calls each with the old root and the new one after moving the fs_structs.
   */
  readonly pivotRootHooks = new Set<(oldRoot: Path, newRoot: Path) => void>()
  /** The mqueue superblock of tasks that carry no IPC namespace (one implicit namespace), held until shutdown(). */
  mqueueSb: Superblock | undefined = undefined
  /** Kernel-internal mounts (nsfs, anon_inodefs), each holding one reference until shutdown(). */
  readonly internalMounts = new Map<string, Mount>()
  /** The fs.mount-max sysctl: mounts one namespace may hold (ENOSPC beyond). */
  mountMax = SYSCTL_MOUNT_MAX
  /** Mount namespace sequence numbers (mnt_ns_seq). */
  nsSeq = 1
  /** mnt_id_unique: a 64-bit id never reused, giving mounts their listing order. */
  nextMntUnique = 1
  private lastIno = 0

  constructor(options: VfsOptions = {}) {
    this.registry = options.registry ?? LiveObjects.default
    this.clock = options.clock ?? new SimClock()
    this.totalRam = options.totalRam ?? 8 * 1024 * 1024 * 1024
    this.registerFilesystem(shmemType)
    this.registerFilesystem(ramfsType)
    this.registerFilesystem(mqueueType)
  }

  /**
   * register_filesystem(): how later packages add types (proc, a disk-backed
   * "ext4"); a second type of the same name replaces nothing and returns false.
   */
  registerFilesystem(type: FsType): boolean {
    if (this.fsTypes.has(type.name)) return false
    this.fsTypes.set(type.name, type)
    return true
  }

  /** get_next_ino(): inode numbers for filesystems without their own (ramfs, nsfs files). */
  getNextIno(): number {
    this.lastIno = (this.lastIno + 1) >>> 0
    if (this.lastIno === 0) this.lastIno = 1
    return this.lastIno
  }

  /** get_fs_type(). */
  getFsType(name: string): FsType | undefined {
    return this.fsTypes.get(name)
  }

  /** Drop the kernel-internal mounts (kern_unmount()): the last step of a kernel's teardown. */
  shutdown(): void {
    this.mqueueSb?.put()
    this.mqueueSb = undefined
    for (const m of this.internalMounts.values()) m.put()
    this.internalMounts.clear()
  }

  /** /proc/filesystems: "nodev\t<name>" per type, in Linux's boot registration order (FsType.initOrder). */
  procFilesystems(): string {
    // Array.prototype.sort is stable: equal ranks keep registration order
    const types = [...this.fsTypes.values()].sort((a, b) => (a.initOrder ?? Number.MAX_SAFE_INTEGER) - (b.initOrder ?? Number.MAX_SAFE_INTEGER))
    let out = ""
    for (const t of types) out += `${t.requiresDev ? "" : "nodev"}\t${t.name}\n`
    return out
  }
}
