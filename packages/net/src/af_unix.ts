import {
  AF_UNIX,
  AF_UNSPEC,
  POLLERR,
  POLLHUP,
  POLLIN,
  POLLOUT,
  POLLRDHUP,
  POLLRDNORM,
  POLLWRBAND,
  POLLWRNORM,
  SOCK_CLOEXEC,
  SOCK_DGRAM,
  SOCK_NONBLOCK,
  SOCK_SEQPACKET,
  SOCK_STREAM,
  sysError,
  type SysError
} from "@simkernel/abi"
import type { Cred } from "@simkernel/cred"
import { MSG_OOB, MSG_PEEK, MSG_TRUNC, SHUT_RD, SHUT_RDWR } from "./constants.js"
import type { NetNamespace } from "./NetNamespace.js"
import {
  type RecvResult,
  type SendOptions,
  type SockAddr,
  Socket,
  type UnixSockAddr,
  WaitQueue,
  WouldBlock
} from "./socket.js"

/** sizeof(sun_path). */
export const UNIX_PATH_MAX = 108
/** The default of net.core.wmem_default: a socket's send buffer. */
export const SK_WMEM_DEFAULT = 212992
/** The default of net.unix.max_dgram_qlen. */
export const UNIX_MAX_DGRAM_QLEN = 10
/** The default of net.core.somaxconn: listen(2) clamps its backlog to it. */
export const SOMAXCONN = 4096

const RCV_SHUTDOWN = 1
const SEND_SHUTDOWN = 2
const SHUTDOWN_MASK = 3

/** The connection states af_unix uses (TCP_CLOSE, TCP_LISTEN, TCP_ESTABLISHED). */
export type UnixState = "close" | "listen" | "established"

/** A queued message (an skb): its bytes, how many a stream reader has taken, and its sender. */
interface UnixSkb {
  readonly data: Uint8Array
  off: number
  readonly from: UnixSocket | undefined
  /** A connection waiting on a listener (the embryo socket the skb carries). */
  readonly embryo?: UnixSocket
}

const POLL_OUT = POLLOUT | POLLWRNORM | POLLWRBAND

const unnamed: UnixSockAddr = { family: AF_UNIX, kind: "unnamed" }

const abstractKey = (type: number, name: Uint8Array): string => {
  let s = `${type}:`
  for (let i = 0; i < name.length; i++) s += String.fromCharCode(name[i]!)
  return s
}

/** unix_validate_addr() and the abstract/path split: EINVAL for another family or a bad length. */
const validateAddr = (addr: SockAddr, syscall: string): UnixSockAddr | SysError => {
  if (addr.family !== AF_UNIX) return sysError("EINVAL", syscall, "not an AF_UNIX address")
  const a = addr as UnixSockAddr
  if (a.kind === "abstract") {
    if (a.name.length < 1 || a.name.length > UNIX_PATH_MAX || a.name[0] !== 0)
      return sysError("EINVAL", syscall, "an abstract name is a NUL byte and at most 107 more")
  } else if (a.kind === "path") {
    if (a.path.length < 1 || a.path.length >= UNIX_PATH_MAX) return sysError("EINVAL", syscall, "bad socket path length")
  }
  return a
}

/**
 * An AF_UNIX socket, as net/unix/af_unix.c: SOCK_STREAM (a byte stream),
 * SOCK_SEQPACKET (connected, with message boundaries) or SOCK_DGRAM
 * (messages, connected or addressed). Names are abstract (per network
 * namespace and socket type) or filesystem paths (through a SocketInode the
 * VFS makes; reachable from every namespace). A connection's ends point at
 * each other without counted references; each end's release tells the
 * other (EOF, EPIPE, ECONNRESET), as unix_release_sock() does.
 */
