import { describe, expect, it } from "@effect/vitest"
import { spawn } from "node:child_process"
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { fileURLToPath } from "node:url"
import {
  AT_FDCWD,
  AT_SYMLINK_NOFOLLOW,
  FSCONFIG_CMD_CREATE,
  FSCONFIG_CMD_CREATE_EXCL,
  FSCONFIG_SET_FLAG,
  FSCONFIG_SET_STRING,
  MOVE_MOUNT_F_EMPTY_PATH,
  MS_NODEV,
  MS_RDONLY,
  MS_REMOUNT,
  MS_SYNCHRONOUS,
  O_CREAT,
  O_RDONLY,
  O_TRUNC,
  O_WRONLY,
  S_IFBLK,
  S_IFCHR,
  type SysError
} from "@simkernel/abi"
import {
  close,
  doMount,
  fchownat,
  fsconfig,
  fsmount,
  fsopen,
  fstatat,
  ksysUmount,
  linkat,
  listDirectory,
  mkdev,
  mkdirat,
  mknodat,
  moveMount,
  openat,
  read,
  readlinkat,
  showMountinfo,
  statfs,
  symlinkat,
  type VfsTask,
  write
} from "@simkernel/vfs"
import { Effect } from "effect"
import {
  attachDisks,
  type BlockDevice,
  CorruptImage,
  DiskError,
  type DiskImage,
  EXT4_SUPER_MAGIC,
  ext4Getxattrs,
  ext4Of,
  ext4Setxattr,
  fileBlockDevice,
  ksysSync,
  memoryBlockDevice,
  mkfsDisk,
  mkfsImage,
  mkfsRootImage,
  readImageFile,
  registerExt4,
  syncFilesystem,
  vfsFsync,
  writeImageFile
} from "../src/disk/index.js"
import { boot } from "../src/Kernel.js"
import { errnoIn as errnoOf, finish, isErr } from "./support.js"

const appDir = fileURLToPath(new URL("..", import.meta.url))
const scratch = (): string => mkdtempSync(join(tmpdir(), "simkernel-ext4-"))
const enc = new TextEncoder()
const dec = new TextDecoder()


/**
 * Boot a kernel with ext4 registered (unless boot already did) and `devices`
 * added in place of any with the same number; `t` is PID 1 as the VFS sees it.
 */
const bootWith = (devices: ReadonlyArray<BlockDevice>) =>
  Effect.gen(function* () {
    const kernel = yield* boot()
    const t = kernel.sched.initTask.vfsTask()
    const ext4 = registerExt4(kernel.vfs, { currentTask: () => t })
    expect(ext4Of(kernel.vfs)).toBe(ext4)
    for (const d of devices) {
      const old = ext4.device(mkdev(d.major, d.minor))
      if (old !== undefined) expect(ext4.removeDevice(old)).toBeUndefined()
      expect(ext4.addDevice(d)).toBeUndefined()
      expect(ext4.addDevice(d)?.errno).toBe("EEXIST")
    }
    const printk = ext4.log
    return { kernel, t, ext4, printk }
  })

const writeFile = (t: VfsTask, path: string, text: string, mode = 0o644): void => {
  const fd = openat(t, AT_FDCWD, path, O_CREAT | O_WRONLY | O_TRUNC, mode)
  if (isErr(fd)) throw new Error(`open ${path}: ${fd.message}`)
  expect(write(t, fd, enc.encode(text))).toBe(enc.encode(text).length)
  expect(close(t, fd)).toBeUndefined()
}

const readFile = (t: VfsTask, path: string): string | SysError => {
  const fd = openat(t, AT_FDCWD, path, O_RDONLY, 0)
  if (isErr(fd)) return fd
  const buf = new Uint8Array(1 << 16)
  const n = read(t, fd, buf)
  close(t, fd)
  return isErr(n) ? n : dec.decode(buf.subarray(0, n))
}

const mountinfoLine = (t: VfsTask, where: string): string | undefined =>
  showMountinfo({ root: t.fs.root, ns: t.mntNs })
    .split("\n")
    .find((l) => l.split(" ")[4] === where)

/** fsopen("ext4") with `params`, then CMD_CREATE (or _EXCL): the errno (or "ok") and the context's log. */
const tryCreate = (t: VfsTask, params: ReadonlyArray<readonly [string, string | null]>, excl = false): { result: string; log: Array<string> } => {
  const fd = fsopen(t, "ext4", 0) as number
  let result = "ok"
  for (const [k, v] of params) {
    const r = v === null ? fsconfig(t, fd, FSCONFIG_SET_FLAG, k, null, 0) : fsconfig(t, fd, FSCONFIG_SET_STRING, k, v, 0)
    if (isErr(r)) {
      result = r.errno
      break
    }
  }
  if (result === "ok") {
    const r = fsconfig(t, fd, excl ? FSCONFIG_CMD_CREATE_EXCL : FSCONFIG_CMD_CREATE, null, null, 0)
    if (isErr(r)) result = r.errno
  }
  const log: Array<string> = []
  const buf = new Uint8Array(512)
  for (;;) {
    const n = read(t, fd, buf)
    if (isErr(n)) break
    log.push(dec.decode(buf.subarray(0, n)).trimEnd())
  }
  close(t, fd)
  return { result, log }
}

const imageFile = (dir: string, image: DiskImage = mkfsImage("data", "11111111-2222-4333-8444-555555555555", "1700000000000000000")): string => {
  const path = join(dir, "sda3.img")
  writeImageFile(path, image)
  return path
}

