// wait4(2)/waitid(2) options, include/uapi/linux/wait.h; status macros as glibc's bits/waitstatus.h.

export const WNOHANG = 0x00000001
export const WUNTRACED = 0x00000002
export const WSTOPPED = WUNTRACED
export const WEXITED = 0x00000004
export const WCONTINUED = 0x00000008
export const WNOWAIT = 0x01000000
/** Wait only for children of this thread, not of the whole thread group. */
export const __WNOTHREAD = 0x20000000
export const __WALL = 0x40000000
export const __WCLONE = 0x80000000

// waitid(2) idtype
export const P_ALL = 0
export const P_PID = 1
export const P_PGID = 2
export const P_PIDFD = 3

/** The status of a child resumed by SIGCONT. */
export const __W_CONTINUED = 0xffff
/** Set in the status of a child killed by a signal that dumped core. */
export const __WCOREFLAG = 0x80

// Statuses are 16-bit values, so 32-bit operators are exact here.
export const W_EXITCODE = (ret: number, sig: number): number => (ret << 8) | sig
export const W_STOPCODE = (sig: number): number => (sig << 8) | 0x7f

export const WEXITSTATUS = (status: number): number => (status & 0xff00) >> 8
export const WTERMSIG = (status: number): number => status & 0x7f
export const WSTOPSIG = (status: number): number => WEXITSTATUS(status)
export const WIFEXITED = (status: number): boolean => WTERMSIG(status) === 0
/** glibc's signed-char trick: true for a termination signal 1..126 (0x7f means stopped). */
export const WIFSIGNALED = (status: number): boolean => ((((status & 0x7f) + 1) << 24) >> 25) > 0
export const WIFSTOPPED = (status: number): boolean => (status & 0xff) === 0x7f
export const WIFCONTINUED = (status: number): boolean => status === __W_CONTINUED
export const WCOREDUMP = (status: number): boolean => (status & __WCOREFLAG) !== 0
