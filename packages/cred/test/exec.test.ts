import {
  CAP_NET_BIND_SERVICE,
  CAP_SYS_ADMIN,
  PR_CAP_AMBIENT,
  PR_CAP_AMBIENT_RAISE,
  PR_CAPBSET_DROP,
  PR_SET_KEEPCAPS,
  PR_SET_SECUREBITS,
  SECBIT_NOROOT
} from "@simkernel/abi"
import { afterEach, describe, expect, it } from "@effect/vitest"
import { assertNoLeaks } from "@simkernel/kref"
import {
  abortCreds,
  bprmCredsFromFile,
  CAP_FULL_SET,
  capDrop,
  capFromList,
  capTaskPrctl,
  capToHex,
  commitCreds,
  type ExecFile,
  type ExecOptions,
  getresgid,
  getresuid,
  prepareCreds,
  setgroups,
  setresgid,
  setresuid
} from "@simkernel/cred"
import { boot, fork, run, type Task, teardown } from "./helpers.js"

afterEach(() => {
  teardown()
  assertNoLeaks()
})

const plain: ExecFile = { mode: 0o100755, uid: 0, gid: 0 }
const suidRoot: ExecFile = { mode: 0o104755, uid: 0, gid: 0 }
const sgid50: ExecFile = { mode: 0o102755, uid: 0, gid: 50 }
const sgid50NoGroupExec: ExecFile = { mode: 0o102745, uid: 0, gid: 50 }

const FULL = capToHex(CAP_FULL_SET)
const NONE = capToHex(0)
const NBS = capToHex(capFromList([CAP_NET_BIND_SERVICE]))

/** execve(2) of `file`: the credentials the new program starts with. */
const exec = (task: Task, file: ExecFile, options?: ExecOptions) => {
  const { cred, secureexec } = run(bprmCredsFromFile(task.cred, file, options))
  commitCreds(task, cred)
  const c = task.cred
  return {
    uid: getresuid(c),
    gid: getresgid(c),
    permitted: capToHex(c.capPermitted),
    effective: capToHex(c.capEffective),
    ambient: capToHex(c.capAmbient),
    secure: secureexec
  }
}

const user1000 = (root: Task, gid = 0): Task => {
  const t = fork(root)
  run(setresgid(t, gid, gid, gid))
  run(setresuid(t, 1000, 1000, 1000))
  return t
}

/** uid 1000 with CAP_NET_BIND_SERVICE ambient (inheritable + keepcaps, setresuid, raise). */
const ambientUser = (root: Task): Task => {
  const t = fork(root)
  const d = prepareCreds(t.cred)
  d.capInheritable = capFromList([CAP_NET_BIND_SERVICE])
  commitCreds(t, d)
  run(capTaskPrctl(t, PR_SET_KEEPCAPS, 1))
  run(setresuid(t, 1000, 1000, 1000))
  run(capTaskPrctl(t, PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, CAP_NET_BIND_SERVICE))
  return t
}

