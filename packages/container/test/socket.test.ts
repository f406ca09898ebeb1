import { describe, expect, it } from "@effect/vitest"
import { AF_INET, AF_NETLINK, AF_UNIX, CONTAINER_NEW_NET_NS, NETLINK_ROUTE, SOCK_RAW, SOCK_STREAM } from "@simkernel/abi"
import { decodeLinkMessage, type NetNamespace, NLM_F_DUMP, nlmsgParse, RTM_GETLINK, RTM_NEWLINK, rtnlRequest, type Socket } from "@simkernel/net"
import { Effect } from "effect"
import { containerFromFile } from "../src/index.js"
import { errnoOfSync, runWith } from "./fixtures.js"

describe("container_socket", () => {
  it.effect("makes the socket in the container's network namespace; NETLINK_ROUTE lists its interfaces", () =>
    Effect.gen(function* () {
      const seen: Array<unknown> = []
      yield* runWith(({ containers }) => (p) =>
        Effect.gen(function* () {
          const t = p.task
          const cfd = yield* containers.create(t, "net", CONTAINER_NEW_NET_NS)
          const c = containerFromFile(p.vfs.files.fdget(cfd)!)!
          const net = c.nsproxy.net as NetNamespace
          const nl = containers.socket(t, cfd, AF_NETLINK, SOCK_RAW, NETLINK_ROUTE) as Socket
          seen.push(nl.net === net, net !== t.nsproxy!.net)
          // dump its links from outside
          nl.sendmsg(rtnlRequest(RTM_GETLINK, NLM_F_DUMP, 1, { ifinfo: {} }))
          const r = nl.recvmsg(65536) as { data: Uint8Array }
          seen.push(nlmsgParse(r.data).flatMap((m) => (m.type === RTM_NEWLINK ? [decodeLinkMessage(m)?.name] : [])))
          const un = containers.socket(t, cfd, AF_UNIX, SOCK_STREAM, 0) as Socket
          seen.push(un.net === net)
          nl.put()
          un.put()
          const [rd] = yield* p.pipe()
          seen.push(errnoOfSync(containers.socket(t, 42, AF_UNIX, SOCK_STREAM, 0)), errnoOfSync(containers.socket(t, rd, AF_UNIX, SOCK_STREAM, 0)))
          seen.push(errnoOfSync(containers.socket(t, cfd, AF_INET, SOCK_STREAM, 0)), errnoOfSync(containers.socket(t, cfd, AF_UNIX, SOCK_STREAM, 7)))
          seen.push(errnoOfSync(containers.socket(t, cfd, AF_NETLINK, SOCK_STREAM, NETLINK_ROUTE)))
          return 0
        })
      )
      expect(seen).toEqual([true, true, ["lo"], true, "EBADF", "EINVAL", "EAFNOSUPPORT", "EPROTONOSUPPORT", "ESOCKTNOSUPPORT"])
    }))
})
