import { Effect } from "effect"
import { CAP_SYS_ADMIN, NAME_MAX, PROC_SUPER_MAGIC, S_IFDIR, S_IFLNK, S_IFREG, sysError, type SysError } from "@simkernel/abi"
import {
  type CredValues,
  gidValid,
  inEgroupP,
  inGroupP,
  type Kgid,
  makeKgid,
  makeKuid,
  nsCapable,
  procGidMapShow,
  procGidMapWrite,
  procSetgroupsShow,
  procSetgroupsWrite,
  procUidMapShow,
  procUidMapWrite
} from "@simkernel/cred"
import { NEW_UTS_LEN, parseTimensOffsets } from "@simkernel/nsproxy"
import { containersOf } from "../syscalls/container.js"
import { procKeysShow, procKeyUsersShow } from "../syscalls/keys.js"
import { nsOf } from "../syscalls/ns.js"
import { type Kernel as Sched, PID_MAX_LIMIT, type PidNamespace, RESERVED_PIDS, type Task } from "@simkernel/sched"
import {
  type DataNode,
  Dentry,
  type File,
  type FileOperations,
  genericPermission,
  type FdTable,
  type FsContext,
  type FsParameter,
  type FsStruct,
  type FsType,
  ENOPARAM,
  FS_INIT_ORDER,
  FS_USERNS_MOUNT,
  Inode,
  type InodeOperations,
  MAY_EXEC,
  MAY_READ,
  MAY_WRITE,
  MNT_INTERNAL,
  type MountNamespace,
  nsGetPath,
  PAGE_SIZE,
  type Path,
  sgetAnon,
  showMountinfo,
  showMounts,
  type Superblock,
  type Vfs
} from "@simkernel/vfs"
import { currentTask, ptraceMayAccessFsCreds, walkerTask } from "./access.js"
import { showCmdline, showEnviron, showStat, showStatus, showTimensOffsets } from "./format.js"

/** hidepid= values (enum proc_hidepid). */
const HIDEPID_OFF = 0
const HIDEPID_NO_ACCESS = 1
const HIDEPID_INVISIBLE = 2
const HIDEPID_NOT_PTRACEABLE = 4

/** The proc part of a superblock (struct proc_fs_info): the PID namespace it shows, and its mount options. */
export interface ProcFsInfo {
  readonly pidNs: PidNamespace
  readonly sched: Sched
  readonly vfs: Vfs
  /** hide_pid: HIDEPID_OFF, _NO_ACCESS, _INVISIBLE or _NOT_PTRACEABLE. */
  readonly hidePid: number
  /** pid_gid: members see every /proc/PID whatever hidepid says (undefined: none given). */
  readonly pidGid: Kgid | undefined
  /** subset=pid (pidonly): only the /proc/PID directories, self and thread-self. */
  readonly subsetPid: boolean
  /** Inode numbers by entry, so that an entry keeps its number across lookups. */
  readonly inos: Map<string, number>
  nextIno: number
}

/** The options of a proc mount being configured. */
interface ProcContext {
  pidNs: PidNamespace
  hidePid: number
  pidGid: Kgid | undefined
  subsetPid: boolean
}

// ---------------------------------------------------------------------------
// Contents

/**
 * A generated file's text, as the seq_file buffer of one open: made when
 * the name is looked up for the task the scheduler runs, and again at open
 * when the opener the VFS names is another task, so an open file keeps
 * what its opener saw. What the text cannot be made for (a zombie's
 * environ, ESRCH; its mounts, EINVAL) is the open's refusal, as the
 * file's ->open gives it. A write goes to the entry's `write` with the
 * writer (as write(2) names it) and the opener; a file without one refuses
 * writes with EINVAL (a /proc/PID file without ->write: vfs_write()), or
 * EIO for the files of the proc root (proc_reg_write() without
 * ->proc_write).
 */
class ProcText implements DataNode {
  private bytes: Uint8Array
  private refusal: SysError | undefined
  constructor(
    private readonly sched: Sched,
    private readonly entry: FileEntry,
    private opener: Task,
    text: string | SysError
  ) {
    this.bytes = encoder.encode(typeof text === "string" ? text : "")
    this.refusal = typeof text === "string" ? undefined : text
  }
  /** The seq_file open: the text as `opener` sees it, or why it cannot be made. */
  openBy(opener: Task): SysError | undefined {
    if (opener === this.opener) return this.refusal
    const text = this.entry.show(opener)
    if (typeof text !== "string") return text
    this.bytes = encoder.encode(text)
    this.refusal = undefined
    this.opener = opener
    return undefined
  }
  read(buf: Uint8Array, off: number, len: number, pos: number): number {
    const n = Math.max(0, Math.min(len, this.bytes.length - pos))
    buf.set(this.bytes.subarray(pos, pos + n), off)
    return n
  }
  write(buf: Uint8Array, off: number, len: number, pos: number, task?: unknown): number | SysError {
    const w = this.entry.write
    if (w === undefined) return sysError(this.entry.pde === true ? "EIO" : "EINVAL", "write")
    return w(walkerTask(this.sched, task), this.opener, buf.subarray(off, off + len), pos)
  }
  truncate(): void {}
  getSize(): number {
    return this.bytes.length
  }
}

/**
 * The file operations of a generated file: read(2) takes the open's text
 * (seq_read()), whatever the inode's size says (0, as every procfs file
 * stats).
 */
const procTextFops = (data: ProcText): FileOperations => ({
  name: "proc",
  read: (_file, buf, pos) => data.read(buf, 0, buf.length, pos)
})

const encoder = new TextEncoder()
const decoder = new TextDecoder()

