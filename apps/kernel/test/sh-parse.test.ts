import { describe, expect, it } from "@effect/vitest"
import fc from "fast-check"
import { Effect } from "effect"
import { expandChars, expandFields, type Expander, patternRegex } from "../src/userland/sh/expand.js"
import { type Command, type LoopCommand, parseScript, type Script, type SimpleCommand, ShSyntaxError, type Word } from "../src/userland/sh/parse.js"

/** An expander over fixed variables, for the pure parts of expansion. */
const expanderOf = (lookup: (name: string) => string | undefined): Expander<string> => ({
  lookup,
  params: [],
  nounset: false,
  assign: () => Effect.void,
  error: (msg) => Effect.fail(msg),
  substitute: () => Effect.succeed("")
})
const expandWord = (word: Word, lookup: (name: string) => string | undefined): Array<string> => Effect.runSync(expandFields(word, expanderOf(lookup)))
const patternOf = (word: Word, lookup: (name: string) => string | undefined): RegExp => Effect.runSync(Effect.map(expandChars(word, expanderOf(lookup)), patternRegex))

const simple = (c: Command | undefined): SimpleCommand => {
  expect(c?.type).toBe("simple")
  return c as SimpleCommand
}

const words = (script: Script | ShSyntaxError): Array<Array<Array<string>>> => {
  expect(script).not.toBeInstanceOf(ShSyntaxError)
  return (script as Script).map((ao) =>
    [ao.first, ...ao.rest.map(([, p]) => p)].flatMap((p) => p.commands.map((c) => simple(c).words.map((w) => w.map((x) => (x.type === "lit" ? x.text : x.type === "var" ? `$${x.name}` : `<${x.type}>`)).join(""))))
  )
}

const error = (src: string): string => {
  const r = parseScript(src)
  return r instanceof ShSyntaxError ? `sh: ${r.line}: Syntax error: ${r.message}` : "parsed"
}

describe("sh parser", () => {
  it("splits commands on ; and newlines, and joins pipelines with && and ||", () => {
    const s = parseScript("mkdir /a; mount -t tmpfs none /a && echo ok || echo failed\ncat f | wc  # a comment\n") as Script
    expect(s.length).toBe(3)
    expect(simple(s[1]!.first.commands[0]).words.length).toBe(5)
    expect(s[1]!.rest.map(([op]) => op)).toEqual(["&&", "||"])
    expect(s[2]!.first.commands.length).toBe(2)
    expect(words(s)).toEqual([[["mkdir", "/a"]], [["mount", "-t", "tmpfs", "none", "/a"], ["echo", "ok"], ["echo", "failed"]], [["cat", "f"], ["wc"]]])
  })

  it("keeps quoted text together and finds variables outside single quotes", () => {
    const s = parseScript(`echo 'a $x' "b $y c" d\\ e $? \${HOME}x`) as Script
    const argv = simple(s[0]!.first.commands[0]).words
    expect(argv.map((w) => w.map((p) => (p.type === "lit" ? p.text : p.type === "var" ? `<${p.name}>` : `<${p.type}>`)).join(""))).toEqual([
      "echo",
      "a $x",
      "b <y> c",
      "d e",
      "<?>",
      "<HOME>x"
    ])
  })

  it("reads assignments before a command and redirections anywhere", () => {
    const s = parseScript("X=1 Y=two cmd arg >out 2>&1 <in 2>>log") as Script
    const cmd = simple(s[0]!.first.commands[0])
    expect(cmd.assignments.map(([k]) => k)).toEqual(["X", "Y"])
    expect(cmd.words.length).toBe(2)
    expect(cmd.redirects.map((r) => [r.fd, r.op])).toEqual([
      [1, ">"],
      [2, ">&"],
      [0, "<"],
      [2, ">>"]
    ])
  })

  // the messages dash (Debian's /bin/sh) prints for the same scripts
  it.each([
    ['echo "abc', "sh: 1: Syntax error: Unterminated quoted string"],
    [";", 'sh: 1: Syntax error: ";" unexpected'],
    ["a &&", "sh: 1: Syntax error: end of file unexpected"],
    ["| a", 'sh: 1: Syntax error: "|" unexpected'],
    ["a; ; b", 'sh: 1: Syntax error: ";" unexpected'],
    ["a;;", 'sh: 1: Syntax error: ";;" unexpected'],
    ["echo ${x", "sh: 1: Syntax error: Missing '}'"],
    ["a >", "sh: 1: Syntax error: end of file unexpected"],
    ["a >\n", "sh: 2: Syntax error: newline unexpected"],
    ["a && \n;", 'sh: 2: Syntax error: ";" unexpected'],
    ["\n|", 'sh: 2: Syntax error: "|" unexpected']
  ])("rejects %j as dash does", (src, message) => {
    expect(error(src)).toBe(message)
  })

  it("accepts empty scripts and blank lines", () => {
    expect(parseScript("")).toEqual([])
    expect(parseScript("\n\n# only a comment\n")).toEqual([])
  })
})

