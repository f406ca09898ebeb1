import {
  CAP_CHECKPOINT_RESTORE,
  CAP_CHOWN,
  CAP_DAC_OVERRIDE,
  CAP_LINUX_IMMUTABLE,
  CAP_MAC_OVERRIDE,
  CAP_SYS_ADMIN,
  CAP_SETFCAP
} from "@simkernel/abi"
import { describe, expect, it } from "@effect/vitest"
import fc from "fast-check"
import {
  CAP_FS_SET,
  CAP_FULL_SET,
  capCombine,
  capDrop,
  capDropFsSet,
  capFromList,
  capFromU32s,
  capIntersect,
  capIsSubset,
  capLower,
  capRaise,
  capRaised,
  capRaiseFsSet,
  capToHex,
  capToList,
  capToU32s,
  capValid
} from "@simkernel/cred"

// A 64-bit reference model: kernel_cap_t is a u64 since Linux 6.3.
const big = (set: number): bigint => BigInt(set)
const capSet = fc.bigInt({ min: 0n, max: (1n << 41n) - 1n }).map(Number)
const cap = fc.integer({ min: 0, max: 40 })

describe("capability sets (kernel_cap_t)", () => {
  it("the full set is capabilities 0..40, as /proc/self/status prints it on Linux 6.18", () => {
    expect(capToHex(CAP_FULL_SET)).toBe("000001ffffffffff")
    expect(capToList(CAP_FULL_SET)).toHaveLength(41)
  })

  it("capget words split the set at bit 32; capset ignores bits above CAP_LAST_CAP", () => {
    const set = capFromList([CAP_CHOWN, CAP_SETFCAP, CAP_MAC_OVERRIDE, CAP_CHECKPOINT_RESTORE])
    expect(capToU32s(set)).toEqual([0x80000001, 0x101])
    expect(capToList(capFromU32s(0x80000001, 0xffffffff))).toEqual([0, 31, 32, 33, 34, 35, 36, 37, 38, 39, 40])
    expect(capFromU32s(0xffffffff, 0xffffffff)).toBe(CAP_FULL_SET)
  })

  it("capValid accepts 0..40 only", () => {
    expect([0, 40, 41, -1, 1.5].map(capValid)).toEqual([true, true, false, false, false])
  })

  it("the file-system set is what setfsuid moves (CAP_FS_SET)", () => {
    expect(capRaised(CAP_FS_SET, CAP_LINUX_IMMUTABLE)).toBe(true)
    expect(capRaised(CAP_FS_SET, CAP_MAC_OVERRIDE)).toBe(true)
    expect(capRaised(CAP_FS_SET, CAP_SYS_ADMIN)).toBe(false)
    expect(capDropFsSet(CAP_FULL_SET)).toBe(capDrop(CAP_FULL_SET, CAP_FS_SET))
    expect(capRaiseFsSet(0, capFromList([CAP_DAC_OVERRIDE, CAP_SYS_ADMIN]))).toBe(capFromList([CAP_DAC_OVERRIDE]))
  })

  it("set operations agree with 64-bit integer arithmetic", () => {
    fc.assert(
      fc.property(capSet, capSet, (a, b) => {
        expect(big(capCombine(a, b))).toBe(big(a) | big(b))
        expect(big(capIntersect(a, b))).toBe(big(a) & big(b))
        expect(big(capDrop(a, b))).toBe(big(a) & ~big(b))
        expect(capIsSubset(a, b)).toBe((big(a) & ~big(b)) === 0n)
      })
    )
  })

  it("raise, lower and raised agree with the bit model", () => {
    fc.assert(
      fc.property(capSet, cap, (a, c) => {
        expect(capRaised(a, c)).toBe(((big(a) >> BigInt(c)) & 1n) === 1n)
        expect(big(capRaise(a, c))).toBe(big(a) | (1n << BigInt(c)))
        expect(big(capLower(a, c))).toBe(big(a) & ~(1n << BigInt(c)))
      })
    )
  })

  it("u32 words and lists round-trip", () => {
    fc.assert(
      fc.property(capSet, (a) => {
        const [lo, hi] = capToU32s(a)
        expect(capFromU32s(lo, hi)).toBe(a)
        expect(capFromList(capToList(a))).toBe(a)
      })
    )
  })
})
