/**
 * The `test` and `[` builtins, read as dash's bltin/test.c reads them: the
 * POSIX rules by argument count first, then a recursive descent over
 * `-o`, `-a`, `!` and `( )`. The expression is parsed first and evaluated
 * after, so file tests can make their syscalls.
 */
import { S_IFBLK, S_IFCHR, S_IFDIR, S_IFIFO, S_IFLNK, S_IFMT, S_IFREG, S_IFSOCK, S_ISGID, S_ISUID, S_ISVTX } from "@simkernel/abi"
import { Effect } from "effect"

const UNARY = new Set(["-b", "-c", "-d", "-e", "-f", "-g", "-h", "-k", "-L", "-n", "-p", "-r", "-s", "-S", "-t", "-u", "-w", "-x", "-z", "-O", "-G"])
const BINARY = new Set(["=", "!=", "<", ">", "-eq", "-ne", "-gt", "-ge", "-lt", "-le", "-nt", "-ot", "-ef"])

type Expr =
  | { readonly k: "or" | "and"; readonly l: Expr; readonly r: Expr }
  | { readonly k: "not"; readonly e: Expr }
  | { readonly k: "unary"; readonly op: string; readonly arg: string }
  | { readonly k: "binary"; readonly op: string; readonly a: string; readonly b: string }
  | { readonly k: "string"; readonly s: string }
  | { readonly k: "false" }

/** A test(1) error: dash prints it as `sh: LINE: test: MESSAGE` and the status is 2. */
export class TestError {
  readonly _tag = "TestError"
  constructor(readonly message: string) {}
}

/** What a file test needs of the file: lstat or stat, and the caller's effective ids. */
export interface TestFiles {
  readonly stat: (path: string, follow: boolean) => Effect.Effect<{ readonly mode: number; readonly size: number; readonly uid: number; readonly gid: number; readonly ino: number; readonly dev: number; readonly mtimeSec: number; readonly mtimeNsec: number } | undefined>
  readonly euid: number
  readonly egid: number
  readonly isatty: (fd: number) => boolean
}

/** dash's t_lex: an operator token, unless context makes it an operand. */
const opOf = (args: ReadonlyArray<string>, i: number): string => {
  const s = args[i]
  if (s === undefined) return "EOI"
  if (s === "!" || s === "-a" || s === "-o" || s === ")") return s
  if (s === "(") return args[i + 1] === undefined ? "OPERAND" : "("
  if (UNARY.has(s)) {
    // a unary operator followed by a binary one, or last, is an operand
    if (args[i + 1] === undefined) return "OPERAND"
    if (args[i + 2] !== undefined && BINARY.has(args[i + 1]!)) return "OPERAND"
    return "UNARY"
  }
  if (BINARY.has(s)) return "BINARY"
  return "OPERAND"
}

const syntax = (op: string | undefined, msg: string): TestError => new TestError(op !== undefined && op !== "" ? `${op}: ${msg}` : msg)

/** Parse test's arguments (without the `]`) into an expression, and whether `!` negated it by the argument-count rule. */
const parse = (argv: ReadonlyArray<string>): { readonly expr: Expr | undefined; readonly negate: boolean } => {
  let args = argv
  let negate = false
  for (;;) {
    if (args.length === 0) return { expr: undefined, negate }
    if (args.length === 1) return { expr: { k: "string", s: args[0]! }, negate }
    if (args.length === 3 && BINARY.has(args[1]!)) return { expr: { k: "binary", op: args[1]!, a: args[0]!, b: args[2]! }, negate }
    if ((args.length === 3 || args.length === 4) && args[0] === "(" && args.at(-1) === ")") {
      args = args.slice(1, -1)
      break
    }
    if ((args.length === 3 || args.length === 4) && args[0] === "!") {
      negate = true
      args = args.slice(1)
      continue
    }
    break
  }
  let i = 0
  const oexpr = (): Expr => {
    let l = aexpr()
    while (opOf(args, i + 1) === "-o") {
      i += 2
      l = { k: "or", l, r: aexpr() }
    }
    return l
  }
  const aexpr = (): Expr => {
    let l = nexpr()
    while (opOf(args, i + 1) === "-a") {
      i += 2
      l = { k: "and", l, r: nexpr() }
    }
    return l
  }
  const nexpr = (): Expr => {
    if (opOf(args, i) === "!") {
      i++
      return { k: "not", e: nexpr() }
    }
    return primary()
  }
  const primary = (): Expr => {
    const n = opOf(args, i)
    // a missing operand (after -a, -o or !) is false, as in dash
    if (n === "EOI") return { k: "false" }
    if (n === "(") {
      i++
      if (opOf(args, i) === ")") return { k: "false" }
      const e = oexpr()
      i++
      if (opOf(args, i) !== ")") throw syntax(undefined, "closing paren expected")
      return e
    }
    if (n === "UNARY") {
      const op = args[i]!
      i++
      if (args[i] === undefined) throw syntax(op, "argument expected")
      return { k: "unary", op, arg: args[i]! }
    }
    if (opOf(args, i + 1) === "BINARY") {
      const a = args[i]!
      const op = args[i + 1]!
      i += 2
      if (args[i] === undefined) throw syntax(op, "argument expected")
      return { k: "binary", op, a, b: args[i]! }
    }
    return { k: "string", s: args[i]! }
  }
  const expr = oexpr()
  if (args[i] !== undefined && args[i + 1] !== undefined) throw syntax(args[i], "unexpected operator")
  return { expr, negate }
}

