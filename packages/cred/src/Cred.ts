import { SECBIT_KEEP_CAPS } from "@simkernel/abi"
import { Refcounted, RefcountDefect } from "@simkernel/kref"
import { CAP_EMPTY_SET, CAP_FULL_SET, type CapSet, capIsSubset } from "./kernelCap.js"
import { SECUREBITS_DEFAULT } from "./securebits.js"
import type { Kgid, Kuid } from "./uidgid.js"
import type { UserNamespace } from "./UserNamespace.js"

/** Makes the constructors below callable from this package only. */
const internal: unique symbol = Symbol("cred.internal")

/** The values a credential set carries (struct cred without its bookkeeping). */
export interface CredValues {
  readonly uid: Kuid
  readonly gid: Kgid
  readonly suid: Kuid
  readonly sgid: Kgid
  readonly euid: Kuid
  readonly egid: Kgid
  readonly fsuid: Kuid
  readonly fsgid: Kgid
  /** SECBIT_* flags (include/uapi/linux/securebits.h). */
  readonly securebits: number
  readonly capInheritable: CapSet
  readonly capPermitted: CapSet
  readonly capEffective: CapSet
  /** The bounding set (cap_bset). */
  readonly capBset: CapSet
  readonly capAmbient: CapSet
  /** The user namespace the capabilities and keyrings are relative to. */
  readonly userNs: UserNamespace
  /** Supplementary groups, sorted ascending (group_info after groups_sort()). */
  readonly groups: ReadonlyArray<Kgid>
  readonly threadKeyring: Refcounted | undefined
  readonly processKeyring: Refcounted | undefined
  readonly sessionKeyring: Refcounted | undefined
  /** The authorisation key of a request_key() upcall being serviced. */
  readonly requestKeyAuth: Refcounted | undefined
  /** KEY_REQKEY_DEFL_*: where request_key() links keys it constructs (cred->jit_keyring). */
  readonly jitKeyring: number
  /** The LSM blob; the security package owns its contents. */
  readonly security: unknown
}

const NO_GROUPS: ReadonlyArray<Kgid> = Object.freeze([])

/**
 * A task's credentials, as include/linux/cred.h struct cred: immutable once
 * made. Every field is readonly and nothing changes it; a task changes its
 * credentials by preparing a NewCred from its Cred and committing that,
 * which installs a different Cred object.
 *
 * A Cred holds a reference to its user namespace and to each keyring it
 * names; the last put releases them.
 */
export class Cred extends Refcounted implements CredValues {
  readonly kind = "Cred"
  readonly uid: Kuid
  readonly gid: Kgid
  readonly suid: Kuid
  readonly sgid: Kgid
  readonly euid: Kuid
  readonly egid: Kgid
  readonly fsuid: Kuid
  readonly fsgid: Kgid
  readonly securebits: number
  readonly capInheritable: CapSet
  readonly capPermitted: CapSet
  readonly capEffective: CapSet
  readonly capBset: CapSet
  readonly capAmbient: CapSet
  readonly userNs: UserNamespace
  readonly groups: ReadonlyArray<Kgid>
  readonly threadKeyring: Refcounted | undefined
  readonly processKeyring: Refcounted | undefined
  readonly sessionKeyring: Refcounted | undefined
  readonly requestKeyAuth: Refcounted | undefined
  readonly jitKeyring: number
  readonly security: unknown

  /** Made only by createInitCred() and credFromDraft(). Takes its own references. */
  constructor(_token: typeof internal, src: CredValues) {
    super(src.userNs.liveObjects)
    this.uid = src.uid
    this.gid = src.gid
    this.suid = src.suid
    this.sgid = src.sgid
    this.euid = src.euid
    this.egid = src.egid
    this.fsuid = src.fsuid
    this.fsgid = src.fsgid
    this.securebits = src.securebits
    this.capInheritable = src.capInheritable
    this.capPermitted = src.capPermitted
    this.capEffective = src.capEffective
    this.capBset = src.capBset
    this.capAmbient = src.capAmbient
    this.userNs = src.userNs.get()
    this.groups = src.groups
    this.threadKeyring = src.threadKeyring?.get()
    this.processKeyring = src.processKeyring?.get()
    this.sessionKeyring = src.sessionKeyring?.get()
    this.requestKeyAuth = src.requestKeyAuth?.get()
    this.jitKeyring = src.jitKeyring
    this.security = src.security
  }

  /** PR_GET_KEEPCAPS: SECBIT_KEEP_CAPS is set. */
  get keepcaps(): boolean {
    return (this.securebits & SECBIT_KEEP_CAPS) !== 0
  }

