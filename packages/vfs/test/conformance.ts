/**
 * A small runner for the conformance scenario format (FORMAT.md), enough
 * for the calls this package implements (mount(2), the fd-based mount API,
 * the *at() calls, unshare/setns of mount and IPC namespaces, and the
 * observation calls): it replays a scenario's steps on a fresh
 * createScenarioWorld() and produces results in expected.json's shape,
 * plus the normalised mount table and the tree listing.
 */
import { readFileSync } from "node:fs"
import {
  AT_FDCWD,
  AT_SYMLINK_NOFOLLOW,
  CAP_SYS_ADMIN,
  CLONE_NEWIPC,
  CLONE_NEWNS,
  CLONE_NEWUSER,
  F_GETFD,
  FD_CLOEXEC,
  isSysError,
  parseFlags,
  type SysError
} from "@simkernel/abi"
import { commitCreds, nsCapable, procGidMapWrite, procSetgroupsWrite, procUidMapWrite, unshareUserns } from "@simkernel/cred"
import {
  chdir,
  close,
  copyMntNs,
  createScenarioWorld,
  devMajor,
  devMinor,
  doMount,
  fchdir,
  fstatat,
  fsconfig,
  fsmount,
  fsopen,
  fspick,
  installNsFd,
  ksysUmount,
  mkdev,
  mkdirat,
  mknodat,
  MountNamespace,
  mntnsInstallCheck,
  mntNsRootPath,
  type MountAttr,
  mountSetattr,
  moveMount,
  nsFromFile,
  openat,
  openTree,
  openTreeAttr,
  read,
  readlinkat,
  showMountinfo,
  symlinkat,
  unlinkat,
  type VfsWorld,
  write,
  fileTypeLetter,
  listDirectory,
  octalMode,
  sameFile,
  statfsSummary,
  statSummary,
  type StatSummary
} from "@simkernel/vfs"
import { assertNoLeaks } from "@simkernel/kref"
import { IpcNamespace } from "@simkernel/nsproxy"
import { Effect } from "effect"

export interface Step {
  readonly call: string
  readonly args: ReadonlyArray<unknown>
  readonly save?: string
}
export interface Scenario {
  readonly name: string
  readonly tags: ReadonlyArray<string>
  readonly steps: ReadonlyArray<Step>
}
export type StepResult = { call: string; ret?: unknown; errno?: string }
export interface NormMount {
  id: string
  parent: string | null
  mountpoint: string
  root: string
  fstype: string
  source: string
  options: string
  super: string
  sb: string
  propagation: string
}
export interface ScenarioResult {
  steps: Array<StepResult>
  mounts: Array<NormMount>
  tree: Record<string, string>
}

const FIXTURES = new URL("./fixtures/", import.meta.url).pathname
/** The project's corpus (conformance/ at the repository root). */
const CORPUS = new URL("../../../conformance/", import.meta.url).pathname
export const SHARED_SCENARIOS = `${CORPUS}shared/scenarios.json`
export const SHARED_EXPECTED = `${CORPUS}shared/expected.json`
export const CORPUS_VFS_SCENARIOS = `${CORPUS}vfs/scenarios.json`
export const CORPUS_VFS_EXPECTED = `${CORPUS}vfs/expected.json`
export const BLOCKLIST = `${CORPUS}blocklist`

/** The blocklist: scenario name to reason ("NAME  reason" lines, '#' comments). */
export const loadBlocklist = (file = BLOCKLIST): Map<string, string> => {
  const out = new Map<string, string>()
  for (const line of readFileSync(file, "utf8").split("\n")) {
    const t = line.trim()
    if (t === "" || t.startsWith("#")) continue
    const name = t.split(/\s/, 1)[0]!
    out.set(name, t.slice(name.length).trim())
  }
  return out
}
export const loadScenarios = (file: string): ReadonlyArray<Scenario> =>
  (JSON.parse(readFileSync(file, "utf8")) as { scenarios: Array<Scenario> }).scenarios
export const loadExpected = (file: string): Record<string, ScenarioResult> =>
  (JSON.parse(readFileSync(file, "utf8")) as { scenarios: Record<string, ScenarioResult> }).scenarios
/** This package's own scenarios, recorded on the same kernel with linux_probe.py run. */
export const VFS_SCENARIOS = `${FIXTURES}vfs-scenarios.json`
export const VFS_EXPECTED = `${FIXTURES}vfs-expected.json`

/** The calls this runner can replay. */
export const SUPPORTED = new Set([
  "mount", "umount2", "mkdirat", "openat", "mknodat", "unlinkat", "symlinkat", "close", "unshare", "setns",
  "fchdir", "chdir", "mountinfo", "listdir", "stat", "statfs", "read", "write", "nsfd", "cloexec", "same_file",
  "fsopen", "fsconfig", "fsmount", "fspick", "open_tree", "open_tree_attr", "move_mount", "mount_setattr", "fsmsg"
])

