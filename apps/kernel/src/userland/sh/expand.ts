/**
 * Word expansion as dash's expand.c does it: parameter expansion (with
 * the `${NAME op WORD}` operators), command substitution, arithmetic
 * expansion, then field splitting on IFS and quote removal. What needs
 * the shell (variables, running commands) comes through an Expander.
 */
import { Effect } from "effect"
import { ArithError, evalArith } from "./arith.js"
import type { List, Word, WordPart } from "./parse.js"

/** One character of an expanded word and how it may still change: SPLIT by IFS, GLOB as a pattern character. */
export type Char = readonly [string, number]
export const SPLIT = 1
export const GLOB = 2
/** A field break inside "$@". */
const BREAK: Char = ["", -1]

/** What expansion needs from the shell; `E` is how it fails. */
export interface Expander<E> {
  /** A parameter by name: `?`, `$`, `#`, digits, variables; undefined when unset. */
  readonly lookup: (name: string) => string | undefined
  readonly params: ReadonlyArray<string>
  /** `set -u`: expanding an unset parameter is an error. */
  readonly nounset: boolean
  /** `${NAME=WORD}` and arithmetic assignments. */
  readonly assign: (name: string, value: string) => Effect.Effect<void, E>
  /** An expansion error ("x: parameter not set"): the message, then the shell's way out. */
  readonly error: (message: string) => Effect.Effect<never, E>
  /** `$(...)`: the commands' output. */
  readonly substitute: (body: List) => Effect.Effect<string, E>
}

const isLiteral = (word: Word): boolean => word.every((p) => p.type === "lit")

/** The value of parameter `name`, "$@" and "$*" joined by spaces. */
const valueOf = <E>(name: string, x: Expander<E>): string | undefined => (name === "@" || name === "*" ? (x.params.length > 0 ? x.params.join(" ") : undefined) : x.lookup(name))

/** A parameter's value is set for `set -u`: "$@" and "$*" always are. */
const unsetError = <E>(name: string, x: Expander<E>): Effect.Effect<never, E> => x.error(`${name}: parameter not set`)

/** Remove the shortest or longest prefix or suffix of `value` that `pattern` matches (`${x%p}`, `${x%%p}`, `${x#p}`, `${x##p}`). */
const trim = (value: string, pattern: RegExp, op: "%" | "%%" | "#" | "##"): string => {
  const chars = [...value]
  const n = chars.length
  if (op === "#" || op === "##") {
    for (let k = op === "#" ? 0 : n; op === "#" ? k <= n : k >= 0; k += op === "#" ? 1 : -1) {
      if (pattern.test(chars.slice(0, k).join(""))) return chars.slice(k).join("")
    }
  } else {
    for (let k = op === "%" ? n : 0; op === "%" ? k >= 0 : k <= n; k += op === "%" ? -1 : 1) {
      if (pattern.test(chars.slice(k).join(""))) return chars.slice(0, k).join("")
    }
  }
  return value
}

/** Push `text` as characters with `flags`. */
const push = (out: Array<Char>, text: string, flags: number): void => {
  for (const c of text) out.push([c, flags])
}

/**
 * Expand the parts of a word into characters. `inArg`: the word of an
 * unquoted `${x-WORD}`, whose unquoted text splits like an expansion.
 */
const expandParts = <E>(word: Word, x: Expander<E>, out: Array<Char>, inArg = false, tilde: Tilde = "none"): Effect.Effect<void, E> =>
  Effect.gen(function* () {
    for (let k = 0; k < word.length; k++) {
      const part = word[k]!
      if (k === 0 && tilde !== "none" && part.type === "lit" && !part.quoted && part.text.includes("~")) {
        expandTilde(part.text, word.length === 1, tilde, x.lookup("HOME"), out)
        continue
      }
      yield* expandPart(part, x, out, inArg)
    }
  })

/** Where tilde expansion happens: at the start of a word, or also after each `:` of an assignment's value. */
type Tilde = "none" | "word" | "assignment"

/**
 * Tilde expansion of a word's unquoted first text, as dash's exptilde: a
 * `~` alone or before `/` becomes $HOME (quoted, so it does not split);
 * `whole` says the text is all of the word, so a `~` at its end counts.
 * `~user` stays as written (there is no password database to ask).
 */
const expandTilde = (text: string, whole: boolean, tilde: Tilde, home: string | undefined, out: Array<Char>): void => {
  const segments = tilde === "assignment" ? text.split(":") : [text]
  segments.forEach((segment, k) => {
    if (k > 0) push(out, ":", GLOB)
    const last = k === segments.length - 1
    const expands = home !== undefined && (segment.startsWith("~/") || (segment === "~" && (!last || whole)))
    if (expands) {
      push(out, home, 0)
      push(out, segment.slice(1), GLOB)
    } else push(out, segment, GLOB)
  })
}

