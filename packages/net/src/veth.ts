import { ARPHRD_ETHER, ETH_DATA_LEN, ETH_MAX_MTU, ETH_MIN_MTU, IFF_BROADCAST, IFF_MULTICAST } from "./constants.js"
import { NetDevice } from "./NetDevice.js"
import type { SysError } from "@simkernel/abi"
import type { NetNamespace } from "./NetNamespace.js"

/**
 * One end of a virtual ethernet pair, as drivers/net/veth.c. The two ends
 * point at each other (not counted references: each is owned by its
 * namespace) and may live in different namespaces. An end has a carrier
 * only while both ends are up (veth_open() / veth_close()), so an end that
 * is up while its peer is down reports LOWERLAYERDOWN. Deleting either end
 * deletes both.
 */
export class VethDevice extends NetDevice {
  readonly linkKind = "veth"
  /** The other end; undefined once it is gone. */
  peer: VethDevice | undefined

  /** veth_setup() + eth_hw_addr_random(): an ether device with a random locally administered MAC. */
  constructor(net: NetNamespace, name: string, addr: Uint8Array) {
    super(net, {
      name,
      type: ARPHRD_ETHER,
      flags: IFF_BROADCAST | IFF_MULTICAST,
      mtu: ETH_DATA_LEN,
      minMtu: ETH_MIN_MTU,
      maxMtu: ETH_MAX_MTU,
      addr,
      broadcast: new Uint8Array([255, 255, 255, 255, 255, 255]),
      netnsLocal: false
    })
  }

  /** veth_open(): with the peer up, both ends get their carrier. */
  protected open(): void {
    const peer = this.peer
    if (peer !== undefined && peer.running) {
      this.setCarrier(true)
      peer.setCarrier(true)
    }
  }

  /** veth_close(): both ends lose their carrier. */
  protected stop(): void {
    this.setCarrier(false)
    this.peer?.setCarrier(false)
  }

  /** veth_get_iflink(): the peer's ifindex (0 once the peer is gone). */
  override iflink(): number {
    return this.peer?.ifindex ?? 0
  }

  /** veth_dellink(): this end and its peer. */
  dellinkSet(): ReadonlyArray<NetDevice> {
    return this.peer === undefined ? [this] : [this, this.peer]
  }

  /** veth_get_link_net(): the peer's namespace. */
  override linkNet(): NetNamespace {
    return this.peer?.net ?? this.net
  }

  /** Break the link when an end is unregistered (veth_dellink() clears both priv->peer). */
  override uninit(): void {
    const peer = this.peer
    this.peer = undefined
    if (peer !== undefined) peer.peer = undefined
  }
}

/** eth_random_addr(): six random bytes, unicast and locally administered. */
export const ethRandomAddr = (random: () => number): Uint8Array => {
  const a = new Uint8Array(6)
  const x = random()
  const y = random()
  a[0] = ((x >>> 24) & 0xfe) | 0x02
  a[1] = (x >>> 16) & 0xff
  a[2] = (x >>> 8) & 0xff
  a[3] = x & 0xff
  a[4] = (y >>> 8) & 0xff
  a[5] = y & 0xff
  return a
}

export interface VethNewlinkRequest {
  /** Name or "%d" template of the first end (default "veth%d"). */
  readonly name?: string
  /** ifindex wanted for the first end (0: the next free one). */
  readonly ifindex?: number
  readonly mtu?: number
  /** Name or template of the peer (default "veth%d"). */
  readonly peerName?: string
  readonly peerIfindex?: number
  /** The namespace of the peer (default: the first end's). */
  readonly peerNet?: NetNamespace
  readonly peerMtu?: number
}

/**
 * veth_newlink(): make a pair, the first end in `net` and the peer in
 * `peerNet`. As in Linux the peer is registered first, so with templates
 * it takes the lower number and the lower ifindex. Both ends start down
 * without a carrier. Fails (registering nothing) with the errors of
 * register_netdevice(): EINVAL for a bad name or MTU, EEXIST for a name in
 * use, EBUSY for an ifindex in use.
 */
export const vethNewlink = (net: NetNamespace, req: VethNewlinkRequest = {}): readonly [VethDevice, VethDevice] | SysError => {
  const peerNet = req.peerNet ?? net
  const random = () => net.shared.random()
  const peer = new VethDevice(peerNet, req.peerName ?? "veth%d", ethRandomAddr(random))
  const dev = new VethDevice(net, req.name ?? "veth%d", ethRandomAddr(random))
  const fail = (e: SysError): SysError => {
    if (peer.registered) peerNet.unregisterNetdevices([peer])
    else peer.put()
    dev.put()
    return e
  }
  for (const [d, mtu] of [[peer, req.peerMtu], [dev, req.mtu]] as const) {
    if (mtu === undefined) continue
    const bad = d.setMtu(mtu)
    if (bad !== undefined) return fail(bad)
  }
  const e1 = peerNet.registerNetdevice(peer, req.peerIfindex ?? 0)
  if (e1 !== undefined) return fail(e1)
  peer.setCarrier(false)
  const e2 = net.registerNetdevice(dev, req.ifindex ?? 0)
  if (e2 !== undefined) return fail(e2)
  dev.setCarrier(false)
  dev.peer = peer
  peer.peer = dev
  return [dev, peer]
}
