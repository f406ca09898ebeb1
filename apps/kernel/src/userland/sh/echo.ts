/**
 * The shell's echo and printf, as dash's bltin/printf.c: echo takes only
 * `-n` and reads backslash escapes in its arguments; printf reuses its
 * format while arguments remain.
 */
import type { SysError } from "@simkernel/abi"
import { Effect } from "effect"
import type { Syscalls } from "../../syscalls/table.js"
import { writeAll } from "../program.js"

type Complain = (msg: string) => Effect.Effect<void>

const SIMPLE_ESCAPES: Readonly<Record<string, string>> = { "\\": "\\", a: "\x07", b: "\b", e: "\x1b", f: "\f", n: "\n", r: "\r", t: "\t", v: "\v" }

/**
 * One escape at `s[i]` (just past the backslash), as dash's conv_escape:
 * the text and how many characters it used; `zeroPrefix` lets `\0` take
 * three more octal digits (echo and %b). `\c` is "stop" for the caller.
 */
const escape = (s: string, i: number, zeroPrefix: boolean): { text: string | "stop"; used: number } => {
  const c = s[i]
  if (c === undefined) return { text: "\\", used: 0 }
  if (c === "c" && zeroPrefix) return { text: "stop", used: 1 }
  if (/[0-7]/.test(c)) {
    const max = zeroPrefix && c === "0" ? 4 : 3
    let j = i
    while (j < i + max && /[0-7]/.test(s[j] ?? "")) j++
    return { text: String.fromCharCode(parseInt(s.slice(c === "0" && zeroPrefix ? i + 1 : i, j) || "0", 8) & 0xff), used: j - i }
  }
  const simple = SIMPLE_ESCAPES[c]
  return simple !== undefined ? { text: simple, used: 1 } : { text: "\\" + c, used: 1 }
}

/** The text of `s` with its escapes read (echo's arguments, %b): and whether a `\c` stopped it. */
const unescape = (s: string): { text: string; stop: boolean } => {
  let out = ""
  for (let i = 0; i < s.length; i++) {
    if (s[i] !== "\\") {
      out += s[i]
      continue
    }
    const e = escape(s, i + 1, true)
    if (e.text === "stop") return { text: out, stop: true }
    out += e.text
    i += e.used
  }
  return { text: out, stop: false }
}

/** Write, or say "NAME: NAME: I/O error" and give status 1, as dash does when stdout is closed. */
const output = (sys: Syscalls, name: string, text: string, complain: Complain): Effect.Effect<number> =>
  text === "" ? Effect.succeed(0) : Effect.catch(Effect.as(writeAll(sys, 1, text), 0), () => Effect.as(complain(`${name}: ${name}: I/O error`), 1))

/** echo [-n] ARG...: the arguments with their escapes read, separated by spaces. */
export const echoBuiltin = (sys: Syscalls, argv: ReadonlyArray<string>, complain: Complain): Effect.Effect<number, SysError> => {
  const noNewline = argv[1] === "-n"
  const args = argv.slice(noNewline ? 2 : 1)
  let text = ""
  let stopped = false
  for (let k = 0; k < args.length && !stopped; k++) {
    const u = unescape(args[k]!)
    text += (k > 0 ? " " : "") + u.text
    stopped = u.stop
  }
  if (!noNewline && !stopped) text += "\n"
  return output(sys, "echo", text, complain)
}

/** A numeric argument as dash's getintmax: a leading quote gives the character's code; junk is an error, reported, its value what was read. */
const numberArg = (arg: string | undefined, complain: Array<string>): bigint => {
  if (arg === undefined || arg === "") return 0n
  if (arg[0] === "'" || arg[0] === '"') return BigInt(arg.codePointAt(1) ?? 0)
  const m = /^\s*([-+]?)(0[xX][0-9a-fA-F]+|0[0-7]*|[1-9][0-9]*)/.exec(arg)
  if (m === null) {
    complain.push(`${arg}: expected numeric value`)
    return 0n
  }
  const digits = m[2]!
  const magnitude = digits.length > 1 && digits[0] === "0" && !/[xX]/.test(digits[1]!) ? BigInt("0o" + digits.slice(1)) : BigInt(digits)
  if (m[0].length < arg.length) complain.push(`${arg}: not completely converted`)
  return m[1] === "-" ? -magnitude : magnitude
}

/** Pad `body` (after its `sign`) to `width` as the flags say. */
const pad = (body: string, sign: string, flags: string, width: number, numeric: boolean): string => {
  const len = sign.length + body.length
  if (len >= width) return sign + body
  if (flags.includes("-")) return sign + body + " ".repeat(width - len)
  if (numeric && flags.includes("0")) return sign + "0".repeat(width - len) + body
  return " ".repeat(width - len) + sign + body
}

