import {
  AT_EMPTY_PATH,
  AT_NO_AUTOMOUNT,
  AT_RECURSIVE,
  AT_SYMLINK_NOFOLLOW,
  CAP_SYS_ADMIN,
  FSMOUNT_CLOEXEC,
  MOUNT_ATTR__ATIME,
  MOUNT_ATTR_IDMAP,
  MOUNT_ATTR_NOATIME,
  MOUNT_ATTR_NODEV,
  MOUNT_ATTR_NODIRATIME,
  MOUNT_ATTR_NOEXEC,
  MOUNT_ATTR_NOSUID,
  MOUNT_ATTR_NOSYMFOLLOW,
  MOUNT_ATTR_RDONLY,
  MOUNT_ATTR_RELATIME,
  MOUNT_ATTR_SIZE_VER0,
  MOUNT_ATTR_STRICTATIME,
  MOVE_MOUNT__MASK,
  MOVE_MOUNT__MASK_MAINLINE,
  MOVE_MOUNT_BENEATH,
  MOVE_MOUNT_F_AUTOMOUNTS,
  MOVE_MOUNT_F_EMPTY_PATH,
  MOVE_MOUNT_F_SYMLINKS,
  MOVE_MOUNT_SET_GROUP,
  MOVE_MOUNT_T_AUTOMOUNTS,
  MOVE_MOUNT_T_CONTAINER_ROOT,
  MOVE_MOUNT_T_EMPTY_PATH,
  MOVE_MOUNT_T_SYMLINKS,
  MS_PRIVATE,
  MS_SHARED,
  MS_SLAVE,
  MS_UNBINDABLE,
  O_PATH,
  OPEN_TREE_CLOEXEC,
  OPEN_TREE_CLONE,
  sysError,
  type SysError
} from "@simkernel/abi"
import { nsCapable, UserNamespace } from "@simkernel/cred"
import {
  MNT_NOATIME,
  MNT_NODEV,
  MNT_NODIRATIME,
  MNT_NOEXEC,
  MNT_NOSUID,
  MNT_NOSYMFOLLOW,
  MNT_READONLY,
  MNT_RELATIME
} from "./constants.js"
import type { Dentry } from "./Dentry.js"
import { File, type FileOperations } from "./File.js"
import { fdPath, fsContextFromFile, userPathAt, vfsCleanContext } from "./fsopen.js"
import type { Mount } from "./Mount.js"
import { allocMntNs, mntAddToNs } from "./MountNamespace.js"
import { LOOKUP_AUTOMOUNT, LOOKUP_EMPTY, LOOKUP_FOLLOW } from "./namei.js"
import {
  canChangeLockedFlags,
  checkMnt,
  cloneMnt,
  copyTree,
  doMoveMount,
  hasLockedChildren,
  mayMount,
  UMOUNT_SYNC,
  umountTree,
  vfsCreateMount
} from "./namespace.js"
import { nsFromFile } from "./nsfs.js"
import type { Path } from "./Path.js"
import { changeMntPropagation, cleanupGroupIds, inventGroupIds } from "./pnode.js"
import type { VfsTask } from "./Task.js"

/**
 * A detached mount's fd (fsmount, open_tree(OPEN_TREE_CLONE)): an O_PATH
 * file with FMODE_NEED_UNMOUNT, whose last close dissolves the detached
 * tree if it is still one (dissolve_on_fput()).
 */
const detachedMountFops: FileOperations = {
  name: "mount",
  release: (file) => {
    const ns = file.mnt.ns
    if (ns !== undefined && ns.anon && ns.root === file.mnt) ns.put()
  }
}

/**
 * Make `mnt` (and the tree below it, the caller's references as the
 * tree's) the root of a new anonymous mount namespace and open it as an
 * O_PATH fd at `dentry`. `seqOrigin` is the namespace the tree came from.
 */
