import { describe, expect, it } from "@effect/vitest"
import { spawn } from "node:child_process"
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { fileURLToPath } from "node:url"
import { fileBlockDevice, memoryBlockDevice, scsiDevno } from "../src/disk/BlockDevice.js"
import { CorruptImage, decodeImage, type DiskImage, encodeImage, mkfsImage, readImageFile, writeImageFile } from "../src/disk/image.js"

const scratch = (): string => mkdtempSync(join(tmpdir(), "simkernel-disk-"))

describe("disk images", () => {
  it("mkfs makes a root directory (inode 2) with lost+found, and it round-trips", () => {
    const image = mkfsImage("root", "u-1", "5")
    const back = decodeImage(encodeImage(image))
    expect(back).toEqual(image)
    const root = image.inodes.find((i) => i.ino === 2)!
    expect(root.type === "dir" && root.entries).toEqual([["lost+found", 11]])
  })

  it("refuses every kind of damage with EUCLEAN and a reason, never a crash", () => {
    const good = encodeImage(mkfsImage("root", "u-1", "5"))
    const cases: Array<readonly [string, Uint8Array]> = [
      ["empty", new Uint8Array()],
      ["bad magic", Buffer.concat([Buffer.from("NOTADISK"), good.subarray(8)])],
      ["truncated", good.subarray(0, good.length - 3)],
      ["flipped body byte", Buffer.from(good.map((b, i) => (i === good.length - 5 ? b ^ 1 : b)))],
      ["flipped header byte", Buffer.from(good.map((b, i) => (i === 20 ? b ^ 1 : b)))]
    ]
    for (const [, bytes] of cases) {
      const r = decodeImage(bytes)
      expect(r).toBeInstanceOf(CorruptImage)
      expect((r as CorruptImage).errno).toBe("EUCLEAN")
    }
    // structurally wrong tables with a valid checksum
    const base = mkfsImage("root", "u-1", "5")
    const broken: Array<DiskImage> = [
      { ...base, inodes: base.inodes.filter((i) => i.ino !== 2) },
      { ...base, inodes: base.inodes.filter((i) => i.ino !== 11) },
      { ...base, inodes: base.inodes.map((i) => (i.ino === 11 ? { ...i, nlink: 5 } : i)) },
      { ...base, inodes: [...base.inodes, base.inodes[1]!] },
      { ...base, inodes: base.inodes.map((i) => (i.ino === 2 && i.type === "dir" ? { ...i, entries: [["a/b", 11]] } : i)) }
    ]
    for (const image of broken) expect(decodeImage(encodeImage(image))).toBeInstanceOf(CorruptImage)
  })

  it("writes atomically: a new file renamed over the old, no temporary left", () => {
    const dir = scratch()
    try {
      const path = join(dir, "disk.img")
      writeImageFile(path, mkfsImage("a", "u", "1"))
      writeImageFile(path, { ...mkfsImage("a", "u", "2"), generation: 1 })
      expect(readdirSync(dir)).toEqual(["disk.img"])
      expect((readImageFile(path) as DiskImage).generation).toBe(1)
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })

  it("a writer killed with SIGKILL at random points leaves a readable image with every synced generation", async () => {
    const dir = scratch()
    const writer = fileURLToPath(new URL("./fixtures/disk-writer.mjs", import.meta.url))
    try {
      const path = join(dir, "disk.img")
      writeImageFile(path, mkfsImage("crash", "u-crash", "0"))
      for (let round = 0; round < 8; round++) {
        const child = spawn(process.execPath, [writer, path], { stdio: ["ignore", "pipe", "inherit"] })
        let out = ""
        child.stdout.on("data", (d: Buffer) => (out += d.toString()))
        await new Promise((r) => setTimeout(r, 30 + ((round * 37) % 120)))
        child.kill("SIGKILL")
        await new Promise((r) => child.on("exit", r))
        const synced = [...out.matchAll(/synced (\d+)/g)].map((m) => Number(m[1]))
        const image = readImageFile(path)
        expect(image).not.toBeInstanceOf(CorruptImage)
        const last = synced.at(-1) ?? 0
        const gen = (image as DiskImage).generation
        // every sync the writer reported is on disk (later ones may be too: its output is buffered)
        expect(gen).toBeGreaterThanOrEqual(last)
        const file = (image as DiskImage).inodes.find((i) => i.ino === 12)
        if (gen > 0) expect(file?.type === "file" && Buffer.from(file.data, "base64").toString().startsWith(`generation ${gen}\n`)).toBe(true)
      }
      expect(readdirSync(dir).filter((f) => f !== "disk.img").every((f) => f.endsWith(".tmp"))).toBe(true)
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })
})

describe("block devices", () => {
  it("number SCSI disks as Linux does (major 8, 16 minors per disk)", () => {
    expect(scsiDevno("sda")).toEqual([8, 0])
    expect(scsiDevno("sda3")).toEqual([8, 3])
    expect(scsiDevno("sdb1")).toEqual([8, 17])
    expect(scsiDevno("sda16")).toBeUndefined()
    expect(scsiDevno("hda1")).toBeUndefined()
  })

  it("keep a memory disk's state, and persist a file disk's across reopen", () => {
    const mem = memoryBlockDevice("sda3")
    const image = mem.load() as DiskImage
    mem.store({ ...image, generation: 7 })
    expect((mem.load() as DiskImage).generation).toBe(7)
    const dir = scratch()
    try {
      const path = join(dir, "sda3.img")
      writeImageFile(path, mkfsImage("root", "u", "1"))
      const dev = fileBlockDevice("sda3", path)
      expect([dev.major, dev.minor]).toEqual([8, 3])
      dev.store({ ...(dev.load() as DiskImage), label: "changed" })
      expect((fileBlockDevice("sda3", path).load() as DiskImage).label).toBe("changed")
      writeFileSync(path, readFileSync(path).subarray(0, 10))
      expect(fileBlockDevice("sda3", path).load()).toBeInstanceOf(CorruptImage)
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })
})
