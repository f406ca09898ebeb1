import { MQUEUE_MAGIC, NAME_MAX, sysError, type SysError } from "@simkernel/abi"
import type { IpcNamespace } from "@simkernel/nsproxy"
import { FS_USERNS_MOUNT, PAGE_SIZE } from "./constants.js"
import type { FsContext } from "./FsContext.js"
import { ENOPARAM, FS_INIT_ORDER, type FsType } from "./FsType.js"
import { statfsFsid } from "./shmem.js"
import { sgetAnon, type Superblock } from "./Superblock.js"

/** The permissions of an mqueue filesystem's root directory: S_ISVTX | S_IRWXUGO. */
const MQUEUE_ROOT_MODE = 0o1777

/** mqueue_fill_super(): a superblock whose root is the queue directory. */
const mqueueFillSuper = (fc: FsContext): Superblock | SysError => {
  const sb = sgetAnon(fc.vfs, mqueueType, fc.userNs, fc.sbFlags)
  if ("errno" in sb) return sb
  sb.globalIno = true
  const err = sb.makeRoot(MQUEUE_ROOT_MODE, 0, 0)
  return err ?? sb
}

/** The superblock kept for one IPC namespace, made on first use; the namespace (or the Vfs) holds it. */
const mqueueSuperblockOf = (fc: FsContext, ipcNs: IpcNamespace | undefined): Superblock | SysError => {
  const existing = ipcNs === undefined ? fc.vfs.mqueueSb : (ipcNs.mqueueSuperblock as Superblock | undefined)
  if (existing !== undefined) return existing
  const sb = mqueueFillSuper(fc)
  if ("errno" in sb) return sb
  if (ipcNs === undefined) fc.vfs.mqueueSb = sb
  else ipcNs.attachMqueue(sb, sb)
  return sb
}

/**
 * mqueue (ipc/mqueue.c): one superblock per IPC namespace (ipc_ns->mq_mnt),
 * keyed on the namespace of whoever opened the context (get_tree_keyed()),
 * so every mount of it in one namespace shares it and CREATE_EXCL is EBUSY
 * with "w mqueue: reusing existing filesystem not allowed". The context
 * belongs to the IPC namespace's owner, so a mount needs CAP_SYS_ADMIN
 * there. No options of its own.
 */
export const mqueueType: FsType = {
  name: "mqueue",
  initOrder: FS_INIT_ORDER.mqueue,
  fsFlags: FS_USERNS_MOUNT,
  requiresDev: false,
  magic: MQUEUE_MAGIC,
  initFsContext(fc) {
    const owner = fc.ipcNs?.ownerNs
    if (owner !== undefined && owner !== fc.userNs) fc.setUserNs(owner)
  },
  parseParam: () => ENOPARAM,
  getTree(fc) {
    const sb = mqueueSuperblockOf(fc, fc.ipcNs)
    if ("errno" in sb) return sb
    if (fc.exclusive) {
      fc.warnf("reusing existing filesystem not allowed")
      return sysError("EBUSY", undefined, "reusing existing filesystem not allowed")
    }
    fc.setSuperblock(sb.get())
    return undefined
  },
  reconfigure: () => undefined,
  showOptions: () => "",
  statfs: (sb) => ({ type: MQUEUE_MAGIC, bsize: PAGE_SIZE, blocks: PAGE_SIZE, bfree: 0, bavail: 0, files: 0, ffree: 0, fsid: statfsFsid(sb), namelen: NAME_MAX, frsize: PAGE_SIZE })
}
