import { describe, expect, it } from "@effect/vitest"
import { LiveObjects, Registry } from "@simkernel/kref"
import { SchedKernel } from "@simkernel/sched"
import { VfsWorldService } from "@simkernel/vfs"
import { Effect, Exit, Layer } from "effect"
import { attachDisks, boot, kernelLayer } from "../src/index.js"

describe("boot as Layers", () => {
  it.effect("kernelLayer provides the registry, the VFS and the scheduler; releasing it is shutdown", () =>
    Effect.gen(function* () {
      const live = new LiveObjects()
      const seen = yield* Effect.provide(
        Effect.gen(function* () {
          const sched = yield* SchedKernel
          const world = yield* VfsWorldService
          const registry = yield* Registry
          return { comm: sched.initTask.comm, sameVfs: sched.vfs === world.vfs, registry, alive: live.size() }
        }),
        kernelLayer({ live })
      )
      expect(seen.comm).toBe("init")
      expect(seen.sameVfs).toBe(true)
      expect(seen.registry).toBe(live)
      expect(seen.alive).toBeGreaterThan(0)
      expect(live.report()).toBe("leak audit: 0 live objects")
    })
  )

  it.effect("a boot that fails part way releases what it had built", () =>
    Effect.gen(function* () {
      const live = new LiveObjects()
      const first = attachDisks([])
      const second = attachDisks([])
      if (!Array.isArray(first) || !Array.isArray(second)) return expect.fail("attachDisks")
      // the same device number twice: attaching the second disk fails after the VFS and the scheduler were built
      const exit = yield* Effect.exit(boot({ live, disks: [...first, ...second] }))
      expect(Exit.isFailure(exit)).toBe(true)
      expect(String(Exit.isFailure(exit) ? exit.cause : "")).toContain("attach sda3")
      expect(live.report()).toBe("leak audit: 0 live objects")
    })
  )

  it.effect("each package's Layer works on its own: a VFS without a kernel", () =>
    Effect.gen(function* () {
      const live = new LiveObjects()
      const alive = yield* Effect.scoped(
        Effect.gen(function* () {
          yield* Layer.build(VfsWorldService.layer().pipe(Layer.provide(Registry.layer(live))))
          return live.size()
        })
      )
      expect(alive).toBeGreaterThan(0)
      expect(live.size()).toBe(0)
    })
  )
})
