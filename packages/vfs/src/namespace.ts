import {
  AT_FDCWD,
  CAP_SYS_ADMIN,
  MNT_DETACH,
  MNT_EXPIRE,
  MNT_FORCE,
  MS_BIND,
  MS_MGC_MSK,
  MS_MGC_VAL,
  MS_MOVE,
  MS_NOATIME,
  MS_NODEV,
  MS_NODIRATIME,
  MS_NOEXEC,
  MS_NOSUID,
  MS_NOSYMFOLLOW,
  MS_NOUSER,
  MS_PRIVATE,
  MS_RDONLY,
  MS_REC,
  MS_RELATIME,
  MS_REMOUNT,
  MS_RMT_MASK,
  MS_SHARED,
  MS_SLAVE,
  MS_STRICTATIME,
  MS_UNBINDABLE,
  sysError,
  type SysError,
  UMOUNT_NOFOLLOW
} from "@simkernel/abi"
import { capable, nsCapable } from "@simkernel/cred"
import {
  FS_USERNS_MOUNT,
  MNT_ATIME_MASK,
  MNT_DOOMED,
  MNT_INTERNAL,
  MNT_LOCK_ATIME,
  MNT_LOCK_NODEV,
  MNT_LOCK_NOEXEC,
  MNT_LOCK_NOSUID,
  MNT_LOCK_READONLY,
  MNT_LOCKED,
  MNT_NOATIME,
  MNT_NODEV,
  MNT_NODIRATIME,
  MNT_NOEXEC,
  MNT_NOSUID,
  MNT_NOSYMFOLLOW,
  MNT_READONLY,
  MNT_RELATIME,
  MNT_UMOUNT,
  MNT_USER_SETTABLE_MASK,
  SB_MOUNT_MASK,
  SB_RDONLY
} from "./constants.js"
import { type Dentry, linkMountedBy, unlinkMountedBy } from "./Dentry.js"
import { FsContext, parseMonolithicMountData, vfsGetTree, vfsParseFsString } from "./FsContext.js"
import { Mount } from "./Mount.js"
import { mntAddToNs, lockMntTree, type MountNamespace } from "./MountNamespace.js"
import { filenameLookup, LOOKUP_AUTOMOUNT, LOOKUP_DIRECTORY, LOOKUP_FOLLOW, LOOKUP_MOUNTPOINT } from "./namei.js"
import type { Path } from "./Path.js"
import {
  addSlave,
  changeMntPropagation,
  CL_COPY_MNT_NS_FILE,
  CL_COPY_UNBINDABLE,
  CL_MAKE_SHARED,
  CL_PRIVATE,
  CL_SHARED_TO_SLAVE,
  CL_SLAVE,
  cleanupGroupIds,
  flagsToPropagationType,
  inventGroupIds,
  joinPeers,
  mntAllocGroupId,
  type PendingChild,
  propagateMnt,
  propagateMountBusy,
  propagateUmount,
  setMntShared
} from "./pnode.js"
import type { Superblock } from "./Superblock.js"
import type { VfsTask } from "./Task.js"
import type { Vfs } from "./Vfs.js"

/** umount_tree() modes. */
export const UMOUNT_SYNC = 1
export const UMOUNT_PROPAGATE = 2
export const UMOUNT_CONNECTED = 4

/** Flags a clone never inherits (MNT_INTERNAL_FLAGS). */
const MNT_INTERNAL_FLAGS = MNT_INTERNAL | MNT_DOOMED | MNT_UMOUNT | MNT_LOCKED

/** Put a list of references once the tree is consistent again (namespace_unlock()). */
const releaseDeferred = (list: Array<Mount>): void => {
  for (const m of list) m.put()
}

/**
 * attach_mnt(): hash `child` on (`parent`, `mp`); the child holds a
 * reference on its parent.
 */
export const attachMnt = (child: Mount, parent: Mount, mp: Dentry): void => {
  child.parent = parent.get()
  child.mountpoint = mp
  linkMountedBy(mp, child)
  ;(parent.children ??= new Map()).set(mp, child)
}

/** unhash_mnt(): take `child` off its parent; the parent's reference goes to `deferred`. */
export const detachMnt = (child: Mount, deferred: Array<Mount>): void => {
  const parent = child.parent
  const mp = child.mountpoint
  if (parent === undefined || mp === undefined) return
  if (parent.children?.get(mp) === child) parent.children.delete(mp)
  if (parent.children?.size === 0) parent.children = undefined
  unlinkMountedBy(mp, child)
  child.parent = undefined
  child.mountpoint = undefined
  deferred.push(parent)
}

/** commit_tree(): the mounts of a freshly attached tree join the parent's namespace. */
const commitTree = (mnt: Mount): void => {
  const ns = mnt.parent?.ns
  if (ns === undefined) return
  for (const m of mnt.subtree()) mntAddToNs(ns, m)
  ns.event++
}

/**
 * alloc_vfsmnt() + vfs_create_mount(): a new, unattached mount of `sb`
 * rooted at `root` (the caller's reference). ENOMEM when mount ids run out.
 */
