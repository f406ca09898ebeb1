import { describe, expect, it } from "@effect/vitest"
import {
  KEY_ACE_EVERYONE,
  KEY_ACE_LINK,
  KEY_ACE_READ,
  KEY_ACE_SEARCH,
  KEY_ACE_SUBJ_CONTAINER,
  KEY_ACE_SUBJ_CONTAINER_NAME,
  KEY_ACE_SUBJ_STANDARD,
  KEY_ACE_VIEW,
  KEY_ACE_WRITE,
  KEY_POS_ALL,
  KEY_SPEC_SESSION_KEYRING,
  KEY_USR_VIEW,
  KEYCTL_ASSUME_AUTHORITY,
  KEYCTL_CONTAINER_INTERCEPT,
  KEYCTL_FIND_LRU,
  KEYCTL_GRANT_PERMISSION,
  KEYCTL_INSTANTIATE,
  KEYCTL_JOIN_SESSION_KEYRING,
  KEYCTL_QUERY_REQUEST_KEY_AUTH,
  KEYCTL_READ,
  KEYCTL_SEARCH,
  KEYCTL_UNLINK,
  KEYCTL_SET_CONTAINER_KEYRING,
  KEYCTL_SETPERM,
  sysError
} from "@simkernel/abi"
import { type ContainerResolver, type KeyContainer, keyctl, KeyConstructionWait, type RequestKeyAuthInfo } from "../src/index.js"
import { bytes, errno, Task, text, world } from "./fixture.js"

const CFD = 3
/** fd 3 is the container, fd 4 an open fd of another kind, anything else is closed. */
const resolverFor =
  (c: KeyContainer): ContainerResolver =>
  (fd) =>
    fd === CFD ? c : fd === 4 ? sysError("EINVAL", "keyctl", "not a container") : sysError("EBADF", "keyctl")

/** A task in the container, as fork_into_container() makes it: the creds of uid 1000 with no keyrings. */
const member = (w: ReturnType<typeof world>, c: KeyContainer): Task => {
  const t = w.user(1000, 1000)
  t.keyContainer = c
  return t
}

