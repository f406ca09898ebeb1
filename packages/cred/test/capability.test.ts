import {
  _LINUX_CAPABILITY_VERSION_1,
  _LINUX_CAPABILITY_VERSION_2,
  _LINUX_CAPABILITY_VERSION_3,
  CAP_CHOWN,
  CAP_DAC_OVERRIDE,
  CAP_NET_BIND_SERVICE,
  CAP_NET_RAW,
  CAP_SETPCAP,
  CAP_SYS_ADMIN,
  PR_CAP_AMBIENT,
  PR_CAP_AMBIENT_CLEAR_ALL,
  PR_CAP_AMBIENT_IS_SET,
  PR_CAP_AMBIENT_LOWER,
  PR_CAP_AMBIENT_RAISE,
  PR_CAPBSET_DROP,
  PR_CAPBSET_READ,
  PR_GET_KEEPCAPS,
  PR_GET_SECUREBITS,
  PR_SET_KEEPCAPS,
  PR_SET_NO_NEW_PRIVS,
  PR_SET_SECUREBITS,
  SECBIT_KEEP_CAPS,
  SECBIT_KEEP_CAPS_LOCKED,
  SECBIT_NO_CAP_AMBIENT_RAISE,
  SECBIT_NOROOT,
  SECBIT_NOROOT_LOCKED
} from "@simkernel/abi"
import { afterEach, describe, expect, it } from "@effect/vitest"
import { assertNoLeaks } from "@simkernel/kref"
import {
  capable,
  capableWrtInodeUidgid,
  capFromList,
  capget,
  capRaised,
  capset,
  capTaskPrctl,
  capToHex,
  type CapUserHeader,
  commitCreds,
  nsCapable,
  prepareCreds,
  privilegedWrtInodeUidgid,
  SECBIT_EXEC_RESTRICT_FILE,
  SECBIT_EXEC_RESTRICT_FILE_LOCKED
} from "@simkernel/cred"
import {
  attempt,
  boot,
  errnoOf,
  fork,
  mapRootToSelf,
  run,
  type Task,
  teardown,
  unprivileged,
  unshareUser
} from "./helpers.js"

afterEach(() => {
  teardown()
  assertNoLeaks()
})

/** A root task with exactly these effective/permitted/inheritable sets. */
const withCaps = (parent: Task, effective: number, permitted: number, inheritable = 0): Task => {
  const t = fork(parent)
  const d = prepareCreds(t.cred)
  d.capEffective = effective
  d.capPermitted = permitted
  d.capInheritable = inheritable
  commitCreds(t, d)
  return t
}

