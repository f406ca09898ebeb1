import { describe, expect, it } from "@effect/vitest"
import {
  AT_EMPTY_PATH,
  AT_FDCWD,
  AT_SYMLINK_NOFOLLOW,
  MS_NOEXEC,
  MS_NOSUID,
  O_CLOEXEC,
  O_CREAT,
  O_RDONLY,
  O_WRONLY,
  WEXITSTATUS
} from "@simkernel/abi"
import { close, doMount, fchmod, fchownat, mkdirat, openat, symlinkat, type VfsTask, write } from "@simkernel/vfs"
import { Effect } from "effect"
import type { Process, Program } from "../src/index.js"
import { parseSimkernelShebang } from "../src/index.js"
import { errnoOf, runVfsInit } from "./fixtures.js"

/** Create `path` with `text` and `mode` (the creator's umask is 022), as root. */
const makeFile = (vt: VfsTask, path: string, text: string, mode = 0o755): void => {
  const fd = openat(vt, AT_FDCWD, path, O_CREAT | O_WRONLY, mode)
  if (typeof fd !== "number") throw fd
  write(vt, fd, new TextEncoder().encode(text))
  close(vt, fd)
}

const check = (r: unknown): void => {
  if (r instanceof Error) throw r
}

/** Run `body` in a forked child and return its exit status (WEXITSTATUS). */
const inChild = (p: Process, body: Program) =>
  Effect.gen(function* () {
    const c = yield* p.fork(body)
    return WEXITSTATUS((yield* p.wait4(c)).status)
  })