const openDetached = (task: VfsTask, mnt: Mount, dentry: Dentry, seqOrigin: number): File | SysError => {
  const ns = allocMntNs(mnt.vfs, task.mntNs.userNs, false, true)
  if ("errno" in ns) return ns
  ns.seqOrigin = seqOrigin
  ns.root = mnt
  for (const m of mnt.subtree()) mntAddToNs(ns, m)
  return new File({ mnt, dentry }, O_PATH, task.cred, detachedMountFops)
}

/** Install `file` (taking its reference); on failure the file is dropped. */
const installFile = (task: VfsTask, file: File, cloexec: boolean): number | SysError => {
  const fd = task.files.install(file, cloexec, task.nofile)
  if (typeof fd !== "number") file.put()
  return fd
}

/** attr_flags_to_mnt_flags(): MOUNT_ATTR_* bits to MNT_* flags (the atime mode aside). */
const attrFlagsToMntFlags = (attr: number): number => {
  let f = 0
  if (attr & MOUNT_ATTR_RDONLY) f |= MNT_READONLY
  if (attr & MOUNT_ATTR_NOSUID) f |= MNT_NOSUID
  if (attr & MOUNT_ATTR_NODEV) f |= MNT_NODEV
  if (attr & MOUNT_ATTR_NOEXEC) f |= MNT_NOEXEC
  if (attr & MOUNT_ATTR_NODIRATIME) f |= MNT_NODIRATIME
  if (attr & MOUNT_ATTR_NOSYMFOLLOW) f |= MNT_NOSYMFOLLOW
  return f
}

const FSMOUNT_VALID_ATTRS =
  MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC | MOUNT_ATTR__ATIME | MOUNT_ATTR_NODIRATIME | MOUNT_ATTR_NOSYMFOLLOW

/**
 * fsmount(2): a detached mount of the superblock `fsfd`'s context created,
 * as an O_PATH fd; the mount is the root of an anonymous namespace, shows
 * in no mountinfo, and is unmounted when its last fd closes unless
 * move_mount attached it. The context then awaits reconfiguration. EPERM
 * without CAP_SYS_ADMIN over the caller's mount namespace; EINVAL for
 * unknown flags or attributes (MOUNT_ATTR_IDMAP among them),
 * an atime field that is not one mode, a non-context fd, a context with no
 * superblock yet; EBADF for a closed or O_PATH fd; EBUSY when the context
 * is not awaiting a mount (mounted already, fspick, failed).
 */
export const fsmount = (task: VfsTask, fsfd: number, flags: number, attrFlags: number): number | SysError => {
  if (!mayMount(task)) return sysError("EPERM", "fsmount")
  if ((flags & ~FSMOUNT_CLOEXEC) !== 0) return sysError("EINVAL", "fsmount")
  if ((attrFlags & ~FSMOUNT_VALID_ATTRS) !== 0) return sysError("EINVAL", "fsmount", "unknown mount attributes")
  let mntFlags = attrFlagsToMntFlags(attrFlags)
  switch (attrFlags & MOUNT_ATTR__ATIME) {
    case MOUNT_ATTR_STRICTATIME:
      break
    case MOUNT_ATTR_NOATIME:
      mntFlags |= MNT_NOATIME
      break
    case MOUNT_ATTR_RELATIME:
      mntFlags |= MNT_RELATIME
      break
    default:
      return sysError("EINVAL", "fsmount", "more than one atime mode")
  }
  const file = task.files.fdget(fsfd)
  if (file === undefined || file.isPath) return sysError("EBADF", "fsmount")
  const fc = fsContextFromFile(file)
  if (fc === undefined) return sysError("EINVAL", "fsmount", "not an fs context")
  const sb = fc.sb
  if (sb === undefined) return sysError("EINVAL", "fsmount", "no superblock yet")
  if (fc.phase !== "awaiting-mount") return sysError("EBUSY", "fsmount")
  const mnt = vfsCreateMount(sb, sb.root, mntFlags, fc.source)
  if ("errno" in mnt) return mnt
  vfsCleanContext(fc)
  const f = openDetached(task, mnt, mnt.root, 0)
  if ("errno" in f) {
    mnt.put()
    return f
  }
  return installFile(task, f, (flags & FSMOUNT_CLOEXEC) !== 0)
}

