import { NAME_MAX, RAMFS_MAGIC } from "@simkernel/abi"
import { FS_USERNS_MOUNT, PAGE_SIZE } from "./constants.js"
import { ENOPARAM, FS_INIT_ORDER, type FsType } from "./FsType.js"
import { badValue, parseUint, statfsFsid } from "./shmem.js"
import { sgetAnon } from "./Superblock.js"

/** The ramfs part of a superblock (struct ramfs_fs_info). */
interface RamfsInfo {
  mode: number
}

const RAMFS_DEFAULT_MODE = 0o755

/** fs/ramfs: only "mode"; unknown options are ignored, as ramfs always did. */
export const ramfsType: FsType = {
  name: "ramfs",
  initOrder: FS_INIT_ORDER.ramfs,
  fsFlags: FS_USERNS_MOUNT,
  requiresDev: false,
  magic: RAMFS_MAGIC,
  initFsContext(fc) {
    fc.fsPrivate = { mode: RAMFS_DEFAULT_MODE } satisfies RamfsInfo
  },
  parseParam(fc, param) {
    if (param.key === "mode") {
      const v = param.type === "string" ? parseUint(param.string, 8) : undefined
      if (v === undefined) return badValue(fc, param.key)
      ;(fc.fsPrivate as RamfsInfo).mode = v & 0o7777
      return undefined
    }
    if (param.key === "source") return ENOPARAM
    return undefined
  },
  getTree(fc) {
    const sb = sgetAnon(fc.vfs, ramfsType, fc.userNs, fc.sbFlags)
    if ("errno" in sb) return sb
    const mode = (fc.fsPrivate as RamfsInfo).mode
    sb.fsInfo = { mode } satisfies RamfsInfo
    sb.globalIno = true
    const err = sb.makeRoot(mode, fc.cred.fsuid, fc.cred.fsgid)
    if (err !== undefined) return err
    fc.setSuperblock(sb)
    return undefined
  },
  reconfigure() {
    return undefined
  },
  showOptions(sb) {
    const mode = (sb.fsInfo as RamfsInfo).mode
    return mode === RAMFS_DEFAULT_MODE ? "" : `,mode=${mode.toString(8)}`
  },
  statfs(sb) {
    return { type: RAMFS_MAGIC, bsize: PAGE_SIZE, blocks: 0, bfree: 0, bavail: 0, files: 0, ffree: 0, fsid: statfsFsid(sb), namelen: NAME_MAX, frsize: PAGE_SIZE }
  }
}
