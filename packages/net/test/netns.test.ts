import { afterEach, describe, expect, it } from "@effect/vitest"
import { AF_UNIX, CLONE_NEWNET, PROC_DYNAMIC_FIRST, PROC_NET_INIT_INO, SOCK_STREAM } from "@simkernel/abi"
import { NsProxy, NsSetTransaction, openNamespace, setnsNamespace, unshareNsproxyNamespaces } from "@simkernel/nsproxy"
import {
  devValidName,
  getNetNsByFile,
  IF_OPER_DOWN,
  IF_OPER_LOWERLAYERDOWN,
  IF_OPER_UNKNOWN,
  IF_OPER_UP,
  IFA_F_SECONDARY,
  IFF_LOWER_UP,
  IFF_RUNNING,
  IFF_UP,
  inAddrText,
  inetDelIfa,
  inetInsertIfa,
  NetNamespace,
  parseInAddr,
  rtnlDeleteLink,
  sockCreate,
  toNetNs,
  type VethDevice,
  vethNewlink
} from "../src/index.js"
import { auditAfterEach, boot, errno, mapRootUser, ok, unprivileged, type World } from "./helpers.js"

afterEach(auditAfterEach)

/** unshare(CLONE_NEWNET) as `cred`: a new NsProxy whose net namespace is new. */
const unshareNet = (w: World, cred = w.cred): NsProxy => {
  const made = unshareNsproxyNamespaces(CLONE_NEWNET, w.nsproxy, cred, undefined)
  if (!(made instanceof NsProxy)) throw new Error(`unshare: ${errno(made)}`)
  return made
}
const netOf = (p: NsProxy): NetNamespace => toNetNs(p.net) as NetNamespace
const pair = (net: NetNamespace, name = "veth0", peerName = "veth1", peerNet?: NetNamespace) =>
  ok(vethNewlink(net, { name, peerName, ...(peerNet ? { peerNet } : {}) })) as readonly [VethDevice, VethDevice]
const ip = (s: string): number => parseInAddr(s)!

describe("network namespaces", () => {
  it("the initial namespace has lo (ifindex 1) up with 127.0.0.1/8, and inode PROC_NET_INIT_INO", () => {
    const w = boot()
    expect(w.net.inum).toBe(PROC_NET_INIT_INO)
    expect(w.net.kind).toBe("net")
    const lo = w.net.devGetByIndex(1)!
    expect(lo).toBe(w.net.loopback)
    expect(lo.name).toBe("lo")
    expect(lo.flags & IFF_UP).toBe(IFF_UP)
    // loopback never runs the link watcher: UNKNOWN while up, as `ip link` shows for lo
    expect(lo.reportedOperstate).toBe(IF_OPER_UNKNOWN)
    expect(lo.getFlags()).toBe(0x10049)
    expect(lo.mtu).toBe(65536)
    expect(lo.inetAddrs.map((a) => `${inAddrText(a.local)}/${a.prefixlen} scope ${a.scope}`)).toEqual(["127.0.0.1/8 scope 254"])
  })

  it("unshare(CLONE_NEWNET) makes a namespace owned by the caller's user namespace with only lo, down", () => {
    const w = boot()
    const p = unshareNet(w)
    const net = netOf(p)
    expect(net).not.toBe(w.net)
    expect(net.inum).toBe(PROC_DYNAMIC_FIRST)
    expect(net.ownerNs).toBe(w.userNs)
    expect(net.devices().map((d) => [d.ifindex, d.name])).toEqual([[1, "lo"]])
    expect(net.loopback.flags & IFF_UP).toBe(0)
    expect(net.loopback.reportedOperstate).toBe(IF_OPER_DOWN)
    expect(net.loopback.getFlags()).toBe(0x8)
    expect(net.loopback.inetAddrs).toEqual([])
    // bringing lo up adds 127.0.0.1/8 (inetdev_event NETDEV_UP); down keeps it
    net.loopback.devOpen()
    expect(net.loopback.inetAddrs.map((a) => inAddrText(a.local))).toEqual(["127.0.0.1"])
    net.loopback.devClose()
    expect(net.loopback.inetAddrs.length).toBe(1)
    p.put()
  })

  it("unshare(CLONE_NEWNET) needs CAP_SYS_ADMIN; root of a new user namespace owns the namespace it makes", () => {
    const w = boot()
    const user = unprivileged(w.cred)
    expect(errno(unshareNsproxyNamespaces(CLONE_NEWNET, w.nsproxy, user, undefined))).toBe("EPERM")
    const inside = mapRootUser(user)
    const p = unshareNet(w, inside)
    expect(netOf(p).ownerNs).toBe(inside.userNs)
    expect(netOf(p).netAdmin(inside)).toBe(true)
    expect(w.net.netAdmin(inside)).toBe(false)
    p.put()
    inside.put()
    user.put()
  })

  it("setns(CLONE_NEWNET) needs CAP_SYS_ADMIN over the namespace's owner (netns_install)", () => {
    const w = boot()
    const p = unshareNet(w)
    const file = openNamespace(p.net!)
    expect(file.name).toBe(`net:[${p.net!.inum}]`)
    const user = unprivileged(w.cred)
    const denied = setnsNamespace({ nsproxy: w.nsproxy, cred: user, fsUsers: 1, threads: 1 }, file.ns, CLONE_NEWNET)
    expect(errno(denied)).toBe("EPERM")
    const task = { cred: w.cred.get(), nsproxy: w.nsproxy.get() as NsProxy | undefined }
    const tx = setnsNamespace({ nsproxy: task.nsproxy!, cred: task.cred, fsUsers: 1, threads: 1 }, file.ns, CLONE_NEWNET)
    expect(tx).toBeInstanceOf(NsSetTransaction)
    ;(tx as NsSetTransaction).commit(task)
    expect(task.nsproxy!.net).toBe(p.net)
    // the nsfs file names the namespace for IFLA_NET_NS_FD
    const viaFile = ok(getNetNsByFile(file))
    expect(viaFile).toBe(p.net)
    viaFile.put()
    const utsFile = openNamespace(w.nsproxy.uts)
    expect(errno(getNetNsByFile(utsFile))).toBe("EINVAL")
    utsFile.put()
    task.nsproxy!.put()
    task.cred.put()
    file.put()
    user.put()
    p.put()
  })

  it("an nsfs file keeps the namespace, with its devices, after every task left it", () => {
    const w = boot()
    const p = unshareNet(w)
    const net = netOf(p)
    pair(net)
    const file = openNamespace(net)
    p.put()
    expect(net.freed).toBe(false)
    expect(net.devices().map((d) => d.name)).toEqual(["lo", "veth1", "veth0"])
    file.put()
    expect(net.freed).toBe(true)
  })

  it("a socket holds a reference on its namespace", () => {
    const w = boot()
    const p = unshareNet(w)
    const net = netOf(p)
    const s = ok(sockCreate(net, w.cred, AF_UNIX, SOCK_STREAM, 0))
    p.put()
    expect(net.freed).toBe(false)
    expect(s.net).toBe(net)
    s.put()
    expect(net.freed).toBe(true)
  })
})

