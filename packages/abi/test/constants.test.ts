import { describe, expect, it } from "@effect/vitest"
import * as Abi from "../src/index.js"

// Expected values are literals here (from conformance/FORMAT.md's Constants
// section and the uapi headers / man pages), never read from the package.

const value = (name: string): unknown => (Abi as Record<string, unknown>)[name]

const checkAll = (rows: ReadonlyArray<readonly [string, number]>) => {
  for (const [name, expected] of rows) {
    expect(value(name), name).toBe(expected)
    expect(Abi.constantValue(name), name).toBe(expected)
  }
}

/** Every row of FORMAT.md's Constants tables. */
const FORMAT_MD: ReadonlyArray<readonly [string, number]> = [
  // `*at()` flags / dirfd (fcntl.h)
  ["AT_FDCWD", -100],
  ["AT_SYMLINK_NOFOLLOW", 0x100],
  ["AT_REMOVEDIR", 0x200],
  ["AT_SYMLINK_FOLLOW", 0x400],
  ["AT_NO_AUTOMOUNT", 0x800],
  ["AT_EMPTY_PATH", 0x1000],
  ["AT_RECURSIVE", 0x8000],
  // open flags, x86_64 (asm-generic/fcntl.h)
  ["O_RDONLY", 0o0],
  ["O_WRONLY", 0o1],
  ["O_RDWR", 0o2],
  ["O_CREAT", 0o100],
  ["O_EXCL", 0o200],
  ["O_NOCTTY", 0o400],
  ["O_TRUNC", 0o1000],
  ["O_APPEND", 0o2000],
  ["O_NONBLOCK", 0o4000],
  ["O_DIRECTORY", 0o200000],
  ["O_NOFOLLOW", 0o400000],
  ["O_CLOEXEC", 0o2000000],
  ["O_PATH", 0o10000000],
  ["O_TMPFILE", 0o20200000],
  // file types (stat.h)
  ["S_IFMT", 0o170000],
  ["S_IFSOCK", 0o140000],
  ["S_IFLNK", 0o120000],
  ["S_IFREG", 0o100000],
  ["S_IFBLK", 0o60000],
  ["S_IFDIR", 0o40000],
  ["S_IFCHR", 0o20000],
  ["S_IFIFO", 0o10000],
  // mount(2) flags and propagation types (mount.h)
  ["MS_RDONLY", 1],
  ["MS_NOSUID", 2],
  ["MS_NODEV", 4],
  ["MS_NOEXEC", 8],
  ["MS_SYNCHRONOUS", 0x10],
  ["MS_REMOUNT", 0x20],
  ["MS_MANDLOCK", 0x40],
  ["MS_DIRSYNC", 0x80],
  ["MS_NOSYMFOLLOW", 0x100],
  ["MS_NOATIME", 0x400],
  ["MS_NODIRATIME", 0x800],
  ["MS_BIND", 0x1000],
  ["MS_MOVE", 0x2000],
  ["MS_REC", 0x4000],
  ["MS_SILENT", 0x8000],
  ["MS_UNBINDABLE", 0x20000],
  ["MS_PRIVATE", 0x40000],
  ["MS_SLAVE", 0x80000],
  ["MS_SHARED", 0x100000],
  ["MS_RELATIME", 0x200000],
  ["MS_STRICTATIME", 0x1000000],
  ["MS_LAZYTIME", 0x2000000],
  // umount2(2) flags
  ["MNT_FORCE", 1],
  ["MNT_DETACH", 2],
  ["MNT_EXPIRE", 4],
  // umount2(2) flags
  ["UMOUNT_NOFOLLOW", 8],
  // open_tree(2) flags (mount.h)
  ["OPEN_TREE_CLONE", 1],
  ["OPEN_TREE_CLOEXEC", 0x80000],
  // move_mount(2) flags (mount.h)
  ["MOVE_MOUNT_F_SYMLINKS", 1],
  ["MOVE_MOUNT_F_AUTOMOUNTS", 2],
  ["MOVE_MOUNT_F_EMPTY_PATH", 4],
  ["MOVE_MOUNT_T_SYMLINKS", 0x10],
  ["MOVE_MOUNT_T_AUTOMOUNTS", 0x20],
  ["MOVE_MOUNT_T_EMPTY_PATH", 0x40],
  ["MOVE_MOUNT_SET_GROUP", 0x100],
  ["MOVE_MOUNT_BENEATH", 0x200],
  ["MOVE_MOUNT__MASK_MAINLINE", 0x377],
  // fsopen(2) flags
  ["FSOPEN_CLOEXEC", 1],
  // fspick(2) flags
  ["FSPICK_CLOEXEC", 1],
  ["FSPICK_SYMLINK_NOFOLLOW", 2],
  ["FSPICK_NO_AUTOMOUNT", 4],
  ["FSPICK_EMPTY_PATH", 8],
  // fsconfig(2) commands (enum fsconfig_command)
  ["FSCONFIG_SET_FLAG", 0],
  ["FSCONFIG_SET_STRING", 1],
  ["FSCONFIG_SET_BINARY", 2],
  ["FSCONFIG_SET_PATH", 3],
  ["FSCONFIG_SET_PATH_EMPTY", 4],
  ["FSCONFIG_SET_FD", 5],
  ["FSCONFIG_CMD_CREATE", 6],
  ["FSCONFIG_CMD_RECONFIGURE", 7],
  ["FSCONFIG_CMD_CREATE_EXCL", 8],
  // fsmount(2) flags
  ["FSMOUNT_CLOEXEC", 1],
  // mount attributes (mount.h)
  ["MOUNT_ATTR_RDONLY", 1],
  ["MOUNT_ATTR_NOSUID", 2],
  ["MOUNT_ATTR_NODEV", 4],
  ["MOUNT_ATTR_NOEXEC", 8],
  ["MOUNT_ATTR__ATIME", 0x70],
  ["MOUNT_ATTR_RELATIME", 0],
  ["MOUNT_ATTR_NOATIME", 0x10],
  ["MOUNT_ATTR_STRICTATIME", 0x20],
  ["MOUNT_ATTR_NODIRATIME", 0x80],
  ["MOUNT_ATTR_IDMAP", 0x100000],
  ["MOUNT_ATTR_NOSYMFOLLOW", 0x200000],
  ["MOUNT_ATTR_SIZE_VER0", 0x20],
  // namespace flags (sched.h)
  ["CLONE_FS", 0x200],
  ["CLONE_FILES", 0x400],
  ["CLONE_NEWNS", 0x20000],
  ["CLONE_NEWCGROUP", 0x2000000],
  ["CLONE_NEWUTS", 0x4000000],
  ["CLONE_NEWIPC", 0x8000000],
  ["CLONE_NEWUSER", 0x10000000],
  ["CLONE_NEWPID", 0x20000000],
  ["CLONE_NEWNET", 0x40000000],
]

