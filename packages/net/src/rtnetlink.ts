import { AF_INET, AF_INET6, AF_UNSPEC, sysError, type SysError } from "@simkernel/abi"
import type { CredValues } from "@simkernel/cred"
import {
  IFA_ADDRESS,
  IFA_BROADCAST,
  IFA_CACHEINFO,
  IFA_F_PERMANENT,
  IFA_FLAGS,
  IFA_LABEL,
  IFA_LOCAL,
  IFLA_ADDRESS,
  IFLA_BROADCAST,
  IFLA_CARRIER,
  IFLA_CARRIER_CHANGES,
  IFLA_CARRIER_DOWN_COUNT,
  IFLA_CARRIER_UP_COUNT,
  IFLA_GROUP,
  IFLA_IFNAME,
  IFLA_INFO_DATA,
  IFLA_INFO_KIND,
  IFLA_LINK,
  IFLA_LINK_NETNSID,
  IFLA_LINKINFO,
  IFLA_LINKMODE,
  IFLA_MAX_MTU,
  IFLA_MIN_MTU,
  IFLA_MTU,
  IFLA_NET_NS_FD,
  IFLA_NET_NS_PID,
  IFLA_NEW_IFINDEX,
  IFLA_OPERSTATE,
  IFLA_PROMISCUITY,
  IFLA_QDISC,
  IFLA_STATS64,
  IFLA_TXQLEN,
  IFNAMSIZ,
  INFINITY_LIFE_TIME,
  NLM_F_ACK,
  NLM_F_CAPPED,
  NLM_F_CREATE,
  NLM_F_DUMP,
  NLM_F_EXCL,
  NLM_F_MULTI,
  NLM_F_REPLACE,
  NLM_F_REQUEST,
  NLMSG_DONE,
  NLMSG_ERROR,
  NLMSG_HDRLEN,
  NLMSG_MIN_TYPE,
  RTM_BASE,
  RTM_DELADDR,
  RTM_DELLINK,
  RTM_GETADDR,
  RTM_GETLINK,
  RTM_MAX,
  RTM_NEWADDR,
  RTM_NEWLINK,
  RTM_SETLINK,
  SIZEOF_IFADDRMSG,
  SIZEOF_IFINFOMSG,
  VETH_INFO_PEER
} from "./constants.js"
import { findMatchingIfa, type InIfaddr, inetDelIfa, inetInsertIfa } from "./devinet.js"
import type { NetDevice } from "./NetDevice.js"
import { NetNamespace } from "./NetNamespace.js"
import {
  decodeIfaddrmsg,
  decodeIfinfomsg,
  type IfInfoMsg,
  type NlAttr,
  nlaGetString,
  nlaGetU32,
  nlaParse,
  nlaStringLen,
  type NlMsg,
  nlmsgParse,
  NlWriter,
  putIfaddrmsg,
  putIfinfomsg
} from "./netlink.js"
import { vethNewlink } from "./veth.js"

/**
 * Who sends an rtnetlink request and how it names other namespaces. A
 * change (RTM_NEW*, RTM_DEL*, RTM_SET*) needs CAP_NET_ADMIN over the owner
 * of the socket's namespace in both the socket opener's and the sender's
 * credentials (netlink_net_capable()); reads need nothing.
 */
export interface RtnlContext {
  /** The credentials the socket was opened with (file->f_cred). */
  readonly opener: CredValues
  /** The credentials of the task calling sendmsg (current_cred()). */
  readonly sender: CredValues
  /**
   * IFLA_NET_NS_FD: a new reference to the net namespace of the nsfs file
   * open as `fd` in the sender (EBADF, or EINVAL for another file). The
   * kernel app resolves it through the task's fd table; see getNetNsByFile().
   */
  readonly netnsByFd?: (fd: number) => NetNamespace | SysError
  /** IFLA_NET_NS_PID: a new reference to the net namespace of the task `pid` (ESRCH when none). */
  readonly netnsByPid?: (pid: number) => NetNamespace | SysError
}

/** One reply skb: the bytes a single recvmsg() returns (one or more messages). */
export type NlSkb = Uint8Array

/** The largest skb a dump fills before starting the next (netlink_dump() with a 32 KiB receive buffer). */
const DUMP_SKB_MAX = 32768