describe("ifindex and names", () => {
  it("lo is 1; new devices take the next index after the last one given (dev_index_reserve, cyclic)", () => {
    const w = boot()
    const p = unshareNet(w)
    const net = netOf(p)
    const [a, b] = pair(net)
    // the peer is registered first (veth_newlink)
    expect([b.ifindex, a.ifindex]).toEqual([2, 3])
    ok(rtnlDeleteLink(a) ?? 0)
    const [c, d] = pair(net)
    expect([d.ifindex, c.ifindex]).toEqual([4, 5])
    // a failed creation still consumed the peer's index, as on Linux (ip link add veth0 ... peer veth9: EEXIST)
    expect(errno(vethNewlink(net, { name: "veth0", peerName: "veth9" }))).toBe("EEXIST")
    const [e, f] = pair(net, "x0", "x1")
    expect([f.ifindex, e.ifindex]).toEqual([7, 8])
    // an explicit free index is taken as asked; a used one is EBUSY
    const [g, h] = ok(vethNewlink(net, { name: "y0", ifindex: 2, peerName: "y1", peerIfindex: 100 }))
    expect([g.ifindex, h.ifindex]).toEqual([2, 100])
    expect(errno(vethNewlink(net, { name: "z0", ifindex: 100 }))).toBe("EBUSY")
    expect(errno(net.devIndexReserve(0x80000000))).toBe("EINVAL")
    p.put()
  })

  it.each([
    ["", false],
    ["a", true],
    ["123456789012345", true],
    ["1234567890123456", false],
    ["foo/bar", false],
    ["a:b", false],
    ["a b", false],
    ["a\tb", false],
    ["a\nb", false],
    ["a\u00a0b", false],
    [".", false],
    ["..", false],
    ["...", true],
    ["veth%d", true]
  ])("dev_valid_name(%j) is %s", (name, valid) => {
    expect(devValidName(name)).toBe(valid)
  })

  it("a %d template takes the lowest free number; one %d only (EINVAL otherwise); plain names are unique (EEXIST)", () => {
    const w = boot()
    const net = w.net
    const [a, b] = ok(vethNewlink(net))
    expect([b.name, a.name]).toEqual(["veth0", "veth1"])
    const [c, d] = ok(vethNewlink(net, { name: "veth%d", peerName: "veth%d" }))
    expect([d.name, c.name]).toEqual(["veth2", "veth3"])
    ok(rtnlDeleteLink(b) ?? 0)
    const [e, f] = ok(vethNewlink(net, { name: "v%dx" }))
    expect([f.name, e.name]).toEqual(["veth0", "v0x"])
    expect(errno(net.devPrepValidName("a%d%d"))).toBe("EINVAL")
    expect(errno(net.devPrepValidName("a%s"))).toBe("EINVAL")
    expect(errno(net.devPrepValidName("veth0"))).toBe("EEXIST")
    expect(errno(net.devPrepValidName("lo"))).toBe("EEXIST")
    expect(errno(vethNewlink(net, { name: "a:b" }))).toBe("EINVAL")
    expect(net.devices().length).toBe(5)
  })

  it("rename: EINVAL for a bad name, EEXIST for a used one, its own name is a no-op, allowed while up", () => {
    const w = boot()
    const [a] = pair(w.net)
    a.devOpen()
    expect(w.net.devChangeName(a, "v9")).toBeUndefined()
    expect(w.net.devGetByName("v9")).toBe(a)
    expect(w.net.devGetByName("veth0")).toBeUndefined()
    expect(errno(w.net.devChangeName(a, "veth1"))).toBe("EEXIST")
    expect(errno(w.net.devChangeName(a, "a/b"))).toBe("EINVAL")
    expect(w.net.devChangeName(a, "v9")).toBeUndefined()
  })
})

