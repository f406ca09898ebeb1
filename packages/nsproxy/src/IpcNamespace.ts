import { sysError, type SysError } from "@simkernel/abi"
import { NsCommon, nsInitInum, type UserNamespace } from "@simkernel/cred"
import type { Held } from "@simkernel/kref"

/**
 * An IPC namespace, as ipc/namespace.c: an identity that System V IPC ids
 * and the mqueue filesystem hang off. The mqueue superblock is attached by
 * the VFS (one per IPC namespace) and released with the namespace.
 */
export class IpcNamespace extends NsCommon {
  readonly kind = "ipc"
  private mqueue: unknown

  private constructor(owner: UserNamespace, inum: number) {
    super({ ownerNs: owner, inum })
  }

  static createInit(owner: UserNamespace): IpcNamespace {
    return new IpcNamespace(owner, nsInitInum("ipc"))
  }

  /** copy_ipcs() with CLONE_NEWIPC: a fresh, empty namespace. */
  clone(owner: UserNamespace): IpcNamespace | SysError {
    const inum = owner.inums.alloc()
    if (inum === undefined) return sysError("ENOSPC", "unshare", "no nsfs inode number left")
    return new IpcNamespace(owner, inum)
  }

  /** The mqueue superblock of this namespace (ipc_ns->mq_mnt), if one was made. */
  get mqueueSuperblock(): unknown {
    return this.mqueue
  }

  /**
   * Attach the mqueue superblock, with how to release it when this namespace
   * goes (the namespace owns that reference).
   */
  attachMqueue(sb: unknown, release: Held): void {
    this.mqueue = sb
    this.hold(release)
    this.hold(() => {
      this.mqueue = undefined
    })
  }
}
