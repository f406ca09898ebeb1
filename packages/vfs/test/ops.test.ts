import {
  AT_EMPTY_PATH,
  AT_FDCWD,
  AT_REMOVEDIR,
  AT_SYMLINK_FOLLOW,
  AT_SYMLINK_NOFOLLOW,
  F_DUPFD,
  F_DUPFD_CLOEXEC,
  F_GETFD,
  F_GETFL,
  F_SETFD,
  F_SETFL,
  FD_CLOEXEC,
  MS_BIND,
  MS_NOATIME,
  MS_NODEV,
  MS_NOEXEC,
  MS_RDONLY,
  MS_REMOUNT,
  O_APPEND,
  O_CLOEXEC,
  O_CREAT,
  O_DIRECTORY,
  O_EXCL,
  O_LARGEFILE,
  O_NONBLOCK,
  O_PATH,
  O_RDONLY,
  O_RDWR,
  O_WRONLY,
  RENAME_EXCHANGE,
  RENAME_NOREPLACE,
  RENAME_WHITEOUT,
  S_IFBLK,
  S_IFCHR,
  S_IFDIR,
  S_IFIFO,
  S_IFLNK,
  S_IFSOCK,
  SEEK_CUR,
  SEEK_DATA,
  SEEK_END,
  SEEK_HOLE,
  SEEK_SET,
  UTIME_NOW,
  UTIME_OMIT
} from "@simkernel/abi"
import {
  chdir,
  close,
  doMount,
  fchmodat,
  fchownat,
  FdTable,
  fstatat,
  ftruncate,
  getdents64,
  linkat,
  lseek,
  mkdev,
  mkdirat,
  mknodat,
  openat,
  pread,
  pwrite,
  read,
  readlinkat,
  renameat2,
  statx,
  symlinkat,
  unlinkat,
  utimensat,
  write
} from "@simkernel/vfs"
import { describe, expect, it } from "@effect/vitest"
import { asCred, dec, enc, errnoOf, expectErrno, makeWorld, ok, unprivileged, useWorlds } from "./helpers.js"

useWorlds()

const create = (w: ReturnType<typeof makeWorld>, path: string, mode = 0o644, data?: string) => {
  const fd = ok(openat(w.task, AT_FDCWD, path, O_CREAT | O_WRONLY, mode))
  if (data !== undefined) ok(write(w.task, fd, enc(data)))
  close(w.task, fd)
}
const typeOf = (w: ReturnType<typeof makeWorld>, p: string) => ok(fstatat(w.task, AT_FDCWD, p, AT_SYMLINK_NOFOLLOW)).mode & 0o170000