  protected override destroy(): void {
    this.requestKeyAuth?.put()
    this.sessionKeyring?.put()
    this.processKeyring?.put()
    this.threadKeyring?.put()
    this.userNs.put()
  }
}

/**
 * Credentials being prepared, as the struct cred that prepare_creds()
 * returns: a private, mutable copy that commitCreds() installs (and frees)
 * or abortCreds() frees. Ids and capability sets are plain fields; the
 * referenced objects change through the set* methods, which take over the
 * caller's reference and put the one they replace.
 */
export class NewCred extends Refcounted implements CredValues {
  readonly kind = "NewCred"
  uid: Kuid
  gid: Kgid
  suid: Kuid
  sgid: Kgid
  euid: Kuid
  egid: Kgid
  fsuid: Kuid
  fsgid: Kgid
  securebits: number
  capInheritable: CapSet
  capPermitted: CapSet
  capEffective: CapSet
  capBset: CapSet
  capAmbient: CapSet
  jitKeyring: number
  security: unknown
  private ns: UserNamespace
  private groupList: ReadonlyArray<Kgid>
  private thread: Refcounted | undefined
  private process: Refcounted | undefined
  private session: Refcounted | undefined
  private keyAuth: Refcounted | undefined

  /** Made only by prepareCreds(). Takes its own references. */
  constructor(_token: typeof internal, src: CredValues) {
    super(src.userNs.liveObjects)
    this.uid = src.uid
    this.gid = src.gid
    this.suid = src.suid
    this.sgid = src.sgid
    this.euid = src.euid
    this.egid = src.egid
    this.fsuid = src.fsuid
    this.fsgid = src.fsgid
    this.securebits = src.securebits
    this.capInheritable = src.capInheritable
    this.capPermitted = src.capPermitted
    this.capEffective = src.capEffective
    this.capBset = src.capBset
    this.capAmbient = src.capAmbient
    this.jitKeyring = src.jitKeyring
    this.security = src.security
    this.ns = src.userNs.get()
    this.groupList = src.groups
    this.thread = src.threadKeyring?.get()
    this.process = src.processKeyring?.get()
    this.session = src.sessionKeyring?.get()
    this.keyAuth = src.requestKeyAuth?.get()
  }

  get userNs(): UserNamespace {
    return this.ns
  }
  get groups(): ReadonlyArray<Kgid> {
    return this.groupList
  }
  get threadKeyring(): Refcounted | undefined {
    return this.thread
  }
  get processKeyring(): Refcounted | undefined {
    return this.process
  }
  get sessionKeyring(): Refcounted | undefined {
    return this.session
  }
  get requestKeyAuth(): Refcounted | undefined {
    return this.keyAuth
  }
  get keepcaps(): boolean {
    return (this.securebits & SECBIT_KEEP_CAPS) !== 0
  }

  /** Switch to another user namespace; takes over the caller's reference to `ns`. */
  setUserNs(ns: UserNamespace): void {
    const old = this.ns
    this.ns = ns
    old.put()
  }

  /** set_groups(): install a group list, sorted as groups_sort() sorts it. */
  setGroups(groups: Iterable<Kgid>): void {
    const list = Array.from(groups)
    this.groupList = list.length === 0 ? NO_GROUPS : Object.freeze(list.sort((a, b) => a - b))
  }

  /** Takes over the caller's reference to `key` (or clears the slot) and puts the old keyring. */
  setThreadKeyring(key: Refcounted | undefined): void {
    const old = this.thread
    this.thread = key
    old?.put()
  }
  setProcessKeyring(key: Refcounted | undefined): void {
    const old = this.process
    this.process = key
    old?.put()
  }
  setSessionKeyring(key: Refcounted | undefined): void {
    const old = this.session
    this.session = key
    old?.put()
  }
  setRequestKeyAuth(key: Refcounted | undefined): void {
    const old = this.keyAuth
    this.keyAuth = key
    old?.put()
  }

  protected override destroy(): void {
    this.keyAuth?.put()
    this.session?.put()
    this.process?.put()
    this.thread?.put()
    this.ns.put()
  }
}

/** Something that has credentials and gets new ones by commitCreds(): a task. */
export interface CredHolder {
  cred: Cred
}

/**
 * The credentials of the first task, as kernel/cred.c init_cred: all ids 0,
 * full permitted, effective and bounding sets, empty inheritable and
 * ambient sets, no securebits, no supplementary groups. The returned Cred
 * is the caller's reference and holds its own reference to `initUserNs`.
 */
