import { describe, expect, it } from "@effect/vitest"
import { WEXITSTATUS } from "@simkernel/abi"
import { Effect } from "effect"
import { boot, onConsole, shutdown } from "../src/Kernel.js"
import { runInteractive, runScript } from "../src/userland/sh/run.js"

/** Run a script as PID 1 on a fresh kernel: what /dev/console received and the exit status. */
const sh = (script: string) =>
  Effect.gen(function* () {
    let out = ""
    const kernel = yield* boot({ init: onConsole((p) => runScript(p, script)), console: (b) => (out += new TextDecoder().decode(b)) })
    const status = yield* kernel.sched.waitInit()
    const report = yield* shutdown(kernel)
    expect(report.audit).toBe("leak audit: 0 live objects")
    return { out, status: WEXITSTATUS(status) }
  })

/** Feed lines to the line-by-line shell as a terminal would. */
const interactive = (lines: ReadonlyArray<string>) =>
  Effect.gen(function* () {
    let out = ""
    const prompts: Array<string> = []
    const queue = [...lines]
    const next = (prompt: string) => Effect.sync(() => (prompts.push(prompt), queue.shift()))
    const kernel = yield* boot({ init: onConsole((p) => runInteractive(p, next, true)), console: (b) => (out += new TextDecoder().decode(b)) })
    const status = yield* kernel.sched.waitInit()
    const report = yield* shutdown(kernel)
    expect(report.audit).toBe("leak audit: 0 live objects")
    return { out, status: WEXITSTATUS(status), prompts }
  })

