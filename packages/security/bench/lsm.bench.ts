import { defineBench } from "@simkernel/bench"
import type { SysError } from "@simkernel/abi"
import { LsmRegistry } from "@simkernel/security"

type Hooks = { readonly sb_mount: (fstype: string) => SysError | undefined; readonly task_kill: (sig: number) => SysError | undefined }

export default defineBench("security", (b) => {
  const map = new Map([["k", 1]])
  let sink = 0
  const lookup = (k: string): number => map.get(k) ?? 0
  b.anchor("plain function + Map.get", (n) => {
    for (let i = 0; i < n; i++) sink += lookup("k")
  })
  const lsm = new LsmRegistry<Hooks>()
  lsm.register({ name: "a", hooks: { sb_mount: (fs) => (fs === "x" ? undefined : undefined) } })
  lsm.register({ name: "b", hooks: { sb_mount: () => undefined } })
  b.bench(
    "callInt with two modules allowing",
    (n) => {
      for (let i = 0; i < n; i++) if (lsm.callInt("sb_mount", "tmpfs") === undefined) sink++
    },
    { targetNs: 50, note: "on every mount, kill, container_create" }
  )
  b.bench(
    "callInt of a hook no module implements",
    (n) => {
      for (let i = 0; i < n; i++) if (lsm.callInt("task_kill", 9) === undefined) sink++
    },
    { targetNs: 20 }
  )
  if (sink === -1) console.log(sink)
})
