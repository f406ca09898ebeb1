// prctl(2) options used by credentials and processes, include/uapi/linux/prctl.h

export const PR_SET_PDEATHSIG = 1
export const PR_GET_PDEATHSIG = 2
export const PR_GET_KEEPCAPS = 7
export const PR_SET_KEEPCAPS = 8
export const PR_SET_NAME = 15
export const PR_GET_NAME = 16
export const PR_CAPBSET_READ = 23
export const PR_CAPBSET_DROP = 24
export const PR_GET_SECUREBITS = 27
export const PR_SET_SECUREBITS = 28
export const PR_SET_CHILD_SUBREAPER = 36
export const PR_GET_CHILD_SUBREAPER = 37
export const PR_SET_NO_NEW_PRIVS = 38
export const PR_GET_NO_NEW_PRIVS = 39
export const PR_CAP_AMBIENT = 47
export const PR_CAP_AMBIENT_IS_SET = 1
export const PR_CAP_AMBIENT_RAISE = 2
export const PR_CAP_AMBIENT_LOWER = 3
export const PR_CAP_AMBIENT_CLEAR_ALL = 4
