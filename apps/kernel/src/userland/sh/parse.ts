/**
 * The grammar of simkernel's sh, as dash's parser.c reads it: simple
 * commands, quoting, variables, pipelines, `&&`, `||`, `;`, `&`,
 * redirections, `!`, `if`, `while`, `until`, `for`, `case`, `{ }`, `( )`
 * and function definitions. Like dash it reads one top-level command line
 * at a time (`Parser.next`), so a script runs up to the line with a
 * syntax error, and errors read like dash's ("sh: 1: Syntax error: ...").
 */

/** A piece of a word: text as written, or a variable to expand. */
export type WordPart =
  | { readonly type: "lit"; readonly text: string; readonly quoted: boolean }
  | { readonly type: "var"; readonly name: string; readonly quoted: boolean }

export type Word = ReadonlyArray<WordPart>

export interface Redirect {
  /** The descriptor redirected (0 for <, 1 for > and >>, or the digit written before). */
  readonly fd: number
  readonly op: "<" | ">" | ">>" | ">&" | "<&"
  readonly target: Word
}

export interface SimpleCommand {
  readonly type: "simple"
  /** The script line the command starts on (for dash-style error messages). */
  readonly line: number
  readonly assignments: ReadonlyArray<readonly [string, Word]>
  readonly words: ReadonlyArray<Word>
  readonly redirects: ReadonlyArray<Redirect>
}

export interface IfCommand {
  readonly type: "if"
  readonly line: number
  /** `if`, then each `elif`: its condition and body. */
  readonly branches: ReadonlyArray<{ readonly cond: List; readonly body: List }>
  readonly otherwise: List | undefined
  readonly redirects: ReadonlyArray<Redirect>
}

export interface LoopCommand {
  readonly type: "while" | "until"
  readonly line: number
  readonly cond: List
  readonly body: List
  readonly redirects: ReadonlyArray<Redirect>
}

export interface ForCommand {
  readonly type: "for"
  readonly line: number
  readonly name: string
  /** The words after `in`; undefined without `in` (the positional parameters). */
  readonly words: ReadonlyArray<Word> | undefined
  readonly body: List
  readonly redirects: ReadonlyArray<Redirect>
}

export interface CaseCommand {
  readonly type: "case"
  readonly line: number
  readonly word: Word
  readonly items: ReadonlyArray<{ readonly patterns: ReadonlyArray<Word>; readonly body: List }>
  readonly redirects: ReadonlyArray<Redirect>
}

/** `{ list; }` runs in the shell; `( list )` in a forked child. */
export interface GroupCommand {
  readonly type: "group" | "subshell"
  readonly line: number
  readonly body: List
  readonly redirects: ReadonlyArray<Redirect>
}

export interface FunctionDefinition {
  readonly type: "function"
  readonly line: number
  readonly name: string
  readonly body: Command
}

export type Command = SimpleCommand | IfCommand | LoopCommand | ForCommand | CaseCommand | GroupCommand | FunctionDefinition

/** Commands joined by `|`, the whole status negated after `!`. */
export interface Pipeline {
  readonly negate: boolean
  readonly commands: ReadonlyArray<Command>
}

/** Pipelines joined by `&&` and `||`, left to right; run in the background when followed by `&`. */
export interface AndOr {
  readonly first: Pipeline
  readonly rest: ReadonlyArray<readonly ["&&" | "||", Pipeline]>
  readonly background: boolean
}

/** And-or lists separated by `;`, `&` or newlines. */
export type List = ReadonlyArray<AndOr>

/** A whole script. */
export type Script = List

export class ShSyntaxError {
  readonly _tag = "ShSyntaxError"
  constructor(
    readonly line: number,
    readonly message: string
  ) {}
}

type Token =
  | { readonly t: "word"; readonly word: Word; readonly line: number }
  | { readonly t: "op"; readonly op: string; readonly line: number }
  | { readonly t: "redir"; readonly fd: number; readonly op: Redirect["op"]; readonly line: number }
  | { readonly t: "newline"; readonly line: number }
  | { readonly t: "eof"; readonly line: number }