/** dash's getn: an integer with optional blanks around it, within intmax_t, or "Illegal number". */
const number = (s: string): Effect.Effect<bigint, TestError> => {
  const n = /^\s*[+-]?[0-9]+\s*$/.test(s) ? BigInt(s.trim()) : undefined
  return n === undefined || n > 9223372036854775807n || n < -9223372036854775808n ? Effect.fail(new TestError(`Illegal number: ${s}`)) : Effect.succeed(n)
}

const evaluate = (e: Expr, files: TestFiles): Effect.Effect<boolean, TestError> =>
  Effect.gen(function* () {
    switch (e.k) {
      case "false":
        return false
      case "string":
        return e.s !== ""
      case "not":
        return !(yield* evaluate(e.e, files))
      case "and": {
        // dash evaluates both sides
        const l = yield* evaluate(e.l, files)
        const r = yield* evaluate(e.r, files)
        return l && r
      }
      case "or": {
        const l = yield* evaluate(e.l, files)
        const r = yield* evaluate(e.r, files)
        return l || r
      }
      case "unary":
        return yield* unary(e.op, e.arg, files)
      case "binary":
        return yield* binary(e.op, e.a, e.b, files)
    }
  })

const unary = (op: string, arg: string, files: TestFiles): Effect.Effect<boolean, TestError> =>
  Effect.gen(function* () {
    if (op === "-z") return arg === ""
    if (op === "-n") return arg !== ""
    if (op === "-t") return files.isatty(Number(yield* number(arg)))
    const st = yield* files.stat(arg, op !== "-h" && op !== "-L")
    if (st === undefined) return false
    const type = st.mode & S_IFMT
    // access(2) as root: read and write always, execute when any x bit is set (or a directory)
    const may = (bit: number): boolean =>
      files.euid === 0
        ? bit !== 1 || (st.mode & 0o111) !== 0 || type === S_IFDIR
        : ((st.uid === files.euid ? st.mode >> 6 : st.gid === files.egid ? st.mode >> 3 : st.mode) & bit) !== 0
    switch (op) {
      case "-e":
        return true
      case "-f":
        return type === S_IFREG
      case "-d":
        return type === S_IFDIR
      case "-b":
        return type === S_IFBLK
      case "-c":
        return type === S_IFCHR
      case "-p":
        return type === S_IFIFO
      case "-S":
        return type === S_IFSOCK
      case "-h":
      case "-L":
        return type === S_IFLNK
      case "-s":
        return st.size > 0
      case "-u":
        return (st.mode & S_ISUID) !== 0
      case "-g":
        return (st.mode & S_ISGID) !== 0
      case "-k":
        return (st.mode & S_ISVTX) !== 0
      case "-O":
        return st.uid === files.euid
      case "-G":
        return st.gid === files.egid
      case "-r":
        return may(4)
      case "-w":
        return may(2)
      default:
        return may(1)
    }
  })

const binary = (op: string, a: string, b: string, files: TestFiles): Effect.Effect<boolean, TestError> =>
  Effect.gen(function* () {
    switch (op) {
      case "=":
        return a === b
      case "!=":
        return a !== b
      case "<":
        return a < b
      case ">":
        return a > b
      case "-nt":
      case "-ot":
      case "-ef": {
        const sa = yield* files.stat(a, true)
        const sb = yield* files.stat(b, true)
        if (op === "-ef") return sa !== undefined && sb !== undefined && sa.dev === sb.dev && sa.ino === sb.ino
        const time = (s: typeof sa): number => (s === undefined ? -Infinity : s.mtimeSec * 1e9 + s.mtimeNsec)
        return op === "-nt" ? sa !== undefined && time(sa) > time(sb) : sb !== undefined && time(sa) < time(sb)
      }
    }
    const x = yield* number(a)
    const y = yield* number(b)
    switch (op) {
      case "-eq":
        return x === y
      case "-ne":
        return x !== y
      case "-gt":
        return x > y
      case "-ge":
        return x >= y
      case "-lt":
        return x < y
      default:
        return x <= y
    }
  })

/** Run `test ARGS...` or `[ ARGS... ]`: status 0 true, 1 false, or a TestError (status 2). */
export const testCommand = (argv: ReadonlyArray<string>, files: TestFiles): Effect.Effect<number, TestError> =>
  Effect.suspend(() => {
    let args = argv.slice(1)
    if (argv[0] === "[") {
      if (args.at(-1) !== "]") return Effect.fail(new TestError("missing ]"))
      args = args.slice(0, -1)
    }
    let parsed: ReturnType<typeof parse>
    try {
      parsed = parse(args)
    } catch (e) {
      if (e instanceof TestError) return Effect.fail(e)
      throw e
    }
    const { expr, negate } = parsed
    if (expr === undefined) return Effect.succeed(negate ? 0 : 1)
    return Effect.map(evaluate(expr, files), (truth) => (truth !== negate ? 0 : 1))
  })