describe("devices", () => {
  it("lo cannot be deleted (EOPNOTSUPP) or moved (EINVAL)", () => {
    const w = boot()
    const p = unshareNet(w)
    expect(errno(rtnlDeleteLink(w.net.loopback))).toBe("EOPNOTSUPP")
    expect(errno(w.net.devChangeNetNamespace(w.net.loopback, netOf(p)))).toBe("EINVAL")
    p.put()
  })

  it.each([
    ["veth", 67, "EINVAL"],
    ["veth", 68, undefined],
    ["veth", 1500, undefined],
    ["veth", 65535, undefined],
    ["veth", 65536, "EINVAL"],
    ["veth", -1, "EINVAL"],
    ["lo", 0, undefined],
    ["lo", 67, undefined],
    ["lo", 100000, undefined],
    ["lo", -1, "EINVAL"]
  ] as const)("%s mtu %d: %s (dev_validate_mtu, as ip link set mtu on Linux 6.18)", (kind, mtu, expected) => {
    const w = boot()
    const dev = kind === "lo" ? w.net.loopback : pair(w.net)[0]
    const before = dev.mtu
    expect(before).toBe(kind === "lo" ? 65536 : 1500)
    expect(errno(dev.setMtu(mtu))).toBe(expected)
    expect(dev.mtu).toBe(expected === undefined ? mtu : before)
  })

  it.each([
    [false, false, IF_OPER_DOWN, IF_OPER_DOWN, 0x1002, 0x1002],
    [true, false, IF_OPER_LOWERLAYERDOWN, IF_OPER_DOWN, 0x1003, 0x1002],
    [false, true, IF_OPER_DOWN, IF_OPER_LOWERLAYERDOWN, 0x1002, 0x1003],
    [true, true, IF_OPER_UP, IF_OPER_UP, 0x11043, 0x11043]
  ])("veth ends up=%s/%s: operstates %d/%d, flags %s/%s (carrier only with both ends up)", (upA, upB, opA, opB, flA, flB) => {
    const w = boot()
    const [a, b] = pair(w.net)
    if (upA) a.devOpen()
    if (upB) b.devOpen()
    expect([a.reportedOperstate, b.reportedOperstate]).toEqual([opA, opB])
    expect([a.getFlags(), b.getFlags()]).toEqual([flA, flB])
    expect(a.carrier).toBe(upA && upB)
  })

  it("taking one end down drops both carriers; carrier changes are counted", () => {
    const w = boot()
    const [a, b] = pair(w.net)
    expect([a.carrierUpCount, a.carrierDownCount]).toEqual([0, 1])
    a.devOpen()
    b.devOpen()
    expect(a.getFlags() & (IFF_RUNNING | IFF_LOWER_UP)).toBe(IFF_RUNNING | IFF_LOWER_UP)
    b.devClose()
    expect(a.reportedOperstate).toBe(IF_OPER_LOWERLAYERDOWN)
    expect(a.getFlags() & IFF_RUNNING).toBe(0)
    expect([a.carrierUpCount, a.carrierDownCount]).toEqual([1, 2])
  })

  it("deleting one end deletes its peer", () => {
    const w = boot()
    const [a, b] = pair(w.net)
    expect(rtnlDeleteLink(b)).toBeUndefined()
    expect(w.net.devices().map((d) => d.name)).toEqual(["lo"])
    expect(a.freed && b.freed).toBe(true)
  })

  it("moving an end keeps the pair, its ifindex when free, and closes it and drops its addresses", () => {
    const w = boot()
    const p = unshareNet(w)
    const net = netOf(p)
    const [a, b] = pair(w.net)
    a.devOpen()
    b.devOpen()
    ok(inetInsertIfa(b, { local: ip("10.0.0.1"), prefixlen: 24 }))
    expect(w.net.devChangeNetNamespace(b, net)).toBeUndefined()
    expect(b.net).toBe(net)
    expect(b.ifindex).toBe(2)
    expect(net.devGetByName("veth1")).toBe(b)
    expect(w.net.devGetByName("veth1")).toBeUndefined()
    expect(b.flags & IFF_UP).toBe(0)
    expect(b.inetAddrs).toEqual([])
    expect(a.reportedOperstate).toBe(IF_OPER_LOWERLAYERDOWN)
    b.devOpen()
    expect([a.reportedOperstate, b.reportedOperstate]).toEqual([IF_OPER_UP, IF_OPER_UP])
    expect(a.iflink()).toBe(2)
    // moving to its own namespace does nothing
    expect(net.devChangeNetNamespace(b, net)).toBeUndefined()
    p.put()
  })

  it("moving: a used ifindex there gives a new one; a used name is EEXIST unless a pattern names it", () => {
    const w = boot()
    const p = unshareNet(w)
    const net = netOf(p)
    const [x0] = pair(net, "x0", "x1")
    expect(x0.ifindex).toBe(3)
    const [, b] = pair(w.net, "veth0", "x0")
    expect(b.ifindex).toBe(2)
    expect(errno(w.net.devChangeNetNamespace(b, net))).toBe("EEXIST")
    expect(w.net.devChangeNetNamespace(b, net, "eth%d")).toBeUndefined()
    expect([b.name, b.ifindex]).toEqual(["eth0", 4])
    p.put()
  })

  it("when a namespace dies its veth ends go, with their peers elsewhere, and lo goes too", () => {
    const w = boot()
    const p = unshareNet(w)
    const net = netOf(p)
    const [a, b] = pair(w.net, "host0", "ctr0", net)
    const [c, d] = pair(net, "in0", "in1")
    expect(w.net.devices().map((x) => x.name)).toEqual(["lo", "host0"])
    const lo = net.loopback
    p.put()
    expect([a, b, c, d, lo].every((x) => x.freed)).toBe(true)
    expect(w.net.devices().map((x) => x.name)).toEqual(["lo"])
  })

  it("a namespace can be made and freed directly (copy): inode numbers are reused", () => {
    const w = boot()
    const n1 = ok(w.net.copy(w.userNs))
    const inum = n1.inum
    n1.put()
    const n2 = ok(w.net.copy(w.userNs))
    expect(n2.inum).toBe(inum)
    expect(n2).toBeInstanceOf(NetNamespace)
    n2.put()
  })
})