/** What an entry of a procfs directory is. */
type Entry =
  | {
      readonly type: "file"
      readonly mode: number
      /** The text as `reader` sees it at open; an error makes the lookup fail. */
      readonly show: (reader: Task) => string | SysError
      readonly write?: (writer: Task, opener: Task, buf: Uint8Array, pos: number) => number | SysError
      /** The file's ->open: a refusal (EACCES, EPERM) is open(2)'s answer. */
      readonly open?: (opener: Task, file: File) => SysError | undefined
      /** Its own ->permission in place of the mode bits (sysctl_perm()). */
      readonly permission?: (caller: Task, mask: number) => SysError | undefined
      /** A file of the proc root (a proc_dir_entry): a write without `write` is EIO, not EINVAL. */
      readonly pde?: boolean
    }
  | { readonly type: "link"; readonly mode: number; readonly getLink: (walker: Task) => string | Path | SysError }
  | {
      readonly type: "dir"
      readonly mode: number
      readonly dir: () => DirSpec
      /** The object the directory shows (a task): a new one under the same name (a reused pid) is a new directory. */
      readonly ident?: unknown
      /** Its own owner, when not the parent's entries' owner (a /proc/PID directory belongs to its task). */
      readonly owner?: () => readonly [number, number]
      /** Its ->permission (proc_pid_permission(), proc_fdinfo_permission()); the mode bits without one. */
      readonly permission?: (caller: Task, cred: CredValues, inode: Inode, mask: number) => SysError | undefined
      /** Its ->getattr refusal (pid_getattr()). */
      readonly getattr?: (caller: Task) => SysError | undefined
    }

type FileEntry = Extract<Entry, { readonly type: "file" }>

/** A directory's contents: its names in readdir order, and what each is. */
interface DirSpec {
  readonly names: () => Array<string>
  /** The entry of `name`; `cached` says a dentry for it exists already (so ->lookup is not called again). */
  readonly entry: (name: string, cached?: boolean) => Entry | undefined
  /** Owner of the entries (task_dump_owner()): the task's euid/egid, root for the rest. */
  readonly owner: () => readonly [number, number]
  /** The task the directory belongs to has been reaped: lookups fail (ENOENT). */
  readonly gone?: () => boolean
}

/**
 * A procfs directory's children, computed on demand: the VFS walk and
 * getdents64 read a directory's `children` map, so procfs hands them one
 * whose get() is the directory's ->lookup and whose keys() is its
 * ->iterate_shared. A looked-up file gets a new inode with freshly
 * generated text each time (the dentry stays, so mounts on it are found);
 * directories and links keep theirs.
 */
class ProcDir extends Map<string, Dentry> {
  private readonly cache = new Map<string, Dentry>()
  private readonly idents = new Map<string, unknown>()
  constructor(
    private readonly sb: Superblock,
    private readonly self: () => Dentry,
    private readonly key: string,
    private readonly spec: DirSpec
  ) {
    super()
  }

  override get(name: string): Dentry | undefined {
    if (this.spec.gone?.() === true) return undefined
    const e = this.spec.entry(name, this.cache.has(name))
    if (e === undefined) {
      this.cache.delete(name)
      return undefined
    }
    const [uid, gid] = e.type === "dir" && e.owner !== undefined ? e.owner() : this.spec.owner()
    const key = `${this.key}/${name}`
    let d = this.cache.get(name)
    if (d !== undefined && d.inode.mode !== (modeOf(e) | e.mode)) d = undefined
    if (d !== undefined && e.type === "dir" && this.idents.get(name) !== e.ident) d = undefined
    if (e.type === "file") {
      const sched = info(this.sb).sched
      const reader = currentTask(sched)
      const text = e.show(reader)
      // a task that is gone: no entry; a refused reader (EACCES) still finds the
      // file, and the open's permission check on its mode answers it
      if (typeof text !== "string" && text.errno === "ENOENT") return undefined
      const data = new ProcText(sched, e, reader, text)
      const inode = new Inode(this.sb, inoFor(this.sb, key), S_IFREG | e.mode, uid, gid)
      inode.data = data
      inode.nlink = 1
      inode.iop = fileOps(sched, e, data)
      if (d === undefined) {
        d = new Dentry(name, this.self(), inode)
        this.cache.set(name, d)
      } else d.inode = inode
      return d
    }
    if (d === undefined) {
      const inode = new Inode(this.sb, inoFor(this.sb, key), modeOf(e) | e.mode, uid, gid)
      d = new Dentry(name, this.self(), inode)
      if (e.type === "link") {
        const getLink = e.getLink
        const sched = info(this.sb).sched
        const iop: InodeOperations = { getLink: (_dentry, walker) => getLink(walkerTask(sched, walker)) }
        inode.iop = iop
      } else {
        const dd = d
        dd.children = new ProcDir(this.sb, () => dd, key, e.dir())
        inode.iop = dirOps(info(this.sb).sched, e.permission, e.getattr)
        this.idents.set(name, e.ident)
      }
      this.cache.set(name, d)
    }
    d.inode.uid = uid
    d.inode.gid = gid
    return d
  }

  override has(name: string): boolean {
    return this.spec.entry(name) !== undefined
  }

  override keys(): MapIterator<string> {
    return (this.spec.gone?.() === true ? [] : this.spec.names())[Symbol.iterator]() as MapIterator<string>
  }

  override get size(): number {
    return this.spec.gone?.() === true ? 0 : this.spec.names().length
  }

  override *entries(): MapIterator<[string, Dentry]> {
    for (const n of this.keys()) {
      const d = this.get(n)
      if (d !== undefined) yield [n, d]
    }
  }

  override *values(): MapIterator<Dentry> {
    for (const [, d] of this.entries()) yield d
  }

  override [Symbol.iterator](): MapIterator<[string, Dentry]> {
    return this.entries()
  }

  override forEach(cb: (value: Dentry, key: string, map: Map<string, Dentry>) => void): void {
    for (const [n, d] of this.entries()) cb(d, n, this)
  }

