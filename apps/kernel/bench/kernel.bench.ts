import { defineBench } from "@simkernel/bench"
import { boot, onConsole, runScript, shutdown, Syscalls } from "@simkernel/kernel"
import { Effect } from "effect"

export default defineBench("kernel", (b) => {
  const map = new Map([["k", 1]])
  let sink = 0
  const lookup = (k: string): number => map.get(k) ?? 0
  b.anchor("plain function + Map.get", (n) => {
    for (let i = 0; i < n; i++) sink += lookup("k")
  })
  b.bench(
    "boot (rootfs, namespaces, PID 1 exec /sbin/init) + shutdown with the leak audit",
    async (n) => {
      for (let i = 0; i < n; i++) {
        const report = await Effect.runPromise(Effect.flatMap(boot(), shutdown))
        sink += report.leaked
      }
    },
    { targetNs: 20_000_000 }
  )
  b.bench(
    "getpid() through the syscall table, from a program (PID 1)",
    async (n) => {
      const run = Effect.flatMap(
        boot({
          init: (proc) =>
            Effect.gen(function* () {
              const sys = new Syscalls({ proc })
              for (let i = 0; i < n; i++) sink += yield* sys.call("getpid")
              return 0
            })
        }),
        (kernel) => Effect.flatMap(kernel.sched.waitInit(), () => shutdown(kernel))
      )
      await Effect.runPromise(run)
    },
    { targetNs: 500, note: "one boot per batch, amortised" }
  )
  b.bench(
    "a shell pipeline of two programs (echo hi | cat), forks, pipe, execs and waits included",
    async (n) => {
      const script = Array.from({ length: n }, () => "echo hi | cat").join("\n")
      const run = Effect.flatMap(
        boot({ init: onConsole((proc) => runScript(proc, script)), console: (b) => (sink += b.length) }),
        (kernel) => Effect.flatMap(kernel.sched.waitInit(), () => shutdown(kernel))
      )
      await Effect.runPromise(run)
    },
    { targetNs: 100_000, note: "one boot per batch, amortised" }
  )
  if (sink === -1) console.log(sink)
})
