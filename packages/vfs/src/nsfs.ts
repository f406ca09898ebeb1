import { NAME_MAX, NSFS_MAGIC, O_RDONLY, O_CLOEXEC, S_IFREG, sysError, type SysError } from "@simkernel/abi"
import type { Cred, NsCommon } from "@simkernel/cred"
import { MNT_INTERNAL, PAGE_SIZE } from "./constants.js"
import { Dentry } from "./Dentry.js"
import { File, type FileOperations } from "./File.js"
import type { FsType } from "./FsType.js"
import { Inode, type InodeOperations } from "./Inode.js"
import type { Mount } from "./Mount.js"
import type { Path } from "./Path.js"
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
  statfs: (sb) => ({ type: NSFS_MAGIC, bsize: PAGE_SIZE, blocks: 0, bfree: 0, bavail: 0, files: 0, ffree: 0, fsid: [sb.dev, 0], namelen: NAME_MAX, frsize: PAGE_SIZE }),
  dname: (dentry) => dentry.name
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
 * An nsfs inode's operations: opening it gives a file holding the
 * namespace (ns_file_operations; the inode is immutable, so writing is
 * EPERM), and a mount rooted at it (a bind mount of /proc/PID/ns/KIND)
 * holds the namespace until it is unmounted, as the nsfs inode's
 * reference does until ->evict_inode.
 */
const nsInodeOps: InodeOperations = {
  open: (file) => {
    if (file.canWrite) return sysError("EPERM", "open")
    file.fop = nsFileOps
    file.privateData = (file.inode.data as NsCommon).get()
    return undefined
  },
  ihold: (inode) => void (inode.data as NsCommon).get(),
  iput: (inode) => (inode.data as NsCommon).put()
}

/** ns->stashed: the one nsfs dentry of each namespace, made on first use. */
const stashed = new WeakMap<NsCommon, Dentry>()

/**
 * ns_get_path(): the nsfs (mount, dentry) of a namespace, where the magic
 * link /proc/PID/ns/KIND jumps. The path holds no reference: whoever
 * keeps it opens it (a File) or mounts it (a bind mount), and each of those
 * holds the namespace.
 */
export const nsGetPath = (vfs: Vfs, ns: NsCommon, cred: Cred): Path | SysError => {
  const mnt = nsfsMount(vfs, cred)
  if ("errno" in mnt) return mnt
  let dentry = stashed.get(ns)
  if (dentry === undefined || dentry.inode.sb !== mnt.sb) {
    const inode = new Inode(mnt.sb, ns.inum, S_IFREG | 0o444, 0, 0)
    inode.data = ns
    inode.iop = nsInodeOps
    dentry = new Dentry(`${ns.kind}:[${ns.inum}]`, mnt.sb.root, inode)
    dentry.unhashed = true
    stashed.set(ns, dentry)
  }
  return { mnt, dentry }
}

/**
 * open("/proc/PID/ns/KIND") (ns_get_path() + dentry_open()): a read-only
 * File on the namespace's nsfs inode, whose number is the namespace's
 * inum; the file holds a reference on the namespace. What procfs serves
 * for /proc/PID/ns/KIND and setns() accepts.
 */
export const openNsFile = (vfs: Vfs, ns: NsCommon, cred: Cred): File | SysError => {
  const path = nsGetPath(vfs, ns, cred)
  if ("errno" in path) return path
  const file = new File(path, O_RDONLY, cred, nsFileOps)
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
