import { AT_FDCWD, parseFlags } from "@simkernel/abi"
import type { Arg } from "./format.js"

/** How a scenario writes one argument (conformance/FORMAT.md, "Argument encodings"). */
export type ArgEncoding = "fd" | "str" | "flags" | "value" | "aux" | "dev" | "attr" | "text" | "kind" | "signal" | "patterns" | "gids"

/** The argument encodings of each call, in Linux's argument order. */
export const CALLS: Readonly<Record<string, ReadonlyArray<ArgEncoding>>> = {
  fsopen: ["str", "flags"],
  fsconfig: ["fd", "flags", "str", "value", "aux"],
  fsmount: ["fd", "flags", "flags"],
  fspick: ["fd", "str", "flags"],
  open_tree: ["fd", "str", "flags"],
  open_tree_attr: ["fd", "str", "flags", "attr", "flags"],
  move_mount: ["fd", "str", "fd", "str", "flags"],
  mount_setattr: ["fd", "str", "flags", "attr", "flags"],
  mount: ["str", "str", "str", "flags", "str"],
  umount2: ["str", "flags"],
  mkdirat: ["fd", "str", "flags"],
  openat: ["fd", "str", "flags", "flags"],
  mknodat: ["fd", "str", "flags", "dev"],
  unlinkat: ["fd", "str", "flags"],
  symlinkat: ["str", "fd", "str"],
  close: ["fd"],
  unshare: ["flags"],
  setns: ["fd", "flags"],
  fchdir: ["fd"],
  chdir: ["str"],
  chroot: ["str"],
  setresuid: ["flags", "flags", "flags"],
  setresgid: ["flags", "flags", "flags"],
  setgroups: ["flags", "gids"],
  // observation calls
  mountinfo: [],
  listdir: ["fd", "str"],
  stat: ["fd", "str", "flags"],
  statfs: ["fd", "str"],
  read: ["fd", "flags"],
  fsmsg: ["fd", "flags"],
  write: ["fd", "text", "flags"],
  nsfd: ["kind"],
  cloexec: ["fd"],
  same_file: ["fd", "str", "fd", "str"],
  poll: ["fd"],
  read_file: ["fd", "str", "kind", "patterns"],
  readlink: ["fd", "str"],
  // process steps
  fork: [],
  waitpid: ["flags", "flags"],
  kill: ["flags", "signal"],
  getpid: [],
  getppid: [],
  pause: [],
  exit: ["flags"],
  prctl: ["flags", "flags"],
  signal_ignore: ["signal"],
  signal_default: ["signal"],
  signal_catch: ["signal"],
  // the seed's calls (Linux lacks them)
  container_create: ["str", "flags", "flags", "flags", "flags"],
  fork_into_container: ["fd"],
  container_wait: ["fd", "flags"],
  container_kill: ["fd", "flags", "signal"],
  container_socket: ["fd", "flags", "flags", "flags"],
  // a simkernel addition of section 8 (a real Linux call): sethostname(name, len)
  sethostname: ["str", "flags"]
}

/** struct mount_attr as a step describes it, plus explicit bytes past the 32-byte struct. */
export interface MountAttrArg {
  readonly attrSet: number
  readonly attrClr: number
  readonly propagation: number
  readonly usernsFd: number
  readonly tail: ReadonlyArray<number>
}

export type Decoded = number | string | null | MountAttrArg | readonly [number, number] | ReadonlyArray<string> | Gids

/** setgroups' list: the gids as a JSON array of integers. */
export interface Gids {
  readonly gids: ReadonlyArray<number>
}

export class ArgError {
  readonly _tag = "ArgError"
  constructor(readonly message: string) {}
}

/** The names a scenario saved so far ("$fd" → 5), shared with a forked child as a copy. */
export type Saved = Map<string, number>

