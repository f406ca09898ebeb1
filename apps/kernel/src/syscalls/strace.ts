import {
  AT_FDCWD,
  constantValue,
  errnoName,
  formatFlags,
  KEYCTL_DESCRIBE,
  KEYCTL_GET_SECURITY,
  KEYCTL_READ,
  signalName,
  type SysError,
  strerror,
  WEXITSTATUS,
  WIFEXITED,
  WIFSIGNALED,
  WTERMSIG
} from "@simkernel/abi"
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

/** Constants by their Linux names, with their values (those abi defines). */
const named = (names: ReadonlyArray<string>): ReadonlyArray<readonly [string, number]> =>
  names.flatMap((n) => {
    const v = constantValue(n)
    return v === undefined ? [] : [[n, v] as const]
  })

/** strace's key_perms: possessor, user, group, other; VIEW to SETATTR in each. */
const KEY_PERMS = named(["POS", "USR", "GRP", "OTH"].flatMap((who) => ["VIEW", "READ", "WRITE", "SEARCH", "LINK", "SETATTR"].map((p) => `KEY_${who}_${p}`)))

/** A key permission mask as strace prints it: the bits by name, what is left in hex, 0 as 0. */
const formatKeyPerm = (v: number): string => {
  const parts: Array<string> = []
  let rest = v >>> 0
  for (const [n, b] of KEY_PERMS) {
    if ((rest & b) === b) {
      parts.push(n)
      rest = (rest & ~b) >>> 0
    }
  }
  if (rest === 0) return parts.length === 0 ? "0" : parts.join("|")
  return parts.length === 0 ? `0x${rest.toString(16)} /* KEY_??? */` : `${parts.join("|")}|0x${rest.toString(16)}`
}

/** KEYCTL_SET_REQKEY_KEYRING's values, by number. */
const REQKEY_DEFL: ReadonlyMap<number, string> = new Map(
  named(["NO_CHANGE", "DEFAULT", "THREAD_KEYRING", "PROCESS_KEYRING", "SESSION_KEYRING", "USER_KEYRING", "USER_SESSION_KEYRING", "GROUP_KEYRING", "REQUESTOR_KEYRING"].map((n) => `KEY_REQKEY_DEFL_${n}`)).map(([n, v]) => [v, n] as const)
)

/** KEYCTL_CAPABILITIES's two bytes, bit by bit. */
const KEY_CAPS0 = named(["CAPABILITIES", "PERSISTENT_KEYRINGS", "DIFFIE_HELLMAN", "PUBLIC_KEY", "BIG_KEY", "INVALIDATE", "RESTRICT_KEYRING", "MOVE"].map((n) => `KEYCTL_CAPS0_${n}`))
const KEY_CAPS1 = named(["NS_KEYRING_NAME", "NS_KEY_TAG", "NOTIFICATIONS"].map((n) => `KEYCTL_CAPS1_${n}`))

const capsNames = (table: ReadonlyArray<readonly [string, number]>, v: number): string => {
  const parts = table.filter(([, b]) => (v & b) !== 0).map(([n]) => n)
  const rest = table.reduce((r, [, b]) => r & ~b, v)
  if (rest !== 0) parts.push(`0x${rest.toString(16)}`)
  return parts.length === 0 ? "0" : parts.join("|")
}

/** The seed's ACE subject types. */
const KEY_ACE_SUBJECTS: Readonly<Record<number, string>> = Object.fromEntries(
  named(["KEY_ACE_SUBJ_STANDARD", "KEY_ACE_SUBJ_CONTAINER", "KEY_ACE_SUBJ_CONTAINER_NAME"]).map(([n, v]) => [v, n])
)

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
    case "key_perm":
      return typeof v === "number" ? formatKeyPerm(v) : String(v)
    case "reqkey_defl":
      return typeof v === "number" ? (REQKEY_DEFL.get(v) ?? `${v} /* KEY_REQKEY_DEFL_??? */`) : String(v)
    case "errno":
      return typeof v === "number" ? (errnoName(v) ?? String(v)) : String(v)
    case "key_caps":
      // the bytes the kernel fills: CAPS0 then CAPS1
      return v instanceof Uint8Array ? `[${[capsNames(KEY_CAPS0, v[0] ?? 0), capsNames(KEY_CAPS1, v[1] ?? 0)].slice(0, Math.min(2, v.length)).join(", ")}]` : String(v)
    case "key_ace_subj":
      return typeof v === "number" ? (KEY_ACE_SUBJECTS[v] ?? String(v)) : String(v)
    default:
      return String(v)
  }
}

/**
 * keyctl's output buffers as strace shows them after the call: what the
 * kernel wrote (up to the length it returned or the buffer's size), a
 * description or security label as the string without its NUL.
 */
const keyctlFilled = (args: ReadonlyArray<unknown>, result: number | SysError): ReadonlyArray<unknown> => {
  const buf = args[2]
  if (typeof result !== "number" || !(buf instanceof Uint8Array)) return args
  const cmd = args[0]
  if (cmd !== KEYCTL_READ && cmd !== KEYCTL_DESCRIBE && cmd !== KEYCTL_GET_SECURITY) return args
  const n = Math.min(result, buf.length)
  const shown = cmd === KEYCTL_READ ? buf.subarray(0, n) : buf.subarray(0, n > 0 && buf[n - 1] === 0 ? n - 1 : n)
  return [args[0], args[1], shown, ...args.slice(3)]
}

/**
 * One line of an strace-style trace: `[pid 3] fsopen("tmpfs", FSOPEN_CLOEXEC) = 4`,
 * or `= -1 EINVAL (Invalid argument)` for an error. A call without a known
 * signature prints its arguments as plain values.
 */
export const formatSyscall = (pid: number, name: string, args: ReadonlyArray<unknown>, result: number | SysError): string => {
  const sig = SIGNATURES[name]
  const layout = sig?.byCommand?.(args) ?? sig?.args
  const count = sig?.shown?.(args) ?? (layout === undefined ? args.length : Math.min(args.length, layout.length))
  // a read's buffer holds only what the call returned
  const filled =
    (name === "read" || name === "pread64") && typeof result === "number" && args[1] instanceof Uint8Array
      ? [args[0], args[1].subarray(0, result), ...args.slice(2)]
      : name === "keyctl"
        ? keyctlFilled(args, result)
        : args
  const shown = filled.slice(0, count).map((a, i) => {
    const kind = layout?.[i]?.[1]
    return kind === undefined ? formatStruct(a) : formatArg(kind, a)
  })
  const ret = typeof result === "number" ? String(result) : `-1 ${result.errno} (${strerror(result.errno)})`
  return `[pid ${pid}] ${name}(${shown.join(", ")}) = ${ret}`
}
