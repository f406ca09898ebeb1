import { describe, expect, it } from "@effect/vitest"
import {
  KEY_POS_ALL,
  KEY_POS_SETATTR,
  KEY_POS_VIEW,
  KEY_SPEC_PROCESS_KEYRING,
  KEY_SPEC_REQKEY_AUTH_KEY,
  KEY_SPEC_SESSION_KEYRING,
  KEY_SPEC_THREAD_KEYRING,
  KEY_SPEC_USER_KEYRING,
  KEY_SPEC_USER_SESSION_KEYRING,
  KEY_USR_ALL,
  KEY_USR_VIEW,
  KEYCTL_CHOWN,
  KEYCTL_CLEAR,
  KEYCTL_DESCRIBE,
  KEYCTL_GET_KEYRING_ID,
  KEYCTL_GET_SECURITY,
  KEYCTL_INVALIDATE,
  KEYCTL_JOIN_SESSION_KEYRING,
  KEYCTL_LINK,
  KEYCTL_MOVE,
  KEYCTL_MOVE_EXCL,
  KEYCTL_READ,
  KEYCTL_REVOKE,
  KEYCTL_SEARCH,
  KEYCTL_SET_TIMEOUT,
  KEYCTL_SETPERM,
  KEYCTL_UNLINK,
  KEYCTL_UPDATE,
  KEYCTL_WATCH_KEY,
  KEYCTL_CAPABILITIES,
  KEY_GRP_VIEW,
  KEY_GRP_READ,
  KEY_OTH_VIEW
} from "@simkernel/abi"
import { keyctl, procKeys, procKeyUsers } from "../src/index.js"
import { bytes, errno, text, world } from "./fixture.js"