  /** Nothing can be created in procfs, nor removed. */
  override set(): this {
    return this
  }

  override delete(): boolean {
    return false
  }
}

/** What procfs answers for a name a directory lacks: its lookup fails (ENOENT), so nothing can be created there. */
const lookupError = (): SysError => sysError("ENOENT")

/** A directory's inode operations: the ENOENT lookup, no unlink, rmdir or rename (EPERM), and its own permission and getattr checks if it has them. */
const dirOps = (
  sched: Sched,
  permission: ((caller: Task, cred: CredValues, inode: Inode, mask: number) => SysError | undefined) | undefined,
  getattr?: (caller: Task) => SysError | undefined
): InodeOperations => ({
  lookupError,
  fixedEntries: true,
  ...(permission === undefined ? {} : { permission: (cred: CredValues, inode: Inode, mask: number) => permission(currentTask(sched), cred, inode, mask) }),
  ...(getattr === undefined ? {} : { getattr: (task: unknown) => getattr(walkerTask(sched, task)) })
})

/**
 * A generated file's inode operations: ->open checks the opener the VFS
 * names (the entry's own check) and makes the text for it; ->permission,
 * if the entry has one, is given the running task.
 */
const fileOps = (sched: Sched, e: FileEntry, data: ProcText): InodeOperations => {
  const check = e.open
  const open = (file: File, task: unknown): SysError | undefined => {
    const opener = walkerTask(sched, task)
    const err = (check === undefined ? undefined : check(opener, file)) ?? data.openBy(opener)
    if (err === undefined) file.fop = procTextFops(data)
    return err
  }
  const permission = e.permission
  return permission === undefined ? { open } : { open, permission: (_cred, _inode, mask) => permission(currentTask(sched), mask) }
}

const modeOf = (e: Entry): number => (e.type === "file" ? S_IFREG : e.type === "link" ? S_IFLNK : S_IFDIR)

const info = (sb: Superblock): ProcFsInfo => sb.fsInfo as ProcFsInfo

const inoFor = (sb: Superblock, key: string): number => {
  const i = info(sb)
  let ino = i.inos.get(key)
  if (ino === undefined) {
    ino = i.nextIno++
    i.inos.set(key, ino)
  }
  return ino
}

// ---------------------------------------------------------------------------
// /proc/PID

const alive = (t: Task): boolean => t.exitState.tag !== "dead"

/** The task's mount namespace and fs_struct, as its VfsTask shows them (undefined once it has exited). */
const mountsReader = (t: Task): { root: Path; ns: MountNamespace } | undefined => {
  const fs = t.fs as unknown as FsStruct | undefined
  const ns = t.nsproxy?.slot("mnt") as unknown as MountNamespace | undefined
  if (fs === undefined || ns === undefined) return undefined
  return { root: fs.root, ns }
}

/** The text a magic link to an open file reads as, when it is not a path (d_dname()): pipe:[N], anon_inode:[pidfd], mnt:[N]. */
const pseudoName = (mnt: { flags: number; sb: Superblock }, dentry: Dentry): string | undefined => {
  if ((mnt.flags & MNT_INTERNAL) === 0) return undefined
  return mnt.sb.type.name === "anon_inodefs" ? `anon_inode:${dentry.name}` : dentry.name
}

/** A ptrace-checked magic link of task `t` (proc_fd_access_allowed()): EACCES when denied, ENOENT once the task has exited. */
const checkedLink =
  (t: Task, target: (walker: Task) => string | Path | SysError) =>
  (walker: Task): string | Path | SysError => {
    if (!ptraceMayAccessFsCreds(walker, t)) return sysError("EACCES", "readlink")
    if (!alive(t) || t.exitState.tag === "zombie") return sysError("ENOENT", "readlink")
    return target(walker)
  }

/** /proc/PID/ns entries, in Linux's ns_entries order. */
const NS_NAMES = ["net", "uts", "ipc", "pid", "pid_for_children", "user", "mnt", "cgroup", "time", "time_for_children"] as const


/** The owner of a task's entries: its euid and egid (task_dump_owner(), every task counting as dumpable). */
const taskOwner = (t: Task) => (): readonly [number, number] => [t.cred.euid, t.cred.egid]

/**
 * /proc/PID/ns: each link jumps to the namespace's nsfs file
 * (proc_ns_get_link()), so open() gives a file setns() takes and
 * `mount --bind` keeps the namespace alive; readlink shows "net:[N]".
 */
const nsDir = (t: Task, vfs: Vfs): DirSpec => ({
  // proc_ns_dir_readdir(): every name, a zombie's too (its links are then ENOENT)
  names: () => [...NS_NAMES],
  entry: (name) =>
    (NS_NAMES as ReadonlyArray<string>).includes(name)
      ? {
          type: "link",
          mode: 0o777,
          getLink: checkedLink(t, (walker) => {
            const ns = nsOf(t, name)
            // pidns_for_children_get(): none until the namespace has its child reaper (its first task)
            if (ns === undefined || (name === "pid_for_children" && !hasChildReaper(ns as PidNamespace))) return sysError("ENOENT", "readlink")
            return nsGetPath(vfs, ns, walker.cred)
          })
        }
      : undefined,
  owner: taskOwner(t),
  gone: () => !alive(t)
})

const filesOf = (t: Task): FdTable | undefined => t.files as unknown as FdTable | undefined

const parseFd = (name: string): number | undefined => (/^(0|[1-9][0-9]*)$/.test(name) ? Number(name) : undefined)