describe("the seed's sample flow (samples/vfs/test-container.c, steps 6-8)", () => {
  it("a container member finds keys in the container keyring, and intercepted requests reach the supervisor", () => {
    const w = world({ requestKeyHelper: () => expect.unreachable("no helper runs for an intercepted type") })
    const c: KeyContainer = { name: "foo-test" }
    const kc = (t: Task, cmd: number, ...a: Array<unknown>) => keyctl(w.keys, t, cmd, a, resolverFor(c))
    const sup = w.root
    expect(kc(sup, KEYCTL_JOIN_SESSION_KEYRING, null)).toBeGreaterThan(0)
    // 6. keyring "_container", SEARCH granted to the container, then set as its keyring
    const ring = w.keys.addKey(sup, "keyring", "_container", null, 0, KEY_SPEC_SESSION_KEYRING) as number
    expect(kc(sup, KEYCTL_GRANT_PERMISSION, ring, KEY_ACE_SUBJ_CONTAINER, CFD, KEY_ACE_SEARCH)).toBe(0)
    expect(kc(sup, KEYCTL_SET_CONTAINER_KEYRING, CFD, ring)).toBe(0)
    // 7. user:foobar = "wibble", the container granted VIEW|SEARCH|READ|LINK
    const foobar = w.keys.addKey(sup, "user", "foobar", bytes("wibble"), 6, ring) as number
    expect(kc(sup, KEYCTL_GRANT_PERMISSION, foobar, KEY_ACE_SUBJ_CONTAINER, CFD, KEY_ACE_VIEW | KEY_ACE_SEARCH | KEY_ACE_READ | KEY_ACE_LINK)).toBe(0)
    // 8. keyring "upcall" takes every "user" request made in the container
    const upcall = w.keys.addKey(sup, "keyring", "upcall", null, 0, KEY_SPEC_SESSION_KEYRING) as number
    expect(kc(sup, KEYCTL_CONTAINER_INTERCEPT, CFD, "user", 0, upcall)).toBe(0)

    // 9. the child joins a session keyring and asks for keys
    const child = member(w, c)
    expect(kc(child, KEYCTL_JOIN_SESSION_KEYRING, null)).toBeGreaterThan(0)
    expect(w.keys.requestKey(child, "user", "foobar", null, 0)).toBe(foobar)
    const b = new Uint8Array(16)
    expect(text(b, kc(child, KEYCTL_READ, foobar, b, 16) as number)).toBe("wibble")
    // the request_key() syscall also needs LINK to link the found key into a keyring
    expect(w.keys.requestKey(child, "user", "foobar", null, KEY_SPEC_SESSION_KEYRING)).toBe(foobar)
    // an outsider with the same uid sees nothing: the grants are the container's
    const outsider = w.user(1000, 1000)
    expect(errno(w.keys.requestKey(outsider, "user", "foobar", null, 0))).toBe("ENOKEY")

    // a key the container does not have: the authorisation key goes to "upcall"
    const wait = w.keys.requestKey(child, "user", "other", "callout-data", 0)
    expect(wait).toBeInstanceOf(KeyConstructionWait)
    const pending = wait as KeyConstructionWait
    expect(pending.ready()).toBe(false)
    const auth = new Uint8Array(4)
    expect(kc(sup, KEYCTL_READ, upcall, auth, 4)).toBe(4)
    const authId = new Int32Array(auth.buffer)[0]!
    const info = {} as RequestKeyAuthInfo
    expect(kc(sup, KEYCTL_QUERY_REQUEST_KEY_AUTH, authId, info)).toBe(0)
    expect(info).toMatchObject({ op: "create", fsuid: 1000, fsgid: 1000, target_key: pending.key.id, thread_keyring: 0, process_keyring: 0 })
    expect(info.session_keyring).toBe((child.cred.sessionKeyring as unknown as { id: number }).id)
    const callout = new Uint8Array(32)
    expect(text(callout, kc(sup, KEYCTL_READ, authId, callout, 32) as number)).toBe("callout-data")
    // the supervisor takes the authority and instantiates; the child wakes up with the key
    expect(kc(sup, KEYCTL_ASSUME_AUTHORITY, pending.key.id)).toBe(authId)
    expect(kc(sup, KEYCTL_INSTANTIATE, pending.key.id, bytes("answer"), 6, 0)).toBe(0)
    expect(sup.cred.requestKeyAuth).toBeUndefined()
    expect(kc(sup, KEYCTL_READ, upcall, auth, 4)).toBe(0)
    expect(pending.ready()).toBe(true)
    const id = w.keys.requestKeyFinish(pending)
    expect(id).toBe(pending.key.id)
    expect(text(b, kc(child, KEYCTL_READ, id, b, 16) as number)).toBe("answer")
    // asked again, it is found without an upcall
    expect(w.keys.requestKey(child, "user", "other", "callout-data", 0)).toBe(id)
    w.keys.releaseContainer(c)
    w.teardown()
  })
})

describe("KEYCTL_SET_CONTAINER_KEYRING", () => {
  it("checks EINVAL, EBADF, EINVAL, the lookup's error, EBUSY, in that order", () => {
    const w = world()
    const c: KeyContainer = { name: "c" }
    const kc = (t: Task, ...a: Array<unknown>) => keyctl(w.keys, t, KEYCTL_SET_CONTAINER_KEYRING, a, resolverFor(c))
    const t = w.user()
    const ring = w.keys.addKey(t, "keyring", "r", null, 0, KEY_SPEC_SESSION_KEYRING) as number
    expect(errno(kc(t, -1, ring))).toBe("EINVAL")
    expect(errno(kc(t, 9, 0))).toBe("EINVAL")
    expect(errno(kc(t, 9, ring))).toBe("EBADF")
    expect(errno(kc(t, 4, ring))).toBe("EINVAL")
    expect(errno(kc(t, CFD, 999999))).toBe("ENOKEY")
    expect(errno(kc(w.user(2000, 2000), CFD, ring))).toBe("EACCES")
    expect(kc(t, CFD, ring)).toBe(0)
    expect(errno(kc(t, CFD, ring))).toBe("EBUSY")
    // the default resolver knows no containers
    expect(errno(keyctl(w.keys, t, KEYCTL_SET_CONTAINER_KEYRING, [CFD, ring]))).toBe("EINVAL")
    w.teardown()
  })
})