describe("ext4: mounting a disk", () => {
  it.effect("files, modes, owners, symlinks, device nodes, hard links and xattrs survive sync, umount and remount", () =>
    Effect.gen(function* () {
      const dir = scratch()
      try {
        const path = imageFile(dir)
        const { kernel, t } = yield* bootWith([fileBlockDevice("sda3", path)])
        expect(doMount(t, "/dev/sda3", "/mnt", "ext4", 0, null)).toBeUndefined()
        expect(listDirectory(t, AT_FDCWD, "/mnt")).toEqual(["lost+found"])
        writeFile(t, "/mnt/hello.txt", "hello, disk\n", 0o640)
        expect(fchownat(t, AT_FDCWD, "/mnt/hello.txt", 1000, 100, 0)).toBeUndefined()
        expect(mkdirat(t, AT_FDCWD, "/mnt/d", 0o750)).toBeUndefined()
        expect(mkdirat(t, AT_FDCWD, "/mnt/d/e", 0o700)).toBeUndefined()
        expect(symlinkat(t, "../hello.txt", AT_FDCWD, "/mnt/d/link")).toBeUndefined()
        expect(mknodat(t, AT_FDCWD, "/mnt/d/null", S_IFCHR | 0o666, mkdev(1, 3))).toBeUndefined()
        expect(mknodat(t, AT_FDCWD, "/mnt/d/disk", S_IFBLK | 0o660, mkdev(8, 17))).toBeUndefined()
        expect(linkat(t, AT_FDCWD, "/mnt/hello.txt", AT_FDCWD, "/mnt/d/hard", 0)).toBeUndefined()
        writeFile(t, "/mnt/empty", "")
        const big = "0123456789abcdef".repeat(1000)
        writeFile(t, "/mnt/d/big", big)
        const helloIno = (fstatat(t, AT_FDCWD, "/mnt/hello.txt", 0) as { ino: number }).ino
        // the unsynced state is not on the disk yet
        expect((readImageFile(path) as DiskImage).generation).toBe(0)
        expect(ksysUmount(t, "/mnt", 0)).toBeUndefined()
        // umount of the last mount wrote it back, one generation on
        expect((readImageFile(path) as DiskImage).generation).toBe(1)

        expect(doMount(t, "/dev/sda3", "/mnt", "ext4", 0, null)).toBeUndefined()
        expect(listDirectory(t, AT_FDCWD, "/mnt")).toEqual(["d", "empty", "hello.txt", "lost+found"])
        expect(readFile(t, "/mnt/hello.txt")).toBe("hello, disk\n")
        expect(readFile(t, "/mnt/empty")).toBe("")
        expect(readFile(t, "/mnt/d/big")).toBe(big)
        const st = fstatat(t, AT_FDCWD, "/mnt/hello.txt", 0)
        expect(st).toMatchObject({ ino: helloIno, mode: 0o100640, uid: 1000, gid: 100, nlink: 2, size: 12 })
        expect(fstatat(t, AT_FDCWD, "/mnt/d/hard", 0)).toMatchObject({ ino: helloIno, nlink: 2 })
        expect(fstatat(t, AT_FDCWD, "/mnt/d", 0)).toMatchObject({ mode: 0o40750, nlink: 3 })
        expect(readlinkat(t, AT_FDCWD, "/mnt/d/link")).toBe("../hello.txt")
        expect(readFile(t, "/mnt/d/link")).toBe("hello, disk\n")
        expect(fstatat(t, AT_FDCWD, "/mnt/d/null", AT_SYMLINK_NOFOLLOW)).toMatchObject({ mode: 0o20644, rdev: mkdev(1, 3) })
        expect(fstatat(t, AT_FDCWD, "/mnt/d/disk", AT_SYMLINK_NOFOLLOW)).toMatchObject({ mode: 0o60640, rdev: mkdev(8, 17) })
        // (mknod applied the umask, 022) a character device on the disk works as one (the VFS's driver for 1:3)
        const nfd = openat(t, AT_FDCWD, "/mnt/d/null", O_WRONLY, 0) as number
        expect(write(t, nfd, enc.encode("gone"))).toBe(4)
        close(t, nfd)
        // the device number of the superblock is the block device's
        expect((fstatat(t, AT_FDCWD, "/mnt", 0) as { dev: number }).dev).toBe(mkdev(8, 3))
        expect(ksysUmount(t, "/mnt", 0)).toBeUndefined()
        // nothing changed: no new generation
        expect((readImageFile(path) as DiskImage).generation).toBe(1)
        yield* finish(kernel)
      } finally {
        rmSync(dir, { recursive: true, force: true })
      }
    })
  )

  it.effect("extended attributes are kept in the image (user_xattr)", () =>
    Effect.gen(function* () {
      const dev = memoryBlockDevice("sda3")
      const { kernel, t } = yield* bootWith([dev])
      expect(doMount(t, "/dev/sda3", "/mnt", "ext4", 0, "user_xattr")).toBeUndefined()
      writeFile(t, "/mnt/f", "x")
      const fd = openat(t, AT_FDCWD, "/mnt/f", O_RDONLY, 0) as number
      const inode = t.files.fdget(fd)!.inode
      expect(ext4Setxattr(inode, "user.colour", enc.encode("blue"))).toBeUndefined()
      expect(ext4Setxattr(inode, "user.gone", undefined)?.errno).toBe("ENODATA")
      close(t, fd)
      expect(ksysUmount(t, "/mnt", 0)).toBeUndefined()
      const f = (dev.load() as DiskImage).inodes.find((i) => i.ino === 12)!
      expect(f.xattrs).toEqual({ "user.colour": Buffer.from("blue").toString("base64") })
      expect(doMount(t, "/dev/sda3", "/mnt", "ext4", 0, null)).toBeUndefined()
      const fd2 = openat(t, AT_FDCWD, "/mnt/f", O_RDONLY, 0) as number
      const x = ext4Getxattrs(t.files.fdget(fd2)!.inode)!
      expect(dec.decode(x.get("user.colour"))).toBe("blue")
      close(t, fd2)
      // not an ext4 inode
      const fd3 = openat(t, AT_FDCWD, "/etc", O_RDONLY, 0) as number
      expect(ext4Setxattr(t.files.fdget(fd3)!.inode, "user.a", enc.encode("1"))?.errno).toBe("EOPNOTSUPP")
      close(t, fd3)
      expect(ksysUmount(t, "/mnt", 0)).toBeUndefined()
      yield* finish(kernel)
    })
  )

  it.effect("mountinfo shows 8:3 and ext4's options as Linux prints them; statfs says EXT4_SUPER_MAGIC", () =>
    Effect.gen(function* () {
      const { kernel, t } = yield* bootWith([memoryBlockDevice("sda3")])
      const cases: ReadonlyArray<readonly [number, string | null, string]> = [
        [0, null, "rw,relatime - ext4 /dev/sda3 rw"],
        [0, "errors=remount-ro", "rw,relatime - ext4 /dev/sda3 rw,errors=remount-ro"],
        [0, "errors=continue", "rw,relatime - ext4 /dev/sda3 rw"],
        [0, "errors=panic", "rw,relatime - ext4 /dev/sda3 rw,errors=panic"],
        [0, "user_xattr", "rw,relatime - ext4 /dev/sda3 rw"],
        [MS_RDONLY, null, "ro,relatime - ext4 /dev/sda3 ro"],
        [MS_RDONLY, "errors=remount-ro", "ro,relatime - ext4 /dev/sda3 ro,errors=remount-ro"]
      ]
      for (const [flags, data, want] of cases) {
        expect(doMount(t, "/dev/sda3", "/mnt", "ext4", flags, data)).toBeUndefined()
        const line = mountinfoLine(t, "/mnt")!
        expect(line.split(" ").slice(2, 4)).toEqual(["8:3", "/"])
        expect(line.split(" ").slice(5).join(" ")).toBe(want)
        expect(ksysUmount(t, "/mnt", 0)).toBeUndefined()
      }
      expect(doMount(t, "/dev/sda3", "/mnt", "ext4", 0, null)).toBeUndefined()
      const st = statfs(t, "/mnt")
      expect(st).toMatchObject({ type: EXT4_SUPER_MAGIC, bsize: 4096, namelen: 255 })
      expect(kernel.vfs.procFilesystems()).toContain("\text4\n")
      expect(kernel.vfs.procFilesystems()).not.toContain("nodev\text4")
      expect(ksysUmount(t, "/mnt", 0)).toBeUndefined()
      yield* finish(kernel)
    })
  )

  it.effect("the fd-based mount API mounts it too: fsopen, fsconfig, fsmount, move_mount", () =>
    Effect.gen(function* () {
      const dev = memoryBlockDevice("sda3", mkfsRootImage({ programs: ["sh"], uuid: "u-api", time: "1700000000000000000" }) as DiskImage)
      const { kernel, t } = yield* bootWith([dev])
      const fsfd = fsopen(t, "ext4", 0) as number
      expect(fsconfig(t, fsfd, FSCONFIG_SET_STRING, "source", "/dev/sda3", 0)).toBe(0)
      expect(fsconfig(t, fsfd, FSCONFIG_SET_STRING, "errors", "remount-ro", 0)).toBe(0)
      expect(fsconfig(t, fsfd, FSCONFIG_CMD_CREATE, null, null, 0)).toBe(0)
      const mfd = fsmount(t, fsfd, 0, 0) as number
      expect(typeof mfd).toBe("number")
      expect(moveMount(t, mfd, "", AT_FDCWD, "/mnt", MOVE_MOUNT_F_EMPTY_PATH)).toBe(0)
      close(t, mfd)
      close(t, fsfd)
      expect(mountinfoLine(t, "/mnt")!.split(" ").slice(2).join(" ")).toBe("8:3 / /mnt rw,relatime - ext4 /dev/sda3 rw,errors=remount-ro")
      expect(readFile(t, "/mnt/bin/sh")).toBe("#!simkernel sh\n")
      writeFile(t, "/mnt/root/note", "via the mount API\n")
      expect(ksysUmount(t, "/mnt", 0)).toBeUndefined()
      const image = dev.load() as DiskImage
      expect(image.generation).toBe(1)
      expect(image.inodes.some((i) => i.type === "file" && Buffer.from(i.data, "base64").toString() === "via the mount API\n")).toBe(true)
      yield* finish(kernel)
    })
  )

  it.effect("a second mount of the device shares its superblock, as get_tree_bdev() does", () =>
    Effect.gen(function* () {
      const dev = memoryBlockDevice("sda3")
      const { kernel, t } = yield* bootWith([dev])
      expect(mkdirat(t, AT_FDCWD, "/mnt/a", 0o755)).toBeUndefined()
      expect(mkdirat(t, AT_FDCWD, "/tmp/b", 0o755)).toBeUndefined()
      expect(doMount(t, "/dev/sda3", "/mnt/a", "ext4", 0, null)).toBeUndefined()
      expect(doMount(t, "/dev/sda3", "/tmp/b", "ext4", 0, null)).toBeUndefined()
      writeFile(t, "/mnt/a/shared", "one tree")
      expect(readFile(t, "/tmp/b/shared")).toBe("one tree")
      expect(mountinfoLine(t, "/tmp/b")!.split(" ")[2]).toBe("8:3")
      // the read-only state cannot change under the other mount; CREATE_EXCL refuses to share
      expect(tryCreate(t, [["source", "/dev/sda3"], ["ro", null]])).toEqual({ result: "EBUSY", log: ["w sda3: Can't mount, would change RO state"] })
      expect(tryCreate(t, [["source", "/dev/sda3"]], true)).toEqual({ result: "EBUSY", log: [] })
      expect(tryCreate(t, [["source", "/dev/sda3"]])).toEqual({ result: "ok", log: [] })
      // unmounting one writes nothing yet; the last one does
      expect(ksysUmount(t, "/mnt/a", 0)).toBeUndefined()
      expect((dev.load() as DiskImage).generation).toBe(0)
      expect(ksysUmount(t, "/tmp/b", 0)).toBeUndefined()
      const image = dev.load() as DiskImage
      expect(image.generation).toBe(1)
      expect(image.inodes.find((i) => i.type === "dir" && i.ino === 2)).toMatchObject({ entries: [["lost+found", 11], ["shared", 12]] })
      yield* finish(kernel)
    })
  )
})

