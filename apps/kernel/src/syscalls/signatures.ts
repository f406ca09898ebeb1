import { type FlagKindName, O_CREAT, __O_TMPFILE } from "@simkernel/abi"

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
  /** A flag word, printed with formatFlags(kind). */
  | { readonly flags: FlagKindName }

export interface SyscallSignature {
  readonly args: ReadonlyArray<readonly [name: string, kind: ArgKind]>
  /** What a success returns: a new fd, a pid, or a plain number. */
  readonly ret: "fd" | "pid" | "int"
  /** How many arguments strace shows, when that depends on the others (openat's mode only with O_CREAT or O_TMPFILE). */
  readonly shown?: (args: ReadonlyArray<unknown>) => number
}

const f = (kind: FlagKindName): ArgKind => ({ flags: kind })

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
  keyctl: { args: [["operation", f("keyctl")], ["arg2", "int"], ["arg3", "int"], ["arg4", "int"], ["arg5", "int"]], ret: "int" },
  socket: { args: [["domain", f("af")], ["type", f("sock_type")], ["protocol", "int"]], ret: "fd" },
  container_create: {
    args: [["name", "str"], ["flags", f("container")], ["spare3", "int"], ["spare4", "int"], ["spare5", "int"]],
    ret: "fd"
  },
  fork_into_container: { args: [["cfd", "fd"]], ret: "pid" },
  container_wait: { args: [["cfd", "fd"], ["wstatus", "struct"], ["options", f("wait")], ["rusage", "struct"]], ret: "int" },
  container_kill: { args: [["cfd", "fd"], ["initonly", "int"], ["signal", f("signal")]], ret: "int" },
  container_socket: { args: [["cfd", "fd"], ["domain", f("af")], ["type", f("sock_type")], ["protocol", "int"]], ret: "fd" }
}