describe("KEYCTL_CONTAINER_INTERCEPT", () => {
  it("checks its arguments, refuses duplicates, needs WRITE, keeps '*' last and removes traps", () => {
    const w = world()
    const c: KeyContainer = { name: "c" }
    const kc = (t: Task, ...a: Array<unknown>) => keyctl(w.keys, t, KEYCTL_CONTAINER_INTERCEPT, a, resolverFor(c))
    const t = w.user()
    const up = w.keys.addKey(t, "keyring", "up", null, 0, KEY_SPEC_SESSION_KEYRING) as number
    const up2 = w.keys.addKey(t, "keyring", "up2", null, 0, KEY_SPEC_SESSION_KEYRING) as number
    expect(errno(kc(t, -1, "user", 0, up))).toBe("EINVAL")
    expect(errno(kc(t, CFD, null, 0, up))).toBe("EINVAL")
    expect(errno(kc(t, 9, "user", 0, up))).toBe("EBADF")
    expect(errno(kc(t, 4, "user", 0, up))).toBe("EINVAL")
    expect(errno(kc(w.user(2000, 2000), CFD, "user", 0, up))).toBe("EACCES")
    expect(kc(t, CFD, "*", 0, up2)).toBe(0)
    expect(kc(t, CFD, "user", 0, up)).toBe(0)
    expect(errno(kc(t, CFD, "user", 0, up2))).toBe("EEXIST")
    expect(kc(t, CFD, "logon", 0, up)).toBe(0)
    // "*" stays behind the specific traps: a user request goes to "up", any other type to "up2"
    const child = member(w, c)
    const wait = w.keys.requestKey(child, "user", "a", "i", 0) as KeyConstructionWait
    expect(wait).toBeInstanceOf(KeyConstructionWait)
    expect(keyctl(w.keys, t, KEYCTL_READ, [up, null, 0])).toBe(4)
    expect(keyctl(w.keys, t, KEYCTL_READ, [up2, null, 0])).toBe(0)
    const other = w.keys.requestKey(child, "keyring", "a", null, 0)
    expect(errno(other)).toBe("ENOKEY")
    // a sleeper interrupted before the supervisor answers gets EINTR and drops its reference
    expect(errno(w.keys.requestKeyFinish(wait))).toBe("EINTR")
    expect(kc(t, CFD, "user", 0, 0)).toBe(1)
    expect(kc(t, CFD, "user", 0, 0)).toBe(0)
    // with the "user" trap gone, "*" takes user requests
    const wait2 = w.keys.requestKey(child, "user", "b", "i", 0) as KeyConstructionWait
    expect(wait2).toBeInstanceOf(KeyConstructionWait)
    expect(keyctl(w.keys, t, KEYCTL_READ, [up2, null, 0])).toBe(4)
    expect(errno(w.keys.requestKeyFinish(wait2))).toBe("EINTR")
    expect(kc(t, CFD, null, 0, 0)).toBe(2)
    // no trap left: the request-key helper is run, and there is none
    expect(errno(w.keys.requestKey(child, "user", "c", "i", 0))).toBe("ENOKEY")
    w.teardown()
  })
})

