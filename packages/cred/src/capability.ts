import {
  _LINUX_CAPABILITY_U32S_1,
  _LINUX_CAPABILITY_U32S_3,
  _LINUX_CAPABILITY_VERSION_1,
  _LINUX_CAPABILITY_VERSION_2,
  _LINUX_CAPABILITY_VERSION_3,
  CAP_LAST_CAP,
  type SysError,
  sysFail
} from "@simkernel/abi"
import { Effect } from "effect"
import { capCapable, capCapset } from "./commoncap.js"
import { abortCreds, type Cred, type CredHolder, type CredValues, commitCreds, prepareCreds } from "./Cred.js"
import { capFromU32s, capToU32s } from "./kernelCap.js"
import { type Kgid, kgidHasMapping, type Kuid, kuidHasMapping } from "./uidgid.js"
import type { UserNamespace } from "./UserNamespace.js"

const validCap = (cap: number): boolean => cap >= 0 && cap <= CAP_LAST_CAP && (cap | 0) === cap

/**
 * ns_capable(): does `cred` have capability `cap` in user namespace `ns`
 * (capCapable's three rules)? False for an invalid capability number.
 */
export const nsCapable = (cred: CredValues, ns: UserNamespace, cap: number): boolean =>
  validCap(cap) && capCapable(cred, ns, cap)

/** ns_capable_noaudit(): nsCapable() without an audit record (none are kept here). */
export const nsCapableNoaudit = nsCapable

/** ns_capable_setid(): nsCapable() as the set*id() and setgroups() calls ask it. */
export const nsCapableSetid = nsCapable

/** has_ns_capability_noaudit(): a task's (here: its cred's) capability in `ns`. */
export const hasNsCapabilityNoaudit = nsCapable

/** capable(): the capability in the initial user namespace of the cred's hierarchy. */
export const capable = (cred: CredValues, cap: number): boolean => nsCapable(cred, cred.userNs.initNs, cap)

/**
 * file_ns_capable(): did the opener of a file (`fileCred`, file->f_cred) have
 * `cap` in `ns` when it opened it?
 */
export const fileNsCapable = (fileCred: CredValues, ns: UserNamespace, cap: number): boolean =>
  nsCapable(fileCred, ns, cap)

/**
 * privileged_wrt_inode_uidgid(): are an inode's owner and group (kernel ids,
 * already mapped through any idmapped mount) both visible in `ns`?
 * Capabilities in `ns` only act on such inodes.
 */
export const privilegedWrtInodeUidgid = (ns: UserNamespace, uid: Kuid, gid: Kgid): boolean =>
  kuidHasMapping(ns, uid) && kgidHasMapping(ns, gid)

/**
 * capable_wrt_inode_uidgid(): `cap` in the cred's own user namespace, over
 * an inode whose owner and group are mapped there (CAP_CHOWN, CAP_FOWNER,
 * CAP_DAC_OVERRIDE and friends are checked this way).
 */
export const capableWrtInodeUidgid = (cred: CredValues, uid: Kuid, gid: Kgid, cap: number): boolean =>
  nsCapable(cred, cred.userNs, cap) && privilegedWrtInodeUidgid(cred.userNs, uid, gid)

/**
 * struct __user_cap_header_struct. capget(2) and capset(2) write
 * _LINUX_CAPABILITY_VERSION_3 into `version` when they reject it, as the
 * kernel writes it back into user memory (libcap probes this way).
 */
export interface CapUserHeader {
  version: number
  pid: number
}

/** struct __user_cap_data_struct: one u32 word of each set (word 0: capabilities 0-31, word 1: 32-63). */
export interface CapUserData {
  readonly effective: number
  readonly permitted: number
  readonly inheritable: number
}

/** The calling task, for capget and capset: its credentials and its pid as it sees it (task_pid_vnr). */
export interface CapTask extends CredHolder {
  readonly pid: number
}

