import { createHash } from "node:crypto"
import { closeSync, fstatSync, fsyncSync, ftruncateSync, openSync, readFileSync, renameSync, rmSync, writeSync } from "node:fs"
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
 * A full write never updates an image in place: it writes a new file
 * beside it, fsyncs it, renames it over the old one and fsyncs the
 * directory, so a crash at any point leaves either the old image or the
 * new one, never a torn one.
 *
 * A filesystem mounted sync or dirsync commits each change as a journal
 * record appended after the body (as jbd2 commits a transaction), then
 * fsyncs the file:
 *
 *   0   8  magic "SKJRNL\0\1"
 *   8   4  record length in bytes (little endian)
 *   12  4  reserved, zero
 *   16 32  SHA-256 of the record
 *   48  .. record (UTF-8 JSON: the inodes that changed, with a file's
 *          written bytes as a patch; the numbers of those removed)
 *
 * Reading replays the records in order. A last record cut short or whose
 * checksum fails (the writer was killed in the middle of the append) is
 * discarded, as jbd2 recovery stops at an uncommitted transaction; a
 * damaged record with another after it is corruption. Anything that does not check out is
 * refused as EUCLEAN ("Structure needs cleaning"), Linux's errno for a
 * corrupt filesystem.
 */
export const IMAGE_MAGIC = Buffer.from("SKDISK\x00\x01", "latin1")
export const IMAGE_VERSION = 1
const HEADER = 48
export const JOURNAL_MAGIC = Buffer.from("SKJRNL\x00\x01", "latin1")

/** Block size of every simulated ext4 (mke2fs -b 4096). */
export const EXT4_BLOCK_SIZE = 4096
/** The size of an image that records none (made before sizes were kept): 1 GiB. */
export const DEFAULT_BLOCKS_COUNT = 262_144
export const DEFAULT_INODES_COUNT = 65_536

/** ext4's root directory inode number (EXT4_ROOT_INO). */
export const ROOT_INO = 2
/** Inodes below EXT4_GOOD_OLD_FIRST_INO (11) other than the root: reserved, never in the table, counted as used. */
export const RESERVED_INODES = 9

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
  /** The size in EXT4_BLOCK_SIZE blocks (s_blocks_count, fixed at mkfs; DEFAULT_BLOCKS_COUNT when absent). */
  readonly blocksCount?: number
  /** How many inodes the filesystem has (s_inodes_count, fixed at mkfs; DEFAULT_INODES_COUNT when absent). */
  readonly inodesCount?: number
  readonly inodes: ReadonlyArray<DiskInode>
}

/**
 * A change to a file's data: the file becomes `size` bytes long (cut, or
 * extended with zeros), then holds `bytes` (base64) from byte `at`.
 */
export interface DataPatch {
  readonly size: number
  readonly at: number
  readonly bytes: string
}

/**
 * An inode as a journal record carries it: a file's data is whole, or a
 * patch to the data the image holds, or left out when it did not change.
 */
export type JournalInode =
  | Exclude<DiskInode, { type: "file" }>
  | (Omit<Extract<DiskInode, { type: "file" }>, "data"> & { readonly data?: string; readonly patch?: DataPatch })

/** One committed change of a sync or dirsync filesystem: from generation `from` to `generation`. */
export interface JournalRecord {
  readonly from: number
  readonly generation: number
  /** Inodes new or changed, whole (a file's data only when it changed). */
  readonly inodes: ReadonlyArray<JournalInode>
  /** Inode numbers that are gone. */
  readonly removed: ReadonlyArray<number>
}

