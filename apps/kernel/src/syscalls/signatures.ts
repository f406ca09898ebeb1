import { type FlagKindName, O_CREAT, __O_TMPFILE } from "@simkernel/abi"
import {
  KEY_ACE_SUBJ_CONTAINER,
  KEY_ACE_SUBJ_CONTAINER_NAME,
  KEYCTL_ASSUME_AUTHORITY,
  KEYCTL_CAPABILITIES,
  KEYCTL_CHOWN,
  KEYCTL_CLEAR,
  KEYCTL_CONTAINER_INTERCEPT,
  KEYCTL_DESCRIBE,
  KEYCTL_FIND_LRU,
  KEYCTL_GET_KEYRING_ID,
  KEYCTL_GET_PERSISTENT,
  KEYCTL_GET_SECURITY,
  KEYCTL_GRANT_PERMISSION,
  KEYCTL_INSTANTIATE,
  KEYCTL_INSTANTIATE_IOV,
  KEYCTL_INVALIDATE,
  KEYCTL_JOIN_SESSION_KEYRING,
  KEYCTL_LINK,
  KEYCTL_MOVE,
  KEYCTL_NEGATE,
  KEYCTL_QUERY_REQUEST_KEY_AUTH,
  KEYCTL_READ,
  KEYCTL_REJECT,
  KEYCTL_RESTRICT_KEYRING,
  KEYCTL_REVOKE,
  KEYCTL_SEARCH,
  KEYCTL_SESSION_TO_PARENT,
  KEYCTL_SET_CONTAINER_KEYRING,
  KEYCTL_SET_REQKEY_KEYRING,
  KEYCTL_SET_TIMEOUT,
  KEYCTL_SETPERM,
  KEYCTL_UNLINK,
  KEYCTL_UPDATE,
  KEYCTL_WATCH_KEY
} from "@simkernel/abi"

/**
 * How one argument of a syscall reads and prints: the shared vocabulary of
 * the strace-style tracer and the conformance runner's argument decoding.
 */
export type ArgKind =
  /** A file descriptor. */
  | "fd"
  /** A dirfd of an *at() call: -100 prints as AT_FDCWD. */
  | "dirfd"
  /** A NUL-terminated string (null is NULL). */
  | "str"
  /** A data buffer (printed quoted, at most 32 bytes as strace does). */
  | "buf"
  /** A plain integer. */
  | "int"
  /** File permission bits, printed in octal (0755). */
  | "perm"
  /** A device number, printed makedev(0xMAJ, 0xMIN). */
  | "dev"
  /** A struct or pointer, printed as {field=value, ...} or NULL. */
  | "struct"
  /** struct mount_attr, its fields by their flag names as strace prints them. */
  | "mount_attr"
  /** execve's argv: the strings, quoted. */
  | "argv"
  /** execve's envp: only how many variables, as strace shows it without -v (simkernel has no address to show). */
  | "envp"
  /** Flags of pipe2/dup3 (O_CLOEXEC, O_NONBLOCK): 0 prints as 0, not O_RDONLY. */
  | "oflags"
  /** wait4's status out: [{WIFEXITED(s) && WEXITSTATUS(s) == 0}]. */
  | "wstatus"
  /** A key permission mask (KEY_POS_VIEW|KEY_USR_VIEW...), as strace's key_perms. */
  | "key_perm"
  /** KEYCTL_SET_REQKEY_KEYRING's KEY_REQKEY_DEFL_* value. */
  | "reqkey_defl"
  /** An errno value, by name (KEYCTL_REJECT's error). */
  | "errno"
  /** KEYCTL_CAPABILITIES's buffer: the KEYCTL_CAPS0_* and KEYCTL_CAPS1_* bytes. */
  | "key_caps"
  /** KEYCTL_GRANT_PERMISSION's subject type (KEY_ACE_SUBJ_*). */
  | "key_ace_subj"
  /** A flag word, printed with formatFlags(kind). */
  | { readonly flags: FlagKindName }