/** cap_validate_magic(): u32 words per set for the header's version, or undefined (EINVAL, version written back). */
const capValidateMagic = (header: CapUserHeader): number | undefined => {
  switch (header.version) {
    case _LINUX_CAPABILITY_VERSION_1:
      return _LINUX_CAPABILITY_U32S_1
    case _LINUX_CAPABILITY_VERSION_2:
    case _LINUX_CAPABILITY_VERSION_3:
      return _LINUX_CAPABILITY_U32S_3
    default:
      header.version = _LINUX_CAPABILITY_VERSION_3
      return undefined
  }
}

/**
 * capget(2): the effective, permitted and inheritable sets of the task
 * `header.pid` (0 or the caller's pid: the caller; others through
 * `findTask`), as `tocopy` u32 words: one for _LINUX_CAPABILITY_VERSION_1
 * (capabilities above 31 are silently dropped), two for versions 2 and 3.
 * An unknown version is EINVAL (and `header.version` becomes version 3),
 * except that with `wantData` false (a NULL data pointer) the call succeeds
 * with no data: the version probe. A negative pid is EINVAL; a pid
 * `findTask` does not know is ESRCH.
 */
export const capget = (
  current: CapTask,
  header: CapUserHeader,
  findTask: (pid: number) => Cred | undefined = () => undefined,
  wantData = true
): Effect.Effect<ReadonlyArray<CapUserData> | undefined, SysError> =>
  Effect.suspend(() => {
    const tocopy = capValidateMagic(header)
    if (!wantData) return Effect.succeed(undefined)
    if (tocopy === undefined) return sysFail("EINVAL", "capget", "unknown capability version")
    const pid = header.pid
    if (pid < 0) return sysFail("EINVAL", "capget", "negative pid")
    const cred = pid !== 0 && pid !== current.pid ? findTask(pid) : current.cred
    if (cred === undefined) return sysFail("ESRCH", "capget", `no process ${pid}`)
    const e = capToU32s(cred.capEffective)
    const p = capToU32s(cred.capPermitted)
    const i = capToU32s(cred.capInheritable)
    const data: Array<CapUserData> = []
    for (let w = 0; w < tocopy; w++) data.push({ effective: e[w]!, permitted: p[w]!, inheritable: i[w]! })
    return Effect.succeed(data)
  })

/**
 * capset(2): set the caller's effective, permitted and inheritable sets from
 * `data` (one u32 word per set for version 1, whose upper capabilities
 * become 0; two for versions 2 and 3; bits above CAP_LAST_CAP are ignored).
 * EINVAL for an unknown version (`header.version` becomes version 3); EPERM
 * for any pid but 0 or the caller's own, and for a change cap_capset()
 * refuses (see capCapset); EFAULT when `data` has fewer words than the
 * version needs.
 */
export const capset = (
  current: CapTask,
  header: CapUserHeader,
  data: ReadonlyArray<CapUserData>
): Effect.Effect<void, SysError> =>
  Effect.suspend(() => {
    const tocopy = capValidateMagic(header)
    if (tocopy === undefined) return sysFail("EINVAL", "capset", "unknown capability version")
    if (header.pid !== 0 && header.pid !== current.pid)
      return sysFail("EPERM", "capset", "capset may only change the calling task")
    if (data.length < tocopy) return sysFail("EFAULT", "capset", "too few capability data words")
    const word = (w: number, field: keyof CapUserData): number => (w < tocopy ? data[w]![field] : 0)
    const effective = capFromU32s(word(0, "effective"), word(1, "effective"))
    const permitted = capFromU32s(word(0, "permitted"), word(1, "permitted"))
    const inheritable = capFromU32s(word(0, "inheritable"), word(1, "inheritable"))
    const old = current.cred
    const draft = prepareCreds(old)
    if (!capCapset(draft, old, effective, inheritable, permitted)) {
      abortCreds(draft)
      return sysFail("EPERM", "capset", "capability sets may not grow")
    }
    commitCreds(current, draft)
    return Effect.void
  })
