import { NSFS_MAGIC, sysError, type SysError } from "@simkernel/abi"
import {
  type Cred,
  fromKuidMunged,
  inUserns,
  nsCloneFlag,
  type NsCommon,
  type UserNamespace
} from "@simkernel/cred"
import { Refcounted } from "@simkernel/kref"
import type { NamespaceOps, NsTaskContext } from "./Namespace.js"
import type { NsKinds } from "./NsProxy.js"

/**
 * A namespace opened as a file, as fs/nsfs.c: what open("/proc/PID/ns/KIND")
 * and the NS_GET_* ioctls return. It holds a reference on the namespace, so
 * the namespace lives while the file is open or bind-mounted somewhere
 * (a bind mount holds the file's inode), with or without any process in it.
 */
export class NsFile extends Refcounted {
  readonly kind = "NsFile"
  readonly ns: NsCommon

  /** Takes over the caller's reference on `ns`. */
  constructor(ns: NsCommon) {
    super(ns.ownerNs?.liveObjects ?? (ns as UserNamespace).liveObjects)
    this.ns = this.hold(ns)
  }

  /** The inode number stat(2) shows: the namespace's nsfs inode number. */
  get ino(): number {
    return this.ns.inum
  }

  /** The link text of /proc/PID/ns/KIND: `mnt:[4026531832]`. */
  get name(): string {
    return nsfsName(this.ns)
  }

  /** statfs f_type of the nsfs filesystem. */
  static readonly magic = NSFS_MAGIC
}

/** `<type>:[<inum>]`, as ns_get_name() prints it. */
export const nsfsName = (ns: NsCommon): string => `${ns.kind}:[${ns.inum}]`

/** open("/proc/PID/ns/KIND"): a new file on `ns` (takes its own reference). */
export const openNamespace = (ns: NsCommon): NsFile => new NsFile(ns.get())

/**
 * ns_get_owner(): a new reference to the user namespace owning `ns` when it
 * is the caller's user namespace or below it; EPERM otherwise, and for the
 * initial user namespace, which has no owner.
 */
const ownerInReach = (ns: NsCommon, caller: Cred): UserNamespace | SysError => {
  const owner = ns.ownerNs
  if (owner === undefined || !inUserns(caller.userNs, owner)) {
    return sysError("EPERM", "ioctl", "the owning user namespace is outside the caller's")
  }
  return owner.get()
}

/** ioctl(fd, NS_GET_USERNS): the owning user namespace, EPERM when out of the caller's reach. */
export const nsGetUserns = (file: NsFile, caller: Cred): NsFile | SysError => {
  const owner = ownerInReach(file.ns, caller)
  return owner instanceof Error ? owner : new NsFile(owner)
}

/**
 * ioctl(fd, NS_GET_PARENT): the parent of a PID or user namespace (EINVAL
 * for the other types); EPERM when the parent is out of the caller's reach
 * or there is none.
 */
export const nsGetParent = (file: NsFile, caller: Cred, kinds: NsKinds, task: NsTaskContext): NsFile | SysError => {
  const ns = file.ns
  if (ns.kind === "user") {
    const parent = ownerInReach(ns, caller)
    return parent instanceof Error ? parent : new NsFile(parent)
  }
  const ops = ns.kind === "pid" ? (kinds.pid as NamespaceOps | undefined) : undefined
  if (ops?.getParent === undefined) return sysError("EINVAL", "ioctl", "NS_GET_PARENT needs a pid or user namespace")
  const parent = ops.getParent(ns, task)
  return parent instanceof Error ? parent : new NsFile(parent)
}

/** ioctl(fd, NS_GET_NSTYPE): the namespace's CLONE_NEW* flag. */
export const nsGetNstype = (file: NsFile): number => nsCloneFlag(file.ns.kind)

/**
 * ioctl(fd, NS_GET_OWNER_UID): the uid of a user namespace's creator as
 * the caller's user namespace sees it (the overflow uid when unmapped);
 * EINVAL for other types.
 */
export const nsGetOwnerUid = (file: NsFile, caller: Cred): number | SysError => {
  const ns = file.ns
  if (ns.kind !== "user") return sysError("EINVAL", "ioctl", "NS_GET_OWNER_UID needs a user namespace")
  return fromKuidMunged(caller.userNs, (ns as UserNamespace).owner)
}
