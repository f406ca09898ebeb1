/** What every userland program is built from: its syscall interface, argv and stdio helpers. */
import { AT_FDCWD, O_RDONLY, sysError, type SysError } from "@simkernel/abi"
import type { Process, Program } from "@simkernel/sched"
import { Effect } from "effect"
import { Syscalls } from "../syscalls/table.js"

const enc = new TextEncoder()
const dec = new TextDecoder()

/** write(2) all of `text` to `fd`. */
export const writeAll = (sys: Syscalls, fd: number, text: string): Effect.Effect<void, SysError> => {
  const bytes = enc.encode(text)
  return Effect.asVoid(sys.call("write", fd, bytes, bytes.length))
}

/** read(2) `fd` to its end. */
export const readAll = Effect.fnUntraced(function* (sys: Syscalls, fd: number) {
  let text = ""
  const buf = new Uint8Array(4096)
  for (;;) {
    const n = yield* sys.call("read", fd, buf, buf.length)
    if (n === 0) return text
    text += dec.decode(buf.subarray(0, n), { stream: true })
  }
})

/** A program's body with its syscall interface, argv and a way to complain on stderr as `name: message`. */
export const program =
  (body: (sys: Syscalls, argv: ReadonlyArray<string>, complain: (msg: string) => Effect.Effect<void>) => Effect.Effect<number, SysError>): Program =>
  (proc: Process) => {
    const sys = new Syscalls({ proc })
    const argv = proc.task.argv
    const name = argv[0] ?? "?"
    return body(sys, argv, (msg) => Effect.ignore(writeAll(sys, 2, `${name}: ${msg}\n`)))
  }

export const strerror = (e: SysError): string => e.message.replace(/^[A-Z0-9]+ \((.*)\)(: .*)?$/, "$1")

/** A whole file's text, or undefined when it cannot be opened or read (a process that exited meanwhile). */
export const readFile = (sys: Syscalls, path: string): Effect.Effect<string | undefined> =>
  Effect.gen(function* () {
    const fd = yield* Effect.result(sys.call("openat", AT_FDCWD, path, O_RDONLY, 0))
    if (fd._tag === "Failure") return undefined
    const text = yield* Effect.result(readAll(sys, fd.success))
    yield* Effect.ignore(sys.call("close", fd.success))
    return text._tag === "Success" ? text.success : undefined
  })

/** A symlink's target, or undefined. */
export const readLink = (sys: Syscalls, path: string): Effect.Effect<string | undefined> =>
  Effect.gen(function* () {
    const buf = new Uint8Array(4096)
    const n = yield* Effect.result(sys.call("readlinkat", AT_FDCWD, path, buf, buf.length))
    return n._tag === "Success" ? dec.decode(buf.subarray(0, n.success)) : undefined
  })

/**
 * execvp(3): execve `argv[0]` itself when it holds a slash, else each
 * directory of `path` in turn, going on past ENOENT. Returns only on
 * failure, with the error that decides it (the last ENOENT, or the first
 * other error).
 */
export const execvp = (sys: Syscalls, argv: ReadonlyArray<string>, envp: ReadonlyArray<string>, path = "/bin:/sbin"): Effect.Effect<SysError> =>
  Effect.gen(function* () {
    const name = argv[0]!
    let last: SysError | undefined
    for (const file of name.includes("/") ? [name] : path.split(":").map((dir) => `${dir}/${name}`)) {
      const r = yield* Effect.result(sys.call("execve", file, argv, envp))
      if (r._tag === "Failure") last = r.failure
      if (last !== undefined && last.errno !== "ENOENT") break
    }
    return last ?? sysError("ENOENT", "execve", name)
  })