const fdDir = (t: Task): DirSpec => ({
  names: () => (filesOf(t)?.openFds() ?? []).map(String),
  entry: (name) => {
    const fd = parseFd(name)
    const f = fd === undefined ? undefined : filesOf(t)?.fdget(fd)
    if (f === undefined) return undefined
    // the link's mode follows the file's access (tid_fd_update_inode()): r-x for
    // reading, -wx for writing, nothing for an O_PATH file
    const mode = f.isPath ? 0 : (f.canRead ? 0o500 : 0) | (f.canWrite ? 0o300 : 0)
    return {
      type: "link",
      mode,
      getLink: checkedLink(t, () => {
        const file = filesOf(t)?.fdget(fd!)
        if (file === undefined) return sysError("ENOENT", "readlink")
        return pseudoName(file.mnt, file.dentry) ?? { mnt: file.mnt, dentry: file.dentry }
      })
    }
  },
  owner: taskOwner(t),
  gone: () => !alive(t)
})

const fdinfoDir = (t: Task): DirSpec => ({
  names: () => (filesOf(t)?.openFds() ?? []).map(String),
  entry: (name) => {
    const fd = parseFd(name)
    if (fd === undefined || filesOf(t)?.fdget(fd) === undefined) return undefined
    return {
      type: "file",
      mode: 0o444,
      // seq_fdinfo_open(): proc_fdinfo_access_allowed()
      open: (opener) => (ptraceMayAccessFsCreds(opener, t) ? undefined : sysError("EACCES", "open")),
      show: (reader) => {
        if (!ptraceMayAccessFsCreds(reader, t)) return ""
        const files = filesOf(t)
        const f = files?.fdget(fd)
        if (files === undefined || f === undefined) return sysError("ENOENT", "open")
        const flags = f.flags | (files.getCloexec(fd) ? 0o2000000 : 0)
        return `pos:\t${f.pos}\nflags:\t0${flags.toString(8)}\nmnt_id:\t${f.mnt.mntId}\nino:\t${f.inode.ino}\n`
      }
    }
  },
  owner: taskOwner(t),
  gone: () => !alive(t)
})

/** TASK_COMM_LEN: a comm is at most 15 bytes and its NUL. */
const TASK_COMM_LEN = 16

/** Has the PID namespace its child reaper, its first task (pid_ns->child_reaper)? */
const hasChildReaper = (ns: PidNamespace): boolean => ns.childReaper !== undefined

/**
 * timens_offsets_write(): at offset 0 only and shorter than a page
 * (EINVAL), lines "<clock> <sec> <nsec>" (EINVAL when malformed), then
 * proc_timens_set_offset() on the task's time namespace for children with
 * the opener's credential: EPERM without CAP_SYS_TIME over its owner,
 * ERANGE out of range, EACCES once a task has entered it. The clocks run
 * from boot, so both are the kernel's uptime.
 */
const writeTimensOffsets = (sched: Sched, t: Task, opener: Task, buf: Uint8Array, pos: number): number | SysError => {
  if (pos !== 0 || buf.length >= PAGE_SIZE) return sysError("EINVAL", "write")
  const nul = buf.indexOf(0)
  const offsets = parseTimensOffsets(decoder.decode(nul < 0 ? buf : buf.subarray(0, nul)))
  if ("errno" in offsets) return offsets
  const ns = t.nsproxy?.timeForChildren
  if (ns === undefined) return sysError("ESRCH", "write")
  const up = sched.uptimeNs()
  const now = { sec: Math.floor(up / 1e9), nsec: up % 1e9 }
  return ns.setOffsets(opener.cred, offsets, { monotonic: now, boottime: now }) ?? buf.length
}

const runEffect = (e: Effect.Effect<number, SysError>): number | SysError => {
  const r = Effect.runSync(Effect.result(e))
  return r._tag === "Success" ? r.success : r.failure
}

