import { O_CLOEXEC, O_NONBLOCK } from "./fcntl.js"

// socket(2) basics, include/linux/socket.h and include/linux/net.h
export const AF_UNSPEC = 0
export const AF_UNIX = 1
export const AF_LOCAL = AF_UNIX
export const AF_INET = 2
export const AF_INET6 = 10
export const AF_NETLINK = 16
export const AF_PACKET = 17

export const SOCK_STREAM = 1
export const SOCK_DGRAM = 2
export const SOCK_RAW = 3
export const SOCK_RDM = 4
export const SOCK_SEQPACKET = 5
export const SOCK_PACKET = 10
/** The type lives in the low bits; the flags below ride above it. */
export const SOCK_TYPE_MASK = 0xf
export const SOCK_NONBLOCK = O_NONBLOCK
export const SOCK_CLOEXEC = O_CLOEXEC

// include/uapi/linux/netlink.h
export const NETLINK_ROUTE = 0
