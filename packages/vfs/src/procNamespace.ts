import { MNT_NOATIME, MNT_NODEV, MNT_NODIRATIME, MNT_NOEXEC, MNT_NOSUID, MNT_NOSYMFOLLOW, MNT_READONLY, MNT_RELATIME, SB_DIRSYNC, SB_LAZYTIME, SB_MANDLOCK, SB_SYNCHRONOUS } from "./constants.js"
import type { Dentry } from "./Dentry.js"
import type { Mount } from "./Mount.js"
import type { MountNamespace } from "./MountNamespace.js"
import { isPathReachable } from "./namespace.js"
import type { Path } from "./Path.js"
import type { VfsTask } from "./Task.js"
import { sysError, type SysError } from "@simkernel/abi"

/** Who reads /proc/PID/mountinfo: the reader's root and its mount namespace. */
export interface MountsReader {
  readonly root: Path
  readonly ns: MountNamespace
}

/** mangle(): escape space, tab, newline and backslash as octal, as seq_escape() does. */
export const mangle = (s: string): string => s.replace(/[ \t\n\\]/g, (c) => "\\" + c.charCodeAt(0).toString(8).padStart(3, "0"))

/**
 * d_path() relative to `root`: the path of (mnt, dentry) as a process
 * whose root is `root` sees it, or undefined when it lies outside.
 */
export const dPath = (mnt: Mount, dentry: Dentry, root: Path): string | undefined => {
  const parts: Array<string> = []
  let m = mnt
  let d = dentry
  for (;;) {
    if (m === root.mnt && d === root.dentry) break
    if (d === m.root) {
      if (m.parent === undefined) return undefined
      d = m.mountpoint!
      m = m.parent
      continue
    }
    parts.push(d.name)
    d = d.parent
  }
  let out = ""
  for (let i = parts.length - 1; i >= 0; i--) out += "/" + parts[i]
  return out === "" ? "/" : out
}

/** The path of (mnt, dentry) from the top of its mount tree (what d_path shows past "(unreachable)"). */
export const dPathFromTop = (mnt: Mount, dentry: Dentry): string => {
  let top = mnt
  while (top.parent !== undefined) top = top.parent
  return dPath(mnt, dentry, { mnt: top, dentry: top.root }) ?? "/"
}

/**
 * getcwd(2): the cwd relative to the caller's root; ENOENT for a removed
 * directory; "(unreachable)" and the path from the top of its tree when
 * the cwd is outside the root.
 */
export const getcwd = (task: VfsTask): string | SysError => {
  const { pwd, root } = task.fs
  if (pwd.dentry.unhashed && !pwd.dentry.isRoot) return sysError("ENOENT", "getcwd")
  return dPath(pwd.mnt, pwd.dentry, root) ?? "(unreachable)" + dPathFromTop(pwd.mnt, pwd.dentry)
}

/** show_mnt_opts() after the ro/rw: the per-mount flags. */
const mntOpts = (f: number): string => {
  let s = ""
  if (f & MNT_NOSUID) s += ",nosuid"
  if (f & MNT_NODEV) s += ",nodev"
  if (f & MNT_NOEXEC) s += ",noexec"
  if (f & MNT_NOATIME) s += ",noatime"
  if (f & MNT_NODIRATIME) s += ",nodiratime"
  if (f & MNT_RELATIME) s += ",relatime"
  if (f & MNT_NOSYMFOLLOW) s += ",nosymfollow"
  return s
}

/** show_sb_opts(): the generic superblock flags. */
const sbOpts = (f: number): string => {
  let s = ""
  if (f & SB_SYNCHRONOUS) s += ",sync"
  if (f & SB_DIRSYNC) s += ",dirsync"
  if (f & SB_MANDLOCK) s += ",mand"
  if (f & SB_LAZYTIME) s += ",lazytime"
  return s
}

/** get_dominating_id(): the nearest master group with a member visible under the reader's root. */
const dominatingId = (mnt: Mount, root: Path): number => {
  for (let m = mnt.master; m !== undefined; m = m.master) {
    for (const p of m.peers ?? [m]) if (p.ns === mnt.ns && isPathReachable(p, p.root, root)) return p.groupId
  }
  return 0
}

/** A mount's root as mountinfo shows it: the path inside its filesystem, or a pseudo file's d_dname() ("net:[4026531840]"). */
const mountRootName = (m: Mount): string => {
  const dname = m.sb.type.dname
  return dname !== undefined && !m.root.isRoot ? dname(m.root) : m.root.pathFromRoot()
}

/** The namespace's mounts in the order the kernel lists them. */
const listMounts = (ns: MountNamespace): Array<Mount> => [...ns.mounts].sort((a, b) => a.uniqueId - b.uniqueId)

/**
 * show_mountinfo(): /proc/PID/mountinfo for `reader`, one line per mount
 * reachable from its root: `id parent major:minor root mountpoint
 * options [shared:N] [master:N [propagate_from:N]] [unbindable] - type
 * source superoptions`.
 */
export const showMountinfo = (reader: MountsReader): string => {
  let out = ""
  for (const m of listMounts(reader.ns)) {
    const mp = dPath(m, m.root, reader.root)
    if (mp === undefined) continue
    const sb = m.sb
    const parentId = m.parent?.mntId ?? m.mntId
    let line = `${m.mntId} ${parentId} ${sb.devString} ${mangle(mountRootName(m))} ${mangle(mp)} ${m.flags & MNT_READONLY ? "ro" : "rw"}${mntOpts(m.flags)}`
    if (m.isShared) line += ` shared:${m.groupId}`
    if (m.master !== undefined) {
      const master = m.master.groupId
      line += ` master:${master}`
      const dom = dominatingId(m, reader.root)
      if (dom !== 0 && dom !== master) line += ` propagate_from:${dom}`
    }
    if (m.unbindable) line += " unbindable"
    line += ` - ${sb.type.name} ${mangle(m.devname ?? "none")} ${sb.rdonly ? "ro" : "rw"}${sbOpts(sb.flags)}${sb.type.showOptions(sb)}\n`
    out += line
  }
  return out
}

/** show_vfsmnt(): /proc/PID/mounts: `source mountpoint type options 0 0`. */
export const showMounts = (reader: MountsReader): string => {
  let out = ""
  for (const m of listMounts(reader.ns)) {
    const mp = dPath(m, m.root, reader.root)
    if (mp === undefined) continue
    const sb = m.sb
    out += `${mangle(m.devname ?? "none")} ${mangle(mp)} ${sb.type.name} ${m.isReadonly ? "ro" : "rw"}${sbOpts(sb.flags)}${mntOpts(m.flags)}${sb.type.showOptions(sb)} 0 0\n`
  }
  return out
}
