// include/uapi/asm-generic/fcntl.h and include/uapi/linux/fcntl.h, x86_64 values.

export const O_ACCMODE = 0o3
export const O_RDONLY = 0o0
export const O_WRONLY = 0o1
export const O_RDWR = 0o2
export const O_CREAT = 0o100
export const O_EXCL = 0o200
export const O_NOCTTY = 0o400
export const O_TRUNC = 0o1000
export const O_APPEND = 0o2000
export const O_NONBLOCK = 0o4000
export const O_NDELAY = O_NONBLOCK
export const O_DSYNC = 0o10000
/** Linux's name; glibc calls it O_ASYNC. */
export const FASYNC = 0o20000
export const O_DIRECT = 0o40000
/** The kernel's value; x86_64 userspace passes 0 because its off_t is already 64-bit. */
export const O_LARGEFILE = 0o100000
export const O_DIRECTORY = 0o200000
export const O_NOFOLLOW = 0o400000
export const O_NOATIME = 0o1000000
export const O_CLOEXEC = 0o2000000
export const __O_SYNC = 0o4000000
export const O_SYNC = __O_SYNC + O_DSYNC
export const O_PATH = 0o10000000
export const __O_TMPFILE = 0o20000000
/** O_TMPFILE carries O_DIRECTORY so that old kernels fail it with EISDIR/ENOTDIR. */
export const O_TMPFILE = __O_TMPFILE + O_DIRECTORY

export const F_DUPFD = 0
export const F_GETFD = 1
export const F_SETFD = 2
export const F_GETFL = 3
export const F_SETFL = 4
export const F_GETLK = 5
export const F_SETLK = 6
export const F_SETLKW = 7
export const F_SETOWN = 8
export const F_GETOWN = 9
export const F_SETSIG = 10
export const F_GETSIG = 11
export const F_SETOWN_EX = 15
export const F_GETOWN_EX = 16
export const F_OFD_GETLK = 36
export const F_OFD_SETLK = 37
export const F_OFD_SETLKW = 38
export const F_LINUX_SPECIFIC_BASE = 1024
export const F_SETLEASE = F_LINUX_SPECIFIC_BASE + 0
export const F_GETLEASE = F_LINUX_SPECIFIC_BASE + 1
export const F_NOTIFY = F_LINUX_SPECIFIC_BASE + 2
export const F_CANCELLK = F_LINUX_SPECIFIC_BASE + 5
export const F_DUPFD_CLOEXEC = F_LINUX_SPECIFIC_BASE + 6
export const F_SETPIPE_SZ = F_LINUX_SPECIFIC_BASE + 7
export const F_GETPIPE_SZ = F_LINUX_SPECIFIC_BASE + 8
export const F_ADD_SEALS = F_LINUX_SPECIFIC_BASE + 9
export const F_GET_SEALS = F_LINUX_SPECIFIC_BASE + 10

export const FD_CLOEXEC = 1

export const AT_FDCWD = -100
export const AT_SYMLINK_NOFOLLOW = 0x100
export const AT_REMOVEDIR = 0x200
/** Shares its bit with AT_REMOVEDIR: faccessat2() never removes anything. */
export const AT_EACCESS = 0x200
export const AT_SYMLINK_FOLLOW = 0x400
export const AT_NO_AUTOMOUNT = 0x800
export const AT_EMPTY_PATH = 0x1000
export const AT_STATX_SYNC_TYPE = 0x6000
export const AT_STATX_SYNC_AS_STAT = 0x0000
export const AT_STATX_FORCE_SYNC = 0x2000
export const AT_STATX_DONT_SYNC = 0x4000
export const AT_RECURSIVE = 0x8000

export const SEEK_SET = 0
export const SEEK_CUR = 1
export const SEEK_END = 2
export const SEEK_DATA = 3
export const SEEK_HOLE = 4

// renameat2(2), include/uapi/linux/fs.h
export const RENAME_NOREPLACE = 1 << 0
export const RENAME_EXCHANGE = 1 << 1
export const RENAME_WHITEOUT = 1 << 2

// utimensat(2) tv_nsec specials
export const UTIME_NOW = (1 << 30) - 1
export const UTIME_OMIT = (1 << 30) - 2
