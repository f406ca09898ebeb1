// container_create(2) flags, the seed's include/uapi/linux/container.h (2019)

export const CONTAINER_NEW_FS_NS = 0x001
/** A mount namespace with nothing in it until move_mount(MOVE_MOUNT_T_CONTAINER_ROOT). */
export const CONTAINER_NEW_EMPTY_FS_NS = 0x002
export const CONTAINER_NEW_CGROUP_NS = 0x004
export const CONTAINER_NEW_UTS_NS = 0x008
export const CONTAINER_NEW_IPC_NS = 0x010
export const CONTAINER_NEW_USER_NS = 0x020
export const CONTAINER_NEW_PID_NS = 0x040
export const CONTAINER_NEW_NET_NS = 0x080
export const CONTAINER_KILL_ON_CLOSE = 0x100
export const CONTAINER_FD_CLOEXEC = 0x200
export const CONTAINER__FLAG_MASK = 0x3ff
