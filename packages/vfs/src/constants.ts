/**
 * Kernel-internal flags of the VFS that no uapi header exports:
 * include/linux/mount.h MNT_* (per-mount flags) and include/linux/fs.h SB_*
 * (superblock flags, numerically equal to the MS_* mount(2) flags).
 */

export const MNT_NOSUID = 0x01
export const MNT_NODEV = 0x02
export const MNT_NOEXEC = 0x04
export const MNT_NOATIME = 0x08
export const MNT_NODIRATIME = 0x10
export const MNT_RELATIME = 0x20
export const MNT_READONLY = 0x40
export const MNT_NOSYMFOLLOW = 0x80
export const MNT_SHRINKABLE = 0x100
export const MNT_INTERNAL = 0x4000
export const MNT_LOCK_ATIME = 0x040000
export const MNT_LOCK_NOEXEC = 0x080000
export const MNT_LOCK_NOSUID = 0x100000
export const MNT_LOCK_NODEV = 0x200000
export const MNT_LOCK_READONLY = 0x400000
/** The mount may not be revealed by unmounting it (it came with a less privileged namespace copy). */
export const MNT_LOCKED = 0x800000
export const MNT_DOOMED = 0x1000000
export const MNT_UMOUNT = 0x8000000

export const MNT_ATIME_MASK = MNT_NOATIME | MNT_NODIRATIME | MNT_RELATIME
/** Flags mount(2) and mount_setattr(2) may set and clear. */
export const MNT_USER_SETTABLE_MASK =
  MNT_NOSUID | MNT_NODEV | MNT_NOEXEC | MNT_NOATIME | MNT_NODIRATIME | MNT_RELATIME | MNT_READONLY | MNT_NOSYMFOLLOW
export const MNT_LOCK_MASK = MNT_LOCK_ATIME | MNT_LOCK_NOEXEC | MNT_LOCK_NOSUID | MNT_LOCK_NODEV | MNT_LOCK_READONLY

export const SB_RDONLY = 1
export const SB_NOSUID = 2
export const SB_NODEV = 4
export const SB_NOEXEC = 8
export const SB_SYNCHRONOUS = 16
export const SB_MANDLOCK = 64
export const SB_DIRSYNC = 128
export const SB_NOATIME = 1024
export const SB_NODIRATIME = 2048
export const SB_SILENT = 32768
export const SB_POSIXACL = 1 << 16
export const SB_INLINECRYPT = 1 << 17
export const SB_KERNMOUNT = 1 << 22
export const SB_I_VERSION = 1 << 23
export const SB_LAZYTIME = 1 << 25
export const SB_NOUSER = 2 ** 31

/** The superblock flags mount(2) passes on (path_mount()'s sb_flags mask). */
export const SB_MOUNT_MASK =
  SB_RDONLY | SB_SYNCHRONOUS | SB_MANDLOCK | SB_DIRSYNC | SB_SILENT | SB_POSIXACL | SB_LAZYTIME | SB_I_VERSION

/** mm: the page size tmpfs accounts its blocks in. */
export const PAGE_SIZE = 4096

/** The default of the fs.mount-max sysctl: mounts one namespace may hold. */
export const SYSCTL_MOUNT_MAX = 100000

// include/linux/fs.h MAY_* access masks.
export const MAY_EXEC = 0x1
export const MAY_WRITE = 0x2
export const MAY_READ = 0x4
export const MAY_APPEND = 0x8
export const MAY_ACCESS = 0x10
export const MAY_OPEN = 0x20
export const MAY_CHDIR = 0x40
export const MAY_NOT_BLOCK = 0x80

/** fs_type flag: unprivileged users may mount it in their own user namespace. */
export const FS_USERNS_MOUNT = 8