const expr = (v: Arg, saved: Saved, what: string): number | ArgError => {
  if (typeof v === "number") return v
  if (typeof v !== "string") return new ArgError(`${what}: expected a number or a flag expression, got ${JSON.stringify(v)}`)
  if (v.startsWith("$")) {
    const n = saved.get(v.slice(1))
    return n === undefined ? new ArgError(`${what}: ${v} was never saved`) : n
  }
  const n = parseFlags(v)
  return n === undefined ? new ArgError(`${what}: cannot parse ${JSON.stringify(v)}`) : n
}

const fd = (v: Arg, saved: Saved, what: string): number | ArgError =>
  v === "AT_FDCWD" ? AT_FDCWD : typeof v === "number" || (typeof v === "string" && v.startsWith("$")) ? expr(v, saved, what) : new ArgError(`${what}: bad fd ${JSON.stringify(v)}`)

const attr = (v: Arg, saved: Saved, what: string): MountAttrArg | null | ArgError => {
  if (v === null) return null
  if (typeof v !== "object" || Array.isArray(v)) return new ArgError(`${what}: struct mount_attr must be an object`)
  const o = v as Record<string, Arg>
  const field = (k: string): number | ArgError => (o[k] === undefined ? 0 : expr(o[k]!, saved, `${what}.${k}`))
  const attrSet = field("attr_set")
  const attrClr = field("attr_clr")
  const propagation = field("propagation")
  // userns_fd is a u64 field: a saved fd, or any number expression (0x80000000 tests the INT_MAX check)
  const usernsFd = o.userns_fd === undefined ? 0 : expr(o.userns_fd, saved, `${what}.userns_fd`)
  for (const x of [attrSet, attrClr, propagation, usernsFd]) if (x instanceof ArgError) return x
  const tail = o.tail === undefined ? [] : o.tail
  if (!Array.isArray(tail) || !tail.every((b) => typeof b === "number")) return new ArgError(`${what}.tail: bytes expected`)
  return { attrSet: attrSet as number, attrClr: attrClr as number, propagation: propagation as number, usernsFd: usernsFd as number, tail }
}

/** Decode one argument by its encoding. */
export const decodeArg = (enc: ArgEncoding, v: Arg | undefined, saved: Saved, what: string): Decoded | ArgError => {
  if (v === undefined) return new ArgError(`${what}: missing`)
  switch (enc) {
    case "fd":
    case "aux":
      return fd(v, saved, what)
    case "str":
    case "value":
    case "text":
    case "kind":
      return v === null || typeof v === "string" ? v : new ArgError(`${what}: expected a string or null`)
    case "flags":
      return expr(v, saved, what)
    case "signal":
      return typeof v === "number" ? v : expr(v, saved, what)
    case "dev":
      if (typeof v === "number") return [Math.floor(v / 256) % 4096, v % 256] as const
      return Array.isArray(v) && v.length === 2 && v.every((x) => typeof x === "number")
        ? ([v[0] as number, v[1] as number] as const)
        : new ArgError(`${what}: expected [major, minor] or a number`)
    case "attr":
      return attr(v, saved, what)
    case "gids":
      return Array.isArray(v) && v.every((g) => typeof g === "number") ? { gids: v as ReadonlyArray<number> } : new ArgError(`${what}: expected a list of gids`)
    case "patterns":
      return v === null || (Array.isArray(v) && v.every((p) => typeof p === "string")) ? (v as ReadonlyArray<string> | null) : new ArgError(`${what}: expected a list of patterns or null`)
  }
}

/** Decode a step's arguments; optional trailing ones (read's n, write's repeat) may be left out. */
export const decodeArgs = (call: string, args: ReadonlyArray<Arg>, saved: Saved): Array<Decoded> | ArgError => {
  const encodings = CALLS[call]
  if (encodings === undefined) return new ArgError(`unknown call ${call}`)
  if (args.length > encodings.length) return new ArgError(`${call}: ${args.length} arguments, at most ${encodings.length}`)
  const out: Array<Decoded> = []
  for (let i = 0; i < args.length; i++) {
    const d = decodeArg(encodings[i]!, args[i], saved, `${call} argument ${i + 1}`)
    if (d instanceof ArgError) return d
    out.push(d)
  }
  return out
}
