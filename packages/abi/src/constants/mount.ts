import { O_CLOEXEC } from "./fcntl.js"

// mount(2) flags, include/uapi/linux/mount.h
export const MS_RDONLY = 1
export const MS_NOSUID = 2
export const MS_NODEV = 4
export const MS_NOEXEC = 8
export const MS_SYNCHRONOUS = 16
export const MS_REMOUNT = 32
export const MS_MANDLOCK = 64
export const MS_DIRSYNC = 128
export const MS_NOSYMFOLLOW = 256
export const MS_NOATIME = 1024
export const MS_NODIRATIME = 2048
export const MS_BIND = 4096
export const MS_MOVE = 8192
export const MS_REC = 16384
export const MS_VERBOSE = 32768
export const MS_SILENT = 32768
export const MS_POSIXACL = 1 << 16
export const MS_UNBINDABLE = 1 << 17
export const MS_PRIVATE = 1 << 18
export const MS_SLAVE = 1 << 19
export const MS_SHARED = 1 << 20
export const MS_RELATIME = 1 << 21
export const MS_KERNMOUNT = 1 << 22
export const MS_I_VERSION = 1 << 23
export const MS_STRICTATIME = 1 << 24
export const MS_LAZYTIME = 1 << 25
export const MS_SUBMOUNT = 1 << 26
export const MS_NOREMOTELOCK = 1 << 27
export const MS_NOSEC = 1 << 28
export const MS_BORN = 1 << 29
export const MS_ACTIVE = 1 << 30
export const MS_NOUSER = 2 ** 31
/** Superblock flags that MS_REMOUNT may change. */
export const MS_RMT_MASK = MS_RDONLY + MS_SYNCHRONOUS + MS_MANDLOCK + MS_I_VERSION + MS_LAZYTIME
/** Old magic in the top 16 bits, which the kernel strips before looking at flags. */
export const MS_MGC_VAL = 0xc0ed0000
export const MS_MGC_MSK = 0xffff0000

// umount2(2)
export const MNT_FORCE = 0x00000001
export const MNT_DETACH = 0x00000002
export const MNT_EXPIRE = 0x00000004
export const UMOUNT_NOFOLLOW = 0x00000008

// fsopen(2), fsmount(2), fspick(2), open_tree(2)
export const FSOPEN_CLOEXEC = 0x00000001
export const FSMOUNT_CLOEXEC = 0x00000001
export const FSPICK_CLOEXEC = 0x00000001
export const FSPICK_SYMLINK_NOFOLLOW = 0x00000002
export const FSPICK_NO_AUTOMOUNT = 0x00000004
export const FSPICK_EMPTY_PATH = 0x00000008
export const OPEN_TREE_CLONE = 1
export const OPEN_TREE_CLOEXEC = O_CLOEXEC

// fsconfig(2) commands, enum fsconfig_command
export const FSCONFIG_SET_FLAG = 0
export const FSCONFIG_SET_STRING = 1
export const FSCONFIG_SET_BINARY = 2
export const FSCONFIG_SET_PATH = 3
export const FSCONFIG_SET_PATH_EMPTY = 4
export const FSCONFIG_SET_FD = 5
export const FSCONFIG_CMD_CREATE = 6
export const FSCONFIG_CMD_RECONFIGURE = 7
export const FSCONFIG_CMD_CREATE_EXCL = 8
/** The seed's command (set the superblock's container); the rebase placed it after CREATE_EXCL. */
export const FSCONFIG_SET_CONTAINER = 9

// move_mount(2)
export const MOVE_MOUNT_F_SYMLINKS = 0x00000001
export const MOVE_MOUNT_F_AUTOMOUNTS = 0x00000002
export const MOVE_MOUNT_F_EMPTY_PATH = 0x00000004
export const MOVE_MOUNT_T_SYMLINKS = 0x00000010
export const MOVE_MOUNT_T_AUTOMOUNTS = 0x00000020
export const MOVE_MOUNT_T_EMPTY_PATH = 0x00000040
/** The seed's flag: to_dfd is a container fd and the mount becomes its root. Unused in mainline. */
export const MOVE_MOUNT_T_CONTAINER_ROOT = 0x00000080
export const MOVE_MOUNT_SET_GROUP = 0x00000100
export const MOVE_MOUNT_BENEATH = 0x00000200
/**
 * The mask simkernel validates against: mainline's plus the seed's
 * MOVE_MOUNT_T_CONTAINER_ROOT, as in the seed's rebase onto 6.x.
 */
export const MOVE_MOUNT__MASK = 0x000003f7
/**
 * Mainline's mask, the value the real-kernel conformance run saw; kept so
 * results can be compared with a kernel that never had container roots.
 */
export const MOVE_MOUNT__MASK_MAINLINE = 0x00000377

// mount_setattr(2) / fsmount(2) attributes
export const MOUNT_ATTR_RDONLY = 0x00000001
export const MOUNT_ATTR_NOSUID = 0x00000002
export const MOUNT_ATTR_NODEV = 0x00000004
export const MOUNT_ATTR_NOEXEC = 0x00000008
/** The atime field: exactly one of RELATIME (0), NOATIME, STRICTATIME. */
export const MOUNT_ATTR__ATIME = 0x00000070
export const MOUNT_ATTR_RELATIME = 0x00000000
export const MOUNT_ATTR_NOATIME = 0x00000010
export const MOUNT_ATTR_STRICTATIME = 0x00000020
export const MOUNT_ATTR_NODIRATIME = 0x00000080
export const MOUNT_ATTR_IDMAP = 0x00100000
export const MOUNT_ATTR_NOSYMFOLLOW = 0x00200000
/** sizeof(struct mount_attr) as first published: attr_set, attr_clr, propagation, userns_fd. */
export const MOUNT_ATTR_SIZE_VER0 = 32
