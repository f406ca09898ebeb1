import {
  CAP_CHOWN,
  CAP_DAC_OVERRIDE,
  CAP_SETGID,
  CAP_SYS_ADMIN,
  SECBIT_KEEP_CAPS,
  SECBIT_NO_SETUID_FIXUP,
  type SysError
} from "@simkernel/abi"
import { afterEach, describe, expect, it } from "@effect/vitest"
import { assertNoLeaks } from "@simkernel/kref"
import {
  CAP_FS_SET,
  CAP_FULL_SET,
  capDrop,
  capFromList,
  capRaised,
  capToHex,
  commitCreds,
  type Cred,
  getegid,
  geteuid,
  getgid,
  getgroups,
  getresgid,
  getresuid,
  getuid,
  inEgroupP,
  inGroupP,
  maySetgroups,
  NGROUPS_MAX,
  prepareCreds,
  procGidMapWrite,
  procSetgroupsWrite,
  procUidMapWrite,
  setfsgid,
  setfsuid,
  setgid,
  setgroups,
  setregid,
  setresgid,
  setresuid,
  setreuid,
  setuid
} from "@simkernel/cred"
import { Effect } from "effect"
import { boot, errnoOf, fork, mapRootToSelf, run, type Task, teardown, unprivileged, unshareUser } from "./helpers.js"

afterEach(() => {
  teardown()
  assertNoLeaks()
})

const FULL = capToHex(CAP_FULL_SET)
const NONE = capToHex(0)
const state = (c: Cred) => ({
  res: getresuid(c),
  fsuid: c.fsuid,
  permitted: capToHex(c.capPermitted),
  effective: capToHex(c.capEffective)
})

/** An unprivileged task with real 1000, effective 1001, saved 1002 (set by root with setresuid). */
const mixed = (): Task => {
  const t = fork(boot())
  run(setresuid(t, 1000, 1001, 1002))
  return t
}

type Row = readonly [
  string,
  (t: Task) => Effect.Effect<unknown, SysError>,
  string,
  readonly [number, number, number],
  number
]

describe("unprivileged uid changes (setresuid(2), setuid(2), setreuid(2))", () => {
  // Probe (Linux 6.18): root called setresuid(1000, 1001, 1002), then each call below.
  const rows: ReadonlyArray<Row> = [
    ["setresuid(1001, -1, -1): real to effective", (t) => setresuid(t, 1001, -1, -1), "ok", [1001, 1001, 1002], 1001],
    [
      "setresuid(1002, 1002, 1002): all to saved",
      (t) => setresuid(t, 1002, 1002, 1002),
      "ok",
      [1002, 1002, 1002],
      1002
    ],
    [
      "setresuid(-1, 1003, -1): an id it does not have",
      (t) => setresuid(t, -1, 1003, -1),
      "EPERM",
      [1000, 1001, 1002],
      1001
    ],
    ["setresuid(-1, -1, -1): nothing", (t) => setresuid(t, -1, -1, -1), "ok", [1000, 1001, 1002], 1001],
    ["setuid(1000): the real uid", (t) => setuid(t, 1000), "ok", [1000, 1000, 1002], 1000],
    ["setuid(1002): the saved uid", (t) => setuid(t, 1002), "ok", [1000, 1002, 1002], 1002],
    ["setuid(1001): only the effective uid", (t) => setuid(t, 1001), "EPERM", [1000, 1001, 1002], 1001],
    ["setreuid(-1, 1002): effective to saved", (t) => setreuid(t, -1, 1002), "ok", [1000, 1002, 1002], 1002],
    ["setreuid(1002, -1): real to saved", (t) => setreuid(t, 1002, -1), "EPERM", [1000, 1001, 1002], 1001],
    ["setreuid(1001, 1000): swap, saved follows", (t) => setreuid(t, 1001, 1000), "ok", [1001, 1000, 1000], 1000]
  ]
  it.each(rows)("%s", (_name, call, result, res, fsuid) => {
    const t = mixed()
    expect(errnoOf(call(t))).toBe(result)
    expect(getresuid(t.cred)).toEqual(res)
    expect(t.cred.fsuid).toBe(fsuid)
  })

  it("ids with no mapping in the caller's namespace are EINVAL, before any permission check", () => {
    const root = boot()
    const user = unprivileged(root, 1000)
    unshareUser(user)
    mapRootToSelf(user, 1000, 1000)
    expect(errnoOf(setresuid(user, -1, 5, -1))).toBe("EINVAL")
    expect(errnoOf(setuid(user, 5))).toBe("EINVAL")
    expect(errnoOf(setreuid(user, 5, -1))).toBe("EINVAL")
    expect(errnoOf(setuid(root, -1))).toBe("EINVAL")
    expect(errnoOf(setresgid(user, 7, -1, -1))).toBe("EINVAL")
    expect(errnoOf(setgid(user, 7))).toBe("EINVAL")
  })

  it("a call that changes nothing does not replace the Cred", () => {
    const t = mixed()
    const before = t.cred
    run(setresuid(t, 1000, 1001, 1002))
    expect(t.cred).toBe(before)
  })
})

