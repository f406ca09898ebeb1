import { defineBench, nativeForkWait, type Stopwatch } from "@simkernel/bench"
import { CONTAINER_NEW_PID_NS, SIGKILL, type SysError } from "@simkernel/abi"
import { Containers } from "@simkernel/container"
import { bootOnVfsWorld, type Process, type Program } from "@simkernel/sched"
import { createScenarioWorld } from "@simkernel/vfs"
import { Effect } from "effect"

/** Boot a kernel on a VFS (the scenario world's) with the container subsystem installed. */
const bootContainers = Effect.gen(function* () {
  const world = createScenarioWorld()
  const k = yield* bootOnVfsWorld(world)
  return { world, k, containers: Containers.install({ kernel: k }) }
})

/** Boot a kernel on a VFS with the container subsystem, run `init(containers)`, shut everything down. */
const withContainers = (init: (c: Containers) => Program): Promise<void> =>
  Effect.runPromise(
    Effect.gen(function* () {
      const { world, k, containers } = yield* bootContainers
      yield* k.run(init(containers))
      yield* k.shutdown()
      containers.shutdown()
      world.vfs.shutdown()
    })
  )

/** A job for a kernel that stays up: run by its PID 1. */
interface Job {
  readonly body: (p: Process, containers: Containers) => Effect.Effect<void, SysError>
  readonly resolve: () => void
  readonly reject: (e: unknown) => void
}

/**
 * One kernel (with its VFS and the container subsystem) booted once and kept
 * up: its PID 1 runs each job it is handed, so a measured loop pays for
 * the calls, not for a boot and a shutdown per batch.
 */
const kernelServer = (): ((body: Job["body"]) => Promise<void>) => {
  const queue: Array<Job> = []
  let wake: ((job: Job) => void) | undefined
  const next = (): Promise<Job> =>
    new Promise((resolve) => {
      const job = queue.shift()
      if (job !== undefined) resolve(job)
      else wake = resolve
    })
  // booted at the first job, so rows measured before do not share a heap with it
  let ready: Promise<void> | undefined
  const boot = (): Promise<void> =>
    Effect.runPromise(
      Effect.gen(function* () {
        const { k, containers } = yield* bootContainers
        yield* k.start((p) =>
          Effect.forever(
            Effect.flatMap(Effect.promise(next), (job) =>
              Effect.match(job.body(p, containers), { onFailure: (e) => job.reject(e), onSuccess: () => job.resolve() })
            )
          )
        )
      })
    )
  return (body) =>
    (ready ??= boot()).then(
      () =>
        new Promise<void>((resolve, reject) => {
          const job: Job = { body, resolve, reject }
          const w = wake
          wake = undefined
          if (w !== undefined) w(job)
          else queue.push(job)
        })
    )
}

const exit0: Program = () => Effect.succeed(0)
const pauser: Program = (p: Process) => p.pause()

/** container_create + close, n times. */
const createLoop = (n: number) => (p: Process, containers: Containers): Effect.Effect<void, SysError> =>
  Effect.gen(function* () {
    for (let i = 0; i < n; i++) yield* p.close(yield* containers.create(p.task, "bench", 0))
  })

/** n times: a container, fork_into_container + _exit(0), container_wait, waitpid, close (the container dies with its only member). */
const forkIntoLoop = (n: number) => (p: Process, containers: Containers): Effect.Effect<void, SysError> =>
  Effect.gen(function* () {
    const t = p.task
    for (let i = 0; i < n; i++) {
      const cfd = yield* containers.create(t, "bench", 0)
      const pid = yield* containers.forkInto(t, cfd, exit0)
      yield* containers.wait(t, cfd, 0)
      yield* p.wait4(pid)
      yield* p.close(cfd)
    }
  })

/** fork + _exit(0) + waitpid on the same simulated kernel: the same-run simulated anchor. */
const forkLoop = (n: number) => (p: Process): Effect.Effect<void, SysError> =>
  Effect.gen(function* () {
    for (let i = 0; i < n; i++) yield* p.wait4(yield* p.fork(exit0))
  })

/**
 * A NEW_PID_NS container whose init has `size - 1` pausing children;
 * container_kill(cfd, 0, SIGKILL) every member, container_wait, reap init.
 * Only the kill is timed: from container_kill until waitpid has reaped init
 * (the boot, the forks of the members and a full GC after them are left out).
 */
const killContainer = (size: number, watch: Stopwatch) => (containers: Containers): Program => (p) =>
  Effect.gen(function* () {
    const t = p.task
    const cfd = yield* containers.create(t, "bench", CONTAINER_NEW_PID_NS)
    const init = yield* containers.forkInto(t, cfd, (q) =>
      Effect.gen(function* () {
        for (let i = 1; i < size; i++) yield* q.fork(pauser)
        return yield* pauser(q)
      })
    )
    // start the kill from a collected heap: the garbage of the forks is not the kill's
    ;(globalThis as { gc?: () => void }).gc?.()
    watch.resume()
    containers.kill(t, cfd, 0, SIGKILL)
    yield* containers.wait(t, cfd, 0)
    yield* p.wait4(init)
    watch.pause()
    yield* p.close(cfd)
    return 0
  })

export default defineBench("container", (b) => {
  const map = new Map([["k", 1]])
  let sink = 0
  const lookup = (k: string): number => map.get(k) ?? 0
  b.anchor("plain function + Map.get", (n) => {
    for (let i = 0; i < n; i++) sink += lookup("k")
  })
  b.native(nativeForkWait)

  // first, before the kernel kept up for the other rows adds its heap to every collection
  b.scaling(
    "kill a container of N members (container_kill all with SIGKILL, container_wait; setup not timed)",
    (size) => async (n, watch) => {
      for (let i = 0; i < n; i++) {
        watch.pause()
        await withContainers(killContainer(size, watch))
      }
    },
    // the words: 2N within 2.2x of N, at each doubling up to 100,000
    { sizes: [12_500, 25_000, 50_000, 100_000], maxRatio: 1.1, shape: "linear", against: "previous", clock: "cpu" }
  )

  const server = kernelServer()
  b.anchor("fork+exit+wait (simulated, same kernel)", (n) => server(forkLoop(n)))
  b.bench("container_create + close (simulated)", (n) => server(createLoop(n)), { targetNs: 5000 })
  b.bench("container_create + fork_into_container + exit + container_wait + waitpid + close (simulated)", (n) => server(forkIntoLoop(n)), {
    vs: nativeForkWait.name,
    targetRatio: 0.1
  })

  if (sink === -1) console.log(sink)
})
