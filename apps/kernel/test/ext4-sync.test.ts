import { describe, expect, it } from "@effect/vitest"
import { appendFileSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import {
  AT_FDCWD,
  AT_REMOVEDIR,
  MS_DIRSYNC,
  MS_RDONLY,
  MS_REMOUNT,
  MS_SYNCHRONOUS,
  O_CREAT,
  O_RDONLY,
  O_RDWR,
  O_TRUNC,
  O_WRONLY,
  S_IFIFO,
  ST_SYNCHRONOUS
} from "@simkernel/abi"
import {
  close,
  doMount,
  fchmodat,
  fchownat,
  fstat,
  ftruncate,
  ksysUmount,
  linkat,
  lseek,
  mkdirat,
  mknodat,
  openat,
  read,
  renameat2,
  showMountinfo,
  statfs,
  symlinkat,
  unlinkat,
  utimensat,
  type VfsTask,
  write
} from "@simkernel/vfs"
import { Effect } from "effect"
import {
  type BlockDevice,
  CorruptImage,
  type DiskImage,
  type DiskInode,
  encodeJournalRecord,
  ext4Setxattr,
  fileBlockDevice,
  ksysSync,
  memoryBlockDevice,
  mkfsImage,
  readImageFile,
  vfsFsync,
  writeImageFile
} from "../src/disk/index.js"
import { bootWith, errnoIn as errnoOf, finish, isErr } from "./support.js"

const enc = new TextEncoder()
const dec = new TextDecoder()
const scratch = (): string => mkdtempSync(join(tmpdir(), "simkernel-ext4-sync-"))

const imageAt = (dir: string): string => {
  const path = join(dir, "sda3.img")
  writeImageFile(path, mkfsImage("data", "11111111-2222-4333-8444-555555555555", "1700000000000000000"))
  return path
}

/** The inode `path` names in `image` (walked from the root), if any. */
const lookup = (image: DiskImage, path: string): DiskInode | undefined => {
  let ino = 2
  for (const name of path.split("/").filter((c) => c !== "")) {
    const dir = image.inodes.find((i) => i.ino === ino)
    if (dir?.type !== "dir") return undefined
    const e = dir.entries.find(([n]) => n === name)
    if (e === undefined) return undefined
    ino = e[1]
  }
  return image.inodes.find((i) => i.ino === ino)
}

const names = (image: DiskImage, path: string): Array<string> => {
  const d = lookup(image, path)
  return d?.type === "dir" ? d.entries.map(([n]) => n).sort() : []
}

const dataOf = (image: DiskImage, path: string): string | undefined => {
  const f = lookup(image, path)
  return f?.type === "file" ? Buffer.from(f.data, "base64").toString() : undefined
}

const open = (t: VfsTask, path: string, flags: number, mode = 0o644): number => {
  const fd = openat(t, AT_FDCWD, path, flags, mode)
  if (isErr(fd)) throw new Error(`open ${path}: ${fd.message}`)
  return fd
}

const readAll = (t: VfsTask, fd: number): string => {
  const buf = new Uint8Array(1 << 16)
  expect(lseek(t, fd, 0, 0)).toBe(0)
  const n = read(t, fd, buf) as number
  return dec.decode(buf.subarray(0, n))
}

const mountinfoOptions = (t: VfsTask, where: string): string =>
  showMountinfo({ root: t.fs.root, ns: t.mntNs })
    .split("\n")
    .find((l) => l.split(" ")[4] === where)!
    .split(" - ")[1]!

describe("ext4 mounted sync", () => {
  it.effect("every change is on the image when its syscall returns, as journal records appended to the file", () =>
    Effect.gen(function* () {
      const dir = scratch()
      try {
        const path = imageAt(dir)
        const hostIno = statSync(path).ino
        const { kernel, t } = yield* bootWith(fileBlockDevice("sda3", path))
        expect(doMount(t, "/dev/sda3", "/mnt", "ext4", MS_SYNCHRONOUS, null)).toBeUndefined()
        expect(mountinfoOptions(t, "/mnt")).toBe("ext4 /dev/sda3 rw,sync")
        expect((statfs(t, "/mnt") as { flags: number }).flags & ST_SYNCHRONOUS).toBe(ST_SYNCHRONOUS)
        const disk = () => readImageFile(path) as DiskImage
        // O_CREAT is a directory change, the write a data change
        const fd = open(t, "/mnt/a", O_CREAT | O_RDWR)
        expect(names(disk(), "/")).toEqual(["a", "lost+found"])
        expect(write(t, fd, enc.encode("hello"))).toBe(5)
        expect(dataOf(disk(), "/a")).toBe("hello")
        expect(ftruncate(t, fd, 2)).toBeUndefined()
        expect(dataOf(disk(), "/a")).toBe("he")
        close(t, fd)
        // O_TRUNC of an existing file
        close(t, open(t, "/mnt/a", O_WRONLY | O_TRUNC))
        expect(dataOf(disk(), "/a")).toBe("")
        // attributes
        expect(fchmodat(t, AT_FDCWD, "/mnt/a", 0o600)).toBeUndefined()
        expect(lookup(disk(), "/a")?.perm).toBe(0o600)
        expect(fchownat(t, AT_FDCWD, "/mnt/a", 1000, 100, 0)).toBeUndefined()
        expect(lookup(disk(), "/a")).toMatchObject({ uid: 1000, gid: 100 })
        expect(utimensat(t, AT_FDCWD, "/mnt/a", [{ sec: 5, nsec: 0 }, { sec: 7, nsec: 9 }], 0)).toBeUndefined()
        expect(lookup(disk(), "/a")).toMatchObject({ atime: "5000000000", mtime: "7000000009" })
        const xfd = open(t, "/mnt/a", O_RDONLY)
        expect(ext4Setxattr(t.files.fdget(xfd)!.inode, "user.k", enc.encode("v"))).toBeUndefined()
        close(t, xfd)
        expect(lookup(disk(), "/a")?.xattrs).toEqual({ "user.k": Buffer.from("v").toString("base64") })
        // the directory operations
        expect(mkdirat(t, AT_FDCWD, "/mnt/d", 0o755)).toBeUndefined()
        expect(lookup(disk(), "/d")?.type).toBe("dir")
        expect(mknodat(t, AT_FDCWD, "/mnt/d/fifo", S_IFIFO | 0o644, 0)).toBeUndefined()
        expect(lookup(disk(), "/d/fifo")?.type).toBe("fifo")
        expect(symlinkat(t, "../a", AT_FDCWD, "/mnt/d/link")).toBeUndefined()
        expect(lookup(disk(), "/d/link")).toMatchObject({ type: "symlink", target: "../a" })
        expect(linkat(t, AT_FDCWD, "/mnt/a", AT_FDCWD, "/mnt/d/hard", 0)).toBeUndefined()
        expect(lookup(disk(), "/a")).toMatchObject({ nlink: 2 })
        expect(renameat2(t, AT_FDCWD, "/mnt/d", AT_FDCWD, "/mnt/e", 0)).toBeUndefined()
        expect(names(disk(), "/")).toEqual(["a", "e", "lost+found"])
        expect(unlinkat(t, AT_FDCWD, "/mnt/e/hard", 0)).toBeUndefined()
        expect(lookup(disk(), "/a")).toMatchObject({ nlink: 1 })
        expect(unlinkat(t, AT_FDCWD, "/mnt/e/fifo", 0)).toBeUndefined()
        expect(unlinkat(t, AT_FDCWD, "/mnt/e/link", 0)).toBeUndefined()
        expect(unlinkat(t, AT_FDCWD, "/mnt/e", AT_REMOVEDIR)).toBeUndefined()
        expect(names(disk(), "/")).toEqual(["a", "lost+found"])
        // a failed call changes nothing and writes nothing
        const before = statSync(path).size
        expect(errnoOf(mkdirat(t, AT_FDCWD, "/mnt/a", 0o755))).toBe("EEXIST")
        expect(statSync(path).size).toBe(before)
        // all of it was appended to the same file, not rewritten
        expect(statSync(path).ino).toBe(hostIno)
        const generation = disk().generation
        expect(generation).toBeGreaterThan(15)
        // the last unmount folds the journal into a new image with the same tree
        expect(ksysUmount(t, "/mnt", 0)).toBeUndefined()
        const folded = disk()
        expect(folded.generation).toBe(generation + 1)
        expect(readFileSync(path).length).toBeLessThan(before)
        expect(names(folded, "/")).toEqual(["a", "lost+found"])
        expect(lookup(folded, "/a")).toMatchObject({ perm: 0o600, uid: 1000, gid: 100, mtime: "7000000009" })
        yield* finish(kernel)
      } finally {
        rmSync(dir, { recursive: true, force: true })
      }
    })
  )

  it.effect("the sync mount option, fsconfig's flag and a remount sync do the same; a remount async stops it", () =>
    Effect.gen(function* () {
      const dev = memoryBlockDevice("sda3")
      const { kernel, t } = yield* bootWith(dev)
      const disk = () => dev.load() as DiskImage
      expect(doMount(t, "/dev/sda3", "/mnt", "ext4", 0, "sync")).toBeUndefined()
      expect(mountinfoOptions(t, "/mnt")).toBe("ext4 /dev/sda3 rw,sync")
      close(t, open(t, "/mnt/a", O_CREAT | O_WRONLY))
      expect(names(disk(), "/")).toEqual(["a", "lost+found"])
      expect(doMount(t, null as unknown as string, "/mnt", null as unknown as string, MS_REMOUNT, null)).toBeUndefined()
      expect(mountinfoOptions(t, "/mnt")).toBe("ext4 /dev/sda3 rw")
      close(t, open(t, "/mnt/b", O_CREAT | O_WRONLY))
      expect(names(disk(), "/")).toEqual(["a", "lost+found"])
      // going sync again: the next change commits it and everything pending
      expect(doMount(t, null as unknown as string, "/mnt", null as unknown as string, MS_REMOUNT | MS_SYNCHRONOUS, null)).toBeUndefined()
      expect(names(disk(), "/")).toEqual(["a", "lost+found"])
      expect(mkdirat(t, AT_FDCWD, "/mnt/c", 0o755)).toBeUndefined()
      expect(names(disk(), "/")).toEqual(["a", "b", "c", "lost+found"])
      expect(ksysUmount(t, "/mnt", 0)).toBeUndefined()
      yield* finish(kernel)
    })
  )

  it.effect("a read-only sync mount never writes", () =>
    Effect.gen(function* () {
      const dir = scratch()
      try {
        const path = imageAt(dir)
        const bytes = readFileSync(path)
        const { kernel, t } = yield* bootWith(fileBlockDevice("sda3", path))
        expect(doMount(t, "/dev/sda3", "/mnt", "ext4", MS_RDONLY | MS_SYNCHRONOUS | MS_DIRSYNC, null)).toBeUndefined()
        expect(mountinfoOptions(t, "/mnt")).toBe("ext4 /dev/sda3 ro,sync,dirsync")
        expect(errnoOf(openat(t, AT_FDCWD, "/mnt/x", O_CREAT | O_WRONLY, 0o644))).toBe("EROFS")
        expect(errnoOf(mkdirat(t, AT_FDCWD, "/mnt/d", 0o755))).toBe("EROFS")
        expect(ksysUmount(t, "/mnt", 0)).toBeUndefined()
        yield* finish(kernel)
        expect(readFileSync(path).equals(bytes)).toBe(true)
      } finally {
        rmSync(dir, { recursive: true, force: true })
      }
    })
  )

  it.effect("a commit the host refuses fails the syscall with EIO; errors=remount-ro then makes the filesystem read-only", () =>
    Effect.gen(function* () {
      const dir = scratch()
      try {
        const path = imageAt(dir)
        const base = fileBlockDevice("sda3", path)
        let gone = false
        const dev: BlockDevice = {
          name: base.name,
          major: base.major,
          minor: base.minor,
          readOnly: false,
          get journalBytes() {
            return base.journalBytes
          },
          get baseBytes() {
            return base.baseBytes
          },
          load: () => base.load(),
          store: (image) => base.store(image),
          append: (record) => {
            if (gone) throw new Error("EIO: i/o error")
            base.append(record)
          }
        }
        const { kernel, t, ext4 } = yield* bootWith(dev)
        expect(doMount(t, "/dev/sda3", "/mnt", "ext4", MS_SYNCHRONOUS, "errors=remount-ro")).toBeUndefined()
        const fd = open(t, "/mnt/x", O_CREAT | O_WRONLY)
        gone = true
        expect(errnoOf(write(t, fd, enc.encode("x")))).toBe("EIO")
        expect(ext4.log.some((l) => l.startsWith("EXT4-fs error (device sda3): write-back failed"))).toBe(true)
        expect(mountinfoOptions(t, "/mnt")).toBe("ext4 /dev/sda3 ro,sync,errors=remount-ro")
        expect(errnoOf(mkdirat(t, AT_FDCWD, "/mnt/d", 0o755))).toBe("EROFS")
        close(t, fd)
        expect(ksysUmount(t, "/mnt", 0)).toBeUndefined()
        yield* finish(kernel)
        expect(names(readImageFile(path) as DiskImage, "/")).toEqual(["lost+found", "x"])
      } finally {
        rmSync(dir, { recursive: true, force: true })
      }
    })
  )

  it.effect("a journal grown past its image is folded into a full write-back", () =>
    Effect.gen(function* () {
      const dir = scratch()
      try {
        const path = imageAt(dir)
        const { kernel, t } = yield* bootWith(fileBlockDevice("sda3", path))
        expect(doMount(t, "/dev/sda3", "/mnt", "ext4", MS_SYNCHRONOUS, null)).toBeUndefined()
        const fd = open(t, "/mnt/big", O_CREAT | O_WRONLY)
        const chunk = enc.encode("x".repeat(64 * 1024))
        const inodes = new Set<number>()
        for (let i = 0; i < 40; i++) {
          expect(write(t, fd, chunk)).toBe(chunk.length)
          inodes.add(statSync(path).ino)
        }
        close(t, fd)
        // each write carried the whole file: the journal outgrew 1 MiB and the image was rewritten (a new host file)
        expect(inodes.size).toBeGreaterThan(1)
        expect(dataOf(readImageFile(path) as DiskImage, "/big")?.length).toBe(40 * 64 * 1024)
        expect(ksysUmount(t, "/mnt", 0)).toBeUndefined()
        yield* finish(kernel)
      } finally {
        rmSync(dir, { recursive: true, force: true })
      }
    })
  )
})

describe("ext4 mounted sync: a write commits the bytes it wrote, not the file", () => {
  it.effect("writes into a large file append records of about their own size; truncates and holes replay exactly", () =>
    Effect.gen(function* () {
      const dir = scratch()
      try {
        const path = imageAt(dir)
        const { kernel, t } = yield* bootWith(fileBlockDevice("sda3", path))
        expect(doMount(t, "/dev/sda3", "/mnt", "ext4", 0, null)).toBeUndefined()
        const fd = open(t, "/mnt/big", O_CREAT | O_RDWR)
        const big = "0123456789abcdef".repeat(64 * 1024)
        expect(write(t, fd, enc.encode(big))).toBe(big.length)
        close(t, fd)
        ksysSync(kernel.vfs)
        expect(doMount(t, null as unknown as string, "/mnt", null as unknown as string, MS_REMOUNT | MS_SYNCHRONOUS, null)).toBeUndefined()
        let expected = big
        const pwriteAt = (pos: number, text: string): void => {
          const f = open(t, "/mnt/big", O_WRONLY)
          expect(lseek(t, f, pos, 0)).toBe(pos)
          const before = statSync(path).size
          expect(write(t, f, enc.encode(text))).toBe(text.length)
          // the record holds the bytes (base64) and the inode, not the megabyte
          expect(statSync(path).size - before).toBeLessThan(1024 + text.length * 2)
          close(t, f)
          expected = expected.padEnd(pos, "\0").slice(0, pos) + text + expected.slice(pos + text.length)
          expect(dataOf(readImageFile(path) as DiskImage, "/big")).toBe(expected)
        }
        pwriteAt(10, "middle")
        pwriteAt(500_000, "x".repeat(5000))
        pwriteAt(big.length, "appended")
        // cut short, then grown again past the cut with a hole of zeros, then written beyond it
        const f = open(t, "/mnt/big", O_WRONLY)
        expect(ftruncate(t, f, 100)).toBeUndefined()
        expected = expected.slice(0, 100)
        expect(dataOf(readImageFile(path) as DiskImage, "/big")).toBe(expected)
        expect(ftruncate(t, f, 200)).toBeUndefined()
        expected = expected.padEnd(200, "\0")
        expect(dataOf(readImageFile(path) as DiskImage, "/big")).toBe(expected)
        close(t, f)
        pwriteAt(300, "after a hole")
        // a second kernel replays the same journal
        const b = yield* bootWith(fileBlockDevice("sda3", path))
        expect(doMount(b.t, "/dev/sda3", "/mnt", "ext4", MS_RDONLY, null)).toBeUndefined()
        const rfd = open(b.t, "/mnt/big", O_RDONLY)
        expect(readAll(b.t, rfd)).toBe(expected)
        close(b.t, rfd)
        yield* finish(b.kernel)
        expect(ksysUmount(t, "/mnt", 0)).toBeUndefined()
        yield* finish(kernel)
        expect(dataOf(readImageFile(path) as DiskImage, "/big")).toBe(expected)
      } finally {
        rmSync(dir, { recursive: true, force: true })
      }
    })
  )
})

describe("ext4 mounted dirsync", () => {
  it.effect("directory changes are on the image when the syscall returns; file data waits for a sync", () =>
    Effect.gen(function* () {
      const dir = scratch()
      try {
        const path = imageAt(dir)
        const { kernel, t } = yield* bootWith(fileBlockDevice("sda3", path))
        expect(doMount(t, "/dev/sda3", "/mnt", "ext4", MS_DIRSYNC, null)).toBeUndefined()
        expect(mountinfoOptions(t, "/mnt")).toBe("ext4 /dev/sda3 rw,dirsync")
        expect((statfs(t, "/mnt") as { flags: number }).flags & ST_SYNCHRONOUS).toBe(0)
        const disk = () => readImageFile(path) as DiskImage
        const fd = open(t, "/mnt/a", O_CREAT | O_WRONLY)
        expect(dataOf(disk(), "/a")).toBe("")
        expect(write(t, fd, enc.encode("data"))).toBe(4)
        expect(fchmodat(t, AT_FDCWD, "/mnt/a", 0o600)).toBeUndefined()
        // neither the data nor the mode is committed yet
        expect(lookup(disk(), "/a")).toMatchObject({ perm: 0o644, data: "" })
        // a directory change commits everything pending, as a journal commit does
        expect(mkdirat(t, AT_FDCWD, "/mnt/d", 0o755)).toBeUndefined()
        expect(lookup(disk(), "/a")).toMatchObject({ perm: 0o600 })
        expect(dataOf(disk(), "/a")).toBe("data")
        expect(write(t, fd, enc.encode("+more"))).toBe(5)
        expect(dataOf(disk(), "/a")).toBe("data")
        for (const [what, op] of [
          ["link", () => linkat(t, AT_FDCWD, "/mnt/a", AT_FDCWD, "/mnt/d/b", 0)],
          ["symlink", () => symlinkat(t, "a", AT_FDCWD, "/mnt/s")],
          ["mknod", () => mknodat(t, AT_FDCWD, "/mnt/p", S_IFIFO | 0o600, 0)],
          ["rename", () => renameat2(t, AT_FDCWD, "/mnt/s", AT_FDCWD, "/mnt/d/s", 0)],
          ["unlink", () => unlinkat(t, AT_FDCWD, "/mnt/p", 0)],
          ["rmdir", () => mkdirat(t, AT_FDCWD, "/mnt/gone", 0o700) ?? unlinkat(t, AT_FDCWD, "/mnt/gone", AT_REMOVEDIR)]
        ] as const) {
          const g = disk().generation
          expect(op(), what).toBeUndefined()
          expect(disk().generation, what).toBeGreaterThan(g)
        }
        expect(names(disk(), "/")).toEqual(["a", "d", "lost+found"])
        expect(names(disk(), "/d")).toEqual(["b", "s"])
        expect(dataOf(disk(), "/a")).toBe("data+more")
        close(t, fd)
        expect(ksysUmount(t, "/mnt", 0)).toBeUndefined()
        yield* finish(kernel)
      } finally {
        rmSync(dir, { recursive: true, force: true })
      }
    })
  )
})

describe("ext4 journal records in the image", () => {
  const setup = (dir: string): { path: string; full: number } => {
    const path = imageAt(dir)
    const full = readFileSync(path).length
    const image = readImageFile(path) as DiskImage
    const root = image.inodes.find((i) => i.ino === 2)!
    const t = "1700000000000000000"
    // one record: a file "a" in the root
    const record = encodeJournalRecord({
      from: 0,
      generation: 1,
      inodes: [
        { ...root, entries: [["lost+found", 11], ["a", 12]] } as DiskInode,
        { ino: 12, type: "file", perm: 0o644, uid: 0, gid: 0, nlink: 1, atime: t, mtime: t, ctime: t, data: Buffer.from("one").toString("base64") }
      ],
      removed: []
    })
    appendFileSync(path, record)
    return { path, full }
  }

  it("replay: a record applies; a torn last record is dropped; a damaged record before another is EUCLEAN", () => {
    const dir = scratch()
    try {
      const { path, full } = setup(dir)
      const good = readFileSync(path)
      const image = readImageFile(path) as DiskImage
      expect(image.generation).toBe(1)
      expect(dataOf(image, "/a")).toBe("one")
      // a record cut anywhere in its header or body: the writer died while appending it
      for (const cut of [full + 1, full + 30, full + 48, good.length - 1]) {
        writeFileSync(path, good.subarray(0, cut))
        const r = readImageFile(path) as DiskImage
        expect(r.generation).toBe(0)
        expect(names(r, "/")).toEqual(["lost+found"])
      }
      // a complete last record whose checksum fails is dropped too (its blocks never all reached the disk)
      writeFileSync(path, Buffer.from(good.map((b, i) => (i === good.length - 2 ? b ^ 1 : b))))
      expect((readImageFile(path) as DiskImage).generation).toBe(0)
      // but a damaged record followed by another is corruption
      const bad = Buffer.from(good.map((b, i) => (i === good.length - 2 ? b ^ 1 : b)))
      writeFileSync(path, Buffer.concat([bad, good.subarray(full)]))
      expect((readImageFile(path) as CorruptImage).message).toBe(`journal checksum mismatch at byte ${full}`)
      // trailing bytes that are no record
      writeFileSync(path, Buffer.concat([good, Buffer.alloc(64, 7)]))
      expect((readImageFile(path) as CorruptImage).message).toBe(`bad journal record at byte ${good.length}`)
      // a record that does not follow the image's generation, or breaks the table
      writeFileSync(path, Buffer.concat([good, good.subarray(full)]))
      expect((readImageFile(path) as CorruptImage).message).toBe("journal record for generation 0 follows generation 1")
      writeFileSync(path, Buffer.concat([good, encodeJournalRecord({ from: 1, generation: 2, inodes: [], removed: [12] })]))
      expect((readImageFile(path) as CorruptImage).message).toBe("after journal replay: directory 2: entry \"a\" names missing inode 12")
      writeFileSync(path, Buffer.concat([good, encodeJournalRecord({ from: 1, generation: 2, inodes: [{ ino: 11, type: "file", perm: 0, uid: 0, gid: 0, nlink: 1, atime: "1", mtime: "1", ctime: "1" }], removed: [] })]))
      expect((readImageFile(path) as CorruptImage).message).toBe("journal record: file 11 has no data")
      // patches: applied in order, and refused when they do not fit the size they give
      const a = lookup(image, "/a") as Extract<DiskInode, { type: "file" }>
      const patch = (from: number, at: number, size: number, text: string) =>
        encodeJournalRecord({ from, generation: from + 1, inodes: [{ ...a, data: undefined, patch: { size, at, bytes: Buffer.from(text).toString("base64") } }], removed: [] })
      writeFileSync(path, Buffer.concat([good, patch(1, 1, 5, "XY"), patch(2, 4, 6, "Z!")]))
      expect(dataOf(readImageFile(path) as DiskImage, "/a")).toBe("oXY\0Z!")
      writeFileSync(path, Buffer.concat([good, patch(1, 4, 5, "XY")]))
      expect((readImageFile(path) as CorruptImage).message).toBe("journal record: bad patch of file 12")
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })

  it.effect("a torn record left by a killed host is cut off before the next commit, and mounting it is not EUCLEAN", () =>
    Effect.gen(function* () {
      const dir = scratch()
      try {
        const { path } = setup(dir)
        const good = readFileSync(path)
        writeFileSync(path, Buffer.concat([good, good.subarray(good.length - 40)]))
        const { kernel, t } = yield* bootWith(fileBlockDevice("sda3", path))
        expect(doMount(t, "/dev/sda3", "/mnt", "ext4", MS_SYNCHRONOUS, null)).toBeUndefined()
        const fd = open(t, "/mnt/a", O_RDONLY)
        expect(readAll(t, fd)).toBe("one")
        close(t, fd)
        expect(mkdirat(t, AT_FDCWD, "/mnt/d", 0o755)).toBeUndefined()
        const image = readImageFile(path) as DiskImage
        expect(names(image, "/")).toEqual(["a", "d", "lost+found"])
        expect(image.generation).toBe(2)
        expect(ksysUmount(t, "/mnt", 0)).toBeUndefined()
        yield* finish(kernel)
      } finally {
        rmSync(dir, { recursive: true, force: true })
      }
    })
  )
})

describe("ext4 orphans: an unlinked file still open", () => {
  it.effect("stays readable and writable through its fd, is never written to the image, and its space comes back at the last close", () =>
    Effect.gen(function* () {
      const dir = scratch()
      try {
        const path = imageAt(dir)
        const { kernel, t } = yield* bootWith(fileBlockDevice("sda3", path))
        expect(doMount(t, "/dev/sda3", "/mnt", "ext4", 0, null)).toBeUndefined()
        const fresh = statfs(t, "/mnt") as { bfree: number; ffree: number }
        const fd = open(t, "/mnt/tmpfile", O_CREAT | O_RDWR)
        expect(write(t, fd, enc.encode("y".repeat(3 * 4096)))).toBe(3 * 4096)
        ksysSync(kernel.vfs)
        expect(dataOf(readImageFile(path) as DiskImage, "/tmpfile")?.length).toBe(3 * 4096)
        expect(unlinkat(t, AT_FDCWD, "/mnt/tmpfile", 0)).toBeUndefined()
        expect(fstat(t, fd)).toMatchObject({ nlink: 0, size: 3 * 4096 })
        // still there for the fd, and still holding its blocks and inode, as ext4's orphan does
        expect(write(t, fd, enc.encode("tail"))).toBe(4)
        expect(readAll(t, fd)).toBe(`${"y".repeat(3 * 4096)}tail`)
        expect(statfs(t, "/mnt")).toMatchObject({ bfree: fresh.bfree - 4, ffree: fresh.ffree - 1 })
        // a sync writes the tree without it
        ksysSync(kernel.vfs)
        const image = readImageFile(path) as DiskImage
        expect(names(image, "/")).toEqual(["lost+found"])
        expect(image.inodes.map((i) => i.ino).sort((x, y) => x - y)).toEqual([2, 11])
        // fsync of the orphan itself works, and writes nothing of it
        expect(vfsFsync(t.files.fdget(fd)!)).toBeUndefined()
        expect(names(readImageFile(path) as DiskImage, "/")).toEqual(["lost+found"])
        close(t, fd)
        expect(statfs(t, "/mnt")).toMatchObject({ bfree: fresh.bfree, ffree: fresh.ffree })
        expect(ksysUmount(t, "/mnt", 0)).toBeUndefined()
        yield* finish(kernel)
        expect(names(readImageFile(path) as DiskImage, "/")).toEqual(["lost+found"])
      } finally {
        rmSync(dir, { recursive: true, force: true })
      }
    })
  )

  it.effect("on a sync mount the unlink commits at once; a reopened image shows no trace of the orphan and counts no space for it", () =>
    Effect.gen(function* () {
      const dir = scratch()
      try {
        const path = imageAt(dir)
        const a = yield* bootWith(fileBlockDevice("sda3", path))
        expect(doMount(a.t, "/dev/sda3", "/mnt", "ext4", MS_SYNCHRONOUS, null)).toBeUndefined()
        const fresh = statfs(a.t, "/mnt") as { bfree: number; ffree: number }
        const fd = open(a.t, "/mnt/orphan", O_CREAT | O_RDWR)
        expect(write(a.t, fd, enc.encode("z".repeat(8192)))).toBe(8192)
        expect(unlinkat(a.t, AT_FDCWD, "/mnt/orphan", 0)).toBeUndefined()
        expect(write(a.t, fd, enc.encode("!"))).toBe(1)
        // as if the host died now, with the file open: another kernel reads the image
        const image = readImageFile(path) as DiskImage
        expect(names(image, "/")).toEqual(["lost+found"])
        expect(image.inodes.map((i) => i.ino).sort((x, y) => x - y)).toEqual([2, 11])
        const b = yield* bootWith(fileBlockDevice("sda3", path))
        expect(doMount(b.t, "/dev/sda3", "/mnt", "ext4", MS_RDONLY, null)).toBeUndefined()
        expect(statfs(b.t, "/mnt")).toMatchObject({ bfree: fresh.bfree, ffree: fresh.ffree })
        yield* finish(b.kernel)
        expect(readAll(a.t, fd)).toBe(`${"z".repeat(8192)}!`)
        close(a.t, fd)
        yield* finish(a.kernel)
      } finally {
        rmSync(dir, { recursive: true, force: true })
      }
    })
  )
})