describe("KEYCTL_QUERY_REQUEST_KEY_AUTH, KEYCTL_FIND_LRU", () => {
  it("QUERY wants an id above 0, a buffer, and an authorisation key", () => {
    const w = world()
    const t = w.user()
    const k = w.keys.addKey(t, "user", "k", bytes("v"), 1, KEY_SPEC_SESSION_KEYRING) as number
    expect(errno(keyctl(w.keys, t, KEYCTL_QUERY_REQUEST_KEY_AUTH, [0, {}]))).toBe("EINVAL")
    expect(errno(keyctl(w.keys, t, KEYCTL_QUERY_REQUEST_KEY_AUTH, [k, null]))).toBe("EINVAL")
    expect(errno(keyctl(w.keys, t, KEYCTL_QUERY_REQUEST_KEY_AUTH, [k, {}]))).toBe("EINVAL")
    expect(errno(keyctl(w.keys, t, KEYCTL_QUERY_REQUEST_KEY_AUTH, [k + 1, {}]))).toBe("ENOKEY")
    w.teardown()
  })

  it("FIND_LRU returns the least recently used unseen key, marks it seen, and starts over", () => {
    const w = world()
    const t = w.user()
    const r = w.keys.addKey(t, "keyring", "r", null, 0, KEY_SPEC_SESSION_KEYRING) as number
    const a = w.keys.addKey(t, "user", "a", bytes("v"), 1, r) as number
    w.now += 1
    const b = w.keys.addKey(t, "user", "b", bytes("v"), 1, r) as number
    w.now += 1
    expect(keyctl(w.keys, t, KEYCTL_SEARCH, [r, "user", "b", 0])).toBe(b)
    w.now += 1
    expect(keyctl(w.keys, t, KEYCTL_SEARCH, [r, "user", "a", 0])).toBe(a)
    expect(errno(keyctl(w.keys, t, KEYCTL_FIND_LRU, [r, null]))).toBe("EINVAL")
    expect(errno(keyctl(w.keys, t, KEYCTL_FIND_LRU, [r, ""]))).toBe("EINVAL")
    expect(errno(keyctl(w.keys, t, KEYCTL_FIND_LRU, [r, "u".repeat(32)]))).toBe("EINVAL")
    expect(keyctl(w.keys, t, KEYCTL_FIND_LRU, [r, "user"])).toBe(b)
    expect(keyctl(w.keys, t, KEYCTL_FIND_LRU, [r, "user"])).toBe(a)
    expect(keyctl(w.keys, t, KEYCTL_FIND_LRU, [r, "user"])).toBe(b)
    expect(errno(keyctl(w.keys, t, KEYCTL_FIND_LRU, [r, "logon"]))).toBe("ENOKEY")
    w.teardown()
  })
})

