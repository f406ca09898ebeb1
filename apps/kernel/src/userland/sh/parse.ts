/**
 * The grammar of simkernel's sh: a small POSIX shell subset (commands,
 * quoting, variables, `$?`, `;`, `&&`, `||`, pipes, redirections, comments).
 * Parsing is separate from running, so a script is checked before anything
 * happens and errors read like dash's ("sh: 1: Syntax error: ...").
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
  /** The script line the command starts on (for dash-style error messages). */
  readonly line: number
  readonly assignments: ReadonlyArray<readonly [string, Word]>
  readonly words: ReadonlyArray<Word>
  readonly redirects: ReadonlyArray<Redirect>
}

/** Commands joined by `|`. */
export type Pipeline = ReadonlyArray<SimpleCommand>

/** Pipelines joined by `&&` and `||`, left to right. */
export interface AndOr {
  readonly first: Pipeline
  readonly rest: ReadonlyArray<readonly ["&&" | "||", Pipeline]>
}

/** A script: and-or lists separated by `;` or newlines. */
export type Script = ReadonlyArray<AndOr>

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

const isNameStart = (c: string | undefined): boolean => c !== undefined && /[A-Za-z_]/.test(c)
const isNameChar = (c: string | undefined): boolean => c !== undefined && /[A-Za-z0-9_]/.test(c)
const SPECIAL_VARS = "?$#!0123456789"

/** Split a script into tokens, resolving quotes into word parts. */
const tokenize = (src: string, firstLine: number): Array<Token> | ShSyntaxError => {
  const tokens: Array<Token> = []
  let i = 0
  let line = firstLine
  while (i < src.length) {
    const c = src[i]!
    if (c === " " || c === "\t") {
      i++
      continue
    }
    if (c === "\n") {
      tokens.push({ t: "newline", line })
      line++
      i++
      continue
    }
    if (c === "#") {
      while (i < src.length && src[i] !== "\n") i++
      continue
    }
    if (c === ";" || c === "|" || c === "&") {
      const two = src.slice(i, i + 2)
      if (two === "&&" || two === "||" || two === ";;") {
        if (two === ";;") return new ShSyntaxError(line, `";;" unexpected`)
        tokens.push({ t: "op", op: two, line })
        i += 2
        continue
      }
      if (c === "&") return new ShSyntaxError(line, "background jobs (&) are not supported")
      tokens.push({ t: "op", op: c, line })
      i++
      continue
    }
    // a redirection, possibly with a descriptor digit written right before it
    const redir = /^([0-9]?)(>>|>&|<&|>|<)/.exec(src.slice(i))
    if (redir !== null && (redir[1] === "" || /^[0-9][<>]/.test(src.slice(i)))) {
      const op = redir[2] as Redirect["op"]
      const fd = redir[1] !== "" ? Number(redir[1]) : op.startsWith("<") ? 0 : 1
      tokens.push({ t: "redir", fd, op, line })
      i += redir[0].length
      continue
    }
    // a word: everything up to an unquoted blank or operator
    const parts: Array<WordPart> = []
    let lit = ""
    const flush = (quoted: boolean): void => {
      if (lit !== "") parts.push({ type: "lit", text: lit, quoted })
      lit = ""
    }
    const readVar = (quoted: boolean): boolean => {
      // at src[i] === "$"
      const next = src[i + 1]
      if (next === "{") {
        const end = src.indexOf("}", i + 2)
        if (end < 0) return false
        const name = src.slice(i + 2, end)
        flush(quoted)
        parts.push({ type: "var", name, quoted })
        i = end + 1
        return true
      }
      if (next !== undefined && SPECIAL_VARS.includes(next)) {
        flush(quoted)
        parts.push({ type: "var", name: next, quoted })
        i += 2
        return true
      }
      if (isNameStart(next)) {
        let j = i + 1
        while (isNameChar(src[j])) j++
        flush(quoted)
        parts.push({ type: "var", name: src.slice(i + 1, j), quoted })
        i = j
        return true
      }
      lit += "$"
      i++
      return true
    }
    while (i < src.length) {
      const d = src[i]!
      if (" \t\n;|&<>".includes(d)) break
      if (d === "'") {
        flush(false)
        const end = src.indexOf("'", i + 1)
        if (end < 0) return new ShSyntaxError(line, "Unterminated quoted string")
        parts.push({ type: "lit", text: src.slice(i + 1, end), quoted: true })
        line += src.slice(i + 1, end).split("\n").length - 1
        i = end + 1
        continue
      }
      if (d === '"') {
        flush(false)
        i++
        let closed = false
        while (i < src.length) {
          const e = src[i]!
          if (e === '"') {
            closed = true
            i++
            break
          }
          if (e === "\\" && i + 1 < src.length && '$`"\\\n'.includes(src[i + 1]!)) {
            if (src[i + 1] !== "\n") lit += src[i + 1]
            i += 2
            continue
          }
          if (e === "$") {
            if (!readVar(true)) return new ShSyntaxError(line, "Missing '}'")
            continue
          }
          if (e === "\n") line++
          lit += e
          i++
        }
        if (!closed) return new ShSyntaxError(line, "Unterminated quoted string")
        // an empty "" is still a word
        parts.push({ type: "lit", text: lit, quoted: true })
        lit = ""
        continue
      }
      if (d === "\\") {
        if (src[i + 1] === "\n") {
          i += 2
          line++
          continue
        }
        if (i + 1 < src.length) {
          flush(false)
          parts.push({ type: "lit", text: src[i + 1]!, quoted: true })
          i += 2
          continue
        }
        i++
        continue
      }
      if (d === "$") {
        if (!readVar(false)) return new ShSyntaxError(line, "Missing '}'")
        continue
      }
      lit += d
      i++
    }
    flush(false)
    tokens.push({ t: "word", word: parts, line })
  }
  return tokens
}

