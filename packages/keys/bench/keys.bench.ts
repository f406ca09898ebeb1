import { defineBench } from "@simkernel/bench"
import { KEY_SPEC_SESSION_KEYRING } from "@simkernel/abi"
import { createInitCred, createInitUserNs } from "@simkernel/cred"
import { LiveObjects } from "@simkernel/kref"
import { Keys } from "@simkernel/keys"

export default defineBench("keys", (b) => {
  const map = new Map([["k", 1]])
  let sink = 0
  const lookup = (k: string): number => map.get(k) ?? 0
  b.anchor("plain function + Map.get", (n) => {
    for (let i = 0; i < n; i++) sink += lookup("k")
  })
  const registry = new LiveObjects()
  const ns = createInitUserNs({ registry })
  const task = { cred: createInitCred(ns) }
  const keys = new Keys({ registry, clock: () => 1000 })
  keys.maxkeys = keys.rootMaxkeys = 1 << 30
  const payload = new TextEncoder().encode("payload")
  keys.addKey(task, "user", "hit", payload, payload.length, KEY_SPEC_SESSION_KEYRING)
  b.bench(
    "add_key of an existing user key (update in place)",
    (n) => {
      for (let i = 0; i < n; i++) if (typeof keys.addKey(task, "user", "hit", payload, payload.length, KEY_SPEC_SESSION_KEYRING) === "number") sink++
    },
    { targetNs: 2000, note: "type and description checks, keyring lookup, WRITE check, payload copy" }
  )
  b.bench(
    "request_key hit in the session keyring",
    (n) => {
      for (let i = 0; i < n; i++) if (typeof keys.requestKey(task, "user", "hit", null, 0) === "number") sink++
    },
    { targetNs: 2000, note: "search of the caller's keyrings with SEARCH checks" }
  )
  if (sink === -1) console.log(sink)
})
