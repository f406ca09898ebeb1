import { CAP_NET_ADMIN, CAP_SYS_ADMIN } from "@simkernel/abi"
import { defineBench } from "@simkernel/bench"
import {
  commitCreds,
  createInitCred,
  createInitUserNs,
  type Cred,
  makeKuid,
  nsCapable,
  prepareCreds,
  procGidMapWrite,
  procSetgroupsWrite,
  procUidMapWrite,
  setresuid,
  unshareUserns
} from "@simkernel/cred"
import { LiveObjects } from "@simkernel/kref"
import { Effect } from "effect"

/**
 * A task three user namespaces below the initial one: uid 1000 unshares and
 * maps root to itself, then does the same twice more (as `unshare -r` would).
 */
const threeDeep = (root: Cred): { cred: Cred } => {
  const task = { cred: root.get() }
  Effect.runSync(setresuid(task, 1000, 1000, 1000))
  let uid = 1000
  for (let level = 0; level < 3; level++) {
    commitCreds(task, Effect.runSync(unshareUserns(task.cred)))
    const ns = task.cred.userNs
    Effect.runSync(procSetgroupsWrite(ns, "deny", task.cred))
    Effect.runSync(procUidMapWrite(ns, `0 ${uid} 1`, task.cred))
    // The task kept gid 0 throughout.
    Effect.runSync(procGidMapWrite(ns, "0 0 1", task.cred))
    uid = 0
  }
  return task
}

export default defineBench("cred", (b) => {
  const map = new Map([["k", 1]])
  let sink = 0
  const lookup = (k: string): number => map.get(k) ?? 0
  b.anchor("plain function + Map.get", (n) => {
    for (let i = 0; i < n; i++) sink += lookup("k")
  })

  const init = createInitUserNs({ registry: new LiveObjects() })
  const root = createInitCred(init)
  const deep = threeDeep(root)
  const deepNs = deep.cred.userNs

  b.bench(
    "nsCapable: task 3 user namespaces deep, in its own namespace",
    (n) => {
      for (let i = 0; i < n; i++) if (nsCapable(deep.cred, deepNs, CAP_NET_ADMIN)) sink++
    },
    { targetNs: 50 }
  )

  b.bench(
    "nsCapable: initial root over a namespace 3 levels down (walks 3 parents)",
    (n) => {
      for (let i = 0; i < n; i++) if (nsCapable(root, deepNs, CAP_SYS_ADMIN)) sink++
    },
    { targetNs: 50 }
  )

  b.bench(
    "nsCapable: task 3 deep asking for the initial namespace (denied)",
    (n) => {
      for (let i = 0; i < n; i++) if (nsCapable(deep.cred, init, CAP_SYS_ADMIN)) sink++
    },
    { targetNs: 50 }
  )

  const holder = { cred: root.get() }
  b.bench(
    "prepareCreds + commitCreds",
    (n) => {
      for (let i = 0; i < n; i++) commitCreds(holder, prepareCreds(holder.cred))
    },
    { targetNs: 300 }
  )

  b.bench("makeKuid in a namespace 3 levels deep", (n) => {
    for (let i = 0; i < n; i++) sink += makeKuid(deepNs, 0)
  })

  const toggler = { cred: root.get() }
  b.bench("seteuid toggle 0 <-> 1000 (setresuid(-1, e, -1)) through Effect.runSync", (n) => {
    for (let i = 0; i < n; i++) Effect.runSync(setresuid(toggler, -1, (i & 1) === 0 ? 1000 : 0, -1))
  })

  if (sink === -1) console.log(sink)
})
