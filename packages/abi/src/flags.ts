/**
 * strace-style formatting of flag words and enums, and the reverse: the
 * conformance scenarios' flag expressions ("A|B|0x10|0755").
 *
 * Flag words can be 64-bit (clone3 flags, struct mount_attr fields), so all
 * bit work here is BigInt: JavaScript's | and & truncate to 32 bits.
 */
import * as C from "./constants/index.js"

type Constants = typeof C

/** Names of every exported numeric constant. */
export type ConstantName = { [K in keyof Constants]: Constants[K] extends number ? K : never }[keyof Constants]

/**
 * How a kind prints:
 * - `bits`: known bits by name in table order, unknown rest in hex, zero as "0";
 * - `enum`: the name of the exact value, else the value in decimal;
 * - `open`: the access mode first (O_RDONLY for 0), then `bits`;
 * - `mode`: file type, set-id bits, then the permissions in octal (`S_IFDIR|0755`);
 * - `ms`: `bits` after taking off MS_MGC_VAL when the top 16 bits hold it;
 * - `sock_type`: the socket type in the low 4 bits, then `bits`.
 */
export type FlagStyle = "bits" | "enum" | "open" | "mode" | "ms" | "sock_type"

export interface FlagKind {
  readonly style: FlagStyle
  /** [name, value] in print order; a multi-bit entry prints only when all its bits are set. */
  readonly table: ReadonlyArray<readonly [name: ConstantName, value: number]>
}

const entries = (...names: ReadonlyArray<ConstantName>): FlagKind["table"] => names.map((n) => [n, C[n]] as const)
const bitsKind = (...names: ReadonlyArray<ConstantName>): FlagKind => ({ style: "bits", table: entries(...names) })
const enumKind = (...names: ReadonlyArray<ConstantName>): FlagKind => ({ style: "enum", table: entries(...names) })

const AT_PATH_FLAGS = ["AT_SYMLINK_NOFOLLOW", "AT_NO_AUTOMOUNT", "AT_EMPTY_PATH", "AT_RECURSIVE"] as const

