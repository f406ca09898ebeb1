import { afterEach, describe, expect, it } from "@effect/vitest"
import { CLONE_NEWCGROUP, CLONE_NEWIPC, CLONE_NEWTIME, CLONE_NEWUTS } from "@simkernel/abi"
import { assertNoLeaks, type LiveObjects, Refcounted } from "@simkernel/kref"
import fc from "fast-check"
import {
  CLOCK_BOOTTIME,
  CLOCK_MONOTONIC,
  cgroupPathFrom,
  copyNamespaces,
  NsProxy,
  parseTimensOffsets,
  sethostname,
  setdomainname,
  type TimensOffset,
  unshareNsproxyNamespaces
} from "../src/index.js"
import { boot, errno, mapRootUser, unprivileged, type World } from "./fixtures.js"

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
const bytes = (s: string): Uint8Array => new TextEncoder().encode(s)

describe("sethostname and setdomainname", () => {
  // each row was checked on Linux 6.18 in a new UTS namespace (python ctypes)
  it("set at most 64 bytes (EINVAL beyond or for a negative length) and read back up to the first NUL", () => {
    const w = start()
    const ns = w.task.nsproxy!
    expect(sethostname(ns, w.task.cred, bytes("a".repeat(64)))).toBeUndefined()
    expect(ns.uts.utsname.nodename).toBe("a".repeat(64))
    expect(errno(sethostname(ns, w.task.cred, bytes("a".repeat(65))))).toBe("EINVAL")
    expect(errno(sethostname(ns, w.task.cred, bytes("x"), -1))).toBe("EINVAL")
    expect(sethostname(ns, w.task.cred, bytes("ab\0cd"))).toBeUndefined()
    expect(ns.uts.utsname.nodename).toBe("ab")
    expect(sethostname(ns, w.task.cred, bytes(""))).toBeUndefined()
    expect(ns.uts.utsname.nodename).toBe("")
    expect(errno(sethostname(ns, w.task.cred, bytes("abc"), 10))).toBe("EFAULT")
    expect(setdomainname(ns, w.task.cred, bytes("example.org"))).toBeUndefined()
    expect(ns.uts.utsname.domainname).toBe("example.org")
    w.teardown()
  })

  it("need CAP_SYS_ADMIN over the UTS namespace's owner, checked before the length", () => {
    const w = start()
    const user = unprivileged(w.task.cred)
    expect(errno(sethostname(w.task.nsproxy!, user, bytes("a".repeat(65))))).toBe("EPERM")
    expect(errno(setdomainname(w.task.nsproxy!, user, bytes("a")))).toBe("EPERM")
    // root of a user namespace owns the UTS namespace it makes
    const inside = mapRootUser(user)
    const ns = unshareNsproxyNamespaces(CLONE_NEWUTS, w.task.nsproxy!, inside, undefined) as NsProxy
    expect(sethostname(ns, inside, bytes("container"))).toBeUndefined()
    expect(ns.uts.utsname.nodename).toBe("container")
    expect(w.task.nsproxy!.uts.utsname.nodename).toBe("(none)")
    // but not the initial one
    expect(errno(sethostname(w.task.nsproxy!, inside, bytes("x")))).toBe("EPERM")
    for (const x of [ns, inside, user]) x.put()
    w.teardown()
  })
})