/** A reply in progress: the skbs queued for the socket. */
class Replies {
  readonly skbs: Array<NlSkb> = []
  constructor(readonly portid: number) {}
}

/**
 * rtnetlink_rcv() / netlink_rcv_skb(): handle every request in `buf` (as a
 * sendmsg() to a NETLINK_ROUTE socket bound in `net` delivers it) and
 * return the reply skbs in order. A request without NLM_F_REQUEST, or a
 * control message, is only acknowledged (with NLM_F_ACK); an error comes
 * back as an NLMSG_ERROR with the negative errno and the whole request; a
 * success with NLM_F_ACK as an NLMSG_ERROR with 0 and the request's header
 * (NLM_F_CAPPED). A dump answers one RTM_NEW* per object with NLM_F_MULTI,
 * then NLMSG_DONE, and is never acknowledged.
 */
export const rtnetlinkRcv = (net: NetNamespace, ctx: RtnlContext, buf: Uint8Array, portid: number): Array<NlSkb> => {
  const out = new Replies(portid)
  for (const msg of nlmsgParse(buf)) {
    let err: SysError | undefined | "dump" = undefined
    if ((msg.flags & NLM_F_REQUEST) !== 0 && msg.type >= NLMSG_MIN_TYPE) err = rtnetlinkRcvMsg(net, ctx, msg, out)
    if (err === "dump") continue
    if ((msg.flags & NLM_F_ACK) !== 0 || err !== undefined) netlinkAck(out, msg, err)
  }
  return out.skbs
}

/** netlink_ack(). */
const netlinkAck = (out: Replies, msg: NlMsg, err: SysError | undefined): void => {
  const w = new NlWriter(NLMSG_HDRLEN + 4 + msg.len)
  const start = w.msgStart(NLMSG_ERROR, err === undefined ? NLM_F_CAPPED : 0, msg.seq, out.portid)
  w.s32(err === undefined ? 0 : -err.code)
  w.bytes(err === undefined ? msg.raw.subarray(0, NLMSG_HDRLEN) : msg.raw)
  w.msgEnd(start)
  out.skbs.push(w.finish())
}

type Doit = (net: NetNamespace, ctx: RtnlContext, msg: NlMsg, out: Replies) => SysError | undefined
type Dumpit = (net: NetNamespace, msg: NlMsg, out: Replies) => void

/** netlink_net_capable(skb, CAP_NET_ADMIN). */
const netCapable = (net: NetNamespace, ctx: RtnlContext): boolean => net.netAdmin(ctx.opener) && net.netAdmin(ctx.sender)

/** rtnetlink_rcv_msg(). */
const rtnetlinkRcvMsg = (net: NetNamespace, ctx: RtnlContext, msg: NlMsg, out: Replies): SysError | undefined | "dump" => {
  if (msg.type > RTM_MAX) return sysError("EOPNOTSUPP", "sendmsg", `unknown message type ${msg.type}`)
  // every rtnetlink message carries at least its family byte; without it there is nothing to do
  if (msg.payload.length < 1) return undefined
  const kind = (msg.type - RTM_BASE) & 3
  if (kind !== 2 && !netCapable(net, ctx)) return sysError("EPERM", "sendmsg", "CAP_NET_ADMIN needed over the namespace")
  if (kind === 2 && (msg.flags & NLM_F_DUMP) !== 0) {
    const dumpit = dumpits.get(msg.type)
    if (dumpit === undefined) return sysError("EOPNOTSUPP", "sendmsg")
    dumpit(net, msg, out)
    return "dump"
  }
  const doit = doits.get(msg.type)
  if (doit === undefined) return sysError("EOPNOTSUPP", "sendmsg")
  return doit(net, ctx, msg, out)
}

/** Attributes of ifla_policy that this kernel reads, with their length rules (ERANGE when broken). */
const U32_ATTRS = [IFLA_MTU, IFLA_LINK, IFLA_TXQLEN, IFLA_NET_NS_PID, IFLA_NET_NS_FD, IFLA_GROUP, IFLA_NEW_IFINDEX]

