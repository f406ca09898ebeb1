import { OVERFLOWGID, OVERFLOWUID } from "@simkernel/abi"
import { INVALID_ID } from "./UidGidMap.js"
import type { UserNamespace } from "./UserNamespace.js"

/**
 * A kernel uid (include/linux/uidgid.h kuid_t): the uid as the initial user
 * namespace sees it. Creds and inodes store these; a namespace's own uids
 * are converted with makeKuid()/fromKuid() at the syscall boundary.
 */
export type Kuid = number
/** A kernel gid (kgid_t). */
export type Kgid = number
/** A kernel project id (kprojid_t). */
export type Kprojid = number

/** INVALID_UID: what makeKuid() returns for an unmapped uid. */
export const INVALID_UID: Kuid = INVALID_ID
export const INVALID_GID: Kgid = INVALID_ID
export const INVALID_PROJID: Kprojid = INVALID_ID
/** include/linux/projid.h OVERFLOW_PROJID. */
export const OVERFLOW_PROJID = 65534

/** GLOBAL_ROOT_UID / GLOBAL_ROOT_GID. */
export const GLOBAL_ROOT_UID: Kuid = 0
export const GLOBAL_ROOT_GID: Kgid = 0

export const uidValid = (uid: Kuid): boolean => uid !== INVALID_UID
export const gidValid = (gid: Kgid): boolean => gid !== INVALID_GID
export const projidValid = (projid: Kprojid): boolean => projid !== INVALID_PROJID

/** make_kuid(): the kernel uid of `uid` in `ns`, or INVALID_UID. `uid` is taken as a u32 (uid_t). */
export const makeKuid = (ns: UserNamespace, uid: number): Kuid => ns.uidMap.mapIdDown(uid >>> 0)

/** from_kuid(): the uid `kuid` has in `ns`, or 4294967295 ((uid_t)-1) when it has none. */
export const fromKuid = (ns: UserNamespace, kuid: Kuid): number => ns.uidMap.mapIdUp(kuid)

/** from_kuid_munged(): as fromKuid(), but an unmapped uid reads as the overflow uid 65534. */
export const fromKuidMunged = (ns: UserNamespace, kuid: Kuid): number => {
  const uid = ns.uidMap.mapIdUp(kuid)
  return uid === INVALID_ID ? OVERFLOWUID : uid
}

/** kuid_has_mapping(). */
export const kuidHasMapping = (ns: UserNamespace, kuid: Kuid): boolean => ns.uidMap.mapIdUp(kuid) !== INVALID_ID

/** make_kgid(). */
export const makeKgid = (ns: UserNamespace, gid: number): Kgid => ns.gidMap.mapIdDown(gid >>> 0)

/** from_kgid(). */
export const fromKgid = (ns: UserNamespace, kgid: Kgid): number => ns.gidMap.mapIdUp(kgid)

/** from_kgid_munged(): an unmapped gid reads as the overflow gid 65534. */
export const fromKgidMunged = (ns: UserNamespace, kgid: Kgid): number => {
  const gid = ns.gidMap.mapIdUp(kgid)
  return gid === INVALID_ID ? OVERFLOWGID : gid
}

/** kgid_has_mapping(). */
export const kgidHasMapping = (ns: UserNamespace, kgid: Kgid): boolean => ns.gidMap.mapIdUp(kgid) !== INVALID_ID

/** make_kprojid(). */
export const makeKprojid = (ns: UserNamespace, projid: number): Kprojid => ns.projidMap.mapIdDown(projid >>> 0)

/** from_kprojid(). */
export const fromKprojid = (ns: UserNamespace, kprojid: Kprojid): number => ns.projidMap.mapIdUp(kprojid)

/** from_kprojid_munged(): an unmapped project id reads as OVERFLOW_PROJID. */
export const fromKprojidMunged = (ns: UserNamespace, kprojid: Kprojid): number => {
  const projid = ns.projidMap.mapIdUp(kprojid)
  return projid === INVALID_ID ? OVERFLOW_PROJID : projid
}

/** kprojid_has_mapping(). */
export const kprojidHasMapping = (ns: UserNamespace, kprojid: Kprojid): boolean =>
  ns.projidMap.mapIdUp(kprojid) !== INVALID_ID
