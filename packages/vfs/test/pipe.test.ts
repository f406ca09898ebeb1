import { describe, expect, it } from "@effect/vitest"
import {
  F_GETFL,
  F_SETFL,
  O_CLOEXEC,
  O_DIRECT,
  O_NONBLOCK,
  O_RDONLY,
  O_WRONLY,
  PIPEFS_MAGIC,
  ANON_INODE_FS_MAGIC,
  POLLERR,
  POLLHUP,
  POLLIN,
  POLLOUT,
  POLLRDNORM,
  POLLWRNORM,
  SEEK_SET,
  S_IFIFO,
  O_RDWR,
  AT_FDCWD
} from "@simkernel/abi"
import {
  anonInodeDname,
  anonInodeGetfile,
  close,
  fstat,
  fstatfs,
  ksysRead,
  ksysWrite,
  lseek,
  PIPE_BUF,
  pipe2,
  pipeFromFile,
  read,
  vfsPoll,
  WouldBlock,
  write,
  type FileOperations,
  FifoOpenWait,
  ksysOpenat,
  mknodat,
  openat
} from "@simkernel/vfs"
import { assertNoLeaks } from "@simkernel/kref"
import { createScenarioWorld } from "@simkernel/vfs"
import fc from "fast-check"
import { dec, enc, errnoOf, makeWorld, ok, useWorlds } from "./helpers.js"

useWorlds()

const bytes = (n: number, v = 0x61): Uint8Array => new Uint8Array(n).fill(v)