describe("add_key", () => {
  it("makes a user key in the session keyring, readable and described as Linux does", () => {
    const w = world()
    const t = w.user()
    const id = w.keys.addKey(t, "user", "foo", bytes("bar"), 3, KEY_SPEC_SESSION_KEYRING) as number
    expect(id).toBeGreaterThan(2)
    const buf = new Uint8Array(16)
    expect(keyctl(w.keys, t, KEYCTL_READ, [id, buf, 16])).toBe(3)
    expect(text(buf, 3)).toBe("bar")
    const d = new Uint8Array(64)
    const n = keyctl(w.keys, t, KEYCTL_DESCRIBE, [id, d, 64]) as number
    expect(text(d, n - 1)).toBe("user;1000;1000;3f010000;foo")
    // the same type and description updates in place
    expect(w.keys.addKey(t, "user", "foo", bytes("bazz"), 4, KEY_SPEC_SESSION_KEYRING)).toBe(id)
    expect(keyctl(w.keys, t, KEYCTL_READ, [id, buf, 2])).toBe(4)
    expect(text(buf, 2)).toBe("ba")
    w.teardown()
  })

  it("checks its arguments in Linux's order", () => {
    const w = world()
    const t = w.user()
    const S = KEY_SPEC_SESSION_KEYRING
    expect(errno(w.keys.addKey(t, "user", "d", bytes("x"), 1024 * 1024, S))).toBe("EINVAL")
    expect(errno(w.keys.addKey(t, null, "d", bytes("x"), 1, S))).toBe("EFAULT")
    expect(errno(w.keys.addKey(t, "", "d", bytes("x"), 1, S))).toBe("EINVAL")
    expect(errno(w.keys.addKey(t, "x".repeat(32), "d", bytes("x"), 1, S))).toBe("EINVAL")
    expect(errno(w.keys.addKey(t, ".request_key_auth", "d", bytes("x"), 1, S))).toBe("EPERM")
    expect(errno(w.keys.addKey(t, "user", "d".repeat(4096), bytes("x"), 1, S))).toBe("EINVAL")
    expect(errno(w.keys.addKey(t, "user", "d", null, 1, S))).toBe("EFAULT")
    expect(errno(w.keys.addKey(t, "user", "d", bytes("x"), 1, 0))).toBe("EINVAL")
    expect(errno(w.keys.addKey(t, "user", "d", bytes("x"), 1, 12345))).toBe("ENOKEY")
    expect(errno(w.keys.addKey(t, "big_key", "d", bytes("x"), 1, S))).toBe("ENODEV")
    const k = w.keys.addKey(t, "user", "k", bytes("x"), 1, S) as number
    expect(errno(w.keys.addKey(t, "user", "d", bytes("x"), 1, k))).toBe("ENOTDIR")
    expect(errno(w.keys.addKey(t, "user", "d", null, 0, S))).toBe("EINVAL")
    expect(errno(w.keys.addKey(t, "user", null, bytes("x"), 1, S))).toBe("EINVAL")
    expect(errno(w.keys.addKey(t, "keyring", "r", bytes("x"), 1, S))).toBe("EINVAL")
    expect(errno(w.keys.addKey(t, "logon", "nocolon", bytes("x"), 1, S))).toBe("EINVAL")
    w.teardown()
  })

  it("refuses a keyring that would contain itself (EDEADLK)", () => {
    const w = world()
    const t = w.user()
    const a = w.keys.addKey(t, "keyring", "a", null, 0, KEY_SPEC_SESSION_KEYRING) as number
    const b = w.keys.addKey(t, "keyring", "b", null, 0, a) as number
    expect(errno(keyctl(w.keys, t, KEYCTL_LINK, [a, b]))).toBe("EDEADLK")
    expect(errno(keyctl(w.keys, t, KEYCTL_LINK, [a, a]))).toBe("EDEADLK")
    w.teardown()
  })

  it("logon keys are not readable (EOPNOTSUPP) and have no possessor READ", () => {
    const w = world()
    const t = w.user()
    const id = w.keys.addKey(t, "logon", "svc:name", bytes("secret"), 6, KEY_SPEC_SESSION_KEYRING) as number
    expect(errno(keyctl(w.keys, t, KEYCTL_READ, [id, new Uint8Array(8), 8]))).toBe("EOPNOTSUPP")
    const d = new Uint8Array(64)
    const n = keyctl(w.keys, t, KEYCTL_DESCRIBE, [id, d, 64]) as number
    expect(text(d, n - 1)).toBe("logon;1000;1000;3d010000;svc:name")
    w.teardown()
  })
})