/** The files of /proc/PID (tgid_base_stuff) and /proc/PID/task/TID, in Linux's readdir order. */
const taskEntries = (t: Task, i: ProcFsInfo, withTaskDir: boolean): ReadonlyArray<readonly [string, Entry]> => {
  const pidNs = i.pidNs
  const file = (mode: number, show: (reader: Task) => string | SysError, write?: (writer: Task, opener: Task, buf: Uint8Array, pos: number) => number | SysError): Entry =>
    write === undefined ? { type: "file", mode, show } : { type: "file", mode, show, write }
  const mapWrite =
    (kind: "uid" | "gid") =>
    (writer: Task, opener: Task, buf: Uint8Array, pos: number): number | SysError =>
      runEffect((kind === "uid" ? procUidMapWrite : procGidMapWrite)(t.cred.userNs, buf, writer.cred, opener.cred, pos))
  const out: Array<readonly [string, Entry]> = []
  if (withTaskDir) out.push(["task", { type: "dir", mode: 0o555, dir: () => taskDir(t, i), permission: pidPermission(i, t) }])
  out.push(
    ["fd", { type: "dir", mode: 0o500, dir: () => fdDir(t) }],
    [
      "fdinfo",
      {
        type: "dir",
        mode: 0o555,
        dir: () => fdinfoDir(t),
        // proc_fdinfo_permission(): the ptrace check, then the mode bits
        permission: (caller, cred, inode, mask) =>
          !ptraceMayAccessFsCreds(caller, t) ? sysError("EACCES") : genericPermission(cred, inode, mask) ? undefined : sysError("EACCES")
      }
    ],
    ["ns", { type: "dir", mode: 0o511, dir: () => nsDir(t, i.vfs) }],
    [
      "environ",
      {
        type: "file",
        mode: 0o400,
        // environ_open() -> proc_mem_open() -> mm_access(): no mm (a zombie) is ESRCH, then the ptrace check EACCES
        open: (opener) => {
          const text = showEnviron(t)
          if (typeof text !== "string") return text
          return ptraceMayAccessFsCreds(opener, t) ? undefined : sysError("EACCES", "open")
        },
        show: (reader) => {
          const text = showEnviron(t)
          return typeof text !== "string" || ptraceMayAccessFsCreds(reader, t) ? text : ""
        }
      }
    ],
    ["status", file(0o444, (reader) => showStatus(t, pidNs, reader.cred.userNs))],
    ["stat", file(0o444, () => showStat(t, pidNs))],
    ["cmdline", file(0o444, () => showCmdline(t))],
    [
      "comm",
      file(
        0o644,
        () => `${t.comm}\n`,
        (writer, _opener, buf) => {
          // comm_write(): the first TASK_COMM_LEN - 1 bytes, newlines kept, up to a NUL
          // (set_task_comm()); only the thread group itself may rename
          if (writer.signal !== t.signal) return sysError("EINVAL", "write")
          const head = buf.subarray(0, TASK_COMM_LEN - 1)
          const nul = head.indexOf(0)
          t.comm = decoder.decode(nul < 0 ? head : head.subarray(0, nul))
          return buf.length
        }
      )
    ],
    [
      "mounts",
      file(0o444, () => {
        const r = mountsReader(t)
        // mounts_open_common(): a task without an nsproxy (a zombie) is EINVAL
        return r === undefined ? sysError("EINVAL", "open") : showMounts(r)
      })
    ],
    [
      "mountinfo",
      file(0o444, () => {
        const r = mountsReader(t)
        return r === undefined ? sysError("EINVAL", "open") : showMountinfo(r)
      })
    ],
    [
      "cwd",
      {
        type: "link",
        mode: 0o777,
        getLink: checkedLink(t, () => {
          const fs = t.fs as unknown as FsStruct | undefined
          return fs === undefined ? sysError("ENOENT", "readlink") : fs.pwd
        })
      }
    ],
    [
      "root",
      {
        type: "link",
        mode: 0o777,
        getLink: checkedLink(t, () => {
          const fs = t.fs as unknown as FsStruct | undefined
          return fs === undefined ? sysError("ENOENT", "readlink") : fs.root
        })
      }
    ],
    // proc_exe_link(): what the thread group executed; ENOENT for a task that never did (no mm)
    ["exe", { type: "link", mode: 0o777, getLink: checkedLink(t, () => t.exePath ?? sysError("ENOENT", "readlink")) }],
    ["cgroup", file(0o444, (reader) => `0::${(reader.nsproxy?.cgroup ?? t.nsproxy?.cgroup)?.pathOf("/") ?? "/"}\n`)],
    ["uid_map", file(0o644, (reader) => procUidMapShow(t.cred.userNs, reader.cred), mapWrite("uid"))],
    ["gid_map", file(0o644, (reader) => procGidMapShow(t.cred.userNs, reader.cred), mapWrite("gid"))],
    [
      "setgroups",
      {
        type: "file",
        mode: 0o644,
        // proc_setgroups_open(): opening for writing needs CAP_SYS_ADMIN over the task's user namespace
        open: (opener, f) => (f.canWrite && !nsCapable(opener.cred, t.cred.userNs, CAP_SYS_ADMIN) ? sysError("EACCES", "open") : undefined),
        show: () => procSetgroupsShow(t.cred.userNs),
        write: (_writer, opener, buf, pos) => runEffect(procSetgroupsWrite(t.cred.userNs, buf, opener.cred, pos))
      }
    ],
    ["timens_offsets", file(0o644, () => showTimensOffsets(t), (_writer, opener, buf, pos) => writeTimensOffsets(i.sched, t, opener, buf, pos))]
  )
  return out
}

const entriesDir = (t: Task, i: ProcFsInfo, withTaskDir: boolean): DirSpec => {
  const list = (): ReadonlyArray<readonly [string, Entry]> => taskEntries(t, i, withTaskDir)
  return {
    names: () => list().map(([n]) => n),
    entry: (name) => list().find(([n]) => n === name)?.[1],
    owner: taskOwner(t),
    gone: () => !alive(t)
  }
}

/** /proc/PID/task: one directory per thread of the group. */
const taskDir = (t: Task, i: ProcFsInfo): DirSpec => ({
  names: () =>
    t.signal.threads
      .filter(alive)
      .map((th) => th.pidIn(i.pidNs))
      .filter((n) => n > 0)
      .map(String),
  entry: (name) => {
    const th = t.signal.threads.find((x) => String(x.pidIn(i.pidNs)) === name && alive(x))
    return th === undefined
      ? undefined
      : { type: "dir", mode: 0o555, dir: () => entriesDir(th, i, false), ident: th, owner: taskOwner(th), permission: pidPermission(i, th), getattr: pidGetattr(i, th) }
  },
  owner: taskOwner(t),
  gone: () => !alive(t)
})

// ---------------------------------------------------------------------------
// The root

/** The thread-group leaders the namespace can see, by their number there (ascending). */
const visibleTgids = (pidNs: PidNamespace): Array<number> => {
  const out: Array<number> = []
  for (const [nr, pid] of pidNs.idr) {
    const leader = pid?.task
    if (leader !== undefined && leader.isLeader && alive(leader)) out.push(nr)
  }
  return out.sort((a, b) => a - b)
}

/**
 * has_pid_permissions(): may `caller` see task `t` under the mount's
 * hidepid= at level `min`? With hidepid=ptraceable only a ptrace-able
 * task; below `min` anyone; members of gid= always; else ptrace access.
 */
const hasPidPermissions = (i: ProcFsInfo, caller: Task, t: Task, min: number): boolean => {
  if (i.hidePid === HIDEPID_NOT_PTRACEABLE) return ptraceMayAccessFsCreds(caller, t)
  if (i.hidePid < min) return true
  if (i.pidGid !== undefined && inGroupP(caller.cred, i.pidGid)) return true
  return ptraceMayAccessFsCreds(caller, t)
}