export const vfsCreateMount = (sb: Superblock, root: Dentry, flags: number, devname: string | undefined): Mount | SysError => {
  const id = sb.vfs.mntIds.alloc()
  if (id === undefined) return sysError("ENOMEM", undefined, "no mount id left")
  return new Mount(sb.vfs, sb, root, flags, devname, id)
}

/**
 * clone_mnt(): a new mount of `old`'s superblock rooted at `root`, with
 * `old`'s flags and devname (never unbindable), and a propagation state
 * chosen by `flag`:
 * a slave of `old` (CL_SLAVE, or CL_SHARED_TO_SLAVE of a shared mount), a
 * peer of `old` (old shared, or CL_MAKE_SHARED), private (CL_PRIVATE); a
 * slave `old` makes a slave of the same master.
 */
export const cloneMnt = (old: Mount, root: Dentry, flag: number): Mount | SysError => {
  const mnt = vfsCreateMount(old.sb, root, old.flags & ~MNT_INTERNAL_FLAGS, old.devname)
  if ("errno" in mnt) return mnt
  // A copy is never unbindable, even when CL_COPY_UNBINDABLE lets an unbindable mount be copied.
  if ((flag & CL_SLAVE) !== 0 || ((flag & CL_SHARED_TO_SLAVE) !== 0 && old.isShared)) addSlave(mnt, old)
  else if ((flag & CL_PRIVATE) === 0) {
    if (((flag & CL_MAKE_SHARED) !== 0 || old.isShared) && old.groupId !== 0) joinPeers(mnt, old)
    if (old.master !== undefined) addSlave(mnt, old.master)
  }
  if ((flag & CL_MAKE_SHARED) !== 0) {
    if (mnt.groupId === 0) {
      const err = mntAllocGroupId(mnt)
      if (err !== undefined) {
        mnt.put()
        return err
      }
    }
    setMntShared(mnt)
  }
  return mnt
}

/**
 * copy_tree(): clone `srcRoot` at `dentry` and every mount below it whose
 * mountpoint lies under `dentry`. Unbindable mounts are EINVAL at the top
 * and skipped below (EPERM if also locked) unless CL_COPY_UNBINDABLE;
 * bind mounts of mount namespace files are skipped below unless
 * CL_COPY_MNT_NS_FILE (a new namespace or a propagated copy never gets
 * one). Locked mounts stay locked in the copy.
 */
export const copyTree = (srcRoot: Mount, dentry: Dentry, flag: number): Mount | SysError => {
  if ((flag & CL_COPY_UNBINDABLE) === 0 && srcRoot.unbindable) return sysError("EINVAL")
  const res = cloneMnt(srcRoot, dentry, flag)
  if ("errno" in res) return res
  const copyChildren = (src: Mount, dst: Mount, top: boolean): SysError | undefined => {
    if (src.children === undefined) return undefined
    for (const child of [...src.children.values()]) {
      if (top && !child.mountpoint!.isSubdir(dentry)) continue
      if ((flag & CL_COPY_UNBINDABLE) === 0 && child.unbindable) {
        if (child.locked) return sysError("EPERM")
        continue
      }
      // a bound mount namespace file is copied only where asked (a loop otherwise)
      if ((flag & CL_COPY_MNT_NS_FILE) === 0 && isMntNsFile(child.root)) continue
      const c = cloneMnt(child, child.root, flag)
      if ("errno" in c) return c
      if (child.locked) c.flags |= MNT_LOCKED
      attachMnt(c, dst, child.mountpoint!)
      const err = copyChildren(child, c, false)
      if (err !== undefined) return err
    }
    return undefined
  }
  const err = copyChildren(srcRoot, res, true)
  if (err !== undefined) {
    umountTree(res, UMOUNT_SYNC)
    return err
  }
  return res
}

/**
 * umount_tree(): take `mnt` and everything below it (and, with
 * UMOUNT_PROPAGATE, the matching mounts in receivers of its parent) out
 * of their namespaces, disconnect them, make them private and drop the
 * tree's reference on each. Mounts still used elsewhere live on detached.
 */
export const umountTree = (mnt: Mount, how: number): void => {
  const set = new Set<Mount>(mnt.subtree())
  if ((how & UMOUNT_PROPAGATE) !== 0) propagateUmount(set)
  const deferred: Array<Mount> = []
  for (const p of set) {
    const ns = p.ns
    if (ns !== undefined) {
      ns.mounts.delete(p)
      ns.event++
      if (ns.root === p) ns.root = undefined
      p.ns = undefined
    }
    p.flags |= MNT_UMOUNT
  }
  for (const p of set) {
    detachMnt(p, deferred)
    changeMntPropagation(p, MS_PRIVATE)
    p.unbindable = false
    deferred.push(p)
  }
  releaseDeferred(deferred)
}

/** count_mounts(): ENOSPC when the namespace would exceed mount-max. */
const countMounts = (ns: MountNamespace | undefined, mnt: Mount): SysError | undefined => {
  if (ns === undefined) return undefined
  let n = 0
  for (const _ of mnt.subtree()) n++
  return ns.nrMounts + n > ns.vfs.mountMax ? sysError("ENOSPC", "mount", "mount-max reached") : undefined
}

