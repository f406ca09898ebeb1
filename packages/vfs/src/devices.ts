import type { File, FileOperations } from "./File.js"

/**
 * Character devices with a driver, as drivers/char/mem.c: /dev/null (1:3)
 * and /dev/zero (1:5). Any other device number has no driver (ENXIO on
 * open). `read` and `write` return the byte count.
 */
export interface CharDeviceOps extends FileOperations {
  readonly read: (file: File, buf: Uint8Array) => number
  readonly write: (file: File, buf: Uint8Array) => number
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

/** The driver of char device `rdev` (encoded as mkdev()), if there is one. */
export const charDeviceOps = (rdev: number): CharDeviceOps | undefined =>
  rdev === 259 ? nullOps : rdev === 261 ? zeroOps : undefined

export const isCharDeviceOps = (fop: FileOperations | undefined): fop is CharDeviceOps =>
  fop !== undefined && "read" in fop && "write" in fop
