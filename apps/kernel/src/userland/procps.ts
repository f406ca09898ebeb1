/** procps-ng ps and util-linux lsns: both read only /proc, so they see what its mount's PID namespace shows. */
import { AT_FDCWD, O_RDONLY } from "@simkernel/abi"
import type { Program } from "@simkernel/sched"
import { listDirectory } from "@simkernel/vfs"
import { Effect } from "effect"
import type { Syscalls } from "../syscalls/table.js"
import { program, readFile, readLink, writeAll } from "./program.js"

/** The pids /proc lists, in numeric order. */
const procPids = (sys: Syscalls): Array<number> => {
  const names = listDirectory(sys.ctx.proc.task.vfsTask(), AT_FDCWD, "/proc")
  return names instanceof Error ? [] : names.filter((n) => /^[1-9][0-9]*$/.test(n)).map(Number).sort((a, b) => a - b)
}

/** What ps and lsns use of one process. */
interface ProcInfo {
  readonly pid: number
  readonly ppid: number
  readonly comm: string
  readonly ttyNr: number
  /** utime + stime, in clock ticks. */
  readonly ticks: number
  readonly starttime: number
  readonly euid: number
  readonly args: ReadonlyArray<string>
}

/** /proc/PID/stat, status and cmdline of one process; undefined if it is gone. */
const procInfo = (sys: Syscalls, pid: number | "self"): Effect.Effect<ProcInfo | undefined> =>
  Effect.gen(function* () {
    const stat = yield* readFile(sys, `/proc/${pid}/stat`)
    const status = yield* readFile(sys, `/proc/${pid}/status`)
    const cmdline = yield* readFile(sys, `/proc/${pid}/cmdline`)
    if (stat === undefined || status === undefined) return undefined
    // comm may hold spaces and parentheses: it ends at the last ')'
    const open = stat.indexOf("(")
    const close = stat.lastIndexOf(")")
    const rest = stat.slice(close + 2).split(" ")
    const field = (n: number): number => Number(rest[n - 3] ?? 0)
    const uid = /^Uid:\t\d+\t(\d+)/m.exec(status)
    return {
      pid: Number(stat.slice(0, open - 1)),
      ppid: field(4),
      comm: stat.slice(open + 1, close),
      ttyNr: field(7),
      ticks: field(14) + field(15),
      starttime: field(22),
      euid: Number(uid?.[1] ?? 0),
      args: (cmdline ?? "").split("\0").filter((a, i, all) => !(a === "" && i === all.length - 1))
    }
  })

const infos = (sys: Syscalls): Effect.Effect<Array<ProcInfo>> =>
  Effect.map(Effect.forEach(procPids(sys), (pid) => procInfo(sys, pid)), (all) => all.filter((p) => p !== undefined))

/** The names /etc/passwd gives; other ids print as numbers. */
const userName = (uid: number): string => (uid === 0 ? "root" : uid === 65534 ? "nobody" : String(uid))

/** Clock ticks (USER_HZ) as ps's [DD-]HH:MM:SS. */
const cputime = (ticks: number): string => {
  const s = Math.floor(ticks / HZ)
  const two = (n: number): string => String(n).padStart(2, "0")
  const days = Math.floor(s / 86400)
  return `${days > 0 ? `${days}-` : ""}${two(Math.floor(s / 3600) % 24)}:${two(Math.floor(s / 60) % 60)}:${two(s % 60)}`
}

/** ps sizes its PID columns to the digits of pid_max - 1, and to 5 when /proc/sys/kernel/pid_max cannot be read. */
const pidDigits = (sys: Syscalls): Effect.Effect<number> =>
  Effect.map(readFile(sys, "/proc/sys/kernel/pid_max"), (text) => {
    const max = Number(text?.trim())
    return text === undefined || !Number.isInteger(max) || max < 2 ? 5 : Math.max(5, String(max - 1).length)
  })

