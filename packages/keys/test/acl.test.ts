import { describe, expect, it } from "@effect/vitest"
import {
  KEY_ACE_SUBJ_STANDARD,
  KEY_ACE_POSSESSOR,
  KEY_ACE_REVOKE,
  KEY_POS_ALL,
  KEY_POS_SEARCH,
  KEY_POS_SETATTR,
  KEY_POS_VIEW,
  KEY_POS_WRITE,
  KEY_SPEC_REQUESTOR_KEYRING,
  KEY_SPEC_SESSION_KEYRING,
  KEYCTL_ASSUME_AUTHORITY,
  KEYCTL_CLEAR,
  KEYCTL_CONTAINER_INTERCEPT,
  KEYCTL_DESCRIBE,
  KEYCTL_GET_KEYRING_ID,
  KEYCTL_GRANT_PERMISSION,
  KEYCTL_INSTANTIATE,
  KEYCTL_INVALIDATE,
  KEYCTL_JOIN_SESSION_KEYRING,
  KEYCTL_READ,
  KEYCTL_REJECT,
  KEYCTL_REVOKE,
  KEYCTL_SET_TIMEOUT,
  KEYCTL_SETPERM,
  sysError
} from "@simkernel/abi"
import { type KeyContainer, keyctl, KeyConstructionWait, procKeys } from "../src/index.js"
import { bytes, errno, type Task, text, world } from "./fixture.js"

describe("the mask as ACL bits", () => {
  it("REVOKE comes from WRITE or SETATTR, CLEAR from WRITE, INVALIDATE from SEARCH", () => {
    const w = world()
    const t = w.user()
    const mk = (d: string) => w.keys.addKey(t, "user", d, bytes("v"), 1, KEY_SPEC_SESSION_KEYRING) as number
    const a = mk("a")
    // possession itself needs SEARCH: without it the possessor bits do not apply
    expect(keyctl(w.keys, t, KEYCTL_SETPERM, [a, KEY_POS_VIEW | KEY_POS_SETATTR])).toBe(0)
    expect(errno(keyctl(w.keys, t, KEYCTL_REVOKE, [a]))).toBe("EACCES")
    const a2 = mk("a2")
    expect(keyctl(w.keys, t, KEYCTL_SETPERM, [a2, KEY_POS_VIEW | KEY_POS_SEARCH | KEY_POS_SETATTR])).toBe(0)
    expect(keyctl(w.keys, t, KEYCTL_REVOKE, [a2])).toBe(0)
    const b = mk("b")
    expect(keyctl(w.keys, t, KEYCTL_SETPERM, [b, KEY_POS_VIEW | KEY_POS_SEARCH])).toBe(0)
    expect(errno(keyctl(w.keys, t, KEYCTL_REVOKE, [b]))).toBe("EACCES")
    // a standard ACE for the possessor grants REVOKE alone, on top of the mask
    expect(errno(keyctl(w.keys, t, KEYCTL_GRANT_PERMISSION, [b, KEY_ACE_SUBJ_STANDARD, KEY_ACE_POSSESSOR, KEY_ACE_REVOKE]))).toBe("EACCES")
    expect(keyctl(w.keys, t, KEYCTL_INVALIDATE, [b])).toBe(0)
    const r = w.keys.addKey(t, "keyring", "r", null, 0, KEY_SPEC_SESSION_KEYRING) as number
    expect(keyctl(w.keys, t, KEYCTL_SETPERM, [r, KEY_POS_VIEW | KEY_POS_SEARCH | KEY_POS_SETATTR])).toBe(0)
    expect(errno(keyctl(w.keys, t, KEYCTL_CLEAR, [r]))).toBe("EACCES")
    expect(keyctl(w.keys, t, KEYCTL_SET_TIMEOUT, [r, 5])).toBe(0)
    expect(keyctl(w.keys, t, KEYCTL_GRANT_PERMISSION, [r, KEY_ACE_SUBJ_STANDARD, KEY_ACE_POSSESSOR, KEY_ACE_REVOKE])).toBe(0)
    expect(keyctl(w.keys, t, KEYCTL_SETPERM, [r, KEY_POS_VIEW | KEY_POS_SEARCH])).toBe(0)
    expect(keyctl(w.keys, t, KEYCTL_REVOKE, [r])).toBe(0)
    expect(keyctl(w.keys, t, KEYCTL_SETPERM, [mk("c"), KEY_POS_ALL & ~KEY_POS_WRITE])).toBe(0)
    w.teardown()
  })
})