/**
 * proc_pid_permission(): a /proc/PID (or task/TID) directory the caller
 * may not access under hidepid= is EPERM (ENOENT with hidepid=invisible),
 * then the mode bits.
 */
const pidPermission =
  (i: ProcFsInfo, t: Task) =>
  (caller: Task, cred: CredValues, inode: Inode, mask: number): SysError | undefined => {
    if (!hasPidPermissions(i, caller, t, HIDEPID_NO_ACCESS)) return sysError(i.hidePid === HIDEPID_INVISIBLE ? "ENOENT" : "EPERM")
    return genericPermission(cred, inode, mask) ? undefined : sysError("EACCES")
  }

/** pid_getattr(): a /proc/PID (or task/TID) directory hidden by hidepid=invisible or ptraceable stats as ENOENT. */
const pidGetattr =
  (i: ProcFsInfo, t: Task) =>
  (caller: Task): SysError | undefined =>
    hasPidPermissions(i, caller, t, HIDEPID_INVISIBLE) ? undefined : sysError("ENOENT", "stat")

/** The entries of the proc root other than self, thread-self and the pids (the proc_root PDE's), hidden by subset=pid. */
const ROOT_STATIC = ["filesystems", "key-users", "keys", "mounts", "sys", "uptime"] as const

/**
 * /proc/uptime (uptime_proc_show()): seconds since boot on the kernel's
 * clock and the idle time, each with two decimals; nothing is counted as
 * idle here.
 */
const showUptime = (sched: Sched): string => {
  const cs = Math.floor(sched.uptimeNs() / 10_000_000)
  return `${Math.floor(cs / 100)}.${String(cs % 100).padStart(2, "0")} 0.00\n`
}

const rootDir = (vfs: Vfs, i: ProcFsInfo): DirSpec => {
  const pidNs = i.pidNs
  // proc_pid_readdir(): tasks hidden from the reader by hidepid= are left out
  const visible = (): Array<number> => {
    const all = visibleTgids(pidNs)
    if (i.hidePid < HIDEPID_INVISIBLE) return all
    const reader = currentTask(i.sched)
    return all.filter((nr) => hasPidPermissions(i, reader, pidNs.findPid(nr)!.task!, HIDEPID_INVISIBLE))
  }
  return {
    // /proc/containers (kernel/container.c) exists only on a kernel with the container subsystem
    names: () => [...(i.subsetPid || containersOf(i.sched) === undefined ? [] : ["containers"]), ...(i.subsetPid ? [] : ROOT_STATIC), "self", "thread-self", ...visible().map(String)],
    entry: (name, cached) => {
      if (i.subsetPid && (ROOT_STATIC as ReadonlyArray<string>).includes(name)) return undefined
      switch (name) {
        case "containers": {
          const cs = i.subsetPid ? undefined : containersOf(i.sched)
          return cs === undefined ? undefined : { type: "file", mode: 0o444, pde: true, show: (reader) => cs.procContainers(reader) }
        }
        case "filesystems":
          return { type: "file", mode: 0o444, pde: true, show: () => vfs.procFilesystems() }
        // security/keys/proc.c: the keys the reader may view, and the per-user key counts
        case "keys":
          return { type: "file", mode: 0o444, pde: true, show: (reader) => procKeysShow(reader) }
        case "key-users":
          return { type: "file", mode: 0o444, pde: true, show: (reader) => procKeyUsersShow(reader) }
        case "mounts":
          return { type: "link", mode: 0o777, getLink: () => "self/mounts" }
        case "sys":
          return { type: "dir", mode: 0o555, dir: () => sysDir }
        case "uptime":
          return { type: "file", mode: 0o444, pde: true, show: () => showUptime(i.sched) }
        case "self":
          return {
            type: "link",
            mode: 0o777,
            getLink: (walker) => {
              const tgid = walker.tgidIn(pidNs)
              return tgid === 0 ? sysError("ENOENT", "readlink") : String(tgid)
            }
          }
        case "thread-self":
          return {
            type: "link",
            mode: 0o777,
            getLink: (walker) => {
              const tgid = walker.tgidIn(pidNs)
              const tid = walker.pidIn(pidNs)
              return tgid === 0 ? sysError("ENOENT", "readlink") : `${tgid}/task/${tid}`
            }
          }
      }
      const nr = parseFd(name)
      if (nr === undefined) return undefined
      const t = pidNs.findPid(nr)?.task
      if (t === undefined || !t.isLeader || !alive(t)) return undefined
      // proc_pid_lookup(): with hidepid=ptraceable a task the caller may not access is not found; once
      // its dentry exists (someone looked it up) only the permission and getattr checks apply
      if (!cached && i.hidePid === HIDEPID_NOT_PTRACEABLE && !hasPidPermissions(i, currentTask(i.sched), t, HIDEPID_NO_ACCESS)) return undefined
      return { type: "dir", mode: 0o555, dir: () => entriesDir(t, i, true), ident: t, owner: taskOwner(t), permission: pidPermission(i, t), getattr: pidGetattr(i, t) }
    },
    owner: () => [0, 0]
  }
}

const rootOwner = (): readonly [number, number] => [0, 0]

/**
 * /proc/sys/kernel/hostname (proc_do_uts_string()): the reader's UTS
 * namespace's nodename. A write sets it with no capability check (only the
 * file's permission at open, as sysctl_perm() gives it), up to the newline,
 * cut at 64 bytes as proc_dostring() cuts it.
 */
const hostnameEntry: Entry = {
  type: "file",
  mode: 0o644,
  show: (reader) => `${reader.nsproxy?.uts.utsname.nodename ?? ""}\n`,
  write: (writer, _opener, buf, pos) => {
    if (pos !== 0) return sysError("EINVAL", "write")
    const nsp = writer.nsproxy
    if (nsp === undefined) return sysError("EINVAL", "write")
    let end = buf.indexOf(0x0a)
    if (end < 0) end = buf.length
    const err = nsp.uts.setName("nodename", buf.subarray(0, Math.min(end, NEW_UTS_LEN)))
    return err ?? buf.length
  }
}

