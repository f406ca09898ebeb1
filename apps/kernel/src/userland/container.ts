/**
 * container(1): the seed's container calls from the command line. A
 * container fd lives only in the process that holds it, so `run` does
 * everything in one process (create, set up, fork the init in, wait),
 * and `create` hands the fd to a supervising command, whose `container
 * exec`, `wait` and `kill` use it by number, as flock(1) hands a lock on.
 */
import {
  CONTAINER_FD_CLOEXEC,
  CONTAINER_KILL_ON_CLOSE,
  CONTAINER_NEW_CGROUP_NS,
  CONTAINER_NEW_EMPTY_FS_NS,
  CONTAINER_NEW_FS_NS,
  CONTAINER_NEW_IPC_NS,
  CONTAINER_NEW_NET_NS,
  CONTAINER_NEW_PID_NS,
  CONTAINER_NEW_USER_NS,
  CONTAINER_NEW_UTS_NS,
  FSCONFIG_CMD_CREATE,
  FSCONFIG_SET_CONTAINER,
  FSCONFIG_SET_STRING,
  FSOPEN_CLOEXEC,
  FSMOUNT_CLOEXEC,
  MOUNT_ATTR_NODEV,
  MOUNT_ATTR_NOEXEC,
  MOUNT_ATTR_NOSUID,
  MOVE_MOUNT_F_EMPTY_PATH,
  MOVE_MOUNT_T_CONTAINER_ROOT,
  signalNumber,
  type SysError,
  WEXITSTATUS,
  WIFEXITED,
  WTERMSIG
} from "@simkernel/abi"
import type { Process, Program } from "@simkernel/sched"
import { Effect } from "effect"
import { Syscalls } from "../syscalls/table.js"
import { execvp, program, readFile, strerror, writeAll } from "./program.js"

/** --new's namespace names and their CONTAINER_NEW_* flags. */
export const CONTAINER_NEW: ReadonlyArray<readonly [string, number]> = [
  ["fs", CONTAINER_NEW_FS_NS],
  ["empty-fs", CONTAINER_NEW_EMPTY_FS_NS],
  ["cgroup", CONTAINER_NEW_CGROUP_NS],
  ["uts", CONTAINER_NEW_UTS_NS],
  ["ipc", CONTAINER_NEW_IPC_NS],
  ["user", CONTAINER_NEW_USER_NS],
  ["pid", CONTAINER_NEW_PID_NS],
  ["net", CONTAINER_NEW_NET_NS]
]

const USAGE = `
Usage:
 container run [options] <name> [--] [<command> [<argument>...]]
 container create [options] [--fd <num>] <name> [--] [<command> [<argument>...]]
 container exec [--fd <num>] [--] <command> [<argument>...]
 container wait [--fd <num>]
 container kill [--fd <num>] [--init-only] <signal>
 container list

Make a container object (container_create), set up its root and /proc,
and run a program as its init (fork_into_container).

Commands:
 run             create the container, run <command> as its init, wait for
                   it and exit as it exited
 create          create the container and run <command> outside it with the
                   container fd open on <num>, to drive it with exec, wait, kill
 exec            run <command> in the container on fd <num> (the first is init)
 wait            wait for the container's init (container_wait) and exit as it did
 kill            send <signal> to the container's processes (container_kill)
 list            print /proc/containers

Options:
 -n, --new <ns>[,<ns>...]   new namespaces: fs, empty-fs, cgroup, uts, ipc,
                              user, pid, net
 -k, --kill-on-close        kill the container's processes when its fd closes
 -r, --root <source>        mount <source> as the container's root
                              (implies --new empty-fs)
 -t, --type <fstype>        the filesystem type of --root (default ext4)
 -p, --mount-proc           mount proc on /proc in the container, showing its
                              PID namespace
 -f, --fd <num>             the container fd (default 3)
 -i, --init-only            kill: signal only the container's init

 -h, --help                 display this help

The <command> defaults to /bin/sh.
`

/** The options of one invocation, as parsed. */
interface Options {
  flags: number
  killOnClose: boolean
  root: string | undefined
  fsType: string
  mountProc: boolean
  fd: number
  initOnly: boolean
  help: boolean
  readonly rest: Array<string>
}

/** Which options each command takes. */
const ACCEPTS: Readonly<Record<string, ReadonlySet<string>>> = {
  run: new Set(["new", "kill-on-close", "root", "type", "mount-proc"]),
  create: new Set(["new", "kill-on-close", "root", "type", "mount-proc", "fd"]),
  exec: new Set(["fd"]),
  wait: new Set(["fd"]),
  kill: new Set(["fd", "init-only"]),
  list: new Set()
}

