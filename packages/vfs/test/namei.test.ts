import {
  AT_EMPTY_PATH,
  AT_FDCWD,
  AT_SYMLINK_NOFOLLOW,
  O_CREAT,
  O_DIRECTORY,
  O_NOFOLLOW,
  O_PATH,
  O_RDONLY,
  O_RDWR,
  O_WRONLY,
  RESOLVE_BENEATH,
  RESOLVE_IN_ROOT,
  RESOLVE_NO_MAGICLINKS,
  RESOLVE_NO_SYMLINKS,
  RESOLVE_NO_XDEV,
  RESOLVE_CACHED,
  O_TRUNC,
  O_TMPFILE,
  AT_REMOVEDIR,
  sysError
} from "@simkernel/abi"
import {
  chdir,
  chroot,
  close,
  doMount,
  fchdir,
  fstatat,
  getcwd,
  unlinkat,
  mkdirat,
  openat,
  openat2,
  readlinkat,
  symlinkat,
  type FileOperations
} from "@simkernel/vfs"
import { describe, expect, it } from "@effect/vitest"
import { errnoOf, expectErrno, makeWorld, ok, unprivileged, useWorlds } from "./helpers.js"

useWorlds()

describe("path walk (fs/namei.c)", () => {
  it("resolves . and .. and never climbs above the root", () => {
    const w = makeWorld()
    const t = w.task
    ok(mkdirat(t, AT_FDCWD, "/a", 0o755))
    ok(mkdirat(t, AT_FDCWD, "/a/b", 0o755))
    const root = ok(fstatat(t, AT_FDCWD, "/", 0))
    expect(ok(fstatat(t, AT_FDCWD, "/../../..", 0)).ino).toBe(root.ino)
    expect(ok(fstatat(t, AT_FDCWD, "/a/b/../.././a/./b", 0)).ino).toBe(ok(fstatat(t, AT_FDCWD, "/a/b", 0)).ino)
    ok(chroot(t, "/a"))
    expect(ok(fstatat(t, AT_FDCWD, "/../..", 0)).ino).toBe(ok(fstatat(t, AT_FDCWD, "/", 0)).ino)
    expect(ok(fstatat(t, AT_FDCWD, "/b", 0)).mode & 0o170000).toBe(0o040000)
  })

  it(".. at a mount root climbs to the mountpoint's parent", () => {
    const w = makeWorld()
    const t = w.task
    ok(mkdirat(t, AT_FDCWD, "/m", 0o755))
    ok(mkdirat(t, AT_FDCWD, "/m/under", 0o755))
    ok(doMount(t, "x", "/m", "tmpfs", 0, null))
    ok(mkdirat(t, AT_FDCWD, "/m/sub", 0o755))
    ok(chdir(t, "/m/sub"))
    const up = ok(fstatat(t, AT_FDCWD, "../..", 0))
    expect(up.ino).toBe(ok(fstatat(t, AT_FDCWD, "/", 0)).ino)
    expect(errnoOf(fstatat(t, AT_FDCWD, "/m/under", 0))).toBe("ENOENT")
  })

  it("absolute paths ignore the dirfd; relative ones need a directory dirfd", () => {
    const w = makeWorld()
    const t = w.task
    const f = ok(openat(t, AT_FDCWD, "/file", O_CREAT | O_WRONLY, 0o644))
    ok(mkdirat(t, -1, "/x1", 0o755))
    ok(mkdirat(t, 9999, "/x2", 0o755))
    ok(mkdirat(t, f, "/x3", 0o755))
    expectErrno(mkdirat(t, -1, "rel", 0o755), "EBADF")
    expectErrno(mkdirat(t, f, "rel", 0o755), "ENOTDIR")
    expectErrno(fstatat(t, AT_FDCWD, "", 0), "ENOENT")
    expect(errnoOf(fstatat(t, f, "", AT_EMPTY_PATH))).toBe("ok")
    close(t, f)
  })

  it("follows symlinks up to 40, then ELOOP; O_NOFOLLOW and AT_SYMLINK_NOFOLLOW stop at the link", () => {
    const w = makeWorld()
    const t = w.task
    ok(mkdirat(t, AT_FDCWD, "/d", 0o755))
    ok(symlinkat(t, "/d", AT_FDCWD, "/l0"))
    for (let i = 1; i <= 41; i++) ok(symlinkat(t, `/l${i - 1}`, AT_FDCWD, `/l${i}`))
    expect(errnoOf(fstatat(t, AT_FDCWD, "/l39", 0))).toBe("ok")
    expectErrno(fstatat(t, AT_FDCWD, "/l40", 0), "ELOOP")
    expect(ok(fstatat(t, AT_FDCWD, "/l40", AT_SYMLINK_NOFOLLOW)).mode & 0o170000).toBe(0o120000)
    ok(symlinkat(t, "loop", AT_FDCWD, "/loop"))
    expectErrno(openat(t, AT_FDCWD, "/loop", O_RDONLY, 0), "ELOOP")
    expectErrno(openat(t, AT_FDCWD, "/l0", O_RDONLY | O_NOFOLLOW, 0), "ELOOP")
    const p = ok(openat(t, AT_FDCWD, "/l0", O_PATH | O_NOFOLLOW, 0))
    expect(ok(readlinkat(t, p, ""))).toBe("/d")
    close(t, p)
    ok(symlinkat(t, "d", AT_FDCWD, "/rel"))
    expect(ok(fstatat(t, AT_FDCWD, "/rel/", 0)).mode & 0o170000).toBe(0o040000)
  })

  it("trailing slashes demand a directory", () => {
    const w = makeWorld()
    const t = w.task
    close(t, ok(openat(t, AT_FDCWD, "/f", O_CREAT | O_WRONLY, 0o644)))
    expectErrno(fstatat(t, AT_FDCWD, "/f/", 0), "ENOTDIR")
    expectErrno(openat(t, AT_FDCWD, "/new/", O_CREAT | O_WRONLY, 0o644), "EISDIR")
    ok(mkdirat(t, AT_FDCWD, "/dir/", 0o755))
    expectErrno(fstatat(t, AT_FDCWD, "/f/x", 0), "ENOTDIR")
  })

  it("ENAMETOOLONG for a component over 255 bytes or a path of 4096", () => {
    const w = makeWorld()
    const t = w.task
    expectErrno(mkdirat(t, AT_FDCWD, "/" + "a".repeat(256), 0o755), "ENAMETOOLONG")
    ok(mkdirat(t, AT_FDCWD, "/" + "a".repeat(255), 0o755))
    expectErrno(fstatat(t, AT_FDCWD, "/" + "b".repeat(256), 0), "ENAMETOOLONG")
    expectErrno(fstatat(t, AT_FDCWD, "/" + "a/".repeat(2048), 0), "ENAMETOOLONG")
  })

  it("search permission is needed on every directory of the path", () => {
    const w = makeWorld()
    const t = w.task
    ok(mkdirat(t, AT_FDCWD, "/locked", 0o700))
    ok(mkdirat(t, AT_FDCWD, "/locked/in", 0o755))
    const nobody = { ...t, cred: unprivileged(w) }
    expectErrno(fstatat(nobody, AT_FDCWD, "/locked/in", 0), "EACCES")
    expect(errnoOf(fstatat(t, AT_FDCWD, "/locked/in", 0))).toBe("ok")
    nobody.cred.put()
  })
})

