// clone(2), clone3(2), unshare(2), setns(2): include/uapi/linux/sched.h.
// Flags from bit 31 up are plain numbers (exact below 2^53); combine them with + or BigInt, never | or &.

/** clone(2): the low byte is the signal sent to the parent on exit. */
export const CSIGNAL = 0x000000ff
/** Reuses a CSIGNAL bit, so only unshare(2), setns(2) and clone3(2) accept it. */
export const CLONE_NEWTIME = 0x00000080
export const CLONE_VM = 0x00000100
export const CLONE_FS = 0x00000200
export const CLONE_FILES = 0x00000400
export const CLONE_SIGHAND = 0x00000800
export const CLONE_PIDFD = 0x00001000
export const CLONE_PTRACE = 0x00002000
export const CLONE_VFORK = 0x00004000
export const CLONE_PARENT = 0x00008000
export const CLONE_THREAD = 0x00010000
export const CLONE_NEWNS = 0x00020000
export const CLONE_SYSVSEM = 0x00040000
export const CLONE_SETTLS = 0x00080000
export const CLONE_PARENT_SETTID = 0x00100000
export const CLONE_CHILD_CLEARTID = 0x00200000
export const CLONE_DETACHED = 0x00400000
export const CLONE_UNTRACED = 0x00800000
export const CLONE_CHILD_SETTID = 0x01000000
export const CLONE_NEWCGROUP = 0x02000000
export const CLONE_NEWUTS = 0x04000000
export const CLONE_NEWIPC = 0x08000000
export const CLONE_NEWUSER = 0x10000000
export const CLONE_NEWPID = 0x20000000
export const CLONE_NEWNET = 0x40000000
export const CLONE_IO = 0x80000000
/** clone3(2) only: reset all signal handlers to default in the child. */
export const CLONE_CLEAR_SIGHAND = 0x100000000
/** clone3(2) only: place the child in the cgroup given by clone_args.cgroup. */
export const CLONE_INTO_CGROUP = 0x200000000

// sizeof(struct clone_args) at each extension
export const CLONE_ARGS_SIZE_VER0 = 64
/** + set_tid, set_tid_size */
export const CLONE_ARGS_SIZE_VER1 = 80
/** + cgroup */
export const CLONE_ARGS_SIZE_VER2 = 88
