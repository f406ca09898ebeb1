import {
  CLONE_NEWNS,
  CLONE_NEWUSER,
  CLONE_NEWUTS,
  PROC_DYNAMIC_FIRST,
  PROC_MNT_INIT_INO,
  PROC_USER_INIT_INO,
  PROC_UTS_INIT_INO,
  type SysError
} from "@simkernel/abi"
import { afterEach, describe, expect, it } from "@effect/vitest"
import { assertNoLeaks } from "@simkernel/kref"
import {
  NS_KINDS,
  nsAllocInum,
  nsCloneFlag,
  NsCommon,
  nsGetOwner,
  nsInitInum,
  NsInumAllocator,
  type UserNamespace
} from "@simkernel/cred"
import { Effect } from "effect"
import { attempt, boot, fork, run, teardown, unprivileged, unshareUser } from "./helpers.js"

afterEach(() => {
  teardown()
  assertNoLeaks()
})

/** How the nsproxy package builds its namespace types on NsCommon. */
class UtsNamespace extends NsCommon {
  readonly kind = "uts"
  nodename = "(none)"
  static create(owner: UserNamespace): Effect.Effect<UtsNamespace, SysError> {
    return Effect.map(nsAllocInum(owner), (inum) => new UtsNamespace({ ownerNs: owner, inum }))
  }
  static init(owner: UserNamespace): UtsNamespace {
    return new UtsNamespace({ ownerNs: owner, inum: nsInitInum("uts") })
  }
}

describe("nsfs inode numbers (proc_alloc_inum)", () => {
  it("hands out the lowest free number from 0xF0000000", () => {
    const ida = new NsInumAllocator()
    expect([ida.alloc(), ida.alloc(), ida.alloc(), ida.alloc()]).toEqual([
      0xf0000000, 0xf0000001, 0xf0000002, 0xf0000003
    ])
    ida.free(0xf0000002)
    ida.free(0xf0000000)
    expect(ida.inUse()).toBe(2)
    expect(ida.alloc()).toBe(0xf0000000)
    expect(ida.alloc()).toBe(0xf0000002)
    expect(ida.alloc()).toBe(0xf0000004)
  })

  it("initial namespaces have the fixed numbers Linux 6.18 shows in /proc/self/ns", () => {
    // Probe: user:[4026531837] uts:[4026531838] ipc:[4026531839] mnt:[4026531832]
    // net:[4026531833] pid:[4026531836] cgroup:[4026531835] time:[4026531834].
    expect(NS_KINDS.map(nsInitInum)).toEqual([
      4026531832, 4026531838, 4026531839, 4026531833, 4026531836, 4026531837, 4026531835, 4026531834
    ])
    expect(nsInitInum("user")).toBe(PROC_USER_INIT_INO)
    expect(nsInitInum("mnt")).toBe(PROC_MNT_INIT_INO)
    expect([nsCloneFlag("user"), nsCloneFlag("mnt"), nsCloneFlag("uts")]).toEqual([
      CLONE_NEWUSER,
      CLONE_NEWNS,
      CLONE_NEWUTS
    ])
  })
})

describe("NsCommon as the base of every namespace type", () => {
  it("holds its owning user namespace and gives its inode number back when freed", () => {
    const root = boot()
    const userns = root.cred.userNs
    const refs = userns.count()
    const uts = run(UtsNamespace.create(userns))
    expect(uts.kind).toBe("uts")
    expect(uts.inum).toBe(PROC_DYNAMIC_FIRST)
    expect(uts.ownerNs).toBe(userns)
    expect(userns.count()).toBe(refs + 1)
    uts.put()
    expect(userns.count()).toBe(refs)
    expect(userns.inums.inUse()).toBe(0)
  })

  it("one allocator serves the whole hierarchy: user and other namespaces draw from the same numbers", () => {
    const root = boot()
    const task = fork(root)
    unshareUser(task)
    const uts = run(UtsNamespace.create(task.cred.userNs))
    expect(task.cred.userNs.inum).toBe(0xf0000000)
    expect(uts.inum).toBe(0xf0000001)
    const initUts = UtsNamespace.init(root.cred.userNs)
    expect(initUts.inum).toBe(PROC_UTS_INIT_INO)
    initUts.put()
    uts.put()
    expect(root.cred.userNs.inums.inUse()).toBe(1)
  })

  it("a namespace keeps its owner alive after every task left it", () => {
    const root = boot()
    const task = fork(root)
    unshareUser(task)
    const userns = task.cred.userNs
    const uts = run(UtsNamespace.create(userns))
    teardown()
    expect(userns.freed).toBe(false)
    expect(uts.ownerNs!.parent!.level).toBe(0)
    uts.put()
    expect(userns.freed).toBe(true)
  })
})

describe("ns_get_owner (NS_GET_USERNS)", () => {
  it("returns a reference to the owner when it is the caller's namespace or below it", () => {
    const root = boot()
    const task = fork(root)
    unshareUser(task)
    const uts = run(UtsNamespace.create(task.cred.userNs))
    const owner = run(nsGetOwner(uts, root.cred))
    expect(owner).toBe(task.cred.userNs)
    owner.put()
    const parent = run(nsGetOwner(task.cred.userNs, root.cred))
    expect(parent).toBe(root.cred.userNs)
    parent.put()
    uts.put()
  })

  it("is EPERM for an owner outside the caller's namespace, and for the initial user namespace", () => {
    const root = boot()
    const user = unprivileged(root, 1000)
    unshareUser(user)
    const uts = UtsNamespace.init(root.cred.userNs)
    expect(attempt(nsGetOwner(uts, user.cred))).toEqual({ ok: false, errno: "EPERM" })
    expect(attempt(nsGetOwner(user.cred.userNs, user.cred))).toEqual({ ok: false, errno: "EPERM" })
    expect(attempt(nsGetOwner(root.cred.userNs, root.cred))).toEqual({ ok: false, errno: "EPERM" })
    uts.put()
  })
})