describe("the supervisor's side of an intercepted request", () => {
  const setup = () => {
    const w = world()
    const c: KeyContainer = { name: "c" }
    const kc = (t: Task, cmd: number, ...a: Array<unknown>) => keyctl(w.keys, t, cmd, a, (fd) => (fd === 3 ? c : sysError("EBADF")))
    const sup = w.root
    kc(sup, KEYCTL_JOIN_SESSION_KEYRING, null)
    const upcall = w.keys.addKey(sup, "keyring", "upcall", null, 0, KEY_SPEC_SESSION_KEYRING) as number
    expect(kc(sup, KEYCTL_CONTAINER_INTERCEPT, 3, "*", 0, upcall)).toBe(0)
    const child = w.user()
    child.keyContainer = c
    const wait = w.keys.requestKey(child, "user", "want", "info", 0) as KeyConstructionWait
    expect(wait).toBeInstanceOf(KeyConstructionWait)
    return { w, kc, sup, child, wait, target: wait.key.id }
  }

  it("describes the target only with the authority, and /proc/keys shows the construction", () => {
    const { w, kc, sup, wait, target, child } = setup()
    const d = new Uint8Array(64)
    expect(errno(kc(sup, KEYCTL_DESCRIBE, target, d, 64))).toBe("EACCES")
    expect(errno(kc(sup, KEYCTL_INSTANTIATE, target, bytes("x"), 1, 0))).toBe("EPERM")
    const auth = kc(sup, KEYCTL_ASSUME_AUTHORITY, target) as number
    const n = kc(sup, KEYCTL_DESCRIBE, target, d, 64) as number
    expect(text(d, n - 1)).toBe("user;1000;1000;3f010000;want")
    expect(kc(sup, KEYCTL_SET_TIMEOUT, target, 30)).toBe(0)
    const proc = procKeys(w.keys, sup)
    expect(proc).toContain(` ---QU--     3  30s 3f010000  1000  1000 user      want\n`)
    expect(proc).toContain(`${auth.toString(16).padStart(8, "0")} I------     2 perm 0b010000  1000  1000 .request_ key:${target.toString(16)} pid:100 ci:4\n`)
    // the requestor's destination keyring is reachable with the authority
    const dest = kc(sup, KEYCTL_GET_KEYRING_ID, KEY_SPEC_REQUESTOR_KEYRING, 0) as number
    expect(dest).toBe(kc(child, KEYCTL_GET_KEYRING_ID, KEY_SPEC_SESSION_KEYRING, 0))
    expect(errno(kc(sup, KEYCTL_REJECT, target, 10, 9999, 0))).toBe("EINVAL")
    expect(errno(kc(sup, KEYCTL_INSTANTIATE, target, bytes("x"), 1, -7))).toBe("EINVAL")
    expect(kc(sup, KEYCTL_REJECT, target, 10, 129, KEY_SPEC_REQUESTOR_KEYRING)).toBe(0)
    expect(wait.ready()).toBe(true)
    expect(errno(w.keys.requestKeyFinish(wait))).toBe("EKEYREJECTED")
    expect(errno(kc(sup, KEYCTL_INSTANTIATE, target, bytes("x"), 1, 0))).toBe("EPERM")
    expect(errno(kc(sup, KEYCTL_ASSUME_AUTHORITY, target))).toBe("ENOKEY")
    expect(errno(w.keys.requestKey(child, "user", "want", "info", 0))).toBe("EKEYREJECTED")
    w.teardown()
  })

  it("an invalidated authorisation key cannot be assumed, and the sleeper is interrupted", () => {
    const { w, kc, sup, wait, target } = setup()
    const b = new Uint8Array(4)
    expect(kc(sup, KEYCTL_READ, kc(sup, KEYCTL_GET_KEYRING_ID, KEY_SPEC_SESSION_KEYRING, 0), b, 4)).toBe(4)
    const upcall = w.keys.keyById(kc(sup, KEYCTL_GET_KEYRING_ID, KEY_SPEC_SESSION_KEYRING, 0) as number)!
    const ring = [...upcall.links!.values()][0]!
    const auth = [...ring.links!.values()][0]!
    // it grants its possessor VIEW, READ and SEARCH: not enough to revoke, enough to invalidate
    expect(errno(kc(sup, KEYCTL_REVOKE, auth.id))).toBe("EACCES")
    expect(kc(sup, KEYCTL_INVALIDATE, auth.id)).toBe(0)
    expect(errno(kc(sup, KEYCTL_ASSUME_AUTHORITY, target))).toBe("ENOKEY")
    expect(errno(w.keys.requestKeyFinish(wait))).toBe("EINTR")
    w.teardown()
  })
})

describe("references", () => {
  it("a key held only by a credential slot goes when the credentials go", () => {
    const w = world()
    const t = w.user()
    const tid = keyctl(w.keys, t, KEYCTL_GET_KEYRING_ID, [-1, 1]) as number
    const k = w.keys.addKey(t, "user", "k", bytes("v"), 1, -1) as number
    expect(w.keys.keyById(k)?.count()).toBe(1)
    expect(w.keys.keyById(tid)?.count()).toBe(1)
    const before = w.registry.size("Key")
    t.cred.put()
    t.cred = w.root.cred.get()
    expect(w.keys.keyById(tid)).toBeUndefined()
    expect(w.keys.keyById(k)).toBeUndefined()
    expect(w.registry.size("Key")).toBe(before - 2)
    w.teardown()
  })
})