/** validate_nla() against ifla_policy for the attributes used here. */
const iflaValidate = (tb: Map<number, NlAttr>): SysError | undefined => {
  for (const t of U32_ATTRS) {
    const a = tb.get(t)
    if (a !== undefined && a.data.length < 4) return sysError("ERANGE", "sendmsg", "Attribute failed policy validation")
  }
  const name = tb.get(IFLA_IFNAME)
  if (name !== undefined && nlaStringLen(name) > IFNAMSIZ - 1)
    return sysError("ERANGE", "sendmsg", "Attribute failed policy validation")
  return undefined
}

/** nlmsg_parse_deprecated() of an ifinfomsg request: EINVAL when it is short. */
const parseIfinfo = (msg: NlMsg): { ifm: IfInfoMsg; tb: Map<number, NlAttr> } | SysError => {
  const ifm = decodeIfinfomsg(msg.payload)
  if (ifm === undefined) return sysError("EINVAL", "sendmsg", "ifinfomsg too short")
  const tb = nlaParse(msg.payload.subarray(SIZEOF_IFINFOMSG))
  const bad = iflaValidate(tb)
  return bad ?? { ifm, tb }
}

/**
 * rtnl_link_get_net_capable(): the namespace IFLA_NET_NS_PID or
 * IFLA_NET_NS_FD names (a new reference), undefined without them; EINVAL
 * when both are given, EPERM without CAP_NET_ADMIN over it.
 */
const linkGetNet = (ctx: RtnlContext, tb: Map<number, NlAttr>): NetNamespace | SysError | undefined => {
  const pid = nlaGetU32(tb.get(IFLA_NET_NS_PID))
  const fd = nlaGetU32(tb.get(IFLA_NET_NS_FD))
  if (pid === undefined && fd === undefined) return undefined
  if (pid !== undefined && fd !== undefined) return sysError("EINVAL", "sendmsg", "multiple netns identifying attributes specified")
  const net =
    pid !== undefined
      ? (ctx.netnsByPid?.(pid) ?? sysError("ESRCH", "sendmsg"))
      : (ctx.netnsByFd?.(fd! | 0) ?? sysError("EBADF", "sendmsg"))
  if (!(net instanceof NetNamespace)) return net
  if (!net.netAdmin(ctx.opener) || !net.netAdmin(ctx.sender)) {
    net.put()
    return sysError("EPERM", "sendmsg", "CAP_NET_ADMIN needed over the target namespace")
  }
  return net
}

/** rtnl_dev_get() / the lookup every link request starts with. */
const findDev = (net: NetNamespace, ifm: IfInfoMsg, tb: Map<number, NlAttr>): NetDevice | undefined => {
  if (ifm.index > 0) return net.devGetByIndex(ifm.index)
  const name = nlaGetString(tb.get(IFLA_IFNAME))
  return name === undefined ? undefined : net.devGetByName(name)
}

/** struct rtnl_link_stats64 in field order. */
const putStats64 = (w: NlWriter, dev: NetDevice): void => {
  const s = dev.stats
  const start = w.nestStartNoflag(IFLA_STATS64)
  for (const v of [
    s.rxPackets,
    s.txPackets,
    s.rxBytes,
    s.txBytes,
    s.rxErrors,
    s.txErrors,
    s.rxDropped,
    s.txDropped,
    s.multicast,
    s.collisions,
    s.rxLengthErrors,
    s.rxOverErrors,
    s.rxCrcErrors,
    s.rxFrameErrors,
    s.rxFifoErrors,
    s.rxMissedErrors,
    s.txAbortedErrors,
    s.txCarrierErrors,
    s.txFifoErrors,
    s.txHeartbeatErrors,
    s.txWindowErrors,
    s.rxCompressed,
    s.txCompressed,
    s.rxNohandler,
    s.rxOtherhostDropped
  ])
    w.u64(BigInt(v))
  w.nestEnd(start)
}

/**
 * rtnl_fill_ifinfo(): one RTM_NEWLINK message for `dev`. The attributes are
 * a subset of Linux 6.18's, in Linux's order: IFLA_IFNAME, TXQLEN,
 * OPERSTATE, LINKMODE, MTU, MIN_MTU, MAX_MTU, GROUP, PROMISCUITY, CARRIER,
 * CARRIER_CHANGES, CARRIER_UP_COUNT, CARRIER_DOWN_COUNT, ADDRESS,
 * BROADCAST, STATS64, LINKINFO (kind; rtnetlink-created devices only),
 * LINK_NETNSID (the id `srcNet` gives the link's namespace when that is
 * another one; allocated on first use, as peernet2id_alloc()), LINK (when
 * it is another device, or in another namespace), QDISC.
 */
