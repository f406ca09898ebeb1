import { NLA_F_NESTED, NLA_HDRLEN, NLA_TYPE_MASK, NLMSG_HDRLEN } from "./constants.js"

/**
 * The netlink wire format, as include/uapi/linux/netlink.h and
 * include/net/netlink.h: messages are a struct nlmsghdr (len, type, flags,
 * seq, pid; host byte order, little-endian on x86_64) and a payload, each
 * padded to 4 bytes; attributes (struct nlattr / rtattr) are len, type and
 * data, also padded to 4 bytes. Everything here is plain bytes, so the same
 * helpers serve the kernel side and a userland `ip`.
 */

/** NLMSG_ALIGN / NLA_ALIGN: round up to 4 bytes. */
export const nlmsgAlign = (n: number): number => (n + 3) & ~3

/** struct nlmsghdr. */
export interface NlMsgHdr {
  readonly len: number
  readonly type: number
  readonly flags: number
  readonly seq: number
  readonly pid: number
}

/** One message cut out of a buffer: its header and its payload (a view, not a copy). */
export interface NlMsg extends NlMsgHdr {
  readonly payload: Uint8Array
  /** The whole message (header and payload), as a view. */
  readonly raw: Uint8Array
}

const view = (b: Uint8Array): DataView => new DataView(b.buffer, b.byteOffset, b.byteLength)

/**
 * Split a buffer into messages, as netlink_rcv_skb() walks an skb: stop at
 * the first header that is short or claims more bytes than are left
 * (Linux drops the rest without an error).
 */
export const nlmsgParse = (buf: Uint8Array): Array<NlMsg> => {
  const out: Array<NlMsg> = []
  const dv = view(buf)
  let off = 0
  while (buf.length - off >= NLMSG_HDRLEN) {
    const len = dv.getUint32(off, true)
    if (len < NLMSG_HDRLEN || len > buf.length - off) break
    out.push({
      len,
      type: dv.getUint16(off + 4, true),
      flags: dv.getUint16(off + 6, true),
      seq: dv.getUint32(off + 8, true),
      pid: dv.getUint32(off + 12, true),
      payload: buf.subarray(off + NLMSG_HDRLEN, off + len),
      raw: buf.subarray(off, off + len)
    })
    off += nlmsgAlign(len)
  }
  return out
}

/** One attribute: its type (without the NESTED and BYTEORDER bits), whether NLA_F_NESTED was set, and its data. */
export interface NlAttr {
  readonly type: number
  readonly nested: boolean
  readonly data: Uint8Array
}

/**
 * nla_parse() in its liberal form (what rtnetlink's link and address
 * messages use): attributes in order until one does not fit; for a type
 * given twice the last one wins. Returns a table by type.
 */
export const nlaParse = (buf: Uint8Array): Map<number, NlAttr> => {
  const tb = new Map<number, NlAttr>()
  const dv = view(buf)
  let off = 0
  while (buf.length - off >= NLA_HDRLEN) {
    const len = dv.getUint16(off, true)
    if (len < NLA_HDRLEN || len > buf.length - off) break
    const raw = dv.getUint16(off + 2, true)
    const type = raw & NLA_TYPE_MASK
    tb.set(type, { type, nested: (raw & NLA_F_NESTED) !== 0, data: buf.subarray(off + NLA_HDRLEN, off + len) })
    off += nlaAlignedLen(len)
  }
  return tb
}

const nlaAlignedLen = (len: number): number => nlmsgAlign(len)

/** The u32 in an attribute (host order), or undefined when it is shorter than 4 bytes. */
export const nlaGetU32 = (a: NlAttr | undefined): number | undefined =>
  a === undefined || a.data.length < 4 ? undefined : view(a.data).getUint32(0, true)

/** The s32 in an attribute, or undefined when it is shorter than 4 bytes. */
export const nlaGetS32 = (a: NlAttr | undefined): number | undefined =>
  a === undefined || a.data.length < 4 ? undefined : view(a.data).getInt32(0, true)

