import { describe, expect, it } from "@effect/vitest"
import { sysError, type SysError } from "@simkernel/abi"
import { Effect } from "effect"
import type { Decoded } from "../src/conformance/args.js"
import { runScenario, type ScenarioProcess, type TreeEntry } from "../src/conformance/runner.js"

/** A toy machine: fds are counted up, fsopen knows only tmpfs, close checks the fd, fork runs the child at once. */
const toy = (): ScenarioProcess & { readonly log: Array<string> } => {
  const open = new Set<number>()
  let next = 3
  let pid = 100
  const log: Array<string> = []
  const files: Record<string, TreeEntry> = {
    "/": { type: "d", mode: 0o755 },
    "/f": { type: "f", mode: 0o644, size: 4 },
    "/l": { type: "l", mode: 0o777, target: "f" },
    "/null": { type: "c", mode: 0o666, rdev: [1, 3] }
  }
  const proc: ScenarioProcess & { readonly log: Array<string> } = {
    log,
    call: (name: string, args: ReadonlyArray<Decoded>): Effect.Effect<unknown, SysError> => {
      log.push(`${name}(${args.map((a) => JSON.stringify(a)).join(", ")})`)
      switch (name) {
        case "fsopen":
          if (args[0] !== "tmpfs") return Effect.fail(sysError("ENODEV"))
          open.add(next)
          return Effect.succeed(next++)
        case "close":
          return open.delete(args[0] as number) ? Effect.succeed(0) : Effect.fail(sysError("EBADF"))
        case "getpid":
          return Effect.succeed(1)
        case "stat":
          return Effect.succeed({ type: "d", mode: "0755" })
        default:
          return Effect.fail(sysError("ENOSYS"))
      }
    },
    fork: (_name, _args, body) => Effect.as(body(proc), pid++),
    exit: () => Effect.die("exit is the toy's end"),
    mountinfo: () => Effect.succeed("21 20 0:5 / / rw,relatime - tmpfs none rw,mode=755\n"),
    readdir: (path) => Effect.succeed(path === "/" ? ["null", "l", "f"] : []),
    lstat: (path) => (files[path] ? Effect.succeed(files[path]!) : Effect.fail(sysError("ENOENT")))
  }
  return proc
}

describe("the scenario runner", () => {
  it.effect("records fds as \"fd\", errnos by name, saves values and -1 for failures", () =>
    Effect.gen(function* () {
      const proc = toy()
      const r = yield* runScenario(
        {
          name: "t",
          steps: [
            { call: "fsopen", args: ["tmpfs", 0], save: "fs" },
            { call: "fsopen", args: ["nosuchfs", 0], save: "bad" },
            { call: "close", args: ["$fs"] },
            { call: "close", args: ["$bad"] },
            { call: "fsopen", args: ["tmpfs", "NO_SUCH_FLAG"] },
            { call: "stat", args: ["AT_FDCWD", "/", 0] },
            { call: "mountinfo", args: [] }
          ]
        },
        proc
      )
      expect(r.steps).toEqual([
        { call: "fsopen", ret: "fd" },
        { call: "fsopen", errno: "ENODEV" },
        { call: "close", ret: 0 },
        { call: "close", errno: "EBADF" },
        { call: "fsopen", runner_error: 'fsopen argument 2: cannot parse "NO_SUCH_FLAG"' },
        { call: "stat", ret: { type: "d", mode: "0755" } },
        {
          call: "mountinfo",
          ret: {
            mounts: [
              { id: "m0", parent: null, mountpoint: "/", root: "/", fstype: "tmpfs", source: "none", options: "rw,relatime", super: "rw,mode=755", sb: "sb0", propagation: "private" }
            ]
          }
        }
      ])
      expect(proc.log).toContain("close(3)")
      expect(proc.log).toContain("close(-1)")
      expect(r.tree).toEqual({ "/": "d 0755", "/f": "f 0644 size=4", "/l": "l 0777 -> f", "/null": "c 0666 1:3" })
      expect(Object.keys(r.tree)).toEqual(["/", "/f", "/l", "/null"])
      expect(r.mounts.length).toBe(1)
    })
  )

  it.effect("nests a child's results under its fork and saves 0 in the child, the pid in the parent", () =>
    Effect.gen(function* () {
      const proc = toy()
      const r = yield* runScenario(
        {
          name: "f",
          steps: [
            { call: "fork", save: "p", child: [{ call: "getpid" }, { call: "close", args: ["$p"] }, { call: "pause" }] },
            { call: "close", args: ["$p"] }
          ]
        },
        proc
      )
      expect(r.steps).toEqual([
        { call: "fork", ret: "pid", child: [{ call: "getpid", ret: 1 }, { call: "close", errno: "EBADF" }] },
        { call: "close", errno: "EBADF" }
      ])
      expect(proc.log).toContain("close(0)")
      expect(proc.log).toContain("close(100)")
    })
  )
})
