import {
  AF_NETLINK,
  AF_UNIX,
  CONTAINER_FD_CLOEXEC,
  CONTAINER_KILL_ON_CLOSE,
  CONTAINER_NEW_EMPTY_FS_NS,
  CONTAINER_NEW_IPC_NS,
  CONTAINER_NEW_NET_NS,
  CONTAINER_NEW_PID_NS,
  CONTAINER_NEW_UTS_NS,
  FSCONFIG_CMD_CREATE,
  FSCONFIG_SET_CONTAINER,
  FSCONFIG_SET_FLAG,
  FSCONFIG_SET_STRING,
  FSMOUNT_CLOEXEC,
  FSOPEN_CLOEXEC,
  MOUNT_ATTR_NODEV,
  MOUNT_ATTR_NOEXEC,
  MOUNT_ATTR_NOSUID,
  MOVE_MOUNT_F_EMPTY_PATH,
  MOVE_MOUNT_T_CONTAINER_ROOT,
  NETLINK_ROUTE,
  O_CLOEXEC,
  O_CREAT,
  O_RDONLY,
  O_TRUNC,
  O_WRONLY,
  S_IFCHR,
  SOCK_CLOEXEC,
  SOCK_RAW,
  SOCK_STREAM,
  type SysError
} from "@simkernel/abi"
import {
  decodeLinkMessage,
  linkFlagsText,
  NLM_F_DUMP,
  nlmsgParse,
  operstateName,
  RTM_GETLINK,
  RTM_NEWLINK,
  rtnlRequest,
  type Socket
} from "@simkernel/net"
import type { Process, Program, Task } from "@simkernel/sched"
import { mkdev } from "@simkernel/vfs"
import { Effect } from "effect"
import { parseMountinfo } from "./conformance/mountinfo.js"
import { boot, onConsole, shutdown } from "./Kernel.js"
import { formatSyscall } from "./syscalls/strace.js"
import { Syscalls } from "./syscalls/table.js"

/** One row of findmnt: a mount and the mounts under it. */
export interface FindmntNode {
  readonly target: string
  readonly source: string
  readonly fstype: string
  readonly options: string
  readonly children: ReadonlyArray<FindmntNode>
}

/**
 * The mount tree findmnt shows, from mountinfo text: a bind mount's source
 * as `source[root]`, the options the mount's plus its superblock's.
 */
export const findmntForest = (mountinfo: string): ReadonlyArray<FindmntNode> => {
  const entries = parseMountinfo(mountinfo)
  const ids = new Set(entries.map((e) => e.mountId))
  const under = (parent: number | undefined): Array<FindmntNode> =>
    entries
      .filter((x) => (parent === undefined ? !ids.has(x.parentId) || x.parentId === x.mountId : x.parentId === parent && x.mountId !== parent))
      .map((e) => ({
        target: e.mountpoint,
        source: e.root === "/" ? e.source : `${e.source}[${e.root}]`,
        fstype: e.fstype,
        options: [e.options, ...e.superOptions.split(",").filter((o) => o !== "rw" && o !== "ro")].join(","),
        children: under(e.mountId)
      }))
  return under(undefined)
}

/** findmnt's default table: TARGET (drawn as a tree), SOURCE, FSTYPE, OPTIONS. */
export const findmntTree = (mountinfo: string): string => {
  const rows: Array<readonly [string, string, string, string]> = []
  const walk = (nodes: ReadonlyArray<FindmntNode>, indent: string | undefined): void => {
    nodes.forEach((n, i) => {
      const last = i === nodes.length - 1
      rows.push([indent === undefined ? n.target : `${indent}${last ? "└─" : "├─"}${n.target}`, n.source, n.fstype, n.options])
      walk(n.children, indent === undefined ? "" : `${indent}${last ? "  " : "│ "}`)
    })
  }
  walk(findmntForest(mountinfo), undefined)
  const head = ["TARGET", "SOURCE", "FSTYPE", "OPTIONS"] as const
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)))
  const line = (r: ReadonlyArray<string>): string => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]!))).join(" ")
  return [line(head), ...rows.map(line)].join("\n")
}


/** The walkthrough's container: the namespaces it gets of its own, and its fd's flags (the seed's sample, plus uts, ipc and net). */
export const DEMO_CONTAINER_FLAGS =
  CONTAINER_NEW_EMPTY_FS_NS | CONTAINER_NEW_UTS_NS | CONTAINER_NEW_IPC_NS | CONTAINER_NEW_PID_NS | CONTAINER_NEW_NET_NS | CONTAINER_KILL_ON_CLOSE | CONTAINER_FD_CLOEXEC