/**
 * check_anonymous_mnt(): a detached tree's mount the caller may use: its
 * anonymous namespace came from the caller's namespace (or from fsmount).
 */
const checkAnonymousMnt = (task: VfsTask, mnt: Mount): boolean => {
  const ns = mnt.ns
  if (ns === undefined || !ns.anon) return false
  return ns.seqOrigin === 0 || ns.seqOrigin === task.mntNs.seq
}

/**
 * open_detached_copy(): __do_loopback() of `path` (with `recursive`, the
 * whole subtree) as a new detached tree. EINVAL for an unbindable mount,
 * a mount outside the caller's namespace (and not a detached tree of it),
 * or locked mounts a non-recursive copy would reveal.
 */
const openDetachedCopy = (task: VfsTask, path: Path, recursive: boolean): File | SysError => {
  const old = path.mnt
  if (old.unbindable) return sysError("EINVAL", "open_tree", "unbindable mount")
  if (!checkMnt(task, old) && !checkAnonymousMnt(task, old)) return sysError("EINVAL", "open_tree", "mount of another namespace")
  if (!recursive && hasLockedChildren(old, path.dentry)) return sysError("EINVAL", "open_tree")
  const src = old.ns!
  const seqOrigin = src.anon ? src.seqOrigin : src.seq
  const mnt = recursive ? copyTree(old, path.dentry, 0) : cloneMnt(old, path.dentry, 0)
  if ("errno" in mnt) return mnt
  const f = openDetached(task, mnt, path.dentry, seqOrigin)
  if ("errno" in f) umountTree(mnt, UMOUNT_SYNC)
  return f
}

/**
 * vfs_open_tree(): the file open_tree(2) and open_tree_attr(2) return,
 * not installed yet. EINVAL for unknown flags or AT_RECURSIVE without
 * OPEN_TREE_CLONE; EPERM for OPEN_TREE_CLONE without CAP_SYS_ADMIN over
 * the caller's mount namespace; EFAULT for a NULL path.
 */
const vfsOpenTree = (task: VfsTask, dirfd: number, path: string | null, flags: number): File | SysError => {
  if ((flags & ~(AT_EMPTY_PATH | AT_NO_AUTOMOUNT | AT_RECURSIVE | AT_SYMLINK_NOFOLLOW | OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC)) !== 0)
    return sysError("EINVAL", "open_tree")
  if ((flags & (AT_RECURSIVE | OPEN_TREE_CLONE)) === AT_RECURSIVE) return sysError("EINVAL", "open_tree", "AT_RECURSIVE without OPEN_TREE_CLONE")
  let lookup = LOOKUP_AUTOMOUNT | LOOKUP_FOLLOW
  if ((flags & AT_NO_AUTOMOUNT) !== 0) lookup &= ~LOOKUP_AUTOMOUNT
  if ((flags & AT_SYMLINK_NOFOLLOW) !== 0) lookup &= ~LOOKUP_FOLLOW
  if ((flags & AT_EMPTY_PATH) !== 0) lookup |= LOOKUP_EMPTY
  const detached = (flags & OPEN_TREE_CLONE) !== 0
  if (detached && !mayMount(task)) return sysError("EPERM", "open_tree")
  const p = userPathAt(task, dirfd, path, lookup)
  if ("errno" in p) return p
  if (detached) return openDetachedCopy(task, p, (flags & AT_RECURSIVE) !== 0)
  return new File({ mnt: p.mnt, dentry: p.dentry }, O_PATH, task.cred)
}

