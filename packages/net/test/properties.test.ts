import { afterEach, describe, expect, it } from "@effect/vitest"
import fc from "fast-check"
import {
  IFF_UP,
  type NetDevice,
  type NetNamespace,
  nlaParse,
  nlmsgParse,
  NlWriter,
  rtnlDeleteLink,
  VethDevice,
  vethNewlink
} from "../src/index.js"
import { auditAfterEach, boot } from "./helpers.js"

afterEach(auditAfterEach)

type Op =
  | { readonly op: "add"; readonly ns: number; readonly peerNs: number; readonly name: string }
  | { readonly op: "del"; readonly pick: number }
  | { readonly op: "move"; readonly pick: number; readonly to: number }
  | { readonly op: "up"; readonly pick: number }
  | { readonly op: "down"; readonly pick: number }
  | { readonly op: "rename"; readonly pick: number; readonly name: string }
  | { readonly op: "kill"; readonly ns: number }

const nameArb = fc.constantFrom("veth%d", "eth0", "eth1", "a", "p%dq", "lo", "x:y")
const opArb: fc.Arbitrary<Op> = fc.oneof(
  fc.record({ op: fc.constant("add" as const), ns: fc.nat(2), peerNs: fc.nat(2), name: nameArb }),
  fc.record({ op: fc.constant("del" as const), pick: fc.nat() }),
  fc.record({ op: fc.constant("move" as const), pick: fc.nat(), to: fc.nat(2) }),
  fc.record({ op: fc.constant("up" as const), pick: fc.nat() }),
  fc.record({ op: fc.constant("down" as const), pick: fc.nat() }),
  fc.record({ op: fc.constant("rename" as const), pick: fc.nat(), name: nameArb }),
  fc.record({ op: fc.constant("kill" as const), ns: fc.integer({ min: 1, max: 2 }) })
)

/** What must hold in every namespace after any sequence of operations. */
const checkInvariants = (nets: ReadonlyArray<NetNamespace>): void => {
  for (const net of nets) {
    if (net.freed) continue
    const devs = net.devices()
    expect(new Set(devs.map((d) => d.name)).size).toBe(devs.length)
    expect(new Set(devs.map((d) => d.ifindex)).size).toBe(devs.length)
    // lo keeps ifindex 1 (it may be renamed, as on Linux)
    expect(devs[0]).toBe(net.loopback)
    expect(devs[0]!.ifindex).toBe(1)
    for (const d of devs) {
      expect(d.net).toBe(net)
      expect(d.registered).toBe(true)
      expect(net.devGetByName(d.name)).toBe(d)
      if (d instanceof VethDevice) {
        // a pair is always whole: deleting or killing one end takes the other
        expect(d.peer).toBeDefined()
        expect(d.peer!.peer).toBe(d)
        expect(d.peer!.registered).toBe(true)
        expect(d.carrier).toBe((d.flags & IFF_UP) !== 0 && (d.peer!.flags & IFF_UP) !== 0)
      }
    }
  }
}

describe("properties", () => {
  it("any sequence of add, delete, move, up/down, rename and namespace death keeps the device tables consistent and leaks nothing", () => {
    fc.assert(
      fc.property(fc.array(opArb, { maxLength: 40 }), (ops) => {
        const w = boot()
        const nets: Array<NetNamespace> = [w.net, w.net.copy(w.userNs) as NetNamespace, w.net.copy(w.userNs) as NetNamespace]
        const all = (): Array<NetDevice> => nets.filter((n) => !n.freed).flatMap((n) => n.devices())
        const pick = (i: number): NetDevice | undefined => {
          const devs = all()
          return devs.length === 0 ? undefined : devs[i % devs.length]
        }
        for (const o of ops) {
          switch (o.op) {
            case "add": {
              if (nets[o.ns]!.freed || nets[o.peerNs]!.freed) break
              vethNewlink(nets[o.ns]!, { name: o.name, peerNet: nets[o.peerNs]! })
              break
            }
            case "del": {
              const d = pick(o.pick)
              if (d) rtnlDeleteLink(d)
              break
            }
            case "move": {
              const d = pick(o.pick)
              if (d && !nets[o.to]!.freed) d.net.devChangeNetNamespace(d, nets[o.to]!)
              break
            }
            case "up":
              pick(o.pick)?.devOpen()
              break
            case "down":
              pick(o.pick)?.devClose()
              break
            case "rename": {
              const d = pick(o.pick)
              if (d) d.net.devChangeName(d, o.name)
              break
            }
            case "kill":
              if (!nets[o.ns]!.freed) nets[o.ns]!.put()
              break
          }
          checkInvariants(nets)
        }
        for (const n of nets.slice(1)) if (!n.freed) n.put()
        auditAfterEach()
      }),
      { numRuns: 150 }
    )
  })

  it("attributes written with NlWriter parse back (nla_put / nla_parse round trip), nested or not", () => {
    fc.assert(
      fc.property(
        fc.array(fc.record({ type: fc.integer({ min: 1, max: 0x3fff }), data: fc.uint8Array({ maxLength: 40 }), nest: fc.boolean() }), {
          maxLength: 12
        }),
        (attrs) => {
          const w = new NlWriter(8)
          const start = w.msgStart(20, 1, 7, 0)
          for (const a of attrs) {
            if (a.nest) {
              const n = w.nestStart(a.type)
              w.attr(1, a.data)
              w.nestEnd(n)
            } else w.attr(a.type, a.data)
          }
          w.msgEnd(start)
          const [m] = nlmsgParse(w.finish())
          expect(m!.len % 4).toBe(0)
          const tb = nlaParse(m!.payload)
          const last = new Map(attrs.map((a) => [a.type, a]))
          expect(tb.size).toBe(last.size)
          for (const [type, a] of last) {
            const got = tb.get(type)!
            expect(got.nested).toBe(a.nest)
            const data = a.nest ? nlaParse(got.data).get(1)!.data : got.data
            expect([...data]).toEqual([...a.data])
          }
        }
      )
    )
  })

  it("veth MAC addresses are random (locally administered unicast) but the same for the same kernel seed", () => {
    const macs = (seed: number): Array<string> => {
      const w = boot(seed)
      const [a, b] = vethNewlink(w.net) as readonly [VethDevice, VethDevice]
      const out = [a.addrText, b.addrText, w.net.loopback.addrText]
      auditAfterEach()
      return out
    }
    const one = macs(42)
    expect(macs(42)).toEqual(one)
    expect(macs(43)).not.toEqual(one)
    expect(one[2]).toBe("00:00:00:00:00:00")
    for (const mac of one.slice(0, 2)) {
      const first = parseInt(mac.slice(0, 2), 16)
      expect(first & 1).toBe(0)
      expect(first & 2).toBe(2)
    }
  })
})
