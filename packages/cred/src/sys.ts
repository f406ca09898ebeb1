import { CAP_SETGID, CAP_SETUID, type SysError, sysFail } from "@simkernel/abi"
import { Effect } from "effect"
import { capCapable, capTaskFixSetuid, LSM_SETID_FS, LSM_SETID_ID, LSM_SETID_RE, LSM_SETID_RES } from "./commoncap.js"
import { type CredHolder, type CredValues, commitCreds, prepareCreds } from "./Cred.js"
import { fromKgidMunged, fromKuidMunged, gidValid, makeKgid, makeKuid, uidValid } from "./uidgid.js"

// The identity calls of kernel/sys.c. Ids come in as the caller's uid_t /
// gid_t (taken modulo 2^32, so -1 and 4294967295 both mean "unchanged"),
// are mapped into kernel ids through the caller's user namespace (EINVAL
// when unmapped), and each successful change commits a new Cred whose
// capability sets follow capTaskFixSetuid().

/** (uid_t)-1 / (gid_t)-1: "leave this id alone". */
const KEEP = 0xffffffff

const setuidCapable = (old: CredValues): boolean => capCapable(old, old.userNs, CAP_SETUID)
const setgidCapable = (old: CredValues): boolean => capCapable(old, old.userNs, CAP_SETGID)

/**
 * setuid(2): with CAP_SETUID in the caller's namespace, set the real,
 * effective, saved and file-system uids; otherwise only the effective and
 * file-system uids, and only to the real or saved uid (EPERM).
 */
export const setuid = (holder: CredHolder, uid: number): Effect.Effect<void, SysError> =>
  Effect.suspend(() => {
    const old = holder.cred
    const kuid = makeKuid(old.userNs, uid)
    if (!uidValid(kuid)) return sysFail("EINVAL", "setuid", `uid ${uid >>> 0} is not mapped`)
    const privileged = setuidCapable(old)
    if (!privileged && kuid !== old.uid && kuid !== old.suid)
      return sysFail("EPERM", "setuid", "an unprivileged task may only set its real or saved uid")
    const draft = prepareCreds(old)
    if (privileged) draft.suid = draft.uid = kuid
    draft.fsuid = draft.euid = kuid
    capTaskFixSetuid(draft, old, LSM_SETID_ID)
    commitCreds(holder, draft)
    return Effect.void
  })

/**
 * setgid(2): with CAP_SETGID, set all four gids; otherwise the effective and
 * file-system gids, to the real or saved gid only (EPERM).
 */
export const setgid = (holder: CredHolder, gid: number): Effect.Effect<void, SysError> =>
  Effect.suspend(() => {
    const old = holder.cred
    const kgid = makeKgid(old.userNs, gid)
    if (!gidValid(kgid)) return sysFail("EINVAL", "setgid", `gid ${gid >>> 0} is not mapped`)
    const privileged = setgidCapable(old)
    if (!privileged && kgid !== old.gid && kgid !== old.sgid)
      return sysFail("EPERM", "setgid", "an unprivileged task may only set its real or saved gid")
    const draft = prepareCreds(old)
    if (privileged) draft.gid = draft.sgid = kgid
    draft.egid = draft.fsgid = kgid
    commitCreds(holder, draft)
    return Effect.void
  })

/**
 * setreuid(2): an unprivileged caller may set the real uid to the real or
 * effective uid, and the effective uid to the real, effective or saved uid.
 * Setting the real uid, or an effective uid other than the old real uid,
 * also sets the saved uid to the new effective uid.
 */
export const setreuid = (holder: CredHolder, ruid: number, euid: number): Effect.Effect<void, SysError> =>
  Effect.suspend(() => {
    const old = holder.cred
    const r = ruid >>> 0
    const e = euid >>> 0
    const kruid = makeKuid(old.userNs, r)
    const keuid = makeKuid(old.userNs, e)
    if (r !== KEEP && !uidValid(kruid)) return sysFail("EINVAL", "setreuid", `uid ${r} is not mapped`)
    if (e !== KEEP && !uidValid(keuid)) return sysFail("EINVAL", "setreuid", `uid ${e} is not mapped`)
    if (r !== KEEP && kruid !== old.uid && kruid !== old.euid && !setuidCapable(old))
      return sysFail("EPERM", "setreuid", "the real uid may only become the real or effective uid")
    if (e !== KEEP && keuid !== old.uid && keuid !== old.euid && keuid !== old.suid && !setuidCapable(old))
      return sysFail("EPERM", "setreuid", "the effective uid may only become the real, effective or saved uid")
    const draft = prepareCreds(old)
    if (r !== KEEP) draft.uid = kruid
    if (e !== KEEP) draft.euid = keuid
    if (r !== KEEP || (e !== KEEP && keuid !== old.uid)) draft.suid = draft.euid
    draft.fsuid = draft.euid
    capTaskFixSetuid(draft, old, LSM_SETID_RE)
    commitCreds(holder, draft)
    return Effect.void
  })

