import { Effect } from "effect"
import { NAME_MAX, PROC_SUPER_MAGIC, S_IFDIR, S_IFLNK, S_IFREG, sysError, type SysError } from "@simkernel/abi"
import {

  procGidMapShow,
  procGidMapWrite,
  procSetgroupsShow,
  procSetgroupsWrite,
  procUidMapShow,
  procUidMapWrite
} from "@simkernel/cred"
import { NEW_UTS_LEN, nsfsName } from "@simkernel/nsproxy"
import { nsOf } from "../syscalls/ns.js"
import type { Kernel as Sched, PidNamespace, Task } from "@simkernel/sched"
import {
  type DataNode,
  Dentry,
  type FdTable,
  type FsContext,
  type FsParameter,
  type FsStruct,
  type FsType,
  ENOPARAM,
  FS_USERNS_MOUNT,
  Inode,
  type InodeOperations,
  MNT_INTERNAL,
  type MountNamespace,
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

/** The proc part of a superblock (struct proc_fs_info): the PID namespace it shows, and its mount options. */
export interface ProcFsInfo {
  readonly pidNs: PidNamespace
  readonly sched: Sched
  readonly hidepid: string | undefined
  readonly gid: number | undefined
  readonly subsetPid: boolean
  /** Inode numbers by entry, so that an entry keeps its number across lookups. */
  readonly inos: Map<string, number>
  nextIno: number
}

/** The options of a proc mount being configured. */
interface ProcContext {
  pidNs: PidNamespace
  hidepid: string | undefined
  gid: number | undefined
  subsetPid: boolean
}

// ---------------------------------------------------------------------------
// Contents

/**
 * A generated file's text, as the seq_file buffer of one open: made when
 * the name is looked up (on open), so an open file keeps what it saw. A
 * write goes to `onWrite`, whose refusal write(2) returns; a file without
 * one refuses writes with EINVAL.
 */
class ProcText implements DataNode {
  constructor(
    private readonly bytes: Uint8Array,
    private readonly onWrite: ((buf: Uint8Array, pos: number) => number | SysError) | undefined
  ) {}
  read(buf: Uint8Array, off: number, len: number, pos: number): number {
    const n = Math.max(0, Math.min(len, this.bytes.length - pos))
    buf.set(this.bytes.subarray(pos, pos + n), off)
    return n
  }
  write(buf: Uint8Array, off: number, len: number, pos: number): number | SysError {
    return this.onWrite === undefined ? sysError("EINVAL", "write") : this.onWrite(buf.subarray(off, off + len), pos)
  }
  truncate(): void {}
  getSize(): number {
    return this.bytes.length
  }
}

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
    }

