import {
  _LINUX_CAPABILITY_VERSION_3,
  CAP_CHOWN,
  CAP_NET_RAW,
  CLONE_NEWUSER,
  CLONE_THREAD,
  PR_CAPBSET_DROP,
  PR_SET_KEEPCAPS,
  type SysError
} from "@simkernel/abi"
import { afterEach, describe, expect, it } from "@effect/vitest"
import { assertNoLeaks, LiveObjects, Refcounted, RefcountDefect } from "@simkernel/kref"
import {
  abortCreds,
  capFromList,
  capset,
  capTaskPrctl,
  commitCreds,
  copyCreds,
  createInitCred,
  createInitUserNs,
  Cred,
  credCapIsSubset,
  isDumpabilityChanged,
  NewCred,
  prepareCreds,
  prepareExecCreds,
  setfsuid,
  setgroups,
  setresgid,
  setresuid,
  setuid,
  unshareUserns
} from "@simkernel/cred"
import { Effect } from "effect"
import fc from "fast-check"
import { attempt, boot, fork, run, type Task, teardown, unprivileged, unshareUser } from "./helpers.js"

afterEach(() => {
  teardown()
  assertNoLeaks()
})

class Key extends Refcounted {
  readonly kind = "Key"
}

describe("prepare_creds / commit_creds / abort_creds", () => {
  it("a commit installs a new Cred and leaves the old one unchanged", () => {
    const root = boot()
    const task = fork(root)
    const old = task.cred
    const draft = prepareCreds(old)
    draft.euid = 1000
    draft.fsuid = 1000
    commitCreds(task, draft)
    expect(task.cred).not.toBe(old)
    expect(task.cred.euid).toBe(1000)
    expect(old.euid).toBe(0)
    expect(root.cred).toBe(old)
  })

  it("the holder's reference moves: the old Cred loses one reference, the new one has exactly one", () => {
    const root = boot()
    const task = fork(root)
    const old = task.cred
    expect(old.count()).toBe(2)
    commitCreds(task, prepareCreds(old))
    expect(old.count()).toBe(1)
    expect(task.cred.count()).toBe(1)
  })

  it("a draft holds its own references, so aborting it changes nothing for the task", () => {
    const root = boot()
    const ns = root.cred.userNs
    const before = ns.count()
    const draft = prepareCreds(root.cred)
    expect(ns.count()).toBe(before + 1)
    abortCreds(draft)
    expect(ns.count()).toBe(before)
    expect(draft.freed).toBe(true)
  })

  it("committing a draft twice is a refcount defect", () => {
    const root = boot()
    const task = fork(root)
    const draft = prepareCreds(task.cred)
    commitCreds(task, draft)
    expect(() => commitCreds(task, draft)).toThrow(RefcountDefect)
  })

  it("a forgotten draft shows up in the leak audit", () => {
    const registry = new LiveObjects()
    const init = createInitUserNs({ registry })
    const cred = createInitCred(init)
    init.put()
    const draft = prepareCreds(cred)
    cred.put()
    expect(registry.countsByKind()).toEqual([
      ["NewCred", 1],
      ["user", 1]
    ])
    abortCreds(draft)
    expect(registry.size()).toBe(0)
  })

  it("keyrings are held references: each Cred puts its own", () => {
    const root = boot()
    const task = fork(root)
    const session = new Key()
    const thread = new Key()
    const draft = prepareCreds(task.cred)
    draft.setSessionKeyring(session)
    draft.setThreadKeyring(thread)
    commitCreds(task, draft)
    expect(session.count()).toBe(1)
    const copy = prepareCreds(task.cred)
    expect(session.count()).toBe(2)
    copy.setSessionKeyring(undefined)
    expect(session.count()).toBe(1)
    abortCreds(copy)
    const exec = prepareExecCreds(task.cred)
    expect(exec.threadKeyring).toBeUndefined()
    expect(exec.sessionKeyring).toBe(session)
    abortCreds(exec)
    expect(thread.count()).toBe(1)
  })

  it("supplementary groups are kept sorted (groups_sort)", () => {
    const root = boot()
    const draft = prepareCreds(root.cred)
    draft.setGroups([30, 4, 1000, 4])
    expect(draft.groups).toEqual([4, 4, 30, 1000])
    abortCreds(draft)
  })
})

