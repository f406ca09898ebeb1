import {
  CLONE_NEWCGROUP,
  CLONE_NEWIPC,
  CLONE_NEWNET,
  CLONE_NEWNS,
  CLONE_NEWPID,
  CLONE_NEWTIME,
  CLONE_NEWUSER,
  CLONE_NEWUTS,
  MS_NODEV,
  MS_NOEXEC,
  MS_NOSUID,
  MS_PRIVATE,
  MS_REC,
  O_WRONLY,
  AT_FDCWD,
  type SysError,
  WEXITSTATUS,
  WIFEXITED,
  WTERMSIG
} from "@simkernel/abi"
import { getgid, getuid } from "@simkernel/cred"
import type { Process, Program } from "@simkernel/sched"
import { Effect } from "effect"
import { Syscalls } from "../syscalls/table.js"
import { execvp, program, readLink, strerror, writeAll } from "./program.js"

/** util-linux's namespace options: short letter, long name, clone flag. */
const NAMESPACE_OPTIONS: ReadonlyArray<readonly [string, string, number]> = [
  ["m", "mount", CLONE_NEWNS],
  ["u", "uts", CLONE_NEWUTS],
  ["i", "ipc", CLONE_NEWIPC],
  ["n", "net", CLONE_NEWNET],
  ["p", "pid", CLONE_NEWPID],
  ["U", "user", CLONE_NEWUSER],
  ["C", "cgroup", CLONE_NEWCGROUP],
  ["T", "time", CLONE_NEWTIME]
]

/** The order nsenter opens namespace files in. */
const NSENTER_ORDER: ReadonlyArray<readonly [string, number]> = [
  ["user", CLONE_NEWUSER],
  ["cgroup", CLONE_NEWCGROUP],
  ["ipc", CLONE_NEWIPC],
  ["uts", CLONE_NEWUTS],
  ["net", CLONE_NEWNET],
  ["pid", CLONE_NEWPID],
  ["mnt", CLONE_NEWNS],
  ["time", CLONE_NEWTIME]
]

interface Parsed {
  readonly flags: number
  readonly switches: ReadonlySet<string>
  readonly values: ReadonlyMap<string, string>
  readonly command: ReadonlyArray<string>
}

/**
 * getopt_long for these tools: namespace letters (bundled, `-mu`) and long
 * names, boolean switches, options taking a value (`-t 5`, `--target=5`),
 * `--` or the first non-option ending the options. An unknown option is
 * the message util-linux prints.
 */
const parseOptions = (
  argv: ReadonlyArray<string>,
  switches: ReadonlyMap<string, string>,
  valued: ReadonlyMap<string, string>,
  optionalValue: ReadonlySet<string>
): Parsed | string => {
  let flags = 0
  const on = new Set<string>()
  const values = new Map<string, string>()
  let i = 1
  for (; i < argv.length; i++) {
    const a = argv[i]!
    if (a === "--") {
      i++
      break
    }
    if (!a.startsWith("-") || a === "-") break
    if (a.startsWith("--")) {
      const [name, value] = a.slice(2).split(/=(.*)/s, 2) as [string, string | undefined]
      const ns = NAMESPACE_OPTIONS.find(([, long]) => long === name)
      if (ns !== undefined) flags |= ns[2]
      else if (switches.has(name)) on.add(switches.get(name)!)
      else if (valued.has(name)) {
        const v = value ?? (optionalValue.has(name) ? "" : argv[++i])
        if (v === undefined) return `option '--${name}' requires an argument`
        values.set(valued.get(name)!, v)
      } else return `unrecognized option '--${name}'`
      continue
    }
    for (let j = 1; j < a.length; j++) {
      const c = a[j]!
      const ns = NAMESPACE_OPTIONS.find(([short]) => short === c)
      if (ns !== undefined) flags |= ns[2]
      else if (switches.has(c)) on.add(switches.get(c)!)
      else if (valued.has(c)) {
        const v = j + 1 < a.length ? a.slice(j + 1) : argv[++i]
        if (v === undefined) return `option requires an argument -- '${c}'`
        values.set(valued.get(c)!, v)
        break
      } else return `invalid option -- '${c}'`
    }
  }
  return { flags, switches: on, values, command: argv.slice(i) }
}