/**
 * open_tree(2): without OPEN_TREE_CLONE an O_PATH fd of `path`; with it, an
 * fd of a detached copy of the mount at `path` (AT_RECURSIVE: with its
 * submounts), which a clone of a shared mount joins as a peer, and which
 * is dissolved at its last close unless move_mount attached it.
 */
export const openTree = (task: VfsTask, dirfd: number, path: string | null, flags: number): number | SysError => {
  const file = vfsOpenTree(task, dirfd, path, flags)
  if ("errno" in file) return file
  return installFile(task, file, (flags & OPEN_TREE_CLOEXEC) !== 0)
}

/** struct mount_attr as the caller passes it; attrSet/attrClr/propagation/usernsFd are u64 (a negative number is its two's complement). */
export interface MountAttr {
  readonly attrSet?: number | bigint
  readonly attrClr?: number | bigint
  readonly propagation?: number | bigint
  readonly usernsFd?: number | bigint
  /** Bytes after the 32-byte structure (offset 32 on), up to the size argument; missing bytes are zero. */
  readonly tail?: Uint8Array
}

/** struct mount_kattr: what mount_setattr(2) will do. */
interface MountKattr {
  attrSet: number
  attrClr: number
  propagation: number
  recurse: boolean
  /** MOUNT_KATTR_IDMAP_REPLACE: open_tree_attr may clear MOUNT_ATTR_IDMAP on a fresh clone. */
  idmapReplace: boolean
  mntUserns: UserNamespace | undefined
}

const u64 = (v: number | bigint | undefined): bigint => BigInt.asUintN(64, BigInt(v ?? 0))

const MOUNT_SETATTR_VALID_FLAGS =
  BigInt(MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC | MOUNT_ATTR__ATIME | MOUNT_ATTR_NODIRATIME | MOUNT_ATTR_IDMAP | MOUNT_ATTR_NOSYMFOLLOW)
const MOUNT_SETATTR_PROPAGATION_FLAGS = BigInt(MS_UNBINDABLE | MS_PRIVATE | MS_SLAVE | MS_SHARED)
const INT_MAX = 0x7fffffffn
/** PAGE_SIZE: the largest struct mount_attr copy_struct_from_user() takes. */
const MOUNT_ATTR_SIZE_MAX = 4096

/**
 * build_mount_idmapped(): MOUNT_ATTR_IDMAP needs a user namespace fd the
 * caller has CAP_SYS_ADMIN over, other than the initial one (EPERM);
 * EINVAL for a non-namespace fd, an fd above INT_MAX or clearing IDMAP on a
 * mount already exposed; EBADF for a closed fd.
 */
const buildMountIdmapped = (task: VfsTask, set: bigint, clr: bigint, usernsFd: bigint, kattr: MountKattr): SysError | undefined => {
  const idmap = BigInt(MOUNT_ATTR_IDMAP)
  if (((set | clr) & idmap) === 0n) return undefined
  if ((clr & idmap) !== 0n) {
    if (!kattr.idmapReplace) return sysError("EINVAL", "mount_setattr", "cannot clear an exposed idmapping")
    if ((set & idmap) === 0n) return undefined
  }
  if (usernsFd > INT_MAX) return sysError("EINVAL", "mount_setattr")
  const f = task.files.fdget(Number(usernsFd))
  if (f === undefined) return sysError("EBADF", "mount_setattr")
  const ns = nsFromFile(f)
  if (ns === undefined || !(ns instanceof UserNamespace)) return sysError("EINVAL", "mount_setattr", "not a user namespace")
  if (ns === ns.initNs) return sysError("EPERM", "mount_setattr", "the initial idmapping")
  if (!nsCapable(task.cred, ns, CAP_SYS_ADMIN)) return sysError("EPERM", "mount_setattr")
  kattr.mntUserns = ns
  return undefined
}

