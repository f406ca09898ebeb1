import { describe, expect, it } from "@effect/vitest"
import { SysError } from "@simkernel/abi"
import { KeyConstructionWait, keyctl, procKeys, procKeyUsers } from "../src/index.js"
import { world } from "./fixture.js"

/** A small seeded generator, so a failure repeats. */
const rng = (seed: number) => () => {
  seed ^= seed << 13
  seed ^= seed >>> 17
  seed ^= seed << 5
  return (seed >>> 0) / 4294967296
}

describe("random calls", () => {
  it("answer a number or a SysError, never throw, and leave no key alive after teardown", () => {
    for (const seed of [1, 2, 3, 4, 5]) {
      const w = world({ requestKeyHelper: (u) => void (u.description.length % 2 === 0 ? u.instantiate(new Uint8Array([1])) : u.reject(5)) })
      const r = rng(seed * 7919)
      const pick = <T>(xs: ReadonlyArray<T>): T => xs[Math.floor(r() * xs.length)]!
      const container = { name: "c" }
      const tasks = [w.root, w.user(), w.user(2000, 2000), w.user(1000, 1000)]
      tasks[3]!.keyContainer = container
      const ids: Array<number> = [-1, -2, -3, -4, -5, -6, -7, -8, 0, 5]
      const strings = [null, "", "user", "keyring", "logon", "a:b", "x", ".x", "*", "k".repeat(40)]
      const made: Array<number> = []
      const id = (): number => (made.length > 0 && r() < 0.6 ? pick(made.slice(-8)) : pick(ids))
      const arg = (): unknown => (r() < 0.6 ? id() : r() < 0.5 ? pick(strings) : r() < 0.5 ? new Uint8Array(Math.floor(r() * 8)) : Math.floor(r() * 70000) - 5)
      const waits: Array<KeyConstructionWait> = []
      let succeeded = 0
      for (let i = 0; i < 400; i++) {
        const t = pick(tasks)
        let out: unknown
        const which = r()
        const type = pick(["user", "keyring", "logon", ...strings])
        if (which < 0.25) out = w.keys.addKey(t, type, pick(strings), new Uint8Array(3), type === "keyring" ? 0 : Math.floor(r() * 5), id())
        else if (which < 0.35) out = w.keys.requestKey(t, type, pick(strings), pick(strings), r() < 0.5 ? 0 : id())
        else {
          const cmd = r() < 0.9 ? Math.floor(r() * 34) : 1031 + Math.floor(r() * 6)
          out = keyctl(w.keys, t, cmd, [arg(), arg(), arg(), arg()], (fd) => (fd === 3 ? container : new SysError({ errno: "EBADF", syscall: undefined, detail: undefined })))
        }
        if (out instanceof KeyConstructionWait) waits.push(out)
        else expect(typeof out === "number" || out instanceof SysError).toBe(true)
        if (typeof out === "number") succeeded++
        if (typeof out === "number" && out > 2) made.push(out)
        if (i % 50 === 0) w.now += Math.floor(r() * 400)
        if (i % 100 === 0) w.keys.gc()
      }
      for (const t of tasks) {
        expect(typeof procKeys(w.keys, t)).toBe("string")
        expect(typeof procKeyUsers(w.keys, t)).toBe("string")
      }
      // enough calls got through to reach past the argument checks
      expect(succeeded).toBeGreaterThan(20)
      for (const wait of waits) w.keys.requestKeyFinish(wait)
      w.teardown()
    }
  })
})