describe("sh compound commands, functions, builtins and jobs", () => {
  // each expected output and status is what dash 0.5.12 printed for the same
  // script on this machine (run in / with an empty tmpfs on /tmp, "dash:" read as "sh:")
  const cases: ReadonlyArray<readonly [string, string, number]> = [
    ["toString; constructor x; echo $?", "sh: 1: toString: not found\nsh: 1: constructor: not found\n127\n", 0],
    ["{ echo a; } > /tmp/f; echo b; cat /tmp/f", "b\na\n", 0],
    ["echo first > /tmp/f; read x < /tmp/f; echo \"[$x]\"; read y < /dev/null; echo \"[$y] $?\"", "[first]\n[] 1\n", 0],
    ["f() { echo \"$@\"; } ; f a \"b c\" > /tmp/f; cat /tmp/f", "a b c\n", 0],
    ["f() { read v; echo \"got $v\"; }; echo piped | f", "got piped\n", 0],
    ["g() { echo g; }; g; g() { echo redefined; }; g", "g\nredefined\n", 0],
    ["i=0; for x in a b c; do i=$x$i; done; echo $i $x", "cba0 c\n", 0],
    ["while true; do while true; do break 2; done; echo no; done; echo out", "out\n", 0],
    ["IFS=,; x=\"a,b,,c\"; for f in $x; do echo \"<$f>\"; done", "<a>\n<b>\n<>\n<c>\n", 0],
    ["echo a; exit; echo b", "a\n", 0],
    ["false; exit", "", 1],
    ["(cd /tmp && echo in) && echo and", "in\nand\n", 0],
    ["! { false; }; echo $?", "0\n", 0],
    ["if ! false; then echo neg; fi", "neg\n", 0],
    ["x=5 y=6; echo $x$y; unused=1 true; echo ${unused}", "56\n\n", 0],
    ["set -- 1 2 3 4 5 6 7 8 9 10 11; echo $# ${11} $11", "11 11 11\n", 0],
    ["echo a >&5; echo $?; { echo b; } >&7; echo $?; ls 2>&9; echo $?", "sh: 1: 5: Bad file descriptor\n2\nsh: 1: 7: Bad file descriptor\n2\n2\n", 0],
    ["echo a >&10", "sh: 1: Syntax error: Bad fd number\n", 2],
    ["cat /nofile 2>&-; echo $?", "1\n", 0],
    ["x=1; echo a >&\"$x\"", "a\n", 0],
    ["if true; then echo yes; fi", "yes\n", 0],
    ["if false; then echo 1; elif true; then echo 2; else echo 3; fi", "2\n", 0],
    ["if false; then echo 1; elif false; then echo 2; else echo 3; fi; echo $?", "3\n0\n", 0],
    ["if false; then :; fi; echo $?", "0\n", 0],
    ["false; if true; then :; fi; echo $?", "0\n", 0],
    ["if false\nthen\n  echo no\nelse\n  echo multi-line\nfi", "multi-line\n", 0],
    ["i=; while [ \"$i\" != xxx ]; do i=x$i; done; echo $i", "xxx\n", 0],
    ["i=; until [ \"$i\" = xx ]; do i=x$i; echo \"<$i>\"; done", "<x>\n<xx>\n", 0],
    ["while false; do :; done; echo $?", "0\n", 0],
    ["until false; do break; done; echo $?", "0\n", 0],
    ["for i in 1 2 3; do for j in a b; do continue 2; echo no; done; echo no2; done; echo $i $j", "3 a\n", 0],
    ["for i in 1 2 3; do for j in a b; do break 2; done; done; echo $i $j", "1 a\n", 0],
    ["for i in a b c; do if [ $i = b ]; then continue; fi; echo $i; done", "a\nc\n", 0],
    ["for x in; do echo no; done; echo $?", "0\n", 0],
    ["false; for x in a; do :; done; echo $?", "0\n", 0],
    ["set -- \"a b\" c; for x; do echo \"<$x>\"; done; for x in \"$@\"; do echo \"[$x]\"; done; for x in $*; do echo \"{$x}\"; done; echo \"$*\"", "<a b>\n<c>\n[a b]\n[c]\n{a}\n{b}\n{c}\na b c\n", 0],
    ["set -- ; for x in \"$@\"; do echo no; done; echo \"[$@]\" \"$#\"", "[] 0\n", 0],
    ["for x in a b\ndo\n  echo $x\ndone", "a\nb\n", 0],
    ["case ab in a?) echo q;; esac; case \"*\" in \"*\") echo star;; esac; case x in [a-z]) echo r;; esac; case b in [!a]) echo n;; esac; case a in \\*) echo bad;; *) echo default;; esac", "q\nstar\nr\nn\ndefault\n", 0],
    ["case a in (a) echo y;; esac; case b in a|b) echo y2;; *) echo n; esac", "y\ny2\n", 0],
    ["x=a; case $x in $x) echo var;; esac; p=\"a*\"; case abc in $p) echo pat;; esac; case abc in \"$p\") echo quoted;; esac", "var\npat\n", 0],
    ["case a in a) echo x;; b) esac; echo $?", "x\n0\n", 0],
    ["false; case a in b) ;; esac; echo $?", "0\n", 0],
    ["false; case a in a) ;; esac; echo $?", "0\n", 0],
    ["case a in\n  b) echo b ;;\n  a) echo one\n     echo two\n     ;;\nesac", "one\ntwo\n", 0],
    ["case a in esac; echo $?", "0\n", 0],
    ["{ echo a; echo b; } > /tmp/g; cat /tmp/g", "a\nb\n", 0],
    ["{ cd /tmp; }; ls", "", 0],
    ["x=1; (x=2; cd /tmp; touch here; echo \"in $x\"); echo $x; touch there; ls /tmp", "in 2\n1\nhere\n", 0],
    ["(exit 3); echo $?", "3\n", 0],
    ["(echo sub; exit 4) | cat; echo $?", "sub\n0\n", 0],
    ["f() { echo $1 $#; }; f a b; f; echo $?", "a 2\n0\n0\n", 0],
    ["f() { echo $#; }; f \"$@\"; set -- x y; f \"$@\"; f \"$*\"; f $@", "0\n2\n1\n2\n", 0],
    ["f() { return 4; }; f; echo $?", "4\n", 0],
    ["f() { return; }; false; f; echo $?", "1\n", 0],
    ["f() { false; return; }; f; echo $?", "1\n", 0],
    ["f() { exit 5; echo no; }; f; echo no", "", 5],
    ["f() echo body; f", "body\n", 0],
    ["f() {\n  echo \"f got $1\"\n  shift\n  echo \"then $*\"\n}\nf a b c; echo \"outside $#\"", "f got a\nthen b c\noutside 0\n", 0],
    ["for i in 1 2; do f() { break; }; f; echo $i; done", "1\n2\n", 0],
    ["f() { echo f; }; f > /tmp/o; cat /tmp/o", "f\n", 0],
    ["f() { echo in f; }; f | cat; { echo g; echo h; } | cat", "in f\ng\nh\n", 0],
    ["return 3; echo no", "", 3],
    ["set -- a b c; echo $# $@; shift; echo $*; shift 2; echo $#", "3 a b c\nb c\n0\n", 0],
    ["set -- a b; echo \"$1-$2\" ${1}x $10", "a-b ax a0\n", 0],
    ["shift 5; echo after", "sh: 1: shift: can't shift that many\n", 2],
    ["shift x", "sh: 1: shift: Illegal number: x\n", 2],
    ["f() { shift 3; echo in; }; f a; echo after", "sh: 1: shift: can't shift that many\n", 2],
    ["break 0; echo $?", "sh: 1: break: Illegal number: 0\n", 2],
    ["break x; echo $?", "sh: 1: break: Illegal number: x\n", 2],
    ["break; echo $?", "0\n", 0],
    ["continue 1 2; echo $?", "0\n", 0],
    ["return x", "sh: 1: return: Illegal number: x\n", 2],
    ["exit x", "sh: 1: exit: Illegal number: x\n", 2],
    ["exit 1 2; echo $?", "", 1],
    ["set -q", "sh: 1: set: Illegal option -q\n", 2],
    [": > /nodir/x; echo $?", "sh: 1: cannot create /nodir/x: Directory nonexistent\n", 2],
    ["{ echo a; } < /nofile; echo $?", "sh: 1: cannot open /nofile: No such file\n2\n", 0],
    ["while false; do :; done < /nofile; echo $?", "sh: 1: cannot open /nofile: No such file\n2\n", 0],
    ["cd / > /nodir/x; echo $?", "sh: 1: cannot create /nodir/x: Directory nonexistent\n2\n", 0],
    ["echo a > /tmp/x; while read l; do echo \"<$l>\"; done < /tmp/x; echo $?", "<a>\n0\n", 0],
    ["if true; then echo a; fi > /tmp/o2; cat /tmp/o2", "a\n", 0],
    ["for i in 1 2; do echo $i; done | cat", "1\n2\n", 0],
    ["echo a | while read x; do echo got $x; done; echo $?", "got a\n0\n", 0],
    ["echo one > /tmp/l; echo two >> /tmp/l; cat /tmp/l | while read x; do echo \"<$x>\"; done", "<one>\n<two>\n", 0],
    ["echo x | (read a; echo \"got $a\")", "got x\n", 0],
    ["! true; echo $?", "1\n", 0],
    ["! false | false; echo $?", "0\n", 0],
    ["read; echo $?", "sh: 1: read: arg count\n2\n", 0],
    ["echo \"a b c\" | { read x y; echo \"[$x][$y]\"; }", "[a][b c]\n", 0],
    ["echo \"  a  b  c  \" | { read x y; echo \"[$x][$y]\"; }", "[a][b  c]\n", 0],
    ["echo \"a:b::c:\" | { IFS=: read x y z w; echo \"[$x][$y][$z][$w]\"; }", "[a][b][][c]\n", 0],
    ["echo \"a:b:\" | { IFS=\": \" read x y; echo \"[$x][$y]\"; }", "[a][b]\n", 0],
    ["echo \"a:b:c:\" | { IFS=\": \" read x y; echo \"[$x][$y]\"; }", "[a][b:c:]\n", 0],
    ["echo ' a b ' | { IFS= read x; echo \"[$x]\"; }", "[ a b ]\n", 0],
    ["echo 'a\\ b\\' | { read x y; echo \"[$x][$y]\"; }", "[a b][]\n", 0],
    ["echo 'a\\ b' | { read -r x y; echo \"[$x][$y]\"; }", "[a\\][b]\n", 0],
    ["echo 'a\\' > /tmp/l; echo b >> /tmp/l; read x < /tmp/l; echo \"[$x]\"", "[ab]\n", 0],
    ["echo -n abc | { read x; echo \"[$x] $?\"; }", "[abc] 1\n", 0],
    ["read 1x < /dev/null; echo $?", "sh: 1: read: 1x: bad variable name\n2\n", 0],
    ["read x < /dev/null; echo \"[$x] $?\"", "[] 1\n", 0],
    ["v=\" a  b \"; set -- $v; echo $#; IFS=:; v=\":a::b:\"; set -- $v; echo $#; for x; do echo \"<$x>\"; done", "2\n4\n<>\n<a>\n<>\n<b>\n", 0],
    ["[ 1 -eq x ]; echo $?", "sh: 1: [: Illegal number: x\n2\n", 0],
    ["[ a = ]; echo $?", "sh: 1: [: =: argument expected\n2\n", 0],
    ["[ a ; echo $?", "sh: 1: [: missing ]\n2\n", 0],
    ["test a b; echo $?", "sh: 1: test: a: unexpected operator\n2\n", 0],
    ["test a b c; echo $?", "sh: 1: test: a: unexpected operator\n2\n", 0],
    ["test ; echo $?", "1\n", 0],
    ["test -z; echo $?", "0\n", 0],
    ["test ! ; echo $?", "0\n", 0],
    ["test ! -z \"\"; echo $?", "1\n", 0],
    ["[ -n \"\" -o a ]; echo $?", "0\n", 0],
    ["[ 3 -gt 2 -a 1 -lt 2 ]; echo $?", "0\n", 0],
    ["[ \\( a = a \\) ]; echo $?", "0\n", 0],
    ["[ -e /tmp ] && [ -d /tmp ] && [ ! -f /tmp ] && echo ok", "ok\n", 0],
    ["touch /tmp/f; [ -f /tmp/f ] && [ ! -s /tmp/f ] && echo empty; echo x > /tmp/f; [ -s /tmp/f ] && echo full; [ -e /tmp/none ]; echo $?", "empty\nfull\n1\n", 0],
    ["[ 1 -lt ]; echo $?", "sh: 1: [: -lt: argument expected\n2\n", 0],
    ["[ -f ]; echo $?", "0\n", 0],
    ["[ \" 12\" -eq 12 ]; echo $?", "0\n", 0],
    ["[ -5 -lt +3 ]; echo $?", "0\n", 0],
    ["[ 99999999999999999999 -gt 1 ]; echo $?", "sh: 1: [: Illegal number: 99999999999999999999\n2\n", 0],
    ["test -foo b; echo $?", "sh: 1: test: -foo: unexpected operator\n2\n", 0],
    ["[ a -a ]; echo $?", "1\n", 0],
    ["[ = = = ]; echo $?", "0\n", 0],
    ["[ \"\" ]; echo $?", "1\n", 0],
    ["[ 2 -ne 3 ] && [ 3 -ge 3 ] && [ 3 -le 2 ]; echo $?", "1\n", 0],
    ["[ a != b ]; echo $?", "0\n", 0],
    ["[ ! a = a ]; echo $?", "1\n", 0],
    ["[ \\( a = b \\) -o \\( c = c \\) ]; echo $?", "0\n", 0],
    ["[ \\( a = b ]; echo $?", "sh: 1: [: closing paren expected\n2\n", 0],
    ["wait; echo $?", "0\n", 0],
    ["wait 99999; echo $?", "127\n", 0],
    ["wait x; echo $?", "sh: 1: wait: Illegal number: x\n2\n", 0],
    ["(exit 3) & wait $!; echo $?", "3\n", 0],
    ["(exit 3) & wait; echo $?", "0\n", 0],
    ["echo \"[$!]\"", "[]\n", 0],
    ["fi", "sh: 1: Syntax error: \"fi\" unexpected\n", 2],
    ["if true; then echo a", "sh: 1: Syntax error: end of file unexpected (expecting \"fi\")\n", 2],
    ["if true; fi", "sh: 1: Syntax error: \"fi\" unexpected (expecting \"then\")\n", 2],
    ["if; then :; fi", "sh: 1: Syntax error: \";\" unexpected\n", 2],
    ["while true; done", "sh: 1: Syntax error: \"done\" unexpected (expecting \"do\")\n", 2],
    ["for 1 in a; do :; done", "sh: 1: Syntax error: Bad for loop variable\n", 2],
    ["for x in a b; echo", "sh: 1: Syntax error: word unexpected (expecting \"do\")\n", 2],
    ["case a in", "sh: 1: Syntax error: end of file unexpected (expecting \")\")\n", 2],
    ["case a in b) ;; esac x", "sh: 1: Syntax error: word unexpected\n", 2],
    ["{ echo a }", "sh: 1: Syntax error: end of file unexpected (expecting \"}\")\n", 2],
    ["( )", "sh: 1: Syntax error: \")\" unexpected\n", 2],
    ["& a", "sh: 1: Syntax error: \"&\" unexpected\n", 2],
    ["echo )", "sh: 1: Syntax error: \")\" unexpected\n", 2],
    ["done", "sh: 1: Syntax error: \"done\" unexpected\n", 2],
    ["x=1 if true; then :; fi", "sh: 1: Syntax error: \"then\" unexpected\n", 2],
    ["{ }", "sh: 1: Syntax error: \"}\" unexpected\n", 2],
    ["! ! true; echo $?", "sh: 1: Syntax error: \"!\" unexpected\n", 2],
    ["if true\nthen\necho a\nelse", "sh: 4: Syntax error: end of file unexpected (expecting \"fi\")\n", 2],
    ["echo a\nfi", "a\nsh: 2: Syntax error: \"fi\" unexpected\n", 2],
    ["if () then :; fi", "sh: 1: Syntax error: \")\" unexpected\n", 2],
    ["for x in a b; do; done", "sh: 1: Syntax error: \";\" unexpected\n", 2],
    ["a=b ( echo )", "sh: 1: Syntax error: \"(\" unexpected\n", 2],
    ["esac", "sh: 1: Syntax error: \"esac\" unexpected\n", 2],
    ["then", "sh: 1: Syntax error: \"then\" unexpected\n", 2],
    ["f() { echo; }; shift() { :; }", "sh: 1: Syntax error: Bad function name\n", 2],
    ["while", "sh: 1: Syntax error: end of file unexpected (expecting \"do\")\n", 2],
  ]
  for (const [script, out, status] of cases) {
    it.effect(`runs ${JSON.stringify(script)} as dash does`, () =>
      Effect.gen(function* () {
        expect(yield* sh(script)).toEqual({ out, status })
      })
    )
  }
})

