import {
  AT_FDCWD,
  AT_REMOVEDIR,
  AT_SYMLINK_NOFOLLOW,
  MNT_DETACH,
  MNT_FORCE,
  MS_BIND,
  MS_MOVE,
  MS_NODEV,
  MS_NOEXEC,
  MS_NOSUID,
  MS_PRIVATE,
  MS_RDONLY,
  MS_REC,
  MS_REMOUNT,
  MS_SHARED,
  MS_SLAVE,
  MS_UNBINDABLE,
  O_CREAT,
  O_RDONLY,
  O_WRONLY,
  S_IFBLK,
  S_IFCHR,
  S_IFDIR,
  S_IFIFO,
  S_IFLNK,
  S_IFMT,
  S_IFREG,
  S_IFSOCK,
  signalNumber,
  type SysError
} from "@simkernel/abi"
import { getgid, getuid } from "@simkernel/cred"
import type { Program } from "@simkernel/sched"
import { devMajor, devMinor, type Kstat, mkdev, showMountinfo } from "@simkernel/vfs"
import { Effect } from "effect"
import { type FindmntNode, findmntForest, findmntTree } from "../demo.js"
import type { Syscalls } from "../syscalls/table.js"
import { program, readAll, readFile, strerror, writeAll } from "./program.js"

/** A result's errno text, or undefined on success. */
const failed = <A>(r: { readonly _tag: "Success"; readonly success: A } | { readonly _tag: "Failure"; readonly failure: SysError }): string | undefined =>
  r._tag === "Failure" ? strerror(r.failure) : undefined

const FILE_TYPE: Readonly<Record<number, readonly [letter: string, name: string]>> = {
  [S_IFREG]: ["-", "regular file"],
  [S_IFDIR]: ["d", "directory"],
  [S_IFLNK]: ["l", "symbolic link"],
  [S_IFCHR]: ["c", "character special file"],
  [S_IFBLK]: ["b", "block special file"],
  [S_IFIFO]: ["p", "fifo"],
  [S_IFSOCK]: ["s", "socket"]
}

/** `-rwxr-xr-x` for a mode, with the set-id and sticky letters ls and stat use. */
const modeString = (mode: number): string => {
  const bit = (m: number, c: string): string => (mode & m ? c : "-")
  const exec = (x: number, special: number, set: string): string => (mode & special ? (mode & x ? set : set.toUpperCase()) : mode & x ? "x" : "-")
  return (
    (FILE_TYPE[mode & S_IFMT]?.[0] ?? "?") +
    bit(0o400, "r") + bit(0o200, "w") + exec(0o100, 0o4000, "s") +
    bit(0o40, "r") + bit(0o20, "w") + exec(0o10, 0o2000, "s") +
    bit(0o4, "r") + bit(0o2, "w") + exec(0o1, 0o1000, "t")
  )
}

/** The names /etc/passwd gives users and /etc/group gives groups, as on Debian. */
const USER_NAMES: ReadonlyMap<number, string> = new Map([
  [0, "root"],
  [65534, "nobody"]
])
const GROUP_NAMES: ReadonlyMap<number, string> = new Map([
  [0, "root"],
  [65534, "nogroup"]
])
const userName = (id: number): string => USER_NAMES.get(id) ?? "UNKNOWN"
const groupName = (id: number): string => GROUP_NAMES.get(id) ?? "UNKNOWN"

/** A timestamp as GNU stat prints it, in UTC. */
const statTime = (sec: number, nsec: number): string =>
  `${new Date(sec * 1000).toISOString().slice(0, 19).replace("T", " ")}.${String(nsec).padStart(9, "0")} +0000`

/** GNU stat's default output for one file. */
const showStat = (name: string, st: Kstat): string => {
  const type = st.mode & S_IFMT
  const kind = type === S_IFREG && st.size === 0 ? "regular empty file" : (FILE_TYPE[type]?.[1] ?? "weird file")
  const device = type === S_IFCHR || type === S_IFBLK
  const links = device ? `Links: ${String(st.nlink).padEnd(5)} Device type: ${devMajor(st.rdev)},${devMinor(st.rdev)}` : `Links: ${st.nlink}`
  return (
    `  File: ${name}\n` +
    `  Size: ${String(st.size).padEnd(10)}\tBlocks: ${String(st.blocks).padEnd(10)} IO Block: ${String(st.blksize).padEnd(6)} ${kind}\n` +
    `Device: ${devMajor(st.dev)},${devMinor(st.dev)}\tInode: ${String(st.ino).padEnd(11)} ${links}\n` +
    `Access: (${(st.mode & 0o7777).toString(8).padStart(4, "0")}/${modeString(st.mode)})  Uid: (${String(st.uid).padStart(5)}/${userName(st.uid).padStart(8)})   Gid: (${String(st.gid).padStart(5)}/${groupName(st.gid).padStart(8)})\n` +
    `Access: ${statTime(st.atimeSec, st.atimeNsec)}\n` +
    `Modify: ${statTime(st.mtimeSec, st.mtimeNsec)}\n` +
    `Change: ${statTime(st.ctimeSec, st.ctimeNsec)}\n` +
    ` Birth: -\n`
  )
}

