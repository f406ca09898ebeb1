import { sysError, type SysError } from "@simkernel/abi"
import type { Cred, NsCommon, UserNamespace } from "@simkernel/cred"
import type { IpcNamespace } from "@simkernel/nsproxy"
import { Refcounted } from "@simkernel/kref"
import { SB_DIRSYNC, SB_LAZYTIME, SB_MANDLOCK, SB_RDONLY, SB_SYNCHRONOUS } from "./constants.js"
import type { Dentry } from "./Dentry.js"
import { ENOPARAM, type FsType } from "./FsType.js"
import type { Superblock } from "./Superblock.js"
import type { Vfs } from "./Vfs.js"

/** enum fs_value_type: how a parameter's value was given (fsconfig's SET_* commands). */
export type FsParameter =
  | { readonly key: string; readonly type: "flag" }
  | { readonly key: string; readonly type: "string"; readonly string: string }
  | { readonly key: string; readonly type: "blob"; readonly blob: Uint8Array }
  | { readonly key: string; readonly type: "path"; readonly string: string; readonly dirfd: number }
  | { readonly key: string; readonly type: "path_empty"; readonly string: string; readonly dirfd: number }
  | { readonly key: string; readonly type: "fd"; readonly fd: number }

/** The fs_context log holds this many messages; older ones are dropped (struct fc_log). */
export const FC_LOG_SIZE = 8

/** enum fs_context_purpose. */
export type FsContextPurpose = "mount" | "submount" | "reconfigure"

/**
 * enum fs_context_phase: where a context is in its life. mount(2) walks a
 * context through create-params -> creating -> awaiting-mount in one
 * call; fsopen/fsconfig/fsmount/fspick drive the same phases step by step,
 * and a failed CMD_CREATE or CMD_RECONFIGURE leaves it "failed".
 */
export type FsContextPhase =
  | "create-params"
  | "creating"
  | "awaiting-mount"
  | "awaiting-reconf"
  | "reconf-params"
  | "reconfiguring"
  | "failed"

/**
 * A filesystem context, as include/linux/fs_context.h struct fs_context:
 * what is being built (a new superblock) or changed (a live one), the
 * parameters parsed so far, and the log of messages fsconfig's fd reads
 * back. It holds the creator's Cred and the user namespace the superblock
 * will belong to, and after get_tree or for a reconfiguration the
 * superblock (`root` is that superblock's root dentry).
 */
export class FsContext extends Refcounted {
  readonly kind = "FsContext"
  readonly fsType: FsType
  purpose: FsContextPurpose
  readonly cred: Cred
  /** fc->user_ns: who will own the superblock (a type may change it in initFsContext, see setUserNs). */
  userNs: UserNamespace
  /** The creator's IPC namespace (mqueue keys its superblock on it). */
  readonly ipcNs: IpcNamespace | undefined
  /** FSCONFIG_CMD_CREATE_EXCL: refuse to reuse an existing superblock. */
  exclusive = false
  source: string | undefined = undefined
  sbFlags: number
  sbFlagsMask: number
  /** The type's parsed options (shmem_options, ramfs_mount_opts). */
  fsPrivate: unknown = undefined
  /** The superblock once get_tree succeeded, or the one being reconfigured (a held reference). */
  sb: Superblock | undefined = undefined
  /** mount(2)'s old API (MS_REMOUNT data) as opposed to fsconfig. */
  oldapi = false
  phase: FsContextPhase
  /** Messages for the context's fd, oldest first, at most FC_LOG_SIZE: "e tmpfs: Bad value for 'size'". */
  readonly log: Array<string> = []
  /** Parameters fsconfig has set successfully (FSCONFIG_SET_CONTAINER must come before any). */
  paramsSet = 0
  /**
   * Namespaces given to the context by another object (the container
   * package's FSCONFIG_SET_CONTAINER), each held: the PID namespace a procfs
   * superblock shows instead of the creator's, and the network namespace
   * the superblock belongs to. Undefined: the creator's.
   */
  pidNs: NsCommon | undefined = undefined
  netNs: NsCommon | undefined = undefined
  /** The object that gave them (held while the context lives), for a filesystem that wants more of it. */
  nsSource: Refcounted | undefined = undefined

  constructor(
    readonly vfs: Vfs,
    fsType: FsType,
    purpose: FsContextPurpose,
    cred: Cred,
    userNs: UserNamespace,
    sbFlags: number,
    sbFlagsMask: number,
    ipcNs?: IpcNamespace
  ) {
    super(vfs.registry, `${fsType.name} fs_context`)
    this.fsType = fsType
    this.purpose = purpose
    this.cred = this.hold(cred.get())
    this.userNs = userNs.get()
    this.ipcNs = ipcNs === undefined ? undefined : this.hold(ipcNs.get())
    this.sbFlags = sbFlags
    this.sbFlagsMask = sbFlagsMask
    this.phase = purpose === "reconfigure" ? "reconf-params" : "create-params"
    fsType.initFsContext(this)
  }

  get root(): Dentry | undefined {
    return this.sb?.root
  }

  /** logfc(): queue a message for the context's fd, dropping the oldest beyond FC_LOG_SIZE. */
  logMessage(message: string): void {
    if (this.log.length >= FC_LOG_SIZE) this.log.shift()
    this.log.push(message)
  }

  /** errorfc()/invalfc(): log "e <fs>: <text>" and return EINVAL (or `errno`). */
  invalf(text: string, errno: "EINVAL" | "ENOSPC" | "EPERM" | "EBUSY" = "EINVAL"): SysError {
    this.logMessage(`e ${this.fsType.name}: ${text}`)
    return sysError(errno, undefined, text)
  }

