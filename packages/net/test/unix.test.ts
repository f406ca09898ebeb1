import { afterEach, describe, expect, it } from "@effect/vitest"
import {
  AF_INET,
  AF_NETLINK,
  AF_UNIX,
  AF_UNSPEC,
  CLONE_NEWNET,
  SOCK_CLOEXEC,
  SOCK_DGRAM,
  SOCK_NONBLOCK,
  SOCK_RAW,
  SOCK_SEQPACKET,
  SOCK_STREAM
} from "@simkernel/abi"
import { NsProxy, unshareNsproxyNamespaces } from "@simkernel/nsproxy"
import { Effect, Exit, Fiber } from "effect"
import {
  abstractAddr,
  blockingCall,
  MSG_DONTWAIT,
  MSG_PEEK,
  MSG_TRUNC,
  type NetNamespace,
  SHUT_RD,
  SHUT_RDWR,
  SHUT_WR,
  sockCreate,
  type Socket,
  type SocketInode,
  sockSocketpair,
  sockWait,
  toNetNs,
  type UnixSockAddr,
  UnixSocket,
  WouldBlock
} from "../src/index.js"
import { auditAfterEach, boot, bytes, errno, ok, text, type World } from "./helpers.js"

afterEach(auditAfterEach)

const NB = SOCK_NONBLOCK
const unix = (w: World, type: number, net: NetNamespace = w.net): UnixSocket =>
  ok(sockCreate(net, w.cred, AF_UNIX, type, 0)) as UnixSocket
const pairOf = (w: World, type: number): readonly [UnixSocket, UnixSocket] =>
  ok(sockSocketpair(w.net, w.cred, AF_UNIX, type | NB, 0)) as readonly [UnixSocket, UnixSocket]
const recvText = (s: Socket, size = 1000, flags = 0): string | undefined => {
  const r = s.recvmsg(size, flags)
  return r instanceof Error || r instanceof WouldBlock ? errno(r) : text(r.data)
}
const closeAll = (...s: Array<Socket>) => s.forEach((x) => x.put())

