/**
 * The grammar of simkernel's sh, as dash's parser.c reads it: simple
 * commands, quoting, variables, pipelines, `&&`, `||`, `;`, `&`,
 * redirections, `!`, `if`, `while`, `until`, `for`, `case`, `{ }`, `( )`
 * and function definitions. Like dash it reads one top-level command line
 * at a time (`Parser.next`), so a script runs up to the line with a
 * syntax error, and errors read like dash's ("sh: 1: Syntax error: ...").
 */

/** The operator of `${NAME<op>WORD}`; "length" is `${#NAME}`. */
export type ParamOp = "-" | ":-" | "=" | ":=" | "?" | ":?" | "+" | ":+" | "%" | "%%" | "#" | "##" | "length"

/**
 * A piece of a word: text as written, a variable, `${NAME op WORD}`, a
 * command substitution (`$(...)` or backquotes), an arithmetic expansion,
 * or a `${...}` dash refuses only when it expands it ("Bad substitution").
 */
export type WordPart =
  | { readonly type: "lit"; readonly text: string; readonly quoted: boolean }
  | { readonly type: "var"; readonly name: string; readonly quoted: boolean }
  | { readonly type: "param"; readonly name: string; readonly op: ParamOp; readonly arg: Word; readonly quoted: boolean }
  | { readonly type: "command"; readonly body: List; readonly quoted: boolean }
  | { readonly type: "arith"; readonly expr: Word; readonly quoted: boolean }
  | { readonly type: "bad"; readonly quoted: boolean }

export type Word = ReadonlyArray<WordPart>

export interface Redirect {
  /** The descriptor redirected (0 for <, 1 for > and >>, or the digit written before). */
  readonly fd: number
  readonly op: "<" | ">" | ">>" | ">&" | "<&" | "<<" | "<<-"
  /** The file, descriptor, or a here-document's delimiter. */
  readonly target: Word
  /** A here-document's text, read by the lexer after the end of the line. */
  readonly here?: HereDocument
}

/** The text of a here-document: expanded like a double-quoted word unless its delimiter had quotes. */
export interface HereDocument {
  body: Word
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
const SPECIAL_VARS = "?$#!@*-0123456789"
const KEYWORDS = new Set(["!", "case", "do", "done", "elif", "else", "esac", "fi", "for", "if", "in", "then", "until", "while", "{", "}"])
/** Tokens that end a list (dash's tokendlist). */
const LIST_END = new Set(["eof", ")", ";;", "do", "done", "elif", "else", "esac", "fi", "then", "}"])

/** A name as dash's goodname() accepts it. */
export const isName = (s: string): boolean => /^[A-Za-z_][A-Za-z0-9_]*$/.test(s)

/** dash's lexer: reads one token at a time, resolving quotes into word parts. */
class Lexer {
  /** Here-documents whose text starts after the next newline: their delimiter, whether it was quoted, whether tabs are stripped. */
  private readonly pending: Array<{ readonly here: HereDocument; readonly delimiter: string; readonly quoted: boolean; readonly strip: boolean }> = []

  constructor(
    private readonly src: string,
    public line: number,
    public i = 0
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
      for (const doc of this.pending.splice(0)) this.hereDocument(doc)
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
      const redir = /^([0-9]?)(<<-|<<|>>|>&|<&|>|<)/.exec(src.slice(this.i, this.i + 4))!
      const op = redir[2] as Redirect["op"]
      const fd = redir[1] !== "" ? Number(redir[1]) : op.startsWith("<") ? 0 : 1
      this.i += redir[0].length
      return { t: "redir", fd, op, line }
    }
    return this.word(line)
  }

  /** A here-document to read after this line: `delimiter` is its target word with the quotes removed. */
  expectHereDocument(here: HereDocument, target: Word, strip: boolean): void {
    const delimiter = target.map((p) => (p.type === "lit" ? p.text : p.type === "var" ? `$${p.name}` : "")).join("")
    this.pending.push({ here, delimiter, quoted: target.some((p) => p.quoted), strip })
  }