/** An image as read from a device: the filesystem, and where its journal ends. */
export interface ImageState {
  readonly image: DiskImage
  /** Bytes of the full image (header and body). */
  readonly baseBytes: number
  /** Bytes of journal records that replayed; a torn last record after them is not counted. */
  readonly journalBytes: number
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

/** The smallest filesystem mkfs makes: 1 MiB. */
export const MIN_BLOCKS_COUNT = 256

const isInt = (v: unknown, min = 0): v is number => typeof v === "number" && Number.isInteger(v) && v >= min
const TIME = /^\d{1,30}$/

/**
 * Check an inode table's structure: every entry names an inode, link counts
 * add up, the root is a directory. The reason it is wrong, or undefined.
 */
export const checkImage = (image: DiskImage): string | undefined => {
  if (image.version !== IMAGE_VERSION) return `unsupported format version ${String(image.version)}`
  if (typeof image.label !== "string" || typeof image.uuid !== "string" || !isInt(image.generation)) return "bad superblock fields"
  if ((image.blocksCount !== undefined && !isInt(image.blocksCount, MIN_BLOCKS_COUNT)) || (image.inodesCount !== undefined && !isInt(image.inodesCount, 16)))
    return "bad filesystem size"
  if (!Array.isArray(image.inodes)) return "no inode table"
  if (image.inodes.length + RESERVED_INODES > (image.inodesCount ?? DEFAULT_INODES_COUNT))
    return `${image.inodes.length} inodes in a filesystem of ${image.inodesCount ?? DEFAULT_INODES_COUNT}`
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

/** Encode a journal record: header, checksum, record. */
export const encodeJournalRecord = (record: JournalRecord): Buffer => {
  const body = Buffer.from(JSON.stringify(record), "utf8")
  const header = Buffer.alloc(HEADER)
  JOURNAL_MAGIC.copy(header, 0)
  header.writeUInt32LE(body.length, 8)
  sha256(body).copy(header, 16)
  return Buffer.concat([header, body])
}

/**
 * jbd2's replay: apply journal records in order to an image. Each record
 * must follow the generation before it; a file it carries without data or
 * with a patch must already be a file, and a patch must fit its size. The
 * result is checked as a whole.
 */
export const replayRecords = (image: DiskImage, records: ReadonlyArray<JournalRecord>): DiskImage | CorruptImage => {
  const byIno = new Map<number, DiskInode>()
  for (const inode of image.inodes) byIno.set(inode.ino, inode)
  // patched data, decoded once however many records patch it
  const patched = new Map<number, Buffer>()
  const dataOf = (ino: number): Buffer | undefined => {
    const done = patched.get(ino)
    if (done !== undefined) return done
    const old = byIno.get(ino)
    return old?.type === "file" ? Buffer.from(old.data, "base64") : undefined
  }
  let generation = image.generation
  for (const record of records) {
    if (record === null || typeof record !== "object" || !Array.isArray(record.inodes) || !Array.isArray(record.removed) || !isInt(record.generation))
      return new CorruptImage("unreadable journal record")
    if (record.from !== generation) return new CorruptImage(`journal record for generation ${String(record.from)} follows generation ${generation}`)
    for (const ino of record.removed) {
      byIno.delete(ino)
      patched.delete(ino)
    }
    for (const inode of record.inodes) {
      if (inode === null || typeof inode !== "object") return new CorruptImage("bad inode in journal record")
      if (inode.type !== "file") {
        byIno.set(inode.ino, inode)
        patched.delete(inode.ino)
        continue
      }
      const { patch, ...file } = inode
      if (typeof file.data === "string") {
        byIno.set(inode.ino, { ...file, data: file.data })
        patched.delete(inode.ino)
        continue
      }
      const prev = byIno.get(inode.ino)
      if (prev?.type !== "file") return new CorruptImage(`journal record: file ${inode.ino} has no data`)
      byIno.set(inode.ino, { ...file, data: prev.data })
      if (patch === undefined) continue
      const old = dataOf(inode.ino)!
      const bytes = typeof patch === "object" && patch !== null && typeof patch.bytes === "string" ? Buffer.from(patch.bytes, "base64") : undefined
      if (bytes === undefined || !isInt(patch.size) || !isInt(patch.at) || patch.at + bytes.length > patch.size)
        return new CorruptImage(`journal record: bad patch of file ${inode.ino}`)
      const next = Buffer.alloc(patch.size)
      old.copy(next, 0, 0, Math.min(old.length, patch.size))
      bytes.copy(next, patch.at)
      patched.set(inode.ino, next)
    }
    generation = record.generation
  }
  for (const [ino, data] of patched) {
    const file = byIno.get(ino)
    if (file?.type === "file") byIno.set(ino, { ...file, data: data.toString("base64") })
  }
  const next: DiskImage = { ...image, generation, inodes: [...byIno.values()] }
  const problem = checkImage(next)
  return problem === undefined ? next : new CorruptImage(`after journal replay: ${problem}`)
}

/** Decode an image, replaying its journal; a corrupt one is refused with the reason. */
export const decodeImageState = (bytes: Uint8Array): ImageState | CorruptImage => {
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  if (buf.length < IMAGE_MAGIC.length || !buf.subarray(0, IMAGE_MAGIC.length).equals(IMAGE_MAGIC))
    return new CorruptImage("not a simkernel disk image (bad magic)", true)
  if (buf.length < HEADER) return new CorruptImage(`image is ${buf.length} bytes, shorter than its header`)
  const version = buf.readUInt32LE(8)
  if (version !== IMAGE_VERSION) return new CorruptImage(`unsupported format version ${version}`)
  const length = buf.readUInt32LE(12)
  const baseBytes = HEADER + length
  if (buf.length < baseBytes) return new CorruptImage(`image is ${buf.length} bytes, header says ${baseBytes}`)
  const body = buf.subarray(HEADER, baseBytes)
  if (!sha256(body).equals(buf.subarray(16, 48))) return new CorruptImage("checksum mismatch")
  let image: DiskImage
  try {
    image = JSON.parse(body.toString("utf8")) as DiskImage
  } catch {
    return new CorruptImage("unreadable inode table")
  }
  const problem = image !== null && typeof image === "object" ? checkImage(image) : "no superblock"
  if (problem !== undefined) return new CorruptImage(problem)
  let off = baseBytes
  const records: Array<JournalRecord> = []
  while (off < buf.length) {
    // a record whose header or body runs past the end was being appended when the writer died
    if (buf.length - off < HEADER) break
    if (!buf.subarray(off, off + JOURNAL_MAGIC.length).equals(JOURNAL_MAGIC)) return new CorruptImage(`bad journal record at byte ${off}`)
    const end = off + HEADER + buf.readUInt32LE(off + 8)
    if (end > buf.length) break
    const rec = buf.subarray(off + HEADER, end)
    if (!sha256(rec).equals(buf.subarray(off + 16, off + HEADER))) {
      if (end === buf.length) break
      return new CorruptImage(`journal checksum mismatch at byte ${off}`)
    }
    try {
      records.push(JSON.parse(rec.toString("utf8")) as JournalRecord)
    } catch {
      return new CorruptImage(`unreadable journal record at byte ${off}`)
    }
    off = end
  }
  if (records.length > 0) {
    const replayed = replayRecords(image, records)
    if (replayed instanceof CorruptImage) return replayed
    image = replayed
  }
  return { image, baseBytes, journalBytes: off - baseBytes }
}

/** Decode and check an image (its journal replayed); a corrupt one is refused with the reason. */
export const decodeImage = (bytes: Uint8Array): DiskImage | CorruptImage => {
  const state = decodeImageState(bytes)
  return state instanceof CorruptImage ? state : state.image
}

/** Read an image file; a missing file is the caller's ENOENT, anything else unreadable is corrupt. */
export const readImageFile = (path: string): DiskImage | CorruptImage => decodeImage(readFileSync(path))

/** Read an image file with where its journal ends. */
export const readImageFileState = (path: string): ImageState | CorruptImage => decodeImageState(readFileSync(path))

/**
 * Commit a journal record to an image file whose valid part (image and
 * replayed records) is `validBytes` long: anything after it (a record torn
 * by an earlier crash) is cut off first, then the record is written there
 * and the file fsynced. Returns the new valid length.
 */
export const appendJournalRecord = (path: string, validBytes: number, record: JournalRecord): number => {
  const bytes = encodeJournalRecord(record)
  const fd = openSync(path, "r+")
  try {
    if (fstatSync(fd).size !== validBytes) {
      ftruncateSync(fd, validBytes)
      fsyncSync(fd)
    }
    let off = 0
    while (off < bytes.length) off += writeSync(fd, bytes, off, bytes.length - off, validBytes + off)
    fsyncSync(fd)
  } finally {
    closeSync(fd)
  }
  return validBytes + bytes.length
}

/**
 * Replace an image file atomically: write a temporary file in the same
 * directory, fsync it, rename it over `path`, fsync the directory.
 * Returns the image's length in bytes.
 */
export const writeImageFile = (path: string, image: DiskImage): number => {
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
  return bytes.length
}

const now = (): string => (BigInt(Date.now()) * 1_000_000n).toString()

/** The size fields mke2fs fixes in the superblock. */
export interface FsGeometry {
  readonly blocksCount: number
  readonly inodesCount: number
}

const MiB = 1024 * 1024
const TiB = 1024 * 1024 * MiB

/**
 * mke2fs's layout for `bytes` of device: 4 KiB blocks, and one inode per
 * inode_ratio bytes as mke2fs.conf's usage types say (8192 below 3 MiB,
 * "floppy"; 4096 below 512 MiB, "small"; 16384 up to 4 TiB; 32768 up to
 * 16 TiB, "big"; 65536 above, "huge"), rounded up to whole inode-table
 * blocks of 16. Undefined below MIN_BLOCKS_COUNT blocks.
 */
export const fsGeometry = (bytes: number): FsGeometry | undefined => {
  const blocksCount = Math.floor(bytes / EXT4_BLOCK_SIZE)
  if (!Number.isSafeInteger(blocksCount) || blocksCount < MIN_BLOCKS_COUNT) return undefined
  const ratio = bytes < 3 * MiB ? 8192 : bytes < 512 * MiB ? 4096 : bytes < 4 * TiB ? 16384 : bytes < 16 * TiB ? 32768 : 65536
  return { blocksCount, inodesCount: Math.ceil(bytes / ratio / 16) * 16 }
}

/**
 * mkfs: an empty filesystem, as mke2fs makes one: the root directory (inode
 * 2, mode 0755, owned by root) and lost+found (mode 0700); of `geometry`'s
 * size, or the default 1 GiB.
 */
export const mkfsImage = (label: string, uuid: string, time = now(), geometry?: FsGeometry): DiskImage => ({
  version: IMAGE_VERSION,
  label,
  uuid,
  generation: 0,
  ...geometry,
  inodes: [
    { ino: ROOT_INO, type: "dir", perm: 0o755, uid: 0, gid: 0, nlink: 3, atime: time, mtime: time, ctime: time, entries: [["lost+found", 11]] },
    { ino: 11, type: "dir", perm: 0o700, uid: 0, gid: 0, nlink: 2, atime: time, mtime: time, ctime: time, entries: [] }
  ]
})
