import { accessSync, constants, statSync } from "node:fs"
import { type BlockDevice, fileBlockDevice, memoryBlockDevice, scsiDevno } from "./BlockDevice.js"
import { DiskError, mkfsRootImage } from "./mkfs.js"

export interface AttachOptions {
  /** Programs for the in-memory root disk made when no sda3 is given (see mkfsRootImage). */
  readonly programs?: ReadonlyArray<string>
  /** /etc/hostname of that disk. */
  readonly hostname?: string
}

/** One parsed `--disk NAME=PATH[:ro|:rw]`. */
export interface DiskSpec {
  readonly name: string
  readonly path: string
  readonly readOnly: boolean
}

/**
 * Parse `sda3=./rootfs.img`, `sda3=./x.img:ro` (or `:rw`): a SCSI
 * partition name (sda..sdp, partitions 0..15, numbered as Linux does) and
 * a host path.
 */
export const parseDiskSpec = (spec: string): DiskSpec | DiskError => {
  const eq = spec.indexOf("=")
  if (eq <= 0 || eq === spec.length - 1) return new DiskError(`--disk ${spec}: expected NAME=IMAGE[:ro], e.g. sda3=./rootfs.img`, 2)
  const name = spec.slice(0, eq)
  let path = spec.slice(eq + 1)
  let readOnly = false
  if (path.endsWith(":ro")) {
    readOnly = true
    path = path.slice(0, -3)
  } else if (path.endsWith(":rw")) path = path.slice(0, -3)
  if (path === "") return new DiskError(`--disk ${spec}: no image file`, 2)
  if (scsiDevno(name) === undefined) return new DiskError(`--disk ${spec}: '${name}' is not a SCSI disk name (sda, sda3, ... sdp15)`, 2)
  return { name, path, readOnly }
}

/**
 * `--disk` options to block devices, for boot to add to ext4
 * (`ext4.addDevice`) and to give /dev nodes. Each image file must exist
 * (make one with `simkernel mkfs`); one the host does not let us write is
 * attached read-only, as losetup does with a write-protected file. When no
 * spec names sda3, an in-memory sda3 holding a fresh root filesystem
 * (mkfsRootImage with `options.programs`) is added, so the disk the seed
 * mounts is always there. Names must be distinct.
 */
export const attachDisks = (specs: ReadonlyArray<string>, options: AttachOptions = {}): ReadonlyArray<BlockDevice> | DiskError => {
  const devices: Array<BlockDevice> = []
  const names = new Set<string>()
  for (const spec of specs) {
    const d = parseDiskSpec(spec)
    if (d instanceof DiskError) return d
    if (names.has(d.name)) return new DiskError(`--disk ${spec}: ${d.name} is given twice`, 2)
    names.add(d.name)
    let isFile: boolean
    try {
      isFile = statSync(d.path).isFile()
    } catch {
      return new DiskError(`--disk ${spec}: ${d.path}: No such file or directory (make one with: simkernel mkfs ${d.path})`)
    }
    if (!isFile) return new DiskError(`--disk ${spec}: ${d.path}: not a regular file`)
    let writable = true
    try {
      accessSync(d.path, constants.W_OK)
    } catch {
      writable = false
    }
    devices.push(fileBlockDevice(d.name, d.path, { readOnly: d.readOnly || !writable }))
  }
  if (!names.has("sda3")) {
    const image = mkfsRootImage({ programs: options.programs ?? [], label: "rootfs", uuid: "00000000-0000-4000-8000-000000000003", time: "1700000000000000000", ...(options.hostname === undefined ? {} : { hostname: options.hostname }) })
    if (image instanceof DiskError) return image
    devices.push(memoryBlockDevice("sda3", image))
  }
  return devices
}
