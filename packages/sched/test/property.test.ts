import { describe, expect, it } from "@effect/vitest"
import { SIGKILL, WEXITSTATUS, WIFSIGNALED, WTERMSIG } from "@simkernel/abi"
import { Effect } from "effect"
import fc from "fast-check"
import type { Process, Program } from "../src/index.js"
import { runInit } from "./fixtures.js"

/** A random process tree: what each process does after forking its children. */
interface Node {
  readonly code: number
  /** Sleep in pause() until the parent kills it, instead of exiting. */
  readonly pauses: boolean
  /** Wait for the children (else they are orphaned to init). */
  readonly reaps: boolean
  readonly children: ReadonlyArray<Node>
}

const node: fc.Memo<Node> = fc.memo((depth) =>
  fc.record({
    code: fc.integer({ min: 0, max: 255 }),
    pauses: fc.boolean(),
    reaps: fc.boolean(),
    children: depth > 1 ? fc.array(node(depth - 1), { maxLength: 3 }) : fc.constant([])
  })
)

const program = (n: Node, trace: Array<string>): Program => (p: Process) =>
  Effect.gen(function* () {
    const me = yield* p.getpid()
    const kids: Array<readonly [number, Node]> = []
    for (const c of n.children) kids.push([yield* p.fork(program(c, trace)), c])
    if (n.reaps) {
      for (const [pid, c] of kids) {
        if (c.pauses) yield* p.kill(pid, SIGKILL)
        const w = yield* p.wait4(pid)
        const ok = c.pauses ? WIFSIGNALED(w.status) && WTERMSIG(w.status) === SIGKILL : WEXITSTATUS(w.status) === c.code
        trace.push(`${me} reaped ${pid} ${ok ? "as expected" : `with status ${w.status}`}`)
      }
    } else {
      for (const [pid, c] of kids) if (c.pauses) yield* p.kill(pid, SIGKILL)
    }
    if (n.pauses) yield* p.pause().pipe(Effect.ignore)
    return n.code
  })

describe("random process trees", () => {
  it.effect("every run reaps what it waits for with the right status, gives the same trace twice, and leaks nothing", () =>
    Effect.promise(() =>
      fc.assert(
        fc.asyncProperty(node(4), async (tree) => {
          const root: Node = { ...tree, pauses: false }
          const a: Array<string> = []
          const b: Array<string> = []
          await Effect.runPromise(runInit(program(root, a)))
          await Effect.runPromise(runInit(program(root, b)))
          expect(b).toEqual(a)
          for (const line of a) expect(line).toMatch(/as expected$/)
        }),
        { numRuns: 100 }
      )
    ))
})