describe("ext4: refusing what cannot be mounted", () => {
  it.effect("corrupt images are EUCLEAN with the reason in the fs context log; an unformatted device is EINVAL", () =>
    Effect.gen(function* () {
      const dir = scratch()
      try {
        const path = imageFile(dir)
        const good = readFileSync(path)
        const { kernel, t, printk } = yield* bootWith([fileBlockDevice("sda3", path)])
        const flipped = Buffer.from(good)
        flipped[flipped.length - 3] = flipped[flipped.length - 3]! ^ 0x20
        writeFileSync(path, flipped)
        expect(tryCreate(t, [["source", "/dev/sda3"]])).toEqual({ result: "EUCLEAN", log: ["e ext4: sda3: corrupted filesystem: checksum mismatch"] })
        writeFileSync(path, good.subarray(0, good.length - 10))
        expect(tryCreate(t, [["source", "/dev/sda3"]]).result).toBe("EUCLEAN")
        // a table with a valid checksum but wrong link counts
        const base = mkfsImage("x", "u", "1")
        writeImageFile(path, { ...base, inodes: base.inodes.map((i) => (i.ino === 11 ? { ...i, nlink: 7 } : i)) })
        expect(tryCreate(t, [["source", "/dev/sda3"]])).toEqual({ result: "EUCLEAN", log: ["e ext4: sda3: corrupted filesystem: inode 11: link count 7, found 2"] })
        // mount(2) says the same
        expect(errnoOf(doMount(t, "/dev/sda3", "/mnt", "ext4", 0, null))).toBe("EUCLEAN")
        // never formatted: zeroes, or nothing at all
        writeFileSync(path, Buffer.alloc(4096))
        expect(tryCreate(t, [["source", "/dev/sda3"]])).toEqual({ result: "EINVAL", log: ["e ext4: VFS: Can't find ext4 filesystem"] })
        writeFileSync(path, Buffer.alloc(0))
        expect(errnoOf(doMount(t, "/dev/sda3", "/mnt", "ext4", 0, null))).toBe("EINVAL")
        expect(printk).toContain("EXT4-fs (sda3): VFS: Can't find ext4 filesystem")
        expect(printk.some((l) => l.startsWith("EXT4-fs (sda3): corrupted filesystem: checksum mismatch"))).toBe(true)
        // a refused image is left as it was
        expect(readFileSync(path).length).toBe(0)
        expect(mountinfoLine(t, "/mnt")).toBeUndefined()
        yield* finish(kernel)
      } finally {
        rmSync(dir, { recursive: true, force: true })
      }
    })
  )

  it.effect("source and option errors are Linux's: ENOTBLK, ENOENT, ENXIO, EACCES on nodev, EINVAL for options", () =>
    Effect.gen(function* () {
      const { kernel, t } = yield* bootWith([memoryBlockDevice("sda3")])
      expect(tryCreate(t, [])).toEqual({ result: "EINVAL", log: ["e No source specified"] })
      expect(tryCreate(t, [["source", "/dev/null"]])).toEqual({ result: "ENOTBLK", log: ["e /dev/null: Can't lookup blockdev"] })
      expect(tryCreate(t, [["source", "/nonexist"]])).toEqual({ result: "ENOENT", log: ["e /nonexist: Can't lookup blockdev"] })
      // /dev/sda is 8:0, which no device was added for
      expect(tryCreate(t, [["source", "/dev/sda"]])).toEqual({ result: "ENXIO", log: ["e /dev/sda: Can't open blockdev"] })
      expect(mkdirat(t, AT_FDCWD, "/tmp/nd", 0o755)).toBeUndefined()
      expect(doMount(t, "none", "/tmp/nd", "tmpfs", MS_NODEV, null)).toBeUndefined()
      expect(mknodat(t, AT_FDCWD, "/tmp/nd/disk", S_IFBLK | 0o600, mkdev(8, 3))).toBeUndefined()
      expect(tryCreate(t, [["source", "/tmp/nd/disk"]])).toEqual({ result: "EACCES", log: ["e /tmp/nd/disk: Can't lookup blockdev"] })
      // the same node on a mount without nodev works
      expect(mknodat(t, AT_FDCWD, "/tmp/disk", S_IFBLK | 0o600, mkdev(8, 3))).toBeUndefined()
      expect(tryCreate(t, [["source", "/tmp/disk"]]).result).toBe("ok")
      expect(tryCreate(t, [["errors", "bad"]])).toEqual({ result: "EINVAL", log: ["e ext4: Bad value for 'errors'"] })
      expect(tryCreate(t, [["user_xattr", "1"]])).toEqual({ result: "EINVAL", log: ["e ext4: Unexpected value for 'user_xattr'"] })
      expect(tryCreate(t, [["bogus", null]])).toEqual({ result: "EINVAL", log: ["e ext4: Unknown parameter 'bogus'"] })
      expect(errnoOf(doMount(t, "/dev/sda3", "/mnt", "ext4", 0, "nosuchoption"))).toBe("EINVAL")
      expect(ksysUmount(t, "/tmp/nd", 0)).toBeUndefined()
      yield* finish(kernel)
    })
  )
})