export const FLAG_KINDS = {
  // strace's order: O_SYNC before O_DSYNC and O_TMPFILE before O_DIRECTORY, so the wider one wins.
  open: {
    style: "open",
    table: entries(
      "O_CREAT",
      "O_EXCL",
      "O_NOCTTY",
      "O_TRUNC",
      "O_APPEND",
      "O_NONBLOCK",
      "O_SYNC",
      "O_DSYNC",
      "O_DIRECT",
      "O_LARGEFILE",
      "O_NOFOLLOW",
      "O_NOATIME",
      "O_CLOEXEC",
      "O_PATH",
      "O_TMPFILE",
      "O_DIRECTORY",
      "FASYNC"
    )
  },
  at: bitsKind(
    "AT_SYMLINK_NOFOLLOW",
    "AT_REMOVEDIR",
    "AT_SYMLINK_FOLLOW",
    "AT_NO_AUTOMOUNT",
    "AT_EMPTY_PATH",
    "AT_STATX_FORCE_SYNC",
    "AT_STATX_DONT_SYNC",
    "AT_RECURSIVE"
  ),
  resolve: bitsKind(
    "RESOLVE_NO_XDEV",
    "RESOLVE_NO_MAGICLINKS",
    "RESOLVE_NO_SYMLINKS",
    "RESOLVE_BENEATH",
    "RESOLVE_IN_ROOT",
    "RESOLVE_CACHED"
  ),
  mode: {
    style: "mode",
    table: entries("S_IFSOCK", "S_IFLNK", "S_IFREG", "S_IFBLK", "S_IFDIR", "S_IFCHR", "S_IFIFO", "S_ISUID", "S_ISGID", "S_ISVTX")
  },
  ms: {
    style: "ms",
    table: entries(
      "MS_RDONLY",
      "MS_NOSUID",
      "MS_NODEV",
      "MS_NOEXEC",
      "MS_SYNCHRONOUS",
      "MS_REMOUNT",
      "MS_MANDLOCK",
      "MS_DIRSYNC",
      "MS_NOSYMFOLLOW",
      "MS_NOATIME",
      "MS_NODIRATIME",
      "MS_BIND",
      "MS_MOVE",
      "MS_REC",
      "MS_SILENT",
      "MS_POSIXACL",
      "MS_UNBINDABLE",
      "MS_PRIVATE",
      "MS_SLAVE",
      "MS_SHARED",
      "MS_RELATIME",
      "MS_KERNMOUNT",
      "MS_I_VERSION",
      "MS_STRICTATIME",
      "MS_LAZYTIME",
      "MS_SUBMOUNT",
      "MS_NOREMOTELOCK",
      "MS_NOSEC",
      "MS_BORN",
      "MS_ACTIVE",
      "MS_NOUSER"
    )
  },
  umount: bitsKind("MNT_FORCE", "MNT_DETACH", "MNT_EXPIRE", "UMOUNT_NOFOLLOW"),
  fsopen: bitsKind("FSOPEN_CLOEXEC"),
  fsconfig_cmd: enumKind(
    "FSCONFIG_SET_FLAG",
    "FSCONFIG_SET_STRING",
    "FSCONFIG_SET_BINARY",
    "FSCONFIG_SET_PATH",
    "FSCONFIG_SET_PATH_EMPTY",
    "FSCONFIG_SET_FD",
    "FSCONFIG_CMD_CREATE",
    "FSCONFIG_CMD_RECONFIGURE",
    "FSCONFIG_CMD_CREATE_EXCL",
    "FSCONFIG_SET_CONTAINER"
  ),
  fsmount: bitsKind("FSMOUNT_CLOEXEC"),
  fspick: bitsKind("FSPICK_CLOEXEC", "FSPICK_SYMLINK_NOFOLLOW", "FSPICK_NO_AUTOMOUNT", "FSPICK_EMPTY_PATH"),
  open_tree: bitsKind("OPEN_TREE_CLONE", "OPEN_TREE_CLOEXEC", ...AT_PATH_FLAGS),
  move_mount: bitsKind(
    "MOVE_MOUNT_F_SYMLINKS",
    "MOVE_MOUNT_F_AUTOMOUNTS",
    "MOVE_MOUNT_F_EMPTY_PATH",
    "MOVE_MOUNT_T_SYMLINKS",
    "MOVE_MOUNT_T_AUTOMOUNTS",
    "MOVE_MOUNT_T_EMPTY_PATH",
    "MOVE_MOUNT_T_CONTAINER_ROOT",
    "MOVE_MOUNT_SET_GROUP",
    "MOVE_MOUNT_BENEATH"
  ),
  // RELATIME is 0 and _ATIME a field mask: neither is a bit to print.
  mount_attr: bitsKind(
    "MOUNT_ATTR_RDONLY",
    "MOUNT_ATTR_NOSUID",
    "MOUNT_ATTR_NODEV",
    "MOUNT_ATTR_NOEXEC",
    "MOUNT_ATTR_NOATIME",
    "MOUNT_ATTR_STRICTATIME",
    "MOUNT_ATTR_NODIRATIME",
    "MOUNT_ATTR_IDMAP",
    "MOUNT_ATTR_NOSYMFOLLOW"
  ),
  clone: bitsKind(
    "CLONE_NEWTIME",
    "CLONE_VM",
    "CLONE_FS",
    "CLONE_FILES",
    "CLONE_SIGHAND",
    "CLONE_PIDFD",
    "CLONE_PTRACE",
    "CLONE_VFORK",
    "CLONE_PARENT",
    "CLONE_THREAD",
    "CLONE_NEWNS",
    "CLONE_SYSVSEM",
    "CLONE_SETTLS",
    "CLONE_PARENT_SETTID",
    "CLONE_CHILD_CLEARTID",
    "CLONE_DETACHED",
    "CLONE_UNTRACED",
    "CLONE_CHILD_SETTID",
    "CLONE_NEWCGROUP",
    "CLONE_NEWUTS",
    "CLONE_NEWIPC",
    "CLONE_NEWUSER",
    "CLONE_NEWPID",
    "CLONE_NEWNET",
    "CLONE_IO",
    "CLONE_CLEAR_SIGHAND",
    "CLONE_INTO_CGROUP"
  ),
  signal: enumKind(...(C.SIGNAL_NAMES.slice(1) as ReadonlyArray<ConstantName>), "SIGRTMIN", "SIGRTMAX"),
  sa: bitsKind(
    "SA_NOCLDSTOP",
    "SA_NOCLDWAIT",
    "SA_SIGINFO",
    "SA_UNSUPPORTED",
    "SA_EXPOSE_TAGBITS",
    "SA_RESTORER",
    "SA_ONSTACK",
    "SA_RESTART",
    "SA_NODEFER",
    "SA_RESETHAND"
  ),
  wait: bitsKind("WNOHANG", "WUNTRACED", "WEXITED", "WCONTINUED", "WNOWAIT", "__WNOTHREAD", "__WALL", "__WCLONE"),
  idtype: enumKind("P_ALL", "P_PID", "P_PGID", "P_PIDFD"),
  pidfd: bitsKind("PIDFD_NONBLOCK", "PIDFD_THREAD"),
  cap: enumKind(...C.CAP_NAMES),
  securebits: bitsKind(
    "SECBIT_NOROOT",
    "SECBIT_NOROOT_LOCKED",
    "SECBIT_NO_SETUID_FIXUP",
    "SECBIT_NO_SETUID_FIXUP_LOCKED",
    "SECBIT_KEEP_CAPS",
    "SECBIT_KEEP_CAPS_LOCKED",
    "SECBIT_NO_CAP_AMBIENT_RAISE",
    "SECBIT_NO_CAP_AMBIENT_RAISE_LOCKED"
  ),
  container: bitsKind(
    "CONTAINER_NEW_FS_NS",
    "CONTAINER_NEW_EMPTY_FS_NS",
    "CONTAINER_NEW_CGROUP_NS",
    "CONTAINER_NEW_UTS_NS",
    "CONTAINER_NEW_IPC_NS",
    "CONTAINER_NEW_USER_NS",
    "CONTAINER_NEW_PID_NS",
    "CONTAINER_NEW_NET_NS",
    "CONTAINER_KILL_ON_CLOSE",
    "CONTAINER_FD_CLOEXEC"
  ),
  keyctl: enumKind(
    "KEYCTL_GET_KEYRING_ID",
    "KEYCTL_JOIN_SESSION_KEYRING",
    "KEYCTL_UPDATE",
    "KEYCTL_REVOKE",
    "KEYCTL_CHOWN",
    "KEYCTL_SETPERM",
    "KEYCTL_DESCRIBE",
    "KEYCTL_CLEAR",
    "KEYCTL_LINK",
    "KEYCTL_UNLINK",
    "KEYCTL_SEARCH",
    "KEYCTL_READ",
    "KEYCTL_INSTANTIATE",
    "KEYCTL_NEGATE",
    "KEYCTL_SET_REQKEY_KEYRING",
    "KEYCTL_SET_TIMEOUT",
    "KEYCTL_ASSUME_AUTHORITY",
    "KEYCTL_GET_SECURITY",
    "KEYCTL_SESSION_TO_PARENT",
    "KEYCTL_REJECT",
    "KEYCTL_INSTANTIATE_IOV",
    "KEYCTL_INVALIDATE",
    "KEYCTL_GET_PERSISTENT",
    "KEYCTL_DH_COMPUTE",
    "KEYCTL_PKEY_QUERY",
    "KEYCTL_PKEY_ENCRYPT",
    "KEYCTL_PKEY_DECRYPT",
    "KEYCTL_PKEY_SIGN",
    "KEYCTL_PKEY_VERIFY",
    "KEYCTL_RESTRICT_KEYRING",
    "KEYCTL_MOVE",
    "KEYCTL_CAPABILITIES",
    "KEYCTL_WATCH_KEY",
    "KEYCTL_CONTAINER_INTERCEPT",
    "KEYCTL_QUERY_REQUEST_KEY_AUTH",
    "KEYCTL_FIND_LRU",
    "KEYCTL_SET_CONTAINER_KEYRING",
    "KEYCTL_GRANT_PERMISSION"
  ),
  key_spec: enumKind(
    "KEY_SPEC_THREAD_KEYRING",
    "KEY_SPEC_PROCESS_KEYRING",
    "KEY_SPEC_SESSION_KEYRING",
    "KEY_SPEC_USER_KEYRING",
    "KEY_SPEC_USER_SESSION_KEYRING",
    "KEY_SPEC_GROUP_KEYRING",
    "KEY_SPEC_REQKEY_AUTH_KEY",
    "KEY_SPEC_REQUESTOR_KEYRING"
  ),
  key_ace: bitsKind(
    "KEY_ACE_VIEW",
    "KEY_ACE_READ",
    "KEY_ACE_WRITE",
    "KEY_ACE_SEARCH",
    "KEY_ACE_LINK",
    "KEY_ACE_SET_SECURITY",
    "KEY_ACE_INVAL",
    "KEY_ACE_REVOKE",
    "KEY_ACE_JOIN",
    "KEY_ACE_CLEAR"
  ),
  prctl: enumKind(
    "PR_SET_PDEATHSIG",
    "PR_GET_PDEATHSIG",
    "PR_GET_KEEPCAPS",
    "PR_SET_KEEPCAPS",
    "PR_SET_NAME",
    "PR_GET_NAME",
    "PR_CAPBSET_READ",
    "PR_CAPBSET_DROP",
    "PR_GET_SECUREBITS",
    "PR_SET_SECUREBITS",
    "PR_SET_CHILD_SUBREAPER",
    "PR_GET_CHILD_SUBREAPER",
    "PR_SET_NO_NEW_PRIVS",
    "PR_GET_NO_NEW_PRIVS",
    "PR_CAP_AMBIENT"
  ),
  poll: bitsKind(
    "POLLIN",
    "POLLPRI",
    "POLLOUT",
    "POLLERR",
    "POLLHUP",
    "POLLNVAL",
    "POLLRDNORM",
    "POLLRDBAND",
    "POLLWRNORM",
    "POLLWRBAND",
    "POLLMSG",
    "POLLREMOVE",
    "POLLRDHUP"
  ),
  rename: bitsKind("RENAME_NOREPLACE", "RENAME_EXCHANGE", "RENAME_WHITEOUT"),
  // The two composites first, so a full mask prints as one name (as strace does).
  statx_mask: bitsKind(
    "STATX_ALL",
    "STATX_BASIC_STATS",
    "STATX_TYPE",
    "STATX_MODE",
    "STATX_NLINK",
    "STATX_UID",
    "STATX_GID",
    "STATX_ATIME",
    "STATX_MTIME",
    "STATX_CTIME",
    "STATX_INO",
    "STATX_SIZE",
    "STATX_BLOCKS",
    "STATX_BTIME",
    "STATX_MNT_ID",
    "STATX_DIOALIGN",
    "STATX_MNT_ID_UNIQUE",
    "STATX_SUBVOL",
    "STATX_WRITE_ATOMIC",
    "STATX_DIO_READ_ALIGN",
    "STATX__RESERVED"
  ),
  st: bitsKind(
    "ST_RDONLY",
    "ST_NOSUID",
    "ST_NODEV",
    "ST_NOEXEC",
    "ST_SYNCHRONOUS",
    "ST_VALID",
    "ST_MANDLOCK",
    "ST_NOATIME",
    "ST_NODIRATIME",
    "ST_RELATIME",
    "ST_NOSYMFOLLOW"
  ),
  // The type table; SOCK_CLOEXEC and SOCK_NONBLOCK are the bits above it.
  sock_type: {
    style: "sock_type",
    table: entries("SOCK_STREAM", "SOCK_DGRAM", "SOCK_RAW", "SOCK_RDM", "SOCK_SEQPACKET", "SOCK_PACKET")
  },
  af: enumKind("AF_UNSPEC", "AF_UNIX", "AF_INET", "AF_INET6", "AF_NETLINK", "AF_PACKET"),
  seek: enumKind("SEEK_SET", "SEEK_CUR", "SEEK_END", "SEEK_DATA", "SEEK_HOLE"),
  fcntl_cmd: enumKind(
    "F_DUPFD",
    "F_GETFD",
    "F_SETFD",
    "F_GETFL",
    "F_SETFL",
    "F_GETLK",
    "F_SETLK",
    "F_SETLKW",
    "F_SETOWN",
    "F_GETOWN",
    "F_SETSIG",
    "F_GETSIG",
    "F_SETOWN_EX",
    "F_GETOWN_EX",
    "F_OFD_GETLK",
    "F_OFD_SETLK",
    "F_OFD_SETLKW",
    "F_SETLEASE",
    "F_GETLEASE",
    "F_NOTIFY",
    "F_CANCELLK",
    "F_DUPFD_CLOEXEC",
    "F_SETPIPE_SZ",
    "F_GETPIPE_SZ",
    "F_ADD_SEALS",
    "F_GET_SEALS"
  )
} as const satisfies Record<string, FlagKind>