describe("FORMAT.md constants", () => {
  it("has every row with the runner's value", () => {
    expect(FORMAT_MD.length).toBe(102)
    checkAll(FORMAT_MD)
  })

  it("keeps the seed's move_mount mask beside mainline's", () => {
    // FORMAT.md's MOVE_MOUNT__MASK is mainline's (checked above as _MAINLINE);
    // simkernel's mask adds MOVE_MOUNT_T_CONTAINER_ROOT.
    expect(Abi.MOVE_MOUNT__MASK).toBe(0x3f7)
    expect(Abi.MOVE_MOUNT__MASK - Abi.MOVE_MOUNT__MASK_MAINLINE).toBe(Abi.MOVE_MOUNT_T_CONTAINER_ROOT)
  })
})

describe("uapi constants", () => {
  it("open, *at, openat2, fcntl, seek, rename, utime", () =>
    checkAll([
      ["O_ACCMODE", 3],
      ["O_DSYNC", 0o10000],
      ["FASYNC", 0o20000],
      ["O_DIRECT", 0o40000],
      ["O_LARGEFILE", 0o100000],
      ["O_NOATIME", 0o1000000],
      ["O_SYNC", 0o4010000],
      ["O_NDELAY", 0o4000],
      ["AT_EACCESS", 0x200],
      ["AT_STATX_SYNC_TYPE", 0x6000],
      ["AT_STATX_SYNC_AS_STAT", 0],
      ["AT_STATX_FORCE_SYNC", 0x2000],
      ["AT_STATX_DONT_SYNC", 0x4000],
      ["RESOLVE_NO_XDEV", 1],
      ["RESOLVE_NO_MAGICLINKS", 2],
      ["RESOLVE_NO_SYMLINKS", 4],
      ["RESOLVE_BENEATH", 8],
      ["RESOLVE_IN_ROOT", 0x10],
      ["RESOLVE_CACHED", 0x20],
      ["OPEN_HOW_SIZE_VER0", 24],
      ["F_DUPFD", 0],
      ["F_GETFD", 1],
      ["F_SETFD", 2],
      ["F_GETFL", 3],
      ["F_SETFL", 4],
      ["F_DUPFD_CLOEXEC", 1030],
      ["F_SETPIPE_SZ", 1031],
      ["F_GET_SEALS", 1034],
      ["FD_CLOEXEC", 1],
      ["SEEK_SET", 0],
      ["SEEK_CUR", 1],
      ["SEEK_END", 2],
      ["SEEK_DATA", 3],
      ["SEEK_HOLE", 4],
      ["RENAME_NOREPLACE", 1],
      ["RENAME_EXCHANGE", 2],
      ["RENAME_WHITEOUT", 4],
      ["UTIME_NOW", 0x3fffffff],
      ["UTIME_OMIT", 0x3ffffffe]
    ]))

  it("stat, statx, limits", () =>
    checkAll([
      ["S_ISUID", 0o4000],
      ["S_ISGID", 0o2000],
      ["S_ISVTX", 0o1000],
      ["S_IRWXU", 0o700],
      ["S_IRUSR", 0o400],
      ["S_IWUSR", 0o200],
      ["S_IXUSR", 0o100],
      ["S_IRWXG", 0o70],
      ["S_IRGRP", 0o40],
      ["S_IWGRP", 0o20],
      ["S_IXGRP", 0o10],
      ["S_IRWXO", 0o7],
      ["S_IROTH", 0o4],
      ["S_IWOTH", 0o2],
      ["S_IXOTH", 0o1],
      ["PATH_MAX", 4096],
      ["NAME_MAX", 255],
      ["MAXSYMLINKS", 40],
      ["STATX_TYPE", 1],
      ["STATX_MODE", 2],
      ["STATX_INO", 0x100],
      ["STATX_BASIC_STATS", 0x7ff],
      ["STATX_BTIME", 0x800],
      ["STATX_ALL", 0xfff],
      ["STATX_MNT_ID", 0x1000],
      ["STATX_DIOALIGN", 0x2000],
      ["STATX_MNT_ID_UNIQUE", 0x4000],
      ["STATX__RESERVED", 0x80000000]
    ]))

  it("mount(2) and the fd-based mount API", () =>
    checkAll([
      ["MS_POSIXACL", 1 << 16],
      ["MS_KERNMOUNT", 1 << 22],
      ["MS_I_VERSION", 1 << 23],
      ["MS_SUBMOUNT", 1 << 26],
      ["MS_NOREMOTELOCK", 1 << 27],
      ["MS_NOSEC", 1 << 28],
      ["MS_BORN", 1 << 29],
      ["MS_ACTIVE", 1 << 30],
      ["MS_NOUSER", 0x80000000],
      ["MS_VERBOSE", 0x8000],
      ["MS_MGC_VAL", 0xc0ed0000],
      ["MS_MGC_MSK", 0xffff0000],
      ["MS_RMT_MASK", 0x2800051],
      ["FSCONFIG_SET_CONTAINER", 9],
      ["MOVE_MOUNT_T_CONTAINER_ROOT", 0x80],
      ["MOVE_MOUNT__MASK", 0x3f7],
      ["MOUNT_ATTR_SIZE_VER0", 32]
    ]))

  it("statfs magic numbers and f_flags", () =>
    checkAll([
      ["TMPFS_MAGIC", 0x01021994],
      ["RAMFS_MAGIC", 0x858458f6],
      ["PROC_SUPER_MAGIC", 0x9fa0],
      ["NSFS_MAGIC", 0x6e736673],
      ["MQUEUE_MAGIC", 0x19800202],
      ["EXT4_SUPER_MAGIC", 0xef53],
      ["SYSFS_MAGIC", 0x62656572],
      ["CGROUP2_SUPER_MAGIC", 0x63677270],
      ["ANON_INODE_FS_MAGIC", 0x09041934],
      ["PIPEFS_MAGIC", 0x50495045],
      ["SOCKFS_MAGIC", 0x534f434b],
      ["ST_RDONLY", 1],
      ["ST_NOSUID", 2],
      ["ST_NODEV", 4],
      ["ST_NOEXEC", 8],
      ["ST_SYNCHRONOUS", 16],
      ["ST_VALID", 0x20],
      ["ST_MANDLOCK", 64],
      ["ST_NOATIME", 1024],
      ["ST_NODIRATIME", 2048],
      ["ST_RELATIME", 4096],
      ["ST_NOSYMFOLLOW", 0x2000]
    ]))

  it("clone and clone3, including the flags above 2^31", () => {
    checkAll([
      ["CSIGNAL", 0xff],
      ["CLONE_NEWTIME", 0x80],
      ["CLONE_VM", 0x100],
      ["CLONE_SIGHAND", 0x800],
      ["CLONE_PIDFD", 0x1000],
      ["CLONE_PTRACE", 0x2000],
      ["CLONE_VFORK", 0x4000],
      ["CLONE_PARENT", 0x8000],
      ["CLONE_THREAD", 0x10000],
      ["CLONE_SYSVSEM", 0x40000],
      ["CLONE_SETTLS", 0x80000],
      ["CLONE_PARENT_SETTID", 0x100000],
      ["CLONE_CHILD_CLEARTID", 0x200000],
      ["CLONE_DETACHED", 0x400000],
      ["CLONE_UNTRACED", 0x800000],
      ["CLONE_CHILD_SETTID", 0x1000000],
      ["CLONE_IO", 0x80000000],
      ["CLONE_CLEAR_SIGHAND", 0x100000000],
      ["CLONE_INTO_CGROUP", 0x200000000],
      ["CLONE_ARGS_SIZE_VER0", 64],
      ["CLONE_ARGS_SIZE_VER1", 80],
      ["CLONE_ARGS_SIZE_VER2", 88]
    ])
    // CLONE_NEWTIME shares a bit with the exit signal byte.
    expect(Abi.CLONE_NEWTIME % (Abi.CSIGNAL + 1)).toBe(Abi.CLONE_NEWTIME)
    expect(Abi.CLONE_INTO_CGROUP > 2 ** 31 && Number.isSafeInteger(Abi.CLONE_INTO_CGROUP)).toBe(true)
  })

  it("signals, sigaction, siginfo codes", () =>
    checkAll([
      ["SIGHUP", 1],
      ["SIGINT", 2],
      ["SIGQUIT", 3],
      ["SIGABRT", 6],
      ["SIGKILL", 9],
      ["SIGSEGV", 11],
      ["SIGPIPE", 13],
      ["SIGTERM", 15],
      ["SIGSTKFLT", 16],
      ["SIGCHLD", 17],
      ["SIGCONT", 18],
      ["SIGSTOP", 19],
      ["SIGTSTP", 20],
      ["SIGURG", 23],
      ["SIGWINCH", 28],
      ["SIGIO", 29],
      ["SIGPOLL", 29],
      ["SIGPWR", 30],
      ["SIGSYS", 31],
      ["SIGRTMIN", 32],
      ["SIGRTMAX", 64],
      ["SA_NOCLDSTOP", 1],
      ["SA_NOCLDWAIT", 2],
      ["SA_SIGINFO", 4],
      ["SA_RESTORER", 0x04000000],
      ["SA_ONSTACK", 0x08000000],
      ["SA_RESTART", 0x10000000],
      ["SA_NODEFER", 0x40000000],
      ["SA_RESETHAND", 0x80000000],
      ["SIG_BLOCK", 0],
      ["SIG_UNBLOCK", 1],
      ["SIG_SETMASK", 2],
      ["SI_USER", 0],
      ["SI_KERNEL", 0x80],
      ["SI_QUEUE", -1],
      ["SI_TKILL", -6],
      ["CLD_EXITED", 1],
      ["CLD_KILLED", 2],
      ["CLD_DUMPED", 3],
      ["CLD_TRAPPED", 4],
      ["CLD_STOPPED", 5],
      ["CLD_CONTINUED", 6]
    ]))

  it("wait, idtype, pidfd, poll", () =>
    checkAll([
      ["WNOHANG", 1],
      ["WUNTRACED", 2],
      ["WSTOPPED", 2],
      ["WEXITED", 4],
      ["WCONTINUED", 8],
      ["WNOWAIT", 0x1000000],
      ["__WNOTHREAD", 0x20000000],
      ["__WALL", 0x40000000],
      ["__WCLONE", 0x80000000],
      ["__W_CONTINUED", 0xffff],
      ["P_ALL", 0],
      ["P_PID", 1],
      ["P_PGID", 2],
      ["P_PIDFD", 3],
      ["PIDFD_NONBLOCK", 0o4000],
      ["PIDFD_THREAD", 0o200],
      ["POLLIN", 1],
      ["POLLPRI", 2],
      ["POLLOUT", 4],
      ["POLLERR", 8],
      ["POLLHUP", 0x10],
      ["POLLNVAL", 0x20],
      ["POLLRDNORM", 0x40],
      ["POLLRDHUP", 0x2000]
    ]))

  it("capability versions, securebits, prctl", () =>
    checkAll([
      ["CAP_LAST_CAP", 40],
      ["_LINUX_CAPABILITY_VERSION_1", 0x19980330],
      ["_LINUX_CAPABILITY_VERSION_2", 0x20071026],
      ["_LINUX_CAPABILITY_VERSION_3", 0x20080522],
      ["SECBIT_NOROOT", 1],
      ["SECBIT_NOROOT_LOCKED", 2],
      ["SECBIT_NO_SETUID_FIXUP", 4],
      ["SECBIT_NO_SETUID_FIXUP_LOCKED", 8],
      ["SECBIT_KEEP_CAPS", 0x10],
      ["SECBIT_KEEP_CAPS_LOCKED", 0x20],
      ["SECBIT_NO_CAP_AMBIENT_RAISE", 0x40],
      ["SECBIT_NO_CAP_AMBIENT_RAISE_LOCKED", 0x80],
      ["SECURE_ALL_BITS", 0x55],
      ["SECURE_ALL_LOCKS", 0xaa],
      ["PR_SET_PDEATHSIG", 1],
      ["PR_GET_PDEATHSIG", 2],
      ["PR_GET_KEEPCAPS", 7],
      ["PR_SET_KEEPCAPS", 8],
      ["PR_SET_NAME", 15],
      ["PR_GET_NAME", 16],
      ["PR_CAPBSET_READ", 23],
      ["PR_CAPBSET_DROP", 24],
      ["PR_GET_SECUREBITS", 27],
      ["PR_SET_SECUREBITS", 28],
      ["PR_SET_CHILD_SUBREAPER", 36],
      ["PR_GET_CHILD_SUBREAPER", 37],
      ["PR_SET_NO_NEW_PRIVS", 38],
      ["PR_GET_NO_NEW_PRIVS", 39],
      ["PR_CAP_AMBIENT", 47],
      ["PR_CAP_AMBIENT_IS_SET", 1],
      ["PR_CAP_AMBIENT_RAISE", 2],
      ["PR_CAP_AMBIENT_LOWER", 3],
      ["PR_CAP_AMBIENT_CLEAR_ALL", 4]
    ]))

  it("user namespaces, nsfs ioctls and initial inode numbers", () =>
    checkAll([
      ["OVERFLOWUID", 65534],
      ["OVERFLOWGID", 65534],
      ["UID_GID_MAP_MAX_EXTENTS", 340],
      ["MAX_USER_NS_LEVEL", 32],
      ["NS_GET_USERNS", 0xb701],
      ["NS_GET_PARENT", 0xb702],
      ["NS_GET_NSTYPE", 0xb703],
      ["NS_GET_OWNER_UID", 0xb704],
      ["PROC_ROOT_INO", 1],
      ["PROC_IPC_INIT_INO", 4026531839],
      ["PROC_UTS_INIT_INO", 4026531838],
      ["PROC_USER_INIT_INO", 4026531837],
      ["PROC_PID_INIT_INO", 4026531836],
      ["PROC_CGROUP_INIT_INO", 4026531835],
      ["PROC_TIME_INIT_INO", 4026531834],
      // What /proc/self/ns/{net,mnt} show on Linux 6.18.
      ["PROC_NET_INIT_INO", 4026531833],
      ["PROC_MNT_INIT_INO", 4026531832]
    ]))

  it("ioctl encoding matches Linux's _IOC layout", () => {
    expect(Abi._IO(0xb7, 1)).toBe(0xb701)
    // _IOR('T', 0x30, unsigned int) = TIOCGPTN; _IOW('T', 0x31, int) = TIOCSPTLCK
    expect(Abi._IOR(0x54, 0x30, 4)).toBe(0x80045430)
    expect(Abi._IOW(0x54, 0x31, 4)).toBe(0x40045431)
    // _IOWR(0xb7, 0x1, 8): both direction bits, no 32-bit sign flip
    expect(Abi._IOWR(0xb7, 1, 8)).toBe(0xc008b701)
  })

  it("keyctl: mainline numbers, the seed's above them, key ACL", () => {
    checkAll([
      ["KEYCTL_GET_KEYRING_ID", 0],
      ["KEYCTL_JOIN_SESSION_KEYRING", 1],
      ["KEYCTL_SETPERM", 5],
      ["KEYCTL_SEARCH", 10],
      ["KEYCTL_SET_REQKEY_KEYRING", 14],
      ["KEYCTL_ASSUME_AUTHORITY", 16],
      ["KEYCTL_SESSION_TO_PARENT", 18],
      ["KEYCTL_INVALIDATE", 21],
      ["KEYCTL_RESTRICT_KEYRING", 29],
      ["KEYCTL_MOVE", 30],
      ["KEYCTL_CAPABILITIES", 31],
      ["KEYCTL_WATCH_KEY", 32],
      ["KEY_SPEC_THREAD_KEYRING", -1],
      ["KEY_SPEC_PROCESS_KEYRING", -2],
      ["KEY_SPEC_SESSION_KEYRING", -3],
      ["KEY_SPEC_USER_KEYRING", -4],
      ["KEY_SPEC_USER_SESSION_KEYRING", -5],
      ["KEY_SPEC_GROUP_KEYRING", -6],
      ["KEY_SPEC_REQKEY_AUTH_KEY", -7],
      ["KEY_SPEC_REQUESTOR_KEYRING", -8],
      ["KEY_ACE_VIEW", 0x1],
      ["KEY_ACE_READ", 0x2],
      ["KEY_ACE_WRITE", 0x4],
      ["KEY_ACE_SEARCH", 0x8],
      ["KEY_ACE_LINK", 0x10],
      ["KEY_ACE_SET_SECURITY", 0x20],
      ["KEY_ACE_INVAL", 0x40],
      ["KEY_ACE_REVOKE", 0x80],
      ["KEY_ACE_JOIN", 0x100],
      ["KEY_ACE_CLEAR", 0x200],
      ["KEY_ACE_SUBJ_STANDARD", 0],
      ["KEY_ACE_SUBJ_CONTAINER", 1],
      ["KEY_ACE_SUBJ_CONTAINER_NAME", 2],
      ["KEY_ACE_EVERYONE", 0],
      ["KEY_ACE_GROUP", 1],
      ["KEY_ACE_OWNER", 2],
      ["KEY_ACE_POSSESSOR", 3]
    ])
    const seed = [
      Abi.KEYCTL_CONTAINER_INTERCEPT,
      Abi.KEYCTL_QUERY_REQUEST_KEY_AUTH,
      Abi.KEYCTL_FIND_LRU,
      Abi.KEYCTL_SET_CONTAINER_KEYRING,
      Abi.KEYCTL_GRANT_PERMISSION
    ]
    expect(new Set(seed).size).toBe(5)
    for (const n of seed) expect(n).toBeGreaterThan(1000)
  })

  it("the seed's container flags", () =>
    checkAll([
      ["CONTAINER_NEW_FS_NS", 0x001],
      ["CONTAINER_NEW_EMPTY_FS_NS", 0x002],
      ["CONTAINER_NEW_CGROUP_NS", 0x004],
      ["CONTAINER_NEW_UTS_NS", 0x008],
      ["CONTAINER_NEW_IPC_NS", 0x010],
      ["CONTAINER_NEW_USER_NS", 0x020],
      ["CONTAINER_NEW_PID_NS", 0x040],
      ["CONTAINER_NEW_NET_NS", 0x080],
      ["CONTAINER_KILL_ON_CLOSE", 0x100],
      ["CONTAINER_FD_CLOEXEC", 0x200],
      ["CONTAINER__FLAG_MASK", 0x3ff]
    ]))

  it("sockets", () =>
    checkAll([
      ["AF_UNIX", 1],
      ["AF_INET", 2],
      ["AF_INET6", 10],
      ["AF_NETLINK", 16],
      ["SOCK_STREAM", 1],
      ["SOCK_DGRAM", 2],
      ["SOCK_RAW", 3],
      ["SOCK_SEQPACKET", 5],
      ["SOCK_NONBLOCK", 0o4000],
      ["SOCK_CLOEXEC", 0o2000000],
      ["NETLINK_ROUTE", 0]
    ]))

  it("constantValue knows no other names", () => {
    expect(Abi.constantValue("MS_BOGUS")).toBeUndefined()
    expect(Abi.constantValue("signalName")).toBeUndefined()
    expect(Abi.constantValue("toString")).toBeUndefined()
  })
})

