import {
  AT_EMPTY_PATH,
  AT_FDCWD,
  AT_RECURSIVE,
  CLONE_NEWIPC,
  CLONE_NEWNS,
  CLONE_NEWUSER,
  FSCONFIG_CMD_CREATE,
  FSCONFIG_CMD_CREATE_EXCL,
  FSCONFIG_CMD_RECONFIGURE,
  FSCONFIG_SET_BINARY,
  FSCONFIG_SET_CONTAINER,
  FSCONFIG_SET_FD,
  FSCONFIG_SET_FLAG,
  FSCONFIG_SET_PATH,
  FSCONFIG_SET_PATH_EMPTY,
  FSCONFIG_SET_STRING,
  FSMOUNT_CLOEXEC,
  FSOPEN_CLOEXEC,
  FSPICK_CLOEXEC,
  FSPICK_EMPTY_PATH,
  FSPICK_SYMLINK_NOFOLLOW,
  F_GETFD,
  FD_CLOEXEC,
  MOUNT_ATTR__ATIME,
  MOUNT_ATTR_IDMAP,
  MOUNT_ATTR_NOATIME,
  MOUNT_ATTR_NODEV,
  MOUNT_ATTR_NOEXEC,
  MOUNT_ATTR_NOSUID,
  MOUNT_ATTR_RDONLY,
  MOUNT_ATTR_STRICTATIME,
  MOVE_MOUNT_BENEATH,
  MOVE_MOUNT_F_EMPTY_PATH,
  MOVE_MOUNT_SET_GROUP,
  MOVE_MOUNT_T_CONTAINER_ROOT,
  MOVE_MOUNT_T_EMPTY_PATH,
  MOVE_MOUNT_T_SYMLINKS,
  MQUEUE_MAGIC,
  MS_BIND,
  MS_MOVE,
  MS_NOSUID,
  MS_PRIVATE,
  MS_REC,
  MS_SHARED,
  MS_SLAVE,
  MS_UNBINDABLE,
  O_CREAT,
  O_RDWR,
  O_WRONLY,
  OPEN_TREE_CLOEXEC,
  OPEN_TREE_CLONE
} from "@simkernel/abi"
import { assertNoLeaks } from "@simkernel/kref"
import {
  chdir,
  close,
  doMount,
  fchdir,
  fsconfig,
  fsmount,
  fsopen,
  fspick,
  fstatat,
  fstatfs,
  installNsFd,
  ksysUmount,
  mkdirat,
  type MountAttr,
  mountSetattr,
  moveMount,
  openat,
  openTree,
  openTreeAttr,
  read,
  statfs,
  symlinkat,
  VfsEffect,
  type VfsWorld,
  write
} from "@simkernel/vfs"
import { describe, expect, it } from "@effect/vitest"
import { Effect } from "effect"
import { Runner } from "./conformance.js"
import { asCred, errnoOf, expectErrno, makeWorld, ok, table, unprivileged, useWorlds } from "./helpers.js"

useWorlds()

const mkdirs = (w: VfsWorld, ...paths: Array<string>): void => {
  for (const p of paths) ok(mkdirat(w.task, AT_FDCWD, p, 0o755))
}

/** One message from an fs context fd, or its errno. */
const msg = (w: VfsWorld, fd: number, n = 4096): string => {
  const buf = new Uint8Array(n)
  const r = read(w.task, fd, buf)
  return typeof r === "number" ? new TextDecoder().decode(buf.subarray(0, r)) : r.errno
}

/** fsopen + options + CMD_CREATE, returning the context fd. */
const created = (w: VfsWorld, type = "tmpfs", opts: Record<string, string> = {}): number => {
  const fs = ok(fsopen(w.task, type, FSOPEN_CLOEXEC))
  for (const [k, v] of Object.entries(opts)) ok(fsconfig(w.task, fs, FSCONFIG_SET_STRING, k, v, 0))
  ok(fsconfig(w.task, fs, FSCONFIG_CMD_CREATE, null, null, 0))
  return fs
}

/** A detached tmpfs mount's fd (the context closed). */
const detached = (w: VfsWorld, opts: Record<string, string> = {}, attrs = 0): number => {
  const fs = created(w, "tmpfs", opts)
  const m = ok(fsmount(w.task, fs, FSMOUNT_CLOEXEC, attrs))
  ok(close(w.task, fs))
  return m
}

const attach = (w: VfsWorld, mfd: number, to: string): void => {
  ok(moveMount(w.task, mfd, "", AT_FDCWD, to, MOVE_MOUNT_F_EMPTY_PATH))
}

const cloexec = (w: VfsWorld, fd: number): boolean => ((w.task.files.fcntl(fd, F_GETFD, 0) as number) & FD_CLOEXEC) !== 0
const mountpoints = (w: VfsWorld): Array<string> => table(w).map((m) => m.mountpoint)

describe("fsopen(2)", () => {
  it("opens a context fd (FSOPEN_CLOEXEC honoured); bad flags before an unknown name; ENODEV, EFAULT, EPERM", () => {
    const w = makeWorld()
    const t = w.task
    expect(cloexec(w, ok(fsopen(t, "tmpfs", FSOPEN_CLOEXEC)))).toBe(true)
    expect(cloexec(w, ok(fsopen(t, "ramfs", 0)))).toBe(false)
    expectErrno(fsopen(t, "nosuchfs", 2), "EINVAL")
    expectErrno(fsopen(t, "nosuchfs", 0), "ENODEV")
    expectErrno(fsopen(t, "", 0), "ENODEV")
    expectErrno(fsopen(t, "TMPFS", 0), "ENODEV")
    expectErrno(fsopen(t, null, 0), "EFAULT")
    const cred = unprivileged(w)
    expectErrno(fsopen(asCred(w, cred), "tmpfs", 0), "EPERM")
    cred.put()
  })

  it("reads give one message each, FIFO, ENODATA when empty, EMSGSIZE keeping the message, the last 8 only", () => {
    const w = makeWorld()
    const t = w.task
    const fs = ok(fsopen(t, "tmpfs", 0))
    expect(msg(w, fs)).toBe("ENODATA")
    expectErrno(fsconfig(t, fs, FSCONFIG_SET_STRING, "size", "lots", 0), "EINVAL")
    ok(fsconfig(t, fs, FSCONFIG_SET_STRING, "source", "a", 0))
    expectErrno(fsconfig(t, fs, FSCONFIG_SET_STRING, "source", "b", 0), "EINVAL")
    expect(msg(w, fs, 4)).toBe("EMSGSIZE")
    expect(msg(w, fs)).toBe("e tmpfs: Bad value for 'size'\n")
    expect(msg(w, fs)).toBe("e Multiple sources\n")
    expect(msg(w, fs)).toBe("ENODATA")
    for (let i = 1; i <= 10; i++) expectErrno(fsconfig(t, fs, FSCONFIG_SET_FLAG, `bad${i}`, null, 0), "EINVAL")
    const got: Array<string> = []
    for (let m = msg(w, fs); m !== "ENODATA"; m = msg(w, fs)) got.push(m)
    expect(got).toEqual([3, 4, 5, 6, 7, 8, 9, 10].map((i) => `e tmpfs: Unknown parameter 'bad${i}'\n`))
  })
})