export type FlagKindName = keyof typeof FLAG_KINDS

interface Compiled {
  readonly style: FlagStyle
  readonly bits: ReadonlyArray<readonly [string, bigint]>
  readonly names: ReadonlyMap<bigint, string>
}

const compile = (kind: FlagKind): Compiled => {
  const names = new Map<bigint, string>()
  for (const [name, value] of kind.table) if (!names.has(BigInt(value))) names.set(BigInt(value), name)
  return { style: kind.style, bits: kind.table.map(([n, v]) => [n, BigInt(v)] as const), names }
}

const COMPILED = new Map<string, Compiled>(
  Object.entries(FLAG_KINDS).map(([name, kind]): [string, Compiled] => [name, compile(kind)])
)

const ACCMODE = ["O_RDONLY", "O_WRONLY", "O_RDWR", "O_ACCMODE"] as const
const SOCK_FLAGS = [
  ["SOCK_CLOEXEC", BigInt(C.SOCK_CLOEXEC)],
  ["SOCK_NONBLOCK", BigInt(C.SOCK_NONBLOCK)]
] as const
const S_IFMT = BigInt(C.S_IFMT)
const MGC_VAL = BigInt(C.MS_MGC_VAL)
const MGC_MSK = BigInt(C.MS_MGC_MSK)
const MODE_MAX = 0o177777n