/**
 * wants_mount_setattr() + build_mount_kattr(): check the structure and
 * decode it into `kattr`. Returns 0 for an all-zero request (nothing to
 * do: the path is never looked at), 1 otherwise, or the error: E2BIG for a
 * size above 4096 or non-zero bytes past the known structure, EINVAL for a
 * size below 32, a propagation other than exactly one type, unknown
 * attributes, an atime change without attr_clr = MOUNT_ATTR__ATIME (or a
 * part of it); EFAULT for a NULL structure; EPERM without CAP_SYS_ADMIN.
 */
const wantsMountSetattr = (task: VfsTask, attr: MountAttr | null, size: number, kattr: MountKattr): 0 | 1 | SysError => {
  if (size > MOUNT_ATTR_SIZE_MAX) return sysError("E2BIG", "mount_setattr")
  if (size < MOUNT_ATTR_SIZE_VER0) return sysError("EINVAL", "mount_setattr")
  if (!mayMount(task)) return sysError("EPERM", "mount_setattr")
  if (attr === null) return sysError("EFAULT", "mount_setattr")
  const tail = attr.tail
  if (tail !== undefined) {
    const n = Math.min(tail.length, size - MOUNT_ATTR_SIZE_VER0)
    for (let i = 0; i < n; i++) if (tail[i] !== 0) return sysError("E2BIG", "mount_setattr")
  }
  const set = u64(attr.attrSet)
  const clr = u64(attr.attrClr)
  const propagation = u64(attr.propagation)
  if (set === 0n && clr === 0n && propagation === 0n) return 0
  if ((propagation & ~MOUNT_SETATTR_PROPAGATION_FLAGS) !== 0n) return sysError("EINVAL", "mount_setattr", "unknown propagation")
  const prop = Number(propagation)
  if ((prop & (prop - 1)) !== 0) return sysError("EINVAL", "mount_setattr", "more than one propagation type")
  kattr.propagation = prop
  if (((set | clr) & ~MOUNT_SETATTR_VALID_FLAGS) !== 0n) return sysError("EINVAL", "mount_setattr", "unknown mount attributes")
  const s = Number(set)
  const c = Number(clr)
  kattr.attrSet = attrFlagsToMntFlags(s)
  kattr.attrClr = attrFlagsToMntFlags(c)
  if ((c & MOUNT_ATTR__ATIME) !== 0) {
    if ((c & MOUNT_ATTR__ATIME) !== MOUNT_ATTR__ATIME) return sysError("EINVAL", "mount_setattr", "part of the atime field")
    kattr.attrClr |= MNT_RELATIME | MNT_NOATIME
    switch (s & MOUNT_ATTR__ATIME) {
      case MOUNT_ATTR_RELATIME:
        kattr.attrSet |= MNT_RELATIME
        break
      case MOUNT_ATTR_NOATIME:
        kattr.attrSet |= MNT_NOATIME
        break
      case MOUNT_ATTR_STRICTATIME:
        break
      default:
        return sysError("EINVAL", "mount_setattr", "more than one atime mode")
    }
  } else if ((s & MOUNT_ATTR__ATIME) !== 0) return sysError("EINVAL", "mount_setattr", "atime change without MOUNT_ATTR__ATIME in attr_clr")
  const err = buildMountIdmapped(task, set, clr, u64(attr.usernsFd), kattr)
  return err ?? 1
}

/** recalc_flags(). */
const recalcFlags = (kattr: MountKattr, m: Mount): number => (m.flags & ~kattr.attrClr) | kattr.attrSet

/**
 * mount_setattr_prepare(): every mount to change must accept the change:
 * locked flags stay (EPERM), going read-only needs no writers (EBUSY), an
 * idmapping goes only on a detached mount (EINVAL).
 */
const mountSetattrPrepare = (kattr: MountKattr, mounts: ReadonlyArray<Mount>): SysError | undefined => {
  for (const m of mounts) {
    const flags = recalcFlags(kattr, m)
    if (!canChangeLockedFlags(m, flags)) return sysError("EPERM", "mount_setattr", "locked mount flags")
    if (kattr.mntUserns !== undefined && m.ns?.anon !== true) return sysError("EINVAL", "mount_setattr", "idmapping an attached mount")
    if ((kattr.attrSet & MNT_READONLY) !== 0 && !m.readonly && m.writers > 0) return sysError("EBUSY", "mount_setattr", "files are open for writing")
  }
  return undefined
}

