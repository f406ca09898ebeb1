import { sysError, type SysError } from "@simkernel/abi"
import type { File, FileOperations } from "./File.js"

/**
 * Character devices with a driver, as drivers/char/mem.c: /dev/null (1:3),
 * /dev/zero (1:5) and /dev/full (1:7). Any other device number has no
 * driver (ENXIO on open). `read` and `write` return the byte count.
 */
export interface CharDeviceOps extends FileOperations {
  readonly read: (file: File, buf: Uint8Array) => number
  readonly write: (file: File, buf: Uint8Array) => number | SysError
}

const nullOps: CharDeviceOps = { name: "null", read: () => 0, write: (_f, b) => b.length }
const zeroOps: CharDeviceOps = {
  name: "zero",
  read: (_f, b) => {
    b.fill(0)
    return b.length
  },
  write: (_f, b) => b.length
}

/** /dev/full: reads like /dev/zero, every write fails as on a full disk. */
const fullOps: CharDeviceOps = {
  name: "full",
  read: zeroOps.read,
  write: () => sysError("ENOSPC", "write")
}

/** The driver of char device `rdev` (encoded as mkdev()), if there is one. */
export const charDeviceOps = (rdev: number): CharDeviceOps | undefined =>
  rdev === 259 ? nullOps : rdev === 261 ? zeroOps : rdev === 263 ? fullOps : undefined

export const isCharDeviceOps = (fop: FileOperations | undefined): fop is CharDeviceOps =>
  fop !== undefined && "read" in fop && "write" in fop