/**
 * attach_recursive_mnt(): put the tree `source` on (`dest`, `mp`) and,
 * when `dest` is shared, a copy of it in every mount receiving
 * propagation from `dest` (the copies and `source` become shared). A
 * propagated copy landing where something is already mounted goes under
 * it (mnt_change_mountpoint()). Copies into mounts of a namespace owned by
 * another user namespace than the caller's are locked. `moving` is
 * MS_MOVE of an attached tree.
 */
export const attachRecursiveMnt = (
  task: VfsTask,
  source: Mount,
  dest: Mount,
  mp: Dentry,
  moving: boolean
): SysError | undefined => {
  const ns = dest.ns
  if (!moving) {
    const err = countMounts(ns, source)
    if (err !== undefined) return err
  }
  const pending: Array<PendingChild> = []
  if (dest.isShared) {
    let err = inventGroupIds(source, true)
    if (err !== undefined) return err
    err = propagateMnt(dest, mp, source, (src, flags) => copyTree(src, src.root, flags), pending)
    if (err !== undefined) {
      for (const p of pending) umountTree(p.child, UMOUNT_SYNC)
      cleanupGroupIds(source)
      return err
    }
    for (const p of source.subtree()) setMntShared(p)
  }
  const deferred: Array<Mount> = []
  if (moving) {
    detachMnt(source, deferred)
    attachMnt(source, dest, mp)
    if (source.ns !== ns && ns !== undefined) {
      for (const m of source.subtree()) {
        m.ns?.mounts.delete(m)
        mntAddToNs(ns, m)
      }
    }
    if (ns !== undefined) ns.event++
  } else {
    // A detached tree leaves its anonymous namespace, which no longer owns it.
    const from = source.ns
    if (from !== undefined) {
      for (const m of source.subtree()) from.mounts.delete(m)
      if (from.root === source) from.root = undefined
    }
    attachMnt(source, dest, mp)
    commitTree(source)
  }
  const userNs = task.mntNs.userNs
  for (const { child, parent, mountpoint } of pending) {
    if (parent.ns !== undefined && parent.ns.userNs !== userNs) lockMntTree(child)
    child.flags &= ~MNT_LOCKED
    const q = parent.lookupChild(mountpoint)
    attachMnt(child, parent, mountpoint)
    if (q !== undefined) {
      detachMnt(q, deferred)
      attachMnt(q, child, child.root)
    }
    commitTree(child)
  }
  releaseDeferred(deferred)
  return undefined
}

/** check_mnt(): the mount belongs to the caller's namespace. */
export const checkMnt = (task: VfsTask, mnt: Mount): boolean => mnt.ns === task.mntNs

/** may_mount(): CAP_SYS_ADMIN over the caller's mount namespace. */
export const mayMount = (task: VfsTask): boolean => nsCapable(task.cred, task.mntNs.userNs, CAP_SYS_ADMIN)

/**
 * lock_mount(): the place a mount goes: the top-most mount stacked on
 * `path` (a new mount goes on top of it). ENOENT for an unlinked
 * directory.
 */
export const lockMount = (path: Path): Path | SysError => {
  let { mnt, dentry } = path
  if (dentry.unhashed && !dentry.isRoot) return sysError("ENOENT")
  for (;;) {
    const child = mnt.lookupChild(dentry)
    if (child === undefined) return { mnt, dentry }
    mnt = child
    dentry = child.root
  }
}

/** graft_tree(): ENOTDIR when a directory would go on a file or the reverse, then attach. */
const graftTree = (task: VfsTask, mnt: Mount, where: Path): SysError | undefined => {
  if (where.dentry.inode.isDir !== mnt.root.inode.isDir) return sysError("ENOTDIR")
  return attachRecursiveMnt(task, mnt, where.mnt, where.dentry, false)
}

/** has_locked_children(): a locked mount below `dentry` in `mnt`. */
export const hasLockedChildren = (mnt: Mount, dentry: Dentry): boolean => {
  if (mnt.children === undefined) return false
  for (const c of mnt.children.values()) if (c.locked && c.mountpoint!.isSubdir(dentry)) return true
  return false
}

/** The per-mount flags of mount(2)'s flags (path_mount()). */
export const msFlagsToMntFlags = (flags: number): number => {
  let mntFlags = 0
  if ((flags & MS_NOATIME) === 0) mntFlags |= MNT_RELATIME
  if (flags & MS_NOSUID) mntFlags |= MNT_NOSUID
  if (flags & MS_NODEV) mntFlags |= MNT_NODEV
  if (flags & MS_NOEXEC) mntFlags |= MNT_NOEXEC
  if (flags & MS_NOATIME) mntFlags |= MNT_NOATIME
  if (flags & MS_NODIRATIME) mntFlags |= MNT_NODIRATIME
  if (flags & MS_STRICTATIME) mntFlags &= ~(MNT_RELATIME | MNT_NOATIME)
  if (flags & MS_RDONLY) mntFlags |= MNT_READONLY
  if (flags & MS_NOSYMFOLLOW) mntFlags |= MNT_NOSYMFOLLOW
  return mntFlags
}

