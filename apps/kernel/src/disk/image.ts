import { createHash } from "node:crypto"
import { closeSync, fsyncSync, openSync, readFileSync, renameSync, rmSync, writeSync } from "node:fs"
import { basename, dirname, join } from "node:path"

/**
 * The on-disk format of simkernel's disk-backed filesystem (the type named
 * "ext4", which the seed mounts from /dev/sda3). An image is a header
 * followed by a JSON body holding the inode table:
 *
 *   0   8  magic "SKDISK\0\1"
 *   8   4  format version (little endian)
 *   12  4  body length in bytes
 *   16 32  SHA-256 of the body
 *   48  .. body (UTF-8 JSON)
 *
 * A write never updates an image in place: it writes a new file beside it,
 * fsyncs it, renames it over the old one and fsyncs the directory, so a
 * crash at any point leaves either the old image or the new one, never a
 * torn one. Anything that does not check out is refused as EUCLEAN
 * ("Structure needs cleaning"), Linux's errno for a corrupt filesystem.
 */
export const IMAGE_MAGIC = Buffer.from("SKDISK\x00\x01", "latin1")
export const IMAGE_VERSION = 1
const HEADER = 48

/** ext4's root directory inode number (EXT4_ROOT_INO). */
export const ROOT_INO = 2

export type DiskInode =
  | DiskInodeBase & { readonly type: "dir"; readonly entries: ReadonlyArray<readonly [string, number]> }
  | DiskInodeBase & { readonly type: "file"; readonly data: string }
  | DiskInodeBase & { readonly type: "symlink"; readonly target: string }
  | DiskInodeBase & { readonly type: "chr" | "blk"; readonly rdev: readonly [number, number] }
  | DiskInodeBase & { readonly type: "fifo" | "sock" }

export interface DiskInodeBase {
  readonly ino: number
  /** Permission bits and set-id/sticky bits (the file type is `type`). */
  readonly perm: number
  readonly uid: number
  readonly gid: number
  readonly nlink: number
  /** Times in nanoseconds since the epoch, as decimal strings (they exceed 2^53). */
  readonly atime: string
  readonly mtime: string
  readonly ctime: string
  /** Extended attributes ("user.*" with user_xattr), values base64. */
  readonly xattrs?: Readonly<Record<string, string>>
}

export interface DiskImage {
  readonly version: typeof IMAGE_VERSION
  readonly label: string
  /** The filesystem UUID, fixed at mkfs. */
  readonly uuid: string
  /** Generation: incremented by every write, so a reopened image tells how fresh it is. */
  readonly generation: number
  readonly inodes: ReadonlyArray<DiskInode>
}

/**
 * Why an image was refused: the message a mount puts in its fs context log.
 * `noFilesystem` marks a device with no superblock at all (empty, zeroed,
 * or something else than an image): ext4 answers that with EINVAL ("VFS:
 * Can't find ext4 filesystem"), not EUCLEAN, as Linux does for a device
 * that was never formatted.
 */
export class CorruptImage {
  readonly _tag = "CorruptImage"
  readonly errno = "EUCLEAN"
  constructor(
    readonly message: string,
    readonly noFilesystem = false
  ) {}
}

const sha256 = (b: Uint8Array): Buffer => createHash("sha256").update(b).digest()

/** Encode an image: header, checksum, body. */
export const encodeImage = (image: DiskImage): Buffer => {
  const body = Buffer.from(JSON.stringify(image), "utf8")
  const header = Buffer.alloc(HEADER)
  IMAGE_MAGIC.copy(header, 0)
  header.writeUInt32LE(IMAGE_VERSION, 8)
  header.writeUInt32LE(body.length, 12)
  sha256(body).copy(header, 16)
  return Buffer.concat([header, body])
}

const isInt = (v: unknown, min = 0): v is number => typeof v === "number" && Number.isInteger(v) && v >= min
const TIME = /^\d{1,30}$/

/**
 * Check an inode table's structure: every entry names an inode, link counts
 * add up, the root is a directory. The reason it is wrong, or undefined.
 */