/** printf FORMAT [ARG...]: %s %b %c %d %i %o %u %x %X %f %e %g and %%, with flags, width and precision. */
export const printfBuiltin = (sys: Syscalls, argv: ReadonlyArray<string>, complain: Complain): Effect.Effect<number, SysError> =>
  Effect.gen(function* () {
    const format = argv[1]
    if (format === undefined) {
      yield* complain("printf: usage: printf format [arg ...]")
      return 2
    }
    const args = argv.slice(2)
    let next = 0
    const errors: Array<string> = []
    let out = ""
    let status = 0
    const take = (): string | undefined => args[next++]
    for (;;) {
      const before = next
      for (let i = 0; i < format.length; i++) {
        const c = format[i]!
        if (c === "\\") {
          const e = escape(format, i + 1, false)
          out += e.text === "stop" ? "\\c" : e.text
          i += e.used
          continue
        }
        if (c !== "%") {
          out += c
          continue
        }
        const spec = /^%([-+ #0]*)(\*|[0-9]*)(?:\.(\*|[0-9]*))?([a-zA-Z%]?)/.exec(format.slice(i))!
        i += spec[0].length - 1
        const [, flags = "", widthText = "", precText, conv = ""] = spec
        if (conv === "%") {
          out += "%"
          continue
        }
        if (!"sbcdiouxXfeEgG".includes(conv) || conv === "") {
          yield* output(sys, "printf", out, complain)
          yield* complain(`printf: ${spec[0]}: invalid directive`)
          return 2
        }
        const width = widthText === "*" ? Number(numberArg(take(), errors)) : Number(widthText || "0")
        const precision = precText === undefined ? undefined : precText === "*" ? Number(numberArg(take(), errors)) : Number(precText || "0")
        const arg = take()
        switch (conv) {
          case "s":
          case "b": {
            let text = arg ?? ""
            if (conv === "b") {
              const u = unescape(text)
              text = u.text
              if (u.stop) {
                out += pad(precision === undefined ? text : text.slice(0, precision), "", flags, width, false)
                for (const e of errors) yield* complain(`printf: ${e}`)
                return Math.max(yield* output(sys, "printf", out, complain), errors.length > 0 ? 1 : 0)
              }
            }
            out += pad(precision === undefined ? text : text.slice(0, precision), "", flags, width, false)
            break
          }
          case "c":
            out += pad((arg ?? "").slice(0, 1), "", flags, width, false)
            break
          case "f":
          case "e":
          case "E":
          case "g":
          case "G": {
            const v = arg === undefined || arg === "" ? 0 : Number(arg)
            const p = precision ?? 6
            const n = Number.isNaN(v) ? 0 : Math.abs(v)
            let body = conv === "f" ? n.toFixed(p) : conv === "e" || conv === "E" ? n.toExponential(p).replace(/e([+-])(\d)$/, "e$10$2") : String(Number(n.toPrecision(p || 1)))
            if (conv === "E" || conv === "G") body = body.toUpperCase()
            const sign = v < 0 ? "-" : flags.includes("+") ? "+" : flags.includes(" ") ? " " : ""
            out += pad(body, sign, flags, width, true)
            break
          }
          default: {
            const v = numberArg(arg, errors)
            const unsigned = conv === "o" || conv === "u" || conv === "x" || conv === "X"
            const value = unsigned ? BigInt.asUintN(64, v) : BigInt.asIntN(64, v)
            const magnitude = value < 0n ? -value : value
            let body = conv === "o" ? magnitude.toString(8) : conv === "x" ? magnitude.toString(16) : conv === "X" ? magnitude.toString(16).toUpperCase() : magnitude.toString()
            if (precision !== undefined) body = body.padStart(precision, "0")
            if (flags.includes("#") && conv === "o" && !body.startsWith("0")) body = "0" + body
            const prefix = flags.includes("#") && magnitude !== 0n && (conv === "x" || conv === "X") ? (conv === "x" ? "0x" : "0X") : ""
            const sign = value < 0n ? "-" : unsigned ? "" : flags.includes("+") ? "+" : flags.includes(" ") ? " " : ""
            out += pad(body, sign + prefix, precision !== undefined ? flags.replace("0", "") : flags, width, true)
          }
        }
      }
      if (next >= args.length || next === before) break
    }
    for (const e of errors) yield* complain(`printf: ${e}`)
    if (errors.length > 0) status = 1
    return Math.max(yield* output(sys, "printf", out, complain), status)
  })