/** can_change_locked_flags(): flags locked by a namespace copy cannot be cleared, nor the atime mode changed. */
export const canChangeLockedFlags = (mnt: Mount, mntFlags: number): boolean => {
  const fl = mnt.flags
  if (fl & MNT_LOCK_READONLY && !(mntFlags & MNT_READONLY)) return false
  if (fl & MNT_LOCK_NODEV && !(mntFlags & MNT_NODEV)) return false
  if (fl & MNT_LOCK_NOSUID && !(mntFlags & MNT_NOSUID)) return false
  if (fl & MNT_LOCK_NOEXEC && !(mntFlags & MNT_NOEXEC)) return false
  if (fl & MNT_LOCK_ATIME && (fl & MNT_ATIME_MASK) !== (mntFlags & MNT_ATIME_MASK)) return false
  return true
}

/** set_mount_attributes(): replace the user-settable flags. */
const setMountAttributes = (mnt: Mount, mntFlags: number): void => {
  mnt.flags = mntFlags | (mnt.flags & ~MNT_USER_SETTABLE_MASK)
}

/** mnt_make_readonly() / change_mount_ro_state(): EBUSY while the mount has files open for writing. */
const changeMountRoState = (mnt: Mount, mntFlags: number): SysError | undefined => {
  const ro = (mntFlags & MNT_READONLY) !== 0
  if (ro === mnt.readonly) return undefined
  if (ro && mnt.writers > 0) return sysError("EBUSY", "mount", "files are open for writing")
  return undefined
}

/** do_reconfigure_mnt(): MS_REMOUNT|MS_BIND changes only the per-mount flags. */
const doReconfigureMnt = (task: VfsTask, path: Path, mntFlags: number): SysError | undefined => {
  const mnt = path.mnt
  if (!checkMnt(task, mnt)) return sysError("EINVAL", "mount")
  if (path.dentry !== mnt.root) return sysError("EINVAL", "mount")
  if (!canChangeLockedFlags(mnt, mntFlags)) return sysError("EPERM", "mount", "locked mount flags")
  const err = changeMountRoState(mnt, mntFlags)
  if (err !== undefined) return err
  setMountAttributes(mnt, mntFlags)
  return undefined
}

/**
 * reconfigure_super(): apply a reconfiguration context to its
 * superblock: only MS_RMT_MASK flags may change (EINVAL), going read-only
 * needs no writers (EBUSY), then the type's reconfigure and the flags.
 */
export const reconfigureSuper = (fc: FsContext): SysError | undefined => {
  const sb = fc.sb!
  if ((fc.sbFlagsMask & ~MS_RMT_MASK) !== 0) return sysError("EINVAL")
  fc.phase = "reconfiguring"
  const remountRo = (fc.sbFlagsMask & SB_RDONLY) !== 0 && (fc.sbFlags & SB_RDONLY) !== 0 && !sb.rdonly
  let err: SysError | undefined
  if (remountRo && sb.writers > 0) err = sysError("EBUSY", undefined, "files are open for writing")
  else err = sb.type.reconfigure(fc, sb)
  if (err !== undefined) {
    fc.phase = "failed"
    return err
  }
  sb.flags = (sb.flags & ~fc.sbFlagsMask) | (fc.sbFlags & fc.sbFlagsMask)
  fc.phase = "awaiting-reconf"
  return undefined
}

/** fs_context_for_reconfigure(): a context on a live superblock (holding it). */
export const fsContextForReconfigure = (task: VfsTask, sb: Superblock, sbFlags: number, sbFlagsMask: number): FsContext => {
  const fc = new FsContext(sb.vfs, sb.type, "reconfigure", task.cred, sb.userNs, sbFlags, sbFlagsMask)
  fc.setSuperblock(sb.get())
  return fc
}

/** do_remount(): reconfigure the superblock from `data`, then replace the mount's flags. */
const doRemount = (task: VfsTask, path: Path, sbFlags: number, mntFlags: number, data: string | null): SysError | undefined => {
  const mnt = path.mnt
  if (!checkMnt(task, mnt)) return sysError("EINVAL", "mount")
  if (path.dentry !== mnt.root) return sysError("EINVAL", "mount")
  if (!canChangeLockedFlags(mnt, mntFlags)) return sysError("EPERM", "mount", "locked mount flags")
  const fc = fsContextForReconfigure(task, mnt.sb, sbFlags, MS_RMT_MASK)
  try {
    fc.oldapi = true
    let err = parseMonolithicMountData(fc, data ?? undefined)
    if (err !== undefined) return err
    if (!nsCapable(task.cred, mnt.sb.userNs, CAP_SYS_ADMIN)) return sysError("EPERM", "mount")
    err = reconfigureSuper(fc)
    if (err !== undefined) return err
    setMountAttributes(mnt, mntFlags)
    return undefined
  } finally {
    fc.put()
  }
}

/** A dentry of nsfs (ns_dentry_operations): what /proc/PID/ns/KIND leads to, bindable from the internal nsfs mount. */
const isNsDentry = (d: Dentry): boolean => d.inode.sb.type.name === "nsfs" && !d.isRoot

