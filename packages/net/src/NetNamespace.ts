import { CAP_NET_ADMIN, sysError, type SysError } from "@simkernel/abi"
import { type CredValues, NsCommon, nsCapable, nsInitInum, type UserNamespace } from "@simkernel/cred"
import type { LiveObjects } from "@simkernel/kref"
import { IFNAMSIZ, NETNSA_NSID_NOT_ASSIGNED, RT_SCOPE_HOST } from "./constants.js"
import { inetInsertIfa, INADDR_LOOPBACK } from "./devinet.js"
import { LoopbackDevice } from "./loopback.js"
import type { NetDevice } from "./NetDevice.js"

/** The largest ifindex (dev_index_reserve() allocates from xa_limit_31b). */
const IFINDEX_MAX = 0x7fffffff
/** __dev_alloc_name() tries at most this many numbers for a "%d" template (8 * PAGE_SIZE). */
const MAX_NETDEVICES = 8 * 4096

/**
 * What every network namespace of one simulated kernel shares: the random
 * generator behind veth MAC addresses (seeded, so a run is reproducible)
 * and the table that finds a path-bound AF_UNIX socket from its inode
 * (Linux's bsd_socket_buckets: a filesystem name is reachable from any
 * network namespace).
 */
export class NetShared {
  private state: number
  /** Socket inode -> the AF_UNIX socket bound to it (unix_find_socket_byinode()). */
  readonly unixByInode = new Map<object, unknown>()
  /** Every live network namespace of the kernel (net_namespace_list). */
  readonly namespaces = new Set<NetNamespace>()

  /** netlink_autobind()'s rover: the next negative port id to try. */
  private rover = -4096

  constructor(seed = 0x5eed) {
    this.state = seed >>> 0
  }

  /** The next autobind port id below -4096, as an unsigned number. */
  nextNetlinkRover(): number {
    const p = this.rover--
    if (this.rover > -4096) this.rover = -4096
    return p >>> 0
  }

  /** get_random_u32(): the next number of a mulberry32 sequence. */
  random(): number {
    let t = (this.state = (this.state + 0x6d2b79f5) >>> 0)
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return (t ^ (t >>> 14)) >>> 0
  }
}

const isSpace = (c: number): boolean => c === 0x20 || (c >= 0x09 && c <= 0x0d) || c === 0xa0

/**
 * dev_valid_name(): 1 to 15 bytes (IFNAMSIZ - 1), not "." or "..", and no
 * '/', ':' or white space. Names are byte strings: one character per byte.
 */
export const devValidName = (name: string): boolean => {
  if (name.length === 0 || name.length >= IFNAMSIZ) return false
  if (name === "." || name === "..") return false
  for (let i = 0; i < name.length; i++) {
    const c = name.charCodeAt(i)
    if (c === 0x2f || c === 0x3a || isSpace(c) || c === 0 || c > 0xff) return false
  }
  return true
}

export interface NetNamespaceOptions {
  /** Seed of the kernel's random generator (veth MAC addresses). */
  readonly seed?: number
}

/**
 * A network namespace, as include/net/net_namespace.h struct net: its
 * devices (by ifindex and by name, with lo always ifindex 1), the ifindex
 * allocator, and the AF_UNIX abstract socket names bound in it. Tasks (via
 * NsProxy), nsfs files and open sockets hold references; when the last one
 * goes, cleanup_net() deletes its veth ends (and so their peers) and then lo.
 */
export class NetNamespace extends NsCommon {
  readonly kind = "net"
  readonly shared: NetShared
  readonly liveObjects: LiveObjects
  /** The loopback device (net->loopback_dev). */
  readonly loopback: LoopbackDevice
  private readonly byIndex = new Map<number, NetDevice>()
  private readonly byName = new Map<string, NetDevice>()
  /** net->ifindex: where the cyclic ifindex search starts next. */
  private ifindexNext = 1
  /** AF_UNIX abstract names bound here, keyed by socket type and name (unix_abstract_hash() mixes in the type). */
  readonly unixAbstract = new Map<string, unknown>()
  /** NETLINK_ROUTE sockets bound here, by port id (nl_table[NETLINK_ROUTE] of this namespace). */
  readonly netlinkPorts = new Map<number, unknown>()
  /** net->netns_ids: the ids this namespace gave other namespaces (IFLA_LINK_NETNSID). */
  private readonly netnsIds = new Map<NetNamespace, number>()

  private constructor(owner: UserNamespace, inum: number, shared: NetShared) {
    super({ ownerNs: owner, inum, origin: "net namespace" })
    this.shared = shared
    this.liveObjects = owner.liveObjects
    this.loopback = new LoopbackDevice(this)
    this.registerNetdevice(this.loopback)
    shared.namespaces.add(this)
  }

