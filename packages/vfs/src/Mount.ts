import { Refcounted } from "@simkernel/kref"
import { MNT_LOCKED, MNT_READONLY } from "./constants.js"
import { type Dentry, unlinkMountedBy } from "./Dentry.js"
import type { MountNamespace } from "./MountNamespace.js"
import type { Superblock } from "./Superblock.js"
import type { Vfs } from "./Vfs.js"

/**
 * A mount, as fs/mount.h struct mount: a superblock's subtree (`root`)
 * attached at `mountpoint` in `parent`, with per-mount flags (MNT_*), an id
 * (lowest free, like mnt_id_ida), the namespace it belongs to, and its
 * place in propagation: the peer group it shares (`peers`, one Set object
 * per group, with `groupId`), its master and its slaves.
 *
 * Children are found by (parent mount, dentry) through the parent's
 * `children` map, the role of Linux's mount hash table.
 *
 * References: the tree holds one on every attached mount, a child holds
 * one on its parent, and every File, FsStruct root/pwd and nsfs-style
 * holder holds its own. A mount holds its superblock. So an attached mount
 * with nothing else on it has a count of 1 plus one per child mount, the
 * test umount2() uses for EBUSY.
 */
export class Mount extends Refcounted {
  readonly kind = "Mount"
  readonly mntId: number
  /** Sorts a namespace's mounts the way the kernel lists them (mnt_id_unique order). */
  readonly uniqueId: number
  flags: number
  devname: string | undefined
  parent: Mount | undefined = undefined
  mountpoint: Dentry | undefined = undefined
  ns: MountNamespace | undefined = undefined
  children: Map<Dentry, Mount> | undefined = undefined
  peers: Set<Mount> | undefined = undefined
  groupId = 0
  master: Mount | undefined = undefined
  slaves: Set<Mount> | undefined = undefined
  unbindable = false
  /** MNT_EXPIRE's first call marks the mount; a second unmounts it if nobody touched it. */
  expiryMark = false
  /** Open files with write access through this mount (mnt_get_writers()). */
  writers = 0

  constructor(
    readonly vfs: Vfs,
    readonly sb: Superblock,
    readonly root: Dentry,
    flags: number,
    devname: string | undefined,
    mntId: number
  ) {
    super(vfs.registry, "mount")
    sb.get()
    root.inode.iop?.ihold?.(root.inode)
    this.mntId = mntId
    this.uniqueId = vfs.nextMntUnique++
    this.flags = flags
    this.devname = devname
  }

  get readonly(): boolean {
    return (this.flags & MNT_READONLY) !== 0
  }

  /** __mnt_is_readonly(): the mount or its superblock is read-only. */
  get isReadonly(): boolean {
    return (this.flags & MNT_READONLY) !== 0 || this.sb.rdonly
  }

  get locked(): boolean {
    return (this.flags & MNT_LOCKED) !== 0
  }

  get isShared(): boolean {
    return this.peers !== undefined
  }

  get isSlave(): boolean {
    return this.master !== undefined
  }

  /** __lookup_mnt(): the mount on `dentry` in this mount. */
  lookupChild(dentry: Dentry): Mount | undefined {
    return this.children?.get(dentry)
  }

  /** Every mount below this one, depth first (next_mnt() order). */
  *subtree(): Generator<Mount> {
    const stack: Array<Mount> = [this]
    while (stack.length > 0) {
      const m = stack.pop()!
      yield m
      if (m.children !== undefined) {
        const kids = [...m.children.values()]
        for (let i = kids.length - 1; i >= 0; i--) stack.push(kids[i]!)
      }
    }
  }

  protected override destroy(): void {
    // A mount freed with children still hashed (a detached tree): release them too.
    if (this.children !== undefined) {
      const kids = [...this.children.values()]
      this.children = undefined
      for (const c of kids) {
        unlinkMountedBy(c.mountpoint!, c)
        c.parent = undefined
        c.mountpoint = undefined
        c.put()
      }
    }
    if (this.master !== undefined) {
      this.master.slaves?.delete(this)
      this.master = undefined
    }
    if (this.slaves !== undefined) for (const s of this.slaves) s.master = undefined
    if (this.peers !== undefined) {
      this.peers.delete(this)
      if (this.peers.size === 0) this.vfs.groupIds.free(this.groupId)
      this.peers = undefined
    }
    this.vfs.mntIds.free(this.mntId)
    this.root.inode.iop?.iput?.(this.root.inode)
    this.sb.put()
  }
}