export class UnixSocket extends Socket {
  readonly family = AF_UNIX
  readonly type: number
  state: UnixState = "close"
  /** The bound address (u->addr). */
  addr: UnixSockAddr | undefined
  /** unix_peer(): the other end of a connection, or a datagram socket's default destination. */
  peer: UnixSocket | undefined
  /** sk_shutdown: RCV_SHUTDOWN | SEND_SHUTDOWN. */
  shutdownMask = 0
  /** SOCK_DEAD: released. */
  dead = false
  /** sk_err: a pending error (ECONNRESET) reported once by the next recvmsg. */
  err: "ECONNRESET" | undefined
  /** sk_max_ack_backlog: listen backlog, or max_dgram_qlen for datagram sockets. */
  maxAckBacklog: number
  readonly sndbuf = SK_WMEM_DEFAULT
  /** sk_wmem_alloc: bytes this socket sent that still sit in a receive queue. */
  wmem = 0
  /**
   * u->peer_wait: senders and connectors waiting for room in this socket's
   * queue; woken when a message or connection is taken, and at release.
   */
  readonly peerWait = new WaitQueue()
  /** sk_receive_queue: taken from `qhead` on; slots before it are spent. */
  private readonly queue: Array<UnixSkb | undefined> = []
  private qhead = 0

  constructor(net: NetNamespace, cred: Cred, type: number, protocol: number, flags: number) {
    super(net, cred, protocol, flags)
    this.type = type
    this.maxAckBacklog = type === SOCK_DGRAM ? UNIX_MAX_DGRAM_QLEN : 0
  }

  /** Messages waiting in the receive queue (pending connections on a listener). */
  get queueLength(): number {
    return this.queue.length - this.qhead
  }

  private peek(): UnixSkb | undefined {
    return this.queue[this.qhead]
  }

  private dequeue(): UnixSkb | undefined {
    const skb = this.queue[this.qhead]
    if (skb === undefined) return undefined
    this.queue[this.qhead++] = undefined
    if (this.qhead === this.queue.length) {
      this.queue.length = 0
      this.qhead = 0
    } else if (this.qhead > 64 && this.qhead * 2 > this.queue.length) {
      this.queue.splice(0, this.qhead)
      this.qhead = 0
    }
    return skb
  }

  /** unix_recvq_full(): more queued than the backlog allows. */
  private recvqFull(): boolean {
    return this.queueLength > this.maxAckBacklog
  }

  /** Queue `data` from `from` (skb_queue_tail() + wake the reader). */
  private enqueue(skb: UnixSkb): void {
    this.queue.push(skb)
    if (skb.from !== undefined) skb.from.wmem += skb.data.length
    this.wq.wakeUp(POLLIN | POLLRDNORM)
  }

  /** Give an skb's send-buffer charge back to its sender (sock_wfree()) and wake it. */
  private static uncharge(skb: UnixSkb): void {
    const from = skb.from
    if (from === undefined) return
    from.wmem -= skb.data.length
    from.wq.wakeUp(POLL_OUT)
  }

  private lookup(addr: UnixSockAddr, syscall: string): UnixSocket | SysError {
    return unixFindOther(this.net, addr, this.type, syscall)
  }

  /**
   * unix_bind(): an abstract name (EADDRINUSE when a socket of the same type
   * has it in this namespace), a path (the VFS made `inode`; if bind fails
   * the VFS removes it again), or with kind "unnamed" an autobind to an
   * abstract name of five hex digits. EINVAL when already bound or for a
   * bad address.
   */
  override bind(addr: SockAddr): SysError | undefined {
    const a = validateAddr(addr, "bind")
    if (a instanceof Error) return a
    if (a.kind === "unnamed") return this.autobind()
    if (this.addr !== undefined) return sysError("EINVAL", "bind", "socket already bound")
    if (a.kind === "abstract") {
      const key = abstractKey(this.type, a.name)
      if (this.net.unixAbstract.has(key)) return sysError("EADDRINUSE", "bind")
      this.net.unixAbstract.set(key, this)
      this.addr = { family: AF_UNIX, kind: "abstract", name: a.name.slice() }
      return undefined
    }
    const table = this.net.shared.unixByInode
    if (table.has(a.inode)) return sysError("EADDRINUSE", "bind")
    table.set(a.inode, this)
    this.addr = a
    return undefined
  }

