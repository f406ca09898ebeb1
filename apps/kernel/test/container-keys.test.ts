import { describe, expect, it } from "@effect/vitest"
import {
  AT_FDCWD,
  CONTAINER_FD_CLOEXEC,
  CONTAINER_KILL_ON_CLOSE,
  CONTAINER_NEW_EMPTY_FS_NS,
  CONTAINER_NEW_PID_NS,
  FSCONFIG_CMD_CREATE,
  FSCONFIG_SET_CONTAINER,
  KEY_ACE_LINK,
  KEY_ACE_READ,
  KEY_ACE_SEARCH,
  KEY_ACE_SUBJ_CONTAINER,
  KEY_ACE_SUBJ_CONTAINER_NAME,
  KEY_ACE_VIEW,
  KEY_SPEC_SESSION_KEYRING,
  KEYCTL_ASSUME_AUTHORITY,
  KEYCTL_CONTAINER_INTERCEPT,
  KEYCTL_DESCRIBE,
  KEYCTL_GRANT_PERMISSION,
  KEYCTL_INSTANTIATE,
  KEYCTL_JOIN_SESSION_KEYRING,
  KEYCTL_QUERY_REQUEST_KEY_AUTH,
  KEYCTL_READ,
  KEYCTL_SET_CONTAINER_KEYRING,
  KEYCTL_UNLINK,
  MOVE_MOUNT_F_EMPTY_PATH,
  MOVE_MOUNT_T_CONTAINER_ROOT,
  KEY_SPEC_USER_KEYRING,
  KEYCTL_CAPABILITIES,
  KEYCTL_CHOWN,
  KEYCTL_GET_KEYRING_ID,
  KEYCTL_LINK,
  KEYCTL_REJECT,
  KEYCTL_REVOKE,
  KEYCTL_SEARCH,
  KEYCTL_SET_REQKEY_KEYRING,
  KEYCTL_SETPERM,
  O_RDONLY,
  sysError,
  SIGKILL
} from "@simkernel/abi"
import type { Process } from "@simkernel/sched"
import { Effect } from "effect"
import { Syscalls } from "../src/index.js"
import { formatSyscall } from "../src/syscalls/strace.js"
import { errno, tmpfsMount, withSys } from "./support.js"

const enc = new TextEncoder()
const dec = new TextDecoder()

/** keyctl(KEYCTL_READ) of a user key's payload, as text. */
const readKey = (sys: Syscalls, id: number) =>
  Effect.gen(function* () {
    const buf = new Uint8Array(64)
    const n = yield* sys.call("keyctl", KEYCTL_READ, id, buf, 64)
    return dec.decode(buf.subarray(0, n))
  })

/** The serials linked in a keyring (keyctl(KEYCTL_READ) of a keyring: 32-bit ids). */
const ringIds = (sys: Syscalls, ring: number) =>
  Effect.gen(function* () {
    const buf = new Uint8Array(64)
    const n = yield* sys.call("keyctl", KEYCTL_READ, ring, buf, 64)
    return [...new Int32Array(buf.buffer, 0, Math.min(n, 64) / 4)]
  })

/** A whole file read with openat/read/close. */
const cat = (sys: Syscalls, path: string) =>
  Effect.gen(function* () {
    const fd = yield* sys.call("openat", AT_FDCWD, path, O_RDONLY, 0)
    const buf = new Uint8Array(4096)
    let out = ""
    for (;;) {
      const n = yield* sys.call("read", fd, buf, 4096)
      if (n === 0) break
      out += dec.decode(buf.subarray(0, n))
    }
    yield* sys.call("close", fd)
    return out
  })

/** The descriptions /proc/keys lists (its last column, up to the colon). */
const procKeyNames = (text: string): Array<string> =>
  text
    .trimEnd()
    .split("\n")
    .map((l) => l.slice(l.lastIndexOf(" ", l.lastIndexOf(":") - 1) + 1, l.lastIndexOf(":")))
    .sort()

