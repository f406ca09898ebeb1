import { CAP_SETFCAP, CAP_SYS_ADMIN, PROC_DYNAMIC_FIRST, PROC_USER_INIT_INO } from "@simkernel/abi"
import { afterEach, describe, expect, it } from "@effect/vitest"
import { assertNoLeaks, Refcounted } from "@simkernel/kref"
import {
  abortCreds,
  CAP_FULL_SET,
  capDrop,
  capFromList,
  capToHex,
  commitCreds,
  createUserNs,
  currentInUserns,
  fromKgidMunged,
  fromKuid,
  fromKuidMunged,
  getresuid,
  getuid,
  INVALID_UID,
  inUserns,
  kuidHasMapping,
  makeKuid,
  nsCapable,
  prepareCreds,
  procGidMapShow,
  procGidMapWrite,
  procProjidMapShow,
  procProjidMapWrite,
  procSetgroupsShow,
  procSetgroupsWrite,
  procUidMapShow,
  procUidMapWrite,
  setresgid,
  setresuid,
  unshareUserns,
  type UserNamespace,
  usernsInstall
} from "@simkernel/cred"
import { Effect } from "effect"
import fc from "fast-check"
import { boot, errnoOf, fork, mapRootToSelf, run, type Task, teardown, unprivileged, unshareUser } from "./helpers.js"

afterEach(() => {
  teardown()
  assertNoLeaks()
})

const line = (a: number, b: number, c: number): string =>
  `${String(a).padStart(10)} ${String(b).padStart(10)} ${String(c).padStart(10)}\n`

class Key extends Refcounted {
  readonly kind = "Key"
}

describe("the initial user namespace and init_cred", () => {
  it("has the fixed inode number, level 0, identity maps and setgroups allowed", () => {
    const root = boot()
    const init = root.cred.userNs
    expect(init.inum).toBe(PROC_USER_INIT_INO)
    expect(init.inum).toBe(4026531837)
    expect(init.level).toBe(0)
    expect(init.parent).toBeUndefined()
    expect(procUidMapShow(init, root.cred)).toBe("         0          0 4294967295\n")
    expect(procGidMapShow(init, root.cred)).toBe(line(0, 0, 4294967295))
    expect(procProjidMapShow(init, root.cred)).toBe(line(0, 0, 4294967295))
    expect(procSetgroupsShow(init)).toBe("allow\n")
    expect(makeKuid(init, 4294967294)).toBe(4294967294)
    expect(makeKuid(init, -1)).toBe(INVALID_UID)
  })

  it("gives the first task uid 0 and every capability but no inheritable or ambient ones", () => {
    const root = boot()
    expect(getresuid(root.cred)).toEqual([0, 0, 0])
    expect(capToHex(root.cred.capEffective)).toBe("000001ffffffffff")
    expect(capToHex(root.cred.capPermitted)).toBe("000001ffffffffff")
    expect(capToHex(root.cred.capBset)).toBe("000001ffffffffff")
    expect(root.cred.capInheritable).toBe(0)
    expect(root.cred.capAmbient).toBe(0)
    expect(root.cred.securebits).toBe(0)
    expect(root.cred.groups).toEqual([])
  })

  it("its maps cannot be written (EPERM)", () => {
    const root = boot()
    expect(errnoOf(procUidMapWrite(root.cred.userNs, "0 0 1", root.cred))).toBe("EPERM")
    expect(errnoOf(procGidMapWrite(root.cred.userNs, "0 0 1", root.cred))).toBe("EPERM")
  })
})