describe("KEYCTL_GRANT_PERMISSION", () => {
  it("needs SET_SECURITY and ownership; ENOENT for unknown subjects; perm 0 removes the ACE", () => {
    const w = world()
    const c: KeyContainer = { name: "foo-test" }
    const kc = (t: Task, ...a: Array<unknown>) => keyctl(w.keys, t, KEYCTL_GRANT_PERMISSION, a, resolverFor(c))
    const owner = w.user()
    const other = w.user(2000, 2000)
    const k = w.keys.addKey(owner, "user", "k", bytes("v"), 1, KEY_SPEC_SESSION_KEYRING) as number
    expect(errno(kc(owner, k, 7, 0, KEY_ACE_READ))).toBe("ENOENT")
    expect(errno(kc(owner, k, KEY_ACE_SUBJ_STANDARD, 4, KEY_ACE_READ))).toBe("ENOENT")
    expect(errno(kc(owner, k, KEY_ACE_SUBJ_CONTAINER, 9, KEY_ACE_READ))).toBe("EINVAL")
    expect(errno(kc(owner, k, KEY_ACE_SUBJ_CONTAINER_NAME, null, KEY_ACE_READ))).toBe("EFAULT")
    expect(errno(kc(other, k, KEY_ACE_SUBJ_STANDARD, KEY_ACE_EVERYONE, KEY_ACE_READ))).toBe("EACCES")
    const b = new Uint8Array(4)
    expect(errno(keyctl(w.keys, other, KEYCTL_READ, [k, b, 4]))).toBe("EACCES")
    expect(kc(owner, k, KEY_ACE_SUBJ_STANDARD, KEY_ACE_EVERYONE, KEY_ACE_READ | KEY_ACE_WRITE)).toBe(0)
    expect(keyctl(w.keys, other, KEYCTL_READ, [k, b, 4])).toBe(1)
    expect(kc(owner, k, KEY_ACE_SUBJ_STANDARD, KEY_ACE_EVERYONE, 0)).toBe(0)
    expect(errno(keyctl(w.keys, other, KEYCTL_READ, [k, b, 4]))).toBe("EACCES")
    // a container named in the ACE by name
    expect(kc(owner, k, KEY_ACE_SUBJ_CONTAINER_NAME, "foo-test", KEY_ACE_READ)).toBe(0)
    expect(keyctl(w.keys, member(w, c), KEYCTL_READ, [k, b, 4])).toBe(1)
    expect(errno(keyctl(w.keys, member(w, { name: "bar" }), KEYCTL_READ, [k, b, 4]))).toBe("EACCES")
    // without SETATTR (SET_SECURITY) even the owner cannot grant
    expect(keyctl(w.keys, owner, KEYCTL_SETPERM, [k, (KEY_POS_ALL & ~0x20000000) | KEY_USR_VIEW])).toBe(0)
    expect(errno(kc(owner, k, KEY_ACE_SUBJ_STANDARD, KEY_ACE_EVERYONE, KEY_ACE_READ))).toBe("EACCES")
    w.teardown()
  })

  it("request_key() in a container needs SEARCH on the key, and LINK when linking it", () => {
    const w = world()
    const c: KeyContainer = { name: "c" }
    const kc = (t: Task, cmd: number, ...a: Array<unknown>) => keyctl(w.keys, t, cmd, a, resolverFor(c))
    const sup = w.root
    const ring = w.keys.addKey(sup, "keyring", "_container", null, 0, KEY_SPEC_SESSION_KEYRING) as number
    expect(kc(sup, KEYCTL_GRANT_PERMISSION, ring, KEY_ACE_SUBJ_CONTAINER, CFD, KEY_ACE_SEARCH)).toBe(0)
    expect(kc(sup, KEYCTL_SET_CONTAINER_KEYRING, CFD, ring)).toBe(0)
    const k = w.keys.addKey(sup, "user", "k", bytes("v"), 1, ring) as number
    const child = member(w, c)
    expect(errno(w.keys.requestKey(child, "user", "k", null, 0))).toBe("EACCES")
    expect(kc(sup, KEYCTL_GRANT_PERMISSION, k, KEY_ACE_SUBJ_CONTAINER, CFD, KEY_ACE_SEARCH)).toBe(0)
    expect(w.keys.requestKey(child, "user", "k", null, 0)).toBe(k)
    expect(errno(w.keys.requestKey(child, "user", "k", null, KEY_SPEC_SESSION_KEYRING))).toBe("EACCES")
    expect(kc(sup, KEYCTL_GRANT_PERMISSION, k, KEY_ACE_SUBJ_CONTAINER, CFD, KEY_ACE_SEARCH | KEY_ACE_LINK)).toBe(0)
    expect(w.keys.requestKey(child, "user", "k", null, KEY_SPEC_SESSION_KEYRING)).toBe(k)
    // the caller's own keyrings come first: a key of the same description in its session keyring wins
    const own = w.keys.addKey(child, "user", "mine", bytes("own"), 3, KEY_SPEC_SESSION_KEYRING) as number
    const theirs = w.keys.addKey(sup, "user", "mine", bytes("theirs"), 6, ring) as number
    expect(kc(sup, KEYCTL_GRANT_PERMISSION, theirs, KEY_ACE_SUBJ_CONTAINER, CFD, KEY_ACE_SEARCH)).toBe(0)
    expect(w.keys.requestKey(child, "user", "mine", null, 0)).toBe(own)
    expect(kc(child, KEYCTL_UNLINK, own, KEY_SPEC_SESSION_KEYRING)).toBe(0)
    expect(w.keys.requestKey(child, "user", "mine", null, 0)).toBe(theirs)
    // found through the container keyring it is not possessed: SEARCH lets it be found, not read
    expect(kc(child, KEYCTL_SEARCH, ring, "user", "mine", 0)).toBe(theirs)
    expect(errno(kc(child, KEYCTL_READ, theirs, null, 0))).toBe("EACCES")
    w.teardown()
  })
})