/** Steps 1-5 of the seed's sample: an empty container with a tmpfs root and its own proc on /proc. */
const sampleContainer = (sys: Syscalls) =>
  Effect.gen(function* () {
    const c = yield* sys.call("container_create", "foo-test", CONTAINER_NEW_EMPTY_FS_NS | CONTAINER_NEW_PID_NS | CONTAINER_KILL_ON_CLOSE | CONTAINER_FD_CLOEXEC, 0, 0, 0)
    const m = yield* tmpfsMount(sys)
    yield* sys.call("move_mount", m, "", c, "/", MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_CONTAINER_ROOT)
    yield* sys.call("close", m)
    yield* sys.call("mkdirat", c, "proc", 0o555)
    const pfs = yield* sys.call("fsopen", "proc", 0)
    yield* sys.call("fsconfig", pfs, FSCONFIG_SET_CONTAINER, null, null, c)
    yield* sys.call("fsconfig", pfs, FSCONFIG_CMD_CREATE, null, null, 0)
    const pm = yield* sys.call("fsmount", pfs, 0, 0)
    yield* sys.call("close", pfs)
    yield* sys.call("move_mount", pm, "", c, "proc", MOVE_MOUNT_F_EMPTY_PATH)
    yield* sys.call("close", pm)
    return c
  })

/** Steps 6-8: the container keyring with user:foobar in it, and an intercept of "user" requests into "upcall". */
const sampleKeys = (sys: Syscalls, c: number) =>
  Effect.gen(function* () {
    yield* sys.call("keyctl", KEYCTL_JOIN_SESSION_KEYRING, null)
    const ring = yield* sys.call("add_key", "keyring", "_container", null, 0, KEY_SPEC_SESSION_KEYRING)
    yield* sys.call("keyctl", KEYCTL_GRANT_PERMISSION, ring, KEY_ACE_SUBJ_CONTAINER, c, KEY_ACE_SEARCH)
    yield* sys.call("keyctl", KEYCTL_SET_CONTAINER_KEYRING, c, ring)
    const foobar = yield* sys.call("add_key", "user", "foobar", enc.encode("wibble"), 6, ring)
    yield* sys.call("keyctl", KEYCTL_GRANT_PERMISSION, foobar, KEY_ACE_SUBJ_CONTAINER_NAME, "foo-test", KEY_ACE_VIEW | KEY_ACE_SEARCH | KEY_ACE_READ | KEY_ACE_LINK)
    const upcall = yield* sys.call("add_key", "keyring", "upcall", null, 0, KEY_SPEC_SESSION_KEYRING)
    yield* sys.call("keyctl", KEYCTL_CONTAINER_INTERCEPT, c, "user", 0, upcall)
    return { ring, foobar, upcall }
  })