describe("socket(2) and socketpair(2) errors (Linux 6.18, python3 socket module)", () => {
  it.each([
    [99, SOCK_STREAM, 0, "EAFNOSUPPORT"],
    [46, SOCK_STREAM, 0, "EAFNOSUPPORT"],
    [AF_UNSPEC, SOCK_STREAM, 0, "EAFNOSUPPORT"],
    [-1, SOCK_STREAM, 0, "EAFNOSUPPORT"],
    [AF_UNIX, SOCK_STREAM, 0, undefined],
    [AF_UNIX, SOCK_DGRAM, 0, undefined],
    [AF_UNIX, SOCK_SEQPACKET, 0, undefined],
    [AF_UNIX, SOCK_RAW, 0, undefined],
    [AF_UNIX, 4, 0, "ESOCKTNOSUPPORT"],
    [AF_UNIX, 10, 0, "ESOCKTNOSUPPORT"],
    [AF_UNIX, 6, 0, "ESOCKTNOSUPPORT"],
    [AF_UNIX, 0, 0, "ESOCKTNOSUPPORT"],
    [AF_UNIX, SOCK_STREAM, 1, undefined],
    [AF_UNIX, SOCK_DGRAM, 5, "EPROTONOSUPPORT"],
    [AF_UNIX, 4, 5, "EPROTONOSUPPORT"],
    [AF_UNIX, 11, 0, "EINVAL"],
    [AF_UNIX, 15, 0, "EINVAL"],
    [AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, undefined],
    [AF_UNIX, SOCK_STREAM | 0x100, 0, "EINVAL"],
    [AF_UNIX, SOCK_STREAM | 0x1000000, 0, "EINVAL"],
    [AF_NETLINK, SOCK_RAW, 0, undefined],
    [AF_NETLINK, SOCK_DGRAM, 0, undefined],
    [AF_NETLINK, SOCK_STREAM, 0, "ESOCKTNOSUPPORT"],
    [AF_NETLINK, SOCK_SEQPACKET, 0, "ESOCKTNOSUPPORT"],
    [AF_NETLINK, SOCK_RAW, 99, "EPROTONOSUPPORT"],
    [AF_NETLINK, SOCK_RAW, 32, "EPROTONOSUPPORT"],
    [AF_NETLINK, SOCK_STREAM, 99, "ESOCKTNOSUPPORT"]
  ])("socket(%d, %d, %d): %s", (domain, type, protocol, expected) => {
    const w = boot()
    const s = sockCreate(w.net, w.cred, domain, type, protocol)
    expect(errno(s)).toBe(expected)
    if (!(s instanceof Error)) s.put()
  })

  it("SOCK_RAW becomes SOCK_DGRAM for AF_UNIX; SOCK_NONBLOCK and SOCK_CLOEXEC are kept", () => {
    const w = boot()
    const s = ok(sockCreate(w.net, w.cred, AF_UNIX, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, 0))
    expect([s.type, s.nonblock, s.cloexec, s.family]).toEqual([SOCK_DGRAM, true, true, AF_UNIX])
    s.put()
  })

  it.each([
    [AF_UNIX, SOCK_STREAM, 0, undefined],
    [AF_UNIX, SOCK_DGRAM, 0, undefined],
    [AF_UNIX, SOCK_SEQPACKET, 0, undefined],
    [AF_UNIX, SOCK_RAW, 0, undefined],
    [AF_UNIX, SOCK_STREAM, 1, undefined],
    [AF_NETLINK, SOCK_RAW, 0, "EOPNOTSUPP"],
    [AF_NETLINK, SOCK_DGRAM, 0, "EOPNOTSUPP"],
    [99, SOCK_STREAM, 0, "EAFNOSUPPORT"],
    [AF_UNIX, SOCK_STREAM | 0x100, 0, "EINVAL"]
  ])("socketpair(%d, %d, %d): %s", (domain, type, protocol, expected) => {
    const w = boot()
    const r = sockSocketpair(w.net, w.cred, domain, type, protocol)
    expect(errno(r)).toBe(expected)
    if (!(r instanceof Error)) closeAll(...r)
  })
})

