export * from "./constants.js"
export * from "./netlink.js"
export { NetDevice, type NetDeviceStats, type NetDeviceSetup, macText } from "./NetDevice.js"
export { LoopbackDevice, LOOPBACK_MTU } from "./loopback.js"
export { VethDevice, vethNewlink, type VethNewlinkRequest, ethRandomAddr } from "./veth.js"
export { NetNamespace, NetShared, devValidName, type NetNamespaceOptions } from "./NetNamespace.js"
export { netNamespaceOps, copyNetNs, toNetNs, getNetNsByFile } from "./netns.js"
export {
  type InIfaddr,
  type InIfaddrInit,
  INADDR_LOOPBACK,
  inAddrText,
  inetDelIfa,
  inetInsertIfa,
  inetMakeMask,
  findMatchingIfa,
  parseInAddr
} from "./devinet.js"
export { rtnetlinkRcv, rtnlFillIfinfo, inetFillIfaddr, rtnlDeleteLink, type RtnlContext, type NlSkb } from "./rtnetlink.js"
export {
  abstractAddr,
  blockingCall,
  type NetlinkSockAddr,
  type OtherSockAddr,
  type RecvResult,
  type SendOptions,
  type SockAddr,
  Socket,
  type SocketInode,
  sockWait,
  type UnixSockAddr,
  WaitQueue,
  waitUntilReady,
  WouldBlock
} from "./socket.js"
export {
  SK_WMEM_DEFAULT,
  SOMAXCONN,
  UNIX_MAX_DGRAM_QLEN,
  UNIX_PATH_MAX,
  unixFindOther,
  UnixSocket,
  unixSocketpair,
  type UnixState
} from "./af_unix.js"
export { NetlinkSocket } from "./af_netlink.js"
export { sockCreate, sockSocketpair, type SockCreateOptions } from "./syssocket.js"
export { ipAddrSummary, ipLinkLine, ipLinkSummary, linkFlagsText, operstateName, procNetDev } from "./procnet.js"
export {
  type AddrMessage,
  decodeAddrMessage,
  decodeLinkMessage,
  inAddrAttr,
  type LinkMessage,
  rtnlRequest
} from "./rtnlmsg.js"