describe("capabilities follow uid changes (capabilities(7), cap_emulate_setxuid)", () => {
  // Probe (Linux 6.18), starting from root with every capability.
  const rows: ReadonlyArray<Row> = [
    ["setresuid(1000, 0, 0): euid stays 0", (t) => setresuid(t, 1000, 0, 0), FULL, [1000, 0, 0], 0],
    ["seteuid(1000): effective set cleared", (t) => setresuid(t, -1, 1000, -1), FULL, [0, 1000, 0], 1000],
    ["setuid(1000): every uid leaves 0", (t) => setuid(t, 1000), NONE, [1000, 1000, 1000], 1000],
    ["setreuid(1000, 1000)", (t) => setreuid(t, 1000, 1000), NONE, [1000, 1000, 1000], 1000],
    ["setreuid(-1, 1000): saved follows the effective uid", (t) => setreuid(t, -1, 1000), FULL, [0, 1000, 1000], 1000]
  ]
  it.each(rows)("%s", (_name, call, permitted, res, fsuid) => {
    const t = fork(boot())
    run(call(t))
    expect(capToHex(t.cred.capPermitted)).toBe(permitted)
    expect(getresuid(t.cred)).toEqual(res)
    expect(t.cred.fsuid).toBe(fsuid)
    if (res[1] !== 0) expect(t.cred.capEffective).toBe(0)
  })

  it("going back to euid 0 copies the permitted set into the effective set", () => {
    const t = fork(boot())
    run(setresuid(t, -1, 1000, -1))
    run(setresuid(t, -1, 0, -1))
    expect(state(t.cred)).toEqual({ res: [0, 0, 0], fsuid: 0, permitted: FULL, effective: FULL })
  })

  it("SECBIT_KEEP_CAPS keeps the permitted set (the effective set is still cleared)", () => {
    const t = fork(boot())
    const d = prepareCreds(t.cred)
    d.securebits = SECBIT_KEEP_CAPS
    commitCreds(t, d)
    run(setuid(t, 1000))
    expect(state(t.cred)).toEqual({ res: [1000, 1000, 1000], fsuid: 1000, permitted: FULL, effective: NONE })
  })

  it("SECBIT_NO_SETUID_FIXUP leaves every set alone", () => {
    const t = fork(boot())
    const d = prepareCreds(t.cred)
    d.securebits = SECBIT_NO_SETUID_FIXUP
    commitCreds(t, d)
    run(setuid(t, 1000))
    expect(state(t.cred)).toEqual({ res: [1000, 1000, 1000], fsuid: 1000, permitted: FULL, effective: FULL })
  })

  it("leaving uid 0 clears the ambient set even with SECBIT_KEEP_CAPS", () => {
    // Probe: root raised an ambient capability, set keepcaps, setresuid(1000,1000,1000): CapAmb 0.
    const t = fork(boot())
    const d = prepareCreds(t.cred)
    d.capInheritable = capFromList([CAP_CHOWN])
    d.capAmbient = capFromList([CAP_CHOWN])
    d.securebits = SECBIT_KEEP_CAPS
    commitCreds(t, d)
    run(setresuid(t, 1000, 1000, 1000))
    expect(t.cred.capAmbient).toBe(0)
    expect(capToHex(t.cred.capPermitted)).toBe(FULL)
  })

  it('inside a user namespace, "root" is the namespace\'s uid 0', () => {
    const root = boot()
    const user = unprivileged(root, 1000)
    unshareUser(user)
    run(procUidMapWrite(user.cred.userNs, "0 1000 1\n1 100000 1000", root.cred))
    run(procGidMapWrite(user.cred.userNs, "0 1000 1\n1 100000 1000", root.cred))
    expect(getresuid(user.cred)).toEqual([0, 0, 0])
    run(setresuid(user, 5, 5, 5))
    expect(getresuid(user.cred)).toEqual([5, 5, 5])
    expect(user.cred.uid).toBe(100004)
    expect(user.cred.capPermitted).toBe(0)
  })

  it("setfsuid away from 0 drops the file-system capabilities from the effective set, and back raises them", () => {
    // Probe: root's setfsuid(1000) left CapEff with CAP_FS_SET removed.
    const t = fork(boot())
    expect(run(setfsuid(t, 1000))).toBe(0)
    expect(t.cred.fsuid).toBe(1000)
    expect(t.cred.capEffective).toBe(capDrop(CAP_FULL_SET, CAP_FS_SET))
    expect(capRaised(t.cred.capEffective, CAP_DAC_OVERRIDE)).toBe(false)
    expect(capRaised(t.cred.capEffective, CAP_SYS_ADMIN)).toBe(true)
    expect(run(setfsuid(t, 0))).toBe(1000)
    expect(capToHex(t.cred.capEffective)).toBe(FULL)
  })
})