/**
 * mnt_ns_loop(): binding a mount namespace's file into a namespace that is
 * not older than it (its own included) could make a reference loop.
 */
const mntNsLoop = (task: VfsTask, d: Dentry): boolean =>
  isMntNsFile(d) && task.mntNs.seq >= (d.inode.data as MountNamespace).seq

/** is_mnt_ns_file(): the nsfs file of a mount namespace. */
const isMntNsFile = (d: Dentry): boolean => isNsDentry(d) && (d.inode.data as { readonly kind: string }).kind === "mnt"

/**
 * do_loopback(): MS_BIND (with MS_REC, the whole subtree) of `oldName` on
 * `path`. EINVAL for an empty source, an unbindable source, a source or
 * target outside the caller's namespace (a namespace file excepted, which
 * keeps its namespace alive while bound), a mount namespace loop, or
 * locked mounts that a non-recursive bind would reveal.
 */
const doLoopback = (task: VfsTask, path: Path, oldName: string | null, recurse: boolean): SysError | undefined => {
  if (oldName === null || oldName === "") return sysError("EINVAL", "mount")
  const old = filenameLookup(task, AT_FDCWD, oldName, LOOKUP_FOLLOW | LOOKUP_AUTOMOUNT)
  if ("errno" in old) return old
  const where = lockMount(path)
  if ("errno" in where) return where
  if (!checkMnt(task, where.mnt)) return sysError("EINVAL", "mount")
  const src = old.mnt
  if (mntNsLoop(task, old.dentry)) return sysError("EINVAL", "mount", "mount namespace loop")
  if (src.unbindable) return sysError("EINVAL", "mount", "unbindable source")
  if (!checkMnt(task, src) && !isNsDentry(old.dentry)) return sysError("EINVAL", "mount", "source in another namespace")
  if (!recurse && hasLockedChildren(src, old.dentry)) return sysError("EINVAL", "mount")
  const mnt = recurse ? copyTree(src, old.dentry, CL_COPY_MNT_NS_FILE) : cloneMnt(src, old.dentry, 0)
  if ("errno" in mnt) return mnt
  mnt.flags &= ~MNT_LOCKED
  const err = graftTree(task, mnt, where)
  if (err !== undefined) umountTree(mnt, UMOUNT_SYNC)
  return err
}

/** do_change_type(): MS_SHARED/MS_PRIVATE/MS_SLAVE/MS_UNBINDABLE (± MS_REC) on a mount root. */
const doChangeType = (task: VfsTask, path: Path, flags: number): SysError | undefined => {
  const mnt = path.mnt
  if (path.dentry !== mnt.root) return sysError("EINVAL", "mount", "not a mount root")
  const type = flagsToPropagationType(flags)
  if (type === 0) return sysError("EINVAL", "mount", "bad propagation flags")
  if (!checkMnt(task, mnt)) return sysError("EINVAL", "mount")
  const recurse = (flags & MS_REC) !== 0
  if (type === MS_SHARED) {
    const err = inventGroupIds(mnt, recurse)
    if (err !== undefined) return err
  }
  for (const m of recurse ? [...mnt.subtree()] : [mnt]) changeMntPropagation(m, type)
  return undefined
}

/** tree_contains_unbindable(). */
const treeContainsUnbindable = (mnt: Mount): boolean => {
  for (const m of mnt.subtree()) if (m.unbindable) return true
  return false
}

/**
 * can_move_mount_beneath(): `to` (the top mount on the target) must be an
 * attached mount root with a parent, not locked, not the caller's root nor
 * on the namespace's root mount, and `from` must not be overmounted nor
 * lie above `to`.
 */
const canMoveMountBeneath = (task: VfsTask, from: Path, mntTo: Mount, toDentry: Dentry): SysError | undefined => {
  const parentTo = mntTo.parent
  if (parentTo === undefined) return sysError("EINVAL", "move_mount", "the target has no parent")
  if (toDentry !== mntTo.root) return sysError("EINVAL", "move_mount", "the target is not a mount root")
  if (mntTo.locked) return sysError("EINVAL", "move_mount")
  if (from.mnt.lookupChild(from.dentry) !== undefined) return sysError("EINVAL", "move_mount", "the source is overmounted")
  if (mntTo === task.fs.root.mnt || parentTo === task.mntNs.root) return sysError("EINVAL", "move_mount", "beneath the root")
  for (let q: Mount | undefined = from.mnt; q?.parent !== undefined; q = q.parent) if (q === mntTo) return sysError("EINVAL", "move_mount")
  return undefined
}

/**
 * do_move_mount(): move the mount whose root `oldPath` is onto `newPath`
 * (with `beneath`, MOVE_MOUNT_BENEATH: between the top mount on `newPath`
 * and what it sits on). EINVAL unless the source is a mount root, attached
 * in the caller's namespace, not locked, under a parent that is not shared
 * (or the root of a detached tree going to the caller's namespace or
 * another detached tree), the types match, and no unbindable mount would
 * go under a shared one; ELOOP to move a mount into its own subtree or onto
 * itself. A detached tree's anonymous namespace is freed once attached.
 */
