import { describe, expect, it } from "@effect/vitest"
import {
  AT_FDCWD,
  CLONE_PIDFD,
  F_GETFL,
  SIGCHLD,
  O_RDONLY,
  O_WRONLY,
  S_IFIFO,
  O_NONBLOCK,
  O_RDWR,
  POLLHUP,
  POLLIN,
  POLLRDNORM,
  SIG_IGN,
  SIGPIPE,
  SIGUSR1,
  WEXITSTATUS,
  WIFSIGNALED,
  WTERMSIG
} from "@simkernel/abi"
import { anonInodeDname, fstat, mknodat } from "@simkernel/vfs"
import { Effect } from "effect"
import type { Process } from "../src/index.js"
import { errnoOf, runVfsInit } from "./fixtures.js"

const enc = (s: string): Uint8Array => new TextEncoder().encode(s)
const dec = (b: Uint8Array): string => new TextDecoder().decode(b)

/** Read until EOF. */
const readAll = (p: Process, fd: number): Effect.Effect<string, import("@simkernel/abi").SysError> =>
  Effect.gen(function* () {
    let out = ""
    const buf = new Uint8Array(1000)
    for (;;) {
      const n = yield* p.read(fd, buf)
      if (n === 0) return out
      out += dec(buf.subarray(0, n))
    }
  })