describe("sh $$, $! and background commands", () => {
  it.effect("$$ is the shell's pid in its PID namespace, kept by subshells; a new sh has its own", () =>
    Effect.gen(function* () {
      // PID 1 runs the script; echo is a builtin, so only these fork: the subshell 2,
      // the background job 3, the inner sh 4 (whose own subshell is 5)
      const r = yield* sh("echo $$; (echo $$); true & echo $!; wait; sh -c 'echo $$; (echo $$)'")
      expect(r).toEqual({ out: "1\n1\n3\n4\n4\n", status: 0 })
    })
  )

  it.effect("a background command runs while the shell goes on; wait collects it", () =>
    Effect.gen(function* () {
      // the job blocks on the FIFO until the shell, gone on, writes to it (dash printed the same)
      const r = yield* sh("mknod /tmp/p p; (read x < /tmp/p; echo late $x; exit 7) & echo early; echo go > /tmp/p; wait $!; echo status $?; wait; echo done")
      expect(r).toEqual({ out: "early\nlate go\nstatus 7\ndone\n", status: 0 })
    })
  )

  it.effect("a background command reads /dev/null, not the shell's input", () =>
    Effect.gen(function* () {
      const r = yield* sh("echo input > /tmp/in; { cat & wait; } < /tmp/in; echo end")
      expect(r).toEqual({ out: "end\n", status: 0 })
    })
  )

  it.effect("without /dev/null a background command fails as dash's does", () =>
    Effect.gen(function* () {
      // dash printed the same with an empty tmpfs on /dev, line 0 included
      const r = yield* sh("rm /dev/null; true & wait $!; echo $?")
      expect(r).toEqual({ out: "sh: 0: cannot open /dev/null: No such file\n2\n", status: 0 })
    })
  )

  it.effect("background commands never waited for leak nothing when the shell exits", () =>
    Effect.gen(function* () {
      const r = yield* sh("sleep 5 & sleep 5 & echo left")
      expect(r).toEqual({ out: "left\n", status: 0 })
    })
  )

  it.effect("wait PID for a finished job gives its status; for an unknown pid 127", () =>
    Effect.gen(function* () {
      const r = yield* sh("false & p=$!; true & q=$!; wait $p; echo $?; wait $q; echo $?; wait 12345; echo $?")
      expect(r).toEqual({ out: "1\n0\n127\n", status: 0 })
    })
  )
})

