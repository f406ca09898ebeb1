/**
 * Helpers the kernel's tests share: booting a kernel around a PID 1 body
 * and auditing it for leaks at shutdown, errno of a call, and the small
 * programs (cat, echo, touch, pipe, fork-and-wait) tests run as a task.
 */
import { expect, it } from "@effect/vitest"
import { AT_FDCWD, FSCONFIG_CMD_CREATE, O_CLOEXEC, O_CREAT, O_RDONLY, O_WRONLY, SIGCHLD, type SysError, WEXITSTATUS } from "@simkernel/abi"
import { commitCreds, type Kgid, prepareCreds } from "@simkernel/cred"
import { copyProcess, type Process, type Program, type Task } from "@simkernel/sched"
import { close, listDirectory, mkdev, openat, read, readlinkat, write } from "@simkernel/vfs"
import { Effect } from "effect"
import { diffScenario } from "../src/conformance/check.js"
import type { ResultsFile, ScenarioFile } from "../src/conformance/format.js"
import { runSchedScenario } from "../src/conformance/schedMachine.js"
import { type BlockDevice, registerExt4 } from "../src/disk/index.js"
import { boot, type Kernel, onConsole, shutdown } from "../src/Kernel.js"
import { asTask } from "../src/procfs/index.js"
import { Syscalls } from "../src/syscalls/table.js"
import { runScript } from "../src/userland/sh/run.js"

const enc = new TextEncoder()
const dec = new TextDecoder()

/** Boot with PID 1 running `body` against its syscall interface, then shut down with a clean leak audit; what body returned. */
export const withSys = <A>(body: (sys: Syscalls, proc: Process) => Effect.Effect<A, SysError>, tracer?: (line: string) => void) =>
  Effect.gen(function* () {
    let out: A | undefined
    const kernel = yield* boot({
      init: (proc) =>
        Effect.gen(function* () {
          out = yield* body(new Syscalls({ proc }, tracer), proc)
          return 0
        })
    })
    yield* kernel.sched.waitInit()
    const report = yield* shutdown(kernel)
    expect(report.audit).toBe("leak audit: 0 live objects")
    return out as A
  })

/** Boot with PID 1 running `body`; shut down, audit, and hand back what it returned (checked to be there, outside the kernel). */
export const withInit = <A>(body: (sys: Syscalls, proc: Process) => Effect.Effect<A, SysError>) =>
  Effect.gen(function* () {
    let out: A | undefined
    const kernel = yield* boot({
      init: (proc) =>
        Effect.map(body(new Syscalls({ proc }), proc), (a) => {
          out = a
          return 0
        })
    })
    yield* kernel.sched.waitInit()
    const report = yield* shutdown(kernel)
    expect(report.audit).toBe("leak audit: 0 live objects")
    expect(out).toBeDefined()
    return out as A
  })

/** Boot with `body` as PID 1, check the leak audit after it, and give back its result; a failed call of PID 1's fails the test, named. */
export const asInit = <A>(body: (sys: Syscalls, proc: Process) => Effect.Effect<A, SysError>) =>
  Effect.gen(function* () {
    const result: { value?: A; error?: string } = {}
    const kernel = yield* boot({ init: (proc) => Effect.match(body(new Syscalls({ proc }), proc), { onSuccess: (a) => ((result.value = a), 0), onFailure: (e) => ((result.error = e.message), 1) }) })
    yield* kernel.sched.waitInit()
    const report = yield* shutdown(kernel)
    expect(report.audit).toBe("leak audit: 0 live objects")
    expect(result.error).toBeUndefined()
    return result.value as A
  })