const SHORT: Readonly<Record<string, string>> = { n: "new", k: "kill-on-close", r: "root", t: "type", p: "mount-proc", f: "fd", i: "init-only", h: "help" }
const VALUED = new Set(["new", "root", "type", "fd"])

/**
 * getopt_long for one command: options up to `--` or the first operand
 * (the rest is the command line), bundled short options, `--opt=value`.
 * A problem comes back as the message util-linux would print.
 */
const parseOptions = (command: string, args: ReadonlyArray<string>): Options | string => {
  const o: Options = { flags: 0, killOnClose: false, root: undefined, fsType: "ext4", mountProc: false, fd: 3, initOnly: false, help: false, rest: [] }
  const accepts = ACCEPTS[command]!
  const set = (name: string, shown: string, value: string | undefined): string | undefined => {
    if (name !== "help" && !accepts.has(name)) return shown.startsWith("--") ? `unrecognized option '${shown}'` : `invalid option -- '${shown.slice(1)}'`
    switch (name) {
      case "help":
        o.help = true
        return undefined
      case "new":
        for (const kind of value!.split(",")) {
          const ns = CONTAINER_NEW.find(([n]) => n === kind)
          if (ns === undefined) return `unknown namespace type: ${kind}`
          o.flags |= ns[1]
        }
        return undefined
      case "kill-on-close":
        o.killOnClose = true
        return undefined
      case "root":
        o.root = value!
        return undefined
      case "type":
        o.fsType = value!
        return undefined
      case "mount-proc":
        o.mountProc = true
        return undefined
      case "fd":
        if (!/^\d+$/.test(value!) || Number(value) > 0x7fffffff) return `failed to parse fd: '${value!}'`
        o.fd = Number(value)
        return undefined
      default:
        o.initOnly = true
        return undefined
    }
  }
  let i = 0
  for (; i < args.length; i++) {
    const a = args[i]!
    if (a === "--") {
      i++
      break
    }
    if (!a.startsWith("-") || a === "-") break
    // kill's signal may be written -9 or -KILL, as kill(1) takes it (the options are lower case)
    if (command === "kill" && /^-(\d+|[A-Z][A-Z0-9+-]*)$/.test(a)) break
    if (a.startsWith("--")) {
      const [name, inline] = a.slice(2).split(/=(.*)/s, 2) as [string, string | undefined]
      if (!Object.values(SHORT).includes(name)) return `unrecognized option '--${name}'`
      const value = VALUED.has(name) ? (inline ?? args[++i]) : undefined
      if (VALUED.has(name) && value === undefined) return `option '--${name}' requires an argument`
      const err = set(name, `--${name}`, value)
      if (err !== undefined) return err
      continue
    }
    for (let j = 1; j < a.length; j++) {
      const name = SHORT[a[j]!]
      if (name === undefined) return `invalid option -- '${a[j]!}'`
      let value: string | undefined
      if (VALUED.has(name)) {
        value = j + 1 < a.length ? a.slice(j + 1) : args[++i]
        if (value === undefined) return `option requires an argument -- '${a[j]!}'`
      }
      const err = set(name, `-${a[j]!}`, value)
      if (err !== undefined) return err
      if (value !== undefined) break
    }
  }
  o.rest.push(...args.slice(i))
  if (o.root !== undefined) o.flags |= CONTAINER_NEW_EMPTY_FS_NS
  // as unshare --mount-proc: proc goes on a mount namespace of the container's own, never over the caller's /proc
  if (o.mountProc && (o.flags & (CONTAINER_NEW_FS_NS | CONTAINER_NEW_EMPTY_FS_NS)) === 0) o.flags |= CONTAINER_NEW_FS_NS
  return o
}

/** A wait status as the shell's $? reads it: the exit code, or 128 + the signal. */
const statusOf = (w: number): number => (WIFEXITED(w) ? WEXITSTATUS(w) : 128 + WTERMSIG(w))

/** Run one call; on failure print `container: <what> failed: <why>` and give back the error. */
const attempt = <A>(sys: Syscalls, what: string, e: Effect.Effect<A, SysError>): Effect.Effect<A | SysError> =>
  Effect.catch(e, (err) => Effect.as(Effect.ignore(writeAll(sys, 2, `container: ${what} failed: ${strerror(err)}\n`)), err))

const isError = (x: unknown): x is SysError => x instanceof Error

/**
 * Mount `source` (of type `fsType`) or proc in the container on `cfd`:
 * fsopen, FSCONFIG_SET_CONTAINER, the source, create, fsmount, then
 * move_mount onto the container's root (MOVE_MOUNT_T_CONTAINER_ROOT) or
 * onto `target` relative to that root.
 */