describe("fsconfig(2)", () => {
  it("checks a negative fd, then the command (EOPNOTSUPP, FSCONFIG_SET_CONTAINER too), then the fd", () => {
    const w = makeWorld()
    const t = w.task
    expectErrno(fsconfig(t, -1, 100, null, null, 0), "EINVAL")
    expectErrno(fsconfig(t, 9999, 100, null, null, 0), "EOPNOTSUPP")
    expectErrno(fsconfig(t, 9999, -1, null, null, 0), "EOPNOTSUPP")
    expectErrno(fsconfig(t, 9999, FSCONFIG_SET_CONTAINER, null, null, 0), "EOPNOTSUPP")
    expectErrno(fsconfig(t, 9999, FSCONFIG_CMD_CREATE, null, null, 0), "EBADF")
    const f = ok(openat(t, AT_FDCWD, "/f", O_CREAT | O_RDWR, 0o644))
    expectErrno(fsconfig(t, f, FSCONFIG_CMD_CREATE, null, null, 0), "EINVAL")
    const m = detached(w)
    expectErrno(fsconfig(t, m, FSCONFIG_CMD_CREATE, null, null, 0), "EBADF")
  })

  it("applies each command's argument rules", () => {
    const w = makeWorld()
    const t = w.task
    const fs = ok(fsopen(t, "tmpfs", 0))
    const bad: Array<[number, string | null, string | null, number]> = [
      [FSCONFIG_SET_FLAG, null, null, 0],
      [FSCONFIG_SET_FLAG, "ro", "x", 0],
      [FSCONFIG_SET_FLAG, "ro", null, 1],
      [FSCONFIG_SET_STRING, "size", null, 0],
      [FSCONFIG_SET_STRING, null, "1", 0],
      [FSCONFIG_SET_STRING, "size", "1", 1],
      [FSCONFIG_SET_BINARY, "size", "1", 0],
      [FSCONFIG_SET_BINARY, "size", null, 1],
      [FSCONFIG_SET_PATH, "size", "/", -1],
      [FSCONFIG_SET_PATH_EMPTY, "size", null, AT_FDCWD],
      [FSCONFIG_SET_FD, "size", null, -1],
      [FSCONFIG_SET_FD, "size", "x", 0],
      [FSCONFIG_CMD_CREATE, "size", null, 0],
      [FSCONFIG_CMD_RECONFIGURE, null, "x", 0],
      [FSCONFIG_CMD_CREATE_EXCL, null, null, 1]
    ]
    for (const [cmd, key, value, aux] of bad) expect([cmd, errnoOf(fsconfig(t, fs, cmd, key, value, aux))]).toEqual([cmd, "EINVAL"])
    expectErrno(fsconfig(t, fs, FSCONFIG_SET_STRING, "k".repeat(256), "1", 0), "EINVAL")
    expectErrno(fsconfig(t, fs, FSCONFIG_SET_PATH, "source", "", AT_FDCWD), "ENOENT")
    // paths are never resolved: tmpfs rejects them by type, whatever they name
    expectErrno(fsconfig(t, fs, FSCONFIG_SET_PATH, "size", "/no/such/path", 9999), "EINVAL")
    expectErrno(fsconfig(t, fs, FSCONFIG_SET_PATH_EMPTY, "size", "", 9999), "EINVAL")
    expectErrno(fsconfig(t, fs, FSCONFIG_SET_FD, "size", null, 9999), "EBADF")
    expectErrno(fsconfig(t, fs, FSCONFIG_SET_FD, "size", null, fs), "EINVAL")
    expectErrno(fsconfig(t, fs, FSCONFIG_SET_BINARY, "size", "64k", 3), "EINVAL")
    ok(fsconfig(t, fs, FSCONFIG_CMD_CREATE, null, null, 0))
  })

  it("accepts generic superblock flags with any value type; source is a string given once, none when unset", () => {
    const w = makeWorld()
    const t = w.task
    mkdirs(w, "/a", "/b")
    const fs = ok(fsopen(t, "tmpfs", 0))
    ok(fsconfig(t, fs, FSCONFIG_SET_STRING, "sync", "false", 0))
    ok(fsconfig(t, fs, FSCONFIG_SET_PATH, "dirsync", "/nowhere", AT_FDCWD))
    ok(fsconfig(t, fs, FSCONFIG_SET_BINARY, "lazytime", "x", 1))
    expectErrno(fsconfig(t, fs, FSCONFIG_SET_FLAG, "source", null, 0), "EINVAL")
    ok(fsconfig(t, fs, FSCONFIG_SET_STRING, "source", "src", 0))
    expectErrno(fsconfig(t, fs, FSCONFIG_SET_STRING, "source", "again", 0), "EINVAL")
    ok(fsconfig(t, fs, FSCONFIG_CMD_CREATE, null, null, 0))
    attach(w, ok(fsmount(t, fs, 0, 0)), "/a")
    attach(w, detached(w), "/b")
    expect(table(w).slice(1).map((m) => [m.source, m.super])).toEqual([
      ["src", "rw,sync,dirsync,lazytime"],
      ["none", "rw"]
    ])
  })

  it("walks the phases: a failed SET_* never spoils, a failed create does (fsconfig EBUSY, fsmount EINVAL)", () => {
    const w = makeWorld()
    const t = w.task
    const fs = ok(fsopen(t, "tmpfs", 0))
    expectErrno(fsconfig(t, fs, FSCONFIG_CMD_RECONFIGURE, null, null, 0), "EBUSY")
    expectErrno(fsmount(t, fs, 0, 0), "EINVAL")
    expectErrno(fsconfig(t, fs, FSCONFIG_SET_STRING, "size", "bad", 0), "EINVAL")
    ok(fsconfig(t, fs, FSCONFIG_SET_STRING, "size", "64k", 0))
    ok(fsconfig(t, fs, FSCONFIG_CMD_CREATE, null, null, 0))
    for (const cmd of [FSCONFIG_CMD_CREATE, FSCONFIG_CMD_CREATE_EXCL, FSCONFIG_CMD_RECONFIGURE])
      expectErrno(fsconfig(t, fs, cmd, null, null, 0), "EBUSY")
    expectErrno(fsconfig(t, fs, FSCONFIG_SET_FLAG, "ro", null, 0), "EBUSY")
    const m = ok(fsmount(t, fs, 0, 0))
    expectErrno(fsmount(t, fs, 0, 0), "EBUSY")
    expectErrno(fsconfig(t, fs, FSCONFIG_CMD_CREATE, null, null, 0), "EBUSY")
    // after fsmount the context reconfigures the live superblock
    ok(fsconfig(t, fs, FSCONFIG_SET_STRING, "size", "128k", 0))
    ok(fsconfig(t, fs, FSCONFIG_CMD_RECONFIGURE, null, null, 0))
    mkdirs(w, "/a")
    attach(w, m, "/a")
    expect(table(w)[1]!.super).toBe("rw,size=128k")
    // a failed create spoils a context for good
    const q0 = created(w, "mqueue")
    const q = ok(fsopen(t, "mqueue", 0))
    expectErrno(fsconfig(t, q, FSCONFIG_CMD_CREATE_EXCL, null, null, 0), "EBUSY")
    expect(msg(w, q)).toBe("w mqueue: reusing existing filesystem not allowed\n")
    expectErrno(fsconfig(t, q, FSCONFIG_SET_STRING, "source", "x", 0), "EBUSY")
    expectErrno(fsconfig(t, q, FSCONFIG_CMD_CREATE, null, null, 0), "EBUSY")
    expectErrno(fsmount(t, q, 0, 0), "EINVAL")
    close(t, q0)
  })

  it("ro makes the superblock read-only for every mount of it, and reconfiguring rw undoes it", () => {
    const w = makeWorld()
    const t = w.task
    mkdirs(w, "/a", "/b")
    const fs = ok(fsopen(t, "tmpfs", 0))
    ok(fsconfig(t, fs, FSCONFIG_SET_FLAG, "ro", null, 0))
    ok(fsconfig(t, fs, FSCONFIG_CMD_CREATE, null, null, 0))
    attach(w, ok(fsmount(t, fs, 0, 0)), "/a")
    ok(doMount(t, "/a", "/b", null, MS_BIND, null))
    expect(table(w).slice(1).map((m) => [m.options, m.super])).toEqual([
      ["rw,relatime", "ro"],
      ["rw,relatime", "ro"]
    ])
    expectErrno(mkdirat(t, AT_FDCWD, "/b/x", 0o755), "EROFS")
    ok(fsconfig(t, fs, FSCONFIG_SET_FLAG, "rw", null, 0))
    ok(fsconfig(t, fs, FSCONFIG_CMD_RECONFIGURE, null, null, 0))
    ok(mkdirat(t, AT_FDCWD, "/b/x", 0o755))
    expect((statfs(t, "/a") as { flags: number }).flags & 1).toBe(0)
  })

  it("parses tmpfs options as Linux: size suffixes rounded to pages, nr_inodes, mode masked, uid/gid, inode64", () => {
    const w = makeWorld()
    const t = w.task
    mkdirs(w, "/a", "/b")
    attach(w, detached(w, { size: "5k", nr_inodes: "16", mode: "17777", uid: "1", gid: "2", huge: "never" }), "/a")
    const fs = ok(fsopen(t, "tmpfs", 0))
    ok(fsconfig(t, fs, FSCONFIG_SET_STRING, "size", "1m", 0))
    ok(fsconfig(t, fs, FSCONFIG_SET_FLAG, "inode64", null, 0))
    ok(fsconfig(t, fs, FSCONFIG_CMD_CREATE, null, null, 0))
    attach(w, ok(fsmount(t, fs, 0, 0)), "/b")
    expect(table(w).slice(1).map((m) => m.super)).toEqual(["rw,size=8k,nr_inodes=16,mode=7777,uid=1,gid=2", "rw,size=1024k,inode64"])
    expect(fstatat(t, AT_FDCWD, "/a", 0)).toMatchObject({ mode: 0o47777, uid: 1, gid: 2 })
    for (const [k, v] of [["size", "12q"], ["nr_inodes", "x"], ["mode", "9"], ["uid", "-1"], ["huge", "sometimes"]] as const)
      expectErrno(fsconfig(t, ok(fsopen(t, "tmpfs", 0)), FSCONFIG_SET_STRING, k, v, 0), "EINVAL")
    expectErrno(fsconfig(t, ok(fsopen(t, "tmpfs", 0)), FSCONFIG_SET_STRING, "inode64", "1", 0), "EINVAL")
    // reconfigure: inode64 -> inode32 works, mode/uid are accepted and ignored
    ok(fsconfig(t, fs, FSCONFIG_SET_FLAG, "inode32", null, 0))
    ok(fsconfig(t, fs, FSCONFIG_SET_STRING, "mode", "700", 0))
    ok(fsconfig(t, fs, FSCONFIG_SET_STRING, "uid", "5", 0))
    ok(fsconfig(t, fs, FSCONFIG_CMD_RECONFIGURE, null, null, 0))
    expect(table(w)[2]!.super).toBe("rw,size=1024k")
  })

  it("refuses to shrink size or nr_inodes below what is used, spoiling the context", () => {
    const w = makeWorld()
    const t = w.task
    mkdirs(w, "/a")
    const fs = created(w, "tmpfs", { size: "64k", nr_inodes: "8" })
    attach(w, ok(fsmount(t, fs, 0, 0)), "/a")
    const f = ok(openat(t, AT_FDCWD, "/a/f", O_CREAT | O_WRONLY, 0o644))
    expect(write(t, f, new Uint8Array(3 * 4096))).toBe(3 * 4096)
    close(t, f)
    ok(fsconfig(t, fs, FSCONFIG_SET_STRING, "size", "8k", 0))
    expectErrno(fsconfig(t, fs, FSCONFIG_CMD_RECONFIGURE, null, null, 0), "EINVAL")
    expect(msg(w, fs)).toBe("e tmpfs: Too small a size for current use\n")
    expectErrno(fsconfig(t, fs, FSCONFIG_SET_STRING, "size", "1m", 0), "EBUSY")
    const p = ok(fspick(t, AT_FDCWD, "/a", 0))
    ok(fsconfig(t, p, FSCONFIG_SET_STRING, "nr_inodes", "1", 0))
    expectErrno(fsconfig(t, p, FSCONFIG_CMD_RECONFIGURE, null, null, 0), "EINVAL")
    expectErrno(fsconfig(t, p, FSCONFIG_CMD_RECONFIGURE, null, null, 0), "EBUSY")
    expect(table(w)[1]!.super).toBe("rw,size=64k,nr_inodes=8")
  })

  it("ramfs takes mode; mqueue has one superblock per IPC namespace (MQUEUE_MAGIC)", () => {
    const r = new Runner()
    try {
      const t = r.task
      for (const d of ["/r", "/q1", "/q2", "/q3"]) ok(mkdirat(t, AT_FDCWD, d, 0o755))
      const rfs = ok(fsopen(t, "ramfs", 0))
      ok(fsconfig(t, rfs, FSCONFIG_SET_STRING, "mode", "0711", 0))
      ok(fsconfig(t, rfs, FSCONFIG_SET_STRING, "nosuchopt", "1", 0))
      ok(fsconfig(t, rfs, FSCONFIG_CMD_CREATE, null, null, 0))
      ok(moveMount(t, ok(fsmount(t, rfs, 0, 0)), "", AT_FDCWD, "/r", MOVE_MOUNT_F_EMPTY_PATH))
      for (const d of ["/q1", "/q2"]) {
        const q = ok(fsopen(t, "mqueue", 0))
        ok(fsconfig(t, q, FSCONFIG_CMD_CREATE, null, null, 0))
        ok(moveMount(t, ok(fsmount(t, q, 0, 0)), "", AT_FDCWD, d, MOVE_MOUNT_F_EMPTY_PATH))
      }
      expect((statfs(t, "/q1") as { type: number }).type).toBe(MQUEUE_MAGIC)
      expect(r.step({ call: "unshare", args: [CLONE_NEWIPC] }).ret).toBe(0)
      const q = ok(fsopen(t, "mqueue", 0))
      ok(fsconfig(t, q, FSCONFIG_CMD_CREATE, null, null, 0))
      ok(moveMount(t, ok(fsmount(t, q, 0, 0)), "", AT_FDCWD, "/q3", MOVE_MOUNT_F_EMPTY_PATH))
      expect(r.mounts().map((m) => [m.mountpoint, m.fstype, m.super, m.sb])).toEqual([
        ["/", "tmpfs", "rw,mode=755", "sb0"],
        ["/q1", "mqueue", "rw", "sb1"],
        ["/q2", "mqueue", "rw", "sb1"],
        ["/q3", "mqueue", "rw", "sb2"],
        ["/r", "ramfs", "rw,mode=711", "sb3"]
      ])
    } finally {
      r.destroy()
      assertNoLeaks(r.world.registry)
    }
  })
})

