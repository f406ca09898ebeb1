import { MS_PRIVATE, MS_SHARED, MS_SLAVE, MS_UNBINDABLE, sysError, type SysError } from "@simkernel/abi"
import type { Dentry } from "./Dentry.js"
import type { Mount } from "./Mount.js"

/** copy_tree()/clone_mnt() flags (fs/pnode.h CL_*). */
export const CL_EXPIRE = 0x01
export const CL_SLAVE = 0x02
export const CL_COPY_UNBINDABLE = 0x04
export const CL_MAKE_SHARED = 0x08
export const CL_PRIVATE = 0x10
export const CL_SHARED_TO_SLAVE = 0x20
export const CL_COPY_MNT_NS_FILE = 0x40

/** mnt_alloc_group_id(): the lowest free peer group id. */
export const mntAllocGroupId = (m: Mount): SysError | undefined => {
  const id = m.vfs.groupIds.alloc()
  if (id === undefined) return sysError("ENOMEM", undefined, "no peer group id left")
  m.groupId = id
  return undefined
}

/** mnt_release_group_id(). */
export const mntReleaseGroupId = (m: Mount): void => {
  if (m.groupId !== 0) m.vfs.groupIds.free(m.groupId)
  m.groupId = 0
}

/** set_mnt_shared(): make `m` shared in the group its groupId names (allocated before). */
export const setMntShared = (m: Mount): void => {
  m.unbindable = false
  if (m.peers === undefined) m.peers = new Set([m])
}

/** Join `m` to the peer group of `peer` (list_add to mnt_share). */
export const joinPeers = (m: Mount, peer: Mount): void => {
  m.groupId = peer.groupId
  if (peer.peers === undefined) peer.peers = new Set([peer])
  peer.peers.add(m)
  m.peers = peer.peers
}

/** Make `m` a slave of `master` (list_add to mnt_slave_list). */
export const addSlave = (m: Mount, master: Mount): void => {
  m.master = master
  ;(master.slaves ??= new Set()).add(m)
}

const removeSlave = (m: Mount): void => {
  const master = m.master
  if (master === undefined) return
  master.slaves?.delete(m)
  if (master.slaves?.size === 0) master.slaves = undefined
  m.master = undefined
}

/**
 * invent_group_ids(): give every mount of the tree (or just `mnt`) that
 * is not in a group yet a new group id; undone on failure.
 */
export const inventGroupIds = (mnt: Mount, recurse: boolean): SysError | undefined => {
  const done: Array<Mount> = []
  for (const m of recurse ? mnt.subtree() : [mnt]) {
    if (m.groupId === 0 && !m.isShared) {
      const err = mntAllocGroupId(m)
      if (err !== undefined) {
        for (const d of done) mntReleaseGroupId(d)
        return err
      }
      done.push(m)
    }
  }
  return undefined
}

/** cleanup_group_ids(): release ids invented for mounts that did not become shared. */
export const cleanupGroupIds = (mnt: Mount): void => {
  for (const m of mnt.subtree()) if (m.groupId !== 0 && !m.isShared) mntReleaseGroupId(m)
}

/**
 * do_make_slave(): leave the peer group; the mount becomes a slave of a
 * former peer (one with the same root if there is one) or, alone in its
 * group, keeps its own master (none: it becomes private). Its slaves move
 * to that new master.
 */
const doMakeSlave = (mnt: Mount): void => {
  let master: Mount | undefined
  const peers = mnt.peers
  if (peers === undefined || peers.size <= 1) {
    if (peers !== undefined) {
      mnt.peers = undefined
      mntReleaseGroupId(mnt)
    }
    master = mnt.master
    if (master === undefined) {
      if (mnt.slaves !== undefined) for (const s of mnt.slaves) s.master = undefined
      mnt.slaves = undefined
      return
    }
  } else {
    for (const m of peers) {
      if (m === mnt) continue
      if (master === undefined) master = m
      if (m.root === mnt.root) {
        master = m
        break
      }
    }
    peers.delete(mnt)
    mnt.peers = undefined
    mnt.groupId = 0
  }
  const target = master!
  if (mnt.slaves !== undefined) {
    for (const s of mnt.slaves) {
      s.master = target
      ;(target.slaves ??= new Set()).add(s)
    }
    mnt.slaves = undefined
  }
  removeSlave(mnt)
  addSlave(mnt, target)
}

/**
 * change_mnt_propagation(): MS_SHARED, MS_SLAVE, MS_PRIVATE or
 * MS_UNBINDABLE for one mount, as Documentation/filesystems/
 * sharedsubtree.rst defines them.
 */
export const changeMntPropagation = (mnt: Mount, type: number): void => {
  if (type === MS_SHARED) {
    setMntShared(mnt)
    return
  }
  doMakeSlave(mnt)
  if (type !== MS_SLAVE) {
    removeSlave(mnt)
    mnt.unbindable = type === MS_UNBINDABLE
  }
}

/** flags_to_propagation_type(): exactly one of the four, with nothing but MS_REC/MS_SILENT beside it; else 0. */
export const flagsToPropagationType = (msFlags: number): number => {
  const type = msFlags & ~(0x4000 | 0x8000)
  if ((type & ~(MS_SHARED | MS_PRIVATE | MS_SLAVE | MS_UNBINDABLE)) !== 0) return 0
  if (type === 0 || (type & (type - 1)) !== 0) return 0
  return type
}

/** IS_MNT_NEW(): a mount outside any namespace, or in an anonymous one, receives no propagation. */
const isMntNew = (m: Mount): boolean => m.ns === undefined || m.ns.anon