const isNameStart = (c: string | undefined): boolean => c !== undefined && /[A-Za-z_]/.test(c)
const isNameChar = (c: string | undefined): boolean => c !== undefined && /[A-Za-z0-9_]/.test(c)
const SPECIAL_VARS = "?$#!@*0123456789"
const KEYWORDS = new Set(["!", "case", "do", "done", "elif", "else", "esac", "fi", "for", "if", "in", "then", "until", "while", "{", "}"])
/** Tokens that end a list (dash's tokendlist). */
const LIST_END = new Set(["eof", ")", ";;", "do", "done", "elif", "else", "esac", "fi", "then", "}"])

/** A name as dash's goodname() accepts it. */
export const isName = (s: string): boolean => /^[A-Za-z_][A-Za-z0-9_]*$/.test(s)

/** dash's lexer: reads one token at a time, resolving quotes into word parts. */
class Lexer {
  private i = 0
  constructor(
    private readonly src: string,
    public line: number
  ) {}

  next(): Token {
    const src = this.src
    for (;;) {
      const c = src[this.i]
      if (c === " " || c === "\t") this.i++
      else if (c === "\\" && src[this.i + 1] === "\n") {
        this.i += 2
        this.line++
      } else if (c === "#") {
        while (this.i < src.length && src[this.i] !== "\n") this.i++
      } else break
    }
    const line = this.line
    if (this.i >= src.length) return { t: "eof", line }
    const c = src[this.i]!
    if (c === "\n") {
      this.line++
      this.i++
      return { t: "newline", line }
    }
    if (";|&()".includes(c)) {
      const two = src.slice(this.i, this.i + 2)
      if (two === "&&" || two === "||" || two === ";;") {
        this.i += 2
        return { t: "op", op: two, line }
      }
      this.i++
      return { t: "op", op: c, line }
    }
    // a redirection, possibly with a descriptor digit written right before it
    if (c === "<" || c === ">" || (/[0-9]/.test(c) && (src[this.i + 1] === "<" || src[this.i + 1] === ">"))) {
      const redir = /^([0-9]?)(>>|>&|<&|>|<)/.exec(src.slice(this.i, this.i + 3))!
      const op = redir[2] as Redirect["op"]
      const fd = redir[1] !== "" ? Number(redir[1]) : op.startsWith("<") ? 0 : 1
      this.i += redir[0].length
      return { t: "redir", fd, op, line }
    }
    return this.word(line)
  }

  /** A word: everything up to an unquoted blank or operator. */
  private word(line: number): Token {
    const src = this.src
    const parts: Array<WordPart> = []
    let lit = ""
    const flush = (): void => {
      if (lit !== "") parts.push({ type: "lit", text: lit, quoted: false })
      lit = ""
    }
    const readVar = (quoted: boolean): void => {
      // at src[i] === "$"
      const next = src[this.i + 1]
      if (next === "{") {
        const end = src.indexOf("}", this.i + 2)
        if (end < 0) throw new ShSyntaxError(this.line, "Missing '}'")
        parts.push({ type: "var", name: src.slice(this.i + 2, end), quoted })
        this.i = end + 1
      } else if (next !== undefined && SPECIAL_VARS.includes(next)) {
        parts.push({ type: "var", name: next, quoted })
        this.i += 2
      } else if (isNameStart(next)) {
        let j = this.i + 1
        while (isNameChar(src[j])) j++
        parts.push({ type: "var", name: src.slice(this.i + 1, j), quoted })
        this.i = j
      } else {
        parts.push({ type: "lit", text: "$", quoted })
        this.i++
      }
    }
    while (this.i < src.length) {
      const d = src[this.i]!
      if (" \t\n;|&<>()".includes(d)) break
      if (d === "'") {
        flush()
        const end = src.indexOf("'", this.i + 1)
        if (end < 0) throw new ShSyntaxError(this.line, "Unterminated quoted string")
        const text = src.slice(this.i + 1, end)
        parts.push({ type: "lit", text, quoted: true })
        this.line += text.split("\n").length - 1
        this.i = end + 1
      } else if (d === '"') {
        flush()
        this.i++
        let text = ""
        let closed = false
        const flushQuoted = (): void => {
          if (text !== "") parts.push({ type: "lit", text, quoted: true })
          text = ""
        }
        // an empty "" is still a word
        parts.push({ type: "lit", text: "", quoted: true })
        while (this.i < src.length) {
          const e = src[this.i]!
          if (e === '"') {
            closed = true
            this.i++
            break
          }
          if (e === "\\" && this.i + 1 < src.length && '$`"\\\n'.includes(src[this.i + 1]!)) {
            if (src[this.i + 1] === "\n") this.line++
            else text += src[this.i + 1]
            this.i += 2
            continue
          }
          if (e === "$") {
            flushQuoted()
            readVar(true)
            continue
          }
          if (e === "\n") this.line++
          text += e
          this.i++
        }
        if (!closed) throw new ShSyntaxError(this.line, "Unterminated quoted string")
        flushQuoted()
      } else if (d === "\\") {
        if (src[this.i + 1] === "\n") {
          this.i += 2
          this.line++
        } else if (this.i + 1 < src.length) {
          flush()
          parts.push({ type: "lit", text: src[this.i + 1]!, quoted: true })
          this.i += 2
        } else this.i++
      } else if (d === "$") {
        flush()
        readVar(false)
      } else {
        lit += d
        this.i++
      }
    }
    flush()
    return { t: "word", word: parts, line }
  }
}