/** A directory's contents: its names in readdir order, and what each is. */
interface DirSpec {
  readonly names: () => Array<string>
  readonly entry: (name: string) => Entry | undefined
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
    const e = this.spec.entry(name)
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
      const reader = currentTask(info(this.sb).sched)
      const text = e.show(reader)
      // a task that is gone: no entry; a refused reader (EACCES) still finds the
      // file, and the open's permission check on its mode answers it
      if (typeof text !== "string" && text.errno === "ENOENT") return undefined
      const bytes = encoder.encode(typeof text === "string" ? text : "")
      const opener = reader
      const w = e.write
      const inode = new Inode(this.sb, inoFor(this.sb, key), S_IFREG | e.mode, uid, gid)
      inode.data = new ProcText(
        bytes,
        w === undefined ? undefined : (buf, pos) => w(currentTask(info(this.sb).sched), opener, buf, pos)
      )
      inode.size = bytes.length
      inode.nlink = 1
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

const nsDir = (t: Task): DirSpec => ({
  names: () => NS_NAMES.filter((n) => nsOf(t, n) !== undefined),
  entry: (name) =>
    (NS_NAMES as ReadonlyArray<string>).includes(name)
      ? {
          type: "link",
          mode: 0o777,
          getLink: checkedLink(t, () => {
            const ns = nsOf(t, name)
            return ns === undefined ? sysError("ENOENT", "readlink") : nsfsName(ns)
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
    // the link's mode follows the file's access (tid_fd_update_inode())
    const mode = 0o100 | (f.canRead ? 0o400 : 0) | (f.canWrite ? 0o200 : 0) | (f.isPath ? 0o400 : 0)
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
      show: (reader) => {
        if (!ptraceMayAccessFsCreds(reader, t)) return sysError("EACCES", "open")
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

const runEffect = (e: Effect.Effect<number, SysError>): number | SysError => {
  const r = Effect.runSync(Effect.result(e))
  return r._tag === "Success" ? r.success : r.failure
}

/** The files of /proc/PID (tgid_base_stuff) and /proc/PID/task/TID, in Linux's readdir order. */
const taskEntries = (t: Task, pidNs: PidNamespace, withTaskDir: boolean): ReadonlyArray<readonly [string, Entry]> => {
  const file = (mode: number, show: (reader: Task) => string | SysError, write?: (writer: Task, opener: Task, buf: Uint8Array, pos: number) => number | SysError): Entry =>
    write === undefined ? { type: "file", mode, show } : { type: "file", mode, show, write }
  const mapWrite =
    (kind: "uid" | "gid") =>
    (writer: Task, opener: Task, buf: Uint8Array, pos: number): number | SysError =>
      runEffect((kind === "uid" ? procUidMapWrite : procGidMapWrite)(t.cred.userNs, buf, writer.cred, opener.cred, pos))
  const out: Array<readonly [string, Entry]> = []
  if (withTaskDir) out.push(["task", { type: "dir", mode: 0o555, dir: () => taskDir(t, pidNs) }])
  out.push(
    ["fd", { type: "dir", mode: 0o500, dir: () => fdDir(t) }],
    ["fdinfo", { type: "dir", mode: 0o555, dir: () => fdinfoDir(t) }],
    ["ns", { type: "dir", mode: 0o511, dir: () => nsDir(t) }],
    [
      "environ",
      file(0o400, (reader) => (ptraceMayAccessFsCreds(reader, t) ? showEnviron(t) : sysError("EACCES", "open")))
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
          // comm_write(): only the thread group itself may rename
          if (writer.signal !== t.signal) return sysError("EINVAL", "write")
          const text = decoder.decode(buf)
          const nl = text.indexOf("\n")
          t.comm = (nl < 0 ? text : text.slice(0, nl)).slice(0, 15)
          return buf.length
        }
      )
    ],
    [
      "mounts",
      file(0o444, () => {
        const r = mountsReader(t)
        return r === undefined ? sysError("ENOENT", "open") : showMounts(r)
      })
    ],
    [
      "mountinfo",
      file(0o444, () => {
        const r = mountsReader(t)
        return r === undefined ? sysError("ENOENT", "open") : showMountinfo(r)
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
    // sched does not record the executable's file: ENOENT, as for a task without an mm
    ["exe", { type: "link", mode: 0o777, getLink: checkedLink(t, () => sysError("ENOENT", "readlink")) }],
    ["cgroup", file(0o444, (reader) => `0::${(reader.nsproxy?.cgroup ?? t.nsproxy?.cgroup)?.pathOf("/") ?? "/"}\n`)],
    ["uid_map", file(0o644, (reader) => procUidMapShow(t.cred.userNs, reader.cred), mapWrite("uid"))],
    ["gid_map", file(0o644, (reader) => procGidMapShow(t.cred.userNs, reader.cred), mapWrite("gid"))],
    [
      "setgroups",
      file(
        0o644,
        () => procSetgroupsShow(t.cred.userNs),
        (_writer, opener, buf, pos) => runEffect(procSetgroupsWrite(t.cred.userNs, buf, opener.cred, pos))
      )
    ],
    [
      "timens_offsets",
      file(0o644, () => showTimensOffsets(t))
    ]
  )
  return out
}

const entriesDir = (t: Task, pidNs: PidNamespace, withTaskDir: boolean): DirSpec => {
  const list = (): ReadonlyArray<readonly [string, Entry]> => taskEntries(t, pidNs, withTaskDir)
  return {
    names: () => list().map(([n]) => n),
    entry: (name) => list().find(([n]) => n === name)?.[1],
    owner: taskOwner(t),
    gone: () => !alive(t)
  }
}

/** /proc/PID/task: one directory per thread of the group. */
const taskDir = (t: Task, pidNs: PidNamespace): DirSpec => ({
  names: () =>
    t.signal.threads
      .filter(alive)
      .map((th) => th.pidIn(pidNs))
      .filter((n) => n > 0)
      .map(String),
  entry: (name) => {
    const th = t.signal.threads.find((x) => String(x.pidIn(pidNs)) === name && alive(x))
    return th === undefined ? undefined : { type: "dir", mode: 0o555, dir: () => entriesDir(th, pidNs, false), ident: th, owner: taskOwner(th) }
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

const ROOT_STATIC = ["filesystems", "mounts", "sys"] as const

const rootDir = (vfs: Vfs, i: ProcFsInfo): DirSpec => {
  const pidNs = i.pidNs
  return {
    names: () => [...ROOT_STATIC, "self", "thread-self", ...visibleTgids(pidNs).map(String)],
    entry: (name) => {
      switch (name) {
        case "filesystems":
          return { type: "file", mode: 0o444, show: () => vfs.procFilesystems() }
        case "mounts":
          return { type: "link", mode: 0o777, getLink: () => "self/mounts" }
        case "sys":
          return { type: "dir", mode: 0o555, dir: () => sysDir }
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
      return { type: "dir", mode: 0o555, dir: () => entriesDir(t, pidNs, true), ident: t, owner: taskOwner(t) }
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

/** /proc/sys/kernel/pid_max: the reader's PID namespace's limit (per namespace since Linux 6.14); read-only here. */
const pidMaxEntry: Entry = {
  type: "file",
  mode: 0o444,
  show: (reader) => `${reader.activePidNs.pidMax}\n`
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

const HIDEPID = new Set(["0", "1", "2", "4", "off", "noaccess", "invisible", "ptraceable"])

/**
 * The "proc" filesystem type (fs/proc/root.c): every mount is a new
 * superblock (get_tree_nodev()) showing the PID namespace of the task that
 * configures it (proc_init_fs_context() takes task_active_pid_ns(current)),
 * owned by that namespace's user namespace; `hidepid=`, `gid=` and
 * `subset=pid` are accepted and shown (not enforced).
 */
export const procfsType = (vfs: Vfs, sched: Sched): FsType => {
  const type: FsType = {
    name: "proc",
    fsFlags: FS_USERNS_MOUNT,
    requiresDev: false,
    magic: PROC_SUPER_MAGIC,
    initFsContext(fc: FsContext) {
      const pidNs = currentTask(sched).activePidNs
      fc.fsPrivate = { pidNs, hidepid: undefined, gid: undefined, subsetPid: false } satisfies ProcContext
      const owner = pidNs.ownerNs
      if (owner !== undefined) fc.setUserNs(owner as never)
    },
    parseParam(fc: FsContext, param: FsParameter) {
      const ctx = fc.fsPrivate as ProcContext
      const value = param.type === "string" ? param.string : undefined
      switch (param.key) {
        case "hidepid":
          if (value === undefined || !HIDEPID.has(value)) return sysError("EINVAL", "fsconfig", `proc: Unknown value for 'hidepid'`)
          ctx.hidepid = value
          return undefined
        case "gid": {
          if (value === undefined || !/^[0-9]+$/.test(value)) return sysError("EINVAL", "fsconfig", `proc: Bad value for 'gid'`)
          ctx.gid = Number(value)
          return undefined
        }
        case "subset":
          if (value !== "pid") return sysError("EINVAL", "fsconfig", `proc: Unknown subset '${value ?? ""}'`)
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
      const i: ProcFsInfo = { pidNs: ctx.pidNs, sched, hidepid: ctx.hidepid, gid: ctx.gid, subsetPid: ctx.subsetPid, inos: new Map(), nextIno: 2 }
      sb.fsInfo = i
      // nothing can be created in proc: no inode slots for newInode()
      sb.maxInodes = 1
      sb.usedInodes = 1
      const root = new Inode(sb, 1, S_IFDIR | 0o555, 0, 0)
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
      if (i.gid !== undefined && i.gid !== 0) s += `,gid=${i.gid}`
      if (i.hidepid !== undefined && i.hidepid !== "0" && i.hidepid !== "off") {
        const names: Record<string, string> = { "1": "noaccess", "2": "invisible", "4": "ptraceable" }
        s += `,hidepid=${names[i.hidepid] ?? i.hidepid}`
      }
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