describe("create_user_ns (unshare(CLONE_NEWUSER))", () => {
  it("puts the creator in a child namespace with a full capability set there and nothing outside", () => {
    const root = boot()
    const user = unprivileged(root, 1000)
    unshareUser(user)
    const ns = user.cred.userNs
    expect(ns.level).toBe(1)
    expect(ns.parent).toBe(root.cred.userNs)
    expect(ns.owner).toBe(1000)
    expect(ns.group).toBe(1000)
    expect(ns.inum).toBe(PROC_DYNAMIC_FIRST)
    expect(capToHex(user.cred.capEffective)).toBe("000001ffffffffff")
    expect(capToHex(user.cred.capPermitted)).toBe("000001ffffffffff")
    expect(capToHex(user.cred.capBset)).toBe("000001ffffffffff")
    expect(user.cred.capInheritable).toBe(0)
    expect(user.cred.capAmbient).toBe(0)
    expect(nsCapable(user.cred, ns, CAP_SYS_ADMIN)).toBe(true)
    expect(nsCapable(user.cred, root.cred.userNs, CAP_SYS_ADMIN)).toBe(false)
    // The kernel ids are unchanged: they read as the overflow id until the maps are written.
    expect(user.cred.uid).toBe(1000)
    expect(getuid(user.cred)).toBe(65534)
    expect(fromKgidMunged(ns, user.cred.gid)).toBe(65534)
  })

  it("resets securebits and drops the request_key authorisation key but keeps the other keyrings", () => {
    const root = boot()
    const task = fork(root)
    const draft = prepareCreds(task.cred)
    draft.securebits = 0x10
    const session = new Key()
    const auth = new Key()
    draft.setSessionKeyring(session)
    draft.setRequestKeyAuth(auth)
    commitCreds(task, draft)
    unshareUser(task)
    expect(task.cred.securebits).toBe(0)
    expect(task.cred.sessionKeyring).toBe(session)
    expect(task.cred.requestKeyAuth).toBeUndefined()
    expect(auth.freed).toBe(true)
  })

  it("fails with EPERM when the creator's euid has no mapping in its namespace", () => {
    // Probe (Linux 6.18): a second unshare(CLONE_NEWUSER) before uid_map is written fails with EPERM.
    const root = boot()
    const task = fork(root)
    unshareUser(task)
    expect(errnoOf(Effect.map(unshareUserns(task.cred), abortCreds))).toBe("EPERM")
  })

  it("fails with EPERM when only the egid is unmapped", () => {
    const root = boot()
    const task = fork(root)
    unshareUser(task)
    run(procUidMapWrite(task.cred.userNs, "0 0 1", root.cred))
    expect(errnoOf(Effect.map(unshareUserns(task.cred), abortCreds))).toBe("EPERM")
    run(procGidMapWrite(task.cred.userNs, "0 0 1", root.cred))
    expect(errnoOf(Effect.map(unshareUserns(task.cred), abortCreds))).toBe("ok")
  })

  it("fails with EPERM for a chrooted creator", () => {
    const root = boot()
    const draft = prepareCreds(root.cred)
    expect(errnoOf(createUserNs(draft, { chrooted: true }))).toBe("EPERM")
    abortCreds(draft)
  })

  it("nests 33 levels deep; the 34th unshare fails with ENOSPC", () => {
    // Probe (Linux 6.18, from the initial namespace, mapping "0 <euid> 1" at
    // each level): 33 nested unshares succeed, the next fails with ENOSPC,
    // for root and for uid 1000 alike (user_namespaces(7)'s EUSERS is Linux 3.11 to 4.8).
    const root = boot()
    const task = unprivileged(root, 1000)
    let uid = 1000
    for (let level = 1; level <= 33; level++) {
      unshareUser(task)
      mapRootToSelf(task, uid, uid)
      uid = 0
      expect(task.cred.userNs.level).toBe(level)
    }
    expect(errnoOf(Effect.map(unshareUserns(task.cred), abortCreds))).toBe("ENOSPC")
  })

  it("counts namespaces per creating uid against max_user_namespaces of every ancestor (ENOSPC)", () => {
    const root = boot()
    const init = root.cred.userNs
    init.maxUserNamespaces = 1
    const a = unprivileged(root, 1000)
    const b = unprivileged(root, 1001)
    unshareUser(a)
    expect(init.userNamespaceCount(1000)).toBe(1)
    expect(errnoOf(Effect.map(unshareUserns(unprivileged(root, 1000).cred), abortCreds))).toBe("ENOSPC")
    unshareUser(b)
    // A namespace made inside a's namespace counts against uid 1000 in the initial one too.
    mapRootToSelf(a, 1000, 1000)
    expect(errnoOf(Effect.map(unshareUserns(a.cred), abortCreds))).toBe("ENOSPC")
    init.maxUserNamespaces = 2
    unshareUser(a)
    expect(init.userNamespaceCount(1000)).toBe(2)
    expect(a.cred.userNs.parent!.userNamespaceCount(1000)).toBe(1)
  })

  it("gives the count back when the namespace is freed", () => {
    const root = boot()
    const init = root.cred.userNs
    init.maxUserNamespaces = 1
    const draft = run(unshareUserns(root.cred))
    abortCreds(draft)
    expect(init.userNamespaceCount(0)).toBe(0)
    const again = run(unshareUserns(root.cred))
    expect(init.userNamespaceCount(0)).toBe(1)
    abortCreds(again)
  })

  it("hands out nsfs inode numbers from 0xF0000000, reusing the lowest freed one", () => {
    const root = boot()
    const d1 = run(unshareUserns(root.cred))
    const d2 = run(unshareUserns(root.cred))
    const d3 = run(unshareUserns(root.cred))
    expect([d1, d2, d3].map((d) => d.userNs.inum)).toEqual([0xf0000000, 0xf0000001, 0xf0000002])
    abortCreds(d2)
    abortCreds(d1)
    const d4 = run(unshareUserns(root.cred))
    expect(d4.userNs.inum).toBe(0xf0000000)
    abortCreds(d3)
    abortCreds(d4)
  })

  it('inherits setgroups "deny" from its parent', () => {
    const root = boot()
    const task = unprivileged(root, 1000)
    unshareUser(task)
    mapRootToSelf(task, 1000, 1000)
    unshareUser(task)
    expect(procSetgroupsShow(task.cred.userNs)).toBe("deny\n")
  })

  it("remembers whether the creator could set file capabilities", () => {
    const root = boot()
    const without = fork(root)
    const draft = prepareCreds(without.cred)
    draft.capEffective = capDrop(CAP_FULL_SET, capFromList([CAP_SETFCAP]))
    commitCreds(without, draft)
    unshareUser(without)
    expect(without.cred.userNs.parentCouldSetfcap).toBe(false)
    const withCap = fork(root)
    unshareUser(withCap)
    expect(withCap.cred.userNs.parentCouldSetfcap).toBe(true)
  })

  it("in_userns: a namespace is in itself and its ancestors, not in siblings or descendants", () => {
    const root = boot()
    const a = fork(root)
    const b = fork(root)
    unshareUser(a)
    unshareUser(b)
    const init = root.cred.userNs
    expect(inUserns(init, a.cred.userNs)).toBe(true)
    expect(inUserns(a.cred.userNs, a.cred.userNs)).toBe(true)
    expect(inUserns(a.cred.userNs, init)).toBe(false)
    expect(inUserns(a.cred.userNs, b.cred.userNs)).toBe(false)
    expect(currentInUserns(a.cred, init)).toBe(true)
  })
})

