import { Effect, Option } from "effect"
import { Argument, Command, Flag } from "effect/cli"
import { conformance } from "./conformance/command.js"
import { runDemo } from "./demo.js"

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

export const cli = Command.make("simkernel", {}, () => defaultRun()).pipe(
  Command.withDescription("Linux's container machinery, simulated: boots a kernel, runs its demo and prints the leak audit"),
  Command.withSubcommands([conformanceCommand])
)

export { ExitCode }
