import {
  AT_FDCWD,
  CLONE_NEWNS,
  CLONE_NEWPID,
  CLONE_NEWUTS,
  FSCONFIG_CMD_CREATE,
  FSCONFIG_SET_STRING,
  FSOPEN_CLOEXEC,
  MOUNT_ATTR_RDONLY,
  MOVE_MOUNT_F_EMPTY_PATH,
  MS_BIND,
  MS_SHARED,
  SIGCHLD,
  type SysError,
  WEXITSTATUS
} from "@simkernel/abi"
import { nsfsName } from "@simkernel/nsproxy"
import type { Process, Program } from "@simkernel/sched"
import { showMountinfo } from "@simkernel/vfs"
import { Effect } from "effect"
import { parseMountinfo } from "./conformance/mountinfo.js"
import { boot, shutdown } from "./Kernel.js"
import { nsOf } from "./syscalls/ns.js"
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

const KINDS = ["mnt", "uts", "ipc", "pid", "net", "user", "cgroup", "time"] as const

/** lsns's view of some processes: NS TYPE PID COMMAND for each namespace, the first process seen in it. */
const lsns = (procs: ReadonlyArray<readonly [Process, string]>): string => {
  const seen = new Map<string, readonly [string, number, string]>()
  for (const [p, label] of procs) {
    for (const kind of KINDS) {
      const ns = nsOf(p.task, kind)
      if (ns === undefined) continue
      const name = nsfsName(ns)
      if (!seen.has(name)) seen.set(name, [kind, p.task.pid.nr, label])
    }
  }
  const rows = [...seen].map(([name, [kind, pid, label]]) => `${name.slice(name.indexOf("[") + 1, -1)} ${kind.padEnd(6)} ${String(pid).padStart(4)} ${label}`)
  return ["        NS TYPE    PID COMMAND", ...rows].join("\n")
}

/**
 * The default demo, as a program for PID 1: the fd-based mount API and
 * namespaces at work, each call traced as strace would print it.
 */
export const demoProgram =
  (out: (line: string) => void): Program =>
  (proc) =>
    Effect.gen(function* () {
      const trace: Array<string> = []
      const sys = new Syscalls({ proc }, (line) => trace.push(line))
      const enc = (s: string): Uint8Array => new TextEncoder().encode(s)
      const call = (name: string, ...args: ReadonlyArray<unknown>): Effect.Effect<number, SysError> => sys.call(name, ...args)

      // a mount namespace of our own, with a tmpfs made by the fd-based mount API
      yield* call("unshare", CLONE_NEWNS)
      yield* call("mkdirat", AT_FDCWD, "/mnt/data", 0o755)
      const fs = yield* call("fsopen", "tmpfs", FSOPEN_CLOEXEC)
      yield* call("fsconfig", fs, FSCONFIG_SET_STRING, "source", "data", 0)
      yield* call("fsconfig", fs, FSCONFIG_SET_STRING, "size", "16m", 0)
      yield* call("fsconfig", fs, FSCONFIG_CMD_CREATE, null, null, 0)
      const mnt = yield* call("fsmount", fs, 0, 0)
      yield* call("move_mount", mnt, "", AT_FDCWD, "/mnt/data", MOVE_MOUNT_F_EMPTY_PATH)
      yield* call("close", mnt)
      yield* call("close", fs)
      // the root disk, ext4 on /dev/sda3, the same way
      yield* call("mkdirat", AT_FDCWD, "/mnt/disk", 0o755)
      const disk = yield* call("fsopen", "ext4", FSOPEN_CLOEXEC)
      yield* call("fsconfig", disk, FSCONFIG_SET_STRING, "source", "/dev/sda3", 0)
      yield* call("fsconfig", disk, FSCONFIG_CMD_CREATE, null, null, 0)
      const diskMnt = yield* call("fsmount", disk, 0, MOUNT_ATTR_RDONLY)
      yield* call("move_mount", diskMnt, "", AT_FDCWD, "/mnt/disk", MOVE_MOUNT_F_EMPTY_PATH)
      yield* call("close", diskMnt)
      yield* call("close", disk)
      // share it, bind it, and watch a mount under one peer appear under the other
      yield* call("mount", null, "/mnt/data", null, MS_SHARED, null)
      yield* call("mkdirat", AT_FDCWD, "/mnt/view", 0o755)
      yield* call("mount", "/mnt/data", "/mnt/view", null, MS_BIND, null)
      yield* call("mkdirat", AT_FDCWD, "/mnt/data/cache", 0o755)
      yield* call("mount", "cache", "/mnt/data/cache", "ramfs", 0, null)
      // a child in new PID and UTS namespaces names its host and sees itself as PID 1
      const childNs: Array<readonly [Process, string]> = []
      const child = yield* proc.clone3({ flags: CLONE_NEWPID | CLONE_NEWUTS, exitSignal: SIGCHLD }, (c) =>
        Effect.gen(function* () {
          const csys = new Syscalls({ proc: c }, (line) => trace.push(line))
          yield* csys.call("sethostname", enc("demo"), 4)
          const pid = yield* csys.call("getpid")
          childNs.push([c, `demo-child (getpid() = ${pid}, hostname ${c.task.nsproxy!.uts.utsname.nodename})`])
          out(lsns([[proc, "init (the demo)"], ...childNs]))
          out("")
          return 0
        })
      )
      const status: { value?: number } = {}
      yield* call("wait4", child.pid, status, 0, null)

      const t = proc.task.vfsTask()
      out("== findmnt (PID 1's mount namespace)")
      out(findmntTree(showMountinfo({ root: t.fs.root, ns: t.mntNs })))
      out("")
      out(`== the child exited with status ${WEXITSTATUS(status.value ?? 0)}; ps:`)
      out(proc.task.kernel.ps())
      out("")
      out("== trace")
      for (const line of trace) out(line)
      return 0
    })

/** `simkernel` with no arguments: boot, run the demo as PID 1, shut down, and report the leak audit. */
export const runDemo = Effect.fnUntraced(function* (out: (line: string) => void) {
  out("== lsns (the demo and its child)")
  const kernel = yield* boot({ init: demoProgram(out) })
  yield* kernel.sched.waitInit()
  const report = yield* shutdown(kernel)
  out("")
  out(report.audit)
  return report
})
