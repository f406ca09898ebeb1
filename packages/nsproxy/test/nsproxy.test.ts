import { afterEach, describe, expect, it } from "@effect/vitest"
import {
  CLONE_NEWCGROUP,
  CLONE_NEWIPC,
  CLONE_NEWNET,
  CLONE_NEWNS,
  CLONE_NEWPID,
  CLONE_NEWTIME,
  CLONE_NEWUSER,
  CLONE_NEWUTS,
  CLONE_SYSVSEM,
  CLONE_VM,
  PROC_DYNAMIC_FIRST,
  sysError
} from "@simkernel/abi"
import { commitCreds, unshareUserns } from "@simkernel/cred"
import { assertNoLeaks, type LiveObjects } from "@simkernel/kref"
import { Effect } from "effect"
import {
  copyNamespaces,
  createNewNamespaces,
  type NamespaceOps,
  NsProxy,
  openNamespace,
  switchTaskNamespaces,
  unshareNsproxyNamespaces
} from "../src/index.js"
import { boot, errno, isErr, mapRootUser, unprivileged, type World } from "./fixtures.js"

let live: LiveObjects | undefined
afterEach(() => {
  if (live) assertNoLeaks(live)
  live = undefined
})
const start = (kinds?: Parameters<typeof boot>[0]): World => {
  const w = boot(kinds)
  live = w.live
  return w
}

const SIMPLE = CLONE_NEWUTS | CLONE_NEWIPC | CLONE_NEWCGROUP | CLONE_NEWTIME

describe("the initial namespaces", () => {
  it("carry the inode numbers Linux prints for them", () => {
    const w = start()
    const ns = w.task.nsproxy!
    const names = [ns.uts, ns.ipc, ns.cgroup, ns.time, ns.mnt!, ns.pidForChildren!, ns.net!, w.userNs].map((n) => {
      const f = openNamespace(n)
      const name = f.name
      f.put()
      return name
    })
    expect(names).toEqual([
      "uts:[4026531838]",
      "ipc:[4026531839]",
      "cgroup:[4026531835]",
      "time:[4026531834]",
      "mnt:[4026531832]",
      "pid:[4026531836]",
      "net:[4026531833]",
      "user:[4026531837]"
    ])
    expect(ns.uts.utsname.nodename).toBe("(none)")
    expect(ns.time).toBe(ns.timeForChildren)
    w.teardown()
  })
})

