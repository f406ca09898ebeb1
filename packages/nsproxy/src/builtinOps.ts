import { CAP_SYS_ADMIN, sysError, type SysError } from "@simkernel/abi"
import { nsCapable, type NsCommon } from "@simkernel/cred"
import type { CgroupNamespace } from "./CgroupNamespace.js"
import type { IpcNamespace } from "./IpcNamespace.js"
import type { NamespaceOps, NsSet } from "./Namespace.js"
import type { NsKinds } from "./NsProxy.js"
import type { TimeNamespace } from "./TimeNamespace.js"
import type { UtsNamespace } from "./UtsNamespace.js"

/**
 * The check every simple namespace's install() makes: CAP_SYS_ADMIN over
 * the namespace being entered and over the user namespace the caller will
 * be in (utsns_install(), ipcns_install(), cgroupns_install(), timens_install()).
 */
export const mayEnter = (nsset: NsSet, ns: NsCommon): SysError | undefined =>
  nsCapable(nsset.current, ns.ownerNs!, CAP_SYS_ADMIN) && nsCapable(nsset.current, nsset.cred.userNs, CAP_SYS_ADMIN)
    ? undefined
    : sysError("EPERM", "setns")

export const utsNamespaceOps: NamespaceOps<UtsNamespace> = {
  kind: "uts",
  copy: (old, userNs) => old.clone(userNs),
  install: (nsset, ns) => {
    const denied = mayEnter(nsset, ns)
    if (denied !== undefined) return denied
    nsset.nsproxy.replace("uts", ns.get())
    return undefined
  }
}

export const ipcNamespaceOps: NamespaceOps<IpcNamespace> = {
  kind: "ipc",
  copy: (old, userNs) => old.clone(userNs),
  install: (nsset, ns) => {
    const denied = mayEnter(nsset, ns)
    if (denied !== undefined) return denied
    nsset.nsproxy.replace("ipc", ns.get())
    return undefined
  }
}

export const cgroupNamespaceOps: NamespaceOps<CgroupNamespace> = {
  kind: "cgroup",
  copy: (old, userNs, task) => old.clone(userNs, task.cgroup ?? "/"),
  install: (nsset, ns) => {
    const denied = mayEnter(nsset, ns)
    if (denied !== undefined) return denied
    if (nsset.nsproxy.cgroup !== ns) nsset.nsproxy.replace("cgroup", ns.get())
    return undefined
  }
}

export const timeNamespaceOps: NamespaceOps<TimeNamespace> = {
  kind: "time",
  copy: (old, userNs) => old.clone(userNs),
  install: (nsset, ns) => {
    // timens_install(): a threaded process cannot change its clocks under its other threads
    if (nsset.task.threads > 1) return sysError("EUSERS", "setns")
    const denied = mayEnter(nsset, ns)
    if (denied !== undefined) return denied
    nsset.nsproxy.replace("time", ns.get())
    nsset.nsproxy.replace("timeForChildren", ns.get())
    return undefined
  },
  commit: (_nsset, ns) => ns.freeze()
}

/** The namespace types of a kernel: the built-in four plus what other subsystems register. */
export const nsKinds = (registered: Pick<NsKinds, "mnt" | "pid" | "net"> = {}): NsKinds => ({
  uts: utsNamespaceOps,
  ipc: ipcNamespaceOps,
  cgroup: cgroupNamespaceOps,
  time: timeNamespaceOps,
  ...registered
})