export const rtnlFillIfinfo = (
  w: NlWriter,
  dev: NetDevice,
  type: number,
  pid: number,
  seq: number,
  flags: number,
  srcNet: NetNamespace = dev.net
): void => {
  const start = w.msgStart(type, flags, seq, pid)
  putIfinfomsg(w, { family: AF_UNSPEC, type: dev.type, index: dev.ifindex, flags: dev.getFlags(), change: 0 })
  w.attrString(IFLA_IFNAME, dev.name)
  w.attrU32(IFLA_TXQLEN, dev.txqlen)
  w.attrU8(IFLA_OPERSTATE, dev.reportedOperstate)
  w.attrU8(IFLA_LINKMODE, 0)
  w.attrU32(IFLA_MTU, dev.mtu)
  w.attrU32(IFLA_MIN_MTU, dev.minMtu)
  w.attrU32(IFLA_MAX_MTU, dev.maxMtu)
  w.attrU32(IFLA_GROUP, dev.group)
  w.attrU32(IFLA_PROMISCUITY, dev.promiscuity)
  w.attrU8(IFLA_CARRIER, dev.carrier ? 1 : 0)
  w.attrU32(IFLA_CARRIER_CHANGES, dev.carrierUpCount + dev.carrierDownCount)
  w.attrU32(IFLA_CARRIER_UP_COUNT, dev.carrierUpCount)
  w.attrU32(IFLA_CARRIER_DOWN_COUNT, dev.carrierDownCount)
  w.attr(IFLA_ADDRESS, dev.addr)
  w.attr(IFLA_BROADCAST, dev.broadcast)
  putStats64(w, dev)
  if (dev.linkKind !== undefined) {
    const li = w.nestStartNoflag(IFLA_LINKINFO)
    w.attrString(IFLA_INFO_KIND, dev.linkKind)
    w.nestEnd(li)
  }
  let netnsid = false
  if (dev.linkKind !== undefined && dev.linkNet() !== dev.net) {
    w.attrS32(IFLA_LINK_NETNSID, srcNet.peernet2idAlloc(dev.linkNet()))
    netnsid = true
  }
  // Linux 6.18 sends IFLA_LINK with every IFLA_LINK_NETNSID, even when it equals the own index
  const iflink = dev.iflink()
  if (iflink !== dev.ifindex || netnsid) w.attrU32(IFLA_LINK, iflink)
  w.attrString(IFLA_QDISC, dev.qdisc)
  w.msgEnd(start)
}

/** rtnl_getlink(): one device by ifindex, else by IFLA_IFNAME (EINVAL with neither, ENODEV when missing). */
const rtnlGetlink: Doit = (net, _ctx, msg, out) => {
  const p = parseIfinfo(msg)
  if (p instanceof Error) return p
  if (p.ifm.index <= 0 && !p.tb.has(IFLA_IFNAME)) return sysError("EINVAL", "sendmsg", "ifindex or ifname needed")
  const dev = findDev(net, p.ifm, p.tb)
  if (dev === undefined) return sysError("ENODEV", "sendmsg")
  const w = new NlWriter(512)
  rtnlFillIfinfo(w, dev, RTM_NEWLINK, out.portid, msg.seq, 0, net)
  out.skbs.push(w.finish())
  return undefined
}

/** Dump replies: messages packed into skbs of at most DUMP_SKB_MAX bytes, then NLMSG_DONE. */
const dump = (out: Replies, msg: NlMsg, fill: (w: NlWriter) => void, count: number): void => {
  let w = new NlWriter(4096)
  for (let i = 0; i < count; i++) {
    const probe = new NlWriter(1024)
    fill(probe)
    if (w.length > 0 && w.length + probe.length > DUMP_SKB_MAX) {
      out.skbs.push(w.finish())
      w = new NlWriter(4096)
    }
    w.bytes(probe.finish())
  }
  const done = new NlWriter(20)
  const d = done.msgStart(NLMSG_DONE, NLM_F_MULTI, msg.seq, out.portid)
  done.s32(0)
  done.msgEnd(d)
  const doneBytes = done.finish()
  if (w.length + doneBytes.length > DUMP_SKB_MAX) {
    out.skbs.push(w.finish())
    w = new NlWriter(32)
  }
  w.bytes(doneBytes)
  out.skbs.push(w.finish())
}

