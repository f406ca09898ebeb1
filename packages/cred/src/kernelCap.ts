import {
  CAP_CHOWN,
  CAP_DAC_OVERRIDE,
  CAP_DAC_READ_SEARCH,
  CAP_FOWNER,
  CAP_FSETID,
  CAP_LAST_CAP,
  CAP_LINUX_IMMUTABLE,
  CAP_MAC_OVERRIDE,
  CAP_MKNOD,
  CAP_SYS_RESOURCE
} from "@simkernel/abi"

/**
 * A capability set, as include/linux/capability.h kernel_cap_t: bit `cap`
 * of a non-negative integer below 2^(CAP_LAST_CAP + 1). A JS number holds
 * the 41 bits exactly; the helpers below work on its two 32-bit halves with
 * arithmetic, because `|` and `&` on a number only see its low 32 bits.
 */
export type CapSet = number

const TWO32 = 4294967296

/** 2^cap for every valid capability, so raising and lowering is one addition. */
const BIT: ReadonlyArray<number> = Array.from({ length: CAP_LAST_CAP + 1 }, (_, cap) => 2 ** cap)

const high = (set: CapSet): number => (set / TWO32) >>> 0
const join = (lo: number, hi: number): CapSet => hi * TWO32 + (lo >>> 0)

/** CAP_VALID_MASK: every capability this kernel knows. */
export const CAP_VALID_MASK: CapSet = 2 ** (CAP_LAST_CAP + 1) - 1
export const CAP_EMPTY_SET: CapSet = 0
export const CAP_FULL_SET: CapSet = CAP_VALID_MASK
/** Bits of the second u32 word that name real capabilities (CAP_LAST_U32_VALID_MASK). */
export const CAP_LAST_U32_VALID_MASK = 2 ** (CAP_LAST_CAP - 31) - 1

/** cap_valid(): a capability number this kernel knows. */
export const capValid = (cap: number): boolean => Number.isInteger(cap) && cap >= 0 && cap <= CAP_LAST_CAP

/** cap_raised(): is `cap` in the set? `cap` must be valid (0..CAP_LAST_CAP). */
export const capRaised = (set: CapSet, cap: number): boolean =>
  cap < 32 ? ((set >>> cap) & 1) === 1 : (((set / TWO32) >>> (cap - 32)) & 1) === 1

/** cap_raise(): the set with `cap` added. */
export const capRaise = (set: CapSet, cap: number): CapSet => (capRaised(set, cap) ? set : set + BIT[cap]!)

/** cap_lower(): the set with `cap` removed. */
export const capLower = (set: CapSet, cap: number): CapSet => (capRaised(set, cap) ? set - BIT[cap]! : set)

/** cap_combine(): union. */
export const capCombine = (a: CapSet, b: CapSet): CapSet => join(a | b, high(a) | high(b))

/** cap_intersect(): intersection. */
export const capIntersect = (a: CapSet, b: CapSet): CapSet => join(a & b, high(a) & high(b))

/** cap_drop(): the capabilities of `a` that are not in `drop`. */
export const capDrop = (a: CapSet, drop: CapSet): CapSet => join(a & ~drop, high(a) & ~high(drop))

/** cap_issubset(): every capability of `a` is in `set`. */
export const capIsSubset = (a: CapSet, set: CapSet): boolean => (a & ~set) === 0 && (high(a) & ~high(set)) === 0

/** cap_isclear(). */
export const capIsClear = (a: CapSet): boolean => a === 0

/**
 * The set from the two u32 words capset(2) takes (data[0] holds capabilities
 * 0..31, data[1] 32..63); bits above CAP_LAST_CAP are dropped as
 * kernel/capability.c capset() does with CAP_LAST_U32_VALID_MASK.
 */
export const capFromU32s = (low: number, highWord: number): CapSet =>
  join(low, (highWord >>> 0) & CAP_LAST_U32_VALID_MASK)

/** The two u32 words capget(2) returns for a set. */
export const capToU32s = (set: CapSet): readonly [number, number] => [set >>> 0, high(set)]

/** The set holding the given capabilities; invalid numbers are ignored. */
export const capFromList = (caps: Iterable<number>): CapSet => {
  let set = CAP_EMPTY_SET
  for (const cap of caps) if (capValid(cap)) set = capRaise(set, cap)
  return set
}

/** The capabilities in a set, ascending. */
export const capToList = (set: CapSet): Array<number> => {
  const caps: Array<number> = []
  for (let cap = 0; cap <= CAP_LAST_CAP; cap++) if (capRaised(set, cap)) caps.push(cap)
  return caps
}

/** The set as /proc/<pid>/status prints it (CapEff: etc.): 16 hex digits. */
export const capToHex = (set: CapSet): string => set.toString(16).padStart(16, "0")

/** The capabilities fsuid 0 historically meant (include/linux/capability.h CAP_FS_MASK). */
const CAP_FS_MASK = capFromList([
  CAP_CHOWN,
  CAP_MKNOD,
  CAP_DAC_OVERRIDE,
  CAP_DAC_READ_SEARCH,
  CAP_FOWNER,
  CAP_FSETID,
  CAP_MAC_OVERRIDE
])
/** CAP_FS_SET: what setfsuid() to and from 0 moves in and out of the effective set. */
export const CAP_FS_SET: CapSet = capRaise(CAP_FS_MASK, CAP_LINUX_IMMUTABLE)
/** CAP_NFSD_SET. */
export const CAP_NFSD_SET: CapSet = capRaise(CAP_FS_MASK, CAP_SYS_RESOURCE)

/** cap_drop_fs_set(). */
export const capDropFsSet = (a: CapSet): CapSet => capDrop(a, CAP_FS_SET)

/** cap_raise_fs_set(): add the file-system capabilities that are permitted. */
export const capRaiseFsSet = (a: CapSet, permitted: CapSet): CapSet =>
  capCombine(a, capIntersect(permitted, CAP_FS_SET))
