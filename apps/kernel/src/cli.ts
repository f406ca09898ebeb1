import { Console, Effect } from "effect"
import { Command } from "effect/cli"
import { boot, shutdown } from "./Kernel.js"

/** The default: boot what exists, shut down, print the leak audit. */
const defaultRun = Effect.fnUntraced(function* () {
  const kernel = yield* boot()
  yield* Console.log("simkernel: booted")
  const report = yield* shutdown(kernel)
  yield* Console.log("simkernel: shut down")
  yield* Console.log(report.audit)
  if (report.leaked > 0) return yield* Effect.fail(new LeakedObjects(report.leaked))
})

class LeakedObjects {
  readonly _tag = "LeakedObjects"
  constructor(readonly count: number) {}
}

export const cli = Command.make("simkernel", {}, () => defaultRun()).pipe(
  Command.withDescription("Linux's container machinery, simulated: boots a kernel, runs its demo and prints the leak audit")
)
