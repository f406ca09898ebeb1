import {
  AT_FDCWD,
  O_APPEND,
  O_CREAT,
  O_RDONLY,
  O_TRUNC,
  O_WRONLY,
  type SysError,
  WEXITSTATUS,
  WIFEXITED,
  WTERMSIG
} from "@simkernel/abi"
import type { Process, Program } from "@simkernel/sched"
import { Effect } from "effect"
import { Syscalls } from "../../syscalls/table.js"
import { execvp, readAll, writeAll } from "../program.js"
import { type AndOr, expandWord, parseScript, type Pipeline, type Redirect, type SimpleCommand, ShSyntaxError } from "./parse.js"

/** The shell's state: its variables (the environment plus $?), and the process it runs in. */
interface Shell {
  readonly proc: Process
  readonly sys: Syscalls
  readonly vars: Map<string, string>
  status: number
}

/** exit builtin: unwinds to the top of the script with a status. */
class ShellExit {
  readonly _tag = "ShellExit"
  constructor(readonly status: number) {}
}

const say = (sh: Shell, line: number, msg: string): Effect.Effect<void> => Effect.ignore(writeAll(sh.sys, 2, `sh: ${line}: ${msg}\n`))

const strerror = (e: SysError): string => e.message.replace(/^[A-Z0-9]+ \((.*)\)(: .*)?$/, "$1")

/** A wait status as $? reads it: the exit code, or 128 + the signal that killed it. */
const statusOf = (w: number): number => (WIFEXITED(w) ? WEXITSTATUS(w) : 128 + WTERMSIG(w))

/** dash's words for a failed redirection (its own, not strerror's, for ENOENT). */
const redirectError = (op: string, e: SysError): string =>
  e.errno === "ENOENT" ? (op === "<" ? "No such file" : "Directory nonexistent") : strerror(e)

/** open(2) flags of each redirection operator. */
const OPEN_FLAGS: Readonly<Record<string, number>> = {
  "<": O_RDONLY,
  ">": O_WRONLY | O_CREAT | O_TRUNC,
  ">>": O_WRONLY | O_CREAT | O_APPEND
}

/** Apply redirections in this process: open (or dup) then dup2 onto the target fd. */
const redirect = Effect.fnUntraced(function* (sh: Shell, line: number, redirects: ReadonlyArray<Redirect>) {
  for (const r of redirects) {
    const target = expandWord(r.target, (n) => sh.vars.get(n)).join(" ")
    if (r.op === ">&" || r.op === "<&") {
      yield* sh.sys.call("dup2", Number(target), r.fd)
      continue
    }
    const fd = yield* Effect.result(sh.sys.call("openat", AT_FDCWD, target, OPEN_FLAGS[r.op]!, 0o666))
    if (fd._tag === "Failure") {
      yield* say(sh, line, `cannot ${r.op === "<" ? "open" : "create"} ${target}: ${redirectError(r.op, fd.failure)}`)
      return yield* Effect.fail(fd.failure)
    }
    if (fd.success !== r.fd) {
      yield* sh.sys.call("dup2", fd.success, r.fd)
      yield* sh.sys.call("close", fd.success)
    }
  }
})

/** In a forked child: exec the command, or say why not and exit 127 (not found) or 126 (cannot run). */
const execCommand = Effect.fnUntraced(function* (sh: Shell, cmd: SimpleCommand, argv: ReadonlyArray<string>) {
  const envp = [...sh.vars].filter(([k]) => k !== "?").map(([k, v]) => `${k}=${v}`)
  const failed = yield* execvp(sh.sys, argv, envp, sh.vars.get("PATH"))
  const notFound = failed.errno === "ENOENT"
  yield* say(sh, cmd.line, notFound ? `${argv[0]}: not found` : `${argv[0]}: ${strerror(failed)}`)
  return yield* sh.proc.exit(notFound ? 127 : 126)
})

const BUILTINS: Readonly<Record<string, (sh: Shell, cmd: SimpleCommand, argv: ReadonlyArray<string>) => Effect.Effect<number, SysError | ShellExit>>> = {
  cd: (sh, cmd, argv) =>
    Effect.gen(function* () {
      const dir = argv[1] ?? sh.vars.get("HOME") ?? "/"
      const r = yield* Effect.result(sh.sys.call("chdir", dir))
      if (r._tag === "Success") return 0
      yield* say(sh, cmd.line, `cd: can't cd to ${dir}`)
      return 2
    }),
  exit: (sh, _cmd, argv) => Effect.fail(new ShellExit(argv[1] === undefined ? sh.status : Number(argv[1]) & 0xff))
}

