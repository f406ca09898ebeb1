import {
  CAP_SYS_ADMIN,
  CLONE_NEWCGROUP,
  CLONE_NEWIPC,
  CLONE_NEWNET,
  CLONE_NEWNS,
  CLONE_NEWPID,
  CLONE_NEWTIME,
  CLONE_NEWUSER,
  CLONE_NEWUTS,
  sysError,
  type SysError
} from "@simkernel/abi"
import {
  abortCreds,
  commitCreds,
  type Cred,
  type CredHolder,
  NewCred,
  nsCapable,
  nsCloneFlag,
  type NsCommon,
  prepareCreds,
  setCredUserNs,
  type UserNamespace
} from "@simkernel/cred"
import type { NamespaceOps, NsSet, NsTaskContext } from "./Namespace.js"
import type { NsKinds, NsProxy } from "./NsProxy.js"
import { createNewNamespaces, type NsProxyHolder, switchTaskNamespaces } from "./namespaces.js"

/** Every flag setns(2) accepts with a pidfd (CLONE_NS_ALL). */
export const CLONE_NS_ALL = CLONE_NEWNS | CLONE_NEWUTS | CLONE_NEWIPC | CLONE_NEWPID | CLONE_NEWCGROUP | CLONE_NEWNET | CLONE_NEWTIME | CLONE_NEWUSER

/** The task calling setns(2): its namespaces, credentials and what userns/mntns install check. */
export interface SetnsCaller extends NsTaskContext {
  readonly nsproxy: NsProxy
  readonly cred: Cred
  /** Tasks sharing the caller's fs_struct (fs->users). */
  readonly fsUsers: number
  /** Threads in the caller's thread group. */
  readonly threads: number
}

/** The task a pidfd names, as validate_nsset() snapshots it. */
export interface SetnsTarget {
  /** undefined once the task has exited (ESRCH). */
  readonly nsproxy: NsProxy | undefined
  readonly cred: Cred
  /** task_active_pid_ns() of the target. */
  readonly activePidNs: NsCommon | undefined
  /** ptrace_may_access(PTRACE_MODE_READ_REALCREDS), decided by the task layer (EPERM when false). */
  readonly mayAccess: boolean
}

/**
 * A setns(2) in progress, as struct nsset: every install() edits this
 * private state; commit() makes it the caller's, abort() throws it away.
 */
export class NsSetTransaction implements NsSet {
  private readonly entered: Array<readonly [NamespaceOps, NsCommon]> = []

  private constructor(
    readonly flags: number,
    readonly nsproxy: NsProxy,
    readonly current: Cred,
    readonly cred: Cred | NewCred,
    readonly task: SetnsCaller
  ) {}

  /** prepare_nsset(): a private copy of the caller's namespaces, and a credential draft for CLONE_NEWUSER. */
  static prepare(flags: number, caller: SetnsCaller): NsSetTransaction | SysError {
    const draft = createNewNamespaces(0, caller.nsproxy, caller.cred.userNs, caller, "setns")
    if (draft instanceof Error) return draft
    const cred = (flags & CLONE_NEWUSER) !== 0 ? prepareCreds(caller.cred) : caller.cred
    return new NsSetTransaction(flags, draft, caller.cred, cred, caller)
  }

  /** proc_ns_operations.install() of `ns`'s type. */
  install(ns: NsCommon): SysError | undefined {
    if (ns.kind === "user") return this.installUserNs(ns as UserNamespace)
    const kinds: NsKinds = this.nsproxy.kinds
    const ops = kinds[ns.kind] as NamespaceOps | undefined
    if (ops === undefined) return sysError("EINVAL", "setns", `no ${ns.kind} namespaces in this kernel`)
    const err = ops.install(this, ns)
    if (err === undefined && ops.commit !== undefined) this.entered.push([ops, ns])
    return err
  }

  /** userns_install(). */
  private installUserNs(ns: UserNamespace): SysError | undefined {
    // entering one's own user namespace again would regain dropped capabilities
    if (ns === this.current.userNs) return sysError("EINVAL", "setns", "already in this user namespace")
    if (this.task.threads > 1) return sysError("EINVAL", "setns", "a threaded process cannot change user namespace")
    if (this.task.fsUsers !== 1) return sysError("EINVAL", "setns", "fs_struct is shared with another task")
    if (!nsCapable(this.current, ns, CAP_SYS_ADMIN)) return sysError("EPERM", "setns")
    setCredUserNs(this.cred as NewCred, ns.get())
    return undefined
  }