describe("keys in containers, through the syscalls (the seed's sample, steps 6-9)", () => {
  it.effect("a member's request_key() finds the key through the container keyring; a missing key is intercepted and made by the supervisor", () =>
    Effect.gen(function* () {
      const got = yield* withSys((sys) =>
        Effect.gen(function* () {
          const c = yield* sampleContainer(sys)
          const { foobar, upcall } = yield* sampleKeys(sys, c)
          const inside: Record<string, unknown> = {}
          const child = (p: Process) =>
            Effect.gen(function* () {
              const s = new Syscalls({ proc: p })
              yield* s.call("keyctl", KEYCTL_JOIN_SESSION_KEYRING, null)
              const found = yield* s.call("request_key", "user", "foobar", null, 0)
              inside.found = found
              inside.payload = yield* readKey(s, found)
              // linking the found key into the session keyring needs the LINK the grant gave
              inside.linked = (yield* s.call("request_key", "user", "foobar", null, KEY_SPEC_SESSION_KEYRING)) === found
              // a key the container lacks: the request sleeps until the supervisor makes it
              const made = yield* s.call("request_key", "user", "dns:example", "A", 0)
              inside.made = yield* readKey(s, made)
              inside.again = (yield* s.call("request_key", "user", "dns:example", "A", 0)) === made
              inside.procKeys = procKeyNames(yield* cat(s, "/proc/keys"))
              return 0
            })
          const pid = yield* sys.call("fork_into_container", c, child)
          // the supervisor waits for the authorisation key to show up in "upcall"
          let auth: Array<number> = []
          while (auth.length === 0) {
            auth = yield* ringIds(sys, upcall)
            if (auth.length === 0) yield* sys.call("sched_yield")
          }
          const info = {} as { op: string; target_key: number; fsuid: number }
          yield* sys.call("keyctl", KEYCTL_QUERY_REQUEST_KEY_AUTH, auth[0], info)
          const assumed = yield* sys.call("keyctl", KEYCTL_ASSUME_AUTHORITY, info.target_key)
          yield* sys.call("keyctl", KEYCTL_INSTANTIATE, info.target_key, enc.encode("192.0.2.1"), 9, 0)
          const afterwards = yield* ringIds(sys, upcall)
          const status: { value?: number } = {}
          yield* sys.call("container_wait", c, status, 0, null)
          yield* sys.call("wait4", pid, {}, 0, null)
          return { foobar, inside, op: info.op, fsuid: info.fsuid, assumedIsAuth: assumed === auth[0], authCount: auth.length, afterwards, status: status.value }
        })
      )
      expect(got.inside).toEqual({
        found: got.foobar,
        payload: "wibble",
        linked: true,
        made: "192.0.2.1",
        again: true,
        // every key here is root's, so /proc/keys shows them all by the owner's VIEW; the grants add nothing to see
        procKeys: ["_container", "_ses", "_ses", "dns:example", "foobar", "upcall"]
      })
      expect(got).toMatchObject({ op: "create", fsuid: 0, assumedIsAuth: true, authCount: 1, afterwards: [], status: 0 })
    })
  )

  it.effect("a task outside the container does not find the key, nor is its request intercepted", () =>
    Effect.gen(function* () {
      const got = yield* withSys((sys) =>
        Effect.gen(function* () {
          const c = yield* sampleContainer(sys)
          const { upcall } = yield* sampleKeys(sys, c)
          let outside: Array<unknown> = []
          const pid = yield* sys.call("fork", (p: Process) =>
            Effect.gen(function* () {
              const s = new Syscalls({ proc: p })
              yield* s.call("keyctl", KEYCTL_JOIN_SESSION_KEYRING, null)
              outside = [yield* errno(s.call("request_key", "user", "foobar", null, 0)), yield* errno(s.call("request_key", "user", "other", "info", 0))]
              return 0
            })
          )
          yield* sys.call("wait4", pid, {}, 0, null)
          return { outside, upcall: yield* ringIds(sys, upcall) }
        })
      )
      expect(got).toEqual({ outside: ["ENOKEY", "ENOKEY"], upcall: [] })
    })
  )

  it.effect("without the SEARCH grant on the container keyring, a member's search of it is EACCES (as search_cred_keyrings_rcu() reports a denied keyring)", () =>
    Effect.gen(function* () {
      const got = yield* withSys((sys) =>
        Effect.gen(function* () {
          const c = yield* sys.call("container_create", "plain", 0, 0, 0, 0)
          yield* sys.call("keyctl", KEYCTL_JOIN_SESSION_KEYRING, null)
          const ring = yield* sys.call("add_key", "keyring", "_container", null, 0, KEY_SPEC_SESSION_KEYRING)
          yield* sys.call("keyctl", KEYCTL_SET_CONTAINER_KEYRING, c, ring)
          const key = yield* sys.call("add_key", "user", "foobar", enc.encode("wibble"), 6, ring)
          yield* sys.call("keyctl", KEYCTL_GRANT_PERMISSION, key, KEY_ACE_SUBJ_CONTAINER, c, KEY_ACE_VIEW | KEY_ACE_SEARCH | KEY_ACE_READ)
          let before: unknown
          let after: unknown
          const look = (p: Process) =>
            Effect.gen(function* () {
              const s = new Syscalls({ proc: p })
              yield* s.call("keyctl", KEYCTL_JOIN_SESSION_KEYRING, null)
              return yield* errno(s.call("request_key", "user", "foobar", null, 0))
            })
          // a member that stays keeps the container alive between the two lookups
          const stay = yield* sys.call("fork_into_container", c, (p: Process) => Effect.as(Effect.ignore(p.pause()), 0))
          const first = yield* sys.call("fork_into_container", c, (p: Process) => Effect.map(look(p), (r) => ((before = r), 0)))
          yield* sys.call("wait4", first, {}, 0, null)
          yield* sys.call("keyctl", KEYCTL_GRANT_PERMISSION, ring, KEY_ACE_SUBJ_CONTAINER, c, KEY_ACE_SEARCH)
          const second = yield* sys.call("fork_into_container", c, (p: Process) => Effect.map(look(p), (r) => ((after = r), 0)))
          yield* sys.call("wait4", second, {}, 0, null)
          yield* sys.call("container_kill", c, 0, SIGKILL)
          yield* sys.call("wait4", stay, {}, 0, null)
          return { before, after, key }
        })
      )
      expect(got.before).toBe("EACCES")
      expect(got.after).toBe(got.key)
    })
  )
})