/** Names of the bits of `v` found in `table`, then the rest in hex. */
const bitNames = (table: ReadonlyArray<readonly [string, bigint]>, v: bigint): Array<string> => {
  const parts: Array<string> = []
  let rest = v
  for (const [name, b] of table) {
    if (b !== 0n && (rest & b) === b) {
      parts.push(name)
      rest &= ~b
    }
  }
  if (rest !== 0n) parts.push(`0x${rest.toString(16)}`)
  return parts
}

const joined = (parts: Array<string>): string => (parts.length === 0 ? "0" : parts.join("|"))

/** strace's "%#03o": a leading 0, at least three digits. */
const octal = (v: bigint): string => `0${v.toString(8)}`.padStart(3, "0")

const formatMode = (k: Compiled, v: bigint): string => {
  if (v > MODE_MAX) return octal(v)
  const type = v & S_IFMT
  const parts: Array<string> = []
  if (type !== 0n) {
    const name = k.names.get(type)
    if (name === undefined) return octal(v)
    parts.push(name)
  }
  // Table entries past the file types are the single set-id/sticky bits.
  for (const [name, b] of k.bits) if ((b & S_IFMT) === 0n && (v & b) !== 0n) parts.push(name)
  parts.push(octal(v & 0o777n))
  return parts.join("|")
}