const unescapeMountinfo = (s: string): string => s.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8)))

/** Normalise a mountinfo text as FORMAT.md describes. */
export const normaliseMountinfo = (text: string): Array<NormMount> => {
  interface Raw {
    id: number
    parent: number
    dev: string
    root: string
    mp: string
    opts: string
    optional: Array<string>
    fstype: string
    source: string
    superOpts: string
  }
  const raws: Array<Raw> = []
  for (const line of text.split("\n")) {
    if (line === "") continue
    const f = line.split(" ")
    const dash = f.indexOf("-")
    raws.push({
      id: Number(f[0]),
      parent: Number(f[1]),
      dev: f[2]!,
      root: unescapeMountinfo(f[3]!),
      mp: unescapeMountinfo(f[4]!),
      opts: f[5]!,
      optional: f.slice(6, dash),
      fstype: f[dash + 1]!,
      source: unescapeMountinfo(f[dash + 2]!),
      superOpts: f[dash + 3]!
    })
  }
  const ids = new Set(raws.map((r) => r.id))
  const byParent = new Map<number, Array<Raw>>()
  const roots: Array<Raw> = []
  for (const r of raws) {
    if (!ids.has(r.parent) || r.parent === r.id) roots.push(r)
    else {
      const l = byParent.get(r.parent) ?? []
      l.push(r)
      byParent.set(r.parent, l)
    }
  }
  const cmp = (a: Raw, b: Raw): number =>
    a.mp < b.mp ? -1 : a.mp > b.mp ? 1 : a.fstype < b.fstype ? -1 : a.fstype > b.fstype ? 1 : a.source < b.source ? -1 : a.source > b.source ? 1 : a.root < b.root ? -1 : a.root > b.root ? 1 : 0
  const order: Array<Raw> = []
  const visit = (r: Raw): void => {
    order.push(r)
    for (const c of (byParent.get(r.id) ?? []).sort(cmp)) visit(c)
  }
  for (const r of roots.sort(cmp)) visit(r)
  const pos = new Map(order.map((r, i) => [r.id, i]))
  const sbs = new Map<string, string>()
  const groups = new Map<string, string>()
  const group = (n: string): string => {
    if (!groups.has(n)) groups.set(n, `g${groups.size + 1}`)
    return groups.get(n)!
  }
  return order.map((r, i) => {
    if (!sbs.has(r.dev)) sbs.set(r.dev, `sb${sbs.size}`)
    const prop = r.optional.map((o) => {
      const [k, v] = o.split(":")
      return v === undefined ? k! : `${k}:${group(v)}`
    })
    return {
      id: `m${i}`,
      parent: pos.has(r.parent) && r.parent !== r.id ? `m${pos.get(r.parent)}` : null,
      mountpoint: r.mp,
      root: r.root,
      fstype: r.fstype,
      source: r.source,
      options: r.opts,
      super: r.superOpts,
      sb: sbs.get(r.dev)!,
      propagation: prop.length === 0 ? "private" : prop.join(" ")
    }
  })
}

/** The runner's process: a world plus the saved names. */
export class Runner {
  readonly world: VfsWorld
  readonly vars = new Map<string, number>()

  constructor() {
    this.world = createScenarioWorld()
  }

  get task() {
    return this.world.task
  }

  fd(a: unknown): number {
    if (typeof a === "number") return a
    if (a === "AT_FDCWD") return AT_FDCWD
    if (typeof a === "string" && a.startsWith("$")) return this.vars.get(a.slice(1)) ?? -1
    return parseFlags(a as string) ?? -1
  }

  flags(a: unknown): number {
    if (typeof a === "number") return a
    return parseFlags(a as string) ?? 0
  }

  /** A u64 attr field: an integer or expression (so -1 is all ones). */
  u64(a: unknown): bigint {
    if (a === undefined || a === null) return 0n
    if (typeof a === "string" && a.startsWith("$")) return BigInt(this.fd(a))
    return BigInt.asUintN(64, BigInt(typeof a === "number" ? a : (parseFlags(a as string) ?? 0)))
  }

  /** The `attr` argument kind (FORMAT.md 1.4). */
  attr(a: unknown): MountAttr | null {
    if (a === null) return null
    const o = a as Record<string, unknown>
    return {
      attrSet: this.u64(o.attr_set),
      attrClr: this.u64(o.attr_clr),
      propagation: this.u64(o.propagation),
      usernsFd: this.u64(o.userns_fd),
      tail: new Uint8Array((o.tail as Array<number> | undefined) ?? [])
    }
  }