/** The u8 in an attribute, or undefined when it is empty. */
export const nlaGetU8 = (a: NlAttr | undefined): number | undefined =>
  a === undefined || a.data.length < 1 ? undefined : a.data[0]

const latin1 = new TextDecoder("latin1")

/** nla_strscpy(): the string up to the first NUL (or the whole attribute when there is none). */
export const nlaGetString = (a: NlAttr | undefined): string | undefined => {
  if (a === undefined) return undefined
  const nul = a.data.indexOf(0)
  return latin1.decode(nul < 0 ? a.data : a.data.subarray(0, nul))
}

/** The bytes of a string attribute as Linux measures them for a length policy: a final NUL does not count. */
export const nlaStringLen = (a: NlAttr): number => {
  const d = a.data
  return d.length > 0 && d[d.length - 1] === 0 ? d.length - 1 : d.length
}

const encodeLatin1 = (s: string): Uint8Array => {
  const out = new Uint8Array(s.length)
  for (let i = 0; i < s.length; i++) out[i] = s.charCodeAt(i) & 0xff
  return out
}

/**
 * A growable buffer for building netlink messages, as the skb and the
 * nla_put_*() / nlmsg_put() helpers: values are written in host order and
 * every attribute and message is padded with zero bytes.
 */
export class NlWriter {
  private buf: Uint8Array
  private dv: DataView
  private pos = 0

  constructor(capacity = 256) {
    this.buf = new Uint8Array(capacity)
    this.dv = new DataView(this.buf.buffer)
  }

  get length(): number {
    return this.pos
  }

  private reserve(n: number): number {
    const at = this.pos
    const need = at + n
    if (need > this.buf.length) {
      let cap = this.buf.length * 2
      while (cap < need) cap *= 2
      const next = new Uint8Array(cap)
      next.set(this.buf.subarray(0, at))
      this.buf = next
      this.dv = new DataView(next.buffer)
    }
    this.pos = need
    return at
  }

  // reserve() may replace buf and dv, so it runs before they are read
  u8(v: number): this {
    const at = this.reserve(1)
    this.dv.setUint8(at, v)
    return this
  }
  u16(v: number): this {
    const at = this.reserve(2)
    this.dv.setUint16(at, v, true)
    return this
  }
  u32(v: number): this {
    const at = this.reserve(4)
    this.dv.setUint32(at, v >>> 0, true)
    return this
  }
  s32(v: number): this {
    const at = this.reserve(4)
    this.dv.setInt32(at, v, true)
    return this
  }
  u64(v: bigint): this {
    const at = this.reserve(8)
    this.dv.setBigUint64(at, v, true)
    return this
  }
  bytes(b: Uint8Array): this {
    const at = this.reserve(b.length)
    this.buf.set(b, at)
    return this
  }
  /** Zero bytes up to the next multiple of 4. */
  pad(): this {
    return this.zeros(nlmsgAlign(this.pos) - this.pos)
  }
  /** Zero bytes. */
  zeros(n: number): this {
    if (n <= 0) return this
    const at = this.reserve(n)
    this.buf.fill(0, at, at + n)
    return this
  }

  /** nlmsg_put(): start a message; end it with msgEnd(start). */
  msgStart(type: number, flags: number, seq: number, pid: number): number {
    const at = this.pos
    this.u32(0).u16(type).u16(flags).u32(seq).u32(pid)
    return at
  }
  /** nlmsg_end(): write the length, then pad. */
  msgEnd(start: number): this {
    this.dv.setUint32(start, this.pos - start, true)
    return this.pad()
  }