describe("setns(2) into a user namespace (userns_install)", () => {
  it("needs CAP_SYS_ADMIN in the target, refuses the current namespace, and resets the capability sets", () => {
    const root = boot()
    const owner = unprivileged(root, 1000)
    unshareUser(owner)
    const target = owner.cred.userNs
    const stranger = unprivileged(root, 1001)
    const d1 = prepareCreds(stranger.cred)
    expect(errnoOf(usernsInstall(stranger.cred, d1, target))).toBe("EPERM")
    abortCreds(d1)
    const d2 = prepareCreds(owner.cred)
    expect(errnoOf(usernsInstall(owner.cred, d2, target))).toBe("EINVAL")
    abortCreds(d2)
    const joiner = unprivileged(root, 1000)
    const d3 = prepareCreds(joiner.cred)
    run(usernsInstall(joiner.cred, d3, target))
    commitCreds(joiner, d3)
    expect(joiner.cred.userNs).toBe(target)
    expect(capToHex(joiner.cred.capEffective)).toBe("000001ffffffffff")
  })
})

/** A root task's child in a fresh namespace, for the parent to write its maps. */
const childNs = () => {
  const root = boot()
  const child = fork(root)
  unshareUser(child)
  return { root, child, ns: child.cred.userNs }
}

// Each row was run on Linux 6.18: a root process wrote the text to
// /proc/<child>/uid_map of a child that had just called unshare(CLONE_NEWUSER),
// then read the file back.
const ROOT_WRITES: ReadonlyArray<readonly [string, string | Uint8Array, string, string]> = [
  ["a range", "0 100000 65536", "ok", line(0, 100000, 65536)],
  ["ids are stored as u32: 2^32 wraps to 0", "4294967296 5 1", "ok", line(0, 5, 1)],
  ["2^32 + 1 wraps to 1", "4294967297 5 1", "ok", line(1, 5, 1)],
  ["the whole id space but (uid_t)-1", "0 0 4294967295", "ok", line(0, 0, 4294967295)],
  ["a range running past 4294967295", "1 0 4294967295", "EINVAL", ""],
  ["a zero count", "0 0 0", "EINVAL", ""],
  ["overlapping upper ranges", "0 100 10\n5 1000 10", "EINVAL", ""],
  ["overlapping lower ranges", "0 100 10\n50 105 10", "EINVAL", ""],
  ["adjacent ranges", "0 100 10\n10 110 10", "ok", line(0, 100, 10) + line(10, 110, 10)],
  ["trailing junk", "0 0 1 x", "EINVAL", ""],
  ["tabs and runs of spaces", "  0\t0   1  \n", "ok", line(0, 0, 1)],
  ["an empty line", "0 0 1\n\n", "EINVAL", ""],
  ["no newline after the last line", "0 0 1\n1 1 1", "ok", line(0, 0, 1) + line(1, 1, 1)],
  ["a sign", "-1 0 1", "EINVAL", ""],
  ["a plus sign", "+1 0 1", "EINVAL", ""],
  ["hexadecimal", "0x10 0 1", "EINVAL", ""],
  ["first id (uid_t)-1", "4294967295 0 1", "EINVAL", ""],
  ["two fields", "0 0", "EINVAL", ""],
  ["nothing", "", "EINVAL", ""],
  ["a lone newline", "\n", "EINVAL", ""],
  ["text after a NUL byte is ignored", new TextEncoder().encode("0 0 1\0garbage"), "ok", line(0, 0, 1)],
  ["4095 bytes", "0 0 1" + " ".repeat(4090), "ok", line(0, 0, 1)],
  ["4096 bytes (a page)", "0 0 1" + " ".repeat(4091), "EINVAL", ""],
  [
    "up to five extents read back in the order written",
    "9 1000 1\n8 1001 1\n7 1002 1\n6 1003 1\n5 1004 1\n",
    "ok",
    line(9, 1000, 1) + line(8, 1001, 1) + line(7, 1002, 1) + line(6, 1003, 1) + line(5, 1004, 1)
  ],
  [
    "six or more read back sorted",
    "9 1000 1\n8 1001 1\n7 1002 1\n6 1003 1\n5 1004 1\n4 1005 1\n",
    "ok",
    line(4, 1005, 1) + line(5, 1004, 1) + line(6, 1003, 1) + line(7, 1002, 1) + line(8, 1001, 1) + line(9, 1000, 1)
  ]
]