describe("mqueue without an IPC namespace", () => {
  it("tasks that carry none share one implicit superblock, kept by the Vfs until shutdown", () => {
    const w = makeWorld()
    const t = { ...w.task, ipcNs: undefined }
    mkdirs(w, "/q1", "/q2")
    ok(doMount(t, "one", "/q1", "mqueue", 0, null))
    ok(doMount(t, "two", "/q2", "mqueue", 0, null))
    expect(table(w).slice(1).map((m) => [m.source, m.sb])).toEqual([
      ["one", "sb1"],
      ["two", "sb1"]
    ])
    expect(w.vfs.mqueueSb).toBeDefined()
  })
})

describe("fsmount(2)", () => {
  it("checks flags and attributes, then the context: EINVAL before a superblock, EBUSY after", () => {
    const w = makeWorld()
    const t = w.task
    const fs = ok(fsopen(t, "tmpfs", 0))
    expectErrno(fsmount(t, fs, 2, 0), "EINVAL")
    for (const a of [MOUNT_ATTR_IDMAP, MOUNT_ATTR_NOATIME | MOUNT_ATTR_STRICTATIME, MOUNT_ATTR__ATIME, 0x40000000])
      expectErrno(fsmount(t, fs, 0, a), "EINVAL")
    expectErrno(fsmount(t, 9999, 0, 0), "EBADF")
    expectErrno(fsmount(t, fs, 0, 0), "EINVAL")
    ok(fsconfig(t, fs, FSCONFIG_CMD_CREATE, null, null, 0))
    const m = ok(fsmount(t, fs, FSMOUNT_CLOEXEC, MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NOATIME))
    expect(cloexec(w, m)).toBe(true)
    expectErrno(fsmount(t, fs, 0, 0), "EBUSY")
    expectErrno(fsmount(t, m, 0, 0), "EBADF")
    expectErrno(fsmount(t, ok(fspick(t, AT_FDCWD, "/", 0)), 0, 0), "EBUSY")
    mkdirs(w, "/a")
    attach(w, m, "/a")
    expect(table(w)[1]!.options).toBe("ro,nosuid,noatime")
  })

  it("gives an O_PATH-like fd of an invisible detached mount (root 1777) that dies with its last close", () => {
    const w = makeWorld()
    const t = w.task
    // the first fsopen makes the kernel's anon_inodefs mount, which lives until shutdown
    ok(close(t, ok(fsopen(t, "tmpfs", 0))))
    const before = w.registry.size()
    const m = detached(w)
    expect(mountpoints(w)).toEqual(["/"])
    expect(fstatat(t, m, "", AT_EMPTY_PATH)).toMatchObject({ mode: 0o41777 })
    expectErrno(read(t, m, new Uint8Array(8)), "EBADF")
    ok(mkdirat(t, m, "sub", 0o755))
    ok(fchdir(t, m))
    ok(mkdirat(t, AT_FDCWD, "viacwd", 0o755))
    expect(fstatat(t, m, "viacwd", 0)).toMatchObject({ mode: 0o40755 })
    ok(chdir(t, "/"))
    close(t, m)
    expect(w.registry.size()).toBe(before)
  })

  it("keeps an attached mount busy while its fd is open", () => {
    const w = makeWorld()
    const t = w.task
    mkdirs(w, "/a")
    const m = detached(w)
    attach(w, m, "/a")
    expectErrno(ksysUmount(t, "/a", 0), "EBUSY")
    close(t, m)
    ok(ksysUmount(t, "/a", 0))
  })
})