/** Run one simple command; `forked` means this process is already a child that must end with the command. */
const runCommand = (sh: Shell, cmd: SimpleCommand, forked: boolean): Effect.Effect<number, SysError | ShellExit> =>
  Effect.gen(function* () {
    const lookup = (n: string): string | undefined => (n === "?" ? String(sh.status) : sh.vars.get(n))
    const argv = cmd.words.flatMap((w) => expandWord(w, lookup))
    if (argv.length === 0) {
      for (const [k, v] of cmd.assignments) sh.vars.set(k, expandWord(v, lookup).join(" "))
      return 0
    }
    const builtin = BUILTINS[argv[0]!]
    if (builtin !== undefined && !forked && cmd.redirects.length === 0) return yield* builtin(sh, cmd, argv)
    const inChild = (child: Shell): Effect.Effect<number, SysError | ShellExit> =>
      Effect.gen(function* () {
        for (const [k, v] of cmd.assignments) child.vars.set(k, expandWord(v, lookup).join(" "))
        const redirected = yield* Effect.result(redirect(child, cmd.line, cmd.redirects))
        if (redirected._tag === "Failure") return yield* child.proc.exit(2)
        if (builtin !== undefined) return yield* child.proc.exit(yield* builtin(child, cmd, argv))
        return yield* execCommand(child, cmd, argv)
      })
    if (forked) return yield* inChild(sh)
    const child: Program = (cp) => Effect.catch(inChild(childShell(sh, cp)), (e) => (e instanceof ShellExit ? Effect.succeed(e.status) : Effect.succeed(1)))
    const pid = yield* sh.sys.call("fork", child)
    const status: { value?: number } = {}
    yield* sh.sys.call("wait4", pid, status, 0, null)
    return statusOf(status.value ?? 0)
  })

const childShell = (sh: Shell, proc: Process): Shell => ({ proc, sys: new Syscalls({ proc }, sh.sys.tracer), vars: new Map(sh.vars), status: sh.status })

/** A pipeline: each command in its own child, stdout to the next one's stdin; the status is the last one's. */
const runPipeline = (sh: Shell, pipeline: Pipeline): Effect.Effect<number, SysError | ShellExit> =>
  Effect.gen(function* () {
    if (pipeline.length === 1) return yield* runCommand(sh, pipeline[0]!, false)
    const pids: Array<number> = []
    let input = -1
    for (let i = 0; i < pipeline.length; i++) {
      const last = i === pipeline.length - 1
      const fds: Array<number> = []
      if (!last) yield* sh.sys.call("pipe2", fds, 0)
      const cmd = pipeline[i]!
      const inFd = input
      pids.push(
        yield* sh.sys.call("fork", (cp: Process) => {
          const child = childShell(sh, cp)
          return Effect.catch(
            Effect.gen(function* () {
              if (inFd >= 0) {
                yield* child.sys.call("dup2", inFd, 0)
                yield* child.sys.call("close", inFd)
              }
              if (!last) {
                yield* child.sys.call("dup2", fds[1]!, 1)
                yield* child.sys.call("close", fds[0]!)
                yield* child.sys.call("close", fds[1]!)
              }
              return yield* runCommand(child, cmd, true)
            }),
            (e) => Effect.succeed(e instanceof ShellExit ? e.status : 1)
          )
        })
      )
      if (inFd >= 0) yield* sh.sys.call("close", inFd)
      if (!last) {
        yield* sh.sys.call("close", fds[1]!)
        input = fds[0]!
      }
    }
    let status = 0
    for (const pid of pids) {
      const w: { value?: number } = {}
      yield* sh.sys.call("wait4", pid, w, 0, null)
      status = statusOf(w.value ?? 0)
    }
    return status
  })

const runAndOr = (sh: Shell, list: AndOr): Effect.Effect<number, SysError | ShellExit> =>
  Effect.gen(function* () {
    sh.status = yield* runPipeline(sh, list.first)
    for (const [op, pipeline] of list.rest) {
      if ((op === "&&") === (sh.status === 0)) sh.status = yield* runPipeline(sh, pipeline)
    }
    return sh.status
  })

