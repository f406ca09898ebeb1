import { sysError, type SysError } from "@simkernel/abi"
import type { NsCommon, UserNamespace } from "@simkernel/cred"
import { mayEnter, type NamespaceOps, type NsFile } from "@simkernel/nsproxy"
import { NetNamespace } from "./NetNamespace.js"

/**
 * The net namespace type for NsProxy (nsKinds({ net: netNamespaceOps })):
 * copy_net_ns() for clone/unshare with CLONE_NEWNET, and netns_install()
 * for setns(2), which needs CAP_SYS_ADMIN over the namespace's owner and
 * over the caller's (new) user namespace (EPERM).
 */
export const netNamespaceOps: NamespaceOps<NetNamespace> = {
  kind: "net",
  copy: (old, userNs) => copyNetNs(old, userNs),
  install: (nsset, ns) => {
    const denied = mayEnter(nsset, ns)
    if (denied !== undefined) return denied
    nsset.nsproxy.replace("net", ns.get())
    return undefined
  }
}

/** copy_net_ns(CLONE_NEWNET): a new namespace owned by `userNs` with only lo, down. */
export const copyNetNs = (old: NetNamespace, userNs: UserNamespace): NetNamespace | SysError =>
  old.copy(userNs)

/** to_net_ns() of a namespace from an NsProxy slot or an nsfs file: EINVAL when it is not a net namespace. */
export const toNetNs = (ns: NsCommon | undefined): NetNamespace | SysError =>
  ns instanceof NetNamespace ? ns : sysError("EINVAL", undefined, "not a network namespace")

/**
 * get_net_ns_by_fd() for an open nsfs file (what IFLA_NET_NS_FD names): a
 * new reference to its net namespace; EINVAL for a file of another type.
 */
export const getNetNsByFile = (file: NsFile): NetNamespace | SysError => {
  const net = toNetNs(file.ns)
  return net instanceof NetNamespace ? net.get() : net
}