describe("special keyrings", () => {
  it("makes thread, process and session keyrings on demand and puts them in the credentials", () => {
    const w = world()
    const t = w.user()
    expect(errno(keyctl(w.keys, t, KEYCTL_GET_KEYRING_ID, [KEY_SPEC_THREAD_KEYRING, 0]))).toBe("ENOKEY")
    const tid = keyctl(w.keys, t, KEYCTL_GET_KEYRING_ID, [KEY_SPEC_THREAD_KEYRING, 1]) as number
    expect(t.cred.threadKeyring).toBe(w.keys.keyById(tid))
    const pid = keyctl(w.keys, t, KEYCTL_GET_KEYRING_ID, [KEY_SPEC_PROCESS_KEYRING, 1]) as number
    expect(t.cred.processKeyring).toBe(w.keys.keyById(pid))
    // no session keyring: the user-session keyring is installed without create, a new one with it
    const uses = keyctl(w.keys, t, KEYCTL_GET_KEYRING_ID, [KEY_SPEC_USER_SESSION_KEYRING, 0]) as number
    expect(keyctl(w.keys, t, KEYCTL_GET_KEYRING_ID, [KEY_SPEC_SESSION_KEYRING, 0])).toBe(uses)
    const ses = keyctl(w.keys, t, KEYCTL_GET_KEYRING_ID, [KEY_SPEC_SESSION_KEYRING, 1]) as number
    expect(ses).not.toBe(uses)
    expect(w.keys.keyById(ses)!.description).toBe("_ses")
    expect(errno(keyctl(w.keys, t, KEYCTL_GET_KEYRING_ID, [-6, 0]))).toBe("EINVAL")
    expect(errno(keyctl(w.keys, t, KEYCTL_GET_KEYRING_ID, [-9, 0]))).toBe("EINVAL")
    expect(errno(keyctl(w.keys, t, KEYCTL_GET_KEYRING_ID, [KEY_SPEC_REQKEY_AUTH_KEY, 0]))).toBe("ENOKEY")
    const user = w.keys.keyById(keyctl(w.keys, t, KEYCTL_GET_KEYRING_ID, [KEY_SPEC_USER_KEYRING, 0]) as number)!
    expect(user.description).toBe("_uid.1000")
    // as Linux 6.18 shows them: every user bit, every possessor bit but SETATTR, no group
    expect(user.perm).toBe(0x1f3f0000)
    expect(user.perm).toBe((KEY_POS_ALL & ~KEY_POS_SETATTR) | KEY_USR_ALL)
    expect(procKeys(w.keys, t)).toContain(` I--Q---     2 perm 1f3f0000  1000 65534 keyring   _uid.1000: empty\n`)
    w.teardown()
  })

  it("joins named session keyrings, refusing '.' names", () => {
    const w = world()
    const a = w.user()
    const b = w.user()
    const id = keyctl(w.keys, a, KEYCTL_JOIN_SESSION_KEYRING, ["shared"]) as number
    // a named session keyring grants its user VIEW, READ and LINK but not SEARCH: nobody else joins it
    expect(keyctl(w.keys, b, KEYCTL_JOIN_SESSION_KEYRING, ["shared"])).not.toBe(id)
    expect(keyctl(w.keys, a, KEYCTL_SETPERM, [id, KEY_POS_ALL | KEY_USR_ALL])).toBe(0)
    expect(keyctl(w.keys, b, KEYCTL_JOIN_SESSION_KEYRING, ["shared"])).toBe(id)
    expect(b.cred.sessionKeyring).toBe(w.keys.keyById(id))
    expect(errno(keyctl(w.keys, a, KEYCTL_JOIN_SESSION_KEYRING, [".x"]))).toBe("EPERM")
    // another uid may not join (no SEARCH for other): it gets a new keyring of that name
    const c = w.user(2000, 2000)
    expect(keyctl(w.keys, c, KEYCTL_JOIN_SESSION_KEYRING, ["shared"])).not.toBe(id)
    w.teardown()
  })
})

