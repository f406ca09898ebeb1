import { type Cred, createInitCred, createInitUserNs, type UserNamespace } from "@simkernel/cred"
import { LiveObjects } from "@simkernel/kref"
import { nsKinds, NsProxy } from "@simkernel/nsproxy"
import { Effect, Exit, Scope } from "effect"

/**
 * The running kernel: what boot made and what shutdown tears down. Every
 * object registers in `live`; shutdown closes `scope` (each subsystem's
 * teardown, newest first) and then audits `live`.
 */
export interface Kernel {
  readonly live: LiveObjects
  readonly scope: Scope.Closeable
  /** init_user_ns. */
  readonly initUserNs: UserNamespace
  /** The first task's credentials (init_cred) and namespaces (init_nsproxy). */
  readonly init: { cred: Cred; nsproxy: NsProxy | undefined }
}

export interface ShutdownReport {
  /** Survivors of the leak audit: zero on a clean shutdown. */
  readonly leaked: number
  /** The audit as printed: "leak audit: 0 live objects" or one line per survivor. */
  readonly audit: string
}

/** Boot: the initial user namespace, init's credentials and namespaces, each released by the kernel's scope. */
export const boot = Effect.fnUntraced(function* (options: { readonly live?: LiveObjects } = {}) {
  const live = options.live ?? new LiveObjects()
  const scope = yield* Scope.make()
  const initUserNs = createInitUserNs({ registry: live })
  yield* Scope.addFinalizer(scope, Effect.sync(() => void initUserNs.put()))
  const init = { cred: createInitCred(initUserNs), nsproxy: NsProxy.createInit(initUserNs, nsKinds()) as NsProxy | undefined }
  yield* Scope.addFinalizer(
    scope,
    Effect.sync(() => {
      init.nsproxy?.put()
      init.nsproxy = undefined
      init.cred.put()
    })
  )
  const kernel: Kernel = { live, scope, initUserNs, init }
  return kernel
})

/** Shut the kernel down: release everything it holds, then audit what is left. */
export const shutdown = Effect.fnUntraced(function* (kernel: Kernel) {
  yield* Scope.close(kernel.scope, Exit.void)
  const report: ShutdownReport = { leaked: kernel.live.size(), audit: kernel.live.report() }
  return report
})
