import { defineBench } from "@simkernel/bench"
import { LiveObjects, Refcounted } from "@simkernel/kref"

class Obj extends Refcounted {
  readonly kind = "BenchObj"
}

export default defineBench("kref", (b) => {
  const map = new Map([["k", 1]])
  let sink = 0
  const lookup = (k: string): number => map.get(k) ?? 0
  b.anchor("plain function + Map.get", (n) => {
    for (let i = 0; i < n; i++) sink += lookup("k")
  })

  const registry = new LiveObjects()
  const obj = new Obj(registry)
  b.bench(
    "get+put pair",
    (n) => {
      for (let i = 0; i < n; i++) obj.get().put()
    },
    { targetNs: 30 }
  )

  b.bench("new object + last put (register, free, unregister)", (n) => {
    for (let i = 0; i < n; i++) new Obj(registry).put()
  })

  if (sink === -1) console.log(sink)
})
