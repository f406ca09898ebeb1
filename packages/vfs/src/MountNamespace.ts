import { CAP_SYS_ADMIN, CAP_SYS_CHROOT, sysError, type SysError } from "@simkernel/abi"
import { nsCapable, NsCommon, nsInitInum, type UserNamespace } from "@simkernel/cred"
import type { NamespaceOps, NsSet, NsTaskContext } from "@simkernel/nsproxy"
import { MNT_LOCK_ATIME, MNT_LOCK_NODEV, MNT_LOCK_NOEXEC, MNT_LOCK_NOSUID, MNT_LOCK_READONLY, MNT_LOCKED, MNT_NODEV, MNT_NOEXEC, MNT_NOSUID, MNT_READONLY } from "./constants.js"
import type { FsStruct } from "./FsStruct.js"
import type { Mount } from "./Mount.js"
import { copyTree, umountTree } from "./namespace.js"
import type { Path } from "./Path.js"
import { CL_COPY_UNBINDABLE, CL_EXPIRE, CL_SHARED_TO_SLAVE } from "./pnode.js"
import type { Vfs } from "./Vfs.js"

/**
 * A mount namespace, as fs/mount.h struct mnt_namespace: a tree of mounts
 * under `root`, the user namespace that owns it (ns_common.owner), and its
 * nsfs identity. Registered with nsproxy as the "mnt" kind
 * (mntNamespaceOps). `anon` marks the private namespace of a detached tree
 * (fsmount/open_tree), which setns refuses.
 *
 * Holds the tree: when the namespace is freed, the whole tree is
 * unmounted (put_mnt_ns() -> umount_tree()), and mounts still in use (open
 * files, cwds elsewhere) live on, detached, until their last user goes.
 */
export class MountNamespace extends NsCommon {
  readonly kind = "mnt"
  readonly vfs: Vfs
  root: Mount | undefined = undefined
  /** Every mount in the namespace (ns->mounts). */
  readonly mounts = new Set<Mount>()
  readonly seq: number
  readonly anon: boolean
  /** Changes to the tree, for poll on /proc/PID/mounts (ns->event). */
  event = 0
  /** An anonymous namespace: the seq of the namespace its tree came from (seq_origin); 0 for fsmount. */
  seqOrigin = 0

  constructor(vfs: Vfs, owner: UserNamespace, inum: number, anon: boolean) {
    super({ ownerNs: owner, inum, registry: vfs.registry, origin: "mount namespace" })
    this.vfs = vfs
    this.anon = anon
    this.seq = vfs.nsSeq++
  }

  /** ns->user_ns. */
  get userNs(): UserNamespace {
    return this.ownerNs!
  }

  get nrMounts(): number {
    return this.mounts.size
  }

  protected override destroy(): void {
    const root = this.root
    this.root = undefined
    if (root !== undefined) umountTree(root, 0)
  }
}

/**
 * alloc_mnt_ns(): an empty namespace owned by `owner`; `init` gives it the
 * fixed inode number of the initial mount namespace.
 */
export const allocMntNs = (vfs: Vfs, owner: UserNamespace, init: boolean, anon = false): MountNamespace | SysError => {
  let inum: number
  if (init) inum = nsInitInum("mnt")
  // An anonymous namespace is never seen through nsfs: no inode number (alloc_mnt_ns(anon)).
  else if (anon) inum = 0
  else {
    const n = owner.inums.alloc()
    if (n === undefined) return sysError("ENOSPC", "unshare", "no nsfs inode number left")
    inum = n
  }
  return new MountNamespace(vfs, owner, inum, anon)
}

/** mnt_add_to_ns(). */
export const mntAddToNs = (ns: MountNamespace, m: Mount): void => {
  m.ns = ns
  ns.mounts.add(m)
}

/**
 * lock_mnt_tree(): after a copy into a less privileged user namespace the
 * mount flags may not be cleared (MNT_LOCK_*) and, below the copy's root,
 * nothing may be unmounted to reveal what it covers (MNT_LOCKED).
 */
export const lockMntTree = (mnt: Mount): void => {
  for (const p of mnt.subtree()) {
    let f = p.flags | MNT_LOCK_ATIME
    if (f & MNT_READONLY) f |= MNT_LOCK_READONLY
    if (f & MNT_NODEV) f |= MNT_LOCK_NODEV
    if (f & MNT_NOSUID) f |= MNT_LOCK_NOSUID
    if (f & MNT_NOEXEC) f |= MNT_LOCK_NOEXEC
    if (p !== mnt) f |= MNT_LOCKED
    p.flags = f
  }
}

