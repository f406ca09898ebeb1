import type { SysError } from "@simkernel/abi"
import type { Cred, NewCred, NsCommon, NsKind, UserNamespace } from "@simkernel/cred"
import type { NsProxy } from "./NsProxy.js"

/** The namespace slots of an NsProxy, in the order create_new_namespaces() fills them. */
export type NsSlot = "mnt" | "uts" | "ipc" | "pidForChildren" | "cgroup" | "net" | "timeForChildren" | "time"

/**
 * What a clone, unshare or setns knows about the calling task that a
 * namespace type may need: the VFS's fs_struct (root and cwd, remapped into
 * a new mount namespace), the task's cgroup (the root of a new cgroup
 * namespace), and the task's active PID namespace.
 */
export interface NsTaskContext {
  /** The task's FsStruct (opaque here; the mnt type knows it). */
  readonly fs?: unknown
  /** The task's cgroup path, e.g. "/" (default "/"). */
  readonly cgroup?: string
  /** task_active_pid_ns(): the PID namespace the task's own pid lives in. */
  readonly activePidNs?: NsCommon
}

/**
 * The setns transaction, as struct nsset in kernel/nsproxy.c: a private
 * copy of the caller's NsProxy that each install() edits, the credentials
 * (a draft when a user namespace is being entered), and the task context.
 * Nothing is visible to the task until commit.
 */
export interface NsSet {
  /** CLONE_NEW* flags being entered. */
  readonly flags: number
  /** The draft NsProxy (owned by the transaction). */
  readonly nsproxy: NsProxy
  /** The caller's credentials (the check for ns_capable()). */
  readonly current: Cred
  /** nsset->cred: the draft when CLONE_NEWUSER is entered, else the caller's Cred. */
  readonly cred: Cred | NewCred
  readonly task: NsTaskContext & {
    /** Tasks sharing the caller's fs_struct (fs->users). */
    readonly fsUsers: number
    /** Threads in the caller's thread group. */
    readonly threads: number
  }
}

/**
 * How one namespace type takes part in clone, unshare and setns, as the
 * copy_*_ns() functions and struct proc_ns_operations. The uts, ipc, cgroup
 * and time types are built in; the VFS registers "mnt", sched "pid", the
 * net package "net". A type with no ops makes its CLONE_NEW* flag EINVAL,
 * as a kernel built without that namespace does.
 */
export interface NamespaceOps<N extends NsCommon = NsCommon> {
  readonly kind: Exclude<NsKind, "user">
  /**
   * copy_*_ns() when the type's CLONE_NEW* flag is given: a new namespace
   * (holding one reference, for the caller) owned by `userNs`, made from
   * `old`. Errors are the errno Linux gives (EINVAL, EPERM, ENOSPC, ...).
   */
  copy(old: N, userNs: UserNamespace, task: NsTaskContext): N | SysError
  /**
   * proc_ns_operations.install(): check that the caller may enter `ns` and
   * point the draft nsproxy at it (nsset.nsproxy.replace(...)).
   */
  install(nsset: NsSet, ns: N): SysError | undefined
  /** Work at the point of no return of setns (e.g. the mnt type moves root and cwd). */
  commit?(nsset: NsSet, ns: N): void
  /** proc_ns_operations.get_parent (NS_GET_PARENT), for hierarchical types: EPERM when out of reach. */
  getParent?(ns: N, task: NsTaskContext): N | SysError
}