describe("AF_UNIX SOCK_STREAM", () => {
  it("is a byte stream: writes coalesce, reads take what is there, MSG_PEEK leaves it", () => {
    const w = boot()
    const [a, b] = pairOf(w, SOCK_STREAM)
    expect(recvText(b)).toBe("EAGAIN")
    expect(ok(a.sendmsg(bytes("x".repeat(10))))).toBe(10)
    expect(ok(a.sendmsg(bytes("yyyyy")))).toBe(5)
    expect(recvText(b, 4, MSG_PEEK)).toBe("xxxx")
    expect(recvText(b, 12)).toBe("xxxxxxxxxxyy")
    expect(recvText(b)).toBe("yyy")
    expect(ok(a.sendmsg(new Uint8Array(0)))).toBe(0)
    expect(recvText(b)).toBe("EAGAIN")
    closeAll(a, b)
  })

  it("after the peer closes: data first, then end of file; sending is EPIPE", () => {
    const w = boot()
    const [a, b] = pairOf(w, SOCK_STREAM)
    ok(a.sendmsg(bytes("bye")))
    a.put()
    expect(recvText(b)).toBe("bye")
    expect(recvText(b)).toBe("")
    expect(errno(b.sendmsg(bytes("x")))).toBe("EPIPE")
    b.put()
  })

  it("closing with unread data resets the peer (ECONNRESET once, then end of file)", () => {
    const w = boot()
    const [a, b] = pairOf(w, SOCK_STREAM)
    ok(b.sendmsg(bytes("unread")))
    a.put()
    expect(recvText(b)).toBe("ECONNRESET")
    expect(recvText(b)).toBe("")
    b.put()
  })

  it("shutdown(SHUT_WR) is the peer's end of file and our EPIPE; the other direction still works; EINVAL for a bad how", () => {
    const w = boot()
    const [a, b] = pairOf(w, SOCK_STREAM)
    expect(a.shutdown(SHUT_WR)).toBeUndefined()
    expect(recvText(b)).toBe("")
    expect(errno(a.sendmsg(bytes("x")))).toBe("EPIPE")
    expect(ok(b.sendmsg(bytes("x")))).toBe(1)
    expect(recvText(a)).toBe("x")
    expect(errno(a.shutdown(3))).toBe("EINVAL")
    expect(errno(a.shutdown(-1))).toBe("EINVAL")
    expect(b.shutdown(SHUT_RD)).toBeUndefined()
    expect(errno(a.sendmsg(bytes("x")))).toBe("EPIPE")
    const lone = unix(w, SOCK_STREAM)
    expect(lone.shutdown(SHUT_RDWR)).toBeUndefined()
    closeAll(a, b, lone)
  })

  it("poll: idle 772 (POLLOUT|POLLWRNORM|POLLWRBAND), with data 837, peer closed 9045 (as Linux reports)", () => {
    const w = boot()
    const [a, b] = pairOf(w, SOCK_STREAM)
    expect(b.poll()).toBe(772)
    ok(a.sendmsg(bytes("x")))
    expect(b.poll()).toBe(837)
    recvText(b)
    a.put()
    expect(b.poll()).toBe(9045)
    b.put()
    const [c, d] = pairOf(w, SOCK_DGRAM)
    expect(d.poll()).toBe(772)
    c.put()
    expect(d.poll()).toBe(772)
    d.put()
  })

  it("the send buffer fills (EAGAIN, partial write) and drains", () => {
    const w = boot()
    const [a, b] = pairOf(w, SOCK_STREAM)
    const big = new Uint8Array(200000)
    expect(ok(a.sendmsg(big))).toBe(200000)
    expect(ok(a.sendmsg(big))).toBe(212992 - 200000)
    expect(errno(a.sendmsg(big))).toBe("EAGAIN")
    expect(a.poll() & 4).toBe(0)
    expect(ok(b.recvmsg(300000)).length).toBe(212992)
    expect(a.poll() & 4).toBe(4)
    closeAll(a, b)
  })
})

