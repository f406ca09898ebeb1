import { NAME_MAX, NSFS_MAGIC, O_RDONLY, O_CLOEXEC, S_IFREG, type SysError } from "@simkernel/abi"
import type { Cred, NsCommon } from "@simkernel/cred"
import { MNT_INTERNAL, PAGE_SIZE } from "./constants.js"
import { Dentry } from "./Dentry.js"
import { File, type FileOperations } from "./File.js"
import type { FsType } from "./FsType.js"
import { Inode } from "./Inode.js"
import type { Mount } from "./Mount.js"
import { vfsCreateMount } from "./namespace.js"
import { sgetAnon } from "./Superblock.js"
import type { Vfs } from "./Vfs.js"

/** nsfs (fs/nsfs.c): the internal filesystem namespace files live on; never mounted by users. */
export const nsfsType: FsType = {
  name: "nsfs",
  fsFlags: 0,
  requiresDev: false,
  magic: NSFS_MAGIC,
  initFsContext: () => undefined,
  parseParam: () => undefined,
  getTree: () => undefined,
  reconfigure: () => undefined,
  showOptions: () => "",
  statfs: (sb) => ({ type: NSFS_MAGIC, bsize: PAGE_SIZE, blocks: 0, bfree: 0, bavail: 0, files: 0, ffree: 0, fsid: [sb.dev, 0], namelen: NAME_MAX, frsize: PAGE_SIZE })
}

const nsFileOps: FileOperations = {
  name: "nsfs",
  release: (file) => (file.privateData as NsCommon).put()
}

/** The namespace a file opened by openNsFile() refers to, or undefined for any other file. */
export const nsFromFile = (file: File): NsCommon | undefined => (file.fop === nsFileOps ? (file.privateData as NsCommon) : undefined)

/**
 * The kernel-internal nsfs mount (nsfs_mnt), made on first use; Vfs.shutdown() drops it.
 */
const nsfsMount = (vfs: Vfs, cred: Cred): Mount | SysError => {
  const existing = vfs.internalMounts.get("nsfs")
  if (existing !== undefined) return existing
  const sb = sgetAnon(vfs, nsfsType, cred.userNs.initNs, 0)
  if ("errno" in sb) return sb
  const root = new Inode(sb, 1, 0o40555, 0, 0)
  sb.root = new Dentry("/", undefined, root)
  const mnt = vfsCreateMount(sb, sb.root, MNT_INTERNAL, "nsfs")
  sb.put()
  if ("errno" in mnt) return mnt
  vfs.internalMounts.set("nsfs", mnt)
  return mnt
}

/**
 * open("/proc/PID/ns/KIND") (ns_get_path() + dentry_open()): a read-only
 * File on an nsfs inode whose number is the namespace's inum; the file
 * holds a reference on the namespace. What procfs serves for
 * /proc/PID/ns/KIND and setns() accepts.
 */
export const openNsFile = (vfs: Vfs, ns: NsCommon, cred: Cred): File | SysError => {
  const mnt = nsfsMount(vfs, cred)
  if ("errno" in mnt) return mnt
  const inode = new Inode(mnt.sb, ns.inum, S_IFREG | 0o444, 0, 0)
  const dentry = new Dentry(`${ns.kind}:[${ns.inum}]`, mnt.sb.root, inode)
  dentry.unhashed = true
  const file = new File({ mnt, dentry }, O_RDONLY, cred, nsFileOps)
  file.privateData = ns.get()
  return file
}

/** Open `ns` as a file and install it (O_CLOEXEC unless told otherwise): the "nsfd" of the conformance format. */
export const installNsFd = (
  vfs: Vfs,
  files: { install(f: File, cloexec: boolean, nofile?: number): number | SysError },
  ns: NsCommon,
  cred: Cred,
  flags = O_CLOEXEC
): number | SysError => {
  const f = openNsFile(vfs, ns, cred)
  if ("errno" in f) return f
  const fd = files.install(f, (flags & O_CLOEXEC) !== 0)
  if (typeof fd !== "number") f.put()
  return fd
}
