import { afterEach, describe, expect, it } from "@effect/vitest"
import { AF_INET, AF_INET6, AF_NETLINK, CLONE_NEWNET, NETLINK_ROUTE, SOCK_DGRAM, SOCK_RAW, sysError } from "@simkernel/abi"
import type { Cred } from "@simkernel/cred"
import { NsProxy, openNamespace, unshareNsproxyNamespaces } from "@simkernel/nsproxy"
import {
  decodeAddrMessage,
  decodeLinkMessage,
  decodeNlmsgerr,
  getNetNsByFile,
  IF_OPER_UP,
  IFA_ADDRESS,
  IFA_LOCAL,
  IFF_UP,
  IFLA_GROUP,
  IFLA_IFNAME,
  IFLA_INFO_DATA,
  IFLA_INFO_KIND,
  IFLA_LINK,
  IFLA_LINK_NETNSID,
  IFLA_LINKINFO,
  IFLA_QDISC,
  IFLA_MTU,
  IFLA_NET_NS_FD,
  IFLA_NET_NS_PID,
  IFLA_TXQLEN,
  inAddrAttr,
  NetlinkSocket,
  type NetNamespace,
  NLM_F_ACK,
  NLM_F_CREATE,
  NLM_F_DUMP,
  NLM_F_EXCL,
  NLM_F_MULTI,
  NLM_F_REPLACE,
  NLMSG_DONE,
  NLMSG_ERROR,
  NLMSG_NOOP,
  type NlMsg,
  nlmsgParse,
  NlWriter,
  parseInAddr,
  putIfinfomsg,
  RTM_DELADDR,
  RTM_DELLINK,
  RTM_GETADDR,
  RTM_GETLINK,
  RTM_NEWADDR,
  RTM_NEWLINK,
  RTM_SETLINK,
  rtnetlinkRcv,
  rtnlRequest,
  type SendOptions,
  sockCreate,
  toNetNs,
  VETH_INFO_PEER,
  vethNewlink
} from "../src/index.js"
import { auditAfterEach, boot, mapRootUser, ok, unprivileged, type World } from "./helpers.js"

afterEach(auditAfterEach)

const ACK = NLM_F_ACK
const NEW = NLM_F_ACK | NLM_F_CREATE | NLM_F_EXCL

const netlinkSocket = (net: NetNamespace, cred: Cred): NetlinkSocket =>
  ok(sockCreate(net, cred, AF_NETLINK, SOCK_RAW, NETLINK_ROUTE)) as NetlinkSocket

/** Send one buffer and collect every reply message. */
const talk = (sock: NetlinkSocket, req: Uint8Array, options?: SendOptions): Array<NlMsg> => {
  ok(sock.sendmsg(req, 0, options))
  const out: Array<NlMsg> = []
  while (sock.queueLength > 0) out.push(...nlmsgParse(ok(sock.recvmsg(1 << 20)).data))
  return out
}

/** The errno of the single NLMSG_ERROR reply (0 for an ACK), as Linux puts it: negative. */
const status = (replies: Array<NlMsg>): number => {
  expect(replies.length).toBe(1)
  expect(replies[0]!.type).toBe(NLMSG_ERROR)
  return decodeNlmsgerr(replies[0]!.payload)!.error
}

const vethRequest = (name: string, peer: string, extra?: (w: NlWriter) => void, peerExtra?: (w: NlWriter) => void) =>
  rtnlRequest(RTM_NEWLINK, NEW, 1, { ifinfo: {} }, (w) => {
    w.attrString(IFLA_IFNAME, name)
    extra?.(w)
    const li = w.nestStart(IFLA_LINKINFO)
    w.attrString(IFLA_INFO_KIND, "veth")
    const data = w.nestStart(IFLA_INFO_DATA)
    const p = w.nestStart(VETH_INFO_PEER)
    putIfinfomsg(w, {})
    w.attrString(IFLA_IFNAME, peer)
    peerExtra?.(w)
    w.nestEnd(p)
    w.nestEnd(data)
    w.nestEnd(li)
  })

const dumpLinks = (sock: NetlinkSocket) =>
  talk(sock, rtnlRequest(RTM_GETLINK, NLM_F_DUMP, 7, { ifinfo: {} }))
    .filter((m) => m.type === RTM_NEWLINK)
    .map((m) => decodeLinkMessage(m)!)

