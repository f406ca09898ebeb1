import { sysError, type SysError } from "@simkernel/abi"
import { NsCommon, nsInitInum, type UserNamespace } from "@simkernel/cred"

/** include/uapi/linux/utsname.h: each field holds at most 64 bytes. */
export const NEW_UTS_LEN = 64

/** struct new_utsname. */
export interface UtsName {
  readonly sysname: string
  readonly nodename: string
  readonly release: string
  readonly version: string
  readonly machine: string
  readonly domainname: string
}

/** What a booted kernel reports before anyone sets a name (UTS_NODENAME and UTS_DOMAINNAME are "(none)"). */
export const INIT_UTSNAME: UtsName = {
  sysname: "Linux",
  nodename: "(none)",
  release: "6.18.0-simkernel",
  version: "#1 SMP simkernel",
  machine: "x86_64",
  domainname: "(none)"
}

/**
 * A UTS namespace, as kernel/utsname.c: the host and domain names a task
 * sees. A copy (CLONE_NEWUTS) starts with its parent's names.
 */
export class UtsNamespace extends NsCommon {
  readonly kind = "uts"
  private names: UtsName

  private constructor(owner: UserNamespace, inum: number, names: UtsName) {
    super({ ownerNs: owner, inum })
    this.names = names
  }

  /** init_uts_ns. */
  static createInit(owner: UserNamespace, names: UtsName = INIT_UTSNAME): UtsNamespace {
    return new UtsNamespace(owner, nsInitInum("uts"), names)
  }

  /** copy_utsname() with CLONE_NEWUTS: a new namespace owned by `owner` with this one's names. */
  clone(owner: UserNamespace): UtsNamespace | SysError {
    const inum = owner.inums.alloc()
    if (inum === undefined) return sysError("ENOSPC", "unshare", "no nsfs inode number left")
    return new UtsNamespace(owner, inum, this.names)
  }

  get utsname(): UtsName {
    return this.names
  }

  /**
   * sethostname(2) / setdomainname(2) after the permission check: the name
   * is at most 64 bytes (EINVAL) and is cut at its first NUL when read back.
   */
  setName(field: "nodename" | "domainname", name: Uint8Array): SysError | undefined {
    if (name.length > NEW_UTS_LEN) return sysError("EINVAL", field === "nodename" ? "sethostname" : "setdomainname")
    const nul = name.indexOf(0)
    const text = new TextDecoder("latin1").decode(nul < 0 ? name : name.subarray(0, nul))
    this.names = { ...this.names, [field]: text }
    return undefined
  }
}
