import { afterEach, describe, expect, it } from "@effect/vitest"
import {
  CLONE_NEWCGROUP,
  CLONE_NEWIPC,
  CLONE_NEWNET,
  CLONE_NEWPID,
  CLONE_NEWTIME,
  CLONE_NEWUSER,
  CLONE_NEWUTS,
  CAP_SYS_ADMIN
} from "@simkernel/abi"
import { type Cred, nsCapable, type UserNamespace } from "@simkernel/cred"
import { assertNoLeaks, type LiveObjects, Refcounted } from "@simkernel/kref"
import {
  NsFile,
  nsGetNstype,
  nsGetOwnerUid,
  nsGetParent,
  nsGetUserns,
  NsProxy,
  NsSetTransaction,
  openNamespace,
  setnsNamespace,
  setnsPidfd,
  switchTaskNamespaces,
  unshareNsproxyNamespaces
} from "../src/index.js"
import { boot, caller, errno, mapRootUser, unprivileged, type World } from "./fixtures.js"

let live: LiveObjects | undefined
afterEach(() => {
  if (live) assertNoLeaks(live)
  live = undefined
})
const start = (): World => {
  const w = boot()
  live = w.live
  return w
}

/** Another task: its own namespaces made by unshare from `w`'s task. */
const sibling = (w: World, flags: number) => {
  const nsproxy = unshareNsproxyNamespaces(flags, w.task.nsproxy!, w.task.cred, undefined) as NsProxy
  return { cred: w.task.cred.get(), nsproxy: nsproxy as NsProxy | undefined }
}

describe("setns with a namespace file", () => {
  it("enters the namespace; nstype 0 accepts any type", () => {
    const w = start()
    const other = sibling(w, CLONE_NEWUTS | CLONE_NEWIPC)
    const tx = setnsNamespace(caller(w.task), other.nsproxy!.uts, 0)
    if (!(tx instanceof NsSetTransaction)) throw tx
    // nothing visible before commit
    expect(w.task.nsproxy!.uts).not.toBe(other.nsproxy!.uts)
    tx.commit(w.task)
    expect(w.task.nsproxy!.uts).toBe(other.nsproxy!.uts)
    expect(w.task.nsproxy!.ipc).not.toBe(other.nsproxy!.ipc)
    other.nsproxy!.put()
    other.cred.put()
    w.teardown()
  })

  it("an nstype that does not match the namespace is EINVAL", () => {
    const w = start()
    for (const t of [CLONE_NEWIPC, CLONE_NEWUSER, 1]) {
      expect(errno(setnsNamespace(caller(w.task), w.task.nsproxy!.uts, t))).toBe("EINVAL")
    }
    w.teardown()
  })

  it("entering the current namespace succeeds", () => {
    const w = start()
    const tx = setnsNamespace(caller(w.task), w.task.nsproxy!.ipc, CLONE_NEWIPC) as NsSetTransaction
    tx.commit(w.task)
    expect(w.task.nsproxy!.ipc.inum).toBe(4026531839)
    w.teardown()
  })

  it("needs CAP_SYS_ADMIN over the target: EPERM", () => {
    const w = start()
    const other = sibling(w, CLONE_NEWUTS)
    const user = unprivileged(w.task.cred)
    expect(errno(setnsNamespace(caller({ cred: user, nsproxy: w.task.nsproxy }), other.nsproxy!.uts, 0))).toBe("EPERM")
    user.put()
    other.nsproxy!.put()
    other.cred.put()
    w.teardown()
  })

  it("time: a threaded caller gets EUSERS; entering freezes the offsets", () => {
    const w = start()
    const other = sibling(w, CLONE_NEWTIME)
    const target = other.nsproxy!.timeForChildren
    expect(errno(setnsNamespace(caller(w.task, { threads: 2 }), target, CLONE_NEWTIME))).toBe("EUSERS")
    expect(target.frozen).toBe(false)
    const tx = setnsNamespace(caller(w.task), target, CLONE_NEWTIME) as NsSetTransaction
    tx.commit(w.task)
    expect(w.task.nsproxy!.time).toBe(target)
    expect(w.task.nsproxy!.timeForChildren).toBe(target)
    expect(target.frozen).toBe(true)
    other.nsproxy!.put()
    other.cred.put()
    w.teardown()
  })

  describe("user namespaces", () => {
    it("root enters a child user namespace and gets a full capability set there", () => {
      const w = start()
      const inside = mapRootUser(w.task.cred)
      const child: UserNamespace = inside.userNs
      const tx = setnsNamespace(caller(w.task), child, CLONE_NEWUSER) as NsSetTransaction
      tx.commit(w.task)
      expect(w.task.cred.userNs).toBe(child)
      expect(nsCapable(w.task.cred, child, CAP_SYS_ADMIN)).toBe(true)
      expect(nsCapable(w.task.cred, w.userNs, CAP_SYS_ADMIN)).toBe(false)
      inside.put()
      w.teardown()
    })

    it("the current user namespace, a threaded caller or a shared fs_struct is EINVAL", () => {
      const w = start()
      const inside = mapRootUser(w.task.cred)
      expect(errno(setnsNamespace(caller(w.task), w.userNs, 0))).toBe("EINVAL")
      expect(errno(setnsNamespace(caller(w.task, { threads: 3 }), inside.userNs, 0))).toBe("EINVAL")
      expect(errno(setnsNamespace(caller(w.task, { fsUsers: 2 }), inside.userNs, 0))).toBe("EINVAL")
      inside.put()
      w.teardown()
    })

    it("a user namespace one has no CAP_SYS_ADMIN in is EPERM (another user's)", () => {
      const w = start()
      const alice = unprivileged(w.task.cred, 1000)
      const bob = unprivileged(w.task.cred, 1001)
      const alicesNs = mapRootUser(alice)
      expect(errno(setnsNamespace(caller({ cred: bob, nsproxy: w.task.nsproxy }), alicesNs.userNs, 0))).toBe("EPERM")
      for (const c of [alice, bob, alicesNs]) c.put()
      w.teardown()
    })
  })
})