describe("permissions and possession", () => {
  it("applies user, group and other classes, with possessor bits only for possessed keys", () => {
    const w = world()
    const owner = w.user(1000, 1000)
    const id = w.keys.addKey(owner, "user", "k", bytes("v"), 1, KEY_SPEC_SESSION_KEYRING) as number
    const buf = new Uint8Array(4)
    // the owner neither possesses it after unlinking nor has user READ
    expect(keyctl(w.keys, owner, KEYCTL_SETPERM, [id, KEY_POS_ALL | KEY_USR_VIEW | KEY_GRP_VIEW | KEY_GRP_READ])).toBe(0)
    const member = w.user(2000, 2000, [1000])
    const other = w.user(3000, 3000)
    expect(keyctl(w.keys, member, KEYCTL_READ, [id, buf, 4])).toBe(1)
    expect(errno(keyctl(w.keys, other, KEYCTL_READ, [id, buf, 4]))).toBe("EACCES")
    expect(errno(keyctl(w.keys, other, KEYCTL_DESCRIBE, [id, buf, 4]))).toBe("EACCES")
    // the owner reads through possession, not through its class
    expect(keyctl(w.keys, owner, KEYCTL_READ, [id, buf, 4])).toBe(1)
    expect(keyctl(w.keys, owner, KEYCTL_UNLINK, [id, KEY_SPEC_SESSION_KEYRING])).toBe(1 - 1)
    expect(errno(keyctl(w.keys, owner, KEYCTL_READ, [id, buf, 4]))).toBe("ENOKEY")
    w.teardown()
  })

  it("SETPERM and CHOWN: owner or CAP_SYS_ADMIN, bad bits EINVAL, quota moves with the key", () => {
    const w = world()
    const t = w.user()
    const id = w.keys.addKey(t, "user", "k", bytes("v"), 1, KEY_SPEC_SESSION_KEYRING) as number
    expect(errno(keyctl(w.keys, t, KEYCTL_SETPERM, [id, 0x40000000]))).toBe("EINVAL")
    expect(errno(keyctl(w.keys, t, KEYCTL_CHOWN, [id, 2000, -1]))).toBe("EACCES")
    expect(errno(keyctl(w.keys, t, KEYCTL_CHOWN, [id, -1, 2000]))).toBe("EACCES")
    expect(keyctl(w.keys, t, KEYCTL_CHOWN, [id, -1, -1])).toBe(0)
    const root = w.root
    // root does not possess it and has no SETATTR through "other"
    expect(errno(keyctl(w.keys, root, KEYCTL_CHOWN, [id, 2000, -1]))).toBe("EACCES")
    expect(keyctl(w.keys, t, KEYCTL_SETPERM, [id, KEY_POS_ALL | KEY_USR_ALL | 0x3f])).toBe(0)
    expect(keyctl(w.keys, root, KEYCTL_CHOWN, [id, 2000, 2000])).toBe(0)
    expect(procKeyUsers(w.keys, root)).toContain(" 2000:     1 1/1 1/200 3/20000\n")
    expect(errno(keyctl(w.keys, t, KEYCTL_SETPERM, [id, KEY_POS_ALL]))).toBe("EACCES")
    w.teardown()
  })
})

