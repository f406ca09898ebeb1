import { afterEach, describe, expect, it } from "@effect/vitest"
import { AT_FDCWD, AT_SYMLINK_NOFOLLOW, MS_NODEV, MS_NOSUID, MS_RDONLY, O_CREAT, O_PATH, O_WRONLY, S_IFCHR } from "@simkernel/abi"
import {
  close,
  createScenarioWorld,
  doMount,
  listDirectory,
  mkdev,
  mkdirat,
  mknodat,
  openat,
  sameFile,
  statfsSummary,
  statSummary,
  symlinkat,
  type VfsWorld,
  write
} from "../src/index.js"

let world: VfsWorld | undefined
afterEach(() => {
  world?.destroy()
  expect(world?.registry.report()).toBe("leak audit: 0 live objects")
  world = undefined
})

describe("what ls, stat and statfs see", () => {
  it("lists a directory's names sorted, without . and ..", () => {
    world = createScenarioWorld()
    const t = world.task
    for (const name of ["b", "a", "c"]) mkdirat(t, AT_FDCWD, `/${name}`, 0o755)
    expect(listDirectory(t, AT_FDCWD, "/")).toEqual(["a", "b", "c"])
    expect((listDirectory(t, AT_FDCWD, "/nope") as { errno: string }).errno).toBe("ENOENT")
  })

  it("summarises stat as type, octal mode, size of files and rdev of devices", () => {
    world = createScenarioWorld()
    const t = world.task
    const fd = openat(t, AT_FDCWD, "/f", O_CREAT | O_WRONLY, 0o640) as number
    write(t, fd, new TextEncoder().encode("four"))
    close(t, fd)
    mknodat(t, AT_FDCWD, "/null", S_IFCHR | 0o666, mkdev(1, 3))
    symlinkat(t, "f", AT_FDCWD, "/l")
    expect(statSummary(t, AT_FDCWD, "/f", 0)).toEqual({ type: "f", mode: "0640", size: 4 })
    // the umask (022) applies to mknod as to open
    expect(statSummary(t, AT_FDCWD, "/null", 0)).toEqual({ type: "c", mode: "0644", rdev: "1:3" })
    expect(statSummary(t, AT_FDCWD, "/l", AT_SYMLINK_NOFOLLOW)).toEqual({ type: "l", mode: "0777" })
    expect(statSummary(t, AT_FDCWD, "/", 0)).toEqual({ type: "d", mode: "0755" })
  })

  it("summarises statfs as the filesystem's name and its flags, for a path or an fd", () => {
    world = createScenarioWorld()
    const t = world.task
    mkdirat(t, AT_FDCWD, "/m", 0o755)
    doMount(t, "m", "/m", "ramfs", MS_RDONLY | MS_NOSUID | MS_NODEV, null)
    expect(statfsSummary(t, AT_FDCWD, "/")).toEqual({ fs: "tmpfs", flags: ["relatime"] })
    expect(statfsSummary(t, AT_FDCWD, "/m")).toEqual({ fs: "ramfs", flags: ["rdonly", "nosuid", "nodev", "relatime"] })
    const fd = openat(t, AT_FDCWD, "/m", O_PATH, 0) as number
    expect(statfsSummary(t, fd, "")).toEqual({ fs: "ramfs", flags: ["rdonly", "nosuid", "nodev", "relatime"] })
    close(t, fd)
  })

  it("tells whether two paths name the same inode", () => {
    world = createScenarioWorld()
    const t = world.task
    mkdirat(t, AT_FDCWD, "/d", 0o755)
    const fd = openat(t, AT_FDCWD, "/d", O_PATH, 0) as number
    expect(sameFile(t, fd, "", AT_FDCWD, "/d")).toBe(true)
    expect(sameFile(t, fd, "", AT_FDCWD, "/")).toBe(false)
    close(t, fd)
  })
})