describe("ext4: read-only", () => {
  it.effect("a read-only mount never writes: the image's bytes and mtime stay", () =>
    Effect.gen(function* () {
      const dir = scratch()
      try {
        const path = imageFile(dir, mkfsRootImage({ programs: ["sh", "ls"], uuid: "u-ro", time: "1600000000000000000" }) as DiskImage)
        const before = readFileSync(path)
        const mtime = statSync(path).mtimeMs
        const { kernel, t } = yield* bootWith([fileBlockDevice("sda3", path)])
        expect(doMount(t, "/dev/sda3", "/mnt", "ext4", MS_RDONLY, null)).toBeUndefined()
        expect(readFile(t, "/mnt/etc/hostname")).toBe("simkernel\n")
        expect(errnoOf(openat(t, AT_FDCWD, "/mnt/new", O_CREAT | O_WRONLY, 0o644))).toBe("EROFS")
        expect(errnoOf(mkdirat(t, AT_FDCWD, "/mnt/dir", 0o755))).toBe("EROFS")
        ksysSync(kernel.vfs)
        const fd = openat(t, AT_FDCWD, "/mnt/bin/sh", O_RDONLY, 0) as number
        expect(vfsFsync(t.files.fdget(fd)!)).toBeUndefined()
        close(t, fd)
        expect(ksysUmount(t, "/mnt", 0)).toBeUndefined()
        expect(doMount(t, "/dev/sda3", "/mnt", "ext4", MS_RDONLY, "errors=remount-ro")).toBeUndefined()
        yield* finish(kernel)
        expect(readFileSync(path).equals(before)).toBe(true)
        expect(statSync(path).mtimeMs).toBe(mtime)
      } finally {
        rmSync(dir, { recursive: true, force: true })
      }
    })
  )

  it.effect("a read-only device (--disk sda3=IMG:ro) mounts only read-only; rw is EACCES, and so is remounting rw", () =>
    Effect.gen(function* () {
      const dir = scratch()
      try {
        const path = imageFile(dir)
        const before = readFileSync(path)
        const devices = attachDisks([`sda3=${path}:ro`])
        expect(devices).not.toBeInstanceOf(DiskError)
        const [dev] = devices as ReadonlyArray<BlockDevice>
        expect(dev).toMatchObject({ name: "sda3", major: 8, minor: 3, readOnly: true })
        const { kernel, t } = yield* bootWith([dev!])
        expect(tryCreate(t, [["source", "/dev/sda3"]])).toEqual({ result: "EACCES", log: [] })
        expect(doMount(t, "/dev/sda3", "/mnt", "ext4", MS_RDONLY, null)).toBeUndefined()
        expect(errnoOf(doMount(t, null as unknown as string, "/mnt", null as unknown as string, MS_REMOUNT, null))).toBe("EACCES")
        expect(ksysUmount(t, "/mnt", 0)).toBeUndefined()
        yield* finish(kernel)
        expect(readFileSync(path).equals(before)).toBe(true)
      } finally {
        rmSync(dir, { recursive: true, force: true })
      }
    })
  )
})