describe("mknodat, mkdirat, symlinkat", () => {
  it("mknodat: S_IFDIR EPERM, S_IFLNK/invalid EINVAL, type 0 a regular file, devices keep rdev", () => {
    const w = makeWorld()
    const t = w.task
    expectErrno(mknodat(t, AT_FDCWD, "/d", S_IFDIR | 0o755, 0), "EPERM")
    expectErrno(mknodat(t, AT_FDCWD, "/l", S_IFLNK | 0o777, 0), "EINVAL")
    expectErrno(mknodat(t, AT_FDCWD, "/x", 0o170000 | 0o644, 0), "EINVAL")
    ok(mknodat(t, AT_FDCWD, "/plain", 0o600, 0))
    ok(mknodat(t, AT_FDCWD, "/null", S_IFCHR | 0o666, mkdev(1, 3)))
    ok(mknodat(t, AT_FDCWD, "/blk", S_IFBLK | 0o600, mkdev(7, 0)))
    ok(mknodat(t, AT_FDCWD, "/fifo", S_IFIFO | 0o644, 0))
    ok(mknodat(t, AT_FDCWD, "/sock", S_IFSOCK | 0o644, 0))
    expect(typeOf(w, "/plain")).toBe(0o100000)
    expect(ok(fstatat(t, AT_FDCWD, "/null", 0)).rdev).toBe(mkdev(1, 3))
    expect(ok(fstatat(t, AT_FDCWD, "/null", 0)).mode & 0o7777).toBe(0o644)
    expectErrno(mknodat(t, AT_FDCWD, "/plain", 0o600, 0), "EEXIST")
    const fd = ok(openat(t, AT_FDCWD, "/null", O_RDWR, 0))
    expect(write(t, fd, enc("gone"))).toBe(4)
    expect(read(t, fd, new Uint8Array(4))).toBe(0)
    close(t, fd)
    expectErrno(openat(t, AT_FDCWD, "/blk", O_RDONLY, 0), "ENXIO")
    expectErrno(openat(t, AT_FDCWD, "/sock", O_RDONLY, 0), "ENXIO")
  })

  it("devices need CAP_MKNOD, and a nodev mount refuses to open them (EACCES)", () => {
    const w = makeWorld()
    const t = w.task
    ok(mkdirat(t, AT_FDCWD, "/nd", 0o777))
    ok(doMount(t, "nd", "/nd", "tmpfs", MS_NODEV | MS_NOEXEC, null))
    ok(mknodat(t, AT_FDCWD, "/nd/null", S_IFCHR | 0o666, mkdev(1, 3)))
    expectErrno(openat(t, AT_FDCWD, "/nd/null", O_RDONLY, 0), "EACCES")
    const cred = unprivileged(w)
    expectErrno(mknodat(asCred(w, cred), AT_FDCWD, "/nd/c", S_IFCHR | 0o666, mkdev(1, 3)), "EPERM")
    ok(mknodat(asCred(w, cred), AT_FDCWD, "/nd/fifo", S_IFIFO | 0o666, 0))
    cred.put()
  })

  it("mkdirat applies the umask and keeps the sticky bit; nlink counts subdirectories", () => {
    const w = makeWorld()
    const t = w.task
    ok(mkdirat(t, AT_FDCWD, "/d", 0o1777))
    expect(ok(fstatat(t, AT_FDCWD, "/d", 0)).mode & 0o7777).toBe(0o1755)
    ok(mkdirat(t, AT_FDCWD, "/d/a", 0o777))
    ok(mkdirat(t, AT_FDCWD, "/d/b", 0o777))
    expect(ok(fstatat(t, AT_FDCWD, "/d", 0)).nlink).toBe(4)
    expectErrno(mkdirat(t, AT_FDCWD, "/d/a/..", 0o755), "EEXIST")
    expectErrno(mkdirat(t, AT_FDCWD, "/", 0o755), "EEXIST")
  })

  it("symlinkat and readlinkat", () => {
    const w = makeWorld()
    const t = w.task
    expectErrno(symlinkat(t, "", AT_FDCWD, "/l"), "ENOENT")
    expectErrno(symlinkat(t, "x".repeat(4096), AT_FDCWD, "/l"), "ENAMETOOLONG")
    ok(symlinkat(t, "target", AT_FDCWD, "/l"))
    expect(ok(readlinkat(t, AT_FDCWD, "/l"))).toBe("target")
    expectErrno(readlinkat(t, AT_FDCWD, "/"), "EINVAL")
    expect(ok(fstatat(t, AT_FDCWD, "/l", AT_SYMLINK_NOFOLLOW)).size).toBe(6)
  })
})