describe("execve(2) capability transformation without file capabilities", () => {
  // Every row was run on Linux 6.18 with a small program printing its ids,
  // AT_SECURE and /proc/self/status Cap* lines (that machine lacks
  // CAP_SYS_RESOURCE in its bounding set, so its "full" reads 1fffeffffff).
  it("root gets permitted = bounding | inheritable, all effective", () => {
    expect(exec(fork(boot()), plain)).toEqual({
      uid: [0, 0, 0],
      gid: [0, 0, 0],
      permitted: FULL,
      effective: FULL,
      ambient: NONE,
      secure: false
    })
  })

  it("root's bounding set limits what it gets", () => {
    const t = fork(boot())
    run(capTaskPrctl(t, PR_CAPBSET_DROP, CAP_SYS_ADMIN))
    const bset = capToHex(capDrop(CAP_FULL_SET, capFromList([CAP_SYS_ADMIN])))
    expect(exec(t, plain)).toMatchObject({ permitted: bset, effective: bset })
  })

  it("SECBIT_KEEP_CAPS is cleared by exec", () => {
    const t = fork(boot())
    run(capTaskPrctl(t, PR_SET_KEEPCAPS, 1))
    exec(t, plain)
    expect(t.cred.keepcaps).toBe(false)
  })

  it("with SECBIT_NOROOT root gets nothing", () => {
    const t = fork(boot())
    run(capTaskPrctl(t, PR_SET_SECUREBITS, SECBIT_NOROOT))
    expect(exec(t, plain)).toMatchObject({ permitted: NONE, effective: NONE, secure: false })
    expect(t.cred.securebits).toBe(SECBIT_NOROOT)
  })

  it("an ordinary user gets nothing", () => {
    expect(exec(user1000(boot()), plain)).toMatchObject({
      uid: [1000, 1000, 1000],
      permitted: NONE,
      effective: NONE,
      secure: false
    })
  })

  it("ambient capabilities become permitted and effective for a non-root program", () => {
    expect(exec(ambientUser(boot()), plain)).toEqual({
      uid: [1000, 1000, 1000],
      gid: [0, 0, 0],
      permitted: NBS,
      effective: NBS,
      ambient: NBS,
      secure: false
    })
  })

  it("a set-user-ID-root program gets everything and clears the ambient set", () => {
    expect(exec(ambientUser(boot()), suidRoot)).toEqual({
      uid: [1000, 0, 0],
      gid: [0, 0, 0],
      permitted: FULL,
      effective: FULL,
      ambient: NONE,
      secure: true
    })
    expect(exec(user1000(boot()), suidRoot)).toMatchObject({
      uid: [1000, 0, 0],
      permitted: FULL,
      effective: FULL,
      secure: true
    })
  })

  it("real uid 0 alone gives a permitted set but an empty effective set", () => {
    const t = fork(boot())
    run(setresuid(t, 0, 1000, 1000))
    expect(exec(t, plain)).toMatchObject({ uid: [0, 1000, 1000], permitted: FULL, effective: NONE, secure: true })
  })

  it("effective uid 0 with another real uid gets everything, as a secure exec", () => {
    const t = fork(boot())
    run(setresuid(t, 1000, 0, 0))
    expect(exec(t, plain)).toMatchObject({ uid: [1000, 0, 0], permitted: FULL, effective: FULL, secure: true })
  })

  it("no_new_privs ignores the set-user-ID bit", () => {
    expect(exec(user1000(boot()), suidRoot, { noNewPrivs: true })).toMatchObject({
      uid: [1000, 1000, 1000],
      permitted: NONE,
      secure: false
    })
  })

  it("a nosuid mount ignores the set-user-ID bit", () => {
    expect(exec(user1000(boot()), { ...suidRoot, nosuid: true })).toMatchObject({
      uid: [1000, 1000, 1000],
      permitted: NONE,
      secure: false
    })
  })

  it("a set-group-ID program sets the effective and saved gid, only when group-executable", () => {
    const t = user1000(boot(), 1000)
    expect(exec(t, sgid50)).toMatchObject({ uid: [1000, 1000, 1000], gid: [1000, 50, 50], secure: true })
    const u = user1000(boot(), 1000)
    expect(exec(u, sgid50NoGroupExec)).toMatchObject({ gid: [1000, 1000, 1000], secure: false })
  })

  it("a set-group-ID program of a group the caller is in is still a secure exec but keeps ambient capabilities", () => {
    // Linux 6.16+ id_changed: the egid is in the caller's groups, so ambient survives; egid != gid keeps AT_SECURE.
    const root = boot()
    const t = fork(root)
    run(setgroups(t, 1, [50]))
    const d = prepareCreds(t.cred)
    d.capInheritable = capFromList([CAP_NET_BIND_SERVICE])
    commitCreds(t, d)
    run(capTaskPrctl(t, PR_SET_KEEPCAPS, 1))
    run(setresgid(t, 1000, 1000, 1000))
    run(setresuid(t, 1000, 1000, 1000))
    run(capTaskPrctl(t, PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, CAP_NET_BIND_SERVICE))
    expect(exec(t, sgid50)).toMatchObject({ gid: [1000, 50, 50], ambient: NBS, permitted: NBS, secure: true })
  })

  it("a set-id program whose owner has no mapping in the caller's namespace runs without it", () => {
    const root = boot()
    const t = user1000(root)
    expect(exec(t, { mode: 0o104755, uid: 4294967295, gid: 0 })).toMatchObject({ uid: [1000, 1000, 1000] })
  })

  it("under a tracer without CAP_SYS_PTRACE over the task, a set-user-ID program keeps the caller's ids", () => {
    const root = boot()
    const tracer = user1000(root)
    expect(exec(user1000(root), suidRoot, { tracer: tracer.cred })).toMatchObject({
      uid: [1000, 1000, 1000],
      permitted: NONE,
      effective: NONE
    })
    expect(exec(user1000(root), suidRoot, { tracer: root.cred })).toMatchObject({ uid: [1000, 0, 0], permitted: FULL })
  })

  it("with a shared fs_struct the exec may change ids only with CAP_SETUID, and gains no capabilities", () => {
    const root = boot()
    expect(exec(user1000(root), suidRoot, { sharedFs: true })).toMatchObject({
      uid: [1000, 1000, 1000],
      permitted: NONE
    })
    const t = fork(root)
    run(setresuid(t, 0, 0, 0))
    expect(exec(t, { ...suidRoot, uid: 5 }, { sharedFs: true })).toMatchObject({
      uid: [0, 5, 5],
      permitted: FULL,
      effective: NONE
    })
  })

  it("the draft can be abandoned when exec fails later", () => {
    const root = boot()
    const { cred } = run(bprmCredsFromFile(root.cred, suidRoot))
    abortCreds(cred)
    expect(root.cred.euid).toBe(0)
  })
})