export const doMoveMount = (task: VfsTask, oldPath: Path, newPath: Path, beneath = false): SysError | undefined => {
  const where = lockMount(newPath)
  if ("errno" in where) return where
  const old = oldPath.mnt
  let p = where.mnt
  const parent = old.parent
  const attached = parent !== undefined
  if (old.ns === undefined) return sysError("EINVAL", "mount")
  if (checkMnt(task, old)) {
    if (!attached || old.locked) return sysError("EINVAL", "mount")
    if (parent.isShared) return sysError("EINVAL", "mount", "the source's parent is shared")
    if (!checkMnt(task, p)) return sysError("EINVAL", "mount")
  } else {
    if (!(old.ns.anon && old.ns.root === old)) return sysError("EINVAL", "mount")
    if (!checkMnt(task, p) && !(p.ns?.anon === true && p.ns !== old.ns)) return sysError("EINVAL", "mount")
  }
  if (old.root !== oldPath.dentry) return sysError("EINVAL", "mount", "not a mount root")
  if (where.dentry.inode.isDir !== oldPath.dentry.inode.isDir) return sysError("EINVAL", "mount")
  let mp = where.dentry
  const top = p
  if (beneath) {
    const err = canMoveMountBeneath(task, oldPath, top, where.dentry)
    if (err !== undefined) return err
    mp = top.mountpoint!
    p = top.parent!
  }
  if (p.isShared && treeContainsUnbindable(old)) return sysError("EINVAL", "mount")
  for (let q: Mount | undefined = p; q?.parent !== undefined; q = q.parent) if (q === old) return sysError("ELOOP", "mount")
  const from = old.ns
  const deferred: Array<Mount> = []
  // MOVE_MOUNT_BENEATH: the source takes the top mount's place, and the top mount goes on the source's root.
  if (beneath) detachMnt(top, deferred)
  const err = attachRecursiveMnt(task, old, p, mp, attached)
  if (beneath) attachMnt(top, err === undefined ? old : p, err === undefined ? old.root : mp)
  releaseDeferred(deferred)
  // The detached tree's anonymous namespace is empty now: free it (free_mnt_ns()).
  if (err === undefined && from.anon && from.root === undefined) from.put()
  return err
}

/**
 * do_new_mount(): a new superblock of `fstype` configured from `source`
 * and the option string, mounted on `path`. EINVAL without a type, ENODEV
 * for an unknown one, EPERM without CAP_SYS_ADMIN where the type allows
 * user-namespace mounts (else in the initial namespace), EBUSY for the same
 * filesystem on its own root, the type's errors (EINVAL for bad options).
 */
const doNewMount = (
  task: VfsTask,
  path: Path,
  fstype: string | null,
  sbFlags: number,
  mntFlags: number,
  source: string | null,
  data: string | null
): SysError | undefined => {
  if (fstype === null) return sysError("EINVAL", "mount", "no filesystem type")
  const vfs = path.mnt.vfs
  const type = vfs.getFsType(fstype)
  if (type === undefined) return sysError("ENODEV", "mount", `unknown filesystem type '${fstype}'`)
  const fc = new FsContext(vfs, type, "mount", task.cred, task.cred.userNs, sbFlags, 0, task.ipcNs)
  try {
    let err = source === null ? undefined : vfsParseFsString(fc, "source", source)
    if (err === undefined) err = parseMonolithicMountData(fc, data ?? undefined)
    if (err === undefined) {
      const ok = (type.fsFlags & FS_USERNS_MOUNT) !== 0 ? nsCapable(task.cred, fc.userNs, CAP_SYS_ADMIN) : capable(task.cred, CAP_SYS_ADMIN)
      if (!ok) err = sysError("EPERM", "mount")
    }
    if (err === undefined) err = vfsGetTree(fc)
    if (err !== undefined) return err
    return doNewMountFc(task, fc, path, mntFlags)
  } finally {
    fc.put()
  }
}

/** do_new_mount_fc() + do_add_mount(): mount the context's superblock on `path`. */
export const doNewMountFc = (task: VfsTask, fc: FsContext, path: Path, mntFlags: number): SysError | undefined => {
  const sb = fc.sb!
  const where = lockMount(path)
  if ("errno" in where) return where
  if (!checkMnt(task, where.mnt)) return sysError("EINVAL", "mount")
  if (where.mnt.sb === sb && where.mnt.root === where.dentry) return sysError("EBUSY", "mount")
  if (sb.root.inode.isLnk) return sysError("EINVAL", "mount")
  const mnt = vfsCreateMount(sb, sb.root, mntFlags & ~MNT_INTERNAL_FLAGS, fc.source)
  if ("errno" in mnt) return mnt
  const err = graftTree(task, mnt, where)
  if (err !== undefined) mnt.put()
  return err
}

/**
 * mount(2) (do_mount() + path_mount()): resolve the target (following
 * symlinks), then, in Linux's order: MS_REMOUNT|MS_BIND, MS_REMOUNT,
 * MS_BIND, a propagation change, MS_MOVE, or a new mount. EPERM without
 * CAP_SYS_ADMIN over the caller's mount namespace.
 */
