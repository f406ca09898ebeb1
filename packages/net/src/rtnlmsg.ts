import {
  IFA_ADDRESS,
  IFA_BROADCAST,
  IFA_FLAGS,
  IFA_LABEL,
  IFA_LOCAL,
  IFLA_ADDRESS,
  IFLA_CARRIER,
  IFLA_IFNAME,
  IFLA_INFO_KIND,
  IFLA_LINK,
  IFLA_LINKINFO,
  IFLA_MTU,
  IFLA_OPERSTATE,
  IFLA_QDISC,
  IFLA_TXQLEN,
  NLM_F_REQUEST,
  SIZEOF_IFADDRMSG,
  SIZEOF_IFINFOMSG
} from "./constants.js"
import {
  decodeIfaddrmsg,
  decodeIfinfomsg,
  type IfAddrMsg,
  type IfInfoMsg,
  type NlAttr,
  nlaGetString,
  nlaGetU32,
  nlaGetU8,
  nlaParse,
  type NlMsg,
  NlWriter,
  putIfaddrmsg,
  putIfinfomsg
} from "./netlink.js"

/** An RTM_NEWLINK message as a userland `ip` reads it. */
export interface LinkMessage extends IfInfoMsg {
  readonly name: string | undefined
  readonly mtu: number | undefined
  readonly operstate: number | undefined
  readonly txqlen: number | undefined
  readonly carrier: number | undefined
  readonly address: Uint8Array | undefined
  /** IFLA_LINK: the peer's ifindex for veth. */
  readonly link: number | undefined
  /** IFLA_LINKINFO / IFLA_INFO_KIND ("veth"). */
  readonly linkKind: string | undefined
  readonly qdisc: string | undefined
  readonly attrs: Map<number, NlAttr>
}

/** Decode an RTM_NEWLINK message (undefined when its ifinfomsg is short). */
export const decodeLinkMessage = (m: NlMsg): LinkMessage | undefined => {
  const ifi = decodeIfinfomsg(m.payload)
  if (ifi === undefined) return undefined
  const tb = nlaParse(m.payload.subarray(SIZEOF_IFINFOMSG))
  const li = tb.get(IFLA_LINKINFO)
  return {
    ...ifi,
    name: nlaGetString(tb.get(IFLA_IFNAME)),
    mtu: nlaGetU32(tb.get(IFLA_MTU)),
    operstate: nlaGetU8(tb.get(IFLA_OPERSTATE)),
    txqlen: nlaGetU32(tb.get(IFLA_TXQLEN)),
    carrier: nlaGetU8(tb.get(IFLA_CARRIER)),
    address: tb.get(IFLA_ADDRESS)?.data.slice(),
    link: nlaGetU32(tb.get(IFLA_LINK)),
    linkKind: li === undefined ? undefined : nlaGetString(nlaParse(li.data).get(IFLA_INFO_KIND)),
    qdisc: nlaGetString(tb.get(IFLA_QDISC)),
    attrs: tb
  }
}

/** An RTM_NEWADDR message as a userland `ip` reads it (addresses in host order). */
export interface AddrMessage extends IfAddrMsg {
  readonly local: number | undefined
  readonly address: number | undefined
  readonly broadcast: number | undefined
  readonly label: string | undefined
  /** IFA_FLAGS when present, else the ifaddrmsg's 8 bits. */
  readonly allFlags: number
}

const inAddr = (a: NlAttr | undefined): number | undefined =>
  a === undefined || a.data.length < 4 ? undefined : ((a.data[0]! << 24) | (a.data[1]! << 16) | (a.data[2]! << 8) | a.data[3]!) >>> 0

/** Decode an RTM_NEWADDR message (undefined when its ifaddrmsg is short). */
export const decodeAddrMessage = (m: NlMsg): AddrMessage | undefined => {
  const ifa = decodeIfaddrmsg(m.payload)
  if (ifa === undefined) return undefined
  const tb = nlaParse(m.payload.subarray(SIZEOF_IFADDRMSG))
  return {
    ...ifa,
    local: inAddr(tb.get(IFA_LOCAL)),
    address: inAddr(tb.get(IFA_ADDRESS)),
    broadcast: inAddr(tb.get(IFA_BROADCAST)),
    label: nlaGetString(tb.get(IFA_LABEL)),
    allFlags: nlaGetU32(tb.get(IFA_FLAGS)) ?? ifa.flags
  }
}

/**
 * One request message: header (NLM_F_REQUEST is added), then an ifinfomsg
 * or ifaddrmsg, then whatever `attrs` writes.
 */
export const rtnlRequest = (
  type: number,
  flags: number,
  seq: number,
  fixed: { readonly ifinfo: Partial<IfInfoMsg> } | { readonly ifaddr: Partial<IfAddrMsg> },
  attrs?: (w: NlWriter) => void
): Uint8Array => {
  const w = new NlWriter()
  const start = w.msgStart(type, flags | NLM_F_REQUEST, seq, 0)
  if ("ifinfo" in fixed) putIfinfomsg(w, fixed.ifinfo)
  else putIfaddrmsg(w, fixed.ifaddr)
  attrs?.(w)
  w.msgEnd(start)
  return w.finish()
}

/** The bytes of an IPv4 address attribute value (network byte order). */
export const inAddrAttr = (addr: number): Uint8Array =>
  new Uint8Array([addr >>> 24, (addr >>> 16) & 255, (addr >>> 8) & 255, addr & 255])