describe("writing uid_map as root (map_write)", () => {
  for (const [name, text, result, shown] of ROOT_WRITES) {
    it(`${name}: ${result}`, () => {
      const { root, ns } = childNs()
      expect(errnoOf(procUidMapWrite(ns, text, root.cred))).toBe(result)
      expect(procUidMapShow(ns, root.cred)).toBe(shown)
    })
  }

  it("returns the number of bytes written", () => {
    const { root, ns } = childNs()
    expect(run(procUidMapWrite(ns, "0 100000 65536\n", root.cred))).toBe(15)
  })

  it("takes 340 lines, not 341 (EINVAL)", () => {
    const lines = (n: number) => Array.from({ length: n }, (_, i) => `${i} ${1000 + i} 1\n`).join("")
    const a = childNs()
    expect(errnoOf(procUidMapWrite(a.ns, lines(340), a.root.cred))).toBe("ok")
    expect(a.ns.uidMap.nrExtents).toBe(340)
    expect(makeKuid(a.ns, 339)).toBe(1339)
    expect(fromKuid(a.ns, 1200)).toBe(200)
    const b = childNs()
    expect(errnoOf(procUidMapWrite(b.ns, lines(341), b.root.cred))).toBe("EINVAL")
  })

  it("is written once: a second write is EPERM", () => {
    const { root, ns } = childNs()
    run(procUidMapWrite(ns, "0 0 1", root.cred))
    expect(errnoOf(procUidMapWrite(ns, "0 0 1", root.cred))).toBe("EPERM")
  })

  it("must start at offset 0 (EINVAL)", () => {
    const { root, ns } = childNs()
    expect(errnoOf(procUidMapWrite(ns, "0 0 1", root.cred, root.cred, 1))).toBe("EINVAL")
  })

  it("translates lower ids through the parent's map, and refuses ranges the parent does not map (EPERM)", () => {
    const { root, ns, child } = childNs()
    run(procUidMapWrite(ns, "0 100000 1000", root.cred))
    run(procGidMapWrite(ns, "0 100000 1000", root.cred))
    run(setresgid(child, 0, 0, 0))
    run(setresuid(child, 0, 0, 0))
    expect(child.cred.uid).toBe(100000)
    const grandchild = fork(child)
    unshareUser(grandchild)
    const inner = grandchild.cred.userNs
    expect(errnoOf(procUidMapWrite(inner, "0 990 20", child.cred))).toBe("EPERM")
    run(procUidMapWrite(inner, "0 10 5", child.cred))
    expect(makeKuid(inner, 3)).toBe(100013)
    expect(fromKuid(inner, 100013)).toBe(3)
    expect(kuidHasMapping(inner, 100015)).toBe(false)
  })

  it("writes projid_map by the same rules", () => {
    const { root, ns } = childNs()
    run(procProjidMapWrite(ns, "0 0 10", root.cred))
    expect(procProjidMapShow(ns, root.cred)).toBe(line(0, 0, 10))
  })
})

