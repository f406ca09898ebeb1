import { AT_FDCWD, O_CLOEXEC, O_RDONLY, type SysError } from "@simkernel/abi"
import { chroot, close, openat, read, readlinkat, type VfsTask } from "@simkernel/vfs"
import { Effect } from "effect"
import { ArgError, type Decoded } from "./args.js"

/**
 * The file observations of conformance/FORMAT.md section 4.1: `read_file`
 * reads a whole file and records its text split into items, with the
 * values that cannot be the same on two kernels (memory sizes, times,
 * kernel mount ids, inode numbers of host objects) replaced by `*`;
 * `readlink` records a link's text with nsfs/pipefs inode numbers masked.
 * The normalisation here is the one the Linux runner
 * (conformance-linux/simkernel_linux.py) applies, rule for rule. The
 * `chroot` call the procfs corpus uses (FORMAT.md section 3) is here too.
 */

/** How read_file splits and masks a file (FORMAT.md 4.1). */
export const READ_FORMATS = ["lines", "nul", "status", "stat", "host-status", "host-stat", "fdinfo", "mountinfo"] as const
export type ReadFormat = (typeof READ_FORMATS)[number]

/** The value that replaces what cannot be compared. */
const MASK = "*"

/** /proc/PID/status keys whose values depend on the machine: memory, the CPU, the fd table's size, counters. */
const STATUS_MASKED = new Set([
  "FDSize",
  "HugetlbPages",
  "THP_enabled",
  "untag_mask",
  "SigQ",
  "voluntary_ctxt_switches",
  "nonvoluntary_ctxt_switches"
])
const STATUS_MASKED_PREFIXES = ["Vm", "Rss", "Speculation", "Cpus_allowed", "Mems_allowed", "x86_"]

/** /proc/PID/fdinfo/N keys whose values name host objects: the kernel's mount id and the inode number. */
const FDINFO_MASKED = new Set(["mnt_id", "ino"])

/**
 * /proc/PID/stat fields (numbered from 1 as in proc(5)) that depend on the
 * machine: flags, fault counts and times (9-17), start time, vsize, rss
 * (22-24), code and stack addresses (26-30), the CPU (39), I/O delay and
 * guest times (42-44), the memory layout (45-51).
 */
const STAT_MASKED = new Set([9, 10, 11, 12, 13, 14, 15, 16, 17, 22, 23, 24, 26, 27, 28, 29, 30, 39, 42, 43, 44, 45, 46, 47, 48, 49, 50, 51])

/** `Key:<value>` with the value masked when `masked(key)`; lines without a colon stay. */
const maskKeyed = (line: string, masked: (key: string) => boolean): string => {
  const colon = line.indexOf(":")
  if (colon < 0) return line
  const key = line.slice(0, colon)
  return masked(key) ? `${key}:\t${MASK}` : line
}

const statusMasked = (key: string): boolean => STATUS_MASKED.has(key) || STATUS_MASKED_PREFIXES.some((p) => key.startsWith(p))

/**
 * The pid-valued status keys and stat fields: a proc of the initial PID
 * namespace prints host pids there (host-status, host-stat).
 */
const STATUS_PIDS = new Set(["Tgid", "Pid", "PPid", "TracerPid", "NStgid", "NSpid", "NSpgid", "NSsid"])
const STAT_PIDS = new Set([1, 4, 5, 6, 8])

/** One /proc/PID/stat line: pid, (comm) up to the last ')', then the fields, masked by number (`pids`: the pid fields too). */
const maskStat = (line: string, pids: boolean): string => {
  const open = line.indexOf("(")
  const shut = line.lastIndexOf(")")
  if (open < 1 || shut < open) return line
  const rest = line.slice(shut + 2)
  const fields = [line.slice(0, open - 1), line.slice(open, shut + 1), ...(rest === "" ? [] : rest.split(" "))]
  return fields.map((f, i) => (STAT_MASKED.has(i + 1) || (pids && STAT_PIDS.has(i + 1)) ? MASK : f)).join(" ")
}