/**
 * do_mount_setattr(): change the flags (and propagation) of the mount at
 * `path` (a mount root: EINVAL otherwise), and with `recurse` of every
 * mount below it, all or nothing: the mount must be attached in the
 * caller's namespace or be a detached tree's root (EINVAL).
 */
const doMountSetattr = (task: VfsTask, path: Path, kattr: MountKattr): SysError | undefined => {
  const mnt = path.mnt
  if (path.dentry !== mnt.root) return sysError("EINVAL", "mount_setattr", "not a mount root")
  if (kattr.propagation === MS_SHARED) {
    const err = inventGroupIds(mnt, kattr.recurse)
    if (err !== undefined) return err
  }
  const fail = (err: SysError): SysError => {
    if (kattr.propagation !== 0) cleanupGroupIds(mnt)
    return err
  }
  if (mnt.ns === undefined) return fail(sysError("EINVAL", "mount_setattr"))
  if (mnt.parent !== undefined ? !checkMnt(task, mnt) : !mnt.ns.anon) return fail(sysError("EINVAL", "mount_setattr", "mount of another namespace"))
  const mounts = kattr.recurse ? [...mnt.subtree()] : [mnt]
  const err = mountSetattrPrepare(kattr, mounts)
  if (err !== undefined) return fail(err)
  for (const m of mounts) {
    m.flags = recalcFlags(kattr, m)
    if (kattr.propagation !== 0) changeMntPropagation(m, kattr.propagation)
  }
  mnt.ns.event++
  return undefined
}

const MOUNT_SETATTR_AT_FLAGS = AT_EMPTY_PATH | AT_RECURSIVE | AT_SYMLINK_NOFOLLOW | AT_NO_AUTOMOUNT

const newKattr = (recurse: boolean, idmapReplace: boolean): MountKattr => ({
  attrSet: 0,
  attrClr: 0,
  propagation: 0,
  recurse,
  idmapReplace,
  mntUserns: undefined
})

/**
 * mount_setattr(2): set and clear mount attributes and change propagation
 * of the mount at `path` (AT_RECURSIVE: and below it), all or nothing.
 * In the kernel's order: EINVAL for unknown flags; the structure checks of
 * wantsMountSetattr (an all-zero request returns 0 before the path is
 * looked at); EFAULT for a NULL path; the lookup's errors; then
 * do_mount_setattr's. MOUNT_ATTR_IDMAP is checked but not applied:
 * idmapped mounts are not simulated.
 */
export const mountSetattr = (task: VfsTask, dirfd: number, path: string | null, flags: number, attr: MountAttr | null, size: number): number | SysError => {
  if ((flags & ~MOUNT_SETATTR_AT_FLAGS) !== 0) return sysError("EINVAL", "mount_setattr")
  let lookup = LOOKUP_AUTOMOUNT | LOOKUP_FOLLOW
  if ((flags & AT_NO_AUTOMOUNT) !== 0) lookup &= ~LOOKUP_AUTOMOUNT
  if ((flags & AT_SYMLINK_NOFOLLOW) !== 0) lookup &= ~LOOKUP_FOLLOW
  if ((flags & AT_EMPTY_PATH) !== 0) lookup |= LOOKUP_EMPTY
  const kattr = newKattr((flags & AT_RECURSIVE) !== 0, false)
  const wants = wantsMountSetattr(task, attr, size, kattr)
  if (wants !== 1) return wants
  const target = userPathAt(task, dirfd, path, lookup)
  if ("errno" in target) return target
  return doMountSetattr(task, target, kattr) ?? 0
}

