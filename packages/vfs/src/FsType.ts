import type { SysError } from "@simkernel/abi"
import type { Dentry } from "./Dentry.js"
import type { FsContext, FsParameter } from "./FsContext.js"
import type { Superblock } from "./Superblock.js"

/** Returned by parseParam for a key the filesystem does not know (-ENOPARAM). */
export const ENOPARAM: unique symbol = Symbol("ENOPARAM")
export type ParseResult = SysError | undefined | typeof ENOPARAM

/**
 * initOrder values of the types simkernel has, in the order Linux 6.18
 * registers them: tmpfs (shmem_init()) and proc (proc_root_init()) from
 * start_kernel(), ramfs at fs_initcall, ext4 at module_init, mqueue at
 * device_initcall after fs/ in link order.
 */
export const FS_INIT_ORDER = { tmpfs: 10, proc: 20, ramfs: 30, ext4: 40, mqueue: 50 } as const

/** struct kstatfs, as statfs(2) returns it (f_flags filled in by the VFS). */
export interface Kstatfs {
  readonly type: number
  readonly bsize: number
  readonly blocks: number
  readonly bfree: number
  readonly bavail: number
  readonly files: number
  readonly ffree: number
  readonly fsid: readonly [number, number]
  readonly namelen: number
  readonly frsize: number
  readonly flags: number
}

/**
 * A filesystem type, as include/linux/fs.h struct file_system_type joined
 * with its fs_context_operations and the super_operations a superblock of
 * it uses. Everything is driven through an FsContext, so mount(2) (which
 * parses a comma separated option string into parameters) and the fd-based
 * fsopen/fsconfig API share one path.
 */
export interface FsType {
  readonly name: string
  /** FS_USERNS_MOUNT and friends. */
  readonly fsFlags: number
  /** FS_REQUIRES_DEV: "nodev" is not shown in /proc/filesystems. */
  readonly requiresDev: boolean
  /** statfs f_type. */
  readonly magic: number
  /**
   * Its place in the order Linux registers filesystems at boot (the
   * initcall level, then link order), which /proc/filesystems lists: a
   * type registered later but lower here is listed earlier. Types without
   * one follow, in registration order. See FS_INIT_ORDER.
   */
  readonly initOrder?: number
  /** ->init_fs_context: set up fc.fsPrivate with defaults. */
  initFsContext(fc: FsContext): void
  /** ->parse_param: consume one parameter, or ENOPARAM when the key is not the type's. */
  parseParam(fc: FsContext, param: FsParameter): ParseResult
  /** ->get_tree: make (or find) the superblock and set fc.root. */
  getTree(fc: FsContext): SysError | undefined
  /** ->reconfigure: apply fc's parameters to a live superblock (flags are the VFS's job). */
  reconfigure(fc: FsContext, sb: Superblock): SysError | undefined
  /** ->show_options: the filesystem's part of the superblock options, each with a leading comma. */
  showOptions(sb: Superblock): string
  /** ->statfs, without f_flags. */
  statfs(sb: Superblock): Omit<Kstatfs, "flags">
  /**
   * ->d_dname: the name a pseudo file's dentry shows in d_path() and as a
   * mount root in mountinfo ("net:[4026531840]" for nsfs), for a
   * filesystem whose files have no path.
   */
  readonly dname?: (dentry: Dentry) => string
}