const ASSIGNMENT = /^([A-Za-z_][A-Za-z0-9_]*)=/

/** The word's text when it is a plain unquoted word (a keyword or a name candidate). */
const plainText = (word: Word): string | undefined => {
  if (word.length !== 1) return undefined
  const p = word[0]!
  return p.type === "lit" && !p.quoted ? p.text : undefined
}

/** What a token is for the grammar: an operator, a keyword (where keywords count), or its type. */
const kindOf = (tok: Token, keywords: boolean): string => {
  if (tok.t === "op") return tok.op
  if (tok.t === "word" && keywords) {
    const text = plainText(tok.word)
    if (text !== undefined && KEYWORDS.has(text)) return text
  }
  return tok.t
}

/** dash's tokname: how a syntax error names a token. */
const tokenName = (kind: string): string =>
  kind === "eof" ? "end of file" : kind === "newline" || kind === "word" ? kind : kind === "redir" ? "redirection" : `"${kind}"`

/** A recursive-descent parser over the lexer, one top-level command line per `next()`. */
export class Parser {
  private readonly lexer: Lexer
  private pushed: Token | undefined
  private last: Token = { t: "eof", line: 0 }
  private lastKind = "eof"

  constructor(src: string, firstLine = 1) {
    this.lexer = new Lexer(src, firstLine)
  }

  /** The next top-level command line: its and-or lists, or undefined at the end of the script. */
  next(): List | undefined | ShSyntaxError {
    try {
      return this.list(1)
    } catch (e) {
      if (e instanceof ShSyntaxError) return e
      throw e
    }
  }

  /** Read a token; `keywords` says whether a plain word here may be a keyword, `skipNewlines` whether newlines are skipped. */
  private read(keywords: boolean, skipNewlines = false): string {
    for (;;) {
      const tok = this.pushed ?? this.lexer.next()
      this.pushed = undefined
      this.last = tok
      if (skipNewlines && tok.t === "newline") continue
      this.lastKind = kindOf(tok, keywords)
      return this.lastKind
    }
  }

  private unread(): void {
    this.pushed = this.last
  }

  /** dash's synexpect: "X unexpected", or "X unexpected (expecting Y)". */
  private unexpected(expecting?: string): ShSyntaxError {
    const tok = this.last
    const line = tok.t === "newline" ? tok.line + 1 : tok.t === "eof" ? this.lexer.line : tok.line
    const what = tokenName(this.lastKind)
    return new ShSyntaxError(line, expecting === undefined ? `${what} unexpected` : `${what} unexpected (expecting ${tokenName(expecting)})`)
  }

