import { randomUUID } from "node:crypto"
import { existsSync, statSync } from "node:fs"
import {
  CorruptImage,
  DEFAULT_BLOCKS_COUNT,
  type DiskImage,
  type DiskInode,
  EXT4_BLOCK_SIZE,
  fsGeometry,
  IMAGE_VERSION,
  MIN_BLOCKS_COUNT,
  readImageFile,
  RESERVED_INODES,
  ROOT_INO,
  writeImageFile
} from "./image.js"

/** What goes on a fresh root filesystem. */
export interface MkfsOptions {
  /** Programs installed as `#!simkernel NAME` executables in /bin (mode 0755). */
  readonly programs: ReadonlyArray<string>
  /** The content of /etc/hostname, without the newline (default "simkernel"). */
  readonly hostname?: string
  /** The volume label (mke2fs -L; default "rootfs"). */
  readonly label?: string
  /** The filesystem UUID (mke2fs -U; default a random one). */
  readonly uuid?: string
  /** Timestamp of every inode, nanoseconds since the epoch as a decimal string (default now). */
  readonly time?: string
  /** Overwrite a file that already holds a filesystem (mke2fs -F). */
  readonly force?: boolean
  /**
   * The filesystem's size in bytes (mke2fs's fs-size). mkfsDisk defaults
   * it to the size of the file it replaces when that holds no filesystem
   * (a file made with truncate -s, as mke2fs uses a device's size), else
   * 1 GiB.
   */
  readonly size?: number
}

/** Why mkfs or a --disk specification was refused: the message to print, and the exit status. */
export class DiskError {
  readonly _tag = "DiskError"
  constructor(
    readonly message: string,
    readonly exitCode = 1
  ) {}
}

const now = (): string => (BigInt(Date.now()) * 1_000_000n).toString()

const SIZE_UNITS: Readonly<Record<string, number>> = { "": 1024, k: 1024, m: 1024 ** 2, g: 1024 ** 3, t: 1024 ** 4 }

/**
 * mke2fs's fs-size argument: a number with a suffix k, m, g or t (powers
 * of 1024), or without one a count of KiB. The size in bytes, or why not.
 */
export const parseFsSize = (text: string): number | DiskError => {
  const m = /^([0-9]+)([kKmMgGtT]?)$/.exec(text)
  const bytes = m === null ? NaN : Number(m[1]) * SIZE_UNITS[m[2]!.toLowerCase()]!
  if (!Number.isSafeInteger(bytes)) return new DiskError(`mkfs: invalid filesystem size - ${text}`)
  return bytes
}

/** A program name that can be a file name in /bin. */
const validName = (name: string): boolean => name !== "" && name !== "." && name !== ".." && !name.includes("/") && !name.includes("\0") && Buffer.byteLength(name) <= 255

/** Static device nodes of /dev, as the booted kernel's rootfs has them. */
const DEVICES: ReadonlyArray<readonly [string, "chr" | "blk", number, number, number]> = [
  ["null", "chr", 1, 3, 0o666],
  ["zero", "chr", 1, 5, 0o666],
  ["full", "chr", 1, 7, 0o666],
  ["sda", "blk", 8, 0, 0o660],
  ["sda3", "blk", 8, 3, 0o660]
]

/**
 * The image of a small root filesystem, as mke2fs plus an installer would
 * leave it: the root (inode 2) and lost+found (11) as mke2fs makes them,
 * then /bin with the programs, /sbin/init, /dev with the static nodes,
 * /proc (0555), /etc with hostname, passwd and group, /tmp (1777), /root
 * (0700) and /mnt, all owned by root.
 */