const expandPart = <E>(part: WordPart, x: Expander<E>, out: Array<Char>, inArg: boolean): Effect.Effect<void, E> =>
  Effect.gen(function* () {
    const flags = part.quoted ? 0 : SPLIT | GLOB
    switch (part.type) {
      case "lit":
        push(out, part.text, part.quoted ? 0 : inArg ? SPLIT | GLOB : GLOB)
        return
      case "bad":
        return yield* x.error("Bad substitution")
      case "var": {
        if (part.name === "@" && part.quoted) {
          x.params.forEach((p, k) => {
            if (k > 0) out.push(BREAK)
            push(out, p, 0)
          })
          return
        }
        const value = valueOf(part.name, x)
        if (value === undefined && x.nounset && part.name !== "@" && part.name !== "*") return yield* unsetError(part.name, x)
        push(out, value ?? "", flags)
        return
      }
      case "command": {
        const output = yield* x.substitute(part.body)
        push(out, output.replace(/\n+$/, ""), flags)
        return
      }
      case "arith": {
        const text = yield* expandString(part.expr, x)
        const assigned: Array<readonly [string, string]> = []
        const result = evalArith(text, {
          get: (name) => assigned.findLast(([n]) => n === name)?.[1] ?? x.lookup(name),
          set: (name, value) => void assigned.push([name, value])
        })
        for (const [name, value] of assigned) yield* x.assign(name, value)
        if (result instanceof ArithError) return yield* x.error(result.message)
        push(out, String(result), flags)
        return
      }
      case "param":
        return yield* expandParam(part, x, out, flags)
    }
  })

const expandParam = <E>(part: Extract<WordPart, { type: "param" }>, x: Expander<E>, out: Array<Char>, flags: number): Effect.Effect<void, E> =>
  Effect.gen(function* () {
    const value = valueOf(part.name, x)
    const op = part.op
    const useArg = (): Effect.Effect<void, E> => expandParts(part.arg, x, out, !part.quoted, "word")
    const missing = value === undefined || (op[0] === ":" && value === "")
    switch (op) {
      case "length":
        if (value === undefined && x.nounset && part.name !== "@" && part.name !== "*") return yield* unsetError(part.name, x)
        push(out, String([...(value ?? "")].length), flags)
        return
      case "-":
      case ":-":
        if (missing) return yield* useArg()
        push(out, value!, flags)
        return
      case "+":
      case ":+":
        if (!missing) yield* useArg()
        return
      case "=":
      case ":=": {
        if (!missing) {
          push(out, value!, flags)
          return
        }
        if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(part.name)) return yield* x.error(`${part.name}: bad variable name`)
        const assigned = yield* expandString(part.arg, x)
        yield* x.assign(part.name, assigned)
        push(out, assigned, flags)
        return
      }
      case "?":
      case ":?": {
        if (!missing) {
          push(out, value!, flags)
          return
        }
        // a word, even an empty one, replaces dash's own message
        const message = part.arg.length > 0 ? yield* expandString(part.arg, x) : op === "?" ? "parameter not set" : "parameter not set or null"
        return yield* x.error(`${part.name}: ${message}`)
      }
      default: {
        if (value === undefined && x.nounset) return yield* unsetError(part.name, x)
        const chars: Array<Char> = []
        yield* expandParts(part.arg, x, chars)
        push(out, trim(value ?? "", patternRegex(chars), op), flags)
        return
      }
    }
  })

/**
 * Expand a word into one string, without field splitting or pathname
 * expansion (redirection targets, case words; `assignment` for a
 * variable's value, where a `~` after a `:` expands too).
 */
export const expandString = <E>(word: Word, x: Expander<E>, assignment = false): Effect.Effect<string, E> => {
  if (isLiteral(word) && !word.some((p) => !p.quoted && (p as { text: string }).text.includes("~"))) return Effect.succeed(word.map((p) => (p as { text: string }).text).join(""))
  return Effect.map(expandChars(word, x, assignment ? "assignment" : "word"), (chars) => chars.map(([c, f]) => (f === -1 ? " " : c)).join(""))
}

/** The characters of a word after tilde, parameter, command and arithmetic expansion. */
export const expandChars = <E>(word: Word, x: Expander<E>, tilde: Tilde = "word"): Effect.Effect<Array<Char>, E> =>
  Effect.gen(function* () {
    const out: Array<Char> = []
    yield* expandParts(word, x, out, false, tilde)
    return out
  })

/** The characters of IFS that are blanks: runs of them count as one separator and vanish at the ends. */
const isIfsWhite = (c: string): boolean => c === " " || c === "\t" || c === "\n"

