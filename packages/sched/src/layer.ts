import type { NamespaceOps } from "@simkernel/nsproxy"
import { mntNamespaceOps, type VfsWorld } from "@simkernel/vfs"
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

/**
 * Boot a kernel on a vfs scenario world: the world's user namespace,
 * mount namespace, fs_struct and Vfs become PID 1's (the mount namespace
 * and fs_struct taken over), and the world's task drops its other
 * references (files, IPC namespace, credentials, user namespace), which the
 * kernel now holds itself. Other namespaces in `options.namespaces` (a net
 * one, say) are added beside the mount namespace.
 */
export const bootOnVfsWorld = (world: VfsWorld, options: KernelOptions = {}): Effect.Effect<Kernel> =>
  Effect.map(
    Kernel.boot({
      ...options,
      initUserNs: world.userNs,
      namespaces: { ...options.namespaces, mnt: [mntNamespaceOps as unknown as NamespaceOps, world.task.mntNs] },
      fs: world.task.fs,
      vfs: world.vfs
    }),
    (kernel) => {
      world.task.files.put()
      world.task.ipcNs.put()
      world.task.cred.put()
      world.userNs.put()
      return kernel
    }
  )