/** Run a script's text in this process; the result is its exit status. */
/** A shell's state: the process it runs in, its variables, the last status. */
const newShell = (proc: Process): Shell => ({
  proc,
  sys: new Syscalls({ proc }),
  vars: new Map<string, string>(proc.task.envp.map((kv) => [kv.slice(0, kv.indexOf("=")), kv.slice(kv.indexOf("=") + 1)])),
  status: 0
})

/** Parse and run `text` (its first line numbered `firstLine`); a ShellExit escapes as a failure. */
const runText = (sh: Shell, text: string, firstLine: number): Effect.Effect<void, SysError | ShellExit> =>
  Effect.gen(function* () {
    const script = parseScript(text, firstLine)
    if (script instanceof ShSyntaxError) {
      yield* say(sh, script.line, `Syntax error: ${script.message}`)
      sh.status = 2
      return
    }
    yield* Effect.forEach(script, (list) => runAndOr(sh, list), { discard: true })
  })

/** Run a whole script as `sh` does; the result is its exit status. */
export const runScript = (proc: Process, text: string): Effect.Effect<number, SysError> =>
  Effect.gen(function* () {
    const sh = newShell(proc)
    const ran = yield* Effect.result(runText(sh, text, 1))
    if (ran._tag === "Failure") return ran.failure instanceof ShellExit ? ran.failure.status : 2
    return sh.status
  })

/** Syntax errors that more input can cure: the shell reads on (with the `> ` prompt) instead. */
const INCOMPLETE = new Set(["Unterminated quoted string", "end of file unexpected"])

/**
 * A shell reading commands line by line from `nextLine`, which shows the
 * prompt it is given (`# ` for root, `$ ` otherwise, `> ` inside an
 * unfinished command, as dash's are) the way a line editor does. Each
 * command runs as soon as it is complete, in the same shell (variables, cwd
 * and $? carry over), until end of input or `exit`. A syntax error costs an
 * interactive shell only its command; otherwise it ends the shell with
 * status 2, as it ends dash.
 */
export const runInteractive = (
  proc: Process,
  nextLine: (prompt: string) => Effect.Effect<string | undefined>,
  interactive: boolean
): Effect.Effect<number, SysError> =>
  Effect.gen(function* () {
    const sh = newShell(proc)
    let pending = ""
    let firstLine = 1
    for (let lineno = 1; ; lineno++) {
      const line = yield* nextLine(pending !== "" ? "> " : proc.task.cred.euid === 0 ? "# " : "$ ")
      if (line === undefined) {
        if (pending === "") return sh.status
        const unfinished = parseScript(pending, firstLine)
        yield* say(sh, lineno, `Syntax error: ${unfinished instanceof ShSyntaxError ? unfinished.message : "end of file unexpected"}`)
        return 2
      }
      const text = pending + line + "\n"
      const script = parseScript(text, firstLine)
      if (script instanceof ShSyntaxError && INCOMPLETE.has(script.message)) {
        pending = text
        continue
      }
      pending = ""
      const start = firstLine
      firstLine = lineno + 1
      if (script instanceof ShSyntaxError) {
        yield* say(sh, script.line, `Syntax error: ${script.message}`)
        sh.status = 2
        if (!interactive) return 2
        continue
      }
      const ran = yield* Effect.result(runText(sh, text, start))
      if (ran._tag === "Failure") {
        if (ran.failure instanceof ShellExit) return ran.failure.status
        return yield* Effect.fail(ran.failure)
      }
    }
  })

/** sh: `sh -c CMD`, `sh FILE`, or the script on standard input. */
export const sh: Program = (proc) =>
  Effect.gen(function* () {
    const argv = proc.task.argv
    if (argv[1] === "-c") return yield* runScript(proc, argv[2] ?? "")
    const sys = new Syscalls({ proc })
    if (argv[1] !== undefined) {
      const fd = yield* Effect.result(sys.call("openat", AT_FDCWD, argv[1], O_RDONLY, 0))
      if (fd._tag === "Failure") {
        yield* Effect.ignore(writeAll(sys, 2, `sh: 0: cannot open ${argv[1]}: No such file\n`))
        return 2
      }
      const text = yield* readAll(sys, fd.success)
      yield* sys.call("close", fd.success)
      return yield* runScript(proc, text)
    }
    return yield* runScript(proc, yield* readAll(sys, 0))
  })