describe("IPv4 addresses (devinet)", () => {
  it("add, duplicate (EEXIST), same subnet becomes secondary, another prefix is primary, scope order", () => {
    const w = boot()
    const [a] = pair(w.net)
    ok(inetInsertIfa(a, { local: ip("10.0.0.1"), prefixlen: 24 }))
    expect(errno(inetInsertIfa(a, { local: ip("10.0.0.1"), prefixlen: 24 }))).toBe("EEXIST")
    const sec = ok(inetInsertIfa(a, { local: ip("10.0.0.2"), prefixlen: 24 }))
    expect(sec.flags & IFA_F_SECONDARY).toBe(IFA_F_SECONDARY)
    ok(inetInsertIfa(a, { local: ip("10.0.0.1"), prefixlen: 16 }))
    expect(errno(inetInsertIfa(a, { local: ip("10.0.0.3"), prefixlen: 24, scope: 253 }))).toBe("EINVAL")
    ok(inetInsertIfa(a, { local: ip("192.168.1.1"), prefixlen: 24, scope: 253 }))
    expect(a.inetAddrs.map((x) => `${inAddrText(x.local)}/${x.prefixlen}`)).toEqual([
      "192.168.1.1/24",
      "10.0.0.1/24",
      "10.0.0.1/16",
      "10.0.0.2/24"
    ])
    expect(errno(inetInsertIfa(a, { local: 1, prefixlen: 33 }))).toBe("EINVAL")
    // deleting a primary address deletes its subnet's secondaries (promote_secondaries off)
    inetDelIfa(a, a.inetAddrs[1]!)
    expect(a.inetAddrs.map((x) => `${inAddrText(x.local)}/${x.prefixlen}`)).toEqual(["192.168.1.1/24", "10.0.0.1/16"])
  })
})