describe("move_mount(2)", () => {
  it("checks flags (MOVE_MOUNT_T_CONTAINER_ROOT is unknown until containers), BENEATH|SET_GROUP, EPERM", () => {
    const w = makeWorld()
    const t = w.task
    mkdirs(w, "/a")
    const m = detached(w)
    expectErrno(moveMount(t, m, "", AT_FDCWD, "/a", MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_CONTAINER_ROOT), "EINVAL")
    expectErrno(moveMount(t, m, "", AT_FDCWD, "/a", MOVE_MOUNT_F_EMPTY_PATH | 0x1000), "EINVAL")
    expectErrno(moveMount(t, m, "", AT_FDCWD, "/a", MOVE_MOUNT_BENEATH | MOVE_MOUNT_SET_GROUP), "EINVAL")
    const cred = unprivileged(w)
    expectErrno(moveMount(asCred(w, cred), m, "", AT_FDCWD, "/a", MOVE_MOUNT_F_EMPTY_PATH), "EPERM")
    cred.put()
    // the target is resolved first; NULL paths need the matching *_EMPTY_PATH flag
    expectErrno(moveMount(t, 9999, "", AT_FDCWD, "/nope", MOVE_MOUNT_F_EMPTY_PATH), "ENOENT")
    expectErrno(moveMount(t, m, null, AT_FDCWD, "/a", 0), "EFAULT")
    expectErrno(moveMount(t, m, "", AT_FDCWD, "/a", 0), "ENOENT")
    const dir = ok(openTree(t, AT_FDCWD, "/a", 0))
    ok(moveMount(t, m, null, dir, null, MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH))
    expect(mountpoints(w)).toEqual(["/", "/a"])
  })

  it("ELOOP into its own subtree or onto itself (mount(MS_MOVE) too); a mount fd used again moves the mount", () => {
    const w = makeWorld()
    const t = w.task
    mkdirs(w, "/a", "/b")
    const m = detached(w)
    attach(w, m, "/a")
    ok(mkdirat(t, AT_FDCWD, "/a/in", 0o755))
    expectErrno(moveMount(t, m, "", AT_FDCWD, "/a", MOVE_MOUNT_F_EMPTY_PATH), "ELOOP")
    expectErrno(moveMount(t, m, "", AT_FDCWD, "/a/in", MOVE_MOUNT_F_EMPTY_PATH), "ELOOP")
    expectErrno(doMount(t, "/a", "/a/in", null, MS_MOVE, null), "ELOOP")
    attach(w, m, "/b")
    expect(mountpoints(w)).toEqual(["/", "/b"])
  })

  it("needs a mount root as source, under a parent that is not shared, and matching types", () => {
    const w = makeWorld()
    const t = w.task
    mkdirs(w, "/a", "/b", "/s", "/d")
    attach(w, detached(w), "/a")
    ok(mkdirat(t, AT_FDCWD, "/a/sub", 0o755))
    expectErrno(moveMount(t, AT_FDCWD, "/a/sub", AT_FDCWD, "/b", 0), "EINVAL")
    ok(close(t, ok(openat(t, AT_FDCWD, "/file", O_CREAT | O_WRONLY, 0o644))))
    const fileClone = ok(openTree(t, AT_FDCWD, "/file", OPEN_TREE_CLONE))
    expectErrno(moveMount(t, fileClone, "", AT_FDCWD, "/b", MOVE_MOUNT_F_EMPTY_PATH), "EINVAL")
    expectErrno(doMount(t, "/file", "/b", null, MS_BIND, null), "ENOTDIR")
    ok(symlinkat(t, "/b", AT_FDCWD, "/link"))
    const m = detached(w)
    expectErrno(moveMount(t, m, "", AT_FDCWD, "/link", MOVE_MOUNT_F_EMPTY_PATH), "EINVAL")
    ok(moveMount(t, m, "", AT_FDCWD, "/link", MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_SYMLINKS))
    // a mount made under a shared parent is shared itself and cannot be moved from there
    ok(doMount(t, "s", "/s", "tmpfs", 0, null))
    ok(doMount(t, null, "/s", null, MS_SHARED, null))
    ok(mkdirat(t, AT_FDCWD, "/s/c", 0o755))
    attach(w, detached(w), "/s/c")
    expectErrno(moveMount(t, AT_FDCWD, "/s/c", AT_FDCWD, "/d", 0), "EINVAL")
    expect(table(w).find((x) => x.mountpoint === "/s/c")!.propagation).toMatch(/^shared:g\d$/)
  })

  it("attaches detached onto detached, refuses attached into detached and mounts of other namespaces", () => {
    const r = new Runner()
    try {
      const t = r.task
      ok(mkdirat(t, AT_FDCWD, "/a", 0o755))
      ok(mkdirat(t, AT_FDCWD, "/x", 0o755))
      const outer = ok(fsmount(t, createdIn(t), 0, 0))
      const inner = ok(fsmount(t, createdIn(t), 0, 0))
      ok(mkdirat(t, outer, "in", 0o755))
      ok(moveMount(t, inner, "", outer, "in", MOVE_MOUNT_F_EMPTY_PATH))
      ok(doMount(t, "x", "/x", "tmpfs", 0, null))
      expectErrno(moveMount(t, AT_FDCWD, "/x", outer, "in", 0), "EINVAL")
      ok(moveMount(t, outer, "", AT_FDCWD, "/a", MOVE_MOUNT_F_EMPTY_PATH))
      expect(r.mounts().map((m) => m.mountpoint)).toEqual(["/", "/a", "/a/in", "/x"])
      const other = ok(openTree(t, AT_FDCWD, "/x", 0))
      expect(r.step({ call: "unshare", args: [CLONE_NEWNS] }).ret).toBe(0)
      expectErrno(moveMount(t, other, "", AT_FDCWD, "/a", MOVE_MOUNT_F_EMPTY_PATH), "EINVAL")
      expectErrno(openTree(t, other, "", AT_EMPTY_PATH | OPEN_TREE_CLONE), "EINVAL")
      expectErrno(mountSetattr(t, other, "", AT_EMPTY_PATH, { attrSet: MOUNT_ATTR_NOEXEC }, 32), "EINVAL")
    } finally {
      r.destroy()
      assertNoLeaks(r.world.registry)
    }
  })

  it("MOVE_MOUNT_BENEATH goes directly under the top mount; a plain dir, / or a detached target is EINVAL", () => {
    const w = makeWorld()
    const t = w.task
    mkdirs(w, "/a", "/plain")
    attach(w, detached(w, { size: "4k" }), "/a")
    const one = detached(w, { size: "8k" })
    const two = detached(w, { size: "12k" })
    expectErrno(moveMount(t, one, "", AT_FDCWD, "/plain", MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_BENEATH), "EINVAL")
    expectErrno(moveMount(t, one, "", AT_FDCWD, "/", MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_BENEATH), "EINVAL")
    expectErrno(moveMount(t, one, "", two, "", MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH | MOVE_MOUNT_BENEATH), "EINVAL")
    ok(moveMount(t, one, "", AT_FDCWD, "/a", MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_BENEATH))
    ok(moveMount(t, two, "", AT_FDCWD, "/a", MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_BENEATH))
    expect(table(w).slice(1).map((m) => [m.mountpoint, m.parent, m.super])).toEqual([
      ["/a", "m0", "rw,size=8k"],
      ["/a", "m1", "rw,size=12k"],
      ["/a", "m2", "rw,size=4k"]
    ])
  })

  it("MOVE_MOUNT_SET_GROUP joins a private mount of the same superblock to a shared or slave mount's group", () => {
    const w = makeWorld()
    const t = w.task
    mkdirs(w, "/a", "/b", "/c", "/o")
    ok(doMount(t, "a", "/a", "tmpfs", 0, null))
    ok(doMount(t, null, "/a", null, MS_SHARED, null))
    ok(doMount(t, "/a", "/b", null, MS_BIND, null))
    ok(doMount(t, null, "/b", null, MS_PRIVATE, null))
    ok(doMount(t, "o", "/o", "tmpfs", 0, null))
    ok(doMount(t, "/a", "/c", null, MS_BIND, null))
    ok(doMount(t, null, "/c", null, MS_PRIVATE, null))
    expectErrno(moveMount(t, AT_FDCWD, "/b", AT_FDCWD, "/c", MOVE_MOUNT_SET_GROUP), "EINVAL")
    expectErrno(moveMount(t, AT_FDCWD, "/a", AT_FDCWD, "/o", MOVE_MOUNT_SET_GROUP), "EINVAL")
    ok(moveMount(t, AT_FDCWD, "/a", AT_FDCWD, "/b", MOVE_MOUNT_SET_GROUP))
    expectErrno(moveMount(t, AT_FDCWD, "/a", AT_FDCWD, "/b", MOVE_MOUNT_SET_GROUP), "EINVAL")
    expect(table(w).map((m) => [m.mountpoint, m.propagation])).toEqual([
      ["/", "private"],
      ["/a", "shared:g1"],
      ["/b", "shared:g1"],
      ["/c", "private"],
      ["/o", "private"]
    ])
  })
})