describe("setns with a pidfd", () => {
  it("enters every namespace named by the flags, user first", () => {
    const w = start()
    const alice = unprivileged(w.task.cred)
    const inside = mapRootUser(alice)
    const ns = unshareNsproxyNamespaces(CLONE_NEWUTS | CLONE_NEWNET, w.task.nsproxy!, inside, undefined) as NsProxy
    const target = { nsproxy: ns, cred: inside, activePidNs: ns.pidForChildren, mayAccess: true }
    const me = { cred: alice.get(), nsproxy: w.task.nsproxy!.get() as NsProxy | undefined }
    const tx = setnsPidfd(caller(me), target, CLONE_NEWUSER | CLONE_NEWUTS | CLONE_NEWNET)
    if (!(tx instanceof NsSetTransaction)) throw tx
    tx.commit(me)
    expect(me.cred.userNs).toBe(inside.userNs)
    expect(me.nsproxy!.uts).toBe(ns.uts)
    expect(me.nsproxy!.net).toBe(ns.net)
    expect(me.nsproxy!.ipc).toBe(w.task.nsproxy!.ipc)
    for (const x of [me.cred, me.nsproxy!, ns, inside, alice]) x.put()
    w.teardown()
  })

  it("all or nothing: one refusal leaves the caller as it was", () => {
    const w = start()
    const alice = unprivileged(w.task.cred)
    const other = sibling(w, CLONE_NEWUTS | CLONE_NEWIPC)
    const me = { cred: alice, nsproxy: w.task.nsproxy!.get() as NsProxy | undefined }
    const before = me.nsproxy
    const target = { nsproxy: other.nsproxy, cred: other.cred, activePidNs: undefined, mayAccess: true }
    expect(errno(setnsPidfd(caller(me), target, CLONE_NEWUTS | CLONE_NEWIPC))).toBe("EPERM")
    expect(me.nsproxy).toBe(before)
    expect(me.cred).toBe(alice)
    me.nsproxy!.put()
    alice.put()
    other.nsproxy!.put()
    other.cred.put()
    w.teardown()
  })

  it("flag and target errors: EINVAL, ESRCH, EPERM", () => {
    const w = start()
    const target = { nsproxy: w.task.nsproxy, cred: w.task.cred, activePidNs: w.task.nsproxy!.pidForChildren, mayAccess: true }
    expect(errno(setnsPidfd(caller(w.task), target, 0))).toBe("EINVAL")
    expect(errno(setnsPidfd(caller(w.task), target, CLONE_NEWUTS | 0x1))).toBe("EINVAL")
    expect(errno(setnsPidfd(caller(w.task), { ...target, nsproxy: undefined }, CLONE_NEWUTS))).toBe("ESRCH")
    expect(errno(setnsPidfd(caller(w.task), { ...target, mayAccess: false }, CLONE_NEWUTS))).toBe("EPERM")
    // one's own user namespace again through a pidfd: userns_install's EINVAL
    expect(errno(setnsPidfd(caller(w.task), target, CLONE_NEWUSER))).toBe("EINVAL")
    const tx = setnsPidfd(caller(w.task), target, CLONE_NEWUTS | CLONE_NEWIPC | CLONE_NEWCGROUP | CLONE_NEWPID) as NsSetTransaction
    tx.commit(w.task)
    w.teardown()
  })
})

/** A stand-in for a bind mount of an nsfs file: it holds the file's inode, and so the namespace. */
class BindMount extends Refcounted {
  readonly kind = "BindMount"
  constructor(file: NsFile, registry: LiveObjects) {
    super(registry)
    this.hold(file.get())
  }
}