/** Run a shell script (or a program) as PID 1 on a fresh kernel: what /dev/console received and the exit status; nothing may leak. */
export const sh = (script: string | Program) =>
  Effect.gen(function* () {
    let out = ""
    const run: Program = typeof script === "string" ? (p) => runScript(p, script) : script
    const kernel = yield* boot({ init: onConsole(run), console: (b) => (out += dec.decode(b)) })
    const status = yield* kernel.sched.waitInit()
    const report = yield* shutdown(kernel)
    expect(report.audit).toBe("leak audit: 0 live objects")
    return { out, status: WEXITSTATUS(status) }
  })

/** Boot a kernel with ext4 registered and `device` added in place of any with its number; `t` is PID 1 as the VFS sees it. */
export const bootWith = (device: BlockDevice) =>
  Effect.gen(function* () {
    const kernel = yield* boot()
    const t = kernel.sched.initTask.vfsTask()
    const ext4 = registerExt4(kernel.vfs, { currentTask: () => t })
    const old = ext4.device(mkdev(device.major, device.minor))
    if (old !== undefined) expect(ext4.removeDevice(old)).toBeUndefined()
    expect(ext4.addDevice(device)).toBeUndefined()
    return { kernel, t, ext4 }
  })

/** Shut `kernel` down and require a clean leak audit. */
export const finish = Effect.fnUntraced(function* (kernel: Kernel) {
  const report = yield* shutdown(kernel)
  expect(report.audit).toBe("leak audit: 0 live objects")
  expect(report.leaked).toBe(0)
})

/** The errno a call fails with, or what it returned. */
export const errno = <A>(e: Effect.Effect<A, SysError>): Effect.Effect<string | A> => Effect.match(e, { onFailure: (x) => x.errno, onSuccess: (a) => a })

/** The errno a call fails with, or `success` (so a test can assert on either). */
export const errnoOf = <A>(call: Effect.Effect<A, SysError>, success = "succeeded"): Effect.Effect<string> =>
  Effect.match(call, { onSuccess: () => success, onFailure: (e) => e.errno })

/** Whether a plain result is a SysError. */
export const isErr = (v: unknown): v is SysError => typeof v === "object" && v !== null && "errno" in v

/** The errno of a plain result that is a SysError, or undefined for any other value. */
export const errnoIn = (r: unknown): string | undefined => (isErr(r) ? r.errno : undefined)

/** A plain result that must not be a SysError. */
export const ok = <A>(r: A | SysError): A => {
  if (isErr(r)) throw new Error(`unexpected ${r.errno}`)
  return r as A
}

/** open + read everything + close, as `task` (cat). */
export const cat = (task: Task, path: string): string | SysError =>
  asTask(task, () => {
    const vt = task.vfsTask()
    const fd = openat(vt, AT_FDCWD, path, O_RDONLY, 0)
    if (typeof fd !== "number") return fd
    const buf = new Uint8Array(4096)
    let out = ""
    for (;;) {
      const n = read(vt, fd, buf)
      if (typeof n !== "number") return n
      if (n === 0) break
      out += dec.decode(buf.subarray(0, n))
    }
    close(vt, fd)
    return out
  })

/** open O_WRONLY + write + close, as `task` (echo > path). */
export const echo = (task: Task, path: string, text: string): number | SysError =>
  asTask(task, () => {
    const vt = task.vfsTask()
    const fd = openat(vt, AT_FDCWD, path, O_WRONLY, 0)
    if (typeof fd !== "number") return fd
    const n = write(vt, fd, enc.encode(text))
    close(vt, fd)
    return n
  })

/** readlink(path) as `task`. */
export const readlink = (task: Task, path: string): string | SysError => asTask(task, () => readlinkat(task.vfsTask(), AT_FDCWD, path))

/** The names in directory `path`, as `task`. */
export const ls = (task: Task, path: string): Array<string> | SysError => asTask(task, () => listDirectory(task.vfsTask(), AT_FDCWD, path))

