import {
  CAP_SETPCAP,
  CAP_SETUID,
  CAP_SYS_PTRACE,
  SECBIT_KEEP_CAPS,
  SECBIT_NO_SETUID_FIXUP,
  SECBIT_NOROOT
} from "@simkernel/abi"
import { type CredValues, inGroupP, type NewCred } from "./Cred.js"
import {
  type CapSet,
  capCombine,
  capDropFsSet,
  capIntersect,
  capIsSubset,
  capRaised,
  capRaiseFsSet
} from "./kernelCap.js"
import { makeKuid } from "./uidgid.js"
import type { UserNamespace } from "./UserNamespace.js"

/**
 * cap_capable(): does `cred` have capability `cap` in user namespace `targNs`?
 * Walking from `targNs` up its ancestors:
 * - reaching the cred's own namespace, the answer is its effective set;
 * - a namespace whose parent is the cred's namespace and whose owner is the
 *   cred's euid gives every capability (the owner is privileged over what
 *   it created);
 * - a namespace no deeper than the cred's that is not its own gives none.
 * `cap` must be valid. A plain predicate: it sits on every permission check.
 */
export const capCapable = (cred: CredValues, targNs: UserNamespace, cap: number): boolean => {
  const credNs = cred.userNs
  const credLevel = credNs.level
  for (let ns = targNs; ;) {
    if (ns === credNs) return capRaised(cred.capEffective, cap)
    if (ns.level <= credLevel) return false
    // Deeper than a namespace that exists, so it has a parent.
    const parent = ns.parent!
    if (parent === credNs && ns.owner === cred.euid) return true
    ns = parent
  }
}

/** include/linux/security.h LSM_SETID_*: which family of set*id() calls changed the ids. */
export const LSM_SETID_ID = 1
export const LSM_SETID_RE = 2
export const LSM_SETID_RES = 4
export const LSM_SETID_FS = 8

/** linux_binprm.unsafe bits (include/linux/security.h LSM_UNSAFE_*). */
export const LSM_UNSAFE_SHARE = 1
export const LSM_UNSAFE_PTRACE = 2
export const LSM_UNSAFE_NO_NEW_PRIVS = 4

/**
 * cap_capset(): check a capset(2) request against the current credentials
 * `old` and apply it to `draft`. Returns false (EPERM) when
 * - a new inheritable capability is in neither the old inheritable nor the
 *   old permitted set, unless `old` has CAP_SETPCAP in its namespace;
 * - a new inheritable capability is in neither the old inheritable set nor
 *   the bounding set;
 * - the new permitted set is not a subset of the old one;
 * - the new effective set is not a subset of the new permitted one.
 * On success the ambient set keeps only what is still permitted and
 * inheritable.
 */
export const capCapset = (
  draft: NewCred,
  old: CredValues,
  effective: CapSet,
  inheritable: CapSet,
  permitted: CapSet
): boolean => {
  const inhCapped = !capCapable(old, old.userNs, CAP_SETPCAP)
  if (inhCapped && !capIsSubset(inheritable, capCombine(old.capInheritable, old.capPermitted))) return false
  if (!capIsSubset(inheritable, capCombine(old.capInheritable, old.capBset))) return false
  if (!capIsSubset(permitted, old.capPermitted)) return false
  if (!capIsSubset(effective, permitted)) return false
  draft.capEffective = effective
  draft.capInheritable = inheritable
  draft.capPermitted = permitted
  draft.capAmbient = capIntersect(draft.capAmbient, capIntersect(permitted, inheritable))
  return true
}

/**
 * cap_emulate_setxuid(): the capability side of a uid change, as
 * capabilities(7) "Effect of user ID changes on capabilities" describes:
 * dropping every one of ruid, euid and suid from 0 clears the permitted and
 * effective sets (unless SECBIT_KEEP_CAPS) and the ambient set; leaving
 * euid 0 clears the effective set; reaching euid 0 copies permitted into
 * effective. "0" is uid 0 of the cred's own user namespace.
 */
const capEmulateSetxuid = (draft: NewCred, old: CredValues): void => {
  const root = makeKuid(old.userNs, 0)
  if (
    (old.uid === root || old.euid === root || old.suid === root) &&
    draft.uid !== root &&
    draft.euid !== root &&
    draft.suid !== root
  ) {
    if ((old.securebits & SECBIT_KEEP_CAPS) === 0) {
      draft.capPermitted = 0
      draft.capEffective = 0
    }
    draft.capAmbient = 0
  }
  if (old.euid === root && draft.euid !== root) draft.capEffective = 0
  if (old.euid !== root && draft.euid === root) draft.capEffective = draft.capPermitted
}