  /** nla_put(): an attribute with raw data. */
  attr(type: number, data: Uint8Array): this {
    this.u16(NLA_HDRLEN + data.length).u16(type).bytes(data)
    return this.pad()
  }
  attrU8(type: number, v: number): this {
    return this.u16(NLA_HDRLEN + 1).u16(type).u8(v).pad()
  }
  attrU16(type: number, v: number): this {
    return this.u16(NLA_HDRLEN + 2).u16(type).u16(v).pad()
  }
  attrU32(type: number, v: number): this {
    return this.u16(NLA_HDRLEN + 4).u16(type).u32(v)
  }
  attrS32(type: number, v: number): this {
    return this.u16(NLA_HDRLEN + 4).u16(type).s32(v)
  }
  /** nla_put_string(): the string and a NUL. */
  attrString(type: number, s: string): this {
    const b = encodeLatin1(s)
    this.u16(NLA_HDRLEN + b.length + 1).u16(type).bytes(b).u8(0)
    return this.pad()
  }
  /** nla_nest_start(): the type gets NLA_F_NESTED; close with nestEnd(start). */
  nestStart(type: number): number {
    const at = this.pos
    this.u16(0).u16(type | NLA_F_NESTED)
    return at
  }
  /** nla_nest_start_noflag(): a nest without NLA_F_NESTED (what rtnl_fill_ifinfo uses for IFLA_LINKINFO). */
  nestStartNoflag(type: number): number {
    const at = this.pos
    this.u16(0).u16(type)
    return at
  }
  nestEnd(start: number): this {
    this.dv.setUint16(start, this.pos - start, true)
    return this
  }

  /** A copy of what was written. */
  finish(): Uint8Array {
    return this.buf.slice(0, this.pos)
  }
}

/** struct ifinfomsg: family, device type, index, flags and the change mask. */
export interface IfInfoMsg {
  readonly family: number
  readonly type: number
  readonly index: number
  readonly flags: number
  readonly change: number
}

/** Read a struct ifinfomsg (16 bytes) from the start of a payload; undefined when shorter. */
export const decodeIfinfomsg = (payload: Uint8Array): IfInfoMsg | undefined => {
  if (payload.length < 16) return undefined
  const dv = view(payload)
  return {
    family: payload[0]!,
    type: dv.getUint16(2, true),
    index: dv.getInt32(4, true),
    flags: dv.getUint32(8, true),
    change: dv.getUint32(12, true)
  }
}

/** Write a struct ifinfomsg. */
export const putIfinfomsg = (w: NlWriter, m: Partial<IfInfoMsg>): NlWriter =>
  w
    .u8(m.family ?? 0)
    .u8(0)
    .u16(m.type ?? 0)
    .s32(m.index ?? 0)
    .u32(m.flags ?? 0)
    .u32(m.change ?? 0)

/** struct ifaddrmsg: family, prefix length, flags, scope and interface index. */
export interface IfAddrMsg {
  readonly family: number
  readonly prefixlen: number
  readonly flags: number
  readonly scope: number
  readonly index: number
}

/** Read a struct ifaddrmsg (8 bytes); undefined when shorter. */
export const decodeIfaddrmsg = (payload: Uint8Array): IfAddrMsg | undefined => {
  if (payload.length < 8) return undefined
  return {
    family: payload[0]!,
    prefixlen: payload[1]!,
    flags: payload[2]!,
    scope: payload[3]!,
    index: view(payload).getInt32(4, true)
  }
}

/** Write a struct ifaddrmsg. */
export const putIfaddrmsg = (w: NlWriter, m: Partial<IfAddrMsg>): NlWriter =>
  w
    .u8(m.family ?? 0)
    .u8(m.prefixlen ?? 0)
    .u8(m.flags ?? 0)
    .u8(m.scope ?? 0)
    .s32(m.index ?? 0)

/** struct nlmsgerr: the negative errno (0 for an ACK) and the request's header. */
export interface NlMsgErr {
  readonly error: number
  readonly msg: NlMsgHdr
}

/** Read the struct nlmsgerr of an NLMSG_ERROR message's payload; undefined when shorter. */
export const decodeNlmsgerr = (payload: Uint8Array): NlMsgErr | undefined => {
  if (payload.length < 4 + NLMSG_HDRLEN) return undefined
  const dv = view(payload)
  return {
    error: dv.getInt32(0, true),
    msg: {
      len: dv.getUint32(4, true),
      type: dv.getUint16(8, true),
      flags: dv.getUint16(10, true),
      seq: dv.getUint32(12, true),
      pid: dv.getUint32(16, true)
    }
  }
}
