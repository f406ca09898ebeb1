import type { SysError } from "@simkernel/abi"
import { Effect } from "effect"
import { ArgError, type Decoded, decodeArgs, type Saved } from "./args.js"
import type { NormalisedMount, Scenario, ScenarioResult, Step, StepResult } from "./format.js"
import { normaliseMountinfo, parseMountinfo } from "./mountinfo.js"

/** Calls whose success is a new file descriptor: their result is recorded as "fd" (numbers differ between kernels). */
const RETURNS_FD = new Set(["fsopen", "fsmount", "fspick", "open_tree", "open_tree_attr", "openat", "nsfd", "container_create", "container_socket"])
/** Calls whose success is a pid, recorded as "pid". */
const RETURNS_PID = new Set(["fork", "fork_into_container"])
/** Steps that leave no result entry. */
const SILENT = new Set(["pause", "exit"])

/** A file's entry in the tree listing: `d 0755`, `f 0644 size=4`, `l 0777 -> target`, `c 0666 1:3`. */
export interface TreeEntry {
  readonly type: "d" | "f" | "l" | "c" | "b" | "p" | "s"
  readonly mode: number
  readonly size?: number
  readonly target?: string
  readonly rdev?: readonly [number, number]
}

/**
 * A process of the machine a scenario runs on: simkernel or, in principle,
 * anything else that can execute the calls. Every call answers with its
 * value or the errno Linux would give.
 */
export interface ScenarioProcess {
  /**
   * A real or observation call; an observation's result is its `ret` object.
   * An ArgError says the step cannot be run as written (a scenario error,
   * recorded as `runner_error`), e.g. a kill aimed at a process outside the
   * scenario.
   */
  call(name: string, args: ReadonlyArray<Decoded>): Effect.Effect<unknown, SysError | ArgError>
  /**
   * fork / fork_into_container: start a child that runs `body`, return its
   * pid once the child has exited or blocked (the ordering rule).
   */
  fork(name: string, args: ReadonlyArray<Decoded>, body: (child: ScenarioProcess) => Effect.Effect<void>): Effect.Effect<number, SysError>
  /** The `exit` step: end this process with `code`. */
  exit(code: number): Effect.Effect<never>
  /** /proc/self/mountinfo of this process. */
  mountinfo(): Effect.Effect<string, SysError>
  /** Directory entries of `path` (without "." and ".."), following mounts. */
  readdir(path: string): Effect.Effect<ReadonlyArray<string>, SysError>
  /** lstat(path) as a tree entry. */
  lstat(path: string): Effect.Effect<TreeEntry, SysError>
}

const TREE_LIMIT = 2000

const formatEntry = (e: TreeEntry): string => {
  const mode = (e.mode & 0o7777).toString(8).padStart(4, "0")
  const extra =
    e.type === "f" ? ` size=${e.size ?? 0}` : e.type === "l" ? ` -> ${e.target ?? ""}` : e.type === "c" || e.type === "b" ? ` ${e.rdev?.[0] ?? 0}:${e.rdev?.[1] ?? 0}` : ""
  return `${e.type} ${mode}${extra}`
}

/** The tree listing of FORMAT.md: every path under "/", following mounts, not symlinks, at most 2000 entries. */
export const listTree = (proc: ScenarioProcess): Effect.Effect<Record<string, string>> => {
  const tree: Record<string, string> = {}
  let count = 0
  const walk = (path: string): Effect.Effect<void> =>
    Effect.suspend(() => {
      if (count >= TREE_LIMIT) return Effect.void
      return proc.lstat(path).pipe(
        Effect.flatMap((entry) => {
          tree[path] = formatEntry(entry)
          count++
          if (entry.type !== "d") return Effect.void
          return Effect.flatMap(proc.readdir(path), (names) =>
            Effect.forEach([...names].sort(), (name) => walk(path === "/" ? `/${name}` : `${path}/${name}`), { discard: true })
          )
        }),
        // a path that vanished or cannot be read is left out, as a listing of the real kernel leaves it out
        Effect.orElseSucceed(() => undefined)
      )
    })
  return Effect.as(walk("/"), tree)
}