describe("a committed Cred never changes", () => {
  it("has no mutators: only the keepcaps getter and its destructor beyond Refcounted's get/put", () => {
    expect(Object.getOwnPropertyNames(Cred.prototype).sort()).toEqual(["constructor", "destroy", "keepcaps"])
    expect(Object.getOwnPropertyNames(NewCred.prototype).filter((n) => n.startsWith("set"))).toHaveLength(6)
    // Checked by the test typecheck: every field of a Cred is readonly.
    const writeAttempt = (c: Cred): void => {
      // @ts-expect-error Cred.euid is readonly
      c.euid = 0
      // @ts-expect-error Cred.capEffective is readonly
      c.capEffective = 0
      // @ts-expect-error Cred.groups is a readonly array
      c.groups.push(1)
    }
    void writeAttempt
  })

  it("keeps its values through any sequence of credential changes of its task", () => {
    type Op = (t: Task) => Effect.Effect<unknown, SysError>
    const id = fc.constantFrom(-1, 0, 1, 1000, 1001, 65534)
    const op: fc.Arbitrary<Op> = fc.oneof(
      id.map((u) => (t: Task) => setuid(t, u)),
      fc.tuple(id, id, id).map(
        ([r, e, s]) =>
          (t: Task) =>
            setresuid(t, r, e, s)
      ),
      fc.tuple(id, id, id).map(
        ([r, e, s]) =>
          (t: Task) =>
            setresgid(t, r, e, s)
      ),
      id.map((u) => (t: Task) => setfsuid(t, u)),
      fc.array(fc.integer({ min: 0, max: 100 }), { maxLength: 4 }).map((g) => (t: Task) => setgroups(t, g.length, g)),
      fc.integer({ min: 0, max: 40 }).map((c) => (t: Task) => capTaskPrctl(t, PR_CAPBSET_DROP, c)),
      fc.constantFrom(0, 1).map((k) => (t: Task) => capTaskPrctl(t, PR_SET_KEEPCAPS, k)),
      fc.nat().map(
        (bits) => (t: Task) =>
          capset(t, { version: _LINUX_CAPABILITY_VERSION_3, pid: 0 }, [
            { effective: bits, permitted: 0xffffffff, inheritable: bits },
            { effective: 0, permitted: 0x1ff, inheritable: 0 }
          ])
      ),
      fc.constant((t: Task) =>
        Effect.sync(() => {
          const r = attempt(unshareUserns(t.cred))
          if (r.ok) commitCreds(t, r.value)
        })
      )
    )
    const snapshot = (c: Cred) => ({
      ids: [c.uid, c.euid, c.suid, c.fsuid, c.gid, c.egid, c.sgid, c.fsgid],
      caps: [c.capEffective, c.capPermitted, c.capInheritable, c.capBset, c.capAmbient],
      securebits: c.securebits,
      groups: [...c.groups],
      userNs: c.userNs
    })
    fc.assert(
      fc.property(fc.array(op, { maxLength: 25 }), (ops) => {
        const task = fork(boot())
        const seen: Array<[Cred, ReturnType<typeof snapshot>]> = [[task.cred.get(), snapshot(task.cred)]]
        for (const o of ops) {
          attempt(o(task))
          const last = seen[seen.length - 1]![0]
          if (task.cred !== last) seen.push([task.cred.get(), snapshot(task.cred)])
        }
        for (const [cred, snap] of seen) expect(snapshot(cred)).toEqual(snap)
        for (const [cred] of seen) cred.put()
        teardown()
      })
    )
  })
})

describe("commit_creds reports dumpability changes (is_dumpability_changed)", () => {
  it("changing the euid or fsuid, or gaining capabilities, does; dropping capabilities does not", () => {
    const root = boot()
    const task = fork(root)
    const drop = prepareCreds(task.cred)
    drop.capPermitted = capFromList([CAP_CHOWN])
    drop.capEffective = 0
    expect(commitCreds(task, drop)).toBe(false)
    const gain = prepareCreds(task.cred)
    gain.capPermitted = capFromList([CAP_CHOWN, CAP_NET_RAW])
    expect(commitCreds(task, gain)).toBe(true)
    const fs = prepareCreds(task.cred)
    fs.fsuid = 5
    expect(commitCreds(task, fs)).toBe(true)
    expect(commitCreds(task, prepareCreds(task.cred))).toBe(false)
  })

  it("moving into a namespace the old cred owns is not a gain", () => {
    const root = boot()
    const user = unprivileged(root, 1000)
    const before = user.cred.get()
    unshareUser(user)
    expect(credCapIsSubset(before, user.cred)).toBe(true)
    expect(isDumpabilityChanged(before, user.cred)).toBe(false)
    expect(credCapIsSubset(user.cred, before)).toBe(false)
    before.put()
  })
})

describe("copy_creds (clone(2))", () => {
  it("a thread without a thread keyring shares its parent's Cred", () => {
    const root = boot()
    const cred = run(copyCreds(root.cred, CLONE_THREAD))
    expect(cred).toBe(root.cred)
    cred.put()
  })

  it("a new process gets its own copy without the thread and process keyrings", () => {
    const root = boot()
    const task = fork(root)
    const draft = prepareCreds(task.cred)
    const thread = new Key()
    const proc = new Key()
    const session = new Key()
    draft.setThreadKeyring(thread)
    draft.setProcessKeyring(proc)
    draft.setSessionKeyring(session)
    commitCreds(task, draft)
    const child = run(copyCreds(task.cred, 0))
    expect(child).not.toBe(task.cred)
    expect(child.threadKeyring).toBeUndefined()
    expect(child.processKeyring).toBeUndefined()
    expect(child.sessionKeyring).toBe(session)
    const sibling = run(copyCreds(task.cred, CLONE_THREAD))
    expect(sibling).not.toBe(task.cred)
    expect(sibling.threadKeyring).toBeUndefined()
    expect(sibling.processKeyring).toBe(proc)
    child.put()
    sibling.put()
  })

  it("CLONE_NEWUSER puts the child in a new user namespace; its errors leave nothing behind", () => {
    const root = boot()
    const child = run(copyCreds(root.cred, CLONE_NEWUSER))
    expect(child.userNs.parent).toBe(root.cred.userNs)
    expect(attempt(copyCreds(child, CLONE_NEWUSER))).toEqual({ ok: false, errno: "EPERM" })
    child.put()
  })

  it("the first credentials of a kernel hold its initial user namespace", () => {
    const init = createInitUserNs()
    const cred = createInitCred(init)
    expect(init.count()).toBe(2)
    init.put()
    expect(cred.userNs).toBe(init)
    cred.put()
    expect(init.freed).toBe(true)
  })

  it.effect("runs inside a fiber like any Effect", () =>
    Effect.gen(function* () {
      const root = boot()
      const child = yield* copyCreds(root.cred, 0)
      expect(child.euid).toBe(0)
      child.put()
    })
  )
})