describe("setfsuid(2) and setfsgid(2) never fail visibly", () => {
  it("return the old value whether or not they changed anything", () => {
    const t = mixed()
    expect(run(setfsuid(t, 4242))).toBe(1001)
    expect(t.cred.fsuid).toBe(1001)
    expect(run(setfsuid(t, 1002))).toBe(1001)
    expect(t.cred.fsuid).toBe(1002)
    expect(run(setfsuid(t, -1))).toBe(1002)
    expect(run(setfsgid(t, 4242))).toBe(0)
    expect(t.cred.fsgid).toBe(0)
  })

  it("a privileged task may set any mapped fsgid", () => {
    const t = fork(boot())
    expect(run(setfsgid(t, 50))).toBe(0)
    expect(t.cred.fsgid).toBe(50)
    expect(t.cred.egid).toBe(0)
  })
})

describe("gid changes (setgid(2), setregid(2), setresgid(2))", () => {
  it("root sets every gid; capabilities do not change", () => {
    const t = fork(boot())
    run(setgid(t, 100))
    expect(getresgid(t.cred)).toEqual([100, 100, 100])
    expect(t.cred.fsgid).toBe(100)
    expect(capToHex(t.cred.capEffective)).toBe(FULL)
  })

  it("unprivileged: setgid to the real or saved gid, setregid and setresgid among current gids", () => {
    const t = fork(boot())
    run(setresgid(t, 10, 20, 30))
    run(setresuid(t, 1000, 1000, 1000))
    expect(errnoOf(setgid(t, 20))).toBe("EPERM")
    expect(errnoOf(setgid(t, 30))).toBe("ok")
    expect(getresgid(t.cred)).toEqual([10, 30, 30])
    expect(errnoOf(setregid(t, 30, -1))).toBe("ok")
    expect(getresgid(t.cred)).toEqual([30, 30, 30])
    expect(errnoOf(setresgid(t, -1, 10, -1))).toBe("EPERM")
    expect(errnoOf(setregid(t, 10, -1))).toBe("EPERM")
  })

  it("setregid(-1, saved) moves the saved gid only when the new egid differs from the real gid", () => {
    const t = fork(boot())
    run(setresgid(t, 10, 20, 30))
    run(setregid(t, -1, 10))
    expect(getresgid(t.cred)).toEqual([10, 10, 30])
    run(setregid(t, -1, 20))
    expect(getresgid(t.cred)).toEqual([10, 20, 20])
  })

  it("the getters map through the caller's namespace", () => {
    const root = boot()
    const user = unprivileged(root, 1000, 1001)
    expect([getuid(user.cred), geteuid(user.cred), getgid(user.cred), getegid(user.cred)]).toEqual([
      1000, 1000, 1001, 1001
    ])
    unshareUser(user)
    expect([getuid(user.cred), getgid(user.cred)]).toEqual([65534, 65534])
  })
})