/** execvp() of `command` (default the shell), or util-linux's "failed to execute" and 127/126. */
const execCommand = (sys: Syscalls, tool: string, command: ReadonlyArray<string>): Effect.Effect<number, SysError> =>
  Effect.gen(function* () {
    const argv = command.length > 0 ? command : ["/bin/sh"]
    const failed = yield* execvp(sys, argv, [])
    yield* writeAll(sys, 2, `${tool}: failed to execute ${argv[0]}: ${strerror(failed)}\n`)
    return failed.errno === "ENOENT" ? 127 : 126
  })

/** Fork, run `child` there, wait, and end as the child ended: its exit status, or the signal that killed it. */
const forkAndWait = (sys: Syscalls, child: Program): Effect.Effect<number, SysError> =>
  Effect.gen(function* () {
    const pid = yield* sys.call("fork", child)
    const status: { value?: number } = {}
    yield* sys.call("wait4", pid, status, 0, null)
    const s = status.value ?? 0
    if (WIFEXITED(s)) return WEXITSTATUS(s)
    // util-linux re-raises the child's signal on itself
    yield* Effect.ignore(sys.call("kill", yield* sys.call("getpid"), WTERMSIG(s)))
    return 128 + WTERMSIG(s)
  })

/** Write `text` to a /proc file, as unshare --map-root-user does for the maps. */
const writeProcFile = (sys: Syscalls, path: string, text: string): Effect.Effect<void, SysError> =>
  Effect.gen(function* () {
    const fd = yield* sys.call("openat", AT_FDCWD, path, O_WRONLY, 0)
    const written = yield* Effect.result(writeAll(sys, fd, text))
    yield* Effect.ignore(sys.call("close", fd))
    if (written._tag === "Failure") return yield* Effect.fail(written.failure)
  })

/** The clone flags of the namespaces /proc/PID/ns/ names differently from /proc/self/ns/. */
const differingNamespaces = (sys: Syscalls, pid: string): Effect.Effect<number> =>
  Effect.gen(function* () {
    let flags = 0
    for (const [kind, flag] of NSENTER_ORDER) {
      const theirs = yield* readLink(sys, `/proc/${pid}/ns/${kind}`)
      if (theirs !== undefined && theirs !== (yield* readLink(sys, `/proc/self/ns/${kind}`))) flags |= flag
    }
    return flags
  })

const usage = (sys: Syscalls, tool: string, message: string): Effect.Effect<number> =>
  Effect.as(Effect.ignore(writeAll(sys, 2, `${tool}: ${message}\nTry '${tool} --help' for more information.\n`)), 1)

