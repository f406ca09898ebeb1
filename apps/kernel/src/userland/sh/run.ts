import {
  AT_FDCWD,
  F_DUPFD_CLOEXEC,
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
import { echoBuiltin, printfBuiltin } from "./echo.js"
import { expandChars, expandFields, type Expander, expandString, patternRegex, splitFields } from "./expand.js"
import {
  type AndOr,
  type Command,
  isName,
  type List,
  Parser,
  parseScript,
  type Pipeline,
  type Redirect,
  type SimpleCommand,
  SPECIAL_BUILTINS,
  ShSyntaxError
} from "./parse.js"
import { TestError, testCommand } from "./test.js"

/** The shell's state: the process it runs in, its variables, positional parameters, functions and jobs. */
interface Shell {
  readonly proc: Process
  readonly sys: Syscalls
  readonly vars: Map<string, string>
  status: number
  /** $1, $2, ...: the script's arguments, or a function's while it runs. */
  params: ReadonlyArray<string>
  /** $0, and the name error messages start with (dash's arg0). */
  readonly arg0: string
  readonly functions: Map<string, Command>
  /** $$: the pid of the shell itself, kept by its subshells (dash's rootpid). */
  readonly rootPid: number
  /** $!: the pid of the last background command. */
  lastBackground: number | undefined
  /** Background commands not yet waited for, in order. */
  jobs: Array<number>
  /** How many loops enclose the running command (dash's loopnest): `break` and `continue` go no further. */
  loopDepth: number
  /** Whether a function is running: `return` ends it, else it ends the script. */
  inFunction: boolean
  /** The variables programs receive in their environment (export). */
  readonly exported: Set<string>
  /** The variables no assignment may change (readonly). */
  readonly readonlyVars: Set<string>
  /** `set -e`, `set -u`, `set -x`. */
  readonly options: { errexit: boolean; noglob: boolean; nounset: boolean; xtrace: boolean }
  /** trap: the command for each condition (EXIT, or a signal's name). */
  readonly traps: Map<string, string>
  /** The status of the last command substitution of the command being expanded (the status of a command with no words). */
  substStatus: number | undefined
  /** How many conditions (`if`, `while`, `&&`, `!`) enclose the running command: `set -e` leaves them alone. */
  conditional: number
  /** The logical working directory, as cd sets it and pwd prints it (dash's curdir). */
  cwd: string | undefined
  /** While `eval` or `.` runs: "eval" or the file, named in error messages. */
  commandName: string | undefined
}

/** exit, `return` outside a function, and errors of special builtins: unwinds to the top with a status. */
class ShellExit {
  readonly _tag = "ShellExit"
  /** `abort`: a special builtin's error, which costs an interactive shell only the command. */
  constructor(
    readonly status: number,
    readonly abort = false
  ) {}
}

/** break and continue: unwind `count` loops. */
class LoopControl {
  readonly _tag = "LoopControl"
  constructor(
    readonly kind: "break" | "continue",
    readonly count: number
  ) {}
}

/** return: unwinds to the function call. */
class FunctionReturn {
  readonly _tag = "FunctionReturn"
  constructor(readonly status: number) {}
}

type Unwind = ShellExit | LoopControl | FunctionReturn
type ShEffect<A = number> = Effect.Effect<A, SysError | Unwind>

/** An error message as dash writes it: "sh: LINE: ", then the file or `eval` being run (dash's commandname), then the message. */
const say = (sh: Shell, line: number, msg: string): Effect.Effect<void> =>
  Effect.ignore(writeAll(sh.sys, 2, `${sh.arg0}: ${line}: ${sh.commandName === undefined ? "" : sh.commandName + ": "}${msg}\n`))

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

/** A special parameter, a positional one or a variable. */
const lookup = (sh: Shell, n: string): string | undefined => {
  switch (n) {
    case "?":
      return String(sh.status)
    case "$":
      return String(sh.rootPid)
    case "!":
      return sh.lastBackground === undefined ? "" : String(sh.lastBackground)
    case "#":
      return String(sh.params.length)
    case "0":
      return sh.arg0
    case "-":
      // dash lists its option letters last to first
      return (sh.options.nounset ? "u" : "") + (sh.options.xtrace ? "x" : "") + (sh.options.noglob ? "f" : "") + (sh.options.errexit ? "e" : "")
  }
  return /^[1-9][0-9]*$/.test(n) ? sh.params[Number(n) - 1] : sh.vars.get(n)
}

/** An error that ends a script with status 2 and costs an interactive shell the command, as dash's exerror. */
const fatal = (sh: Shell, line: number, msg: string): Effect.Effect<never, Unwind> => Effect.andThen(say(sh, line, msg), Effect.fail(new ShellExit(2, true)))

/** Assign a variable, refused for a readonly one ("x: is read only", an error that ends a script). */
const setVar = (sh: Shell, line: number, name: string, value: string): Effect.Effect<void, Unwind> => {
  if (sh.readonlyVars.has(name)) return fatal(sh, line, `${name}: is read only`)
  sh.vars.set(name, value)
  return Effect.void
}

/** What expansion sees of the shell at script line `line`. */
const expander = (sh: Shell, line: number): Expander<SysError | Unwind> => ({
  lookup: (n) => lookup(sh, n),
  params: sh.params,
  nounset: sh.options.nounset,
  assign: (name, value) => setVar(sh, line, name, value),
  error: (msg) => fatal(sh, line, msg),
  substitute: (body) => substitute(sh, body)
})

/**
 * `$(...)`: a forked child runs the commands with its standard output
 * into a pipe the shell reads to its end; the child's status is kept for
 * a command that has no words (`x=$(false)` is status 1), as dash's expbackq.
 */
const substitute = (sh: Shell, body: List): ShEffect<string> =>
  Effect.gen(function* () {
    const fds: Array<number> = []
    yield* sh.sys.call("pipe2", fds, 0)
    const [rd, wr] = [fds[0]!, fds[1]!]
    const pid = yield* sh.sys.call(
      "fork",
      forkShell(sh, (child) =>
        Effect.gen(function* () {
          yield* child.sys.call("close", rd)
          if (wr !== 1) {
            yield* child.sys.call("dup2", wr, 1)
            yield* child.sys.call("close", wr)
          }
          return yield* evalList(child, body, true)
        })
      )
    )
    yield* sh.sys.call("close", wr)
    const out = yield* Effect.ensuring(readAll(sh.sys, rd), Effect.ignore(sh.sys.call("close", rd)))
    const w: { value?: number } = {}
    yield* sh.sys.call("wait4", pid, w, 0, null)
    sh.substStatus = statusOf(w.value ?? 0)
    return out
  })

/**
 * A here-document on `fd`: a pipe holding its text, as dash's openhere;
 * text longer than a pipe holds is written by a forked child.
 */
const hereDocument = (sh: Shell, fd: number, text: string): ShEffect<void> =>
  Effect.gen(function* () {
    const fds: Array<number> = []
    yield* sh.sys.call("pipe2", fds, 0)
    const [rd, wr] = [fds[0]!, fds[1]!]
    const bytes = new TextEncoder().encode(text)
    if (bytes.length <= PIPE_BUF) {
      if (bytes.length > 0) yield* sh.sys.call("write", wr, bytes, bytes.length)
    } else {
      yield* sh.sys.call(
        "fork",
        forkShell(sh, (child) =>
          Effect.gen(function* () {
            yield* child.sys.call("close", rd)
            yield* Effect.ignore(writeAll(child.sys, wr, text))
            return 0
          })
        )
      )
    }
    yield* sh.sys.call("close", wr)
    if (rd !== fd) {
      yield* sh.sys.call("dup2", rd, fd)
      yield* sh.sys.call("close", rd)
    }
  })

/** What a pipe surely holds without a reader: POSIX's PIPE_BUF. */
const PIPE_BUF = 4096

/** Apply redirections in this process: open (or dup) then dup2 onto the target fd. */
const redirect = Effect.fnUntraced(function* (sh: Shell, line: number, redirects: ReadonlyArray<Redirect>) {
  for (const r of redirects) {
    if (r.here !== undefined) {
      yield* hereDocument(sh, r.fd, yield* expandString(r.here.body, expander(sh, line)))
      continue
    }
    const target = yield* expandString(r.target, expander(sh, line))
    if (r.op === ">&" || r.op === "<&") {
      if (target === "-") {
        yield* Effect.ignore(sh.sys.call("close", r.fd))
        continue
      }
      const dup = yield* Effect.result(sh.sys.call("dup2", /^[0-9]+$/.test(target) ? Number(target) : -1, r.fd))
      if (dup._tag === "Success") continue
      // dash has already moved fd 2 away when it fails to replace it, so that message is lost
      if (r.fd !== 2) yield* say(sh, line, `${target}: ${strerror(dup.failure)}`)
      return yield* Effect.fail(dup.failure)
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

/**
 * Run `body` with redirections applied in the shell itself, and undo them
 * after: each redirected fd is first saved with F_DUPFD_CLOEXEC above 10,
 * as dash's redirect(REDIR_PUSH) does. A failed redirection is status 2
 * without running the body (ending the script for a special builtin).
 */
const withRedirects = (sh: Shell, line: number, redirects: ReadonlyArray<Redirect>, body: ShEffect, special = false): ShEffect => {
  if (redirects.length === 0) return body
  return Effect.gen(function* () {
    const saved: Array<readonly [number, number | undefined]> = []
    for (const fd of new Set(redirects.map((r) => r.fd))) {
      const copy = yield* Effect.result(sh.sys.call("fcntl", fd, F_DUPFD_CLOEXEC, 10))
      saved.push([fd, copy._tag === "Success" ? copy.success : undefined])
    }
    const restore = Effect.forEach(
      saved,
      ([fd, copy]) => (copy === undefined ? Effect.ignore(sh.sys.call("close", fd)) : Effect.ignore(Effect.andThen(sh.sys.call("dup2", copy, fd), sh.sys.call("close", copy)))),
      { discard: true }
    )
    const applied = yield* Effect.result(redirect(sh, line, redirects))
    if (applied._tag === "Failure") {
      yield* restore
      if (special) return yield* Effect.fail(new ShellExit(2, true))
      return 2
    }
    return yield* Effect.ensuring(body, restore)
  })
}

/** dash's hashvar(): the bucket of its 39-bucket variable table, which sets the order of the environment. */
const varBucket = (name: string): number => {
  let h = name.charCodeAt(0) << 4
  for (let i = 0; i < name.length; i++) h += name.charCodeAt(i)
  return h % 39
}

/**
 * The environment a program is executed with: the exported variables
 * that are set, in dash's order (by bucket, the newest first in each).
 */
const environ = (sh: Shell): Array<string> => {
  const names = [...sh.vars.keys()].filter((k) => sh.exported.has(k)).reverse()
  return names
    .map((k, order) => [varBucket(k), order, k] as const)
    .sort((a, b) => a[0] - b[0] || a[1] - b[1])
    .map(([, , k]) => `${k}=${sh.vars.get(k)}`)
}

/** In a forked child: exec the command, or say why not and exit 127 (not found) or 126 (cannot run). */
const execCommand = Effect.fnUntraced(function* (sh: Shell, cmd: SimpleCommand, argv: ReadonlyArray<string>) {
  const failed = yield* execvp(sh.sys, argv, environ(sh), sh.vars.get("PATH"))
  const notFound = failed.errno === "ENOENT"
  yield* say(sh, cmd.line, notFound ? `${argv[0]}: not found` : `${argv[0]}: ${strerror(failed)}`)
  return yield* sh.proc.exit(notFound ? 127 : 126)
})

/** A copy of the shell for a forked child: same variables, functions, options and $$, no jobs or traps of its own (as dash's forkchild resets them). */
const childShell = (sh: Shell, proc: Process): Shell => ({
  ...sh,
  proc,
  sys: new Syscalls({ proc }, sh.sys.tracer),
  vars: new Map(sh.vars),
  functions: new Map(sh.functions),
  jobs: [],
  exported: new Set(sh.exported),
  readonlyVars: new Set(sh.readonlyVars),
  options: { ...sh.options },
  traps: new Map()
})

/** The status an unwinding ends a shell (or a subshell) with. */
const unwoundStatus = (sh: Shell, e: SysError | Unwind): number =>
  e instanceof ShellExit ? e.status : e instanceof FunctionReturn ? e.status : e instanceof LoopControl ? sh.status : 2

/** A forked child's program: run `body` in the copy of the shell, its status the child's exit status (after its EXIT trap). */
const forkShell =
  (sh: Shell, body: (child: Shell) => ShEffect): Program =>
  (cp) => {
    const child = childShell(sh, cp)
    return Effect.flatMap(
      Effect.catch(body(child), (e) => Effect.succeed(unwoundStatus(child, e))),
      (status) => exitTrap(child, status)
    )
  }

/** Run the EXIT trap, once, as the shell ends with `status`; an `exit` inside it sets the status instead. */
const exitTrap = (sh: Shell, status: number): Effect.Effect<number, SysError> => {
  const action = sh.traps.get("EXIT")
  if (action === undefined) return Effect.succeed(status)
  sh.traps.delete("EXIT")
  sh.status = status
  return Effect.map(Effect.result(runText(sh, action, 1)), (r) => (r._tag === "Failure" && r.failure instanceof ShellExit ? r.failure.status : status))
}

/** fork, then wait4 for that child: its status as $? reads it. */
const forkAndWait = (sh: Shell, program: Program): ShEffect =>
  Effect.gen(function* () {
    const pid = yield* sh.sys.call("fork", program)
    const w: { value?: number } = {}
    yield* sh.sys.call("wait4", pid, w, 0, null)
    return statusOf(w.value ?? 0)
  })

/** dash's number(): a decimal without sign, or "Illegal number" (an error of a special builtin, ending the script). */
const illegalNumber = (sh: Shell, line: number, name: string, arg: string): Effect.Effect<never, Unwind> =>
  Effect.andThen(say(sh, line, `${name}: Illegal number: ${arg}`), Effect.fail(new ShellExit(2, true)))

const parseCount = (arg: string | undefined, fallback: number): number | undefined =>
  arg === undefined ? fallback : /^[0-9]+$/.test(arg) ? Number(arg) : undefined

type Builtin = (sh: Shell, cmd: SimpleCommand, argv: ReadonlyArray<string>) => ShEffect

const loopControl =
  (kind: "break" | "continue"): Builtin =>
  (sh, cmd, argv) =>
    Effect.gen(function* () {
      const n = parseCount(argv[1], 1)
      if (n === undefined || n === 0) return yield* illegalNumber(sh, cmd.line, kind, argv[1]!)
      sh.status = 0
      if (sh.loopDepth === 0) return 0
      return yield* Effect.fail(new LoopControl(kind, Math.min(n, sh.loopDepth)))
    })

/** read(1p) as dash's: one line from fd 0 a byte at a time, split on IFS into the names; status 1 at end of file. */
const readBuiltin: Builtin = (sh, cmd, argv) =>
  Effect.gen(function* () {
    let args = argv.slice(1)
    const raw = args[0] === "-r"
    if (raw) args = args.slice(1)
    if (args.length === 0) {
      yield* say(sh, cmd.line, "read: arg count")
      return 2
    }
    const bad = args.find((n) => !isName(n))
    if (bad !== undefined) {
      yield* say(sh, cmd.line, `read: ${bad}: bad variable name`)
      return 2
    }
    // each character, and whether a backslash protects it from splitting
    const chars: Array<readonly [string, boolean]> = []
    const byte = new Uint8Array(1)
    let status = 1
    let escaped = false
    const decoder = new TextDecoder()
    for (;;) {
      const n = yield* sh.sys.call("read", 0, byte, 1)
      if (n === 0) break
      const b = byte[0]!
      if (b === 0x0a && !escaped) {
        status = 0
        break
      }
      if (b === 0x5c && !raw && !escaped) {
        escaped = true
        continue
      }
      if (escaped && b === 0x0a) {
        escaped = false
        continue
      }
      // a multi-byte character is kept whole once it is complete
      for (const c of decoder.decode(byte, { stream: true })) chars.push([c, !escaped])
      escaped = false
    }
    const ifs = sh.vars.get("IFS") ?? " \t\n"
    const isWhite = (c: string): boolean => (c === " " || c === "\t" || c === "\n") && ifs.includes(c)
    // leading IFS blanks vanish; each name but the last takes one field
    let i = 0
    while (i < chars.length && chars[i]![1] && isWhite(chars[i]![0])) i++
    for (let k = 0; k < args.length; k++) {
      if (k === args.length - 1) {
        let end = chars.length
        while (end > i && chars[end - 1]![1] && isWhite(chars[end - 1]![0])) end--
        const rest = chars.slice(i, end)
        const fields = splitFields(rest, ifs, false)
        sh.vars.set(args[k]!, fields.length <= 1 ? (fields[0] ?? "") : rest.map(([c]) => c).join(""))
        break
      }
      let field = ""
      while (i < chars.length && !(chars[i]![1] && ifs.includes(chars[i]![0]))) field += chars[i++]![0]
      // the separator: blanks, at most one other IFS character, blanks
      while (i < chars.length && chars[i]![1] && isWhite(chars[i]![0])) i++
      if (i < chars.length && chars[i]![1] && ifs.includes(chars[i]![0]) && !isWhite(chars[i]![0])) i++
      while (i < chars.length && chars[i]![1] && isWhite(chars[i]![0])) i++
      sh.vars.set(args[k]!, field)
    }
    return status
  })

/** wait: for every background command, or for each pid given; 127 for one that is not a child. */
const waitBuiltin: Builtin = (sh, cmd, argv) =>
  Effect.gen(function* () {
    if (argv.length === 1) {
      for (const pid of sh.jobs) yield* Effect.ignore(sh.sys.call("wait4", pid, null, 0, null))
      sh.jobs = []
      return 0
    }
    let status = 0
    for (const arg of argv.slice(1)) {
      if (!/^[0-9]+$/.test(arg)) {
        yield* say(sh, cmd.line, `wait: Illegal number: ${arg}`)
        return 2
      }
      const pid = Number(arg)
      const w: { value?: number } = {}
      const r = yield* Effect.result(sh.sys.call("wait4", pid, w, 0, null))
      sh.jobs = sh.jobs.filter((p) => p !== pid)
      status = r._tag === "Success" ? statusOf(w.value ?? 0) : 127
    }
    return status
  })

/** The letters `set` takes: -e (errexit), -f (noglob: kept, with nothing to turn off, as there is no pathname expansion yet), -u (nounset), -x (xtrace). */
const SET_OPTIONS: Readonly<Record<string, "errexit" | "noglob" | "nounset" | "xtrace">> = { e: "errexit", f: "noglob", u: "nounset", x: "xtrace" }

/** A value as `set`, `export -p` and `trap` show it: in single quotes, each quote as '\''. */
const quote = (v: string): string => `'${v.replaceAll("'", "'\\''")}'`

/** getcwd(2) through the syscall, as text. */
const getcwd = (sh: Shell): Effect.Effect<string, SysError> =>
  Effect.gen(function* () {
    const buf = new Uint8Array(4096)
    const n = yield* sh.sys.call("getcwd", buf, buf.length)
    return new TextDecoder().decode(buf.subarray(0, n - 1))
  })

/** The logical working directory: what cd last set, else getcwd(2)'s answer (dash's getpwd). */
const currentDir = (sh: Shell): Effect.Effect<string, SysError> =>
  sh.cwd !== undefined ? Effect.succeed(sh.cwd) : Effect.tap(getcwd(sh), (dir) => Effect.sync(() => (sh.cwd = dir)))

/** A path with `.`, `..` and repeated slashes resolved by name, as dash's cd -L does before chdir. */
const logicalPath = (base: string, dir: string): string => {
  const parts: Array<string> = []
  for (const p of (dir.startsWith("/") ? dir : `${base}/${dir}`).split("/")) {
    if (p === "" || p === ".") continue
    if (p === "..") parts.pop()
    else parts.push(p)
  }
  return "/" + parts.join("/")
}

/** cd [DIR|-] as dash's: a logical path; `cd -` goes to $OLDPWD and prints it; PWD and OLDPWD follow. */
const cdBuiltin: Builtin = (sh, cmd, argv) =>
  Effect.gen(function* () {
    const arg = argv[1]
    const dir = arg === "-" ? (sh.vars.get("OLDPWD") ?? "") : (arg ?? sh.vars.get("HOME") ?? "")
    if (arg === undefined && dir === "") return 0
    const old = yield* Effect.result(currentDir(sh))
    const target = old._tag === "Success" ? logicalPath(old.success, dir) : dir
    const r = yield* Effect.result(sh.sys.call("chdir", target))
    if (r._tag === "Failure") {
      yield* say(sh, cmd.line, `cd: can't cd to ${dir}`)
      return 2
    }
    const now = old._tag === "Success" ? target : yield* getcwd(sh)
    sh.cwd = now
    if (old._tag === "Success") sh.vars.set("OLDPWD", old.success)
    sh.vars.set("PWD", now)
    if (arg === "-") yield* writeAll(sh.sys, 1, now + "\n")
    return 0
  })

/** export and readonly: mark each NAME (assigning NAME=VALUE first); with no names or -p, list the marked ones as dash does. */
const declare = (sh: Shell, cmd: SimpleCommand, argv: ReadonlyArray<string>, kind: "export" | "readonly"): ShEffect =>
  Effect.gen(function* () {
    const args = argv.slice(1).filter((a, k) => !(k === 0 && a === "-p"))
    const marked = kind === "export" ? sh.exported : sh.readonlyVars
    if (args.length === 0) {
      const names = [...marked].sort()
      yield* writeAll(sh.sys, 1, names.map((k) => (sh.vars.has(k) ? `${kind} ${k}=${quote(sh.vars.get(k)!)}\n` : `${kind} ${k}\n`)).join(""))
      return 0
    }
    for (const arg of args) {
      const eq = arg.indexOf("=")
      const name = eq < 0 ? arg : arg.slice(0, eq)
      if (!isName(name)) return yield* fatal(sh, cmd.line, `${kind}: ${name}: bad variable name`)
      if (eq >= 0) yield* setVar(sh, cmd.line, name, arg.slice(eq + 1))
      marked.add(name)
    }
    return 0
  })

/** The conditions trap knows: EXIT (0) and the signals by name or number (the names dash lists, without SIG). */
const SIGNALS = ["EXIT", "HUP", "INT", "QUIT", "ILL", "TRAP", "ABRT", "BUS", "FPE", "KILL", "USR1", "SEGV", "USR2", "PIPE", "ALRM", "TERM", "STKFLT", "CHLD", "CONT", "STOP", "TSTP", "TTIN", "TTOU", "URG", "XCPU", "XFSZ", "VTALRM", "PROF", "WINCH", "IO", "PWR", "SYS"]

/** trap [ACTION CONDITION...]: set (`-` resets) the command run at EXIT or on a signal; with no arguments, list them. */
const trapBuiltin: Builtin = (sh, cmd, argv) =>
  Effect.gen(function* () {
    let args = argv.slice(1)
    if (args[0] === "--") args = args.slice(1)
    if (args.length === 0) {
      const listed = SIGNALS.filter((n) => sh.traps.has(n))
      yield* writeAll(sh.sys, 1, listed.map((n) => `trap -- ${quote(sh.traps.get(n)!)} ${n}\n`).join(""))
      return 0
    }
    // as dash: a first argument that is a signal number means "reset these"
    const reset = /^[0-9]+$/.test(args[0]!) || args[0] === "-"
    const conditions = reset && args[0] !== "-" ? args : args.slice(1)
    let status = 0
    for (const c of conditions) {
      const name = /^[0-9]+$/.test(c) ? SIGNALS[Number(c)] : SIGNALS.find((n) => n === c.toUpperCase().replace(/^SIG/, ""))
      if (name === undefined) {
        yield* Effect.ignore(writeAll(sh.sys, 2, `trap: ${c}: bad trap\n`))
        status = 1
        continue
      }
      if (reset) sh.traps.delete(name)
      else sh.traps.set(name, args[0]!)
    }
    return status
  })

const BUILTINS: ReadonlyMap<string, Builtin> = new Map(Object.entries({
  ":": () => Effect.succeed(0),
  true: () => Effect.succeed(0),
  false: () => Effect.succeed(1),
  cd: cdBuiltin,
  pwd: (sh, cmd, argv) =>
    Effect.gen(function* () {
      const physical = argv[1] === "-P"
      if (argv[1] !== undefined && argv[1] !== "-P" && argv[1] !== "-L") {
        yield* say(sh, cmd.line, `pwd: Illegal option ${argv[1].slice(0, 2)}`)
        return 2
      }
      const dir = physical ? yield* Effect.result(getcwd(sh)) : yield* Effect.result(currentDir(sh))
      if (dir._tag === "Failure") {
        // dash 0.5.12 complains, then prints an empty line and succeeds
        yield* say(sh, cmd.line, `pwd: getcwd() failed: ${strerror(dir.failure)}`)
        yield* writeAll(sh.sys, 1, "\n")
        return 0
      }
      yield* writeAll(sh.sys, 1, dir.success + "\n")
      return 0
    }),
  echo: (sh, cmd, argv) => echoBuiltin(sh.sys, argv, (msg) => say(sh, cmd.line, msg)),
  printf: (sh, cmd, argv) => printfBuiltin(sh.sys, argv, (msg) => say(sh, cmd.line, msg)),
  export: (sh, cmd, argv) => declare(sh, cmd, argv, "export"),
  readonly: (sh, cmd, argv) => declare(sh, cmd, argv, "readonly"),
  unset: (sh, cmd, argv) =>
    Effect.gen(function* () {
      const functions = argv[1] === "-f"
      const names = argv.slice(1).filter((a, k) => !(k === 0 && (a === "-f" || a === "-v")))
      for (const name of names) {
        if (functions) {
          sh.functions.delete(name)
          continue
        }
        if (sh.readonlyVars.has(name)) return yield* fatal(sh, cmd.line, `unset: ${name}: is read only`)
        sh.vars.delete(name)
        sh.exported.delete(name)
      }
      return 0
    }),
  eval: (sh, cmd, argv) =>
    Effect.gen(function* () {
      const text = argv.slice(1).join(" ")
      if (text.trim() === "") return 0
      sh.status = 0
      yield* inCommand(sh, "eval", evalText(sh, text, cmd.line, true))
      return sh.status
    }),
  ".": (sh, cmd, argv) =>
    Effect.gen(function* () {
      const file = argv[1]
      if (file === undefined) return 0
      const candidates = file.includes("/") ? [file] : (sh.vars.get("PATH") ?? "/bin:/sbin").split(":").map((d) => `${d === "" ? "." : d}/${file}`)
      for (const path of candidates) {
        const fd = yield* Effect.result(sh.sys.call("openat", AT_FDCWD, path, O_RDONLY, 0))
        if (fd._tag === "Failure") continue
        const text = yield* Effect.ensuring(readAll(sh.sys, fd.success), Effect.ignore(sh.sys.call("close", fd.success)))
        sh.status = 0
        // return ends the file, as dash's dotcmd
        const inFunction = sh.inFunction
        sh.inFunction = true
        return yield* Effect.ensuring(
          Effect.catch(
            Effect.map(inCommand(sh, path, evalText(sh, text, 1)), () => sh.status),
            (e) => (e instanceof FunctionReturn ? Effect.succeed(e.status) : Effect.fail(e))
          ),
          Effect.sync(() => (sh.inFunction = inFunction))
        )
      }
      return yield* fatal(sh, cmd.line, file.includes("/") ? `.: cannot open ${file}: No such file` : `.: ${file}: not found`)
    }),
  exec: (sh, cmd, argv) =>
    Effect.gen(function* () {
      if (argv.length === 1) return 0
      const failed = yield* execvp(sh.sys, argv.slice(1), environ(sh), sh.vars.get("PATH"))
      const notFound = failed.errno === "ENOENT"
      yield* say(sh, cmd.line, notFound ? `exec: ${argv[1]}: not found` : `exec: ${argv[1]}: ${strerror(failed)}`)
      return yield* Effect.fail(new ShellExit(notFound ? 127 : 126))
    }),
  trap: trapBuiltin,
  exit: (sh, cmd, argv) => {
    const n = parseCount(argv[1], sh.status)
    return n === undefined ? illegalNumber(sh, cmd.line, "exit", argv[1]!) : Effect.fail(new ShellExit(n & 0xff))
  },
  return: (sh, cmd, argv) => {
    const n = parseCount(argv[1], sh.status)
    if (n === undefined) return illegalNumber(sh, cmd.line, "return", argv[1]!)
    return Effect.fail(sh.inFunction ? new FunctionReturn(n & 0xff) : new ShellExit(n & 0xff))
  },
  break: loopControl("break"),
  continue: loopControl("continue"),
  shift: (sh, cmd, argv) =>
    Effect.gen(function* () {
      const n = parseCount(argv[1], 1)
      if (n === undefined) return yield* illegalNumber(sh, cmd.line, "shift", argv[1]!)
      if (n > sh.params.length) {
        yield* say(sh, cmd.line, "shift: can't shift that many")
        return yield* Effect.fail(new ShellExit(2, true))
      }
      sh.params = sh.params.slice(n)
      return 0
    }),
  set: (sh, cmd, argv) =>
    Effect.gen(function* () {
      if (argv.length === 1) {
        const names = [...sh.vars.keys()].sort()
        yield* writeAll(sh.sys, 1, names.map((k) => `${k}=${quote(sh.vars.get(k)!)}\n`).join(""))
        return 0
      }
      let k = 1
      for (; k < argv.length; k++) {
        const arg = argv[k]!
        if (arg === "--" || arg === "-") {
          k++
          sh.params = argv.slice(k)
          return 0
        }
        if (!/^[-+]./.test(arg)) break
        for (const letter of arg.slice(1)) {
          const option = SET_OPTIONS[letter]
          if (option === undefined) return yield* fatal(sh, cmd.line, `set: Illegal option ${arg[0]}${letter}`)
          sh.options[option] = arg[0] === "-"
        }
      }
      if (k < argv.length) sh.params = argv.slice(k)
      return 0
    }),
  read: readBuiltin,
  wait: waitBuiltin,
  test: (sh, cmd, argv) => runTest(sh, cmd, argv),
  "[": (sh, cmd, argv) => runTest(sh, cmd, argv)
} satisfies Record<string, Builtin>))

const runTest: Builtin = (sh, cmd, argv) =>
  Effect.catch(
    testCommand(argv, {
      stat: (path, follow) =>
        Effect.gen(function* () {
          const st: { mode?: number; size?: number; uid?: number; gid?: number; ino?: number; dev?: number; mtimeSec?: number; mtimeNsec?: number } = {}
          const r = yield* Effect.result(sh.sys.call("newfstatat", AT_FDCWD, path, st, follow ? 0 : 0x100))
          return r._tag === "Success" ? { mode: 0, size: 0, uid: 0, gid: 0, ino: 0, dev: 0, mtimeSec: 0, mtimeNsec: 0, ...st } : undefined
        }),
      euid: sh.proc.task.cred.euid,
      egid: sh.proc.task.cred.egid,
      isatty: () => false
    }),
    (e: TestError) => Effect.as(say(sh, cmd.line, `${argv[0]}: ${e.message}`), 2)
  )

/** Set `assignments` (exported) for the time of `body`, then put the old values back (a regular builtin's or a function's prefix assignments). */
const withAssignments = (sh: Shell, line: number, assignments: ReadonlyArray<readonly [string, string]>, body: ShEffect): ShEffect => {
  if (assignments.length === 0) return body
  return Effect.gen(function* () {
    const old = assignments.map(([k]) => [k, sh.vars.get(k), sh.exported.has(k)] as const)
    for (const [k, v] of assignments) {
      yield* setVar(sh, line, k, v)
      sh.exported.add(k)
    }
    return yield* Effect.ensuring(
      body,
      Effect.sync(() => {
        for (const [k, v, exported] of old.reverse()) {
          if (v === undefined) sh.vars.delete(k)
          else sh.vars.set(k, v)
          if (!exported) sh.exported.delete(k)
        }
      })
    )
  })
}

/** Call a function: its arguments are the positional parameters while it runs; `return` ends it. */
const callFunction = (sh: Shell, body: Command, argv: ReadonlyArray<string>): ShEffect =>
  Effect.gen(function* () {
    const saved = { params: sh.params, loopDepth: sh.loopDepth, inFunction: sh.inFunction }
    sh.params = argv.slice(1)
    sh.loopDepth = 0
    sh.inFunction = true
    return yield* Effect.ensuring(
      Effect.catch(evalCommand(sh, body, false), (e) => (e instanceof FunctionReturn ? Effect.succeed(e.status) : Effect.fail(e))),
      Effect.sync(() => {
        sh.params = saved.params
        sh.loopDepth = saved.loopDepth
        sh.inFunction = saved.inFunction
      })
    )
  })

/**
 * Run one simple command as dash's evalcommand: special builtins, then
 * functions, then regular builtins, in the shell; anything else is
 * executed in a forked child. `forked` means this process is already a
 * child that ends with the command, so a program is executed in place.
 */
const runSimple = (sh: Shell, cmd: SimpleCommand, forked: boolean): ShEffect =>
  Effect.gen(function* () {
    const x = expander(sh, cmd.line)
    sh.substStatus = undefined
    const argv: Array<string> = []
    for (const w of cmd.words) {
      // a word as written needs no expansion (the common case, kept off the Effect path)
      const only = w.length === 1 ? w[0]! : undefined
      if (only?.type === "lit" && (only.quoted || !only.text.startsWith("~"))) argv.push(only.text)
      else for (const f of yield* expandFields(w, x)) argv.push(f)
    }
    const assignments: Array<readonly [string, string]> = []
    for (const [k, v] of cmd.assignments) assignments.push([k, yield* expandString(v, x, true)])
    if (argv.length === 0) {
      for (const [k, v] of assignments) yield* setVar(sh, cmd.line, k, v)
      if (sh.options.xtrace) yield* trace(sh, assignments, argv)
      const status = sh.substStatus ?? 0
      return yield* withRedirects(sh, cmd.line, cmd.redirects, Effect.succeed(status))
    }
    if (sh.options.xtrace) yield* trace(sh, assignments, argv)
    const name = argv[0]!
    if (name === "exec" && argv.length === 1) {
      // exec with only redirections: they stay
      for (const [k, v] of assignments) yield* setVar(sh, cmd.line, k, v)
      const r = yield* Effect.result(redirect(sh, cmd.line, cmd.redirects))
      return r._tag === "Success" ? 0 : yield* Effect.fail(new ShellExit(2, true))
    }
    if (SPECIAL_BUILTINS.has(name)) {
      for (const [k, v] of assignments) yield* setVar(sh, cmd.line, k, v)
      return yield* withRedirects(sh, cmd.line, cmd.redirects, BUILTINS.get(name)!(sh, cmd, argv), true)
    }
    const fn = sh.functions.get(name)
    if (fn !== undefined) return yield* withAssignments(sh, cmd.line, assignments, withRedirects(sh, cmd.line, cmd.redirects, callFunction(sh, fn, argv)))
    const builtin = BUILTINS.get(name)
    if (builtin !== undefined) return yield* withAssignments(sh, cmd.line, assignments, withRedirects(sh, cmd.line, cmd.redirects, builtin(sh, cmd, argv)))
    const exec = (child: Shell): ShEffect =>
      Effect.gen(function* () {
        for (const [k, v] of assignments) {
          yield* setVar(child, cmd.line, k, v)
          child.exported.add(k)
        }
        if (cmd.redirects.length > 0) {
          const redirected = yield* Effect.result(redirect(child, cmd.line, cmd.redirects))
          if (redirected._tag === "Failure") return yield* child.proc.exit(2)
        }
        return yield* execCommand(child, cmd, argv)
      })
    if (forked) return yield* exec(sh)
    return yield* forkAndWait(sh, forkShell(sh, exec))
  })

/** set -x: the command after expansion on standard error, after $PS4 (dash's "+ "). */
const trace = (sh: Shell, assignments: ReadonlyArray<readonly [string, string]>, argv: ReadonlyArray<string>): Effect.Effect<void> => {
  const words = [...assignments.map(([k, v]) => `${k}=${v}`), ...argv]
  return Effect.ignore(writeAll(sh.sys, 2, `${sh.vars.get("PS4") ?? "+ "}${words.join(" ")}\n`))
}

/** Run a loop body, counting the loop for break and continue; "break" when the loop must end. */
const loopBody = (sh: Shell, body: List): Effect.Effect<"break" | "next", SysError | Unwind> =>
  Effect.gen(function* () {
    sh.loopDepth++
    const r = yield* Effect.result(Effect.ensuring(evalList(sh, body), Effect.sync(() => sh.loopDepth--)))
    if (r._tag === "Success") return "next"
    const e = r.failure
    if (!(e instanceof LoopControl)) return yield* Effect.fail(e)
    if (e.count > 1) return yield* Effect.fail(new LoopControl(e.kind, e.count - 1))
    return e.kind === "break" ? "break" : "next"
  })

/** The status of a list that ran nothing (a loop that never looped, a case that matched nothing) is 0. */
const evalCompound = (sh: Shell, cmd: Exclude<Command, SimpleCommand>, forked: boolean): ShEffect =>
  Effect.gen(function* () {
    switch (cmd.type) {
      case "function":
        sh.functions.set(cmd.name, cmd.body)
        return 0
      case "if": {
        for (const { cond, body } of cmd.branches) {
          if ((yield* condition(sh, cond)) === 0) return yield* evalList(sh, body, forked)
        }
        return cmd.otherwise === undefined ? 0 : yield* evalList(sh, cmd.otherwise, forked)
      }
      case "while":
      case "until": {
        let status = 0
        for (;;) {
          sh.loopDepth++
          const c = yield* Effect.result(Effect.ensuring(condition(sh, cmd.cond), Effect.sync(() => sh.loopDepth--)))
          if (c._tag === "Failure") {
            const e = c.failure
            if (!(e instanceof LoopControl)) return yield* Effect.fail(e)
            if (e.count > 1) return yield* Effect.fail(new LoopControl(e.kind, e.count - 1))
            if (e.kind === "break") return status
            continue
          }
          if ((c.success === 0) !== (cmd.type === "while")) return status
          const next = yield* loopBody(sh, cmd.body)
          status = sh.status
          if (next === "break") return status
        }
      }
      case "for": {
        const x = expander(sh, cmd.line)
        const items: Array<string> = []
        if (cmd.words === undefined) items.push(...sh.params)
        else for (const w of cmd.words) items.push(...(yield* expandFields(w, x)))
        let status = 0
        for (const item of items) {
          yield* setVar(sh, cmd.line, cmd.name, item)
          const next = yield* loopBody(sh, cmd.body)
          status = sh.status
          if (next === "break") break
        }
        return status
      }
      case "case": {
        const x = expander(sh, cmd.line)
        const subject = yield* expandString(cmd.word, x)
        for (const item of cmd.items) {
          for (const p of item.patterns) {
            if (patternRegex(yield* expandChars(p, x)).test(subject)) return item.body.length === 0 ? 0 : yield* evalList(sh, item.body, forked)
          }
        }
        return 0
      }
      case "group":
        return yield* evalList(sh, cmd.body, forked)
      case "subshell":
        if (forked) return yield* evalList(sh, cmd.body, true)
        return yield* forkAndWait(
          sh,
          forkShell(sh, (child) => evalList(child, cmd.body, true))
        )
    }
  })

/** Run one command of any kind, with its redirections. */
const evalCommand = (sh: Shell, cmd: Command, forked: boolean): ShEffect => {
  if (cmd.type === "simple") return runSimple(sh, cmd, forked)
  if (cmd.type === "function") return evalCompound(sh, cmd, forked)
  if (forked && cmd.redirects.length > 0) {
    // a child that ends with the command needs nothing restored
    return Effect.gen(function* () {
      const r = yield* Effect.result(redirect(sh, cmd.line, cmd.redirects))
      if (r._tag === "Failure") return 2
      return yield* evalCompound(sh, cmd, true)
    })
  }
  return withRedirects(sh, cmd.line, cmd.redirects, evalCompound(sh, cmd, forked))
}

/**
 * A pipeline: each command in its own child, stdout to the next one's
 * stdin; the status is the last one's, negated after `!`. `forked`: the
 * process ends with this pipeline, so a lone command need not fork again
 * (dash's EV_EXIT); not under `!`, whose status is still to be computed.
 */
const runPipeline = (sh: Shell, pipeline: Pipeline, forked = false): ShEffect =>
  Effect.gen(function* () {
    const status =
      pipeline.commands.length === 1 ? yield* evalCommand(sh, pipeline.commands[0]!, forked && !pipeline.negate) : yield* runPipe(sh, pipeline.commands)
    return pipeline.negate ? (status === 0 ? 1 : 0) : status
  })

const runPipe = (sh: Shell, commands: ReadonlyArray<Command>): ShEffect =>
  Effect.gen(function* () {
    const pids: Array<number> = []
    let input = -1
    for (let i = 0; i < commands.length; i++) {
      const last = i === commands.length - 1
      const fds: Array<number> = []
      if (!last) yield* sh.sys.call("pipe2", fds, 0)
      const cmd = commands[i]!
      const inFd = input
      pids.push(
        yield* sh.sys.call(
          "fork",
          forkShell(sh, (child) =>
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
              return yield* evalCommand(child, cmd, true)
            })
          )
        )
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

/**
 * Pipelines joined by `&&` and `||`. Under `set -e` a failure of the last
 * pipeline that ran ends the shell, unless it was negated, was not the
 * last of the list, or runs as a condition (dash's EV_TESTED).
 */
const runAndOr = (sh: Shell, list: AndOr, forked = false): ShEffect =>
  Effect.gen(function* () {
    if (list.rest.length === 0) {
      sh.status = yield* runPipeline(sh, list.first, forked)
      if (sh.options.errexit && sh.status !== 0 && sh.conditional === 0 && !list.first.negate) return yield* Effect.fail(new ShellExit(sh.status))
      return sh.status
    }
    const all = [list.first, ...list.rest.map(([, p]) => p)]
    let ran = 0
    for (let i = 0; i < all.length; i++) {
      if (i > 0 && (list.rest[i - 1]![0] === "&&") !== (sh.status === 0)) continue
      const pipeline = all[i]!
      const tested = i < all.length - 1 || pipeline.negate
      if (tested) sh.conditional++
      const status = yield* Effect.ensuring(
        runPipeline(sh, pipeline, forked && i === all.length - 1),
        Effect.sync(() => {
          if (tested) sh.conditional--
        })
      )
      sh.status = status
      ran = i
    }
    if (sh.options.errexit && sh.status !== 0 && sh.conditional === 0 && ran === all.length - 1 && !all[ran]!.negate) return yield* Effect.fail(new ShellExit(sh.status))
    return sh.status
  })

/**
 * `list &`: a forked child runs it, with standard input from /dev/null
 * (POSIX, for a shell without job control); the shell goes on at once
 * with status 0 and the child's pid in $!.
 */
const runBackground = (sh: Shell, list: AndOr): ShEffect =>
  Effect.gen(function* () {
    const pid = yield* sh.sys.call(
      "fork",
      forkShell(sh, (child) =>
        Effect.gen(function* () {
          // as dash's forkchild: close 0, then open /dev/null (the lowest free fd, so 0);
          // dash names line 0 when it cannot
          yield* Effect.ignore(child.sys.call("close", 0))
          const fd = yield* Effect.result(child.sys.call("openat", AT_FDCWD, "/dev/null", O_RDONLY, 0))
          if (fd._tag === "Failure") {
            yield* say(child, 0, `cannot open /dev/null: ${redirectError("<", fd.failure)}`)
            return 2
          }
          return yield* runAndOr(child, list, true)
        })
      )
    )
    sh.lastBackground = pid
    sh.jobs.push(pid)
    sh.status = 0
    return 0
  })

/** Run a list as a condition (of `if`, `while`, `until`), where `set -e` does not end the shell. */
const condition = (sh: Shell, list: List): ShEffect => {
  sh.conditional++
  return Effect.ensuring(
    evalList(sh, list),
    Effect.sync(() => sh.conditional--)
  )
}

/** Run the and-or lists one after another; the status is the last one's. `forked`: the process ends with the list. */
const evalList = (sh: Shell, list: List, forked = false): ShEffect =>
  Effect.gen(function* () {
    for (let i = 0; i < list.length; i++) {
      const andOr = list[i]!
      if (andOr.background) yield* runBackground(sh, andOr)
      else yield* runAndOr(sh, andOr, forked && i === list.length - 1)
    }
    return sh.status
  })

/** A shell's state: the process it runs in, its variables (the environment), $0 and the arguments. */
const newShell = (proc: Process, arg0: string, params: ReadonlyArray<string>): Effect.Effect<Shell, SysError> =>
  Effect.gen(function* () {
    const sys = new Syscalls({ proc })
    const rootPid = yield* sys.call("getpid")
    const sh: Shell = {
      proc,
      sys,
      vars: new Map<string, string>(proc.task.envp.map((kv) => [kv.slice(0, kv.indexOf("=")), kv.slice(kv.indexOf("=") + 1)])),
      status: 0,
      params,
      arg0,
      functions: new Map(),
      rootPid,
      lastBackground: undefined,
      jobs: [],
      loopDepth: 0,
      inFunction: false,
      exported: new Set(proc.task.envp.map((kv) => kv.slice(0, kv.indexOf("=")))),
      readonlyVars: new Set(),
      options: { errexit: false, noglob: false, nounset: false, xtrace: false },
      traps: new Map(),
      substStatus: undefined,
      conditional: 0,
      cwd: undefined,
      commandName: undefined
    }
    // as dash's setpwd at startup: PWD is the working directory, exported
    const cwd = yield* Effect.result(getcwd(sh))
    if (cwd._tag === "Success") {
      sh.cwd = cwd.success
      sh.vars.set("PWD", cwd.success)
      sh.exported.add("PWD")
    }
    return sh
  })

/**
 * Parse and run `text` (its first line numbered `firstLine`) one command
 * line at a time, as dash does: lines before a syntax error have run. A
 * syntax error makes the status 2 and stops; exit unwinds as a ShellExit.
 */
const runText = (sh: Shell, text: string, firstLine: number): Effect.Effect<void, SysError | ShellExit> =>
  Effect.gen(function* () {
    const ran = yield* Effect.result(evalText(sh, text, firstLine))
    if (ran._tag === "Failure") {
      const e = ran.failure
      if (e instanceof FunctionReturn) return yield* Effect.fail(new ShellExit(e.status))
      if (e instanceof LoopControl) return
      return yield* Effect.fail(e)
    }
  })

/** Run `body` with `name` as dash's commandname (for its error messages). */
const inCommand = (sh: Shell, name: string, body: ShEffect<void>): ShEffect<void> => {
  const outer = sh.commandName
  sh.commandName = name
  return Effect.ensuring(
    body,
    Effect.sync(() => (sh.commandName = outer))
  )
}

/**
 * Parse and run `text` a command line at a time inside the running shell
 * (eval, `.`): return, break and continue go on to the enclosing function
 * or loop. `atLine`: a syntax error names `firstLine` (eval's own line), not the line in `text`.
 */
const evalText = (sh: Shell, text: string, firstLine: number, atLine = false): ShEffect<void> =>
  Effect.gen(function* () {
    const parser = new Parser(text, firstLine)
    for (;;) {
      const list = parser.next()
      if (list === undefined) return
      if (list instanceof ShSyntaxError) {
        yield* say(sh, atLine ? firstLine : list.line, `Syntax error: ${list.message}`)
        sh.status = 2
        return yield* Effect.fail(new ShellExit(2, true))
      }
      yield* evalList(sh, list)
    }
  })

/** Run a whole script as `sh` does; the result is its exit status. `arg0` and `params` are $0 and $1.... */
export const runScript = (proc: Process, text: string, arg0 = "sh", params: ReadonlyArray<string> = []): Effect.Effect<number, SysError> =>
  Effect.gen(function* () {
    const sh = yield* newShell(proc, arg0, params)
    const ran = yield* Effect.result(runText(sh, text, 1))
    return yield* exitTrap(sh, ran._tag === "Failure" ? (ran.failure instanceof ShellExit ? ran.failure.status : 2) : sh.status)
  })

/** Syntax errors that more input can cure: the shell reads on (with the `> ` prompt) instead. */
const incomplete = (e: ShSyntaxError): boolean => e.message === "Unterminated quoted string" || e.message.startsWith("end of file unexpected")

/**
 * A shell reading commands line by line from `nextLine`, which shows the
 * prompt it is given (`# ` for root, `$ ` otherwise, `> ` inside an
 * unfinished command, as dash's are) the way a line editor does. Each
 * command runs as soon as it is complete, in the same shell (variables, cwd
 * and $? carry over), until end of input or `exit`. A syntax error, or an
 * error of a special builtin, costs an interactive shell only its command;
 * otherwise it ends the shell with status 2, as it ends dash.
 */
export const runInteractive = (
  proc: Process,
  nextLine: (prompt: string) => Effect.Effect<string | undefined>,
  interactive: boolean
): Effect.Effect<number, SysError> =>
  Effect.gen(function* () {
    const sh = yield* newShell(proc, "sh", [])
    const status = yield* Effect.gen(function* () {
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
        if (script instanceof ShSyntaxError && incomplete(script)) {
          pending = text
          continue
        }
        pending = ""
        const start = firstLine
        firstLine = lineno + 1
        const ran = yield* Effect.result(runText(sh, text, start))
        if (ran._tag === "Failure") {
          const e = ran.failure
          if (!(e instanceof ShellExit)) return yield* Effect.fail(e)
          if (!e.abort || !interactive) return e.status
          sh.status = e.status
        }
      }
    })
    return yield* exitTrap(sh, status)
  })

/** sh: `sh -c CMD [NAME [ARG...]]`, `sh FILE [ARG...]`, or the script on standard input. */
export const sh: Program = (proc) =>
  Effect.gen(function* () {
    const argv = proc.task.argv
    if (argv[1] === "-c") return yield* runScript(proc, argv[2] ?? "", argv[3] ?? argv[0] ?? "sh", argv.slice(4))
    const sys = new Syscalls({ proc })
    if (argv[1] !== undefined) {
      const fd = yield* Effect.result(sys.call("openat", AT_FDCWD, argv[1], O_RDONLY, 0))
      if (fd._tag === "Failure") {
        yield* Effect.ignore(writeAll(sys, 2, `sh: 0: cannot open ${argv[1]}: No such file\n`))
        return 2
      }
      const text = yield* readAll(sys, fd.success)
      yield* sys.call("close", fd.success)
      return yield* runScript(proc, text, argv[1], argv.slice(2))
    }
    return yield* runScript(proc, yield* readAll(sys, 0), argv[0] ?? "sh")
  })
