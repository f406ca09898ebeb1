import { afterEach, describe, expect, it } from "@effect/vitest"
import { AF_INET, AF_NETLINK, CLONE_NEWNET, NETLINK_ROUTE, SOCK_RAW } from "@simkernel/abi"
import { NsProxy, unshareNsproxyNamespaces } from "@simkernel/nsproxy"
import { readFileSync } from "node:fs"
import { fileURLToPath } from "node:url"
import {
  IFLA_ADDRESS,
  IFLA_CARRIER,
  IFLA_CARRIER_CHANGES,
  IFLA_IFNAME,
  IFLA_INFO_DATA,
  IFLA_INFO_KIND,
  IFLA_LINKINFO,
  IFLA_MTU,
  NetlinkSocket,
  type NetNamespace,
  NLA_F_NESTED,
  NLM_F_ACK,
  NLM_F_CREATE,
  NLM_F_DUMP,
  NLM_F_EXCL,
  NLM_F_REQUEST,
  type NlMsg,
  nlmsgParse,
  NlWriter,
  putIfaddrmsg,
  putIfinfomsg,
  RTM_DELLINK,
  RTM_GETADDR,
  RTM_GETLINK,
  RTM_NEWADDR,
  RTM_NEWLINK,
  sockCreate,
  toNetNs,
  VETH_INFO_PEER
} from "../src/index.js"
import { auditAfterEach, boot, hex, ok, unhex, type World } from "./helpers.js"

afterEach(auditAfterEach)

/**
 * Bytes from Linux 6.18.44 (x86_64), captured by
 * test/fixtures/capture_rtnetlink.py run as root in a fresh network
 * namespace: `unshare -n python3 capture_rtnetlink.py > linux-rtnetlink.json`.
 * The script sends the requests below, in this order, on one NETLINK_ROUTE
 * socket, and stores every reply message as hex. The simulated kernel gets
 * the same requests (built here with NlWriter) on a socket bound to the same
 * port id, so replies compare byte for byte.
 */
const linux = JSON.parse(
  readFileSync(fileURLToPath(new URL("./fixtures/linux-rtnetlink.json", import.meta.url)), "utf8")
) as Record<string, unknown> & { portid: number }
const captured = (key: string): Array<Uint8Array> => (linux[key] as Array<string>).map(unhex)

const msg = (type: number, flags: number, seq: number, body: (w: NlWriter) => void): Uint8Array => {
  const w = new NlWriter()
  const start = w.msgStart(type, flags, seq, 0)
  body(w)
  w.msgEnd(start)
  return w.finish()
}

/** The VETH pair request of the capture script: v0 with peer v1. */
const vethLinkinfo = (w: NlWriter): void => {
  const li = w.nestStart(IFLA_LINKINFO)
  w.attrString(IFLA_INFO_KIND, "veth")
  const data = w.nestStart(IFLA_INFO_DATA)
  const peer = w.nestStart(VETH_INFO_PEER)
  putIfinfomsg(w, {})
  w.attrString(IFLA_IFNAME, "v1")
  w.nestEnd(peer)
  w.nestEnd(data)
  w.nestEnd(li)
}

const addrReq = (w: NlWriter): void => {
  putIfaddrmsg(w, { family: AF_INET, prefixlen: 24, index: 1 })
  w.attr(2, new Uint8Array([10, 1, 2, 3]))
  w.attr(1, new Uint8Array([10, 1, 2, 3]))
}

const NEW = NLM_F_REQUEST | NLM_F_ACK | NLM_F_CREATE | NLM_F_EXCL

