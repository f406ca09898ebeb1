import {
  AT_FDCWD,
  CAP_SYS_ADMIN,
  FSCONFIG_CMD_CREATE,
  FSCONFIG_CMD_CREATE_EXCL,
  FSCONFIG_CMD_RECONFIGURE,
  FSCONFIG_SET_BINARY,
  FSCONFIG_SET_CONTAINER,
  FSCONFIG_SET_FD,
  FSCONFIG_SET_FLAG,
  FSCONFIG_SET_PATH,
  FSCONFIG_SET_PATH_EMPTY,
  FSCONFIG_SET_STRING,
  FSOPEN_CLOEXEC,
  FSPICK_CLOEXEC,
  FSPICK_EMPTY_PATH,
  FSPICK_NO_AUTOMOUNT,
  FSPICK_SYMLINK_NOFOLLOW,
  O_RDWR,
  PATH_MAX,
  sysError,
  type SysError
} from "@simkernel/abi"
import { capable, nsCapable } from "@simkernel/cred"
import { FS_USERNS_MOUNT } from "./constants.js"
import { anonInodeGetfile } from "./anonInodes.js"
import type { File, FileOperations } from "./File.js"
import { FsContext, type FsParameter, vfsGetTree, vfsParseFsParam } from "./FsContext.js"
import { filenameLookup, LOOKUP_AUTOMOUNT, LOOKUP_EMPTY, LOOKUP_FOLLOW } from "./namei.js"
import { fsContextForReconfigure, mayMount, reconfigureSuper } from "./namespace.js"
import type { Path } from "./Path.js"
import type { VfsTask } from "./Task.js"

/**
 * fscontext_read(): one message of the context's log per read, oldest
 * first, with its trailing newline; ENODATA when the log is empty,
 * EMSGSIZE (keeping the message, as 6.18 does) when `buf` is too small.
 */
const fscontextRead = (file: File, buf: Uint8Array): number | SysError => {
  const fc = file.privateData as FsContext
  const message = fc.log[0]
  if (message === undefined) return sysError("ENODATA", "read")
  const bytes = new TextEncoder().encode(`${message}\n`)
  if (bytes.length > buf.length) return sysError("EMSGSIZE", "read")
  fc.log.shift()
  buf.set(bytes)
  return bytes.length
}

const fscontextFops: FileOperations = {
  name: "fscontext",
  read: fscontextRead,
  release: (file) => (file.privateData as FsContext).put()
}

/** The FsContext behind an fs context fd (fsopen/fspick), or undefined for any other file. */
export const fsContextFromFile = (file: File): FsContext | undefined =>
  file.fop === fscontextFops ? (file.privateData as FsContext) : undefined

/** fscontext_create_fd(): an O_RDWR "[fscontext]" file holding `fc` (taking the caller's reference), installed. */
const fscontextCreateFd = (task: VfsTask, fc: FsContext, cloexec: boolean): number | SysError => {
  const file = anonInodeGetfile(fc.vfs, "[fscontext]", fscontextFops, fc, O_RDWR, task.cred)
  if ("errno" in file) {
    fc.put()
    return file
  }
  const fd = task.files.install(file, cloexec, task.nofile)
  if (typeof fd !== "number") file.put()
  return fd
}

/**
 * fsopen(2): a context for a new superblock of `fsname`, as an fd whose
 * reads give the context's messages. EPERM without CAP_SYS_ADMIN over the
 * caller's mount namespace, EINVAL for flags other than FSOPEN_CLOEXEC,
 * EFAULT for a NULL name, ENODEV for an unknown (or empty) type.
 */
export const fsopen = (task: VfsTask, fsname: string | null, flags: number): number | SysError => {
  if (!mayMount(task)) return sysError("EPERM", "fsopen")
  if ((flags & ~FSOPEN_CLOEXEC) !== 0) return sysError("EINVAL", "fsopen")
  if (fsname === null) return sysError("EFAULT", "fsopen")
  const vfs = task.fs.root.mnt.vfs
  const type = vfs.getFsType(fsname)
  if (type === undefined) return sysError("ENODEV", "fsopen", `unknown filesystem type '${fsname}'`)
  const fc = new FsContext(vfs, type, "mount", task.cred, task.cred.userNs, 0, 0, task.ipcNs)
  return fscontextCreateFd(task, fc, (flags & FSOPEN_CLOEXEC) !== 0)
}