/** rtnl_dump_ifinfo(): every device in ifindex order. */
const rtnlDumpIfinfo: Dumpit = (net, msg, out) => {
  const devs = net.devices()
  let i = 0
  dump(out, msg, (w) => rtnlFillIfinfo(w, devs[i++]!, RTM_NEWLINK, out.portid, msg.seq, NLM_F_MULTI, net), devs.length)
}

/** rtnl_dev_combine_flags(). */
const combineFlags = (dev: NetDevice, ifm: IfInfoMsg): number =>
  ifm.change !== 0 ? (ifm.flags & ifm.change) | (dev.flags & ~ifm.change) : ifm.flags

/**
 * do_setlink(), in Linux's order: move to another namespace (IFLA_NET_NS_*,
 * IFLA_IFNAME as the name to take on a clash, IFLA_NEW_IFINDEX), IFLA_MTU,
 * IFLA_GROUP, rename (IFLA_IFNAME when the device was named by ifindex),
 * flags (ifi_flags under ifi_change), IFLA_TXQLEN. A failing step leaves
 * the earlier ones done, as in Linux.
 */
const doSetlink = (
  dev: NetDevice,
  tgt: NetNamespace | undefined,
  ifm: IfInfoMsg,
  tb: Map<number, NlAttr>
): SysError | undefined => {
  const ifname = nlaGetString(tb.get(IFLA_IFNAME))
  if (tgt !== undefined) {
    const moved = dev.net.devChangeNetNamespace(dev, tgt, ifname, nlaGetU32(tb.get(IFLA_NEW_IFINDEX)) ?? 0)
    if (moved !== undefined) return moved
  }
  const mtu = nlaGetU32(tb.get(IFLA_MTU))
  if (mtu !== undefined && mtu !== dev.mtu) {
    const bad = dev.setMtu(mtu | 0)
    if (bad !== undefined) return bad
  }
  const group = nlaGetU32(tb.get(IFLA_GROUP))
  if (group !== undefined) dev.group = group
  if (ifm.index > 0 && ifname !== undefined && ifname.length > 0) {
    const bad = dev.net.devChangeName(dev, ifname)
    if (bad !== undefined) return bad
  }
  if (ifm.flags !== 0 || ifm.change !== 0) dev.changeFlags(combineFlags(dev, ifm))
  const txqlen = nlaGetU32(tb.get(IFLA_TXQLEN))
  if (txqlen !== undefined) dev.txqlen = txqlen
  return undefined
}

const withTarget = <A>(ctx: RtnlContext, tb: Map<number, NlAttr>, body: (tgt: NetNamespace | undefined) => A | SysError): A | SysError => {
  const tgt = linkGetNet(ctx, tb)
  if (tgt instanceof Error) return tgt
  try {
    return body(tgt)
  } finally {
    tgt?.put()
  }
}

/** rtnl_setlink(): change a device named by ifindex or IFLA_IFNAME (EINVAL with neither, ENODEV when missing). */
const rtnlSetlink: Doit = (net, ctx, msg) => {
  const p = parseIfinfo(msg)
  if (p instanceof Error) return p
  return withTarget(ctx, p.tb, (tgt) => {
    if (p.ifm.index <= 0 && !p.tb.has(IFLA_IFNAME)) return sysError("EINVAL", "sendmsg", "ifindex or ifname needed")
    const dev = findDev(net, p.ifm, p.tb)
    if (dev === undefined) return sysError("ENODEV", "sendmsg")
    return doSetlink(dev, tgt, p.ifm, p.tb)
  })
}