describe("ext4: sync", () => {
  it.effect("sync(2), syncfs(2), fsync(2) and a remount read-only write the tree back; unsynced writes are not on the disk", () =>
    Effect.gen(function* () {
      const dev = memoryBlockDevice("sda3")
      const { kernel, t } = yield* bootWith([dev])
      const names = () => {
        const root = (dev.load() as DiskImage).inodes.find((i) => i.ino === 2)
        return root?.type === "dir" ? root.entries.map(([n]) => n) : []
      }
      expect(doMount(t, "/dev/sda3", "/mnt", "ext4", 0, null)).toBeUndefined()
      writeFile(t, "/mnt/a", "a")
      expect(names()).toEqual(["lost+found"])
      ksysSync(kernel.vfs)
      expect(names()).toEqual(["lost+found", "a"])
      expect((dev.load() as DiskImage).generation).toBe(1)
      // nothing new: no write
      ksysSync(kernel.vfs)
      expect((dev.load() as DiskImage).generation).toBe(1)
      writeFile(t, "/mnt/b", "b")
      const fd = openat(t, AT_FDCWD, "/mnt/b", O_RDONLY, 0) as number
      expect(vfsFsync(t.files.fdget(fd)!)).toBeUndefined()
      expect(names()).toEqual(["lost+found", "a", "b"])
      writeFile(t, "/mnt/c", "c")
      expect(syncFilesystem(t.files.fdget(fd)!.inode.sb)).toBeUndefined()
      expect(names()).toEqual(["lost+found", "a", "b", "c"])
      close(t, fd)
      // fsync of a device file is EINVAL, of a tmpfs file a no-op
      const nfd = openat(t, AT_FDCWD, "/dev/null", O_RDONLY, 0) as number
      expect(vfsFsync(t.files.fdget(nfd)!)?.errno).toBe("EINVAL")
      close(t, nfd)
      const efd = openat(t, AT_FDCWD, "/sbin/init", O_RDONLY, 0) as number
      expect(vfsFsync(t.files.fdget(efd)!)).toBeUndefined()
      close(t, efd)
      writeFile(t, "/mnt/d", "d")
      expect(doMount(t, null as unknown as string, "/mnt", null as unknown as string, MS_REMOUNT | MS_RDONLY, null)).toBeUndefined()
      expect(names()).toEqual(["lost+found", "a", "b", "c", "d"])
      expect(mountinfoLine(t, "/mnt")!.endsWith("ext4 /dev/sda3 ro")).toBe(true)
      expect(doMount(t, null as unknown as string, "/mnt", null as unknown as string, MS_REMOUNT, "errors=remount-ro")).toBeUndefined()
      expect(mountinfoLine(t, "/mnt")!.endsWith("ext4 /dev/sda3 rw,errors=remount-ro")).toBe(true)
      writeFile(t, "/mnt/e", "e")
      // kernel shutdown unmounts everything: the last write-back
      yield* finish(kernel)
      expect(names()).toEqual(["lost+found", "a", "b", "c", "d", "e"])
    })
  )

  it.effect("a second kernel opening the same image file sees the synced tree", () =>
    Effect.gen(function* () {
      const dir = scratch()
      try {
        const path = imageFile(dir)
        const a = yield* bootWith([fileBlockDevice("sda3", path)])
        expect(doMount(a.t, "/dev/sda3", "/mnt", "ext4", 0, null)).toBeUndefined()
        expect(mkdirat(a.t, AT_FDCWD, "/mnt/etc", 0o755)).toBeUndefined()
        writeFile(a.t, "/mnt/etc/motd", "synced\n")
        ksysSync(a.kernel.vfs)
        writeFile(a.t, "/mnt/later", "not yet\n")
        // another kernel, the same file, while the first still has it mounted
        const b = yield* bootWith([fileBlockDevice("sda3", path)])
        expect(doMount(b.t, "/dev/sda3", "/mnt", "ext4", MS_RDONLY, null)).toBeUndefined()
        expect(readFile(b.t, "/mnt/etc/motd")).toBe("synced\n")
        expect(errnoOf(readFile(b.t, "/mnt/later"))).toBe("ENOENT")
        yield* finish(b.kernel)
        yield* finish(a.kernel)
        const c = yield* bootWith([fileBlockDevice("sda3", path)])
        expect(doMount(c.t, "/dev/sda3", "/mnt", "ext4", 0, null)).toBeUndefined()
        expect(readFile(c.t, "/mnt/later")).toBe("not yet\n")
        yield* finish(c.kernel)
      } finally {
        rmSync(dir, { recursive: true, force: true })
      }
    })
  )

  it.effect("a write-back the host refuses is EIO; errors=remount-ro then makes the filesystem read-only", () =>
    Effect.gen(function* () {
      const dir = scratch()
      try {
        const path = imageFile(dir)
        // a disk that goes away: its writes fail as the host's would
        const base = fileBlockDevice("sda3", path)
        let gone = false
        const dev: BlockDevice = {
          ...base,
          store: (image) => {
            if (gone) throw new Error("EIO: i/o error")
            base.store(image)
          }
        }
        const { kernel, t, printk } = yield* bootWith([dev])
        expect(doMount(t, "/dev/sda3", "/mnt", "ext4", 0, "errors=remount-ro")).toBeUndefined()
        writeFile(t, "/mnt/x", "x")
        gone = true
        const fd = openat(t, AT_FDCWD, "/mnt/x", O_RDONLY, 0) as number
        expect(vfsFsync(t.files.fdget(fd)!)?.errno).toBe("EIO")
        close(t, fd)
        expect(printk.some((l) => l.startsWith("EXT4-fs error (device sda3): write-back failed"))).toBe(true)
        expect(printk).toContain("EXT4-fs (sda3): Remounting filesystem read-only")
        expect(mountinfoLine(t, "/mnt")!.endsWith("ext4 /dev/sda3 ro,errors=remount-ro")).toBe(true)
        expect(errnoOf(openat(t, AT_FDCWD, "/mnt/y", O_CREAT | O_WRONLY, 0o644))).toBe("EROFS")
        yield* finish(kernel)
        expect((readImageFile(path) as DiskImage).generation).toBe(0)
      } finally {
        rmSync(dir, { recursive: true, force: true })
      }
    })
  )
})