/** setregid(2): setreuid()'s rules for gids. */
export const setregid = (holder: CredHolder, rgid: number, egid: number): Effect.Effect<void, SysError> =>
  Effect.suspend(() => {
    const old = holder.cred
    const r = rgid >>> 0
    const e = egid >>> 0
    const krgid = makeKgid(old.userNs, r)
    const kegid = makeKgid(old.userNs, e)
    if (r !== KEEP && !gidValid(krgid)) return sysFail("EINVAL", "setregid", `gid ${r} is not mapped`)
    if (e !== KEEP && !gidValid(kegid)) return sysFail("EINVAL", "setregid", `gid ${e} is not mapped`)
    if (r !== KEEP && krgid !== old.gid && krgid !== old.egid && !setgidCapable(old))
      return sysFail("EPERM", "setregid", "the real gid may only become the real or effective gid")
    if (e !== KEEP && kegid !== old.gid && kegid !== old.egid && kegid !== old.sgid && !setgidCapable(old))
      return sysFail("EPERM", "setregid", "the effective gid may only become the real, effective or saved gid")
    const draft = prepareCreds(old)
    if (r !== KEEP) draft.gid = krgid
    if (e !== KEEP) draft.egid = kegid
    if (r !== KEEP || (e !== KEEP && kegid !== old.gid)) draft.sgid = draft.egid
    draft.fsgid = draft.egid
    commitCreds(holder, draft)
    return Effect.void
  })

/**
 * setresuid(2): each of the real, effective and saved uids that is not -1
 * is set; an unprivileged caller may only use values among its current
 * real, effective and saved uids (EPERM). A call that changes nothing
 * (including fsuid already equal to the requested euid) returns at once.
 */
export const setresuid = (
  holder: CredHolder,
  ruid: number,
  euid: number,
  suid: number
): Effect.Effect<void, SysError> =>
  Effect.suspend(() => {
    const old = holder.cred
    const r = ruid >>> 0
    const e = euid >>> 0
    const s = suid >>> 0
    const kr = makeKuid(old.userNs, r)
    const ke = makeKuid(old.userNs, e)
    const ks = makeKuid(old.userNs, s)
    if (r !== KEEP && !uidValid(kr)) return sysFail("EINVAL", "setresuid", `uid ${r} is not mapped`)
    if (e !== KEEP && !uidValid(ke)) return sysFail("EINVAL", "setresuid", `uid ${e} is not mapped`)
    if (s !== KEEP && !uidValid(ks)) return sysFail("EINVAL", "setresuid", `uid ${s} is not mapped`)
    if (
      (r === KEEP || kr === old.uid) &&
      (e === KEEP || (ke === old.euid && ke === old.fsuid)) &&
      (s === KEEP || ks === old.suid)
    )
      return Effect.void
    const isNew = (id: number, k: number): boolean => id !== KEEP && k !== old.uid && k !== old.euid && k !== old.suid
    if ((isNew(r, kr) || isNew(e, ke) || isNew(s, ks)) && !setuidCapable(old))
      return sysFail("EPERM", "setresuid", "an unprivileged task may only use its current real, effective or saved uid")
    const draft = prepareCreds(old)
    if (r !== KEEP) draft.uid = kr
    if (e !== KEEP) draft.euid = ke
    if (s !== KEEP) draft.suid = ks
    draft.fsuid = draft.euid
    capTaskFixSetuid(draft, old, LSM_SETID_RES)
    commitCreds(holder, draft)
    return Effect.void
  })

