import { Registry } from "@simkernel/kref"
import { Context, Effect, Layer } from "effect"
import { createScenarioWorld, type ScenarioWorldOptions, type VfsWorld } from "./world.js"

/**
 * The VFS of one kernel as a service: the initial mount namespace on a
 * tmpfs root, the first task's view of it, and the initial user
 * namespace, made in the Registry's objects. Releasing the Layer drops the
 * first task's references and shuts the VFS down (every mount released),
 * so a kernel built on it releases its tasks first.
 */
export class VfsWorldService extends Context.Service<VfsWorldService, VfsWorld>()("@simkernel/vfs/VfsWorld") {
  static readonly layer = (options: Omit<ScenarioWorldOptions, "registry"> = {}): Layer.Layer<VfsWorldService, never, Registry> =>
    Layer.effect(
      VfsWorldService,
      Registry.use((registry) =>
        Effect.acquireRelease(
          Effect.sync(() => createScenarioWorld({ ...options, registry })),
          (world) => Effect.sync(() => world.destroy())
        )
      )
    )
}
