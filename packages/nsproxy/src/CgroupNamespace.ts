import { sysError, type SysError } from "@simkernel/abi"
import { NsCommon, nsInitInum, type UserNamespace } from "@simkernel/cred"

/**
 * A cgroup namespace, as kernel/cgroup/namespace.c: the cgroup that looks
 * like the root to tasks inside. A new one is rooted at the creating task's
 * cgroup.
 */
export class CgroupNamespace extends NsCommon {
  readonly kind = "cgroup"

  private constructor(
    owner: UserNamespace,
    inum: number,
    /** Absolute cgroup path of the namespace's root, e.g. "/" or "/system.slice/app". */
    readonly root: string
  ) {
    super({ ownerNs: owner, inum })
  }

  static createInit(owner: UserNamespace): CgroupNamespace {
    return new CgroupNamespace(owner, nsInitInum("cgroup"), "/")
  }

  /** copy_cgroup_ns() with CLONE_NEWCGROUP: rooted at `cgroup`, the creator's cgroup. */
  clone(owner: UserNamespace, cgroup: string): CgroupNamespace | SysError {
    const inum = owner.inums.alloc()
    if (inum === undefined) return sysError("ENOSPC", "unshare", "no nsfs inode number left")
    return new CgroupNamespace(owner, inum, normalizeCgroupPath(cgroup))
  }

  /**
   * A cgroup path as a task in this namespace sees it (cgroup_path_ns()):
   * relative to the root, with ".." steps when it lies outside, as the
   * `0::` line of /proc/PID/cgroup shows.
   */
  pathOf(cgroup: string): string {
    return cgroupPathFrom(this.root, cgroup)
  }
}

const components = (path: string): Array<string> => path.split("/").filter((c) => c !== "")

const normalizeCgroupPath = (path: string): string => (path === "/" ? path : `/${components(path).join("/")}`)

/** kernfs_path_from_node(): the path of `path` seen from `root`, "/" joined. */
export const cgroupPathFrom = (root: string, path: string): string => {
  const from = components(root)
  const to = components(path)
  let common = 0
  while (common < from.length && common < to.length && from[common] === to[common]) common++
  const up = Array.from({ length: from.length - common }, () => "..")
  return `/${[...up, ...to.slice(common)].join("/")}`
}
