import { AF_NETLINK, AF_UNIX, POLLERR, POLLHUP, SOCK_CLOEXEC, SOCK_NONBLOCK, type SysError, sysError } from "@simkernel/abi"
import type { Cred, CredValues } from "@simkernel/cred"
import { Refcounted, WaitQueue, WouldBlock } from "@simkernel/kref"

export { WaitQueue, WouldBlock }
import { Effect } from "effect"
import { MSG_DONTWAIT } from "./constants.js"
import type { NetNamespace } from "./NetNamespace.js"

/**
 * An opaque filesystem inode of type S_IFSOCK, made by the VFS for a
 * path-bound AF_UNIX socket (unix_bind_bsd() does mknod, the VFS's part)
 * and looked up by it for connect() (unix_find_bsd()). Only its identity
 * matters here.
 */
export interface SocketInode {
  readonly ino: number
}

/** struct sockaddr_un: an abstract name (sun_path starting with a NUL byte), a filesystem path, or unnamed. */
export type UnixSockAddr =
  | { readonly family: typeof AF_UNIX; readonly kind: "abstract"; readonly name: Uint8Array }
  | { readonly family: typeof AF_UNIX; readonly kind: "path"; readonly path: string; readonly inode: SocketInode }
  | { readonly family: typeof AF_UNIX; readonly kind: "unnamed" }

/** struct sockaddr_nl. */
export interface NetlinkSockAddr {
  readonly family: typeof AF_NETLINK
  readonly pid: number
  readonly groups: number
}

/** Any other address family (AF_UNSPEC disconnects a datagram socket). */
export interface OtherSockAddr {
  readonly family: number
  readonly kind?: undefined
}

export type SockAddr = UnixSockAddr | NetlinkSockAddr | OtherSockAddr

/** The abstract AF_UNIX address "\0name" (the name is taken byte for byte). */
export const abstractAddr = (name: string | Uint8Array): UnixSockAddr => {
  const bytes = typeof name === "string" ? Uint8Array.from(name, (c) => c.charCodeAt(0) & 0xff) : name
  const sunPath = new Uint8Array(bytes.length + 1)
  sunPath.set(bytes, 1)
  return { family: AF_UNIX, kind: "abstract", name: sunPath }
}

/** What sendmsg() gets besides the data. */
export interface SendOptions {
  /** msg_name: the destination (datagram sockets). */
  readonly addr?: SockAddr
  /** The sending task's credentials (netlink permission checks); default the socket opener's. */
  readonly sender?: CredValues
  /** IFLA_NET_NS_FD resolution for rtnetlink requests (see RtnlContext). */
  readonly netnsByFd?: (fd: number) => NetNamespace | SysError
  /** IFLA_NET_NS_PID resolution for rtnetlink requests. */
  readonly netnsByPid?: (pid: number) => NetNamespace | SysError
}

/** What recvmsg() returns: the bytes copied, the return value, msg_flags and msg_name. */
export interface RecvResult {
  readonly data: Uint8Array
  /** The syscall's return value: bytes copied, or the full message length with MSG_TRUNC in flags. */
  readonly length: number
  /** msg_flags (MSG_TRUNC when the message did not fit). */
  readonly flags: number
  /** The sender's address (datagram sockets), if it has one. */
  readonly addr?: SockAddr
}

/**
 * A socket, as struct socket and struct sock together: its family, type
 * and protocol, the network namespace it was made in (a held reference:
 * the namespace lives while the socket is open) and the opener's
 * credentials (file->f_cred, also held). The references on a Socket are
 * the file's: the fd table holds one per open file, and the last put()
 * releases the socket (close(2)). Calls answer with a value, a SysError,
 * or WouldBlock when a blocking call must wait.
 */
export abstract class Socket extends Refcounted {
  readonly kind = "Socket"
  abstract readonly family: number
  /** SOCK_STREAM, SOCK_DGRAM, SOCK_SEQPACKET or SOCK_RAW. */
  abstract readonly type: number
  readonly protocol: number
  readonly net: NetNamespace
  readonly cred: Cred
  /** O_NONBLOCK on the file (SOCK_NONBLOCK at creation, or fcntl). */
  nonblock: boolean
  /** SOCK_CLOEXEC at creation: the fd table sets FD_CLOEXEC from it. */
  cloexec: boolean
  /** sk->sk_wq: woken with POLL* events when the socket's state changes. */
  readonly wq = new WaitQueue()