describe("nsfs", () => {
  it("a namespace held only by a bind-mounted nsfs file outlives its last process and dies with the mount", () => {
    const w = start()
    const initUts = openNamespace(w.task.nsproxy!.uts)
    const task = sibling(w, CLONE_NEWUTS)
    const uts = task.nsproxy!.uts
    uts.setName("nodename", new TextEncoder().encode("kept"))
    const file = openNamespace(uts)
    const mount = new BindMount(file, w.live)
    file.put()
    // the last process leaves
    switchTaskNamespaces(task, undefined)
    task.cred.put()
    expect(uts.freed).toBe(false)
    expect(uts.utsname.nodename).toBe("kept")
    // a process can still enter it through the mount, and leave again
    ;(setnsNamespace(caller(w.task), uts, CLONE_NEWUTS) as NsSetTransaction).commit(w.task)
    expect(w.task.nsproxy!.uts.utsname.nodename).toBe("kept")
    ;(setnsNamespace(caller(w.task), initUts.ns, CLONE_NEWUTS) as NsSetTransaction).commit(w.task)
    initUts.put()
    expect(uts.freed).toBe(false)
    mount.put()
    expect(uts.freed).toBe(true)
    w.teardown()
  })

  describe("ioctl_ns", () => {
    it("NS_GET_NSTYPE gives the CLONE_NEW* flag", () => {
      const w = start()
      const f = openNamespace(w.task.nsproxy!.uts)
      expect(nsGetNstype(f)).toBe(CLONE_NEWUTS)
      const u = openNamespace(w.userNs)
      expect(nsGetNstype(u)).toBe(CLONE_NEWUSER)
      const t = openNamespace(w.task.nsproxy!.time)
      expect(nsGetNstype(t)).toBe(CLONE_NEWTIME)
      for (const x of [f, u, t]) x.put()
      w.teardown()
    })

    it("NS_GET_USERNS: the owner when in reach, EPERM from a child user namespace or for the initial one", () => {
      const w = start()
      const inside = mapRootUser(w.task.cred)
      const ns = unshareNsproxyNamespaces(CLONE_NEWUTS, w.task.nsproxy!, inside, undefined) as NsProxy
      const f = openNamespace(ns.uts)
      const owner = nsGetUserns(f, w.task.cred) as NsFile
      expect(owner.ns).toBe(inside.userNs)
      const initUts = openNamespace(w.task.nsproxy!.uts)
      expect(errno(nsGetUserns(initUts, inside))).toBe("EPERM")
      const initUser = openNamespace(w.userNs)
      expect(errno(nsGetUserns(initUser, w.task.cred))).toBe("EPERM")
      for (const x of [f, owner, initUts, initUser, ns, inside]) x.put()
      w.teardown()
    })

    it("NS_GET_PARENT: user and pid namespaces only (EINVAL), EPERM above the caller or at the top", () => {
      const w = start()
      const inside = mapRootUser(w.task.cred)
      const child = openNamespace(inside.userNs)
      const parent = nsGetParent(child, w.task.cred, w.task.nsproxy!.kinds, {}) as NsFile
      expect(parent.ns).toBe(w.userNs)
      expect(errno(nsGetParent(child, inside, w.task.nsproxy!.kinds, {}))).toBe("EPERM")
      const uts = openNamespace(w.task.nsproxy!.uts)
      expect(errno(nsGetParent(uts, w.task.cred, w.task.nsproxy!.kinds, {}))).toBe("EINVAL")
      const pid = openNamespace(w.task.nsproxy!.pidForChildren!)
      expect(errno(nsGetParent(pid, w.task.cred, w.task.nsproxy!.kinds, {}))).toBe("EPERM")
      for (const x of [child, parent, uts, pid, inside]) x.put()
      w.teardown()
    })

    it("NS_GET_OWNER_UID: the creator's uid as the caller sees it, EINVAL for other types", () => {
      const w = start()
      const alice = unprivileged(w.task.cred, 1000)
      const inside = mapRootUser(alice)
      const f = openNamespace(inside.userNs)
      expect(nsGetOwnerUid(f, w.task.cred)).toBe(1000)
      // seen from inside, uid 1000 of the parent is uid 0
      expect(nsGetOwnerUid(f, inside)).toBe(0)
      const bob = unprivileged(w.task.cred, 2000)
      const bobs = mapRootUser(bob)
      // alice's uid is not mapped in bob's namespace: the overflow uid
      expect(nsGetOwnerUid(f, bobs)).toBe(65534)
      const uts = openNamespace(w.task.nsproxy!.uts)
      expect(errno(nsGetOwnerUid(uts, w.task.cred))).toBe("EINVAL")
      for (const x of [f, uts, inside, alice, bob, bobs] as Array<NsFile | Cred>) x.put()
      w.teardown()
    })
  })
})