  /**
   * init_net: the initial namespace, owned by `owner`, with lo up and
   * 127.0.0.1/8 on it (as a booted system has it).
   */
  static createInit(owner: UserNamespace, options: NetNamespaceOptions = {}): NetNamespace {
    const net = new NetNamespace(owner, nsInitInum("net"), new NetShared(options.seed))
    net.loopback.devOpen()
    inetInsertIfa(net.loopback, { local: INADDR_LOOPBACK, prefixlen: 8, scope: RT_SCOPE_HOST })
    return net
  }

  /**
   * copy_net_ns() with CLONE_NEWNET: a new namespace owned by `owner` with
   * only lo, down. ENOSPC when no nsfs inode number is left.
   */
  copy(owner: UserNamespace): NetNamespace | SysError {
    const inum = owner.inums.alloc()
    if (inum === undefined) return sysError("ENOSPC", "unshare", "no nsfs inode number left")
    return new NetNamespace(owner, inum, this.shared)
  }

  /** peernet2id(): the id this namespace gave `peer`, or -1 (NETNSA_NSID_NOT_ASSIGNED). */
  peernet2id(peer: NetNamespace): number {
    return peer === this ? NETNSA_NSID_NOT_ASSIGNED : (this.netnsIds.get(peer) ?? NETNSA_NSID_NOT_ASSIGNED)
  }

  /**
   * peernet2id_alloc(): the id of `peer` here, allocating the lowest free
   * one (from 0) the first time; -1 for a namespace being freed.
   */
  peernet2idAlloc(peer: NetNamespace): number {
    if (peer.freed) return NETNSA_NSID_NOT_ASSIGNED
    const known = this.netnsIds.get(peer)
    if (known !== undefined) return known
    const used = new Set(this.netnsIds.values())
    let id = 0
    while (used.has(id)) id++
    this.netnsIds.set(peer, id)
    return id
  }

  /** ns_capable(net->user_ns, CAP_NET_ADMIN): may `cred` change this namespace's network setup? */
  netAdmin(cred: CredValues): boolean {
    return nsCapable(cred, this.ownerNs!, CAP_NET_ADMIN)
  }

  /** __dev_get_by_index(). */
  devGetByIndex(ifindex: number): NetDevice | undefined {
    return this.byIndex.get(ifindex)
  }

  /** __dev_get_by_name(). */
  devGetByName(name: string): NetDevice | undefined {
    return this.byName.get(name)
  }

  /** The devices in ifindex order (for_each_netdev_dump()). */
  devices(): Array<NetDevice> {
    return [...this.byIndex.values()].sort((a, b) => a.ifindex - b.ifindex)
  }

  /** Number of devices. */
  get deviceCount(): number {
    return this.byIndex.size
  }

  /**
   * dev_index_reserve(): `want` when it is free (EBUSY when taken), or with
   * 0 the next free index from where the last search stopped, wrapping at
   * INT_MAX (xa_alloc_cyclic()), so a freed index is not reused at once.
   */
  devIndexReserve(want = 0): number | SysError {
    if (want !== 0) {
      if (!Number.isInteger(want) || want < 1 || want > IFINDEX_MAX) return sysError("EINVAL", "RTM_NEWLINK")
      return this.byIndex.has(want) ? sysError("EBUSY", "RTM_NEWLINK", `ifindex ${want} is in use`) : want
    }
    const start = this.ifindexNext
    let i = start
    do {
      if (!this.byIndex.has(i)) {
        this.ifindexNext = i === IFINDEX_MAX ? 1 : i + 1
        return i
      }
      i = i === IFINDEX_MAX ? 1 : i + 1
    } while (i !== start)
    return sysError("EBUSY", "RTM_NEWLINK", "no ifindex left")
  }

  /** dev_new_index(): the next free ifindex. */
  devNewIndex(): number | SysError {
    return this.devIndexReserve(0)
  }

  /**
   * dev_prep_valid_name(): check `want` (EINVAL) and resolve a "%d"
   * template to the lowest free number; a plain name in use is EEXIST.
   */
  devPrepValidName(want: string): string | SysError {
    if (!devValidName(want)) return sysError("EINVAL", "RTM_NEWLINK", `invalid interface name "${want}"`)
    const pct = want.indexOf("%")
    if (pct < 0) return this.byName.has(want) ? sysError("EEXIST", "RTM_NEWLINK", `${want} exists`) : want
    if (want[pct + 1] !== "d" || want.indexOf("%", pct + 2) >= 0)
      return sysError("EINVAL", "RTM_NEWLINK", `bad name template "${want}"`)
    const head = want.slice(0, pct)
    const tail = want.slice(pct + 2)
    for (let i = 0; i < MAX_NETDEVICES; i++) {
      const name = `${head}${i}${tail}`.slice(0, IFNAMSIZ - 1)
      if (!this.byName.has(name)) return name
    }
    return sysError("ENFILE", "RTM_NEWLINK", `no free name for "${want}"`)
  }

