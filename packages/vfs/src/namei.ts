import { AT_FDCWD, MAXSYMLINKS, NAME_MAX, PATH_MAX, sysError, type SysError } from "@simkernel/abi"
import { MAY_EXEC, MNT_NOSYMFOLLOW } from "./constants.js"
import type { Dentry } from "./Dentry.js"
import type { Mount } from "./Mount.js"
import type { Path } from "./Path.js"
import { mayExec } from "./permission.js"
import type { VfsTask } from "./Task.js"

// include/linux/namei.h lookup flags.
export const LOOKUP_FOLLOW = 0x0001
export const LOOKUP_DIRECTORY = 0x0002
export const LOOKUP_AUTOMOUNT = 0x0004
export const LOOKUP_EMPTY = 0x4000
export const LOOKUP_DOWN = 0x8000
export const LOOKUP_MOUNTPOINT = 0x0080
export const LOOKUP_NO_SYMLINKS = 0x010000
export const LOOKUP_NO_MAGICLINKS = 0x020000
export const LOOKUP_NO_XDEV = 0x040000
export const LOOKUP_BENEATH = 0x080000
export const LOOKUP_IN_ROOT = 0x100000
const LOOKUP_IS_SCOPED = LOOKUP_BENEATH | LOOKUP_IN_ROOT

/** enum last_type: what the final component of a walk is. */
export const LAST_NORM = 0
export const LAST_ROOT = 1
export const LAST_DOT = 2
export const LAST_DOTDOT = 3

/**
 * A path walk in progress, as fs/namei.c struct nameidata: where the walk
 * is (mnt, dentry), the root it may not climb above, the flags, how many
 * symlinks it followed, and the final component once the walk of the
 * parent is done. The walk is synchronous and takes no references: the
 * result is valid until the caller next changes the tree.
 */
export class NameiData implements Path {
  mnt!: Mount
  dentry!: Dentry
  rootMnt!: Mount
  rootDentry!: Dentry
  totalLinks = 0
  last = ""
  lastType = LAST_ROOT
  /** The final component was followed by a slash ("a/b/"). */
  lastSlash = false

  constructor(
    readonly task: VfsTask,
    public flags: number
  ) {}

  /** The walk's current place as a fresh Path object. */
  path(): Path {
    return { mnt: this.mnt, dentry: this.dentry }
  }
}

/** getname(): ENOENT for "" (unless empty paths are allowed), ENAMETOOLONG at PATH_MAX. */
export const checkName = (name: string, allowEmpty: boolean): SysError | undefined => {
  if (name.length === 0) return allowEmpty ? undefined : sysError("ENOENT")
  if (name.length >= PATH_MAX) return sysError("ENAMETOOLONG")
  return undefined
}

/**
 * The mount on top of (mnt, dentry), following stacked mounts
 * (traverse_mounts()); the hash lookup runs only for dentries that
 * something is mounted on.
 */
export const crossMounts = (nd: NameiData): SysError | undefined => {
  let dentry = nd.dentry
  if (dentry.mounted === 0) return undefined
  let mnt = nd.mnt
  for (;;) {
    const child = mnt.lookupChild(dentry)
    if (child === undefined) break
    if ((nd.flags & LOOKUP_NO_XDEV) !== 0) return sysError("EXDEV")
    mnt = child
    dentry = child.root
    if (dentry.mounted === 0) break
  }
  nd.mnt = mnt
  nd.dentry = dentry
  return undefined
}

/** nd_jump_root(): an absolute symlink or path restarts at the walk's root. */
const jumpRoot = (nd: NameiData): SysError | undefined => {
  if ((nd.flags & LOOKUP_BENEATH) !== 0) return sysError("EXDEV")
  if ((nd.flags & LOOKUP_NO_XDEV) !== 0 && nd.mnt !== nd.rootMnt) return sysError("EXDEV")
  nd.mnt = nd.rootMnt
  nd.dentry = nd.rootDentry
  return undefined
}

/**
 * follow_dotdot() + step_into(): "..", never above the walk's root; at a
 * mount root it climbs to the mountpoint first (choose_mountpoint()), and
 * lands on whatever is mounted on the parent.
 */
const followDotdot = (nd: NameiData): SysError | undefined => {
  if (nd.dentry === nd.rootDentry && nd.mnt === nd.rootMnt) {
    return (nd.flags & LOOKUP_BENEATH) !== 0 ? sysError("EXDEV") : undefined
  }
  if (nd.dentry === nd.mnt.root) {
    let m = nd.mnt
    let found = false
    while (m.parent !== undefined) {
      const mp = m.mountpoint!
      m = m.parent
      if (mp === nd.rootDentry && m === nd.rootMnt) break
      if (mp !== m.root) {
        nd.mnt = m
        nd.dentry = mp
        found = true
        break
      }
    }
    if (!found) return (nd.flags & LOOKUP_BENEATH) !== 0 ? sysError("EXDEV") : undefined
    if ((nd.flags & LOOKUP_NO_XDEV) !== 0) return sysError("EXDEV")
  }
  nd.dentry = nd.dentry.parent
  return crossMounts(nd)
}