  /** invalf() without the type's prefix (the VFS's own messages): "e Multiple sources". */
  invalfVfs(text: string): SysError {
    this.logMessage(`e ${text}`)
    return sysError("EINVAL", undefined, text)
  }

  /** warnfc(): log "w <fs>: <text>". */
  warnf(text: string): void {
    this.logMessage(`w ${this.fsType.name}: ${text}`)
  }

  /** Replace fc->user_ns (mqueue uses its IPC namespace's owner). */
  setUserNs(userNs: UserNamespace): void {
    const old = this.userNs
    this.userNs = userNs.get()
    old.put()
  }

  /**
   * Give the context the namespaces of `source` (references taken on each):
   * the superblock is then made for `userNs`, and `pidNs`/`netNs` replace
   * the creator's for filesystems that look at them.
   */
  setNamespaces(source: Refcounted, userNs: UserNamespace, pidNs: NsCommon | undefined, netNs: NsCommon | undefined): void {
    this.setUserNs(userNs)
    const old = [this.pidNs, this.netNs, this.nsSource]
    this.pidNs = pidNs?.get()
    this.netNs = netNs?.get()
    this.nsSource = source.get()
    for (const o of old) o?.put()
  }

  /** Take a reference on `sb` as this context's superblock. */
  setSuperblock(sb: Superblock): void {
    this.sb?.put()
    this.sb = sb
  }

  protected override destroy(): void {
    this.sb?.put()
    this.sb = undefined
    this.nsSource?.put()
    this.netNs?.put()
    this.pidNs?.put()
    this.userNs.put()
  }
}

const SET_SB_FLAG: ReadonlyMap<string, number> = new Map([
  ["dirsync", SB_DIRSYNC],
  ["lazytime", SB_LAZYTIME],
  ["mand", SB_MANDLOCK],
  ["ro", SB_RDONLY],
  ["sync", SB_SYNCHRONOUS]
])
const CLEAR_SB_FLAG: ReadonlyMap<string, number> = new Map([
  ["async", SB_SYNCHRONOUS],
  ["nolazytime", SB_LAZYTIME],
  ["nomand", SB_MANDLOCK],
  ["rw", SB_RDONLY]
])

/**
 * vfs_parse_sb_flag(): the generic superblock flags, accepted whatever the
 * value's type (fsconfig SET_STRING "sync" "false" turns sync on).
 */
const parseSbFlag = (fc: FsContext, key: string): boolean => {
  const set = SET_SB_FLAG.get(key)
  if (set !== undefined) {
    fc.sbFlags |= set
    fc.sbFlagsMask |= set
    return true
  }
  const clear = CLEAR_SB_FLAG.get(key)
  if (clear !== undefined) {
    fc.sbFlags &= ~clear
    fc.sbFlagsMask |= clear
    return true
  }
  return false
}

/** vfs_parse_fs_param_source(): "source" must be a string and can be given once. */
export const vfsParseFsParamSource = (fc: FsContext, param: FsParameter): SysError | undefined | typeof ENOPARAM => {
  if (param.key !== "source") return ENOPARAM
  if (param.type !== "string") return fc.invalfVfs("Non-string source")
  if (fc.source !== undefined) return fc.invalfVfs("Multiple sources")
  fc.source = param.string
  return undefined
}

/**
 * vfs_parse_fs_param(): generic superblock flags first, then the type's
 * own parameters, then "source"; anything else is EINVAL "Unknown
 * parameter".
 */
export const vfsParseFsParam = (fc: FsContext, param: FsParameter): SysError | undefined => {
  if (parseSbFlag(fc, param.key)) return undefined
  const r = fc.fsType.parseParam(fc, param)
  if (r !== ENOPARAM) return r
  const s = vfsParseFsParamSource(fc, param)
  if (s !== ENOPARAM) return s
  return fc.invalf(`Unknown parameter '${param.key}'`)
}

/** vfs_parse_fs_string(): a key with a string value, or a flag when the value is undefined. */
export const vfsParseFsString = (fc: FsContext, key: string, value: string | undefined): SysError | undefined =>
  vfsParseFsParam(fc, value === undefined ? { key, type: "flag" } : { key, type: "string", string: value })

/**
 * generic_parse_monolithic(): mount(2)'s data string, "k1=v1,k2,..."; an
 * empty option is skipped, so is one that starts with '='.
 */
export const parseMonolithicMountData = (fc: FsContext, data: string | undefined): SysError | undefined => {
  if (data === undefined) return undefined
  for (const opt of data.split(",")) {
    if (opt === "") continue
    const eq = opt.indexOf("=")
    if (eq === 0) continue
    const err = eq < 0 ? vfsParseFsString(fc, opt, undefined) : vfsParseFsString(fc, opt.slice(0, eq), opt.slice(eq + 1))
    if (err !== undefined) return err
  }
  return undefined
}

/**
 * vfs_get_tree(): ask the type for its superblock; fc.sb holds it after,
 * and the context awaits a mount (or has failed). EBUSY if the context
 * already has one.
 */
export const vfsGetTree = (fc: FsContext): SysError | undefined => {
  if (fc.sb !== undefined) return sysError("EBUSY", undefined, "the context already has a superblock")
  fc.phase = "creating"
  const err = fc.fsType.getTree(fc)
  fc.phase = err === undefined ? "awaiting-mount" : "failed"
  return err
}