/** The child for the SIGKILL tests: boots, mounts the image (with `mountFlags`), then runs `body` and hangs. */
const childScript = (imagePath: string, body: string, mountFlags = 0): string => `
import { Effect } from "effect"
import { AT_FDCWD, O_CREAT, O_WRONLY, O_TRUNC } from "@simkernel/abi"
import { close, doMount, mkdev, mkdirat, openat, renameat2, write } from "@simkernel/vfs"
import { boot } from "./dist/Kernel.js"
import { fileBlockDevice, ksysSync, registerExt4 } from "./dist/disk/index.js"
const kernel = await Effect.runPromise(boot())
const t = kernel.sched.initTask.vfsTask()
const ext4 = registerExt4(kernel.vfs, { currentTask: () => t })
const check = (what, r) => { if (r !== undefined && typeof r !== "number") { console.error(what, r.message); process.exit(3) } }
const old = ext4.device(mkdev(8, 3))
if (old !== undefined) ext4.removeDevice(old)
check("add", ext4.addDevice(fileBlockDevice("sda3", ${JSON.stringify(imagePath)})))
check("mount", doMount(t, "/dev/sda3", "/mnt", "ext4", ${mountFlags}, null))
const put = (path, text) => {
  const fd = openat(t, AT_FDCWD, path, O_CREAT | O_WRONLY | O_TRUNC, 0o644)
  check("open " + path, fd)
  check("write " + path, write(t, fd, new TextEncoder().encode(text)))
  close(t, fd)
}
const say = (line) => new Promise((r) => process.stdout.write(line + "\\n", r))
${body}
setInterval(() => {}, 1000)
`

