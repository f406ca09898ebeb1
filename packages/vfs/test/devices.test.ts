import { afterEach, describe, expect, it } from "@effect/vitest"
import { AT_FDCWD, O_CREAT, O_RDWR, S_IFCHR, sysError, type SysError } from "@simkernel/abi"
import { close, createScenarioWorld, type DataNode, mkdev, mknodat, openat, read, type VfsWorld, write } from "../src/index.js"

let world: VfsWorld | undefined
afterEach(() => {
  world?.destroy()
  expect(world?.registry.report()).toBe("leak audit: 0 live objects")
  world = undefined
})

const open = (w: VfsWorld, name: string, minor: number): number => {
  mknodat(w.task, AT_FDCWD, name, S_IFCHR | 0o666, mkdev(1, minor))
  return openat(w.task, AT_FDCWD, name, O_RDWR, 0) as number
}

describe("memory devices (drivers/char/mem.c)", () => {
  it("/dev/null swallows writes and reads as end of file", () => {
    world = createScenarioWorld()
    const fd = open(world, "/null", 3)
    expect(write(world.task, fd, new Uint8Array(10))).toBe(10)
    expect(read(world.task, fd, new Uint8Array(4))).toBe(0)
    close(world.task, fd)
  })

  it("/dev/zero reads zeros and swallows writes", () => {
    world = createScenarioWorld()
    const fd = open(world, "/zero", 5)
    const buf = new Uint8Array([1, 2, 3])
    expect(read(world.task, fd, buf)).toBe(3)
    expect([...buf]).toEqual([0, 0, 0])
    expect(write(world.task, fd, new Uint8Array(5))).toBe(5)
    close(world.task, fd)
  })

  it("/dev/full reads zeros and fails every write with ENOSPC", () => {
    world = createScenarioWorld()
    const fd = open(world, "/full", 7)
    const buf = new Uint8Array([9, 9])
    expect(read(world.task, fd, buf)).toBe(2)
    expect([...buf]).toEqual([0, 0])
    expect((write(world.task, fd, new Uint8Array(1)) as { errno: string }).errno).toBe("ENOSPC")
    close(world.task, fd)
  })
})

describe("a filesystem's DataNode", () => {
  it("may refuse a write: write(2) returns its error, the file's size and the superblock's usage stay as they were", () => {
    world = createScenarioWorld()
    const t = world.task
    const fd = openat(t, AT_FDCWD, "/f", O_RDWR | O_CREAT, 0o644) as number
    const file = t.files.fdget(fd)!
    const sb = file.inode.sb
    const used = sb.usedBlocks
    const refusing: DataNode = {
      write: () => sysError("EPERM", "write"),
      read: () => 0,
      truncate: () => {},
      getSize: () => 0
    }
    file.inode.data = refusing
    expect((write(t, fd, new Uint8Array(5000)) as SysError).errno).toBe("EPERM")
    expect(file.inode.size).toBe(0)
    expect(sb.usedBlocks).toBe(used)
    close(t, fd)
  })
})
