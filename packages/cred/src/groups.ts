import { CAP_SETGID, type SysError, sysFail } from "@simkernel/abi"
import { Effect } from "effect"
import { capCapable } from "./commoncap.js"
import { type CredHolder, type CredValues, commitCreds, prepareCreds } from "./Cred.js"
import { fromKgidMunged, gidValid, type Kgid, makeKgid } from "./uidgid.js"
import { usernsMaySetgroups } from "./UserNamespace.js"

/** include/uapi/linux/limits.h NGROUPS_MAX: most supplementary groups a task may have. */
export const NGROUPS_MAX = 65536

/**
 * may_setgroups(): CAP_SETGID in the cred's own user namespace, and that
 * namespace allows setgroups(2) (a gid map exists and setgroups was not
 * set to "deny").
 */
export const maySetgroups = (cred: CredValues): boolean =>
  capCapable(cred, cred.userNs, CAP_SETGID) && usernsMaySetgroups(cred.userNs)

/**
 * setgroups(2): replace the supplementary groups with the first
 * `gidsetsize` gids of `grouplist` (in the caller's namespace). EPERM
 * unless maySetgroups(); EINVAL for a size above NGROUPS_MAX (or negative:
 * the kernel compares it unsigned) and for a gid with no mapping; EFAULT
 * when the list is shorter than `gidsetsize`. The list is stored sorted.
 */
export const setgroups = (
  holder: CredHolder,
  gidsetsize: number,
  grouplist: ReadonlyArray<number>
): Effect.Effect<void, SysError> =>
  Effect.suspend(() => {
    const old = holder.cred
    if (!maySetgroups(old)) return sysFail("EPERM", "setgroups", "CAP_SETGID is required and setgroups must be allowed")
    if (gidsetsize >>> 0 > NGROUPS_MAX) return sysFail("EINVAL", "setgroups", `more than ${NGROUPS_MAX} groups`)
    if (grouplist.length < gidsetsize) return sysFail("EFAULT", "setgroups", "the group list is shorter than its size")
    const kgids: Array<Kgid> = []
    for (let i = 0; i < gidsetsize; i++) {
      const kgid = makeKgid(old.userNs, grouplist[i]!)
      if (!gidValid(kgid)) return sysFail("EINVAL", "setgroups", `gid ${grouplist[i]! >>> 0} is not mapped`)
      kgids.push(kgid)
    }
    const draft = prepareCreds(old)
    draft.setGroups(kgids)
    commitCreds(holder, draft)
    return Effect.void
  })

/**
 * getgroups(2): the supplementary groups in the cred's namespace (unmapped
 * ones as 65534), sorted by kernel gid. A `gidsetsize` of 0 asks only for
 * the count (the array is still returned); a negative size, or one smaller
 * than the number of groups, is EINVAL.
 */
export const getgroups = (cred: CredValues, gidsetsize: number): Effect.Effect<ReadonlyArray<number>, SysError> =>
  Effect.suspend(() => {
    if (gidsetsize < 0) return sysFail("EINVAL", "getgroups", "negative size")
    const groups = cred.groups
    if (gidsetsize !== 0 && groups.length > gidsetsize)
      return sysFail("EINVAL", "getgroups", `${groups.length} groups do not fit in ${gidsetsize}`)
    return Effect.succeed(groups.map((g) => fromKgidMunged(cred.userNs, g)))
  })