describe("ns_capable (cap_capable's three rules, user_namespaces(7))", () => {
  /** init ⊃ A (made by uid 1000) ⊃ B (made in A), and a sibling S (made by uid 1001). */
  const tree = () => {
    const root = boot()
    const a = unprivileged(root, 1000)
    unshareUser(a)
    mapRootToSelf(a, 1000, 1000)
    const b = fork(a)
    unshareUser(b)
    const s = unprivileged(root, 1001)
    unshareUser(s)
    return { root, a, b, s, init: root.cred.userNs, A: a.cred.userNs, B: b.cred.userNs, S: s.cred.userNs }
  }

  it("in its own namespace a cred has what its effective set says", () => {
    const { a, A } = tree()
    expect(nsCapable(a.cred, A, CAP_SYS_ADMIN)).toBe(true)
    const d = prepareCreds(a.cred)
    d.capEffective = capFromList([CAP_CHOWN])
    commitCreds(a, d)
    expect(nsCapable(a.cred, A, CAP_CHOWN)).toBe(true)
    expect(nsCapable(a.cred, A, CAP_SYS_ADMIN)).toBe(false)
  })

  it("a capability in an ancestor namespace holds in every namespace below it", () => {
    const { root, A, B, S } = tree()
    expect(nsCapable(root.cred, A, CAP_SYS_ADMIN)).toBe(true)
    expect(nsCapable(root.cred, B, CAP_SYS_ADMIN)).toBe(true)
    expect(nsCapable(root.cred, S, CAP_NET_RAW)).toBe(true)
  })

  it("the owner of a child namespace has every capability in it, even with an empty effective set", () => {
    const { root, A, B } = tree()
    const owner = unprivileged(root, 1000)
    expect(owner.cred.capEffective).toBe(0)
    expect(nsCapable(owner.cred, A, CAP_SYS_ADMIN)).toBe(true)
    // ... and in A's descendants, through A.
    expect(nsCapable(owner.cred, B, CAP_SYS_ADMIN)).toBe(true)
    expect(nsCapable(owner.cred, root.cred.userNs, CAP_CHOWN)).toBe(false)
  })

  it("a cred has nothing in its parent, its siblings, or namespaces owned by others", () => {
    const { a, b, root, init, A, S } = tree()
    expect(nsCapable(a.cred, init, CAP_CHOWN)).toBe(false)
    expect(nsCapable(a.cred, S, CAP_CHOWN)).toBe(false)
    expect(nsCapable(b.cred, A, CAP_CHOWN)).toBe(false)
    const stranger = unprivileged(root, 1002)
    expect(nsCapable(stranger.cred, A, CAP_CHOWN)).toBe(false)
  })

  it("ownership counts only from the parent namespace: the same kuid in a sibling has nothing", () => {
    const { root, A } = tree()
    const twin = unprivileged(root, 1000)
    unshareUser(twin)
    expect(twin.cred.euid).toBe(A.owner)
    expect(nsCapable(twin.cred, A, CAP_CHOWN)).toBe(false)
  })

  it("capable() asks the initial namespace; invalid capability numbers are never held", () => {
    const { root, a } = tree()
    expect(capable(root.cred, CAP_SYS_ADMIN)).toBe(true)
    expect(capable(a.cred, CAP_SYS_ADMIN)).toBe(false)
    expect(nsCapable(root.cred, root.cred.userNs, 41)).toBe(false)
    expect(nsCapable(root.cred, root.cred.userNs, -1)).toBe(false)
  })

  it("capabilities act on an inode only when its owner and group are mapped (capable_wrt_inode_uidgid)", () => {
    const { a, A } = tree()
    expect(privilegedWrtInodeUidgid(A, 1000, 1000)).toBe(true)
    expect(capableWrtInodeUidgid(a.cred, 1000, 1000, CAP_CHOWN)).toBe(true)
    expect(capableWrtInodeUidgid(a.cred, 0, 1000, CAP_CHOWN)).toBe(false)
    expect(capableWrtInodeUidgid(a.cred, 1000, 0, CAP_CHOWN)).toBe(false)
  })
})

const v3 = (pid = 0): CapUserHeader => ({ version: _LINUX_CAPABILITY_VERSION_3, pid })
const words = (e: number, p: number, i: number) => [
  { effective: e % 2 ** 32, permitted: p % 2 ** 32, inheritable: i % 2 ** 32 },
  { effective: Math.floor(e / 2 ** 32), permitted: Math.floor(p / 2 ** 32), inheritable: Math.floor(i / 2 ** 32) }
]

describe("capget(2)", () => {
  // Probe (Linux 6.18): capget with version 0x1234 and a NULL data pointer
  // returns 0 and writes 0x20080522 into the header; with data it is EINVAL
  // (the version is written back too); pid -1 is EINVAL, an unknown pid ESRCH.
  it("probes the version: with no data buffer an unknown version succeeds and reads back version 3", () => {
    const root = boot()
    const header = { version: 0x1234, pid: 0 }
    expect(attempt(capget(root, header, undefined, false))).toEqual({ ok: true, value: undefined })
    expect(header.version).toBe(_LINUX_CAPABILITY_VERSION_3)
  })

  it("an unknown version with a data buffer is EINVAL", () => {
    const root = boot()
    const header = { version: 0x1234, pid: 0 }
    expect(errnoOf(capget(root, header))).toBe("EINVAL")
    expect(header.version).toBe(_LINUX_CAPABILITY_VERSION_3)
  })

  it("a negative pid is EINVAL, an unknown one ESRCH, another task's sets come from its cred", () => {
    const root = boot()
    const other = unprivileged(root, 1000)
    expect(errnoOf(capget(root, v3(-1)))).toBe("EINVAL")
    expect(errnoOf(capget(root, v3(999999)))).toBe("ESRCH")
    const found = run(capget(root, v3(other.pid), (pid) => (pid === other.pid ? other.cred : undefined)))
    expect(found).toEqual([
      { effective: 0, permitted: 0, inheritable: 0 },
      { effective: 0, permitted: 0, inheritable: 0 }
    ])
  })

  it("returns two words for versions 2 and 3 and one for version 1", () => {
    const root = boot()
    expect(run(capget(root, v3()))).toEqual([
      { effective: 0xffffffff, permitted: 0xffffffff, inheritable: 0 },
      { effective: 0x1ff, permitted: 0x1ff, inheritable: 0 }
    ])
    expect(run(capget(root, { version: _LINUX_CAPABILITY_VERSION_2, pid: root.pid }))).toHaveLength(2)
    expect(run(capget(root, { version: _LINUX_CAPABILITY_VERSION_1, pid: 0 }))).toEqual([
      { effective: 0xffffffff, permitted: 0xffffffff, inheritable: 0 }
    ])
  })
})