/**
 * pick_link(): follow the symlink nd points at. Text links are walked (an
 * absolute one from the root); magic links (a filesystem's getLink
 * returning a Path) jump. ELOOP beyond 40 links, on a nosymfollow mount,
 * with RESOLVE_NO_SYMLINKS, or for a magic link with RESOLVE_NO_MAGICLINKS.
 * Returns the text still to walk ("" after a jump).
 */
const pickLink = (nd: NameiData): string | SysError => {
  if (nd.totalLinks++ >= MAXSYMLINKS) return sysError("ELOOP")
  if ((nd.mnt.flags & MNT_NOSYMFOLLOW) !== 0) return sysError("ELOOP")
  if ((nd.flags & LOOKUP_NO_SYMLINKS) !== 0) return sysError("ELOOP")
  const inode = nd.dentry.inode
  const get = inode.iop?.getLink
  if (get !== undefined) {
    const r = get(nd.dentry, nd.task)
    if (typeof r !== "string") {
      if ("errno" in r) return r
      if ((nd.flags & LOOKUP_NO_MAGICLINKS) !== 0) return sysError("ELOOP")
      if ((nd.flags & LOOKUP_NO_XDEV) !== 0 && nd.mnt !== r.mnt) return sysError("EXDEV")
      if ((nd.flags & LOOKUP_IS_SCOPED) !== 0) return sysError("EXDEV")
      nd.mnt = r.mnt
      nd.dentry = r.dentry
      return ""
    }
    return r
  }
  return inode.data as string
}

/**
 * walk_component(): step into the component `name` of the directory nd is
 * at: "." stays, ".." climbs, a name is looked up (ENOENT, or
 * ENAMETOOLONG beyond NAME_MAX), mounts on it are crossed, and with
 * `follow` a symlink is followed.
 */
export const walkComponent = (nd: NameiData, name: string, type: number, follow: boolean): SysError | undefined => {
  if (type !== LAST_NORM) return type === LAST_DOTDOT ? followDotdot(nd) : undefined
  const child = nd.dentry.lookup(name)
  if (child === undefined) return sysError(name.length > NAME_MAX ? "ENAMETOOLONG" : "ENOENT")
  const parentMnt = nd.mnt
  const parentDentry = nd.dentry
  nd.dentry = child
  if (child.mounted !== 0) {
    const err = crossMounts(nd)
    if (err !== undefined) return err
  }
  if (!follow || !nd.dentry.inode.isLnk) return undefined
  const text = pickLink(nd)
  if (typeof text !== "string") return text
  if (text === "") return undefined
  // A text link resolves relative to the directory that holds it.
  nd.mnt = parentMnt
  nd.dentry = parentDentry
  const err = linkPathWalk(nd, text)
  if (err !== undefined) return err
  return walkComponent(nd, nd.last, nd.lastType, true)
}

/**
 * link_path_walk(): walk every component of `s` but the last, which is
 * left in nd.last / nd.lastType / nd.lastSlash. Directories need search
 * permission (EACCES); walking through a non-directory is ENOTDIR.
 */
export const linkPathWalk = (nd: NameiData, s: string): SysError | undefined => {
  let i = 0
  const n = s.length
  if (n > 0 && s.charCodeAt(0) === 47) {
    const err = jumpRoot(nd)
    if (err !== undefined) return err
    while (i < n && s.charCodeAt(i) === 47) i++
  }
  if (i === n) {
    nd.last = ""
    nd.lastType = LAST_ROOT
    nd.lastSlash = false
    return undefined
  }
  const cred = nd.task.cred
  for (;;) {
    const dir = nd.dentry.inode
    if (!dir.isDir) return sysError("ENOTDIR")
    if (!mayExec(cred, dir)) return dir.iop?.permission?.(cred, dir, MAY_EXEC) ?? sysError("EACCES")
    let j = i
    while (j < n && s.charCodeAt(j) !== 47) j++
    const len = j - i
    const type =
      len === 1 && s.charCodeAt(i) === 46
        ? LAST_DOT
        : len === 2 && s.charCodeAt(i) === 46 && s.charCodeAt(i + 1) === 46
          ? LAST_DOTDOT
          : LAST_NORM
    const name = type === LAST_NORM ? s.slice(i, j) : ""
    let k = j
    while (k < n && s.charCodeAt(k) === 47) k++
    if (k === n) {
      nd.last = name
      nd.lastType = type
      nd.lastSlash = j < n
      return undefined
    }
    const err = walkComponent(nd, name, type, true)
    if (err !== undefined) return err
    i = k
  }
}

