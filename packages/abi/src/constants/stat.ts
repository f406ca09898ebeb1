// include/uapi/linux/stat.h and include/uapi/linux/limits.h

export const S_IFMT = 0o170000
export const S_IFSOCK = 0o140000
export const S_IFLNK = 0o120000
export const S_IFREG = 0o100000
export const S_IFBLK = 0o060000
export const S_IFDIR = 0o040000
export const S_IFCHR = 0o020000
export const S_IFIFO = 0o010000
export const S_ISUID = 0o4000
export const S_ISGID = 0o2000
export const S_ISVTX = 0o1000

export const S_IRWXU = 0o700
export const S_IRUSR = 0o400
export const S_IWUSR = 0o200
export const S_IXUSR = 0o100
export const S_IRWXG = 0o070
export const S_IRGRP = 0o040
export const S_IWGRP = 0o020
export const S_IXGRP = 0o010
export const S_IRWXO = 0o007
export const S_IROTH = 0o004
export const S_IWOTH = 0o002
export const S_IXOTH = 0o001

// Mode values are at most 16 bits, so 32-bit operators are exact here.
export const S_ISLNK = (m: number): boolean => (m & S_IFMT) === S_IFLNK
export const S_ISREG = (m: number): boolean => (m & S_IFMT) === S_IFREG
export const S_ISDIR = (m: number): boolean => (m & S_IFMT) === S_IFDIR
export const S_ISCHR = (m: number): boolean => (m & S_IFMT) === S_IFCHR
export const S_ISBLK = (m: number): boolean => (m & S_IFMT) === S_IFBLK
export const S_ISFIFO = (m: number): boolean => (m & S_IFMT) === S_IFIFO
export const S_ISSOCK = (m: number): boolean => (m & S_IFMT) === S_IFSOCK

export const PATH_MAX = 4096
export const NAME_MAX = 255
/** include/linux/namei.h: the symlink nesting limit of a path walk (ELOOP beyond). */
export const MAXSYMLINKS = 40

// statx(2) mask bits
export const STATX_TYPE = 0x00000001
export const STATX_MODE = 0x00000002
export const STATX_NLINK = 0x00000004
export const STATX_UID = 0x00000008
export const STATX_GID = 0x00000010
export const STATX_ATIME = 0x00000020
export const STATX_MTIME = 0x00000040
export const STATX_CTIME = 0x00000080
export const STATX_INO = 0x00000100
export const STATX_SIZE = 0x00000200
export const STATX_BLOCKS = 0x00000400
export const STATX_BASIC_STATS = 0x000007ff
export const STATX_BTIME = 0x00000800
/** Deprecated in Linux: BASIC_STATS | BTIME, frozen at that. */
export const STATX_ALL = 0x00000fff
export const STATX_MNT_ID = 0x00001000
export const STATX_DIOALIGN = 0x00002000
export const STATX_MNT_ID_UNIQUE = 0x00004000
export const STATX_SUBVOL = 0x00008000
export const STATX_WRITE_ATOMIC = 0x00010000
export const STATX_DIO_READ_ALIGN = 0x00020000
export const STATX__RESERVED = 0x80000000