/** A created tmpfs context fd in `t`. */
const createdIn = (t: VfsWorld["task"]): number => {
  const fs = ok(fsopen(t, "tmpfs", FSOPEN_CLOEXEC))
  ok(fsconfig(t, fs, FSCONFIG_CMD_CREATE, null, null, 0))
  return fs
}

describe("open_tree(2) and open_tree_attr(2)", () => {
  it("checks flags: AT_RECURSIVE needs OPEN_TREE_CLONE, NULL is EFAULT even with AT_EMPTY_PATH, CLONE needs CAP_SYS_ADMIN", () => {
    const w = makeWorld()
    const t = w.task
    expectErrno(openTree(t, AT_FDCWD, "/", AT_RECURSIVE), "EINVAL")
    expectErrno(openTree(t, AT_FDCWD, "/", 0x4), "EINVAL")
    expectErrno(openTree(t, AT_FDCWD, null, AT_EMPTY_PATH), "EFAULT")
    const cred = unprivileged(w)
    expectErrno(openTree(asCred(w, cred), AT_FDCWD, "/", OPEN_TREE_CLONE), "EPERM")
    ok(openTree(asCred(w, cred), AT_FDCWD, "/", 0))
    cred.put()
    expect(cloexec(w, ok(openTree(t, AT_FDCWD, "/", OPEN_TREE_CLOEXEC)))).toBe(true)
  })

  it("without OPEN_TREE_CLONE gives a plain O_PATH fd that moves the mount it names (even unbindable)", () => {
    const w = makeWorld()
    const t = w.task
    mkdirs(w, "/a", "/b")
    ok(doMount(t, "a", "/a", "tmpfs", 0, null))
    ok(doMount(t, null, "/a", null, MS_UNBINDABLE, null))
    expectErrno(openTree(t, AT_FDCWD, "/a", OPEN_TREE_CLONE), "EINVAL")
    const p = ok(openTree(t, AT_FDCWD, "/a", 0))
    expectErrno(read(t, p, new Uint8Array(1)), "EBADF")
    ok(moveMount(t, p, "", AT_FDCWD, "/b", MOVE_MOUNT_F_EMPTY_PATH))
    ok(mkdirat(t, AT_FDCWD, "/b/sub", 0o755))
    const s = ok(openTree(t, AT_FDCWD, "/b/sub", 0))
    expectErrno(moveMount(t, s, "", AT_FDCWD, "/a", MOVE_MOUNT_F_EMPTY_PATH), "EINVAL")
    expect(table(w).map((m) => [m.mountpoint, m.propagation])).toEqual([
      ["/", "private"],
      ["/b", "unbindable"]
    ])
  })

  it("clones a shared mount into its peer group: later propagation arrives, earlier does not", () => {
    const w = makeWorld()
    const t = w.task
    mkdirs(w, "/a", "/b")
    ok(doMount(t, "a", "/a", "tmpfs", 0, null))
    ok(doMount(t, null, "/a", null, MS_SHARED, null))
    mkdirs(w, "/a/early", "/a/late")
    const c = ok(openTree(t, AT_FDCWD, "/a", OPEN_TREE_CLONE | AT_RECURSIVE))
    ok(doMount(t, "e", "/a/early", "tmpfs", 0, null))
    attach(w, c, "/b")
    ok(doMount(t, "l", "/a/late", "tmpfs", 0, null))
    expect(mountpoints(w)).toEqual(["/", "/a", "/a/early", "/a/late", "/b", "/b/late"])
    close(t, c)
  })

  it("dissolves a detached copy at its last close", () => {
    const w = makeWorld()
    const t = w.task
    mkdirs(w, "/a", "/a/b")
    ok(doMount(t, "a", "/a", "tmpfs", 0, null))
    const before = w.registry.size()
    const c = ok(openTree(t, AT_FDCWD, "/a", OPEN_TREE_CLONE | AT_RECURSIVE))
    expect(w.registry.size()).toBeGreaterThan(before)
    close(t, c)
    expect(w.registry.size()).toBe(before)
  })

  it("open_tree_attr applies attributes to the clone, or to the mount itself without OPEN_TREE_CLONE", () => {
    const w = makeWorld()
    const t = w.task
    mkdirs(w, "/a", "/b")
    ok(doMount(t, "a", "/a", "tmpfs", 0, null))
    expectErrno(openTreeAttr(t, AT_FDCWD, "/a", OPEN_TREE_CLONE, null, 32), "EINVAL")
    const c = ok(openTreeAttr(t, AT_FDCWD, "/a", OPEN_TREE_CLONE, { attrSet: MOUNT_ATTR_RDONLY }, 32))
    attach(w, c, "/b")
    ok(openTreeAttr(t, AT_FDCWD, "/a", 0, { attrSet: MOUNT_ATTR_NOEXEC }, 32))
    expect(table(w).slice(1).map((m) => [m.mountpoint, m.options])).toEqual([
      ["/a", "rw,noexec,relatime"],
      ["/b", "ro,relatime"]
    ])
    expectErrno(openTreeAttr(t, AT_FDCWD, "/a", OPEN_TREE_CLONE, { attrSet: MOUNT_ATTR_STRICTATIME }, 32), "EINVAL")
  })
})