describe("unlinkat, renameat2, linkat", () => {
  it("unlinkat and rmdir errors", () => {
    const w = makeWorld()
    const t = w.task
    ok(mkdirat(t, AT_FDCWD, "/d", 0o755))
    create(w, "/d/f")
    expectErrno(unlinkat(t, AT_FDCWD, "/d", 0), "EISDIR")
    expectErrno(unlinkat(t, AT_FDCWD, "/d", AT_REMOVEDIR), "ENOTEMPTY")
    expectErrno(unlinkat(t, AT_FDCWD, "/d/f", AT_REMOVEDIR), "ENOTDIR")
    expectErrno(unlinkat(t, AT_FDCWD, "/d/f/", 0), "ENOTDIR")
    expectErrno(unlinkat(t, AT_FDCWD, "/d/.", AT_REMOVEDIR), "EINVAL")
    expectErrno(unlinkat(t, AT_FDCWD, "/d/..", AT_REMOVEDIR), "ENOTEMPTY")
    expectErrno(unlinkat(t, AT_FDCWD, "/", AT_REMOVEDIR), "EBUSY")
    expectErrno(unlinkat(t, AT_FDCWD, "/d/nope", 0), "ENOENT")
    expectErrno(unlinkat(t, AT_FDCWD, "/d/f", 0x1), "EINVAL")
    ok(unlinkat(t, AT_FDCWD, "/d/f", 0))
    ok(unlinkat(t, AT_FDCWD, "/d", AT_REMOVEDIR))
    ok(mkdirat(t, AT_FDCWD, "/m", 0o755))
    ok(doMount(t, "m", "/m", "tmpfs", 0, null))
    expectErrno(unlinkat(t, AT_FDCWD, "/m", AT_REMOVEDIR), "EBUSY")
  })

  it("an unlinked open file keeps its data until closed", () => {
    const w = makeWorld()
    const t = w.task
    const fd = ok(openat(t, AT_FDCWD, "/f", O_CREAT | O_RDWR, 0o644))
    ok(write(t, fd, enc("abc")))
    ok(unlinkat(t, AT_FDCWD, "/f", 0))
    const buf = new Uint8Array(3)
    expect(pread(t, fd, buf, 0)).toBe(3)
    expect(dec(buf)).toBe("abc")
    expect(ok(fstatat(t, fd, "", AT_EMPTY_PATH)).nlink).toBe(0)
    close(t, fd)
  })

  it("a cwd in a removed directory cannot create anything (ENOENT)", () => {
    const w = makeWorld()
    const t = w.task
    ok(mkdirat(t, AT_FDCWD, "/gone", 0o755))
    ok(chdir(t, "/gone"))
    ok(unlinkat(t, AT_FDCWD, "/gone", AT_REMOVEDIR))
    expectErrno(mkdirat(t, AT_FDCWD, "x", 0o755), "ENOENT")
    expectErrno(getdents64(t, ok(openat(t, AT_FDCWD, ".", O_RDONLY, 0)), 4096), "ENOENT")
  })

  it("renameat2: NOREPLACE, EXCHANGE, directories into themselves, EXDEV", () => {
    const w = makeWorld()
    const t = w.task
    ok(mkdirat(t, AT_FDCWD, "/a", 0o755))
    ok(mkdirat(t, AT_FDCWD, "/a/b", 0o755))
    create(w, "/f", 0o644, "f")
    create(w, "/g", 0o644, "gg")
    expectErrno(renameat2(t, AT_FDCWD, "/a", AT_FDCWD, "/a/b/c", 0), "EINVAL")
    expectErrno(renameat2(t, AT_FDCWD, "/f", AT_FDCWD, "/g", RENAME_NOREPLACE), "EEXIST")
    expectErrno(renameat2(t, AT_FDCWD, "/f", AT_FDCWD, "/g", RENAME_NOREPLACE | RENAME_EXCHANGE), "EINVAL")
    expectErrno(renameat2(t, AT_FDCWD, "/f", AT_FDCWD, "/a", 0), "EISDIR")
    expectErrno(renameat2(t, AT_FDCWD, "/a", AT_FDCWD, "/f", 0), "ENOTDIR")
    expectErrno(renameat2(t, AT_FDCWD, "/a/b", AT_FDCWD, "/a", 0), "ENOTEMPTY")
    expectErrno(renameat2(t, AT_FDCWD, "/nope", AT_FDCWD, "/x", 0), "ENOENT")
    expectErrno(renameat2(t, AT_FDCWD, "/f", AT_FDCWD, "/nope", RENAME_EXCHANGE), "ENOENT")
    ok(renameat2(t, AT_FDCWD, "/f", AT_FDCWD, "/g", RENAME_EXCHANGE))
    expect(ok(fstatat(t, AT_FDCWD, "/f", 0)).size).toBe(2)
    ok(renameat2(t, AT_FDCWD, "/f", AT_FDCWD, "/g", 0))
    expectErrno(fstatat(t, AT_FDCWD, "/f", 0), "ENOENT")
    expect(ok(fstatat(t, AT_FDCWD, "/g", 0)).size).toBe(2)
    ok(renameat2(t, AT_FDCWD, "/a/b", AT_FDCWD, "/b", 0))
    expect(ok(fstatat(t, AT_FDCWD, "/a", 0)).nlink).toBe(2)
    ok(mkdirat(t, AT_FDCWD, "/m", 0o755))
    ok(doMount(t, "m", "/m", "tmpfs", 0, null))
    expectErrno(renameat2(t, AT_FDCWD, "/g", AT_FDCWD, "/m/g", 0), "EXDEV")
    expectErrno(renameat2(t, AT_FDCWD, "/m", AT_FDCWD, "/m2", 0), "EBUSY")
  })

  it("renameat2 answers as Linux 6.18 does on tmpfs", () => {
    const w = makeWorld()
    const t = w.task
    for (const d of ["/a", "/a/b", "/a/b/c"]) ok(mkdirat(t, AT_FDCWD, d, 0o755))
    create(w, "/f", 0o644, "f")
    create(w, "/g", 0o644, "gg")
    const r = (a: string, b: string, fl = 0) => errnoOf(renameat2(t, AT_FDCWD, a, AT_FDCWD, b, fl))
    expect([
      r("/a", "/a/b/c/x"),
      r("/a/b", "/a"),
      r("/a/b", "/a", RENAME_EXCHANGE),
      r("/a", "/a/b", RENAME_EXCHANGE),
      r("/f", "/a"),
      r("/a", "/f"),
      r("/f", "/f"),
      r("/f", "/g/"),
      r("/f/", "/h"),
      r("/f", "/h/"),
      r("/.", "/x"),
      r("/f", "/a/.."),
      r("/f", "/a/..", RENAME_NOREPLACE),
      r("/nope", "/x", RENAME_EXCHANGE),
      r("/f", "/nope", RENAME_EXCHANGE),
      r("/f", "/g", RENAME_NOREPLACE | RENAME_EXCHANGE),
      r("/f", "/g", 8)
    ]).toEqual(["EINVAL", "ENOTEMPTY", "EINVAL", "EINVAL", "EISDIR", "ENOTDIR", "ok", "ENOTDIR", "ENOTDIR", "ENOTDIR", "EBUSY", "EBUSY", "EEXIST", "ENOENT", "ENOENT", "EINVAL", "EINVAL"])
    expect(r("/a", "/h/")).toBe("ok")
    ok(linkat(t, AT_FDCWD, "/f", AT_FDCWD, "/fl", 0))
    expect(r("/f", "/fl")).toBe("ok")
    expect(errnoOf(fstatat(t, AT_FDCWD, "/f", 0))).toBe("ok")
    expect(r("/f", "/g", RENAME_WHITEOUT)).toBe("ok")
    const wh = ok(fstatat(t, AT_FDCWD, "/f", 0))
    expect([wh.mode, wh.rdev]).toEqual([S_IFCHR, 0])
  })

  it("linkat: same mount only, never directories, flags checked", () => {
    const w = makeWorld()
    const t = w.task
    create(w, "/f", 0o644, "x")
    ok(linkat(t, AT_FDCWD, "/f", AT_FDCWD, "/f2", 0))
    expect(ok(fstatat(t, AT_FDCWD, "/f", 0)).nlink).toBe(2)
    expectErrno(linkat(t, AT_FDCWD, "/f", AT_FDCWD, "/f2", 0), "EEXIST")
    expectErrno(linkat(t, AT_FDCWD, "/", AT_FDCWD, "/root2", 0), "EPERM")
    expectErrno(linkat(t, AT_FDCWD, "/f", AT_FDCWD, "/f3", 0x1), "EINVAL")
    ok(symlinkat(t, "/f", AT_FDCWD, "/sl"))
    ok(linkat(t, AT_FDCWD, "/sl", AT_FDCWD, "/hl", AT_SYMLINK_FOLLOW))
    expect(typeOf(w, "/hl")).toBe(0o100000)
    ok(mkdirat(t, AT_FDCWD, "/b", 0o755))
    ok(doMount(t, "/", "/b", null, MS_BIND, null))
    expectErrno(linkat(t, AT_FDCWD, "/f", AT_FDCWD, "/b/f4", 0), "EXDEV")
    const cred = unprivileged(w)
    // fs.protected_hardlinks: a file the caller may not write cannot be linked
    expectErrno(linkat(asCred(w, cred), AT_FDCWD, "/f", AT_FDCWD, "/f5", 0), "EPERM")
    cred.put()
  })
})