/** Fork a child of `parent` (PID 1 by default) with clone flags `flags` that runs `program`, and let it run until it blocks. */
export const spawn = Effect.fnUntraced(function* (kernel: Kernel, flags: number, program: Program, parent?: Task) {
  const { child } = yield* copyProcess(parent ?? kernel.sched.initTask, { flags, exitSignal: SIGCHLD, fn: program, comm: "child" })
  kernel.sched.wakeNew(child)
  yield* kernel.sched.settle()
  return child
})

/** A child that sleeps until it is killed. */
export const pauseForever: Program = (proc) => Effect.flatMap(Effect.ignore(proc.pause()), () => Effect.succeed(0))

/** A child that drops to uid/gid 1000 (keeping supplementary group `group`, if given) and sleeps. */
export const unprivileged =
  (group?: number): Program =>
  (proc) =>
    Effect.gen(function* () {
      if (group !== undefined) {
        const draft = prepareCreds(proc.task.cred)
        draft.setGroups([group as Kgid])
        commitCreds(proc.task, draft)
      }
      yield* proc.setgid(1000)
      yield* proc.setuid(1000)
      yield* Effect.ignore(proc.pause())
      return 0
    })

/** Create an empty file at `path` (touch). */
export const touch = (sys: Syscalls, path: string) => Effect.flatMap(sys.call("openat", AT_FDCWD, path, O_CREAT | O_WRONLY | O_CLOEXEC, 0o644), (fd) => sys.call("close", fd))

/** A pipe: [read end, write end]. */
export const pipe = (sys: Syscalls) =>
  Effect.gen(function* () {
    const fds: Array<number> = []
    yield* sys.call("pipe2", fds, O_CLOEXEC)
    return [fds[0]!, fds[1]!] as const
  })

/** A tmpfs made with the fd-based API: the detached mount's fd. */
export const tmpfsMount = (sys: Syscalls) =>
  Effect.gen(function* () {
    const fs = yield* sys.call("fsopen", "tmpfs", 0)
    yield* sys.call("fsconfig", fs, FSCONFIG_CMD_CREATE, null, null, 0)
    const m = yield* sys.call("fsmount", fs, 0, 0)
    yield* sys.call("close", fs)
    return m
  })

/** Fork a child running `body` with its own syscall interface, wait for it: its wait status. */
export const forkWait = (sys: Syscalls, body: (csys: Syscalls) => Effect.Effect<number, SysError>) =>
  Effect.gen(function* () {
    const pid = yield* sys.call("fork", (c: Process) => body(new Syscalls({ proc: c })))
    const status: { value?: number } = {}
    yield* sys.call("wait4", pid, status, 0, null)
    return status.value ?? -1
  })

/**
 * One test a scenario of a conformance corpus, run on the sched machine: no
 * leak and no kernel log, and the result is Linux's; a scenario `differs`
 * names must still differ (so the list only shrinks). Then one test that two
 * runs of every scenario give identical results.
 */
export const scenarioTests = (scenarios: ScenarioFile, expected: ResultsFile, differs: (name: string) => string | undefined) => {
  for (const scenario of scenarios.scenarios) {
    const reason = differs(scenario.name)
    it.effect(reason === undefined ? scenario.name : `${scenario.name} (still differs: ${reason})`, () =>
      Effect.gen(function* () {
        const run = yield* runSchedScenario(scenario)
        // the leak audit after teardown, and no oops or unhandled error in the kernel log
        expect(run.leaks).toBeUndefined()
        expect(run.log).toEqual([])
        const diff = diffScenario(expected.scenarios[scenario.name]!, run.result)
        if (reason === undefined) expect(diff).toEqual([])
        else expect(diff.length).toBeGreaterThan(0)
      })
    )
  }

  it.effect("is deterministic: two runs of every scenario give identical results", () =>
    Effect.gen(function* () {
      for (const scenario of scenarios.scenarios) {
        const a = yield* runSchedScenario(scenario)
        const b = yield* runSchedScenario(scenario)
        expect(JSON.stringify(b.result)).toBe(JSON.stringify(a.result))
      }
    })
  )
}
