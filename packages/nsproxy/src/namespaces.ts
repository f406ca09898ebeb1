import {
  CAP_SYS_ADMIN,
  CLONE_NEWCGROUP,
  CLONE_NEWIPC,
  CLONE_NEWNET,
  CLONE_NEWNS,
  CLONE_NEWPID,
  CLONE_NEWTIME,
  CLONE_NEWUTS,
  CLONE_SYSVSEM,
  CLONE_VM,
  sysError,
  type SysError
} from "@simkernel/abi"
import { type Cred, type NewCred, type NsCommon, nsCapable, type UserNamespace } from "@simkernel/cred"
import { Rollback } from "@simkernel/kref"
import type { NamespaceOps, NsSlot, NsTaskContext } from "./Namespace.js"
import { type NsKinds, NsProxy, type NsProxySlots } from "./NsProxy.js"

/** Every CLONE_NEW* flag that lives in an NsProxy (CLONE_NS_ALL without CLONE_NEWUSER). */
export const CLONE_NSPROXY_ALL =
  CLONE_NEWNS | CLONE_NEWUTS | CLONE_NEWIPC | CLONE_NEWPID | CLONE_NEWCGROUP | CLONE_NEWNET | CLONE_NEWTIME

// `flags & bit` is exact for any integer flags value below 2^53: ToInt32 keeps the low 32 bits.
const has = (flags: number, bit: number): boolean => (flags & bit) !== 0

/** The slots create_new_namespaces() fills, in its order, with each one's flag and type. */
const COPY_ORDER = [
  ["mnt", CLONE_NEWNS, "mnt"],
  ["uts", CLONE_NEWUTS, "uts"],
  ["ipc", CLONE_NEWIPC, "ipc"],
  ["pidForChildren", CLONE_NEWPID, "pid"],
  ["cgroup", CLONE_NEWCGROUP, "cgroup"],
  ["net", CLONE_NEWNET, "net"],
  ["timeForChildren", CLONE_NEWTIME, "time"]
] as const

/**
 * kernel/nsproxy.c create_new_namespaces(): a new NsProxy whose namespaces
 * are copies of `old`'s where `flags` asks (owned by `userNs`) and shared
 * otherwise, filled in Linux's order (mnt, uts, ipc, pid, cgroup, net,
 * time). When one copy fails, every namespace already taken is put again
 * and the error is returned. This is the function the container object
 * reuses.
 */
export const createNewNamespaces = (
  flags: number,
  old: NsProxy,
  userNs: UserNamespace,
  task: NsTaskContext = {},
  syscall = "unshare"
): NsProxy | SysError => {
  const kinds: NsKinds = old.kinds
  const rb = new Rollback()
  const slots: Partial<Record<NsSlot, NsCommon | undefined>> = {}
  for (const [slot, bit, kind] of COPY_ORDER) {
    const from = old.slot(slot)
    if (!has(flags, bit)) {
      slots[slot] = from === undefined ? undefined : rb.own(from.get())
      continue
    }
    const ops = kinds[kind] as NamespaceOps | undefined
    const made =
      ops === undefined || from === undefined
        ? sysError("EINVAL", syscall, `no ${kind} namespaces in this kernel`)
        : ops.copy(from, userNs, task)
    if (made instanceof Error) {
      rb.rollback()
      return made
    }
    slots[slot] = rb.own(made)
  }
  rb.commit()
  slots.time = old.time.get()
  return new NsProxy(kinds, slots as NsProxySlots)
}

/**
 * timens_on_fork(): a task born into (or exec'ing after unshare into) its
 * parent's time namespace for children lives in it from now on, which
 * freezes that namespace's offsets.
 */
const timensOnFork = (nsproxy: NsProxy): void => {
  const ns = nsproxy.timeForChildren
  if (nsproxy.time !== ns) nsproxy.replace("time", ns.get())
  ns.freeze()
}

/**
 * kernel/nsproxy.c copy_namespaces(), for clone: the parent's NsProxy
 * shared (a new reference) when no CLONE_NEW* flag is given, else a new one.
 * `current` is the parent's credential (the CAP_SYS_ADMIN check) and
 * `userNs` the child's user namespace (a new one with CLONE_NEWUSER).
 */
export const copyNamespaces = (
  flags: number,
  old: NsProxy,
  current: Cred,
  userNs: UserNamespace,
  task: NsTaskContext = {}
): NsProxy | SysError => {
  if (!has(flags, CLONE_NSPROXY_ALL)) {
    if (has(flags, CLONE_VM) || old.timeForChildren === old.time) return old.get()
  } else if (!nsCapable(current, userNs, CAP_SYS_ADMIN)) {
    return sysError("EPERM", "clone")
  }
  // CLONE_SYSVSEM shares the semaphore undo list, which a new IPC namespace cannot reach
  if (has(flags, CLONE_NEWIPC) && has(flags, CLONE_SYSVSEM)) return sysError("EINVAL", "clone")
  const made = createNewNamespaces(flags, old, userNs, task, "clone")
  if (made instanceof Error) return made
  if (!has(flags, CLONE_VM)) timensOnFork(made)
  return made
}

/**
 * kernel/nsproxy.c unshare_nsproxy_namespaces(): undefined when `flags`
 * asks for no namespace in an NsProxy, else a new NsProxy. The new
 * namespaces are owned by the user namespace of `newCred` (set when the same
 * unshare makes a user namespace) or of `current`, over which `current`
 * needs CAP_SYS_ADMIN (EPERM).
 */
export const unshareNsproxyNamespaces = (
  flags: number,
  old: NsProxy,
  current: Cred,
  newCred: Cred | NewCred | undefined,
  task: NsTaskContext = {}
): NsProxy | undefined | SysError => {
  if (!has(flags, CLONE_NSPROXY_ALL)) return undefined
  const userNs = newCred?.userNs ?? current.userNs
  if (!nsCapable(current, userNs, CAP_SYS_ADMIN)) return sysError("EPERM", "unshare")
  return createNewNamespaces(flags, old, userNs, task, "unshare")
}

/**
 * exec_task_namespaces(): after unshare(CLONE_NEWTIME), execve moves the
 * task itself into its time namespace for children. Undefined when nothing
 * changes, else the task's new NsProxy.
 */
export const execTaskNamespaces = (old: NsProxy, current: Cred, task: NsTaskContext = {}): NsProxy | undefined | SysError => {
  if (old.timeForChildren === old.time) return undefined
  const made = createNewNamespaces(0, old, current.userNs, task, "execve")
  if (made instanceof Error) return made
  timensOnFork(made)
  return made
}

/** Something that has namespaces and gets a new set by switchTaskNamespaces(): a task. */
export interface NsProxyHolder {
  nsproxy: NsProxy | undefined
}

/** switch_task_namespaces(): install `next` (the caller's reference) and put the old set. */
export const switchTaskNamespaces = (holder: NsProxyHolder, next: NsProxy | undefined): void => {
  const old = holder.nsproxy
  holder.nsproxy = next
  old?.put()
}