export const mkfsRootImage = (options: MkfsOptions): DiskImage | DiskError => {
  for (const name of options.programs) if (!validName(name)) return new DiskError(`mkfs: invalid program name '${name}'`)
  const geometry = fsGeometry(options.size ?? DEFAULT_BLOCKS_COUNT * EXT4_BLOCK_SIZE)
  if (geometry === undefined) return new DiskError(`mkfs: a filesystem of ${options.size ?? 0} bytes is too small (at least ${(MIN_BLOCKS_COUNT * EXT4_BLOCK_SIZE) / 1024} KiB)`)
  const time = options.time ?? now()
  const inodes: Array<DiskInode> = []
  let next = 12
  const attrs = (perm: number) => ({ perm, uid: 0, gid: 0, atime: time, mtime: time, ctime: time })
  const file = (content: string, perm: number): number => {
    const ino = next++
    inodes.push({ ino, type: "file", nlink: 1, data: Buffer.from(content).toString("base64"), ...attrs(perm) })
    return ino
  }
  /** A directory whose entries are made by `fill` (subdirectories first add themselves). */
  const dir = (ino: number, perm: number, fill: () => Array<readonly [string, number]>): number => {
    const entries = fill()
    const subdirs = entries.filter(([, i]) => inodes.find((n) => n.ino === i)?.type === "dir").length
    inodes.push({ ino, type: "dir", nlink: 2 + subdirs, entries, ...attrs(perm) })
    return ino
  }
  const newDir = (perm: number, fill: () => Array<readonly [string, number]> = () => []): number => dir(next++, perm, fill)
  const unique = [...new Set(options.programs)].sort()
  dir(ROOT_INO, 0o755, () => {
    const lostFound = dir(11, 0o700, () => [])
    const bin = newDir(0o755, () => unique.map((name) => [name, file(`#!simkernel ${name}\n`, 0o755)] as const))
    const sbin = newDir(0o755, () => [["init", file("#!simkernel init\n", 0o755)]])
    const dev = newDir(0o755, () =>
      DEVICES.map(([name, type, major, minor, perm]) => {
        const ino = next++
        inodes.push({ ino, type, nlink: 1, rdev: [major, minor], ...attrs(perm) })
        return [name, ino] as const
      })
    )
    const proc = newDir(0o555)
    const etc = newDir(0o755, () => [
      ["group", file("root:x:0:\n", 0o644)],
      ["hostname", file(`${options.hostname ?? "simkernel"}\n`, 0o644)],
      ["passwd", file("root:x:0:0:root:/root:/bin/sh\n", 0o644)]
    ])
    const tmp = newDir(0o1777)
    const root = newDir(0o700)
    const mnt = newDir(0o755)
    return [
      ["lost+found", lostFound],
      ["bin", bin],
      ["dev", dev],
      ["etc", etc],
      ["mnt", mnt],
      ["proc", proc],
      ["root", root],
      ["sbin", sbin],
      ["tmp", tmp]
    ]
  })
  inodes.sort((a, b) => a.ino - b.ino)
  if (inodes.length + RESERVED_INODES > geometry.inodesCount) return new DiskError(`mkfs: ${geometry.inodesCount} inodes are too few for the ${inodes.length} files of the root filesystem`)
  return { version: IMAGE_VERSION, label: options.label ?? "rootfs", uuid: options.uuid ?? randomUUID(), generation: 0, ...geometry, inodes }
}

/**
 * `simkernel mkfs IMAGE [SIZE]`: write a root filesystem image to the host
 * file `path` (atomically). A file that already holds a filesystem is kept
 * unless `force` (mke2fs asks first); a directory is refused. The size is
 * `options.size`, else that of a file there holding no filesystem (as
 * mke2fs takes a device's), else 1 GiB. Returns the image written.
 */
export const mkfsDisk = (path: string, options: MkfsOptions): DiskImage | DiskError => {
  let size = options.size
  if (existsSync(path)) {
    const st = statSync(path)
    if (st.isDirectory()) return new DiskError(`mkfs: ${path}: Is a directory`)
    let current: DiskImage | CorruptImage | undefined
    try {
      current = readImageFile(path)
    } catch {
      current = undefined
    }
    if (current !== undefined && !(current instanceof CorruptImage) && options.force !== true)
      return new DiskError(`mkfs: ${path} contains a filesystem labelled '${current.label}' (generation ${current.generation}); use --force to overwrite it`)
    // a file with no image in it at all is the device: its size is the filesystem's
    if ((current === undefined || (current instanceof CorruptImage && current.noFilesystem)) && st.size > 0) size ??= st.size
  }
  const image = mkfsRootImage({ ...options, ...(size === undefined ? {} : { size }) })
  if (image instanceof DiskError) return image
  try {
    writeImageFile(path, image)
  } catch (e) {
    return new DiskError(`mkfs: ${path}: ${e instanceof Error ? e.message : String(e)}`)
  }
  return image
}