export interface SyscallSignature {
  readonly args: ReadonlyArray<readonly [name: string, kind: ArgKind]>
  /** What a success returns: a new fd, a pid, or a plain number. */
  readonly ret: "fd" | "pid" | "int"
  /** How many arguments strace shows, when that depends on the others (openat's mode only with O_CREAT or O_TMPFILE). */
  readonly shown?: (args: ReadonlyArray<unknown>) => number
  /** The arguments as one command lays them out (keyctl's), when strace decodes that command; else `args`. */
  readonly byCommand?: (args: ReadonlyArray<unknown>) => ReadonlyArray<readonly [name: string, kind: ArgKind]> | undefined
}

const f = (kind: FlagKindName): ArgKind => ({ flags: kind })

type ArgList = ReadonlyArray<readonly [name: string, kind: ArgKind]>

/** A key serial or KEY_SPEC_* id, as strace's print_keyring_serial_number(). */
const KEY: readonly [string, ArgKind] = ["key", f("key_spec")]

/** keyctl(2)'s arguments after the command, per command, as strace's keyctl decoder (and the seed's commands) shows them. */
const KEYCTL_ARGS: ReadonlyMap<number, ArgList> = new Map<number, ArgList>([
  [KEYCTL_GET_KEYRING_ID, [KEY, ["create", "int"]]],
  [KEYCTL_JOIN_SESSION_KEYRING, [["name", "str"]]],
  [KEYCTL_UPDATE, [KEY, ["payload", "buf"], ["plen", "int"]]],
  [KEYCTL_REVOKE, [KEY]],
  [KEYCTL_CHOWN, [KEY, ["uid", "int"], ["gid", "int"]]],
  [KEYCTL_SETPERM, [KEY, ["perm", "key_perm"]]],
  [KEYCTL_DESCRIBE, [KEY, ["buffer", "buf"], ["buflen", "int"]]],
  [KEYCTL_CLEAR, [KEY]],
  [KEYCTL_LINK, [KEY, ["keyring", f("key_spec")]]],
  [KEYCTL_UNLINK, [KEY, ["keyring", f("key_spec")]]],
  [KEYCTL_SEARCH, [["keyring", f("key_spec")], ["type", "str"], ["description", "str"], ["dest_keyring", f("key_spec")]]],
  [KEYCTL_READ, [KEY, ["buffer", "buf"], ["buflen", "int"]]],
  [KEYCTL_INSTANTIATE, [KEY, ["payload", "buf"], ["plen", "int"], ["keyring", f("key_spec")]]],
  [KEYCTL_NEGATE, [KEY, ["timeout", "int"], ["keyring", f("key_spec")]]],
  [KEYCTL_SET_REQKEY_KEYRING, [["reqkey_defl", "reqkey_defl"]]],
  [KEYCTL_SET_TIMEOUT, [KEY, ["timeout", "int"]]],
  [KEYCTL_ASSUME_AUTHORITY, [KEY]],
  [KEYCTL_GET_SECURITY, [KEY, ["buffer", "buf"], ["buflen", "int"]]],
  [KEYCTL_SESSION_TO_PARENT, []],
  [KEYCTL_REJECT, [KEY, ["timeout", "int"], ["error", "errno"], ["keyring", f("key_spec")]]],
  [KEYCTL_INSTANTIATE_IOV, [KEY, ["payload_iov", "struct"], ["ioc", "int"], ["keyring", f("key_spec")]]],
  [KEYCTL_INVALIDATE, [KEY]],
  [KEYCTL_GET_PERSISTENT, [["uid", "int"], ["keyring", f("key_spec")]]],
  [KEYCTL_RESTRICT_KEYRING, [["keyring", f("key_spec")], ["type", "str"], ["restriction", "str"]]],
  [KEYCTL_MOVE, [KEY, ["from_keyring", f("key_spec")], ["to_keyring", f("key_spec")], ["flags", "int"]]],
  [KEYCTL_CAPABILITIES, [["buffer", "key_caps"], ["buflen", "int"]]],
  [KEYCTL_WATCH_KEY, [KEY, ["watch_queue_fd", "fd"], ["watch_id", "int"]]],
  [KEYCTL_CONTAINER_INTERCEPT, [["cfd", "fd"], ["type", "str"], ["ns_id", "int"], ["dest_keyring", f("key_spec")]]],
  [KEYCTL_QUERY_REQUEST_KEY_AUTH, [KEY, ["buffer", "struct"]]],
  [KEYCTL_FIND_LRU, [["keyring", f("key_spec")], ["type", "str"]]],
  [KEYCTL_SET_CONTAINER_KEYRING, [["cfd", "fd"], ["keyring", f("key_spec")]]]
])