describe("fspick(2)", () => {
  it("needs a mount root ('/' works), EFAULT for NULL; reconfigures through the fd; a writer makes ro EBUSY and spoils", () => {
    const w = makeWorld()
    const t = w.task
    mkdirs(w, "/a", "/d")
    ok(doMount(t, "a", "/a", "tmpfs", 0, null))
    ok(symlinkat(t, "/a", AT_FDCWD, "/l"))
    expectErrno(fspick(t, AT_FDCWD, "/d", 0), "EINVAL")
    expectErrno(fspick(t, AT_FDCWD, "/l", FSPICK_SYMLINK_NOFOLLOW), "EINVAL")
    expectErrno(fspick(t, AT_FDCWD, "/a", 0x10), "EINVAL")
    expectErrno(fspick(t, AT_FDCWD, null, FSPICK_EMPTY_PATH), "EFAULT")
    expect(cloexec(w, ok(fspick(t, AT_FDCWD, "/", FSPICK_CLOEXEC)))).toBe(true)
    const p = ok(fspick(t, AT_FDCWD, "/l", 0))
    ok(fsconfig(t, p, FSCONFIG_SET_STRING, "size", "64k", 0))
    ok(fsconfig(t, p, FSCONFIG_CMD_RECONFIGURE, null, null, 0))
    const f = ok(openat(t, AT_FDCWD, "/a/f", O_CREAT | O_WRONLY, 0o644))
    ok(fsconfig(t, p, FSCONFIG_SET_FLAG, "ro", null, 0))
    expectErrno(fsconfig(t, p, FSCONFIG_CMD_RECONFIGURE, null, null, 0), "EBUSY")
    close(t, f)
    expectErrno(fsconfig(t, p, FSCONFIG_CMD_RECONFIGURE, null, null, 0), "EBUSY")
    expect(table(w)[1]!.super).toBe("rw,size=64k")
  })

  it("FSPICK_EMPTY_PATH picks the superblock of a detached mount's fd", () => {
    const w = makeWorld()
    const t = w.task
    mkdirs(w, "/a")
    const m = detached(w, { size: "64k" })
    expectErrno(fspick(t, m, "", 0), "ENOENT")
    const p = ok(fspick(t, m, "", FSPICK_EMPTY_PATH))
    ok(fsconfig(t, p, FSCONFIG_SET_STRING, "size", "128k", 0))
    ok(fsconfig(t, p, FSCONFIG_CMD_RECONFIGURE, null, null, 0))
    attach(w, m, "/a")
    expect(table(w)[1]!.super).toBe("rw,size=128k")
  })
})