describe("files: read, write, seek, getdents64", () => {
  it("reads and writes with positions, holes read as zeros, O_APPEND appends", () => {
    const w = makeWorld()
    const t = w.task
    const fd = ok(openat(t, AT_FDCWD, "/f", O_CREAT | O_RDWR, 0o644))
    expect(write(t, fd, enc("hello"))).toBe(5)
    expect(lseek(t, fd, 0, SEEK_CUR)).toBe(5)
    expect(pwrite(t, fd, enc("X"), 10)).toBe(1)
    const buf = new Uint8Array(11)
    expect(pread(t, fd, buf, 0)).toBe(11)
    expect([...buf.subarray(5, 10)]).toEqual([0, 0, 0, 0, 0])
    expect(lseek(t, fd, -1, SEEK_END)).toBe(10)
    expect(lseek(t, fd, 3, SEEK_DATA)).toBe(3)
    expect(lseek(t, fd, 3, SEEK_HOLE)).toBe(11)
    expectErrno(lseek(t, fd, 11, SEEK_DATA), "ENXIO")
    expectErrno(lseek(t, fd, -20, SEEK_SET), "EINVAL")
    expectErrno(lseek(t, fd, 0, 9), "EINVAL")
    ok(ftruncate(t, fd, 2))
    expect(ok(fstatat(t, fd, "", AT_EMPTY_PATH)).size).toBe(2)
    ok(ftruncate(t, fd, 100000))
    expect(pread(t, fd, new Uint8Array(10), 99990)).toBe(10)
    expectErrno(ftruncate(t, fd, -1), "EINVAL")
    close(t, fd)
    const ap = ok(openat(t, AT_FDCWD, "/f", O_WRONLY | O_APPEND, 0))
    ok(write(t, ap, enc("!")))
    expect(ok(fstatat(t, AT_FDCWD, "/f", 0)).size).toBe(100001)
    close(t, ap)
    const ro = ok(openat(t, AT_FDCWD, "/f", O_RDONLY, 0))
    expectErrno(write(t, ro, enc("x")), "EBADF")
    expectErrno(ftruncate(t, ro, 0), "EINVAL")
    close(t, ro)
    const dir = ok(openat(t, AT_FDCWD, "/", O_RDONLY, 0))
    expectErrno(read(t, dir, buf), "EISDIR")
    close(t, dir)
  })

  it("O_PATH files refuse read and write with EBADF", () => {
    const w = makeWorld()
    const t = w.task
    create(w, "/f", 0o644, "x")
    const fd = ok(openat(t, AT_FDCWD, "/f", O_PATH, 0))
    expectErrno(read(t, fd, new Uint8Array(1)), "EBADF")
    expectErrno(write(t, fd, enc("x")), "EBADF")
    expect(t.files.fcntl(fd, F_GETFL, 0)).toBe(O_PATH)
    close(t, fd)
  })

  it("getdents64 lists . and .., then entries, in as many calls as needed", () => {
    const w = makeWorld()
    const t = w.task
    for (let i = 0; i < 50; i++) create(w, `/file-${i}`)
    const fd = ok(openat(t, AT_FDCWD, "/", O_RDONLY | O_DIRECTORY, 0))
    expectErrno(getdents64(t, fd, 10), "EINVAL")
    const names: Array<string> = []
    for (;;) {
      const ents = ok(getdents64(t, fd, 256))
      if (ents.length === 0) break
      names.push(...ents.map((e) => e.name))
    }
    expect(names.length).toBe(52)
    expect(names.slice(0, 2)).toEqual([".", ".."])
    close(t, fd)
  })

  it("open errors: EEXIST, EISDIR, ENOTDIR, EACCES, EROFS", () => {
    const w = makeWorld()
    const t = w.task
    create(w, "/f", 0o600)
    expectErrno(openat(t, AT_FDCWD, "/f", O_CREAT | O_EXCL | O_WRONLY, 0o644), "EEXIST")
    expectErrno(openat(t, AT_FDCWD, "/", O_WRONLY, 0), "EISDIR")
    expectErrno(openat(t, AT_FDCWD, "/", O_CREAT | O_RDONLY, 0o644), "EISDIR")
    expectErrno(openat(t, AT_FDCWD, "/f", O_RDONLY | O_DIRECTORY, 0), "ENOTDIR")
    const cred = unprivileged(w)
    expectErrno(openat(asCred(w, cred), AT_FDCWD, "/f", O_RDONLY, 0), "EACCES")
    cred.put()
    ok(mkdirat(t, AT_FDCWD, "/ro", 0o755))
    ok(doMount(t, "/", "/ro", null, MS_BIND, null))
    ok(doMount(t, null, "/ro", null, MS_REMOUNT | MS_BIND | MS_RDONLY, null))
    expectErrno(openat(t, AT_FDCWD, "/ro/f", O_WRONLY, 0), "EROFS")
    expectErrno(openat(t, AT_FDCWD, "/ro/new", O_CREAT | O_WRONLY, 0o644), "EROFS")
    close(t, ok(openat(t, AT_FDCWD, "/ro/f", O_RDONLY, 0)))
    const nb = ok(openat(t, AT_FDCWD, "/f", O_RDONLY | O_NONBLOCK, 0))
    expect(t.files.fcntl(nb, F_GETFL, 0)).toBe(O_LARGEFILE | O_NONBLOCK)
  })
})

