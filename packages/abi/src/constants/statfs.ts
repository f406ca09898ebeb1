// statfs(2) f_type values, include/uapi/linux/magic.h (MQUEUE_MAGIC: ipc/mqueue.c)
export const TMPFS_MAGIC = 0x01021994
export const RAMFS_MAGIC = 0x858458f6
export const PROC_SUPER_MAGIC = 0x9fa0
export const SYSFS_MAGIC = 0x62656572
export const NSFS_MAGIC = 0x6e736673
export const MQUEUE_MAGIC = 0x19800202
export const EXT4_SUPER_MAGIC = 0xef53
export const CGROUP_SUPER_MAGIC = 0x27e0eb
export const CGROUP2_SUPER_MAGIC = 0x63677270
export const DEVPTS_SUPER_MAGIC = 0x1cd1
export const OVERLAYFS_SUPER_MAGIC = 0x794c7630
export const ANON_INODE_FS_MAGIC = 0x09041934
export const PIPEFS_MAGIC = 0x50495045
export const SOCKFS_MAGIC = 0x534f434b

// statfs(2) f_flags, include/linux/statfs.h
export const ST_RDONLY = 0x0001
export const ST_NOSUID = 0x0002
export const ST_NODEV = 0x0004
export const ST_NOEXEC = 0x0008
export const ST_SYNCHRONOUS = 0x0010
/** Set by the kernel to say f_flags is filled in at all. */
export const ST_VALID = 0x0020
export const ST_MANDLOCK = 0x0040
export const ST_NOATIME = 0x0400
export const ST_NODIRATIME = 0x0800
export const ST_RELATIME = 0x1000
export const ST_NOSYMFOLLOW = 0x2000