/** What the container's init runs (written into the container as /etc/rc): it waits for the supervisor to close its stdin, then looks around. */
const INIT_SCRIPT = ["cat >/dev/null", ...["hostname fred", "hostname", "ps -ef", "findmnt", "cat /proc/containers"].flatMap((c) => [`echo 'fred# ${c}'`, c])]
  .map((line) => `${line}\n`)
  .join("")

/** Run each command line (words split at spaces) from /bin in a child of PID 1, outside the container, after a `host# ` prompt; reap it. */
const onHost = (sys: Syscalls, out: (line: string) => void, commands: ReadonlyArray<string>): Effect.Effect<void, SysError> =>
  Effect.forEach(
    commands,
    (command) =>
      Effect.gen(function* () {
        out(`host# ${command}`)
        const argv = command.split(" ")
        const pid = yield* sys.call("fork", (c: Process) => Effect.as(Effect.ignore(new Syscalls({ proc: c }).call("execve", `/bin/${argv[0]!}`, argv, [])), 127))
        yield* sys.call("wait4", pid, {}, 0, null)
      }),
    { discard: true }
  )

/**
 * `ip link` over a NETLINK_ROUTE socket: an RTM_GETLINK dump, one line per
 * interface. The kernel app has no sendmsg/recvmsg calls yet, so this talks
 * to the socket behind the fd directly.
 */
const ipLink = (task: Task, fd: number): Array<string> => {
  const sock = task.vfsTask().files.fdget(fd)?.privateData as Socket | undefined
  if (sock === undefined) return []
  const lines: Array<string> = []
  sock.sendmsg(rtnlRequest(RTM_GETLINK, NLM_F_DUMP, 1, { ifinfo: {} }))
  for (let r = sock.recvmsg(65536); "data" in r; r = sock.recvmsg(65536)) {
    for (const msg of nlmsgParse(r.data)) {
      const link = msg.type === RTM_NEWLINK ? decodeLinkMessage(msg) : undefined
      if (link !== undefined) lines.push(`${link.index}: ${link.name}: ${linkFlagsText(link.flags, false)} mtu ${link.mtu} state ${operstateName(link.operstate ?? 0)}`)
    }
  }
  return lines
}

/**
 * The default demo, as a program for PID 1: the seed's walkthrough
 * (Howells' samples/vfs/test-container.c and the cover letter's steps),
 * each call of PID 1 and of the container's init up to its execve traced
 * as strace prints it, the programs' output in between.
 */
