import { describe, expect, it } from "@effect/vitest"
import { spawnSync } from "node:child_process"
import { mkdtempSync, rmSync, truncateSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { fileURLToPath } from "node:url"
import { AT_FDCWD, AT_REMOVEDIR, MS_RDONLY, O_CREAT, O_RDWR, O_WRONLY, SIGCHLD } from "@simkernel/abi"
import { copyProcess, type Program } from "@simkernel/sched"
import { close, doMount, fchmodat, type Kstatfs, ksysUmount, linkat, mkdirat, openat, statfs, symlinkat, unlinkat, type VfsTask, write } from "@simkernel/vfs"
import { Effect } from "effect"
import {
  type BlockDevice,
  CorruptImage,
  DEFAULT_BLOCKS_COUNT,
  DiskError,
  type DiskImage,
  decodeImage,
  encodeImage,
  ext4Overhead,
  fileBlockDevice,
  fsGeometry,
  memoryBlockDevice,
  mkfsDisk,
  mkfsImage,
  parseFsSize,
  readImageFile
} from "../src/disk/index.js"
import { bootWith, errnoIn as errnoOf, finish, isErr } from "./support.js"

const MiB = 1024 * 1024
const main = fileURLToPath(new URL("../dist/main.js", import.meta.url))
const scratch = (): string => mkdtempSync(join(tmpdir(), "simkernel-ext4-space-"))

/** A device holding a fresh filesystem of `bytes`. */
const diskOf = (bytes: number): BlockDevice => memoryBlockDevice("sda3", mkfsImage("data", "11111111-2222-4333-8444-555555555555", "1700000000000000000", fsGeometry(bytes)))

const df = (t: VfsTask): Kstatfs => statfs(t, "/mnt") as Kstatfs

/** Write `bytes` zeros to the open fd in 1 MiB calls until it stops: the total written and the first error. */
const fill = (t: VfsTask, fd: number, bytes = Number.MAX_SAFE_INTEGER): { written: number; short: boolean; errno: string | undefined } => {
  const chunk = new Uint8Array(MiB)
  let written = 0
  let short = false
  while (written < bytes) {
    const n = write(t, fd, chunk.subarray(0, Math.min(MiB, bytes - written)))
    if (isErr(n)) return { written, short, errno: n.errno }
    if (n < Math.min(MiB, bytes - written)) short = true
    written += n
  }
  return { written, short, errno: undefined }
}

describe("ext4 size: statfs figures come from the filesystem's size and what it holds", () => {
  it.effect("an 8 MiB filesystem: f_blocks less mke2fs's metadata, the root and lost+found in use, the reserves out of f_bavail; 2048 inodes", () =>
    Effect.gen(function* () {
      const { kernel, t } = yield* bootWith(diskOf(8 * MiB))
      expect(doMount(t, "/dev/sda3", "/mnt", "ext4", 0, null)).toBeUndefined()
      // Linux 6.18, mkfs.ext4 -b 4096 of 8 MiB: blocks 892, bfree 886, bavail 744, files 2048, ffree 2037
      const blocks = 2048 - ext4Overhead(2048, 2048)
      expect(blocks).toBe(893)
      const fresh = df(t)
      expect(fresh).toMatchObject({ bsize: 4096, frsize: 4096, blocks, bfree: blocks - 5, bavail: blocks - 5 - 102 - 40, files: 2048, ffree: 2037 })
      // a directory takes a block and an inode, a file an inode and a block per 4 KiB of data, a hard link nothing
      expect(mkdirat(t, AT_FDCWD, "/mnt/d", 0o755)).toBeUndefined()
      expect(df(t)).toMatchObject({ bfree: fresh.bfree - 1, ffree: fresh.ffree - 1 })
      const fd = openat(t, AT_FDCWD, "/mnt/f", O_CREAT | O_WRONLY, 0o644) as number
      expect(df(t)).toMatchObject({ bfree: fresh.bfree - 1, ffree: fresh.ffree - 2 })
      expect(fill(t, fd, 4097).written).toBe(4097)
      close(t, fd)
      expect(df(t)).toMatchObject({ bfree: fresh.bfree - 3, ffree: fresh.ffree - 2 })
      expect(linkat(t, AT_FDCWD, "/mnt/f", AT_FDCWD, "/mnt/g", 0)).toBeUndefined()
      expect(df(t)).toMatchObject({ bfree: fresh.bfree - 3, ffree: fresh.ffree - 2 })
      // all of it given back
      expect(unlinkat(t, AT_FDCWD, "/mnt/f", 0)).toBeUndefined()
      expect(unlinkat(t, AT_FDCWD, "/mnt/g", 0)).toBeUndefined()
      expect(unlinkat(t, AT_FDCWD, "/mnt/d", AT_REMOVEDIR)).toBeUndefined()
      expect(df(t)).toEqual(fresh)
      expect(ksysUmount(t, "/mnt", 0)).toBeUndefined()
      yield* finish(kernel)
    })
  )

  it("mke2fs's geometry: 4 KiB blocks, inode_ratio by size, an image without sizes is 1 GiB", () => {
    expect(fsGeometry(8 * MiB)).toEqual({ blocksCount: 2048, inodesCount: 2048 })
    expect(fsGeometry(64 * MiB)).toEqual({ blocksCount: 16384, inodesCount: 16384 })
    expect(fsGeometry(1024 * MiB)).toEqual({ blocksCount: 262144, inodesCount: 65536 })
    expect(fsGeometry(2 * MiB)).toEqual({ blocksCount: 512, inodesCount: 256 })
    expect(fsGeometry(MiB - 1)).toBeUndefined()
    expect(mkfsImage("a", "u", "1").blocksCount).toBeUndefined()
    expect(DEFAULT_BLOCKS_COUNT).toBe(262144)
  })

  it.effect("an image that records no size (made before sizes were kept) is the nominal 1 GiB", () =>
    Effect.gen(function* () {
      const { kernel, t } = yield* bootWith(memoryBlockDevice("sda3", mkfsImage("old", "u", "1")))
      expect(doMount(t, "/dev/sda3", "/mnt", "ext4", MS_RDONLY, null)).toBeUndefined()
      expect(df(t)).toMatchObject({ blocks: 262144 - ext4Overhead(262144, 65536), files: 65536, ffree: 65536 - 11 })
      expect(ksysUmount(t, "/mnt", 0)).toBeUndefined()
      yield* finish(kernel)
    })
  )

  it("an image holding more inodes than its size allows, or a bad size, is EUCLEAN", () => {
    const small = mkfsImage("a", "u", "1", { blocksCount: 256, inodesCount: 16 })
    expect(decodeImage(encodeImage(small))).not.toBeInstanceOf(CorruptImage)
    const crowded = { ...small, inodesCount: 10 }
    expect((decodeImage(encodeImage(crowded)) as CorruptImage).message).toBe("bad filesystem size")
    const full = mkfsImage("a", "u", "1", { blocksCount: 256, inodesCount: 16 })
    const t = "1"
    const files = Array.from({ length: 6 }, (_, i) => ({ ino: 12 + i, type: "file" as const, perm: 0o644, uid: 0, gid: 0, nlink: 1, atime: t, mtime: t, ctime: t, data: "" }))
    const root = full.inodes[0]!
    if (root.type !== "dir") throw new Error("mkfsImage's root is a directory")
    const over: DiskImage = {
      ...full,
      inodes: [{ ...root, entries: [...root.entries, ...files.map((f) => [`f${f.ino}`, f.ino] as const)] }, full.inodes[1]!, ...files]
    }
    expect((decodeImage(encodeImage(over)) as CorruptImage).message).toBe("8 inodes in a filesystem of 16")
    expect((decodeImage(encodeImage({ ...small, blocksCount: 255 })) as CorruptImage).message).toBe("bad filesystem size")
  })
})

describe("ext4 size: ENOSPC when the device is full", () => {
  it.effect("root writes into the 5% reserve, then gets a short write and ENOSPC; the space comes back on unlink", () =>
    Effect.gen(function* () {
      const { kernel, t } = yield* bootWith(diskOf(8 * MiB))
      expect(doMount(t, "/dev/sda3", "/mnt", "ext4", 0, null)).toBeUndefined()
      const fresh = df(t)
      const fd = openat(t, AT_FDCWD, "/mnt/big", O_CREAT | O_RDWR, 0o644) as number
      const r = fill(t, fd)
      // every block but the 2% kept for metadata (s_resv_clusters): as Linux, f_bfree 40, f_bavail 0
      expect(r).toEqual({ written: (fresh.bfree - 40) * 4096, short: true, errno: "ENOSPC" })
      expect(df(t)).toMatchObject({ bfree: 40, bavail: 0 })
      // a directory needs a block; an empty file or a hard link does not
      expect(errnoOf(mkdirat(t, AT_FDCWD, "/mnt/d", 0o755))).toBe("ENOSPC")
      const e = openat(t, AT_FDCWD, "/mnt/empty", O_CREAT | O_WRONLY, 0o644) as number
      expect(errnoOf(write(t, e, new Uint8Array(1)))).toBe("ENOSPC")
      close(t, e)
      expect(symlinkat(t, "big", AT_FDCWD, "/mnt/link")).toBeUndefined()
      close(t, fd)
      expect(unlinkat(t, AT_FDCWD, "/mnt/big", 0)).toBeUndefined()
      expect(df(t).bfree).toBe(fresh.bfree)
      expect(mkdirat(t, AT_FDCWD, "/mnt/d", 0o755)).toBeUndefined()
      expect(ksysUmount(t, "/mnt", 0)).toBeUndefined()
      yield* finish(kernel)
    })
  )

  it.effect("a user other than root stops at the reserve (f_bavail 0) while root may still write", () =>
    Effect.gen(function* () {
      const { kernel, t } = yield* bootWith(diskOf(8 * MiB))
      expect(doMount(t, "/dev/sda3", "/mnt", "ext4", 0, null)).toBeUndefined()
      expect(fchmodat(t, AT_FDCWD, "/mnt", 0o777)).toBeUndefined()
      const fresh = df(t)
      const results: Array<number | string> = []
      const user: Program = (proc) =>
        Effect.gen(function* () {
          yield* proc.setgid(1000)
          yield* proc.setuid(1000)
          const fd = yield* proc.openat(AT_FDCWD, "/mnt/user", O_CREAT | O_WRONLY, 0o644)
          const chunk = new Uint8Array(MiB)
          for (;;) {
            const n = yield* Effect.result(proc.write(fd, chunk))
            if (n._tag === "Failure") {
              results.push(n.failure.errno)
              break
            }
            results.push(n.success)
          }
          yield* proc.close(fd)
          return 0
        })
      const { child } = yield* copyProcess(kernel.sched.initTask, { flags: 0, exitSignal: SIGCHLD, fn: user, comm: "user" })
      kernel.sched.wakeNew(child)
      yield* kernel.sched.settle()
      const written = results.filter((n): n is number => typeof n === "number").reduce((a, b) => a + b, 0)
      expect(results.at(-1)).toBe("ENOSPC")
      expect(written).toBe(fresh.bavail * 4096)
      expect(df(t)).toMatchObject({ bavail: 0, bfree: 102 + 40 })
      // root (PID 1) still has the 5%
      const fd = openat(t, AT_FDCWD, "/mnt/root", O_CREAT | O_WRONLY, 0o644) as number
      expect(fill(t, fd)).toEqual({ written: 102 * 4096, short: true, errno: "ENOSPC" })
      close(t, fd)
      expect(ksysUmount(t, "/mnt", 0)).toBeUndefined()
      yield* finish(kernel)
    })
  )

  it.effect("out of inodes: creating anything is ENOSPC", () =>
    Effect.gen(function* () {
      const { kernel, t } = yield* bootWith(diskOf(MiB))
      expect(doMount(t, "/dev/sda3", "/mnt", "ext4", 0, null)).toBeUndefined()
      // 1 MiB: 128 inodes, 11 in use
      expect(df(t)).toMatchObject({ files: 128, ffree: 117 })
      for (let i = 0; i < 117; i++) close(t, openat(t, AT_FDCWD, `/mnt/f${i}`, O_CREAT | O_WRONLY, 0o644) as number)
      expect(df(t).ffree).toBe(0)
      expect(errnoOf(openat(t, AT_FDCWD, "/mnt/x", O_CREAT | O_WRONLY, 0o644))).toBe("ENOSPC")
      expect(errnoOf(mkdirat(t, AT_FDCWD, "/mnt/x", 0o755))).toBe("ENOSPC")
      expect(errnoOf(symlinkat(t, "f0", AT_FDCWD, "/mnt/x"))).toBe("ENOSPC")
      // a hard link is no new inode
      expect(linkat(t, AT_FDCWD, "/mnt/f0", AT_FDCWD, "/mnt/x", 0)).toBeUndefined()
      expect(ksysUmount(t, "/mnt", 0)).toBeUndefined()
      yield* finish(kernel)
    })
  )

  it.effect("a reopened image counts the same usage", () =>
    Effect.gen(function* () {
      const dir = scratch()
      try {
        const path = join(dir, "sda3.img")
        expect(mkfsDisk(path, { programs: ["sh"], size: 16 * MiB })).not.toBeInstanceOf(DiskError)
        const a = yield* bootWith(fileBlockDevice("sda3", path))
        expect(doMount(a.t, "/dev/sda3", "/mnt", "ext4", 0, null)).toBeUndefined()
        expect(mkdirat(a.t, AT_FDCWD, "/mnt/d", 0o755)).toBeUndefined()
        const fd = openat(a.t, AT_FDCWD, "/mnt/d/f", O_CREAT | O_WRONLY, 0o644) as number
        expect(fill(a.t, fd, 3 * MiB + 1).written).toBe(3 * MiB + 1)
        close(a.t, fd)
        const before = df(a.t)
        yield* finish(a.kernel)
        const b = yield* bootWith(fileBlockDevice("sda3", path))
        expect(doMount(b.t, "/dev/sda3", "/mnt", "ext4", MS_RDONLY, null)).toBeUndefined()
        expect(df(b.t)).toEqual({ ...before, flags: df(b.t).flags })
        expect(df(b.t).files).toBe(4096)
        yield* finish(b.kernel)
      } finally {
        rmSync(dir, { recursive: true, force: true })
      }
    })
  )
})

describe("mkfs size", () => {
  it("parseFsSize reads mke2fs's fs-size: k, m, g, t suffixes, KiB without one", () => {
    expect(parseFsSize("64m")).toBe(64 * MiB)
    expect(parseFsSize("1G")).toBe(1024 * MiB)
    expect(parseFsSize("8192")).toBe(8 * MiB)
    expect(parseFsSize("512k")).toBe(512 * 1024)
    for (const bad of ["", "8x", "-1m", "1.5g", "m"]) expect((parseFsSize(bad) as DiskError).message).toBe(`mkfs: invalid filesystem size - ${bad}`)
  })

  it("mkfsDisk takes the size given, else that of a file with no filesystem in it, else 1 GiB; too small is refused", () => {
    const dir = scratch()
    try {
      const a = join(dir, "a.img")
      expect((mkfsDisk(a, { programs: [], size: 32 * MiB }) as DiskImage).blocksCount).toBe(8192)
      expect((readImageFile(a) as DiskImage).inodesCount).toBe(8192)
      // made with truncate -s 64M, as for mke2fs
      const b = join(dir, "b.img")
      writeFileSync(b, "")
      truncateSync(b, 64 * MiB)
      expect((mkfsDisk(b, { programs: [] }) as DiskImage).blocksCount).toBe(16384)
      const c = join(dir, "c.img")
      expect((mkfsDisk(c, { programs: [] }) as DiskImage).blocksCount).toBe(262144)
      // an image keeps its filesystem unless forced; forced, the size is the one given or 1 GiB
      expect(mkfsDisk(a, { programs: [] })).toBeInstanceOf(DiskError)
      expect((mkfsDisk(a, { programs: [], force: true }) as DiskImage).blocksCount).toBe(262144)
      expect((mkfsDisk(join(dir, "d.img"), { programs: [], size: 512 * 1024 }) as DiskError).message).toBe("mkfs: a filesystem of 524288 bytes is too small (at least 1024 KiB)")
      const e = join(dir, "e.img")
      writeFileSync(e, "tiny")
      expect(mkfsDisk(e, { programs: [] })).toBeInstanceOf(DiskError)
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })

  it("simkernel mkfs IMAGE SIZE takes mke2fs's fs-size; a bad one is refused with status 1", () => {
    const dir = scratch()
    try {
      const img = join(dir, "r.img")
      const ok = spawnSync(process.execPath, [main, "mkfs", img, "16m"], { encoding: "utf8" })
      expect(ok.status).toBe(0)
      expect(readImageFile(img)).toMatchObject({ blocksCount: 4096, inodesCount: 4096 })
      const bad = spawnSync(process.execPath, [main, "mkfs", join(dir, "s.img"), "16q"], { encoding: "utf8" })
      expect(bad.status).toBe(1)
      expect(bad.stderr).toBe("simkernel mkfs: invalid filesystem size - 16q\n")
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })
})
