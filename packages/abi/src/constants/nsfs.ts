// nsfs ioctls (include/uapi/linux/nsfs.h) and the initial namespaces' inode numbers.

// Linux's ioctl number encoding, include/uapi/asm-generic/ioctl.h:
// dir in bits 30-31, size in 16-29, type in 8-15, nr in 0-7.
export const _IOC_NONE = 0
export const _IOC_WRITE = 1
export const _IOC_READ = 2

/** Arithmetic, not <<, because a direction of 2 or 3 sets bit 31. */
export const _IOC = (dir: number, type: number, nr: number, size: number): number =>
  dir * 2 ** 30 + size * 2 ** 16 + type * 2 ** 8 + nr
export const _IO = (type: number, nr: number): number => _IOC(_IOC_NONE, type, nr, 0)
/** `size` is sizeof the argument type in bytes. */
export const _IOR = (type: number, nr: number, size: number): number => _IOC(_IOC_READ, type, nr, size)
export const _IOW = (type: number, nr: number, size: number): number => _IOC(_IOC_WRITE, type, nr, size)
export const _IOWR = (type: number, nr: number, size: number): number =>
  _IOC(_IOC_READ + _IOC_WRITE, type, nr, size)

export const NSIO = 0xb7
export const NS_GET_USERNS = _IO(NSIO, 0x1)
export const NS_GET_PARENT = _IO(NSIO, 0x2)
export const NS_GET_NSTYPE = _IO(NSIO, 0x3)
export const NS_GET_OWNER_UID = _IO(NSIO, 0x4)

// Inode numbers of the initial namespaces as /proc/<pid>/ns/* shows them
// (include/linux/proc_ns.h). Since Linux 6.18 mnt and net are fixed too
// (uapi enum init_ns_ino); before, they were allocated dynamically.
export const PROC_ROOT_INO = 1
export const PROC_IPC_INIT_INO = 0xefffffff
export const PROC_UTS_INIT_INO = 0xeffffffe
export const PROC_USER_INIT_INO = 0xeffffffd
export const PROC_PID_INIT_INO = 0xeffffffc
export const PROC_CGROUP_INIT_INO = 0xeffffffb
export const PROC_TIME_INIT_INO = 0xeffffffa
export const PROC_NET_INIT_INO = 0xeffffff9
export const PROC_MNT_INIT_INO = 0xeffffff8
/** fs/proc/generic.c: proc_alloc_inum() hands out numbers from here up. */
export const PROC_DYNAMIC_FIRST = 0xf0000000
