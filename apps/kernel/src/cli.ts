import { Console, Effect } from "effect"
import { Command } from "effect/cli"
import { nsfsName } from "@simkernel/nsproxy"
import { boot, shutdown } from "./Kernel.js"

/** The default: boot what exists, shut down, print the leak audit. */
const defaultRun = Effect.fnUntraced(function* () {
  const kernel = yield* boot()
  const uts = kernel.init.nsproxy!.uts.utsname
  yield* Console.log(`simkernel: booted ${uts.sysname} ${uts.release} ${uts.machine}; init's namespaces:`)
  const nsp = kernel.init.nsproxy!
  for (const ns of [kernel.initUserNs, nsp.mnt, nsp.uts, nsp.ipc, nsp.pidForChildren, nsp.cgroup, nsp.net, nsp.time]) {
    if (ns !== undefined) yield* Console.log(`  ${nsfsName(ns)}`)
  }
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