describe("writing maps without privilege (new_idmap_permitted)", () => {
  // Probe (Linux 6.18): uid 1000 ran unshare(CLONE_NEWUSER), then wrote its own maps.
  const own = () => {
    const root = boot()
    const user = unprivileged(root, 1000)
    unshareUser(user)
    return { root, user, ns: user.cred.userNs }
  }

  it.each([
    ["its own euid", "0 1000 1", "ok"],
    ["its own euid with a count of 2", "0 1000 2", "EPERM"],
    ["another uid", "0 1001 1", "EPERM"],
    ["its own euid and another line", "0 1000 1\n1 1001 1", "EPERM"],
    ["uid 0 of the parent", "0 0 1", "EPERM"]
  ])("uid_map mapping %s (%s) is %s", (_name, text, result) => {
    const { user, ns } = own()
    expect(errnoOf(procUidMapWrite(ns, text, user.cred))).toBe(result)
  })

  it('gid_map needs setgroups "deny" first (EPERM before)', () => {
    const { user, ns } = own()
    expect(errnoOf(procGidMapWrite(ns, "0 1000 1", user.cred))).toBe("EPERM")
    run(procSetgroupsWrite(ns, "deny", user.cred))
    expect(errnoOf(procGidMapWrite(ns, "0 1000 1", user.cred))).toBe("ok")
    expect(procGidMapShow(ns, user.cred)).toBe(line(0, 1000, 1))
  })

  it("projid_map needs no privilege", () => {
    const { user, ns } = own()
    expect(errnoOf(procProjidMapWrite(ns, "0 0 10", user.cred))).toBe("ok")
  })

  it("the owner's parent-side process may deny setgroups and write the maps too", () => {
    const root = boot()
    const parentSide = unprivileged(root, 1000)
    const child = fork(parentSide)
    unshareUser(child)
    const ns = child.cred.userNs
    expect(errnoOf(procSetgroupsWrite(ns, "deny", parentSide.cred))).toBe("ok")
    expect(errnoOf(procUidMapWrite(ns, "0 1000 1", parentSide.cred))).toBe("ok")
    expect(errnoOf(procGidMapWrite(ns, "0 1000 1", parentSide.cred))).toBe("ok")
    expect(getresuid(child.cred)).toEqual([0, 0, 0])
  })

  it("mapping uid 0 of the parent needs the creator to have had CAP_SETFCAP", () => {
    // Probe: `setpriv --bounding-set -setfcap` root, unshare, write "0 0 1" to
    // its own uid_map: EPERM; with CAP_SETFCAP the same write succeeds.
    const root = boot()
    const task = fork(root)
    const draft = prepareCreds(task.cred)
    draft.capEffective = capDrop(CAP_FULL_SET, capFromList([CAP_SETFCAP]))
    commitCreds(task, draft)
    unshareUser(task)
    expect(errnoOf(procUidMapWrite(task.cred.userNs, "0 0 1", task.cred))).toBe("EPERM")
    expect(errnoOf(procUidMapWrite(task.cred.userNs, "5 0 1", task.cred))).toBe("EPERM")
    const full = fork(root)
    unshareUser(full)
    expect(errnoOf(procUidMapWrite(full.cred.userNs, "0 0 1", full.cred))).toBe("ok")
  })
})