export const createInitCred = (initUserNs: UserNamespace): Cred =>
  new Cred(internal, {
    uid: 0,
    gid: 0,
    suid: 0,
    sgid: 0,
    euid: 0,
    egid: 0,
    fsuid: 0,
    fsgid: 0,
    securebits: SECUREBITS_DEFAULT,
    capInheritable: CAP_EMPTY_SET,
    capPermitted: CAP_FULL_SET,
    capEffective: CAP_FULL_SET,
    capBset: CAP_FULL_SET,
    capAmbient: CAP_EMPTY_SET,
    userNs: initUserNs,
    groups: NO_GROUPS,
    threadKeyring: undefined,
    processKeyring: undefined,
    sessionKeyring: undefined,
    requestKeyAuth: undefined,
    jitKeyring: 0,
    security: undefined
  })

/** prepare_creds(): a mutable copy of `old` that takes its own references. */
export const prepareCreds = (old: Cred): NewCred => new NewCred(internal, old)

/** abort_creds(): discard prepared credentials. */
export const abortCreds = (draft: NewCred): void => {
  draft.put()
}

/**
 * Freeze a draft into a Cred (the caller's reference) and free the draft:
 * the step commit_creds() and copy_creds() share.
 */
export const credFromDraft = (draft: NewCred): Cred => {
  if (draft.freed) throw new RefcountDefect("NewCred", draft.serial, "put")
  const cred = new Cred(internal, draft)
  draft.put()
  return cred
}

/**
 * kernel/cred.c cred_cap_issubset(): does `set` have every capability
 * `subset` has? In one user namespace that is a subset test of the permitted
 * sets; across namespaces `set` must own an ancestor of `subset`'s namespace
 * from the namespace just above it.
 */
export const credCapIsSubset = (set: CredValues, subset: CredValues): boolean => {
  const setNs = set.userNs
  let subsetNs: UserNamespace | undefined = subset.userNs
  if (setNs === subsetNs) return capIsSubset(subset.capPermitted, set.capPermitted)
  for (; subsetNs.parent !== undefined; subsetNs = subsetNs.parent) {
    if (setNs === subsetNs.parent && subsetNs.owner === set.euid) return true
  }
  return false
}

/**
 * is_dumpability_changed(): does moving from `old` to `next` change the
 * effective or file-system ids or add capabilities? Linux then resets the
 * task's dumpable flag to suid_dumpable and clears its pdeath_signal.
 */
export const isDumpabilityChanged = (old: CredValues, next: CredValues): boolean =>
  old.euid !== next.euid ||
  old.egid !== next.egid ||
  old.fsuid !== next.fsuid ||
  old.fsgid !== next.fsgid ||
  !credCapIsSubset(old, next)

/**
 * commit_creds(): install prepared credentials into their task. The holder's
 * new Cred is made from the draft, which is freed; the holder's old Cred
 * loses the reference the holder had. Returns isDumpabilityChanged(old,
 * new), for the task to reset its dumpable flag and pdeath_signal.
 */
export const commitCreds = (holder: CredHolder, draft: NewCred): boolean => {
  const cred = credFromDraft(draft)
  const old = holder.cred
  holder.cred = cred
  const changed = isDumpabilityChanged(old, cred)
  old.put()
  return changed
}

/**
 * prepare_exec_creds(): credentials for execve(2) to finish: a copy without
 * the thread and process keyrings, with the saved and file-system ids reset
 * to the effective ones.
 */
export const prepareExecCreds = (old: Cred): NewCred => {
  const draft = prepareCreds(old)
  draft.setThreadKeyring(undefined)
  draft.setProcessKeyring(undefined)
  draft.suid = draft.fsuid = draft.euid
  draft.sgid = draft.fsgid = draft.egid
  return draft
}

/** groups_search(): is `gid` in a sorted group list? */
export const groupsSearch = (groups: ReadonlyArray<Kgid>, gid: Kgid): boolean => {
  let left = 0
  let right = groups.length
  while (left < right) {
    const mid = (left + right) >>> 1
    const g = groups[mid]!
    if (gid > g) left = mid + 1
    else if (gid < g) right = mid
    else return true
  }
  return false
}

/** in_group_p(): is `gid` the fsgid or a supplementary group of `cred`? */
export const inGroupP = (cred: CredValues, gid: Kgid): boolean => gid === cred.fsgid || groupsSearch(cred.groups, gid)

/** in_egroup_p(): is `gid` the egid or a supplementary group of `cred`? */
export const inEgroupP = (cred: CredValues, gid: Kgid): boolean => gid === cred.egid || groupsSearch(cred.groups, gid)
