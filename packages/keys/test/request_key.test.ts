import { describe, expect, it } from "@effect/vitest"
import {
  KEY_POS_ALL,
  KEY_SPEC_PROCESS_KEYRING,
  KEY_SPEC_REQKEY_AUTH_KEY,
  KEY_SPEC_REQUESTOR_KEYRING,
  KEY_SPEC_SESSION_KEYRING,
  KEY_SPEC_THREAD_KEYRING,
  KEY_USR_VIEW,
  KEY_REQKEY_DEFL_DEFAULT,
  KEY_REQKEY_DEFL_GROUP_KEYRING,
  KEY_REQKEY_DEFL_NO_CHANGE,
  KEY_REQKEY_DEFL_THREAD_KEYRING,
  KEYCTL_ASSUME_AUTHORITY,
  KEYCTL_INSTANTIATE,
  KEYCTL_NEGATE,
  KEYCTL_READ,
  KEYCTL_REJECT,
  KEYCTL_SET_REQKEY_KEYRING,
  KEYCTL_SETPERM,
  KEYCTL_GET_KEYRING_ID
} from "@simkernel/abi"
import { keyctl, procKeys, type RequestKeyUpcall } from "../src/index.js"
import { bytes, errno, text, world } from "./fixture.js"

describe("request_key", () => {
  it("checks its arguments in Linux's order", () => {
    const w = world()
    const t = w.user()
    expect(errno(w.keys.requestKey(t, null, "d", null, 0))).toBe("EFAULT")
    expect(errno(w.keys.requestKey(t, "", "d", null, 0))).toBe("EINVAL")
    expect(errno(w.keys.requestKey(t, ".request_key_auth", "d", null, 0))).toBe("EPERM")
    expect(errno(w.keys.requestKey(t, "user", null, null, 0))).toBe("EFAULT")
    expect(errno(w.keys.requestKey(t, "user", "d", "x".repeat(4096), 0))).toBe("EINVAL")
    expect(errno(w.keys.requestKey(t, "user", "d", null, 777))).toBe("ENOKEY")
    expect(errno(w.keys.requestKey(t, "nosuchtype", "d", "info", 0))).toBe("ENOKEY")
    expect(errno(w.keys.requestKey(t, "keyring", "d", "info", 0))).toBe("EPERM")
    expect(errno(w.keys.requestKey(t, "user", "d", null, 0))).toBe("ENOKEY")
    w.teardown()
  })

  it("searches the thread, process and session keyrings and links a found key into the destination", () => {
    const w = world()
    const t = w.user()
    const inProc = w.keys.addKey(t, "user", "p", bytes("1"), 1, KEY_SPEC_PROCESS_KEYRING) as number
    const inThread = w.keys.addKey(t, "user", "p", bytes("2"), 1, KEY_SPEC_THREAD_KEYRING) as number
    expect(w.keys.requestKey(t, "user", "p", null, 0)).toBe(inThread)
    const nested = w.keys.addKey(t, "keyring", "nest", null, 0, KEY_SPEC_SESSION_KEYRING) as number
    const deep = w.keys.addKey(t, "user", "deep", bytes("3"), 1, nested) as number
    expect(w.keys.requestKey(t, "user", "deep", null, KEY_SPEC_PROCESS_KEYRING)).toBe(deep)
    const ring = new Uint8Array(16)
    expect(keyctl(w.keys, t, KEYCTL_READ, [KEY_SPEC_PROCESS_KEYRING, ring, 16])).toBe(8)
    expect([...new Int32Array(ring.buffer, 0, 2)].sort()).toEqual([inProc, deep].sort())
    w.teardown()
  })

  it("without a request-key handler, construction fails with ENOKEY and leaves a negative key for 60 s", () => {
    const w = world()
    const t = w.user()
    expect(errno(w.keys.requestKey(t, "user", "missing", "callout", 0))).toBe("ENOKEY")
    expect(procKeys(w.keys, t)).toMatch(/ I--Q-N-     1   1m 3f010000  1000  1000 user      missing\n/)
    // the negative key answers without another upcall
    expect(errno(w.keys.requestKey(t, "user", "missing", null, 0))).toBe("ENOKEY")
    w.now += 60
    expect(errno(w.keys.requestKey(t, "user", "missing", null, 0))).toBe("EKEYEXPIRED")
    w.teardown()
  })

  it("runs the /sbin/request-key handler, which instantiates or rejects with the request's authority", () => {
    const calls: Array<RequestKeyUpcall> = []
    const w = world({
      requestKeyHelper: (u) => {
        calls.push(u)
        if (u.description === "good") expect(u.instantiate(bytes(`made:${u.calloutInfo}`))).toBeUndefined()
        else if (u.description === "bad") expect(u.reject(10, "EKEYREJECTED")).toBeUndefined()
      }
    })
    const t = w.user()
    const id = w.keys.requestKey(t, "user", "good", "hello", 0) as number
    expect(typeof id).toBe("number")
    const b = new Uint8Array(32)
    expect(text(b, keyctl(w.keys, t, KEYCTL_READ, [id, b, 32]) as number)).toBe("made:hello")
    expect(calls[0]).toMatchObject({ op: "create", keyId: id, type: "user", uid: 1000, gid: 1000 })
    // the authority is used up
    expect(errno(calls[0]!.instantiate(bytes("again")))).toBe("EKEYREVOKED")
    expect(errno(w.keys.requestKey(t, "user", "bad", "x", 0))).toBe("EKEYREJECTED")
    expect(errno(w.keys.requestKey(t, "user", "silent", "x", 0))).toBe("ENOKEY")
    w.teardown()
  })

  it("SET_REQKEY_KEYRING chooses where constructed keys go and returns the old setting", () => {
    const w = world({ requestKeyHelper: (u) => void u.instantiate(bytes("v")) })
    const t = w.user()
    expect(keyctl(w.keys, t, KEYCTL_SET_REQKEY_KEYRING, [KEY_REQKEY_DEFL_NO_CHANGE])).toBe(KEY_REQKEY_DEFL_DEFAULT)
    expect(errno(keyctl(w.keys, t, KEYCTL_SET_REQKEY_KEYRING, [KEY_REQKEY_DEFL_GROUP_KEYRING]))).toBe("EINVAL")
    expect(errno(keyctl(w.keys, t, KEYCTL_SET_REQKEY_KEYRING, [99]))).toBe("EINVAL")
    expect(keyctl(w.keys, t, KEYCTL_SET_REQKEY_KEYRING, [KEY_REQKEY_DEFL_THREAD_KEYRING])).toBe(KEY_REQKEY_DEFL_DEFAULT)
    const id = w.keys.requestKey(t, "user", "x", "i", 0) as number
    const tid = keyctl(w.keys, t, KEYCTL_GET_KEYRING_ID, [KEY_SPEC_THREAD_KEYRING, 0]) as number
    const b = new Uint8Array(4)
    expect(keyctl(w.keys, t, KEYCTL_READ, [tid, b, 4])).toBe(4)
    expect(new Int32Array(b.buffer)[0]).toBe(id)
    expect(keyctl(w.keys, t, KEYCTL_SET_REQKEY_KEYRING, [KEY_REQKEY_DEFL_NO_CHANGE])).toBe(KEY_REQKEY_DEFL_THREAD_KEYRING)
    w.teardown()
  })

  it("construction needs WRITE on the destination and room in the quota", () => {
    const w = world({ requestKeyHelper: (u) => void u.instantiate(bytes("v")) })
    const t = w.user()
    const ses = keyctl(w.keys, t, KEYCTL_GET_KEYRING_ID, [KEY_SPEC_SESSION_KEYRING, 1]) as number
    expect(keyctl(w.keys, t, KEYCTL_SETPERM, [ses, (KEY_POS_ALL & ~0x04000000) | KEY_USR_VIEW])).toBe(0)
    expect(errno(w.keys.requestKey(t, "user", "x", "i", 0))).toBe("EACCES")
    expect(keyctl(w.keys, t, KEYCTL_SETPERM, [ses, KEY_POS_ALL])).toBe(0)
    w.keys.maxkeys = 3
    expect(errno(w.keys.requestKey(t, "user", "x", "i", 0))).toBe("EDQUOT")
    w.teardown()
  })

  it("NEGATE and REJECT need the assumed authority for that key", () => {
    const w = world()
    const t = w.user()
    expect(errno(keyctl(w.keys, t, KEYCTL_NEGATE, [5, 10, 0]))).toBe("EPERM")
    expect(errno(keyctl(w.keys, t, KEYCTL_REJECT, [5, 10, 99999, 0]))).toBe("EINVAL")
    expect(errno(keyctl(w.keys, t, KEYCTL_GET_KEYRING_ID, [KEY_SPEC_REQKEY_AUTH_KEY, 0]))).toBe("ENOKEY")
    expect(errno(keyctl(w.keys, t, KEYCTL_GET_KEYRING_ID, [KEY_SPEC_REQUESTOR_KEYRING, 0]))).toBe("ENOKEY")
    expect(errno(keyctl(w.keys, t, KEYCTL_ASSUME_AUTHORITY, [-1]))).toBe("EINVAL")
    expect(errno(keyctl(w.keys, t, KEYCTL_ASSUME_AUTHORITY, [12345]))).toBe("ENOKEY")
    expect(keyctl(w.keys, t, KEYCTL_ASSUME_AUTHORITY, [0])).toBe(0)
    expect(errno(keyctl(w.keys, t, KEYCTL_INSTANTIATE, [123, bytes("x"), 1, 0]))).toBe("EPERM")
    w.teardown()
  })
})
