import { CAP_SYS_TIME, sysError, type SysError } from "@simkernel/abi"
import { type Cred, NsCommon, nsCapable, nsInitInum, type UserNamespace } from "@simkernel/cred"
import {
  CLOCK_MONOTONIC,
  checkTimensOffset,
  formatTimensOffsetLine,
  type TimensOffset,
  type Timespec
} from "./timensOffsets.js"

const ZERO: Timespec = { sec: 0, nsec: 0 }

/**
 * A time namespace, as kernel/time/namespace.c: offsets of CLOCK_MONOTONIC
 * and CLOCK_BOOTTIME. The offsets can be set only until the first task
 * enters the namespace; from then on they are frozen.
 */
export class TimeNamespace extends NsCommon {
  readonly kind = "time"
  private monotonicOffset: Timespec
  private boottimeOffset: Timespec
  private frozenOffsets = false

  private constructor(owner: UserNamespace, inum: number, monotonic: Timespec, boottime: Timespec) {
    super({ ownerNs: owner, inum })
    this.monotonicOffset = monotonic
    this.boottimeOffset = boottime
  }

  static createInit(owner: UserNamespace): TimeNamespace {
    const ns = new TimeNamespace(owner, nsInitInum("time"), ZERO, ZERO)
    ns.frozenOffsets = true
    return ns
  }

  /** clone_time_ns(): a new namespace with this one's offsets, not yet frozen. */
  clone(owner: UserNamespace): TimeNamespace | SysError {
    const inum = owner.inums.alloc()
    if (inum === undefined) return sysError("ENOSPC", "unshare", "no nsfs inode number left")
    return new TimeNamespace(owner, inum, this.monotonicOffset, this.boottimeOffset)
  }

  get monotonic(): Timespec {
    return this.monotonicOffset
  }

  get boottime(): Timespec {
    return this.boottimeOffset
  }

  /** Has a task entered (timens_commit())? Then the offsets cannot change. */
  get frozen(): boolean {
    return this.frozenOffsets
  }

  /** timens_commit(): a task has entered; the offsets are fixed from now on. */
  freeze(): void {
    this.frozenOffsets = true
  }

  /**
   * proc_timens_set_offset(): `opener` is the credential the
   * timens_offsets file was opened with and needs CAP_SYS_TIME over the
   * namespace's owner (EPERM); each offset must keep its clock in range
   * from `now` (ERANGE); once a task has entered, EACCES. All or nothing.
   */
  setOffsets(
    opener: Cred,
    offsets: ReadonlyArray<TimensOffset>,
    now: { readonly monotonic: Timespec; readonly boottime: Timespec }
  ): SysError | undefined {
    if (!nsCapable(opener, this.ownerNs!, CAP_SYS_TIME)) return sysError("EPERM", "write", "timens_offsets")
    for (const o of offsets) {
      const err = checkTimensOffset(o.offset, o.clockid === CLOCK_MONOTONIC ? now.monotonic : now.boottime)
      if (err !== undefined) return err
    }
    if (this.frozenOffsets) return sysError("EACCES", "write", "timens_offsets")
    for (const o of offsets) {
      if (o.clockid === CLOCK_MONOTONIC) this.monotonicOffset = o.offset
      else this.boottimeOffset = o.offset
    }
    return undefined
  }

  /** The text of /proc/PID/timens_offsets. */
  formatOffsets(): string {
    return formatTimensOffsetLine("monotonic", this.monotonicOffset) + formatTimensOffsetLine("boottime", this.boottimeOffset)
  }
}