  /**
   * register_netdevice(): give `dev` a valid unique name (its name may be a
   * template) and an ifindex (`ifindex` when nonzero and free, else EBUSY;
   * else the next free one), and list it. On failure nothing is listed
   * and the caller still owns `dev`; on success the namespace owns it.
   */
  registerNetdevice(dev: NetDevice, ifindex = 0): SysError | undefined {
    const name = this.devPrepValidName(dev.name)
    if (typeof name !== "string") return name
    const index = this.devIndexReserve(ifindex)
    if (typeof index !== "number") return index
    dev.name = name
    dev.ifindex = index
    dev.net = this
    dev.registered = true
    this.byIndex.set(index, dev)
    this.byName.set(name, dev)
    return undefined
  }

  /**
   * unregister_netdevice_many(): close every device first (a veth pair
   * loses its carrier), then unlist each, drop its addresses, unlink a
   * veth peer, and put the namespace's reference.
   */
  unregisterNetdevices(devs: ReadonlyArray<NetDevice>): void {
    for (const dev of devs) dev.devClose()
    for (const dev of devs) {
      if (!dev.registered) continue
      const net = dev.net
      net.byIndex.delete(dev.ifindex)
      net.byName.delete(dev.name)
      dev.registered = false
      dev.inetAddrs.length = 0
      dev.uninit()
    }
    for (const dev of devs) dev.put()
  }

  /**
   * dev_change_name(): EINVAL for an invalid name, EEXIST when another
   * device has it; a "%d" template picks a free number. Renaming a device
   * to its own name does nothing. Linux 6.18 allows renaming a device that is up.
   */
  devChangeName(dev: NetDevice, newName: string): SysError | undefined {
    if (newName === dev.name) return undefined
    const name = this.devPrepValidName(newName)
    if (typeof name !== "string") return name
    const old = dev.name
    this.byName.delete(old)
    dev.name = name
    this.byName.set(name, dev)
    // inetdev_changename(): labels that were the device's name follow it
    for (const a of dev.inetAddrs) if (a.label === old) a.label = name
    return undefined
  }

  /**
   * __dev_change_net_namespace(): move `dev` from this namespace to
   * `target`. EINVAL for lo (NETIF_F_NETNS_LOCAL) or an unregistered device;
   * moving to its own namespace does nothing. When its name is taken there,
   * `pattern` (IFLA_IFNAME of the request) names it instead, else EEXIST.
   * It keeps its ifindex when that is free there, or takes `newIfindex`
   * (EBUSY when taken) or the next free one. The device is closed and
   * loses its addresses, as the unregister notifiers do in Linux.
   */
  devChangeNetNamespace(dev: NetDevice, target: NetNamespace, pattern?: string, newIfindex = 0): SysError | undefined {
    if (dev.netnsLocal) return sysError("EINVAL", "RTM_SETLINK", "The interface netns is immutable")
    if (!dev.registered || dev.net !== this) return sysError("EINVAL", "RTM_SETLINK")
    if (target === this) return undefined
    let name = dev.name
    if (target.byName.has(name)) {
      if (pattern === undefined) return sysError("EEXIST", "RTM_SETLINK", `${name} exists in the target namespace`)
      const picked = target.devPrepValidName(pattern)
      if (typeof picked !== "string") return picked
      name = picked
    }
    let index: number | SysError
    if (newIfindex !== 0) index = target.devIndexReserve(newIfindex)
    else {
      index = target.byIndex.has(dev.ifindex) ? target.devIndexReserve(0) : dev.ifindex
    }
    if (typeof index !== "number") return index
    dev.devClose()
    this.byIndex.delete(dev.ifindex)
    this.byName.delete(dev.name)
    dev.inetAddrs.length = 0
    dev.name = name
    dev.ifindex = index
    dev.net = target
    target.byIndex.set(index, dev)
    target.byName.set(name, dev)
    return undefined
  }

  /**
   * cleanup_net() and default_device_exit_batch(): every device that
   * rtnetlink can delete goes through its dellink (a veth end takes its
   * peer along, wherever the peer is), then lo. Other namespaces forget
   * the id they gave it.
   */
  protected override destroy(): void {
    this.shared.namespaces.delete(this)
    // the ids other namespaces gave this one go (cleanup_net() removes them from every netns_ids)
    for (const other of this.shared.namespaces) other.netnsIds.delete(this)
    for (const dev of this.devices()) {
      if (dev === this.loopback || !dev.registered || dev.net !== this) continue
      this.unregisterNetdevices(dev.dellinkSet())
    }
    this.unregisterNetdevices([this.loopback])
  }
}