/** setresgid(2): setresuid()'s rules for gids (CAP_SETGID). */
export const setresgid = (
  holder: CredHolder,
  rgid: number,
  egid: number,
  sgid: number
): Effect.Effect<void, SysError> =>
  Effect.suspend(() => {
    const old = holder.cred
    const r = rgid >>> 0
    const e = egid >>> 0
    const s = sgid >>> 0
    const kr = makeKgid(old.userNs, r)
    const ke = makeKgid(old.userNs, e)
    const ks = makeKgid(old.userNs, s)
    if (r !== KEEP && !gidValid(kr)) return sysFail("EINVAL", "setresgid", `gid ${r} is not mapped`)
    if (e !== KEEP && !gidValid(ke)) return sysFail("EINVAL", "setresgid", `gid ${e} is not mapped`)
    if (s !== KEEP && !gidValid(ks)) return sysFail("EINVAL", "setresgid", `gid ${s} is not mapped`)
    if (
      (r === KEEP || kr === old.gid) &&
      (e === KEEP || (ke === old.egid && ke === old.fsgid)) &&
      (s === KEEP || ks === old.sgid)
    )
      return Effect.void
    const isNew = (id: number, k: number): boolean => id !== KEEP && k !== old.gid && k !== old.egid && k !== old.sgid
    if ((isNew(r, kr) || isNew(e, ke) || isNew(s, ks)) && !setgidCapable(old))
      return sysFail("EPERM", "setresgid", "an unprivileged task may only use its current real, effective or saved gid")
    const draft = prepareCreds(old)
    if (r !== KEEP) draft.gid = kr
    if (e !== KEEP) draft.egid = ke
    if (s !== KEEP) draft.sgid = ks
    draft.fsgid = draft.egid
    commitCreds(holder, draft)
    return Effect.void
  })

/**
 * setfsuid(2): set the file-system uid to the real, effective, saved or
 * current fsuid, or anything with CAP_SETUID, and adjust the effective
 * set's file-system capabilities (capTaskFixSetuid LSM_SETID_FS). It never
 * fails: it returns the previous fsuid (in the caller's namespace) whether
 * or not it changed anything.
 */
export const setfsuid = (holder: CredHolder, uid: number): Effect.Effect<number> =>
  Effect.sync(() => {
    const old = holder.cred
    const oldFsuid = fromKuidMunged(old.userNs, old.fsuid)
    const kuid = makeKuid(old.userNs, uid)
    if (!uidValid(kuid)) return oldFsuid
    if (
      (kuid === old.uid || kuid === old.euid || kuid === old.suid || kuid === old.fsuid || setuidCapable(old)) &&
      kuid !== old.fsuid
    ) {
      const draft = prepareCreds(old)
      draft.fsuid = kuid
      capTaskFixSetuid(draft, old, LSM_SETID_FS)
      commitCreds(holder, draft)
    }
    return oldFsuid
  })

/** setfsgid(2): setfsuid()'s rule for the file-system gid (no capability change). */
export const setfsgid = (holder: CredHolder, gid: number): Effect.Effect<number> =>
  Effect.sync(() => {
    const old = holder.cred
    const oldFsgid = fromKgidMunged(old.userNs, old.fsgid)
    const kgid = makeKgid(old.userNs, gid)
    if (!gidValid(kgid)) return oldFsgid
    if (
      (kgid === old.gid || kgid === old.egid || kgid === old.sgid || kgid === old.fsgid || setgidCapable(old)) &&
      kgid !== old.fsgid
    ) {
      const draft = prepareCreds(old)
      draft.fsgid = kgid
      commitCreds(holder, draft)
    }
    return oldFsgid
  })

/** getuid(2): the real uid in the cred's own namespace (65534 when unmapped). */
export const getuid = (cred: CredValues): number => fromKuidMunged(cred.userNs, cred.uid)
/** geteuid(2). */
export const geteuid = (cred: CredValues): number => fromKuidMunged(cred.userNs, cred.euid)
/** getgid(2). */
export const getgid = (cred: CredValues): number => fromKgidMunged(cred.userNs, cred.gid)
/** getegid(2). */
export const getegid = (cred: CredValues): number => fromKgidMunged(cred.userNs, cred.egid)

/** getresuid(2): real, effective and saved uids in the cred's namespace. */
export const getresuid = (cred: CredValues): readonly [number, number, number] => [
  fromKuidMunged(cred.userNs, cred.uid),
  fromKuidMunged(cred.userNs, cred.euid),
  fromKuidMunged(cred.userNs, cred.suid)
]

/** getresgid(2). */
export const getresgid = (cred: CredValues): readonly [number, number, number] => [
  fromKgidMunged(cred.userNs, cred.gid),
  fromKgidMunged(cred.userNs, cred.egid),
  fromKgidMunged(cred.userNs, cred.sgid)
]