const unshareNet = (w: World, cred = w.cred): NsProxy =>
  unshareNsproxyNamespaces(CLONE_NEWNET, w.nsproxy, cred, undefined) as NsProxy

const EPERM = -1
const ENODEV = -19
const EEXIST = -17
const EINVAL = -22
const EOPNOTSUPP = -95
const EADDRNOTAVAIL = -99
const ERANGE = -34
const EBADF = -9
const ESRCH = -3
const EBUSY = -16

describe("rtnetlink requests", () => {
  it("RTM_GETLINK: dump (one RTM_NEWLINK per device with NLM_F_MULTI, then NLMSG_DONE), by index, by name", () => {
    const w = boot()
    ok(vethNewlink(w.net, { name: "veth0", peerName: "veth1" }))
    const s = netlinkSocket(w.net, w.cred)
    const all = talk(s, rtnlRequest(RTM_GETLINK, NLM_F_DUMP, 7, { ifinfo: {} }))
    expect(all.map((m) => [m.type, m.flags, m.seq])).toEqual([
      [RTM_NEWLINK, NLM_F_MULTI, 7],
      [RTM_NEWLINK, NLM_F_MULTI, 7],
      [RTM_NEWLINK, NLM_F_MULTI, 7],
      [NLMSG_DONE, NLM_F_MULTI, 7]
    ])
    const links = all.slice(0, 3).map((m) => decodeLinkMessage(m)!)
    expect(links.map((l) => [l.index, l.name, l.link, l.linkKind, l.mtu])).toEqual([
      [1, "lo", undefined, undefined, 65536],
      [2, "veth1", 3, "veth", 1500],
      [3, "veth0", 2, "veth", 1500]
    ])
    expect(all[0]!.pid).toBe(s.portid)
    const byName = talk(s, rtnlRequest(RTM_GETLINK, 0, 8, { ifinfo: {} }, (x) => x.attrString(IFLA_IFNAME, "veth0")))
    expect(decodeLinkMessage(byName[0]!)!.index).toBe(3)
    expect(byName[0]!.flags).toBe(0)
    expect(status(talk(s, rtnlRequest(RTM_GETLINK, 0, 9, { ifinfo: { index: 42 } })))).toBe(ENODEV)
    expect(status(talk(s, rtnlRequest(RTM_GETLINK, 0, 9, { ifinfo: {} })))).toBe(EINVAL)
    // RTM_GETADDR has no single-object form: EOPNOTSUPP
    expect(status(talk(s, rtnlRequest(RTM_GETADDR, 0, 9, { ifaddr: { family: AF_INET } })))).toBe(EOPNOTSUPP)
    s.put()
  })

  it.each([
    ["RTM_NEWLINK", RTM_NEWLINK],
    ["RTM_SETLINK", RTM_SETLINK],
    ["RTM_DELLINK", RTM_DELLINK],
    ["RTM_NEWADDR", RTM_NEWADDR],
    ["RTM_DELADDR", RTM_DELADDR]
  ])("%s needs CAP_NET_ADMIN over the namespace's owner (EPERM); reads do not", (_name, type) => {
    const w = boot()
    const user = unprivileged(w.cred)
    const s = netlinkSocket(w.net, user)
    const fixed = type >= RTM_NEWADDR ? { ifaddr: { family: AF_INET, index: 1 } } : { ifinfo: { index: 1 } }
    expect(status(talk(s, rtnlRequest(type, ACK, 1, fixed)))).toBe(EPERM)
    expect(dumpLinks(s).map((l) => l.name)).toEqual(["lo"])
    // a socket opened by root but written by an unprivileged task: still EPERM (both are checked)
    const rootSock = netlinkSocket(w.net, w.cred)
    expect(status(talk(rootSock, rtnlRequest(type, ACK, 1, fixed), { sender: user }))).toBe(EPERM)
    rootSock.put()
    s.put()
    user.put()
  })

  it("root of a user namespace manages the net namespace it owns, not the initial one", () => {
    const w = boot()
    const user = unprivileged(w.cred)
    const inside = mapRootUser(user)
    const p = unshareNet(w, inside)
    const net = toNetNs(p.net) as NetNamespace
    const s = netlinkSocket(net, inside)
    expect(status(talk(s, vethRequest("a", "b")))).toBe(0)
    expect(dumpLinks(s).map((l) => l.name)).toEqual(["lo", "b", "a"])
    const host = netlinkSocket(w.net, inside)
    expect(status(talk(host, vethRequest("a", "b")))).toBe(EPERM)
    host.put()
    s.put()
    p.put()
    inside.put()
    user.put()
  })

  it("RTM_NEWLINK: NLM_F_EXCL on an existing link is EEXIST, NLM_F_REPLACE EOPNOTSUPP, no NLM_F_CREATE ENODEV, unknown kinds EOPNOTSUPP", () => {
    const w = boot()
    const s = netlinkSocket(w.net, w.cred)
    expect(status(talk(s, vethRequest("v0", "v1")))).toBe(0)
    expect(status(talk(s, vethRequest("v0", "v9")))).toBe(EEXIST)
    expect(
      status(talk(s, rtnlRequest(RTM_NEWLINK, ACK | NLM_F_REPLACE, 1, { ifinfo: {} }, (x) => x.attrString(IFLA_IFNAME, "v0"))))
    ).toBe(EOPNOTSUPP)
    // without NLM_F_EXCL an existing link is changed (ip link set is RTM_NEWLINK on old kernels' iproute)
    expect(
      status(talk(s, rtnlRequest(RTM_NEWLINK, ACK, 1, { ifinfo: {} }, (x) => x.attrString(IFLA_IFNAME, "v0").attrU32(IFLA_MTU, 9000))))
    ).toBe(0)
    expect(w.net.devGetByName("v0")!.mtu).toBe(9000)
    expect(status(talk(s, rtnlRequest(RTM_NEWLINK, ACK, 1, { ifinfo: {} }, (x) => x.attrString(IFLA_IFNAME, "nope"))))).toBe(ENODEV)
    const bridge = rtnlRequest(RTM_NEWLINK, NEW, 1, { ifinfo: {} }, (x) => {
      x.attrString(IFLA_IFNAME, "br0")
      const li = x.nestStart(IFLA_LINKINFO)
      x.attrString(IFLA_INFO_KIND, "bridge")
      x.nestEnd(li)
    })
    expect(status(talk(s, bridge))).toBe(EOPNOTSUPP)
    expect(status(talk(s, rtnlRequest(RTM_NEWLINK, NEW, 1, { ifinfo: {} }, (x) => x.attrString(IFLA_IFNAME, "x"))))).toBe(EOPNOTSUPP)
    expect(status(talk(s, rtnlRequest(RTM_NEWLINK, NEW, 1, { ifinfo: { index: -1 } })))).toBe(EINVAL)
    expect(status(talk(s, vethRequest("a:b", "c")))).toBe(EINVAL)
    expect(status(talk(s, vethRequest("ok", "1234567890123456")))).toBe(ERANGE)
    expect(status(talk(s, vethRequest("m", "n", (x) => x.attrU32(IFLA_MTU, 67))))).toBe(EINVAL)
    expect(status(talk(s, vethRequest("m", "n", undefined, (x) => x.u16(6).u16(IFLA_MTU).u16(0).u16(0))))).toBe(ERANGE)
    expect(dumpLinks(s).map((l) => l.name)).toEqual(["lo", "v1", "v0"])
    s.put()
  })

  it("RTM_NEWLINK with ifi_flags brings the new link up; IFLA_MTU, an explicit ifindex (EBUSY when used)", () => {
    const w = boot()
    const s = netlinkSocket(w.net, w.cred)
    const req = rtnlRequest(RTM_NEWLINK, NEW, 1, { ifinfo: { index: 20, flags: IFF_UP, change: IFF_UP } }, (x) => {
      x.attrString(IFLA_IFNAME, "e").attrU32(IFLA_MTU, 9000)
      const li = x.nestStart(IFLA_LINKINFO)
      x.attrString(IFLA_INFO_KIND, "veth")
      x.nestEnd(li)
    })
    expect(status(talk(s, req))).toBe(0)
    const links = dumpLinks(s)
    expect(links.map((l) => [l.index, l.name, l.mtu, l.flags & IFF_UP])).toEqual([
      [1, "lo", 65536, IFF_UP],
      [2, "veth0", 1500, 0],
      [20, "e", 9000, IFF_UP]
    ])
    expect(status(talk(s, req))).toBe(EEXIST)
    expect(status(talk(s, vethRequest("f", "g", undefined, (x) => x)))).toBe(0)
    const clash = rtnlRequest(RTM_NEWLINK, NEW, 1, { ifinfo: { index: 20 } }, (x) => {
      x.attrString(IFLA_IFNAME, "h")
      const li = x.nestStart(IFLA_LINKINFO)
      x.attrString(IFLA_INFO_KIND, "veth")
      x.nestEnd(li)
    })
    // index 20 names an existing link, so this is a change of "e", with NLM_F_EXCL: EEXIST
    expect(status(talk(s, clash))).toBe(EEXIST)
    expect(status(talk(s, vethRequest("h", "i", undefined, (x) => x)))).toBe(0)
    const busy = rtnlRequest(RTM_NEWLINK, NEW, 1, { ifinfo: {} }, (x) => {
      x.attrString(IFLA_IFNAME, "j")
      const li = x.nestStart(IFLA_LINKINFO)
      x.attrString(IFLA_INFO_KIND, "veth")
      const d = x.nestStart(IFLA_INFO_DATA)
      const p = x.nestStart(VETH_INFO_PEER)
      putIfinfomsg(x, { index: 20 })
      x.nestEnd(p)
      x.nestEnd(d)
      x.nestEnd(li)
    })
    expect(status(talk(s, busy))).toBe(EBUSY)
    s.put()
  })

  it("RTM_SETLINK: up/down under ifi_change, mtu (EINVAL out of range), rename, txqlen, group; ENODEV, EINVAL", () => {
    const w = boot()
    const [v0, v1] = ok(vethNewlink(w.net, { name: "v0", peerName: "v1" }))
    const s = netlinkSocket(w.net, w.cred)
    const set = (index: number, flags: number, change: number, attrs?: (x: NlWriter) => void) =>
      status(talk(s, rtnlRequest(RTM_SETLINK, ACK, 1, { ifinfo: { index, flags, change } }, attrs)))
    expect(set(v0.ifindex, IFF_UP, IFF_UP)).toBe(0)
    expect(set(v1.ifindex, IFF_UP, IFF_UP)).toBe(0)
    expect(dumpLinks(s).map((l) => [l.name, l.operstate])).toEqual([
      ["lo", 0],
      ["v1", IF_OPER_UP],
      ["v0", IF_OPER_UP]
    ])
    expect(set(v0.ifindex, 0, IFF_UP)).toBe(0)
    expect(v0.flags & IFF_UP).toBe(0)
    expect(v1.flags & IFF_UP).toBe(IFF_UP)
    expect(set(v0.ifindex, 0, 0, (x) => x.attrU32(IFLA_MTU, 65536))).toBe(EINVAL)
    expect(set(v0.ifindex, 0, 0, (x) => x.attrU32(IFLA_MTU, 4000).attrU32(IFLA_TXQLEN, 5).attrU32(IFLA_GROUP, 3))).toBe(0)
    expect([v0.mtu, v0.txqlen, v0.group]).toEqual([4000, 5, 3])
    expect(set(v0.ifindex, 0, 0, (x) => x.attrString(IFLA_IFNAME, "renamed"))).toBe(0)
    expect(v0.name).toBe("renamed")
    expect(set(v0.ifindex, 0, 0, (x) => x.attrString(IFLA_IFNAME, "v1"))).toBe(EEXIST)
    // named by IFLA_IFNAME, the name is the key, not a rename
    expect(set(0, IFF_UP, IFF_UP, (x) => x.attrString(IFLA_IFNAME, "renamed"))).toBe(0)
    expect(v0.flags & IFF_UP).toBe(IFF_UP)
    expect(set(99, 0, 0)).toBe(ENODEV)
    expect(set(0, 0, 0)).toBe(EINVAL)
    s.put()
  })

  it("RTM_DELLINK: a veth end takes its peer; lo is EOPNOTSUPP; ENODEV, EINVAL", () => {
    const w = boot()
    ok(vethNewlink(w.net, { name: "v0", peerName: "v1" }))
    const s = netlinkSocket(w.net, w.cred)
    expect(status(talk(s, rtnlRequest(RTM_DELLINK, ACK, 1, { ifinfo: {} }, (x) => x.attrString(IFLA_IFNAME, "v1"))))).toBe(0)
    expect(dumpLinks(s).map((l) => l.name)).toEqual(["lo"])
    expect(status(talk(s, rtnlRequest(RTM_DELLINK, ACK, 1, { ifinfo: { index: 1 } })))).toBe(EOPNOTSUPP)
    expect(status(talk(s, rtnlRequest(RTM_DELLINK, ACK, 1, { ifinfo: { index: 2 } })))).toBe(ENODEV)
    expect(status(talk(s, rtnlRequest(RTM_DELLINK, ACK, 1, { ifinfo: {} })))).toBe(EINVAL)
    s.put()
  })

  it("moves a link with IFLA_NET_NS_FD or IFLA_NET_NS_PID, with CAP_NET_ADMIN over the target (EPERM)", () => {
    const w = boot()
    const p = unshareNet(w)
    const target = toNetNs(p.net) as NetNamespace
    const file = openNamespace(target)
    const fds = new Map([[5, file]])
    const options: SendOptions = {
      netnsByFd: (fd) => {
        const f = fds.get(fd)
        return f === undefined ? sysError("EBADF") : getNetNsByFile(f)
      },
      netnsByPid: (pid) => (pid === 77 ? target.get() : sysError("ESRCH"))
    }
    const [v0, v1] = ok(vethNewlink(w.net, { name: "v0", peerName: "v1" }))
    const s = netlinkSocket(w.net, w.cred)
    const move = (index: number, attrs: (x: NlWriter) => void, o: SendOptions = options) =>
      status(talk(s, rtnlRequest(RTM_SETLINK, ACK, 1, { ifinfo: { index } }, attrs), o))
    expect(move(v1.ifindex, (x) => x.attrU32(IFLA_NET_NS_FD, 5))).toBe(0)
    expect(v1.net).toBe(target)
    expect(v1.ifindex).toBe(2)
    expect(v0.iflink()).toBe(2)
    expect(move(v0.ifindex, (x) => x.attrU32(IFLA_NET_NS_PID, 77))).toBe(0)
    expect(target.devices().map((d) => d.name)).toEqual(["lo", "v1", "v0"])
    ok(vethNewlink(w.net, { name: "w0", peerName: "w1" }))
    expect(move(w.net.devGetByName("w0")!.ifindex, (x) => x.attrU32(IFLA_NET_NS_PID, 77).attrU32(IFLA_NET_NS_FD, 5))).toBe(EINVAL)
    expect(move(w.net.devGetByName("w0")!.ifindex, (x) => x.attrU32(IFLA_NET_NS_PID, 78))).toBe(ESRCH)
    expect(move(w.net.devGetByName("w0")!.ifindex, (x) => x.attrU32(IFLA_NET_NS_FD, 5), {})).toBe(EBADF)
    expect(move(1, (x) => x.attrU32(IFLA_NET_NS_PID, 77))).toBe(EINVAL)
    // a target owned by a user namespace the sender has no CAP_NET_ADMIN over
    const user = unprivileged(w.cred)
    const inside = mapRootUser(user)
    const p2 = unshareNet(w, inside)
    const theirs = toNetNs(p2.net) as NetNamespace
    const s2 = netlinkSocket(theirs, inside)
    const [x0] = ok(vethNewlink(theirs, { name: "x0", peerName: "x1" }))
    const toHost: SendOptions = { netnsByPid: () => w.net.get() }
    expect(status(talk(s2, rtnlRequest(RTM_SETLINK, ACK, 1, { ifinfo: { index: x0.ifindex } }, (x) => x.attrU32(IFLA_NET_NS_PID, 1)), toHost))).toBe(EPERM)
    s2.put()
    p2.put()
    inside.put()
    user.put()
    s.put()
    file.put()
    p.put()
  })

  it("creates a pair across namespaces with the peer's IFLA_NET_NS_FD; the namespace's death takes both ends", () => {
    const w = boot()
    const p = unshareNet(w)
    const target = toNetNs(p.net) as NetNamespace
    const s = netlinkSocket(w.net, w.cred)
    const options: SendOptions = { netnsByFd: () => target.get() }
    expect(status(talk(s, vethRequest("host0", "eth0", undefined, (x) => x.attrU32(IFLA_NET_NS_FD, 3)), options))).toBe(0)
    // both ends got ifindex 2; with the peer elsewhere IFLA_LINK_NETNSID comes first and IFLA_LINK is sent anyway
    // (test/fixtures/capture_netnsid.sh: Linux sends ..., 18 LINKINFO, 37 LINK_NETNSID 0, 5 LINK 2, 6 QDISC)
    const links = dumpLinks(s)
    expect(links.map((l) => [l.index, l.name, l.link])).toEqual([
      [1, "lo", undefined],
      [2, "host0", 2]
    ])
    const order = [...links[1]!.attrs.keys()]
    expect(order.slice(order.indexOf(IFLA_LINKINFO))).toEqual([IFLA_LINKINFO, IFLA_LINK_NETNSID, IFLA_LINK, IFLA_QDISC])
    expect([...links[1]!.attrs.get(IFLA_LINK_NETNSID)!.data]).toEqual([0, 0, 0, 0])
    expect(w.net.peernet2id(target)).toBe(0)
    expect(target.peernet2id(w.net)).toBe(-1)
    expect(target.devices().map((d) => [d.ifindex, d.name])).toEqual([
      [1, "lo"],
      [2, "eth0"]
    ])
    p.put()
    expect(dumpLinks(s).map((l) => l.name)).toEqual(["lo"])
    expect(w.net.peernet2id(target)).toBe(-1)
    s.put()
  })

  it("RTM_NEWADDR / RTM_DELADDR / RTM_GETADDR", () => {
    const w = boot()
    const s = netlinkSocket(w.net, w.cred)
    const a = (s1: string) => inAddrAttr(parseInAddr(s1)!)
    const add = (index: number, prefixlen: number, local: string, flags = NEW, family = AF_INET) =>
      status(talk(s, rtnlRequest(RTM_NEWADDR, flags, 1, { ifaddr: { family, prefixlen, index } }, (x) => x.attr(IFA_LOCAL, a(local)))))
    expect(add(1, 24, "10.0.0.1")).toBe(0)
    expect(add(1, 24, "10.0.0.1")).toBe(EEXIST)
    expect(add(1, 24, "10.0.0.1", ACK | NLM_F_CREATE | NLM_F_REPLACE)).toBe(0)
    expect(add(1, 33, "10.0.0.9")).toBe(EINVAL)
    expect(add(9, 24, "10.0.0.9")).toBe(ENODEV)
    expect(add(1, 24, "10.0.0.9", NEW, AF_INET6)).toBe(EOPNOTSUPP)
    expect(status(talk(s, rtnlRequest(RTM_NEWADDR, NEW, 1, { ifaddr: { family: AF_INET, prefixlen: 8, index: 1 } })))).toBe(EINVAL)
    const dump = talk(s, rtnlRequest(RTM_GETADDR, NLM_F_DUMP, 3, { ifaddr: { family: AF_INET } }))
    const addrs = dump.filter((m) => m.type === RTM_NEWADDR).map((m) => decodeAddrMessage(m)!)
    expect(addrs.map((x) => [x.index, x.prefixlen, x.scope, x.local, x.label])).toEqual([
      [1, 8, 254, 0x7f000001, "lo"],
      [1, 24, 0, 0x0a000001, "lo"]
    ])
    expect(dump.at(-1)!.type).toBe(NLMSG_DONE)
    expect(talk(s, rtnlRequest(RTM_GETADDR, NLM_F_DUMP, 3, { ifaddr: { family: AF_INET6 } })).map((m) => m.type)).toEqual([NLMSG_DONE])
    const del = (attrs: (x: NlWriter) => void, prefixlen = 24) =>
      status(talk(s, rtnlRequest(RTM_DELADDR, ACK, 1, { ifaddr: { family: AF_INET, prefixlen, index: 1 } }, attrs)))
    expect(del((x) => x.attr(IFA_LOCAL, a("10.9.9.9")))).toBe(EADDRNOTAVAIL)
    expect(del((x) => x.attr(IFA_ADDRESS, a("10.0.0.0")), 16)).toBe(EADDRNOTAVAIL)
    expect(del((x) => x.attr(IFA_LOCAL, a("10.0.0.1")))).toBe(0)
    expect(w.net.loopback.inetAddrs.length).toBe(1)
    s.put()
  })

  it("netlink_rcv_skb(): several requests in one buffer, non-requests and control messages, empty payloads, truncated tails", () => {
    const w = boot()
    const s = netlinkSocket(w.net, w.cred)
    const two = new Uint8Array([
      ...rtnlRequest(RTM_GETLINK, 0, 1, { ifinfo: { index: 1 } }),
      ...rtnlRequest(RTM_GETLINK, 0, 2, { ifinfo: { index: 5 } })
    ])
    expect(talk(s, two).map((m) => [m.type, m.seq])).toEqual([
      [RTM_NEWLINK, 1],
      [NLMSG_ERROR, 2]
    ])
    // without NLM_F_REQUEST nothing is done; NLM_F_ACK still acknowledges
    const w1 = new NlWriter()
    const st = w1.msgStart(RTM_DELLINK, ACK, 3, 0)
    putIfinfomsg(w1, { index: 1 })
    w1.msgEnd(st)
    expect(status(talk(s, w1.finish()))).toBe(0)
    const noop = new NlWriter()
    noop.msgEnd(noop.msgStart(NLMSG_NOOP, 1 | ACK, 4, 0))
    expect(status(talk(s, noop.finish()))).toBe(0)
    const empty = new NlWriter()
    empty.msgEnd(empty.msgStart(RTM_NEWLINK, 1 | ACK, 5, 0))
    expect(status(talk(s, empty.finish()))).toBe(0)
    // a header claiming more bytes than were sent ends the walk silently
    const req = rtnlRequest(RTM_GETLINK, 0, 6, { ifinfo: { index: 1 } })
    expect(talk(s, req.subarray(0, req.length - 4))).toEqual([])
    expect(rtnetlinkRcv(w.net, { opener: w.cred, sender: w.cred }, new Uint8Array(10), 1)).toEqual([])
    s.put()
  })

  it("a dump larger than one skb spans several recvmsg() calls, NLMSG_DONE last", () => {
    const w = boot()
    for (let i = 0; i < 60; i++) ok(vethNewlink(w.net))
    const s = netlinkSocket(w.net, w.cred)
    ok(s.sendmsg(rtnlRequest(RTM_GETLINK, NLM_F_DUMP, 1, { ifinfo: {} })))
    expect(s.queueLength).toBeGreaterThan(1)
    const msgs: Array<NlMsg> = []
    while (s.queueLength > 0) {
      const r = ok(s.recvmsg(32768))
      expect(r.length).toBeLessThanOrEqual(32768)
      msgs.push(...nlmsgParse(r.data))
    }
    expect(msgs.length).toBe(122)
    expect(msgs.at(-1)!.type).toBe(NLMSG_DONE)
    s.put()
  })

  it("socket(AF_NETLINK): SOCK_DGRAM works too; port ids: the tgid first, then from -4096 down; bind rules", () => {
    const w = boot()
    const a = ok(sockCreate(w.net, w.cred, AF_NETLINK, SOCK_DGRAM, NETLINK_ROUTE, { tgid: 300 })) as NetlinkSocket
    const b = ok(sockCreate(w.net, w.cred, AF_NETLINK, SOCK_RAW, NETLINK_ROUTE, { tgid: 300 })) as NetlinkSocket
    expect(a.getsockname().pid).toBe(0)
    ok(a.sendmsg(rtnlRequest(RTM_GETLINK, 0, 1, { ifinfo: { index: 1 } })))
    ok(b.sendmsg(rtnlRequest(RTM_GETLINK, 0, 1, { ifinfo: { index: 1 } })))
    expect([a.portid, b.portid]).toEqual([300, 0xfffff000])
    expect(a.bind({ family: AF_NETLINK, pid: 301, groups: 0 })).toEqual(expect.objectContaining({ errno: "EINVAL" }))
    const c = ok(sockCreate(w.net, w.cred, AF_NETLINK, SOCK_RAW, NETLINK_ROUTE)) as NetlinkSocket
    expect(c.bind({ family: AF_NETLINK, pid: 300, groups: 0 })).toEqual(expect.objectContaining({ errno: "EADDRINUSE" }))
    expect(c.bind({ family: AF_NETLINK, pid: 0, groups: 1 })).toEqual(expect.objectContaining({ errno: "EINVAL" }))
    expect(c.sendmsg(new Uint8Array(16), 0, { addr: { family: AF_NETLINK, pid: 300, groups: 0 } })).toEqual(
      expect.objectContaining({ errno: "ECONNREFUSED" })
    )
    expect(c.recvmsg(100, 0x40)).toEqual(expect.objectContaining({ errno: "EAGAIN" }))
    a.put()
    // the port is free again
    expect(c.bind({ family: AF_NETLINK, pid: 300, groups: 0 })).toBeUndefined()
    b.put()
    c.put()
  })
})
