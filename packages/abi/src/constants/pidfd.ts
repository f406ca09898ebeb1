import { O_EXCL, O_NONBLOCK } from "./fcntl.js"

// pidfd_open(2) flags, include/uapi/linux/pidfd.h
export const PIDFD_NONBLOCK = O_NONBLOCK
/** A pidfd for a thread rather than a thread group (Linux 6.9). */
export const PIDFD_THREAD = O_EXCL

// pidfd_send_signal(2) flags
export const PIDFD_SIGNAL_THREAD = 1 << 0
export const PIDFD_SIGNAL_THREAD_GROUP = 1 << 1
export const PIDFD_SIGNAL_PROCESS_GROUP = 1 << 2