/**
 * open_tree_attr(2) (Linux 6.15): open_tree() and then mount_setattr()'s
 * attributes applied to what it opened: the detached copy with
 * OPEN_TREE_CLONE (which may also drop an idmapping), else the existing
 * mount, returning a plain O_PATH fd. EINVAL for a size without a
 * structure. A failure closes the new file (dissolving a copy).
 */
export const openTreeAttr = (
  task: VfsTask,
  dirfd: number,
  path: string | null,
  flags: number,
  attr: MountAttr | null,
  size: number
): number | SysError => {
  if (attr === null && size !== 0) return sysError("EINVAL", "open_tree_attr")
  const file = vfsOpenTree(task, dirfd, path, flags)
  if ("errno" in file) return file
  if (attr !== null) {
    const kattr = newKattr((flags & AT_RECURSIVE) !== 0, true)
    const wants = wantsMountSetattr(task, attr, size, kattr)
    const err = wants === 1 ? doMountSetattr(task, file, kattr) : wants === 0 ? undefined : wants
    if (err !== undefined) {
      file.put()
      return err
    }
  }
  return installFile(task, file, (flags & OPEN_TREE_CLOEXEC) !== 0)
}

/**
 * do_set_group(): MOVE_MOUNT_SET_GROUP: `to` joins `from`'s peer group (and
 * its master). EINVAL unless both are mount roots in the caller's
 * namespace on the same superblock, `to`'s root lies within `from`'s,
 * `from` has no locked mount there, `to` is private and `from` is shared
 * or a slave.
 */
const doSetGroup = (task: VfsTask, fromPath: Path, toPath: Path): SysError | undefined => {
  const from = fromPath.mnt
  const to = toPath.mnt
  if (!checkMnt(task, from) || !checkMnt(task, to)) return sysError("EINVAL", "move_mount")
  if (fromPath.dentry !== from.root || toPath.dentry !== to.root) return sysError("EINVAL", "move_mount", "not a mount root")
  if (from.sb !== to.sb) return sysError("EINVAL", "move_mount", "different superblocks")
  if (!to.root.isSubdir(from.root)) return sysError("EINVAL", "move_mount")
  if (hasLockedChildren(from, to.root)) return sysError("EINVAL", "move_mount")
  if (to.isShared || to.isSlave) return sysError("EINVAL", "move_mount", "the target is not private")
  if (!from.isShared && !from.isSlave) return sysError("EINVAL", "move_mount", "the source is private")
  if (from.master !== undefined) {
    to.master = from.master
    ;(from.master.slaves ??= new Set()).add(to)
  }
  if (from.isShared) {
    to.groupId = from.groupId
    from.peers!.add(to)
    to.peers = from.peers
    to.unbindable = false
  }
  return undefined
}

/**
 * A move_mount path: NULL (or "" with the *_EMPTY_PATH flag) is the fd
 * itself when `dirfd` >= 0 (any file, O_PATH too: EBADF when closed),
 * else a normal lookup ("" without the flag: ENOENT).
 */
const moveMountPath = (task: VfsTask, dirfd: number, name: string | null, empty: boolean, lookup: number): Path | SysError => {
  if (name === null && !empty) return sysError("EFAULT", "move_mount")
  if (name === null || (empty && name === "")) return fdPath(task, dirfd)
  return userPathAt(task, dirfd, name, lookup)
}

/** move_mount's source path, following the MOVE_MOUNT_F_* flags. */
const moveMountFrom = (task: VfsTask, fromDirfd: number, fromPath: string | null, flags: number): Path | SysError => {
  let lookup = 0
  if ((flags & MOVE_MOUNT_F_SYMLINKS) !== 0) lookup |= LOOKUP_FOLLOW
  if ((flags & MOVE_MOUNT_F_AUTOMOUNTS) !== 0) lookup |= LOOKUP_AUTOMOUNT
  return moveMountPath(task, fromDirfd, fromPath, (flags & MOVE_MOUNT_F_EMPTY_PATH) !== 0, lookup)
}

