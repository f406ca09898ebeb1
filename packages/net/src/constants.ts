/**
 * uapi constants the net package needs that @simkernel/abi does not carry
 * yet, with Linux's values. Each group names the header it comes from.
 */

// include/linux/socket.h
/** AF_MAX: socket(2) answers EAFNOSUPPORT for a domain at or above it (NPROTO). */
export const NPROTO = 46
export const PF_UNIX = 1
export const MSG_OOB = 0x1
export const MSG_PEEK = 0x2
export const MSG_TRUNC = 0x20
export const MSG_DONTWAIT = 0x40
export const MSG_EOR = 0x80
export const MSG_WAITALL = 0x100
export const MSG_NOSIGNAL = 0x4000
export const MSG_CMSG_CLOEXEC = 0x40000000

// include/linux/net.h
/** SOCK_MAX: a type at or above it is EINVAL. */
export const SOCK_MAX = 11
export const SHUT_RD = 0
export const SHUT_WR = 1
export const SHUT_RDWR = 2

// include/uapi/linux/if.h
export const IFNAMSIZ = 16
export const IFF_UP = 0x1
export const IFF_BROADCAST = 0x2
export const IFF_DEBUG = 0x4
export const IFF_LOOPBACK = 0x8
export const IFF_POINTOPOINT = 0x10
export const IFF_NOTRAILERS = 0x20
export const IFF_RUNNING = 0x40
export const IFF_NOARP = 0x80
export const IFF_PROMISC = 0x100
export const IFF_ALLMULTI = 0x200
export const IFF_MASTER = 0x400
export const IFF_SLAVE = 0x800
export const IFF_MULTICAST = 0x1000
export const IFF_PORTSEL = 0x2000
export const IFF_AUTOMEDIA = 0x4000
export const IFF_DYNAMIC = 0x8000
export const IFF_LOWER_UP = 0x10000
export const IFF_DORMANT = 0x20000
export const IFF_ECHO = 0x40000

/** RFC 2863 operational states (IFLA_OPERSTATE), enum if_oper in if.h. */
export const IF_OPER_UNKNOWN = 0
export const IF_OPER_NOTPRESENT = 1
export const IF_OPER_DOWN = 2
export const IF_OPER_LOWERLAYERDOWN = 3
export const IF_OPER_TESTING = 4
export const IF_OPER_DORMANT = 5
export const IF_OPER_UP = 6

// include/uapi/linux/if_arp.h
export const ARPHRD_ETHER = 1
export const ARPHRD_LOOPBACK = 772

// include/uapi/linux/if_ether.h
export const ETH_ALEN = 6
export const ETH_DATA_LEN = 1500
export const ETH_MIN_MTU = 68
export const ETH_MAX_MTU = 0xffff

// include/uapi/linux/netlink.h
export const NLMSG_NOOP = 1
export const NLMSG_ERROR = 2
export const NLMSG_DONE = 3
export const NLMSG_OVERRUN = 4
/** Types below this are netlink control messages. */
export const NLMSG_MIN_TYPE = 0x10
export const NLMSG_HDRLEN = 16
export const NLM_F_REQUEST = 0x01
export const NLM_F_MULTI = 0x02
export const NLM_F_ACK = 0x04
export const NLM_F_ECHO = 0x08
export const NLM_F_DUMP_INTR = 0x10
export const NLM_F_DUMP_FILTERED = 0x20
export const NLM_F_ROOT = 0x100
export const NLM_F_MATCH = 0x200
export const NLM_F_ATOMIC = 0x400
export const NLM_F_DUMP = NLM_F_ROOT | NLM_F_MATCH
export const NLM_F_REPLACE = 0x100
export const NLM_F_EXCL = 0x200
export const NLM_F_CREATE = 0x400
export const NLM_F_APPEND = 0x800
/** In an ACK or error: the request was not copied in full. */
export const NLM_F_CAPPED = 0x100
export const NLA_F_NESTED = 0x8000
export const NLA_F_NET_BYTEORDER = 0x4000
export const NLA_TYPE_MASK = ~(NLA_F_NESTED | NLA_F_NET_BYTEORDER) & 0xffff
export const NLA_HDRLEN = 4
/** MAX_LINKS: netlink protocols are 0..31. */
export const NETLINK_MAX_LINKS = 32

