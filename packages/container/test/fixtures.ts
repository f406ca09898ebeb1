import type { SysError } from "@simkernel/abi"
import { assertNoLeaks, LiveObjects } from "@simkernel/kref"
import { NetNamespace, netNamespaceOps } from "@simkernel/net"
import type { NamespaceOps } from "@simkernel/nsproxy"
import { bootOnVfsWorld, type Kernel, type Process, type Program } from "@simkernel/sched"
import { type ContainerHooks, LsmRegistry } from "@simkernel/security"
import { createScenarioWorld } from "@simkernel/vfs"
import { Effect } from "effect"
import { Containers } from "../src/index.js"

export interface Booted {
  readonly kernel: Kernel
  readonly containers: Containers
  readonly lsm: LsmRegistry<ContainerHooks>
  readonly registry: LiveObjects
}

/**
 * Boot a kernel on a VFS (tmpfs at /) with mount and network namespaces,
 * install the container subsystem, run `init(b)` as PID 1, then shut down
 * (kernel, containers, VFS) and audit: zero live objects. Returns PID 1's
 * wait status.
 */
export const runWith = (init: (b: Booted) => Program, options: { seed?: number; lsm?: LsmRegistry<ContainerHooks> } = {}) =>
  Effect.gen(function* () {
    const registry = new LiveObjects()
    const world = createScenarioWorld({ registry })
    const kernel = yield* bootOnVfsWorld(world, {
      seed: options.seed,
      namespaces: { net: [netNamespaceOps as unknown as NamespaceOps, NetNamespace.createInit(world.userNs)] }
    })
    const lsm = options.lsm ?? new LsmRegistry<ContainerHooks>()
    const containers = Containers.install({ kernel, lsm })
    const b: Booted = { kernel, containers, lsm, registry }
    const status = yield* kernel.run(init(b))
    yield* kernel.shutdown()
    containers.shutdown()
    world.vfs.shutdown()
    assertNoLeaks(registry)
    if (kernel.log.length > 0) return yield* Effect.die(kernel.log.join("\n"))
    return status
  })

/** The errno a failed Effect gives, or "ok". */
export const errnoOf = <A>(e: Effect.Effect<A, SysError>): Effect.Effect<string> =>
  Effect.match(e, { onFailure: (err) => err.errno, onSuccess: () => "ok" })

/** The errno of a plain result, or "ok". */
export const errnoOfSync = (r: unknown): string =>
  r !== null && typeof r === "object" && "errno" in r ? String((r as SysError).errno) : "ok"

/** A program that sleeps in pause() until a signal kills it. */
export const pauser: Program = (p: Process) => Effect.forever(p.pause().pipe(Effect.ignore))

/** A program that exits at once with `code`. */
export const exitWith = (code: number): Program => () => Effect.succeed(code)