/** rtnl_dellink(): EOPNOTSUPP for lo (no rtnl_link_ops); a veth end takes its peer along. */
const rtnlDellink: Doit = (net, _ctx, msg) => {
  const p = parseIfinfo(msg)
  if (p instanceof Error) return p
  if (p.ifm.index <= 0 && !p.tb.has(IFLA_IFNAME)) return sysError("EINVAL", "sendmsg", "ifindex or ifname needed")
  const dev = findDev(net, p.ifm, p.tb)
  if (dev === undefined) return sysError("ENODEV", "sendmsg")
  return rtnlDeleteLink(dev)
}

/** rtnl_delete_link(): unregister the device and what its dellink takes along. */
export const rtnlDeleteLink = (dev: NetDevice): SysError | undefined => {
  if (dev.linkKind === undefined) return sysError("EOPNOTSUPP", "sendmsg", `${dev.name} cannot be deleted`)
  dev.net.unregisterNetdevices(dev.dellinkSet())
  return undefined
}

/**
 * rtnl_newlink(): on an existing device (by ifindex or IFLA_IFNAME) EEXIST
 * with NLM_F_EXCL, EOPNOTSUPP with NLM_F_REPLACE, else do_setlink(); a
 * missing one is ENODEV without NLM_F_CREATE, and with it is made by its
 * IFLA_LINKINFO kind ("veth" only here, EOPNOTSUPP otherwise) in the
 * namespace IFLA_NET_NS_* names (default: the socket's).
 */
const rtnlNewlink: Doit = (net, ctx, msg) => {
  const p = parseIfinfo(msg)
  if (p instanceof Error) return p
  const { ifm, tb } = p
  if (ifm.index < 0) return sysError("EINVAL", "sendmsg", "ifindex can't be negative")
  const li = tb.get(IFLA_LINKINFO)
  const linkinfo = li === undefined ? undefined : nlaParse(li.data)
  const kind = nlaGetString(linkinfo?.get(IFLA_INFO_KIND))
  return withTarget(ctx, tb, (tgt) => {
    const dev = findDev(net, ifm, tb)
    if (dev !== undefined) {
      if ((msg.flags & NLM_F_EXCL) !== 0) return sysError("EEXIST", "sendmsg", `${dev.name} exists`)
      if ((msg.flags & NLM_F_REPLACE) !== 0) return sysError("EOPNOTSUPP", "sendmsg", "replace not supported")
      if (linkinfo?.has(IFLA_INFO_DATA)) return sysError("EOPNOTSUPP", "sendmsg", "changelink not supported")
      return doSetlink(dev, tgt, ifm, tb)
    }
    if ((msg.flags & NLM_F_CREATE) === 0) return sysError("ENODEV", "sendmsg")
    if (kind !== "veth") return sysError("EOPNOTSUPP", "sendmsg", "Unknown device type")
    return vethCreate(tgt ?? net, ctx, ifm, tb, linkinfo?.get(IFLA_INFO_DATA))
  })
}

/** veth's part of rtnl_newlink_create(): parse VETH_INFO_PEER, make the pair, then rtnl_configure_link() both ends. */
const vethCreate = (
  net: NetNamespace,
  ctx: RtnlContext,
  ifm: IfInfoMsg,
  tb: Map<number, NlAttr>,
  data: NlAttr | undefined
): SysError | undefined => {
  let ifmp: IfInfoMsg | undefined
  let tbp = new Map<number, NlAttr>()
  const peerAttr = data === undefined ? undefined : nlaParse(data.data).get(VETH_INFO_PEER)
  if (peerAttr !== undefined) {
    ifmp = decodeIfinfomsg(peerAttr.data)
    if (ifmp === undefined) return sysError("ERANGE", "sendmsg", "Attribute failed policy validation")
    if (ifmp.index < 0) return sysError("EINVAL", "sendmsg", "ifindex can't be negative")
    tbp = nlaParse(peerAttr.data.subarray(SIZEOF_IFINFOMSG))
    const bad = iflaValidate(tbp)
    if (bad !== undefined) return bad
  }
  return withTarget(ctx, tbp, (peerNet) => {
    const made = vethNewlink(net, {
      name: nlaGetString(tb.get(IFLA_IFNAME)),
      ifindex: ifm.index,
      mtu: nlaGetU32(tb.get(IFLA_MTU)),
      peerName: nlaGetString(tbp.get(IFLA_IFNAME)),
      peerIfindex: ifmp?.index ?? 0,
      peerNet: peerNet ?? net,
      peerMtu: nlaGetU32(tbp.get(IFLA_MTU))
    })
    if (made instanceof Error) return made
    const [dev, peer] = made
    if (ifmp !== undefined && (ifmp.flags !== 0 || ifmp.change !== 0)) peer.changeFlags(combineFlags(peer, ifmp))
    if (ifm.flags !== 0 || ifm.change !== 0) dev.changeFlags(combineFlags(dev, ifm))
    return undefined
  })
}