describe("sh scripts and the interactive shell", () => {
  it.effect("sh FILE ARGS: $0 is the file, the arguments are $1...; messages start with its name", () =>
    Effect.gen(function* () {
      // as dash printed for the same file
      const script = "echo 'if [ $# -gt 1 ]; then echo $0 $1 $#; fi' > /tmp/s; echo nosuch >> /tmp/s; sh /tmp/s a b; echo $?"
      expect(yield* sh(script)).toEqual({ out: "/tmp/s a 2\n/tmp/s: 2: nosuch: not found\n127\n", status: 0 })
    })
  )

  it.effect("sh -c CMD NAME ARGS sets $0 and the positional parameters", () =>
    Effect.gen(function* () {
      expect(yield* sh("sh -c 'echo $0 $1 $#' me one two")).toEqual({ out: "me one 2\n", status: 0 })
    })
  )

  it.effect("commands before a syntax error have run, as dash runs a script line by line", () =>
    Effect.gen(function* () {
      expect(yield* sh("echo a\nif true; then\nfi\necho never")).toEqual({ out: 'a\nsh: 3: Syntax error: "fi" unexpected\n', status: 2 })
    })
  )

  it.effect("an unfinished compound command makes the interactive shell read on with the > prompt", () =>
    Effect.gen(function* () {
      const r = yield* interactive(["for i in 1 2", "do echo $i", "done", "if true; then", "echo in", "fi; shift 3", "echo still here $?"])
      expect(r.out).toBe("1\n2\nin\nsh: 6: shift: can't shift that many\nstill here 2\n")
      expect(r.prompts).toEqual(["# ", "> ", "> ", "# ", "> ", "> ", "# ", "# "])
      expect(r.status).toBe(0)
    })
  )
})