export const doMount = (
  task: VfsTask,
  source: string | null,
  target: string,
  fstype: string | null,
  flags: number,
  data: string | null
): SysError | undefined => {
  const nd = filenameLookup(task, AT_FDCWD, target, LOOKUP_FOLLOW)
  if ("errno" in nd) return nd
  const path = nd.path()
  if ((flags & MS_MGC_MSK) >>> 0 === MS_MGC_VAL) flags &= ~MS_MGC_MSK
  if ((flags & MS_NOUSER) !== 0) return sysError("EINVAL", "mount")
  if (!mayMount(task)) return sysError("EPERM", "mount")
  let mntFlags = msFlagsToMntFlags(flags)
  if ((flags & MS_REMOUNT) !== 0 && (flags & (MS_NOATIME | MS_NODIRATIME | MS_RELATIME | MS_STRICTATIME)) === 0) {
    mntFlags = (mntFlags & ~MNT_ATIME_MASK) | (path.mnt.flags & MNT_ATIME_MASK)
  }
  const sbFlags = flags & SB_MOUNT_MASK
  if ((flags & (MS_REMOUNT | MS_BIND)) === (MS_REMOUNT | MS_BIND)) return doReconfigureMnt(task, path, mntFlags)
  if ((flags & MS_REMOUNT) !== 0) return doRemount(task, path, sbFlags, mntFlags, data)
  if ((flags & MS_BIND) !== 0) return doLoopback(task, path, source, (flags & MS_REC) !== 0)
  if ((flags & (MS_SHARED | MS_PRIVATE | MS_SLAVE | MS_UNBINDABLE)) !== 0) return doChangeType(task, path, flags)
  if ((flags & MS_MOVE) !== 0) {
    if (source === null || source === "") return sysError("EINVAL", "mount")
    const old = filenameLookup(task, AT_FDCWD, source, LOOKUP_FOLLOW)
    if ("errno" in old) return old
    return doMoveMount(task, old.path(), path)
  }
  return doNewMount(task, path, fstype, sbFlags, mntFlags, source, data)
}

/**
 * umount2(2): EINVAL for unknown flags, a path that is not a mount root,
 * a mount of another namespace, a locked mount, MNT_EXPIRE with
 * MNT_DETACH/MNT_FORCE or on the root; EPERM without CAP_SYS_ADMIN over
 * the namespace (MNT_FORCE: in the initial namespace); MNT_EXPIRE marks an
 * unused mount first (EAGAIN) and unmounts it on the second call (EBUSY if
 * in use); EBUSY for a mount in use without MNT_DETACH. Unmounting the
 * caller's root without MNT_DETACH remounts it read-only instead.
 */
export const ksysUmount = (task: VfsTask, name: string, flags: number): SysError | undefined => {
  if ((flags & ~(MNT_FORCE | MNT_DETACH | MNT_EXPIRE | UMOUNT_NOFOLLOW)) !== 0) return sysError("EINVAL", "umount2")
  const lookup = LOOKUP_MOUNTPOINT | ((flags & UMOUNT_NOFOLLOW) === 0 ? LOOKUP_FOLLOW : 0)
  const nd = filenameLookup(task, AT_FDCWD, name, lookup)
  if ("errno" in nd) return nd
  return pathUmount(task, nd.path(), flags)
}

/** path_umount(): can_umount() then do_umount(). */
export const pathUmount = (task: VfsTask, path: Path, flags: number): SysError | undefined => {
  const mnt = path.mnt
  if (!mayMount(task)) return sysError("EPERM", "umount2")
  if (path.dentry !== mnt.root) return sysError("EINVAL", "umount2", "not a mount point")
  if (!checkMnt(task, mnt)) return sysError("EINVAL", "umount2")
  if (mnt.locked) return sysError("EINVAL", "umount2", "locked mount")
  if ((flags & MNT_FORCE) !== 0 && !capable(task.cred, CAP_SYS_ADMIN)) return sysError("EPERM", "umount2")
  if ((flags & MNT_EXPIRE) !== 0) {
    if (mnt === task.fs.root.mnt || (flags & (MNT_FORCE | MNT_DETACH)) !== 0) return sysError("EINVAL", "umount2")
    if (mnt.count() !== 1) return sysError("EBUSY", "umount2")
    if (!mnt.expiryMark) {
      mnt.expiryMark = true
      return sysError("EAGAIN", "umount2")
    }
  }
  if (mnt === task.fs.root.mnt && (flags & MNT_DETACH) === 0) {
    if (!nsCapable(task.cred, mnt.sb.userNs, CAP_SYS_ADMIN)) return sysError("EPERM", "umount2")
    if (mnt.sb.rdonly) return undefined
    const fc = fsContextForReconfigure(task, mnt.sb, SB_RDONLY, SB_RDONLY)
    try {
      return reconfigureSuper(fc)
    } finally {
      fc.put()
    }
  }
  if (mnt.parent === undefined) return sysError("EINVAL", "umount2")
  if ((flags & MNT_DETACH) !== 0) {
    umountTree(mnt, UMOUNT_PROPAGATE)
    return undefined
  }
  if (propagateMountBusy(mnt)) return sysError("EBUSY", "umount2")
  umountTree(mnt, UMOUNT_PROPAGATE | UMOUNT_SYNC)
  return undefined
}