describe("capset(2)", () => {
  // Probe (Linux 6.18), from a root process reduced to P={0,1} E={0} I={}:
  // raising P, E outside P and I outside P are EPERM; I inside P succeeds;
  // dropping P keeps I; capset on pid 1 is EPERM; a version 1 capset clears
  // capabilities 32..40.
  const start = () => withCaps(boot(), capFromList([0]), capFromList([0, 1]))

  it.each([
    ["reduce the sets", capFromList([0]), capFromList([0]), 0, "ok"],
    ["raise a permitted capability", capFromList([0]), capFromList([0, 1, 2]), 0, "EPERM"],
    ["an effective capability outside permitted", capFromList([2]), capFromList([0, 1]), 0, "EPERM"],
    ["an inheritable capability outside permitted", capFromList([0]), capFromList([0, 1]), capFromList([2]), "EPERM"],
    ["an inheritable capability inside permitted", capFromList([0]), capFromList([0, 1]), capFromList([1]), "ok"]
  ])("%s", (_name, e, p, i, result) => {
    const task = start()
    expect(errnoOf(capset(task, v3(), words(e, p, i)))).toBe(result)
  })

  it("keeps inheritable capabilities when permitted shrinks", () => {
    const task = start()
    run(capset(task, v3(), words(capFromList([0]), capFromList([0, 1]), capFromList([1]))))
    run(capset(task, v3(), words(capFromList([0]), capFromList([0]), capFromList([1]))))
    expect(run(capget(task, v3()))![0]).toEqual({ effective: 1, permitted: 1, inheritable: 2 })
  })

  it("with CAP_SETPCAP, inheritable may go beyond permitted but never beyond the bounding set", () => {
    const root = boot()
    const task = withCaps(root, capFromList([CAP_SETPCAP]), capFromList([CAP_SETPCAP]))
    expect(errnoOf(capset(task, v3(), words(0, capFromList([CAP_SETPCAP]), capFromList([CAP_NET_RAW]))))).toBe("ok")
    const bounded = withCaps(root, capFromList([CAP_SETPCAP]), capFromList([CAP_SETPCAP]))
    run(capTaskPrctl(bounded, PR_CAPBSET_DROP, CAP_NET_RAW))
    expect(errnoOf(capset(bounded, v3(), words(0, capFromList([CAP_SETPCAP]), capFromList([CAP_NET_RAW]))))).toBe(
      "EPERM"
    )
  })

  it("only the calling task: another pid is EPERM, its own pid works", () => {
    const root = boot()
    expect(errnoOf(capset(root, v3(1_000_000), words(0, 0, 0)))).toBe("EPERM")
    expect(errnoOf(capset(root, v3(root.pid), words(1, 1, 0)))).toBe("ok")
  })

  it("an unknown version is EINVAL and reads back version 3; too few words is EFAULT", () => {
    const root = boot()
    const header = { version: 1, pid: 0 }
    expect(errnoOf(capset(root, header, words(0, 0, 0)))).toBe("EINVAL")
    expect(header.version).toBe(_LINUX_CAPABILITY_VERSION_3)
    expect(errnoOf(capset(root, v3(), words(0, 0, 0).slice(0, 1)))).toBe("EFAULT")
  })

  it("version 1 sets only capabilities 0..31: the upper ones become empty", () => {
    const root = boot()
    const task = fork(root)
    run(
      capset(task, { version: _LINUX_CAPABILITY_VERSION_1, pid: 0 }, [
        { effective: 0xffffffff, permitted: 0xffffffff, inheritable: 0 }
      ])
    )
    expect(capToHex(task.cred.capPermitted)).toBe("00000000ffffffff")
  })

  it("trims the ambient set to what stays permitted and inheritable", () => {
    const root = boot()
    const task = withCaps(
      root,
      capFromList([CAP_NET_BIND_SERVICE]),
      capFromList([CAP_NET_BIND_SERVICE]),
      capFromList([CAP_NET_BIND_SERVICE])
    )
    run(capTaskPrctl(task, PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, CAP_NET_BIND_SERVICE))
    expect(capRaised(task.cred.capAmbient, CAP_NET_BIND_SERVICE)).toBe(true)
    run(capset(task, v3(), words(0, capFromList([CAP_NET_BIND_SERVICE]), 0)))
    expect(task.cred.capAmbient).toBe(0)
  })
})

