import { ARPHRD_LOOPBACK, IF_OPER_UNKNOWN, IFF_LOOPBACK } from "./constants.js"
import { NetDevice } from "./NetDevice.js"
import type { NetNamespace } from "./NetNamespace.js"

/** The loopback MTU, (64 * 1024) as drivers/net/loopback.c sets it. */
export const LOOPBACK_MTU = 64 * 1024

/**
 * `lo`, as drivers/net/loopback.c: every namespace has exactly one, made
 * with the namespace and gone with it. It cannot be deleted (it has no
 * rtnl_link_ops: EOPNOTSUPP) nor moved to another namespace
 * (NETIF_F_NETNS_LOCAL: EINVAL). Its carrier is always on, so its
 * operational state stays UNKNOWN while it is up.
 */
export class LoopbackDevice extends NetDevice {
  readonly linkKind = undefined

  constructor(net: NetNamespace) {
    super(net, {
      name: "lo",
      type: ARPHRD_LOOPBACK,
      flags: IFF_LOOPBACK,
      mtu: LOOPBACK_MTU,
      minMtu: 0,
      maxMtu: 0,
      addr: new Uint8Array(6),
      broadcast: new Uint8Array(6),
      netnsLocal: true
    })
    this.operstate = IF_OPER_UNKNOWN
  }

  protected open(): void {}
  protected stop(): void {}
  dellinkSet(): ReadonlyArray<NetDevice> {
    return []
  }
}