/** The normalised mount table of the process's mount namespace. */
export const mountTable = (proc: ScenarioProcess): Effect.Effect<Array<NormalisedMount>, SysError> =>
  Effect.map(proc.mountinfo(), (text) => normaliseMountinfo(parseMountinfo(text)))

const errnoOf = (e: SysError): string => e.errno

/** Steps only a forked child may take (FORMAT.md 5.1): the scenario process itself must not pause or exit. */
const CHILD_ONLY = new Set(["pause", "exit"])

/**
 * Run steps in one process (`top`: the scenario process); the results array
 * fills as they run. A fork's entry holds a copy of the child's results
 * taken when the fork step ends: what the child does after something wakes
 * it again is not recorded (FORMAT.md 5.2).
 */
const runSteps = (proc: ScenarioProcess, steps: ReadonlyArray<Step>, saved: Saved, results: Array<StepResult>, top: boolean): Effect.Effect<void> =>
  Effect.gen(function* () {
    for (const step of steps) {
      const args = decodeArgs(step.call, step.args ?? [], saved)
      if (!Array.isArray(args)) {
        results.push({ call: step.call, runner_error: args.message })
        if (step.save !== undefined) saved.set(step.save, -1)
        continue
      }
      if (top && CHILD_ONLY.has(step.call)) {
        results.push({ call: step.call, runner_error: `${step.call} is only allowed in a child's steps` })
        continue
      }
      if (step.call === "exit") return yield* proc.exit(Number(args[0] ?? 0))
      if (RETURNS_PID.has(step.call)) {
        const childResults: Array<StepResult> = []
        const childSaved: Saved = new Map(saved)
        if (step.save !== undefined) childSaved.set(step.save, 0)
        const pid = yield* Effect.result(
          proc.fork(step.call, args, (child) => runSteps(child, step.child ?? [], childSaved, childResults, false))
        )
        if (pid._tag === "Success") {
          // only the steps the child completed before this fork step ended (FORMAT.md 5.2):
          // what it does after something wakes it again is not recorded
          results.push({ call: step.call, ret: "pid", child: [...childResults] })
          if (step.save !== undefined) saved.set(step.save, pid.success)
        } else {
          results.push({ call: step.call, errno: errnoOf(pid.failure) })
          if (step.save !== undefined) saved.set(step.save, -1)
        }
        continue
      }
      const r = yield* Effect.result(step.call === "mountinfo" ? Effect.map(mountTable(proc), (mounts) => ({ mounts })) : proc.call(step.call, args))
      if (r._tag === "Failure") {
        if (r.failure instanceof ArgError) results.push({ call: step.call, runner_error: r.failure.message })
        else if (!SILENT.has(step.call)) results.push({ call: step.call, errno: errnoOf(r.failure) })
        if (step.save !== undefined) saved.set(step.save, -1)
        continue
      }
      if (step.save !== undefined) saved.set(step.save, typeof r.success === "number" ? r.success : -1)
      if (SILENT.has(step.call)) continue
      const ret = RETURNS_FD.has(step.call) ? "fd" : r.success
      results.push({ call: step.call, ret })
    }
  })

/**
 * Run one scenario in `proc` (the scenario process of a freshly booted
 * machine) and collect its results. `steps` receives the step results as
 * they complete, so a machine whose scenario never finishes (every process
 * blocked) can still report the steps that were done.
 */
export const runScenario = Effect.fnUntraced(function* (scenario: Scenario, proc: ScenarioProcess, steps: Array<StepResult> = []) {
  yield* runSteps(proc, scenario.steps, new Map(), steps, true)
  const mounts = yield* Effect.orElseSucceed(mountTable(proc), () => [] as Array<NormalisedMount>)
  const tree = yield* listTree(proc)
  const result: ScenarioResult = { steps, mounts, tree }
  return result
})