/**
 * cap_task_fix_setuid(): adjust the capability sets of `draft` after a
 * set*uid() call of kind `flags` (LSM_SETID_*) changed its uids, unless
 * SECBIT_NO_SETUID_FIXUP is set. For setfsuid(), moving fsuid away from 0
 * drops the file-system capabilities (CAP_FS_SET) from the effective set and
 * moving it to 0 raises the permitted ones.
 */
export const capTaskFixSetuid = (draft: NewCred, old: CredValues, flags: number): void => {
  if ((old.securebits & SECBIT_NO_SETUID_FIXUP) !== 0) return
  if (flags === LSM_SETID_FS) {
    const root = makeKuid(old.userNs, 0)
    if (old.fsuid === root && draft.fsuid !== root) draft.capEffective = capDropFsSet(draft.capEffective)
    if (old.fsuid !== root && draft.fsuid === root)
      draft.capEffective = capRaiseFsSet(draft.capEffective, draft.capPermitted)
    return
  }
  capEmulateSetxuid(draft, old)
}

/** What execve(2) needs to know besides the file, for the ptrace and no_new_privs rules. */
export interface BprmSecurity {
  /** linux_binprm.unsafe: LSM_UNSAFE_* bits from check_unsafe_exec(). */
  readonly unsafe?: number
  /** The tracer's credentials when the task is being ptraced. */
  readonly tracer?: CredValues | undefined
}

/** The outcome of cap_bprm_creds_from_file() besides the new credentials. */
export interface BprmCapResult {
  /** AT_SECURE for the new program: it runs with more privilege than its caller had. */
  readonly secureexec: boolean
  /** PER_CLEAR_ON_SETID: the new permitted set grew, so dangerous personality flags are cleared. */
  readonly perClearOnSetid: boolean
}

/**
 * cap_bprm_creds_from_file() for a file without file capabilities: compute
 * the capability sets of the program `draft` (from prepareExecCreds() and
 * bprmFillUid()) is about to run, as capabilities(7) "Transformation of
 * capabilities during execve()" gives them:
 * - the new permitted set starts empty; unless SECBIT_NOROOT, a real or
 *   effective uid of 0 (of the cred's namespace) makes it bounding |
 *   inheritable, and an effective uid of 0 makes the effective set equal it;
 * - an exec that changes the euid or an egid outside the caller's groups
 *   (or gains capabilities) while the task is traced without a capable
 *   tracer, shares its fs, or has no_new_privs gets no more than it had;
 *   without CAP_SETUID (or with no_new_privs) it keeps its old ids;
 * - changing ids clears the ambient set; ambient capabilities are added to
 *   permitted and form the effective set of a non-root program;
 * - SECBIT_KEEP_CAPS is cleared.
 */
export const capBprmCredsFromFile = (draft: NewCred, old: CredValues, bprm: BprmSecurity = {}): BprmCapResult => {
  const unsafe = bprm.unsafe ?? 0
  let effective = false
  draft.capPermitted = 0
  const rootUid = makeKuid(draft.userNs, 0)
  if ((draft.securebits & SECBIT_NOROOT) === 0) {
    if (draft.euid === rootUid || draft.uid === rootUid)
      draft.capPermitted = capCombine(old.capBset, old.capInheritable)
    if (draft.euid === rootUid) effective = true
  }
  const capGained = !capIsSubset(draft.capPermitted, old.capPermitted)
  const idChanged = draft.euid !== old.euid || !inGroupP(old, draft.egid)
  const tracerCapable = bprm.tracer === undefined || capCapable(bprm.tracer, draft.userNs, CAP_SYS_PTRACE)
  if ((idChanged || capGained) && ((unsafe & ~LSM_UNSAFE_PTRACE) !== 0 || !tracerCapable)) {
    if (!capCapable(old, draft.userNs, CAP_SETUID) || (unsafe & LSM_UNSAFE_NO_NEW_PRIVS) !== 0) {
      draft.euid = draft.uid
      draft.egid = draft.gid
    }
    draft.capPermitted = capIntersect(draft.capPermitted, old.capPermitted)
  }
  draft.suid = draft.fsuid = draft.euid
  draft.sgid = draft.fsgid = draft.egid
  if (idChanged) draft.capAmbient = 0
  draft.capPermitted = capCombine(draft.capPermitted, draft.capAmbient)
  draft.capEffective = effective ? draft.capPermitted : draft.capAmbient
  draft.securebits &= ~SECBIT_KEEP_CAPS
  const secureexec =
    idChanged ||
    draft.euid !== old.uid ||
    draft.egid !== old.gid ||
    (draft.uid !== rootUid && (effective || !capIsSubset(draft.capPermitted, draft.capAmbient)))
  return { secureexec, perClearOnSetid: capGained }
}