  /** dash's list(): 1 at the top (one line), 0 inside a compound command, 2 for a case item that may be empty. */
  private list(mode: 0 | 1 | 2): List | undefined {
    const top = mode === 1
    const lists: Array<AndOr> = []
    let first = true
    for (;;) {
      const kind = this.read(true, !top)
      if (kind === "newline") return lists
      if (kind === "eof") {
        this.unread()
        return top && lists.length === 0 ? undefined : lists
      }
      this.unread()
      if ((mode === 2 || (mode === 0 && !first)) && LIST_END.has(kind)) return lists
      first = false
      const andOr = this.andOr()
      const sep = this.read(false)
      lists.push(sep === "&" ? { ...andOr, background: true } : andOr)
      if (sep === "eof") {
        this.unread()
        return lists
      }
      if (sep === "newline") this.unread()
      else if (sep !== "&" && sep !== ";") {
        if (top) throw this.unexpected()
        this.unread()
        return lists
      }
    }
  }

  private andOr(): AndOr {
    const first = this.pipeline()
    const rest: Array<readonly ["&&" | "||", Pipeline]> = []
    for (;;) {
      const kind = this.read(false)
      if (kind !== "&&" && kind !== "||") {
        this.unread()
        return { first, rest, background: false }
      }
      rest.push([kind, this.pipeline(true)])
    }
  }

  private pipeline(skipNewlines = false): Pipeline {
    const negate = this.read(true, skipNewlines) === "!"
    if (!negate) this.unread()
    const commands = [this.command(false)]
    while (this.read(false) === "|") commands.push(this.command(true))
    this.unread()
    return { negate, commands }
  }

  /** Redirections after a compound command. */
  private redirects(): Array<Redirect> {
    const redirects: Array<Redirect> = []
    while (this.read(true) === "redir") redirects.push(this.redirect())
    this.unread()
    return redirects
  }

  /** The target word of the redirection just read. */
  private redirect(): Redirect {
    const tok = this.last
    if (tok.t !== "redir") throw this.unexpected()
    if (this.read(false) !== "word" || this.last.t !== "word") throw this.unexpected()
    const target = this.last.word
    // as dash's parsefname: a literal after >& or <& is one digit, or - to close
    const text = plainText(target)
    if ((tok.op === ">&" || tok.op === "<&") && text !== undefined && !/^[0-9-]$/.test(text)) throw new ShSyntaxError(this.last.line, "Bad fd number")
    return { fd: tok.fd, op: tok.op, target }
  }

  private expect(kind: string): void {
    if (this.read(true) !== kind) throw this.unexpected(kind)
  }

  private command(skipNewlines: boolean): Command {
    const kind = this.read(true, skipNewlines)
    const line = this.last.line
    switch (kind) {
      case "if": {
        const branches: Array<{ cond: List; body: List }> = []
        let next: string
        do {
          const cond = this.list(0)!
          this.expect("then")
          branches.push({ cond, body: this.list(0)! })
          next = this.read(true)
        } while (next === "elif")
        const otherwise = next === "else" ? this.list(0) : undefined
        if (next !== "else") this.unread()
        this.expect("fi")
        return { type: "if", line, branches, otherwise, redirects: this.redirects() }
      }
      case "while":
      case "until": {
        const cond = this.list(0)!
        this.expect("do")
        const body = this.list(0)!
        this.expect("done")
        return { type: kind, line, cond, body, redirects: this.redirects() }
      }
      case "for": {
        const name = this.read(false) === "word" && this.last.t === "word" ? plainText(this.last.word) : undefined
        if (name === undefined || !isName(name)) throw new ShSyntaxError(this.last.line, "Bad for loop variable")
        let words: Array<Word> | undefined
        if (this.read(true, true) === "in") {
          words = []
          while (this.read(false) === "word" && this.last.t === "word") words.push(this.last.word)
          if (this.lastKind !== "newline" && this.lastKind !== ";") throw this.unexpected()
        } else if (this.lastKind !== ";") this.unread()
        if (this.read(true, true) !== "do") throw this.unexpected("do")
        const body = this.list(0)!
        this.expect("done")
        return { type: "for", line, name, words, body, redirects: this.redirects() }
      }
      case "case": {
        if (this.read(false) !== "word" || this.last.t !== "word") throw this.unexpected("word")
        const word = this.last.word
        if (this.read(true, true) !== "in") throw this.unexpected("in")
        const items: Array<{ patterns: Array<Word>; body: List }> = []
        let next = this.read(true, true)
        while (next !== "esac") {
          if (next === "(") this.read(false)
          const patterns: Array<Word> = []
          for (;;) {
            patterns.push(this.last.t === "word" ? this.last.word : [])
            if (this.read(false) !== "|") break
            this.read(false)
          }
          if (this.lastKind !== ")") throw this.unexpected(")")
          items.push({ patterns, body: this.list(2)! })
          next = this.read(true, true)
          if (next !== "esac") {
            if (next !== ";;") throw this.unexpected(";;")
            next = this.read(true, true)
          }
        }
        return { type: "case", line, word, items, redirects: this.redirects() }
      }
      case "(": {
        const body = this.list(0)!
        this.expect(")")
        return { type: "subshell", line, body, redirects: this.redirects() }
      }
      case "{": {
        const body = this.list(0)!
        this.expect("}")
        return { type: "group", line, body, redirects: this.redirects() }
      }
      case "word":
      case "redir":
        this.unread()
        return this.simpleCommand()
      default:
        throw this.unexpected()
    }
  }