describe("revoke, invalidate, timeout, clear, link, move, search", () => {
  it("a revoked key answers EKEYREVOKED and is unlinked by the garbage collector after gc_delay", () => {
    const w = world()
    const t = w.user()
    const id = w.keys.addKey(t, "user", "k", bytes("v"), 1, KEY_SPEC_SESSION_KEYRING) as number
    expect(keyctl(w.keys, t, KEYCTL_REVOKE, [id])).toBe(0)
    expect(errno(keyctl(w.keys, t, KEYCTL_DESCRIBE, [id, null, 0]))).toBe("EKEYREVOKED")
    expect(errno(keyctl(w.keys, t, KEYCTL_READ, [id, null, 0]))).toBe("EKEYREVOKED")
    expect(errno(keyctl(w.keys, t, KEYCTL_READ, [id + 1, null, 0]))).toBe("ENOKEY")
    expect(errno(w.keys.requestKey(t, "user", "k", null, 0))).toBe("EKEYREVOKED")
    expect(procKeys(w.keys, t)).toContain(" IR-Q---     1 expd 3f010000  1000  1000 user      k: 0\n")
    w.now += 301
    w.keys.gc()
    expect(w.keys.keyById(id)).toBeUndefined()
    w.teardown()
  })

  it("an invalidated key is gone at once", () => {
    const w = world()
    const t = w.user()
    const id = w.keys.addKey(t, "user", "k", bytes("v"), 1, KEY_SPEC_SESSION_KEYRING) as number
    expect(keyctl(w.keys, t, KEYCTL_INVALIDATE, [id])).toBe(0)
    expect(w.keys.keyById(id)).toBeUndefined()
    expect(errno(keyctl(w.keys, t, KEYCTL_INVALIDATE, [id]))).toBe("ENOKEY")
    w.teardown()
  })

  it("SET_TIMEOUT expires a key on the kernel clock, 0 cancels", () => {
    const w = world()
    const t = w.user()
    const id = w.keys.addKey(t, "user", "k", bytes("v"), 1, KEY_SPEC_SESSION_KEYRING) as number
    expect(keyctl(w.keys, t, KEYCTL_SET_TIMEOUT, [id, 100])).toBe(0)
    expect(procKeys(w.keys, t)).toContain(" I--Q---     1   1m ")
    w.now += 99
    expect(procKeys(w.keys, t)).toContain(" I--Q---     1   1s ")
    expect(w.keys.requestKey(t, "user", "k", null, 0)).toBe(id)
    w.now += 1
    expect(errno(w.keys.requestKey(t, "user", "k", null, 0))).toBe("EKEYEXPIRED")
    expect(errno(keyctl(w.keys, t, KEYCTL_SET_TIMEOUT, [id, 0]))).toBe("EKEYEXPIRED")
    expect(procKeys(w.keys, t)).toContain(" expd ")
    w.teardown()
  })

  it("CLEAR empties a keyring, ENOTDIR for a key; UNLINK of a key not there is ENOENT", () => {
    const w = world()
    const t = w.user()
    const r = w.keys.addKey(t, "keyring", "r", null, 0, KEY_SPEC_SESSION_KEYRING) as number
    const k = w.keys.addKey(t, "user", "k", bytes("v"), 1, r) as number
    expect(errno(keyctl(w.keys, t, KEYCTL_CLEAR, [k]))).toBe("ENOTDIR")
    expect(errno(keyctl(w.keys, t, KEYCTL_UNLINK, [k, KEY_SPEC_SESSION_KEYRING]))).toBe("ENOENT")
    expect(keyctl(w.keys, t, KEYCTL_CLEAR, [r])).toBe(0)
    expect(w.keys.keyById(k)).toBeUndefined()
    w.teardown()
  })

  it("MOVE moves between keyrings; EXCL refuses to displace; bad flags EINVAL", () => {
    const w = world()
    const t = w.user()
    const a = w.keys.addKey(t, "keyring", "a", null, 0, KEY_SPEC_SESSION_KEYRING) as number
    const b = w.keys.addKey(t, "keyring", "b", null, 0, KEY_SPEC_SESSION_KEYRING) as number
    const k = w.keys.addKey(t, "user", "k", bytes("v"), 1, a) as number
    expect(errno(keyctl(w.keys, t, KEYCTL_MOVE, [k, a, b, 2]))).toBe("EINVAL")
    expect(keyctl(w.keys, t, KEYCTL_MOVE, [k, a, b, 0])).toBe(0)
    expect(errno(keyctl(w.keys, t, KEYCTL_MOVE, [k, a, b, 0]))).toBe("ENOENT")
    w.keys.addKey(t, "user", "k", bytes("w"), 1, a)
    const k2 = keyctl(w.keys, t, KEYCTL_SEARCH, [a, "user", "k", 0]) as number
    expect(errno(keyctl(w.keys, t, KEYCTL_MOVE, [k2, a, b, KEYCTL_MOVE_EXCL]))).toBe("EEXIST")
    expect(keyctl(w.keys, t, KEYCTL_SEARCH, [b, "user", "k", 0])).toBe(k)
    expect(errno(keyctl(w.keys, t, KEYCTL_SEARCH, [b, "user", "nope", 0]))).toBe("ENOKEY")
    expect(errno(keyctl(w.keys, t, KEYCTL_SEARCH, [b, "nosuchtype", "k", 0]))).toBe("ENOKEY")
    w.teardown()
  })

  it("UPDATE: EOPNOTSUPP for keyrings, EINVAL past a page", () => {
    const w = world()
    const t = w.user()
    const r = w.keys.addKey(t, "keyring", "r", null, 0, KEY_SPEC_SESSION_KEYRING) as number
    const k = w.keys.addKey(t, "user", "k", bytes("v"), 1, r) as number
    expect(errno(keyctl(w.keys, t, KEYCTL_UPDATE, [r, bytes("x"), 1]))).toBe("EOPNOTSUPP")
    expect(errno(keyctl(w.keys, t, KEYCTL_UPDATE, [k, bytes("x"), 4097]))).toBe("EINVAL")
    expect(keyctl(w.keys, t, KEYCTL_UPDATE, [k, bytes("xyz"), 3])).toBe(0)
    expect(keyctl(w.keys, t, KEYCTL_READ, [k, null, 0])).toBe(3)
    w.teardown()
  })

  it("GET_SECURITY is empty, CAPABILITIES answers two bytes, WATCH_KEY and unknown commands EOPNOTSUPP", () => {
    const w = world()
    const t = w.user()
    const k = w.keys.addKey(t, "user", "k", bytes("v"), 1, KEY_SPEC_SESSION_KEYRING) as number
    const b = new Uint8Array(4).fill(9)
    expect(keyctl(w.keys, t, KEYCTL_GET_SECURITY, [k, b, 4])).toBe(1)
    expect(b[0]).toBe(0)
    expect(keyctl(w.keys, t, KEYCTL_CAPABILITIES, [b, 4])).toBe(2)
    expect(errno(keyctl(w.keys, t, KEYCTL_WATCH_KEY, [k, 3, 0]))).toBe("EOPNOTSUPP")
    expect(errno(keyctl(w.keys, t, 9999, []))).toBe("EOPNOTSUPP")
    w.teardown()
  })
})