  /** unix_autobind(): the first free abstract name of a NUL byte and five hex digits, from a random start. */
  autobind(): SysError | undefined {
    if (this.addr !== undefined) return undefined
    let order = this.net.shared.random() & 0xfffff
    for (let tries = 0; tries <= 0xfffff; tries++) {
      const hex = order.toString(16).padStart(5, "0")
      const name = Uint8Array.from("\0" + hex, (c) => c.charCodeAt(0))
      const key = abstractKey(this.type, name)
      if (!this.net.unixAbstract.has(key)) {
        this.net.unixAbstract.set(key, this)
        this.addr = { family: AF_UNIX, kind: "abstract", name }
        return undefined
      }
      order = (order + 1) & 0xfffff
    }
    return sysError("ENOSPC", "bind", "no free autobind name")
  }

  /**
   * unix_listen(): EOPNOTSUPP for SOCK_DGRAM, EINVAL when unbound or
   * connected. The backlog is clamped to somaxconn (4096).
   */
  override listen(backlog: number): SysError | undefined {
    if (this.type !== SOCK_STREAM && this.type !== SOCK_SEQPACKET) return sysError("EOPNOTSUPP", "listen")
    if (this.addr === undefined) return sysError("EINVAL", "listen", "socket not bound")
    if (this.state !== "close" && this.state !== "listen") return sysError("EINVAL", "listen", "socket connected")
    const b = backlog >>> 0 > SOMAXCONN ? SOMAXCONN : backlog
    if (b > this.maxAckBacklog) this.peerWait.wakeUp(POLL_OUT)
    this.maxAckBacklog = b
    this.state = "listen"
    return undefined
  }

  /**
   * connect(2): unix_stream_connect() for stream and seqpacket sockets,
   * unix_dgram_connect() for datagram ones (AF_UNSPEC disconnects them).
   */
  override connect(addr: SockAddr): SysError | WouldBlock | undefined {
    return this.type === SOCK_DGRAM ? this.dgramConnect(addr) : this.streamConnect(addr)
  }

  /**
   * unix_stream_connect(): ECONNREFUSED when nobody listens on the name
   * (or a socket of another type has it), EAGAIN / WouldBlock when the
   * listener's backlog is full, EISCONN when already connected, EINVAL
   * for a listening socket. The listener gets a new connected socket to
   * accept; data may be sent before it is accepted.
   */
  private streamConnect(addr: SockAddr): SysError | WouldBlock | undefined {
    const a = validateAddr(addr, "connect")
    if (a instanceof Error) return a
    if (a.kind === "unnamed") return sysError("EINVAL", "connect")
    const other = this.lookup(a, "connect")
    if (other instanceof Error) return other
    if (other.state !== "listen" || (other.shutdownMask & RCV_SHUTDOWN) !== 0)
      return sysError("ECONNREFUSED", "connect", "not listening")
    if (other.recvqFull()) return this.wouldBlock(0, "connect", other.peerWait, () => !other.recvqFull() || other.dead)
    if (this.state === "established") return sysError("EISCONN", "connect")
    if (this.state !== "close") return sysError("EINVAL", "connect")
    const newsk = new UnixSocket(other.net, other.cred, other.type, other.protocol, 0)
    newsk.state = "established"
    newsk.addr = other.addr
    newsk.peer = this
    this.peer = newsk
    this.state = "established"
    other.enqueue({ data: EMPTY, off: 0, from: undefined, embryo: newsk })
    return undefined
  }

  /** unix_dgram_connect(): set (or with AF_UNSPEC clear) the default destination; EPERM when it is connected elsewhere. */
  private dgramConnect(addr: SockAddr): SysError | undefined {
    if (addr.family === AF_UNSPEC) {
      this.peer = undefined
      this.state = "close"
      return undefined
    }
    const a = validateAddr(addr, "connect")
    if (a instanceof Error) return a
    if (a.kind === "unnamed") return sysError("EINVAL", "connect")
    const other = this.lookup(a, "connect")
    if (other instanceof Error) return other
    if (!unixMaySend(this, other)) return sysError("EPERM", "connect")
    this.peer = other
    this.state = "established"
    return undefined
  }