describe("pipe2(2)", () => {
  it("returns [read, write] fds on a pipefs S_IFIFO inode, mode 0600; unknown flags are EINVAL", () => {
    const w = makeWorld()
    const [r, wr] = ok(pipe2(w.task, 0))
    expect([r, wr]).toEqual([0, 1])
    const st = ok(fstat(w.task, r))
    // real 6.18: st_mode 010600, st_nlink 1, st_size 0, name "pipe:[INO]"
    expect(st.mode).toBe(S_IFIFO | 0o600)
    expect(st.nlink).toBe(1)
    expect(st.size).toBe(0)
    expect(ok(fstatfs(w.task, wr)).type).toBe(PIPEFS_MAGIC)
    expect(w.task.files.fdget(r)!.dentry.name).toBe(`pipe:[${st.ino}]`)
    expect(ok(w.task.files.fcntl(r, F_GETFL, 0))).toBe(O_RDONLY)
    expect(ok(w.task.files.fcntl(wr, F_GETFL, 0))).toBe(O_WRONLY)
    expect(errnoOf(pipe2(w.task, 0o4))).toBe("EINVAL")
    expect(errnoOf(pipe2(w.task, O_WRONLY))).toBe("EINVAL")
    const [r2, w2] = ok(pipe2(w.task, O_CLOEXEC | O_NONBLOCK | O_DIRECT))
    expect(w.task.files.getCloexec(r2) && w.task.files.getCloexec(w2)).toBe(true)
    expect(ok(w.task.files.fcntl(w2, F_GETFL, 0))).toBe(O_WRONLY | O_NONBLOCK | O_DIRECT)
    expect(errnoOf(lseek(w.task, r, 0, SEEK_SET))).toBe("ESPIPE")
  })

  it("EMFILE when two fds do not fit, and nothing is left installed", () => {
    const w = makeWorld()
    const task = { ...w.task, nofile: 1 }
    expect(errnoOf(pipe2(task, 0))).toBe("EMFILE")
    expect(w.task.files.openFds()).toEqual([])
  })

  it("data in order, 0 at EOF once every writer is closed, EAGAIN when empty with a writer", () => {
    const w = makeWorld()
    const [r, wr] = ok(pipe2(w.task, O_NONBLOCK))
    expect(ok(write(w.task, wr, enc("hello ")))).toBe(6)
    expect(ok(write(w.task, wr, enc("world")))).toBe(5)
    const buf = new Uint8Array(8)
    expect(ok(read(w.task, r, buf))).toBe(8)
    expect(dec(buf)).toBe("hello wo")
    expect(ok(read(w.task, r, buf))).toBe(3)
    expect(errnoOf(read(w.task, r, buf))).toBe("EAGAIN")
    expect(errnoOf(read(w.task, wr, buf))).toBe("EBADF")
    expect(errnoOf(write(w.task, r, buf))).toBe("EBADF")
    ok(close(w.task, wr))
    expect(ok(read(w.task, r, buf))).toBe(0)
  })

  it("capacity 65536; a big non-blocking write takes what fits page by page (as 6.18)", () => {
    const w = makeWorld()
    const [r, wr] = ok(pipe2(w.task, O_NONBLOCK))
    expect(ok(write(w.task, wr, bytes(100000)))).toBe(65536)
    expect(errnoOf(write(w.task, wr, bytes(1)))).toBe("EAGAIN")
    expect(vfsPoll(w.task.files.fdget(wr)!)).toBe(0)
    expect(ok(read(w.task, r, new Uint8Array(65536)))).toBe(65536)
    // one byte in the pipe: the write's sub-page tail (100000 % 4096 = 1696) merges into its page, then 15 pages: 63136 on 6.18
    ok(write(w.task, wr, bytes(1)))
    expect(ok(write(w.task, wr, bytes(100000)))).toBe(63136)
    ok(read(w.task, r, new Uint8Array(100000)))
    // 100 bytes in, a page-multiple write gets 15 pages: 61440 on 6.18
    ok(write(w.task, wr, bytes(100)))
    expect(ok(write(w.task, wr, bytes(65536)))).toBe(61440)
  })

  it("PIPE_BUF atomicity: a write of at most 4096 bytes goes in whole or not at all", () => {
    const w = makeWorld()
    const [, wr] = ok(pipe2(w.task, O_NONBLOCK))
    for (let i = 0; i < 15; i++) ok(write(w.task, wr, bytes(4096)))
    ok(write(w.task, wr, bytes(10)))
    // the last page has 4086 bytes free: 4000 merge into it; then 100 more need a page and there is none
    expect(ok(write(w.task, wr, bytes(4000)))).toBe(4000)
    expect(errnoOf(write(w.task, wr, bytes(100)))).toBe("EAGAIN")
    expect(PIPE_BUF).toBe(4096)
    const f = w.task.files.fdget(wr)!
    expect(pipeFromFile(f)!.bytes).toBe(15 * 4096 + 4010)
  })

  it("EPIPE with no reader left (the caller raises SIGPIPE); a write of 0 bytes is 0 even then", () => {
    const w = makeWorld()
    const [r, wr] = ok(pipe2(w.task, 0))
    ok(close(w.task, r))
    expect(errnoOf(write(w.task, wr, bytes(1)))).toBe("EPIPE")
    expect(errnoOf(ksysWrite(w.task, wr, bytes(1)))).toBe("EPIPE")
    expect(ok(write(w.task, wr, new Uint8Array(0)))).toBe(0)
  })

  it("poll: POLLIN with data, POLLOUT with room, POLLHUP without writers, POLLERR without readers (as 6.18)", () => {
    const w = makeWorld()
    const [r, wr] = ok(pipe2(w.task, 0))
    const rf = w.task.files.fdget(r)!
    const wf = w.task.files.fdget(wr)!
    expect(vfsPoll(rf)).toBe(0)
    expect(vfsPoll(wf)).toBe(POLLOUT | POLLWRNORM)
    ok(write(w.task, wr, enc("hi")))
    expect(vfsPoll(rf)).toBe(POLLIN | POLLRDNORM)
    ok(close(w.task, wr))
    expect(vfsPoll(rf)).toBe(POLLIN | POLLRDNORM | POLLHUP)
    const [r2, w2] = ok(pipe2(w.task, 0))
    const w2f = w.task.files.fdget(w2)!
    ok(close(w.task, r2))
    expect(vfsPoll(w2f)).toBe(POLLOUT | POLLWRNORM | POLLERR)
  })

  it("blocking forms: WouldBlock on an empty pipe and on a full one, ready when the other side moves", () => {
    const w = makeWorld()
    const [r, wr] = ok(pipe2(w.task, 0))
    const rb = ksysRead(w.task, r, new Uint8Array(10))
    expect(rb).toBeInstanceOf(WouldBlock)
    const wb = rb as WouldBlock
    let woken = 0
    const remove = wb.wq.add(() => void woken++)
    expect(wb.ready()).toBe(false)
    ok(write(w.task, wr, enc("x")))
    expect(woken).toBeGreaterThan(0)
    expect(wb.ready()).toBe(true)
    remove()
    ok(read(w.task, r, new Uint8Array(10)))
    // a blocking write bigger than the room writes what fits and says how much (done)
    const big = ksysWrite(w.task, wr, bytes(70000))
    expect(big).toBeInstanceOf(WouldBlock)
    expect((big as WouldBlock).done).toBe(65536)
    expect((big as WouldBlock).ready()).toBe(false)
    ok(read(w.task, r, new Uint8Array(4096)))
    expect((big as WouldBlock).ready()).toBe(true)
    // one free page: 4096 of the 4464 left go in, then it would block again
    expect((ksysWrite(w.task, wr, bytes(70000 - 65536), true) as WouldBlock).done).toBe(4096)
    ok(read(w.task, r, new Uint8Array(8192)))
    expect(ok(ksysWrite(w.task, wr, bytes(368), true) as number)).toBe(368)
    // F_SETFL O_NONBLOCK turns the blocking read into EAGAIN
    ok(read(w.task, r, new Uint8Array(100000)))
    ok(w.task.files.fcntl(r, F_SETFL, O_NONBLOCK))
    expect(errnoOf(ksysRead(w.task, r, new Uint8Array(1)))).toBe("EAGAIN")
  })

  it("O_DIRECT: packet mode, one write per read, the rest of a packet dropped", () => {
    const w = makeWorld()
    const [r, wr] = ok(pipe2(w.task, O_DIRECT | O_NONBLOCK))
    ok(write(w.task, wr, enc("abc")))
    ok(write(w.task, wr, enc("defgh")))
    const buf = new Uint8Array(100)
    expect(ok(read(w.task, r, buf))).toBe(3)
    expect(ok(read(w.task, r, buf.subarray(0, 2)))).toBe(2)
    expect(errnoOf(read(w.task, r, buf))).toBe("EAGAIN")
  })
})