describe("prctl(2) capability options", () => {
  it("PR_CAPBSET_READ reports the bounding set; invalid capabilities are EINVAL", () => {
    const root = boot()
    expect(run(capTaskPrctl(root, PR_CAPBSET_READ, 40))).toBe(1)
    expect(errnoOf(capTaskPrctl(root, PR_CAPBSET_READ, 41))).toBe("EINVAL")
    expect(errnoOf(capTaskPrctl(root, PR_CAPBSET_READ, -1))).toBe("EINVAL")
  })

  it("PR_CAPBSET_DROP needs CAP_SETPCAP (checked before the capability number)", () => {
    // Probe: as root, PR_CAPBSET_DROP 41 is EINVAL; as uid 1000 it is EPERM.
    const root = boot()
    const user = unprivileged(root, 1000)
    expect(errnoOf(capTaskPrctl(root, PR_CAPBSET_DROP, 41))).toBe("EINVAL")
    expect(errnoOf(capTaskPrctl(user, PR_CAPBSET_DROP, 41))).toBe("EPERM")
    expect(errnoOf(capTaskPrctl(user, PR_CAPBSET_DROP, CAP_CHOWN))).toBe("EPERM")
    const task = fork(root)
    run(capTaskPrctl(task, PR_CAPBSET_DROP, CAP_SYS_ADMIN))
    expect(run(capTaskPrctl(task, PR_CAPBSET_READ, CAP_SYS_ADMIN))).toBe(0)
    expect(run(capTaskPrctl(root, PR_CAPBSET_READ, CAP_SYS_ADMIN))).toBe(1)
  })

  it("PR_SET_KEEPCAPS takes 0 or 1 (EINVAL otherwise) and fails with EPERM once locked", () => {
    // Probe: PR_SET_KEEPCAPS 2 and (unsigned long)-1 are EINVAL; after
    // PR_SET_SECUREBITS SECBIT_KEEP_CAPS_LOCKED it is EPERM.
    const root = boot()
    const task = fork(root)
    expect(errnoOf(capTaskPrctl(task, PR_SET_KEEPCAPS, 2))).toBe("EINVAL")
    expect(errnoOf(capTaskPrctl(task, PR_SET_KEEPCAPS, -1))).toBe("EINVAL")
    run(capTaskPrctl(task, PR_SET_KEEPCAPS, 1))
    expect(run(capTaskPrctl(task, PR_GET_KEEPCAPS))).toBe(1)
    expect(task.cred.securebits).toBe(SECBIT_KEEP_CAPS)
    run(capTaskPrctl(task, PR_SET_KEEPCAPS, 0))
    run(capTaskPrctl(task, PR_SET_SECUREBITS, SECBIT_KEEP_CAPS_LOCKED))
    expect(errnoOf(capTaskPrctl(task, PR_SET_KEEPCAPS, 1))).toBe("EPERM")
    expect(run(capTaskPrctl(task, PR_GET_KEEPCAPS))).toBe(0)
  })

  it.each([
    // Probe (Linux 6.18) rows: [name, starting bits, new bits, root result, uid 1000 result]
    ["set SECBIT_NOROOT", 0, SECBIT_NOROOT, "ok", "EPERM"],
    ["set an exec bit (unprivileged since 6.14)", 0, SECBIT_EXEC_RESTRICT_FILE, "ok", "ok"],
    ["lock an exec bit", 0, SECBIT_EXEC_RESTRICT_FILE_LOCKED, "ok", "ok"],
    ["set an unknown bit (12)", 0, 1 << 12, "EPERM", "EPERM"],
    ["change nothing", 0, 0, "ok", "EPERM"],
    ["clear an exec bit", SECBIT_EXEC_RESTRICT_FILE, 0, "ok", "ok"],
    ["clear a locked bit", SECBIT_NOROOT | SECBIT_NOROOT_LOCKED, SECBIT_NOROOT_LOCKED, "EPERM", "EPERM"],
    ["release a lock", SECBIT_NOROOT | SECBIT_NOROOT_LOCKED, SECBIT_NOROOT, "EPERM", "EPERM"],
    [
      "keep locked bits, add another",
      SECBIT_NOROOT | SECBIT_NOROOT_LOCKED,
      SECBIT_NOROOT | SECBIT_NOROOT_LOCKED | SECBIT_KEEP_CAPS,
      "ok",
      "EPERM"
    ]
  ])("PR_SET_SECUREBITS: %s", (_name, from, to, asRoot, asUser) => {
    const root = boot()
    const start = (uid: number | undefined): Task => {
      const t = uid === undefined ? fork(root) : unprivileged(root, uid)
      const d = prepareCreds(t.cred)
      d.securebits = from
      commitCreds(t, d)
      return t
    }
    const r = start(undefined)
    expect(errnoOf(capTaskPrctl(r, PR_SET_SECUREBITS, to))).toBe(asRoot)
    if (asRoot === "ok") expect(run(capTaskPrctl(r, PR_GET_SECUREBITS))).toBe(to)
    expect(errnoOf(capTaskPrctl(start(1000), PR_SET_SECUREBITS, to))).toBe(asUser)
  })

  it("PR_CAP_AMBIENT RAISE needs the capability permitted and inheritable and no SECBIT_NO_CAP_AMBIENT_RAISE", () => {
    // Probe: raising CAP_NET_BIND_SERVICE was EPERM until capset added it to
    // the inheritable set; then IS_SET read 1.
    const root = boot()
    const nbs = capFromList([CAP_NET_BIND_SERVICE])
    const notInheritable = withCaps(root, nbs, nbs)
    expect(errnoOf(capTaskPrctl(notInheritable, PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, CAP_NET_BIND_SERVICE))).toBe(
      "EPERM"
    )
    const notPermitted = withCaps(root, 0, 0, nbs)
    expect(errnoOf(capTaskPrctl(notPermitted, PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, CAP_NET_BIND_SERVICE))).toBe(
      "EPERM"
    )
    const ok = withCaps(root, nbs, nbs, nbs)
    run(capTaskPrctl(ok, PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, CAP_NET_BIND_SERVICE))
    expect(run(capTaskPrctl(ok, PR_CAP_AMBIENT, PR_CAP_AMBIENT_IS_SET, CAP_NET_BIND_SERVICE))).toBe(1)
    run(capTaskPrctl(ok, PR_CAP_AMBIENT, PR_CAP_AMBIENT_LOWER, CAP_NET_BIND_SERVICE))
    expect(run(capTaskPrctl(ok, PR_CAP_AMBIENT, PR_CAP_AMBIENT_IS_SET, CAP_NET_BIND_SERVICE))).toBe(0)
    const locked = withCaps(root, nbs, nbs, nbs)
    const d = prepareCreds(locked.cred)
    d.securebits = SECBIT_NO_CAP_AMBIENT_RAISE
    commitCreds(locked, d)
    expect(errnoOf(capTaskPrctl(locked, PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, CAP_NET_BIND_SERVICE))).toBe("EPERM")
  })

  it("PR_CAP_AMBIENT CLEAR_ALL empties the set; bad operations and arguments are EINVAL", () => {
    // Probe: op 5, IS_SET of 41, CLEAR_ALL with arg3 1 and RAISE with arg4 1 are all EINVAL.
    const root = boot()
    const both = capFromList([CAP_NET_BIND_SERVICE, CAP_NET_RAW])
    const task = withCaps(root, both, both, both)
    run(capTaskPrctl(task, PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, CAP_NET_BIND_SERVICE))
    run(capTaskPrctl(task, PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, CAP_NET_RAW))
    expect(errnoOf(capTaskPrctl(task, PR_CAP_AMBIENT, 5, 0))).toBe("EINVAL")
    expect(errnoOf(capTaskPrctl(task, PR_CAP_AMBIENT, PR_CAP_AMBIENT_IS_SET, 41))).toBe("EINVAL")
    expect(errnoOf(capTaskPrctl(task, PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 1))).toBe("EINVAL")
    expect(errnoOf(capTaskPrctl(task, PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, CAP_NET_RAW, 1))).toBe("EINVAL")
    expect(task.cred.capAmbient).toBe(both)
    run(capTaskPrctl(task, PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL))
    expect(task.cred.capAmbient).toBe(0)
  })

  it("other options are not capability options (ENOSYS)", () => {
    const root = boot()
    expect(errnoOf(capTaskPrctl(root, PR_SET_NO_NEW_PRIVS, 1))).toBe("ENOSYS")
  })

  it("CAP_SETPCAP in the task's own user namespace is enough to drop from its bounding set", () => {
    const root = boot()
    const user = unprivileged(root, 1000)
    expect(errnoOf(capTaskPrctl(user, PR_CAPBSET_DROP, CAP_DAC_OVERRIDE))).toBe("EPERM")
    unshareUser(user)
    mapRootToSelf(user, 1000, 1000)
    expect(run(capTaskPrctl(user, PR_CAPBSET_DROP, CAP_DAC_OVERRIDE))).toBe(0)
    expect(capRaised(user.cred.capBset, CAP_DAC_OVERRIDE)).toBe(false)
  })
})