/** util-linux's namespace tools: unshare and nsenter, with their options, messages and exit statuses. */
export const NSUTILS: Readonly<Record<string, Program>> = {
  unshare: program((sys, argv, complain) =>
    Effect.gen(function* () {
      const o = parseOptions(argv, new Map([["f", "fork"], ["fork", "fork"], ["r", "map-root-user"], ["map-root-user", "map-root-user"]]), new Map([["mount-proc", "mount-proc"]]), new Set(["mount-proc"]))
      if (typeof o === "string") return yield* usage(sys, "unshare", o)
      const mountProc = o.values.get("mount-proc")
      // --mount-proc implies a new mount namespace, --map-root-user a new user namespace
      const flags = o.flags | (mountProc !== undefined ? CLONE_NEWNS : 0) | (o.switches.has("map-root-user") ? CLONE_NEWUSER : 0)
      const cred = sys.ctx.proc.task.cred
      const [uid, gid] = [getuid(cred), getgid(cred)]
      const r = yield* Effect.result(sys.call("unshare", flags))
      if (r._tag === "Failure") {
        yield* complain(`unshare failed: ${strerror(r.failure)}`)
        return 1
      }
      if (o.switches.has("map-root-user")) {
        for (const [file, text] of [["setgroups", "deny"], ["uid_map", `0 ${uid} 1`], ["gid_map", `0 ${gid} 1`]] as const) {
          const w = yield* Effect.result(writeProcFile(sys, `/proc/self/${file}`, text))
          if (w._tag === "Failure") {
            yield* complain(`write failed /proc/self/${file}: ${strerror(w.failure)}`)
            return 1
          }
        }
      }
      // a new mount namespace starts with private propagation (--propagation private is the default)
      if ((flags & CLONE_NEWNS) !== 0) {
        const p = yield* Effect.result(sys.call("mount", "none", "/", null, MS_REC | MS_PRIVATE, null))
        if (p._tag === "Failure") {
          yield* complain(`cannot change root filesystem propagation: ${strerror(p.failure)}`)
          return 1
        }
      }
      const run = (s: Syscalls): Effect.Effect<number, SysError> =>
        Effect.gen(function* () {
          if (mountProc !== undefined) {
            const dir = mountProc === "" ? "/proc" : mountProc
            const m = yield* Effect.result(s.call("mount", "proc", dir, "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, null))
            if (m._tag === "Failure") {
              yield* writeAll(s, 2, `unshare: mount ${dir} failed: ${strerror(m.failure)}\n`)
              return 1
            }
          }
          return yield* execCommand(s, "unshare", o.command)
        })
      if (!o.switches.has("fork")) return yield* run(sys)
      return yield* forkAndWait(sys, (child: Process) => run(new Syscalls({ proc: child }, sys.tracer)))
    })
  ),
  nsenter: program((sys, argv, complain) =>
    Effect.gen(function* () {
      const o = parseOptions(argv, new Map([["a", "all"], ["all", "all"], ["F", "no-fork"], ["no-fork", "no-fork"]]), new Map([["t", "target"], ["target", "target"]]), new Set())
      if (typeof o === "string") return yield* usage(sys, "nsenter", o)
      const target = o.values.get("target")
      const all = o.switches.has("all")
      // nsenter names the first namespace it would open, in its own order
      const first = all ? "user" : NSENTER_ORDER.find(([, flag]) => (o.flags & flag) !== 0)?.[0]
      if (first === undefined) return yield* execCommand(sys, "nsenter", o.command)
      if (target === undefined) {
        yield* complain(all ? "no target PID specified for --all" : `neither filename nor target pid supplied for ns/${first}`)
        return 1
      }
      if (!/^\d+$/.test(target)) {
        yield* complain(`failed to parse pid: '${target}'`)
        return 1
      }
      const pidfd = yield* Effect.result(sys.call("pidfd_open", Number(target), 0))
      if (pidfd._tag === "Failure") {
        // nsenter opens /proc/PID/ns/KIND; for a pid that does not exist that is ENOENT
        const why = pidfd.failure.errno === "ESRCH" ? "No such file or directory" : strerror(pidfd.failure)
        yield* complain(all ? `stat of /proc/${target}/ns/user failed: ${why}` : `cannot open /proc/${target}/ns/${first}: ${why}`)
        return 1
      }
      // --all enters each namespace of the target that differs from ours (a task cannot setns into its own user namespace)
      const flags = all ? yield* differingNamespaces(sys, target) : o.flags
      if (flags === 0) {
        yield* Effect.ignore(sys.call("close", pidfd.success))
        return yield* execCommand(sys, "nsenter", o.command)
      }
      const entered = yield* Effect.result(sys.call("setns", pidfd.success, flags))
      yield* Effect.ignore(sys.call("close", pidfd.success))
      if (entered._tag === "Failure") {
        yield* complain(`reassociate to namespaces failed: ${strerror(entered.failure)}`)
        return 1
      }
      // entering a PID namespace takes effect for children only: nsenter forks unless --no-fork
      if ((flags & CLONE_NEWPID) !== 0 && !o.switches.has("no-fork")) {
        return yield* forkAndWait(sys, (child: Process) => execCommand(new Syscalls({ proc: child }, sys.tracer), "nsenter", o.command))
      }
      return yield* execCommand(sys, "nsenter", o.command)
    })
  )
}