  /**
   * unix_accept(): EOPNOTSUPP for SOCK_DGRAM, EINVAL when not listening,
   * EAGAIN / WouldBlock with no connection waiting. `flags` are accept4's
   * SOCK_NONBLOCK | SOCK_CLOEXEC (EINVAL otherwise). The caller gets the
   * new socket's reference.
   */
  override accept(flags = 0): UnixSocket | SysError | WouldBlock {
    // __sys_accept4() checks the flags before the protocol is asked
    if ((flags & ~(SOCK_NONBLOCK | SOCK_CLOEXEC)) !== 0) return sysError("EINVAL", "accept4")
    if (this.type === SOCK_DGRAM) return sysError("EOPNOTSUPP", "accept")
    if (this.state !== "listen") return sysError("EINVAL", "accept")
    const skb = this.dequeue()
    if (skb === undefined) return this.wouldBlock(0, "accept", this.wq, () => this.queueLength > 0 || this.state !== "listen")
    this.peerWait.wakeUp(POLL_OUT)
    const newsk = skb.embryo!
    newsk.nonblock = (flags & SOCK_NONBLOCK) !== 0
    newsk.cloexec = (flags & SOCK_CLOEXEC) !== 0
    return newsk
  }

  override sendmsg(data: Uint8Array, flags = 0, options?: SendOptions): number | SysError | WouldBlock {
    if ((flags & MSG_OOB) !== 0) return sysError("EOPNOTSUPP", "sendmsg")
    return this.type === SOCK_STREAM ? this.streamSendmsg(data, flags, options) : this.dgramSendmsg(data, flags, options)
  }

  /**
   * unix_stream_sendmsg(): EISCONN (connected) or EOPNOTSUPP with a
   * destination, ENOTCONN unconnected, EPIPE after shutdown(SHUT_WR) or
   * once the peer is gone or shut for reading (the caller raises SIGPIPE
   * unless MSG_NOSIGNAL). Sends what fits in the send buffer; with no room
   * EAGAIN / WouldBlock.
   */
  private streamSendmsg(data: Uint8Array, flags: number, options?: SendOptions): number | SysError | WouldBlock {
    if (options?.addr !== undefined)
      return sysError(this.state === "established" ? "EISCONN" : "EOPNOTSUPP", "sendmsg")
    const other = this.peer
    if (other === undefined || this.state !== "established") return sysError("ENOTCONN", "sendmsg")
    if ((this.shutdownMask & SEND_SHUTDOWN) !== 0) return sysError("EPIPE", "sendmsg")
    if (data.length === 0) return 0
    if (other.dead || (other.shutdownMask & RCV_SHUTDOWN) !== 0) return sysError("EPIPE", "sendmsg")
    const room = this.sndbuf - this.wmem
    if (room <= 0) return this.wouldBlock(flags, "sendmsg", this.wq, () => this.sendReady())
    const n = Math.min(room, data.length)
    other.enqueue({ data: data.slice(0, n), off: 0, from: this })
    return n
  }

