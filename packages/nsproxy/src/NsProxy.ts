import { sysError, type SysError } from "@simkernel/abi"
import type { NsCommon, UserNamespace } from "@simkernel/cred"
import { type LiveObjects, Refcounted } from "@simkernel/kref"
import { CgroupNamespace } from "./CgroupNamespace.js"
import { IpcNamespace } from "./IpcNamespace.js"
import type { NamespaceOps, NsSlot } from "./Namespace.js"
import { TimeNamespace } from "./TimeNamespace.js"
import { UtsNamespace } from "./UtsNamespace.js"

/**
 * The namespace types a kernel knows, as the set of copy_*_ns() and
 * proc_ns_operations it was built with. uts, ipc, cgroup and time are
 * built in; a kernel without "mnt", "pid" or "net" answers EINVAL for their
 * CLONE_NEW* flags, as Linux built without them does.
 */
export interface NsKinds {
  readonly mnt?: NamespaceOps
  readonly pid?: NamespaceOps
  readonly net?: NamespaceOps
  readonly uts: NamespaceOps<UtsNamespace>
  readonly ipc: NamespaceOps<IpcNamespace>
  readonly cgroup: NamespaceOps<CgroupNamespace>
  readonly time: NamespaceOps<TimeNamespace>
}

/** The namespaces an NsProxy points at; mnt, pid and net only when their type is registered. */
export interface NsProxySlots {
  mnt: NsCommon | undefined
  uts: UtsNamespace
  ipc: IpcNamespace
  pidForChildren: NsCommon | undefined
  cgroup: CgroupNamespace
  net: NsCommon | undefined
  timeForChildren: TimeNamespace
  time: TimeNamespace
}

/**
 * The namespaces of a task, as include/linux/nsproxy.h struct nsproxy
 * (the user namespace is in the task's Cred). Shared by tasks until one of
 * them clones with CLONE_NEW*, unshares or setns's; then it gets a new
 * NsProxy. An NsProxy holds one reference on each namespace it points at.
 */
export class NsProxy extends Refcounted {
  readonly kind = "NsProxy"
  readonly kinds: NsKinds
  private readonly slots: NsProxySlots

  /** Takes over one reference on every namespace in `slots`. */
  constructor(kinds: NsKinds, slots: NsProxySlots, registry?: LiveObjects) {
    super(registry ?? slots.uts.ownerNs?.liveObjects)
    this.kinds = kinds
    this.slots = slots
  }

  /**
   * init_nsproxy: the initial uts, ipc, cgroup and time namespaces owned by
   * `initUserNs`, plus the mnt, pid and net namespaces the other subsystems
   * made at boot (their references are taken over).
   */
  static createInit(
    initUserNs: UserNamespace,
    kinds: NsKinds,
    others: { readonly mnt?: NsCommon; readonly pid?: NsCommon; readonly net?: NsCommon } = {}
  ): NsProxy {
    const time = TimeNamespace.createInit(initUserNs)
    return new NsProxy(kinds, {
      mnt: others.mnt,
      uts: UtsNamespace.createInit(initUserNs),
      ipc: IpcNamespace.createInit(initUserNs),
      pidForChildren: others.pid,
      cgroup: CgroupNamespace.createInit(initUserNs),
      net: others.net,
      timeForChildren: time.get(),
      time
    })
  }

  get mnt(): NsCommon | undefined {
    return this.slots.mnt
  }
  get uts(): UtsNamespace {
    return this.slots.uts
  }
  get ipc(): IpcNamespace {
    return this.slots.ipc
  }
  /** The PID namespace this task's children are born in (CLONE_NEWPID affects only them). */
  get pidForChildren(): NsCommon | undefined {
    return this.slots.pidForChildren
  }
  get cgroup(): CgroupNamespace {
    return this.slots.cgroup
  }
  get net(): NsCommon | undefined {
    return this.slots.net
  }
  get time(): TimeNamespace {
    return this.slots.time
  }
  /** The time namespace children are born in (unshare(CLONE_NEWTIME) affects only them). */
  get timeForChildren(): TimeNamespace {
    return this.slots.timeForChildren
  }

  /** The namespace in a slot. */
  slot(slot: NsSlot): NsCommon | undefined {
    return this.slots[slot]
  }

  /**
   * Point a slot at `ns`, taking over the caller's reference and putting the
   * old one. Only for an NsProxy no task uses yet: a setns draft, or one
   * being built.
   */
  replace<S extends NsSlot>(slot: S, ns: NsProxySlots[S]): void {
    const old = this.slots[slot]
    this.slots[slot] = ns
    old?.put()
  }

  /** nsproxy_free(): put every namespace. */
  protected override destroy(): void {
    const s = this.slots
    s.mnt?.put()
    s.uts.put()
    s.ipc.put()
    s.pidForChildren?.put()
    s.time.put()
    s.timeForChildren.put()
    s.cgroup.put()
    s.net?.put()
  }
}

/** A namespace type's ops, or EINVAL when this kernel has no such namespace type. */
export const opsFor = (kinds: NsKinds, kind: keyof NsKinds, syscall: string): NamespaceOps | SysError =>
  (kinds[kind] as NamespaceOps | undefined) ?? sysError("EINVAL", syscall, `no ${kind} namespaces in this kernel`)