describe("AF_UNIX SOCK_SEQPACKET and SOCK_DGRAM", () => {
  it("SOCK_SEQPACKET keeps boundaries, cuts long messages (MSG_TRUNC), carries empty ones, ends with 0 and EPIPE", () => {
    const w = boot()
    const [a, b] = pairOf(w, SOCK_SEQPACKET)
    ok(a.sendmsg(bytes("x".repeat(10))))
    ok(a.sendmsg(bytes("yyyyy")))
    expect(recvText(b, 4)).toBe("xxxx")
    expect(recvText(b, 100)).toBe("yyyyy")
    ok(a.sendmsg(bytes("z".repeat(10))))
    const r = ok(b.recvmsg(4))
    expect([text(r.data), r.length, r.flags]).toEqual(["zzzz", 4, MSG_TRUNC])
    ok(a.sendmsg(bytes("z".repeat(10))))
    const t = ok(b.recvmsg(4, MSG_TRUNC))
    expect([text(t.data), t.length, t.flags]).toEqual(["zzzz", 10, MSG_TRUNC])
    expect(ok(a.sendmsg(new Uint8Array(0)))).toBe(0)
    expect(recvText(b)).toBe("")
    expect(recvText(b)).toBe("EAGAIN")
    a.put()
    expect(recvText(b)).toBe("")
    expect(errno(b.sendmsg(bytes("x")))).toBe("EPIPE")
    const lone = unix(w, SOCK_SEQPACKET | NB)
    expect(errno(lone.sendmsg(bytes("x")))).toBe("ENOTCONN")
    expect(errno(lone.recvmsg(1))).toBe("ENOTCONN")
    closeAll(b, lone)
  })

  it("SOCK_DGRAM: MSG_TRUNC, EMSGSIZE above sndbuf - 32, ECONNREFUSED after the peer closed, then ENOTCONN", () => {
    const w = boot()
    const [a, b] = pairOf(w, SOCK_DGRAM)
    ok(a.sendmsg(bytes("x".repeat(10))))
    const r = ok(b.recvmsg(4, MSG_TRUNC))
    expect([r.length, r.flags]).toEqual([10, MSG_TRUNC])
    expect(errno(a.sendmsg(new Uint8Array(212961)))).toBe("EMSGSIZE")
    expect(ok(a.sendmsg(new Uint8Array(212960)))).toBe(212960)
    // a socketpair's ends are each other's peer: no max_dgram_qlen limit, only memory
    b.put()
    expect(errno(a.sendmsg(bytes("x")))).toBe("ECONNREFUSED")
    expect(errno(a.sendmsg(bytes("x")))).toBe("ENOTCONN")
    expect(recvText(a)).toBe("EAGAIN")
    a.put()
  })

  it("SOCK_DGRAM to a name: ENOTCONN without one, ECONNREFUSED for an unbound one, sender's address on receipt, queue limit 10", () => {
    const w = boot()
    const srv = unix(w, SOCK_DGRAM | NB)
    const cli = unix(w, SOCK_DGRAM | NB)
    expect(errno(cli.sendmsg(bytes("x")))).toBe("ENOTCONN")
    expect(errno(cli.recvmsg(1))).toBe("EAGAIN")
    expect(errno(cli.sendmsg(bytes("x"), 0, { addr: abstractAddr("nosuch") }))).toBe("ECONNREFUSED")
    expect(srv.bind(abstractAddr("srv"))).toBeUndefined()
    expect(cli.bind(abstractAddr("cli"))).toBeUndefined()
    for (let i = 0; i < 11; i++) expect(ok(cli.sendmsg(bytes(`m${i}`), 0, { addr: abstractAddr("srv") }))).toBe(i < 10 ? 2 : 3)
    expect(errno(cli.sendmsg(bytes("m"), 0, { addr: abstractAddr("srv") }))).toBe("EAGAIN")
    const r = ok(srv.recvmsg(10))
    expect(text(r.data)).toBe("m0")
    expect(text((r.addr as Extract<UnixSockAddr, { kind: "abstract" }>).name)).toBe("\0cli")
    // a receiver connected to someone else refuses others (EPERM)
    const other = unix(w, SOCK_DGRAM | NB)
    expect(srv.connect(abstractAddr("cli"))).toBeUndefined()
    expect(errno(other.sendmsg(bytes("x"), 0, { addr: abstractAddr("srv") }))).toBe("EPERM")
    expect(errno(other.connect(abstractAddr("srv")))).toBe("EPERM")
    expect(srv.connect({ family: AF_UNSPEC })).toBeUndefined()
    expect(ok(other.sendmsg(bytes("x"), 0, { addr: abstractAddr("srv") }))).toBe(1)
    expect(errno(srv.listen(1))).toBe("EOPNOTSUPP")
    expect(errno(srv.accept())).toBe("EOPNOTSUPP")
    expect(errno(cli.sendmsg(bytes("x"), 0x1))).toBe("EOPNOTSUPP")
    closeAll(srv, cli, other)
  })
})

