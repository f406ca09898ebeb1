import {
  AT_FDCWD,
  CLONE_NEWNS,
  CLONE_NEWUSER,
  MNT_DETACH,
  MNT_EXPIRE,
  MNT_FORCE,
  MS_BIND,
  MS_MOVE,
  MS_NODEV,
  MS_NOEXEC,
  MS_NOSUID,
  MS_PRIVATE,
  MS_RDONLY,
  MS_REC,
  MS_REMOUNT,
  MS_SHARED,
  MS_SLAVE,
  MS_STRICTATIME,
  MS_NOATIME,
  MS_UNBINDABLE,
  O_CREAT,
  O_RDONLY,
  O_WRONLY,
  UMOUNT_NOFOLLOW
} from "@simkernel/abi"
import {
  allocMntNs,
  chdir,
  chroot,
  close,
  doMoveMount,
  filenameLookup,
  LOOKUP_FOLLOW,
  mntAddToNs,
  vfsKernMount,
  doMount,
  fstatat,
  ksysUmount,
  mkdirat,
  openat,
  type Path,
  pivotRoot,
  showMounts,
  statfs,
  symlinkat,
  write
} from "@simkernel/vfs"
import { describe, expect, it } from "@effect/vitest"
import { Runner } from "./conformance.js"
import { asCred, enc, errnoOf, expectErrno, makeWorld, mountinfo, ok, table, unprivileged, useWorlds } from "./helpers.js"

useWorlds()

const mkdirs = (w: ReturnType<typeof makeWorld>, ...paths: Array<string>) => {
  for (const p of paths) ok(mkdirat(w.task, AT_FDCWD, p, 0o755))
}

