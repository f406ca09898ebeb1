import { AT_FDCWD, MS_DIRSYNC, MS_SYNCHRONOUS, O_CREAT, O_TRUNC, O_WRONLY } from "@simkernel/abi"
import { defineBench } from "@simkernel/bench"
import { boot, fileBlockDevice, mkfsDisk, registerExt4 } from "@simkernel/kernel"
import { close, doMount, mkdev, openat, unlinkat, type VfsTask, write } from "@simkernel/vfs"
import { Effect } from "effect"
import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"

const MiB = 1024 * 1024
const dirs: Array<string> = []
process.on("exit", () => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true })
})

/** A kernel with a file-backed sda3 of 64 MiB holding `dataMiB` MiB in files, mounted on /mnt with `flags`. */
const mounted = async (flags: number, dataMiB: number): Promise<VfsTask> => {
  const dir = mkdtempSync(join(tmpdir(), "simkernel-ext4-bench-"))
  dirs.push(dir)
  const path = join(dir, "sda3.img")
  mkfsDisk(path, { programs: [], size: 64 * MiB })
  const kernel = await Effect.runPromise(boot())
  const t = kernel.sched.initTask.vfsTask()
  const ext4 = registerExt4(kernel.vfs, { currentTask: () => t })
  ext4.removeDevice(ext4.device(mkdev(8, 3))!)
  ext4.addDevice(fileBlockDevice("sda3", path))
  doMount(t, "/dev/sda3", "/mnt", "ext4", flags, null)
  const chunk = new Uint8Array(MiB)
  for (let i = 0; i < dataMiB; i++) put(t, `/mnt/data${i}`, chunk)
  // the data goes to the image as a full write-back, the journal folded in
  ext4.sync()
  return t
}

const put = (t: VfsTask, path: string, bytes: Uint8Array): void => {
  const fd = openat(t, AT_FDCWD, path, O_CREAT | O_WRONLY | O_TRUNC, 0o644) as number
  write(t, fd, bytes)
  close(t, fd)
}

const KiB = new Uint8Array(1024)

/** sync(2) as the kernel of `t` does it (registerExt4 gives the kernel's ext4). */
const syncAll = (t: VfsTask): void => {
  registerExt4(t.fs.vfs, { currentTask: () => t }).sync()
}

export default defineBench("ext4", (b) => {
  b.anchor("plain function + Map.get", (n) => {
    const m = new Map([["k", 1]])
    let s = 0
    for (let i = 0; i < n; i++) s += m.get("k") ?? 0
    if (s === -1) console.log(s)
  })
  let seq = 0
  const kernels = new Map<string, Promise<VfsTask>>()
  /** n creates of a 1 KiB file on a mount with `flags` over `dataMiB` of other files, set up on the first batch. */
  const perOp = (flags: number, dataMiB = 0, syncEach = false) => async (n: number) => {
    const key = `${flags}/${dataMiB}/${syncEach}`
    if (!kernels.has(key)) kernels.set(key, mounted(flags, dataMiB))
    const t = await kernels.get(key)!
    for (let i = 0; i < n; i++) {
      put(t, `/mnt/f${seq++ % 64}`, KiB)
      if (syncEach) syncAll(t)
    }
  }
  b.bench("create/truncate + write 1 KiB + close, async mount (the page cache only)", perOp(0), { targetNs: 100_000 })
  b.bench(
    "mounted dirsync: create a new 1 KiB file, then unlink it (two directory commits)",
    async (n) => {
      const key = "dirsync"
      if (!kernels.has(key)) kernels.set(key, mounted(MS_DIRSYNC, 0))
      const t = await kernels.get(key)!
      for (let i = 0; i < n; i++) {
        const name = `/mnt/n${seq++}`
        put(t, name, KiB)
        unlinkat(t, AT_FDCWD, name, 0)
      }
    },
    { targetNs: 20_000_000, note: "fsync-bound" }
  )
  b.bench("the same, mounted sync (commits for the truncate and the write)", perOp(MS_SYNCHRONOUS), { targetNs: 20_000_000, note: "fsync-bound" })
  b.bench("for comparison: async, then sync(2) (a whole new image) after each, 32 MiB in the image", perOp(0, 32, true), {
    note: "what sync mounts would cost without the journal"
  })
  b.scaling(
    "mounted sync: 1 KiB write into an image holding N MiB of other files",
    async (size) => {
      const t = await mounted(MS_SYNCHRONOUS, size)
      return (n) => {
        for (let i = 0; i < n; i++) put(t, `/mnt/f${seq++ % 64}`, KiB)
      }
    },
    { sizes: [1, 32], maxRatio: 3, shape: "flat", note: "a commit carries only what changed: its cost does not grow with the image" }
  )
})