export const checkImage = (image: DiskImage): string | undefined => {
  if (image.version !== IMAGE_VERSION) return `unsupported format version ${String(image.version)}`
  if (typeof image.label !== "string" || typeof image.uuid !== "string" || !isInt(image.generation)) return "bad superblock fields"
  if (!Array.isArray(image.inodes)) return "no inode table"
  const byIno = new Map<number, DiskInode>()
  for (const inode of image.inodes) {
    if (inode === null || typeof inode !== "object" || !isInt(inode.ino, 1)) return "bad inode"
    if (byIno.has(inode.ino)) return `inode ${inode.ino} appears twice`
    if (!isInt(inode.perm) || inode.perm > 0o7777 || !isInt(inode.uid) || !isInt(inode.gid) || !isInt(inode.nlink, 1))
      return `inode ${inode.ino}: bad attributes`
    if (![inode.atime, inode.mtime, inode.ctime].every((t) => typeof t === "string" && TIME.test(t))) return `inode ${inode.ino}: bad times`
    byIno.set(inode.ino, inode)
  }
  const root = byIno.get(ROOT_INO)
  if (root?.type !== "dir") return "root inode is missing or not a directory"
  const links = new Map<number, number>()
  for (const inode of image.inodes) {
    switch (inode.type) {
      case "dir":
        if (!Array.isArray(inode.entries)) return `directory ${inode.ino}: no entries`
        for (const entry of inode.entries) {
          const [name, ino] = entry
          if (typeof name !== "string" || name === "" || name === "." || name === ".." || name.includes("/") || name.length > 255)
            return `directory ${inode.ino}: bad name`
          const child = byIno.get(ino)
          if (child === undefined) return `directory ${inode.ino}: entry "${name}" names missing inode ${ino}`
          links.set(ino, (links.get(ino) ?? 0) + 1)
          if (child.type === "dir") links.set(inode.ino, (links.get(inode.ino) ?? 0) + 1)
        }
        links.set(inode.ino, (links.get(inode.ino) ?? 0) + 1)
        break
      case "file":
        if (typeof inode.data !== "string") return `file ${inode.ino}: no data`
        break
      case "symlink":
        if (typeof inode.target !== "string" || inode.target === "") return `symlink ${inode.ino}: no target`
        break
      case "chr":
      case "blk":
        if (!Array.isArray(inode.rdev) || !isInt(inode.rdev[0]) || !isInt(inode.rdev[1])) return `device ${inode.ino}: bad rdev`
        break
      case "fifo":
      case "sock":
        break
      default:
        return `inode ${(inode as DiskInodeBase).ino}: unknown type`
    }
  }
  // the root's ".." is itself
  links.set(ROOT_INO, (links.get(ROOT_INO) ?? 0) + 1)
  for (const inode of image.inodes) {
    if ((links.get(inode.ino) ?? 0) !== inode.nlink) return `inode ${inode.ino}: link count ${inode.nlink}, found ${links.get(inode.ino) ?? 0}`
  }
  return undefined
}

/** Decode and check an image; a corrupt one is refused with the reason. */
export const decodeImage = (bytes: Uint8Array): DiskImage | CorruptImage => {
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  if (buf.length < IMAGE_MAGIC.length || !buf.subarray(0, IMAGE_MAGIC.length).equals(IMAGE_MAGIC))
    return new CorruptImage("not a simkernel disk image (bad magic)", true)
  if (buf.length < HEADER) return new CorruptImage(`image is ${buf.length} bytes, shorter than its header`)
  const version = buf.readUInt32LE(8)
  if (version !== IMAGE_VERSION) return new CorruptImage(`unsupported format version ${version}`)
  const length = buf.readUInt32LE(12)
  if (buf.length !== HEADER + length) return new CorruptImage(`image is ${buf.length} bytes, header says ${HEADER + length}`)
  const body = buf.subarray(HEADER)
  if (!sha256(body).equals(buf.subarray(16, 48))) return new CorruptImage("checksum mismatch")
  let image: DiskImage
  try {
    image = JSON.parse(body.toString("utf8")) as DiskImage
  } catch {
    return new CorruptImage("unreadable inode table")
  }
  const problem = image !== null && typeof image === "object" ? checkImage(image) : "no superblock"
  return problem === undefined ? image : new CorruptImage(problem)
}

/** Read an image file; a missing file is the caller's ENOENT, anything else unreadable is corrupt. */
export const readImageFile = (path: string): DiskImage | CorruptImage => decodeImage(readFileSync(path))

/**
 * Replace an image file atomically: write a temporary file in the same
 * directory, fsync it, rename it over `path`, fsync the directory.
 */
export const writeImageFile = (path: string, image: DiskImage): void => {
  const dir = dirname(path)
  const tmp = join(dir, `.${basename(path)}.${process.pid}.tmp`)
  const bytes = encodeImage(image)
  const fd = openSync(tmp, "w", 0o644)
  try {
    let off = 0
    while (off < bytes.length) off += writeSync(fd, bytes, off, bytes.length - off)
    fsyncSync(fd)
  } catch (e) {
    closeSync(fd)
    rmSync(tmp, { force: true })
    throw e
  }
  closeSync(fd)
  renameSync(tmp, path)
  const dfd = openSync(dir, "r")
  try {
    fsyncSync(dfd)
  } finally {
    closeSync(dfd)
  }
}

const now = (): string => (BigInt(Date.now()) * 1_000_000n).toString()

/**
 * mkfs: an empty filesystem, as mke2fs makes one: the root directory (inode
 * 2, mode 0755, owned by root) and lost+found (mode 0700).
 */
export const mkfsImage = (label: string, uuid: string, time = now()): DiskImage => ({
  version: IMAGE_VERSION,
  label,
  uuid,
  generation: 0,
  inodes: [
    { ino: ROOT_INO, type: "dir", perm: 0o755, uid: 0, gid: 0, nlink: 3, atime: time, mtime: time, ctime: time, entries: [["lost+found", 11]] },
    { ino: 11, type: "dir", perm: 0o700, uid: 0, gid: 0, nlink: 2, atime: time, mtime: time, ctime: time, entries: [] }
  ]
})