describe("FdTable", () => {
  it("hands out the lowest free fd and implements dup/dup2/dup3/fcntl", () => {
    const w = makeWorld()
    const t = w.task
    const a = ok(openat(t, AT_FDCWD, "/", O_RDONLY, 0))
    const b = ok(openat(t, AT_FDCWD, "/", O_RDONLY | O_CLOEXEC, 0))
    expect([a, b]).toEqual([0, 1])
    expect(t.files.fcntl(b, F_GETFD, 0)).toBe(FD_CLOEXEC)
    close(t, a)
    expect(ok(t.files.dup(b))).toBe(0)
    expect(t.files.fcntl(0, F_GETFD, 0)).toBe(0)
    expect(ok(t.files.fcntl(b, F_DUPFD, 10))).toBe(10)
    expect(ok(t.files.fcntl(b, F_DUPFD_CLOEXEC, 10))).toBe(11)
    expect(t.files.fcntl(11, F_GETFD, 0)).toBe(FD_CLOEXEC)
    ok(t.files.fcntl(11, F_SETFD, 0))
    expect(t.files.fcntl(11, F_GETFD, 0)).toBe(0)
    expect(ok(t.files.dup3(b, 20, O_CLOEXEC))).toBe(20)
    expectErrno(t.files.dup3(b, b, 0), "EINVAL")
    expect(ok(t.files.dup2(b, b))).toBe(b)
    expectErrno(t.files.dup3(b, 21, 0x1), "EINVAL")
    expectErrno(t.files.dup2(99, 5), "EBADF")
    expectErrno(t.files.dup3(b, -1, 0), "EBADF")
    expectErrno(t.files.fcntl(99, F_GETFD, 0), "EBADF")
    expectErrno(t.files.fcntl(b, F_DUPFD, -1), "EINVAL")
    ok(t.files.fcntl(b, F_SETFL, O_APPEND | O_NONBLOCK | O_RDWR))
    expect(t.files.fcntl(b, F_GETFL, 0)).toBe(O_LARGEFILE | O_APPEND | O_NONBLOCK)
    expectErrno(t.files.close(99), "EBADF")
    const copy = t.files.copy()
    copy.closeOnExec()
    expect(copy.openFds()).toEqual([0, 10, 11])
    copy.put()
  })

  it("gives EMFILE at RLIMIT_NOFILE", () => {
    const w = makeWorld()
    const t = { ...w.task, nofile: 3 }
    for (let i = 0; i < 3; i++) ok(openat(t, AT_FDCWD, "/", O_RDONLY, 0))
    expectErrno(openat(t, AT_FDCWD, "/", O_RDONLY, 0), "EMFILE")
    expectErrno(t.files.fcntl(0, F_DUPFD, 5, 3), "EINVAL")
    const table = new FdTable(w.registry)
    table.put()
  })
})

