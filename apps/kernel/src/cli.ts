import { Effect, Option } from "effect"
import { Argument, Command, Flag } from "effect/cli"
import { conformance } from "./conformance/command.js"
import { existsSync, readFileSync } from "node:fs"
import { createInterface } from "node:readline"
import type { Program } from "@simkernel/sched"
import { WEXITSTATUS, WIFEXITED, WTERMSIG } from "@simkernel/abi"
import { runDemo } from "./demo.js"
import { boot, onConsole, shutdown } from "./Kernel.js"
import { attachDisks, DiskError, mkfsDisk, parseFsSize } from "./disk/index.js"
import { PROGRAMS } from "./userland/programs.js"
import { runInteractive, runScript } from "./userland/sh/run.js"

class ExitCode {
  readonly _tag = "ExitCode"
  constructor(readonly code: number) {}
}

/** The default: boot, run the demo as PID 1 (mount API, namespaces, trace), shut down, print the leak audit. */
const defaultRun = Effect.fnUntraced(function* () {
  const report = yield* runDemo((line) => process.stdout.write(`${line}\n`))
  if (report.leaked > 0) return yield* Effect.fail(new ExitCode(1))
})

const conformanceCommand = Command.make(
  "conformance",
  {
    file: Argument.String("file").pipe(Argument.withDescription("a scenario file (conformance/FORMAT.md)")),
    out: Flag.String("out").pipe(Flag.optional, Flag.withDescription("write the results to this file (expected.json's format)")),
    check: Flag.String("check").pipe(Flag.optional, Flag.withDescription("compare with these expected results; ends with 'N passed, N failed'")),
    linux: Flag.Boolean("linux").pipe(Flag.withDefault(false), Flag.withDescription("run the scenarios on the real Linux kernel (root, python3) instead of simkernel")),
    only: Flag.String("only").pipe(Flag.atLeast(0), Flag.withDescription("run only the named scenario (repeatable)")),
    blocklist: Flag.String("blocklist").pipe(Flag.optional, Flag.withDescription("scenarios known to differ: 'NAME  reason' lines"))
  },
  (o) =>
    Effect.gen(function* () {
      const outcome = yield* conformance({
        file: o.file,
        linux: o.linux,
        only: o.only,
        ...(Option.isSome(o.out) ? { out: o.out.value } : {}),
        ...(Option.isSome(o.check) ? { check: o.check.value } : {}),
        ...(Option.isSome(o.blocklist) ? { blocklist: o.blocklist.value } : {})
      })
      process.stdout.write(outcome.text)
      if (outcome.exitCode !== 0) return yield* Effect.fail(new ExitCode(outcome.exitCode))
    })
).pipe(Command.withDescription("run a conformance scenario file on simkernel (or, with --linux, on the real kernel) and record or check the results"))

/**
 * Run a shell script as PID 1 with /dev/console on the host's standard
 * output; the result is the script's exit status.
 */
const runShellScript = Effect.fnUntraced(function* (
  shell: Program,
  trace: Option.Option<string>,
  diskSpecs: ReadonlyArray<string>,
  seed: Option.Option<number>
) {
  const disks = attachDisks(diskSpecs, { programs: Object.keys(PROGRAMS) })
  if (disks instanceof DiskError) {
    process.stderr.write(`simkernel: ${disks.message}\n`)
    return yield* Effect.fail(new ExitCode(disks.exitCode))
  }
  const format = Option.getOrUndefined(trace)
  const tracer =
    format === undefined
      ? undefined
      : format === "json"
        ? (line: string) => process.stderr.write(`${JSON.stringify(traceJson(line))}\n`)
        : (line: string) => process.stderr.write(`${line}\n`)
  const kernel = yield* boot({
    init: onConsole(shell),
    console: (bytes) => process.stdout.write(bytes),
    disks,
    ...(Option.isSome(seed) ? { seed: seed.value } : {}),
    ...(tracer === undefined ? {} : { tracer })
  })
  const status = yield* kernel.sched.waitInit()
  const report = yield* shutdown(kernel)
  if (report.leaked > 0) process.stderr.write(`${report.audit}\n`)
  const code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status)
  if (code !== 0 || report.leaked > 0) return yield* Effect.fail(new ExitCode(code !== 0 ? code : 1))
})

/** --trace[=json]: every syscall of every task on standard error, as strace -f prints it (or as JSON lines). */
const traceFlag = Flag.String("trace").pipe(
  Flag.withOptionalValue("text"),
  Flag.optional,
  Flag.withDescription("print every syscall on standard error in strace's format (--trace=json: JSON lines)")
)

/** A trace line as JSON: pid, call and arguments text, result. */
const traceJson = (line: string): { pid: number; call: string; result: string } => {
  const m = /^\[pid (\d+)\] (.*) = (.*)$/.exec(line)
  return m === null ? { pid: 0, call: line, result: "" } : { pid: Number(m[1]), call: m[2]!, result: m[3]! }
}

/** --seed N: the scheduler's choices among runnable tasks, random but repeatable. */
const seedFlag = Flag.Int("seed").pipe(
  Flag.optional,
  Flag.withDescription("let the scheduler pick the next task at random from this seed; the same seed repeats the same run")
)