describe("unshareNsproxyNamespaces", () => {
  it("makes new uts, ipc, cgroup and time namespaces and shares the rest", () => {
    const w = start()
    const old = w.task.nsproxy!
    old.uts.setName("nodename", new TextEncoder().encode("host"))
    const made = unshareNsproxyNamespaces(SIMPLE, old, w.task.cred, undefined)
    if (!(made instanceof NsProxy)) throw made
    expect(made.uts).not.toBe(old.uts)
    expect(made.ipc).not.toBe(old.ipc)
    expect(made.cgroup).not.toBe(old.cgroup)
    expect(made.timeForChildren).not.toBe(old.timeForChildren)
    // CLONE_NEWTIME affects only children
    expect(made.time).toBe(old.time)
    expect(made.mnt).toBe(old.mnt)
    expect(made.net).toBe(old.net)
    expect(made.pidForChildren).toBe(old.pidForChildren)
    for (const ns of [made.uts, made.ipc, made.cgroup, made.timeForChildren]) {
      expect(ns.inum).toBeGreaterThanOrEqual(PROC_DYNAMIC_FIRST)
      expect(ns.ownerNs).toBe(w.userNs)
    }
    expect(new Set([made.uts.inum, made.ipc.inum, made.cgroup.inum, made.timeForChildren.inum]).size).toBe(4)
    // the copy starts with the old names and then lives its own life
    expect(made.uts.utsname.nodename).toBe("host")
    made.uts.setName("nodename", new TextEncoder().encode("inside"))
    expect(old.uts.utsname.nodename).toBe("host")
    switchTaskNamespaces(w.task, made)
    expect(old.freed).toBe(true)
    w.teardown()
  })

  it("returns nothing to do when no flag lives in an NsProxy", () => {
    const w = start()
    expect(unshareNsproxyNamespaces(CLONE_NEWUSER | CLONE_VM, w.task.nsproxy!, w.task.cred, undefined)).toBeUndefined()
    w.teardown()
  })

  it("needs CAP_SYS_ADMIN over the owning user namespace: EPERM", () => {
    const w = start()
    const user = unprivileged(w.task.cred)
    for (const flag of [CLONE_NEWNS, CLONE_NEWUTS, CLONE_NEWIPC, CLONE_NEWPID, CLONE_NEWCGROUP, CLONE_NEWNET, CLONE_NEWTIME]) {
      expect(errno(unshareNsproxyNamespaces(flag, w.task.nsproxy!, user, undefined))).toBe("EPERM")
    }
    user.put()
    w.teardown()
  })

  it("lets an unprivileged user make namespaces owned by its new user namespace", () => {
    const w = start()
    const user = unprivileged(w.task.cred)
    const draft = Effect.runSync(unshareUserns(user))
    const made = unshareNsproxyNamespaces(CLONE_NEWUSER | CLONE_NEWUTS | CLONE_NEWNS, w.task.nsproxy!, user, draft)
    if (!(made instanceof NsProxy)) throw made
    expect(made.uts.ownerNs).toBe(draft.userNs)
    expect(made.mnt!.ownerNs).toBe(draft.userNs)
    expect(made.ipc).toBe(w.task.nsproxy!.ipc)
    const holder = { cred: user, nsproxy: w.task.nsproxy!.get() as NsProxy | undefined }
    commitCreds(holder, draft)
    switchTaskNamespaces(holder, made)
    holder.nsproxy!.put()
    holder.cred.put()
    w.teardown()
  })

  it("answers EINVAL for a namespace type the kernel does not have", () => {
    const w = start(({ net: _net, ...rest }) => rest)
    const before = w.live.size()
    expect(errno(unshareNsproxyNamespaces(CLONE_NEWNET | CLONE_NEWUTS, w.task.nsproxy!, w.task.cred, undefined))).toBe("EINVAL")
    expect(w.live.size()).toBe(before)
    w.teardown()
  })
})

describe("copyNamespaces (clone)", () => {
  it("shares the parent's NsProxy when no CLONE_NEW* flag is given", () => {
    const w = start()
    const parent = w.task.nsproxy!
    const child = copyNamespaces(0, parent, w.task.cred, w.userNs)
    expect(child).toBe(parent)
    expect(parent.count()).toBe(2)
    parent.put()
    w.teardown()
  })

  it("rejects CLONE_NEWIPC with CLONE_SYSVSEM: EINVAL", () => {
    const w = start()
    expect(errno(copyNamespaces(CLONE_NEWIPC | CLONE_SYSVSEM, w.task.nsproxy!, w.task.cred, w.userNs))).toBe("EINVAL")
    w.teardown()
  })

  it("needs CAP_SYS_ADMIN: EPERM", () => {
    const w = start()
    const user = unprivileged(w.task.cred)
    expect(errno(copyNamespaces(CLONE_NEWUTS, w.task.nsproxy!, user, user.userNs))).toBe("EPERM")
    user.put()
    w.teardown()
  })

  it("a child forked after unshare(CLONE_NEWTIME) lives in the new time namespace, whose offsets freeze", () => {
    const w = start()
    const made = unshareNsproxyNamespaces(CLONE_NEWTIME, w.task.nsproxy!, w.task.cred, undefined) as NsProxy
    switchTaskNamespaces(w.task, made)
    const childTime = made.timeForChildren
    expect(childTime.frozen).toBe(false)
    // CLONE_VM children (threads, vfork) keep the parent's clocks
    const thread = copyNamespaces(CLONE_VM, made, w.task.cred, w.userNs) as NsProxy
    expect(thread).toBe(made)
    thread.put()
    const child = copyNamespaces(0, made, w.task.cred, w.userNs) as NsProxy
    expect(child).not.toBe(made)
    expect(child.time).toBe(childTime)
    expect(childTime.frozen).toBe(true)
    child.put()
    w.teardown()
  })
})