const ASSIGNMENT = /^([A-Za-z_][A-Za-z0-9_]*)=/

/** Parse a script into and-or lists of pipelines of simple commands. */
export const parseScript = (src: string, firstLine = 1): Script | ShSyntaxError => {
  const tokens = tokenize(src, firstLine)
  if (tokens instanceof ShSyntaxError) return tokens
  let pos = 0
  const peek = (): Token | undefined => tokens[pos]
  const unexpected = (tok: Token | undefined): ShSyntaxError =>
    tok === undefined
      ? new ShSyntaxError(tokens.at(-1)?.line ?? firstLine, "end of file unexpected")
      : tok.t === "newline"
        ? new ShSyntaxError(tok.line + 1, "newline unexpected")
        : new ShSyntaxError(tok.line, `"${tok.t === "word" ? "word" : tok.op}" unexpected`)

  const parseCommand = (): SimpleCommand | ShSyntaxError => {
    const line = peek()?.line ?? 1
    const assignments: Array<readonly [string, Word]> = []
    const words: Array<Word> = []
    const redirects: Array<Redirect> = []
    for (;;) {
      const tok = peek()
      if (tok?.t === "word") {
        const first = tok.word[0]
        const m = words.length === 0 && first?.type === "lit" && !first.quoted ? ASSIGNMENT.exec(first.text) : null
        if (m !== null && first?.type === "lit") {
          const value: Array<WordPart> = []
          const restText = first.text.slice(m[0].length)
          if (restText !== "") value.push({ type: "lit", text: restText, quoted: false })
          value.push(...tok.word.slice(1))
          assignments.push([m[1]!, value])
        } else {
          words.push(tok.word)
        }
        pos++
        continue
      }
      if (tok?.t === "redir") {
        pos++
        const target = peek()
        if (target?.t !== "word") return unexpected(target)
        pos++
        redirects.push({ fd: tok.fd, op: tok.op, target: target.word })
        continue
      }
      break
    }
    if (words.length === 0 && assignments.length === 0 && redirects.length === 0) return unexpected(peek())
    return { line, assignments, words, redirects }
  }

  const parsePipeline = (): Pipeline | ShSyntaxError => {
    const cmds: Array<SimpleCommand> = []
    for (;;) {
      const cmd = parseCommand()
      if (cmd instanceof ShSyntaxError) return cmd
      cmds.push(cmd)
      const tok = peek()
      if (tok?.t === "op" && tok.op === "|") {
        pos++
        while (peek()?.t === "newline") pos++
        continue
      }
      return cmds
    }
  }

  const script: Array<AndOr> = []
  for (;;) {
    while (peek()?.t === "newline") pos++
    if (peek() === undefined) return script
    const first = parsePipeline()
    if (first instanceof ShSyntaxError) return first
    const rest: Array<readonly ["&&" | "||", Pipeline]> = []
    for (;;) {
      const tok = peek()
      if (tok?.t === "op" && (tok.op === "&&" || tok.op === "||")) {
        pos++
        while (peek()?.t === "newline") pos++
        const next = parsePipeline()
        if (next instanceof ShSyntaxError) return next
        rest.push([tok.op, next])
        continue
      }
      break
    }
    script.push({ first, rest })
    const sep = peek()
    if (sep === undefined) return script
    if (sep.t === "newline" || (sep.t === "op" && sep.op === ";")) {
      pos++
      continue
    }
    return unexpected(sep)
  }
}

/**
 * Word expansion (parameter expansion, field splitting, quote removal):
 * an unquoted variable splits on blanks and vanishes when empty; quoted
 * text stays one field.
 */
export const expandWord = (word: Word, lookup: (name: string) => string | undefined): Array<string> => {
  const fields: Array<string> = []
  let current = ""
  let hasField = false
  for (const part of word) {
    if (part.type === "lit") {
      current += part.text
      hasField = true
      continue
    }
    const value = lookup(part.name) ?? ""
    if (part.quoted) {
      current += value
      hasField = true
      continue
    }
    const pieces = value.split(/[ \t\n]+/)
    pieces.forEach((piece, k) => {
      if (k > 0 && (hasField || current !== "")) {
        fields.push(current)
        current = ""
        hasField = false
      }
      if (piece !== "") {
        current += piece
        hasField = true
      }
    })
  }
  if (hasField || current !== "") fields.push(current)
  return fields
}