describe("quotas", () => {
  it("EDQUOT past maxkeys and maxbytes, and freeing gives the quota back", () => {
    const w = world()
    const t = w.user()
    w.keys.maxkeys = 5
    const made: Array<number> = []
    for (;;) {
      const r = w.keys.addKey(t, "user", `k${made.length}`, bytes("v"), 1, KEY_SPEC_SESSION_KEYRING)
      if (typeof r !== "number") {
        expect(errno(r)).toBe("EDQUOT")
        break
      }
      made.push(r)
    }
    // _uid, _uid_ses and _ses are charged too
    expect(made.length).toBe(2)
    expect(keyctl(w.keys, t, KEYCTL_INVALIDATE, [made[0]])).toBe(0)
    expect(typeof w.keys.addKey(t, "user", "again", bytes("v"), 1, KEY_SPEC_SESSION_KEYRING)).toBe("number")
    w.keys.maxkeys = 200
    w.keys.maxbytes = 100
    expect(errno(w.keys.addKey(t, "user", "big", new Uint8Array(100), 100, KEY_SPEC_SESSION_KEYRING))).toBe("EDQUOT")
    w.teardown()
  })
})

describe("/proc/keys and /proc/key-users", () => {
  it("formats as keyrings(7) shows", () => {
    const w = world()
    const t = w.user()
    const r = w.keys.addKey(t, "keyring", "ring", null, 0, KEY_SPEC_SESSION_KEYRING) as number
    const k = w.keys.addKey(t, "user", "foo", bytes("wibble"), 6, r) as number
    const lines = procKeys(w.keys, t).split("\n")
    const hex = (n: number) => n.toString(16).padStart(8, "0")
    expect(lines).toContain(`${hex(k)} I--Q---     1 perm 3f010000  1000  1000 user      foo: 6`)
    expect(lines).toContain(`${hex(r)} I--Q---     1 perm 3f010000  1000  1000 keyring   ring: 1`)
    // root cannot view keys of uid 1000 it does not possess
    expect(procKeys(w.keys, w.root)).not.toContain("foo")
    expect(keyctl(w.keys, t, KEYCTL_SETPERM, [k, KEY_POS_VIEW | KEY_OTH_VIEW])).toBe(0)
    expect(procKeys(w.keys, w.root)).toContain("foo")
    // each description with its NUL, the payload, and 4 bytes per link in a keyring (KEYQUOTA_LINK_BYTES)
    const bytesCharged = ["_uid.1000", "_uid_ses.1000", "_ses", "ring", "foo"].reduce((n, d) => n + d.length + 1, 0) + 6 + 3 * 4
    expect(procKeyUsers(w.keys, t)).toBe(` 1000:     5 5/5 5/200 ${bytesCharged}/20000\n`)
    w.teardown()
  })
})
