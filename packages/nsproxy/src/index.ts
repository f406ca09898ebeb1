export type { NamespaceOps, NsSet, NsSlot, NsTaskContext } from "./Namespace.js"
export { NsProxy, opsFor, type NsKinds, type NsProxySlots } from "./NsProxy.js"
export { UtsNamespace, INIT_UTSNAME, NEW_UTS_LEN, type UtsName } from "./UtsNamespace.js"
export { IpcNamespace } from "./IpcNamespace.js"
export { CgroupNamespace, cgroupPathFrom } from "./CgroupNamespace.js"
export { TimeNamespace } from "./TimeNamespace.js"
export {
  CLOCK_BOOTTIME,
  CLOCK_MONOTONIC,
  KTIME_SEC_MAX,
  checkTimensOffset,
  formatTimensOffsetLine,
  parseTimensOffsets,
  type TimensOffset,
  type Timespec
} from "./timensOffsets.js"
export {
  cgroupNamespaceOps,
  ipcNamespaceOps,
  mayEnter,
  nsKinds,
  timeNamespaceOps,
  utsNamespaceOps
} from "./builtinOps.js"
export {
  CLONE_NSPROXY_ALL,
  copyNamespaces,
  createNewNamespaces,
  execTaskNamespaces,
  type NsProxyHolder,
  switchTaskNamespaces,
  unshareNsproxyNamespaces
} from "./namespaces.js"
export {
  CLONE_NS_ALL,
  NsSetTransaction,
  setnsNamespace,
  setnsPidfd,
  type SetnsCaller,
  type SetnsTarget
} from "./setns.js"
export { NsFile, nsfsName, nsGetNstype, nsGetOwnerUid, nsGetParent, nsGetUserns, openNamespace } from "./nsfs.js"
export { sethostname, setdomainname } from "./uts.js"
