import type { Inode } from "./Inode.js"
import type { Mount } from "./Mount.js"

/**
 * A directory entry, as include/linux/dcache.h struct dentry: a name in its
 * parent directory bound to an inode. tmpfs keeps every dentry (there is no
 * backing store to re-read them from), so children live in a Map created
 * with the first child. `mounted` counts mounts on this dentry (d_mounted /
 * DCACHE_MOUNTED), letting the walk skip the mount hash for plain
 * directories. A root dentry is its own parent.
 */
export class Dentry {
  parent: Dentry
  children: Map<string, Dentry> | undefined = undefined
  mounted = 0
  /** The mounts sitting on this dentry, in any namespace (the mountpoint's m_list). */
  mountedBy: Array<Mount> | undefined = undefined
  /** d_unhashed(): removed from its directory (unlinked, rmdir'ed, or replaced by rename). */
  unhashed = false

  constructor(
    public name: string,
    parent: Dentry | undefined,
    public inode: Inode
  ) {
    this.parent = parent ?? this
  }

  get isRoot(): boolean {
    return this.parent === this
  }

  lookup(name: string): Dentry | undefined {
    return this.children?.get(name)
  }

  /** d_add() into this directory. */
  addChild(child: Dentry): void {
    ;(this.children ??= new Map()).set(child.name, child)
  }

  removeChild(child: Dentry): void {
    this.children?.delete(child.name)
  }

  /** Is `this` `ancestor` or below it (is_subdir())? */
  isSubdir(ancestor: Dentry): boolean {
    for (let d: Dentry = this; ; d = d.parent) {
      if (d === ancestor) return true
      if (d.isRoot) return false
    }
  }

  /** The path from the filesystem root ("/a/b"), as dentry_path_raw(). */
  pathFromRoot(): string {
    if (this.isRoot) return "/"
    let out = ""
    for (let d: Dentry = this; !d.isRoot; d = d.parent) out = "/" + d.name + out
    return out
  }
}

/** Record that `m` sits on `d` (a mountpoint's m_list). */
export const linkMountedBy = (d: Dentry, m: Mount): void => {
  d.mounted++
  ;(d.mountedBy ??= []).push(m)
}

/** Forget that `m` sits on `d`. */
export const unlinkMountedBy = (d: Dentry, m: Mount): void => {
  d.mounted--
  const list = d.mountedBy
  if (list === undefined) return
  const i = list.indexOf(m)
  if (i >= 0) list.splice(i, 1)
  if (list.length === 0) d.mountedBy = undefined
}