describe("capabilities", () => {
  const CAPS = [
    "CAP_CHOWN",
    "CAP_DAC_OVERRIDE",
    "CAP_DAC_READ_SEARCH",
    "CAP_FOWNER",
    "CAP_FSETID",
    "CAP_KILL",
    "CAP_SETGID",
    "CAP_SETUID",
    "CAP_SETPCAP",
    "CAP_LINUX_IMMUTABLE",
    "CAP_NET_BIND_SERVICE",
    "CAP_NET_BROADCAST",
    "CAP_NET_ADMIN",
    "CAP_NET_RAW",
    "CAP_IPC_LOCK",
    "CAP_IPC_OWNER",
    "CAP_SYS_MODULE",
    "CAP_SYS_RAWIO",
    "CAP_SYS_CHROOT",
    "CAP_SYS_PTRACE",
    "CAP_SYS_PACCT",
    "CAP_SYS_ADMIN",
    "CAP_SYS_BOOT",
    "CAP_SYS_NICE",
    "CAP_SYS_RESOURCE",
    "CAP_SYS_TIME",
    "CAP_SYS_TTY_CONFIG",
    "CAP_MKNOD",
    "CAP_LEASE",
    "CAP_AUDIT_WRITE",
    "CAP_AUDIT_CONTROL",
    "CAP_SETFCAP",
    "CAP_MAC_OVERRIDE",
    "CAP_MAC_ADMIN",
    "CAP_SYSLOG",
    "CAP_WAKE_ALARM",
    "CAP_BLOCK_SUSPEND",
    "CAP_AUDIT_READ",
    "CAP_PERFMON",
    "CAP_BPF",
    "CAP_CHECKPOINT_RESTORE"
  ]

  it("numbers all 41 in Linux's order, both ways", () => {
    expect(CAPS.length).toBe(41)
    CAPS.forEach((name, n) => {
      expect(value(name), name).toBe(n)
      expect(Abi.capName(n)).toBe(name)
      expect(Abi.capNumber(name)).toBe(n)
    })
    expect(Abi.capName(41)).toBeUndefined()
    expect(Abi.capName(-1)).toBeUndefined()
    expect(Abi.capNumber("CAP_FLY")).toBeUndefined()
  })
})

