import { fromKgidMunged, fromKuidMunged, type UserNamespace } from "@simkernel/cred"
import type { Container } from "./Container.js"

/** The header line of /proc/containers. */
export const PROC_CONTAINERS_HEADER = "NAME                               ID USE FL OWNER GROUP"

const row = (name: string, c: Container, ns: UserNamespace): string =>
  `${name.padEnd(24)} ${c.id.toString().padStart(12)} ${String(c.count()).padStart(3)} ${(c.flags & 0xff)
    .toString(16)
    .padStart(2, "0")} ${String(fromKuidMunged(ns, c.cred.uid)).padStart(5)} ${String(fromKgidMunged(ns, c.cred.gid)).padStart(5)}`

/**
 * /proc/containers (kernel/container.c, 4.6): the header, the reader's
 * own container named `<current>`, then its direct children (not
 * grandchildren, not siblings), each as "%-24s %12llu %3u %02lx %5d %5d":
 * name, id, reference count, flags, owner uid and gid mapped into the
 * reader's user namespace `ns` (overflowuid when unmapped).
 */
export const procContainers = (own: Container, ns: UserNamespace): string => {
  let out = `${PROC_CONTAINERS_HEADER}\n${row("<current>", own, ns)}\n`
  for (const c of own.children) out += `${row(c.name, c, ns)}\n`
  return out
}