const format = (k: Compiled, v: bigint): string => {
  switch (k.style) {
    case "bits":
      return joined(bitNames(k.bits, v))
    case "open":
      return [ACCMODE[Number(v & 3n)], ...bitNames(k.bits, v & ~3n)].join("|")
    case "ms":
      return (v & MGC_MSK) === MGC_VAL
        ? ["MS_MGC_VAL", ...bitNames(k.bits, v - MGC_VAL)].join("|")
        : joined(bitNames(k.bits, v))
    case "sock_type": {
      const type = k.names.get(v & 0xfn)
      return type === undefined ? joined(bitNames(SOCK_FLAGS, v)) : [type, ...bitNames(SOCK_FLAGS, v & ~0xfn)].join("|")
    }
    case "mode":
      return formatMode(k, v)
    case "enum":
      return k.names.get(v) ?? v.toString()
  }
}

/**
 * Formats `value` as strace would print it for `kind`. Flag words are taken
 * as unsigned 64-bit (so -1 is all bits set); enums print negatives in
 * decimal. Never throws: a non-integer comes back as String(value).
 */
export const formatFlags = (kind: FlagKindName, value: number | bigint): string => {
  const k = COMPILED.get(kind)
  if (k === undefined || (typeof value === "number" && !Number.isInteger(value))) return String(value)
  const v = BigInt(value)
  return format(k, k.style === "enum" ? v : BigInt.asUintN(64, v))
}

