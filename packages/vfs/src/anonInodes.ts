import { ANON_INODE_FS_MAGIC, NAME_MAX, O_ACCMODE, O_NONBLOCK, type SysError } from "@simkernel/abi"
import type { Cred } from "@simkernel/cred"
import { MNT_INTERNAL, PAGE_SIZE } from "./constants.js"
import { Dentry } from "./Dentry.js"
import { File, type FileOperations } from "./File.js"
import type { FsType } from "./FsType.js"
import { Inode } from "./Inode.js"
import type { Mount } from "./Mount.js"
import { vfsCreateMount } from "./namespace.js"
import { sgetAnon } from "./Superblock.js"
import type { Vfs } from "./Vfs.js"

/** fs/anon_inodes.c: the internal filesystem anonymous-inode files ("[pidfd]", "[fscontext]") live on. */
export const anonInodeFsType: FsType = {
  name: "anon_inodefs",
  fsFlags: 0,
  requiresDev: false,
  magic: ANON_INODE_FS_MAGIC,
  initFsContext: () => undefined,
  parseParam: () => undefined,
  getTree: () => undefined,
  reconfigure: () => undefined,
  showOptions: () => "",
  statfs: (sb) => ({ type: ANON_INODE_FS_MAGIC, bsize: PAGE_SIZE, blocks: 0, bfree: 0, bavail: 0, files: 0, ffree: 0, fsid: [sb.dev, 0], namelen: NAME_MAX, frsize: PAGE_SIZE })
}

/**
 * anon_inode_mnt with its one shared inode (anon_inode_inode: mode 0600 of
 * no file type, owned by root), made on first use and held in
 * `vfs.internalMounts` until Vfs.shutdown().
 */
export const anonInodeMount = (vfs: Vfs, cred: Cred): Mount | SysError => {
  const existing = vfs.internalMounts.get("anon_inodefs")
  if (existing !== undefined) return existing
  const sb = sgetAnon(vfs, anonInodeFsType, cred.userNs.initNs, 0)
  if ("errno" in sb) return sb
  sb.root = new Dentry("/", undefined, new Inode(sb, 1, 0o600, 0, 0))
  const mnt = vfsCreateMount(sb, sb.root, MNT_INTERNAL, "anon_inodefs")
  sb.put()
  if ("errno" in mnt) return mnt
  vfs.internalMounts.set("anon_inodefs", mnt)
  return mnt
}

/**
 * anon_inode_getfile(): a File on the shared anonymous inode, under an
 * unhashed dentry called `name` (so /proc/PID/fd/N reads
 * "anon_inode:NAME"), with operations `fop` and `privateData` (whose
 * reference the File takes over: `fop.release` drops it). Only the access
 * mode and O_NONBLOCK of `flags` stay, as in Linux. `cred` is the opener.
 * On failure nothing was taken: the caller still owns `privateData`.
 */
export const anonInodeGetfile = (
  vfs: Vfs,
  name: string,
  fop: FileOperations,
  privateData: unknown,
  flags: number,
  cred: Cred
): File | SysError => {
  const mnt = anonInodeMount(vfs, cred)
  if ("errno" in mnt) return mnt
  const dentry = new Dentry(name, mnt.root, mnt.root.inode)
  dentry.unhashed = true
  const file = new File({ mnt, dentry }, flags & (O_ACCMODE | O_NONBLOCK), cred, fop)
  file.privateData = privateData
  return file
}

/** The "anon_inode:NAME" that d_path() (and readlink of /proc/PID/fd/N) shows for an anonymous-inode file, or undefined for other files. */
export const anonInodeDname = (file: File): string | undefined =>
  file.mnt.sb.type === anonInodeFsType ? `anon_inode:${file.dentry.name}` : undefined