describe("getcwd", () => {
  it("is relative to the root, ENOENT once removed, (unreachable) outside the root (as Linux 6.18)", () => {
    const w = makeWorld()
    const t = w.task
    for (const d of ["/jail", "/out", "/out/deep"]) ok(mkdirat(t, AT_FDCWD, d, 0o755))
    ok(chdir(t, "/out/deep"))
    expect(getcwd(t)).toBe("/out/deep")
    const jail = ok(openat(t, AT_FDCWD, "/jail", O_RDONLY, 0))
    ok(chroot(t, "/jail"))
    expect(getcwd(t)).toBe("(unreachable)/out/deep")
    ok(fchdir(t, jail))
    expect(getcwd(t)).toBe("/")
    ok(mkdirat(t, AT_FDCWD, "/sub", 0o755))
    ok(chdir(t, "/sub"))
    expect(getcwd(t)).toBe("/sub")
    ok(unlinkat(t, AT_FDCWD, "/sub", AT_REMOVEDIR))
    expectErrno(getcwd(t), "ENOENT")
    close(t, jail)
  })
})

describe("openat2 resolve flags", () => {
  it("checks the struct size and flags", () => {
    const w = makeWorld()
    const t = w.task
    expectErrno(openat2(t, AT_FDCWD, "/", { flags: O_RDONLY, mode: 0, resolve: 0 }, 16), "EINVAL")
    expectErrno(openat2(t, AT_FDCWD, "/", { flags: O_RDONLY, mode: 0, resolve: 0 }, 8192), "E2BIG")
    expectErrno(openat2(t, AT_FDCWD, "/", { flags: O_RDONLY, mode: 0, resolve: 0 }, 32, new Uint8Array([0, 0, 1, 0, 0, 0, 0, 0])), "E2BIG")
    close(t, ok(openat2(t, AT_FDCWD, "/", { flags: O_RDONLY, mode: 0, resolve: 0 }, 32, new Uint8Array(8))))
    expectErrno(openat2(t, AT_FDCWD, "/", { flags: O_RDONLY, mode: 0o644, resolve: 0 }), "EINVAL")
    expectErrno(openat2(t, AT_FDCWD, "/", { flags: O_RDONLY | 0x40000000, mode: 0, resolve: 0 }), "EINVAL")
    expectErrno(openat2(t, AT_FDCWD, "/", { flags: O_RDONLY, mode: 0, resolve: 0x100 }), "EINVAL")
    expectErrno(openat2(t, AT_FDCWD, "/", { flags: O_RDONLY, mode: 0, resolve: RESOLVE_BENEATH | RESOLVE_IN_ROOT }), "EINVAL")
    expectErrno(openat2(t, AT_FDCWD, "/x", { flags: O_RDONLY | O_CREAT, mode: 0o644, resolve: RESOLVE_CACHED }), "EAGAIN")
    expectErrno(openat2(t, AT_FDCWD, "/", { flags: O_PATH | O_RDWR, mode: 0, resolve: 0 }), "EINVAL")
    expectErrno(openat(t, AT_FDCWD, "/x", O_CREAT | O_DIRECTORY, 0o644), "EINVAL")
  })

  it("RESOLVE_BENEATH refuses to leave the dirfd; RESOLVE_IN_ROOT treats it as /", () => {
    const w = makeWorld()
    const t = w.task
    ok(mkdirat(t, AT_FDCWD, "/rootfs", 0o755))
    ok(mkdirat(t, AT_FDCWD, "/rootfs/etc", 0o755))
    ok(mkdirat(t, AT_FDCWD, "/etc", 0o755))
    close(t, ok(openat(t, AT_FDCWD, "/etc/host-secret", O_CREAT | O_WRONLY, 0o600)))
    close(t, ok(openat(t, AT_FDCWD, "/rootfs/etc/passwd", O_CREAT | O_WRONLY, 0o644)))
    ok(symlinkat(t, "/etc/host-secret", AT_FDCWD, "/rootfs/evil"))
    ok(symlinkat(t, "../../etc/host-secret", AT_FDCWD, "/rootfs/etc/dotdot"))
    const dfd = ok(openat(t, AT_FDCWD, "/rootfs", O_PATH | O_DIRECTORY, 0))
    const how = (resolve: number) => ({ flags: O_RDONLY, mode: 0, resolve })
    expectErrno(openat2(t, dfd, "evil", how(RESOLVE_BENEATH)), "EXDEV")
    expectErrno(openat2(t, dfd, "etc/dotdot", how(RESOLVE_BENEATH)), "EXDEV")
    expectErrno(openat2(t, dfd, "/etc/passwd", how(RESOLVE_BENEATH)), "EXDEV")
    close(t, ok(openat2(t, dfd, "etc/passwd", how(RESOLVE_BENEATH))))
    // IN_ROOT: absolute links and .. stay inside the dirfd
    expectErrno(openat2(t, dfd, "evil", how(RESOLVE_IN_ROOT)), "ENOENT")
    const inRoot = ok(openat2(t, dfd, "/etc/passwd", how(RESOLVE_IN_ROOT)))
    expect(ok(fstatat(t, inRoot, "", AT_EMPTY_PATH)).ino).toBe(ok(fstatat(t, AT_FDCWD, "/rootfs/etc/passwd", 0)).ino)
    close(t, inRoot)
    expectErrno(openat2(t, dfd, "etc/dotdot", how(RESOLVE_IN_ROOT)), "ENOENT")
    expectErrno(openat2(t, dfd, "evil", how(RESOLVE_NO_SYMLINKS)), "ELOOP")
    close(t, ok(openat2(t, dfd, "evil", how(RESOLVE_NO_MAGICLINKS))))
    close(t, dfd)
  })

  it("RESOLVE_NO_XDEV refuses to cross a mount", () => {
    const w = makeWorld()
    const t = w.task
    ok(mkdirat(t, AT_FDCWD, "/mnt", 0o755))
    ok(doMount(t, "x", "/mnt", "tmpfs", 0, null))
    expectErrno(openat2(t, AT_FDCWD, "/mnt", { flags: O_RDONLY, mode: 0, resolve: RESOLVE_NO_XDEV }), "EXDEV")
    close(t, ok(openat2(t, AT_FDCWD, "/", { flags: O_RDONLY, mode: 0, resolve: RESOLVE_NO_XDEV })))
  })

  it("magic links: getLink jumps, RESOLVE_NO_MAGICLINKS refuses", () => {
    const w = makeWorld()
    const t = w.task
    ok(mkdirat(t, AT_FDCWD, "/target", 0o755))
    ok(symlinkat(t, "placeholder", AT_FDCWD, "/magic"))
    const target = ok(fstatat(t, AT_FDCWD, "/target", 0))
    const nd = ok(openat(t, AT_FDCWD, "/target", O_PATH, 0))
    const file = t.files.fdget(nd)!
    const magic = t.fs.root.dentry.lookup("magic")!
    magic.inode.iop = { getLink: () => ({ mnt: file.mnt, dentry: file.dentry }) }
    expect(ok(fstatat(t, AT_FDCWD, "/magic", 0)).ino).toBe(target.ino)
    expectErrno(openat2(t, AT_FDCWD, "/magic", { flags: O_RDONLY, mode: 0, resolve: RESOLVE_NO_MAGICLINKS }), "ELOOP")
    close(t, nd)
  })

  it("a file's dirfdRoot hook makes it act as a directory (and may refuse absolute paths)", () => {
    const w = makeWorld()
    const t = w.task
    ok(mkdirat(t, AT_FDCWD, "/box", 0o755))
    close(t, ok(openat(t, AT_FDCWD, "/box/inner", O_CREAT | O_WRONLY, 0o644)))
    const boxFd = ok(openat(t, AT_FDCWD, "/box", O_PATH, 0))
    const box = t.files.fdget(boxFd)!
    const special = ok(openat(t, AT_FDCWD, "/", O_PATH, 0))
    const sf = t.files.fdget(special)!
    const ops: FileOperations = {
      name: "container",
      dirfdRoot: (_f, absolute) => (absolute ? sysError("EINVAL") : { mnt: box.mnt, dentry: box.dentry })
    }
    sf.fop = ops
    expect(errnoOf(fstatat(t, special, "inner", 0))).toBe("ok")
    expect(errnoOf(fstatat(t, special, "/box", 0))).toBe("EINVAL")
    ok(fchdir(t, special))
    expect(errnoOf(fstatat(t, AT_FDCWD, "inner", 0))).toBe("ok")
    sf.fop = undefined
    close(t, special)
    close(t, boxFd)
  })

  it("O_TMPFILE makes an unnamed file; O_TRUNC empties", () => {
    const w = makeWorld()
    const t = w.task
    const fd = ok(openat(t, AT_FDCWD, "/", O_TMPFILE | O_RDWR, 0o600))
    expect(ok(fstatat(t, fd, "", AT_EMPTY_PATH)).nlink).toBe(0)
    close(t, fd)
    expectErrno(openat(t, AT_FDCWD, "/", O_TMPFILE | O_RDONLY, 0o600), "EINVAL")
    close(t, ok(openat(t, AT_FDCWD, "/t", O_CREAT | O_WRONLY | O_TRUNC, 0o644)))
  })
})