  listdir(dirfd: number, path: string): { names: Array<string> } | SysError {
    const names = listDirectory(this.task, dirfd, path)
    return isSysError(names) ? names : { names }
  }

  stat(dirfd: number, path: string, flags: number): StatSummary | SysError {
    return statSummary(this.task, dirfd, path, flags)
  }

  unshare(flags: number): SysError | undefined {
    const t = this.task
    if ((flags & CLONE_NEWUSER) !== 0) {
      const draft = Effect.runSync(Effect.result(unshareUserns(t.cred)))
      if (draft._tag === "Failure") return draft.failure
      commitCreds(t, draft.success)
      const ns = t.cred.userNs
      Effect.runSync(Effect.result(procSetgroupsWrite(ns, "deny", t.cred)))
      Effect.runSync(Effect.result(procUidMapWrite(ns, "0 0 1", t.cred)))
      Effect.runSync(Effect.result(procGidMapWrite(ns, "0 0 1", t.cred)))
    }
    if ((flags & CLONE_NEWIPC) !== 0) {
      const ipc = t.ipcNs.clone(t.cred.userNs)
      if (isSysError(ipc)) return ipc
      const old = t.ipcNs
      t.ipcNs = ipc
      old.put()
    }
    if ((flags & CLONE_NEWNS) !== 0) {
      if (!nsCapable(t.cred, t.cred.userNs, CAP_SYS_ADMIN)) return { errno: "EPERM" } as SysError
      const ns = copyMntNs(t.mntNs, t.cred.userNs, t.fs)
      if (isSysError(ns)) return ns
      const old = t.mntNs
      t.mntNs = ns
      old.put()
    }
    return undefined
  }

  setns(fd: number, nstype: number): SysError | undefined {
    const t = this.task
    const f = t.files.fdget(fd)
    if (f === undefined) return { errno: "EBADF" } as SysError
    const ns = nsFromFile(f)
    if (ns instanceof IpcNamespace && (nstype === 0 || nstype === CLONE_NEWIPC)) {
      ns.get()
      const old = t.ipcNs
      t.ipcNs = ns
      old.put()
      return undefined
    }
    if (!(ns instanceof MountNamespace) || (nstype !== 0 && nstype !== CLONE_NEWNS)) return { errno: "EINVAL" } as SysError
    const err = mntnsInstallCheck(t.cred, ns, t.fs.users)
    if (err !== undefined) return err
    const root = mntNsRootPath(ns)
    ns.get()
    const old = t.mntNs
    t.mntNs = ns
    t.fs.setPwd(root)
    t.fs.setRoot(root)
    old.put()
    return undefined
  }

  step(s: Step): StepResult {
    const r = this.exec(s)
    const res: StepResult = { call: s.call }
    if (r !== null && typeof r === "object" && "errno" in r) {
      res.errno = (r as SysError).errno
      if (s.save !== undefined) this.vars.set(s.save, -1)
    } else if (r !== null && typeof r === "object" && "fd" in r) {
      res.ret = "fd"
      if (s.save !== undefined) this.vars.set(s.save, (r as { fd: number }).fd)
    } else res.ret = r
    return res
  }

