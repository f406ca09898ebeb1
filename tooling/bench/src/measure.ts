import type { Loop, Stopwatch } from "./index.js"

const now = (): number => Number(process.hrtime.bigint())

/** This process's CPU time (user + system) in ns: what it ran, not what the machine let it wait. */
const cpuNow = (): number => {
  const u = process.cpuUsage()
  return (u.user + u.system) * 1000
}

/** How a loop's time is read: wall-clock time, or the process's CPU time. */
export type Clock = "wall" | "cpu"

/** The Stopwatch a loop gets: sums the time it spent paused. */
class LoopStopwatch implements Stopwatch {
  paused = 0
  private pausedAt: number | undefined = undefined

  constructor(private readonly read: () => number) {}

  pause(): void {
    this.pausedAt ??= this.read()
  }

  resume(): void {
    if (this.pausedAt === undefined) return
    this.paused += this.read() - this.pausedAt
    this.pausedAt = undefined
  }
}

const timeLoop = async (loop: Loop, n: number, clock: Clock = "wall"): Promise<number> => {
  const read = clock === "cpu" ? cpuNow : now
  const watch = new LoopStopwatch(read)
  const start = read()
  const r = loop(n, watch)
  if (r !== undefined) await r
  watch.resume()
  return read() - start - watch.paused
}

/**
 * ns/op of a loop: grow the batch until one batch takes about `batchNs`,
 * then take the median of `rounds` batches.
 */
export const measureLoop = async (loop: Loop, batchNs = 20_000_000, rounds = 9, clock: Clock = "wall"): Promise<number> => {
  let n = 1
  let t = await timeLoop(loop, n, clock)
  while (t < batchNs / 4 && n < 1 << 30) {
    n *= t < batchNs / 100 ? 10 : 2
    t = await timeLoop(loop, n, clock)
  }
  n = Math.max(1, Math.round((n * batchNs) / Math.max(t, 1)))
  // warm up until the JIT has settled: at least 10 batches and 1 s (a shell pipeline needs about 0.6 s of running before its code is optimised)
  const warmStart = now()
  for (let i = 0; i < 10 || now() - warmStart < 1_000_000_000; i++) await timeLoop(loop, n, clock)
  // size the batch again now that the code is warm: a batch sized while cold is too small
  n = Math.max(1, Math.round((n * batchNs) / Math.max(await timeLoop(loop, n, clock), 1)))
  const samples: Array<number> = []
  for (let i = 0; i < rounds; i++) samples.push((await timeLoop(loop, n, clock)) / n)
  samples.sort((a, b) => a - b)
  return samples[Math.floor(samples.length / 2)]!
}
