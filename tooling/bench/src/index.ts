/**
 * Benchmarks are declared per package in bench/*.bench.ts and run by
 * `pnpm bench`. Every row is reported in ns/op and as a ratio to each anchor
 * measured in the same run, so results compare across machines.
 */

/**
 * Leaves per-iteration setup out of a loop's time: pause() before the
 * setup, resume() after it. The loop's time is its run minus the paused spans.
 */
export interface Stopwatch {
  pause(): void
  resume(): void
}

/** A loop body: runs the operation n times. May be async. */
export type Loop = (n: number, watch: Stopwatch) => void | Promise<void>

export interface BenchOptions {
  /** Target in ns/op (the row passes when ns/op <= targetNs). */
  readonly targetNs?: number
  /** Target as a ratio to the named anchor (ns/op of the row / ns/op of the anchor). */
  readonly vs?: string
  readonly targetRatio?: number
  /** Set up state once; the loop receives what it returns. */
  readonly note?: string
}

export interface MemoryOptions {
  /** Target in bytes of heap retained by what `build` returns. */
  readonly targetBytes: number
  readonly note?: string
}

export interface ScalingOptions {
  /** The sizes to measure, e.g. [1000, 2000]; each gets a row. */
  readonly sizes: ReadonlyArray<number>
  /** Largest ratio time(size[i]) / time(size[0]) * size[0] / size[i] allowed (1.1 = within 10%). */
  readonly maxRatio: number
  /** "linear": time grows with size; "flat": time must not grow with size. */
  readonly shape: "linear" | "flat"
  /**
   * What each size is held against: "first" (default) the first size, so
   * every row is within maxRatio of the shape from size[0]; "previous" the
   * size before it, for targets worded per step ("2N within 2.2x of N").
   */
  readonly against?: "first" | "previous"
  /**
   * "wall" (default) times with the wall clock; "cpu" with the process's CPU
   * time, for rows long enough that time the machine gives to others would
   * otherwise decide the ratio.
   */
  readonly clock?: "wall" | "cpu"
  readonly note?: string
}

export interface NativeAnchor {
  readonly name: string
  /** A C program that prints one line `ns_per_op <float>`; compiled with cc when present. */
  readonly source: string
  /** Needs root (namespaces, mounts)? Skipped with a message otherwise. */
  readonly needsRoot?: boolean
}

export type Case =
  | { readonly type: "anchor"; readonly name: string; readonly loop: Loop }
  | { readonly type: "native"; readonly anchor: NativeAnchor }
  | { readonly type: "bench"; readonly name: string; readonly loop: Loop; readonly options: BenchOptions }
  | {
      readonly type: "memory"
      readonly name: string
      readonly build: () => unknown | Promise<unknown>
      readonly options: MemoryOptions
    }
  | {
      readonly type: "scaling"
      readonly name: string
      readonly make: (size: number) => Loop | Promise<Loop>
      readonly options: ScalingOptions
    }

export interface Suite {
  readonly name: string
  readonly cases: ReadonlyArray<Case>
}

export interface SuiteBuilder {
  /** A reference operation measured in the same run (e.g. Map.get, node:fs open+close). */
  anchor(name: string, loop: Loop): void
  /** A real-kernel anchor from a small C program (skipped, and said so, without cc or root). */
  native(anchor: NativeAnchor): void
  bench(name: string, loop: Loop, options?: BenchOptions): void
  memory(name: string, build: () => unknown | Promise<unknown>, options: MemoryOptions): void
  scaling(name: string, make: (size: number) => Loop | Promise<Loop>, options: ScalingOptions): void
}

export const defineBench = (name: string, body: (b: SuiteBuilder) => void): Suite => {
  const cases: Array<Case> = []
  body({
    anchor: (n, loop) => void cases.push({ type: "anchor", name: n, loop }),
    native: (anchor) => void cases.push({ type: "native", anchor }),
    bench: (n, loop, options = {}) => void cases.push({ type: "bench", name: n, loop, options }),
    memory: (n, build, options) => void cases.push({ type: "memory", name: n, build, options }),
    scaling: (n, make, options) => void cases.push({ type: "scaling", name: n, make, options })
  })
  return { name, cases }
}

export { measureLoop } from "./measure.js"
export { nativeForkWait } from "./anchors.js"
