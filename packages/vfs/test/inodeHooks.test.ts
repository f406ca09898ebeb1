import { AT_FDCWD, AT_REMOVEDIR, MS_BIND, MS_RDONLY, MS_REMOUNT, O_CREAT, O_RDONLY, O_RDWR, O_WRONLY, sysError } from "@simkernel/abi"
import { createUserNs, credFromDraft, prepareCreds, type NsCommon } from "@simkernel/cred"
import {
  close,
  doMount,
  fstatat,
  type InodeOperations,
  ksysUmount,
  linkat,
  filenameLookup,
  mkdirat,
  mknodat,
  nsFromFile,
  nsGetPath,
  openat,
  readlinkat,
  renameat2,
  symlinkat,
  unlinkat,
  type VfsWorld,
  write
} from "@simkernel/vfs"
import { describe, expect, it } from "@effect/vitest"
import { Effect } from "effect"
import { asCred, enc, errnoOf, expectErrno, makeWorld, mountinfo, ok, unprivileged, useWorlds } from "./helpers.js"

useWorlds()

/** The inode at `path` (no following), for a test to give it operations. */
const inodeAt = (w: VfsWorld, path: string) => ok(filenameLookup(w.task, AT_FDCWD, path, 0)).dentry.inode

/** A new user namespace, for a namespace whose life a test can watch (the caller's reference). */
const newUserNs = (w: VfsWorld): NsCommon => {
  const draft = prepareCreds(w.task.cred)
  Effect.runSync(createUserNs(draft))
  const cred = credFromDraft(draft)
  const ns = cred.userNs.get()
  cred.put()
  return ns
}

describe("a directory with fixed entries", () => {
  it("refuses unlink, rmdir and rename of its entries (EPERM) after may_delete()'s checks", () => {
    const w = makeWorld()
    const t = w.task
    ok(mkdirat(t, AT_FDCWD, "/d", 0o755) ?? 0)
    ok(mkdirat(t, AT_FDCWD, "/d/sub", 0o755) ?? 0)
    close(t, ok(openat(t, AT_FDCWD, "/d/f", O_CREAT | O_WRONLY, 0o644)))
    inodeAt(w, "/d").iop = { fixedEntries: true }
    expectErrno(unlinkat(t, AT_FDCWD, "/d/f", 0), "EPERM")
    expectErrno(unlinkat(t, AT_FDCWD, "/d/sub", AT_REMOVEDIR), "EPERM")
    expectErrno(renameat2(t, AT_FDCWD, "/d/f", AT_FDCWD, "/d/g", 0), "EPERM")
    expectErrno(renameat2(t, AT_FDCWD, "/d/f", AT_FDCWD, "/moved", 0), "EPERM")
    // may_delete() comes first: a missing name is ENOENT, a directory for unlink EISDIR
    expectErrno(unlinkat(t, AT_FDCWD, "/d/none", 0), "ENOENT")
    expectErrno(unlinkat(t, AT_FDCWD, "/d/sub", 0), "EISDIR")
    expect(ok(fstatat(t, AT_FDCWD, "/d/f", 0)).nlink).toBe(1)
  })
})

describe("an inode's ->open", () => {
  it("may refuse: open(2) returns its errno and no fd or file is left; O_PATH does not call it", () => {
    const w = makeWorld()
    const t = w.task
    close(t, ok(openat(t, AT_FDCWD, "/f", O_CREAT | O_WRONLY, 0o644)))
    const seen: Array<number> = []
    const iop: InodeOperations = {
      open: (file) => {
        seen.push(file.flags & 3)
        return file.canWrite ? sysError("EPERM") : undefined
      }
    }
    inodeAt(w, "/f").iop = iop
    expectErrno(openat(t, AT_FDCWD, "/f", O_WRONLY, 0), "EPERM")
    expectErrno(openat(t, AT_FDCWD, "/f", O_RDWR, 0), "EPERM")
    const fd = ok(openat(t, AT_FDCWD, "/f", O_RDONLY, 0))
    close(t, fd)
    close(t, ok(openat(t, AT_FDCWD, "/f", 0o10000000, 0)))
    expect(seen).toEqual([O_WRONLY, O_RDWR, O_RDONLY])
    expect(inodeAt(w, "/f").opens).toBe(0)
  })
})

describe("an inode's ->permission", () => {
  it("replaces the mode bits for the walk and for open, with its own errno", () => {
    const w = makeWorld()
    const t = w.task
    ok(mkdirat(t, AT_FDCWD, "/d", 0o777) ?? 0)
    close(t, ok(openat(t, AT_FDCWD, "/d/f", O_CREAT | O_WRONLY, 0o666)))
    inodeAt(w, "/d").iop = { permission: () => sysError("EPERM") }
    expectErrno(openat(t, AT_FDCWD, "/d/f", O_RDONLY, 0), "EPERM")
    expectErrno(openat(t, AT_FDCWD, "/d", O_RDONLY, 0), "EPERM")
    inodeAt(w, "/d").iop = { permission: () => undefined }
    close(t, ok(openat(t, AT_FDCWD, "/d/f", O_RDONLY, 0)))
  })
})