/**
 * move_mount(2): attach or move the mount `from` names (a detached tree
 * from fsmount/open_tree, or an attached mount) onto `to`; with
 * MOVE_MOUNT_BENEATH beneath the top mount there, with MOVE_MOUNT_SET_GROUP
 * put `to` in `from`'s peer group instead. The target is resolved first.
 * EPERM without CAP_SYS_ADMIN over the caller's mount namespace; EINVAL for
 * unknown flags (MOVE_MOUNT_T_CONTAINER_ROOT too unless the container
 * package set Vfs.mountApiHooks, which then handles the target), BENEATH
 * with SET_GROUP, and do_move_mount()'s rules; ELOOP for a mount into its
 * own subtree.
 */
export const moveMount = (
  task: VfsTask,
  fromDirfd: number,
  fromPath: string | null,
  toDirfd: number,
  toPath: string | null,
  flags: number
): number | SysError => {
  if (!mayMount(task)) return sysError("EPERM", "move_mount")
  const hooks = task.fs.root.mnt.vfs.mountApiHooks
  if ((flags & ~(hooks === undefined ? MOVE_MOUNT__MASK_MAINLINE : MOVE_MOUNT__MASK)) !== 0) return sysError("EINVAL", "move_mount")
  if ((flags & (MOVE_MOUNT_BENEATH | MOVE_MOUNT_SET_GROUP)) === (MOVE_MOUNT_BENEATH | MOVE_MOUNT_SET_GROUP))
    return sysError("EINVAL", "move_mount", "BENEATH with SET_GROUP")
  if (hooks !== undefined && (flags & MOVE_MOUNT_T_CONTAINER_ROOT) !== 0) {
    const from = moveMountFrom(task, fromDirfd, fromPath, flags)
    if ("errno" in from) return from
    return hooks.moveMountContainerRoot(task, from, toDirfd, toPath, flags) ?? 0
  }
  let lookup = 0
  if ((flags & MOVE_MOUNT_T_SYMLINKS) !== 0) lookup |= LOOKUP_FOLLOW
  if ((flags & MOVE_MOUNT_T_AUTOMOUNTS) !== 0) lookup |= LOOKUP_AUTOMOUNT
  const to = moveMountPath(task, toDirfd, toPath, (flags & MOVE_MOUNT_T_EMPTY_PATH) !== 0, lookup)
  if ("errno" in to) return to
  const from = moveMountFrom(task, fromDirfd, fromPath, flags)
  if ("errno" in from) return from
  const fromP: Path = { mnt: from.mnt, dentry: from.dentry }
  const toP: Path = { mnt: to.mnt, dentry: to.dentry }
  const mover = toDirfd >= 0 ? inDirfdMntNs(task, toDirfd, toPath) : task
  const err = (flags & MOVE_MOUNT_SET_GROUP) !== 0 ? doSetGroup(task, fromP, toP) : doMoveMount(mover, fromP, toP, (flags & MOVE_MOUNT_BENEATH) !== 0)
  return err ?? 0
}

/**
 * The task as move_mount sees it when the target is a relative path under
 * a dirfd whose file names another mount namespace (FileOperations.dirfdMntNs):
 * the mount goes into that namespace, as if the caller were in it.
 */
const inDirfdMntNs = (task: VfsTask, dirfd: number, path: string | null): VfsTask => {
  if (path === null || path === "" || path.charCodeAt(0) === 47) return task
  const f = task.files.fdget(dirfd)
  const ns = f?.fop?.dirfdMntNs?.(f)
  if (ns === undefined) return task
  return {
    get cred() {
      return task.cred
    },
    get fs() {
      return task.fs
    },
    get files() {
      return task.files
    },
    mntNs: ns,
    get ipcNs() {
      return task.ipcNs
    },
    get nofile() {
      return task.nofile
    }
  }
}
