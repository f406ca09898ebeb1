import { describe, expect, it } from "@effect/vitest"
import { execFileSync, spawnSync } from "node:child_process"
import { mkdtempSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { fileURLToPath } from "node:url"
import { WEXITSTATUS } from "@simkernel/abi"
import { Effect } from "effect"
import { boot, onConsole, shutdown } from "../src/Kernel.js"
import { runScript } from "../src/userland/sh/run.js"

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

const main = fileURLToPath(new URL("../dist/main.js", import.meta.url))

describe("sh", () => {
  // each expected output is what dash printed for the same script on this machine
  const cases: ReadonlyArray<readonly [string, string, number]> = [
    ["echo hello world", "hello world\n", 0],
    ["echo a; false || echo b && echo c", "a\nb\nc\n", 0],
    ['X=hi; echo "$X there" $?', "hi there 0\n", 0],
    ["false; echo $?; true; echo $?", "1\n0\n", 0],
    ["echo one two | cat", "one two\n", 0],
    ["echo abc | cat | cat", "abc\n", 0],
    ["nosuch; echo $?", "sh: 1: nosuch: not found\n127\n", 0],
    ["cd /nope; echo $?", "sh: 1: cd: can't cd to /nope\n2\n", 0],
    ['echo "unterminated', "sh: 1: Syntax error: Unterminated quoted string\n", 2],
    ["exit 3; echo never", "", 3],
    ["cat /nofile", "cat: /nofile: No such file or directory\n", 1],
    ["echo x > /nodir/f", "sh: 1: cannot create /nodir/f: Directory nonexistent\n", 2],
    ["cat < /nofile", "sh: 1: cannot open /nofile: No such file\n", 2],
    ["echo x > /etc", "sh: 1: cannot create /etc: Is a directory\n", 2],
    ["echo -n a; echo b", "ab\n", 0],
    ["# a comment\necho 'single $quoted' \\$escaped", "single $quoted $escaped\n", 0]
  ]
  for (const [script, out, status] of cases) {
    it.effect(`runs ${JSON.stringify(script)} as dash does`, () =>
      Effect.gen(function* () {
        expect(yield* sh(script)).toEqual({ out, status })
      })
    )
  }

  it.effect("redirects output and input, in files of the VFS", () =>
    Effect.gen(function* () {
      const r = yield* sh("mkdir /tmp/d && echo first > /tmp/d/f && echo second >> /tmp/d/f; cat < /tmp/d/f; ls /tmp/d; cd /tmp/d; cat f")
      expect(r).toEqual({ out: "first\nsecond\nf\nfirst\nsecond\n", status: 0 })
    })
  )

  it.effect("sees the kernel: hostname, /dev, the programs in /bin", () =>
    Effect.gen(function* () {
      const r = yield* sh("hostname; hostname box; hostname; ls /dev; ls /bin")
      expect(r.out).toBe("(none)\nbox\nconsole\nfull\nnull\nsda\nsda3\nzero\ncat\necho\nfalse\nhostname\nls\nmkdir\nsh\ntrue\n")
    })
  )
})

describe("simkernel run and shell", () => {
  it("run FILE runs a host script inside the kernel and exits with its status", () => {
    const dir = mkdtempSync(join(tmpdir(), "simkernel-run-"))
    try {
      const file = join(dir, "s.sh")
      writeFileSync(file, "echo from a script\nmkdir /tmp/d\necho data > /tmp/d/f\ncat /tmp/d/f | cat\nexit 4\n")
      const r = spawnSync(process.execPath, [main, "run", file], { encoding: "utf8" })
      expect(r.stdout).toBe("from a script\ndata\n")
      expect(r.status).toBe(4)
      const missing = spawnSync(process.execPath, [main, "run", join(dir, "nope.sh")], { encoding: "utf8" })
      expect(missing.status).toBe(2)
      expect(missing.stderr).toContain("No such file or directory")
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })

  it("--trace prints every task's syscalls on standard error in strace's format", () => {
    const r = spawnSync(process.execPath, [main, "shell", "--trace", "-c", "echo hi | cat"], { encoding: "utf8" })
    expect(r.stdout).toBe("hi\n")
    const lines = r.stderr.trimEnd().split("\n")
    expect(lines).toContain("[pid 1] pipe2([3, 4], 0) = 0")
    expect(lines).toContain('[pid 2] write(1, "hi\\n", 3) = 3')
    expect(lines).toContain('[pid 3] read(0, "hi\\n", 4096) = 3')
    expect(lines).toContain("[pid 1] wait4(3, [{WIFEXITED(s) && WEXITSTATUS(s) == 0}], 0, NULL) = 3")
    const json = spawnSync(process.execPath, [main, "shell", "--trace=json", "-c", "true"], { encoding: "utf8" })
    expect(JSON.parse(json.stderr.split("\n")[0]!)).toEqual({ pid: 1, call: 'openat(AT_FDCWD, "/dev/console", O_RDWR)', result: "0" })
  })

  it("shell -c CMD runs one command line", () => {
    expect(execFileSync(process.execPath, [main, "shell", "-c", "echo hi && hostname"], { encoding: "utf8" })).toBe("hi\n(none)\n")
  })
})