describe("signals", () => {
  it("names and numbers 1..31 both ways, aliases to their number", () => {
    for (let n = 1; n <= 31; n++) {
      const name = Abi.signalName(n)
      expect(name).toBeDefined()
      expect(Abi.signalNumber(name!)).toBe(n)
      expect(value(name!)).toBe(n)
    }
    expect(Abi.signalName(0)).toBeUndefined()
    expect(Abi.signalName(32)).toBeUndefined()
    expect(Abi.signalName(6)).toBe("SIGABRT")
    expect(Abi.signalName(29)).toBe("SIGIO")
    expect(Abi.signalNumber("SIGIOT")).toBe(6)
    expect(Abi.signalNumber("SIGPOLL")).toBe(29)
    expect(Abi.signalNumber("SIGRTMIN")).toBe(32)
    expect(Abi.signalNumber("SIGRTMAX")).toBe(64)
    expect(Abi.signalNumber("KILL")).toBeUndefined()
  })

  it("default actions follow signal(7)", () => {
    const expected: Record<string, Abi.SignalDefaultAction> = {
      SIGHUP: "term",
      SIGINT: "term",
      SIGQUIT: "core",
      SIGILL: "core",
      SIGTRAP: "core",
      SIGABRT: "core",
      SIGBUS: "core",
      SIGFPE: "core",
      SIGKILL: "term",
      SIGUSR1: "term",
      SIGSEGV: "core",
      SIGUSR2: "term",
      SIGPIPE: "term",
      SIGALRM: "term",
      SIGTERM: "term",
      SIGSTKFLT: "term",
      SIGCHLD: "ign",
      SIGCONT: "cont",
      SIGSTOP: "stop",
      SIGTSTP: "stop",
      SIGTTIN: "stop",
      SIGTTOU: "stop",
      SIGURG: "ign",
      SIGXCPU: "core",
      SIGXFSZ: "core",
      SIGVTALRM: "term",
      SIGPROF: "term",
      SIGWINCH: "ign",
      SIGIO: "term",
      SIGPWR: "term",
      SIGSYS: "core"
    }
    for (const [name, action] of Object.entries(expected)) {
      expect(Abi.signalDefaultAction(Abi.signalNumber(name)!), name).toBe(action)
    }
    expect(Abi.signalDefaultAction(Abi.SIGRTMIN)).toBe("term")
    expect(Abi.signalDefaultAction(Abi.SIGRTMAX)).toBe("term")
    expect(Abi.signalDefaultAction(0)).toBeUndefined()
    expect(Abi.signalDefaultAction(65)).toBeUndefined()
  })
})

