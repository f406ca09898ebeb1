// include/uapi/linux/openat2.h

export const RESOLVE_NO_XDEV = 0x01
export const RESOLVE_NO_MAGICLINKS = 0x02
export const RESOLVE_NO_SYMLINKS = 0x04
export const RESOLVE_BENEATH = 0x08
export const RESOLVE_IN_ROOT = 0x10
export const RESOLVE_CACHED = 0x20

/** sizeof(struct open_how) as first published: flags, mode, resolve (3 x u64). */
export const OPEN_HOW_SIZE_VER0 = 24
