import { Context, Effect, Layer } from "effect"
import { Kernel, type KernelOptions } from "./Kernel.js"

/**
 * The scheduler of one kernel as a service: Kernel.boot() when the Layer
 * is built, Kernel.shutdown() (every task killed and reaped, the initial
 * namespaces released) when it is released. `options` is an Effect so the
 * caller can build them from other services (the registry, the VFS).
 */
export class SchedKernel extends Context.Service<SchedKernel, Kernel>()("@simkernel/sched/Kernel") {
  static readonly layer = <E, R>(options: Effect.Effect<KernelOptions, E, R>): Layer.Layer<SchedKernel, E, R> =>
    Layer.effect(
      SchedKernel,
      Effect.flatMap(options, (opts) => Effect.acquireRelease(Kernel.boot(opts), (kernel) => kernel.shutdown()))
    )
}