  private simpleCommand(): Command {
    const line = this.last.line
    const assignments: Array<readonly [string, Word]> = []
    const words: Array<Word> = []
    const redirects: Array<Redirect> = []
    for (;;) {
      const kind = this.read(false)
      const tok = this.last
      if (tok.t === "word") {
        const first = tok.word[0]
        const m = words.length === 0 && first?.type === "lit" && !first.quoted ? ASSIGNMENT.exec(first.text) : null
        if (m !== null && first?.type === "lit") {
          const value: Array<WordPart> = []
          const restText = first.text.slice(m[0].length)
          if (restText !== "") value.push({ type: "lit", text: restText, quoted: false })
          value.push(...tok.word.slice(1))
          assignments.push([m[1]!, value])
        } else words.push(tok.word)
        continue
      }
      if (kind === "redir") {
        redirects.push(this.redirect())
        continue
      }
      if (kind === "(" && words.length === 1 && assignments.length === 0 && redirects.length === 0) {
        if (this.read(false) !== ")") throw this.unexpected(")")
        const name = plainText(words[0]!)
        if (name === undefined || !isName(name) || SPECIAL_BUILTINS.has(name)) throw new ShSyntaxError(this.last.line, "Bad function name")
        return { type: "function", line, name, body: this.command(true) }
      }
      this.unread()
      return { type: "simple", line, assignments, words, redirects }
    }
  }
}

/** POSIX's special builtins that this shell has: their errors end a script, and no function may take their name. */
export const SPECIAL_BUILTINS = new Set([":", "break", "continue", "exit", "return", "set", "shift"])

/** Parse a whole script (each line as the shell would, stopping at the first syntax error). */
export const parseScript = (src: string, firstLine = 1): Script | ShSyntaxError => {
  const parser = new Parser(src, firstLine)
  const script: Array<AndOr> = []
  for (;;) {
    const list = parser.next()
    if (list === undefined) return script
    if (list instanceof ShSyntaxError) return list
    script.push(...list)
  }
}

/** The characters of IFS that are blanks: runs of them count as one separator and vanish at the ends. */
const isIfsWhite = (c: string): boolean => c === " " || c === "\t" || c === "\n"

/**
 * Field splitting, as dash's ifsbreakup: `chars` are the characters of a
 * word, each marked whether it came from an unquoted expansion (only
 * those split); a "\0break" entry is a field break of "$@". Leading and
 * trailing IFS blanks vanish; each other IFS character ends a field, empty
 * or not. `keep` says the word had quotes, so it is one (maybe empty) field.
 */