/** Labels in order of first appearance: `m0`, `m1`, ... */
class Labels {
  private readonly map = new Map<string, string>()
  constructor(private readonly prefix: string) {}
  of(key: string): string {
    let l = this.map.get(key)
    if (l === undefined) this.map.set(key, (l = `${this.prefix}${this.map.size}`))
    return l
  }
  has(key: string): boolean {
    return this.map.has(key)
  }
}

/**
 * mountinfo lines: mount ids become `m0`, `m1`, ... in line order (a parent
 * that is not listed, or is the mount itself, becomes `top`); device
 * numbers `d0`, `d1`, ...; peer groups `g1`, `g2`, ... in order of first
 * appearance. Everything else stays as the kernel printed it.
 */
const maskMountinfo = (lines: ReadonlyArray<string>): Array<string> => {
  const split = lines.map((l) => l.split(" "))
  const isEntry = (f: ReadonlyArray<string>): boolean => f.length >= 10 && f.indexOf("-", 6) >= 0
  const mounts = new Labels("m")
  for (const f of split) if (isEntry(f)) mounts.of(f[0]!)
  const devs = new Labels("d")
  const groups = new Map<string, string>()
  return split.map((f, i) => {
    if (!isEntry(f)) return lines[i]!
    const sep = f.indexOf("-", 6)
    const parent = f[1] === f[0] || !mounts.has(f[1]!) ? "top" : mounts.of(f[1]!)
    const optional = f.slice(6, sep).map((o) => {
      const colon = o.indexOf(":")
      if (colon < 0) return o
      const n = o.slice(colon + 1)
      let g = groups.get(n)
      if (g === undefined) groups.set(n, (g = `g${groups.size + 1}`))
      return `${o.slice(0, colon)}:${g}`
    })
    return [mounts.of(f[0]!), parent, devs.of(f[2]!), ...f.slice(3, 6), ...optional, ...f.slice(sep)].join(" ")
  })
}

/** A file's text as read_file records it (FORMAT.md 4.1): split, masked, then filtered by `keep`. */
export const normaliseFileText = (text: string, format: ReadFormat, keep: ReadonlyArray<RegExp> | undefined): Array<string> => {
  const items = text.split(format === "nul" ? "\0" : "\n")
  const masked =
    format === "status" || format === "host-status"
      ? items.map((l) => maskKeyed(l, (k) => statusMasked(k) || (format === "host-status" && STATUS_PIDS.has(k))))
      : format === "fdinfo"
        ? items.map((l) => maskKeyed(l, (k) => FDINFO_MASKED.has(k)))
        : format === "stat" || format === "host-stat"
          ? items.map((l) => maskStat(l, format === "host-stat"))
          : format === "mountinfo"
            ? maskMountinfo(items)
            : items
  return keep === undefined ? masked : masked.filter((l) => keep.some((re) => re.test(l)))
}

/** A link's text as readlink records it: `kind:[N]` (nsfs, pipefs, sockfs inode numbers) becomes `kind:[*]`. */
export const normaliseLink = (target: string): string => target.replace(/^([A-Za-z_]+):\[[0-9]+\]$/, `$1:[${MASK}]`)

/** read_file's third and fourth arguments, checked: the format name and the keep patterns. */
export const readFileOptions = (format: Decoded | undefined, keep: Decoded | undefined): { format: ReadFormat; keep: Array<RegExp> | undefined } | ArgError => {
  const f = format === undefined || format === null ? "lines" : format
  if (typeof f !== "string" || !(READ_FORMATS as ReadonlyArray<string>).includes(f)) {
    return new ArgError(`read_file: format must be one of ${READ_FORMATS.join(", ")}, got ${JSON.stringify(format)}`)
  }
  if (keep === undefined || keep === null) return { format: f as ReadFormat, keep: undefined }
  if (!Array.isArray(keep) || !keep.every((k) => typeof k === "string")) return new ArgError("read_file: keep must be a list of patterns")
  const res: Array<RegExp> = []
  for (const k of keep as ReadonlyArray<string>) {
    try {
      res.push(new RegExp(k))
    } catch {
      return new ArgError(`read_file: bad pattern ${JSON.stringify(k)}`)
    }
  }
  return { format: f as ReadFormat, keep: res }
}