  /**
   * unix_dgram_sendmsg() (also SOCK_SEQPACKET): ENOTCONN with no
   * destination, EMSGSIZE above sndbuf - 32 bytes, ECONNREFUSED for an
   * unknown name or a peer that is gone, EPERM when the destination is
   * connected to another socket, EPIPE when it is shut for reading,
   * EAGAIN / WouldBlock when its queue is full (max_dgram_qlen, unless it
   * is connected back to us) or our send buffer is.
   */
  private dgramSendmsg(data: Uint8Array, flags: number, options?: SendOptions): number | SysError | WouldBlock {
    if (this.type === SOCK_SEQPACKET) {
      if (this.state !== "established") return sysError("ENOTCONN", "sendmsg")
    }
    let other: UnixSocket | SysError | undefined
    const addr = this.type === SOCK_SEQPACKET ? undefined : options?.addr
    if (addr !== undefined) {
      const a = validateAddr(addr, "sendmsg")
      if (a instanceof Error) return a
      if (a.kind === "unnamed") return sysError("EINVAL", "sendmsg")
      if (data.length > this.sndbuf - 32) return sysError("EMSGSIZE", "sendmsg")
      other = this.lookup(a, "sendmsg")
      if (other instanceof Error) return other
    } else {
      other = this.peer
      if (other === undefined) return sysError("ENOTCONN", "sendmsg")
      if (data.length > this.sndbuf - 32) return sysError("EMSGSIZE", "sendmsg")
    }
    if (this.type === SOCK_SEQPACKET && (this.shutdownMask & SEND_SHUTDOWN) !== 0) return sysError("EPIPE", "sendmsg")
    if (!unixMaySend(this, other)) return sysError("EPERM", "sendmsg")
    if (other.dead) {
      if (this.type === SOCK_SEQPACKET) return sysError("EPIPE", "sendmsg")
      if (this.peer === other) {
        this.peer = undefined
        this.state = "close"
      }
      return sysError("ECONNREFUSED", "sendmsg")
    }
    if ((other.shutdownMask & RCV_SHUTDOWN) !== 0) return sysError("EPIPE", "sendmsg")
    if (this.wmem >= this.sndbuf) return this.wouldBlock(flags, "sendmsg", this.wq, () => this.sendReady())
    if (other !== this && other.peer !== this && other.recvqFull()) {
      const full = other
      return this.wouldBlock(flags, "sendmsg", full.peerWait, () => !full.recvqFull() || full.dead)
    }
    other.enqueue({ data: data.slice(), off: 0, from: this })
    return data.length
  }

  override recvmsg(size: number, flags = 0): RecvResult | SysError | WouldBlock {
    return this.type === SOCK_STREAM ? this.streamRecvmsg(size, flags) : this.dgramRecvmsg(size, flags)
  }

  /** A blocked reader can go on: data, a pending error, or shut for reading. */
  private recvReady(): boolean {
    return this.queueLength > 0 || this.err !== undefined || (this.shutdownMask & RCV_SHUTDOWN) !== 0
  }

  /** A blocked writer can go on: room in the send buffer, or the connection is gone. */
  private sendReady(): boolean {
    const p = this.peer
    return this.wmem < this.sndbuf || p === undefined || p.dead || (this.shutdownMask & SEND_SHUTDOWN) !== 0
  }

  /** A pending sk_err, reported once (sock_error()). */
  private takeError(syscall: string): SysError | undefined {
    const e = this.err
    if (e === undefined) return undefined
    this.err = undefined
    return sysError(e, syscall)
  }

  /**
   * unix_stream_read_generic(): EINVAL unless connected; up to `size`
   * bytes across queued writes; 0 at end of stream (peer gone or
   * shut down); a pending ECONNRESET; EAGAIN / WouldBlock when empty.
   * MSG_PEEK leaves the data queued.
   */
  private streamRecvmsg(size: number, flags: number): RecvResult | SysError | WouldBlock {
    if (this.state !== "established") return sysError("EINVAL", "recvmsg")
    if (this.peek() === undefined) {
      const e = this.takeError("recvmsg")
      if (e !== undefined) return e
      if ((this.shutdownMask & RCV_SHUTDOWN) !== 0) return { data: EMPTY, length: 0, flags: 0 }
      return this.wouldBlock(flags, "recvmsg", this.wq, () => this.recvReady())
    }
    const peek = (flags & MSG_PEEK) !== 0
    const out = new Uint8Array(Math.min(size, this.queuedBytes()))
    let copied = 0
    let i = this.qhead
    while (copied < out.length) {
      const skb = this.queue[i]!
      const n = Math.min(skb.data.length - skb.off, out.length - copied)
      out.set(skb.data.subarray(skb.off, skb.off + n), copied)
      copied += n
      if (peek) {
        i++
        continue
      }
      skb.off += n
      if (skb.off === skb.data.length) {
        this.dequeue()
        UnixSocket.uncharge(skb)
        i = this.qhead
      }
    }
    return { data: out, length: copied, flags: 0 }
  }