describe("time namespace offsets", () => {
  // the rows below are what Linux 6.18 answered for writes to /proc/self/timens_offsets
  const cases: ReadonlyArray<readonly [string, ReadonlyArray<readonly [number, number, number]> | string]> = [
    ["monotonic 10 0", [[CLOCK_MONOTONIC, 10, 0]]],
    ["monotonic 10 1000000000", "EINVAL"],
    ["foo 1 1", "EINVAL"],
    ["1 5 0\n7 6 0\n1 1 1", [[CLOCK_MONOTONIC, 5, 0], [CLOCK_BOOTTIME, 6, 0]]],
    ["1 11 0\n7 12 0\nfoo", [[CLOCK_MONOTONIC, 11, 0], [CLOCK_BOOTTIME, 12, 0]]],
    ["monotonic 10 0\nboottime 5 0\n", [[CLOCK_MONOTONIC, 10, 0], [CLOCK_BOOTTIME, 5, 0]]],
    ["monotonic  7   3", [[CLOCK_MONOTONIC, 7, 3]]],
    ["monotonicX 1 0", "EINVAL"],
    ["monotonicmonotonic 3 4", "EINVAL"],
    ["1 2 3 4", [[CLOCK_MONOTONIC, 2, 3]]],
    ["monotonic 1", "EINVAL"],
    ["7 -5 999999999", [[CLOCK_BOOTTIME, -5, 999999999]]],
    ["monotonic +3 4", "EINVAL"],
    ["monotonic 3 +4", "EINVAL"],
    ["monotonic 3 -4", "EINVAL"],
    [" monotonic 3 4", [[CLOCK_MONOTONIC, 3, 4]]],
    ["monotonic 3 4 \n", [[CLOCK_MONOTONIC, 3, 4]]],
    ["monotonic 3 4\n\n", "EINVAL"],
    ["\nmonotonic 3 4", "EINVAL"],
    ["monotonic\t8\t9", [[CLOCK_MONOTONIC, 8, 9]]],
    ["monotonic 3x 4", "EINVAL"],
    ["monotonic 3 4x", [[CLOCK_MONOTONIC, 3, 4]]],
    ["", "EINVAL"],
    ["\n", "EINVAL"]
  ]
  for (const [text, expected] of cases) {
    it(`parses ${JSON.stringify(text)}`, () => {
      const got = parseTimensOffsets(text)
      if (typeof expected === "string") expect(errno(got)).toBe(expected)
      else expect((got as ReadonlyArray<TimensOffset>).map((o) => [o.clockid, o.offset.sec, o.offset.nsec])).toEqual(expected)
    })
  }

  it("can be set until the first task enters, then EACCES; EPERM without CAP_SYS_TIME; ERANGE out of range", () => {
    const w = start()
    const now = { monotonic: { sec: 100, nsec: 0 }, boottime: { sec: 120, nsec: 0 } }
    const ns = unshareNsproxyNamespaces(CLONE_NEWTIME, w.task.nsproxy!, w.task.cred, undefined) as NsProxy
    const time = ns.timeForChildren
    const offsets = parseTimensOffsets("monotonic 10 0\nboottime -5 999999999") as ReadonlyArray<TimensOffset>
    const user = unprivileged(w.task.cred)
    expect(errno(time.setOffsets(user, offsets, now))).toBe("EPERM")
    expect(errno(time.setOffsets(w.task.cred, parseTimensOffsets("boottime -121 0") as ReadonlyArray<TimensOffset>, now))).toBe("ERANGE")
    expect(errno(time.setOffsets(w.task.cred, parseTimensOffsets("monotonic 9223372037 0") as ReadonlyArray<TimensOffset>, now))).toBe("ERANGE")
    expect(errno(time.setOffsets(w.task.cred, parseTimensOffsets("monotonic 4611686018 0") as ReadonlyArray<TimensOffset>, now))).toBe("ERANGE")
    expect(time.setOffsets(w.task.cred, offsets, now)).toBeUndefined()
    expect(time.formatOffsets()).toBe("monotonic          10         0\nboottime           -5 999999999\n")
    // the first child enters and freezes them
    const child = copyNamespaces(0, ns, w.task.cred, w.userNs) as NsProxy
    expect(errno(time.setOffsets(w.task.cred, offsets, now))).toBe("EACCES")
    // the initial time namespace has tasks from the start
    expect(errno(w.task.nsproxy!.time.setOffsets(w.task.cred, offsets, now))).toBe("EACCES")
    expect(w.task.nsproxy!.time.formatOffsets()).toBe("monotonic           0         0\nboottime            0         0\n")
    for (const x of [child, ns, user]) x.put()
    w.teardown()
  })

  it("a new time namespace starts with its parent's offsets", () => {
    const w = start()
    const now = { monotonic: { sec: 100, nsec: 0 }, boottime: { sec: 100, nsec: 0 } }
    const a = unshareNsproxyNamespaces(CLONE_NEWTIME, w.task.nsproxy!, w.task.cred, undefined) as NsProxy
    a.timeForChildren.setOffsets(w.task.cred, parseTimensOffsets("monotonic 42 7") as ReadonlyArray<TimensOffset>, now)
    const b = unshareNsproxyNamespaces(CLONE_NEWTIME, a, w.task.cred, undefined) as NsProxy
    expect(b.timeForChildren.monotonic).toEqual({ sec: 42, nsec: 7 })
    expect(b.timeForChildren.frozen).toBe(false)
    a.put()
    b.put()
    w.teardown()
  })
})

describe("cgroup namespaces", () => {
  it("root a new namespace at the creator's cgroup and show paths relative to it", () => {
    const w = start()
    const ns = unshareNsproxyNamespaces(CLONE_NEWCGROUP, w.task.nsproxy!, w.task.cred, undefined, {
      cgroup: "/system.slice/app.service"
    }) as NsProxy
    expect(ns.cgroup.root).toBe("/system.slice/app.service")
    expect(ns.cgroup.pathOf("/system.slice/app.service")).toBe("/")
    expect(ns.cgroup.pathOf("/system.slice/app.service/worker")).toBe("/worker")
    expect(ns.cgroup.pathOf("/system.slice/other.service")).toBe("/../other.service")
    expect(ns.cgroup.pathOf("/")).toBe("/../..")
    expect(w.task.nsproxy!.cgroup.pathOf("/a/b")).toBe("/a/b")
    ns.put()
    w.teardown()
  })

  it("a path seen from a root, resolved back from that root, is the path (property)", () => {
    const seg = fc.constantFrom("a", "b", "c", "d")
    fc.assert(
      fc.property(fc.array(seg, { maxLength: 5 }), fc.array(seg, { maxLength: 5 }), (root, path) => {
        const rel = cgroupPathFrom(`/${root.join("/")}`, `/${path.join("/")}`)
        const stack: Array<string> = [...root]
        for (const c of rel.split("/").filter((x) => x !== "")) {
          if (c === "..") stack.pop()
          else stack.push(c)
        }
        expect(stack).toEqual(path)
      })
    )
  })
})

describe("ipc namespaces", () => {
  it("release the mqueue superblock attached to them when they go", () => {
    const w = start()
    class Superblock extends Refcounted {
      readonly kind = "Superblock"
    }
    const ns = unshareNsproxyNamespaces(CLONE_NEWIPC, w.task.nsproxy!, w.task.cred, undefined) as NsProxy
    const sb = new Superblock(w.live)
    ns.ipc.attachMqueue(sb, sb)
    expect(ns.ipc.mqueueSuperblock).toBe(sb)
    expect(w.task.nsproxy!.ipc.mqueueSuperblock).toBeUndefined()
    ns.put()
    expect(sb.freed).toBe(true)
    w.teardown()
  })
})