describe("a directory's lookup error", () => {
  it("makes every way of creating a missing name fail with it, before EROFS or permission; existing names stay EEXIST", () => {
    const w = makeWorld()
    const t = w.task
    ok(mkdirat(t, AT_FDCWD, "/d", 0o755) ?? 0)
    close(t, ok(openat(t, AT_FDCWD, "/d/there", O_CREAT | O_WRONLY, 0o644)))
    inodeAt(w, "/d").iop = { lookupError: () => sysError("ENOENT") }
    expectErrno(openat(t, AT_FDCWD, "/d/new", O_CREAT | O_WRONLY, 0o644), "ENOENT")
    expectErrno(mkdirat(t, AT_FDCWD, "/d/new", 0o755), "ENOENT")
    expectErrno(mknodat(t, AT_FDCWD, "/d/new", 0o10644, 0), "ENOENT")
    expectErrno(symlinkat(t, "x", AT_FDCWD, "/d/new"), "ENOENT")
    expectErrno(linkat(t, AT_FDCWD, "/d/there", AT_FDCWD, "/d/new", 0), "ENOENT")
    expectErrno(mkdirat(t, AT_FDCWD, "/d/there", 0o755), "EEXIST")
    close(t, ok(openat(t, AT_FDCWD, "/d/there", O_CREAT | O_WRONLY, 0o644)))
    // through a read-only bind mount, and for a caller without write permission, the lookup still answers first
    ok(mkdirat(t, AT_FDCWD, "/ro", 0o755) ?? 0)
    ok(doMount(t, "/d", "/ro", null, MS_BIND, null) ?? 0)
    ok(doMount(t, null, "/ro", null, MS_REMOUNT | MS_BIND | MS_RDONLY, null) ?? 0)
    expectErrno(openat(t, AT_FDCWD, "/ro/new", O_CREAT | O_WRONLY, 0o644), "ENOENT")
    expectErrno(mkdirat(t, AT_FDCWD, "/ro/new", 0o755), "ENOENT")
    expectErrno(mkdirat(t, AT_FDCWD, "/ro/there", 0o755), "EEXIST")
    const user = unprivileged(w)
    expectErrno(openat(asCred(w, user), AT_FDCWD, "/d/new", O_CREAT | O_WRONLY, 0o644), "ENOENT")
    user.put()
    ok(ksysUmount(t, "/ro", 0) ?? 0)
  })
})

describe("nsfs paths", () => {
  /** Make /link a magic link to `ns`'s nsfs file, as /proc/PID/ns/KIND is. */
  const nsLink = (w: VfsWorld, ns: NsCommon): void => {
    ok(symlinkat(w.task, "unused", AT_FDCWD, "/link") ?? 0)
    inodeAt(w, "/link").iop = { getLink: () => nsGetPath(w.vfs, ns, w.task.cred) }
  }

  it("a magic link to one opens the namespace file, reads as its d_dname(), and writing it is EPERM", () => {
    const w = makeWorld()
    const t = w.task
    const ns = newUserNs(w)
    nsLink(w, ns)
    expect(readlinkat(t, AT_FDCWD, "/link")).toBe(`user:[${ns.inum}]`)
    const fd = ok(openat(t, AT_FDCWD, "/link", O_RDONLY, 0))
    expect(nsFromFile(t.files.fdget(fd)!)).toBe(ns)
    expect(ok(fstatat(t, AT_FDCWD, "/link", 0)).ino).toBe(ns.inum)
    expectErrno(openat(t, AT_FDCWD, "/link", O_WRONLY, 0), "EPERM")
    expectErrno(write(t, fd, enc("x")), "EBADF")
    close(t, fd)
    ns.put()
    expect(ns.freed).toBe(true)
  })

  it("a bind mount of one holds the namespace until it is unmounted, shows in mountinfo as nsfs, and opens as the namespace", () => {
    const w = makeWorld()
    const t = w.task
    const ns = newUserNs(w)
    nsLink(w, ns)
    close(t, ok(openat(t, AT_FDCWD, "/bound", O_CREAT | O_WRONLY, 0o644)))
    expect(doMount(t, "/link", "/bound", null, MS_BIND, null)).toBeUndefined()
    ns.put()
    expect(ns.freed).toBe(false)
    expect(mountinfo(w)).toMatch(new RegExp(`\\n\\d+ \\d+ 0:\\d+ user:\\[${ns.inum}\\] /bound rw - nsfs nsfs rw\\n`))
    const fd = ok(openat(t, AT_FDCWD, "/bound", O_RDONLY, 0))
    expect(nsFromFile(t.files.fdget(fd)!)).toBe(ns)
    close(t, fd)
    // a directory cannot be bound over with it (ENOTDIR), and the source must resolve
    ok(mkdirat(t, AT_FDCWD, "/dir", 0o755) ?? 0)
    expectErrno(doMount(t, "/bound", "/dir", null, MS_BIND, null), "ENOTDIR")
    expect(errnoOf(ksysUmount(t, "/bound", 0))).toBe("ok")
    expect(ns.freed).toBe(true)
  })
})
