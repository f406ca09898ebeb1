import {
  CLONE_NEWCGROUP,
  CLONE_NEWIPC,
  CLONE_NEWNET,
  CLONE_NEWNS,
  CLONE_NEWPID,
  CLONE_NEWTIME,
  CLONE_NEWUSER,
  CLONE_NEWUTS,
  PROC_CGROUP_INIT_INO,
  PROC_DYNAMIC_FIRST,
  PROC_IPC_INIT_INO,
  PROC_MNT_INIT_INO,
  PROC_NET_INIT_INO,
  PROC_PID_INIT_INO,
  PROC_TIME_INIT_INO,
  PROC_USER_INIT_INO,
  PROC_UTS_INIT_INO,
  type SysError,
  sysFail
} from "@simkernel/abi"
import { type LiveObjects, Refcounted } from "@simkernel/kref"
import { Effect } from "effect"
import type { CredValues } from "./Cred.js"
import type { UserNamespace } from "./UserNamespace.js"

/** The namespace types, named as /proc/<pid>/ns/ names them (proc_ns_operations.name). */
export type NsKind = "mnt" | "uts" | "ipc" | "net" | "pid" | "user" | "cgroup" | "time"

export const NS_KINDS: ReadonlyArray<NsKind> = ["mnt", "uts", "ipc", "net", "pid", "user", "cgroup", "time"]

const CLONE_FLAG: { readonly [K in NsKind]: number } = {
  mnt: CLONE_NEWNS,
  uts: CLONE_NEWUTS,
  ipc: CLONE_NEWIPC,
  net: CLONE_NEWNET,
  pid: CLONE_NEWPID,
  user: CLONE_NEWUSER,
  cgroup: CLONE_NEWCGROUP,
  time: CLONE_NEWTIME
}

const INIT_INO: { readonly [K in NsKind]: number } = {
  mnt: PROC_MNT_INIT_INO,
  uts: PROC_UTS_INIT_INO,
  ipc: PROC_IPC_INIT_INO,
  net: PROC_NET_INIT_INO,
  pid: PROC_PID_INIT_INO,
  user: PROC_USER_INIT_INO,
  cgroup: PROC_CGROUP_INIT_INO,
  time: PROC_TIME_INIT_INO
}

/** The CLONE_NEW* flag of a namespace type (proc_ns_operations.type, NS_GET_NSTYPE). */
export const nsCloneFlag = (kind: NsKind): number => CLONE_FLAG[kind]

/** The fixed nsfs inode number of the initial namespace of a type (PROC_*_INIT_INO). */
export const nsInitInum = (kind: NsKind): number => INIT_INO[kind]

/** Highest number proc_alloc_inum() hands out (ida_alloc_max(..., UINT_MAX - PROC_DYNAMIC_FIRST)). */
const PROC_DYNAMIC_LAST = 0xffffffff

/**
 * The nsfs inode number allocator, as fs/proc/generic.c proc_inum_ida:
 * numbers from PROC_DYNAMIC_FIRST upward, the lowest free one first, so a
 * freed number is reused by the next namespace. One allocator serves a whole
 * simulated kernel; every user namespace of a hierarchy shares its root's.
 */
export class NsInumAllocator {
  /** Freed numbers below `next`, as a binary min-heap. */
  private readonly freed: Array<number> = []
  private next = PROC_DYNAMIC_FIRST

  /** The lowest free number, or undefined when all 2^28 are in use. */
  alloc(): number | undefined {
    const heap = this.freed
    if (heap.length === 0) return this.next > PROC_DYNAMIC_LAST ? undefined : this.next++
    const top = heap[0]!
    const last = heap.pop()!
    if (heap.length > 0) {
      let i = 0
      for (;;) {
        const l = 2 * i + 1
        if (l >= heap.length) break
        const r = l + 1
        const c = r < heap.length && heap[r]! < heap[l]! ? r : l
        if (heap[c]! >= last) break
        heap[i] = heap[c]!
        i = c
      }
      heap[i] = last
    }
    return top
  }

  /** Give a number back (proc_free_inum). */
  free(inum: number): void {
    const heap = this.freed
    let i = heap.length
    heap.push(inum)
    while (i > 0) {
      const p = (i - 1) >> 1
      if (heap[p]! <= inum) break
      heap[i] = heap[p]!
      i = p
    }
    heap[i] = inum
  }

  /** Numbers currently handed out. */
  inUse(): number {
    return this.next - PROC_DYNAMIC_FIRST - this.freed.length
  }
}

/** proc_alloc_inum(): a new dynamic inode number, or ENOSPC when none is left. */
export const procAllocInum = (ida: NsInumAllocator): Effect.Effect<number, SysError> =>
  Effect.suspend(() => {
    const inum = ida.alloc()
    return inum === undefined ? sysFail("ENOSPC", undefined, "no nsfs inode number left") : Effect.succeed(inum)
  })

/**
 * ns_alloc_inum() for a namespace owned by `owner`: a number from the
 * allocator of the owner's hierarchy.
 */
export const nsAllocInum = (owner: UserNamespace): Effect.Effect<number, SysError> => procAllocInum(owner.inums)

export interface NsCommonInit {
  /**
   * The owning user namespace (ns->ops->owner): a user namespace's parent,
   * or the user namespace of the creator for the other types. The new
   * namespace takes a reference of its own. Undefined only for the initial
   * user namespace.
   */
  readonly ownerNs: UserNamespace | undefined
  /** From nsAllocInum(), or the type's fixed PROC_*_INIT_INO for an initial namespace. */
  readonly inum: number
  /** The registry the namespace lives in; by default its owner's. */
  readonly registry?: LiveObjects
  readonly origin?: string
}

/**
 * What every namespace has, as include/linux/ns_common.h struct ns_common:
 * its type, its nsfs inode number and its owning user namespace. Each
 * namespace type extends this class and declares `readonly kind = "<type>"`.
 * When freed it puts its owner and gives a dynamic inode number back; a
 * subclass's destroy() runs before that.
 */
export abstract class NsCommon extends Refcounted {
  abstract override readonly kind: NsKind
  /** The nsfs inode number, as /proc/<pid>/ns/<type> shows it ("user:[4026531837]"). */
  readonly inum: number
  /** The owning user namespace (a held reference), undefined for the initial user namespace. */
  readonly ownerNs: UserNamespace | undefined

  protected constructor(init: NsCommonInit) {
    super(init.registry ?? init.ownerNs?.liveObjects, init.origin)
    this.inum = init.inum
    const owner = init.ownerNs
    if (owner !== undefined && init.inum >= PROC_DYNAMIC_FIRST) {
      const ida = owner.inums
      this.hold(() => ida.free(init.inum))
    }
    this.ownerNs = owner === undefined ? undefined : this.hold(owner.get())
  }
}

/**
 * ns_get_owner() (ioctl NS_GET_USERNS): a new reference to the user namespace
 * owning `ns`, if that is the caller's user namespace or one below it;
 * EPERM otherwise, and for the initial user namespace, which has no owner.
 */
export const nsGetOwner = (ns: NsCommon, cred: CredValues): Effect.Effect<UserNamespace, SysError> =>
  Effect.suspend(() => {
    const owner = ns.ownerNs
    for (let p = owner; p !== undefined; p = p.parent) {
      if (p === cred.userNs) return Effect.succeed(owner!.get())
    }
    return sysFail("EPERM", "ioctl", "the owner is outside the caller's user namespace")
  })