describe("pipes between tasks", () => {
  it.effect("a child writes, the parent's blocking read sleeps until data comes, then EOF when the child exits", () =>
    Effect.gen(function* () {
      const seen: Array<unknown> = []
      yield* runVfsInit((p) =>
        Effect.gen(function* () {
          const [r, w] = yield* p.pipe()
          const c = yield* p.fork((c) =>
            Effect.gen(function* () {
              yield* c.close(r)
              // let the parent run first: it blocks in read, and this write wakes it
              yield* c.sched_yield()
              seen.push(p.task.chan)
              yield* c.write(w, enc("hello"))
              return 0
            })
          )
          yield* p.close(w)
          seen.push(yield* readAll(p, r))
          seen.push(WEXITSTATUS((yield* p.wait4(c)).status))
          return 0
        })
      )
      expect(seen).toEqual(["pipe", "hello", 0])
    }))

  it.effect("a blocking write larger than the pipe sleeps until the reader makes room; every byte arrives in order", () =>
    Effect.gen(function* () {
      const seen: Array<unknown> = []
      yield* runVfsInit((p) =>
        Effect.gen(function* () {
          const [r, w] = yield* p.pipe()
          const data = new Uint8Array(200000)
          for (let i = 0; i < data.length; i++) data[i] = i % 251
          const c = yield* p.fork((c) => Effect.map(c.write(w, data), (n) => (n === data.length ? 0 : 1)))
          yield* p.close(w)
          const got = new Uint8Array(data.length)
          let off = 0
          for (;;) {
            const n = yield* p.read(r, got.subarray(off))
            if (n === 0) break
            off += n
          }
          seen.push(off, got.every((b, i) => b === data[i]))
          seen.push(WEXITSTATUS((yield* p.wait4(c)).status))
          return 0
        })
      )
      expect(seen).toEqual([200000, true, 0])
    }))

  it.effect("EPIPE: with SIGPIPE at its default the writer is killed by SIGPIPE; ignored, write fails with EPIPE", () =>
    Effect.gen(function* () {
      const seen: Array<unknown> = []
      yield* runVfsInit((p) =>
        Effect.gen(function* () {
          const [r, w] = yield* p.pipe()
          yield* p.close(r)
          const c = yield* p.fork((c) => Effect.as(c.write(w, enc("x")), 0))
          const st = (yield* p.wait4(c)).status
          seen.push(WIFSIGNALED(st), WTERMSIG(st))
          const c2 = yield* p.fork((c) =>
            Effect.gen(function* () {
              yield* c.sigaction(SIGPIPE, { handler: SIG_IGN, flags: 0, mask: 0n })
              return (yield* errnoOf(c.write(w, enc("x")))) === "EPIPE" ? 7 : 1
            })
          )
          seen.push(WEXITSTATUS((yield* p.wait4(c2)).status))
          return 0
        })
      )
      expect(seen).toEqual([true, SIGPIPE, 7])
    }))

  it.effect("a reader blocked on an empty pipe is woken with EPIPE-free EOF when the last writer exits", () =>
    Effect.gen(function* () {
      const seen: Array<unknown> = []
      yield* runVfsInit((p) =>
        Effect.gen(function* () {
          const [r, w] = yield* p.pipe()
          const c = yield* p.fork((c) => Effect.as(c.sched_yield(), 0))
          yield* p.close(w)
          seen.push(yield* p.read(r, new Uint8Array(4)))
          yield* p.wait4(c)
          return 0
        })
      )
      expect(seen).toEqual([0])
    }))

  it.effect("O_NONBLOCK: EAGAIN on an empty pipe with a writer and on a full pipe", () =>
    Effect.gen(function* () {
      const seen: Array<unknown> = []
      yield* runVfsInit((p) =>
        Effect.gen(function* () {
          const [r, w] = yield* p.pipe2(O_NONBLOCK)
          seen.push(yield* errnoOf(p.read(r, new Uint8Array(4))))
          seen.push(yield* p.write(w, new Uint8Array(70000)))
          seen.push(yield* errnoOf(p.write(w, new Uint8Array(1))))
          seen.push(yield* errnoOf(p.pipe2(0o4)))
          return 0
        })
      )
      expect(seen).toEqual(["EAGAIN", 65536, "EAGAIN", "EINVAL"])
    }))

  it.effect("a signal with a handler interrupts a blocked read with EINTR", () =>
    Effect.gen(function* () {
      const seen: Array<unknown> = []
      yield* runVfsInit((p) =>
        Effect.gen(function* () {
          const [r] = yield* p.pipe()
          const c = yield* p.fork((c) =>
            Effect.gen(function* () {
              yield* c.sigaction(SIGUSR1, { handler: () => Effect.void, flags: 0, mask: 0n })
              return (yield* errnoOf(c.read(r, new Uint8Array(1)))) === "EINTR" ? 5 : 1
            })
          )
          yield* p.kill(c, SIGUSR1)
          seen.push(WEXITSTATUS((yield* p.wait4(c)).status))
          return 0
        })
      )
      expect(seen).toEqual([5])
    }))

  it.effect("poll on a pipe sleeps until a writer writes (POLLIN), then POLLHUP after it exits", () =>
    Effect.gen(function* () {
      const seen: Array<unknown> = []
      yield* runVfsInit((p) =>
        Effect.gen(function* () {
          const [r, w] = yield* p.pipe()
          const c = yield* p.fork((c) =>
            Effect.gen(function* () {
              yield* c.sched_yield()
              seen.push(p.task.chan)
              yield* c.write(w, enc("z"))
              return 0
            })
          )
          yield* p.close(w)
          seen.push(yield* p.poll([{ fd: r, events: POLLIN }], -1))
          yield* p.wait4(c)
          seen.push(yield* p.poll([{ fd: r, events: POLLIN }, { fd: 99, events: POLLIN }], 0))
          return 0
        })
      )
      // the writer runs on to its exit before the poller is back on the CPU, so the first answer has POLLHUP too
      expect(seen).toEqual(["poll", [POLLIN | POLLHUP], [POLLIN | POLLHUP, 0x20]])
    }))
})