describe("the writer and the opener of a map file both count", () => {
  // Probe (Linux 6.18): the map file of a namespace made by uid 1000 was
  // opened by one process and the descriptor written by another
  // (SCM_RIGHTS); "root" is uid 0 with every capability in the initial namespace.
  const setup = () => {
    const root = boot()
    const user = unprivileged(root, 1000)
    const child = fork(user)
    unshareUser(child)
    return { root, user, ns: child.cred.userNs }
  }

  it.each([
    ["root", "uid 1000", "0 100000 10", "EPERM"],
    ["uid 1000", "root", "0 100000 10", "EPERM"],
    ["uid 1000", "root", "0 1000 1", "ok"],
    ["root", "uid 1000", "0 1000 1", "EPERM"],
    ["root", "root", "0 0 1", "ok"],
    ["uid 1000", "uid 1000", "0 0 1", "EPERM"]
  ])("opened by %s, written by %s: %s is %s", (opener, writer, text, result) => {
    const { root, user, ns } = setup()
    const cred = (who: string) => (who === "root" ? root.cred : user.cred)
    expect(errnoOf(procUidMapWrite(ns, text, cred(writer), cred(opener)))).toBe(result)
  })

  it("an opener outside the namespace and its parent gets EPERM", () => {
    const { root, ns } = setup()
    const sibling = fork(root)
    unshareUser(sibling)
    expect(errnoOf(procUidMapWrite(ns, "0 1000 1", root.cred, sibling.cred))).toBe("EPERM")
  })

  it("an opener without CAP_SYS_ADMIN in the namespace gets EPERM", () => {
    // On Linux uid 1001 cannot even open /proc/<pid>/uid_map of uid 1000's
    // task for writing (EACCES, a procfs permission check); map_write() itself refuses with EPERM.
    const { root, ns } = setup()
    const other = unprivileged(root, 1001)
    expect(errnoOf(procUidMapWrite(ns, "0 1001 1", root.cred, other.cred))).toBe("EPERM")
  })
})

describe("reading a map shows lower ids as the reader sees them (uid_m_show)", () => {
  // Probe (Linux 6.18): root made A ("0 100000 1000") and a sibling C
  // ("0 200000 1000"); A's root made B inside A ("0 10 5"). Then each read
  // the others' uid_map.
  const world = () => {
    const root = boot()
    const a = fork(root)
    unshareUser(a)
    run(procUidMapWrite(a.cred.userNs, "0 100000 1000", root.cred))
    run(procGidMapWrite(a.cred.userNs, "0 100000 1000", root.cred))
    run(setresgid(a, 0, 0, 0))
    run(setresuid(a, 0, 0, 0))
    const c = fork(root)
    unshareUser(c)
    run(procUidMapWrite(c.cred.userNs, "0 200000 1000", root.cred))
    const b = fork(a)
    unshareUser(b)
    run(procUidMapWrite(b.cred.userNs, "0 10 5", a.cred))
    return { root, a, b, c }
  }

  it.each([
    ["root", "B", line(0, 100010, 5)],
    ["A", "B", line(0, 10, 5)],
    ["B", "B", line(0, 10, 5)],
    ["C", "B", line(0, 4294967295, 5)],
    ["A", "A", line(0, 100000, 1000)],
    ["C", "A", line(0, 4294967295, 1000)],
    ["root", "A", line(0, 100000, 1000)]
  ])("%s reading %s's uid_map", (reader, owner, shown) => {
    const w = world()
    const byName: Record<string, Task> = { root: w.root, A: w.a, B: w.b, C: w.c }
    expect(procUidMapShow(byName[owner]!.cred.userNs, byName[reader]!.cred)).toBe(shown)
  })
})