/** --disk NAME=IMAGE[:ro]: attach a disk image as a SCSI block device ext4 can mount. */
const diskFlag = Flag.String("disk").pipe(
  Flag.atLeast(0),
  Flag.withDescription("attach a disk image made by 'simkernel mkfs' as a block device, e.g. sda3=./rootfs.img or sda3=./rootfs.img:ro (repeatable)")
)

const runCommand = Command.make(
  "run",
  {
    file: Argument.String("file").pipe(Argument.withDescription("a shell script on the host, run by simkernel's sh")),
    trace: traceFlag,
    disk: diskFlag,
    seed: seedFlag
  },
  (o) =>
    Effect.gen(function* () {
      if (!existsSync(o.file)) {
        process.stderr.write(`simkernel run: ${o.file}: No such file or directory\n`)
        return yield* Effect.fail(new ExitCode(2))
      }
      const text = readFileSync(o.file, "utf8")
      return yield* runShellScript((proc) => runScript(proc, text), o.trace, o.disk, o.seed)
    })
).pipe(Command.withDescription("run a shell script inside a freshly booted kernel and exit with its status"))

/**
 * The host's standard input, a line at a time. On a terminal, readline shows
 * the prompt and gives line editing and history; otherwise no prompt, as a
 * shell reading a pipe prints none. End of input (^D, or the pipe's end)
 * ends it.
 */
const hostLines = (): { readonly next: (prompt: string) => Effect.Effect<string | undefined>; readonly close: () => void } => {
  const terminal = process.stdin.isTTY === true
  const rl = createInterface({ input: process.stdin, output: terminal ? process.stdout : undefined, terminal, historySize: 1000 })
  let ended = false
  rl.once("close", () => (ended = true))
  const lines = rl[Symbol.asyncIterator]()
  return {
    next: (prompt) =>
      Effect.promise(() => {
        if (terminal && !ended) {
          rl.setPrompt(prompt)
          rl.prompt()
        }
        return lines.next().then((r) => (r.done === true ? undefined : r.value))
      }),
    close: () => rl.close()
  }
}

const shellCommand = Command.make(
  "shell",
  {
    command: Flag.String("c").pipe(Flag.optional, Flag.withDescription("run this command line instead of reading commands from standard input")),
    trace: traceFlag,
    disk: diskFlag,
    seed: seedFlag
  },
  (o) =>
    Option.match(o.command, {
      onSome: (command) => runShellScript((proc) => runScript(proc, command), o.trace, o.disk, o.seed),
      onNone: () =>
        Effect.acquireUseRelease(
          Effect.sync(hostLines),
          (input) => runShellScript((proc) => runInteractive(proc, input.next, process.stdin.isTTY === true), o.trace, o.disk, o.seed),
          (input) => Effect.sync(input.close)
        )
    })
).pipe(
  Command.withDescription("a shell inside a freshly booted kernel: interactive (prompt, line editing, history) on a terminal, or the commands on standard input; -c CMD runs one command line")
)

const mkfsCommand = Command.make(
  "mkfs",
  {
    image: Argument.String("image").pipe(Argument.withDescription("the disk image file to write")),
    size: Argument.String("size").pipe(Argument.optional, Argument.withDescription("the filesystem size as mke2fs takes it: 64m, 1g, or KiB (default: the size of a file made with truncate -s, else 1g)")),
    label: Flag.String("label").pipe(Flag.withAlias("L"), Flag.optional, Flag.withDescription("the volume label (default rootfs)")),
    hostname: Flag.String("hostname").pipe(Flag.optional, Flag.withDescription("/etc/hostname on the new filesystem (default simkernel)")),
    force: Flag.Boolean("force").pipe(Flag.withAlias("F"), Flag.withDefault(false), Flag.withDescription("overwrite an image that already holds a filesystem"))
  },
  (o) =>
    Effect.gen(function* () {
      const size = Option.isSome(o.size) ? parseFsSize(o.size.value) : undefined
      const made =
        size instanceof DiskError
          ? size
          : mkfsDisk(o.image, {
              programs: Object.keys(PROGRAMS),
              force: o.force,
              ...(size === undefined ? {} : { size }),
              ...(Option.isSome(o.label) ? { label: o.label.value } : {}),
              ...(Option.isSome(o.hostname) ? { hostname: o.hostname.value } : {})
            })
      if (made instanceof DiskError) {
        process.stderr.write(`simkernel ${made.message}\n`)
        return yield* Effect.fail(new ExitCode(made.exitCode))
      }
    })
).pipe(Command.withDescription("make an ext4 root filesystem image (/bin with simkernel's programs, /etc, /dev, /proc, /tmp) for --disk"))

export const cli = Command.make("simkernel", {}, () => defaultRun()).pipe(
  Command.withDescription("Linux's container machinery, simulated: boots a kernel, runs its demo and prints the leak audit"),
  Command.withSubcommands([conformanceCommand, runCommand, shellCommand, mkfsCommand])
)

export { ExitCode }