/** Seconds since boot, from /proc/uptime (0 when it cannot be read). */
const uptimeSeconds = (sys: Syscalls): Effect.Effect<number> =>
  Effect.map(readFile(sys, "/proc/uptime"), (text) => {
    const secs = Number(text?.split(" ")[0])
    return Number.isFinite(secs) ? secs : 0
  })

/** USER_HZ: the clock ticks /proc/PID/stat counts in. */
const HZ = 100

/**
 * ps's C column (pr_c()): CPU use over the process's life in percent,
 * whole seconds of life as cook_etime() counts them, at most 99.
 */
const cpuPercent = (p: ProcInfo, uptime: number): number => {
  const started = Math.floor(p.starttime / HZ)
  const seconds = Math.floor(uptime) >= started ? Math.floor(uptime) - started : 0
  return seconds === 0 ? 0 : Math.min(99, Math.floor(Math.floor((p.ticks * 100) / HZ) / seconds))
}

const MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"] as const

/**
 * ps's STIME (pr_stime()): the start as "HH:MM" when it was today, "MmmDD"
 * earlier this year, else the year. The simulated kernel has no wall
 * clock: boot is at the epoch, so now is the uptime past it (UTC).
 */
const startTime = (p: ProcInfo, uptime: number): string => {
  const start = new Date(Math.floor(p.starttime / HZ) * 1000)
  const now = new Date(Math.floor(uptime) * 1000)
  const two = (n: number): string => String(n).padStart(2, "0")
  if (start.getUTCFullYear() !== now.getUTCFullYear()) return String(start.getUTCFullYear())
  const sameDay = start.getUTCMonth() === now.getUTCMonth() && start.getUTCDate() === now.getUTCDate()
  if (!sameDay) return `${MONTHS[start.getUTCMonth()]}${two(start.getUTCDate())}`
  return `${two(start.getUTCHours())}:${two(start.getUTCMinutes())}`
}

const PS_USAGE =
  "\nUsage:\n ps [options]\n\n Try 'ps --help <simple|list|output|threads|misc|all>'\n  or 'ps --help <s|l|o|t|m|a>'\n for additional help text.\n\nFor more details see ps(1).\n"

/** ps with no options, -e, -f and -ef: the processes of the caller's euid and tty, or all of them. */
const ps = program((sys, argv) =>
  Effect.gen(function* () {
    let all = false
    let full = false
    for (const a of argv.slice(1)) {
      if (!/^-[ef]+$/.test(a)) {
        yield* writeAll(sys, 2, `error: unsupported ${a.startsWith("-") ? "SysV" : "BSD"} option\n${PS_USAGE}`)
        return 1
      }
      all ||= a.includes("e")
      full ||= a.includes("f")
    }
    const w = yield* pidDigits(sys)
    const uptime = yield* uptimeSeconds(sys)
    const self = yield* procInfo(sys, "self")
    const procs = (yield* infos(sys)).filter((p) => all || (p.euid === self?.euid && p.ttyNr === self.ttyNr))
    // the tty number has no name without /dev/pts lookups this kernel lacks, so only "no tty" prints
    const tty = (p: ProcInfo): string => (p.ttyNr === 0 ? "?" : String(p.ttyNr)).padEnd(8)
    const pid = (n: number | string): string => String(n).padStart(w)
    const lines = full
      ? [
          `${"UID".padEnd(8)} ${pid("PID")} ${pid("PPID")}  C STIME ${"TTY".padEnd(8)}     TIME CMD`,
          ...procs.map(
            (p) =>
              `${userName(p.euid).padEnd(8)} ${pid(p.pid)} ${pid(p.ppid)} ${String(cpuPercent(p, uptime)).padStart(2)} ${startTime(p, uptime).padStart(5)} ${tty(p)} ${cputime(p.ticks)} ${p.args.length === 0 ? `[${p.comm}]` : p.args.join(" ")}`
          )
        ]
      : [`${pid("PID")} ${"TTY".padEnd(8)}     TIME CMD`, ...procs.map((p) => `${pid(p.pid)} ${tty(p)} ${cputime(p.ticks)} ${p.comm}`)]
    yield* writeAll(sys, 1, lines.map((l) => `${l}\n`).join(""))
    return 0
  })
)