  /** Read a here-document's lines up to its delimiter line (or the end of the script), as dash's readheredoc. */
  private hereDocument(doc: { readonly here: HereDocument; readonly delimiter: string; readonly quoted: boolean; readonly strip: boolean }): void {
    const src = this.src
    const firstLine = this.line
    let text = ""
    while (this.i < src.length) {
      let end = src.indexOf("\n", this.i)
      if (end < 0) end = src.length
      let line = src.slice(this.i, end)
      if (doc.strip) line = line.replace(/^\t+/, "")
      this.i = Math.min(end + 1, src.length)
      this.line++
      if (line === doc.delimiter) break
      text += line + (end < src.length ? "\n" : "")
    }
    if (doc.quoted) doc.here.body = [{ type: "lit", text, quoted: true }]
    else {
      const body: Array<WordPart> = []
      new Lexer(text, firstLine).parts(body, "heredoc", () => false)
      doc.here.body = body
    }
  }

  /** A word: everything up to an unquoted blank or operator. */
  private word(line: number): Token {
    const parts: Array<WordPart> = []
    this.parts(parts, "none", (c) => " \t\n;|&<>()".includes(c))
    return { t: "word", word: parts, line }
  }

  /**
   * Read word parts into `parts` until `stop` says so at an unquoted
   * character: outside double quotes quotes and backslashes quote; inside
   * them only `\` before `$`, backquote, `"`, `\` or newline (in a
   * here-document, not before `"`).
   */
  private parts(parts: Array<WordPart>, quoting: "none" | "double" | "heredoc", stop: (c: string) => boolean): void {
    const src = this.src
    const dq = quoting !== "none"
    const escapable = quoting === "heredoc" ? "$`\\" : '$`"\\'
    let lit = ""
    const flush = (): void => {
      if (lit !== "") parts.push({ type: "lit", text: lit, quoted: dq })
      lit = ""
    }
    while (this.i < src.length) {
      const d = src[this.i]!
      if (stop(d)) break
      if (d === "$") {
        flush()
        this.dollar(parts, dq)
      } else if (d === "`") {
        flush()
        this.backquote(parts, dq)
      } else if (d === "\\") {
        const e = src[this.i + 1]
        if (e === "\n") {
          this.i += 2
          this.line++
        } else if (e === undefined) {
          lit += d
          this.i++
        } else if (dq && !escapable.includes(e)) {
          lit += d
          this.i++
        } else {
          flush()
          parts.push({ type: "lit", text: e, quoted: true })
          this.i += 2
        }
      } else if (dq) {
        if (d === "\n") this.line++
        lit += d
        this.i++
      } else if (d === "'") {
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
        // an empty "" is still a word
        parts.push({ type: "lit", text: "", quoted: true })
        this.parts(parts, "double", (c) => c === '"')
        if (src[this.i] !== '"') throw new ShSyntaxError(this.line, "Unterminated quoted string")
        this.i++
      } else {
        lit += d
        this.i++
      }
    }
    flush()
  }