describe("FIFOs between tasks", () => {
  it.effect("a blocking open for reading sleeps until a writer opens; O_NONBLOCK|O_WRONLY with no reader is ENXIO", () =>
    Effect.gen(function* () {
      const seen: Array<unknown> = []
      yield* runVfsInit((p) =>
        Effect.gen(function* () {
          const e = mknodat(p.vfs, AT_FDCWD, "/fifo", S_IFIFO | 0o666, 0)
          if (e !== undefined) return yield* Effect.fail(e)
          seen.push(yield* errnoOf(p.openat(AT_FDCWD, "/fifo", O_WRONLY | O_NONBLOCK)))
          const c = yield* p.fork((c) =>
            Effect.gen(function* () {
              const r = yield* c.openat(AT_FDCWD, "/fifo", O_RDONLY)
              seen.push(yield* readAll(c, r))
              return 0
            })
          )
          seen.push(p.task.kernel.findTask(c)?.chan)
          const w = yield* p.openat(AT_FDCWD, "/fifo", O_WRONLY)
          yield* p.write(w, enc("through the fifo"))
          yield* p.close(w)
          yield* p.wait4(c)
          return 0
        })
      )
      expect(seen).toEqual(["ENXIO", "pipe", "through the fifo"])
    }))

  it.effect("a blocking open interrupted by a handled signal is EINTR and leaves nothing open", () =>
    Effect.gen(function* () {
      const seen: Array<unknown> = []
      yield* runVfsInit((p) =>
        Effect.gen(function* () {
          mknodat(p.vfs, AT_FDCWD, "/fifo", S_IFIFO | 0o666, 0)
          const c = yield* p.fork((c) =>
            Effect.gen(function* () {
              yield* c.sigaction(SIGUSR1, { handler: () => Effect.void, flags: 0, mask: 0n })
              seen.push(yield* errnoOf(c.openat(AT_FDCWD, "/fifo", O_WRONLY)))
              seen.push(c.vfs.files.openFds())
              return 0
            })
          )
          yield* p.kill(c, SIGUSR1)
          yield* p.wait4(c)
          return 0
        })
      )
      expect(seen).toEqual(["EINTR", []])
    }))
})

describe("pidfds as vfs Files", () => {
  it.effect("pidfd_open installs an anon_inode:[pidfd] File (O_RDWR, close-on-exec); poll until exit; close frees it", () =>
    Effect.gen(function* () {
      const seen: Array<unknown> = []
      yield* runVfsInit((p) =>
        Effect.gen(function* () {
          const [sr, sw] = yield* p.pipe()
          // the child waits on a pipe until the parent lets it exit
          const c = yield* p.fork((c) => Effect.as(c.read(sr, new Uint8Array(1)), 3))
          const fd = yield* p.pidfd_open(c, O_NONBLOCK)
          const files = p.vfs.files
          const f = files.fdget(fd)!
          seen.push(anonInodeDname(f), files.fcntl(fd, F_GETFL, 0), files.getCloexec(fd))
          seen.push(typeof fstat(p.vfs, fd) === "object")
          seen.push(yield* errnoOf(p.waitid(3 /* P_PIDFD */, fd, 4 /* WEXITED */)))
          seen.push(yield* p.poll([{ fd, events: POLLIN }], 0))
          yield* p.write(sw, enc("go"))
          seen.push(yield* p.poll([{ fd, events: POLLIN }], -1))
          seen.push(WEXITSTATUS((yield* p.waitid(3, fd, 4)).status))
          // a pipe is not a pidfd
          const [r] = yield* p.pipe()
          seen.push(yield* errnoOf(p.pidfd_send_signal(r, 0)))
          yield* p.close(fd)
          seen.push(yield* errnoOf(p.pidfd_send_signal(fd, 0)))
          return 0
        })
      )
      expect(seen).toEqual(["anon_inode:[pidfd]", O_RDWR | O_NONBLOCK, true, true, "EAGAIN", [0], [POLLIN], 3, "EBADF", "EBADF"])
    }))

  it.effect("CLONE_PIDFD gives a [pidfd] File too; a forked child inherits it; the last close frees the PidfdFile", () =>
    Effect.gen(function* () {
      const seen: Array<unknown> = []
      yield* runVfsInit((p) =>
        Effect.gen(function* () {
          const r = yield* p.clone((c) => Effect.as(c.sched_yield(), 4), CLONE_PIDFD | SIGCHLD)
          seen.push(anonInodeDname(p.vfs.files.fdget(r.pidfd)!), p.vfs.files.getCloexec(r.pidfd))
          const c2 = yield* p.fork((c) =>
            Effect.gen(function* () {
              // the copy of the table holds its own reference on the File
              seen.push(anonInodeDname(c.vfs.files.fdget(r.pidfd)!))
              return 0
            })
          )
          yield* p.wait4(c2)
          seen.push(WEXITSTATUS((yield* p.waitid(3, r.pidfd, 4)).status))
          yield* p.close(r.pidfd)
          return 0
        })
      )
      expect(seen).toEqual(["anon_inode:[pidfd]", true, "anon_inode:[pidfd]", 4])
    }))
})
