import { AF_NETLINK, NETLINK_ROUTE, POLLIN, POLLOUT, POLLRDNORM, POLLWRNORM, sysError, type SysError } from "@simkernel/abi"
import type { Cred } from "@simkernel/cred"
import { MSG_PEEK, MSG_TRUNC } from "./constants.js"
import type { NetNamespace } from "./NetNamespace.js"
import { type NlSkb, rtnetlinkRcv } from "./rtnetlink.js"
import { type NetlinkSockAddr, type RecvResult, type SendOptions, type SockAddr, Socket, type WouldBlock } from "./socket.js"

/**
 * An AF_NETLINK socket of protocol NETLINK_ROUTE, as net/netlink/af_netlink.c:
 * bound to the network namespace it was made in, it sends requests to the
 * kernel (port 0), whose rtnetlink replies queue up as skbs; each recvmsg()
 * takes one skb (a dump packs several messages into one). A buffer shorter
 * than the skb gets the first bytes and MSG_TRUNC, and the rest is lost.
 */
export class NetlinkSocket extends Socket {
  readonly family = AF_NETLINK
  readonly type: number
  /** nl_pid once bound (0 before the first bind, connect or send). */
  portid = 0
  private readonly queue: Array<NlSkb> = []
  /** The pid autobind tries first (task_tgid_vnr(current) of the creator). */
  private readonly tgid: number

  constructor(net: NetNamespace, cred: Cred, type: number, flags: number, tgid: number) {
    super(net, cred, NETLINK_ROUTE, flags)
    this.type = type
    this.tgid = tgid
  }

  /** Reply skbs waiting. */
  get queueLength(): number {
    return this.queue.length
  }

  /**
   * netlink_autobind(): the creator's tgid when that port is free in the
   * namespace, else a negative number counting down from -4096 (as an
   * unsigned port id).
   */
  private autobind(): void {
    if (this.portid !== 0) return
    const ports = this.net.netlinkPorts
    let portid = this.tgid > 0 && !ports.has(this.tgid) ? this.tgid : 0
    while (portid === 0 || ports.has(portid)) portid = this.net.shared.nextNetlinkRover()
    this.portid = portid
    ports.set(portid, this)
  }

  /**
   * netlink_bind(): nl_pid 0 autobinds; another pid must be free in this
   * namespace (EADDRINUSE) and, once bound, must be the bound one (EINVAL).
   * Multicast groups are not modelled (EINVAL).
   */
  override bind(addr: SockAddr): SysError | undefined {
    if (addr.family !== AF_NETLINK) return sysError("EINVAL", "bind")
    const a = addr as NetlinkSockAddr
    if (a.groups !== 0) return sysError("EINVAL", "bind", "multicast groups are not modelled")
    if (this.portid !== 0) return a.pid === 0 || a.pid === this.portid ? undefined : sysError("EINVAL", "bind")
    if (a.pid === 0) {
      this.autobind()
      return undefined
    }
    const pid = a.pid >>> 0
    if (this.net.netlinkPorts.has(pid)) return sysError("EADDRINUSE", "bind")
    this.portid = pid
    this.net.netlinkPorts.set(pid, this)
    return undefined
  }

  /**
   * netlink_sendmsg() to the kernel: the buffer is handed to rtnetlink
   * (rtnetlinkRcv()) with the sender's credentials, and the replies are
   * queued here. A destination other than the kernel (nl_pid 0) is
   * ECONNREFUSED here (no user-to-user netlink). Returns the bytes sent.
   */
  override sendmsg(data: Uint8Array, _flags = 0, options?: SendOptions): number | SysError | WouldBlock {
    const addr = options?.addr
    if (addr !== undefined) {
      if (addr.family !== AF_NETLINK) return sysError("EINVAL", "sendmsg")
      if ((addr as NetlinkSockAddr).pid !== 0) return sysError("ECONNREFUSED", "sendmsg", "only the kernel listens")
    }
    this.autobind()
    const replies = rtnetlinkRcv(
      this.net,
      {
        opener: this.cred,
        sender: options?.sender ?? this.cred,
        ...(options?.netnsByFd !== undefined ? { netnsByFd: options.netnsByFd } : {}),
        ...(options?.netnsByPid !== undefined ? { netnsByPid: options.netnsByPid } : {})
      },
      data,
      this.portid
    )
    if (replies.length > 0) {
      for (const skb of replies) this.queue.push(skb)
      this.wq.wakeUp(POLLIN | POLLRDNORM)
    }
    return data.length
  }

  /**
   * netlink_recvmsg(): one skb; cut to `size` with MSG_TRUNC in the flags
   * (and the full length returned when MSG_TRUNC is asked for); MSG_PEEK
   * leaves it queued. EAGAIN / WouldBlock when nothing is queued.
   */
  override recvmsg(size: number, flags = 0): RecvResult | SysError | WouldBlock {
    const skb = this.queue[0]
    if (skb === undefined) return this.wouldBlock(flags, "recvmsg", this.wq, () => this.queue.length > 0)
    if ((flags & MSG_PEEK) === 0) this.queue.shift()
    const n = Math.min(size, skb.length)
    return {
      data: n === skb.length ? skb : skb.slice(0, n),
      length: (flags & MSG_TRUNC) !== 0 ? skb.length : n,
      flags: n < skb.length ? MSG_TRUNC : 0,
      addr: { family: AF_NETLINK, pid: 0, groups: 0 }
    }
  }

  /** datagram_poll(): readable with a reply queued, always writable. */
  poll(): number {
    return (this.queue.length > 0 ? POLLIN | POLLRDNORM : 0) | POLLOUT | POLLWRNORM
  }

  override getsockname(): NetlinkSockAddr {
    return { family: AF_NETLINK, pid: this.portid, groups: 0 }
  }

  /** netlink_release(): give the port back and drop the queued replies. */
  protected release(): void {
    if (this.portid !== 0 && this.net.netlinkPorts.get(this.portid) === this) this.net.netlinkPorts.delete(this.portid)
    this.queue.length = 0
  }
}
