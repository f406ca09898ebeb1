import { describe, expect, it } from "@effect/vitest"
import { expandWord, parseScript, type Script, ShSyntaxError, type Word } from "../src/userland/sh/parse.js"

const words = (script: Script | ShSyntaxError): Array<Array<Array<string>>> => {
  if (script instanceof ShSyntaxError) throw new Error(script.message)
  return script.map((ao) => [ao.first, ...ao.rest.map(([, p]) => p)].flatMap((p) => p.map((c) => c.words.map((w) => w.map((x) => (x.type === "lit" ? x.text : `$${x.name}`)).join("")))))
}

const error = (src: string): string => {
  const r = parseScript(src)
  return r instanceof ShSyntaxError ? `sh: ${r.line}: Syntax error: ${r.message}` : "parsed"
}

describe("sh parser", () => {
  it("splits commands on ; and newlines, and joins pipelines with && and ||", () => {
    const s = parseScript("mkdir /a; mount -t tmpfs none /a && echo ok || echo failed\ncat f | wc  # a comment\n") as Script
    expect(s.length).toBe(3)
    expect(s[1]!.first[0]!.words.length).toBe(5)
    expect(s[1]!.rest.map(([op]) => op)).toEqual(["&&", "||"])
    expect(s[2]!.first.length).toBe(2)
    expect(words(s)).toEqual([[["mkdir", "/a"]], [["mount", "-t", "tmpfs", "none", "/a"], ["echo", "ok"], ["echo", "failed"]], [["cat", "f"], ["wc"]]])
  })

  it("keeps quoted text together and finds variables outside single quotes", () => {
    const s = parseScript(`echo 'a $x' "b $y c" d\\ e $? \${HOME}x`) as Script
    const argv = s[0]!.first[0]!.words
    expect(argv.map((w) => w.map((p) => (p.type === "lit" ? p.text : `<${p.name}>`)).join(""))).toEqual([
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
    const cmd = s[0]!.first[0]!
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
  const w = (src: string): Word => (parseScript(`cmd ${src}`) as Script)[0]!.first[0]!.words[1]!

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
