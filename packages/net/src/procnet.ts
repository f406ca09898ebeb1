import {
  ARPHRD_ETHER,
  ARPHRD_LOOPBACK,
  IFF_ALLMULTI,
  IFF_AUTOMEDIA,
  IFF_BROADCAST,
  IFF_DEBUG,
  IFF_DORMANT,
  IFF_DYNAMIC,
  IFF_ECHO,
  IFF_LOOPBACK,
  IFF_LOWER_UP,
  IFF_MASTER,
  IFF_MULTICAST,
  IFF_NOARP,
  IFF_NOTRAILERS,
  IFF_POINTOPOINT,
  IFF_PORTSEL,
  IFF_PROMISC,
  IFF_RUNNING,
  IFF_SLAVE,
  IFF_UP,
  IFA_F_SECONDARY,
  RT_SCOPE_HOST,
  RT_SCOPE_LINK,
  RT_SCOPE_UNIVERSE
} from "./constants.js"
import { inAddrText } from "./devinet.js"
import { macText, type NetDevice } from "./NetDevice.js"
import type { NetNamespace } from "./NetNamespace.js"

const pad = (v: number | string, width: number): string => String(v).padStart(width, " ")

/**
 * /proc/net/dev of `net`, as net/core/net-procfs.c dev_seq_show(): Linux's
 * two header lines, then one line per device in ifindex order with its
 * receive and transmit counters in Linux's column widths.
 */
export const procNetDev = (net: NetNamespace): string => {
  let out =
    "Inter-|   Receive                                                |  Transmit\n" +
    " face |bytes    packets errs drop fifo frame compressed multicast|bytes    packets errs drop fifo colls carrier compressed\n"
  for (const dev of net.devices()) {
    const s = dev.stats
    out +=
      `${pad(dev.name, 6)}: ${pad(s.rxBytes, 7)} ${pad(s.rxPackets, 7)} ${pad(s.rxErrors, 4)} ` +
      `${pad(s.rxDropped + s.rxMissedErrors, 4)} ${pad(s.rxFifoErrors, 4)} ` +
      `${pad(s.rxLengthErrors + s.rxOverErrors + s.rxCrcErrors + s.rxFrameErrors, 5)} ` +
      `${pad(s.rxCompressed, 10)} ${pad(s.multicast, 9)} ${pad(s.txBytes, 8)} ${pad(s.txPackets, 7)} ` +
      `${pad(s.txErrors, 4)} ${pad(s.txDropped, 4)} ${pad(s.txFifoErrors, 4)} ${pad(s.collisions, 5)} ` +
      `${pad(s.txCarrierErrors + s.txAbortedErrors + s.txWindowErrors + s.txHeartbeatErrors, 7)} ` +
      `${pad(s.txCompressed, 10)}\n`
  }
  return out
}

const OPERSTATES = ["UNKNOWN", "NOTPRESENT", "DOWN", "LOWERLAYERDOWN", "TESTING", "DORMANT", "UP"]

/** The name iproute2 prints for an IFLA_OPERSTATE value ("UP", "LOWERLAYERDOWN", ...). */
export const operstateName = (state: number): string => OPERSTATES[state] ?? String(state)

/** The flag names in the order iproute2's print_link_flags() prints them. */
const FLAG_NAMES: ReadonlyArray<readonly [number, string]> = [
  [IFF_LOOPBACK, "LOOPBACK"],
  [IFF_BROADCAST, "BROADCAST"],
  [IFF_POINTOPOINT, "POINTOPOINT"],
  [IFF_MULTICAST, "MULTICAST"],
  [IFF_NOARP, "NOARP"],
  [IFF_ALLMULTI, "ALLMULTI"],
  [IFF_PROMISC, "PROMISC"],
  [IFF_MASTER, "MASTER"],
  [IFF_SLAVE, "SLAVE"],
  [IFF_DEBUG, "DEBUG"],
  [IFF_DYNAMIC, "DYNAMIC"],
  [IFF_AUTOMEDIA, "AUTOMEDIA"],
  [IFF_PORTSEL, "PORTSEL"],
  [IFF_NOTRAILERS, "NOTRAILERS"],
  [IFF_UP, "UP"],
  [IFF_LOWER_UP, "LOWER_UP"],
  [IFF_DORMANT, "DORMANT"],
  [IFF_ECHO, "ECHO"]
]