/**
 * path_init(): where a walk starts and which root bounds it. Absolute
 * paths start at the root and ignore dirfd (unless the fd's file says
 * otherwise through FileOperations.dirfdRoot); relative ones start at the
 * cwd (AT_FDCWD) or at the dirfd's file, which must be a directory unless
 * the path is empty (EBADF, ENOTDIR). RESOLVE_BENEATH and RESOLVE_IN_ROOT
 * make the start the root too.
 */
export const pathInit = (nd: NameiData, dirfd: number, name: string): SysError | undefined => {
  const fs = nd.task.fs
  const absolute = name.length > 0 && name.charCodeAt(0) === 47
  const scoped = (nd.flags & LOOKUP_IS_SCOPED) !== 0
  if (absolute && !scoped) {
    if (dirfd >= 0) {
      const f = nd.task.files.fdget(dirfd)
      const hook = f?.fop?.dirfdRoot
      if (hook !== undefined) {
        const r = hook(f!, true)
        if ("errno" in r) return r
      }
    }
    const root = fs.root
    nd.rootMnt = nd.mnt = root.mnt
    nd.rootDentry = nd.dentry = root.dentry
    return undefined
  }
  let start: Path
  if (dirfd === AT_FDCWD) start = fs.pwd
  else {
    const f = nd.task.files.fdget(dirfd)
    if (f === undefined) return sysError("EBADF")
    const hook = f.fop?.dirfdRoot
    if (hook !== undefined) {
      const r = hook(f, false, name.length === 0)
      if ("errno" in r) return r
      start = r
    } else start = f
    if (name.length > 0 && !start.dentry.inode.isDir) return sysError("ENOTDIR")
  }
  nd.mnt = start.mnt
  nd.dentry = start.dentry
  if (scoped) {
    nd.rootMnt = start.mnt
    nd.rootDentry = start.dentry
  } else {
    const root = fs.root
    nd.rootMnt = root.mnt
    nd.rootDentry = root.dentry
  }
  return undefined
}

/**
 * path_lookupat(): resolve a whole path. The final component follows
 * symlinks with LOOKUP_FOLLOW, or when the path ends in a slash (which
 * also requires a directory); LOOKUP_DIRECTORY makes a non-directory
 * ENOTDIR; LOOKUP_MOUNTPOINT/LOOKUP_DOWN cross mounts on the start point
 * of a path with no final component ("/", ".").
 */
export const pathLookupat = (nd: NameiData, dirfd: number, name: string): SysError | undefined => {
  let err = checkName(name, (nd.flags & LOOKUP_EMPTY) !== 0)
  if (err !== undefined) return err
  err = pathInit(nd, dirfd, name)
  if (err !== undefined) return err
  err = linkPathWalk(nd, name)
  if (err !== undefined) return err
  if (nd.lastSlash) nd.flags |= LOOKUP_FOLLOW | LOOKUP_DIRECTORY
  err = walkComponent(nd, nd.last, nd.lastType, (nd.flags & LOOKUP_FOLLOW) !== 0)
  if (err !== undefined) return err
  if ((nd.flags & (LOOKUP_MOUNTPOINT | LOOKUP_DOWN)) !== 0 && nd.lastType !== LAST_NORM) {
    err = crossMounts(nd)
    if (err !== undefined) return err
  }
  if ((nd.flags & LOOKUP_DIRECTORY) !== 0 && !nd.dentry.inode.isDir) return sysError("ENOTDIR")
  return undefined
}

/** filename_lookup(): the Path `name` names, relative to `dirfd`. */
export const filenameLookup = (task: VfsTask, dirfd: number, name: string, flags: number): NameiData | SysError => {
  const nd = new NameiData(task, flags)
  const err = pathLookupat(nd, dirfd, name)
  return err === undefined ? nd : err
}

/**
 * filename_parentat(): walk to the directory holding the final component
 * and stop there: nd is that directory, nd.last/lastType/lastSlash the
 * component. Callers that create or remove decide what LAST_DOT,
 * LAST_DOTDOT and LAST_ROOT mean for them.
 */
export const filenameParentat = (task: VfsTask, dirfd: number, name: string, flags: number): NameiData | SysError => {
  const nd = new NameiData(task, flags)
  let err = checkName(name, false)
  if (err !== undefined) return err
  err = pathInit(nd, dirfd, name)
  if (err !== undefined) return err
  err = linkPathWalk(nd, name)
  if (err !== undefined) return err
  return nd
}