describe("AF_UNIX names and connections", () => {
  it("bind, listen, connect, accept in the abstract namespace, with Linux's errors", () => {
    const w = boot()
    const s = unix(w, SOCK_STREAM | NB)
    expect(errno(s.recvmsg(1))).toBe("EINVAL")
    expect(errno(s.sendmsg(bytes("x")))).toBe("ENOTCONN")
    expect(errno(s.listen(1))).toBe("EINVAL")
    expect(errno(s.accept())).toBe("EINVAL")
    expect(errno(s.connect(abstractAddr("nosuch")))).toBe("ECONNREFUSED")
    expect(s.bind(abstractAddr("srv"))).toBeUndefined()
    expect(errno(s.bind(abstractAddr("srv2")))).toBe("EINVAL")
    const t = unix(w, SOCK_STREAM | NB)
    expect(errno(t.bind(abstractAddr("srv")))).toBe("EADDRINUSE")
    expect(errno(t.connect(abstractAddr("srv")))).toBe("ECONNREFUSED")
    // abstract names are per socket type: a SOCK_SEQPACKET socket may take the same name, and cannot reach the stream one
    const q = unix(w, SOCK_SEQPACKET | NB)
    expect(errno(q.connect(abstractAddr("srv")))).toBe("ECONNREFUSED")
    expect(s.listen(0)).toBeUndefined()
    expect(errno(s.accept())).toBe("EAGAIN")
    expect(t.connect(abstractAddr("srv"))).toBeUndefined()
    // backlog 0 holds one pending connection
    const t2 = unix(w, SOCK_STREAM | NB)
    expect(errno(t2.connect(abstractAddr("srv")))).toBe("EAGAIN")
    expect(errno(t.connect(abstractAddr("srv")))).toBe("EAGAIN")
    ok(t.sendmsg(bytes("hello before accept")))
    const c = ok(s.accept(SOCK_CLOEXEC)) as UnixSocket
    expect(c.cloexec).toBe(true)
    expect(recvText(c)).toBe("hello before accept")
    expect(text((c.getsockname() as Extract<UnixSockAddr, { kind: "abstract" }>).name)).toBe("\0srv")
    expect(c.getpeername()).toEqual({ family: AF_UNIX, kind: "unnamed" })
    expect(text((t.getpeername() as Extract<UnixSockAddr, { kind: "abstract" }>).name)).toBe("\0srv")
    expect(errno(t.connect(abstractAddr("srv")))).toBe("EISCONN")
    expect(errno(t.listen(1))).toBe("EINVAL")
    expect(errno(t.sendmsg(bytes("x"), 0, { addr: abstractAddr("srv") }))).toBe("EISCONN")
    expect(errno(s.accept(0x1000))).toBe("EINVAL")
    expect(errno(s.connect(abstractAddr("srv")))).toBe("EINVAL")
    expect(errno(s.bind({ family: AF_INET }))).toBe("EINVAL")
    const long = unix(w, SOCK_STREAM)
    expect(errno(long.bind({ family: AF_UNIX, kind: "abstract", name: new Uint8Array(109) }))).toBe("EINVAL")
    expect(errno(q.bind({ family: AF_UNIX, kind: "abstract", name: bytes("notnul") }))).toBe("EINVAL")
    expect(q.bind(abstractAddr("srv"))).toBeUndefined()
    closeAll(s, t, t2, c, q, long)
  })

  it("the abstract namespace is per network namespace (ECONNREFUSED from another), and names are freed on close", () => {
    const w = boot()
    const p = unshareNsproxyNamespaces(CLONE_NEWNET, w.nsproxy, w.cred, undefined) as NsProxy
    const other = toNetNs(p.net) as NetNamespace
    const s = unix(w, SOCK_STREAM | NB)
    ok(s.bind(abstractAddr("db")) ?? 0)
    ok(s.listen(5) ?? 0)
    const far = unix(w, SOCK_STREAM | NB, other)
    expect(errno(far.connect(abstractAddr("db")))).toBe("ECONNREFUSED")
    const twin = unix(w, SOCK_STREAM | NB, other)
    expect(twin.bind(abstractAddr("db"))).toBeUndefined()
    s.put()
    const again = unix(w, SOCK_STREAM | NB)
    expect(again.bind(abstractAddr("db"))).toBeUndefined()
    closeAll(far, twin, again)
    p.put()
  })

  it("autobind takes an abstract name of five hex digits", () => {
    const w = boot()
    const s = unix(w, SOCK_DGRAM)
    expect(s.bind({ family: AF_UNIX, kind: "unnamed" })).toBeUndefined()
    const name = (s.getsockname() as Extract<UnixSockAddr, { kind: "abstract" }>).name
    expect(text(name)).toMatch(/^\0[0-9a-f]{5}$/)
    s.put()
  })

  it("path names go through the VFS's socket inode and reach across network namespaces", () => {
    const w = boot()
    const p = unshareNsproxyNamespaces(CLONE_NEWNET, w.nsproxy, w.cred, undefined) as NsProxy
    const other = toNetNs(p.net) as NetNamespace
    // a fake VFS: mknod(S_IFSOCK) gives an inode object; the path walk finds it again
    const fs = new Map<string, SocketInode>()
    const mknod = (path: string): UnixSockAddr | "EADDRINUSE" => {
      if (fs.has(path)) return "EADDRINUSE"
      const inode = { ino: fs.size + 100 }
      fs.set(path, inode)
      return { family: AF_UNIX, kind: "path", path, inode }
    }
    const lookup = (path: string): UnixSockAddr => ({ family: AF_UNIX, kind: "path", path, inode: fs.get(path)! })
    const srv = unix(w, SOCK_STREAM | NB)
    const addr = mknod("/run/app.sock") as UnixSockAddr
    expect(srv.bind(addr)).toBeUndefined()
    expect(mknod("/run/app.sock")).toBe("EADDRINUSE")
    ok(srv.listen(8) ?? 0)
    const cli = unix(w, SOCK_STREAM | NB, other)
    expect(cli.connect(lookup("/run/app.sock"))).toBeUndefined()
    const conn = ok(srv.accept()) as UnixSocket
    ok(cli.sendmsg(bytes("across")))
    expect(recvText(conn)).toBe("across")
    const wrong = unix(w, SOCK_DGRAM | NB)
    expect(errno(wrong.connect(lookup("/run/app.sock")))).toBe("EPROTOTYPE")
    const second = unix(w, SOCK_STREAM)
    expect(errno(second.bind(lookup("/run/app.sock")))).toBe("EADDRINUSE")
    srv.put()
    // the inode stays in the filesystem, but nobody is bound to it any more
    const late = unix(w, SOCK_STREAM | NB)
    expect(errno(late.connect(lookup("/run/app.sock")))).toBe("ECONNREFUSED")
    closeAll(cli, conn, wrong, second, late)
    p.put()
  })

  it("closing a listener releases connections never accepted; their clients are reset", () => {
    const w = boot()
    const s = unix(w, SOCK_STREAM | NB)
    ok(s.bind(abstractAddr("l")) ?? 0)
    ok(s.listen(5) ?? 0)
    const c1 = unix(w, SOCK_STREAM | NB)
    const c2 = unix(w, SOCK_SEQPACKET | NB)
    ok(c1.connect(abstractAddr("l")) ?? 0)
    expect(s.queueLength).toBe(1)
    s.put()
    expect(recvText(c1)).toBe("ECONNRESET")
    expect(recvText(c1)).toBe("")
    expect(errno(c1.sendmsg(bytes("x")))).toBe("EPIPE")
    closeAll(c1, c2)
  })
})