// include/uapi/linux/rtnetlink.h
export const RTM_BASE = 16
export const RTM_NEWLINK = 16
export const RTM_DELLINK = 17
export const RTM_GETLINK = 18
export const RTM_SETLINK = 19
export const RTM_NEWADDR = 20
export const RTM_DELADDR = 21
export const RTM_GETADDR = 22
/** RTM_MAX of Linux 6.18 (((__RTM_MAX + 3) & ~3) - 1, after RTM_GETTUNNEL): above it is EOPNOTSUPP. */
export const RTM_MAX = 123
export const RT_SCOPE_UNIVERSE = 0
export const RT_SCOPE_SITE = 200
export const RT_SCOPE_LINK = 253
export const RT_SCOPE_HOST = 254
export const RT_SCOPE_NOWHERE = 255

// include/uapi/linux/if_link.h
export const IFLA_UNSPEC = 0
export const IFLA_ADDRESS = 1
export const IFLA_BROADCAST = 2
export const IFLA_IFNAME = 3
export const IFLA_MTU = 4
export const IFLA_LINK = 5
export const IFLA_QDISC = 6
export const IFLA_STATS = 7
export const IFLA_MASTER = 10
export const IFLA_TXQLEN = 13
export const IFLA_OPERSTATE = 16
export const IFLA_LINKMODE = 17
export const IFLA_LINKINFO = 18
export const IFLA_NET_NS_PID = 19
export const IFLA_IFALIAS = 20
export const IFLA_STATS64 = 23
export const IFLA_AF_SPEC = 26
export const IFLA_GROUP = 27
export const IFLA_NET_NS_FD = 28
export const IFLA_EXT_MASK = 29
export const IFLA_PROMISCUITY = 30
export const IFLA_NUM_TX_QUEUES = 31
export const IFLA_NUM_RX_QUEUES = 32
export const IFLA_CARRIER = 33
export const IFLA_CARRIER_CHANGES = 35
export const IFLA_CARRIER_UP_COUNT = 47
export const IFLA_CARRIER_DOWN_COUNT = 48
export const IFLA_LINK_NETNSID = 37
/** NETNSA_NSID_NOT_ASSIGNED: no id was given to that namespace. */
export const NETNSA_NSID_NOT_ASSIGNED = -1
export const IFLA_NEW_IFINDEX = 49
export const IFLA_MIN_MTU = 50
export const IFLA_MAX_MTU = 51
export const IFLA_INFO_KIND = 1
export const IFLA_INFO_DATA = 2

// include/uapi/linux/veth.h
export const VETH_INFO_PEER = 1

// include/uapi/linux/if_addr.h
export const IFA_ADDRESS = 1
export const IFA_LOCAL = 2
export const IFA_LABEL = 3
export const IFA_BROADCAST = 4
export const IFA_CACHEINFO = 6
export const IFA_FLAGS = 8
export const IFA_F_SECONDARY = 0x01
export const IFA_F_PERMANENT = 0x80
/** INFINITY_LIFE_TIME: a lifetime that never ends. */
export const INFINITY_LIFE_TIME = 0xffffffff

// struct sizes
export const SIZEOF_IFINFOMSG = 16
export const SIZEOF_IFADDRMSG = 8
export const SIZEOF_NLMSGERR = 4 + NLMSG_HDRLEN
/** struct rtnl_link_stats64: 25 __u64 counters in Linux 6.18. */
export const SIZEOF_RTNL_LINK_STATS64 = 200
