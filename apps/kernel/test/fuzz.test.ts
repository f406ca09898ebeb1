import { describe, expect, it } from "@effect/vitest"
import { FLAG_KINDS } from "@simkernel/abi"
import type { Process } from "@simkernel/sched"
import fc from "fast-check"
import { Cause, Effect, Exit } from "effect"
import { boot, shutdown, Syscalls, SYSCALL_TABLE } from "../src/index.js"
import { type ArgKind, SIGNATURES } from "../src/syscalls/signatures.js"

/*
 * Random syscalls with random arguments from one program: every call must
 * answer a number or an errno (never a JavaScript exception, never an oops
 * in the kernel log), the kernel must keep running, and shutdown must
 * leave nothing alive. Calls that block a lone task for good (read of an
 * empty pipe, pause, waits) or end the program (exit, execve) are left out.
 */
const BLOCKING = new Set(["pause", "read", "pread64", "readv", "wait4", "waitid", "nanosleep", "clock_nanosleep", "exit", "exit_group", "execve", "execveat", "vfork", "container_wait"])

const CALLS = SYSCALL_TABLE.filter((e) => e.handler !== undefined && !BLOCKING.has(e.name)).map((e) => e.name)

const PATHS = ["/", "", ".", "..", "/tmp", "/tmp/a", "/tmp/a/b", "a", "/dev/null", "/dev/full", "/dev/sda3", "/proc", "/proc/self", "/proc/self/fd/0", "/proc/1/ns/mnt", "/proc/sys/kernel/hostname", "/mnt", "/bin/sh", "/nonexistent/x", "x".repeat(300), "/tmp/" + "y".repeat(4100), "/tmp/../../..", "//tmp//a/"]

const flagsOf = (kind: keyof typeof FLAG_KINDS): fc.Arbitrary<number> => {
  const table = FLAG_KINDS[kind].table.map(([, v]) => v)
  return fc.oneof(fc.constant(0), fc.subarray(table).map((vs) => vs.reduce((a, v) => a | v, 0)), fc.integer(), fc.constantFrom(...(table.length > 0 ? table : [0])))
}

const fd = fc.oneof(fc.integer({ min: -2, max: 12 }), fc.constantFrom(-100, 9999, 2 ** 31 - 1, -(2 ** 31)))

const argOf = (kind: ArgKind): fc.Arbitrary<unknown> => {
  if (typeof kind === "object") return flagsOf(kind.flags)
  switch (kind) {
    case "fd":
    case "dirfd":
      return fd
    case "str":
      return fc.oneof(fc.constantFrom(...PATHS), fc.constant(null), fc.string({ maxLength: 12 }))
    case "buf":
      return fc.oneof(fc.uint8Array({ maxLength: 64 }), fc.constant(null), fc.constant("not a buffer"))
    case "int":
    case "perm":
      return fc.oneof(fc.integer({ min: -4, max: 4096 }), fc.integer(), fc.constant(-1))
    case "dev":
      return fc.integer({ min: 0, max: 0xfffff })
    case "struct":
    case "mount_attr":
      return fc.oneof(
        fc.constant(null),
        fc.record({ attr_set: fc.integer(), attr_clr: fc.integer(), propagation: fc.integer(), userns_fd: fd }),
        fc.constant({}),
        fc.constant([])
      )
    case "argv":
      return fc.array(fc.string({ maxLength: 6 }), { maxLength: 3 })
    case "envp":
      return fc.array(fc.string({ maxLength: 6 }), { maxLength: 2 })
    case "oflags":
      return flagsOf("open")
    case "wstatus":
      return fc.oneof(fc.constant(null), fc.constant({}))
    default:
      // kinds printed as numbers (key permissions, key ids, ...): any integer
      return fc.oneof(fc.integer({ min: -8, max: 8 }), fc.integer())
  }
}

const callArb: fc.Arbitrary<readonly [string, ReadonlyArray<unknown>]> = fc.constantFrom(...CALLS).chain((name) => {
  const sig = SIGNATURES[name]
  const args = sig === undefined ? fc.array(fc.oneof(fd, fc.constantFrom(...PATHS), fc.constant(null)), { maxLength: 5 }) : fc.tuple(...sig.args.map(([, kind]) => argOf(kind)))
  return args.map((a) => [name, a] as const)
})

interface Outcome {
  readonly defects: Array<string>
  readonly log: ReadonlyArray<string>
  readonly leaked: number
  readonly audit: string
}

const runCalls = (calls: ReadonlyArray<readonly [string, ReadonlyArray<unknown>]>): Effect.Effect<Outcome> =>
  Effect.gen(function* () {
    const defects: Array<string> = []
    const program = (proc: Process) =>
      Effect.gen(function* () {
        const sys = new Syscalls({ proc })
        for (const [name, args] of calls) {
          const exit = yield* Effect.exit(sys.call(name, ...args))
          if (Exit.isFailure(exit) && Cause.findErrorOption(exit.cause)._tag === "None" && !Cause.hasInterruptsOnly(exit.cause)) {
            defects.push(`${name}(${JSON.stringify(args).slice(0, 200)}): ${Cause.pretty(exit.cause).split("\n")[0]}`)
          }
        }
        return 0
      })
    const kernel = yield* boot({ init: program })
    yield* kernel.sched.waitInit()
    const log = [...kernel.sched.log]
    const report = yield* shutdown(kernel)
    return { defects, log, leaked: report.leaked, audit: report.audit }
  })

const fuzz = (prefix: ReadonlyArray<readonly [string, ReadonlyArray<unknown>]>, seed: number) =>
  Effect.promise(() =>
    fc.assert(
      fc.asyncProperty(fc.array(callArb, { minLength: 1, maxLength: 40 }), async (calls) => {
        const outcome = await Effect.runPromise(runCalls([...prefix, ...calls]))
        expect(outcome.defects).toEqual([])
        expect(outcome.log.filter((l) => l.startsWith("oops"))).toEqual([])
        expect(outcome.audit).toBe("leak audit: 0 live objects")
      }),
      { numRuns: 150, seed }
    )
  )

describe("syscall fuzzing", () => {
  it.effect("random calls with random arguments from root answer numbers or errnos, and leave nothing alive", () => fuzz([], 20261129), 120_000)

  it.effect("the same from an unprivileged user (uid 1000, no capabilities)", () => fuzz([["setgid", [1000]], ["setuid", [1000]]], 1129), 120_000)
})