  /** At a `$`: a variable, `${...}`, `$(...)`, `$((...))`, or a plain `$`. */
  private dollar(parts: Array<WordPart>, quoted: boolean): void {
    const src = this.src
    const next = src[this.i + 1]
    if (next === "(" && src[this.i + 2] === "(") {
      this.i += 3
      const expr: Array<WordPart> = []
      let depth = 0
      this.parts(expr, "double", (c) => {
        if (c === "(") depth++
        else if (c === ")") {
          if (depth === 0) return true
          depth--
        }
        return false
      })
      if (src.slice(this.i, this.i + 2) !== "))") throw new ShSyntaxError(this.line, "Missing '))'")
      this.i += 2
      parts.push({ type: "arith", expr, quoted })
    } else if (next === "(") {
      const sub = new Parser(src, this.line, this.i + 2)
      const body = sub.substitution()
      this.i = sub.offset()
      this.line = sub.lineNumber()
      parts.push({ type: "command", body, quoted })
    } else if (next === "{") {
      this.i += 2
      this.braced(parts, quoted)
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

  /** After `${`: the name, an operator and its word, up to the matching `}` (dash's parsesub). */
  private braced(parts: Array<WordPart>, quoted: boolean): void {
    const src = this.src
    const missing = (): ShSyntaxError => new ShSyntaxError(this.line, "Missing '}'")
    let length = false
    if (src[this.i] === "#" && src[this.i + 1] !== "}" && src[this.i + 1] !== undefined) {
      length = true
      this.i++
    }
    let name = ""
    const c = src[this.i]
    if (isNameStart(c)) {
      let j = this.i
      while (isNameChar(src[j])) j++
      name = src.slice(this.i, j)
    } else if (c !== undefined && /[0-9]/.test(c)) {
      let j = this.i
      while (/[0-9]/.test(src[j] ?? "")) j++
      name = src.slice(this.i, j)
    } else if (c !== undefined && SPECIAL_VARS.includes(c)) name = c
    this.i += name.length
    if (name === "" || length) {
      if (src[this.i] === "}" && name !== "") {
        this.i++
        parts.push({ type: "param", name, op: "length", arg: [], quoted })
        return
      }
      // dash reads on to the `}` and fails only when it expands the word
      const end = src.indexOf("}", this.i)
      if (end < 0) throw missing()
      this.i = end + 1
      parts.push({ type: "bad", quoted })
      return
    }
    if (src[this.i] === "}") {
      this.i++
      parts.push({ type: "var", name, quoted })
      return
    }
    const op = /^(:[-=?+]|%%|##|[-=?+%#])/.exec(src.slice(this.i, this.i + 2))?.[0] as ParamOp | undefined
    if (op === undefined) {
      const end = src.indexOf("}", this.i)
      if (end < 0) throw missing()
      this.i = end + 1
      parts.push({ type: "bad", quoted })
      return
    }
    this.i += op.length
    const read: Array<WordPart> = []
    // quotes inside the word nest (dash's "${x:-"a b"}"); inside double quotes
    // the whole word stays quoted, but a pattern is read as if unquoted, as POSIX says
    this.parts(read, "none", (d) => d === "}")
    if (src[this.i] !== "}") throw missing()
    this.i++
    const arg = quoted && op[0] !== "%" && op[0] !== "#" ? read.map((p) => ({ ...p, quoted: true })) : read
    parts.push({ type: "param", name, op, arg, quoted })
  }

  /** A backquoted command: up to the next unescaped backquote, `\\`, `\`` and `\$` (and `\"` inside double quotes) losing their backslash. */
  private backquote(parts: Array<WordPart>, quoted: boolean): void {
    const src = this.src
    const line = this.line
    let text = ""
    let j = this.i + 1
    for (;;) {
      const c = src[j]
      if (c === undefined) throw new ShSyntaxError(this.line, "EOF in backquote substitution")
      if (c === "`") break
      if (c === "\\" && src[j + 1] !== undefined && ("\\`$".includes(src[j + 1]!) || (quoted && src[j + 1] === '"'))) {
        text += src[j + 1]
        j += 2
        continue
      }
      if (c === "\n") this.line++
      text += c
      j++
    }
    this.i = j + 1
    const body = parseScript(text, line)
    if (body instanceof ShSyntaxError) throw body
    parts.push({ type: "command", body, quoted })
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

  constructor(src: string, firstLine = 1, offset = 0) {
    this.lexer = new Lexer(src, firstLine, offset)
  }

  /** After `$(`: the commands up to the matching `)`, as dash's parsebackq reads them. */
  substitution(): List {
    if (this.read(true, true) === ")") return []
    this.unread()
    const body = this.list(0)!
    this.expect(")")
    return body
  }

  /** Where the lexer is: past the last token read. */
  offset(): number {
    return this.lexer.i
  }

  lineNumber(): number {
    return this.lexer.line
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
    if (tok.op === "<<" || tok.op === "<<-") {
      const here: HereDocument = { body: [] }
      this.lexer.expectHereDocument(here, target, tok.op === "<<-")
      return { fd: tok.fd, op: tok.op, target, here }
    }
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
export const SPECIAL_BUILTINS = new Set([":", ".", "break", "continue", "eval", "exec", "exit", "export", "readonly", "return", "set", "shift", "trap", "unset"])

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