/** is_path_reachable(): can (mnt, dentry) be reached going down from `root`? */
export const isPathReachable = (mnt: Mount, dentry: Dentry, root: Path): boolean => {
  let m = mnt
  let d = dentry
  while (m !== root.mnt && m.parent !== undefined) {
    d = m.mountpoint!
    m = m.parent
  }
  return m === root.mnt && d.isSubdir(root.dentry)
}

/**
 * chroot_fs_refs(): every fs_struct whose root or cwd was `oldRoot` moves
 * to `newRoot` (Linux walks every process; the Vfs keeps its fs_structs),
 * then every other root holder registered in Vfs.pivotRootHooks.
 */
export const chrootFsRefs = (vfs: Vfs, oldRoot: Path, newRoot: Path): void => {
  for (const fs of vfs.fsStructs) {
    if (fs.root.mnt === oldRoot.mnt && fs.root.dentry === oldRoot.dentry) fs.setRoot(newRoot)
    if (fs.pwd.mnt === oldRoot.mnt && fs.pwd.dentry === oldRoot.dentry) fs.setPwd(newRoot)
  }
  for (const hook of vfs.pivotRootHooks) hook(oldRoot, newRoot)
}

/**
 * pivot_root(2): make the mount at `newRoot` the root and put the old
 * root on `putOld`, as the man page lists: EPERM without CAP_SYS_ADMIN;
 * EINVAL when a mount involved (put_old's, new_root's parent, the root's
 * parent) is shared, new_root or the root is not a mount point or not
 * attached, new_root is locked or outside the caller's namespace, put_old
 * is not at or under new_root, or new_root is not under the root; ENOENT
 * for an unlinked new_root; EBUSY when new_root or put_old is on the
 * current root mount; ENOTDIR for non-directories.
 */
export const pivotRoot = (task: VfsTask, newRoot: string, putOld: string): SysError | undefined => {
  if (!mayMount(task)) return sysError("EPERM", "pivot_root")
  const ndNew = filenameLookup(task, AT_FDCWD, newRoot, LOOKUP_FOLLOW | LOOKUP_DIRECTORY)
  if ("errno" in ndNew) return ndNew
  const newPath = ndNew.path()
  const ndOld = filenameLookup(task, AT_FDCWD, putOld, LOOKUP_FOLLOW | LOOKUP_DIRECTORY)
  if ("errno" in ndOld) return ndOld
  const root = task.fs.root
  const oldWhere = lockMount(ndOld.path())
  if ("errno" in oldWhere) return oldWhere
  const newMnt = newPath.mnt
  const rootMnt = root.mnt
  const oldMnt = oldWhere.mnt
  const exParent = newMnt.parent
  const rootParent = rootMnt.parent
  if (oldMnt.isShared || exParent?.isShared === true || rootParent?.isShared === true) return sysError("EINVAL", "pivot_root")
  if (!checkMnt(task, rootMnt) || !checkMnt(task, newMnt)) return sysError("EINVAL", "pivot_root")
  if (newMnt.locked) return sysError("EINVAL", "pivot_root")
  if (newPath.dentry.unhashed && !newPath.dentry.isRoot) return sysError("ENOENT", "pivot_root")
  if (newMnt === rootMnt || oldMnt === rootMnt) return sysError("EBUSY", "pivot_root")
  if (root.dentry !== rootMnt.root) return sysError("EINVAL", "pivot_root", "the root is not a mount point")
  if (rootParent === undefined) return sysError("EINVAL", "pivot_root", "the root is not attached")
  if (newPath.dentry !== newMnt.root) return sysError("EINVAL", "pivot_root", "new_root is not a mount point")
  if (exParent === undefined) return sysError("EINVAL", "pivot_root", "new_root is not attached")
  if (!isPathReachable(oldMnt, oldWhere.dentry, newPath)) return sysError("EINVAL", "pivot_root", "put_old is not under new_root")
  if (!isPathReachable(newMnt, newPath.dentry, root)) return sysError("EINVAL", "pivot_root", "new_root is not under the root")
  const oldRoot: Path = { mnt: rootMnt, dentry: root.dentry }
  const deferred: Array<Mount> = []
  newMnt.get()
  rootMnt.get()
  detachMnt(newMnt, deferred)
  const rootMp = rootMnt.mountpoint!
  detachMnt(rootMnt, deferred)
  if (rootMnt.locked) {
    newMnt.flags |= MNT_LOCKED
    rootMnt.flags &= ~MNT_LOCKED
  }
  attachMnt(rootMnt, oldMnt, oldWhere.dentry)
  attachMnt(newMnt, rootParent, rootMp)
  task.mntNs.event++
  const newRootPath: Path = { mnt: newMnt, dentry: newMnt.root }
  chrootFsRefs(task.fs.vfs, oldRoot, newRootPath)
  releaseDeferred(deferred)
  newMnt.put()
  rootMnt.put()
  return undefined
}