describe("setgroups(2) and getgroups(2)", () => {
  it("stores the groups sorted and reads them back", () => {
    const t = fork(boot())
    run(setgroups(t, 3, [30, 10, 20]))
    expect(t.cred.groups).toEqual([10, 20, 30])
    expect(run(getgroups(t.cred, 0))).toEqual([10, 20, 30])
    expect(run(getgroups(t.cred, 3))).toEqual([10, 20, 30])
    expect(inGroupP(t.cred, 20)).toBe(true)
    expect(inGroupP(t.cred, 0)).toBe(true)
    expect(inGroupP(t.cred, 21)).toBe(false)
    expect(inEgroupP(t.cred, 30)).toBe(true)
  })

  it.each([
    ["more than NGROUPS_MAX", NGROUPS_MAX + 1, "EINVAL"],
    ["a negative size (compared unsigned)", -1, "EINVAL"],
    ["exactly NGROUPS_MAX", NGROUPS_MAX, "ok"]
  ])("setgroups with %s", (_name, size, result) => {
    const t = fork(boot())
    const list = Array.from({ length: Math.max(0, size) }, (_, i) => i)
    expect(errnoOf(setgroups(t, size, list))).toBe(result)
  })

  it("a gid with no mapping is EINVAL; a short list is EFAULT", () => {
    const root = boot()
    const t = fork(root)
    unshareUser(t)
    run(procUidMapWrite(t.cred.userNs, "0 0 1000", root.cred))
    run(procGidMapWrite(t.cred.userNs, "0 0 1000", root.cred))
    expect(errnoOf(setgroups(t, 1, [5000]))).toBe("EINVAL")
    expect(errnoOf(setgroups(t, 2, [1]))).toBe("EFAULT")
    expect(errnoOf(setgroups(t, 2, [1, 2]))).toBe("ok")
  })

  it("without CAP_SETGID in its namespace a task gets EPERM (checked first)", () => {
    const root = boot()
    const user = unprivileged(root, 1000)
    expect(errnoOf(setgroups(user, NGROUPS_MAX + 1, []))).toBe("EPERM")
    const d = prepareCreds(root.cred)
    d.capEffective = capDrop(CAP_FULL_SET, capFromList([CAP_SETGID]))
    const noSetgid = fork(root)
    commitCreds(noSetgid, d)
    expect(errnoOf(setgroups(noSetgid, 0, []))).toBe("EPERM")
  })

  it('is EPERM in a namespace whose setgroups is "deny", or before its gid_map is written', () => {
    // user_namespaces(7): setgroups is disallowed until gid_map is set, and forever after "deny".
    const root = boot()
    const user = unprivileged(root, 1000)
    unshareUser(user)
    expect(maySetgroups(user.cred)).toBe(false)
    expect(errnoOf(setgroups(user, 0, []))).toBe("EPERM")
    mapRootToSelf(user, 1000, 1000)
    expect(errnoOf(setgroups(user, 0, []))).toBe("EPERM")
    const allowed = fork(root)
    unshareUser(allowed)
    run(procUidMapWrite(allowed.cred.userNs, "0 0 10", root.cred))
    run(procGidMapWrite(allowed.cred.userNs, "0 0 10", root.cred))
    expect(errnoOf(setgroups(allowed, 1, [3]))).toBe("ok")
    expect(errnoOf(procSetgroupsWrite(allowed.cred.userNs, "deny", root.cred))).toBe("EPERM")
  })

  it("getgroups: a size smaller than the group count or negative is EINVAL; unmapped groups read 65534", () => {
    const root = boot()
    const t = fork(root)
    run(setgroups(t, 2, [5, 7000]))
    expect(errnoOf(getgroups(t.cred, 1))).toBe("EINVAL")
    expect(errnoOf(getgroups(t.cred, -1))).toBe("EINVAL")
    unshareUser(t)
    expect(run(getgroups(t.cred, 0))).toEqual([65534, 65534])
  })
})