/**
 * Field splitting, as dash's ifsbreakup: only characters marked SPLIT
 * split; a BREAK is a field break of "$@". Leading and trailing IFS blanks
 * vanish; each other IFS character ends a field, empty or not. `keep`
 * says the word had quotes, so it is one (maybe empty) field.
 */
export const splitChars = (chars: ReadonlyArray<Char>, ifs: string, keep: boolean): Array<Array<Char>> => {
  const fields: Array<Array<Char>> = []
  let current: Array<Char> = []
  let has = keep
  const splits = (ch: Char | undefined): boolean => ch !== undefined && ch[1] !== -1 && (ch[1] & SPLIT) !== 0 && ifs.includes(ch[0])
  for (let i = 0; i < chars.length; i++) {
    const ch = chars[i]!
    if (ch[1] === -1) {
      fields.push(current)
      current = []
      has = false
      continue
    }
    if (!splits(ch)) {
      current.push(ch)
      has = true
      continue
    }
    let hard = !isIfsWhite(ch[0])
    while (splits(chars[i + 1])) {
      const d = chars[i + 1]![0]
      if (!isIfsWhite(d)) {
        if (hard) break
        hard = true
      }
      i++
    }
    if (has || hard) fields.push(current)
    current = []
    has = false
  }
  if (has) fields.push(current)
  return fields
}

/** Field splitting of plain text (as `read` does it): every character may split. */
export const splitFields = (text: ReadonlyArray<readonly [string, boolean]>, ifs: string, keep: boolean): Array<string> =>
  splitChars(
    text.map(([c, s]) => [c, s ? SPLIT : 0]),
    ifs,
    keep
  ).map((f) => f.map(([c]) => c).join(""))

/**
 * Expand a word into fields: expansions, field splitting on IFS, quote
 * removal (no pathname expansion: the kernel has no getdents64 yet).
 */
export const expandFields = <E>(word: Word, x: Expander<E>): Effect.Effect<Array<string>, E> => {
  if (word.length === 1 && word[0]!.type === "lit" && (word[0]!.quoted || !word[0]!.text.startsWith("~"))) return Effect.succeed([word[0]!.text])
  return Effect.gen(function* () {
    const chars = yield* expandChars(word, x)
    const quoted = word.some((p) => p.quoted && !(p.type === "var" && p.name === "@"))
    const atOnly = word.every((p) => (p.type === "var" && p.name === "@" && p.quoted) || (p.type === "lit" && p.quoted && p.text === ""))
    const hasAt = word.some((p) => p.type === "var" && p.name === "@" && p.quoted)
    if (hasAt && atOnly && x.params.length === 0) return []
    const fields = splitChars(chars, x.lookup("IFS") ?? " \t\n", quoted || (hasAt && x.params.length > 0))
    return fields.map((field) => field.map(([c]) => c).join(""))
  })
}

/**
 * A pattern as a RegExp, as fnmatch(3) reads it: `*`, `?` and `[...]`
 * (with `!` to negate; dash takes `^` as itself) from characters marked
 * GLOB; the others match themselves.
 */
export const patternRegex = (chars: ReadonlyArray<Char>): RegExp => {
  const esc = (c: string): string => c.replace(/[\\^$.*+?()[\]{}|/]/g, "\\$&")
  const escInSet = (c: string): string => c.replace(/[\\^\]\[-]/g, "\\$&")
  const special = (ch: Char): boolean => ch[1] !== -1 && (ch[1] & GLOB) !== 0
  let re = ""
  for (let i = 0; i < chars.length; i++) {
    const ch = chars[i]!
    const c = ch[1] === -1 ? " " : ch[0]
    if (special(ch) && c === "*") re += "[\\s\\S]*"
    else if (special(ch) && c === "?") re += "[\\s\\S]"
    else if (special(ch) && c === "[") {
      let j = i + 1
      let negate = false
      if (chars[j]?.[0] === "!") {
        negate = true
        j++
      }
      const set: Array<string> = []
      for (let first = true; j < chars.length && (chars[j]![0] !== "]" || first); first = false) {
        const from = chars[j]![0]
        const to = chars[j + 2]?.[0]
        if (chars[j + 1]?.[0] === "-" && to !== undefined && to !== "]") {
          // a range with its ends out of order matches nothing, as in fnmatch
          if (from <= to) set.push(`${escInSet(from)}-${escInSet(to)}`)
          j += 3
        } else {
          set.push(escInSet(from))
          j++
        }
      }
      if (j >= chars.length) re += "\\["
      else {
        re += set.length === 0 ? (negate ? "[\\s\\S]" : "(?!)") : `[${negate ? "^" : ""}${set.join("")}]`
        i = j
      }
    } else re += esc(c)
  }
  return new RegExp(`^${re}$`, "u")
}