  private queuedBytes(): number {
    let n = 0
    for (let i = this.qhead; i < this.queue.length; i++) n += this.queue[i]!.data.length - this.queue[i]!.off
    return n
  }

  /**
   * unix_dgram_recvmsg() (and unix_seqpacket_recvmsg(), which is ENOTCONN
   * unless connected): one message per call; a longer one is cut to `size`
   * with MSG_TRUNC in the flags, and the call returns its full length when
   * MSG_TRUNC was asked for. 0 once shut for reading, a pending
   * ECONNRESET, EAGAIN / WouldBlock when empty.
   */
  private dgramRecvmsg(size: number, flags: number): RecvResult | SysError | WouldBlock {
    if (this.type === SOCK_SEQPACKET && this.state !== "established") return sysError("ENOTCONN", "recvmsg")
    const skb = this.peek()
    if (skb === undefined) {
      const e = this.takeError("recvmsg")
      if (e !== undefined) return e
      if ((this.shutdownMask & RCV_SHUTDOWN) !== 0) return { data: EMPTY, length: 0, flags: 0 }
      return this.wouldBlock(flags, "recvmsg", this.wq, () => this.recvReady())
    }
    if ((flags & MSG_PEEK) === 0) {
      this.dequeue()
      UnixSocket.uncharge(skb)
      this.peerWait.wakeUp(POLL_OUT)
    }
    const full = skb.data.length
    const n = Math.min(size, full)
    const truncated = n < full
    const from = skb.from?.addr
    return {
      data: n === full ? skb.data : skb.data.slice(0, n),
      length: (flags & MSG_TRUNC) !== 0 ? full : n,
      flags: truncated ? MSG_TRUNC : 0,
      ...(this.type === SOCK_DGRAM && from !== undefined ? { addr: from } : {})
    }
  }

  /**
   * unix_shutdown(): SHUT_RD, SHUT_WR or SHUT_RDWR (EINVAL otherwise); a
   * connected stream or seqpacket peer sees the mirror image (our SHUT_WR
   * is its end of file).
   */
  override shutdown(how: number): SysError | undefined {
    if (!Number.isInteger(how) || how < SHUT_RD || how > SHUT_RDWR) return sysError("EINVAL", "shutdown")
    const mode = how + 1
    this.shutdownMask |= mode
    this.wq.wakeUp(POLLIN | POLL_OUT | POLLHUP)
    const other = this.peer
    if (other !== undefined && this.type !== SOCK_DGRAM) {
      let peerMode = 0
      if ((mode & RCV_SHUTDOWN) !== 0) peerMode |= SEND_SHUTDOWN
      if ((mode & SEND_SHUTDOWN) !== 0) peerMode |= RCV_SHUTDOWN
      other.shutdownMask |= peerMode
      other.wq.wakeUp(POLLIN | POLLRDHUP | (other.shutdownMask === SHUTDOWN_MASK ? POLLHUP : 0))
    }
    return undefined
  }

  /** unix_poll() for stream sockets, unix_dgram_poll() for datagram and seqpacket ones. */
  poll(): number {
    let mask = 0
    if (this.err !== undefined) mask |= POLLERR
    if (this.shutdownMask === SHUTDOWN_MASK) mask |= POLLHUP
    if ((this.shutdownMask & RCV_SHUTDOWN) !== 0) mask |= POLLRDHUP | POLLIN | POLLRDNORM
    if (this.queueLength > 0) mask |= POLLIN | POLLRDNORM
    if (this.type !== SOCK_DGRAM && this.state === "close") mask |= POLLHUP
    let writable = this.state !== "listen" && this.wmem << 2 <= this.sndbuf
    if (writable && this.type !== SOCK_STREAM) {
      const other = this.peer
      if (other !== undefined && other.peer !== this && other.recvqFull()) writable = false
    }
    if (writable) mask |= POLL_OUT
    return mask
  }