/** proc_skip_spaces(): the bytes isspace() accepts. */
const isSpace = (b: number): boolean => b === 0x20 || (b >= 0x09 && b <= 0x0d)

/**
 * One integer of a sysctl write, as __do_proc_dointvec() reads it: spaces
 * skipped, an optional '-', a number in C's base 0 (0x hex, 0 octal), then
 * the end or a space, tab or newline (EINVAL otherwise); the spaces after
 * it count as consumed. `undefined` for a buffer of spaces only.
 */
const parseSysctlInt = (buf: Uint8Array): { readonly value: number; readonly used: number } | undefined | SysError => {
  let p = 0
  while (p < buf.length && isSpace(buf[p]!)) p++
  if (p === buf.length) return undefined
  const text = decoder.decode(buf.subarray(p, Math.min(buf.length, p + 22)))
  const m = /^(-?)(0[xX][0-9a-fA-F]+|0[0-7]*|[1-9][0-9]*)/.exec(text)
  if (m === null) return sysError("EINVAL", "write")
  const digits = m[2]!
  const magnitude = /^0[xX]/.test(digits) ? parseInt(digits.slice(2), 16) : digits.length > 1 && digits[0] === "0" ? parseInt(digits, 8) : Number(digits)
  p += m[0].length
  if (p < buf.length && buf[p] !== 0x20 && buf[p] !== 0x09 && buf[p] !== 0x0a) return sysError("EINVAL", "write")
  while (p < buf.length && isSpace(buf[p]!)) p++
  return { value: m[1] === "-" ? -magnitude : magnitude, used: p }
}

/**
 * pid_table_root_permissions(): the pid_max file of a PID namespace is
 * writable (its owner bits) for a caller with CAP_SYS_ADMIN over the
 * namespace's owner or whose euid is that namespace's root, readable
 * (group bits) for members of its root group, else the others' bits;
 * test_perm() then checks the access wanted (EACCES).
 */
const pidMaxPermission = (caller: Task, mask: number): SysError | undefined => {
  const pidNs = caller.activePidNs
  const owner = pidNs.ownerNs ?? caller.cred.userNs
  const mode = 0o644
  const bits =
    nsCapable(caller.cred, owner, CAP_SYS_ADMIN) || caller.cred.euid === makeKuid(owner, 0)
      ? (mode >> 6) & 7
      : inEgroupP(caller.cred, makeKgid(owner, 0))
        ? (mode >> 3) & 7
        : mode & 7
  return (mask & (MAY_READ | MAY_WRITE | MAY_EXEC) & ~bits) === 0 ? undefined : sysError("EACCES")
}

/**
 * /proc/sys/kernel/pid_max: the caller's PID namespace's limit (per
 * namespace since Linux 6.14; a new namespace starts at PID_MAX_LIMIT).
 * A write (proc_dointvec_minmax()) takes RESERVED_PIDS + 1 ..
 * PID_MAX_LIMIT, EINVAL otherwise, in the opener's namespace; the next
 * pid allocated there stays below it. A write past offset 0 is ignored
 * (sysctl_writes_strict).
 */
const pidMaxEntry: Entry = {
  type: "file",
  mode: 0o644,
  permission: pidMaxPermission,
  show: (reader) => `${reader.activePidNs.pidMax}\n`,
  write: (_writer, opener, buf, pos) => {
    if (pos !== 0) return buf.length
    const r = parseSysctlInt(buf)
    if (r === undefined) return buf.length
    if ("errno" in r) return r
    if (r.value < RESERVED_PIDS + 1 || r.value > PID_MAX_LIMIT) return sysError("EINVAL", "write")
    opener.activePidNs.pidMax = r.value
    return r.used
  }
}

const sysKernelDir: DirSpec = {
  names: () => ["hostname", "pid_max"],
  entry: (name) => (name === "hostname" ? hostnameEntry : name === "pid_max" ? pidMaxEntry : undefined),
  owner: rootOwner
}

const sysDir: DirSpec = {
  names: () => ["kernel"],
  entry: (name) => (name === "kernel" ? { type: "dir", mode: 0o555, dir: () => sysKernelDir } : undefined),
  owner: rootOwner
}

// ---------------------------------------------------------------------------
// The filesystem type

/** hidepid= by name (proc_parse_hidepid_param()). */
const HIDEPID: ReadonlyMap<string, number> = new Map([
  ["off", HIDEPID_OFF],
  ["noaccess", HIDEPID_NO_ACCESS],
  ["invisible", HIDEPID_INVISIBLE],
  ["ptraceable", HIDEPID_NOT_PTRACEABLE]
])

/**
 * A hidepid= value: a number as kstrtouint() base 0 reads it (decimal,
 * 0x hex, 0 octal, one trailing newline allowed) that valid_hidepid()
 * accepts, or one of the names.
 */
const parseHidepid = (value: string): number | undefined => {
  const m = /^(0[xX][0-9a-fA-F]+|0[0-7]*|[1-9][0-9]*)\n?$/.exec(value)
  if (m === null) return HIDEPID.get(value)
  const digits = m[1]!
  const n = /^0[xX]/.test(digits) ? parseInt(digits.slice(2), 16) : digits.length > 1 && digits[0] === "0" ? parseInt(digits, 8) : Number(digits)
  return n === HIDEPID_OFF || n === HIDEPID_NO_ACCESS || n === HIDEPID_INVISIBLE || n === HIDEPID_NOT_PTRACEABLE ? n : undefined
}

