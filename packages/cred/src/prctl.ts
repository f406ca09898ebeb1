import {
  CAP_SETPCAP,
  PR_CAP_AMBIENT,
  PR_CAP_AMBIENT_CLEAR_ALL,
  PR_CAP_AMBIENT_IS_SET,
  PR_CAP_AMBIENT_LOWER,
  PR_CAP_AMBIENT_RAISE,
  PR_CAPBSET_DROP,
  PR_CAPBSET_READ,
  PR_GET_KEEPCAPS,
  PR_GET_SECUREBITS,
  PR_SET_KEEPCAPS,
  PR_SET_SECUREBITS,
  SECBIT_KEEP_CAPS,
  SECBIT_KEEP_CAPS_LOCKED,
  SECBIT_NO_CAP_AMBIENT_RAISE,
  type SysError,
  sysFail
} from "@simkernel/abi"
import { Effect } from "effect"
import { capCapable } from "./commoncap.js"
import { type CredHolder, commitCreds, type NewCred, prepareCreds } from "./Cred.js"
import { capLower, capRaise, capRaised, capValid } from "./kernelCap.js"
import { SECUREBITS_ALL_BITS, SECUREBITS_ALL_LOCKS, SECUREBITS_ALL_UNPRIVILEGED } from "./securebits.js"

const commit = (holder: CredHolder, change: (draft: NewCred) => void): Effect.Effect<number> =>
  Effect.sync(() => {
    const draft = prepareCreds(holder.cred)
    change(draft)
    commitCreds(holder, draft)
    return 0
  })

/** prctl() arguments are unsigned long: a negative number is a huge one. */
const isU32 = (x: number): boolean => Number.isInteger(x) && x >= 0 && x <= 0xffffffff

/**
 * security/commoncap.c cap_task_prctl(): the capability options of
 * prctl(2), with the result prctl returns:
 * - PR_CAPBSET_READ (cap): 1 if `cap` is in the bounding set; EINVAL for an
 *   invalid capability.
 * - PR_CAPBSET_DROP (cap): remove it from the bounding set; EPERM without
 *   CAP_SETPCAP in the caller's namespace, then EINVAL for an invalid one.
 * - PR_GET_SECUREBITS / PR_SET_SECUREBITS (bits): EPERM when a locked bit
 *   would change, a lock would be released, an unknown bit is set, or,
 *   without CAP_SETPCAP, anything but the SECBIT_EXEC_* bits (and their
 *   locks) would change (Linux 6.14 and later; a no-op is EPERM too).
 * - PR_GET_KEEPCAPS / PR_SET_KEEPCAPS (0|1): SECBIT_KEEP_CAPS; EINVAL for
 *   other values, EPERM when SECBIT_KEEP_CAPS_LOCKED.
 * - PR_CAP_AMBIENT (op, cap, 0, 0): IS_SET returns 0 or 1; RAISE needs
 *   `cap` in the permitted and inheritable sets and no
 *   SECBIT_NO_CAP_AMBIENT_RAISE (EPERM); LOWER; CLEAR_ALL (cap 0). EINVAL
 *   for an unknown op, an invalid capability, or non-zero unused arguments.
 * Any other option fails with ENOSYS: not a capability option (prctl then
 * looks elsewhere).
 */
export const capTaskPrctl = (
  holder: CredHolder,
  option: number,
  arg2 = 0,
  arg3 = 0,
  arg4 = 0,
  arg5 = 0
): Effect.Effect<number, SysError> =>
  Effect.suspend(() => {
    const old = holder.cred
    switch (option) {
      case PR_CAPBSET_READ:
        if (!capValid(arg2)) return sysFail("EINVAL", "prctl", "invalid capability")
        return Effect.succeed(capRaised(old.capBset, arg2) ? 1 : 0)
      case PR_CAPBSET_DROP:
        if (!capCapable(old, old.userNs, CAP_SETPCAP))
          return sysFail("EPERM", "prctl", "PR_CAPBSET_DROP needs CAP_SETPCAP")
        if (!capValid(arg2)) return sysFail("EINVAL", "prctl", "invalid capability")
        return commit(holder, (d) => {
          d.capBset = capLower(d.capBset, arg2)
        })
      case PR_SET_SECUREBITS: {
        const bits = arg2
        const cur = old.securebits
        if (
          !isU32(bits) ||
          (((cur & SECUREBITS_ALL_LOCKS) >>> 1) & (cur ^ bits)) !== 0 ||
          (cur & SECUREBITS_ALL_LOCKS & ~bits) !== 0 ||
          (bits & ~(SECUREBITS_ALL_LOCKS | SECUREBITS_ALL_BITS)) !== 0
        )
          return sysFail("EPERM", "prctl", "a locked or unknown securebit")
        if (!capCapable(old, old.userNs, CAP_SETPCAP)) {
          const changed = cur ^ bits
          if (changed === 0 || (changed & ~(SECUREBITS_ALL_UNPRIVILEGED | (SECUREBITS_ALL_UNPRIVILEGED << 1))) !== 0)
            return sysFail("EPERM", "prctl", "PR_SET_SECUREBITS needs CAP_SETPCAP")
        }
        return commit(holder, (d) => {
          d.securebits = bits
        })
      }
      case PR_GET_SECUREBITS:
        return Effect.succeed(old.securebits)
      case PR_GET_KEEPCAPS:
        return Effect.succeed(old.keepcaps ? 1 : 0)
      case PR_SET_KEEPCAPS:
        if (arg2 !== 0 && arg2 !== 1) return sysFail("EINVAL", "prctl", "PR_SET_KEEPCAPS takes 0 or 1")
        if ((old.securebits & SECBIT_KEEP_CAPS_LOCKED) !== 0)
          return sysFail("EPERM", "prctl", "SECBIT_KEEP_CAPS is locked")
        return commit(holder, (d) => {
          d.securebits = arg2 === 1 ? d.securebits | SECBIT_KEEP_CAPS : d.securebits & ~SECBIT_KEEP_CAPS
        })
      case PR_CAP_AMBIENT: {
        if (arg2 === PR_CAP_AMBIENT_CLEAR_ALL) {
          if (arg3 !== 0 || arg4 !== 0 || arg5 !== 0) return sysFail("EINVAL", "prctl", "unused arguments must be 0")
          return commit(holder, (d) => {
            d.capAmbient = 0
          })
        }
        if (!capValid(arg3) || arg4 !== 0 || arg5 !== 0)
          return sysFail("EINVAL", "prctl", "invalid capability or non-zero unused arguments")
        if (arg2 === PR_CAP_AMBIENT_IS_SET) return Effect.succeed(capRaised(old.capAmbient, arg3) ? 1 : 0)
        if (arg2 !== PR_CAP_AMBIENT_RAISE && arg2 !== PR_CAP_AMBIENT_LOWER)
          return sysFail("EINVAL", "prctl", "unknown PR_CAP_AMBIENT operation")
        if (
          arg2 === PR_CAP_AMBIENT_RAISE &&
          (!capRaised(old.capPermitted, arg3) ||
            !capRaised(old.capInheritable, arg3) ||
            (old.securebits & SECBIT_NO_CAP_AMBIENT_RAISE) !== 0)
        )
          return sysFail("EPERM", "prctl", "an ambient capability must be permitted and inheritable")
        return commit(holder, (d) => {
          d.capAmbient = arg2 === PR_CAP_AMBIENT_RAISE ? capRaise(d.capAmbient, arg3) : capLower(d.capAmbient, arg3)
        })
      }
      default:
        return sysFail("ENOSYS", "prctl", "not a capability option")
    }
  })