const mountInContainer = (sys: Syscalls, cfd: number, fsType: string, source: string | undefined, attrs: number, target: string): Effect.Effect<SysError | undefined> =>
  Effect.gen(function* () {
    const fs = yield* attempt(sys, `fsopen ${fsType}`, sys.call("fsopen", fsType, FSOPEN_CLOEXEC))
    if (isError(fs)) return fs
    const steps = Effect.gen(function* () {
      yield* sys.call("fsconfig", fs, FSCONFIG_SET_CONTAINER, null, null, cfd)
      if (source !== undefined) yield* sys.call("fsconfig", fs, FSCONFIG_SET_STRING, "source", source, 0)
      yield* sys.call("fsconfig", fs, FSCONFIG_CMD_CREATE, null, null, 0)
      const mnt = yield* sys.call("fsmount", fs, FSMOUNT_CLOEXEC, attrs)
      const moved = yield* Effect.result(
        target === "/"
          ? sys.call("move_mount", mnt, "", cfd, "/", MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_CONTAINER_ROOT)
          : sys.call("move_mount", mnt, "", cfd, target, MOVE_MOUNT_F_EMPTY_PATH)
      )
      yield* Effect.ignore(sys.call("close", mnt))
      if (moved._tag === "Failure") return yield* Effect.fail(moved.failure)
    })
    const r = yield* attempt(sys, `mount ${source ?? fsType} on ${target}`, steps)
    yield* Effect.ignore(sys.call("close", fs))
    return isError(r) ? r : undefined
  })

/** container_create with the options' flags, then the root and /proc mounts: the cfd, or the error after its message (the fd closed again). */
const createAndSetUp = (sys: Syscalls, name: string, o: Options, cloexec: boolean): Effect.Effect<number | SysError> =>
  Effect.gen(function* () {
    const flags = o.flags | (o.killOnClose ? CONTAINER_KILL_ON_CLOSE : 0) | (cloexec ? CONTAINER_FD_CLOEXEC : 0)
    const cfd = yield* attempt(sys, "container_create", sys.call("container_create", name, flags, 0, 0, 0))
    if (isError(cfd)) return cfd
    const failed =
      (o.root !== undefined ? yield* mountInContainer(sys, cfd, o.fsType, o.root, 0, "/") : undefined) ??
      (o.mountProc ? yield* mountInContainer(sys, cfd, "proc", undefined, MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC, "proc") : undefined)
    if (failed === undefined) return cfd
    yield* Effect.ignore(sys.call("close", cfd))
    return failed
  })

/** execvp() of `command` (default the shell), or "failed to execute" and 127/126 as util-linux's tools end. */
const execCommand = (sys: Syscalls, command: ReadonlyArray<string>): Effect.Effect<number, SysError> =>
  Effect.gen(function* () {
    const argv = command.length > 0 ? command : ["/bin/sh"]
    const failed = yield* execvp(sys, argv, [])
    yield* writeAll(sys, 2, `container: failed to execute ${argv[0]}: ${strerror(failed)}\n`)
    return failed.errno === "ENOENT" ? 127 : 126
  })

/** fork_into_container(cfd): the child closes its copy of `closeFd` (if any) and execs `command`. Its pid, or the error. */
const forkInto = (sys: Syscalls, cfd: number, command: ReadonlyArray<string>, closeFd: number | undefined): Effect.Effect<number | SysError> =>
  attempt(
    sys,
    "fork_into_container",
    sys.call("fork_into_container", cfd, (child: Process) =>
      Effect.gen(function* () {
        const csys = new Syscalls({ proc: child }, sys.tracer)
        if (closeFd !== undefined) yield* Effect.ignore(csys.call("close", closeFd))
        return yield* execCommand(csys, command)
      })
    )
  )

const usage = (sys: Syscalls, message: string): Effect.Effect<number> =>
  Effect.as(Effect.ignore(writeAll(sys, 2, `container: ${message}\nTry 'container --help' for more information.\n`)), 1)

/** container run: create, set up, fork the command in as init, wait for the container, reap, and end as init ended. */
const run = (sys: Syscalls, o: Options): Effect.Effect<number, SysError> =>
  Effect.gen(function* () {
    const [name, ...command] = o.rest
    if (name === undefined) return yield* usage(sys, "no container name specified")
    const cfd = yield* createAndSetUp(sys, name, o, true)
    if (isError(cfd)) return 1
    const pid = yield* forkInto(sys, cfd, command, undefined)
    if (isError(pid)) {
      yield* Effect.ignore(sys.call("close", cfd))
      return 1
    }
    const status: { value?: number } = {}
    const waited = yield* attempt(sys, "container_wait", sys.call("container_wait", cfd, status, 0, null))
    yield* Effect.ignore(sys.call("wait4", pid, null, 0, null))
    yield* Effect.ignore(sys.call("close", cfd))
    return isError(waited) ? 1 : statusOf(status.value ?? 0)
  })