describe("word expansion", () => {
  const env: Record<string, string> = { x: "a  b", empty: "", one: "v" }
  const lookup = (n: string): string | undefined => env[n]
  const w = (src: string): Word => simple((parseScript(`cmd ${src}`) as Script)[0]!.first.commands[0]).words[1]!

  // as dash showed: x="a  b"; printf "[%s]" $x "$x" $y "" -> [a][b][a  b][]
  it("splits unquoted variables on blanks, keeps quoted ones whole, drops empty unquoted ones", () => {
    expect(expandWord(w("$x"), lookup)).toEqual(["a", "b"])
    expect(expandWord(w('"$x"'), lookup)).toEqual(["a  b"])
    expect(expandWord(w("$undefined"), lookup)).toEqual([])
    expect(expandWord(w('""'), lookup)).toEqual([""])
    expect(expandWord(w("pre$one.post"), lookup)).toEqual(["prev.post"])
    expect(expandWord(w("$empty$one"), lookup)).toEqual(["v"])
    expect(expandWord(w("'$x'"), lookup)).toEqual(["$x"])
  })
})

describe("case patterns", () => {
  const pattern = (src: string): RegExp => {
    const s = parseScript(`case x in ${src}) ;; esac`) as Script
    const c = s[0]!.first.commands[0]!
    expect(c.type).toBe("case")
    return patternOf((c as Extract<Command, { type: "case" }>).items[0]!.patterns[0]!, () => undefined)
  }
  // as dash matched: case WORD in PATTERN) echo y;; *) echo n;; esac
  it.each([
    ["[z-a]", "b", false],
    ["[a-c]x", "bx", true],
    ["[!]]", "a", true],
    ["[!]]", "]", false],
    ["[]]", "]", true],
    ["[", "a", false],
    ["[a-", "-", false],
    ["a.c", "abc", false],
    ["\\*", "*", true],
    ['"a*"', "ab", false],
    ["[^a]", "b", false],
    ["*/*", "a/b", true],
    ["[]", "]", false]
  ])("%s against %j: %s", (src, word, matches) => {
    expect(pattern(src).test(word)).toBe(matches)
  })
})

describe("compound commands", () => {
  it("parses if, loops, for, case, groups, subshells, functions and background lists into their parts", () => {
    const s = parseScript("if a; then b; elif c; then d; else e; fi\nwhile a; do b; done > f\nfor i in x y; do :; done\ncase w in p|q) r;; esac\n{ a; } | (b)\nf() { a; }\na & b") as Script
    expect(s.map((ao) => ao.first.commands.map((c) => c.type).join("|"))).toEqual(["if", "while", "for", "case", "group|subshell", "function", "simple", "simple"])
    const iff = s[0]!.first.commands[0] as Extract<Command, { type: "if" }>
    expect(iff.branches.length).toBe(2)
    expect(iff.otherwise?.length).toBe(1)
    expect((s[1]!.first.commands[0] as LoopCommand).redirects.map((r) => r.op)).toEqual([">"])
    expect((s[3]!.first.commands[0] as Extract<Command, { type: "case" }>).items[0]!.patterns.length).toBe(2)
    expect(s.map((ao) => ao.background)).toEqual([false, false, false, false, false, false, true, false])
  })

  it("takes keywords only where a command starts", () => {
    const s = parseScript("echo if then fi done") as Script
    expect(words(s)).toEqual([[["echo", "if", "then", "fi", "done"]]])
  })
})

describe("any input", () => {
  // the shell's alphabet: operators, quotes, keywords' letters, blanks and newlines
  const text = fc
    .array(fc.constantFrom("if", "then", "fi", "do", "done", "case", "esac", "in", "for", "while", "{", "}", "(", ")", ";", ";;", "&", "|", "&&", "<", ">", "2>&1", "'", '"', "\\", "$", "${", "$(", "$((", "))", "`", ":-", "#", "}", "*", "[", "]", "!", "-", "x", " ", "\n", "#"), { maxLength: 40 })
    .map((a) => a.join(""))

  it("parses or gives a syntax error, and every case pattern compiles", () => {
    fc.assert(
      fc.property(text, (src) => {
        const r = parseScript(src)
        if (r instanceof ShSyntaxError) return r.line >= 1 && r.message.length > 0
        for (const ao of r)
          for (const c of ao.first.commands)
            if (c.type === "case") for (const item of c.items) for (const p of item.patterns) patternOf(p, () => "[z-a]").test("x")
        return true
      }),
      { numRuns: 2000 }
    )
  })
})