/** Run the child until `until(out)` holds, then (after `delayMs`) kill it with SIGKILL; its output. */
const runChild = (script: string, until: (out: string) => boolean, delayMs = 0): Promise<string> =>
  new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ["--input-type=module", "-e", script], { cwd: appDir, stdio: ["ignore", "pipe", "pipe"] })
    let out = ""
    let err = ""
    let killed = false
    const kill = () => {
      if (!killed) {
        killed = true
        child.kill("SIGKILL")
      }
    }
    let armed = false
    child.stdout.on("data", (d: Buffer) => {
      out += d.toString()
      if (!armed && until(out)) {
        armed = true
        if (delayMs === 0) kill()
        else setTimeout(kill, delayMs)
      }
    })
    child.stderr.on("data", (d: Buffer) => (err += d.toString()))
    const guard = setTimeout(kill, 20_000)
    child.on("exit", (code, signal) => {
      clearTimeout(guard)
      if (signal === "SIGKILL") resolve(out)
      else reject(new Error(`child exited with ${code}: ${err}`))
    })
  })

const fileData = (image: DiskImage, name: string): string | undefined => {
  const root = image.inodes.find((i) => i.ino === 2)
  if (root?.type !== "dir") return undefined
  const ino = root.entries.find(([n]) => n === name)?.[1]
  const f = image.inodes.find((i) => i.ino === ino)
  return f?.type === "file" ? Buffer.from(f.data, "base64").toString() : undefined
}