const isErr = (r: unknown): r is SysError => r instanceof Error && (r as SysError)._tag === "SysError"

/**
 * The whole file at `path`: openat(dirfd, path, O_RDONLY|O_CLOEXEC), read()
 * until end of file, close. The first error (of the open or of a read) is
 * the result.
 */
export const readWholeFile = (task: VfsTask, dirfd: number, path: string): Uint8Array | SysError => {
  const fd = openat(task, dirfd, path, O_RDONLY | O_CLOEXEC, 0)
  if (isErr(fd)) return fd
  const chunks: Array<Uint8Array> = []
  let total = 0
  const buf = new Uint8Array(65536)
  let err: SysError | undefined
  for (;;) {
    const n = read(task, fd, buf)
    if (isErr(n)) {
      err = n
      break
    }
    if (n === 0) break
    chunks.push(buf.slice(0, n))
    total += n
  }
  close(task, fd)
  if (err !== undefined) return err
  const out = new Uint8Array(total)
  let at = 0
  for (const c of chunks) {
    out.set(c, at)
    at += c.length
  }
  return out
}

const pathOf = (d: Decoded | undefined): string | undefined => (typeof d === "string" ? d : undefined)
const fdOf = (d: Decoded | undefined): number => (typeof d === "number" ? d : AT_FDCWD)

type Observation = (a: ReadonlyArray<Decoded>) => unknown | SysError | ArgError

/** The read_file and readlink calls over one task's VFS view: the result object, the errno, or an ArgError for a malformed step. */
export const procfsObservations = (task: VfsTask): Readonly<Record<"read_file" | "readlink", Observation>> => ({
  read_file: (a) => {
    const opts = readFileOptions(a[2], a[3])
    if (opts instanceof ArgError) return opts
    const path = pathOf(a[1])
    if (path === undefined) return new ArgError("read_file: the path must be a string")
    const bytes = readWholeFile(task, fdOf(a[0]), path)
    if (isErr(bytes)) return bytes
    return { lines: normaliseFileText(new TextDecoder().decode(bytes), opts.format, opts.keep) }
  },
  readlink: (a) => {
    const path = pathOf(a[1])
    if (path === undefined) return new ArgError("readlink: the path must be a string")
    const target = readlinkat(task, fdOf(a[0]), path)
    return isErr(target) ? target : { target: normaliseLink(target) }
  }
})

/** procfsObservations as the process machine's calls (Effects failing with the errno or the ArgError). */
export const procfsObservationCalls = (
  task: VfsTask
): Readonly<Record<string, (a: ReadonlyArray<Decoded>) => Effect.Effect<unknown, SysError | ArgError>>> => {
  const obs = procfsObservations(task)
  const lift =
    (f: Observation) =>
    (a: ReadonlyArray<Decoded>): Effect.Effect<unknown, SysError | ArgError> =>
      Effect.suspend(() => {
        const r = f(a)
        return r instanceof ArgError || isErr(r) ? Effect.fail(r) : Effect.succeed(r)
      })
  return {
    read_file: lift(obs.read_file),
    readlink: lift(obs.readlink),
    // chroot(2) (FORMAT.md section 3): what /proc/PID/root, cwd and mountinfo show depends on it
    chroot: lift((a) => {
      const path = pathOf(a[0])
      if (path === undefined) return new ArgError("chroot: the path must be a string")
      return chroot(task, path) ?? 0
    })
  }
}
