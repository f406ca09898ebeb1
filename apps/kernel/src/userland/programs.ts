import { AT_FDCWD, O_DIRECTORY, O_RDONLY } from "@simkernel/abi"
import type { Program } from "@simkernel/sched"
import { listDirectory } from "@simkernel/vfs"
import { Effect } from "effect"
import { container } from "./container.js"
import { COREUTILS } from "./coreutils.js"
import { mountfd } from "./mountfd.js"
import { NSUTILS } from "./nsutils.js"
import { PROCPS } from "./procps.js"
import { program, readAll, strerror, writeAll } from "./program.js"
import { sh } from "./sh/run.js"

const enc = new TextEncoder()


/** The userland: programs by the name their `#!simkernel NAME` files in /bin give. */
export const PROGRAMS: Readonly<Record<string, Program>> = {
  true: program(() => Effect.succeed(0)),
  false: program(() => Effect.succeed(1)),
  echo: program((sys, argv, complain) => {
    const noNewline = argv[1] === "-n"
    const words = argv.slice(noNewline ? 2 : 1)
    // coreutils reports a failed write on its way out (close_stdout())
    return Effect.catch(Effect.as(writeAll(sys, 1, words.join(" ") + (noNewline ? "" : "\n")), 0), (e) =>
      Effect.as(complain(`write error: ${strerror(e)}`), 1)
    )
  }),
  cat: program((sys, argv, complain) =>
    Effect.gen(function* () {
      let status = 0
      for (const file of argv.length > 1 ? argv.slice(1) : ["-"]) {
        if (file === "-") {
          yield* writeAll(sys, 1, yield* readAll(sys, 0))
          continue
        }
        const fd = yield* Effect.result(sys.call("openat", AT_FDCWD, file, O_RDONLY, 0))
        if (fd._tag === "Failure") {
          yield* complain(`${file}: ${strerror(fd.failure)}`)
          status = 1
          continue
        }
        const text = yield* Effect.result(readAll(sys, fd.success))
        yield* Effect.ignore(sys.call("close", fd.success))
        if (text._tag === "Failure") {
          yield* complain(`${file}: ${strerror(text.failure)}`)
          status = 1
        } else yield* writeAll(sys, 1, text.success)
      }
      return status
    })
  ),
  mkdir: program((sys, argv, complain) =>
    Effect.gen(function* () {
      let status = 0
      for (const dir of argv.slice(1)) {
        const r = yield* Effect.result(sys.call("mkdirat", AT_FDCWD, dir, 0o777))
        if (r._tag === "Failure") {
          yield* complain(`cannot create directory '${dir}': ${strerror(r.failure)}`)
          status = 1
        }
      }
      return status
    })
  ),
  ls: program((sys, argv, complain) =>
    Effect.gen(function* () {
      let status = 0
      const dirs = argv.length > 1 ? argv.slice(1) : ["."]
      for (const dir of dirs) {
        const fd = yield* Effect.result(sys.call("openat", AT_FDCWD, dir, O_RDONLY | O_DIRECTORY, 0))
        if (fd._tag === "Failure") {
          // ls names a file that is not a directory as itself
          if (fd.failure.errno === "ENOTDIR") {
            yield* writeAll(sys, 1, `${dir}\n`)
            continue
          }
          yield* complain(`cannot access '${dir}': ${strerror(fd.failure)}`)
          status = 2
          continue
        }
        yield* Effect.ignore(sys.call("close", fd.success))
        const names = listDirectory(sys.ctx.proc.task.vfsTask(), AT_FDCWD, dir)
        if (names instanceof Error) {
          yield* complain(`cannot open directory '${dir}': ${strerror(names)}`)
          status = 2
          continue
        }
        if (dirs.length > 1) yield* writeAll(sys, 1, `${dir}:\n`)
        yield* writeAll(sys, 1, names.filter((n) => !n.startsWith(".")).map((n) => `${n}\n`).join(""))
      }
      return status
    })
  ),
  hostname: program((sys, argv, complain) =>
    Effect.gen(function* () {
      const name = argv[1]
      if (name === undefined) {
        yield* writeAll(sys, 1, `${sys.ctx.proc.task.nsproxy!.uts.utsname.nodename}\n`)
        return 0
      }
      const bytes = enc.encode(name)
      const r = yield* Effect.result(sys.call("sethostname", bytes, bytes.length))
      if (r._tag === "Failure") {
        yield* complain(`you must be root to change the host name`)
        return 1
      }
      return 0
    })
  ),
  sh,
  ...COREUTILS,
  mountfd,
  ...NSUTILS,
  ...PROCPS,
  container
}
