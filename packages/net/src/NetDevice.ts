import { sysError, type SysError } from "@simkernel/abi"
import { Refcounted } from "@simkernel/kref"
import {
  IF_OPER_DOWN,
  IF_OPER_LOWERLAYERDOWN,
  IF_OPER_UNKNOWN,
  IF_OPER_UP,
  IFF_ALLMULTI,
  IFF_AUTOMEDIA,
  IFF_DEBUG,
  IFF_DORMANT,
  IFF_DYNAMIC,
  IFF_LOWER_UP,
  IFF_MULTICAST,
  IFF_NOARP,
  IFF_NOTRAILERS,
  IFF_PORTSEL,
  IFF_PROMISC,
  IFF_RUNNING,
  IFF_UP
} from "./constants.js"
import { type InIfaddr, inetdevEventUp } from "./devinet.js"
import type { NetNamespace } from "./NetNamespace.js"

/** struct rtnl_link_stats64, the counters /proc/net/dev and IFLA_STATS64 show. */
export interface NetDeviceStats {
  rxPackets: number
  txPackets: number
  rxBytes: number
  txBytes: number
  rxErrors: number
  txErrors: number
  rxDropped: number
  txDropped: number
  multicast: number
  collisions: number
  rxLengthErrors: number
  rxOverErrors: number
  rxCrcErrors: number
  rxFrameErrors: number
  rxFifoErrors: number
  rxMissedErrors: number
  txAbortedErrors: number
  txCarrierErrors: number
  txFifoErrors: number
  txHeartbeatErrors: number
  txWindowErrors: number
  rxCompressed: number
  txCompressed: number
  rxNohandler: number
  rxOtherhostDropped: number
}

const zeroStats = (): NetDeviceStats => ({
  rxPackets: 0,
  txPackets: 0,
  rxBytes: 0,
  txBytes: 0,
  rxErrors: 0,
  txErrors: 0,
  rxDropped: 0,
  txDropped: 0,
  multicast: 0,
  collisions: 0,
  rxLengthErrors: 0,
  rxOverErrors: 0,
  rxCrcErrors: 0,
  rxFrameErrors: 0,
  rxFifoErrors: 0,
  rxMissedErrors: 0,
  txAbortedErrors: 0,
  txCarrierErrors: 0,
  txFifoErrors: 0,
  txHeartbeatErrors: 0,
  txWindowErrors: 0,
  rxCompressed: 0,
  txCompressed: 0,
  rxNohandler: 0,
  rxOtherhostDropped: 0
})

/** What the driver sets up before register_netdevice(), as its setup() callback does. */
export interface NetDeviceSetup {
  /** The wanted name, possibly a "%d" template. */
  readonly name: string
  readonly type: number
  readonly flags: number
  readonly mtu: number
  readonly minMtu: number
  readonly maxMtu: number
  readonly addr: Uint8Array
  readonly broadcast: Uint8Array
  /** NETIF_F_NETNS_LOCAL: the device may not change namespace. */
  readonly netnsLocal: boolean
}

/** The flags a user may set directly (__dev_change_flags()); IFF_UP goes through open/stop. */
const USER_FLAGS = IFF_DEBUG | IFF_NOTRAILERS | IFF_NOARP | IFF_DYNAMIC | IFF_MULTICAST | IFF_PORTSEL | IFF_AUTOMEDIA

/**
 * A network interface, as include/linux/netdevice.h struct net_device.
 * Its namespace holds the one reference that keeps it registered; the
 * driver classes (LoopbackDevice, VethDevice) fill in what differs.
 */
export abstract class NetDevice extends Refcounted {
  readonly kind = "NetDevice"
  /** rtnl_link_ops->kind ("veth"), or undefined for a device rtnetlink cannot create or delete (lo). */
  abstract readonly linkKind: string | undefined
  name: string
  ifindex = 0
  /** dev_net(): the namespace the device is in (not a counted reference: the namespace owns the device). */
  net: NetNamespace
  /** dev->type, an ARPHRD_* value. */
  readonly type: number
  /** dev->flags without the volatile IFF_RUNNING / IFF_LOWER_UP (dev_get_flags() adds them). */
  flags: number
  mtu: number
  readonly minMtu: number
  readonly maxMtu: number
  readonly addr: Uint8Array
  readonly broadcast: Uint8Array
  readonly netnsLocal: boolean
  txqlen = 1000
  group = 0
  promiscuity = 0
  allmulti = 0
  /** netif_carrier_ok(). */
  carrier = true
  carrierUpCount = 0
  carrierDownCount = 0
  /** dev->operstate as the link watcher leaves it; IFLA_OPERSTATE reports DOWN while the device is not up. */
  operstate = IF_OPER_UNKNOWN
  /** A qdisc was attached by the first open ("noop" before, "noqueue" after for these queue-less devices). */
  qdiscAttached = false
  readonly stats: NetDeviceStats = zeroStats()
  /** The IPv4 addresses (in_device->ifa_list), in Linux's list order. */
  readonly inetAddrs: Array<InIfaddr> = []
  /** NETREG_REGISTERED: false before registration and after unregistration. */
  registered = false