  override getsockname(): UnixSockAddr {
    return this.addr ?? unnamed
  }

  /** getpeername(2): the peer's bound address (unnamed when it has none); ENOTCONN unconnected. */
  override getpeername(): UnixSockAddr | SysError {
    const p = this.peer
    if (p === undefined || this.state !== "established") return sysError("ENOTCONN", "getpeername")
    return p.addr ?? unnamed
  }

  /**
   * unix_release_sock(): drop the name, mark the socket dead, tell a
   * connected peer (it reads end of file and gets EPIPE on send; with
   * unread data left here it also gets ECONNRESET), and free the queue:
   * connections never accepted are released too, and their clients reset.
   */
  protected release(): void {
    this.releaseSock(false)
  }

  private releaseSock(embryo: boolean): void {
    const addr = this.addr
    if (addr !== undefined && !embryo) {
      if (addr.kind === "abstract") {
        const key = abstractKey(this.type, addr.name)
        if (this.net.unixAbstract.get(key) === this) this.net.unixAbstract.delete(key)
      } else if (addr.kind === "path") {
        const table = this.net.shared.unixByInode
        if (table.get(addr.inode) === this) table.delete(addr.inode)
      }
    }
    const wasListening = this.state === "listen"
    this.state = "close"
    this.shutdownMask = SHUTDOWN_MASK
    this.dead = true
    const skpair = this.peer
    if (skpair !== undefined) {
      if (this.type !== SOCK_DGRAM) {
        if (this.queueLength > 0 || embryo) skpair.err = "ECONNRESET"
        skpair.shutdownMask = SHUTDOWN_MASK
        skpair.wq.wakeUp(POLLIN | POLLRDHUP | POLLHUP | POLL_OUT | (skpair.err !== undefined ? POLLERR : 0))
      }
      this.peer = undefined
    }
    for (let skb = this.dequeue(); skb !== undefined; skb = this.dequeue()) {
      UnixSocket.uncharge(skb)
      const e = skb.embryo
      if (e !== undefined && wasListening) {
        e.releaseSock(true)
        e.put()
      }
    }
    this.wq.wakeUp(POLLHUP)
    this.peerWait.wakeUp(POLLHUP)
  }
}

const EMPTY = new Uint8Array(0)

/** unix_may_send(): a socket connected to someone else takes datagrams only from that one. */
const unixMaySend = (sk: UnixSocket, osk: UnixSocket): boolean => osk.peer === undefined || osk.peer === sk

/**
 * unix_find_other(): the socket bound to an abstract name in `net` with
 * the same type, or to a path's inode (from any namespace; EPROTOTYPE for
 * another type). ECONNREFUSED when there is none.
 */
export const unixFindOther = (net: NetNamespace, addr: UnixSockAddr, type: number, syscall: string): UnixSocket | SysError => {
  if (addr.kind === "abstract") {
    const s = net.unixAbstract.get(abstractKey(type, addr.name)) as UnixSocket | undefined
    return s ?? sysError("ECONNREFUSED", syscall)
  }
  if (addr.kind === "path") {
    const s = net.shared.unixByInode.get(addr.inode) as UnixSocket | undefined
    if (s === undefined) return sysError("ECONNREFUSED", syscall)
    if (s.type !== type) return sysError("EPROTOTYPE", syscall)
    return s
  }
  return sysError("EINVAL", syscall)
}

/** unix_socketpair(): connect two new sockets to each other. */
export const unixSocketpair = (a: UnixSocket, b: UnixSocket): void => {
  a.peer = b
  b.peer = a
  a.state = "established"
  b.state = "established"
}