/** libsmartcols' output: each column as wide as its widest cell, right-aligned where `right` says, the last unpadded. */
const table = (header: ReadonlyArray<string>, right: ReadonlyArray<boolean>, rows: ReadonlyArray<ReadonlyArray<string>>): string => {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)))
  const line = (r: ReadonlyArray<string>): string =>
    r.map((c, i) => (i === r.length - 1 ? c : right[i] ? c.padStart(widths[i]!) : c.padEnd(widths[i]!))).join(" ")
  return [header, ...rows].map((r) => `${line(r)}\n`).join("")
}

/** lsns's COMMAND: the command line, or the name of a process without one. */
const command = (p: ProcInfo): string => (p.args.length === 0 ? p.comm : p.args.join(" "))

/** The namespace types lsns reports, as /proc/PID/ns names them. */
const NS_TYPES = ["mnt", "net", "time", "cgroup", "pid", "user", "uts", "ipc"] as const

/** lsns: one row per namespace any process is in, by inode; with an inode, that namespace's processes. */
const lsns = program((sys, argv) =>
  Effect.gen(function* () {
    const arg = argv[1]
    if (arg?.startsWith("-")) {
      const why = arg.startsWith("--") ? `unrecognized option '${arg}'` : `invalid option -- '${arg[1]}'`
      yield* writeAll(sys, 2, `lsns: ${why}\nTry 'lsns --help' for more information.\n`)
      return 1
    }
    if (arg !== undefined && !/^\d+$/.test(arg)) {
      yield* writeAll(sys, 2, `lsns: invalid namespace argument: '${arg}'\n`)
      return 1
    }
    const namespaces = new Map<number, { type: string; procs: Array<ProcInfo> }>()
    for (const p of yield* infos(sys)) {
      for (const type of NS_TYPES) {
        const m = /^\w+:\[(\d+)\]$/.exec((yield* readLink(sys, `/proc/${p.pid}/ns/${type}`)) ?? "")
        if (m === null) continue
        const ino = Number(m[1])
        const ns = namespaces.get(ino) ?? { type, procs: [] }
        ns.procs.push(p)
        namespaces.set(ino, ns)
      }
    }
    if (arg !== undefined) {
      const ns = namespaces.get(Number(arg))
      if (ns === undefined) {
        yield* writeAll(sys, 2, `lsns: not found namespace: ${arg}\n`)
        return 1
      }
      // the namespace's processes, each under its parent when that is in the namespace too
      const pids = new Set(ns.procs.map((p) => p.pid))
      const rows: Array<ReadonlyArray<string>> = []
      const walk = (parent: number | undefined, indent: string): void => {
        const children = ns.procs.filter((p) => (parent === undefined ? !pids.has(p.ppid) : p.ppid === parent))
        children.forEach((p, i) => {
          const last = i === children.length - 1
          rows.push([String(p.pid), String(p.ppid), userName(p.euid), `${parent === undefined ? "" : `${indent}${last ? "└─" : "├─"}`}${command(p)}`])
          walk(p.pid, parent === undefined ? "" : `${indent}${last ? "  " : "│ "}`)
        })
      }
      walk(undefined, "")
      yield* writeAll(sys, 1, table(["PID", "PPID", "USER", "COMMAND"], [true, true, false, false], rows))
      return 0
    }
    const rows = [...namespaces.entries()].sort(([a], [b]) => a - b).map(([ino, ns]) => {
      // procs come in pid order, so the first is the lowest pid
      const first = ns.procs[0]!
      return [String(ino), ns.type, String(ns.procs.length), String(first.pid), userName(first.euid), command(first)]
    })
    yield* writeAll(sys, 1, table(["NS", "TYPE", "NPROCS", "PID", "USER", "COMMAND"], [true, false, true, true, false, false], rows))
    return 0
  })
)

export const PROCPS: Readonly<Record<string, Program>> = { ps, lsns }
