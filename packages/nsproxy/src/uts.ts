import { CAP_SYS_ADMIN, sysError, type SysError } from "@simkernel/abi"
import { type Cred, nsCapable } from "@simkernel/cred"
import type { NsProxy } from "./NsProxy.js"
import { NEW_UTS_LEN } from "./UtsNamespace.js"

/**
 * sethostname(2): CAP_SYS_ADMIN over the owner of the caller's UTS namespace
 * (EPERM, checked first), then at most 64 bytes (EINVAL; a negative length
 * too).
 */
export const sethostname = (nsproxy: NsProxy, cred: Cred, name: Uint8Array, len = name.length): SysError | undefined =>
  setUtsName(nsproxy, cred, "nodename", name, len, "sethostname")

/** setdomainname(2): the same rules as sethostname(2). */
export const setdomainname = (nsproxy: NsProxy, cred: Cred, name: Uint8Array, len = name.length): SysError | undefined =>
  setUtsName(nsproxy, cred, "domainname", name, len, "setdomainname")

const setUtsName = (
  nsproxy: NsProxy,
  cred: Cred,
  field: "nodename" | "domainname",
  name: Uint8Array,
  len: number,
  syscall: string
): SysError | undefined => {
  const uts = nsproxy.uts
  if (!nsCapable(cred, uts.ownerNs!, CAP_SYS_ADMIN)) return sysError("EPERM", syscall)
  if (len < 0 || len > NEW_UTS_LEN) return sysError("EINVAL", syscall)
  // the buffer is shorter than the length: copy_from_user() faults
  if (len > name.length) return sysError("EFAULT", syscall)
  return uts.setName(field, name.subarray(0, len))
}