describe("anonInodeGetfile", () => {
  it("a File on the shared anon inode named anon_inode:NAME, released with its last reference", () => {
    const w = makeWorld()
    let released = 0
    const fop: FileOperations = { name: "test", release: () => void released++ }
    const f = ok(anonInodeGetfile(w.vfs, "[test]", fop, 42, O_RDWR | O_NONBLOCK | O_CLOEXEC, w.task.cred))
    expect(anonInodeDname(f)).toBe("anon_inode:[test]")
    expect(f.flags).toBe(O_RDWR | O_NONBLOCK)
    expect(f.privateData).toBe(42)
    expect(f.mnt.sb.type.magic).toBe(ANON_INODE_FS_MAGIC)
    const g = ok(anonInodeGetfile(w.vfs, "[other]", fop, 0, O_RDONLY, w.task.cred))
    expect(g.inode).toBe(f.inode)
    const fd = ok(w.task.files.install(f, false))
    g.put()
    expect(released).toBe(1)
    ok(close(w.task, fd))
    expect(released).toBe(2)
  })
})

/** A descriptor from an open that must not have had to wait. */
const okFd = (r: number | FifoOpenWait | import("@simkernel/abi").SysError): number => {
  if (r instanceof FifoOpenWait) throw new Error("the open would wait")
  return ok(r)
}