describe("mount(2): new mounts", () => {
  it("prints tmpfs options exactly as Linux", () => {
    const w = makeWorld()
    const t = w.task
    mkdirs(w, "/a", "/b", "/c")
    ok(doMount(t, "x", "/a", "tmpfs", 0, "size=1m,nr_inodes=100,mode=700,inode64"))
    ok(doMount(t, "y", "/b", "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC | MS_RDONLY, "uid=5,gid=6"))
    ok(doMount(t, "r", "/c", "ramfs", 0, "mode=700,whatever=1"))
    const lines = mountinfo(w).split("\n")
    expect(lines[1]).toMatch(/^3 2 0:3 \/ \/a rw,relatime - tmpfs x rw,size=1024k,nr_inodes=100,mode=700,inode64$/)
    expect(lines[2]).toMatch(/^4 2 0:4 \/ \/b ro,nosuid,nodev,noexec,relatime - tmpfs y ro,uid=5,gid=6$/)
    expect(lines[3]).toMatch(/^5 2 0:5 \/ \/c rw,relatime - ramfs r rw,mode=700$/)
    expect(showMounts({ root: t.fs.root, ns: t.mntNs }).split("\n")[2]).toBe("y /b tmpfs ro,nosuid,nodev,noexec,relatime,uid=5,gid=6 0 0")
    expect(ok(fstatat(t, AT_FDCWD, "/b", 0)).uid).toBe(5)
    expect(ok(fstatat(t, AT_FDCWD, "/a", 0)).mode & 0o7777).toBe(0o700)
  })

  it("rejects bad types and options", () => {
    const w = makeWorld()
    const t = w.task
    mkdirs(w, "/a")
    expectErrno(doMount(t, "x", "/a", null, 0, null), "EINVAL")
    expectErrno(doMount(t, "x", "/a", "nosuchfs", 0, null), "ENODEV")
    expectErrno(doMount(t, "x", "/a", "tmpfs", 0, "size=12q"), "EINVAL")
    expectErrno(doMount(t, "x", "/a", "tmpfs", 0, "bogus"), "EINVAL")
    expectErrno(doMount(t, "x", "/a", "tmpfs", 0, "inode64=1"), "EINVAL")
    expectErrno(doMount(t, "x", "/a", "tmpfs", 0, "mode=9"), "EINVAL")
    expectErrno(doMount(t, "x", "/missing", "tmpfs", 0, null), "ENOENT")
    expectErrno(doMount(t, "x", "/a", "tmpfs", 0x80000000, null), "EINVAL")
    // the old magic in the top 16 bits is stripped
    ok(doMount(t, "x", "/a", "tmpfs", 0xc0ed0000 + MS_NOSUID, null))
    expect(table(w)[1]!.options).toBe("rw,nosuid,relatime")
    ok(ksysUmount(t, "/a", 0))
    expect(table(w)).toHaveLength(1)
  })

  it("needs CAP_SYS_ADMIN over the mount namespace", () => {
    const w = makeWorld()
    mkdirs(w, "/a")
    const cred = unprivileged(w)
    expectErrno(doMount(asCred(w, cred), "x", "/a", "tmpfs", 0, null), "EPERM")
    expectErrno(ksysUmount(asCred(w, cred), "/", 0), "EPERM")
    cred.put()
  })

  it("gives mount ids and anonymous devices lowest-free", () => {
    const w = makeWorld()
    const t = w.task
    mkdirs(w, "/a", "/b")
    ok(doMount(t, "a", "/a", "tmpfs", 0, null))
    ok(doMount(t, "b", "/b", "tmpfs", 0, null))
    ok(ksysUmount(t, "/a", 0))
    ok(doMount(t, "c", "/a", "tmpfs", 0, null))
    expect(mountinfo(w).split("\n").filter((l) => l.includes(" /a "))[0]).toMatch(/^3 2 0:3 /)
  })

  it("sizes and inode counts are limits: ENOSPC, with a short write first", () => {
    const w = makeWorld()
    const t = w.task
    mkdirs(w, "/s")
    ok(doMount(t, "s", "/s", "tmpfs", 0, "size=8k,nr_inodes=3"))
    const fd = ok(openat(t, AT_FDCWD, "/s/f", O_CREAT | O_WRONLY, 0o644))
    expect(write(t, fd, new Uint8Array(10000))).toBe(8192)
    expectErrno(write(t, fd, new Uint8Array(1)), "ENOSPC")
    close(t, fd)
    ok(mkdirat(t, AT_FDCWD, "/s/d", 0o755))
    expectErrno(mkdirat(t, AT_FDCWD, "/s/e", 0o755), "ENOSPC")
    const st = ok(statfs(t, "/s"))
    expect([st.type, st.blocks, st.bfree, st.files, st.ffree]).toEqual([0x01021994, 2, 0, 3, 0])
    expect(ok(statfs(t, "/")).flags & 0x1000).toBe(0x1000)
  })
})

describe("mount(2): bind, move, remount", () => {
  it("binds a subdirectory or a file; a file onto a directory is ENOTDIR", () => {
    const w = makeWorld()
    const t = w.task
    mkdirs(w, "/src", "/src/sub", "/dst")
    close(t, ok(openat(t, AT_FDCWD, "/file", O_CREAT | O_WRONLY, 0o644)))
    close(t, ok(openat(t, AT_FDCWD, "/target", O_CREAT | O_WRONLY, 0o644)))
    ok(doMount(t, "/src/sub", "/dst", null, MS_BIND, null))
    expectErrno(doMount(t, "/file", "/src", null, MS_BIND, null), "ENOTDIR")
    ok(doMount(t, "/file", "/target", null, MS_BIND, null))
    expectErrno(doMount(t, "", "/target", null, MS_BIND, null), "EINVAL")
    const rows = table(w)
    expect(rows.map((r) => [r.mountpoint, r.root])).toEqual([
      ["/", "/"],
      ["/dst", "/src/sub"],
      ["/target", "/file"]
    ])
  })

  it("MS_REC copies submounts, a plain bind does not", () => {
    const w = makeWorld()
    const t = w.task
    mkdirs(w, "/src", "/r", "/n")
    ok(doMount(t, "s", "/src", "tmpfs", 0, null))
    mkdirs(w, "/src/in")
    ok(doMount(t, "in", "/src/in", "tmpfs", 0, null))
    ok(doMount(t, "/src", "/r", null, MS_BIND | MS_REC, null))
    ok(doMount(t, "/src", "/n", null, MS_BIND, null))
    expect(table(w).map((r) => r.mountpoint)).toEqual(["/", "/n", "/r", "/r/in", "/src", "/src/in"])
  })

  it("MS_MOVE moves a mount; into its own subtree or onto itself is ELOOP; from a shared parent EINVAL", () => {
    const w = makeWorld()
    const t = w.task
    mkdirs(w, "/a", "/b")
    ok(doMount(t, "a", "/a", "tmpfs", 0, null))
    mkdirs(w, "/a/x")
    expectErrno(doMount(t, "/a", "/a/x", null, MS_MOVE, null), "ELOOP")
    expectErrno(doMount(t, "/a", "/a", null, MS_MOVE, null), "ELOOP")
    expectErrno(doMount(t, "/b", "/a/x", null, MS_MOVE, null), "EINVAL")
    ok(doMount(t, "/a", "/b", null, MS_MOVE, null))
    expect(table(w).map((r) => r.mountpoint)).toEqual(["/", "/b"])
    ok(doMount(t, null, "/", null, MS_SHARED, null))
    expectErrno(doMount(t, "/b", "/a", null, MS_MOVE, null), "EINVAL")
  })

  it("MS_REMOUNT replaces the per-mount flags but keeps the atime mode; ro makes the superblock ro", () => {
    const w = makeWorld()
    const t = w.task
    mkdirs(w, "/a")
    ok(doMount(t, "a", "/a", "tmpfs", MS_NOSUID | MS_NODEV | MS_NOATIME, null))
    ok(doMount(t, null, "/a", null, MS_REMOUNT | MS_NOEXEC, null))
    expect(table(w)[1]!.options).toBe("rw,noexec,noatime")
    ok(doMount(t, null, "/a", null, MS_REMOUNT | MS_RDONLY, "size=2m"))
    expect(table(w)[1]!).toMatchObject({ options: "ro,noatime", super: "ro,size=2048k" })
    expectErrno(mkdirat(t, AT_FDCWD, "/a/x", 0o755), "EROFS")
    ok(doMount(t, null, "/a", null, MS_REMOUNT | MS_STRICTATIME, null))
    expect(table(w)[1]!).toMatchObject({ options: "rw", super: "rw,size=2048k" })
    const fd = ok(openat(t, AT_FDCWD, "/a/f", O_CREAT | O_WRONLY, 0o644))
    expect(write(t, fd, new Uint8Array(10000))).toBe(10000)
    close(t, fd)
    expectErrno(doMount(t, null, "/a", null, MS_REMOUNT, "size=4k"), "EINVAL")
    ok(doMount(t, null, "/a", null, MS_REMOUNT, "size=12k"))
  })

  it("a read-only remount is EBUSY while a file is open for writing", () => {
    const w = makeWorld()
    const t = w.task
    mkdirs(w, "/a", "/b")
    ok(doMount(t, "a", "/a", "tmpfs", 0, null))
    ok(doMount(t, "/a", "/b", null, MS_BIND, null))
    const fd = ok(openat(t, AT_FDCWD, "/a/f", O_CREAT | O_WRONLY, 0o644))
    expectErrno(doMount(t, null, "/a", null, MS_REMOUNT | MS_RDONLY, null), "EBUSY")
    expectErrno(doMount(t, null, "/a", null, MS_REMOUNT | MS_BIND | MS_RDONLY, null), "EBUSY")
    ok(doMount(t, null, "/b", null, MS_REMOUNT | MS_BIND | MS_RDONLY, null))
    close(t, fd)
    ok(doMount(t, null, "/a", null, MS_REMOUNT | MS_RDONLY, null))
    expectErrno(openat(t, AT_FDCWD, "/b/f", O_WRONLY, 0), "EROFS")
  })
})

describe("propagation (sharedsubtree.rst)", () => {
  it("accepts only one propagation type, with MS_REC, on a mount root", () => {
    const w = makeWorld()
    const t = w.task
    mkdirs(w, "/a")
    expectErrno(doMount(t, null, "/", null, MS_SHARED | MS_NOSUID, null), "EINVAL")
    expectErrno(doMount(t, null, "/", null, MS_SHARED | MS_PRIVATE, null), "EINVAL")
    expectErrno(doMount(t, null, "/a", null, MS_SHARED, null), "EINVAL")
    ok(doMount(t, null, "/", null, MS_SHARED | MS_REC, null))
    expect(table(w)[0]!.propagation).toBe("shared:g1")
  })

  it("MS_SLAVE on a lone shared mount makes it private; unbindable mounts cannot be bound", () => {
    const w = makeWorld()
    const t = w.task
    mkdirs(w, "/a", "/b")
    ok(doMount(t, "a", "/a", "tmpfs", 0, null))
    ok(doMount(t, null, "/a", null, MS_SHARED, null))
    ok(doMount(t, null, "/a", null, MS_SLAVE, null))
    expect(table(w)[1]!.propagation).toBe("private")
    ok(doMount(t, null, "/a", null, MS_UNBINDABLE, null))
    expect(table(w)[1]!.propagation).toBe("unbindable")
    expectErrno(doMount(t, "/a", "/b", null, MS_BIND, null), "EINVAL")
  })

  it("unmounting a propagated mount through one peer removes it everywhere; peer group ids are reused", () => {
    const w = makeWorld()
    const t = w.task
    mkdirs(w, "/s", "/p")
    ok(doMount(t, "s", "/s", "tmpfs", 0, null))
    ok(doMount(t, null, "/s", null, MS_SHARED, null))
    ok(doMount(t, "/s", "/p", null, MS_BIND, null))
    mkdirs(w, "/s/x")
    ok(doMount(t, "x", "/p/x", "tmpfs", 0, null))
    expect(table(w).map((r) => r.mountpoint)).toEqual(["/", "/p", "/p/x", "/s", "/s/x"])
    ok(ksysUmount(t, "/s/x", 0))
    expect(table(w).map((r) => r.mountpoint)).toEqual(["/", "/p", "/s"])
    ok(doMount(t, "y", "/s/x", "tmpfs", 0, null))
    expect(mountinfo(w)).toContain("shared:2")
  })
})

describe("mountinfo for a chrooted reader", () => {
  it("hides mounts outside the root and shows propagate_from (as Linux 6.18 printed it)", () => {
    const w = makeWorld()
    const t = w.task
    mkdirs(w, "/m", "/x", "/jail", "/jail/y", "/jail/p")
    ok(doMount(t, "m", "/m", "tmpfs", 0, null))
    ok(doMount(t, null, "/m", null, MS_SHARED, null))
    ok(doMount(t, "/m", "/x", null, MS_BIND, null))
    ok(doMount(t, null, "/x", null, MS_SLAVE, null))
    ok(doMount(t, null, "/x", null, MS_SHARED, null))
    ok(doMount(t, "/x", "/jail/y", null, MS_BIND, null))
    ok(doMount(t, null, "/jail/y", null, MS_SLAVE, null))
    ok(doMount(t, "/m", "/jail/p", null, MS_BIND, null))
    ok(chroot(t, "/jail"))
    expect(mountinfo(w)).toBe(
      "5 2 0:3 / /y rw,relatime master:2 propagate_from:1 - tmpfs m rw\n6 2 0:3 / /p rw,relatime shared:1 - tmpfs m rw\n"
    )
  })
})

describe("umount2", () => {
  it("follows Linux's EINVAL/EBUSY/EAGAIN rules", () => {
    const w = makeWorld()
    const t = w.task
    mkdirs(w, "/a", "/b")
    ok(doMount(t, "a", "/a", "tmpfs", 0, null))
    expectErrno(ksysUmount(t, "/b", 0), "EINVAL")
    expectErrno(ksysUmount(t, "/a", 0x10), "EINVAL")
    expectErrno(ksysUmount(t, "/a", MNT_EXPIRE | MNT_DETACH), "EINVAL")
    expectErrno(ksysUmount(t, "/a", MNT_EXPIRE | MNT_FORCE), "EINVAL")
    const fd = ok(openat(t, AT_FDCWD, "/a", O_RDONLY, 0))
    expectErrno(ksysUmount(t, "/a", 0), "EBUSY")
    expectErrno(ksysUmount(t, "/a", MNT_EXPIRE), "EBUSY")
    close(t, fd)
    expectErrno(ksysUmount(t, "/a", MNT_EXPIRE), "EAGAIN")
    ok(ksysUmount(t, "/a", MNT_EXPIRE))
    expectErrno(ksysUmount(t, "/nope", 0), "ENOENT")
    ok(symlinkat(t, "/b", AT_FDCWD, "/l"))
    ok(doMount(t, "b", "/b", "tmpfs", 0, null))
    expectErrno(ksysUmount(t, "/l", UMOUNT_NOFOLLOW), "EINVAL")
    ok(ksysUmount(t, "/l", MNT_FORCE))
  })

  it("a lazily unmounted mount lives on while a file uses it", () => {
    const w = makeWorld()
    const t = w.task
    mkdirs(w, "/a")
    ok(doMount(t, "a", "/a", "tmpfs", 0, null))
    const fd = ok(openat(t, AT_FDCWD, "/a/f", O_CREAT | O_WRONLY, 0o644))
    ok(ksysUmount(t, "/a", MNT_DETACH))
    expect(write(t, fd, enc("still here"))).toBe(10)
    expect(table(w)).toHaveLength(1)
    close(t, fd)
  })

  it("unmounting the root without MNT_DETACH remounts it read-only", () => {
    const w = makeWorld()
    const t = w.task
    ok(ksysUmount(t, "/", 0))
    expect(table(w)[0]!.super).toBe("ro,mode=755")
    expectErrno(mkdirat(t, AT_FDCWD, "/x", 0o755), "EROFS")
  })
})

describe("pivot_root(2)", () => {
  it("swaps the root and puts the old one under put_old", () => {
    const w = makeWorld()
    const t = w.task
    mkdirs(w, "/new")
    ok(doMount(t, "newroot", "/new", "tmpfs", 0, null))
    mkdirs(w, "/new/old", "/new/etc")
    ok(chdir(t, "/new"))
    ok(pivotRoot(t, ".", "old"))
    expect(errnoOf(fstatat(t, AT_FDCWD, "/etc", 0))).toBe("ok")
    expect(errnoOf(fstatat(t, AT_FDCWD, "/old/new", 0))).toBe("ok")
    expect(table(w).map((r) => [r.mountpoint, r.source])).toEqual([
      ["/", "newroot"],
      ["/old", "none"]
    ])
    ok(ksysUmount(t, "/old", MNT_DETACH))
    expect(table(w)).toHaveLength(1)
  })

  it("moves every fs_struct rooted at the old root, and tells the other root holders (chroot_fs_refs)", () => {
    const w = makeWorld()
    const t = w.task
    mkdirs(w, "/new", "/elsewhere")
    ok(doMount(t, "newroot", "/new", "tmpfs", 0, null))
    mkdirs(w, "/new/old")
    const other = t.fs.copy()
    const chrooted = t.fs.copy()
    const nd = ok(filenameLookup(t, AT_FDCWD, "/elsewhere", LOOKUP_FOLLOW))
    const elsewhere = nd.path()
    chrooted.setRoot(elsewhere)
    const oldRootMnt = t.fs.root.mnt
    const told: Array<readonly [boolean, string | undefined]> = []
    const hook = (oldRoot: Path, newRoot: Path) => void told.push([oldRoot.mnt === oldRootMnt, newRoot.mnt.devname])
    w.vfs.pivotRootHooks.add(hook)
    ok(pivotRoot(t, "/new", "/new/old"))
    w.vfs.pivotRootHooks.delete(hook)
    expect(other.root.mnt.devname).toBe("newroot")
    expect(other.pwd.mnt.devname).toBe("newroot")
    expect(chrooted.root.dentry).toBe(elsewhere.dentry)
    expect(told).toEqual([[true, "newroot"]])
    other.put()
    chrooted.put()
  })

  it("refuses what the man page lists", () => {
    const w = makeWorld()
    const t = w.task
    mkdirs(w, "/new", "/plain", "/plain/old", "/other")
    ok(doMount(t, "newroot", "/new", "tmpfs", 0, null))
    ok(doMount(t, "other", "/other", "tmpfs", 0, null))
    mkdirs(w, "/new/old", "/other/old")
    expectErrno(pivotRoot(t, "/plain", "/plain/old"), "EBUSY")
    expectErrno(pivotRoot(t, "/new", "/plain/old"), "EBUSY")
    expectErrno(pivotRoot(t, "/new", "/other/old"), "EINVAL")
    expectErrno(pivotRoot(t, "/new/old", "/new/old"), "EINVAL")
    expectErrno(pivotRoot(t, "/missing", "/new/old"), "ENOENT")
    expectErrno(pivotRoot(t, "/new", "/new/nope"), "ENOENT")
    ok(doMount(t, null, "/", null, MS_SHARED, null))
    expectErrno(pivotRoot(t, "/new", "/new/old"), "EINVAL")
    ok(doMount(t, null, "/", null, MS_PRIVATE, null))
    const cred = unprivileged(w)
    expectErrno(pivotRoot(asCred(w, cred), "/new", "/new/old"), "EPERM")
    cred.put()
    ok(pivotRoot(t, "/new", "/new/old"))
  })
})

describe("detached trees (the pieces fsmount/move_mount build on)", () => {
  it("a tree in an anonymous namespace is attached by doMoveMount and leaves that namespace empty", () => {
    const w = makeWorld()
    const t = w.task
    mkdirs(w, "/target")
    const anon = ok(allocMntNs(w.vfs, t.cred.userNs, false, true))
    const m = ok(vfsKernMount(w.vfs, t.cred, "tmpfs", "size=64k", "detached"))
    anon.root = m
    mntAddToNs(anon, m)
    const target = ok(filenameLookup(t, AT_FDCWD, "/target", LOOKUP_FOLLOW))
    ok(doMoveMount(t, { mnt: m, dentry: m.root }, target.path()))
    // the emptied anonymous namespace is freed by the move (free_mnt_ns())
    expect(anon.freed).toBe(true)
    expect(table(w).map((r) => [r.mountpoint, r.source, r.super])).toEqual([
      ["/", "none", "rw,mode=755"],
      ["/target", "detached", "rw,size=64k"]
    ])
    ok(ksysUmount(t, "/target", 0))
  })

  it("a detached tree dies with its namespace", () => {
    const w = makeWorld()
    const anon = ok(allocMntNs(w.vfs, w.task.cred.userNs, false, true))
    const m = ok(vfsKernMount(w.vfs, w.task.cred, "tmpfs", undefined, "gone"))
    anon.root = m
    mntAddToNs(anon, m)
    anon.put()
    expect(m.freed).toBe(true)
  })
})

describe("mount namespaces", () => {
  it("unshare(CLONE_NEWUSER|CLONE_NEWNS) locks inherited mounts (the real kernel's unshare_userns_locks_mounts)", () => {
    const r = new Runner()
    try {
      const run = (call: string, ...args: Array<unknown>) => r.step({ call, args })
      run("mkdirat", "AT_FDCWD", "/l", "0755")
      run("mount", "locked", "/l", "tmpfs", "MS_RDONLY|MS_NOSUID", null)
      run("mkdirat", "AT_FDCWD", "/s", "0755")
      run("mount", "sharedsrc", "/s", "tmpfs", 0, null)
      run("mount", null, "/s", null, "MS_SHARED", null)
      const keep = r.step({ call: "nsfd", args: ["mnt"], save: "keep" })
      expect(keep.ret).toBe("fd")
      expect(run("unshare", "CLONE_NEWUSER|CLONE_NEWNS")).toEqual({ call: "unshare", ret: 0 })
      expect(r.mounts().map((m) => [m.mountpoint, m.options, m.super, m.propagation])).toEqual([
        ["/", "rw,relatime", "rw,mode=755", "private"],
        ["/l", "ro,nosuid,relatime", "ro", "private"],
        ["/s", "rw,relatime", "rw", "master:g1"]
      ])
      expect(run("mount", null, "/l", null, "MS_REMOUNT|MS_BIND", null).errno).toBe("EPERM")
      expect(run("mount", null, "/l", null, "MS_REMOUNT|MS_BIND|MS_RDONLY|MS_NOSUID|MS_NOEXEC", null).ret).toBe(0)
      expect(run("umount2", "/l", 0).errno).toBe("EINVAL")
      expect(run("umount2", "/l", "MNT_DETACH").errno).toBe("EINVAL")
      expect(run("setns", "$keep", "CLONE_NEWNS").errno).toBe("EPERM")
      expect(run("mkdirat", "AT_FDCWD", "/s/child", "0755").ret).toBe(0)
      expect(run("mount", "c", "/s/child", "tmpfs", 0, null).ret).toBe(0)
      expect(r.mounts().map((m) => [m.mountpoint, m.options])).toEqual([
        ["/", "rw,relatime"],
        ["/l", "ro,nosuid,noexec,relatime"],
        ["/s", "rw,relatime"],
        ["/s/child", "rw,relatime"]
      ])
      run("close", "$keep")
      expect(r.mounts()[2]!.propagation).toBe("private")
    } finally {
      r.destroy()
    }
  })

  it("unshare(CLONE_NEWUSER) alone leaves mounts out of reach (EPERM)", () => {
    const r = new Runner()
    try {
      r.step({ call: "mkdirat", args: ["AT_FDCWD", "/a", "0755"] })
      expect(r.step({ call: "unshare", args: [CLONE_NEWUSER] }).ret).toBe(0)
      expect(r.step({ call: "mount", args: ["x", "/a", "tmpfs", 0, null] }).errno).toBe("EPERM")
      expect(r.step({ call: "umount2", args: ["/", 0] }).errno).toBe("EPERM")
    } finally {
      r.destroy()
    }
  })

  it("setns checks the file and the type", () => {
    const r = new Runner()
    try {
      r.step({ call: "openat", args: ["AT_FDCWD", "/f", "O_CREAT|O_WRONLY", "0644"], save: "f" })
      r.step({ call: "nsfd", args: ["mnt"], save: "ns" })
      expect(r.step({ call: "setns", args: ["$f", 0] }).errno).toBe("EINVAL")
      expect(r.step({ call: "setns", args: ["$ns", "CLONE_NEWUTS"] }).errno).toBe("EINVAL")
      expect(r.step({ call: "setns", args: [9999, 0] }).errno).toBe("EBADF")
      expect(r.step({ call: "setns", args: ["$ns", CLONE_NEWNS] }).ret).toBe(0)
      expect(r.step({ call: "cloexec", args: ["$ns"] }).ret).toEqual({ cloexec: true })
    } finally {
      r.destroy()
    }
  })
})