  /** Takes its own references on `net` and `cred`. */
  protected constructor(net: NetNamespace, cred: Cred, protocol: number, flags: number) {
    super(net.liveObjects, "socket")
    this.net = this.hold(net.get())
    this.cred = this.hold(cred.get())
    this.protocol = protocol
    this.nonblock = (flags & SOCK_NONBLOCK) !== 0
    this.cloexec = (flags & SOCK_CLOEXEC) !== 0
  }

  /** The POLL* events ready now (the socket's poll()). */
  abstract poll(): number
  bind(_addr: SockAddr): SysError | undefined {
    return sysError("EOPNOTSUPP", "bind")
  }
  connect(_addr: SockAddr): SysError | WouldBlock | undefined {
    return sysError("EOPNOTSUPP", "connect")
  }
  listen(_backlog: number): SysError | undefined {
    return sysError("EOPNOTSUPP", "listen")
  }
  accept(_flags = 0): Socket | SysError | WouldBlock {
    return sysError("EOPNOTSUPP", "accept")
  }
  abstract sendmsg(data: Uint8Array, flags?: number, options?: SendOptions): number | SysError | WouldBlock
  abstract recvmsg(size: number, flags?: number): RecvResult | SysError | WouldBlock
  shutdown(_how: number): SysError | undefined {
    return sysError("EOPNOTSUPP", "shutdown")
  }
  /** getsockname(2). */
  abstract getsockname(): SockAddr
  /** getpeername(2): ENOTCONN when not connected. */
  getpeername(): SockAddr | SysError {
    return sysError("ENOTCONN", "getpeername")
  }

  /** The protocol's release (unix_release(), netlink_release()), run when the last reference goes. */
  protected abstract release(): void

  protected override destroy(): void {
    this.release()
  }

  /**
   * EAGAIN for a non-blocking call (O_NONBLOCK on the file, MSG_DONTWAIT),
   * else WouldBlock: wait on `wq` until `ready()`.
   */
  protected wouldBlock(flags: number, syscall: string, wq: WaitQueue, ready: () => boolean): SysError | WouldBlock {
    return this.nonblock || (flags & MSG_DONTWAIT) !== 0 ? sysError("EAGAIN", syscall) : new WouldBlock(wq, ready)
  }
}

/**
 * Wait until `socket` reports one of `events` (or POLLERR / POLLHUP), as
 * a task sleeping on sk->sk_wq does. Interruption removes the waiter.
 */
export const sockWait = (socket: Socket, events: number): Effect.Effect<void> =>
  Effect.callback<void>((resume) => {
    const want = events | POLLERR | POLLHUP
    if ((socket.poll() & want) !== 0) {
      resume(Effect.void)
      return
    }
    const remove = socket.wq.add(() => {
      if ((socket.poll() & want) === 0) return
      remove()
      resume(Effect.void)
    })
    return Effect.sync(remove)
  })

/** Sleep until a WouldBlock's condition holds (checked now, then at every wake-up of its queue). */
export const waitUntilReady = (wb: WouldBlock): Effect.Effect<void> =>
  Effect.callback<void>((resume) => {
    if (wb.ready()) {
      resume(Effect.void)
      return
    }
    const remove = wb.wq.add(() => {
      if (!wb.ready()) return
      remove()
      resume(Effect.void)
    })
    return Effect.sync(remove)
  })

/**
 * Run a socket call to completion as a blocking syscall does: on
 * WouldBlock wait until it is ready and call again; a SysError fails the
 * Effect.
 */
export const blockingCall = <A>(call: () => A | SysError | WouldBlock): Effect.Effect<A, SysError> =>
  Effect.suspend(function loop(): Effect.Effect<A, SysError> {
    const r = call()
    if (r instanceof WouldBlock) return Effect.flatMap(waitUntilReady(r), () => Effect.suspend(loop))
    if (r instanceof Error) return Effect.fail(r as SysError)
    return Effect.succeed(r)
  })
