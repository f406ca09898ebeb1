// User and PID namespace limits and the overflow ids.

/** The id shown for an id with no mapping in the viewer's user namespace (fs/proc overflowuid). */
export const OVERFLOWUID = 65534
export const OVERFLOWGID = 65534
/** Extents kept in the inline array before the kernel switches to sorted, searchable ones. */
export const UID_GID_MAP_MAX_BASE_EXTENTS = 5
/** Most lines a uid_map/gid_map write may hold. */
export const UID_GID_MAP_MAX_EXTENTS = 340
/**
 * Deepest user namespace level: create_user_ns() fails with ENOSPC (EUSERS
 * before Linux 4.9) when the parent is deeper than this. Linux writes the
 * literal 32; the name is ours.
 */
export const MAX_USER_NS_LEVEL = 32
/** include/linux/pid_namespace.h: the deepest PID namespace level (ENOSPC beyond). */
export const MAX_PID_NS_LEVEL = 32
