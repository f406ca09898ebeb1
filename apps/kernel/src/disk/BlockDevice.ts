import { Oops } from "@simkernel/abi"
import { existsSync } from "node:fs"
import { appendJournalRecord, CorruptImage, type DiskImage, type JournalRecord, mkfsImage, readImageFileState, replayRecords, writeImageFile } from "./image.js"

/**
 * A block device of the simulated machine (/dev/sda3): what the disk-backed
 * filesystem loads its tree from and syncs it to. Backed by an image file
 * on the host (`--disk sda3=./rootfs.img`) or by memory.
 */
export interface BlockDevice {
  /** The kernel's name for it, e.g. "sda3". */
  readonly name: string
  /** Device number: SCSI disks are major 8, minor 16 × disk + partition. */
  readonly major: number
  readonly minor: number
  /** A read-only device refuses writes (a mount of it is read-only). */
  readonly readOnly: boolean
  /** The filesystem on it, or why it cannot be read. */
  load(): DiskImage | CorruptImage
  /** Persist a new state of the filesystem (atomically, for a file); the journal is folded in. */
  store(image: DiskImage): void
  /** Commit one change after the state last loaded, stored or appended (a journal record, fsynced). */
  append(record: JournalRecord): void
  /** Bytes of journal records since the last full store (0 for memory). */
  readonly journalBytes: number
  /** Bytes of the last full image (0 for memory). */
  readonly baseBytes: number
}

/** sdXN → [8, 16 × X + N], as Linux numbers SCSI disks (major 8). */
export const scsiDevno = (name: string): readonly [number, number] | undefined => {
  const m = /^sd([a-p])([0-9]{0,2})$/.exec(name)
  if (m === null) return undefined
  const part = m[2] === "" ? 0 : Number(m[2])
  if (part > 15) return undefined
  return [8, 16 * (m[1]!.charCodeAt(0) - 97) + part]
}

/** A device whose filesystem lives in the host file `path` (made by mkfs if missing and `create`). */
export const fileBlockDevice = (name: string, path: string, options: { readonly readOnly?: boolean } = {}): BlockDevice => {
  const [major, minor] = scsiDevno(name) ?? [8, 0]
  const readOnly = options.readOnly ?? false
  let baseBytes = 0
  let journalBytes = 0
  // the filesystem never writes to a read-only device; this is the last line of defence
  const mayWrite = (): void => {
    if (readOnly) throw new Oops(`${name}: write to a read-only device`)
  }
  return {
    name,
    major,
    minor,
    readOnly,
    get baseBytes() {
      return baseBytes
    },
    get journalBytes() {
      return journalBytes
    },
    load: () => {
      const state = readImageFileState(path)
      if (state instanceof CorruptImage) return state
      baseBytes = state.baseBytes
      journalBytes = state.journalBytes
      return state.image
    },
    store: (image) => {
      mayWrite()
      baseBytes = writeImageFile(path, image)
      journalBytes = 0
    },
    append: (record) => {
      mayWrite()
      journalBytes = appendJournalRecord(path, baseBytes + journalBytes, record) - baseBytes
    }
  }
}

/** A device held in memory: starts as a freshly made filesystem. */
export const memoryBlockDevice = (name: string, image: DiskImage = mkfsImage(name, `mem-${name}`)): BlockDevice => {
  const [major, minor] = scsiDevno(name) ?? [8, 0]
  let current = image
  return {
    name,
    major,
    minor,
    readOnly: false,
    baseBytes: 0,
    journalBytes: 0,
    load: () => current,
    store: (next) => {
      current = next
    },
    append: (record) => {
      const next = replayRecords(current, [record])
      if (next instanceof CorruptImage) throw new Oops(`${name}: ${next.message}`)
      current = next
    }
  }
}

/** Make an image file if there is none (simkernel mkfs). */
export const ensureImage = (path: string, label: string, uuid: string): void => {
  if (!existsSync(path)) writeImageFile(path, mkfsImage(label, uuid))
}