/** The filesystem types /proc/filesystems lists without "nodev", in its order. */
const blockFilesystems = (sys: Syscalls): Effect.Effect<Array<string>> =>
  Effect.map(readFile(sys, "/proc/filesystems"), (text) => (text ?? "").split("\n").flatMap((line) => (line.startsWith("\t") ? [line.slice(1)] : [])))

/** coreutils and util-linux programs, with their messages and exit statuses. */
export const COREUTILS: Readonly<Record<string, Program>> = {
  rm: program((sys, argv, complain) =>
    Effect.gen(function* () {
      const flags = argv.filter((a) => a.startsWith("-")).join("")
      const recursiveDir = /[drR]/.test(flags)
      const force = flags.includes("f")
      let status = 0
      for (const f of argv.slice(1).filter((a) => !a.startsWith("-"))) {
        const r = yield* Effect.result(sys.call("unlinkat", AT_FDCWD, f, 0))
        if (r._tag === "Failure" && r.failure.errno === "EISDIR" && recursiveDir) {
          const d = failed(yield* Effect.result(sys.call("unlinkat", AT_FDCWD, f, AT_REMOVEDIR)))
          if (d !== undefined) {
            yield* complain(`cannot remove '${f}': ${d}`)
            status = 1
          }
          continue
        }
        if (r._tag === "Failure" && !(force && r.failure.errno === "ENOENT")) {
          yield* complain(r.failure.errno === "EISDIR" ? `cannot remove '${f}': Is a directory` : `cannot remove '${f}': ${strerror(r.failure)}`)
          status = 1
        }
      }
      return status
    })
  ),
  ln: program((sys, argv, complain) =>
    Effect.gen(function* () {
      const symbolic = argv[1] === "-s"
      const [target, link] = argv.slice(symbolic ? 2 : 1)
      if (target === undefined || link === undefined) {
        yield* complain("missing file operand")
        return 1
      }
      const r = symbolic
        ? yield* Effect.result(sys.call("symlinkat", target, AT_FDCWD, link))
        : yield* Effect.result(sys.call("linkat", AT_FDCWD, target, AT_FDCWD, link, 0))
      const e = failed(r)
      if (e === undefined) return 0
      yield* complain(`failed to create ${symbolic ? "symbolic " : "hard "}link '${link}'${symbolic ? "" : ` => '${target}'`}: ${e}`)
      return 1
    })
  ),
  touch: program((sys, argv, complain) =>
    Effect.gen(function* () {
      let status = 0
      for (const f of argv.slice(1)) {
        const fd = yield* Effect.result(sys.call("openat", AT_FDCWD, f, O_CREAT | O_WRONLY, 0o666))
        if (fd._tag === "Failure") {
          yield* complain(`cannot touch '${f}': ${strerror(fd.failure)}`)
          status = 1
        } else yield* sys.call("close", fd.success)
      }
      return status
    })
  ),
  stat: program((sys, argv, complain) =>
    Effect.gen(function* () {
      let status = 0
      for (const f of argv.slice(1)) {
        const st: Partial<Kstat> = {}
        const r = yield* Effect.result(sys.call("newfstatat", AT_FDCWD, f, st, AT_SYMLINK_NOFOLLOW))
        if (r._tag === "Failure") {
          yield* complain(`cannot statx '${f}': ${strerror(r.failure)}`)
          status = 1
          continue
        }
        const target = new Uint8Array(4096)
        const link = (st.mode! & S_IFMT) === S_IFLNK ? yield* Effect.result(sys.call("readlinkat", AT_FDCWD, f, target, target.length)) : undefined
        yield* writeAll(sys, 1, showStat(link?._tag === "Success" ? `${f} -> ${new TextDecoder().decode(target.subarray(0, link.success))}` : f, st as Kstat))
      }
      return status
    })
  ),
  id: program((sys) => {
    const cred = sys.ctx.proc.task.cred
    const uid = getuid(cred)
    const gid = getgid(cred)
    const named = (n: number, names: ReadonlyMap<number, string>): string => (names.has(n) ? `${n}(${names.get(n)})` : String(n))
    return Effect.as(writeAll(sys, 1, `uid=${named(uid, USER_NAMES)} gid=${named(gid, GROUP_NAMES)} groups=${named(gid, GROUP_NAMES)}\n`), 0)
  }),
  kill: program((sys, argv, complain) =>
    Effect.gen(function* () {
      let sig = 15
      let args = argv.slice(1)
      if (args[0]?.startsWith("-")) {
        const s = args[0].slice(1)
        const n = /^\d+$/.test(s) ? Number(s) : signalNumber(s.startsWith("SIG") ? s : `SIG${s}`)
        if (n === undefined) {
          yield* complain(`unknown signal ${s}`)
          return 1
        }
        sig = n
        args = args.slice(1)
      }
      let status = 0
      for (const p of args) {
        const e = failed(yield* Effect.result(sys.call("kill", Number(p), sig)))
        if (e !== undefined) {
          yield* complain(`(${p}): ${e}`)
          status = 1
        }
      }
      return status
    })
  ),
  sync: program((sys) => Effect.as(sys.call("sync"), 0)),
  sleep: program((sys, argv, complain) =>
    Effect.gen(function* () {
      const secs = Number(argv[1])
      if (argv[1] === undefined || argv[1] === "" || !Number.isFinite(secs) || secs < 0) {
        yield* complain(argv[1] === undefined ? "missing operand" : `invalid time interval '${argv[1]}'`)
        yield* writeAll(sys, 2, "Try 'sleep --help' for more information.\n")
        return 1
      }
      yield* Effect.ignore(sys.ctx.proc.nanosleep(secs * 1000))
      return 0
    })
  ),
  mknod: program((sys, argv, complain) =>
    Effect.gen(function* () {
      const [name, type, major, minor] = argv.slice(1)
      const kind = type === "c" || type === "u" ? S_IFCHR : type === "b" ? S_IFBLK : type === "p" ? S_IFIFO : undefined
      if (name === undefined || kind === undefined || (kind !== S_IFIFO && (major === undefined || minor === undefined))) {
        yield* complain("missing operand")
        return 1
      }
      const dev = kind === S_IFIFO ? 0 : mkdev(Number(major), Number(minor))
      const e = failed(yield* Effect.result(sys.call("mknodat", AT_FDCWD, name, kind | 0o666, dev)))
      if (e === undefined) return 0
      yield* complain(`${name}: ${e}`)
      return 1
    })
  ),
  mount: program((sys, argv, complain) =>
    Effect.gen(function* () {
      const task = sys.ctx.proc.task.vfsTask()
      if (argv.length === 1) {
        // mount with no arguments lists the mounts, as /proc/self/mounts reads
        const lines = showMountinfo({ root: task.fs.root, ns: task.mntNs }).trimEnd().split("\n").filter((l) => l !== "")
        const out = lines.map((l) => {
          const f = l.split(" ")
          const dash = f.indexOf("-")
          return `${f[dash + 2]} on ${f[4]} type ${f[dash + 1]} (${f[5]})\n`
        })
        return yield* Effect.as(writeAll(sys, 1, out.join("")), 0)
      }
      let flags = 0
      let type: string | null = null
      const data: Array<string> = []
      const rest: Array<string> = []
      const PROPAGATION: Readonly<Record<string, number>> = {
        "--make-shared": MS_SHARED,
        "--make-private": MS_PRIVATE,
        "--make-slave": MS_SLAVE,
        "--make-unbindable": MS_UNBINDABLE,
        "--make-rshared": MS_SHARED | MS_REC,
        "--make-rprivate": MS_PRIVATE | MS_REC,
        "--make-rslave": MS_SLAVE | MS_REC,
        "--make-runbindable": MS_UNBINDABLE | MS_REC
      }
      const OPTIONS: Readonly<Record<string, number>> = { ro: MS_RDONLY, rw: 0, nosuid: MS_NOSUID, nodev: MS_NODEV, noexec: MS_NOEXEC, remount: MS_REMOUNT, bind: MS_BIND }
      for (let i = 1; i < argv.length; i++) {
        const a = argv[i]!
        if (a === "-t") type = argv[++i] ?? null
        else if (a === "-o") {
          for (const o of (argv[++i] ?? "").split(",")) {
            if (o in OPTIONS) flags |= OPTIONS[o]!
            else data.push(o)
          }
        } else if (a === "--bind" || a === "-B") flags |= MS_BIND
        else if (a === "--rbind" || a === "-R") flags |= MS_BIND | MS_REC
        else if (a === "--move" || a === "-M") flags |= MS_MOVE
        else if (a in PROPAGATION) flags |= PROPAGATION[a]!
        else rest.push(a)
      }
      const propagationOnly = (flags & (MS_SHARED | MS_PRIVATE | MS_SLAVE | MS_UNBINDABLE)) !== 0
      const [source, target] = propagationOnly ? [null, rest[0]] : rest.length === 1 ? [null, rest[0]] : [rest[0] ?? null, rest[1]]
      if (target === undefined) {
        yield* complain("bad usage")
        return 1
      }
      const options = data.length === 0 ? null : data.join(",")
      // no -t for a new mount of a source: try each block filesystem /proc/filesystems lists, as mount(8) does
      const probe = type === null && source !== null && (flags & (MS_BIND | MS_MOVE | MS_REMOUNT)) === 0
      const types = probe ? yield* blockFilesystems(sys) : [type]
      let tried = types[0] ?? null
      let r = yield* Effect.result(sys.call("mount", source ?? (type === null ? null : "none"), target, tried, flags, options))
      for (const t of types.slice(1)) {
        if (r._tag === "Success" || r.failure.errno !== "EINVAL") break
        tried = t
        r = yield* Effect.result(sys.call("mount", source, target, t, flags, options))
      }
      // a write-protected block device: mount(8) warns and mounts it read-only
      if (r._tag === "Failure" && r.failure.errno === "EACCES" && source !== null && (flags & (MS_RDONLY | MS_BIND | MS_MOVE | MS_REMOUNT)) === 0) {
        const ro = yield* Effect.result(sys.call("mount", source, target, tried, flags | MS_RDONLY, options))
        if (ro._tag === "Success") {
          yield* complain(`${target}: WARNING: source write-protected, mounted read-only.`)
          return 0
        }
      }
      const e = failed(r)
      if (e === undefined) return 0
      const errno = r._tag === "Failure" ? r.failure.errno : undefined
      // util-linux explains the errnos it can attribute, as mount(8) does
      const why =
        errno === "EPERM"
          ? "must be superuser to use mount"
          : errno === "ENODEV" && type !== null
            ? `unknown filesystem type '${type}'`
            : errno === "ENOTBLK"
              ? `${source} is not a block device`
              : errno === "EINVAL" && probe
              ? `wrong fs type, bad option, bad superblock on ${source}, missing codepage or helper program, or other error`
              : e
      yield* complain(`${target}: ${why}.`)
      return 32
    })
  ),
  umount: program((sys, argv, complain) =>
    Effect.gen(function* () {
      let flags = 0
      let status = 0
      for (const a of argv.slice(1)) {
        if (a === "-l" || a === "--lazy") flags |= MNT_DETACH
        else if (a === "-f" || a === "--force") flags |= MNT_FORCE
        else {
          const r = yield* Effect.result(sys.call("umount2", a, flags))
          if (r._tag === "Failure") {
            const why = r.failure.errno === "EINVAL" ? "not mounted" : r.failure.errno === "EBUSY" ? "target is busy" : strerror(r.failure)
            yield* complain(`${a}: ${why}.`)
            status = 32
          }
        }
      }
      return status
    })
  ),
  findmnt: program((sys, argv, complain) =>
    Effect.gen(function* () {
      if (argv.includes("--json") || argv.includes("-J")) {
        const fd = yield* Effect.result(sys.call("openat", AT_FDCWD, "/proc/self/mountinfo", O_RDONLY, 0))
        const text = fd._tag === "Failure" ? fd : yield* Effect.result(readAll(sys, fd.success))
        if (fd._tag === "Success") yield* Effect.ignore(sys.call("close", fd.success))
        if (text._tag === "Failure") {
          yield* complain(`can't read /proc/self/mountinfo: ${strerror(text.failure)}`)
          return 1
        }
        // libsmartcols' JSON: 3-space indents, siblings joined as "},{" (the next "{" loses its indent), "children" only where there are some
        const objects = (nodes: ReadonlyArray<FindmntNode>, pad: string): string =>
          nodes
            .map((n) => {
              const fields = (["target", "source", "fstype", "options"] as const).map((k) => `${pad}   ${JSON.stringify(k)}: ${JSON.stringify(n[k])}`)
              const children = objects(n.children, `${pad}      `)
              const body = children === "" ? fields : [...fields, `${pad}   "children": [\n${children}\n${pad}   ]`]
              return `${pad}{\n${body.join(",\n")}\n${pad}}`
            })
            .map((o, i) => (i === 0 ? o : o.slice(pad.length)))
            .join(",")
        yield* writeAll(sys, 1, `{\n   "filesystems": [\n${objects(findmntForest(text.success), "      ")}\n   ]\n}\n`)
        return 0
      }
      const task = sys.ctx.proc.task.vfsTask()
      yield* writeAll(sys, 1, `${findmntTree(showMountinfo({ root: task.fs.root, ns: task.mntNs }))}\n`)
      return 0
    })
  )
}