describe("the container commands' errors through keyctl(2)", () => {
  it.effect("KEYCTL_SET_CONTAINER_KEYRING: EINVAL for a negative fd or a keyring <= 0, EBADF, EINVAL for another fd, EBUSY the second time", () =>
    Effect.gen(function* () {
      const got = yield* withSys((sys) =>
        Effect.gen(function* () {
          const c = yield* sys.call("container_create", "fred", 0, 0, 0, 0)
          const ring = yield* sys.call("add_key", "keyring", "_container", null, 0, KEY_SPEC_SESSION_KEYRING)
          const other = yield* sys.call("openat", AT_FDCWD, "/dev/null", O_RDONLY, 0)
          const set = (cfd: number, r: number) => errno(sys.call("keyctl", KEYCTL_SET_CONTAINER_KEYRING, cfd, r))
          return [yield* set(-1, ring), yield* set(c, 0), yield* set(99, ring), yield* set(other, ring), yield* set(c, ring), yield* set(c, ring)]
        })
      )
      expect(got).toEqual(["EINVAL", "EINVAL", "EBADF", "EINVAL", 0, "EBUSY"])
    })
  )

  it.effect("KEYCTL_CONTAINER_INTERCEPT: EBADF, EINVAL for another fd, EEXIST for a second trap of a type, dest 0 removes", () =>
    Effect.gen(function* () {
      const got = yield* withSys((sys) =>
        Effect.gen(function* () {
          const c = yield* sys.call("container_create", "fred", 0, 0, 0, 0)
          const upcall = yield* sys.call("add_key", "keyring", "upcall", null, 0, KEY_SPEC_SESSION_KEYRING)
          const other = yield* sys.call("openat", AT_FDCWD, "/dev/null", O_RDONLY, 0)
          const trap = (cfd: number, type: string | null, dest: number) => errno(sys.call("keyctl", KEYCTL_CONTAINER_INTERCEPT, cfd, type, 0, dest))
          return [
            yield* trap(-1, "user", upcall),
            yield* trap(c, null, upcall),
            yield* trap(99, "user", upcall),
            yield* trap(other, "user", upcall),
            yield* trap(c, "user", upcall),
            yield* trap(c, "user", upcall),
            yield* trap(c, "user", 0)
          ]
        })
      )
      expect(got).toEqual(["EINVAL", "EINVAL", "EBADF", "EINVAL", 0, "EEXIST", 1])
    })
  )

  it.effect("KEYCTL_GRANT_PERMISSION to a container subject: by fd (EINVAL for a closed or non-container fd) and by name", () =>
    Effect.gen(function* () {
      const got = yield* withSys((sys) =>
        Effect.gen(function* () {
          const c = yield* sys.call("container_create", "fred", 0, 0, 0, 0)
          const key = yield* sys.call("add_key", "user", "k", enc.encode("v"), 1, KEY_SPEC_SESSION_KEYRING)
          const other = yield* sys.call("openat", AT_FDCWD, "/dev/null", O_RDONLY, 0)
          const grant = (subject: number, who: unknown) => errno(sys.call("keyctl", KEYCTL_GRANT_PERMISSION, key, subject, who, KEY_ACE_VIEW))
          return [
            yield* grant(KEY_ACE_SUBJ_CONTAINER, c),
            yield* grant(KEY_ACE_SUBJ_CONTAINER, 99),
            yield* grant(KEY_ACE_SUBJ_CONTAINER, other),
            yield* grant(KEY_ACE_SUBJ_CONTAINER_NAME, "fred")
          ]
        })
      )
      expect(got).toEqual([0, "EINVAL", "EINVAL", 0])
    })
  )
})

