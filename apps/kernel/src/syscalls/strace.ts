import { AT_FDCWD, formatFlags, signalName, type SysError, strerror, WEXITSTATUS, WIFEXITED, WIFSIGNALED, WTERMSIG } from "@simkernel/abi"
import { type ArgKind, SIGNATURES } from "./signatures.js"

/** strace's default string limit (-s 32): longer strings end in "...". */
const STRING_LIMIT = 32

const escapeByte = (c: number): string => {
  switch (c) {
    case 0x22:
      return '\\"'
    case 0x5c:
      return "\\\\"
    case 0x0a:
      return "\\n"
    case 0x09:
      return "\\t"
    case 0x0d:
      return "\\r"
    case 0x0c:
      return "\\f"
    case 0x0b:
      return "\\v"
    default:
      return c >= 0x20 && c < 0x7f ? String.fromCharCode(c) : `\\${c.toString(8)}`
  }
}

const encoder = new TextEncoder()

/** A C string as strace prints it: quoted, escaped, cut after `limit` bytes with "...". */
export const quoteString = (s: string | Uint8Array, limit = STRING_LIMIT): string => {
  const bytes = typeof s === "string" ? encoder.encode(s) : s
  let out = '"'
  const n = Math.min(bytes.length, limit)
  for (let i = 0; i < n; i++) out += escapeByte(bytes[i]!)
  return bytes.length > limit ? `${out}"...` : `${out}"`
}

const formatStruct = (v: unknown): string => {
  if (v === null || v === undefined) return "NULL"
  if (typeof v !== "object") return String(v)
  if (Array.isArray(v)) return `[${v.map(formatStruct).join(", ")}]`
  return `{${Object.entries(v)
    .map(([k, x]) => `${k}=${typeof x === "string" ? x : formatStruct(x)}`)
    .join(", ")}}`
}

/** One argument as strace prints it. */
export const formatArg = (kind: ArgKind, v: unknown): string => {
  if (v === null || v === undefined) return kind === "int" || kind === "fd" ? "0" : "NULL"
  if (typeof kind === "object") return typeof v === "number" || typeof v === "bigint" ? formatFlags(kind.flags, v) : String(v)
  switch (kind) {
    case "dirfd":
      return v === AT_FDCWD ? "AT_FDCWD" : String(v)
    case "str":
    case "buf":
      return typeof v === "string" || v instanceof Uint8Array ? quoteString(v) : String(v)
    case "perm":
      // printf("%#03o"): a leading 0 on non-zero values, at least three digits
      return typeof v === "number" ? (v === 0 ? "000" : `0${(v >>> 0).toString(8)}`.padStart(3, "0")) : String(v)
    case "dev":
      if (Array.isArray(v)) return `makedev(0x${Number(v[0]).toString(16)}, 0x${Number(v[1]).toString(16)})`
      return typeof v === "number" ? `makedev(0x${(Math.floor(v / 256) & 0xfff).toString(16)}, 0x${(v & 0xff).toString(16)})` : String(v)
    case "struct":
      return formatStruct(v)
    case "argv":
      return Array.isArray(v) ? `[${v.map((a) => (typeof a === "string" ? quoteString(a) : String(a))).join(", ")}]` : String(v)
    case "envp":
      return Array.isArray(v) ? `/* ${v.length} var${v.length === 1 ? "" : "s"} */` : String(v)
    case "mount_attr": {
      if (typeof v !== "object") return String(v)
      const a = v as { attrSet?: number | bigint; attrClr?: number | bigint; propagation?: number | bigint; usernsFd?: number | bigint }
      const flags = (kind: "mount_attr" | "ms", x: number | bigint | undefined): string => (x === undefined || x === 0 || x === 0n ? "0" : formatFlags(kind, x))
      return `{attr_set=${flags("mount_attr", a.attrSet)}, attr_clr=${flags("mount_attr", a.attrClr)}, propagation=${flags("ms", a.propagation)}, userns_fd=${String(a.usernsFd ?? 0)}}`
    }
    case "oflags":
      return typeof v === "number" && v !== 0 ? formatFlags("open", v).replace(/^O_RDONLY\|/, "") : String(v)
    case "wstatus": {
      const w = typeof v === "object" && v !== null ? (v as { value?: number }).value : undefined
      if (w === undefined) return "NULL"
      if (WIFEXITED(w)) return `[{WIFEXITED(s) && WEXITSTATUS(s) == ${WEXITSTATUS(w)}}]`
      if (WIFSIGNALED(w)) return `[{WIFSIGNALED(s) && WTERMSIG(s) == ${signalName(WTERMSIG(w)) ?? WTERMSIG(w)}}]`
      return `[${w}]`
    }
    default:
      return String(v)
  }
}

/**
 * One line of an strace-style trace: `[pid 3] fsopen("tmpfs", FSOPEN_CLOEXEC) = 4`,
 * or `= -1 EINVAL (Invalid argument)` for an error. A call without a known
 * signature prints its arguments as plain values.
 */
export const formatSyscall = (pid: number, name: string, args: ReadonlyArray<unknown>, result: number | SysError): string => {
  const sig = SIGNATURES[name]
  const count = sig?.shown?.(args) ?? (sig === undefined ? args.length : Math.min(args.length, sig.args.length))
  // a read's buffer holds only what the call returned
  const filled = (name === "read" || name === "pread64") && typeof result === "number" && args[1] instanceof Uint8Array ? [args[0], args[1].subarray(0, result), ...args.slice(2)] : args
  const shown = filled.slice(0, count).map((a, i) => {
    const kind = sig?.args[i]?.[1]
    return kind === undefined ? formatStruct(a) : formatArg(kind, a)
  })
  const ret = typeof result === "number" ? String(result) : `-1 ${result.errno} (${strerror(result.errno)})`
  return `[pid ${pid}] ${name}(${shown.join(", ")}) = ${ret}`
}