describe("createNewNamespaces unwinds a failure at any step", () => {
  const ALL = CLONE_NEWNS | CLONE_NEWUTS | CLONE_NEWIPC | CLONE_NEWPID | CLONE_NEWCGROUP | CLONE_NEWNET | CLONE_NEWTIME
  for (let n = 1; n <= 7; n++) {
    it(`when copy number ${n} of 7 fails, nothing is left behind`, () => {
      let calls = 0
      const failing = <N extends import("@simkernel/cred").NsCommon>(ops: NamespaceOps<N>): NamespaceOps<N> => ({
        ...ops,
        copy: (old, userNs, task) => (++calls === n ? sysError("ENOMEM", "unshare") : ops.copy(old, userNs, task))
      })
      const w = start((k) => ({
        mnt: failing(k.mnt!),
        pid: failing(k.pid!),
        net: failing(k.net!),
        uts: failing(k.uts),
        ipc: failing(k.ipc),
        cgroup: failing(k.cgroup),
        time: failing(k.time)
      }))
      const before = w.live.countsByKind()
      const counts = [w.task.nsproxy!.uts.count(), w.task.nsproxy!.mnt!.count()]
      const inumsInUse = w.userNs.inums.inUse()
      expect(errno(createNewNamespaces(ALL, w.task.nsproxy!, w.userNs))).toBe("ENOMEM")
      expect(calls).toBe(n)
      expect(w.live.countsByKind()).toEqual(before)
      expect([w.task.nsproxy!.uts.count(), w.task.nsproxy!.mnt!.count()]).toEqual(counts)
      expect(w.userNs.inums.inUse()).toBe(inumsInUse)
      w.teardown()
    })
  }

  for (let n = 1; n <= 4; n++) {
    it(`when nsfs inode number ${n} of 4 cannot be had, unshare fails with ENOSPC and nothing is left behind`, () => {
      const w = start()
      const inums = w.userNs.inums
      const alloc = inums.alloc.bind(inums)
      let calls = 0
      inums.alloc = () => (++calls === n ? undefined : alloc())
      const before = w.live.countsByKind()
      const inUse = inums.inUse()
      expect(errno(unshareNsproxyNamespaces(CLONE_NEWUTS | CLONE_NEWIPC | CLONE_NEWCGROUP | CLONE_NEWTIME, w.task.nsproxy!, w.task.cred, undefined))).toBe("ENOSPC")
      expect(calls).toBe(n)
      expect(w.live.countsByKind()).toEqual(before)
      expect(inums.inUse()).toBe(inUse)
      w.teardown()
    })
  }

  it("reuses the lowest freed nsfs inode number", () => {
    const w = start()
    const a = createNewNamespaces(CLONE_NEWUTS, w.task.nsproxy!, w.userNs) as NsProxy
    const b = createNewNamespaces(CLONE_NEWUTS, w.task.nsproxy!, w.userNs) as NsProxy
    const freed = a.uts.inum
    expect(b.uts.inum).toBe(freed + 1)
    a.put()
    const c = createNewNamespaces(CLONE_NEWUTS, w.task.nsproxy!, w.userNs) as NsProxy
    expect(c.uts.inum).toBe(freed)
    b.put()
    c.put()
    w.teardown()
  })
})

describe("a user namespace made in the same call owns the others", () => {
  it("mapRootUser then CLONE_NEWUTS: root inside may set the hostname of its own UTS namespace", () => {
    const w = start()
    const user = unprivileged(w.task.cred)
    const inside = mapRootUser(user)
    expect(inside.uid).toBe(1000)
    const made = unshareNsproxyNamespaces(CLONE_NEWUTS, w.task.nsproxy!, inside, undefined) as NsProxy
    expect(isErr(made)).toBe(false)
    expect(made.uts.ownerNs).toBe(inside.userNs)
    made.put()
    inside.put()
    user.put()
    w.teardown()
  })
})