/**
 * Every mount that receives propagation from `origin`: its peers, their
 * slaves, the slaves' peers, and so on (propagation_next()). The callback
 * gets each once, peers of a group before the group's slaves.
 */
export const forEachReceiver = (origin: Mount, fn: (m: Mount) => void): void => {
  const seen = new Set<Mount>([origin])
  const queue: Array<Mount> = [origin]
  if (origin.peers !== undefined) for (const p of origin.peers) if (!seen.has(p)) (seen.add(p), queue.push(p), fn(p))
  for (let i = 0; i < queue.length; i++) {
    const slaves = queue[i]!.slaves
    if (slaves === undefined) continue
    for (const s of slaves) {
      if (seen.has(s)) continue
      seen.add(s)
      queue.push(s)
      fn(s)
      if (s.peers !== undefined)
        for (const p of s.peers) if (!seen.has(p)) (seen.add(p), queue.push(p), fn(p))
    }
  }
}

/** A propagated copy and the mount it goes on (mnt_set_mountpoint() not yet committed). */
export interface PendingChild {
  readonly child: Mount
  readonly parent: Mount
  readonly mountpoint: Dentry
}

/**
 * propagate_mnt(): mounting `source` on (dest, mp) mounts a copy on `mp`
 * in every mount that receives propagation from `dest` and can see `mp`.
 * A copy in a peer of `dest` is a peer of `source`; a copy in a slave is
 * a slave of the copy its master received (shared, in a new group, when
 * the slave is itself shared), and the rest of that slave's peer group
 * get peers of that copy. `copy` is copy_tree(). The copies are returned
 * for attach_recursive_mnt() to commit.
 */
export const propagateMnt = (
  dest: Mount,
  mp: Dentry,
  source: Mount,
  copy: (src: Mount, flags: number) => Mount | SysError,
  out: Array<PendingChild>
): SysError | undefined => {
  const copies = new Map<Mount, Mount>([[dest, source]])
  const groupsDone = new Set<unknown>([dest.peers ?? dest])
  const queue: Array<Mount> = [dest]
  const receives = (n: Mount): boolean => !isMntNew(n) && mp.isSubdir(n.root)
  const place = (n: Mount, c: Mount): void => {
    copies.set(n, c)
    out.push({ child: c, parent: n, mountpoint: mp })
  }
  if (dest.peers !== undefined) {
    for (const n of dest.peers) {
      if (n === dest) continue
      queue.push(n)
      if (!receives(n)) continue
      const c = copy(source, CL_MAKE_SHARED)
      if ("errno" in c) return c
      place(n, c)
    }
  }
  for (let i = 0; i < queue.length; i++) {
    const slaves = queue[i]!.slaves
    if (slaves === undefined) continue
    for (const s of [...slaves]) {
      const key = s.peers ?? s
      if (groupsDone.has(key)) continue
      groupsDone.add(key)
      const members = s.peers === undefined ? [s] : [s, ...[...s.peers].filter((x) => x !== s)]
      let groupCopy: Mount | undefined
      for (const n of members) {
        queue.push(n)
        if (!receives(n)) continue
        let c: Mount | SysError
        if (groupCopy === undefined) {
          let src: Mount | undefined
          for (let m = n.master; m !== undefined && src === undefined; m = m.master) src = copies.get(m)
          const from = src ?? source
          c = copy(from, CL_SLAVE | (n.isShared ? CL_MAKE_SHARED : 0))
          if ("errno" in c) return c
          groupCopy = c
        } else {
          c = copy(groupCopy, CL_MAKE_SHARED)
          if ("errno" in c) return c
        }
        place(n, c)
      }
    }
  }
  return undefined
}

/**
 * propagate_mount_busy(): a mount is busy if something uses it (open
 * files, cwd, a child mount); when its parent propagates, the matching
 * mounts in the receivers must be unused too.
 */
export const propagateMountBusy = (mnt: Mount): boolean => {
  if (mnt.children !== undefined && mnt.children.size > 0) return true
  if (mnt.count() > 1) return true
  const parent = mnt.parent
  const mp = mnt.mountpoint
  if (parent === undefined || mp === undefined) return false
  let busy = false
  forEachReceiver(parent, (m) => {
    if (busy) return
    const child = m.lookupChild(mp)
    if (child === undefined || child === mnt) return
    const kids = child.children?.size ?? 0
    const topper = kids === 1 && child.lookupChild(child.root) !== undefined
    if (!topper && kids > 0) return
    if (child.count() > 1 + (topper ? 1 : 0)) busy = true
  })
  return busy
}

/**
 * propagate_umount(): unmounting mounts also unmounts, in every receiver
 * of their parents, the mount on the same mountpoint, if nothing is
 * mounted on it (beyond what is going too) and it is not locked.
 * Adds them to `set`.
 */
export const propagateUmount = (set: Set<Mount>): void => {
  // Repeat until nothing is added: a copy becomes removable once its own children are going.
  for (let changed = true; changed; ) {
    changed = false
    for (const mnt of [...set]) {
      const parent = mnt.parent
      const mp = mnt.mountpoint
      if (parent === undefined || mp === undefined) continue
      forEachReceiver(parent, (m) => {
        const child = m.lookupChild(mp)
        if (child === undefined || set.has(child) || child.locked) return
        if (child.children !== undefined) for (const k of child.children.values()) if (!set.has(k)) return
        set.add(child)
        changed = true
      })
    }
  }
}