describe("the container keyring's lifetime", () => {
  it.effect("is dropped when the container dies: a keyring only the container held is freed", () =>
    Effect.gen(function* () {
      const got = yield* withSys((sys) =>
        Effect.gen(function* () {
          const c = yield* sys.call("container_create", "brief", 0, 0, 0, 0)
          const ring = yield* sys.call("add_key", "keyring", "_container", null, 0, KEY_SPEC_SESSION_KEYRING)
          yield* sys.call("keyctl", KEYCTL_SET_CONTAINER_KEYRING, c, ring)
          // the session keyring lets go: the container's reference is the last
          yield* sys.call("keyctl", KEYCTL_UNLINK, ring, KEY_SPEC_SESSION_KEYRING)
          const describe = () => errno(sys.call("keyctl", KEYCTL_DESCRIBE, ring, new Uint8Array(64), 64))
          const held = yield* describe()
          const pid = yield* sys.call("fork_into_container", c, () => Effect.succeed(0))
          yield* sys.call("container_wait", c, {}, 0, null)
          yield* sys.call("wait4", pid, {}, 0, null)
          return { held, after: yield* describe() }
        })
      )
      expect(got).toEqual({ held: 32, after: "ENOKEY" })
    })
  )

  it.effect("stays set once: after the container dies and its keys are released, a second KEYCTL_SET_CONTAINER_KEYRING is still EBUSY", () =>
    Effect.gen(function* () {
      const got = yield* withSys((sys) =>
        Effect.gen(function* () {
          const c = yield* sys.call("container_create", "once", 0, 0, 0, 0)
          const ring = yield* sys.call("add_key", "keyring", "once", null, 0, KEY_SPEC_SESSION_KEYRING)
          const first = yield* errno(sys.call("keyctl", KEYCTL_SET_CONTAINER_KEYRING, c, ring))
          const pid = yield* sys.call("fork_into_container", c, () => Effect.succeed(0))
          yield* sys.call("container_wait", c, {}, 0, null)
          yield* sys.call("wait4", pid, {}, 0, null)
          const again = yield* errno(sys.call("keyctl", KEYCTL_SET_CONTAINER_KEYRING, c, ring))
          yield* sys.call("keyctl", KEYCTL_UNLINK, ring, KEY_SPEC_SESSION_KEYRING)
          yield* sys.call("close", c)
          return { first, again }
        })
      )
      expect(got).toEqual({ first: 0, again: "EBUSY" })
    })
  )

  it.effect("is not kept for a container already dead: the command answers as before and holds nothing after it", () =>
    Effect.gen(function* () {
      const got = yield* withSys((sys) =>
        Effect.gen(function* () {
          const c = yield* sys.call("container_create", "gone", 0, 0, 0, 0)
          const pid = yield* sys.call("fork_into_container", c, () => Effect.succeed(0))
          yield* sys.call("container_wait", c, {}, 0, null)
          yield* sys.call("wait4", pid, {}, 0, null)
          const ring = yield* sys.call("add_key", "keyring", "late", null, 0, KEY_SPEC_SESSION_KEYRING)
          const upcall = yield* sys.call("add_key", "keyring", "late-upcall", null, 0, KEY_SPEC_SESSION_KEYRING)
          const set = yield* errno(sys.call("keyctl", KEYCTL_SET_CONTAINER_KEYRING, c, ring))
          const trap = yield* errno(sys.call("keyctl", KEYCTL_CONTAINER_INTERCEPT, c, "user", 0, upcall))
          yield* sys.call("keyctl", KEYCTL_UNLINK, ring, KEY_SPEC_SESSION_KEYRING)
          yield* sys.call("keyctl", KEYCTL_UNLINK, upcall, KEY_SPEC_SESSION_KEYRING)
          const describe = (id: number) => errno(sys.call("keyctl", KEYCTL_DESCRIBE, id, new Uint8Array(64), 64))
          return { set, trap, ring: yield* describe(ring), upcall: yield* describe(upcall) }
        })
      )
      expect(got).toEqual({ set: 0, trap: 0, ring: "ENOKEY", upcall: "ENOKEY" })
    })
  )
})

/** A buffer of `size` bytes holding `text` at its start, as the kernel leaves an output buffer. */
const filledBuffer = (text: string | Uint8Array, size: number): Uint8Array => {
  const b = new Uint8Array(size)
  b.set(typeof text === "string" ? enc.encode(text) : text)
  return b
}

