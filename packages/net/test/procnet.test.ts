import { afterEach, describe, expect, it } from "@effect/vitest"
import { CLONE_NEWNET } from "@simkernel/abi"
import { NsProxy, unshareNsproxyNamespaces } from "@simkernel/nsproxy"
import {
  inetInsertIfa,
  ipAddrSummary,
  ipLinkSummary,
  linkFlagsText,
  type NetNamespace,
  parseInAddr,
  procNetDev,
  toNetNs,
  vethNewlink
} from "../src/index.js"
import { auditAfterEach, boot, ok } from "./helpers.js"

afterEach(auditAfterEach)

const fresh = () => {
  const w = boot()
  const p = unshareNsproxyNamespaces(CLONE_NEWNET, w.nsproxy, w.cred, undefined) as NsProxy
  return { w, p, net: toNetNs(p.net) as NetNamespace }
}
const noMac = (s: string) => s.replace(/link\/ether ([0-9a-f]{2}:){5}[0-9a-f]{2}/g, "link/ether MAC")

describe("listings", () => {
  // the text Linux 6.18 printed for the same steps (unshare -n; ip link add veth0 type veth peer name veth1; ...)
  it("/proc/net/dev has Linux's header and column widths", () => {
    const { p, net } = fresh()
    ok(vethNewlink(net, { name: "123456789012345", peerName: "veth6" }))
    expect(procNetDev(net)).toBe(
      "Inter-|   Receive                                                |  Transmit\n" +
        " face |bytes    packets errs drop fifo frame compressed multicast|bytes    packets errs drop fifo colls carrier compressed\n" +
        "    lo:       0       0    0    0    0     0          0         0        0       0    0    0    0     0       0          0\n" +
        " veth6:       0       0    0    0    0     0          0         0        0       0    0    0    0     0       0          0\n" +
        "123456789012345:       0       0    0    0    0     0          0         0        0       0    0    0    0     0       0          0\n"
    )
    net.loopback.stats.rxBytes = 1234567
    net.loopback.stats.rxPackets = 89
    expect(procNetDev(net).split("\n")[2]).toBe(
      "    lo: 1234567      89    0    0    0     0          0         0        0       0    0    0    0     0       0          0"
    )
    p.put()
  })

  it("ip -o link lines match iproute2's for lo and a veth pair in each state", () => {
    const { p, net } = fresh()
    const [v0, v1] = ok(vethNewlink(net, { name: "veth0", peerName: "veth1" }))
    expect(noMac(ipLinkSummary(net))).toBe(
      "1: lo: <LOOPBACK> mtu 65536 qdisc noop state DOWN mode DEFAULT group default qlen 1000\\    link/loopback 00:00:00:00:00:00 brd 00:00:00:00:00:00\n" +
        "2: veth1@veth0: <BROADCAST,MULTICAST,M-DOWN> mtu 1500 qdisc noop state DOWN mode DEFAULT group default qlen 1000\\    link/ether MAC brd ff:ff:ff:ff:ff:ff\n" +
        "3: veth0@veth1: <BROADCAST,MULTICAST,M-DOWN> mtu 1500 qdisc noop state DOWN mode DEFAULT group default qlen 1000\\    link/ether MAC brd ff:ff:ff:ff:ff:ff\n"
    )
    v0.devOpen()
    expect(noMac(ipLinkSummary(net)).split("\n")[2]).toBe(
      "3: veth0@veth1: <NO-CARRIER,BROADCAST,MULTICAST,UP,M-DOWN> mtu 1500 qdisc noqueue state LOWERLAYERDOWN mode DEFAULT group default qlen 1000\\    link/ether MAC brd ff:ff:ff:ff:ff:ff"
    )
    v1.devOpen()
    net.loopback.devOpen()
    expect(noMac(ipLinkSummary(net))).toBe(
      "1: lo: <LOOPBACK,UP,LOWER_UP> mtu 65536 qdisc noqueue state UNKNOWN mode DEFAULT group default qlen 1000\\    link/loopback 00:00:00:00:00:00 brd 00:00:00:00:00:00\n" +
        "2: veth1@veth0: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1500 qdisc noqueue state UP mode DEFAULT group default qlen 1000\\    link/ether MAC brd ff:ff:ff:ff:ff:ff\n" +
        "3: veth0@veth1: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1500 qdisc noqueue state UP mode DEFAULT group default qlen 1000\\    link/ether MAC brd ff:ff:ff:ff:ff:ff\n"
    )
    expect(linkFlagsText(0x1003, false)).toBe("<NO-CARRIER,BROADCAST,MULTICAST,UP>")
    expect(linkFlagsText(0x1002 | 0x80000000, false)).toBe("<BROADCAST,MULTICAST,80000000>")
    p.put()
  })

  it("ip -o link shows a peer in another namespace as @ifN with link-netnsid; ip -o addr lists IPv4 addresses", () => {
    const { w, p, net } = fresh()
    ok(vethNewlink(w.net, { name: "x0", peerName: "x1" }))
    const [host] = ok(vethNewlink(w.net, { name: "h0", peerName: "c0", peerNet: net }))
    ok(inetInsertIfa(host, { local: parseInAddr("10.0.0.1")!, prefixlen: 24 }))
    ok(inetInsertIfa(host, { local: parseInAddr("10.0.0.2")!, prefixlen: 24 }))
    expect(noMac(ipLinkSummary(w.net)).split("\n")[3]).toBe(
      "4: h0@if2: <BROADCAST,MULTICAST> mtu 1500 qdisc noop state DOWN mode DEFAULT group default qlen 1000\\    link/ether MAC brd ff:ff:ff:ff:ff:ff link-netnsid 0"
    )
    expect(ipAddrSummary(w.net)).toBe(
      "1: lo    inet 127.0.0.1/8 scope host lo\\       valid_lft forever preferred_lft forever\n" +
        "4: h0    inet 10.0.0.1/24 scope global h0\\       valid_lft forever preferred_lft forever\n" +
        "4: h0    inet 10.0.0.2/24 scope global secondary h0\\       valid_lft forever preferred_lft forever\n"
    )
    p.put()
  })
})