/** iproute2's print_link_flags(): NO-CARRIER, the named flags, leftover bits in hex, M-DOWN. */
export const linkFlagsText = (flags: number, masterDown: boolean): string => {
  const names: Array<string> = []
  if ((flags & IFF_UP) !== 0 && (flags & IFF_RUNNING) === 0) names.push("NO-CARRIER")
  let rest = flags & ~IFF_RUNNING
  for (const [bit, name] of FLAG_NAMES) {
    if ((rest & bit) === 0) continue
    rest &= ~bit
    names.push(name)
  }
  if (rest !== 0) names.push((rest >>> 0).toString(16))
  if (masterDown) names.push("M-DOWN")
  return `<${names.join(",")}>`
}

const linkType = (dev: NetDevice): string =>
  dev.type === ARPHRD_LOOPBACK ? "loopback" : dev.type === ARPHRD_ETHER ? "ether" : `[${dev.type}]`

/**
 * One device as `ip -o link show` prints it from an RTM_NEWLINK reply,
 * e.g. `2: veth0@veth1: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1500 qdisc
 * noqueue state UP mode DEFAULT group default qlen 1000\    link/ether
 * 02:... brd ff:ff:ff:ff:ff:ff`. A link in another namespace shows as
 * `@ifN` and the line ends with `link-netnsid ID` (the id this namespace
 * gives the other, allocated on first use as a dump does).
 */
export const ipLinkLine = (dev: NetDevice): string => {
  let name = dev.name
  let masterDown = false
  const iflink = dev.iflink()
  const linkNet = dev.linkNet()
  let tail = ""
  if (linkNet !== dev.net) {
    // iproute2 names the link only when it is in the same namespace (no IFLA_LINK_NETNSID)
    name += `@if${iflink}`
    tail = ` link-netnsid ${dev.net.peernet2idAlloc(linkNet)}`
  } else if (iflink !== dev.ifindex) {
    const link = dev.net.devGetByIndex(iflink)
    if (link !== undefined) {
      name += `@${link.name}`
      masterDown = (link.flags & IFF_UP) === 0
    } else name += `@if${iflink}`
  }
  const state = operstateName(dev.reportedOperstate)
  return (
    `${dev.ifindex}: ${name}: ${linkFlagsText(dev.getFlags(), masterDown)} mtu ${dev.mtu} qdisc ${dev.qdisc} ` +
    `state ${state} mode DEFAULT group ${dev.group === 0 ? "default" : dev.group} qlen ${dev.txqlen}` +
    `\\    link/${linkType(dev)} ${macText(dev.addr)} brd ${macText(dev.broadcast)}${tail}`
  )
}

/** `ip -o link show` for every device of `net`, one line each. */
export const ipLinkSummary = (net: NetNamespace): string => net.devices().map((d) => `${ipLinkLine(d)}\n`).join("")

/** `ip -o -4 addr show` for every IPv4 address of `net`, one line each. */
export const ipAddrSummary = (net: NetNamespace): string => {
  let out = ""
  for (const dev of net.devices()) {
    for (const a of dev.inetAddrs) {
      const scope =
        a.scope === RT_SCOPE_HOST ? "host" : a.scope === RT_SCOPE_LINK ? "link" : a.scope === RT_SCOPE_UNIVERSE ? "global" : String(a.scope)
      const brd = a.broadcast === undefined ? "" : ` brd ${inAddrText(a.broadcast)}`
      const secondary = (a.flags & IFA_F_SECONDARY) !== 0 ? " secondary" : ""
      out +=
        `${dev.ifindex}: ${dev.name}    inet ${inAddrText(a.local)}/${a.prefixlen}${brd} scope ${scope}${secondary} ${a.label}` +
        `\\       valid_lft forever preferred_lft forever\n`
    }
  }
  return out
}
