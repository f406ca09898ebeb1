import { LiveObjects } from "@simkernel/kref"
import { Effect, Exit, Scope } from "effect"

/**
 * The running kernel: what boot made and what shutdown tears down. Each
 * subsystem's objects register in `live`; shutdown closes `scope` (every
 * subsystem's teardown, newest first) and then audits `live`.
 */
export interface Kernel {
  readonly live: LiveObjects
  readonly scope: Scope.Closeable
  readonly bootedAt: number
}

export interface ShutdownReport {
  /** Survivors of the leak audit: zero on a clean shutdown. */
  readonly leaked: number
  /** The audit as printed: "leak audit: 0 live objects" or one line per survivor. */
  readonly audit: string
}

/** Boot the kernel: compose every subsystem that exists into one scope. */
export const boot = Effect.fnUntraced(function* (options: { readonly live?: LiveObjects } = {}) {
  const scope = yield* Scope.make()
  const kernel: Kernel = { live: options.live ?? new LiveObjects(), scope, bootedAt: Date.now() }
  return kernel
})

/** Shut the kernel down: release everything it holds, then audit what is left. */
export const shutdown = Effect.fnUntraced(function* (kernel: Kernel) {
  yield* Scope.close(kernel.scope, Exit.void)
  const leaked = kernel.live.size()
  const report: ShutdownReport = { leaked, audit: kernel.live.report() }
  return report
})