describe("blocking calls", () => {
  it("a blocking socket answers WouldBlock (a non-blocking one EAGAIN, as does MSG_DONTWAIT)", () => {
    const w = boot()
    const [a, b] = ok(sockSocketpair(w.net, w.cred, AF_UNIX, SOCK_STREAM, 0))
    const r = b.recvmsg(10)
    expect(r).toBeInstanceOf(WouldBlock)
    expect((r as WouldBlock).wq).toBe(b.wq)
    expect((r as WouldBlock).ready()).toBe(false)
    expect(errno(b.recvmsg(10, MSG_DONTWAIT))).toBe("EAGAIN")
    const s = ok(sockCreate(w.net, w.cred, AF_UNIX, SOCK_STREAM, 0))
    ok(s.bind(abstractAddr("acc")) ?? 0)
    ok(s.listen(0) ?? 0)
    expect(s.accept()).toBeInstanceOf(WouldBlock)
    closeAll(a, b, s)
  })

  it.effect("blockingCall() parks on the wait queue until the peer writes", () =>
    Effect.gen(function* () {
      const w = boot()
      const [a, b] = ok(sockSocketpair(w.net, w.cred, AF_UNIX, SOCK_SEQPACKET, 0))
      const reader = yield* Effect.forkChild(blockingCall(() => b.recvmsg(100)))
      yield* Effect.yieldNow
      expect(b.wq.size).toBe(1)
      ok(a.sendmsg(bytes("wake")))
      const got = yield* Fiber.join(reader)
      expect(text(got.data)).toBe("wake")
      expect(b.wq.size).toBe(0)
      // a blocked reader sees end of file when the peer goes away
      const second = yield* Effect.forkChild(blockingCall(() => b.recvmsg(100)))
      yield* Effect.yieldNow
      a.put()
      expect((yield* Fiber.join(second)).length).toBe(0)
      b.put()
    })
  )

  it.effect("a connect to a full backlog waits until the listener accepts", () =>
    Effect.gen(function* () {
      const w = boot()
      const l = ok(sockCreate(w.net, w.cred, AF_UNIX, SOCK_STREAM, 0))
      ok(l.bind(abstractAddr("busy")) ?? 0)
      ok(l.listen(0) ?? 0)
      const first = ok(sockCreate(w.net, w.cred, AF_UNIX, SOCK_STREAM, 0))
      ok(first.connect(abstractAddr("busy")) ?? 0)
      const second = ok(sockCreate(w.net, w.cred, AF_UNIX, SOCK_STREAM, 0))
      const connecting = yield* Effect.forkChild(blockingCall(() => second.connect(abstractAddr("busy"))))
      yield* Effect.yieldNow
      // parked on the listener's peer_wait, not spinning
      expect((l as UnixSocket).peerWait.size).toBe(1)
      expect(second.getpeername()).toEqual(expect.objectContaining({ errno: "ENOTCONN" }))
      const conn = ok(l.accept())
      yield* Fiber.join(connecting)
      expect((second as UnixSocket).state).toBe("established")
      const conn2 = ok(l.accept())
      closeAll(l, first, second, conn, conn2)
    })
  )

  it.effect("a datagram sender blocked on a full receiver queue goes on when the receiver reads", () =>
    Effect.gen(function* () {
      const w = boot()
      const srv = ok(sockCreate(w.net, w.cred, AF_UNIX, SOCK_DGRAM, 0)) as UnixSocket
      ok(srv.bind(abstractAddr("sink")) ?? 0)
      const cli = ok(sockCreate(w.net, w.cred, AF_UNIX, SOCK_DGRAM, 0))
      for (let i = 0; i < 11; i++) ok(cli.sendmsg(bytes("m"), 0, { addr: abstractAddr("sink") }))
      const sending = yield* Effect.forkChild(blockingCall(() => cli.sendmsg(bytes("late"), 0, { addr: abstractAddr("sink") })))
      yield* Effect.yieldNow
      expect(srv.peerWait.size).toBe(1)
      ok(srv.recvmsg(10))
      expect(yield* Fiber.join(sending)).toBe(4)
      expect(srv.queueLength).toBe(11)
      closeAll(srv, cli)
    })
  )

  it("MSG_PEEK on a datagram socket leaves the message queued", () => {
    const w = boot()
    const [a, b] = pairOf(w, SOCK_DGRAM)
    ok(a.sendmsg(bytes("one")))
    ok(a.sendmsg(bytes("two")))
    expect(recvText(b, 100, MSG_PEEK)).toBe("one")
    expect(recvText(b)).toBe("one")
    expect(recvText(b)).toBe("two")
    closeAll(a, b)
  })

  it.effect("interrupting a wait removes the waiter", () =>
    Effect.gen(function* () {
      const w = boot()
      const [a, b] = ok(sockSocketpair(w.net, w.cred, AF_UNIX, SOCK_STREAM, 0))
      const waiting = yield* Effect.forkChild(sockWait(b, 1))
      yield* Effect.yieldNow
      expect(b.wq.size).toBe(1)
      yield* Fiber.interrupt(waiting)
      const exit = yield* Fiber.await(waiting)
      expect(Exit.hasInterrupts(exit)).toBe(true)
      expect(b.wq.size).toBe(0)
      closeAll(a, b)
    })
  )
})