/**
 * copy_mnt_ns() for CLONE_NEWNS: a new namespace owned by `userNs` holding
 * a copy of `old`'s whole tree (unbindable mounts included). The task's
 * fs_struct (`fs`, already private to the task) has its root and cwd
 * moved to the matching mounts of the copy. When the owner changes, shared
 * mounts of the copy become slaves of the originals and the copy is locked
 * (lock_mnt_tree()); otherwise copies are peers of the originals.
 */
export const copyMntNs = (old: MountNamespace, userNs: UserNamespace, fs: FsStruct | undefined): MountNamespace | SysError => {
  const oldRoot = old.root
  if (oldRoot === undefined) return sysError("EINVAL", "unshare", "namespace has no root")
  const ns = allocMntNs(old.vfs, userNs, false)
  if ("errno" in ns) return ns
  let flags = CL_COPY_UNBINDABLE | CL_EXPIRE
  if (userNs !== old.userNs) flags |= CL_SHARED_TO_SLAVE
  const copy = copyTree(oldRoot, oldRoot.root, flags)
  if ("errno" in copy) {
    ns.put()
    return copy
  }
  if (userNs !== old.userNs) lockMntTree(copy)
  ns.root = copy
  const olds = [...oldRoot.subtree()]
  const news = [...copy.subtree()]
  let j = 0
  let newRoot: Path | undefined
  let newPwd: Path | undefined
  for (const q of news) {
    mntAddToNs(ns, q)
    while (j < olds.length && olds[j]!.root !== q.root) j++
    const p = olds[j++]
    if (p === undefined || fs === undefined) continue
    if (p === fs.root.mnt) newRoot = { mnt: q, dentry: fs.root.dentry }
    if (p === fs.pwd.mnt) newPwd = { mnt: q, dentry: fs.pwd.dentry }
  }
  if (fs !== undefined) {
    if (newRoot !== undefined) fs.setRoot(newRoot)
    if (newPwd !== undefined) fs.setPwd(newPwd)
  }
  return ns
}

/** The top-most mount on the namespace root (vfs_path_lookup("/", LOOKUP_DOWN)). */
export const mntNsRootPath = (ns: MountNamespace): Path => {
  let mnt = ns.root!
  let dentry = mnt.root
  for (;;) {
    const child = mnt.lookupChild(dentry)
    if (child === undefined) return { mnt, dentry }
    mnt = child
    dentry = child.root
  }
}

/** What mntNamespaceOps needs from the task context: its FsStruct. */
const fsOf = (task: NsTaskContext): FsStruct | undefined => task.fs as FsStruct | undefined

/**
 * The mount namespace's part in clone, unshare and setns (copy_mnt_ns,
 * mntns_install, and the root/cwd reset at commit).
 */
export const mntNamespaceOps: NamespaceOps<MountNamespace> = {
  kind: "mnt",
  copy: (old, userNs, task) => copyMntNs(old, userNs, fsOf(task)),
  install: (nsset: NsSet, ns: MountNamespace) => {
    const userNs = nsset.cred.userNs
    if (
      !nsCapable(nsset.cred, ns.userNs, CAP_SYS_ADMIN) ||
      !nsCapable(nsset.cred, userNs, CAP_SYS_CHROOT) ||
      !nsCapable(nsset.cred, userNs, CAP_SYS_ADMIN)
    )
      return sysError("EPERM", "setns")
    if (ns.anon) return sysError("EINVAL", "setns", "an anonymous mount namespace cannot be entered")
    if (nsset.task.fsUsers !== 1) return sysError("EINVAL", "setns", "fs_struct is shared")
    nsset.nsproxy.replace("mnt", ns.get())
    return undefined
  },
  commit: (nsset: NsSet, ns: MountNamespace) => {
    const fs = fsOf(nsset.task)
    if (fs === undefined) return
    const root = mntNsRootPath(ns)
    fs.setPwd(root)
    fs.setRoot(root)
  }
}

/**
 * mntns_install() for callers without an nsproxy transaction (tests, the
 * conformance runner): the same checks, then the task's root and cwd move
 * to the namespace's root. Returns the error, or undefined; the caller
 * switches its task's mntNs.
 */
export const mntnsInstallCheck = (
  cred: NsSet["cred"],
  ns: MountNamespace,
  fsUsers: number
): SysError | undefined => {
  const userNs = cred.userNs
  if (!nsCapable(cred, ns.userNs, CAP_SYS_ADMIN) || !nsCapable(cred, userNs, CAP_SYS_CHROOT) || !nsCapable(cred, userNs, CAP_SYS_ADMIN))
    return sysError("EPERM", "setns")
  if (ns.anon) return sysError("EINVAL", "setns")
  if (fsUsers !== 1) return sysError("EINVAL", "setns")
  return undefined
}