/** container create: the container's fd on --fd, then the command runs in this process, outside the container. */
const create = (sys: Syscalls, o: Options): Effect.Effect<number, SysError> =>
  Effect.gen(function* () {
    const [name, ...command] = o.rest
    if (name === undefined) return yield* usage(sys, "no container name specified")
    const cfd = yield* createAndSetUp(sys, name, o, false)
    if (isError(cfd)) return 1
    if (cfd !== o.fd) {
      const moved = yield* attempt(sys, `dup2 to fd ${o.fd}`, sys.call("dup2", cfd, o.fd))
      yield* Effect.ignore(sys.call("close", cfd))
      if (isError(moved)) return 1
    }
    return yield* execCommand(sys, command)
  })

/** container exec: fork the command into the container on --fd, wait for it and end as it ended. */
const exec = (sys: Syscalls, o: Options): Effect.Effect<number, SysError> =>
  Effect.gen(function* () {
    if (o.rest.length === 0) return yield* usage(sys, "no command specified")
    const pid = yield* forkInto(sys, o.fd, o.rest, o.fd)
    if (isError(pid)) return 1
    const status: { value?: number } = {}
    yield* sys.call("wait4", pid, status, 0, null)
    return statusOf(status.value ?? 0)
  })

/** container wait: container_wait on --fd; ends as the container's init ended. */
const wait = (sys: Syscalls, o: Options): Effect.Effect<number, SysError> =>
  Effect.gen(function* () {
    if (o.rest.length > 0) return yield* usage(sys, `unexpected argument '${o.rest[0]!}'`)
    const status: { value?: number } = {}
    const r = yield* attempt(sys, "container_wait", sys.call("container_wait", o.fd, status, 0, null))
    return isError(r) ? 1 : statusOf(status.value ?? 0)
  })

/** container kill: container_kill(--fd, --init-only, SIGNAL), the signal by number or name (TERM, SIGTERM) as kill(1) takes it. */
const kill = (sys: Syscalls, o: Options): Effect.Effect<number, SysError> =>
  Effect.gen(function* () {
    const [arg, extra] = o.rest
    if (arg === undefined) return yield* usage(sys, "no signal specified")
    if (extra !== undefined) return yield* usage(sys, `unexpected argument '${extra}'`)
    const s = arg.replace(/^-/, "")
    const sig = /^\d+$/.test(s) ? Number(s) : signalNumber(s.toUpperCase().startsWith("SIG") ? s.toUpperCase() : `SIG${s.toUpperCase()}`)
    if (sig === undefined) {
      yield* writeAll(sys, 2, `container: unknown signal: ${arg}\n`)
      return 1
    }
    const r = yield* attempt(sys, "container_kill", sys.call("container_kill", o.fd, o.initOnly ? 1 : 0, sig))
    return isError(r) ? 1 : 0
  })

/** container list: /proc/containers as the kernel prints it (the caller's container, then its children). */
const list = (sys: Syscalls, o: Options): Effect.Effect<number, SysError> =>
  Effect.gen(function* () {
    if (o.rest.length > 0) return yield* usage(sys, `unexpected argument '${o.rest[0]!}'`)
    const text = yield* readFile(sys, "/proc/containers")
    if (text === undefined) {
      yield* writeAll(sys, 2, "container: cannot read /proc/containers\n")
      return 1
    }
    yield* writeAll(sys, 1, text)
    return 0
  })

const COMMANDS: Readonly<Record<string, (sys: Syscalls, o: Options) => Effect.Effect<number, SysError>>> = { run, create, exec, wait, kill, list }

export const container: Program = program((sys, argv) =>
  Effect.gen(function* () {
    const command = argv[1]
    if (command === "-h" || command === "--help") {
      yield* writeAll(sys, 1, USAGE)
      return 0
    }
    if (command === undefined) return yield* usage(sys, "no command specified")
    const body = COMMANDS[command]
    if (body === undefined) return yield* usage(sys, command.startsWith("-") ? `unrecognized option '${command}'` : `unknown command '${command}'`)
    const o = parseOptions(command, argv.slice(2))
    if (typeof o === "string") return yield* usage(sys, o)
    if (o.help) {
      yield* writeAll(sys, 1, USAGE)
      return 0
    }
    return yield* body(sys, o)
  })
)