describe("attributes and permissions", () => {
  it("chmod needs ownership; chown needs CAP_CHOWN; setgid is dropped for non-members", () => {
    const w = makeWorld()
    const t = w.task
    create(w, "/f", 0o644)
    ok(fchownat(t, AT_FDCWD, "/f", 1000, 1000, 0))
    const cred = unprivileged(w)
    const u = asCred(w, cred)
    ok(fchmodat(u, AT_FDCWD, "/f", 0o2755))
    expect(ok(fstatat(t, AT_FDCWD, "/f", 0)).mode & 0o7777).toBe(0o2755)
    expectErrno(fchownat(u, AT_FDCWD, "/f", 0, -1, 0), "EPERM")
    expectErrno(fchownat(u, AT_FDCWD, "/f", -1, 0, 0), "EPERM")
    ok(fchownat(u, AT_FDCWD, "/f", -1, 1000, 0))
    ok(fchownat(t, AT_FDCWD, "/f", -1, 5, 0))
    expect(ok(fstatat(t, AT_FDCWD, "/f", 0)).mode & 0o7777).toBe(0o755)
    ok(fchmodat(u, AT_FDCWD, "/f", 0o2755))
    expect(ok(fstatat(t, AT_FDCWD, "/f", 0)).mode & 0o7777).toBe(0o755)
    expectErrno(fchmodat(u, AT_FDCWD, "/", 0o777), "EPERM")
    ok(symlinkat(t, "/f", AT_FDCWD, "/l"))
    expectErrno(fchmodat(t, AT_FDCWD, "/l", 0o777, AT_SYMLINK_NOFOLLOW), "EOPNOTSUPP")
    cred.put()
  })

  it("the sticky bit protects other users' files", () => {
    const w = makeWorld()
    const t = w.task
    ok(mkdirat(t, AT_FDCWD, "/tmp", 0o1777))
    ok(fchmodat(t, AT_FDCWD, "/tmp", 0o1777))
    const alice = unprivileged(w, 1000, 1000)
    const bob = unprivileged(w, 1001, 1001)
    close(t, ok(openat(asCred(w, alice), AT_FDCWD, "/tmp/a", O_CREAT | O_WRONLY, 0o666)))
    expectErrno(unlinkat(asCred(w, bob), AT_FDCWD, "/tmp/a", 0), "EPERM")
    expectErrno(renameat2(asCred(w, bob), AT_FDCWD, "/tmp/a", AT_FDCWD, "/tmp/b", 0), "EPERM")
    ok(unlinkat(asCred(w, alice), AT_FDCWD, "/tmp/a", 0))
    alice.put()
    bob.put()
  })

  it("group and other bits decide for non-owners; CAP_DAC_OVERRIDE does not execute without an x bit", () => {
    const w = makeWorld()
    const t = w.task
    create(w, "/g", 0o640)
    ok(fchownat(t, AT_FDCWD, "/g", 0, 50, 0))
    const member = unprivileged(w, 1000, 1000, [50])
    const other = unprivileged(w, 1001, 1001)
    close(t, ok(openat(asCred(w, member), AT_FDCWD, "/g", O_RDONLY, 0)))
    expectErrno(openat(asCred(w, member), AT_FDCWD, "/g", O_WRONLY, 0), "EACCES")
    expectErrno(openat(asCred(w, other), AT_FDCWD, "/g", O_RDONLY, 0), "EACCES")
    member.put()
    other.put()
  })

  it("utimensat: explicit times need ownership, UTIME_NOW needs write access", () => {
    const w = makeWorld()
    const t = w.task
    create(w, "/f")
    ok(fchmodat(t, AT_FDCWD, "/f", 0o666))
    ok(utimensat(t, AT_FDCWD, "/f", [{ sec: 5, nsec: 6 }, { sec: 7, nsec: UTIME_OMIT }], 0))
    const st = ok(fstatat(t, AT_FDCWD, "/f", 0))
    expect([st.atimeSec, st.atimeNsec]).toEqual([5, 6])
    const cred = unprivileged(w)
    expectErrno(utimensat(asCred(w, cred), AT_FDCWD, "/f", [{ sec: 1, nsec: 0 }, { sec: 1, nsec: 0 }], 0), "EPERM")
    ok(utimensat(asCred(w, cred), AT_FDCWD, "/f", [{ sec: 0, nsec: UTIME_NOW }, { sec: 0, nsec: UTIME_NOW }], 0))
    expectErrno(utimensat(t, AT_FDCWD, "/f", [{ sec: 0, nsec: 2e9 }, { sec: 0, nsec: 0 }], 0), "EINVAL")
    cred.put()
  })

  it("atime follows relatime, strictatime and noatime", () => {
    const w = makeWorld()
    const t = w.task
    const clock = w.clock as unknown as { advance(ns: number): void }
    create(w, "/f", 0o644, "data")
    const atime = () => ok(fstatat(t, AT_FDCWD, "/f", 0)).atimeSec
    const readOnce = () => {
      const fd = ok(openat(t, AT_FDCWD, "/f", O_RDONLY, 0))
      ok(read(t, fd, new Uint8Array(4)))
      close(t, fd)
    }
    const t0 = atime()
    clock.advance(10e9)
    readOnce()
    expect(atime()).toBe(t0 + 10)
    clock.advance(10e9)
    readOnce()
    expect(atime()).toBe(t0 + 10)
    clock.advance(86400e9)
    readOnce()
    expect(atime()).toBe(t0 + 86420)
    ok(doMount(t, null, "/", null, MS_REMOUNT | MS_NOATIME, null))
    clock.advance(86400e9)
    readOnce()
    expect(atime()).toBe(t0 + 86420)
  })

  it("statx reports the basic stats and the mount id", () => {
    const w = makeWorld()
    const t = w.task
    const st = ok(statx(t, AT_FDCWD, "/", 0, 0xfff))
    expect(st.mntId).toBe(t.fs.root.mnt.mntId)
    expectErrno(statx(t, AT_FDCWD, "/", 0x6000, 0), "EINVAL")
    expectErrno(statx(t, AT_FDCWD, "/", 0, 0x80000000), "EINVAL")
    expect(errnoOf(ok(doMount(t, null, "/", null, MS_REMOUNT | MS_RDONLY, null)))).toBe("ok")
  })
})