describe("mount_setattr(2)", () => {
  it("returns 0 for an all-zero request before looking at the path; flags and size come first", () => {
    const w = makeWorld()
    const t = w.task
    ok(mountSetattr(t, 9999, "/missing", 0, {}, 32))
    expectErrno(mountSetattr(t, 9999, "/missing", 0x2, {}, 32), "EINVAL")
    expectErrno(mountSetattr(t, AT_FDCWD, "/", 0, {}, 31), "EINVAL")
    expectErrno(mountSetattr(t, AT_FDCWD, "/", 0, {}, 4097), "E2BIG")
    expectErrno(mountSetattr(t, AT_FDCWD, "/", 0, null, 32), "EFAULT")
    expectErrno(mountSetattr(t, AT_FDCWD, "/", 0, { tail: new Uint8Array([0, 7]) }, 40), "E2BIG")
    ok(mountSetattr(t, AT_FDCWD, "/", 0, { tail: new Uint8Array([0, 7]) }, 33))
    expectErrno(mountSetattr(t, AT_FDCWD, null, AT_EMPTY_PATH, { attrSet: MOUNT_ATTR_NOEXEC }, 32), "EFAULT")
    const cred = unprivileged(w)
    expectErrno(mountSetattr(asCred(w, cred), AT_FDCWD, "/", 0, {}, 32), "EPERM")
    cred.put()
  })

  it("takes exactly one propagation type and atime changes only with attr_clr = MOUNT_ATTR__ATIME", () => {
    const w = makeWorld()
    const t = w.task
    mkdirs(w, "/a")
    ok(doMount(t, "a", "/a", "tmpfs", 0, null))
    for (const propagation of [MS_REC, MS_SHARED | MS_SLAVE, -1]) expectErrno(mountSetattr(t, AT_FDCWD, "/a", 0, { propagation }, 32), "EINVAL")
    expectErrno(mountSetattr(t, AT_FDCWD, "/a", 0, { attrSet: MOUNT_ATTR_STRICTATIME }, 32), "EINVAL")
    expectErrno(mountSetattr(t, AT_FDCWD, "/a", 0, { attrClr: MOUNT_ATTR_NOATIME }, 32), "EINVAL")
    expectErrno(mountSetattr(t, AT_FDCWD, "/a", 0, { attrSet: 0x400 }, 32), "EINVAL")
    ok(mountSetattr(t, AT_FDCWD, "/a", 0, { attrSet: MOUNT_ATTR_NOATIME, attrClr: MOUNT_ATTR__ATIME, propagation: MS_SHARED }, 32))
    expect(table(w)[1]).toMatchObject({ options: "rw,noatime", propagation: "shared:g1" })
    ok(mountSetattr(t, AT_FDCWD, "/a", 0, { attrSet: MOUNT_ATTR_STRICTATIME, attrClr: MOUNT_ATTR__ATIME, propagation: MS_SLAVE }, 32))
    // MS_SLAVE on a shared mount with no other peer makes it private
    expect(table(w)[1]).toMatchObject({ options: "rw", propagation: "private" })
    ok(mkdirat(t, AT_FDCWD, "/a/sub", 0o755))
    expectErrno(mountSetattr(t, AT_FDCWD, "/a/sub", 0, { attrSet: MOUNT_ATTR_NODEV }, 32), "EINVAL")
  })

  it("is all or nothing: RDONLY with a writer anywhere in the subtree is EBUSY and changes nothing", () => {
    const w = makeWorld()
    const t = w.task
    mkdirs(w, "/a")
    ok(doMount(t, "a", "/a", "tmpfs", 0, null))
    ok(mkdirat(t, AT_FDCWD, "/a/b", 0o755))
    ok(doMount(t, "b", "/a/b", "tmpfs", 0, null))
    const f = ok(openat(t, AT_FDCWD, "/a/b/f", O_CREAT | O_WRONLY, 0o644))
    expectErrno(mountSetattr(t, AT_FDCWD, "/a", AT_RECURSIVE, { attrSet: MOUNT_ATTR_RDONLY, propagation: MS_SHARED }, 32), "EBUSY")
    expect(table(w).map((m) => [m.options, m.propagation])).toEqual([
      ["rw,relatime", "private"],
      ["rw,relatime", "private"],
      ["rw,relatime", "private"]
    ])
    ok(mountSetattr(t, AT_FDCWD, "/a", 0, { attrSet: MOUNT_ATTR_RDONLY }, 32))
    close(t, f)
    ok(mountSetattr(t, AT_FDCWD, "/a", AT_RECURSIVE, { attrSet: MOUNT_ATTR_NODEV | MOUNT_ATTR_NOSUID }, 32))
    expect(table(w).slice(1).map((m) => m.options)).toEqual(["ro,nosuid,nodev,relatime", "rw,nosuid,nodev,relatime"])
  })

  it("checks MOUNT_ATTR_IDMAP's user namespace fd (idmapped mounts are not simulated beyond these checks)", () => {
    const w = makeWorld()
    const t = w.task
    const m = detached(w)
    const uns = ok(installNsFd(w.vfs, t.files, t.cred.userNs, t.cred))
    const mns = ok(installNsFd(w.vfs, t.files, t.mntNs, t.cred))
    const idmap = (usernsFd: number | bigint): MountAttr => ({ attrSet: MOUNT_ATTR_IDMAP, usernsFd })
    expectErrno(mountSetattr(t, m, "", AT_EMPTY_PATH, idmap(uns), 32), "EPERM")
    expectErrno(mountSetattr(t, m, "", AT_EMPTY_PATH, idmap(mns), 32), "EINVAL")
    expectErrno(mountSetattr(t, m, "", AT_EMPTY_PATH, idmap(9999), 32), "EBADF")
    expectErrno(mountSetattr(t, m, "", AT_EMPTY_PATH, idmap(0x80000000), 32), "EINVAL")
    expectErrno(mountSetattr(t, m, "", AT_EMPTY_PATH, { attrClr: MOUNT_ATTR_IDMAP }, 32), "EINVAL")
  })

  it("refuses to clear flags a user-namespace copy locked (EPERM) but lets more be set", () => {
    const r = new Runner()
    try {
      const t = r.task
      ok(mkdirat(t, AT_FDCWD, "/l", 0o755))
      ok(doMount(t, "l", "/l", "tmpfs", MS_NOSUID, null))
      expect(r.step({ call: "unshare", args: [CLONE_NEWUSER | CLONE_NEWNS] }).ret).toBe(0)
      expectErrno(mountSetattr(t, AT_FDCWD, "/l", 0, { attrClr: MOUNT_ATTR_NOSUID }, 32), "EPERM")
      expectErrno(mountSetattr(t, AT_FDCWD, "/l", 0, { attrSet: MOUNT_ATTR_NOATIME, attrClr: MOUNT_ATTR__ATIME }, 32), "EPERM")
      ok(mountSetattr(t, AT_FDCWD, "/l", 0, { attrSet: MOUNT_ATTR_NOEXEC }, 32))
      expect(r.mounts()[1]!.options).toBe("rw,nosuid,noexec,relatime")
    } finally {
      r.destroy()
      assertNoLeaks(r.world.registry)
    }
  })
})