describe("FIFOs (mknod S_IFIFO, then ksysOpenat)", () => {
  it("O_NONBLOCK opens: a reader needs no writer (EOF, no POLLHUP until a writer came); a writer without reader is ENXIO", () => {
    const w = makeWorld()
    ok(mknodat(w.task, AT_FDCWD, "/f", S_IFIFO | 0o644, 0))
    expect(errnoOf(ksysOpenat(w.task, AT_FDCWD, "/f", O_WRONLY | O_NONBLOCK, 0))).toBe("ENXIO")
    const r = okFd(ksysOpenat(w.task, AT_FDCWD, "/f", O_RDONLY | O_NONBLOCK, 0))
    expect(ok(read(w.task, r, new Uint8Array(4)))).toBe(0)
    const rf = w.task.files.fdget(r)!
    expect(vfsPoll(rf)).toBe(0)
    const wr = okFd(ksysOpenat(w.task, AT_FDCWD, "/f", O_WRONLY | O_NONBLOCK, 0))
    expect(pipeFromFile(rf)).toBe(pipeFromFile(w.task.files.fdget(wr)!))
    ok(write(w.task, wr, enc("fifo")))
    const buf = new Uint8Array(10)
    expect(dec(buf.subarray(0, ok(read(w.task, r, buf))))).toBe("fifo")
    ok(close(w.task, wr))
    expect(vfsPoll(rf)).toBe(POLLHUP)
    expect(ok(fstat(w.task, r)).mode).toBe(S_IFIFO | 0o644)
  })

  it("blocking opens wait for the partner (ksysOpenat); O_RDWR never waits; the pipe goes with the last close", () => {
    const w = makeWorld()
    ok(mknodat(w.task, AT_FDCWD, "/f", S_IFIFO | 0o600, 0))
    const wait = ksysOpenat(w.task, AT_FDCWD, "/f", O_RDONLY, 0)
    expect(wait).toBeInstanceOf(FifoOpenWait)
    const fw = wait as FifoOpenWait
    expect(fw.ready()).toBe(false)
    let woken = 0
    const remove = fw.wq.add(() => void woken++)
    const wr = okFd(ksysOpenat(w.task, AT_FDCWD, "/f", O_WRONLY, 0))
    remove()
    expect(woken).toBeGreaterThan(0)
    expect(fw.ready()).toBe(true)
    const r = ok(fw.finish())
    ok(write(w.task, wr, enc("x")))
    const rw = okFd(ksysOpenat(w.task, AT_FDCWD, "/f", O_RDWR, 0))
    for (const fd of [r, wr, rw]) ok(close(w.task, fd))
    // a fresh pipe for the next opens: the byte left behind is gone
    const rw2 = okFd(ksysOpenat(w.task, AT_FDCWD, "/f", O_RDWR | O_NONBLOCK, 0))
    expect(errnoOf(read(w.task, rw2, new Uint8Array(1)))).toBe("EAGAIN")
    // a writer waiting for a reader, given up (a signal): the file is closed again
    const wwait = ksysOpenat(w.task, AT_FDCWD, "/g", O_WRONLY, 0)
    expect(errnoOf(wwait)).toBe("ENOENT")
    ok(close(w.task, rw2))
    const ww = ksysOpenat(w.task, AT_FDCWD, "/f", O_WRONLY, 0) as FifoOpenWait
    expect(ww).toBeInstanceOf(FifoOpenWait)
    ww.cancel()
    // the plain openat never sleeps and opens a FIFO as a file with no data path
    const r3 = ok(openat(w.task, AT_FDCWD, "/f", O_WRONLY, 0))
    expect(pipeFromFile(w.task.files.fdget(r3)!)).toBe(undefined)
  })
})

describe("pipe properties", () => {
  it("any sequence of non-blocking writes and reads keeps the byte order, never holds more than 16 pages, and writes of at most PIPE_BUF are all or nothing", () => {
    fc.assert(
      fc.property(
        fc.array(fc.oneof(fc.record({ w: fc.integer({ min: 1, max: 20000 }) }), fc.record({ r: fc.integer({ min: 1, max: 20000 }) })), { maxLength: 40 }),
        (ops) => {
          const w = createScenarioWorld()
          try {
            const [r, wr] = ok(pipe2(w.task, O_NONBLOCK))
            const pipe = pipeFromFile(w.task.files.fdget(r)!)!
            let next = 0
            let expectNext = 0
            for (const op of ops) {
              if ("w" in op) {
                const buf = new Uint8Array(op.w)
                for (let i = 0; i < buf.length; i++) buf[i] = (next + i) & 0xff
                const before = pipe.bytes
                const n = write(w.task, wr, buf)
                if (typeof n === "number") {
                  next += n
                  if (op.w <= PIPE_BUF) expect(n).toBe(op.w)
                  expect(pipe.bytes).toBe(before + n)
                } else expect(n.errno).toBe("EAGAIN")
                expect(pipe.bytes).toBeLessThanOrEqual(65536)
              } else {
                const buf = new Uint8Array(op.r)
                const n = read(w.task, r, buf)
                if (typeof n === "number") {
                  for (let i = 0; i < n; i++) expect(buf[i]).toBe((expectNext + i) & 0xff)
                  expectNext += n
                } else expect(n.errno).toBe("EAGAIN")
              }
            }
            expect(next - expectNext).toBe(pipe.bytes)
          } finally {
            w.destroy()
          }
          assertNoLeaks(w.registry)
        }
      ),
      { numRuns: 200 }
    )
  })
})
