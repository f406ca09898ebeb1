import { SysError } from "@simkernel/abi"
import { assertNoLeaks, type LiveObjects, LiveObjects as LiveObjectsCtor, Refcounted } from "@simkernel/kref"
import { createScenarioWorld } from "@simkernel/vfs"
import { Effect } from "effect"
import { TestClock } from "effect/testing"
import { bootOnVfsWorld, Kernel, type KernelOptions, type Process, type Program } from "../src/index.js"

/**
 * Boot a kernel, run `init` as PID 1, shut down and audit: every task
 * reaped, every namespace freed. Returns PID 1's wait status and the kernel.
 */
export const runInit = (init: Program, options: KernelOptions = {}) =>
  Effect.gen(function* () {
    const k = yield* Kernel.boot(options)
    const status = yield* k.run(init)
    yield* k.shutdown()
    assertNoLeaks(k.live)
    // a program that failed with an errno it did not handle is a test bug
    if (k.log.length > 0) return yield* Effect.die(k.log.join("\n"))
    return { status, kernel: k }
  })

/** The errno a failed Effect gives, or "ok". */
export const errnoOf = <A>(e: Effect.Effect<A, SysError>): Effect.Effect<string> =>
  Effect.match(e, { onFailure: (err) => err.errno, onSuccess: () => "ok" })

/** A child that exits at once with `code`. */
export const exitWith = (code: number): Program => () => Effect.succeed(code)

/** A child that sleeps in pause() until a signal kills it. */
export const pauser: Program = (p: Process) => Effect.forever(p.pause().pipe(Effect.ignore))

/** A stand-in fs_struct (the VFS's FsStruct in the kernel app). */
export class FakeFs extends Refcounted {
  readonly kind = "FsStruct"
  constructor(readonly live: LiveObjects) {
    super(live)
  }
  copy(): FakeFs {
    return new FakeFs(this.live)
  }
  get users(): number {
    return this.count()
  }
}

/** Run `init` while the test drives the clock: settle, advance, settle... then shut down. */
export const runWithClock = (init: Program, steps: ReadonlyArray<number>, options: KernelOptions = {}) =>
  Effect.gen(function* () {
    const k = yield* Kernel.boot(options)
    yield* k.start(init)
    for (const ms of steps) {
      yield* k.settle()
      yield* TestClock.adjust(ms)
    }
    const status = yield* k.waitInit()
    yield* k.shutdown()
    assertNoLeaks(k.live)
    if (k.log.length > 0) return yield* Effect.die(k.log.join("\n"))
    return { status, kernel: k }
  })

/**
 * Boot a kernel on a VFS (a scenario world: tmpfs at /, PID 1's mount
 * namespace and fs_struct), run `init` as PID 1, shut down, audit leaks.
 */
export const runVfsInit = (init: Program, options: KernelOptions = {}) =>
  Effect.gen(function* () {
    const registry = new LiveObjectsCtor()
    const world = createScenarioWorld({ registry })
    const k = yield* bootOnVfsWorld(world, options)
    const status = yield* k.run(init)
    yield* k.shutdown()
    world.vfs.shutdown()
    assertNoLeaks(registry)
    if (k.log.length > 0) return yield* Effect.die(k.log.join("\n"))
    return { status, kernel: k }
  })