describe("VfsEffect wrappers of the mount API", () => {
  it.effect("fail with the SysError and succeed with the fd", () =>
    Effect.gen(function* () {
      const w = makeWorld()
      const t = w.task
      const err = yield* Effect.flip(VfsEffect.fsopen(t, "nosuchfs", 0))
      expect(err.errno).toBe("ENODEV")
      const fs = yield* VfsEffect.fsopen(t, "tmpfs", 0)
      yield* VfsEffect.fsconfig(t, fs, FSCONFIG_CMD_CREATE, null, null, 0)
      const m = yield* VfsEffect.fsmount(t, fs, 0, 0)
      ok(mkdirat(t, AT_FDCWD, "/a", 0o755))
      yield* VfsEffect.moveMount(t, m, "", AT_FDCWD, "/a", MOVE_MOUNT_F_EMPTY_PATH)
      yield* VfsEffect.mountSetattr(t, AT_FDCWD, "/a", 0, { attrSet: MOUNT_ATTR_NODEV }, 32)
      const c = yield* VfsEffect.openTree(t, AT_FDCWD, "/a", OPEN_TREE_CLONE)
      const p = yield* VfsEffect.fspick(t, AT_FDCWD, "/a", 0)
      const a = yield* VfsEffect.openTreeAttr(t, AT_FDCWD, "/a", 0, null, 0)
      expect([c, p, a].every((fd) => typeof fd === "number")).toBe(true)
      expect(fstatfs(t, c)).toMatchObject({ type: 0x01021994 })
      expect(table(w)[1]!.options).toBe("rw,nodev,relatime")
    })
  )
})

describe("hooks for the container package", () => {
  it("FSCONFIG_SET_CONTAINER and MOVE_MOUNT_T_CONTAINER_ROOT reach Vfs.mountApiHooks once set", () => {
    const w = makeWorld()
    const t = w.task
    const seen: Array<string> = []
    w.vfs.mountApiHooks = {
      fsconfigSetContainer: (_task, fc, cfd) => {
        seen.push(`set-container ${fc.fsType.name} ${cfd}`)
        return undefined
      },
      moveMountContainerRoot: (_task, from, cfd, toPath) => {
        seen.push(`container-root ${from.mnt.sb.type.name} ${cfd} ${toPath}`)
        return undefined
      }
    }
    const fs = ok(fsopen(t, "tmpfs", 0))
    // the aux fd must be open (EBADF), and SET_CONTAINER comes before any parameter (EBUSY)
    expectErrno(fsconfig(t, fs, FSCONFIG_SET_CONTAINER, "key", null, 3), "EINVAL")
    expectErrno(fsconfig(t, fs, FSCONFIG_SET_CONTAINER, null, null, 99), "EBADF")
    ok(fsconfig(t, fs, FSCONFIG_SET_CONTAINER, null, null, fs))
    ok(fsconfig(t, fs, FSCONFIG_CMD_CREATE, null, null, 0))
    expectErrno(fsconfig(t, fs, FSCONFIG_SET_CONTAINER, null, null, fs), "EBUSY")
    const other = ok(fsopen(t, "tmpfs", 0))
    ok(fsconfig(t, other, FSCONFIG_SET_STRING, "size", "1m", 0))
    expectErrno(fsconfig(t, other, FSCONFIG_SET_CONTAINER, null, null, fs), "EBUSY")
    const m = ok(fsmount(t, fs, 0, 0))
    ok(moveMount(t, m, "", 7, "/", MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_CONTAINER_ROOT))
    expect(seen).toEqual([`set-container tmpfs ${fs}`, "container-root tmpfs 7 /"])
  })
})