/** The capture script's requests, by fixture key. */
const requests: ReadonlyArray<readonly [string, Uint8Array]> = [
  ["getlink_dump_lo_down", msg(RTM_GETLINK, NLM_F_REQUEST | NLM_F_DUMP, 1, (w) => putIfinfomsg(w, {}))],
  ["getlink_lo_down", msg(RTM_GETLINK, NLM_F_REQUEST, 2, (w) => putIfinfomsg(w, { index: 1 }))],
  ["newlink_lo_up_ack", msg(RTM_NEWLINK, NLM_F_REQUEST | NLM_F_ACK, 3, (w) => putIfinfomsg(w, { index: 1, flags: 1, change: 1 }))],
  ["getlink_lo_up", msg(RTM_GETLINK, NLM_F_REQUEST, 4, (w) => putIfinfomsg(w, { index: 1 }))],
  ["getlink_enodev", msg(RTM_GETLINK, NLM_F_REQUEST, 5, (w) => putIfinfomsg(w, { index: 99 }))],
  ["getlink_name_enodev", msg(RTM_GETLINK, NLM_F_REQUEST, 6, (w) => putIfinfomsg(w, {}).attrString(IFLA_IFNAME, "nosuch"))],
  ["newaddr_ack", msg(RTM_NEWADDR, NEW, 7, addrReq)],
  ["newaddr_eexist", msg(RTM_NEWADDR, NEW, 8, addrReq)],
  ["getaddr_dump_v4", msg(RTM_GETADDR, NLM_F_REQUEST | NLM_F_DUMP, 9, (w) => putIfaddrmsg(w, { family: AF_INET }))],
  ["newlink_veth_ack", msg(RTM_NEWLINK, NEW, 10, (w) => vethLinkinfo(putIfinfomsg(w, {}).attrString(IFLA_IFNAME, "v0")))],
  ["getlink_dump_veth", msg(RTM_GETLINK, NLM_F_REQUEST | NLM_F_DUMP, 11, (w) => putIfinfomsg(w, {}))],
  ["unknown_type", msg(200, NLM_F_REQUEST | NLM_F_ACK, 12, (w) => putIfinfomsg(w, {}))],
  [
    "newlink_name_too_long",
    msg(RTM_NEWLINK, NEW, 13, (w) => vethLinkinfo(putIfinfomsg(w, {}).attrString(IFLA_IFNAME, "abcdefghijklmnop")))
  ],
  ["dellink_lo", msg(RTM_DELLINK, NLM_F_REQUEST | NLM_F_ACK, 14, (w) => putIfinfomsg(w, { index: 1 }))],
  ["newlink_short", msg(RTM_NEWLINK, NLM_F_REQUEST | NLM_F_ACK, 15, (w) => w.zeros(8))],
  ["newlink_nocreate_enodev", msg(RTM_NEWLINK, NLM_F_REQUEST | NLM_F_ACK, 16, (w) => putIfinfomsg(w, {}).attrString(IFLA_IFNAME, "nosuch"))]
]

/** The attributes of an RTM_NEWLINK / RTM_NEWADDR message after its fixed header, as [type, raw attribute bytes]. */
const attrsOf = (m: NlMsg, fixed: number): Array<readonly [number, string]> => {
  const out: Array<readonly [number, string]> = []
  const p = m.payload
  let off = fixed
  while (off + 4 <= p.length) {
    const len = p[off]! | (p[off + 1]! << 8)
    const type = (p[off + 2]! | (p[off + 3]! << 8)) & ~NLA_F_NESTED
    out.push([type, hex(p.subarray(off, off + len))])
    off += (len + 3) & ~3
  }
  return out
}

/**
 * Our message must have Linux's header and fixed part, and every attribute
 * we emit must be in Linux's message with the same bytes and in the same
 * order (we emit a subset; `skip` lists attributes whose value differs for
 * a known reason, e.g. a random MAC).
 */
const expectSubsetOf = (ours: NlMsg, theirs: NlMsg, fixed: number, skip: ReadonlyArray<number> = []): void => {
  expect(hex(ours.raw.subarray(4, 16))).toBe(hex(theirs.raw.subarray(4, 16)))
  expect(hex(ours.payload.subarray(0, fixed))).toBe(hex(theirs.payload.subarray(0, fixed)))
  const mine = attrsOf(ours, fixed)
  const real = attrsOf(theirs, fixed)
  let j = 0
  for (const [type, bytes] of mine) {
    while (j < real.length && real[j]![0] !== type) j++
    expect(j, `attribute ${type} in Linux's order`).toBeLessThan(real.length)
    if (!skip.includes(type)) expect(bytes, `attribute ${type}`).toBe(real[j]![1])
    j++
  }
}