/** hidepid2str(). */
const HIDEPID_NAMES: ReadonlyMap<number, string> = new Map([
  [HIDEPID_NO_ACCESS, "noaccess"],
  [HIDEPID_INVISIBLE, "invisible"],
  [HIDEPID_NOT_PTRACEABLE, "ptraceable"]
])

/**
 * The "proc" filesystem type (fs/proc/root.c): every mount is a new
 * superblock (get_tree_nodev()) showing the PID namespace of the task that
 * configures it (proc_init_fs_context() takes task_active_pid_ns(current)),
 * owned by that namespace's user namespace. `hidepid=` hides other
 * users' /proc/PID (EPERM to enter with noaccess, absent with invisible
 * and ptraceable) from all but members of `gid=`; `subset=pid` leaves only
 * the pid directories, self and thread-self.
 */
export const procfsType = (vfs: Vfs, sched: Sched): FsType => {
  const type: FsType = {
    name: "proc",
    initOrder: FS_INIT_ORDER.proc,
    fsFlags: FS_USERNS_MOUNT,
    requiresDev: false,
    magic: PROC_SUPER_MAGIC,
    initFsContext(fc: FsContext) {
      const pidNs = currentTask(sched).activePidNs
      fc.fsPrivate = { pidNs, hidePid: HIDEPID_OFF, pidGid: undefined, subsetPid: false } satisfies ProcContext
      const owner = pidNs.ownerNs
      if (owner !== undefined) fc.setUserNs(owner as never)
    },
    parseParam(fc: FsContext, param: FsParameter) {
      const ctx = fc.fsPrivate as ProcContext
      const value = param.type === "string" ? param.string : undefined
      switch (param.key) {
        case "hidepid": {
          // proc_parse_hidepid_param(): its messages carry their own "proc: " (invalf())
          if (value === undefined) return fc.invalfVfs("proc: unexpected type of hidepid value\n")
          const level = parseHidepid(value)
          if (level === undefined) return fc.invalfVfs(`proc: unknown value of hidepid - ${value}\n`)
          ctx.hidePid = level
          return undefined
        }
        case "gid": {
          if (value === undefined || !/^[0-9]+$/.test(value)) return sysError("EINVAL", "fsconfig", `proc: Bad value for 'gid'`)
          // the group as the mounter names it (make_kgid(current_user_ns(), ...)); unmapped is EINVAL
          const kgid = makeKgid(fc.cred.userNs, Number(value))
          if (!gidValid(kgid)) return sysError("EINVAL", "fsconfig", `proc: Bad value for 'gid'`)
          ctx.pidGid = kgid
          return undefined
        }
        case "subset":
          if (value !== "pid") return fc.invalfVfs(`proc: unsupported subset option - ${value ?? ""}\n`)
          ctx.subsetPid = true
          return undefined
        default:
          return ENOPARAM
      }
    },
    getTree(fc: FsContext) {
      const ctx = fc.fsPrivate as ProcContext
      const sb = sgetAnon(fc.vfs, type, fc.userNs, fc.sbFlags)
      if ("errno" in sb) return sb
      // FSCONFIG_SET_CONTAINER gave the context the container's PID namespace (proc_fill_super() reads fc's)
      const i: ProcFsInfo = { pidNs: (fc.pidNs as PidNamespace | undefined) ?? ctx.pidNs, sched, vfs, hidePid: ctx.hidePid, pidGid: ctx.pidGid, subsetPid: ctx.subsetPid, inos: new Map(), nextIno: 2 }
      sb.fsInfo = i
      // nothing can be created in proc: no inode slots for newInode()
      sb.maxInodes = 1
      sb.usedInodes = 1
      const root = new Inode(sb, 1, S_IFDIR | 0o555, 0, 0)
      root.iop = dirOps(sched, undefined)
      const d = new Dentry("/", undefined, root)
      d.children = new ProcDir(sb, () => d, "", rootDir(vfs, i))
      sb.root = d
      fc.setSuperblock(sb)
      return undefined
    },
    reconfigure() {
      return undefined
    },
    showOptions(sb: Superblock) {
      const i = info(sb)
      let s = ""
      if (i.pidGid !== undefined && i.pidGid !== 0) s += `,gid=${i.pidGid}`
      const hidepid = HIDEPID_NAMES.get(i.hidePid)
      if (hidepid !== undefined) s += `,hidepid=${hidepid}`
      if (i.subsetPid) s += ",subset=pid"
      return s
    },
    statfs(sb: Superblock) {
      return { type: PROC_SUPER_MAGIC, bsize: PAGE_SIZE, blocks: 0, bfree: 0, bavail: 0, files: 0, ffree: 0, fsid: [sb.dev, 0], namelen: NAME_MAX, frsize: PAGE_SIZE }
    }
  }
  return type
}

/**
 * Point a proc fs context that is still being configured at another PID
 * namespace (and its owning user namespace): the hook a later
 * FSCONFIG_SET_CONTAINER handler uses to mount a container's view. EINVAL
 * for a context of another type or one whose superblock exists already.
 */
export const procfsSetPidNs = (fc: FsContext, pidNs: PidNamespace): SysError | undefined => {
  if (fc.fsType.name !== "proc" || fc.sb !== undefined) return sysError("EINVAL", "fsconfig")
  ;(fc.fsPrivate as ProcContext).pidNs = pidNs
  const owner = pidNs.ownerNs
  if (owner !== undefined) fc.setUserNs(owner as never)
  return undefined
}

/**
 * Register the "proc" filesystem type with the VFS, so mount(2)
 * ("proc", "/proc", "proc", 0, NULL) and fsopen("proc") make proc
 * superblocks. Call once at boot, after sched's Kernel.boot(). Returns
 * false when a "proc" type was registered already.
 */
export const registerProcfs = (vfs: Vfs, sched: Sched): boolean => vfs.registerFilesystem(procfsType(vfs, sched))