  /** commit_nsset(): the point of no return. The caller's old namespaces and credentials are put. */
  commit(holder: NsProxyHolder & CredHolder): void {
    if (this.cred instanceof NewCred) commitCreds(holder, this.cred)
    for (const [ops, ns] of this.entered) ops.commit!(this, ns)
    switchTaskNamespaces(holder, this.nsproxy)
  }

  /** put_nsset() on failure. */
  abort(): void {
    if (this.cred instanceof NewCred) abortCreds(this.cred)
    this.nsproxy.put()
  }
}

/** Install `ns` into `tx`; abort on failure. */
const installOrAbort = (tx: NsSetTransaction, namespaces: ReadonlyArray<NsCommon>): NsSetTransaction | SysError => {
  for (const ns of namespaces) {
    const err = tx.install(ns)
    if (err !== undefined) {
      tx.abort()
      return err
    }
  }
  return tx
}

/**
 * setns(2) with a namespace file: `nstype` 0 accepts any type, otherwise it
 * must be the namespace's CLONE_NEW* flag (EINVAL). Returns the prepared
 * transaction; commit() it into the calling task.
 */
export const setnsNamespace = (caller: SetnsCaller, ns: NsCommon, nstype: number): NsSetTransaction | SysError => {
  const flag = nsCloneFlag(ns.kind)
  if (nstype !== 0 && nstype !== flag) return sysError("EINVAL", "setns", "nstype does not match the namespace")
  const tx = NsSetTransaction.prepare(flag, caller)
  return tx instanceof Error ? tx : installOrAbort(tx, [ns])
}

/**
 * setns(2) with a pidfd: enter the namespaces `flags` names of the task the
 * pidfd refers to, all of them or none (validate_nsset(), in its order:
 * user first, so the others are checked with the new credentials).
 */
export const setnsPidfd = (caller: SetnsCaller, target: SetnsTarget, flags: number): NsSetTransaction | SysError => {
  if (flags === 0 || !Number.isInteger(flags) || flags < 0 || flags - (flags & CLONE_NS_ALL) !== 0) {
    return sysError("EINVAL", "setns", "flags must be a non-empty set of CLONE_NEW* flags")
  }
  const kinds: NsKinds = caller.nsproxy.kinds
  for (const [bit, kind] of [
    [CLONE_NEWNS, "mnt"],
    [CLONE_NEWPID, "pid"],
    [CLONE_NEWNET, "net"]
  ] as const) {
    if ((flags & bit) !== 0 && kinds[kind] === undefined) return sysError("EINVAL", "setns", `no ${kind} namespaces in this kernel`)
  }
  const tx = NsSetTransaction.prepare(flags, caller)
  if (tx instanceof Error) return tx
  const nsp = target.nsproxy
  if (nsp === undefined) return tx.abort(), sysError("ESRCH", "setns", "the process has exited")
  if (!target.mayAccess) return tx.abort(), sysError("EPERM", "setns", "ptrace access to the process denied")
  const wanted: Array<NsCommon | undefined> = []
  if ((flags & CLONE_NEWUSER) !== 0) wanted.push(target.cred.userNs)
  if ((flags & CLONE_NEWNS) !== 0) wanted.push(nsp.mnt)
  if ((flags & CLONE_NEWUTS) !== 0) wanted.push(nsp.uts)
  if ((flags & CLONE_NEWIPC) !== 0) wanted.push(nsp.ipc)
  if ((flags & CLONE_NEWPID) !== 0) wanted.push(target.activePidNs)
  if ((flags & CLONE_NEWCGROUP) !== 0) wanted.push(nsp.cgroup)
  if ((flags & CLONE_NEWNET) !== 0) wanted.push(nsp.net)
  if ((flags & CLONE_NEWTIME) !== 0) wanted.push(nsp.time)
  if (wanted.includes(undefined)) return tx.abort(), sysError("ESRCH", "setns")
  return installOrAbort(tx, wanted as ReadonlyArray<NsCommon>)
}
