import {
  AF_NETLINK,
  AF_UNIX,
  NETLINK_ROUTE,
  SOCK_CLOEXEC,
  SOCK_DGRAM,
  SOCK_NONBLOCK,
  SOCK_RAW,
  SOCK_SEQPACKET,
  SOCK_STREAM,
  SOCK_TYPE_MASK,
  sysError,
  type SysError
} from "@simkernel/abi"
import type { Cred } from "@simkernel/cred"
import { NetlinkSocket } from "./af_netlink.js"
import { UnixSocket, unixSocketpair } from "./af_unix.js"
import { NETLINK_MAX_LINKS, NPROTO, PF_UNIX, SOCK_MAX } from "./constants.js"
import type { NetNamespace } from "./NetNamespace.js"
import type { Socket } from "./socket.js"

export interface SockCreateOptions {
  /** The creating task's tgid (a netlink socket's first-choice port id). */
  readonly tgid?: number
}

/**
 * __sys_socket_create() and __sock_create() (net/socket.c) with the two
 * families modelled, checked in Linux's order: EINVAL for flags in `type`
 * other than SOCK_NONBLOCK | SOCK_CLOEXEC; EAFNOSUPPORT for a domain
 * outside 0..45; EINVAL for a type outside 0..10; EAFNOSUPPORT for a
 * family this kernel lacks (everything but AF_UNIX and AF_NETLINK); then
 * the family's create:
 * - unix_create(): EPROTONOSUPPORT for a protocol other than 0 or PF_UNIX,
 *   ESOCKTNOSUPPORT for a type other than SOCK_STREAM, SOCK_DGRAM,
 *   SOCK_SEQPACKET (SOCK_RAW becomes SOCK_DGRAM, as in Linux);
 * - netlink_create(): ESOCKTNOSUPPORT unless SOCK_RAW or SOCK_DGRAM,
 *   EPROTONOSUPPORT for a protocol outside 0..31 or not modelled (only
 *   NETLINK_ROUTE is).
 * The socket lives in `net` (container_socket() passes the container's).
 */
export const sockCreate = (
  net: NetNamespace,
  cred: Cred,
  domain: number,
  type: number,
  protocol: number,
  options: SockCreateOptions = {}
): Socket | SysError => {
  const flags = type & ~SOCK_TYPE_MASK
  if ((flags & ~(SOCK_CLOEXEC | SOCK_NONBLOCK)) !== 0) return sysError("EINVAL", "socket", "unknown flags in type")
  const t = type & SOCK_TYPE_MASK
  if (!Number.isInteger(domain) || domain < 0 || domain >= NPROTO) return sysError("EAFNOSUPPORT", "socket")
  if (t < 0 || t >= SOCK_MAX) return sysError("EINVAL", "socket")
  switch (domain) {
    case AF_UNIX: {
      if (protocol !== 0 && protocol !== PF_UNIX) return sysError("EPROTONOSUPPORT", "socket")
      if (t !== SOCK_STREAM && t !== SOCK_DGRAM && t !== SOCK_SEQPACKET && t !== SOCK_RAW)
        return sysError("ESOCKTNOSUPPORT", "socket")
      return new UnixSocket(net, cred, t === SOCK_RAW ? SOCK_DGRAM : t, protocol, flags)
    }
    case AF_NETLINK: {
      if (t !== SOCK_RAW && t !== SOCK_DGRAM) return sysError("ESOCKTNOSUPPORT", "socket")
      if (protocol < 0 || protocol >= NETLINK_MAX_LINKS || protocol !== NETLINK_ROUTE)
        return sysError("EPROTONOSUPPORT", "socket", "only NETLINK_ROUTE is modelled")
      return new NetlinkSocket(net, cred, t, flags, options.tgid ?? 0)
    }
    default:
      return sysError("EAFNOSUPPORT", "socket", "only AF_UNIX and AF_NETLINK are modelled")
  }
}

/**
 * __sys_socketpair(): two sockets made as socket(2) makes them (same
 * errors), then connected by the family's socketpair: AF_UNIX only;
 * EOPNOTSUPP for AF_NETLINK (sock_no_socketpair()). Returns both
 * references.
 */
export const sockSocketpair = (
  net: NetNamespace,
  cred: Cred,
  domain: number,
  type: number,
  protocol: number
): readonly [Socket, Socket] | SysError => {
  const a = sockCreate(net, cred, domain, type, protocol)
  if (a instanceof Error) return a
  if (!(a instanceof UnixSocket)) {
    a.put()
    return sysError("EOPNOTSUPP", "socketpair")
  }
  const b = sockCreate(net, cred, domain, type, protocol) as UnixSocket
  unixSocketpair(a, b)
  return [a, b]
}