describe("ext4: a host process killed with SIGKILL", () => {
  it("keeps what was synced and loses what was not; the image stays readable", async () => {
    const dir = scratch()
    try {
      const path = imageFile(dir)
      const body = `
put("/mnt/synced.txt", "kept\\n".repeat(100))
mkdirat(t, AT_FDCWD, "/mnt/dir", 0o755)
ksysSync(kernel.vfs)
await say("synced")
put("/mnt/unsynced.txt", "lost\\n")
put("/mnt/synced.txt", "changed after the sync\\n")
await say("written")
`
      const out = await runChild(childScript(path, body), (o) => o.includes("written\n"))
      expect(out).toBe("synced\nwritten\n")
      const image = readImageFile(path)
      expect(image).not.toBeInstanceOf(CorruptImage)
      const img = image as DiskImage
      expect(img.generation).toBe(1)
      expect(fileData(img, "synced.txt")).toBe("kept\n".repeat(100))
      expect(fileData(img, "unsynced.txt")).toBeUndefined()
      expect(img.inodes.find((i) => i.ino === 2)).toMatchObject({ entries: [["lost+found", 11], ["synced.txt", 12], ["dir", 13]] })
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  }, 30_000)

  it("killed at random points while writing and syncing, every synced file is present and intact", async () => {
    const dir = scratch()
    try {
      const path = imageFile(dir)
      const body = `
for (let i = 1; ; i++) {
  put("/mnt/f" + i, ("file " + i + "\\n").repeat(50 + i))
  if (i % 2 === 0) {
    ksysSync(kernel.vfs)
    await say("synced " + i)
  }
  await new Promise((r) => setImmediate(r))
}
`
      let lastSeen = 0
      for (let round = 0; round < 5; round++) {
        // killed a few syncs in, a little later each round: between writes, in a sync, between the two
        const out = await runChild(childScript(path, body), (o) => (o.match(/synced/g)?.length ?? 0) >= 1 + round, 1 + ((round * 7) % 13))
        const synced = [...out.matchAll(/synced (\d+)/g)].map((m) => Number(m[1]))
        expect(synced.length).toBeGreaterThan(round)
        expect(readdirSync(dir).filter((f) => f !== "sda3.img").every((f) => f.endsWith(".tmp"))).toBe(true)
        const image = readImageFile(path)
        expect(image).not.toBeInstanceOf(CorruptImage)
        const img = image as DiskImage
        // every sync the child reported is on the disk, with every file it had written before it
        const last = synced.at(-1) ?? 0
        for (let i = 1; i <= last; i++) expect(fileData(img, `f${i}`)).toBe(`file ${i}\n`.repeat(50 + i))
        expect(img.generation).toBeGreaterThanOrEqual(lastSeen)
        lastSeen = img.generation
      }
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  }, 60_000)
})

describe("ext4 mounted sync: a host process killed with SIGKILL", () => {
  it("killed at random points, every change whose syscall returned is on the image, which stays readable", async () => {
    const dir = scratch()
    try {
      const path = imageFile(dir)
      // each round: write f<i> (create, write, close), and on even i rename f<i-1> to r<i-1>; "done i" once all returned
      const body = `
for (let i = 1; ; i++) {
  put("/mnt/f" + i, ("file " + i + "\\n").repeat(3000 + i))
  if (i % 2 === 0) check("rename", renameat2(t, AT_FDCWD, "/mnt/f" + (i - 1), AT_FDCWD, "/mnt/r" + (i - 1), 0))
  await say("done " + i)
}
`
      const content = (i: number): string => `file ${i}\n`.repeat(3000 + i)
      let generation = 0
      for (let round = 0; round < 6; round++) {
        const out = await runChild(childScript(path, body, MS_SYNCHRONOUS), (o) => (o.match(/done/g)?.length ?? 0) >= 3 + 8 * round, (round * 5) % 11)
        const done = [...out.matchAll(/done (\d+)/g)].map((m) => Number(m[1]))
        const image = readImageFile(path)
        expect(image).not.toBeInstanceOf(CorruptImage)
        const img = image as DiskImage
        for (const i of done) {
          if (i % 2 === 1 && done.includes(i + 1)) {
            expect(fileData(img, `r${i}`)).toBe(content(i))
            expect(fileData(img, `f${i}`)).toBeUndefined()
          } else expect(fileData(img, `f${i}`) ?? fileData(img, `r${i}`)).toBe(content(i))
        }
        expect(img.generation).toBeGreaterThan(generation)
        generation = img.generation
      }
      // the image, torn journal tail or not, mounts and takes new commits
      const { kernel, t } = await Effect.runPromise(bootWith([fileBlockDevice("sda3", path)]))
      expect(doMount(t, "/dev/sda3", "/mnt", "ext4", MS_SYNCHRONOUS, null)).toBeUndefined()
      expect(mkdirat(t, AT_FDCWD, "/mnt/after", 0o755)).toBeUndefined()
      expect((readImageFile(path) as DiskImage).inodes.some((i) => i.type === "dir" && i.entries.some(([n]) => n === "after"))).toBe(true)
      await Effect.runPromise(finish(kernel))
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  }, 120_000)
})

describe("mkfs and --disk", () => {
  it.effect("mkfsDisk makes a root filesystem with the userland, which mounts and reads back", () =>
    Effect.gen(function* () {
      const dir = scratch()
      try {
        const path = join(dir, "rootfs.img")
        const made = mkfsDisk(path, { programs: ["sh", "ls", "cat"], hostname: "box" })
        expect(made).not.toBeInstanceOf(DiskError)
        expect(mkfsDisk(path, { programs: [] })).toBeInstanceOf(DiskError)
        expect(mkfsDisk(path, { programs: ["a/b"], force: true })).toBeInstanceOf(DiskError)
        expect(mkfsDisk(dir, { programs: [] })).toBeInstanceOf(DiskError)
        const { kernel, t } = yield* bootWith([fileBlockDevice("sda3", path)])
        expect(doMount(t, "/dev/sda3", "/mnt", "ext4", MS_RDONLY, null)).toBeUndefined()
        expect(listDirectory(t, AT_FDCWD, "/mnt")).toEqual(["bin", "dev", "etc", "lost+found", "mnt", "proc", "root", "sbin", "tmp"])
        expect(listDirectory(t, AT_FDCWD, "/mnt/bin")).toEqual(["cat", "ls", "sh"])
        expect(readFile(t, "/mnt/bin/sh")).toBe("#!simkernel sh\n")
        expect(readFile(t, "/mnt/sbin/init")).toBe("#!simkernel init\n")
        expect(fstatat(t, AT_FDCWD, "/mnt/bin/ls", 0)).toMatchObject({ mode: 0o100755, uid: 0, gid: 0 })
        expect(fstatat(t, AT_FDCWD, "/mnt/tmp", 0)).toMatchObject({ mode: 0o41777 })
        expect(fstatat(t, AT_FDCWD, "/mnt/root", 0)).toMatchObject({ mode: 0o40700 })
        expect(fstatat(t, AT_FDCWD, "/mnt/proc", 0)).toMatchObject({ mode: 0o40555 })
        expect(fstatat(t, AT_FDCWD, "/mnt/dev/sda3", 0)).toMatchObject({ mode: 0o60660, rdev: mkdev(8, 3) })
        expect(readFile(t, "/mnt/etc/hostname")).toBe("box\n")
        expect(fstatat(t, AT_FDCWD, "/mnt", 0)).toMatchObject({ nlink: 11 })
        yield* finish(kernel)
        expect(mkfsDisk(path, { programs: ["true"], force: true })).not.toBeInstanceOf(DiskError)
      } finally {
        rmSync(dir, { recursive: true, force: true })
      }
    })
  )

  it("attachDisks parses NAME=IMAGE[:ro] and adds an in-memory sda3 when none is given", () => {
    const dir = scratch()
    try {
      const img = join(dir, "b.img")
      writeImageFile(img, mkfsImage("b", "u", "1"))
      const devs = attachDisks([`sdb1=${img}`, `sda3=${img}:ro`]) as ReadonlyArray<BlockDevice>
      expect(devs.map((d) => [d.name, d.major, d.minor, d.readOnly])).toEqual([
        ["sdb1", 8, 17, false],
        ["sda3", 8, 3, true]
      ])
      const mem = attachDisks([], { programs: ["sh"] }) as ReadonlyArray<BlockDevice>
      expect(mem.map((d) => [d.name, d.major, d.minor, d.readOnly])).toEqual([["sda3", 8, 3, false]])
      const image = mem[0]!.load() as DiskImage
      expect(image.inodes.some((i) => i.type === "file" && Buffer.from(i.data, "base64").toString() === "#!simkernel sh\n")).toBe(true)
      for (const bad of ["sda3", "=x", "hda1=x.img", `sda3=${img}:ro=`, "sda3=:ro", "sda16=x.img"]) expect(attachDisks([bad])).toBeInstanceOf(DiskError)
      expect((attachDisks([`sda3=${join(dir, "nope.img")}`]) as DiskError).message).toContain("No such file or directory")
      expect((attachDisks([`sda3=${img}`, `sda3=${img}`]) as DiskError).message).toContain("given twice")
      expect(attachDisks([`sda3=${dir}`])).toBeInstanceOf(DiskError)
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })
})