/** The IPv4 address in an attribute (network byte order on the wire). */
const inAddrOf = (a: NlAttr | undefined): number | undefined =>
  a === undefined || a.data.length < 4 ? undefined : ((a.data[0]! << 24) | (a.data[1]! << 16) | (a.data[2]! << 8) | a.data[3]!) >>> 0

const inAddrBytes = (v: number): Uint8Array => new Uint8Array([v >>> 24, (v >>> 16) & 255, (v >>> 8) & 255, v & 255])

/** ifa_ipv4_policy length rules: addresses are 4 bytes, IFA_LABEL at most 15, IFA_CACHEINFO 16 (ERANGE). */
const ifaValidate = (tb: Map<number, NlAttr>): SysError | undefined => {
  for (const t of [IFA_LOCAL, IFA_ADDRESS, IFA_BROADCAST, IFA_FLAGS]) {
    const a = tb.get(t)
    if (a !== undefined && a.data.length < 4) return sysError("ERANGE", "sendmsg", "Attribute failed policy validation")
  }
  const label = tb.get(IFA_LABEL)
  if (label !== undefined && nlaStringLen(label) > IFNAMSIZ - 1)
    return sysError("ERANGE", "sendmsg", "Attribute failed policy validation")
  const ci = tb.get(IFA_CACHEINFO)
  if (ci !== undefined && ci.data.length < 16) return sysError("ERANGE", "sendmsg", "Attribute failed policy validation")
  return undefined
}

const parseIfaddr = (msg: NlMsg) => {
  const ifm = decodeIfaddrmsg(msg.payload)
  if (ifm === undefined) return sysError("EINVAL", "sendmsg", "ifaddrmsg too short")
  const tb = nlaParse(msg.payload.subarray(SIZEOF_IFADDRMSG))
  const bad = ifaValidate(tb)
  return bad ?? { ifm, tb }
}

/**
 * inet_rtm_newaddr(): add an IPv4 address (IFA_LOCAL required, prefix at
 * most 32: EINVAL; ENODEV for an unknown ifindex). An address already
 * there is EEXIST unless NLM_F_REPLACE without NLM_F_EXCL. Other families
 * than AF_INET are EOPNOTSUPP here (IPv6 is not modelled).
 */
const inetRtmNewaddr: Doit = (net, _ctx, msg) => {
  const p = parseIfaddr(msg)
  if (p instanceof Error) return p
  const { ifm, tb } = p
  if (ifm.family !== AF_INET) return sysError("EOPNOTSUPP", "sendmsg", "only AF_INET addresses are modelled")
  const local = inAddrOf(tb.get(IFA_LOCAL))
  if (ifm.prefixlen > 32 || local === undefined) return sysError("EINVAL", "sendmsg")
  const dev = net.devGetByIndex(ifm.index)
  if (dev === undefined) return sysError("ENODEV", "sendmsg")
  const address = inAddrOf(tb.get(IFA_ADDRESS)) ?? local
  const flags = nlaGetU32(tb.get(IFA_FLAGS)) ?? ifm.flags
  const existing = findMatchingIfa(dev, local, address, ifm.prefixlen)
  if (existing !== undefined) {
    if ((msg.flags & NLM_F_EXCL) !== 0 || (msg.flags & NLM_F_REPLACE) === 0)
      return sysError("EEXIST", "sendmsg", "ipv4: Address already assigned")
    return undefined
  }
  const added = inetInsertIfa(dev, {
    local,
    address,
    prefixlen: ifm.prefixlen,
    broadcast: inAddrOf(tb.get(IFA_BROADCAST)),
    scope: ifm.scope,
    flags: flags | IFA_F_PERMANENT,
    label: nlaGetString(tb.get(IFA_LABEL)) ?? dev.name
  })
  return added instanceof Error ? added : undefined
}