const CONSTANTS: ReadonlyMap<string, number> = new Map(
  Object.entries(C).filter((e): e is [string, number] => typeof e[1] === "number")
)

/** The value of any exported constant, by its Linux name. */
export const constantValue = (name: string): number | undefined => CONSTANTS.get(name)

const NUMBER = /^(-?)(0[xX][0-9a-fA-F]+|0[oO][0-7]+|0[0-7]*|[1-9][0-9]*)$/

const tokenValue = (token: string): bigint | undefined => {
  const m = NUMBER.exec(token)
  if (m === null) {
    const c = CONSTANTS.get(token)
    return c === undefined ? undefined : BigInt(c)
  }
  const [, sign = "", digits = ""] = m
  // "0755" is octal as in C; BigInt() needs the 0o prefix for that.
  const magnitude = /^0[0-7]+$/.test(digits) ? BigInt(`0o${digits.slice(1)}`) : BigInt(digits)
  return sign === "-" ? -magnitude : magnitude
}

const MAX = BigInt(Number.MAX_SAFE_INTEGER)

/**
 * Parses a flag expression as the conformance scenarios write it: constant
 * names, `0x` hex, `0o` or leading-0 octal and decimal, OR-ed with `|`
 * (whitespace around tokens allowed). A lone value may be negative (`-1`,
 * `AT_FDCWD`) and passes as is; a negative term inside an OR does not.
 * Returns undefined for an unknown name, a malformed token, or a result
 * beyond 2^53.
 */
export const parseFlags = (expr: string | number): number | undefined => {
  if (typeof expr === "number") return Number.isSafeInteger(expr) ? expr : undefined
  const values = expr.split("|").map((token) => tokenValue(token.trim()))
  if (values.length === 1) {
    const v = values[0]
    return v !== undefined && v >= -MAX && v <= MAX ? Number(v) : undefined
  }
  let acc = 0n
  for (const v of values) {
    if (v === undefined || v < 0n) return undefined
    acc |= v
  }
  return acc <= MAX ? Number(acc) : undefined
}