  private exec(s: Step): unknown {
    const a = s.args
    const t = this.task
    const str = (x: unknown): string | null => (x === null ? null : (x as string))
    const unit = (e: SysError | undefined): unknown => e ?? 0
    const fdRet = (x: number | SysError): unknown => (typeof x === "number" ? { fd: x } : x)
    switch (s.call) {
      case "mount":
        return unit(doMount(t, str(a[0]), a[1] as string, str(a[2]), this.flags(a[3]), str(a[4])))
      case "umount2":
        return unit(ksysUmount(t, a[0] as string, this.flags(a[1])))
      case "mkdirat":
        return unit(mkdirat(t, this.fd(a[0]), a[1] as string, this.flags(a[2])))
      case "openat":
        return fdRet(openat(t, this.fd(a[0]), a[1] as string, this.flags(a[2]), this.flags(a[3])))
      case "mknodat": {
        const d = a[3]
        const dev = Array.isArray(d) ? mkdev(d[0] as number, d[1] as number) : (d as number)
        return unit(mknodat(t, this.fd(a[0]), a[1] as string, this.flags(a[2]), dev))
      }
      case "unlinkat":
        return unit(unlinkat(t, this.fd(a[0]), a[1] as string, this.flags(a[2])))
      case "symlinkat":
        return unit(symlinkat(t, a[0] as string, this.fd(a[1]), a[2] as string))
      case "close":
        return unit(close(t, this.fd(a[0])))
      case "unshare":
        return unit(this.unshare(this.flags(a[0])))
      case "setns":
        return unit(this.setns(this.fd(a[0]), this.flags(a[1])))
      case "fchdir":
        return unit(fchdir(t, this.fd(a[0])))
      case "chdir":
        return unit(chdir(t, a[0] as string))
      case "mountinfo":
        return { mounts: this.mounts() }
      case "listdir":
        return this.listdir(this.fd(a[0]), a[1] as string)
      case "stat":
        return this.stat(this.fd(a[0]), a[1] as string, this.flags(a[2]))
      case "statfs":
        return statfsSummary(t, this.fd(a[0]), a[1] as string)
      case "fsopen":
        return fdRet(fsopen(t, str(a[0]), this.flags(a[1])))
      case "fsconfig":
        return fsconfig(t, this.fd(a[0]), this.flags(a[1]), str(a[2]), str(a[3]), this.fd(a[4]))
      case "fsmount":
        return fdRet(fsmount(t, this.fd(a[0]), this.flags(a[1]), this.flags(a[2])))
      case "fspick":
        return fdRet(fspick(t, this.fd(a[0]), str(a[1]), this.flags(a[2])))
      case "open_tree":
        return fdRet(openTree(t, this.fd(a[0]), str(a[1]), this.flags(a[2])))
      case "open_tree_attr":
        return fdRet(openTreeAttr(t, this.fd(a[0]), str(a[1]), this.flags(a[2]), this.attr(a[3]), this.flags(a[4])))
      case "move_mount":
        return moveMount(t, this.fd(a[0]), str(a[1]), this.fd(a[2]), str(a[3]), this.flags(a[4]))
      case "mount_setattr":
        return mountSetattr(t, this.fd(a[0]), str(a[1]), this.flags(a[2]), this.attr(a[3]), this.flags(a[4]))
      case "fsmsg":
      case "read": {
        const buf = new Uint8Array((a[1] as number | undefined) ?? 4096)
        const n = read(t, this.fd(a[0]), buf)
        return typeof n === "number" ? { data: new TextDecoder().decode(buf.subarray(0, n)) } : n
      }
      case "write": {
        const text = (a[1] as string).repeat((a[2] as number | undefined) ?? 1)
        return write(t, this.fd(a[0]), new TextEncoder().encode(text))
      }
      case "nsfd": {
        const ns = a[0] === "user" ? t.cred.userNs : a[0] === "ipc" ? t.ipcNs : a[0] === "mnt" ? t.mntNs : undefined
        if (ns === undefined) throw new Error(`unsupported namespace kind ${String(a[0])}`)
        return fdRet(installNsFd(this.world.vfs, t.files, ns, t.cred))
      }
      case "cloexec": {
        const r = t.files.fcntl(this.fd(a[0]), F_GETFD, 0)
        return typeof r === "number" ? { cloexec: (r & FD_CLOEXEC) !== 0 } : r
      }
      case "same_file": {
        const same = sameFile(t, this.fd(a[0]), a[1] as string, this.fd(a[2]), a[3] as string)
        return isSysError(same) ? same : { same }
      }
      default:
        throw new Error(`unsupported call ${s.call}`)
    }
  }

  mounts(): Array<NormMount> {
    return normaliseMountinfo(showMountinfo({ root: this.task.fs.root, ns: this.task.mntNs }))
  }

  /** The tree listing: every path under "/", following mounts, not symlinks. */
  tree(): Record<string, string> {
    const out: Record<string, string> = {}
    const walk = (path: string): void => {
      if (Object.keys(out).length >= 2000) return
      const st = fstatat(this.task, AT_FDCWD, path, AT_SYMLINK_NOFOLLOW)
      if (isSysError(st)) return
      const type = fileTypeLetter(st.mode) ?? "?"
      let desc = `${type} ${octalMode(st.mode)}`
      if (type === "f") desc += ` size=${st.size}`
      if (type === "c" || type === "b") desc += ` ${devMajor(st.rdev)}:${devMinor(st.rdev)}`
      if (type === "l") desc += ` -> ${readLink(this, path)}`
      out[path] = desc
      if (type !== "d") return
      const list = this.listdir(AT_FDCWD, path)
      if (isSysError(list)) return
      for (const n of list.names) walk(path === "/" ? `/${n}` : `${path}/${n}`)
    }
    walk("/")
    return out
  }

  destroy(): void {
    this.world.destroy()
  }
}

const readLink = (r: Runner, path: string): string => {
  const t = readlinkat(r.task, AT_FDCWD, path)
  return typeof t === "string" ? t : "?"
}

/** Replay a whole scenario on a fresh world; the world is destroyed afterwards. */
export const runScenario = (sc: Scenario): ScenarioResult => {
  const r = new Runner()
  try {
    const steps = sc.steps.map((s) => r.step(s))
    return { steps, mounts: r.mounts(), tree: r.tree() }
  } finally {
    r.destroy()
    assertNoLeaks(r.world.registry)
  }
}