export const splitFields = (chars: ReadonlyArray<readonly [string, boolean]>, ifs: string, keep: boolean): Array<string> => {
  const fields: Array<string> = []
  let current = ""
  let has = keep
  for (let i = 0; i < chars.length; i++) {
    const [c, splits] = chars[i]!
    if (c === "\0break") {
      fields.push(current)
      current = ""
      has = false
      continue
    }
    if (!splits || !ifs.includes(c)) {
      current += c
      has = true
      continue
    }
    let hard = !isIfsWhite(c)
    while (i + 1 < chars.length && chars[i + 1]![1] && ifs.includes(chars[i + 1]![0])) {
      const d = chars[i + 1]![0]
      if (!isIfsWhite(d)) {
        if (hard) break
        hard = true
      }
      i++
    }
    if (has || hard) fields.push(current)
    current = ""
    has = false
  }
  if (has) fields.push(current)
  return fields
}

/** What expansion looks up: variables by name (`?`, `$`, digits and the rest), and the positional parameters for `$@`. */
export interface Expansion {
  readonly lookup: (name: string) => string | undefined
  readonly params: ReadonlyArray<string>
}

/**
 * Word expansion (parameter expansion, field splitting on IFS, quote
 * removal): an unquoted variable splits and vanishes when empty; quoted
 * text stays one field; "$@" is one field per positional parameter.
 */
export const expandWord = (word: Word, env: Expansion | ((name: string) => string | undefined)): Array<string> => {
  const { lookup, params } = typeof env === "function" ? { lookup: env, params: [] } : env
  if (word.length === 1 && word[0]!.type === "lit") {
    const only = word[0]!
    return [only.text]
  }
  const chars: Array<readonly [string, boolean]> = []
  let quoted = false
  let atOnly = true
  for (const part of word) {
    if (part.type === "lit") {
      if (part.quoted) quoted = true
      if (part.text !== "" || !part.quoted) atOnly = false
      for (const c of part.text) chars.push([c, false])
      continue
    }
    if (part.name === "@" && part.quoted) {
      params.forEach((p, k) => {
        if (k > 0) chars.push(["\0break", false])
        for (const c of p) chars.push([c, false])
      })
      continue
    }
    atOnly = false
    const value = part.name === "@" || part.name === "*" ? params.join(" ") : (lookup(part.name) ?? "")
    if (part.quoted) quoted = true
    for (const c of value) chars.push([c, !part.quoted])
  }
  const hasAt = word.some((p) => p.type === "var" && p.name === "@" && p.quoted)
  if (hasAt && atOnly && params.length === 0) return []
  return splitFields(chars, lookup("IFS") ?? " \t\n", quoted || (hasAt && params.length > 0))
}

/** Expand a word into one string, without field splitting (assignments, redirection targets, case words). */
export const expandString = (word: Word, env: Expansion): string =>
  word.map((p) => (p.type === "lit" ? p.text : p.name === "@" || p.name === "*" ? env.params.join(" ") : (env.lookup(p.name) ?? ""))).join("")

/**
 * A case pattern as a RegExp, as fnmatch(3) reads it: `*`, `?` and
 * `[...]` (with `!` to negate; dash takes `^` as itself) from unquoted text and unquoted
 * expansions; quoted text matches itself.
 */
export const patternOf = (word: Word, env: Expansion): RegExp => {
  const chars: Array<readonly [string, boolean]> = []
  for (const p of word) {
    const text = p.type === "lit" ? p.text : p.name === "@" || p.name === "*" ? env.params.join(" ") : (env.lookup(p.name) ?? "")
    for (const c of text) chars.push([c, !p.quoted])
  }
  const esc = (c: string): string => c.replace(/[\\^$.*+?()[\]{}|/]/g, "\\$&")
  const escInSet = (c: string): string => c.replace(/[\\^\]\[-]/g, "\\$&")
  let re = ""
  for (let i = 0; i < chars.length; i++) {
    const [c, special] = chars[i]!
    if (special && c === "*") re += "[\\s\\S]*"
    else if (special && c === "?") re += "[\\s\\S]"
    else if (special && c === "[") {
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