/**
 * fspick(2): a reconfiguration context for the superblock of the mount
 * whose root `path` names. EPERM without CAP_SYS_ADMIN over the caller's
 * mount namespace, EINVAL for unknown flags or a path that is not a mount
 * root, EFAULT for a NULL path (even with FSPICK_EMPTY_PATH).
 */
export const fspick = (task: VfsTask, dirfd: number, path: string | null, flags: number): number | SysError => {
  if (!mayMount(task)) return sysError("EPERM", "fspick")
  if ((flags & ~(FSPICK_CLOEXEC | FSPICK_SYMLINK_NOFOLLOW | FSPICK_NO_AUTOMOUNT | FSPICK_EMPTY_PATH)) !== 0) return sysError("EINVAL", "fspick")
  let lookup = LOOKUP_FOLLOW | LOOKUP_AUTOMOUNT
  if ((flags & FSPICK_SYMLINK_NOFOLLOW) !== 0) lookup &= ~LOOKUP_FOLLOW
  if ((flags & FSPICK_NO_AUTOMOUNT) !== 0) lookup &= ~LOOKUP_AUTOMOUNT
  if ((flags & FSPICK_EMPTY_PATH) !== 0) lookup |= LOOKUP_EMPTY
  const target = userPathAt(task, dirfd, path, lookup)
  if ("errno" in target) return target
  if (target.dentry !== target.mnt.root) return sysError("EINVAL", "fspick", "not a mount root")
  const fc = fsContextForReconfigure(task, target.mnt.sb, 0, 0)
  fc.phase = "awaiting-reconf"
  return fscontextCreateFd(task, fc, (flags & FSPICK_CLOEXEC) !== 0)
}

/**
 * user_path_at(): the Path `name` names; EFAULT for NULL. With
 * LOOKUP_EMPTY an empty name is the dirfd itself (any file, O_PATH too) or
 * the cwd for AT_FDCWD.
 */
export const userPathAt = (task: VfsTask, dirfd: number, name: string | null, lookup: number): Path | SysError => {
  if (name === null) return sysError("EFAULT")
  if (name === "" && (lookup & LOOKUP_EMPTY) !== 0) return fdPath(task, dirfd)
  const nd = filenameLookup(task, dirfd, name, lookup)
  return "errno" in nd ? nd : nd.path()
}

/** The Path an fd (or AT_FDCWD, the cwd) stands for; EBADF when not open. */
export const fdPath = (task: VfsTask, fd: number): Path | SysError => {
  if (fd === AT_FDCWD) return task.fs.pwd
  const f = task.files.fdget(fd)
  if (f === undefined) return sysError("EBADF")
  const hook = f.fop?.dirfdRoot
  return hook === undefined ? f : hook(f, false, true)
}

/** mount_capable(): CAP_SYS_ADMIN over the context's user namespace for FS_USERNS_MOUNT types, else in the initial one. */
const mountCapable = (fc: FsContext): boolean =>
  (fc.fsType.fsFlags & FS_USERNS_MOUNT) !== 0 ? nsCapable(fc.cred, fc.userNs, CAP_SYS_ADMIN) : capable(fc.cred, CAP_SYS_ADMIN)

/**
 * vfs_clean_context(): after fsmount or a reconfiguration the context
 * awaits a reconfiguration of its superblock; the parameters parsed so far
 * are forgotten (the flag mask is kept, as Linux keeps sb_flags_mask).
 */
export const vfsCleanContext = (fc: FsContext): void => {
  fc.fsPrivate = undefined
  fc.sbFlags = 0
  fc.source = undefined
  fc.exclusive = false
  fc.purpose = "reconfigure"
  fc.oldapi = false
  fc.phase = "awaiting-reconf"
}