export const demoProgram =
  (out: (line: string) => void): Program =>
  (proc) =>
    Effect.gen(function* () {
      const sys = new Syscalls({ proc }, out)
      const call = (name: string, ...args: ReadonlyArray<unknown>): Effect.Effect<number, SysError> => sys.call(name, ...args)
      const enc = (s: string): Uint8Array => new TextEncoder().encode(s)

      out("== container_create(): a container object with namespaces of its own, its fd closed on exec")
      const cfd = yield* call("container_create", "fred", DEMO_CONTAINER_FLAGS, 0, 0, 0)
      yield* onHost(sys, out, ["cat /proc/containers"])

      out("")
      out("== its root: ext4 on /dev/sda3, a superblock made for the container, moved in as the root of its empty mount namespace")
      const fs = yield* call("fsopen", "ext4", FSOPEN_CLOEXEC)
      yield* call("fsconfig", fs, FSCONFIG_SET_CONTAINER, null, null, cfd)
      yield* call("fsconfig", fs, FSCONFIG_SET_STRING, "source", "/dev/sda3", 0)
      yield* call("fsconfig", fs, FSCONFIG_SET_FLAG, "user_xattr", null, 0)
      yield* call("fsconfig", fs, FSCONFIG_CMD_CREATE, null, null, 0)
      const mfd = yield* call("fsmount", fs, FSMOUNT_CLOEXEC, 0)
      yield* call("move_mount", mfd, "", cfd, "/", MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_CONTAINER_ROOT)
      yield* call("close", mfd)
      yield* call("close", fs)

      out("")
      out("== proc for the container's PID namespace, mounted on proc relative to its root")
      const pfs = yield* call("fsopen", "proc", FSOPEN_CLOEXEC)
      yield* call("fsconfig", pfs, FSCONFIG_SET_CONTAINER, null, null, cfd)
      yield* call("fsconfig", pfs, FSCONFIG_CMD_CREATE, null, null, 0)
      const pmfd = yield* call("fsmount", pfs, FSMOUNT_CLOEXEC, MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC)
      yield* call("move_mount", pmfd, "", cfd, "proc", MOVE_MOUNT_F_EMPTY_PATH)
      yield* call("close", pmfd)
      yield* call("close", pfs)

      out("")
      out("== files and devices through the container fd as a dirfd (relative paths start at its root; an absolute one is EINVAL)")
      yield* call("mkdirat", cfd, "run", 0o755)
      yield* call("mknodat", cfd, "dev/random", S_IFCHR | 0o666, mkdev(1, 8))
      const hn = yield* call("openat", cfd, "etc/hostname", O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
      yield* call("write", hn, enc("fred\n"), 5)
      yield* call("close", hn)
      const rc = yield* call("openat", cfd, "etc/rc", O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o755)
      yield* call("write", rc, enc(INIT_SCRIPT), INIT_SCRIPT.length)
      yield* call("close", rc)
      yield* Effect.ignore(call("openat", cfd, "/etc/hostname", O_RDONLY | O_CLOEXEC))

      out("")
      out("== sockets in the container's network namespace: rtnetlink lists its interfaces from outside")
      const nl = yield* call("container_socket", cfd, AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE)
      for (const line of ipLink(proc.task, nl)) out(line)
      yield* call("close", nl)
      const unix = yield* call("container_socket", cfd, AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)
      yield* call("close", unix)

      out("")
      out("== fork_into_container(): the first process in becomes the container's init, PID 1 of its PID namespace")
      const gate: Array<number> = []
      yield* call("pipe2", gate, O_CLOEXEC)
      const [gateR, gateW] = gate as [number, number]
      const init = yield* call("fork_into_container", cfd, (child: Process) =>
        Effect.gen(function* () {
          const csys = new Syscalls({ proc: child }, out)
          yield* csys.call("dup2", gateR, 0)
          // a successful execve does not return: report it from the exec hook, as strace does
          const kernel = child.task.kernel
          const hook = (t: Task, path: string, argv: ReadonlyArray<string>, envp: ReadonlyArray<string>): void => {
            if (t !== child.task) return
            out(formatSyscall(t.pid.nr, "execve", [path, argv, envp], 0))
            kernel.execHooks.delete(hook)
          }
          kernel.execHooks.add(hook)
          yield* Effect.ignore(csys.call("execve", "/bin/sh", ["sh", "/etc/rc"], []))
          kernel.execHooks.delete(hook)
          return 127
        })
      )
      yield* call("close", gateR)

      out("")
      out("== the host's view while init waits on its gate: its namespaces are ordinary ones")
      yield* onHost(sys, out, ["lsns", "ps -ef"])

      out("")
      out("== open the gate; init looks around inside and exits; container_wait() collects its status")
      yield* call("close", gateW)
      const status: { value?: number } = {}
      yield* call("container_wait", cfd, status, 0, null)
      yield* call("wait4", init, {}, 0, null)
      yield* onHost(sys, out, ["cat /proc/containers"])

      out("")
      out("== closing the last fd frees the container; the host's mounts never saw the container's")
      yield* call("close", cfd)
      yield* onHost(sys, out, ["cat /proc/containers", "findmnt"])
      return 0
    })

/** `simkernel` with no arguments: boot, run the walkthrough as PID 1 (its output on the console), shut down, and report the leak audit. */
export const runDemo = Effect.fnUntraced(function* (out: (line: string) => void) {
  const dec = new TextDecoder()
  let partial = ""
  // console output comes in writes, trace lines whole: keep a line that is not finished yet until it is
  const fromConsole = (bytes: Uint8Array): void => {
    const lines = (partial + dec.decode(bytes, { stream: true })).split("\n")
    partial = lines.pop()!
    for (const line of lines) out(line)
  }
  const say = (line: string): void => {
    if (partial !== "") {
      out(partial)
      partial = ""
    }
    out(line)
  }
  const kernel = yield* boot({ init: onConsole(demoProgram(say)), console: fromConsole })
  yield* kernel.sched.waitInit()
  const report = yield* shutdown(kernel)
  if (partial !== "") out(partial)
  out("")
  out(report.audit)
  return report
})
