import { defineBench, nativeForkWait } from "@simkernel/bench"
import { CLONE_NEWPID, SIGCHLD, SIGKILL } from "@simkernel/abi"
import { bootOnVfsWorld, Kernel, type Process, type Program } from "@simkernel/sched"
import { createScenarioWorld } from "@simkernel/vfs"
import { Effect } from "effect"

// Both processes are pinned to one CPU: across two CPUs the round trip here
// is dominated by waking an idle CPU (about 44 us measured, against about
// 4 us on one CPU), and the simulated kernel runs its tasks on one thread.
const nativePipe = `
#define _GNU_SOURCE
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
static void full(int fd, char *buf, int n, int rd) {
  int got = 0;
  while (got < n) {
    int r = rd ? read(fd, buf + got, n - got) : write(fd, buf + got, n - got);
    if (r <= 0) exit(3);
    got += r;
  }
}
int main(void) {
  int n = 100000;
  int ab[2], ba[2];
  char buf[64] = {0};
  cpu_set_t one;
  CPU_ZERO(&one);
  CPU_SET(0, &one);
  sched_setaffinity(0, sizeof one, &one);
  if (pipe(ab) || pipe(ba)) return 1;
  pid_t pid = fork();
  if (pid < 0) return 1;
  if (pid == 0) {
    for (int i = 0; i < n; i++) { full(ab[0], buf, 64, 1); full(ba[1], buf, 64, 0); }
    _exit(0);
  }
  struct timespec a, b;
  clock_gettime(CLOCK_MONOTONIC, &a);
  for (int i = 0; i < n; i++) { full(ab[1], buf, 64, 0); full(ba[0], buf, 64, 1); }
  clock_gettime(CLOCK_MONOTONIC, &b);
  int status;
  waitpid(pid, &status, 0);
  printf("ns_per_op %f\\n", ((b.tv_sec - a.tv_sec) * 1e9 + (b.tv_nsec - a.tv_nsec)) / n);
  return 0;
}
`

/** Boot a kernel on a VFS, run `init`, shut down. */
const withVfsKernel = (init: Program): Promise<void> =>
  Effect.runPromise(
    Effect.gen(function* () {
      const world = createScenarioWorld()
      const k = yield* bootOnVfsWorld(world)
      yield* k.run(init)
      yield* k.shutdown()
      world.vfs.shutdown()
    })
  )

/** n round trips of 64 bytes between PID 1 and a child, over two pipes. */
const pipeLoop = (n: number): Program => (p) =>
  Effect.gen(function* () {
    const [abR, abW] = yield* p.pipe()
    const [baR, baW] = yield* p.pipe()
    const buf = new Uint8Array(64)
    const c = yield* p.fork((c) =>
      Effect.gen(function* () {
        const cbuf = new Uint8Array(64)
        for (let i = 0; i < n; i++) {
          yield* c.read(abR, cbuf)
          yield* c.write(baW, cbuf)
        }
        return 0
      })
    )
    for (let i = 0; i < n; i++) {
      yield* p.write(abW, buf)
      yield* p.read(baR, buf)
    }
    yield* p.wait4(c)
    return 0
  })

const exit0: Program = () => Effect.succeed(0)
/** Sleeps in pause(2) until a signal kills it. */
const pauser: Program = (p: Process) => p.pause()

/** Boot a kernel, run `init`, shut down. */
const withKernel = (init: Program): Promise<void> =>
  Effect.runPromise(
    Effect.gen(function* () {
      const k = yield* Kernel.boot()
      yield* k.run(init)
      yield* k.shutdown()
    })
  )

/** fork + _exit(0) + waitpid, n times, as PID 1. */
const forkLoop = (n: number): Program => (p) =>
  Effect.gen(function* () {
    for (let i = 0; i < n; i++) yield* p.wait4(yield* p.fork(exit0))
    return 0
  })

/** A PID namespace whose init has `size - 1` children pausing; SIGKILL to its init from outside, then wait. */
const killNamespace = (size: number): Program => (p) =>
  Effect.gen(function* () {
    const r = yield* p.clone3({ flags: CLONE_NEWPID, exitSignal: SIGCHLD }, (init) =>
      Effect.gen(function* () {
        for (let i = 1; i < size; i++) yield* init.fork(pauser)
        return yield* pauser(init)
      })
    )
    yield* p.kill(r.pid, SIGKILL)
    yield* p.wait4(r.pid)
    return 0
  })

export default defineBench("sched", (b) => {
  const map = new Map([["k", 1]])
  let sink = 0
  const lookup = (k: string): number => map.get(k) ?? 0
  b.anchor("plain function + Map.get", (n) => {
    for (let i = 0; i < n; i++) sink += lookup("k")
  })
  b.native(nativeForkWait)

  b.bench("fork+exit+wait (simulated)", (n) => withKernel(forkLoop(n)), {
    vs: nativeForkWait.name,
    targetRatio: 0.1
  })

  b.native({ name: "real pipe round trip (64 bytes, two processes on one CPU)", source: nativePipe })
  b.bench("pipe round trip, 64 bytes between two tasks (simulated)", (n) => withVfsKernel(pipeLoop(n)), {
    vs: "real pipe round trip (64 bytes, two processes on one CPU)",
    targetRatio: 1.0
  })

  b.memory(
    "100,000 live tasks (blocked in pause)",
    () =>
      Effect.runPromise(
        Effect.gen(function* () {
          const k = yield* Kernel.boot()
          yield* k.start((p) =>
            Effect.gen(function* () {
              for (let i = 0; i < 99_999; i++) yield* p.fork(pauser)
              return yield* pauser(p)
            })
          )
          yield* k.settle()
          return k
        })
      ),
    { targetBytes: 300 * 1024 * 1024 }
  )

  b.scaling(
    "kill a PID namespace of N tasks (create, SIGKILL its init, wait)",
    (size) => async (n) => {
      for (let i = 0; i < n; i++) {
        // start each namespace from a collected heap, so old-space GC steps do not land on one size only
        ;(globalThis as { gc?: () => void }).gc?.()
        await withKernel(killNamespace(size))
      }
    },
    { sizes: [10_000, 20_000, 50_000, 100_000], maxRatio: 1.1, shape: "linear" }
  )
  if (sink === -1) console.log(sink)
})