/** finish_clean_context(): a context awaiting reconfiguration is set up to take parameters again. */
const finishCleanContext = (fc: FsContext): void => {
  if (fc.phase !== "awaiting-reconf") return
  fc.fsType.initFsContext(fc)
  fc.phase = "reconf-params"
}

/** vfs_cmd_create(): get_tree on a context still taking parameters; a failure leaves it "failed". */
const vfsCmdCreate = (fc: FsContext, exclusive: boolean): SysError | undefined => {
  if (fc.phase !== "create-params") return sysError("EBUSY", "fsconfig")
  if (!mountCapable(fc)) return sysError("EPERM", "fsconfig")
  fc.exclusive = exclusive
  return vfsGetTree(fc)
}

/** vfs_cmd_reconfigure(): apply the parameters to the live superblock; a failure leaves the context "failed". */
const vfsCmdReconfigure = (fc: FsContext): SysError | undefined => {
  if (fc.phase !== "reconf-params") return sysError("EBUSY", "fsconfig")
  const sb = fc.sb!
  if (!nsCapable(fc.cred, sb.userNs, CAP_SYS_ADMIN)) {
    fc.phase = "failed"
    return sysError("EPERM", "fsconfig")
  }
  const err = reconfigureSuper(fc)
  if (err !== undefined) {
    fc.phase = "failed"
    return err
  }
  vfsCleanContext(fc)
  return undefined
}

/**
 * vfs_fsconfig_locked(): CMD_CREATE / CMD_CREATE_EXCL / CMD_RECONFIGURE,
 * or a parameter, which only a context taking parameters accepts (EBUSY
 * otherwise: after CMD_CREATE, or once failed).
 */
export const vfsFsconfigLocked = (fc: FsContext, cmd: number, param: FsParameter | undefined): SysError | undefined => {
  finishCleanContext(fc)
  switch (cmd) {
    case FSCONFIG_CMD_CREATE:
      return vfsCmdCreate(fc, false)
    case FSCONFIG_CMD_CREATE_EXCL:
      return vfsCmdCreate(fc, true)
    case FSCONFIG_CMD_RECONFIGURE:
      return vfsCmdReconfigure(fc)
    default:
      if (fc.phase !== "create-params" && fc.phase !== "reconf-params") return sysError("EBUSY", "fsconfig")
      return vfsParseFsParam(fc, param!)
  }
}

/** strndup_user(s, 256) for keys and string values: EINVAL when 256 bytes or longer. */
const FSCONFIG_STRING_MAX = 256
/** The largest FSCONFIG_SET_BINARY blob. */
const FSCONFIG_BLOB_MAX = 1024 * 1024

const utf8Length = (s: string): number => Buffer.byteLength(s)

/** A fsconfig value: a string, or raw bytes (FSCONFIG_SET_BINARY reads `aux` of them). */
export type FsconfigValue = string | Uint8Array | null

const valueString = (value: string | Uint8Array): string => {
  if (typeof value === "string") return value
  const nul = value.indexOf(0)
  return new TextDecoder().decode(nul < 0 ? value : value.subarray(0, nul))
}

/**
 * fsconfig(2). In the kernel's order: a negative fd is EINVAL; an unknown
 * (or negative) cmd EOPNOTSUPP (FSCONFIG_SET_CONTAINER too unless the
 * container package set Vfs.mountApiHooks); the per-command argument rules
 * (EINVAL); then the
 * fd: EBADF when closed or O_PATH-like (a mount fd), EINVAL when it is not
 * an fs context; a key or string value of 256 bytes or more is EINVAL;
 * SET_PATH's path is not resolved ("" is ENOENT without SET_PATH_EMPTY,
 * the filesystem judges the rest); SET_FD's `aux` must be open (EBADF).
 * Then vfsFsconfigLocked().
 */