/** KEYCTL_GRANT_PERMISSION's subject reads as its type says: a container fd, a container name, or a KEY_ACE_* number. */
const grantArgs = (subjectType: unknown): ArgList => [
  KEY,
  ["subject_type", "key_ace_subj"],
  ["subject", subjectType === KEY_ACE_SUBJ_CONTAINER ? "fd" : subjectType === KEY_ACE_SUBJ_CONTAINER_NAME ? "str" : "int"],
  ["perm", f("key_ace")]
]

/** keyctl(2) as strace shows a known command: the command by name, then that command's arguments only. */
const keyctlArgs = (args: ReadonlyArray<unknown>): ArgList | undefined => {
  const rest = args[0] === KEYCTL_GRANT_PERMISSION ? grantArgs(args[2]) : typeof args[0] === "number" ? KEYCTL_ARGS.get(args[0]) : undefined
  return rest === undefined ? undefined : [["operation", f("keyctl")], ...rest]
}

/** Linux's argument names and order for the calls simkernel implements (see syscalls(2) and each man page). */
export const SIGNATURES: Readonly<Record<string, SyscallSignature>> = {
  read: { args: [["fd", "fd"], ["buf", "buf"], ["count", "int"]], ret: "int" },
  write: { args: [["fd", "fd"], ["buf", "buf"], ["count", "int"]], ret: "int" },
  pread64: { args: [["fd", "fd"], ["buf", "buf"], ["count", "int"], ["offset", "int"]], ret: "int" },
  pwrite64: { args: [["fd", "fd"], ["buf", "buf"], ["count", "int"], ["offset", "int"]], ret: "int" },
  close: { args: [["fd", "fd"]], ret: "int" },
  lseek: { args: [["fd", "fd"], ["offset", "int"], ["whence", f("seek")]], ret: "int" },
  dup: { args: [["oldfd", "fd"]], ret: "fd" },
  dup2: { args: [["oldfd", "fd"], ["newfd", "fd"]], ret: "fd" },
  dup3: { args: [["oldfd", "fd"], ["newfd", "fd"], ["flags", "oflags"]], ret: "fd" },
  fcntl: { args: [["fd", "fd"], ["cmd", f("fcntl_cmd")], ["arg", "int"]], ret: "int" },
  pipe2: { args: [["pipefd", "struct"], ["flags", "oflags"]], ret: "int" },
  openat: {
    args: [["dirfd", "dirfd"], ["pathname", "str"], ["flags", f("open")], ["mode", "perm"]],
    ret: "fd",
    shown: (args) => (typeof args[2] === "number" && (args[2] & (O_CREAT | __O_TMPFILE)) !== 0 ? 4 : 3)
  },
  openat2: { args: [["dirfd", "dirfd"], ["pathname", "str"], ["how", "struct"], ["size", "int"]], ret: "fd" },
  mkdirat: { args: [["dirfd", "dirfd"], ["pathname", "str"], ["mode", "perm"]], ret: "int" },
  mknodat: { args: [["dirfd", "dirfd"], ["pathname", "str"], ["mode", f("mode")], ["dev", "dev"]], ret: "int" },
  unlinkat: { args: [["dirfd", "dirfd"], ["pathname", "str"], ["flags", f("at")]], ret: "int" },
  renameat2: {
    args: [["olddirfd", "dirfd"], ["oldpath", "str"], ["newdirfd", "dirfd"], ["newpath", "str"], ["flags", f("rename")]],
    ret: "int"
  },
  linkat: {
    args: [["olddirfd", "dirfd"], ["oldpath", "str"], ["newdirfd", "dirfd"], ["newpath", "str"], ["flags", f("at")]],
    ret: "int"
  },
  symlinkat: { args: [["target", "str"], ["newdirfd", "dirfd"], ["linkpath", "str"]], ret: "int" },
  readlinkat: { args: [["dirfd", "dirfd"], ["pathname", "str"], ["buf", "buf"], ["bufsiz", "int"]], ret: "int" },
  newfstatat: { args: [["dirfd", "dirfd"], ["pathname", "str"], ["statbuf", "struct"], ["flags", f("at")]], ret: "int" },
  statx: {
    args: [["dirfd", "dirfd"], ["pathname", "str"], ["flags", f("at")], ["mask", f("statx_mask")], ["statxbuf", "struct"]],
    ret: "int"
  },
  getdents64: { args: [["fd", "fd"], ["dirp", "struct"], ["count", "int"]], ret: "int" },
  ftruncate: { args: [["fd", "fd"], ["length", "int"]], ret: "int" },
  fchmodat: { args: [["dirfd", "dirfd"], ["pathname", "str"], ["mode", "perm"], ["flags", f("at")]], ret: "int" },
  fchownat: {
    args: [["dirfd", "dirfd"], ["pathname", "str"], ["owner", "int"], ["group", "int"], ["flags", f("at")]],
    ret: "int"
  },
  utimensat: { args: [["dirfd", "dirfd"], ["pathname", "str"], ["times", "struct"], ["flags", f("at")]], ret: "int" },
  getcwd: { args: [["buf", "buf"], ["size", "int"]], ret: "int" },
  chdir: { args: [["path", "str"]], ret: "int" },
  fchdir: { args: [["fd", "fd"]], ret: "int" },
  sync: { args: [], ret: "int" },
  syncfs: { args: [["fd", "fd"]], ret: "int" },
  fsync: { args: [["fd", "fd"]], ret: "int" },
  fdatasync: { args: [["fd", "fd"]], ret: "int" },
  chroot: { args: [["path", "str"]], ret: "int" },
  pivot_root: { args: [["new_root", "str"], ["put_old", "str"]], ret: "int" },
  mount: {
    args: [["source", "str"], ["target", "str"], ["filesystemtype", "str"], ["mountflags", f("ms")], ["data", "str"]],
    ret: "int"
  },
  umount2: { args: [["target", "str"], ["flags", f("umount")]], ret: "int" },
  fsopen: { args: [["fsname", "str"], ["flags", f("fsopen")]], ret: "fd" },
  fsconfig: { args: [["fd", "fd"], ["cmd", f("fsconfig_cmd")], ["key", "str"], ["value", "str"], ["aux", "int"]], ret: "int" },
  fsmount: { args: [["fd", "fd"], ["flags", f("fsmount")], ["attr_flags", f("mount_attr")]], ret: "fd" },
  fspick: { args: [["dirfd", "dirfd"], ["pathname", "str"], ["flags", f("fspick")]], ret: "fd" },
  open_tree: { args: [["dirfd", "dirfd"], ["filename", "str"], ["flags", f("open_tree")]], ret: "fd" },
  open_tree_attr: {
    args: [["dirfd", "dirfd"], ["filename", "str"], ["flags", f("open_tree")], ["attr", "mount_attr"], ["size", "int"]],
    ret: "fd"
  },
  move_mount: {
    args: [["from_dirfd", "dirfd"], ["from_pathname", "str"], ["to_dirfd", "dirfd"], ["to_pathname", "str"], ["flags", f("move_mount")]],
    ret: "int"
  },
  mount_setattr: {
    args: [["dirfd", "dirfd"], ["pathname", "str"], ["flags", f("at")], ["attr", "mount_attr"], ["size", "int"]],
    ret: "int"
  },
  unshare: { args: [["flags", f("clone")]], ret: "int" },
  setns: { args: [["fd", "fd"], ["nstype", f("clone")]], ret: "int" },
  sethostname: { args: [["name", "buf"], ["len", "int"]], ret: "int" },
  setdomainname: { args: [["name", "buf"], ["len", "int"]], ret: "int" },
  clone3: { args: [["cl_args", "struct"], ["size", "int"]], ret: "pid" },
  fork: { args: [], ret: "pid" },
  execve: { args: [["pathname", "str"], ["argv", "argv"], ["envp", "envp"]], ret: "int" },
  exit_group: { args: [["status", "int"]], ret: "int" },
  wait4: { args: [["pid", "int"], ["wstatus", "wstatus"], ["options", f("wait")], ["rusage", "struct"]], ret: "pid" },
  waitid: { args: [["idtype", f("idtype")], ["id", "int"], ["infop", "struct"], ["options", f("wait")], ["rusage", "struct"]], ret: "int" },
  kill: { args: [["pid", "int"], ["sig", f("signal")]], ret: "int" },
  tgkill: { args: [["tgid", "int"], ["tid", "int"], ["sig", f("signal")]], ret: "int" },
  pidfd_open: { args: [["pid", "int"], ["flags", f("pidfd")]], ret: "fd" },
  pidfd_send_signal: { args: [["pidfd", "fd"], ["sig", f("signal")], ["info", "struct"], ["flags", "int"]], ret: "int" },
  getpid: { args: [], ret: "pid" },
  getppid: { args: [], ret: "pid" },
  gettid: { args: [], ret: "pid" },
  setsid: { args: [], ret: "pid" },
  getpgid: { args: [["pid", "int"]], ret: "pid" },
  setpgid: { args: [["pid", "int"], ["pgid", "int"]], ret: "int" },
  getsid: { args: [["pid", "int"]], ret: "pid" },
  prctl: { args: [["option", f("prctl")], ["arg2", "int"], ["arg3", "int"], ["arg4", "int"], ["arg5", "int"]], ret: "int" },
  keyctl: { args: [["operation", f("keyctl")], ["arg2", "int"], ["arg3", "int"], ["arg4", "int"], ["arg5", "int"]], ret: "int", byCommand: keyctlArgs },
  add_key: { args: [["type", "str"], ["description", "str"], ["payload", "buf"], ["plen", "int"], ["keyring", f("key_spec")]], ret: "int" },
  request_key: { args: [["type", "str"], ["description", "str"], ["callout_info", "str"], ["dest_keyring", f("key_spec")]], ret: "int" },
  ioctl: { args: [["fd", "fd"], ["request", "int"], ["arg", "struct"]], ret: "int" },
  socket: { args: [["domain", f("af")], ["type", f("sock_type")], ["protocol", "int"]], ret: "fd" },
  container_create: {
    args: [["name", "str"], ["flags", f("container")], ["spare3", "int"], ["spare4", "int"], ["spare5", "int"]],
    ret: "fd"
  },
  fork_into_container: { args: [["cfd", "fd"]], ret: "pid" },
  container_wait: { args: [["cfd", "fd"], ["wstatus", "wstatus"], ["options", f("wait")], ["rusage", "struct"]], ret: "int" },
  container_kill: { args: [["cfd", "fd"], ["initonly", "int"], ["signal", f("signal")]], ret: "int" },
  container_socket: { args: [["cfd", "fd"], ["domain", f("af")], ["type", f("sock_type")], ["protocol", "int"]], ret: "fd" }
}
