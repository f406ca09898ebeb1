import { sysError, type SysError } from "@simkernel/abi"
import { IFA_F_PERMANENT, IFA_F_SECONDARY, IFF_LOOPBACK, RT_SCOPE_HOST } from "./constants.js"
import type { NetDevice } from "./NetDevice.js"

/**
 * An IPv4 address of a device, as include/linux/inetdevice.h struct
 * in_ifaddr. Addresses are 32-bit numbers in host order (10.0.0.1 is
 * 0x0a000001).
 */
export interface InIfaddr {
  /** ifa_local: the address itself. */
  readonly local: number
  /** ifa_address: the peer or prefix address (the same as local unless IFA_ADDRESS said otherwise). */
  readonly address: number
  readonly prefixlen: number
  /** ifa_mask, from the prefix length. */
  readonly mask: number
  readonly broadcast: number | undefined
  readonly scope: number
  /** IFA_F_* flags; IFA_F_SECONDARY is set by inetInsertIfa(). */
  flags: number
  /** ifa_label: the device's name unless IFA_LABEL gave another. */
  label: string
}

/** inet_make_mask(). */
export const inetMakeMask = (prefixlen: number): number => (prefixlen === 0 ? 0 : (0xffffffff << (32 - prefixlen)) >>> 0)

/** inet_ifa_match(): `addr` is in the subnet of `ifa`. */
const ifaMatch = (addr: number, ifa: InIfaddr): boolean => ((addr ^ ifa.address) & ifa.mask) === 0

/** A dotted quad. */
export const inAddrText = (a: number): string => `${a >>> 24}.${(a >>> 16) & 255}.${(a >>> 8) & 255}.${a & 255}`

/** Parse a dotted quad (four decimal parts 0..255); undefined otherwise. */
export const parseInAddr = (text: string): number | undefined => {
  const parts = text.split(".")
  if (parts.length !== 4) return undefined
  let v = 0
  for (const p of parts) {
    if (!/^\d{1,3}$/.test(p)) return undefined
    const n = Number(p)
    if (n > 255) return undefined
    v = v * 256 + n
  }
  return v
}

export interface InIfaddrInit {
  readonly local: number
  readonly address?: number
  readonly prefixlen: number
  readonly broadcast?: number
  readonly scope?: number
  readonly flags?: number
  readonly label?: string
}

/** find_matching_ifa(): the address with the same mask, subnet and local address. */
export const findMatchingIfa = (dev: NetDevice, local: number, address: number, prefixlen: number): InIfaddr | undefined => {
  const mask = inetMakeMask(prefixlen)
  return dev.inetAddrs.find((a) => a.mask === mask && ((address ^ a.address) & mask) === 0 && a.local === local)
}

/**
 * __inet_insert_ifa(): add an address to a device. EEXIST when a primary
 * address of the same subnet has the same local address; EINVAL when it has
 * another scope. An address in the subnet of a primary one becomes
 * secondary and goes to the end of the list; a primary one goes after the
 * last primary address whose scope is at least as wide as its own.
 */
export const inetInsertIfa = (dev: NetDevice, init: InIfaddrInit): InIfaddr | SysError => {
  if (!Number.isInteger(init.prefixlen) || init.prefixlen < 0 || init.prefixlen > 32)
    return sysError("EINVAL", "RTM_NEWADDR", "prefix length above 32")
  const mask = inetMakeMask(init.prefixlen)
  const ifa: InIfaddr = {
    local: init.local >>> 0,
    address: (init.address ?? init.local) >>> 0,
    prefixlen: init.prefixlen,
    mask,
    broadcast: init.broadcast,
    scope: init.scope ?? 0,
    flags: (init.flags ?? IFA_F_PERMANENT) & ~IFA_F_SECONDARY,
    label: init.label ?? dev.name
  }
  const list = dev.inetAddrs
  let lastPrimary = 0
  for (let i = 0; i < list.length; i++) {
    const a = list[i]!
    if ((a.flags & IFA_F_SECONDARY) === 0 && ifa.scope <= a.scope) lastPrimary = i + 1
    if (a.mask === mask && ifaMatch(a.address, ifa)) {
      if (a.local === ifa.local) return sysError("EEXIST", "RTM_NEWADDR", "ipv4: Address already assigned")
      if (a.scope !== ifa.scope) return sysError("EINVAL", "RTM_NEWADDR", "ipv4: Invalid scope value")
      ifa.flags |= IFA_F_SECONDARY
    }
  }
  if ((ifa.flags & IFA_F_SECONDARY) !== 0) list.push(ifa)
  else list.splice(lastPrimary, 0, ifa)
  return ifa
}

/**
 * __inet_del_ifa() without promote_secondaries (the default): removing a
 * primary address removes the secondary addresses of its subnet too.
 */
export const inetDelIfa = (dev: NetDevice, ifa: InIfaddr): void => {
  const list = dev.inetAddrs
  const i = list.indexOf(ifa)
  if (i < 0) return
  list.splice(i, 1)
  if ((ifa.flags & IFA_F_SECONDARY) !== 0) return
  for (let j = list.length - 1; j >= 0; j--) {
    const a = list[j]!
    if ((a.flags & IFA_F_SECONDARY) !== 0 && a.mask === ifa.mask && ifaMatch(a.address, ifa)) list.splice(j, 1)
  }
}

/** INADDR_LOOPBACK, 127.0.0.1. */
export const INADDR_LOOPBACK = 0x7f000001

/**
 * inetdev_event(NETDEV_UP): a loopback device coming up gets 127.0.0.1/8
 * with host scope (nothing happens when it already has it).
 */
export const inetdevEventUp = (dev: NetDevice): void => {
  if ((dev.flags & IFF_LOOPBACK) === 0 || dev.mtu < 68) return
  inetInsertIfa(dev, { local: INADDR_LOOPBACK, prefixlen: 8, scope: RT_SCOPE_HOST })
}