export const fsconfig = (task: VfsTask, fd: number, cmd: number, key: string | null, value: FsconfigValue, aux: number): number | SysError => {
  if (fd < 0) return sysError("EINVAL", "fsconfig")
  const hooks = task.fs.root.mnt.vfs.mountApiHooks
  switch (cmd) {
    case FSCONFIG_SET_FLAG:
      if (key === null || value !== null || aux !== 0) return sysError("EINVAL", "fsconfig")
      break
    case FSCONFIG_SET_STRING:
      if (key === null || value === null || aux !== 0) return sysError("EINVAL", "fsconfig")
      break
    case FSCONFIG_SET_BINARY:
      if (key === null || value === null || aux <= 0 || aux > FSCONFIG_BLOB_MAX) return sysError("EINVAL", "fsconfig")
      break
    case FSCONFIG_SET_PATH:
    case FSCONFIG_SET_PATH_EMPTY:
      if (key === null || value === null || (aux !== AT_FDCWD && aux < 0)) return sysError("EINVAL", "fsconfig")
      break
    case FSCONFIG_SET_FD:
      if (key === null || value !== null || aux < 0) return sysError("EINVAL", "fsconfig")
      break
    case FSCONFIG_CMD_CREATE:
    case FSCONFIG_CMD_CREATE_EXCL:
    case FSCONFIG_CMD_RECONFIGURE:
      if (key !== null || value !== null || aux !== 0) return sysError("EINVAL", "fsconfig")
      break
    case FSCONFIG_SET_CONTAINER:
      if (hooks === undefined) return sysError("EOPNOTSUPP", "fsconfig", `unknown command ${cmd}`)
      if (key !== null || value !== null || aux < 0) return sysError("EINVAL", "fsconfig")
      break
    default:
      return sysError("EOPNOTSUPP", "fsconfig", `unknown command ${cmd}`)
  }
  const file = task.files.fdget(fd)
  if (file === undefined || file.isPath) return sysError("EBADF", "fsconfig")
  const fc = fsContextFromFile(file)
  if (fc === undefined) return sysError("EINVAL", "fsconfig", "not an fs context")
  if (key !== null && utf8Length(key) >= FSCONFIG_STRING_MAX) return sysError("EINVAL", "fsconfig", "key too long")
  let param: FsParameter | undefined
  switch (cmd) {
    case FSCONFIG_SET_FLAG:
      param = { key: key!, type: "flag" }
      break
    case FSCONFIG_SET_STRING: {
      const string = valueString(value!)
      if (utf8Length(string) >= FSCONFIG_STRING_MAX) return sysError("EINVAL", "fsconfig", "value too long")
      param = { key: key!, type: "string", string }
      break
    }
    case FSCONFIG_SET_BINARY: {
      const bytes = typeof value === "string" ? new TextEncoder().encode(value) : value!
      const blob = new Uint8Array(aux)
      blob.set(bytes.subarray(0, aux))
      param = { key: key!, type: "blob", blob }
      break
    }
    case FSCONFIG_SET_PATH:
    case FSCONFIG_SET_PATH_EMPTY: {
      const string = valueString(value!)
      if (string === "" && cmd === FSCONFIG_SET_PATH) return sysError("ENOENT", "fsconfig")
      if (utf8Length(string) >= PATH_MAX) return sysError("ENAMETOOLONG", "fsconfig")
      param = { key: key!, type: cmd === FSCONFIG_SET_PATH ? "path" : "path_empty", string, dirfd: aux }
      break
    }
    case FSCONFIG_SET_FD:
      if (task.files.fdget(aux) === undefined) return sysError("EBADF", "fsconfig")
      param = { key: key!, type: "fd", fd: aux }
      break
    case FSCONFIG_SET_CONTAINER:
      if (task.files.fdget(aux) === undefined) return sysError("EBADF", "fsconfig")
      // only as the first step: before any parameter shaped the context
      if (fc.phase !== "create-params" || fc.paramsSet > 0) return sysError("EBUSY", "fsconfig")
      return hooks!.fsconfigSetContainer(task, fc, aux) ?? 0
  }
  const err = vfsFsconfigLocked(fc, cmd, param)
  if (err === undefined && param !== undefined) fc.paramsSet++
  return err ?? 0
}