/**
 * inet_rtm_deladdr(): remove the first address matching IFA_LOCAL,
 * IFA_LABEL and IFA_ADDRESS/prefix (each only when given); ENODEV for an
 * unknown ifindex, EADDRNOTAVAIL when nothing matches.
 */
const inetRtmDeladdr: Doit = (net, _ctx, msg) => {
  const p = parseIfaddr(msg)
  if (p instanceof Error) return p
  const { ifm, tb } = p
  if (ifm.family !== AF_INET) return sysError("EOPNOTSUPP", "sendmsg", "only AF_INET addresses are modelled")
  const dev = net.devGetByIndex(ifm.index)
  if (dev === undefined) return sysError("ENODEV", "sendmsg")
  const local = inAddrOf(tb.get(IFA_LOCAL))
  const label = nlaGetString(tb.get(IFA_LABEL))
  const address = inAddrOf(tb.get(IFA_ADDRESS))
  for (const a of dev.inetAddrs) {
    if (local !== undefined && a.local !== local) continue
    if (label !== undefined && a.label !== label) continue
    if (address !== undefined && (ifm.prefixlen !== a.prefixlen || ((address ^ a.address) & a.mask) !== 0)) continue
    inetDelIfa(dev, a)
    return undefined
  }
  return sysError("EADDRNOTAVAIL", "sendmsg")
}

/** inet_fill_ifaddr(): one RTM_NEWADDR message. */
export const inetFillIfaddr = (w: NlWriter, dev: NetDevice, ifa: InIfaddr, type: number, pid: number, seq: number, flags: number): void => {
  const start = w.msgStart(type, flags, seq, pid)
  putIfaddrmsg(w, { family: AF_INET, prefixlen: ifa.prefixlen, flags: ifa.flags & 0xff, scope: ifa.scope, index: dev.ifindex })
  if (ifa.address !== 0) w.attr(IFA_ADDRESS, inAddrBytes(ifa.address))
  if (ifa.local !== 0) w.attr(IFA_LOCAL, inAddrBytes(ifa.local))
  if (ifa.broadcast !== undefined) w.attr(IFA_BROADCAST, inAddrBytes(ifa.broadcast))
  if (ifa.label.length > 0) w.attrString(IFA_LABEL, ifa.label)
  w.attrU32(IFA_FLAGS, ifa.flags)
  // struct ifa_cacheinfo: preferred and valid lifetimes (forever), creation and update stamps (no clock here: 0)
  w.u16(20).u16(IFA_CACHEINFO).u32(INFINITY_LIFE_TIME).u32(INFINITY_LIFE_TIME).u32(0).u32(0)
  w.msgEnd(start)
}

/** inet_dump_ifaddr(): every IPv4 address, device by device; AF_INET6 dumps nothing here. */
const inetDumpIfaddr: Dumpit = (net, msg, out) => {
  const family = msg.payload[0]!
  const rows: Array<readonly [NetDevice, InIfaddr]> = []
  // any family but AF_INET6 reaches the IPv4 dump (directly, or through rtnl_dump_all() for AF_UNSPEC)
  if (family !== AF_INET6) for (const dev of net.devices()) for (const a of dev.inetAddrs) rows.push([dev, a])
  let i = 0
  dump(
    out,
    msg,
    (w) => {
      const [dev, a] = rows[i++]!
      inetFillIfaddr(w, dev, a, RTM_NEWADDR, out.portid, msg.seq, NLM_F_MULTI)
    },
    rows.length
  )
}

/** The handlers rtnl_register() installs for the link and IPv4 address messages. */
const doits = new Map<number, Doit>([
  [RTM_NEWLINK, rtnlNewlink],
  [RTM_DELLINK, rtnlDellink],
  [RTM_GETLINK, rtnlGetlink],
  [RTM_SETLINK, rtnlSetlink],
  [RTM_NEWADDR, inetRtmNewaddr],
  [RTM_DELADDR, inetRtmDeladdr]
])
const dumpits = new Map<number, Dumpit>([
  [RTM_GETLINK, rtnlDumpIfinfo],
  [RTM_GETADDR, inetDumpIfaddr]
])