describe("wait status macros", () => {
  it("decode an exit status", () => {
    const s = Abi.W_EXITCODE(3, 0)
    expect(s).toBe(0x300)
    expect(Abi.WIFEXITED(s)).toBe(true)
    expect(Abi.WEXITSTATUS(s)).toBe(3)
    expect(Abi.WIFSIGNALED(s)).toBe(false)
    expect(Abi.WIFSTOPPED(s)).toBe(false)
    expect(Abi.WIFCONTINUED(s)).toBe(false)
  })

  it("decode a death by signal, with and without core", () => {
    const s = Abi.W_EXITCODE(0, Abi.SIGKILL)
    expect(Abi.WIFSIGNALED(s)).toBe(true)
    expect(Abi.WIFEXITED(s)).toBe(false)
    expect(Abi.WTERMSIG(s)).toBe(9)
    expect(Abi.WCOREDUMP(s)).toBe(false)
    const core = Abi.W_EXITCODE(0, Abi.SIGSEGV) | Abi.__WCOREFLAG
    expect(Abi.WIFSIGNALED(core)).toBe(true)
    expect(Abi.WTERMSIG(core)).toBe(11)
    expect(Abi.WCOREDUMP(core)).toBe(true)
  })

  it("decode stopped and continued", () => {
    const s = Abi.W_STOPCODE(Abi.SIGTSTP)
    expect(s).toBe(0x147f)
    expect(Abi.WIFSTOPPED(s)).toBe(true)
    expect(Abi.WSTOPSIG(s)).toBe(20)
    expect(Abi.WIFSIGNALED(s)).toBe(false)
    expect(Abi.WIFEXITED(s)).toBe(false)
    expect(Abi.WIFCONTINUED(Abi.__W_CONTINUED)).toBe(true)
    expect(Abi.WIFSIGNALED(Abi.__W_CONTINUED)).toBe(false)
    expect(Abi.WIFSTOPPED(Abi.__W_CONTINUED)).toBe(false)
  })

  it("round-trip every exit code and signal", () => {
    for (let code = 0; code < 256; code++) {
      const s = Abi.W_EXITCODE(code, 0)
      expect(Abi.WIFEXITED(s) && Abi.WEXITSTATUS(s) === code).toBe(true)
    }
    for (let sig = 1; sig < 0x7f; sig++) {
      const killed = Abi.W_EXITCODE(0, sig)
      expect(Abi.WIFSIGNALED(killed) && Abi.WTERMSIG(killed) === sig && !Abi.WIFEXITED(killed)).toBe(true)
      const stopped = Abi.W_STOPCODE(sig)
      expect(Abi.WIFSTOPPED(stopped) && Abi.WSTOPSIG(stopped) === sig && !Abi.WIFSIGNALED(stopped)).toBe(true)
    }
  })
})

describe("file type predicates", () => {
  it("classify by S_IFMT", () => {
    expect(Abi.S_ISDIR(0o40755)).toBe(true)
    expect(Abi.S_ISREG(0o100644)).toBe(true)
    expect(Abi.S_ISLNK(0o120777)).toBe(true)
    expect(Abi.S_ISCHR(0o20666)).toBe(true)
    expect(Abi.S_ISBLK(0o60600)).toBe(true)
    expect(Abi.S_ISFIFO(0o10644)).toBe(true)
    expect(Abi.S_ISSOCK(0o140755)).toBe(true)
    expect(Abi.S_ISDIR(0o100755)).toBe(false)
  })
})