const start = (): { w: World; p: NsProxy; net: NetNamespace; sock: NetlinkSocket } => {
  const w = boot()
  const p = unshareNsproxyNamespaces(CLONE_NEWNET, w.nsproxy, w.cred, undefined) as NsProxy
  const net = toNetNs(p.net) as NetNamespace
  const sock = ok(sockCreate(net, w.cred, AF_NETLINK, SOCK_RAW, NETLINK_ROUTE)) as NetlinkSocket
  expect(sock.bind({ family: AF_NETLINK, pid: linux.portid, groups: 0 })).toBeUndefined()
  return { w, p, net, sock }
}

const exchange = (sock: NetlinkSocket, req: Uint8Array): Array<NlMsg> => {
  ok(sock.sendmsg(req))
  const out: Array<NlMsg> = []
  while (sock.queueLength > 0) out.push(...nlmsgParse(ok(sock.recvmsg(65536)).data))
  return out
}

describe("rtnetlink bytes against Linux 6.18", () => {
  it("replays the capture: errors, ACKs and NLMSG_DONE are identical; link and address messages carry Linux's bytes", () => {
    const { p, sock } = start()
    for (const [key, req] of requests) {
      const ours = exchange(sock, req)
      const theirs = captured(key).map((b) => nlmsgParse(b)[0]!)
      expect(ours.length, key).toBe(theirs.length)
      for (let i = 0; i < ours.length; i++) {
        const o = ours[i]!
        const t = theirs[i]!
        if (o.type === RTM_NEWLINK) {
          // veth MACs are random on both sides; the rest must match
          const randomMac = key === "getlink_dump_veth" && i > 0 ? [IFLA_ADDRESS] : []
          expectSubsetOf(o, t, 16, randomMac)
        } else if (o.type === RTM_NEWADDR) {
          // IFA_CACHEINFO's creation and update stamps count time since boot; compare the lifetimes only
          expectSubsetOf(o, t, 8, [6])
          const ci = (m: NlMsg) => attrsOf(m, 8).find(([ty]) => ty === 6)![1].slice(0, 24)
          expect(ci(o)).toBe(ci(t))
        } else expect(hex(o.raw), `${key} message ${i}`).toBe(hex(t.raw))
      }
    }
    sock.put()
    p.put()
  })

  it("the lo reply in a fresh namespace is these attributes exactly", () => {
    const { p, sock } = start()
    const [m] = exchange(sock, requests[1]![1])
    expect(attrsOf(m!, 16).map(([t]) => t)).toEqual([3, 13, 16, 17, 4, 50, 51, 27, 30, 33, 35, 47, 48, 1, 2, 23, 6])
    expect(hex(m!.payload.subarray(0, 16))).toBe("000004030100000008000000" + "00000000")
    sock.put()
    p.put()
  })

  it("builds requests byte for byte as the capture script did (Linux echoes a failed request whole)", () => {
    for (const key of ["newlink_name_too_long", "getlink_enodev", "getlink_name_enodev", "newaddr_eexist", "newlink_short"]) {
      const req = requests.find(([k]) => k === key)![1]
      const echoed = captured(key)[0]!.subarray(20)
      expect(hex(req), key).toBe(hex(echoed))
    }
  })

  it("a reply shorter than the buffer is cut with MSG_TRUNC and the rest is lost", () => {
    const { p, sock } = start()
    ok(sock.sendmsg(requests[1]![1]))
    const r = ok(sock.recvmsg(16, 0x20))
    expect(r.data.length).toBe(16)
    expect(r.flags).toBe(0x20)
    expect(r.length).toBeGreaterThan(16)
    expect(sock.queueLength).toBe(0)
    sock.put()
    p.put()
  })

  it("IFLA_MTU, IFLA_CARRIER and IFLA_CARRIER_CHANGES follow the device", () => {
    const { p, net, sock } = start()
    net.loopback.setMtu(1234)
    const [m] = exchange(sock, requests[1]![1])
    const a = new Map(attrsOf(m!, 16))
    expect(a.get(IFLA_MTU)).toBe("08000400d2040000")
    expect(a.get(IFLA_CARRIER)).toBe("0500210001")
    expect(a.get(IFLA_CARRIER_CHANGES)).toBe("0800230000000000")
    sock.put()
    p.put()
  })
})