  protected constructor(net: NetNamespace, setup: NetDeviceSetup) {
    super(net.liveObjects, "net device")
    this.net = net
    this.name = setup.name
    this.type = setup.type
    this.flags = setup.flags
    this.mtu = setup.mtu
    this.minMtu = setup.minMtu
    this.maxMtu = setup.maxMtu
    this.addr = setup.addr
    this.broadcast = setup.broadcast
    this.netnsLocal = setup.netnsLocal
  }

  /** ndo_open. */
  protected abstract open(): void
  /** ndo_stop. */
  protected abstract stop(): void
  /** ndo_get_iflink (IFLA_LINK): the peer's ifindex for veth, the device's own index otherwise. */
  iflink(): number {
    return this.ifindex
  }
  /** rtnl_link_ops->get_link_net: the namespace of the device IFLA_LINK names (veth: the peer's). */
  linkNet(): NetNamespace {
    return this.net
  }
  /**
   * rtnl_link_ops->dellink: the devices an RTM_DELLINK of this one
   * unregisters (itself and, for veth, its peer).
   */
  abstract dellinkSet(): ReadonlyArray<NetDevice>
  /** ndo_uninit: the driver's part of unregistering (veth unlinks the pair). */
  uninit(): void {}

  /** netif_running(). */
  get running(): boolean {
    return (this.flags & IFF_UP) !== 0
  }

  /** dev_get_flags(): the flags with IFF_RUNNING, IFF_LOWER_UP and IFF_DORMANT as the link state says. */
  getFlags(): number {
    let f = this.flags & ~(IFF_RUNNING | IFF_LOWER_UP | IFF_DORMANT)
    if (this.running) {
      if (this.operstate === IF_OPER_UP || this.operstate === IF_OPER_UNKNOWN) f |= IFF_RUNNING
      if (this.carrier) f |= IFF_LOWER_UP
    }
    return f >>> 0
  }

  /** IFLA_OPERSTATE as rtnl_fill_ifinfo() reports it: DOWN while not running. */
  get reportedOperstate(): number {
    return this.running ? this.operstate : IF_OPER_DOWN
  }

  /** The qdisc name IFLA_QDISC shows. */
  get qdisc(): string {
    return this.qdiscAttached ? "noqueue" : "noop"
  }

  /**
   * netif_carrier_on/off() and the link watcher's rfc2863_policy(): count
   * the change and set the operational state (UP with a carrier,
   * LOWERLAYERDOWN without one).
   */
  setCarrier(on: boolean): void {
    if (this.carrier === on) return
    this.carrier = on
    if (on) this.carrierUpCount++
    else this.carrierDownCount++
    this.operstate = on ? IF_OPER_UP : IF_OPER_LOWERLAYERDOWN
  }

  /** dev_open(): bring the device up (IFF_UP), then the driver's ndo_open. */
  devOpen(): void {
    if (this.running) return
    this.flags |= IFF_UP
    this.qdiscAttached = true
    this.open()
    inetdevEventUp(this)
  }

  /** dev_close(): the driver's ndo_stop, then clear IFF_UP. */
  devClose(): void {
    if (!this.running) return
    this.stop()
    this.flags &= ~IFF_UP
  }

  /**
   * dev_change_flags() / __dev_change_flags(): set the user-settable flags,
   * bring the device up or down on an IFF_UP change, and count
   * IFF_PROMISC / IFF_ALLMULTI requests.
   */
  changeFlags(flags: number): void {
    const old = this.flags
    this.flags = (flags & USER_FLAGS) | (old & ~USER_FLAGS)
    if (((old ^ flags) & IFF_UP) !== 0) {
      if ((old & IFF_UP) !== 0) this.devClose()
      else this.devOpen()
    }
    if (((this.flags ^ flags) & IFF_PROMISC) !== 0) {
      this.promiscuity += (flags & IFF_PROMISC) !== 0 ? 1 : -1
      this.flags = this.promiscuity > 0 ? this.flags | IFF_PROMISC : this.flags & ~IFF_PROMISC
    }
    if (((this.flags ^ flags) & IFF_ALLMULTI) !== 0) {
      this.allmulti += (flags & IFF_ALLMULTI) !== 0 ? 1 : -1
      this.flags = this.allmulti > 0 ? this.flags | IFF_ALLMULTI : this.flags & ~IFF_ALLMULTI
    }
  }

  /**
   * dev_set_mtu() with dev_validate_mtu(): EINVAL below the device's
   * minimum, above its maximum (when it has one), or negative.
   */
  setMtu(mtu: number): SysError | undefined {
    const invalid = this.validateMtu(mtu)
    if (invalid !== undefined) return invalid
    this.mtu = mtu
    return undefined
  }

  /** dev_validate_mtu(). */
  validateMtu(mtu: number): SysError | undefined {
    if (!Number.isInteger(mtu) || mtu < 0 || mtu > 0x7fffffff || mtu < this.minMtu)
      return sysError("EINVAL", "RTM_SETLINK", "mtu less than device minimum")
    if (this.maxMtu > 0 && mtu > this.maxMtu) return sysError("EINVAL", "RTM_SETLINK", "mtu greater than device maximum")
    return undefined
  }

  /** MAC address text, "aa:bb:cc:dd:ee:ff". */
  get addrText(): string {
    return macText(this.addr)
  }
}

/** A hardware address as `ip link` prints it. */
export const macText = (a: Uint8Array): string => Array.from(a, (b) => b.toString(16).padStart(2, "0")).join(":")