describe("execve(2) through the VFS", () => {
  it.effect("a #!simkernel NAME file runs the program registered as NAME, with argv and comm from the path", () =>
    Effect.gen(function* () {
      const seen: Array<unknown> = []
      yield* runVfsInit((p) =>
        Effect.gen(function* () {
          const k = p.task.kernel
          k.register("hello", (q) => Effect.sync(() => (seen.push([q.task.argv, q.task.comm]), 42)))
          const vt = p.vfs
          check(mkdirat(vt, AT_FDCWD, "/bin", 0o755))
          makeFile(vt, "/bin/hi", "#!simkernel hello\nignored\n")
          makeFile(vt, "/bin/spaces", "#!  simkernel \t hello  \n")
          seen.push(yield* inChild(p, (c) => c.execve("/bin/hi", ["hi", "x"])))
          seen.push(yield* inChild(p, (c) => c.execve("/bin/spaces", ["s"])))
          return 0
        })
      )
      expect(seen).toEqual([[["hi", "x"], "hi"], 42, [["s"], "spaces"], 42])
    }))

  it.effect("errors: ENOENT, EACCES for a directory, no x bit, a noexec mount; ENOEXEC; ENOENT for an unknown NAME; ELOOP with AT_SYMLINK_NOFOLLOW", () =>
    Effect.gen(function* () {
      const seen: Array<unknown> = []
      yield* runVfsInit((p) =>
        Effect.gen(function* () {
          p.task.kernel.register("ok", () => Effect.succeed(0))
          const vt = p.vfs
          check(mkdirat(vt, AT_FDCWD, "/bin", 0o755))
          check(mkdirat(vt, AT_FDCWD, "/nx", 0o755))
          check(doMount(vt, "none", "/nx", "tmpfs", MS_NOEXEC, null))
          makeFile(vt, "/bin/nox", "#!simkernel ok\n", 0o644)
          makeFile(vt, "/nx/prog", "#!simkernel ok\n")
          makeFile(vt, "/bin/elf", "\x7fELF\x02\x01\x01")
          makeFile(vt, "/bin/empty", "")
          makeFile(vt, "/bin/sh", "#!/bin/sh\n")
          makeFile(vt, "/bin/noname", "#!simkernel\n")
          makeFile(vt, "/bin/unknown", "#!simkernel nosuch\n")
          makeFile(vt, "/bin/good", "#!simkernel ok\n")
          makeFile(vt, "/bin/owner", "#!simkernel ok\n", 0o700)
          check(symlinkat(vt, "/bin/good", AT_FDCWD, "/bin/link"))
          const tries: Array<Effect.Effect<never, import("@simkernel/abi").SysError>> = [
            p.execve("/missing", []),
            p.execve("/bin/good/x", []),
            p.execve("/bin", []),
            p.execve("/bin/nox", []),
            p.execve("/nx/prog", []),
            p.execve("/bin/elf", []),
            p.execve("/bin/empty", []),
            p.execve("/bin/sh", []),
            p.execve("/bin/noname", []),
            p.execve("/bin/unknown", []),
            p.execveat(AT_FDCWD, "/bin/link", [], [], AT_SYMLINK_NOFOLLOW),
            p.execveat(AT_FDCWD, "/bin/good", [], [], 0x8000)
          ]
          for (const t of tries) seen.push(yield* errnoOf(t))
          // an unprivileged caller needs an x bit that applies to it (root needs any one)
          seen.push(
            yield* inChild(p, (c) =>
              Effect.gen(function* () {
                yield* c.setuid(1000)
                return (yield* errnoOf(c.execve("/bin/owner", []))) === "EACCES" ? 9 : 1
              })
            )
          )
          seen.push(yield* inChild(p, (c) => c.execve("/bin/link", [])))
          return 0
        })
      )
      expect(seen).toEqual([
        "ENOENT",
        "ENOTDIR",
        "EACCES",
        "EACCES",
        "EACCES",
        "ENOEXEC",
        "ENOEXEC",
        "ENOEXEC",
        "ENOEXEC",
        "ENOENT",
        "ELOOP",
        "EINVAL",
        9,
        0
      ])
    }))

  it.effect("set-user-ID files change the euid, except on a nosuid mount", () =>
    Effect.gen(function* () {
      const seen: Array<unknown> = []
      yield* runVfsInit((p) =>
        Effect.gen(function* () {
          p.task.kernel.register("whoami", (q) => Effect.succeed(q.task.cred.euid === 1000 ? 10 : q.task.cred.euid === 2000 ? 20 : 30))
          const vt = p.vfs
          check(mkdirat(vt, AT_FDCWD, "/ns", 0o755))
          check(doMount(vt, "none", "/ns", "tmpfs", MS_NOSUID, null))
          for (const path of ["/suid", "/ns/suid"]) {
            makeFile(vt, path, "#!simkernel whoami\n", 0o755)
            check(fchownat(vt, AT_FDCWD, path, 1000, 0, 0))
            // chown clears set-id bits; set them afterwards
            const fd = openat(vt, AT_FDCWD, path, O_RDONLY, 0)
            if (typeof fd !== "number") throw fd
            check(fchmod(vt, fd, 0o4755))
            close(vt, fd)
          }
          const run = (path: string) =>
            inChild(p, (c) =>
              Effect.gen(function* () {
                yield* c.setuid(2000)
                return yield* c.execve(path, [])
              })
            )
          seen.push(yield* run("/suid"), yield* run("/ns/suid"))
          return 0
        })
      )
      expect(seen).toEqual([10, 20])
    }))

  it.effect("close-on-exec fds are closed; execveat runs an fd with AT_EMPTY_PATH (comm is the fd number) and a path relative to a dirfd", () =>
    Effect.gen(function* () {
      const seen: Array<unknown> = []
      yield* runVfsInit((p) =>
        Effect.gen(function* () {
          const k = p.task.kernel
          k.register("fds", (q) => Effect.sync(() => (seen.push([q.task.comm, q.vfs.files.openFds()]), 0)))
          const vt = p.vfs
          check(mkdirat(vt, AT_FDCWD, "/bin", 0o755))
          makeFile(vt, "/bin/fds", "#!simkernel fds\n")
          seen.push(
            yield* inChild(p, (c) =>
              Effect.gen(function* () {
                const a = openat(c.vfs, AT_FDCWD, "/bin/fds", O_RDONLY, 0) as number
                openat(c.vfs, AT_FDCWD, "/bin/fds", O_RDONLY | O_CLOEXEC, 0)
                return yield* c.execveat(a, "", ["fds"], [], AT_EMPTY_PATH)
              })
            )
          )
          seen.push(
            yield* inChild(p, (c) =>
              Effect.gen(function* () {
                const d = openat(c.vfs, AT_FDCWD, "/bin", O_RDONLY, 0) as number
                return yield* c.execveat(d, "fds", ["fds"], [], 0)
              })
            )
          )
          // a script through a close-on-exec fd cannot be found again after exec (BINPRM_FLAGS_PATH_INACCESSIBLE)
          seen.push(
            yield* inChild(p, (c) =>
              Effect.gen(function* () {
                const a = openat(c.vfs, AT_FDCWD, "/bin/fds", O_RDONLY | O_CLOEXEC, 0) as number
                seen.push(yield* errnoOf(c.execveat(a, "", ["fds"], [], AT_EMPTY_PATH)))
                seen.push(yield* errnoOf(c.execveat(77, "", ["fds"], [], AT_EMPTY_PATH)))
                return 0
              })
            )
          )
          return 0
        })
      )
      expect(seen).toEqual([["0", [0]], 0, ["fds", [0]], 0, "ENOENT", "EBADF", 0])
    }))
})

describe("parseSimkernelShebang", () => {
  it("takes the interpreter simkernel and its one argument", () => {
    const b = (s: string) => new TextEncoder().encode(s)
    expect(parseSimkernelShebang(b("#!simkernel sh\n"))).toBe("sh")
    expect(parseSimkernelShebang(b("#!simkernel"))).toBe(undefined)
    expect(parseSimkernelShebang(b("#!/bin/sh x"))).toBe(undefined)
    expect(parseSimkernelShebang(b("simkernel sh"))).toBe(undefined)
  })
})