describe("add_key, request_key and keyctl in strace's notation", () => {
  it("print as strace 6 prints them on Linux 6.18: commands, KEY_SPEC_* ids, permissions and filled buffers by name", () => {
    const lines = [
      formatSyscall(1, "keyctl", [KEYCTL_JOIN_SESSION_KEYRING, null], 817313183),
      formatSyscall(1, "keyctl", [KEYCTL_GET_KEYRING_ID, KEY_SPEC_SESSION_KEYRING, 1], 817313183),
      formatSyscall(1, "keyctl", [KEYCTL_GET_KEYRING_ID, -9, 0], sysError("EINVAL")),
      formatSyscall(1, "add_key", ["keyring", "_container", null, 0, KEY_SPEC_SESSION_KEYRING], 525232916),
      formatSyscall(1, "add_key", ["user", "foobar", enc.encode("wibble"), 6, KEY_SPEC_SESSION_KEYRING], 377686761),
      formatSyscall(1, "add_key", ["user", "x".repeat(40), new Uint8Array(40).map((_, i) => i % 2), 40, KEY_SPEC_USER_KEYRING], 164176225),
      formatSyscall(1, "add_key", ["user", "y", null, 0, 1234], sysError("ENOKEY")),
      formatSyscall(1, "request_key", ["user", "foobar", null, 0], 377686761),
      formatSyscall(1, "request_key", ["user", "foobar", null, KEY_SPEC_SESSION_KEYRING], 377686761),
      formatSyscall(1, "request_key", ["user", "nosuch", "info", 0], sysError("ENOENT")),
      formatSyscall(1, "keyctl", [KEYCTL_READ, 377686761, filledBuffer("wibble", 64), 64], 6),
      formatSyscall(1, "keyctl", [KEYCTL_DESCRIBE, 377686761, filledBuffer("user;0;0;3f010000;foobar\0", 64), 64], 25),
      formatSyscall(1, "keyctl", [KEYCTL_LINK, 525232916, KEY_SPEC_SESSION_KEYRING], 0),
      formatSyscall(1, "keyctl", [KEYCTL_LINK, 377686761, 0], sysError("EINVAL")),
      formatSyscall(1, "keyctl", [KEYCTL_UNLINK, 377686761, KEY_SPEC_SESSION_KEYRING], 0),
      formatSyscall(1, "keyctl", [KEYCTL_SEARCH, KEY_SPEC_SESSION_KEYRING, "user", "nosuch", KEY_SPEC_SESSION_KEYRING], sysError("ENOKEY")),
      formatSyscall(1, "keyctl", [KEYCTL_SETPERM, 377686761, 0x3f010000], sysError("EACCES")),
      formatSyscall(1, "keyctl", [KEYCTL_SETPERM, 377686761, 0], 0),
      formatSyscall(1, "keyctl", [KEYCTL_SETPERM, 377686761, 0x40000040], sysError("EINVAL")),
      formatSyscall(1, "keyctl", [KEYCTL_CHOWN, 377686761, -1, -1], 0),
      formatSyscall(1, "keyctl", [KEYCTL_REVOKE, 377686761], sysError("EACCES")),
      formatSyscall(1, "keyctl", [KEYCTL_SET_REQKEY_KEYRING, -1], 0),
      formatSyscall(1, "keyctl", [KEYCTL_SET_REQKEY_KEYRING, 99], sysError("EINVAL")),
      formatSyscall(1, "keyctl", [KEYCTL_REJECT, 377686761, 10, 22, KEY_SPEC_SESSION_KEYRING], sysError("EPERM")),
      formatSyscall(1, "keyctl", [KEYCTL_CAPABILITIES, filledBuffer(new Uint8Array([0xeb, 0x03]), 64), 64], 2),
      formatSyscall(1, "keyctl", [KEYCTL_CAPABILITIES, null, 0], 2)
    ]
    expect(lines).toEqual([
      "[pid 1] keyctl(KEYCTL_JOIN_SESSION_KEYRING, NULL) = 817313183",
      "[pid 1] keyctl(KEYCTL_GET_KEYRING_ID, KEY_SPEC_SESSION_KEYRING, 1) = 817313183",
      "[pid 1] keyctl(KEYCTL_GET_KEYRING_ID, -9, 0) = -1 EINVAL (Invalid argument)",
      '[pid 1] add_key("keyring", "_container", NULL, 0, KEY_SPEC_SESSION_KEYRING) = 525232916',
      '[pid 1] add_key("user", "foobar", "wibble", 6, KEY_SPEC_SESSION_KEYRING) = 377686761',
      `[pid 1] add_key("user", "${"x".repeat(32)}"..., "${"\\0\\1".repeat(16)}"..., 40, KEY_SPEC_USER_KEYRING) = 164176225`,
      '[pid 1] add_key("user", "y", NULL, 0, 1234) = -1 ENOKEY (Required key not available)',
      '[pid 1] request_key("user", "foobar", NULL, 0) = 377686761',
      '[pid 1] request_key("user", "foobar", NULL, KEY_SPEC_SESSION_KEYRING) = 377686761',
      '[pid 1] request_key("user", "nosuch", "info", 0) = -1 ENOENT (No such file or directory)',
      '[pid 1] keyctl(KEYCTL_READ, 377686761, "wibble", 64) = 6',
      '[pid 1] keyctl(KEYCTL_DESCRIBE, 377686761, "user;0;0;3f010000;foobar", 64) = 25',
      "[pid 1] keyctl(KEYCTL_LINK, 525232916, KEY_SPEC_SESSION_KEYRING) = 0",
      "[pid 1] keyctl(KEYCTL_LINK, 377686761, 0) = -1 EINVAL (Invalid argument)",
      "[pid 1] keyctl(KEYCTL_UNLINK, 377686761, KEY_SPEC_SESSION_KEYRING) = 0",
      '[pid 1] keyctl(KEYCTL_SEARCH, KEY_SPEC_SESSION_KEYRING, "user", "nosuch", KEY_SPEC_SESSION_KEYRING) = -1 ENOKEY (Required key not available)',
      "[pid 1] keyctl(KEYCTL_SETPERM, 377686761, KEY_POS_VIEW|KEY_POS_READ|KEY_POS_WRITE|KEY_POS_SEARCH|KEY_POS_LINK|KEY_POS_SETATTR|KEY_USR_VIEW) = -1 EACCES (Permission denied)",
      "[pid 1] keyctl(KEYCTL_SETPERM, 377686761, 0) = 0",
      "[pid 1] keyctl(KEYCTL_SETPERM, 377686761, 0x40000040 /* KEY_??? */) = -1 EINVAL (Invalid argument)",
      "[pid 1] keyctl(KEYCTL_CHOWN, 377686761, -1, -1) = 0",
      "[pid 1] keyctl(KEYCTL_REVOKE, 377686761) = -1 EACCES (Permission denied)",
      "[pid 1] keyctl(KEYCTL_SET_REQKEY_KEYRING, KEY_REQKEY_DEFL_NO_CHANGE) = 0",
      "[pid 1] keyctl(KEYCTL_SET_REQKEY_KEYRING, 99 /* KEY_REQKEY_DEFL_??? */) = -1 EINVAL (Invalid argument)",
      "[pid 1] keyctl(KEYCTL_REJECT, 377686761, 10, EINVAL, KEY_SPEC_SESSION_KEYRING) = -1 EPERM (Operation not permitted)",
      "[pid 1] keyctl(KEYCTL_CAPABILITIES, [KEYCTL_CAPS0_CAPABILITIES|KEYCTL_CAPS0_PERSISTENT_KEYRINGS|KEYCTL_CAPS0_PUBLIC_KEY|KEYCTL_CAPS0_INVALIDATE|KEYCTL_CAPS0_RESTRICT_KEYRING|KEYCTL_CAPS0_MOVE, KEYCTL_CAPS1_NS_KEYRING_NAME|KEYCTL_CAPS1_NS_KEY_TAG], 64) = 2",
      "[pid 1] keyctl(KEYCTL_CAPABILITIES, NULL, 0) = 2"
    ])
  })

  it("print the seed's container commands with the cfd, the subject by its type and the ACE bits by name", () => {
    expect([
      formatSyscall(1, "keyctl", [KEYCTL_SET_CONTAINER_KEYRING, 3, 525232916], 0),
      formatSyscall(1, "keyctl", [KEYCTL_CONTAINER_INTERCEPT, 3, "user", 0, 7], 0),
      formatSyscall(1, "keyctl", [KEYCTL_CONTAINER_INTERCEPT, 3, null, 0, 0], 1),
      formatSyscall(1, "keyctl", [KEYCTL_GRANT_PERMISSION, 525232916, KEY_ACE_SUBJ_CONTAINER, 3, KEY_ACE_SEARCH], 0),
      formatSyscall(1, "keyctl", [KEYCTL_GRANT_PERMISSION, 7, KEY_ACE_SUBJ_CONTAINER_NAME, "foo-test", KEY_ACE_VIEW | KEY_ACE_SEARCH | KEY_ACE_READ | KEY_ACE_LINK], 0),
      formatSyscall(1, "keyctl", [KEYCTL_QUERY_REQUEST_KEY_AUTH, 9, { op: "create", target_key: 8 }], 0),
      formatSyscall(1, "keyctl", [999, 3, 4, 5, 6], sysError("EOPNOTSUPP"))
    ]).toEqual([
      "[pid 1] keyctl(KEYCTL_SET_CONTAINER_KEYRING, 3, 525232916) = 0",
      '[pid 1] keyctl(KEYCTL_CONTAINER_INTERCEPT, 3, "user", 0, 7) = 0',
      "[pid 1] keyctl(KEYCTL_CONTAINER_INTERCEPT, 3, NULL, 0, 0) = 1",
      "[pid 1] keyctl(KEYCTL_GRANT_PERMISSION, 525232916, KEY_ACE_SUBJ_CONTAINER, 3, KEY_ACE_SEARCH) = 0",
      '[pid 1] keyctl(KEYCTL_GRANT_PERMISSION, 7, KEY_ACE_SUBJ_CONTAINER_NAME, "foo-test", KEY_ACE_VIEW|KEY_ACE_READ|KEY_ACE_SEARCH|KEY_ACE_LINK) = 0',
      "[pid 1] keyctl(KEYCTL_QUERY_REQUEST_KEY_AUTH, 9, {op=create, target_key=8}) = 0",
      "[pid 1] keyctl(999, 3, 4, 5, 6) = -1 EOPNOTSUPP (Operation not supported)"
    ])
  })

  it.effect("are traced as the supervisor makes them", () =>
    Effect.gen(function* () {
      const trace: Array<string> = []
      const ids = yield* withSys(
        (sys) =>
          Effect.gen(function* () {
            const c = yield* sys.call("container_create", "foo-test", 0, 0, 0, 0)
            const { ring, foobar, upcall } = yield* sampleKeys(sys, c)
            yield* readKey(sys, foobar)
            return { c, ring, foobar, upcall }
          }),
        (line) => trace.push(line)
      )
      const ses = trace[1]!.slice(trace[1]!.lastIndexOf(" ") + 1)
      expect(trace).toEqual([
        `[pid 1] container_create("foo-test", 0, 0, 0, 0) = ${ids.c}`,
        `[pid 1] keyctl(KEYCTL_JOIN_SESSION_KEYRING, NULL) = ${ses}`,
        `[pid 1] add_key("keyring", "_container", NULL, 0, KEY_SPEC_SESSION_KEYRING) = ${ids.ring}`,
        `[pid 1] keyctl(KEYCTL_GRANT_PERMISSION, ${ids.ring}, KEY_ACE_SUBJ_CONTAINER, ${ids.c}, KEY_ACE_SEARCH) = 0`,
        `[pid 1] keyctl(KEYCTL_SET_CONTAINER_KEYRING, ${ids.c}, ${ids.ring}) = 0`,
        `[pid 1] add_key("user", "foobar", "wibble", 6, ${ids.ring}) = ${ids.foobar}`,
        `[pid 1] keyctl(KEYCTL_GRANT_PERMISSION, ${ids.foobar}, KEY_ACE_SUBJ_CONTAINER_NAME, "foo-test", KEY_ACE_VIEW|KEY_ACE_READ|KEY_ACE_SEARCH|KEY_ACE_LINK) = 0`,
        `[pid 1] add_key("keyring", "upcall", NULL, 0, KEY_SPEC_SESSION_KEYRING) = ${ids.upcall}`,
        `[pid 1] keyctl(KEYCTL_CONTAINER_INTERCEPT, ${ids.c}, "user", 0, ${ids.upcall}) = 0`,
        `[pid 1] keyctl(KEYCTL_READ, ${ids.foobar}, "wibble", 64) = 6`
      ])
    })
  )
})