describe("/proc/<pid>/setgroups (proc_setgroups_write)", () => {
  // Probe (Linux 6.18), root writing the setgroups file of a fresh child namespace.
  it.each([
    ["deny after gid_map is written", "gid_map", "deny", "EPERM", "allow\n"],
    ["allow after gid_map is written", "gid_map", "allow", "ok", "allow\n"],
    ["allow after deny", "deny", "allow", "EPERM", "deny\n"],
    ["deny twice", "deny", "deny", "ok", "deny\n"],
    ["a word with junk after it", "", "denyx", "EINVAL", "allow\n"],
    ["trailing white space", "", "deny \n", "ok", "deny\n"],
    ["8 bytes", "", "allow   ", "EINVAL", "allow\n"],
    ["7 bytes", "", "allow  ", "ok", "allow\n"],
    ["something else", "", "yes", "EINVAL", "allow\n"]
  ])("%s", (_name, before, text, result, shown) => {
    const { root, ns } = childNs()
    if (before === "gid_map") run(procGidMapWrite(ns, "0 0 1", root.cred))
    if (before === "deny") run(procSetgroupsWrite(ns, "deny", root.cred))
    expect(errnoOf(procSetgroupsWrite(ns, text, root.cred))).toBe(result)
    expect(procSetgroupsShow(ns)).toBe(shown)
  })

  it("opening it for writing needs CAP_SYS_ADMIN in the namespace (EACCES)", () => {
    const root = boot()
    const owner = unprivileged(root, 1000)
    unshareUser(owner)
    const other = unprivileged(root, 1001)
    expect(errnoOf(procSetgroupsWrite(owner.cred.userNs, "deny", other.cred))).toBe("EACCES")
  })
})

describe("id mapping (make_kuid / from_kuid)", () => {
  /** Disjoint extents on both sides, in a random line order. */
  const extentsArb = fc
    .array(
      fc.record({
        upperGap: fc.integer({ min: 0, max: 100000 }),
        lowerGap: fc.integer({ min: 0, max: 100000 }),
        count: fc.integer({ min: 1, max: 100000 })
      }),
      { minLength: 1, maxLength: 12 }
    )
    .chain((parts) =>
      fc.tuple(
        fc.constant(parts),
        fc.shuffledSubarray(
          parts.map((_, i) => i),
          { minLength: parts.length, maxLength: parts.length }
        )
      )
    )
    .map(([parts, lowerOrder]) => {
      let upper = 0
      const extents = parts.map((p) => {
        const first = upper + p.upperGap
        upper = first + p.count
        return { first, lowerFirst: 0, count: p.count }
      })
      let lower = 0
      for (const i of lowerOrder) {
        const e = extents[i]!
        e.lowerFirst = lower + parts[i]!.lowerGap
        lower = e.lowerFirst + e.count
      }
      return extents
    })

  const withMap = <A>(
    extents: ReadonlyArray<{ first: number; lowerFirst: number; count: number }>,
    body: (ns: UserNamespace) => A
  ): A => {
    const { root, ns } = childNs()
    run(procUidMapWrite(ns, extents.map((e) => `${e.first} ${e.lowerFirst} ${e.count}`).join("\n"), root.cred))
    try {
      return body(ns)
    } finally {
      teardown()
    }
  }

  it("maps every id of an extent to its lower id and back", () => {
    fc.assert(
      fc.property(extentsArb, fc.nat(), fc.nat(), (extents, pick, offset) => {
        withMap(extents, (ns) => {
          const e = extents[pick % extents.length]!
          const id = e.first + (offset % e.count)
          const kuid = makeKuid(ns, id)
          expect(kuid).toBe(e.lowerFirst + (offset % e.count))
          expect(fromKuid(ns, kuid)).toBe(id)
          expect(fromKuidMunged(ns, kuid)).toBe(id)
        })
      })
    )
  })

  it("an id outside every extent is unmapped, and an unmapped kernel id reads as 65534", () => {
    fc.assert(
      fc.property(
        extentsArb,
        fc.oneof(fc.integer({ min: 0, max: 3000000 }), fc.integer({ min: 0, max: 4294967294 })),
        (extents, id) => {
          withMap(extents, (ns) => {
            const inUpper = extents.some((e) => id >= e.first && id < e.first + e.count)
            const inLower = extents.some((e) => id >= e.lowerFirst && id < e.lowerFirst + e.count)
            expect(makeKuid(ns, id) === INVALID_UID).toBe(!inUpper)
            expect(kuidHasMapping(ns, id)).toBe(inLower)
            if (!inLower) {
              expect(fromKuid(ns, id)).toBe(4294967295)
              expect(fromKuidMunged(ns, id)).toBe(65534)
            }
          })
        }
      )
    )
  })
})
